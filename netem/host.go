package netem

import (
	"errors"
	"fmt"
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

// Host is a machine with one address on one segment.
type Host struct {
	n     *Network
	name  string
	seg   *Segment
	addr  netip.Addr
	rules []ruleEntry
	down  bool

	conntrack bool
	ct        map[ctKey]ctEntry
	ctPruneAt int

	udp     map[uint16]*UDPConn
	nextUDP uint16

	listeners map[uint16]*TCPListener
	conns     map[connKey]*TCPConn
	tcpPorts  map[uint16]int // local port -> number of connections using it
	nextTCP   uint16
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
		n: n, name: name, seg: seg, addr: addr,
		udp: map[uint16]*UDPConn{}, nextUDP: ephemeralLo,
		listeners: map[uint16]*TCPListener{}, conns: map[connKey]*TCPConn{},
		tcpPorts: map[uint16]int{}, nextTCP: ephemeralLo,
	}
	n.nodeNames[name] = true
	n.hosts = append(n.hosts, h)
	n.hostByName[name] = h
	seg.hosts[addr] = h
	return h, nil
}

// Name returns the host's name.
func (h *Host) Name() string { return h.name }

// Addr returns the host's address.
func (h *Host) Addr() netip.Addr { return h.addr }

// Segment returns the segment the host is on.
func (h *Host) Segment() *Segment { return h.seg }

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
	h      *Host
	local  netip.AddrPort
	recv   func(from netip.AddrPort, payload []byte)
	onErr  func(to netip.AddrPort, err error)
	closed bool
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
		p, ok := nextFree(&h.nextUDP, func(p uint16) bool { return h.udp[p] == nil })
		if !ok {
			return nil, ErrAddrNotAvailable
		}
		port = p
	} else if h.udp[port] != nil {
		return nil, ErrAddrInUse
	}
	if recv == nil {
		recv = func(netip.AddrPort, []byte) {}
	}
	c := &UDPConn{h: h, local: netip.AddrPortFrom(h.addr, port), recv: recv}
	h.udp[port] = c
	return c, nil
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
	n := c.h.n
	p := n.newPacket()
	p.proto = UDP
	p.src, p.dst = c.local, to
	p.payload = append(p.payload[:0], b...)
	n.stats.udpSent++
	n.sendFrom(c.h, p)
}

// LocalAddr returns the socket's address.
func (c *UDPConn) LocalAddr() netip.AddrPort { return c.local }

// Close unbinds the socket; datagrams still in flight to it are dropped with DropNoListener.
func (c *UDPConn) Close() {
	if c.closed {
		return
	}
	c.closed = true
	if c.h.udp[c.local.Port()] == c {
		delete(c.h.udp, c.local.Port())
	}
}
