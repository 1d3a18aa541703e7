package addrmap

import (
	"encoding/binary"
	"iter"
	"math/bits"
	"net/netip"
)

// Map maps endpoints to values of type V. The zero value is an empty map ready to use; a Map is
// not safe for concurrent use.
//
// IPv4 endpoints, all of a simulation's and most real ones, are packed into one integer key
// (address and port), which a Go map hashes and compares inline; a netip.AddrPort key costs a
// call per hash and comparison and three times the room. Other endpoints (IPv6) have a map of
// their own.
//
// In front of the integer map sits a direct-mapped table, one slot per key hash with no
// probing, sized to about twice the entries: a lookup that hits reads one 16-byte slot, where
// the map reads a control word and then a slot in another cache line. With tens of thousands of
// endpoints neither fits in the CPU's caches, so the table saves a cache miss per datagram. The
// map stays the truth: a key whose slot another key took is found there.
type Map[V any] struct {
	v4    map[uint64]V
	other map[netip.AddrPort]V
	slots []slot[V] // len is a power of two; empty until the first IPv4 key
	shift uint8     // 64 - log2(len(slots))
}

type slot[V any] struct {
	key uint64 // 0: empty (0.0.0.0:0 is never cached; the map answers for it)
	val V
}

func v4key(ep netip.AddrPort) (uint64, bool) {
	a := ep.Addr()
	if !a.Is4() {
		return 0, false
	}
	b := a.As4()
	return uint64(binary.BigEndian.Uint32(b[:]))<<16 | uint64(ep.Port()), true
}

// index is the slot of key. The address alone is Fibonacci-hashed, which spreads consecutive
// addresses (a simulation hands them out in order) evenly over the table; hashing the packed key
// as one number spread them badly (steps of 2^16 through the multiplier left most slots unused).
// The port is mixed in with another odd constant.
func (m *Map[V]) index(key uint64) uint64 {
	return ((key>>16)*0x9E3779B97F4A7C15 ^ (key&0xFFFF)*0xC2B2AE3D27D4EB4F) >> m.shift
}

// Get returns the value for ep and whether there is one.
func (m *Map[V]) Get(ep netip.AddrPort) (V, bool) {
	k, ok := v4key(ep)
	if !ok {
		v, ok := m.other[ep]
		return v, ok
	}
	if len(m.slots) > 0 {
		if s := &m.slots[m.index(k)]; s.key == k && k != 0 {
			return s.val, true
		}
	}
	v, ok := m.v4[k]
	return v, ok
}

// Set sets the value for ep.
func (m *Map[V]) Set(ep netip.AddrPort, v V) {
	k, ok := v4key(ep)
	if !ok {
		if m.other == nil {
			m.other = map[netip.AddrPort]V{}
		}
		m.other[ep] = v
		return
	}
	if m.v4 == nil {
		m.v4 = map[uint64]V{}
	}
	m.v4[k] = v
	if len(m.v4) > len(m.slots)/2 {
		m.grow()
	}
	if k != 0 {
		m.slots[m.index(k)] = slot[V]{key: k, val: v}
	}
}

// grow rebuilds the table at four times the entries. Which of two colliding keys keeps the slot
// depends on the map's order; it changes only which lookups take the slower path, never an
// answer.
func (m *Map[V]) grow() {
	n := max(64, 1<<bits.Len(uint(4*len(m.v4)-1)))
	m.slots = make([]slot[V], n)
	m.shift = uint8(64 - bits.TrailingZeros(uint(n)))
	for k, v := range m.v4 {
		if k != 0 {
			m.slots[m.index(k)] = slot[V]{key: k, val: v}
		}
	}
}

// Delete removes ep.
func (m *Map[V]) Delete(ep netip.AddrPort) {
	k, ok := v4key(ep)
	if !ok {
		delete(m.other, ep)
		return
	}
	delete(m.v4, k)
	if len(m.slots) > 0 {
		if s := &m.slots[m.index(k)]; s.key == k {
			*s = slot[V]{}
		}
	}
}

// Len returns the number of endpoints.
func (m *Map[V]) Len() int { return len(m.v4) + len(m.other) }

// Clear removes every endpoint.
func (m *Map[V]) Clear() {
	clear(m.v4)
	clear(m.other)
	clear(m.slots)
}

// All yields every endpoint and its value in no particular order, as ranging over a map does.
func (m *Map[V]) All() iter.Seq2[netip.AddrPort, V] {
	return func(yield func(netip.AddrPort, V) bool) {
		for k, v := range m.v4 {
			var a [4]byte
			binary.BigEndian.PutUint32(a[:], uint32(k>>16))
			if !yield(netip.AddrPortFrom(netip.AddrFrom4(a), uint16(k)), v) {
				return
			}
		}
		for ep, v := range m.other {
			if !yield(ep, v) {
				return
			}
		}
	}
}
