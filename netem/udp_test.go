package netem_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gridlab/netem"
	"gridlab/sim"
)

// A datagram arrives after exactly the sum of the latencies of the segments it crosses.
func TestUDPLatencyIsSumOfSegmentLatencies(t *testing.T) {
	cases := []struct {
		name string
		want time.Duration
		// build returns the sending host, the receiving host and the address to send to.
		build func(w *world) (*netem.Host, *netem.Host, string)
	}{
		{"same segment", 10 * ms, func(w *world) (*netem.Host, *netem.Host, string) {
			g := w.n.AddSegment("lan", pfx("10.0.0.0/24"), netem.LinkParams{Latency: 10 * ms})
			return w.host("a", g, "10.0.0.2"), w.host("b", g, "10.0.0.3"), "10.0.0.3:9000"
		}},
		{"home NAT to internet", 32 * ms, func(w *world) (*netem.Host, *netem.Host, string) {
			inet := w.n.AddSegment("internet", pfx("0.0.0.0/0"), netem.LinkParams{Latency: 30 * ms})
			lan, _ := w.home("home", inet, "203.0.113.10", netem.LinkParams{Latency: 2 * ms}, true)
			return w.host("viewer", lan, "192.168.1.2"), w.host("srv", inet, "198.51.100.5"), "198.51.100.5:9000"
		}},
		{"home NAT to forwarded server LAN", 33 * ms, func(w *world) (*netem.Host, *netem.Host, string) {
			inet := w.n.AddSegment("internet", pfx("0.0.0.0/0"), netem.LinkParams{Latency: 30 * ms})
			lan, _ := w.home("home", inet, "203.0.113.10", netem.LinkParams{Latency: 2 * ms}, true)
			dc := w.n.AddSegment("dc", pfx("10.1.0.0/16"), netem.LinkParams{Latency: 1 * ms})
			_, err := w.n.AddRouter(netem.RouterConfig{Name: "dc-router", Inside: dc, InsideAddr: ip("10.1.0.1"),
				Outside: inet, OutsideAddr: ip("198.51.100.7"), NAT: true,
				Forwards: []netem.Forward{{Proto: netem.UDP, Port: 9000, To: ap("10.1.0.5:9000")}}})
			require.NoError(t, err)
			return w.host("viewer", lan, "192.168.1.2"), w.host("srv", dc, "10.1.0.5"), "198.51.100.7:9000"
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, 1)
			from, to, dst := tc.build(w)
			_, got := w.listen(to, 9000)
			c, err := from.ListenUDP(0, nil)
			require.NoError(t, err)
			w.s.At(sim.Time(time.Second), "test/send", func() { c.WriteTo([]byte("hello"), ap(dst)) })
			w.run()
			require.Len(t, *got, 1, "drops: %v", w.drops)
			assert.Equal(t, "hello", (*got)[0].data)
			assert.Equal(t, tc.want, (*got)[0].at.Sub(sim.Time(time.Second)))
		})
	}
}

// With jitter larger than the spacing of packets, delays vary but packets of one path still
// arrive in the order they were sent, never earlier than latency-jitter (clamped at zero).
func TestJitterNeverReorders(t *testing.T) {
	w := newWorld(t, 7)
	g := w.n.AddSegment("lan", pfx("10.0.0.0/24"), netem.LinkParams{Latency: 20 * ms, Jitter: 30 * ms})
	a, b := w.host("a", g, "10.0.0.2"), w.host("b", g, "10.0.0.3")
	_, got := w.listen(b, 9000)
	c, err := a.ListenUDP(5000, nil)
	require.NoError(t, err)
	const count = 2000
	sent := make([]sim.Time, count)
	for i := range count {
		at := sim.Time(time.Duration(i) * ms)
		sent[i] = at
		w.s.At(at, "test/send", func() {
			c.WriteTo(binary.BigEndian.AppendUint32(nil, uint32(i)), ap("10.0.0.3:9000"))
		})
	}
	w.run()
	require.Len(t, *got, count)
	delays := map[time.Duration]bool{}
	for i, d := range *got {
		require.Equal(t, uint32(i), binary.BigEndian.Uint32([]byte(d.data)), "packet %d out of order", i)
		if i > 0 {
			require.GreaterOrEqual(t, d.at, (*got)[i-1].at)
		}
		delay := d.at.Sub(sent[i])
		require.GreaterOrEqual(t, delay, time.Duration(0))
		delays[delay.Round(ms)] = true
	}
	assert.Greater(t, len(delays), 20, "jitter should spread delays")
}

// Over many packets the delivered fraction matches 1-Loss (within 4 standard deviations), the
// loss drops carry the segment name, and the counters agree.
func TestLossRateMatchesConfiguration(t *testing.T) {
	for _, loss := range []float64{0.01, 0.1, 0.5} {
		t.Run(fmt.Sprint(loss), func(t *testing.T) {
			w := newWorld(t, 42)
			g := w.n.AddSegment("wan", pfx("10.0.0.0/24"), netem.LinkParams{Latency: 5 * ms, Loss: loss})
			a, b := w.host("a", g, "10.0.0.2"), w.host("b", g, "10.0.0.3")
			_, got := w.listen(b, 9000)
			c, err := a.ListenUDP(0, nil)
			require.NoError(t, err)
			const count = 20000
			for range count {
				c.WriteTo([]byte("x"), ap("10.0.0.3:9000"))
			}
			w.run()
			lost := count - len(*got)
			rate := float64(lost) / count
			sigma := 4 * math.Sqrt(loss*(1-loss)/count)
			assert.InDelta(t, loss, rate, sigma)
			assert.Equal(t, uint64(lost), w.counter("drop/loss"))
			assert.Equal(t, uint64(count), w.counter("segment/wan/packets"))
			assert.Equal(t, uint64(len(*got)), w.counter("udp/delivered"))
			require.Len(t, w.drops, lost)
			assert.Equal(t, netem.DropLoss, w.drops[0].Reason)
			assert.Equal(t, "wan", w.drops[0].Where)
		})
	}
}

// Firewall rules: first match decides, no match allows; a drop names its rule and host and is
// counted as drop/firewall/<rule>@<host>.
func TestFirewall(t *testing.T) {
	cases := []struct {
		name     string
		srvRules []netem.Rule
		cliRules []netem.Rule
		wantRule string // "" = delivered
		where    string
	}{
		{name: "no rules allow"},
		{name: "ingress drop on port", srvRules: []netem.Rule{{Name: "block-9000", Dir: netem.In, Proto: netem.UDP, LocalPorts: netem.PortRange{Lo: 9000, Hi: 9000}, Action: netem.Deny}},
			wantRule: "block-9000", where: "srv"},
		{name: "ingress drop other port range", srvRules: []netem.Rule{{Name: "block-high", Dir: netem.In, LocalPorts: netem.PortRange{Lo: 10000, Hi: 20000}, Action: netem.Deny}}},
		{name: "allow before drop", srvRules: []netem.Rule{
			{Name: "allow-lan", Dir: netem.In, Remote: pfx("10.0.0.0/24"), Action: netem.Allow},
			{Name: "drop-all", Dir: netem.In, Action: netem.Deny}}},
		{name: "remote not matching", srvRules: []netem.Rule{{Name: "drop-other", Dir: netem.In, Remote: pfx("172.16.0.0/12"), Action: netem.Deny}}},
		{name: "wrong proto", srvRules: []netem.Rule{{Name: "drop-tcp", Dir: netem.In, Proto: netem.TCP, Action: netem.Deny}}},
		{name: "egress drop by destination", cliRules: []netem.Rule{{Name: "no-srv", Dir: netem.Out, Remote: pfx("10.0.0.3/32"), Action: netem.Deny}},
			wantRule: "no-srv", where: "cli"},
		{name: "egress rule ignored inbound", srvRules: []netem.Rule{{Name: "out-only", Dir: netem.Out, Action: netem.Deny}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, 1)
			g := w.n.AddSegment("lan", pfx("10.0.0.0/24"), netem.LinkParams{Latency: ms})
			cli, srv := w.host("cli", g, "10.0.0.2"), w.host("srv", g, "10.0.0.3")
			for _, r := range tc.srvRules {
				srv.AddRule(r)
			}
			for _, r := range tc.cliRules {
				cli.AddRule(r)
			}
			_, got := w.listen(srv, 9000)
			c, err := cli.ListenUDP(0, nil)
			require.NoError(t, err)
			c.WriteTo([]byte("ping"), ap("10.0.0.3:9000"))
			w.run()
			if tc.wantRule == "" {
				assert.Len(t, *got, 1)
				assert.Empty(t, w.drops)
				return
			}
			assert.Empty(t, *got)
			require.Len(t, w.drops, 1)
			d := w.drops[0]
			assert.Equal(t, netem.DropFirewall, d.Reason)
			assert.Equal(t, tc.wantRule, d.Rule)
			assert.Equal(t, tc.where, d.Where)
			assert.Equal(t, c.LocalAddr(), d.Src)
			assert.Equal(t, uint64(1), w.counter("drop/firewall/"+tc.wantRule+"@"+tc.where))
			assert.Equal(t, uint64(1), w.counter("drop/firewall"))
		})
	}
}

// Removing a rule at a virtual time lets traffic through again.
func TestFirewallRemoveRule(t *testing.T) {
	w := newWorld(t, 1)
	g := w.n.AddSegment("lan", pfx("10.0.0.0/24"), netem.LinkParams{Latency: ms})
	cli, srv := w.host("cli", g, "10.0.0.2"), w.host("srv", g, "10.0.0.3")
	srv.AddRule(netem.Rule{Name: "block", Dir: netem.In, Action: netem.Deny})
	_, got := w.listen(srv, 9000)
	c, _ := cli.ListenUDP(0, nil)
	c.WriteTo([]byte("1"), ap("10.0.0.3:9000"))
	w.s.At(sim.Time(time.Second), "test/unblock", func() { require.True(t, srv.RemoveRule("block")) })
	w.s.At(sim.Time(2*time.Second), "test/send", func() { c.WriteTo([]byte("2"), ap("10.0.0.3:9000")) })
	w.run()
	require.Len(t, *got, 1)
	assert.Equal(t, "2", (*got)[0].data)
}

// Drops for routing failures and closed ports carry their reason and place.
func TestRoutingDrops(t *testing.T) {
	w := newWorld(t, 1)
	inet := w.n.AddSegment("internet", pfx("0.0.0.0/0"), netem.LinkParams{Latency: 10 * ms})
	island := w.n.AddSegment("island", pfx("10.9.0.0/16"), netem.LinkParams{Latency: ms})
	a := w.host("a", inet, "198.51.100.1")
	w.host("b", inet, "198.51.100.2")
	i := w.host("i", island, "10.9.0.2")
	ca, _ := a.ListenUDP(0, nil)
	ci, _ := i.ListenUDP(0, nil)
	ca.WriteTo([]byte("x"), ap("198.51.100.99:1")) // nobody there
	ca.WriteTo([]byte("x"), ap("198.51.100.2:1"))  // host without listener
	ci.WriteTo([]byte("x"), ap("8.8.8.8:53"))      // no gateway
	w.run()
	require.Len(t, w.drops, 3)
	got := map[netem.Reason]string{}
	for _, d := range w.drops {
		got[d.Reason] = d.Where
	}
	assert.Equal(t, map[netem.Reason]string{netem.DropNoHost: "internet", netem.DropNoListener: "b", netem.DropNoRoute: "island"}, got)
}

// Topology errors are reported.
func TestTopologyErrors(t *testing.T) {
	w := newWorld(t, 1)
	g := w.n.AddSegment("lan", pfx("10.0.0.0/24"), netem.LinkParams{})
	inet := w.n.AddSegment("internet", pfx("0.0.0.0/0"), netem.LinkParams{})
	w.host("a", g, "10.0.0.2")
	_, err := w.n.AddHost("a", g, ip("10.0.0.3"))
	assert.ErrorContains(t, err, "duplicate name")
	_, err = w.n.AddHost("b", g, ip("10.0.0.2"))
	assert.ErrorContains(t, err, "already in use")
	_, err = w.n.AddHost("c", g, ip("10.0.1.2"))
	assert.ErrorContains(t, err, "outside")
	_, err = w.n.AddRouter(netem.RouterConfig{Name: "r", Inside: g, InsideAddr: ip("10.0.0.1"), Outside: inet, OutsideAddr: ip("203.0.113.1"),
		Forwards: []netem.Forward{{Proto: netem.UDP, Port: 1, To: ap("192.168.0.1:1")}}})
	assert.ErrorContains(t, err, "not inside")
	_, err = w.n.AddRouter(netem.RouterConfig{Name: "r", Inside: g, InsideAddr: ip("10.0.0.1"), Outside: inet, OutsideAddr: ip("203.0.113.1"), NAT: true})
	require.NoError(t, err)
	_, err = w.n.AddRouter(netem.RouterConfig{Name: "r2", Inside: g, InsideAddr: ip("10.0.0.254"), Outside: inet, OutsideAddr: ip("203.0.113.2")})
	assert.ErrorContains(t, err, "already has gateway")

	h := w.host("d", g, "10.0.0.4")
	_, err = h.ListenUDP(9000, nil)
	require.NoError(t, err)
	_, err = h.ListenUDP(9000, nil)
	assert.True(t, errors.Is(err, syscall.EADDRINUSE))
	c1, _ := h.ListenUDP(0, nil)
	c2, _ := h.ListenUDP(0, nil)
	assert.Equal(t, uint16(32768), c1.LocalAddr().Port())
	assert.Equal(t, uint16(32769), c2.LocalAddr().Port())
}

// Lowering the latency mid-flight does not let a later packet overtake an earlier one.
func TestLatencyChangeDoesNotReorder(t *testing.T) {
	w := newWorld(t, 1)
	g := w.n.AddSegment("lan", pfx("10.0.0.0/24"), netem.LinkParams{Latency: 500 * ms})
	a, b := w.host("a", g, "10.0.0.2"), w.host("b", g, "10.0.0.3")
	_, got := w.listen(b, 9000)
	c, _ := a.ListenUDP(0, nil)
	c.WriteTo([]byte("1"), ap("10.0.0.3:9000"))
	w.s.At(sim.Time(10*ms), "test/faster", func() {
		g.SetParams(netem.LinkParams{Latency: 10 * ms})
		c.WriteTo([]byte("2"), ap("10.0.0.3:9000"))
	})
	w.s.At(sim.Time(600*ms), "test/later", func() { c.WriteTo([]byte("3"), ap("10.0.0.3:9000")) })
	w.run()
	require.Len(t, *got, 3)
	assert.Equal(t, []string{"1", "2", "3"}, []string{(*got)[0].data, (*got)[1].data, (*got)[2].data})
	assert.Equal(t, []time.Duration{500 * ms, 500 * ms, 610 * ms}, []time.Duration{(*got)[0].at.Duration(), (*got)[1].at.Duration(), (*got)[2].at.Duration()})
}

// Datagrams reach the socket bound to their port however the host's sockets come and go: two
// sockets taking turns, one closed (its datagrams are then dropped) and its port bound again.
func TestDatagramsReachTheSocketOfTheirPortAsSocketsComeAndGo(t *testing.T) {
	w := newWorld(t, 1)
	g := w.n.AddSegment("lan", pfx("10.0.0.0/24"), netem.LinkParams{Latency: ms})
	srv := w.host("srv", g, "10.0.0.3")
	a, gotA := w.listen(srv, 9000)
	_, gotB := w.listen(srv, 9001)
	c, err := w.host("client", g, "10.0.0.2").ListenUDP(0, nil)
	require.NoError(t, err)
	send := func(at time.Duration, port uint16, what string) {
		w.s.At(sim.Time(at), "test/send", func() { c.WriteTo([]byte(what), ap(fmt.Sprintf("10.0.0.3:%d", port))) })
	}
	send(10*ms, 9000, "a1")
	send(20*ms, 9001, "b1")
	send(30*ms, 9000, "a2")
	w.s.At(sim.Time(40*ms), "test/close", a.Close)
	send(50*ms, 9000, "lost")
	var gotA2 []string
	w.s.At(sim.Time(60*ms), "test/rebind", func() {
		_, err := srv.ListenUDP(9000, func(_ netip.AddrPort, b []byte) { gotA2 = append(gotA2, string(b)) })
		require.NoError(t, err)
	})
	send(70*ms, 9000, "a3")
	send(80*ms, 9001, "b2")
	w.run()
	var as, bs []string
	for _, d := range *gotA {
		as = append(as, d.data)
	}
	for _, d := range *gotB {
		bs = append(bs, d.data)
	}
	assert.Equal(t, []string{"a1", "a2"}, as, "the first socket on 9000 got what came before it closed")
	assert.Equal(t, []string{"b1", "b2"}, bs)
	assert.Equal(t, []string{"a3"}, gotA2, "the new socket on 9000 gets what came after it was bound")
	require.Len(t, w.drops, 1, "the datagram to the closed port is dropped")
	assert.Equal(t, netem.DropNoListener, w.drops[0].Reason)
}

// Traffic's totals are the ones Counters lists: datagrams sent and delivered, loss, and every
// drop/<reason> (loss, a firewall's and a closed port's here) but not the per-rule counts.
func TestTrafficAgreesWithCounters(t *testing.T) {
	w := newWorld(t, 7)
	g := w.n.AddSegment("wan", pfx("10.0.0.0/24"), netem.LinkParams{Latency: 5 * ms, Loss: 0.2})
	a, b := w.host("a", g, "10.0.0.2"), w.host("b", g, "10.0.0.3")
	b.AddRule(netem.Rule{Name: "no-9001", Dir: netem.In, Proto: netem.UDP, LocalPorts: netem.PortRange{Lo: 9001, Hi: 9001}, Action: netem.Deny})
	w.listen(b, 9000)
	c, err := a.ListenUDP(0, nil)
	require.NoError(t, err)
	for i := range 300 {
		c.WriteTo([]byte("x"), netip.AddrPortFrom(ip("10.0.0.3"), uint16(9000+i%3))) // 9001: firewall, 9002: nobody
	}
	w.run()

	var drops uint64
	for _, r := range []string{"loss", "firewall", "no-listener"} {
		require.NotZero(t, w.counter("drop/"+r), "the test needs a drop/%s", r)
	}
	for _, k := range w.n.Counters() {
		if strings.HasPrefix(k.Name, "drop/") && strings.Count(k.Name, "/") == 1 {
			drops += k.Value
		}
	}
	assert.Equal(t, netem.Traffic{
		UDPSent: w.counter("udp/sent"), UDPDelivered: w.counter("udp/delivered"),
		Lost: w.counter("drop/loss"), Drops: drops,
	}, w.n.Traffic())
}
