package netem

import (
	"fmt"
	"net/netip"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"

	"gridlab/sim"
)

type nopStream struct{}

func (nopStream) OnConnect()    {}
func (nopStream) OnData([]byte) {}
func (nopStream) OnClose(error) {}

// Every packet on the free list is as newPacket made it (bar its payload's capacity), though
// release skips the tail of UDP datagrams (packetTailClean): the test sends UDP through a NAT with
// a duplicating, corrupting link, TCP, ICMP port unreachables answering reject rules both ways,
// and drops of every kind before and after translation, and checks the free list after every event.
func TestReleasedPacketsAreClean(t *testing.T) {
	s := sim.New(3)
	n := New(s)
	mp := func(s string) netip.Prefix { return netip.MustParsePrefix(s) }
	ma := func(s string) netip.Addr { return netip.MustParseAddr(s) }
	inet := n.AddSegment("internet", mp("0.0.0.0/0"), LinkParams{Latency: 20 * time.Millisecond, Jitter: 2 * time.Millisecond,
		Loss: 0.05, Duplicate: 0.1, Corrupt: 0.1})
	lan := n.AddSegment("home", mp("192.168.1.0/24"), LinkParams{Latency: time.Millisecond, Loss: 0.05})
	if _, err := n.AddRouter(RouterConfig{Name: "rtr", Inside: lan, InsideAddr: ma("192.168.1.1"),
		Outside: inet, OutsideAddr: ma("203.0.113.10"), NAT: true}); err != nil {
		t.Fatal(err)
	}
	cli, _ := n.AddHost("cli", lan, ma("192.168.1.2"))
	srv, _ := n.AddHost("srv", inet, ma("198.51.100.5"))
	srv.AddRule(Rule{Name: "no-9001", Dir: In, Proto: UDP, LocalPorts: PortRange{Lo: 9001}, Action: Reject})
	cli.AddRule(Rule{Name: "no-7", Dir: Out, Proto: UDP, RemotePorts: PortRange{Lo: 7}, Action: Reject})
	var echo *UDPConn
	echo, _ = srv.ListenUDP(9000, func(from netip.AddrPort, b []byte) { echo.WriteTo(b, from) })
	if _, err := srv.ListenTCP(80, func(*TCPConn) StreamHandler { return nopStream{} }); err != nil {
		t.Fatal(err)
	}
	c, _ := cli.ListenUDP(0, nil)
	c.SetErrorHandler(func(netip.AddrPort, error) {})
	msg := make([]byte, 300)
	for i := range 200 {
		s.After(time.Duration(i)*5*time.Millisecond, "test/send", func() {
			c.WriteTo(msg, netip.MustParseAddrPort("198.51.100.5:9000"))
			c.WriteTo(msg, netip.MustParseAddrPort("198.51.100.5:9001")) // ICMP back through the NAT
			c.WriteTo(msg, netip.MustParseAddrPort("198.51.100.5:7"))    // rejected on the way out
			c.WriteTo(msg, netip.MustParseAddrPort("198.51.100.99:9"))   // no host
			c.WriteTo(msg, netip.MustParseAddrPort("198.51.100.5:5"))    // no listener
			if i%50 == 0 {
				tc := cli.DialTCP(netip.MustParseAddrPort("198.51.100.5:80"), nopStream{})
				tc.Write(make([]byte, 5000))
				tc.Close()
			}
			if i == 100 {
				srv.SetDown(true)
			}
			if i == 120 {
				srv.SetDown(false)
			}
		})
	}
	zero := packet{}
	checked := 0
	for s.Step() {
		for _, p := range n.free {
			q := *p
			if q.n != n || len(q.payload) != 0 {
				t.Fatalf("free packet %p: n or payload wrong", p)
			}
			q.n, q.payload = nil, nil
			if !reflect.DeepEqual(q, zero) {
				t.Fatalf("at %v a released packet is not clean: %+v", s.Now(), q)
			}
			checked++
		}
	}
	if n.stats.udpDelivered == 0 || n.stats.icmpDelivered == 0 || n.stats.tcpSegments == 0 || n.drops[DropLoss] == 0 ||
		n.drops[DropHostDown] == 0 || n.drops[DropFirewall] == 0 || n.stats.duplicated == 0 || n.stats.corrupted == 0 {
		t.Fatalf("the traffic missed a path: %+v drops %v", n.stats, n.drops)
	}
	if checked == 0 {
		t.Fatal("nothing checked")
	}
}

// A socket's direct flag (WriteTo skips the host) follows every change that gives its host
// something to decide, and a datagram sent after the change gets that decision.
func TestUDPDirectFollowsTheHost(t *testing.T) {
	s, n, drops, inet := internetWithDrops()
	lan := n.AddSegment("lan", netip.MustParsePrefix("10.9.0.0/16"), LinkParams{})
	a, _ := n.AddHost("a", inet, netip.MustParseAddr("198.51.100.1"))
	b, _ := n.AddHost("b", inet, netip.MustParseAddr("198.51.100.2"))
	got := 0
	var from netip.AddrPort
	if _, err := b.ListenUDP(9, func(f netip.AddrPort, _ []byte) { got++; from = f }); err != nil {
		t.Fatal(err)
	}
	c, _ := a.ListenUDP(0, nil)
	to := netip.MustParseAddrPort("198.51.100.2:9")
	send := func() (delivered bool, d *Drop) {
		g, k := got, len(*drops)
		c.WriteTo([]byte("x"), to)
		for s.Step() {
		}
		if len(*drops) > k {
			d = &(*drops)[len(*drops)-1]
		}
		return got > g, d
	}
	step := func(name string, change func(), wantDirect bool, check func(bool, *Drop) bool) {
		t.Helper()
		change()
		if c.direct != wantDirect {
			t.Fatalf("%s: direct %v, want %v", name, c.direct, wantDirect)
		}
		if ok, d := send(); !check(ok, d) {
			t.Fatalf("%s: delivered %v, drop %v", name, ok, d)
		}
	}
	delivered := func(ok bool, d *Drop) bool { return ok && d == nil }
	dropped := func(r Reason) func(bool, *Drop) bool {
		return func(ok bool, d *Drop) bool { return !ok && d != nil && d.Reason == r && d.Where == "a" }
	}
	step("plain", func() {}, true, delivered)
	step("down", func() { a.SetDown(true) }, false, dropped(DropHostDown))
	step("up again", func() { a.SetDown(false) }, true, delivered)
	step("egress rule", func() { a.AddRule(Rule{Name: "no-9", Dir: Out, RemotePorts: PortRange{Lo: 9}, Action: Deny}) }, false, dropped(DropFirewall))
	step("rule removed", func() { a.RemoveRule("no-9") }, true, delivered)
	step("conntrack", func() { a.SetConntrack(true) }, false, delivered)
	step("conntrack off", func() { a.SetConntrack(false) }, true, delivered)
	if from.Addr() != a.Addr() {
		t.Fatalf("source %v, want the primary address", from)
	}
	step("second interface", func() {
		if err := a.AddInterface(inet, netip.MustParseAddr("198.51.100.3")); err != nil {
			t.Fatal(err)
		}
	}, false, delivered)
	// A second socket bound after the change starts indirect too, and a host with a route.
	c2, _ := a.ListenUDP(0, nil)
	h, _ := n.AddHost("h", inet, netip.MustParseAddr("198.51.100.7"))
	if err := h.AddInterface(lan, netip.MustParseAddr("10.9.0.7")); err != nil {
		t.Fatal(err)
	}
	c3, _ := h.ListenUDP(0, nil)
	if c2.direct || c3.direct {
		t.Fatal("a socket of a multi-homed host is direct")
	}
	h2, _ := n.AddHost("h2", inet, netip.MustParseAddr("198.51.100.8"))
	c4, _ := h2.ListenUDP(0, nil)
	if err := h2.AddRoute(netip.MustParsePrefix("10.0.0.0/8"), inet); err != nil {
		t.Fatal(err)
	}
	if c4.direct {
		t.Fatal("a socket of a host with a route is direct")
	}
}

// The host's copy of its last socket's port and handler (udpConn) never outlives the socket: a
// datagram to a closed port is dropped, one to a socket bound again on it reaches the new handler.
func TestUDPLastSocketCopyFollowsClose(t *testing.T) {
	s, n, drops, inet := internetWithDrops()
	a, _ := n.AddHost("a", inet, netip.MustParseAddr("198.51.100.1"))
	b, _ := n.AddHost("b", inet, netip.MustParseAddr("198.51.100.2"))
	c, _ := a.ListenUDP(0, nil)
	to := netip.MustParseAddrPort("198.51.100.2:9")
	var got []string
	s1, _ := b.ListenUDP(9, func(netip.AddrPort, []byte) { got = append(got, "first") })
	s2, _ := b.ListenUDP(10, func(netip.AddrPort, []byte) { got = append(got, "ten") })
	send := func(to netip.AddrPort) {
		c.WriteTo([]byte("x"), to)
		for s.Step() {
		}
	}
	send(to)
	send(netip.MustParseAddrPort("198.51.100.2:10"))
	send(to)
	c.WriteTo([]byte("x"), to) // in flight while the socket closes
	s1.Close()
	for s.Step() {
	}
	if len(*drops) != 1 || (*drops)[0].Reason != DropNoListener {
		t.Fatalf("drops %v, want one no-listener", *drops)
	}
	if _, err := b.ListenUDP(9, func(netip.AddrPort, []byte) { got = append(got, "second") }); err != nil {
		t.Fatal(err)
	}
	send(to)
	s2.Close()
	send(netip.MustParseAddrPort("198.51.100.2:10"))
	want := []string{"first", "ten", "first", "second"}
	if !reflect.DeepEqual(got, want) || len(*drops) != 2 {
		t.Fatalf("handlers %v, want %v; drops %v", got, want, *drops)
	}
}

// The node table answers as the map it replaced would, through its growth, for sequential
// addresses (lab's), random ones, address 0.0.0.0 and overwrites.
func TestNodeTableMatchesAMap(t *testing.T) {
	var tbl nodeTable
	ref := map[uint32]segNode{}
	hosts := make([]Host, 64)
	r := &Router{}
	check := func() {
		t.Helper()
		for a, nd := range ref { // order does not matter: every entry is checked
			if got := tbl.get(a); got != nd {
				t.Fatalf("get(%#x) = %v, want %v", a, got, nd)
			}
		}
		for _, a := range []uint32{1 << 31, 0xffffffff, 0x0a000000 + 70000, 12345} {
			if _, in := ref[a]; !in && !tbl.get(a).empty() {
				t.Fatalf("get(%#x) found a node that was never added", a)
			}
		}
		if tbl.n != len(ref) {
			t.Fatalf("n = %d, want %d", tbl.n, len(ref))
		}
	}
	check() // empty
	x := uint64(1)
	for i := range 50000 {
		a := uint32(0x0a000000 + i) // sequential, as lab assigns them
		if i%3 == 0 {
			x = x*6364136223846793005 + 1442695040888963407
			a = uint32(x >> 32)
		}
		if i == 100 {
			a = 0
		}
		nd := segNode{h: &hosts[i%len(hosts)]}
		if i%7 == 0 {
			nd = segNode{r: r}
		}
		tbl.set(a, nd)
		ref[a] = nd
		if i%9973 == 0 {
			check()
		}
	}
	tbl.set(0x0a000005, segNode{r: r}) // overwrite
	ref[0x0a000005] = segNode{r: r}
	check()
}

// Host is 256 bytes, a size class whose objects start on 64-byte boundaries, and what delivering
// a datagram reads lies in its first 64 bytes: one cache line per delivery (see Host).
func TestHostLayout(t *testing.T) {
	var h Host
	if size := unsafe.Sizeof(h); size != 256 {
		t.Fatalf("Host is %d bytes: adjust its padding to 256", size)
	}
	if end := unsafe.Offsetof(h.udpLastWarm) + unsafe.Sizeof(h.udpLastWarm); end > 64 {
		t.Fatalf("delivery's fields end at byte %d of Host, past its first cache line", end)
	}
}

// internetWithDrops is a network with one internet segment (1 ms) that records its drops.
func internetWithDrops() (*sim.Sim, *Network, *[]Drop, *Segment) {
	s := sim.New(1)
	n := New(s)
	drops := &[]Drop{}
	n.OnDrop(func(d Drop) { *drops = append(*drops, d) })
	inet := n.AddSegment("internet", netip.MustParsePrefix("0.0.0.0/0"), LinkParams{Latency: time.Millisecond})
	return s, n, drops, inet
}

// TestManySocketsOnOneHostEachGetTheirDatagrams binds sockets on one host whose ports share
// slots of the host's socket cache (9001 and 9033, 9002 and 9034), sends to them in turns —
// a grid host's regions do — closes one and binds another on its port, and checks that every
// datagram reaches the socket bound to its port at the time, and none the closed one.
func TestManySocketsOnOneHostEachGetTheirDatagrams(t *testing.T) {
	s, n, drops, inet := internetWithDrops()
	grid, err := n.AddHost("grid", inet, netip.MustParseAddr("198.51.100.10"))
	require.NoError(t, err)
	viewer, err := n.AddHost("viewer", inet, netip.MustParseAddr("203.0.113.5"))
	require.NoError(t, err)
	got := map[string][]string{}
	listen := func(port uint16, name string) *UDPConn {
		c, err := grid.ListenUDP(port, func(_ netip.AddrPort, b []byte) { got[name] = append(got[name], string(b)) })
		require.NoError(t, err)
		return c
	}
	ports := []uint16{9001, 9033, 9002, 9034, 9003}
	conns := map[uint16]*UDPConn{}
	for _, p := range ports {
		conns[p] = listen(p, fmt.Sprint(p))
	}
	out, err := viewer.ListenUDP(0, nil)
	require.NoError(t, err)
	send := func(round int, order ...uint16) {
		for _, p := range order {
			out.WriteTo([]byte(fmt.Sprintf("%d/%d", p, round)), netip.AddrPortFrom(grid.Addr(), p))
		}
		require.NoError(t, s.RunUntil(s.Now()+sim.Time(10*time.Millisecond)))
	}
	send(1, ports...)
	send(2, ports...)
	conns[9033].Close()
	send(3, 9033) // 9033 is closed (alone, so that its slot is still its own): dropped
	send(3, 9001, 9002, 9034, 9003)
	listen(9033, "9033 again")
	send(4, ports...)
	for _, p := range []uint16{9001, 9002, 9034, 9003} {
		require.Equal(t, []string{fmt.Sprintf("%d/1", p), fmt.Sprintf("%d/2", p), fmt.Sprintf("%d/3", p), fmt.Sprintf("%d/4", p)}, got[fmt.Sprint(p)], "socket %d", p)
	}
	require.Equal(t, []string{"9033/1", "9033/2"}, got["9033"], "the closed socket gets nothing after Close")
	require.Equal(t, []string{"9033/4"}, got["9033 again"], "the new socket on the port gets what follows")
	require.Len(t, *drops, 1)
	require.Equal(t, DropNoListener, (*drops)[0].Reason)
}
