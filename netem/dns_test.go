package netem_test

import (
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gridlab/netem"
)

// DNS travels as packets: a lookup's time is the round trip to the resolver plus its delay, and
// everything that breaks UDP breaks DNS, with the drops' reasons and glibc's retry schedule
// (5 s per attempt, 2 attempts, the same query resent).
func TestDNSAsPackets(t *testing.T) {
	type result struct {
		at    time.Duration
		addrs []netip.Addr
		err   error
	}
	for _, tc := range []struct {
		what   string
		name   string
		setup  func(w *world, inet, home *netem.Segment, cli *netem.Host)
		want   []netip.Addr
		at     time.Duration // when the callback runs
		err    string        // DNSError.Err, "" for success
		drops  []netem.Reason
		sentAt int // queries that reach the wire
	}{
		{what: "an answer takes a round trip through the home NAT plus the resolver's delay",
			name: "grid.example.org", want: []netip.Addr{ip("203.0.113.7")}, at: 2*(ms+20*ms) + 3*ms},
		{what: "an unknown name is NXDOMAIN after one round trip", name: "nope.example.org",
			at: 2*(ms+20*ms) + 3*ms, err: "no such host"},
		{what: "a slow resolver is just slower", name: "grid.example.org", want: []netip.Addr{ip("203.0.113.7")},
			setup: func(w *world, _, _ *netem.Segment, _ *netem.Host) { w.n.DNS().SetDelay(2 * time.Second) },
			at:    2*(ms+20*ms) + 2*time.Second},
		{what: "a resolver slower than the attempt timeout gets the query twice; the first answer counts, the second finds the socket closed",
			name: "grid.example.org", want: []netip.Addr{ip("203.0.113.7")},
			setup: func(w *world, _, _ *netem.Segment, _ *netem.Host) { w.n.DNS().SetDelay(6 * time.Second) },
			at:    2*(ms+20*ms) + 6*time.Second, drops: []netem.Reason{netem.DropNoListener}},
		{what: "an unreachable resolver: both attempts dropped at its host, timeout after 10 s",
			name: "grid.example.org", err: "i/o timeout", at: netem.ResolverTimeout,
			setup: func(w *world, _, _ *netem.Segment, _ *netem.Host) { w.n.DNS().SetUnreachable(true) },
			drops: []netem.Reason{netem.DropHostDown, netem.DropHostDown}},
		{what: "a firewall dropping outbound DNS on the client",
			name: "grid.example.org", err: "i/o timeout", at: netem.ResolverTimeout,
			setup: func(w *world, _, _ *netem.Segment, cli *netem.Host) {
				cli.AddRule(netem.Rule{Name: "no-dns", Dir: netem.Out, Proto: netem.UDP, RemotePorts: netem.PortRange{Lo: 53}, Action: netem.Deny})
			},
			drops: []netem.Reason{netem.DropFirewall, netem.DropFirewall}},
		{what: "a firewall rejecting outbound DNS fails both attempts at once, connection refused",
			name: "grid.example.org", err: "read: connection refused", at: 0,
			setup: func(w *world, _, _ *netem.Segment, cli *netem.Host) {
				cli.AddRule(netem.Rule{Name: "no-dns", Dir: netem.Out, Proto: netem.UDP, RemotePorts: netem.PortRange{Lo: 53}, Action: netem.Reject})
			},
			drops: []netem.Reason{netem.DropFirewall, netem.DropFirewall}},
		{what: "a partition between the home and the internet",
			name: "grid.example.org", err: "i/o timeout", at: netem.ResolverTimeout,
			setup: func(w *world, inet, home *netem.Segment, _ *netem.Host) {
				require.NoError(t, w.n.Partition(inet, home))
			},
			drops: []netem.Reason{netem.DropPartition, netem.DropPartition}},
		{what: "a lost query is resent after 5 s",
			name: "grid.example.org", want: []netip.Addr{ip("203.0.113.7")},
			at: 5*time.Second + 2*(ms+20*ms) + 3*ms,
			setup: func(w *world, _, home *netem.Segment, _ *netem.Host) {
				home.SetDirParams(netem.LinkUp, netem.LinkParams{Latency: ms, Loss: 1})
				w.s.After(time.Second, "test/heal", func() { home.SetDirParams(netem.LinkUp, netem.LinkParams{Latency: ms}) })
			},
			drops: []netem.Reason{netem.DropLoss}},
	} {
		t.Run(tc.what, func(t *testing.T) {
			w := newWorld(t, 1)
			inet := w.n.AddSegment("internet", pfx("0.0.0.0/0"), netem.LinkParams{Latency: 20 * ms})
			home, _ := w.home("home", inet, "203.0.113.10", netem.LinkParams{Latency: ms}, true)
			cli := w.host("cli", home, "192.168.1.2")
			res := w.n.DNS()
			res.Add("grid.example.org", ip("203.0.113.7"))
			res.SetDelay(3 * ms)
			require.NoError(t, res.PlaceDefault())
			assert.Equal(t, ap("192.0.2.53:53"), res.Addr(), "the default place: 192.0.2.53 on the top network")
			if tc.setup != nil {
				tc.setup(w, inet, home, cli)
			}
			var r *result
			cli.Resolve(tc.name, func(addrs []netip.Addr, err error) {
				require.Nil(t, r, "the callback runs once")
				r = &result{w.s.Now().Duration(), addrs, err}
			})
			w.run()
			require.NotNil(t, r, "the callback ran")
			assert.Equal(t, tc.at, r.at, "callback time")
			if tc.err == "" {
				require.NoError(t, r.err)
				assert.Equal(t, tc.want, r.addrs)
			} else {
				var de *net.DNSError
				require.True(t, errors.As(r.err, &de), "a *net.DNSError: %v", r.err)
				assert.Equal(t, tc.err, de.Err)
				assert.Equal(t, tc.err == "i/o timeout", de.IsTimeout)
				assert.Equal(t, tc.err == "no such host", de.IsNotFound)
			}
			var reasons []netem.Reason
			for _, d := range w.drops {
				reasons = append(reasons, d.Reason)
				assert.True(t, d.Src.Port() == 53 || d.Dst.Port() == 53 || d.Proto == netem.ICMP, "only DNS packets are dropped: %s", d)
			}
			assert.Equal(t, tc.drops, reasons, "the drops and their reasons")
		})
	}
}

// The resolver is a host: NAT in front of it needs a port forward, and placing it checks the
// address.
func TestResolverPlacement(t *testing.T) {
	w := newWorld(t, 1)
	inet := w.n.AddSegment("internet", pfx("0.0.0.0/0"), netem.LinkParams{Latency: 20 * ms})
	dc := w.n.AddSegment("dc", pfx("10.5.0.0/16"), netem.LinkParams{Latency: ms})
	_, err := w.n.AddRouter(netem.RouterConfig{Name: "dc-router", Inside: dc, InsideAddr: ip("10.5.0.1"),
		Outside: inet, OutsideAddr: ip("203.0.113.50"), NAT: true,
		Forwards: []netem.Forward{{Proto: netem.UDP, Port: 53, To: ap("10.5.0.53:53")}}})
	require.NoError(t, err)
	res := w.n.DNS()
	require.ErrorContains(t, res.Place(dc, ip("10.6.0.1")), "outside segment dc")
	require.NoError(t, res.Place(dc, ip("10.5.0.53")))
	require.ErrorContains(t, res.Place(dc, ip("10.5.0.54")), "already placed")
	assert.Equal(t, "dns-resolver", res.Host().Name())
	res.Add("grid.example.org", ip("203.0.113.7"))
	cli := w.host("cli", inet, "198.51.100.9")
	var got []netip.Addr
	var gotErr error
	// Clients on the internet use the router's public address (the forward) — the netem resolver
	// address is the inside one, so a client outside sees no answer: its query goes to 10.5.0.53,
	// which the internet does not route.
	cli.Resolve("grid.example.org", func(a []netip.Addr, err error) { got, gotErr = a, err })
	w.run()
	assert.Nil(t, got)
	require.Error(t, gotErr)
	assert.Equal(t, netem.DropNoHost, w.drops[0].Reason, "10.5.0.53 is not on the internet")
	// A client inside the data centre reaches it directly.
	in := w.host("in", dc, "10.5.0.9")
	in.Resolve("GRID.example.org.", func(a []netip.Addr, err error) { got, gotErr = a, err })
	w.run()
	require.NoError(t, gotErr)
	assert.Equal(t, []netip.Addr{ip("203.0.113.7")}, got, "case-insensitive, trailing dot ignored")

	// No top network has room at the default address: a clear error, not a panic.
	w2 := newWorld(t, 1)
	lan := w2.n.AddSegment("lan", pfx("10.0.0.0/28"), netem.LinkParams{})
	h := w2.host("h", lan, "10.0.0.2")
	var e2 error
	h.Resolve("x.example", func(_ []netip.Addr, err error) { e2 = err })
	w2.run()
	require.Error(t, e2)
	assert.Contains(t, e2.Error(), "place the resolver explicitly")
}

// Same seed, same lookups: the same query IDs, ports and trace.
func TestDNSDeterministic(t *testing.T) {
	hash := func(seed uint64) uint64 {
		w := newWorld(t, seed)
		inet := w.n.AddSegment("internet", pfx("0.0.0.0/0"), netem.LinkParams{Latency: 20 * ms, Jitter: 5 * ms, Loss: 0.3})
		cli := w.host("cli", inet, "198.51.100.9")
		w.n.DNS().Add("a.example", ip("203.0.113.1"))
		for range 20 {
			cli.Resolve("a.example", func([]netip.Addr, error) {})
		}
		w.run()
		return w.s.TraceHash()
	}
	assert.Equal(t, hash(1), hash(1))
	assert.NotEqual(t, hash(1), hash(2))
}
