package netem_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gridlab/netem"
	"gridlab/sim"
)

// natWorld: viewer 192.168.1.2 behind home NAT 203.0.113.10 (hairpin configurable, forward UDP
// 9000 → 192.168.1.5:9000 for the "lanserver" host), server 198.51.100.5 and a stranger
// 198.51.100.6 on the internet.
type natWorld struct {
	*world
	inet                *netem.Segment
	lan                 *netem.Segment
	router              *netem.Router
	viewer, lansrv, srv *netem.Host
	stranger            *netem.Host
}

func newNATWorld(t *testing.T, hairpin bool) *natWorld {
	w := &natWorld{world: newWorld(t, 1)}
	w.inet = w.n.AddSegment("internet", pfx("0.0.0.0/0"), netem.LinkParams{Latency: 20 * ms})
	w.lan, w.router = w.home("home", w.inet, "203.0.113.10", netem.LinkParams{Latency: ms}, hairpin,
		netem.Forward{Proto: netem.UDP, Port: 9000, To: ap("192.168.1.5:9000")})
	w.viewer = w.host("viewer", w.lan, "192.168.1.2")
	w.lansrv = w.host("lanserver", w.lan, "192.168.1.5")
	w.srv = w.host("srv", w.inet, "198.51.100.5")
	w.stranger = w.host("stranger", w.inet, "198.51.100.6")
	return w
}

// An outbound datagram creates an endpoint-independent mapping that preserves the port; the
// server sees the public address and its reply reaches the viewer with the server's address.
func TestNATMappingAndReply(t *testing.T) {
	w := newNATWorld(t, true)
	var srvSock *netem.UDPConn
	var atSrv []datagram
	srvSock, err := w.srv.ListenUDP(7000, func(from netip.AddrPort, b []byte) {
		atSrv = append(atSrv, datagram{w.s.Now(), from, string(b)})
		srvSock.WriteTo([]byte("pong"), from)
	})
	require.NoError(t, err)
	vc, atViewer := w.listen(w.viewer, 40000)
	vc.WriteTo([]byte("ping"), ap("198.51.100.5:7000"))
	w.run()
	require.Len(t, atSrv, 1)
	assert.Equal(t, ap("203.0.113.10:40000"), atSrv[0].from, "port preserved, public address")
	require.Len(t, *atViewer, 1, "drops: %v", w.drops)
	assert.Equal(t, ap("198.51.100.5:7000"), (*atViewer)[0].from)
	assert.Equal(t, "pong", (*atViewer)[0].data)
	assert.Equal(t, []netem.NATMapping{{Proto: netem.UDP, Internal: ap("192.168.1.2:40000"), External: ap("203.0.113.10:40000")}}, w.router.Mappings())
	assert.Equal(t, uint64(1), w.counter("nat/home-router/mappings"))
}

// A second inside endpoint wanting the same external port gets the next free one, and the
// mapping is endpoint-independent (same external port towards every destination).
func TestNATPortAllocation(t *testing.T) {
	w := newNATWorld(t, true)
	var from []string
	_, err := w.srv.ListenUDP(7000, func(f netip.AddrPort, b []byte) { from = append(from, string(b)+"@"+f.String()) })
	require.NoError(t, err)
	_, err = w.stranger.ListenUDP(7000, func(f netip.AddrPort, b []byte) { from = append(from, string(b)+"@"+f.String()) })
	require.NoError(t, err)
	a, _ := w.viewer.ListenUDP(5000, nil)
	b, _ := w.lansrv.ListenUDP(5000, nil)
	a.WriteTo([]byte("a"), ap("198.51.100.5:7000"))
	w.s.At(sim.Time(time.Second), "test/b", func() { b.WriteTo([]byte("b"), ap("198.51.100.5:7000")) })
	w.s.At(sim.Time(2*time.Second), "test/a2", func() { a.WriteTo([]byte("a2"), ap("198.51.100.6:7000")) })
	w.run()
	assert.Equal(t, []string{"a@203.0.113.10:5000", "b@203.0.113.10:5001", "a2@203.0.113.10:5000"}, from)
}

// Inbound traffic needs a mapping (DropNATNoMapping) and, with address-and-port-dependent
// filtering, must come from a remote the inside endpoint has sent to (DropNATFiltered).
func TestNATUnsolicitedInboundDropped(t *testing.T) {
	cases := []struct {
		name   string
		from   func(w *natWorld) *netem.Host
		fromPt uint16
		to     string
		want   netem.Reason
	}{
		{"no mapping", func(w *natWorld) *netem.Host { return w.stranger }, 7000, "203.0.113.10:40001", netem.DropNATNoMapping},
		{"other host filtered", func(w *natWorld) *netem.Host { return w.stranger }, 7000, "203.0.113.10:40000", netem.DropNATFiltered},
		{"same host other port filtered", func(w *natWorld) *netem.Host { return w.srv }, 7001, "203.0.113.10:40000", netem.DropNATFiltered},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newNATWorld(t, true)
			_, err := w.srv.ListenUDP(7000, nil)
			require.NoError(t, err)
			vc, got := w.listen(w.viewer, 40000)
			vc.WriteTo([]byte("open"), ap("198.51.100.5:7000"))
			c, err := tc.from(w).ListenUDP(tc.fromPt, nil)
			require.NoError(t, err)
			w.s.At(sim.Time(time.Second), "test/probe", func() { c.WriteTo([]byte("probe"), ap(tc.to)) })
			w.run()
			assert.Empty(t, *got)
			require.Len(t, w.drops, 1)
			assert.Equal(t, tc.want, w.drops[0].Reason)
			assert.Equal(t, "home-router", w.drops[0].Where)
		})
	}
}

// A UDP mapping expires 120 s after the last outbound packet; a later reply is dropped.
func TestNATUDPMappingTimeout(t *testing.T) {
	w := newNATWorld(t, true)
	sc, err := w.srv.ListenUDP(7000, nil)
	require.NoError(t, err)
	vc, got := w.listen(w.viewer, 40000)
	vc.WriteTo([]byte("open"), ap("198.51.100.5:7000"))
	w.s.At(sim.Time(100*time.Second), "test/early", func() { sc.WriteTo([]byte("early"), ap("203.0.113.10:40000")) })
	w.s.At(sim.Time(121*time.Second), "test/late", func() { sc.WriteTo([]byte("late"), ap("203.0.113.10:40000")) })
	w.run()
	require.Len(t, *got, 1)
	assert.Equal(t, "early", (*got)[0].data)
	require.Len(t, w.drops, 1)
	assert.Equal(t, netem.DropNATNoMapping, w.drops[0].Reason)
	assert.Empty(t, w.router.Mappings())
}

// A port forward delivers inbound traffic to the inside server, and its replies leave with the
// public address and forwarded port as source.
func TestNATPortForward(t *testing.T) {
	w := newNATWorld(t, true)
	var ls *netem.UDPConn
	var atLAN []datagram
	ls, err := w.lansrv.ListenUDP(9000, func(from netip.AddrPort, b []byte) {
		atLAN = append(atLAN, datagram{w.s.Now(), from, string(b)})
		ls.WriteTo([]byte("reply"), from)
	})
	require.NoError(t, err)
	sc, got := w.listen(w.srv, 7000)
	sc.WriteTo([]byte("hello"), ap("203.0.113.10:9000"))
	w.run()
	require.Len(t, atLAN, 1)
	assert.Equal(t, ap("198.51.100.5:7000"), atLAN[0].from)
	require.Len(t, *got, 1)
	assert.Equal(t, ap("203.0.113.10:9000"), (*got)[0].from)
	assert.Equal(t, time.Duration(2*21*ms), (*got)[0].at.Duration())
}

// Hairpin on: an inside host reaching the public address of a forwarded inside server is
// reflected back inside and the server sees the sender's external address (RFC 4787 REQ-9a);
// the reply takes the same path back. Hairpin off: DropHairpin at the router.
func TestNATHairpin(t *testing.T) {
	for _, hairpin := range []bool{true, false} {
		name := map[bool]string{true: "on", false: "off"}[hairpin]
		t.Run(name, func(t *testing.T) {
			w := newNATWorld(t, hairpin)
			var ls *netem.UDPConn
			var atLAN []datagram
			ls, err := w.lansrv.ListenUDP(9000, func(from netip.AddrPort, b []byte) {
				atLAN = append(atLAN, datagram{w.s.Now(), from, string(b)})
				ls.WriteTo([]byte("reply"), from)
			})
			require.NoError(t, err)
			vc, got := w.listen(w.viewer, 40000)
			vc.WriteTo([]byte("hello"), ap("203.0.113.10:9000"))
			w.run()
			if !hairpin {
				assert.Empty(t, atLAN)
				require.Len(t, w.drops, 1)
				assert.Equal(t, netem.DropHairpin, w.drops[0].Reason)
				assert.Equal(t, "home-router", w.drops[0].Where)
				return
			}
			require.Len(t, atLAN, 1, "drops: %v", w.drops)
			assert.Equal(t, ap("203.0.113.10:40000"), atLAN[0].from, "external source")
			assert.Equal(t, 2*ms, atLAN[0].at.Duration(), "two LAN traversals")
			require.Len(t, *got, 1, "drops: %v", w.drops)
			assert.Equal(t, ap("203.0.113.10:9000"), (*got)[0].from)
			assert.Equal(t, "reply", (*got)[0].data)
		})
	}
}

// A router without NAT routes its inside prefix both ways with addresses unchanged.
func TestPlainRouter(t *testing.T) {
	w := newWorld(t, 1)
	inet := w.n.AddSegment("internet", pfx("0.0.0.0/0"), netem.LinkParams{Latency: 10 * ms})
	dc := w.n.AddSegment("dc", pfx("10.1.0.0/16"), netem.LinkParams{Latency: ms})
	_, err := w.n.AddRouter(netem.RouterConfig{Name: "dc-router", Inside: dc, InsideAddr: ip("10.1.0.1"), Outside: inet, OutsideAddr: ip("198.51.100.1")})
	require.NoError(t, err)
	in, out := w.host("in", dc, "10.1.0.5"), w.host("out", inet, "198.51.100.9")
	ic, atIn := w.listen(in, 1000)
	_, atOut := w.listen(out, 2000)
	ic.WriteTo([]byte("up"), ap("198.51.100.9:2000"))
	w.run()
	require.Len(t, *atOut, 1)
	assert.Equal(t, ap("10.1.0.5:1000"), (*atOut)[0].from)
	oc, _ := out.ListenUDP(0, nil)
	oc.WriteTo([]byte("down"), ap("10.1.0.5:1000"))
	w.run()
	require.Len(t, *atIn, 1)
	assert.Equal(t, "down", (*atIn)[0].data)
}

// TCP through hairpin NAT: an inside client dialing the public address of a forwarded inside
// server connects, the server sees the client's external address, and the echo comes back.
func TestNATHairpinTCP(t *testing.T) {
	w := newWorld(t, 1)
	inet := w.n.AddSegment("internet", pfx("0.0.0.0/0"), netem.LinkParams{Latency: 20 * ms})
	lan, _ := w.home("home", inet, "203.0.113.10", netem.LinkParams{Latency: ms}, true,
		netem.Forward{Proto: netem.TCP, Port: 8002, To: ap("192.168.1.5:8002")})
	cli, srv := w.host("cli", lan, "192.168.1.2"), w.host("srv", lan, "192.168.1.5")
	conns := w.echoServer(srv, 8002)
	st := w.dial(cli, ap("203.0.113.10:8002"), []byte("login"))
	w.run()
	require.NoError(t, st.err)
	assert.Equal(t, "login", string(st.data))
	require.Len(t, *conns, 1)
	assert.Equal(t, ap("203.0.113.10:32768"), (*conns)[0].c.RemoteAddr())
	assert.Equal(t, 2*ms, st.connected.Duration()-(2*ms), "handshake crosses the LAN twice each way")
}
