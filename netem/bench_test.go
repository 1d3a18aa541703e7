package netem_test

import (
	"net/netip"
	"strconv"
	"testing"
	"time"

	"gridlab/netem"
	"gridlab/sim"
)

// BenchmarkUDPDeliver measures one 100-byte datagram from a host behind a home NAT to a server on
// the internet with jitter and 1% loss: send, two segment traversals, SNAT, delivery and trace.
func BenchmarkUDPDeliver(b *testing.B) {
	s := sim.New(1)
	n := netem.New(s)
	inet := n.AddSegment("internet", pfx("0.0.0.0/0"), netem.LinkParams{Latency: 20 * ms, Jitter: 2 * ms, Loss: 0.01})
	lan := n.AddSegment("home", pfx("192.168.1.0/24"), netem.LinkParams{Latency: ms})
	if _, err := n.AddRouter(netem.RouterConfig{Name: "home-router", Inside: lan, InsideAddr: ip("192.168.1.1"),
		Outside: inet, OutsideAddr: ip("203.0.113.10"), NAT: true}); err != nil {
		b.Fatal(err)
	}
	cli, _ := n.AddHost("cli", lan, ip("192.168.1.2"))
	srv, _ := n.AddHost("srv", inet, ip("198.51.100.5"))
	var got int
	if _, err := srv.ListenUDP(9000, func(netip.AddrPort, []byte) { got++ }); err != nil {
		b.Fatal(err)
	}
	c, _ := cli.ListenUDP(0, nil)
	msg := make([]byte, 100)
	to := ap("198.51.100.5:9000")
	b.ReportAllocs()
	for b.Loop() {
		c.WriteTo(msg, to)
		for s.Step() {
		}
	}
	if got == 0 {
		b.Fatal("nothing delivered")
	}
}

// BenchmarkFirewallNATLossyPath measures one 100-byte datagram over the reference path:
// a client behind a port-restricted NAT with a stateful egress firewall, a jittery internet with
// Gilbert-Elliott loss and a 100 Mbit/s rate limit, and a server whose stateful firewall checks
// three rules (the allow rule last). Reported: datagrams per second on one core.
func BenchmarkFirewallNATLossyPath(b *testing.B) {
	s := sim.New(1)
	n := netem.New(s)
	inet := n.AddSegment("internet", pfx("0.0.0.0/0"), netem.LinkParams{Latency: 20 * ms, Jitter: 2 * ms,
		Dist: netem.DistNormal, Rate: 100_000_000,
		LossModel: netem.LossModel{Kind: netem.LossGilbertElliott, P: 0.01, R: 0.3, BadLoss: 1}})
	lan := n.AddSegment("home", pfx("192.168.1.0/24"), netem.LinkParams{Latency: ms})
	o, _ := netem.NATPreset("port-restricted")
	if _, err := n.AddRouter(netem.RouterConfig{Name: "home-router", Inside: lan, InsideAddr: ip("192.168.1.1"),
		Outside: inet, OutsideAddr: ip("203.0.113.10"), NAT: true, NATOptions: o}); err != nil {
		b.Fatal(err)
	}
	cli, _ := n.AddHost("cli", lan, ip("192.168.1.2"))
	srv, _ := n.AddHost("srv", inet, ip("198.51.100.5"))
	cli.SetConntrack(true)
	cli.AddRule(netem.Rule{Name: "no-smtp", Dir: netem.Out, Proto: netem.TCP, RemotePorts: netem.PortRange{Lo: 25}, Action: netem.Reject})
	srv.SetConntrack(true)
	srv.AddRule(netem.Rule{Name: "no-ssh", Dir: netem.In, Proto: netem.TCP, LocalPorts: netem.PortRange{Lo: 22}, Action: netem.Reject})
	srv.AddRule(netem.Rule{Name: "office-only", Dir: netem.In, Remote: pfx("10.0.0.0/8"), Action: netem.Deny})
	srv.AddRule(netem.Rule{Name: "sim", Dir: netem.In, Proto: netem.UDP, LocalPorts: netem.PortRange{Lo: 9000, Hi: 9010}, Action: netem.Allow})
	var got int
	if _, err := srv.ListenUDP(9000, func(netip.AddrPort, []byte) { got++ }); err != nil {
		b.Fatal(err)
	}
	c, _ := cli.ListenUDP(0, nil)
	msg := make([]byte, 100)
	to := ap("198.51.100.5:9000")
	for range 1000 { // warm up pools, maps and the flow tables
		c.WriteTo(msg, to)
		for s.Step() {
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		c.WriteTo(msg, to)
		for s.Step() {
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkt/s")
	if got == 0 {
		b.Fatal("nothing delivered")
	}
}

// BenchmarkUDPScaleShape is scale-100k's shape: many hosts directly on one internet segment with
// latency and jitter, and one server that answers every datagram. Each op is one 100-byte
// datagram from a viewer (a different one each time, in an order that jumps around memory as the
// real run's does) and the server's 60-byte answer, with the clock advanced 10 µs: ~3,000
// datagrams each way in flight, as at the run's peak, so host, socket, FIFO and packet state is
// out of the cache as it is there. Two datagrams per op.
func BenchmarkUDPScaleShape(b *testing.B) {
	const viewers = 50_000
	s := sim.New(1)
	n := netem.New(s)
	inet := n.AddSegment("internet", pfx("0.0.0.0/0"), netem.LinkParams{Latency: 30 * ms, Jitter: 3 * ms})
	srvHost, _ := n.AddHost("grid", inet, ip("198.51.100.10"))
	var srv *netem.UDPConn
	reply := make([]byte, 60)
	srv, err := srvHost.ListenUDP(9000, func(from netip.AddrPort, _ []byte) { srv.WriteTo(reply, from) })
	if err != nil {
		b.Fatal(err)
	}
	conns := make([]*netem.UDPConn, viewers)
	got := 0
	a := ip("10.0.0.1")
	for i := range conns {
		h, err := n.AddHost("viewer"+strconv.Itoa(i), inet, a)
		if err != nil {
			b.Fatal(err)
		}
		a = a.Next()
		conns[i], _ = h.ListenUDP(0, func(netip.AddrPort, []byte) { got++ })
	}
	msg := make([]byte, 100)
	to := netip.AddrPortFrom(srvHost.Addr(), 9000)
	i := 0
	step := func() {
		conns[(i*7919)%viewers].WriteTo(msg, to)
		i++
		_ = s.RunUntil(s.Now().Add(10 * time.Microsecond))
	}
	for range 20_000 { // fill the pipe: 200 ms of virtual time
		step()
	}
	b.ReportAllocs()
	for b.Loop() {
		step()
	}
	if got == 0 {
		b.Fatal("nothing delivered")
	}
}
