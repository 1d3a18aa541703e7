package netem

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"syscall"
)

// netError is an error with Linux's wording that also matches the errno with errors.Is.
type netError struct {
	msg     string
	errno   syscall.Errno
	timeout bool
}

func (e *netError) Error() string        { return e.msg }
func (e *netError) Is(target error) bool { return target == e.errno }
func (e *netError) Timeout() bool        { return e.timeout }

func newNetError(msg string, errno syscall.Errno, timeout bool) error {
	return &netError{msg: msg, errno: errno, timeout: timeout}
}

// Errors reported by sockets. Each also matches its errno with errors.Is (e.g.
// errors.Is(ErrRefused, syscall.ECONNREFUSED)).
var (
	ErrRefused          = newNetError("connect: connection refused", syscall.ECONNREFUSED, false)
	ErrReset            = newNetError("connection reset by peer", syscall.ECONNRESET, false)
	ErrTimeout          = newNetError("connection timed out", syscall.ETIMEDOUT, true)
	ErrAddrInUse        = newNetError("bind: address already in use", syscall.EADDRINUSE, false)
	ErrAddrNotAvailable = newNetError("connect: cannot assign requested address", syscall.EADDRNOTAVAIL, false)
	// ErrPortUnreachable is what a UDP socket's error handler receives when an ICMP port
	// unreachable answers one of its datagrams (Linux reports it on a connected socket).
	ErrPortUnreachable = newNetError("recvfrom: connection refused", syscall.ECONNREFUSED, false)
)

// Host is a machine with one or more interfaces, each an address on a segment. The first
// interface (given to AddHost) is the primary one: Addr and Segment return it, and the default
// route leaves through it. A packet to any of the host's addresses is delivered to the host
// whichever interface it arrives on (Linux's weak host model); sockets are bound to all addresses.
type Host struct {
	// What delivering a datagram reads comes first, within 64 bytes: at scale every delivery
	// finds its host out of the cache, and one line is all it then costs.
	n           *Network
	down        bool
	conntrack   bool
	udpLastPort uint16      // udpLast's port
	rules       []ruleEntry // delivery reads only their number unless there are some
	udpLast     *UDPConn    // the socket the last datagram went to (udpConn)
	udpLastRecv func(from netip.AddrPort, payload []byte)
	udpLastWarm func(from netip.AddrPort) byte // udpLast's warm (SetWarm)

	name   string
	ifaces []Interface
	// ifaces' storage while the host has one: no separate allocation to miss. It keeps the
	// primary interface (Addr, Segment) when more are added, as ifaces then moves.
	iface0 [1]Interface
	routes []Route

	dnsRand *rand.Rand // DNS query IDs, stream "netem/dns/<host>"
	issRand *rand.Rand // TCP initial sequence numbers, stream "netem/tcp-iss/<host>"

	ct        [2]map[uint64]*ctEntry // UDP and TCP flows by ctKey
	ctPruneAt int

	udp map[uint32]*UDPConn // by port (a 4-byte key takes the map fast path)
	// udpSlots caches udp by port, direct-mapped (port % udpSlotCount); it is made when the
	// host binds a second socket. A grid host's regions take turns at udpLast, and every turn
	// was a map lookup (two per datagram, with the read-ahead's).
	udpSlots *[udpSlotCount]*UDPConn
	nextUDP  uint16
	nextTCP  uint16 // beside nextUDP: the two share one word

	listeners map[uint16]*TCPListener // nil until the host listens
	conns     connTable

	// Host is 256 bytes, a size class whose objects all start on a 64-byte boundary, so that the
	// fields delivery reads share one cache line (TestHostLayout): pad it back if it shrinks.
}

// AddHost adds a host with address addr on segment seg. It fails on a duplicate host or router
// name, an address already used on that segment, or an address outside the segment's prefix.
// The same address may exist on different segments (every home LAN has its 192.168.1.2).
func (n *Network) AddHost(name string, seg *Segment, addr netip.Addr) (*Host, error) {
	if name == "" {
		return nil, errors.New("netem: host name is empty")
	}
	if n.nodeNames[name] {
		return nil, fmt.Errorf("netem: host %q: duplicate name", name)
	}
	if seg == nil || seg.n != n {
		return nil, fmt.Errorf("netem: host %q: no segment", name)
	}
	if !addr.IsValid() || !seg.prefix.Contains(addr) {
		return nil, fmt.Errorf("netem: host %q: address %s is outside segment %s (%s)", name, addr, seg.name, seg.prefix)
	}
	if !seg.addrFree(addr) {
		return nil, fmt.Errorf("netem: host %q: address %s already in use on segment %s", name, addr, seg.name)
	}
	h := &Host{
		n: n, name: name, iface0: [1]Interface{{seg, addr}},
		udp: map[uint32]*UDPConn{}, nextUDP: ephemeralLo, nextTCP: ephemeralLo,
	}
	h.ifaces = h.iface0[:]
	n.nodeNames[name] = true
	n.hosts = append(n.hosts, h)
	n.hostByName[name] = h
	seg.addNode(addr, h, nil)
	return h, nil
}

// Name returns the host's name.
func (h *Host) Name() string { return h.name }

// Addr returns the host's primary address (that of its first interface).
func (h *Host) Addr() netip.Addr { return h.iface0[0].Addr }

// Segment returns the segment of the host's primary interface.
func (h *Host) Segment() *Segment { return h.iface0[0].Segment }

// Interface is one of a host's addresses on a segment. Two interfaces may share a segment (two
// addresses on one LAN).
type Interface struct {
	Segment *Segment
	Addr    netip.Addr
}

// Route sends packets for Prefix out of the host's interface on Segment: directly when the
// destination is inside Segment's prefix, else to Segment's gateway router.
type Route struct {
	Prefix  netip.Prefix
	Segment *Segment
}

// AddInterface gives the host another address, on seg. It fails when addr is outside seg's
// prefix or already used on seg (by this host or another node).
func (h *Host) AddInterface(seg *Segment, addr netip.Addr) error {
	if seg == nil || seg.n != h.n {
		return fmt.Errorf("netem: host %q: interface: no segment", h.name)
	}
	if !addr.IsValid() || !seg.prefix.Contains(addr) {
		return fmt.Errorf("netem: host %q: address %s is outside segment %s (%s)", h.name, addr, seg.name, seg.prefix)
	}
	if !seg.addrFree(addr) {
		return fmt.Errorf("netem: host %q: address %s already in use on segment %s", h.name, addr, seg.name)
	}
	h.ifaces = append(h.ifaces, Interface{seg, addr})
	seg.addNode(addr, h, nil)
	h.noteSendPath()
	return nil
}

// Interfaces returns the host's interfaces, the primary one first.
func (h *Host) Interfaces() []Interface { return append([]Interface(nil), h.ifaces...) }

// Addrs returns the host's addresses, the primary one first.
func (h *Host) Addrs() []netip.Addr {
	out := make([]netip.Addr, len(h.ifaces))
	for i, f := range h.ifaces {
		out[i] = f.Addr
	}
	return out
}

// HasAddr reports whether a is one of the host's addresses.
func (h *Host) HasAddr(a netip.Addr) bool {
	for _, f := range h.ifaces {
		if f.Addr == a {
			return true
		}
	}
	return false
}

// AddRoute adds a route for prefix (masked) through the host's interface on seg. Routing picks
// the most specific prefix among the routes and the interfaces' own prefixes (a route wins a tie
// with an interface's prefix, an earlier route a tie with a later one); with no match, packets
// leave through the primary interface (the default route). It fails when the host has no
// interface on seg or the prefix is invalid.
func (h *Host) AddRoute(prefix netip.Prefix, seg *Segment) error {
	if !prefix.IsValid() {
		return fmt.Errorf("netem: host %q: route: invalid prefix", h.name)
	}
	if seg == nil || h.ifaceOn(seg) < 0 {
		name := "<nil>"
		if seg != nil {
			name = seg.name
		}
		return fmt.Errorf("netem: host %q: route %s: the host has no interface on segment %s", h.name, prefix, name)
	}
	h.routes = append(h.routes, Route{prefix.Masked(), seg})
	h.noteSendPath()
	return nil
}

// Routes returns the host's routes in the order added (not the interfaces' own prefixes).
func (h *Host) Routes() []Route { return append([]Route(nil), h.routes...) }

func (h *Host) ifaceOn(seg *Segment) int {
	for i, f := range h.ifaces {
		if f.Segment == seg {
			return i
		}
	}
	return -1
}

// route returns the interface a packet to dst leaves through.
func (h *Host) route(dst netip.Addr) *Interface {
	if len(h.ifaces) == 1 && len(h.routes) == 0 {
		return &h.ifaces[0]
	}
	best, bits := &h.ifaces[0], -1
	for i := range h.routes {
		r := &h.routes[i]
		if r.Prefix.Bits() > bits && r.Prefix.Contains(dst) {
			best, bits = &h.ifaces[h.ifaceOn(r.Segment)], r.Prefix.Bits()
		}
	}
	for i := range h.ifaces {
		f := &h.ifaces[i]
		if b := f.Segment.prefix.Bits(); b > bits && f.Segment.prefix.Contains(dst) {
			best, bits = f, b
		}
	}
	return best
}

// SourceFor returns the source address the host uses to reach dst: the address of the interface
// its route table picks.
func (h *Host) SourceFor(dst netip.Addr) netip.Addr { return h.route(dst).Addr }

// Network returns the network the host belongs to.
func (h *Host) Network() *Network { return h.n }

// Direction is the direction a firewall rule applies to.
type Direction uint8

// Directions. A rule with Dir 0 applies to both.
const (
	In  Direction = 1
	Out Direction = 2
)

// String returns "in", "out" or "any".
func (d Direction) String() string {
	switch d {
	case In:
		return "in"
	case Out:
		return "out"
	}
	return "any"
}

// UDPConn is a bound UDP socket.
type UDPConn struct {
	// What WriteTo reads on its direct path comes first (see direct).
	closed bool
	// direct: the host is up and has one interface, no routes, no firewall rules and no
	// connection tracking, so a datagram leaves from local through seg with nothing to check and
	// WriteTo need not read the host at all. At 100,000 viewers the sending host is out of the
	// cache for almost every datagram: reading it was one of WriteTo's two cache misses. The host
	// keeps the flag current (noteSendPath) whenever one of those conditions changes.
	direct bool
	n      *Network
	seg    *Segment // the host's primary segment
	local  netip.AddrPort
	recv   func(from netip.AddrPort, payload []byte)
	warm   func(from netip.AddrPort) byte // SetWarm
	h      *Host
	onErr  func(to netip.AddrPort, err error)
}

// WarmTo reads ahead what WriteTo(…, to) will read: the socket's first line and, on its direct
// path, its segment's record of the flow's latest arrival (fifo.go). It changes nothing.
func (c *UDPConn) WarmTo(to netip.AddrPort) byte {
	b := byte(c.local.Port())
	if c.direct && c.seg.fifo && to.Addr().Is4() {
		if s := c.seg.last.peek(keyPair(0, c.local, to)); s != nil {
			b += byte(s.at)
		}
	}
	return b
}

// sendsDirect reports whether a datagram from h needs nothing from h but its primary segment
// and address: no down host, no route choice, no egress firewall.
func (h *Host) sendsDirect() bool {
	return !h.down && len(h.ifaces) == 1 && len(h.routes) == 0 && len(h.rules) == 0 && !h.conntrack
}

// noteSendPath updates the direct flag of h's sockets after a change to what sendsDirect reads.
// Every socket gets the same value, so the map's order does not matter.
func (h *Host) noteSendPath() {
	d := h.sendsDirect()
	for _, c := range h.udp {
		c.direct = d
	}
}

// SetErrorHandler makes the socket report ICMP errors about its datagrams, as a connected UDP
// socket (or one with IP_RECVERR) does on Linux: f gets the datagram's destination and
// ErrPortUnreachable. Without a handler the errors are ignored, like an unconnected socket's.
func (c *UDPConn) SetErrorHandler(f func(to netip.AddrPort, err error)) { c.onErr = f }

// ListenUDP binds a UDP socket. Port 0 picks the next free ephemeral port (32768-60999, in
// sequence, per host). recv is called for every datagram delivered; payload is valid only during
// the call. It fails with ErrAddrInUse when the port is taken.
func (h *Host) ListenUDP(port uint16, recv func(from netip.AddrPort, payload []byte)) (*UDPConn, error) {
	if port == 0 {
		p, ok := nextFree(&h.nextUDP, func(p uint16) bool { return h.udp[uint32(p)] == nil })
		if !ok {
			return nil, ErrAddrNotAvailable
		}
		port = p
	} else if h.udp[uint32(port)] != nil {
		return nil, ErrAddrInUse
	}
	if recv == nil {
		recv = func(netip.AddrPort, []byte) {}
	}
	c := &UDPConn{h: h, n: h.n, seg: h.Segment(), direct: h.sendsDirect(), local: netip.AddrPortFrom(h.Addr(), port), recv: recv}
	h.udp[uint32(port)] = c
	if len(h.udp) > 1 && h.udpSlots == nil {
		h.udpSlots = new([udpSlotCount]*UDPConn)
	}
	if h.udpSlots != nil {
		h.udpSlots[port%udpSlotCount] = c
	}
	return c, nil
}

// udpSlotCount is the size of a host's socket cache (Host.udpSlots): the 16 regions of a
// standalone grid, on consecutive ports, each have a slot.
const udpSlotCount = 32

// udpFind returns the socket bound to port, or nil: from the host's cache of sockets if it
// has one and the port's slot holds it, else from the map (refilling the slot).
func (h *Host) udpFind(port uint16) *UDPConn {
	s := h.udpSlots
	if s != nil {
		if c := s[port%udpSlotCount]; c != nil && c.local.Port() == port {
			return c
		}
	}
	c := h.udp[uint32(port)]
	if c != nil && s != nil {
		s[port%udpSlotCount] = c
	}
	return c
}

// nextFree returns the next port in the ephemeral range, starting at *next, for which free is true.
func nextFree(next *uint16, free func(uint16) bool) (uint16, bool) {
	for i := 0; i <= ephemeralHi-ephemeralLo; i++ {
		p := *next
		if p < ephemeralLo || p > ephemeralHi {
			p = ephemeralLo
		}
		*next = p + 1
		if free(p) {
			return p, true
		}
	}
	return 0, false
}

// WriteTo sends a datagram (b is copied). Fire-and-forget: drops are reported through OnDrop.
// Writing on a closed socket does nothing.
func (c *UDPConn) WriteTo(b []byte, to netip.AddrPort) {
	if c.closed {
		return
	}
	n := c.n
	p := n.newPacket()
	p.proto = UDP
	p.src, p.dst = c.local, to
	p.payload = append(p.payload[:0], b...)
	n.stats.udpSent++
	if c.direct && to.Addr().Is4() {
		// sendFrom's work when the host has nothing to decide (see direct).
		p.origin, p.fromAt = c.seg, fromSrc
		n.forward(p, c.seg)
		return
	}
	if len(c.h.ifaces) > 1 { // the source is the address of the interface the route picks
		p.src = netip.AddrPortFrom(c.h.route(to.Addr()).Addr, c.local.Port())
	}
	n.sendFrom(c.h, p)
}

// LocalAddr returns the socket's address: the host's primary address and the port. The socket
// receives datagrams to the port on every address of the host; it sends from the address of the
// interface the route to the destination picks.
func (c *UDPConn) LocalAddr() netip.AddrPort { return c.local }

// Close unbinds the socket; datagrams still in flight to it are dropped with DropNoListener.
func (c *UDPConn) Close() {
	if c.closed {
		return
	}
	c.closed = true
	if c.h.udp[uint32(c.local.Port())] == c {
		delete(c.h.udp, uint32(c.local.Port()))
	}
	if s := c.h.udpSlots; s != nil && s[c.local.Port()%udpSlotCount] == c {
		s[c.local.Port()%udpSlotCount] = nil
	}
	if c.h.udpLast == c {
		c.h.udpLast, c.h.udpLastPort, c.h.udpLastRecv, c.h.udpLastWarm = nil, 0, nil, nil
	}
}

// SetWarm gives the socket a function that reads ahead what its handler will read for a
// datagram from from, without changing anything (see sim.Warmer): the network calls it for the
// datagrams about to arrive, a tick's worth at a time, so that their cache misses overlap. It
// returns any byte it read.
func (c *UDPConn) SetWarm(warm func(from netip.AddrPort) byte) {
	c.warm = warm
	if c.h.udpLast == c {
		c.h.udpLastWarm = warm
	}
}

// udpConn returns the socket bound to port, or nil. Most hosts (a viewer's) have one socket
// that gets every datagram: the last one found answers without a map lookup, and its port and
// handler, copied into the host, without reading the socket (a cache miss per datagram at scale).
func (h *Host) udpConn(port uint16) *UDPConn {
	if c := h.udpLast; c != nil && h.udpLastPort == port {
		return c
	}
	c := h.udpFind(port)
	if c != nil {
		h.udpLast, h.udpLastPort, h.udpLastRecv, h.udpLastWarm = c, port, c.recv, c.warm
	}
	return c
}
