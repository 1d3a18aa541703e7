package netem

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"sort"
	"strconv"

	"gridlab/sim"
	"gridlab/sim/freelist"
)

// Proto is an IP protocol number.
type Proto uint8

// The protocols netem carries.
const (
	ICMP Proto = 1
	TCP  Proto = 6
	UDP  Proto = 17
)

// String returns "udp", "tcp", "any" for 0, or "proto(N)".
func (p Proto) String() string {
	switch p {
	case UDP:
		return "udp"
	case TCP:
		return "tcp"
	case ICMP:
		return "icmp"
	case 0:
		return "any"
	}
	return "proto(" + strconv.Itoa(int(p)) + ")"
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
	DropTTL          Reason = "ttl"            // routing loop: more than maxHops segment hops
	DropMTU          Reason = "mtu"            // larger than the link's MTU
	DropQueueFull    Reason = "queue-full"     // tail drop at a rate-limited link's FIFO
	DropHostDown     Reason = "host-down"      // sent by or to a host that is down
	DropPartition    Reason = "partition"      // the two networks are partitioned
	DropNATTableFull Reason = "nat-table-full" // the NAT has no room for a new mapping
	DropChecksum     Reason = "checksum"       // a corrupted TCP segment fails its checksum
)

var allReasons = []Reason{DropLoss, DropFirewall, DropNoRoute, DropNoHost, DropNoListener,
	DropNATNoMapping, DropNATFiltered, DropHairpin, DropTTL, DropMTU, DropQueueFull,
	DropHostDown, DropPartition, DropNATTableFull, DropChecksum}

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
	case DropMTU:
		return "drop/mtu"
	case DropQueueFull:
		return "drop/queue-full"
	case DropHostDown:
		return "drop/host-down"
	case DropPartition:
		return "drop/partition"
	case DropNATTableFull:
		return "drop/nat-table-full"
	case DropChecksum:
		return "drop/checksum"
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
	Len    int    // payload bytes
	Frame  uint64 // number of the packet's last capture record (1-based), 0 when not captured
	// From is the socket that first sent the packet, before any NAT rewrote its source, so that a
	// drop beyond a NAT can be traced back to the host behind it.
	From netip.AddrPort
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
	s            *sim.Sim
	segments     []*Segment
	segByName    map[string]*Segment
	hosts        []*Host
	hostByName   map[string]*Host
	routerByName map[string]*Router
	sendBufs     freelist.List[byte] // idle connections' send buffers, for the next (TCPConn.Write)
	routers      []*Router
	nodeNames    map[string]bool // host and router names
	observers    []func(Drop)
	free         []*packet
	tbuf         []byte
	capture      func(*Captured) uint64
	cap          *netCapture
	capBuf       Captured
	partitions   [][2]*Segment
	synLinear    bool
	dns          *Resolver

	drops  map[Reason]uint64
	fwHits map[string]uint64 // "drop/firewall/<rule>@<host>"
	stats  struct {
		udpSent, udpDelivered                                uint64
		tcpSegments, tcpRetransmits, tcpConnects, tcpAccepts uint64
		tcpRefused, tcpResets, tcpTimeouts                   uint64
		duplicated, reordered, corrupted                     uint64
		icmpSent, icmpDelivered, fwRejects                   uint64
	}
}

// New returns an empty network driven by s.
func New(s *sim.Sim) *Network {
	return &Network{
		s:            s,
		segByName:    map[string]*Segment{},
		hostByName:   map[string]*Host{},
		routerByName: map[string]*Router{},
		nodeNames:    map[string]bool{},
		drops:        map[Reason]uint64{},
		fwHits:       map[string]uint64{},
		sendBufs:     freelist.New[byte](maxFreeSendBufs, maxFreeSendBuf),
	}
}

// Sim returns the kernel driving the network.
func (n *Network) Sim() *sim.Sim { return n.s }

// OnDrop registers an observer called synchronously, in registration order, for every drop.
func (n *Network) OnDrop(f func(Drop)) { n.observers = append(n.observers, f) }

// Segment returns the segment with that name, or nil.
func (n *Network) Segment(name string) *Segment { return n.segByName[name] }

// Router returns the router with that name, or nil.
func (n *Network) Router(name string) *Router { return n.routerByName[name] }

// Host returns the host with that name, or nil.
func (n *Network) Host(name string) *Host { return n.hostByName[name] }

// Traffic is the network's running totals a per-second sample needs. Counters has them too,
// but builds the whole list, which visits every host for its firewall rules: at 100,000
// viewers a walk of 100,000 hosts, each out of the cache, every virtual second.
type Traffic struct {
	UDPSent, UDPDelivered uint64
	Lost                  uint64 // drop/loss
	Drops                 uint64 // every drop/<reason> of Counters, loss included
}

// Traffic returns the totals so far.
func (n *Network) Traffic() Traffic {
	t := Traffic{UDPSent: n.stats.udpSent, UDPDelivered: n.stats.udpDelivered, Lost: n.drops[DropLoss]}
	for _, r := range allReasons {
		t.Drops += n.drops[r]
	}
	return t
}

// Counters returns every counter, sorted by name: "drop/<reason>" (all reasons, zero included),
// "drop/firewall/<rule>@<host>", "nat/<router>/mappings" (created), "segment/<name>/packets",
// "segment/<name>/bytes" (payload bytes of traversals attempted, lost ones included),
// "tcp/segments", "tcp/retransmits", "tcp/connects", "tcp/accepts", "tcp/refused", "tcp/resets",
// "tcp/timeouts", "udp/sent", "udp/delivered", "link/duplicated", "link/reordered",
// "link/corrupted", "icmp/sent", "icmp/delivered", "firewall/rejects", and for every firewall
// rule "firewall/<rule>@<host>/hits" (packets it decided, whatever its action).
func (n *Network) Counters() []Counter {
	out := make([]Counter, 0, len(allReasons)+len(n.fwHits)+2*len(n.segments)+len(n.routers)+16)
	for _, r := range allReasons {
		out = append(out, Counter{"drop/" + string(r), n.drops[r]})
	}
	for k, v := range n.fwHits {
		out = append(out, Counter{k, v})
	}
	for _, r := range n.routers {
		out = append(out, Counter{"nat/" + r.name + "/mappings", r.created})
	}
	for _, h := range n.hosts {
		for i := range h.rules {
			out = append(out, Counter{"firewall/" + h.rules[i].Name + "@" + h.name + "/hits", h.rules[i].hits})
		}
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
		Counter{"link/duplicated", st.duplicated},
		Counter{"link/reordered", st.reordered},
		Counter{"link/corrupted", st.corrupted},
		Counter{"icmp/sent", st.icmpSent},
		Counter{"icmp/delivered", st.icmpDelivered},
		Counter{"firewall/rejects", st.fwRejects},
	)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Segment is one network (the internet, a LAN) with a prefix and link parameters. Its
// impairments apply per direction: Up is traffic whose next hop is the segment's gateway router
// (leaving the network), Down is everything else (arriving from the gateway, or between two nodes
// of the segment). Until SetDirParams splits them, both directions share one state.
type Segment struct {
	n       *Network
	name    string
	prefix  netip.Prefix
	down    *linkState
	up      *linkState // == down until the directions are configured separately
	nodes   nodeTable  // by IPv4 address: hosts, routers' OutsideAddr (Outside == g) and InsideAddr (Inside == g)
	gateway *Router    // the router whose Inside is g
	transit []*Router  // non-NAT routers whose Outside is g: they route their Inside prefix
	last    fifoTable  // the latest scheduled arrival per (src,dst), for FIFO (fifo.go)
	fifo    bool       // delays can vary (jitter, or latency changed): keep last
	maxAt   sim.Time   // latest arrival scheduled on the segment
	floor   sim.Time   // no arrival before this: packets in flight when fifo began
	packets uint64
	bytes   uint64
}

// AddSegment adds a segment. The prefix is masked. It panics on an empty or duplicate name or an
// invalid or IPv6 prefix (these are programming errors; scenario validation happens before).
func (n *Network) AddSegment(name string, prefix netip.Prefix, p LinkParams) *Segment {
	if name == "" || n.segByName[name] != nil {
		panic(fmt.Sprintf("netem: AddSegment: empty or duplicate segment name %q", name))
	}
	if !prefix.IsValid() || !prefix.Addr().Is4() {
		panic(fmt.Sprintf("netem: AddSegment %q: invalid or non-IPv4 prefix (netem carries IPv4 only)", name))
	}
	g := &Segment{
		n:      n,
		name:   name,
		prefix: prefix.Masked(),
		fifo:   p.Jitter > 0,
	}
	g.down = newLinkState(n.s, "netem/seg/"+name+"/", p)
	g.up = g.down
	n.segments = append(n.segments, g)
	n.segByName[name] = g
	return g
}

// Name returns the segment's name.
func (g *Segment) Name() string { return g.name }

// Prefix returns the segment's (masked) prefix.
func (g *Segment) Prefix() netip.Prefix { return g.prefix }

// Params returns the current link parameters (of the Down direction).
func (g *Segment) Params() LinkParams { return g.down.p }

// DirParams returns the current link parameters of one direction.
func (g *Segment) DirParams(d LinkDir) LinkParams {
	if d == LinkUp {
		return g.up.p
	}
	return g.down.p
}

// SetParams changes the link parameters of both directions at the current virtual time. Packets
// already in flight keep their arrival time, and no later packet arrives before them (lowering
// the latency does not let new packets overtake old ones). Queue and loss-model state carry over.
func (g *Segment) SetParams(p LinkParams) {
	g.noteDelayChange(g.down.p, p)
	g.down.set(p)
	if g.up != g.down {
		g.noteDelayChange(g.up.p, p)
		g.up.set(p)
	}
}

// SetDirParams changes the link parameters of one direction only. The first call splits the
// directions: the Up direction then has its own random streams ("netem/seg/<name>/up/...") and
// queue.
func (g *Segment) SetDirParams(d LinkDir, p LinkParams) {
	if g.up == g.down {
		g.up = newLinkState(g.n.s, "netem/seg/"+g.name+"/up/", g.down.p)
	}
	ls := g.down
	if d == LinkUp {
		ls = g.up
	}
	g.noteDelayChange(ls.p, p)
	ls.set(p)
}

func (g *Segment) noteDelayChange(old, p LinkParams) {
	if !g.fifo && (p.Jitter > 0 || p.Latency != old.Latency || p.Reorder > 0) {
		// From now on arrival order must be enforced per (src,dst); packets already in flight
		// were not recorded, so nothing may arrive before the last of them.
		g.fifo, g.floor = true, g.maxAt
	}
}

// segNode is what an address on a segment belongs to: a host or a router.
type segNode struct {
	h *Host
	r *Router
}

func (g *Segment) addrFree(a netip.Addr) bool {
	return g.nodes.get(uint32(v4bits(a))).empty()
}

func (g *Segment) addNode(a netip.Addr, h *Host, r *Router) {
	g.nodes.set(uint32(v4bits(a)), segNode{h, r})
}

// packet is one datagram or TCP segment in flight. Packets are pooled. A packet is its own
// arrival event (Fire): scheduled as a sim.Handler, it costs the dispatch no bound func to read.
//
// At scale a packet is out of the cache when it arrives (it was scheduled a latency ago), so the
// fields a UDP datagram uses come first, in as few cache lines as they fit, and what only TCP,
// ICMP and NAT use comes last: release clears that tail only when one of them used it.
type packet struct {
	n       *Network
	host    *Host
	router  *Router
	natR    *Router  // the last router that translated p (see natSrc)
	origin  *Segment // segment of the sending host (partitions)
	prev    *Segment // segment last traversed (partitions)
	frame   uint64   // last capture record number
	payload []byte
	proto   Proto
	flags   uint8 // TCP flags
	hops    uint8
	kind    uint8 // what the current traversal arrives at
	corrupt bool  // a bit was flipped on the way
	local   bool  // an error generated by the host's own firewall: skip the ingress rules
	iproto  Proto // ICMP errors: the protocol of the packet quoted (see isrc)
	fromAt  uint8 // where the source as the sending host wrote it is: fromNone, fromSrc, fromSaved
	src     netip.AddrPort
	dst     netip.AddrPort

	// The tail: zero on a UDP datagram whenever natR is nil and fromAt is not fromSaved
	// (packetTailClean).
	seq  uint64
	ack  uint64
	from netip.AddrPort // the source as the sending host wrote it, once a NAT rewrote it
	// p's endpoints before natR translated it (zero when unchanged): the capture's note on the
	// record after the translation.
	natSrc, natDst netip.AddrPort
	// ICMP errors (destination unreachable, port unreachable) quote the packet they answer.
	isrc, idst netip.AddrPort
}

// Where a packet's original source is (Drop.From): none (not sent by a host: generated by a
// router or a firewall), still in src, or saved in from by the first NAT that rewrote src. Most
// datagrams cross no NAT, and copying src (32 bytes) to from at every send wrote a cache line
// that nothing read unless the packet was dropped.
const (
	fromNone uint8 = iota
	fromSrc
	fromSaved
)

// keepFrom saves p's source before a NAT rewrites it, unless a NAT before did.
func (p *packet) keepFrom() {
	if p.fromAt == fromSrc {
		p.from, p.fromAt = p.src, fromSaved
	}
}

// origFrom returns the source as the sending host wrote it, zero for a packet no host sent.
func (p *packet) origFrom() netip.AddrPort {
	switch p.fromAt {
	case fromSrc:
		return p.src
	case fromSaved:
		return p.from
	}
	return netip.AddrPort{}
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
	return &packet{n: n}
}

func (n *Network) release(p *packet) {
	if !packetTailClean(p) {
		p.seq, p.ack = 0, 0
		p.natSrc, p.natDst = netip.AddrPort{}, netip.AddrPort{}
		p.isrc, p.idst = netip.AddrPort{}, netip.AddrPort{}
		p.from = netip.AddrPort{}
	}
	p.proto, p.flags, p.hops, p.kind, p.iproto, p.fromAt = 0, 0, 0, 0, 0, fromNone
	p.src, p.dst = netip.AddrPort{}, netip.AddrPort{}
	p.payload = p.payload[:0]
	p.host, p.router, p.natR = nil, nil, nil
	p.origin, p.prev, p.frame, p.corrupt, p.local = nil, nil, 0, false, false
	n.free = append(n.free, p)
}

// packetTailClean reports whether p's tail (seq to idst) is known to be zero without reading
// it: a UDP datagram has no sequence numbers and quotes nothing, traverse clears natSrc and
// natDst with natR, and from is written only by a NAT (keepFrom). Not writing the tail of every
// datagram saves touching two of its cold cache lines (TestReleasedPacketsAreClean checks the
// claim on every kind of traffic).
func packetTailClean(p *packet) bool {
	return p.proto == UDP && p.natR == nil && p.fromAt != fromSaved
}

// clonePacket returns a copy of p (a duplicate on the wire).
func (n *Network) clonePacket(p *packet) *packet {
	q := n.newPacket()
	payload := append(q.payload[:0], p.payload...)
	*q = *p
	q.payload = payload
	return q
}

// sendFrom puts a packet built by host h on the network: egress firewall, then routing.
func (n *Network) sendFrom(h *Host, p *packet) {
	seg := h.route(p.dst.Addr()).Segment
	p.origin = seg
	p.fromAt = fromSrc
	if !p.dst.Addr().Is4() { // netem carries IPv4 only
		n.drop(p, DropNoRoute, h.name, "")
		return
	}
	if h.down {
		n.drop(p, DropHostDown, h.name, "")
		return
	}
	if !h.egressAllowed(p) {
		return
	}
	n.forward(p, seg)
}

// forward decides where p goes on segment g and sends it across.
func (n *Network) forward(p *packet, g *Segment) {
	p.hops++
	if p.hops > maxHops {
		n.drop(p, DropTTL, g.name, "")
		return
	}
	if len(n.partitions) > 0 && n.cut(p, g) {
		n.drop(p, DropPartition, g.name, "")
		return
	}
	p.prev = g
	dst := p.dst.Addr()
	switch {
	case g.prefix.Contains(dst):
		nd := g.nodes.get(uint32(v4bits(dst)))
		if r := nd.r; r != nil {
			p.router = r
			if r.outside == g {
				p.kind = toRouterOut
			} else {
				p.kind = toRouterSelf
			}
		} else if h := nd.h; h != nil {
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

// Fire is the packet's arrival (sim.Handler).
func (p *packet) Fire() { p.onArrive() }

// Warm reads ahead, for a datagram about to arrive at a host, what the receiving socket's
// handler will read (UDPConn.SetWarm). It changes nothing (sim.Warmer).
func (p *packet) Warm() byte {
	if p.kind != toHost || p.proto != UDP {
		return 0
	}
	h := p.host
	warm := h.udpLastWarm
	if h.udpLast == nil || h.udpLastPort != p.dst.Port() {
		c := h.udpFind(p.dst.Port())
		if c == nil {
			return 0
		}
		warm = c.warm
	}
	if warm == nil {
		return 0
	}
	return warm(p.src)
}

func (p *packet) onArrive() {
	n := p.n
	if n.cap != nil && p.frame != 0 {
		f := p.frame
		p.dispatch()
		n.cap.pw.Resolve(f) // after a drop there annotated it
		return
	}
	p.dispatch()
}

func (p *packet) dispatch() {
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
	if h.down {
		n.drop(p, DropHostDown, h.name, "")
		return
	}
	if !p.local && !h.ingressAllowed(p) {
		return
	}
	switch p.proto {
	case UDP:
		if h.udpConn(p.dst.Port()) == nil {
			n.drop(p, DropNoListener, h.name, "")
			return
		}
		n.stats.udpDelivered++
		n.traceData("udp", p.src, p.dst, p.payload)
		h.udpLastRecv(p.src, p.payload) // the socket's handler (udpConn), without reading the socket
		n.release(p)
	case TCP:
		if p.corrupt {
			n.drop(p, DropChecksum, h.name, "")
			return
		}
		h.tcpInput(p)
	case ICMP:
		h.icmpInput(p)
	default:
		n.drop(p, DropNoListener, h.name, "")
	}
}

// drop records, counts, traces and reports a drop, then releases p.
func (n *Network) drop(p *packet, r Reason, where, rule string) {
	n.drops[r]++
	if n.capture != nil && p.frame == 0 && p.origin != nil {
		// Dropped by its sender (egress firewall, host down) before entering any segment: a record
		// on the segment it was routed to, marked as never on the wire, so that the capture shows it.
		c := n.captured(p, p.origin)
		c.Note = NoteNotSent
		p.frame = n.capture(c)
	}
	d := Drop{At: n.s.Now(), Reason: r, Rule: rule, Where: where, Proto: p.proto, Src: p.src, Dst: p.dst, Len: len(p.payload), Frame: p.frame, From: p.origFrom()}
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
