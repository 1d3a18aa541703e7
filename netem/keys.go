package netem

import (
	"encoding/binary"
	"net/netip"
)

// Map keys for the per-packet lookups (conntrack, NAT mappings and filters, per-flow arrival
// order). netem carries IPv4 only (sendFrom drops anything else), so an address and port pack
// into 48 bits of a uint64; maps keyed by integers hash far faster than maps keyed by structs of
// netip.AddrPort, which Go hashes field by field.

// v4bits returns a's 32 bits, or 0 when a is not an IPv4 address (the zero AddrPort a NAT
// mapping key uses for "any remote").
func v4bits(a netip.Addr) uint64 {
	if !a.Is4() {
		return 0
	}
	b := a.As4()
	return uint64(binary.BigEndian.Uint32(b[:]))
}

// ap48 packs an IPv4 address and port.
func ap48(ap netip.AddrPort) uint64 { return v4bits(ap.Addr())<<16 | uint64(ap.Port()) }

// ctKey is a conntrack flow of one protocol: the remote end and the host's port.
func ctKey(local uint16, remote netip.AddrPort) uint64 { return ap48(remote)<<16 | uint64(local) }

// pairKey is a protocol and two endpoints: a NAT mapping's key (protocol, internal endpoint,
// remote as the mapping behaviour keeps it) and a segment's flow (source, destination).
type pairKey struct{ a, b uint64 }

func keyPair(proto Proto, a, b netip.AddrPort) pairKey {
	return pairKey{ap48(a)<<8 | uint64(proto), ap48(b)}
}

// mapKey finds an outbound flow's mapping: the remote is zero (EIM), its address (ADM) or its
// address and port (APDM).
type mapKey = pairKey

// flowKey is a (source, destination) pair on a segment.
type flowKey = pairKey
