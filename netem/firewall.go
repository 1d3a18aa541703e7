package netem

import (
	"net/netip"
	"time"

	"gridlab/sim"
)

// Action is what a matching firewall rule does.
type Action uint8

// Actions. Deny drops silently (no RST, no ICMP). Reject drops and answers: a TCP RST (the
// sender's connect fails with ErrRefused one path later) or, for UDP, an ICMP port unreachable
// (a socket with an error handler gets ErrPortUnreachable). An egress Reject answers the host's
// own socket at once. The zero Action behaves as Deny.
const (
	Allow  Action = 1
	Deny   Action = 2
	Reject Action = 3
)

// String returns "allow", "reject" or "deny".
func (a Action) String() string {
	switch a {
	case Allow:
		return "allow"
	case Reject:
		return "reject"
	}
	return "deny"
}

// PortRange is an inclusive range of ports. The zero value matches any port; Hi < Lo means the
// single port Lo.
type PortRange struct{ Lo, Hi uint16 }

func (r PortRange) contains(p uint16) bool {
	if r.Lo == 0 && r.Hi == 0 {
		return true
	}
	hi := r.Hi
	if hi < r.Lo {
		hi = r.Lo
	}
	return r.Lo <= p && p <= hi
}

// Rule is one firewall rule. Remote is the destination for egress rules and the source for
// ingress rules; an invalid (zero) prefix matches any address. Proto 0 matches any protocol
// (ICMP included). LocalPorts is the host's own port (source port out, destination port in),
// RemotePorts the other end's; ICMP packets have port 0.
type Rule struct {
	Name        string
	Dir         Direction
	Proto       Proto
	Remote      netip.Prefix
	LocalPorts  PortRange
	RemotePorts PortRange
	Action      Action
}

type ruleEntry struct {
	Rule
	counter string // "drop/firewall/<rule>@<host>"
	hits    uint64
}

// Connection-tracking timeouts (Linux nf_conntrack defaults).
const (
	CTUDPTimeout       = 30 * time.Second  // a UDP flow seen in one direction only
	CTUDPStreamTimeout = 120 * time.Second // a UDP flow with replies
	CTTCPSynSent       = 120 * time.Second // a TCP flow not yet answered
	CTTCPEstablished   = 5 * 24 * time.Hour
	CTTCPTimeWait      = 120 * time.Second // both FINs seen
	CTTCPClose         = 10 * time.Second  // after a RST
)

type ctEntry struct {
	expires       sim.Time
	out           bool // the host opened the flow
	replied       bool
	finOut, finIn bool
}

// AddRule appends a rule to the host's firewall. Rules are checked in order; the first match
// decides; no match allows. Without connection tracking the firewall is stateless: a rule
// dropping inbound UDP also drops replies to the host's own requests.
func (h *Host) AddRule(r Rule) {
	h.rules = append(h.rules, ruleEntry{Rule: r, counter: "drop/firewall/" + r.Name + "@" + h.name})
	h.noteSendPath()
}

// RemoveRule removes the first rule with that name and reports whether there was one.
func (h *Host) RemoveRule(name string) bool {
	for i := range h.rules {
		if h.rules[i].Name == name {
			h.rules = append(h.rules[:i], h.rules[i+1:]...)
			h.noteSendPath()
			return true
		}
	}
	return false
}

// Rules returns the host's firewall rules in order.
func (h *Host) Rules() []Rule {
	out := make([]Rule, len(h.rules))
	for i := range h.rules {
		out[i] = h.rules[i].Rule
	}
	return out
}

// RuleHits returns how many packets the named rule has decided (0 for an unknown rule).
func (h *Host) RuleHits(name string) uint64 {
	for i := range h.rules {
		if h.rules[i].Name == name {
			return h.rules[i].hits
		}
	}
	return 0
}

// SetConntrack switches connection tracking on or off. With it on the firewall is stateful, as
// the usual "ESTABLISHED,RELATED accept" first rule makes a Linux host: packets of a flow the
// rules allowed (either way), and ICMP errors about it, pass without the rules; only a flow's
// first packet is checked. UDP flows expire after CTUDPTimeout (CTUDPStreamTimeout once
// answered), TCP flows by state. Switching it off forgets every flow.
func (h *Host) SetConntrack(on bool) {
	h.conntrack = on
	h.ct = [2]map[uint64]*ctEntry{}
	if on {
		h.ct = [2]map[uint64]*ctEntry{{}, {}}
		h.ctPruneAt = minPruneSize
	}
	h.noteSendPath()
}

// ctTable returns the conntrack table of a protocol (nil for protocols not tracked).
func (h *Host) ctTable(proto Proto) map[uint64]*ctEntry {
	switch proto {
	case UDP:
		return h.ct[0]
	case TCP:
		return h.ct[1]
	}
	return nil
}

// ConntrackFlows returns the number of live tracked flows.
func (h *Host) ConntrackFlows() int {
	now := h.n.s.Now()
	k := 0
	for _, t := range h.ct {
		for _, e := range t {
			if e.expires > now {
				k++
			}
		}
	}
	return k
}

// match returns the first rule matching the packet, or nil.
func (h *Host) match(dir Direction, proto Proto, remote netip.AddrPort, local uint16) *ruleEntry {
	for i := range h.rules {
		r := &h.rules[i]
		if r.Dir != 0 && r.Dir != dir {
			continue
		}
		if r.Proto != 0 && r.Proto != proto {
			continue
		}
		if r.Remote.IsValid() && !r.Remote.Contains(remote.Addr()) {
			continue
		}
		if !r.LocalPorts.contains(local) || !r.RemotePorts.contains(remote.Port()) {
			continue
		}
		return r
	}
	return nil
}

// egressAllowed runs the egress firewall on a packet h sends; it drops p and reports false when
// a rule denies or rejects it.
func (h *Host) egressAllowed(p *packet) bool {
	if h.conntrack && h.ctPass(p, p.proto, ctKey(p.src.Port(), p.dst), true) {
		return true
	}
	if len(h.rules) > 0 {
		if e := h.match(Out, p.proto, p.dst, p.src.Port()); e != nil {
			e.hits++
			if e.Action != Allow {
				h.refuse(p, e, Out)
				return false
			}
		}
	}
	if h.conntrack {
		h.ctNew(p, ctKey(p.src.Port(), p.dst), true)
	}
	return true
}

// ingressAllowed runs the ingress firewall on a packet arriving at h.
func (h *Host) ingressAllowed(p *packet) bool {
	if h.conntrack {
		proto, k := p.proto, ctKey(p.dst.Port(), p.src)
		if p.proto == ICMP {
			proto, k = p.iproto, ctKey(p.isrc.Port(), p.idst) // RELATED: an error about a tracked flow
		}
		if h.ctPass(p, proto, k, false) {
			return true
		}
	}
	if len(h.rules) > 0 {
		if e := h.match(In, p.proto, p.src, p.dst.Port()); e != nil {
			e.hits++
			if e.Action != Allow {
				h.refuse(p, e, In)
				return false
			}
		}
	}
	if h.conntrack {
		h.ctNew(p, ctKey(p.dst.Port(), p.src), false)
	}
	return true
}

// ctPass reports whether p belongs to a live tracked flow, updating the flow's state.
// proto is the flow's protocol (that of the packet an ICMP error quotes).
func (h *Host) ctPass(p *packet, proto Proto, k uint64, out bool) bool {
	t := h.ctTable(proto)
	e := t[k]
	if e == nil {
		return false
	}
	now := h.n.s.Now()
	if e.expires <= now {
		delete(t, k)
		return false
	}
	if p.proto == ICMP {
		return true
	}
	if out != e.out {
		e.replied = true
	}
	e.expires = now.Add(ctTimeout(p, e, out))
	return true
}

// ctNew starts tracking the flow of an allowed packet (not for RSTs and ICMP errors).
func (h *Host) ctNew(p *packet, k uint64, out bool) {
	t := h.ctTable(p.proto)
	if t == nil || (p.proto == TCP && p.flags&flagRST != 0) {
		return
	}
	now := h.n.s.Now()
	e := t[k]
	if e == nil {
		e = &ctEntry{}
		t[k] = e
	}
	*e = ctEntry{out: out}
	e.expires = now.Add(ctTimeout(p, e, out))
	if len(t) > h.ctPruneAt {
		for key, v := range t { // deleting expired entries: order does not matter
			if v.expires <= now {
				delete(t, key)
			}
		}
		h.ctPruneAt = max(minPruneSize, 2*len(t))
	}
}

// ctTimeout updates a flow's TCP state for p and returns its new timeout.
func ctTimeout(p *packet, e *ctEntry, out bool) time.Duration {
	if p.proto != TCP {
		if e.replied {
			return CTUDPStreamTimeout
		}
		return CTUDPTimeout
	}
	if p.flags&flagRST != 0 {
		return CTTCPClose
	}
	if p.flags&flagFIN != 0 {
		if out {
			e.finOut = true
		} else {
			e.finIn = true
		}
	}
	switch {
	case e.finOut && e.finIn:
		return CTTCPTimeWait
	case e.replied:
		return CTTCPEstablished
	}
	return CTTCPSynSent
}

// refuse drops p for rule e and, for a Reject rule, answers it.
func (h *Host) refuse(p *packet, e *ruleEntry, dir Direction) {
	n := h.n
	n.fwHits[e.counter]++
	if e.Action == Reject {
		from := h.Addr()
		if dir == In {
			from = p.dst.Addr() // the address the refused packet was sent to
		}
		if q := n.errorFor(p, from); q != nil {
			n.stats.fwRejects++
			if dir == Out {
				// The host's own stack hears the error at once (a local REJECT).
				q.local, q.kind, q.host = true, toHost, h
				n.s.AtH(n.s.Now(), labelLocalError, q)
			} else {
				seg := h.route(q.dst.Addr()).Segment
				q.origin = seg
				n.forward(q, seg) // generated by the firewall itself: not subject to egress rules
			}
		}
	}
	n.drop(p, DropFirewall, h.name, e.Name)
}

const labelLocalError = "netem/local-error"

// errorFor builds the answer to a refused packet: a RST for TCP (none for a RST), an ICMP port
// unreachable from `from` for UDP; nil for anything else.
func (n *Network) errorFor(p *packet, from netip.Addr) *packet {
	switch p.proto {
	case TCP:
		if p.flags&flagRST != 0 {
			return nil
		}
		return n.rstFor(p)
	case UDP:
		q := n.newPacket()
		q.proto = ICMP
		q.src, q.dst = netip.AddrPortFrom(from, 0), netip.AddrPortFrom(p.src.Addr(), 0)
		q.iproto, q.isrc, q.idst = p.proto, p.src, p.dst
		n.stats.icmpSent++
		return q
	}
	return nil
}

// rstFor builds the RST answering TCP segment p (RFC 793 reset generation).
func (n *Network) rstFor(p *packet) *packet {
	var seq, ack uint64
	flags := flagRST
	if p.flags&flagACK != 0 {
		seq = p.ack
	} else {
		flags |= flagACK
		ack = p.seq + uint64(len(p.payload))
		if p.flags&flagSYN != 0 {
			ack++
		}
		if p.flags&flagFIN != 0 {
			ack++
		}
	}
	rst := n.newPacket()
	rst.proto, rst.flags, rst.src, rst.dst, rst.seq, rst.ack = TCP, flags, p.dst, p.src, seq, ack
	n.stats.tcpSegments++
	return rst
}

// icmpInput hands an ICMP error to the UDP socket it is about. It releases p.
func (h *Host) icmpInput(p *packet) {
	n := h.n
	c := h.udpConn(p.isrc.Port())
	if p.iproto != UDP || c == nil {
		n.drop(p, DropNoListener, h.name, "")
		return
	}
	n.stats.icmpDelivered++
	n.s.Trace("icmp/port-unreachable", uint64(p.isrc.Port()))
	to := p.idst
	n.release(p)
	if c.onErr != nil {
		c.onErr(to, ErrPortUnreachable)
	}
}
