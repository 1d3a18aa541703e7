package netem

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sort"
	"strconv"
	"time"

	"gridlab/sim"
)

// Proto is an IP protocol number.
type Proto uint8

// The protocols netem carries.
const (
	TCP Proto = 6
	UDP Proto = 17
)

// String returns "udp", "tcp", "any" for 0, or "proto(N)".
func (p Proto) String() string {
	switch p {
	case UDP:
		return "udp"
	case TCP:
		return "tcp"
	case 0:
		return "any"
	}
	return "proto(" + strconv.Itoa(int(p)) + ")"
}

// LinkParams describe one traversal of a segment. Jitter is uniform in [-Jitter,+Jitter] and the
// resulting delay is clamped at zero; packets of one (src,dst) pair are never reordered by jitter.
// Loss is the Bernoulli probability that a traversal loses the packet.
type LinkParams struct {
	Latency time.Duration
	Jitter  time.Duration
	Loss    float64
}

// Reason says why a packet was dropped.
type Reason string

// Drop reasons.
const (
	DropLoss         Reason = "loss"
	DropFirewall     Reason = "firewall"
	DropNoRoute      Reason = "no-route"
	DropNoHost       Reason = "no-host"
	DropNoListener   Reason = "no-listener"
	DropNATNoMapping Reason = "nat-no-mapping"
	DropNATFiltered  Reason = "nat-filtered"
	DropHairpin      Reason = "nat-hairpin-unsupported"
	DropTTL          Reason = "ttl" // routing loop: more than maxHops segment hops
)

var allReasons = []Reason{DropLoss, DropFirewall, DropNoRoute, DropNoHost, DropNoListener,
	DropNATNoMapping, DropNATFiltered, DropHairpin, DropTTL}

// traceKind returns the constant trace kind for a reason (no allocation).
func traceKind(r Reason) string {
	switch r {
	case DropLoss:
		return "drop/loss"
	case DropFirewall:
		return "drop/firewall"
	case DropNoRoute:
		return "drop/no-route"
	case DropNoHost:
		return "drop/no-host"
	case DropNoListener:
		return "drop/no-listener"
	case DropNATNoMapping:
		return "drop/nat-no-mapping"
	case DropNATFiltered:
		return "drop/nat-filtered"
	case DropHairpin:
		return "drop/nat-hairpin-unsupported"
	case DropTTL:
		return "drop/ttl"
	}
	return "drop/other"
}

// Drop records one dropped packet. Src and Dst are the addresses as the packet carried them where
// it was dropped (after any NAT translation before that point).
type Drop struct {
	At     sim.Time
	Reason Reason
	Rule   string // firewall rule name, for DropFirewall
	Where  string // host, router or segment name
	Proto  Proto
	Src    netip.AddrPort
	Dst    netip.AddrPort
	Len    int // payload bytes
}

// String formats the drop for logs, e.g. `1.234s udp 10.0.0.2:5000 > 10.0.0.3:9000 dropped at srv: firewall (block-udp)`.
func (d Drop) String() string {
	s := fmt.Sprintf("%s %s %s > %s dropped at %s: %s", d.At, d.Proto, d.Src, d.Dst, d.Where, d.Reason)
	if d.Rule != "" {
		s += " (" + d.Rule + ")"
	}
	return s
}

// Counter is one named count.
type Counter struct {
	Name  string
	Value uint64
}

const (
	maxHops      = 64
	labelArrive  = "netem/arrive"
	ephemeralLo  = 32768
	ephemeralHi  = 60999
	minPruneSize = 1024
)

// Network is the virtual network. It is driven by one sim.Sim and, like it, is not safe for
// concurrent use.
type Network struct {
	s          *sim.Sim
	segments   []*Segment
	segByName  map[string]*Segment
	hosts      []*Host
	hostByName map[string]*Host
	routers    []*Router
	nodeNames  map[string]bool // host and router names
	observers  []func(Drop)
	free       []*packet
	tbuf       []byte

	drops  map[Reason]uint64
	fwHits map[string]uint64 // "drop/firewall/<rule>@<host>"
	stats  struct {
		udpSent, udpDelivered                                uint64
		tcpSegments, tcpRetransmits, tcpConnects, tcpAccepts uint64
		tcpRefused, tcpResets, tcpTimeouts                   uint64
	}
}

// New returns an empty network driven by s.
func New(s *sim.Sim) *Network {
	return &Network{
		s:          s,
		segByName:  map[string]*Segment{},
		hostByName: map[string]*Host{},
		nodeNames:  map[string]bool{},
		drops:      map[Reason]uint64{},
		fwHits:     map[string]uint64{},
	}
}

// Sim returns the kernel driving the network.
func (n *Network) Sim() *sim.Sim { return n.s }

// OnDrop registers an observer called synchronously, in registration order, for every drop.
func (n *Network) OnDrop(f func(Drop)) { n.observers = append(n.observers, f) }

// Segment returns the segment with that name, or nil.
func (n *Network) Segment(name string) *Segment { return n.segByName[name] }

// Host returns the host with that name, or nil.
func (n *Network) Host(name string) *Host { return n.hostByName[name] }

// Counters returns every counter, sorted by name: "drop/<reason>" (all reasons, zero included),
// "drop/firewall/<rule>@<host>", "nat/<router>/mappings" (created), "segment/<name>/packets",
// "segment/<name>/bytes" (payload bytes of traversals attempted, lost ones included),
// "tcp/segments", "tcp/retransmits", "tcp/connects", "tcp/accepts", "tcp/refused", "tcp/resets",
// "tcp/timeouts", "udp/sent", "udp/delivered".
func (n *Network) Counters() []Counter {
	out := make([]Counter, 0, len(allReasons)+len(n.fwHits)+2*len(n.segments)+len(n.routers)+9)
	for _, r := range allReasons {
		out = append(out, Counter{"drop/" + string(r), n.drops[r]})
	}
	for k, v := range n.fwHits {
		out = append(out, Counter{k, v})
	}
	for _, r := range n.routers {
		out = append(out, Counter{"nat/" + r.name + "/mappings", r.created})
	}
	for _, g := range n.segments {
		out = append(out, Counter{"segment/" + g.name + "/packets", g.packets},
			Counter{"segment/" + g.name + "/bytes", g.bytes})
	}
	st := &n.stats
	out = append(out,
		Counter{"tcp/segments", st.tcpSegments},
		Counter{"tcp/retransmits", st.tcpRetransmits},
		Counter{"tcp/connects", st.tcpConnects},
		Counter{"tcp/accepts", st.tcpAccepts},
		Counter{"tcp/refused", st.tcpRefused},
		Counter{"tcp/resets", st.tcpResets},
		Counter{"tcp/timeouts", st.tcpTimeouts},
		Counter{"udp/sent", st.udpSent},
		Counter{"udp/delivered", st.udpDelivered},
	)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Segment is one network (the internet, a LAN) with a prefix and link parameters.
type Segment struct {
	n       *Network
	name    string
	prefix  netip.Prefix
	params  LinkParams
	hosts   map[netip.Addr]*Host
	routers map[netip.Addr]*Router // routers' OutsideAddr (Outside == g) and InsideAddr (Inside == g)
	gateway *Router                // the router whose Inside is g
	transit []*Router              // non-NAT routers whose Outside is g: they route their Inside prefix
	loss    *rand.Rand
	jitter  *rand.Rand
	last    map[flowKey]sim.Time // latest scheduled arrival per (src,dst), for FIFO
	fifo    bool                 // delays can vary (jitter, or latency changed): keep last
	maxAt   sim.Time             // latest arrival scheduled on the segment
	floor   sim.Time             // no arrival before this: packets in flight when fifo began
	pruneAt int
	packets uint64
	bytes   uint64
}

type flowKey struct{ src, dst netip.AddrPort }

// AddSegment adds a segment. The prefix is masked. It panics on an empty or duplicate name or an
// invalid prefix (these are programming errors; scenario validation happens before).
func (n *Network) AddSegment(name string, prefix netip.Prefix, p LinkParams) *Segment {
	if name == "" || n.segByName[name] != nil {
		panic(fmt.Sprintf("netem: AddSegment: empty or duplicate segment name %q", name))
	}
	if !prefix.IsValid() {
		panic(fmt.Sprintf("netem: AddSegment %q: invalid prefix", name))
	}
	g := &Segment{
		n:       n,
		name:    name,
		prefix:  prefix.Masked(),
		params:  p,
		hosts:   map[netip.Addr]*Host{},
		routers: map[netip.Addr]*Router{},
		loss:    n.s.Rand("netem/seg/" + name + "/loss"),
		jitter:  n.s.Rand("netem/seg/" + name + "/jitter"),
		last:    map[flowKey]sim.Time{},
		pruneAt: minPruneSize,
		fifo:    p.Jitter > 0,
	}
	n.segments = append(n.segments, g)
	n.segByName[name] = g
	return g
}

// Name returns the segment's name.
func (g *Segment) Name() string { return g.name }

// Prefix returns the segment's (masked) prefix.
func (g *Segment) Prefix() netip.Prefix { return g.prefix }

// Params returns the current link parameters.
func (g *Segment) Params() LinkParams { return g.params }

// SetParams changes the link parameters at the current virtual time. Packets already in flight
// keep their arrival time, and no later packet arrives before them (lowering the latency does not
// let new packets overtake old ones).
func (g *Segment) SetParams(p LinkParams) {
	if !g.fifo && (p.Jitter > 0 || p.Latency != g.params.Latency) {
		// From now on arrival order must be enforced per (src,dst); packets already in flight
		// were not recorded, so nothing may arrive before the last of them.
		g.fifo, g.floor = true, g.maxAt
	}
	g.params = p
}

func (g *Segment) addrFree(a netip.Addr) bool {
	return g.hosts[a] == nil && g.routers[a] == nil
}

// packet is one datagram or TCP segment in flight. Packets are pooled; arrive is bound once.
type packet struct {
	n       *Network
	proto   Proto
	flags   uint8 // TCP flags
	hops    uint8
	kind    uint8 // what the current traversal arrives at
	src     netip.AddrPort
	dst     netip.AddrPort
	seq     uint64
	ack     uint64
	payload []byte
	host    *Host
	router  *Router
	arrive  func()
}

const (
	toHost        uint8 = iota + 1
	toRouterIn          // arrives at a router from its Inside segment
	toRouterOut         // arrives at a router's OutsideAddr from its Outside segment
	toRouterRoute       // arrives at a non-NAT router, destined to its Inside prefix
	toRouterSelf        // addressed to a router's InsideAddr
)

func (n *Network) newPacket() *packet {
	if k := len(n.free); k > 0 {
		p := n.free[k-1]
		n.free = n.free[:k-1]
		return p
	}
	p := &packet{n: n}
	p.arrive = p.onArrive
	return p
}

func (n *Network) release(p *packet) {
	p.proto, p.flags, p.hops, p.kind = 0, 0, 0, 0
	p.src, p.dst = netip.AddrPort{}, netip.AddrPort{}
	p.seq, p.ack = 0, 0
	p.payload = p.payload[:0]
	p.host, p.router = nil, nil
	n.free = append(n.free, p)
}

// sendFrom puts a packet built by host h on the network: egress firewall, then routing.
func (n *Network) sendFrom(h *Host, p *packet) {
	if e := h.match(Out, p.proto, p.dst.Addr(), p.src.Port()); e != nil && e.Action != Allow {
		n.firewallDrop(p, h, e)
		return
	}
	n.forward(p, h.seg)
}

// forward decides where p goes on segment g and sends it across.
func (n *Network) forward(p *packet, g *Segment) {
	p.hops++
	if p.hops > maxHops {
		n.drop(p, DropTTL, g.name, "")
		return
	}
	dst := p.dst.Addr()
	switch {
	case g.prefix.Contains(dst):
		if r := g.routers[dst]; r != nil {
			p.router = r
			if r.outside == g {
				p.kind = toRouterOut
			} else {
				p.kind = toRouterSelf
			}
		} else if h := g.hosts[dst]; h != nil {
			p.kind, p.host = toHost, h
		} else if r := g.transitFor(dst); r != nil {
			p.kind, p.router = toRouterRoute, r
		} else {
			n.drop(p, DropNoHost, g.name, "")
			return
		}
	case g.gateway != nil:
		p.kind, p.router = toRouterIn, g.gateway
	default:
		n.drop(p, DropNoRoute, g.name, "")
		return
	}
	n.traverse(p, g)
}

func (g *Segment) transitFor(dst netip.Addr) *Router {
	var best *Router
	for _, r := range g.transit {
		if r.inside.prefix.Contains(dst) && (best == nil || r.inside.prefix.Bits() > best.inside.prefix.Bits()) {
			best = r
		}
	}
	return best
}

// traverse applies g's loss, latency and jitter and schedules the arrival.
func (n *Network) traverse(p *packet, g *Segment) {
	g.packets++
	g.bytes += uint64(len(p.payload))
	prm := g.params
	if prm.Loss > 0 && g.loss.Float64() < prm.Loss {
		n.drop(p, DropLoss, g.name, "")
		return
	}
	d := prm.Latency
	if prm.Jitter > 0 {
		d += time.Duration(g.jitter.Int64N(2*int64(prm.Jitter)+1)) - prm.Jitter
	}
	if d < 0 {
		d = 0
	}
	now := n.s.Now()
	at := max(now.Add(d), g.floor)
	if g.fifo { // with a constant delay arrivals are in order anyway
		k := flowKey{p.src, p.dst}
		if last, ok := g.last[k]; ok && last > at {
			at = last
		}
		g.last[k] = at
		if len(g.last) > g.pruneAt {
			for key, t := range g.last { // deleting stale entries: order does not matter
				if t <= now {
					delete(g.last, key)
				}
			}
			g.pruneAt = max(minPruneSize, 2*len(g.last))
		}
	}
	g.maxAt = max(g.maxAt, at)
	n.s.At(at, labelArrive, p.arrive)
}

func (p *packet) onArrive() {
	n := p.n
	switch p.kind {
	case toHost:
		n.deliver(p.host, p)
	case toRouterIn:
		p.router.fromInside(p)
	case toRouterOut:
		p.router.fromOutside(p)
	case toRouterRoute:
		n.forward(p, p.router.inside)
	default:
		n.drop(p, DropNoListener, p.router.name, "")
	}
}

// deliver runs the ingress firewall and hands p to a socket. It releases p.
func (n *Network) deliver(h *Host, p *packet) {
	if e := h.match(In, p.proto, p.src.Addr(), p.dst.Port()); e != nil && e.Action != Allow {
		n.firewallDrop(p, h, e)
		return
	}
	switch p.proto {
	case UDP:
		c := h.udp[p.dst.Port()]
		if c == nil {
			n.drop(p, DropNoListener, h.name, "")
			return
		}
		n.stats.udpDelivered++
		n.traceData("udp", p.src, p.dst, p.payload)
		c.recv(p.src, p.payload)
		n.release(p)
	case TCP:
		h.tcpInput(p)
	default:
		n.drop(p, DropNoListener, h.name, "")
	}
}

func (n *Network) firewallDrop(p *packet, h *Host, e *ruleEntry) {
	n.fwHits[e.counter]++
	n.drop(p, DropFirewall, h.name, e.Name)
}

// drop records, counts, traces and reports a drop, then releases p.
func (n *Network) drop(p *packet, r Reason, where, rule string) {
	n.drops[r]++
	d := Drop{At: n.s.Now(), Reason: r, Rule: rule, Where: where, Proto: p.proto, Src: p.src, Dst: p.dst, Len: len(p.payload)}
	buf := n.tbuf[:0]
	buf = append(buf, byte(p.proto), p.flags)
	buf = appendAddrPort(buf, p.src)
	buf = appendAddrPort(buf, p.dst)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(p.payload)))
	buf = append(buf, where...)
	buf = append(buf, 0)
	buf = append(buf, rule...)
	n.tbuf = buf
	n.s.TraceBytes(traceKind(r), buf)
	n.release(p)
	for _, f := range n.observers {
		f(d)
	}
}

// traceData mixes a delivery (endpoints and bytes) into the trace hash.
func (n *Network) traceData(kind string, src, dst netip.AddrPort, b []byte) {
	buf := n.tbuf[:0]
	buf = appendAddrPort(buf, src)
	buf = appendAddrPort(buf, dst)
	buf = append(buf, b...)
	n.tbuf = buf
	n.s.TraceBytes(kind, buf)
}

func appendAddrPort(b []byte, ap netip.AddrPort) []byte {
	a := ap.Addr()
	if a.Is4() {
		v := a.As4()
		b = append(b, v[:]...)
	} else {
		v := a.As16()
		b = append(b, v[:]...)
	}
	return binary.BigEndian.AppendUint16(b, ap.Port())
}
