// Package addrmap owns Map, a map from UDP endpoints (address and port) to values, built for the
// lookup every datagram pays: a region finding the client a datagram came from, the lab's
// observer finding the viewer. It answers exactly as a Go map keyed by netip.AddrPort would;
// only how fast differs.
package addrmap
