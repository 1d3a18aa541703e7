package netem

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"gridlab/sim"
)

// Stub resolver defaults, those of glibc (resolv.conf(5): "timeout" defaults to RES_TIMEOUT = 5 s,
// "attempts" to RES_DFLRETRY = 2) and of Go's own resolver (5 s, 2 attempts): with one name server
// a query is sent, resent after 5 s with the same ID, and the lookup fails 5 s later.
const (
	ResolverAttemptTimeout = 5 * time.Second
	ResolverAttempts       = 2
	// ResolverTimeout is how long a lookup waits for a resolver that never answers.
	ResolverTimeout = ResolverAttempts * ResolverAttemptTimeout
)

// DefaultResolverDelay is the resolver's own answer time when none is configured (a cache hit).
const DefaultResolverDelay = time.Millisecond

// ResolverHostName is the name of the host the resolver runs on.
const ResolverHostName = "dns-resolver"

// DefaultResolverAddr is where the resolver is placed when it was not placed explicitly: on the
// top network (the first segment that is no router's inside), at this address when the
// segment's prefix contains it, otherwise at the segment's 53rd address (e.g. 10.0.0.53 in
// 10.0.0.0/16).
var DefaultResolverAddr = netip.MustParseAddr("192.0.2.53")

const (
	labelDNS       = "netem/dns"
	labelDNSRetry  = "netem/dns/retry"
	labelDNSAnswer = "netem/dns/answer"
)

// Resolver is the network's DNS server: a host (ResolverHostName) listening on UDP port 53 that
// answers A queries from its records after a delay, NXDOMAIN for names it does not know, and
// nothing while unreachable (its host is down). Host.Resolve is the stub resolver: it sends real
// DNS queries across the network, so loss, firewalls, NAT and partitions affect lookups as they
// would for real, and every lost query or answer is a Drop with its reason.
type Resolver struct {
	n           *Network
	records     map[string][]netip.Addr
	delay       time.Duration
	unreachable bool
	host        *Host
	conn        *UDPConn
	lookups     uint64
	failures    uint64
	queries     uint64 // queries answered
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

// SetDelay sets how long the resolver takes to answer a query it received.
func (r *Resolver) SetDelay(d time.Duration) { r.delay = d }

// SetUnreachable takes the resolver's host down (true: queries are dropped there with
// DropHostDown and lookups time out after ResolverTimeout) or brings it back (false).
func (r *Resolver) SetUnreachable(u bool) {
	r.unreachable = u
	if r.host != nil {
		r.host.SetDown(u)
	}
}

// Place puts the resolver on seg at addr. It can be placed once; Resolve places it at the
// default (see DefaultResolverAddr) if it was not.
func (r *Resolver) Place(seg *Segment, addr netip.Addr) error {
	if r.host != nil {
		return fmt.Errorf("netem: the resolver is already placed at %s on %s", r.host.Addr(), r.host.Segment().name)
	}
	h, err := r.n.AddHost(ResolverHostName, seg, addr)
	if err != nil {
		return fmt.Errorf("resolver: %w", err)
	}
	c, err := h.ListenUDP(dnsPort, r.serve)
	if err != nil {
		return fmt.Errorf("resolver: %w", err)
	}
	r.host, r.conn = h, c
	h.SetDown(r.unreachable)
	return nil
}

// PlaceDefault places the resolver at its default address (see DefaultResolverAddr) unless it
// is placed already.
func (r *Resolver) PlaceDefault() error {
	if r.host != nil {
		return nil
	}
	var top *Segment
	for _, g := range r.n.segments {
		if g.gateway == nil {
			top = g
			break
		}
	}
	if top == nil {
		return errors.New("netem: no network to place the resolver on")
	}
	a := DefaultResolverAddr
	if !top.prefix.Contains(a) {
		a = top.prefix.Addr()
		for range 53 {
			a = a.Next()
		}
	}
	if !top.prefix.Contains(a) || !top.addrFree(a) {
		return fmt.Errorf("netem: resolver: default address %s is outside or taken on %s (%s); place the resolver explicitly", a, top.name, top.prefix)
	}
	return r.Place(top, a)
}

// Host returns the resolver's host (nil until placed): firewall rules, SetDown and partitions
// apply to it as to any host.
func (r *Resolver) Host() *Host { return r.host }

// Addr returns the resolver's address and port (invalid until placed).
func (r *Resolver) Addr() netip.AddrPort {
	if r.host == nil {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(r.host.Addr(), dnsPort)
}

// serve answers one query after the resolver's delay. Malformed queries with a readable header
// get FORMERR; anything shorter is ignored, as a real server does.
func (r *Resolver) serve(from netip.AddrPort, b []byte) {
	q, err := parseDNS(b)
	var resp dnsMsg
	switch {
	case err != nil && len(b) >= dnsHeaderLen:
		resp = dnsMsg{id: uint16(b[0])<<8 | uint16(b[1]), flags: dnsQR | dnsRA | dnsRcodeFormErr}
	case err != nil || q.flags&dnsQR != 0:
		return
	case q.flags>>11&0xf != 0: // only standard queries (opcode 0)
		resp = dnsMsg{id: q.id, flags: dnsQR | dnsRA | dnsRcodeNotImp | q.flags&(0xf<<11)}
	case len(q.questions) != 1:
		resp = dnsMsg{id: q.id, flags: dnsQR | dnsRA | dnsRcodeFormErr}
	default:
		qq := q.questions[0]
		resp = dnsMsg{id: q.id, flags: dnsQR | dnsRA | q.flags&dnsRD, questions: q.questions}
		addrs, ok := r.records[canonical(qq.name)]
		switch {
		case !ok || len(addrs) == 0:
			resp.flags |= dnsRcodeNXDomain
		case qq.qclass == dnsClassINET && qq.qtype == dnsTypeA:
			for _, a := range addrs {
				if a.Is4() && len(resp.answers) < 16 {
					v := a.As4()
					resp.answers = append(resp.answers, dnsRR{name: qq.name, rtype: dnsTypeA, class: dnsClassINET, ttl: dnsAnswerTTL, data: v[:]})
				}
			}
		}
		// Other types of a known name: NOERROR without answers (NODATA).
	}
	out, err := appendDNS(nil, &resp)
	if err != nil || len(out) > dnsMaxUDP {
		return
	}
	r.queries++
	c := r.conn
	r.n.s.After(r.delay, labelDNSAnswer, func() { c.WriteTo(out, from) })
}

// lookup is one Host.Resolve in progress: the stub resolver's state.
type lookup struct {
	h        *Host
	name     string
	cb       func([]netip.Addr, error)
	conn     *UDPConn
	server   netip.AddrPort
	query    []byte
	id       uint16
	attempts int
	timer    sim.Timer
	done     bool
}

// Resolve looks name up and calls cb from an event: with the addresses (in the order added), or
// with a *net.DNSError as Go's resolver reports it: IsNotFound ("no such host") for NXDOMAIN or
// a name without A records, IsTimeout ("i/o timeout") when no answer came within
// ResolverAttempts × ResolverAttemptTimeout, IsTemporary ("server misbehaving") for SERVFAIL,
// "read: connection refused" when an ICMP port unreachable (a reject rule) ended the last attempt.
// An IP literal resolves to itself at once. The query is a DNS message (RFC 1035) sent from a new
// ephemeral UDP port with a seeded random ID to the resolver's port 53 (placing the resolver at
// its default address first if needed); answers from another address, with another ID or
// question are ignored, as glibc does. An ICMP error about the query ends the attempt at once.
func (h *Host) Resolve(name string, cb func(addrs []netip.Addr, err error)) {
	n := h.n
	r := n.DNS()
	r.lookups++
	if a, err := netip.ParseAddr(name); err == nil {
		n.s.After(0, labelDNS, func() { cb([]netip.Addr{a}, nil) })
		return
	}
	fail := func(msg string) {
		r.failures++
		n.s.After(0, labelDNS, func() { cb(nil, &net.DNSError{Err: msg, Name: name}) })
	}
	if err := r.PlaceDefault(); err != nil {
		fail(err.Error())
		return
	}
	l := &lookup{h: h, name: name, cb: cb, server: r.Addr()}
	if h.dnsRand == nil {
		h.dnsRand = n.s.Rand("netem/dns/" + h.name)
	}
	l.id = uint16(h.dnsRand.Uint32())
	q := dnsMsg{id: l.id, flags: dnsRD, questions: []dnsQuestion{{strings.TrimSuffix(name, "."), dnsTypeA, dnsClassINET}}}
	b, err := appendDNS(nil, &q)
	if err != nil || len(strings.TrimSuffix(name, ".")) == 0 {
		fail("no such host") // not a valid name: glibc fails without sending
		return
	}
	l.query = b
	c, err := h.ListenUDP(0, l.recv)
	if err != nil {
		fail(err.Error())
		return
	}
	c.SetErrorHandler(func(netip.AddrPort, error) { l.attemptOver(true) })
	l.conn = c
	l.send()
}

func (l *lookup) send() {
	l.attempts++
	l.conn.WriteTo(l.query, l.server)
	l.timer = l.h.n.s.After(ResolverAttemptTimeout, labelDNSRetry, l.timedOut)
}

func (l *lookup) timedOut() { l.attemptOver(false) }

// attemptOver ends the current attempt (a timeout, or an ICMP error when refused): resend or
// give up, with the error of the last attempt.
func (l *lookup) attemptOver(refused bool) {
	if l.done {
		return
	}
	l.timer.Stop()
	if l.attempts < ResolverAttempts {
		l.send()
		return
	}
	if refused {
		l.h.n.s.Trace("dns/refused", 0)
		l.finish(nil, &net.DNSError{Err: "read: connection refused", Name: l.name})
		return
	}
	l.h.n.s.Trace("dns/timeout", 0)
	l.finish(nil, &net.DNSError{Err: "i/o timeout", Name: l.name, IsTimeout: true})
}

func (l *lookup) recv(from netip.AddrPort, b []byte) {
	if l.done || from != l.server {
		return
	}
	m, err := parseDNS(b)
	if err != nil || m.id != l.id || m.flags&dnsQR == 0 || len(m.questions) != 1 ||
		canonical(m.questions[0].name) != canonical(l.name) || m.questions[0].qtype != dnsTypeA {
		return
	}
	s := l.h.n.s
	switch m.rcode() {
	case dnsRcodeOK:
		var addrs []netip.Addr
		for _, rr := range m.answers {
			if rr.rtype == dnsTypeA && rr.class == dnsClassINET && len(rr.data) == 4 {
				addrs = append(addrs, netip.AddrFrom4([4]byte(rr.data)))
			}
		}
		if len(addrs) > 0 {
			s.Trace("dns/answer", uint64(len(addrs)))
			l.finish(addrs, nil)
			return
		}
		fallthrough
	case dnsRcodeNXDomain:
		s.Trace("dns/nxdomain", 0)
		l.finish(nil, &net.DNSError{Err: "no such host", Name: l.name, IsNotFound: true})
	default:
		s.Trace("dns/servfail", uint64(m.rcode()))
		l.finish(nil, &net.DNSError{Err: "server misbehaving", Name: l.name, IsTemporary: true})
	}
}

func (l *lookup) finish(addrs []netip.Addr, err error) {
	l.done = true
	l.timer.Stop()
	l.conn.Close()
	if err != nil {
		l.h.n.dns.failures++
	}
	l.cb(addrs, err)
}

// DNSCounters returns the resolver's counts: lookups started, lookups failed, queries answered.
func (r *Resolver) DNSCounters() (lookups, failures, answered uint64) {
	return r.lookups, r.failures, r.queries
}
