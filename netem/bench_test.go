package netem_test

import (
	"net/netip"
	"testing"

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
