package netem_test

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gridlab/netem"
)

// A dual-homed region server on a DMZ and on an office LAN: packets to either address reach it
// whichever interface they arrive on; its replies leave through the interface its route table
// picks (most specific prefix, else the default route) with that interface's address.
func TestMultiHomedHostRoutes(t *testing.T) {
	w := newWorld(t, 1)
	inet := w.n.AddSegment("internet", pfx("0.0.0.0/0"), netem.LinkParams{Latency: 10 * ms})
	dmz := w.n.AddSegment("dmz", pfx("172.16.0.0/24"), netem.LinkParams{Latency: ms})
	office := w.n.AddSegment("office", pfx("10.0.0.0/16"), netem.LinkParams{Latency: 2 * ms})
	_, err := w.n.AddRouter(netem.RouterConfig{Name: "dmz-router", Inside: dmz, InsideAddr: ip("172.16.0.1"),
		Outside: inet, OutsideAddr: ip("203.0.113.1")}) // a plain router: the DMZ is routed
	require.NoError(t, err)
	_, err = w.n.AddRouter(netem.RouterConfig{Name: "office-router", Inside: office, InsideAddr: ip("10.0.0.1"),
		Outside: inet, OutsideAddr: ip("203.0.113.2"), NAT: true})
	require.NoError(t, err)
	srv := w.host("region", dmz, "172.16.0.10")
	require.NoError(t, srv.AddInterface(office, ip("10.0.0.10")))
	remote := w.host("remote", inet, "198.51.100.5")
	desk := w.host("desk", office, "10.0.0.50")

	var got []string
	_, err = srv.ListenUDP(9000, func(from netip.AddrPort, b []byte) {
		got = append(got, string(b)+" from "+from.String())
	})
	require.NoError(t, err)
	rc, rgot := w.listen(remote, 5001)
	dc, dgot := w.listen(desk, 5001)
	rc.WriteTo([]byte("via dmz"), ap("172.16.0.10:9000"))
	dc.WriteTo([]byte("via lan"), ap("10.0.0.10:9000"))
	w.run()
	assert.Equal(t, []string{"via lan from 10.0.0.50:5001", "via dmz from 198.51.100.5:5001"}, got,
		"both addresses reach the one socket, each over its own interface (the LAN is faster)")

	// Replies: to the office through the office interface, to the internet by the default route
	// (the primary interface, the DMZ), each with that interface's address as source.
	sc, _ := srv.ListenUDP(0, nil)
	assert.Equal(t, ip("10.0.0.10"), srv.SourceFor(ip("10.0.0.50")), "connected office prefix")
	assert.Equal(t, ip("172.16.0.10"), srv.SourceFor(ip("198.51.100.5")), "default route: primary interface")
	sc.WriteTo([]byte("to desk"), ap("10.0.0.50:5001"))
	sc.WriteTo([]byte("to remote"), ap("198.51.100.5:5001"))
	w.run()
	require.Len(t, *dgot, 1)
	require.Len(t, *rgot, 1)
	assert.Equal(t, ip("10.0.0.10"), (*dgot)[0].from.Addr(), "the desk sees the office address")
	assert.Equal(t, ip("172.16.0.10"), (*rgot)[0].from.Addr(), "the remote sees the DMZ address (routed, no NAT)")

	// A route for the internet through the office: the same datagram now leaves by the office
	// NAT, and a more specific route beats the default.
	require.NoError(t, srv.AddRoute(pfx("198.51.100.0/24"), office))
	assert.Equal(t, ip("10.0.0.10"), srv.SourceFor(ip("198.51.100.5")), "most specific route wins")
	assert.Equal(t, ip("172.16.0.10"), srv.SourceFor(ip("192.0.2.1")), "other destinations keep the default")
	sc.WriteTo([]byte("to remote again"), ap("198.51.100.5:5001"))
	w.run()
	require.Len(t, *rgot, 2)
	assert.Equal(t, ip("203.0.113.2"), (*rgot)[1].from.Addr(), "now through the office router's NAT")

	// TCP takes its local address from the route too.
	w.echoServer(remote, 80)
	st := w.dial(srv, ap("198.51.100.5:80"), []byte("hi"))
	w.run()
	assert.Equal(t, ip("10.0.0.10"), st.c.LocalAddr().Addr())
	assert.Equal(t, "hi", string(st.data))
	assert.Equal(t, []netip.Addr{ip("172.16.0.10"), ip("10.0.0.10")}, srv.Addrs())
}

// Two addresses on one LAN; and the errors of bad interfaces and routes.
func TestTwoAddressesOneLANAndErrors(t *testing.T) {
	w := newWorld(t, 1)
	lan := w.n.AddSegment("lan", pfx("10.0.0.0/24"), netem.LinkParams{Latency: ms})
	other := w.n.AddSegment("other", pfx("10.9.0.0/24"), netem.LinkParams{})
	h := w.host("web", lan, "10.0.0.10")
	require.NoError(t, h.AddInterface(lan, ip("10.0.0.11")))
	cli := w.host("cli", lan, "10.0.0.2")
	_, got := w.listen(h, 80)
	c, _ := w.listen(cli, 5000)
	c.WriteTo([]byte("a"), ap("10.0.0.10:80"))
	c.WriteTo([]byte("b"), ap("10.0.0.11:80"))
	w.run()
	assert.Len(t, *got, 2, "both addresses on the LAN deliver to the host")
	assert.True(t, h.HasAddr(ip("10.0.0.11")))

	for _, tc := range []struct {
		what string
		err  error
		want string
	}{
		{"an address outside the segment", h.AddInterface(lan, ip("10.1.0.1")), "outside segment lan"},
		{"an address in use", h.AddInterface(lan, ip("10.0.0.2")), "already in use"},
		{"no segment", h.AddInterface(nil, ip("10.0.0.3")), "no segment"},
		{"a route through a segment the host is not on", h.AddRoute(pfx("0.0.0.0/0"), other), "no interface on segment other"},
		{"an invalid prefix", h.AddRoute(netip.Prefix{}, lan), "invalid prefix"},
	} {
		require.Error(t, tc.err, tc.what)
		assert.Contains(t, tc.err.Error(), tc.want, tc.what)
	}
	c.WriteTo([]byte("c"), ap("10.0.0.3:80"))
	w.run()
	assert.Equal(t, netem.DropNoHost, w.drops[len(w.drops)-1].Reason, "a failed AddInterface claims nothing")
}
