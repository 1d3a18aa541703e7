package netem

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"time"

	"gridlab/sim"
)

// NAT timers.
const (
	// UDPMappingTimeout is how long a UDP mapping lives without outbound traffic
	// (RFC 4787 REQ-5 minimum; Linux nf_conntrack_udp_timeout_stream).
	UDPMappingTimeout = 120 * time.Second
	// TCPTransitoryTimeout is how long a TCP mapping lives once no connection through it is open
	// (RFC 5382 transitory minimum).
	TCPTransitoryTimeout = 240 * time.Second
)

// Forward is a static port forward: OutsideAddr:Port → To for one protocol.
type Forward struct {
	Proto Proto
	Port  uint16
	To    netip.AddrPort
}

// RouterConfig describes a router joining its Inside segment (of which it is the default gateway)
// to its Outside segment.
type RouterConfig struct {
	Name        string
	Inside      *Segment
	InsideAddr  netip.Addr
	Outside     *Segment
	OutsideAddr netip.Addr
	NAT         bool
	Hairpin     bool
	Forwards    []Forward
}

// Router joins two segments, optionally with NAT (see the package documentation).
type Router struct {
	n           *Network
	name        string
	inside      *Segment
	outside     *Segment
	insideAddr  netip.Addr
	outsideAddr netip.Addr
	nat         bool
	hairpin     bool
	forwards    []Forward
	fwdByPort   map[portKey]netip.AddrPort
	fwdByTo     map[epKey]uint16
	byInt       map[epKey]*natMapping
	byExt       map[portKey]*natMapping
	created     uint64
}

type portKey struct {
	proto Proto
	port  uint16
}

type epKey struct {
	proto Proto
	ep    netip.AddrPort
}

type natMapping struct {
	proto      Proto
	internal   netip.AddrPort
	ext        uint16
	lastOut    sim.Time // last outbound packet (UDP expiry)
	lastActive sim.Time // last packet either way (TCP transitory expiry)
	open       int      // TCP flows established and not closed
	remotes    map[netip.AddrPort]natFlow
}

// natFlow is the filter entry for one remote; for TCP it also follows the connection.
type natFlow struct {
	established, finOut, finIn, closed bool
}

// AddRouter adds a router. It fails on a duplicate name, missing or identical segments, addresses
// outside their segment or already in use, a second gateway for the Inside segment, or invalid
// forwards (protocol not UDP/TCP, port 0, duplicate protocol+port, To outside the Inside prefix).
func (n *Network) AddRouter(cfg RouterConfig) (*Router, error) {
	if cfg.Name == "" {
		return nil, errors.New("netem: router name is empty")
	}
	if n.nodeNames[cfg.Name] {
		return nil, fmt.Errorf("netem: router %q: duplicate name", cfg.Name)
	}
	in, out := cfg.Inside, cfg.Outside
	if in == nil || out == nil || in.n != n || out.n != n || in == out {
		return nil, fmt.Errorf("netem: router %q: needs two distinct segments of this network", cfg.Name)
	}
	if in.gateway != nil {
		return nil, fmt.Errorf("netem: router %q: segment %s already has gateway %s", cfg.Name, in.name, in.gateway.name)
	}
	if !cfg.InsideAddr.IsValid() || !in.prefix.Contains(cfg.InsideAddr) || !in.addrFree(cfg.InsideAddr) {
		return nil, fmt.Errorf("netem: router %q: inside address %s is outside %s (%s) or in use", cfg.Name, cfg.InsideAddr, in.name, in.prefix)
	}
	if !cfg.OutsideAddr.IsValid() || !out.prefix.Contains(cfg.OutsideAddr) || !out.addrFree(cfg.OutsideAddr) {
		return nil, fmt.Errorf("netem: router %q: outside address %s is outside %s (%s) or in use", cfg.Name, cfg.OutsideAddr, out.name, out.prefix)
	}
	r := &Router{
		n: n, name: cfg.Name, inside: in, outside: out,
		insideAddr: cfg.InsideAddr, outsideAddr: cfg.OutsideAddr,
		nat: cfg.NAT, hairpin: cfg.Hairpin,
		forwards:  append([]Forward(nil), cfg.Forwards...),
		fwdByPort: map[portKey]netip.AddrPort{},
		fwdByTo:   map[epKey]uint16{},
		byInt:     map[epKey]*natMapping{},
		byExt:     map[portKey]*natMapping{},
	}
	for i, f := range cfg.Forwards {
		if f.Proto != UDP && f.Proto != TCP {
			return nil, fmt.Errorf("netem: router %q: forward %d: protocol %s", cfg.Name, i, f.Proto)
		}
		if f.Port == 0 || f.To.Port() == 0 {
			return nil, fmt.Errorf("netem: router %q: forward %d: port 0", cfg.Name, i)
		}
		if !f.To.Addr().IsValid() || !in.prefix.Contains(f.To.Addr()) {
			return nil, fmt.Errorf("netem: router %q: forward %d: %s is not inside %s (%s)", cfg.Name, i, f.To, in.name, in.prefix)
		}
		k := portKey{f.Proto, f.Port}
		if _, dup := r.fwdByPort[k]; dup {
			return nil, fmt.Errorf("netem: router %q: forward %d: %s port %d forwarded twice", cfg.Name, i, f.Proto, f.Port)
		}
		r.fwdByPort[k] = f.To
		if _, ok := r.fwdByTo[epKey{f.Proto, f.To}]; !ok {
			r.fwdByTo[epKey{f.Proto, f.To}] = f.Port
		}
	}
	n.nodeNames[cfg.Name] = true
	n.routers = append(n.routers, r)
	in.gateway = r
	in.routers[cfg.InsideAddr] = r
	out.routers[cfg.OutsideAddr] = r
	if !cfg.NAT {
		out.transit = append(out.transit, r)
	}
	return r, nil
}

// Name returns the router's name.
func (r *Router) Name() string { return r.name }

// InsideAddr returns the router's address on its Inside segment.
func (r *Router) InsideAddr() netip.Addr { return r.insideAddr }

// OutsideAddr returns the router's address on its Outside segment (the public address with NAT).
func (r *Router) OutsideAddr() netip.Addr { return r.outsideAddr }

// NATMapping is one live NAT mapping.
type NATMapping struct {
	Proto    Proto
	Internal netip.AddrPort
	External netip.AddrPort
}

// Mappings returns the router's live NAT mappings, sorted by protocol and external port.
func (r *Router) Mappings() []NATMapping {
	now := r.n.s.Now()
	var out []NATMapping
	for _, m := range r.byExt {
		if !m.expired(now) {
			out = append(out, NATMapping{m.proto, m.internal, netip.AddrPortFrom(r.outsideAddr, m.ext)})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Proto != out[j].Proto {
			return out[i].Proto < out[j].Proto
		}
		return out[i].External.Port() < out[j].External.Port()
	})
	return out
}

func (m *natMapping) expired(now sim.Time) bool {
	if m.proto == UDP {
		return now.Sub(m.lastOut) >= UDPMappingTimeout
	}
	return m.open == 0 && now.Sub(m.lastActive) >= TCPTransitoryTimeout
}

func (r *Router) remove(m *natMapping) {
	delete(r.byInt, epKey{m.proto, m.internal})
	delete(r.byExt, portKey{m.proto, m.ext})
}

// fromInside handles a packet that crossed the Inside segment to the router.
func (r *Router) fromInside(p *packet) {
	n := r.n
	if p.dst.Addr() == r.outsideAddr {
		switch {
		case !r.nat:
			n.drop(p, DropNoListener, r.name, "")
		case !r.hairpin:
			n.drop(p, DropHairpin, r.name, "")
		case r.snat(p):
			r.dnat(p)
		}
		return
	}
	if r.nat && !r.snat(p) {
		return
	}
	n.forward(p, r.outside)
}

// fromOutside handles a packet addressed to the router's OutsideAddr.
func (r *Router) fromOutside(p *packet) { r.dnat(p) }

// snat rewrites the source of an outbound packet, creating or refreshing its mapping. It reports
// false (having dropped p) when no external port is free.
func (r *Router) snat(p *packet) bool {
	if port, ok := r.fwdByTo[epKey{p.proto, p.src}]; ok {
		p.src = netip.AddrPortFrom(r.outsideAddr, port)
		return true
	}
	now := r.n.s.Now()
	k := epKey{p.proto, p.src}
	m := r.byInt[k]
	if m != nil && m.expired(now) {
		r.remove(m)
		m = nil
	}
	if m == nil {
		ext, ok := r.allocPort(p.proto, p.src.Port(), now)
		if !ok {
			r.n.drop(p, DropNATNoMapping, r.name, "")
			return false
		}
		m = &natMapping{proto: p.proto, internal: p.src, ext: ext, remotes: map[netip.AddrPort]natFlow{}}
		r.byInt[k] = m
		r.byExt[portKey{p.proto, ext}] = m
		r.created++
	}
	m.lastOut, m.lastActive = now, now
	f := m.remotes[p.dst]
	if p.proto == TCP {
		if f.closed && p.flags&flagSYN != 0 {
			f = natFlow{} // a new connection on the same 4-tuple
		}
		if p.flags&flagRST != 0 {
			m.closeFlow(&f)
		}
		if p.flags&flagFIN != 0 {
			f.finOut = true
			if f.finIn {
				m.closeFlow(&f)
			}
		}
	}
	m.remotes[p.dst] = f
	p.src = netip.AddrPortFrom(r.outsideAddr, m.ext)
	return true
}

func (m *natMapping) closeFlow(f *natFlow) {
	if f.established && !f.closed {
		m.open--
	}
	f.closed = true
}

// allocPort picks the external port for a new mapping: the internal port if free, else the next
// free one in the same range (1-1023 or 1024-65535, RFC 4787 REQ-3), wrapping around.
func (r *Router) allocPort(proto Proto, want uint16, now sim.Time) (uint16, bool) {
	lo, hi := 1024, 65535
	if want < 1024 {
		lo, hi = 1, 1023
	}
	p := int(want)
	if p < lo {
		p = lo
	}
	for i := 0; i <= hi-lo; i++ {
		k := portKey{proto, uint16(p)}
		if _, fwd := r.fwdByPort[k]; !fwd {
			m := r.byExt[k]
			if m != nil && m.expired(now) {
				r.remove(m)
				m = nil
			}
			if m == nil {
				return uint16(p), true
			}
		}
		p++
		if p > hi {
			p = lo
		}
	}
	return 0, false
}

// dnat translates a packet addressed to OutsideAddr (from outside, or hairpinned) and sends it
// across the Inside segment: port forwards first, then NAT mappings with their filter.
func (r *Router) dnat(p *packet) {
	n := r.n
	k := portKey{p.proto, p.dst.Port()}
	if to, ok := r.fwdByPort[k]; ok {
		p.dst = to
		n.forward(p, r.inside)
		return
	}
	if !r.nat {
		n.drop(p, DropNoListener, r.name, "")
		return
	}
	now := n.s.Now()
	m := r.byExt[k]
	if m != nil && m.expired(now) {
		r.remove(m)
		m = nil
	}
	if m == nil {
		n.drop(p, DropNATNoMapping, r.name, "")
		return
	}
	f, ok := m.remotes[p.src]
	if !ok {
		n.drop(p, DropNATFiltered, r.name, "")
		return
	}
	if p.proto == TCP {
		m.lastActive = now
		if p.flags&flagRST != 0 {
			m.closeFlow(&f)
		} else if !f.established && !f.closed {
			f.established = true
			m.open++
		}
		if p.flags&flagFIN != 0 {
			f.finIn = true
			if f.finOut {
				m.closeFlow(&f)
			}
		}
		m.remotes[p.src] = f
	}
	p.dst = m.internal
	n.forward(p, r.inside)
}
