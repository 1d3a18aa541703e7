package netem

import (
	"net/netip"
	"sort"

	"gridlab/sim"
)

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
		if !r.expired(m, now) {
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

// NATOptions returns the router's NAT behaviours with defaults filled in.
func (r *Router) NATOptions() NATOptions { return r.opt }

// FlushNAT forgets every dynamic mapping (static forwards and 1:1 NAT stay), as a router reboot
// or "conntrack -F" does: packets of existing flows from outside are dropped until the inside
// sends again, and then get new mappings.
func (r *Router) FlushNAT() {
	clear(r.byInt)
	clear(r.byExt)
}

func (r *Router) expired(m *natMapping, now sim.Time) bool {
	if m.proto == UDP {
		return now.Sub(m.lastOut) >= r.opt.UDPTimeout
	}
	return m.open == 0 && now.Sub(m.lastActive) >= r.opt.TCPTimeout
}

func (r *Router) remove(m *natMapping) {
	delete(r.byInt, m.key)
	delete(r.byExt, portKey{m.proto, m.ext})
}

// fromInside handles a packet that crossed the Inside segment to the router.
func (r *Router) fromInside(p *packet) {
	n := r.n
	src := p.src
	if p.dst.Addr() == r.outsideAddr {
		switch {
		case !r.nat:
			n.drop(p, DropNoListener, r.name, "")
		case !r.hairpin:
			n.drop(p, DropHairpin, r.name, "")
		case r.snat(p):
			r.noteNAT(p, src, p.dst)
			r.dnat(p)
		}
		return
	}
	if r.nat {
		if !r.snat(p) {
			return
		}
		r.noteNAT(p, src, p.dst)
	}
	n.forward(p, r.outside)
}

// noteNAT remembers, for the capture, the endpoints p had before this router translated it.
func (r *Router) noteNAT(p *packet, src, dst netip.AddrPort) {
	if p.src != src {
		p.natR, p.natSrc = r, src
	}
	if p.dst != dst {
		p.natR, p.natDst = r, dst
	}
}

// inward sends a translated packet across the Inside segment; dst is its destination before.
func (r *Router) inward(p *packet, dst netip.AddrPort) {
	r.noteNAT(p, p.src, dst)
	r.n.forward(p, r.inside)
}

// fromOutside handles a packet addressed to the router's OutsideAddr.
func (r *Router) fromOutside(p *packet) { r.dnat(p) }

// keyFor returns the mapping key of an outbound flow under the router's mapping behaviour.
func (r *Router) keyFor(proto Proto, internal, remote netip.AddrPort) mapKey {
	switch r.opt.Mapping {
	case AddressDependent:
		remote = netip.AddrPortFrom(remote.Addr(), 0)
	case AddressPortDependent:
	default:
		remote = netip.AddrPort{}
	}
	return keyPair(proto, internal, remote)
}

// snat rewrites the source of an outbound packet, creating or refreshing its mapping. It reports
// false (having dropped p) when no mapping can be made.
func (r *Router) snat(p *packet) bool {
	p.keepFrom() // all of a NAT's source rewrites happen here
	if p.proto == ICMP {
		return r.snatICMP(p)
	}
	if port, ok := r.fwdByTo[epKey{p.proto, p.src}]; ok {
		p.src = netip.AddrPortFrom(r.outsideAddr, port)
		return true
	}
	if r.opt.OneToOne.IsValid() && p.src.Addr() == r.opt.OneToOne {
		p.src = netip.AddrPortFrom(r.outsideAddr, p.src.Port())
		return true
	}
	now := r.n.s.Now()
	k := r.keyFor(p.proto, p.src, p.dst)
	m := r.byInt[k]
	if m != nil && r.expired(m, now) {
		r.remove(m)
		m = nil
	}
	if m == nil {
		if r.opt.MaxMappings > 0 && len(r.byExt) >= r.opt.MaxMappings {
			r.sweep(now)
			if len(r.byExt) >= r.opt.MaxMappings {
				r.n.drop(p, DropNATTableFull, r.name, "")
				return false
			}
		}
		ext, ok := r.allocPort(p.proto, p.src.Port(), now)
		if !ok {
			r.n.drop(p, DropNATNoMapping, r.name, "")
			return false
		}
		m = &natMapping{key: k, proto: p.proto, internal: p.src, ext: ext, remotes: map[uint64]natFlow{}}
		r.byInt[k] = m
		r.byExt[portKey{p.proto, ext}] = m
		r.created++
	}
	m.lastOut, m.lastActive = now, now
	rk := ap48(p.dst)
	if p.proto != TCP {
		if _, ok := m.remotes[rk]; !ok {
			m.remotes[rk] = natFlow{}
		}
		p.src = netip.AddrPortFrom(r.outsideAddr, m.ext)
		return true
	}
	f := m.remotes[rk]
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
	m.remotes[rk] = f
	p.src = netip.AddrPortFrom(r.outsideAddr, m.ext)
	return true
}

// sweep removes expired mappings (when the table is full). Deleting while ranging over a map is
// order-independent.
func (r *Router) sweep(now sim.Time) {
	for _, m := range r.byExt {
		if r.expired(m, now) {
			r.remove(m)
		}
	}
}

func (m *natMapping) closeFlow(f *natFlow) {
	if f.established && !f.closed {
		m.open--
	}
	f.closed = true
}

// allocPort picks the external port for a new mapping in the internal port's range (1-1023 or
// 1024-65535, RFC 4787 REQ-3): the internal port if free (unless PortRandom), else the next free
// one (PortPreserve) or a seeded random free one.
func (r *Router) allocPort(proto Proto, want uint16, now sim.Time) (uint16, bool) {
	lo, hi := 1024, 65535
	if want < 1024 {
		lo, hi = 1, 1023
	}
	p := int(want)
	if p < lo {
		p = lo
	}
	free := func(port int) bool {
		k := portKey{proto, uint16(port)}
		if _, fwd := r.fwdByPort[k]; fwd {
			return false
		}
		m := r.byExt[k]
		if m != nil && r.expired(m, now) {
			r.remove(m)
			m = nil
		}
		return m == nil
	}
	if r.opt.Ports != PortPreserve {
		if r.opt.Ports == PortPreserveRandom && free(p) {
			return uint16(p), true
		}
		// A few random tries, then a scan from a random start: deterministic either way.
		for range 16 {
			if c := lo + r.ports.IntN(hi-lo+1); free(c) {
				return uint16(c), true
			}
		}
		p = lo + r.ports.IntN(hi-lo+1)
	}
	for i := 0; i <= hi-lo; i++ {
		if free(p) {
			return uint16(p), true
		}
		p++
		if p > hi {
			p = lo
		}
	}
	return 0, false
}

// admits applies the filtering behaviour to a packet from remote for mapping m.
func (r *Router) admits(m *natMapping, remote netip.AddrPort) bool {
	switch r.opt.Filtering {
	case EndpointIndependent:
		return true
	case AddressDependent:
		for ep := range m.remotes { // existence only: order does not matter
			if ep>>16 == v4bits(remote.Addr()) {
				return true
			}
		}
		return false
	}
	_, ok := m.remotes[ap48(remote)]
	return ok
}

// dnat translates a packet addressed to OutsideAddr (from outside, or hairpinned) and sends it
// across the Inside segment: port forwards first, then NAT mappings with their filter, then the
// 1:1 host.
func (r *Router) dnat(p *packet) {
	n := r.n
	if p.proto == ICMP {
		r.dnatICMP(p)
		return
	}
	dst := p.dst
	k := portKey{p.proto, p.dst.Port()}
	if to, ok := r.fwdByPort[k]; ok {
		p.dst = to
		r.inward(p, dst)
		return
	}
	if !r.nat {
		n.drop(p, DropNoListener, r.name, "")
		return
	}
	now := n.s.Now()
	m := r.byExt[k]
	if m != nil && r.expired(m, now) {
		r.remove(m)
		m = nil
	}
	if m == nil {
		if o := r.opt.OneToOne; o.IsValid() {
			p.dst = netip.AddrPortFrom(o, p.dst.Port())
			r.inward(p, dst)
			return
		}
		n.drop(p, DropNATNoMapping, r.name, "")
		return
	}
	if !r.admits(m, p.src) {
		n.drop(p, DropNATFiltered, r.name, "")
		return
	}
	if p.proto == TCP {
		rk := ap48(p.src)
		f := m.remotes[rk]
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
		m.remotes[rk] = f
	}
	p.dst = m.internal
	r.inward(p, dst)
}

// snatICMP translates an ICMP error sent from inside about a packet that came in through the
// NAT (RFC 5508): the quoted destination becomes the mapping's external endpoint.
func (r *Router) snatICMP(p *packet) bool {
	ext, ok := netip.AddrPort{}, false
	if port, fwd := r.fwdByTo[epKey{p.iproto, p.idst}]; fwd {
		ext, ok = netip.AddrPortFrom(r.outsideAddr, port), true
	} else if r.opt.OneToOne.IsValid() && p.idst.Addr() == r.opt.OneToOne {
		ext, ok = netip.AddrPortFrom(r.outsideAddr, p.idst.Port()), true
	} else if m := r.byInt[r.keyFor(p.iproto, p.idst, p.isrc)]; m != nil && !r.expired(m, r.n.s.Now()) {
		ext, ok = netip.AddrPortFrom(r.outsideAddr, m.ext), true
	}
	if !ok {
		r.n.drop(p, DropNATNoMapping, r.name, "")
		return false
	}
	p.idst = ext
	p.src = netip.AddrPortFrom(r.outsideAddr, 0)
	return true
}

// dnatICMP translates an ICMP error arriving for a datagram an inside host sent: the quoted
// source (the mapping's external endpoint) goes back to the internal one.
func (r *Router) dnatICMP(p *packet) {
	n := r.n
	k := portKey{p.iproto, p.isrc.Port()}
	var internal netip.AddrPort
	if to, ok := r.fwdByPort[k]; ok {
		internal = to
	} else if m := r.byExt[k]; m != nil && !r.expired(m, n.s.Now()) {
		internal = m.internal
	} else if o := r.opt.OneToOne; o.IsValid() {
		internal = netip.AddrPortFrom(o, p.isrc.Port())
	} else {
		n.drop(p, DropNATNoMapping, r.name, "")
		return
	}
	p.isrc = internal
	p.dst = netip.AddrPortFrom(internal.Addr(), 0)
	n.forward(p, r.inside)
}
