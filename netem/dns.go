package netem

import (
	"net"
	"net/netip"
	"strings"
	"time"
)

// ResolverTimeout is how long a lookup waits for an unreachable resolver before failing: Go's
// and glibc's defaults, 5 s per attempt and 2 attempts.
const ResolverTimeout = 10 * time.Second

// DefaultResolverDelay is a lookup's answer time when none is configured (a resolver on the LAN).
const DefaultResolverDelay = time.Millisecond

const labelDNS = "netem/dns"

// Resolver is the network's DNS: names to addresses, answered after a delay, NXDOMAIN for names
// it does not know, and a timeout when it is unreachable. It models the resolver's answer as a
// whole (no DNS packets cross the segments); a host that is down times out.
type Resolver struct {
	n           *Network
	records     map[string][]netip.Addr
	delay       time.Duration
	unreachable bool
	lookups     uint64
	failures    uint64
}

// DNS returns the network's resolver.
func (n *Network) DNS() *Resolver {
	if n.dns == nil {
		n.dns = &Resolver{n: n, records: map[string][]netip.Addr{}, delay: DefaultResolverDelay}
	}
	return n.dns
}

func canonical(name string) string { return strings.TrimSuffix(strings.ToLower(name), ".") }

// Add adds addresses to a name (case-insensitive, a trailing dot ignored).
func (r *Resolver) Add(name string, addrs ...netip.Addr) {
	k := canonical(name)
	r.records[k] = append(r.records[k], addrs...)
}

// Records returns the addresses a name has now, for configuration-time lookups that take no
// virtual time (a region resolving its ExternalHostName when it starts).
func (r *Resolver) Records(name string) []netip.Addr {
	return append([]netip.Addr(nil), r.records[canonical(name)]...)
}

// Remove forgets a name: lookups get NXDOMAIN.
func (r *Resolver) Remove(name string) { delete(r.records, canonical(name)) }

// SetDelay sets how long an answer takes.
func (r *Resolver) SetDelay(d time.Duration) { r.delay = d }

// SetUnreachable makes lookups time out after ResolverTimeout (true) or be answered (false).
func (r *Resolver) SetUnreachable(u bool) { r.unreachable = u }

// Resolve looks name up and calls cb from an event: with the addresses (in the order added), or
// with a *net.DNSError as Go's resolver reports it: IsNotFound ("no such host") for an unknown
// name, IsTimeout ("i/o timeout") when the resolver is unreachable or the host is down. An IP
// literal resolves to itself at once.
func (h *Host) Resolve(name string, cb func(addrs []netip.Addr, err error)) {
	n := h.n
	r := n.DNS()
	r.lookups++
	if a, err := netip.ParseAddr(name); err == nil {
		n.s.After(0, labelDNS, func() { cb([]netip.Addr{a}, nil) })
		return
	}
	if r.unreachable || h.down {
		r.failures++
		n.s.After(ResolverTimeout, labelDNS, func() {
			n.s.Trace("dns/timeout", 0)
			cb(nil, &net.DNSError{Err: "i/o timeout", Name: name, IsTimeout: true})
		})
		return
	}
	addrs, ok := r.records[canonical(name)]
	if !ok || len(addrs) == 0 {
		r.failures++
		n.s.After(r.delay, labelDNS, func() {
			n.s.Trace("dns/nxdomain", 0)
			cb(nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true})
		})
		return
	}
	out := append([]netip.Addr(nil), addrs...)
	n.s.After(r.delay, labelDNS, func() {
		n.s.Trace("dns/answer", uint64(len(out)))
		cb(out, nil)
	})
}
