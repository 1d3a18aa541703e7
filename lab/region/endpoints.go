package region

import (
	"encoding/binary"
	"iter"
	"net/netip"
)

// endpoints maps UDP endpoints to clients. IPv4 endpoints (all of the simulation's, most real
// ones) are keyed by one integer, address and port, which the map hashes and compares inline;
// a netip.AddrPort key costs a call for each hash and comparison and takes three times the
// room in the map's groups. At 100,000 viewers this lookup runs for every datagram a region
// receives. Other endpoints (IPv6) have a map of their own.
type endpoints struct {
	v4    map[uint64]*client
	other map[netip.AddrPort]*client
}

func newEndpoints() endpoints {
	return endpoints{v4: map[uint64]*client{}, other: map[netip.AddrPort]*client{}}
}

func v4key(ep netip.AddrPort) (uint64, bool) {
	a := ep.Addr()
	if !a.Is4() {
		return 0, false
	}
	b := a.As4()
	return uint64(binary.BigEndian.Uint32(b[:]))<<16 | uint64(ep.Port()), true
}

func (e *endpoints) get(ep netip.AddrPort) *client {
	if k, ok := v4key(ep); ok {
		return e.v4[k]
	}
	return e.other[ep]
}

func (e *endpoints) set(ep netip.AddrPort, cl *client) {
	if k, ok := v4key(ep); ok {
		e.v4[k] = cl
		return
	}
	e.other[ep] = cl
}

func (e *endpoints) del(ep netip.AddrPort) {
	if k, ok := v4key(ep); ok {
		delete(e.v4, k)
		return
	}
	delete(e.other, ep)
}

func (e *endpoints) len() int { return len(e.v4) + len(e.other) }

func (e *endpoints) clear() {
	clear(e.v4)
	clear(e.other)
}

// all yields every endpoint and its client in no particular order, as ranging over a map does.
func (e *endpoints) all() iter.Seq2[netip.AddrPort, *client] {
	return func(yield func(netip.AddrPort, *client) bool) {
		for k, cl := range e.v4 {
			var a [4]byte
			binary.BigEndian.PutUint32(a[:], uint32(k>>16))
			if !yield(netip.AddrPortFrom(netip.AddrFrom4(a), uint16(k)), cl) {
				return
			}
		}
		for ep, cl := range e.other {
			if !yield(ep, cl) {
				return
			}
		}
	}
}
