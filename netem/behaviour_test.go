package netem_test

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gridlab/netem"
	"gridlab/sim"
)

// RFC 4787 mapping × filtering: a client behind the NAT sends from one socket to S1
// (198.51.100.1:3478), S1' (same address, port 3479) and S2 (198.51.100.2:3478). The mapping
// behaviour decides which of those see the same external port; the filtering behaviour decides
// who, having been sent nothing but a datagram to S1, can reach the client through the mapping.
func TestNATMappingFilteringMatrix(t *testing.T) {
	for _, tc := range []struct {
		mapping, filtering netem.Behavior
		samePortS1b        bool // S1 and S1' see the same external port
		samePortS2         bool // S1 and S2 see the same external port
		fromS1b, fromS3    bool // reach the client after it sent only to S1: S1' / an unrelated S3
	}{
		{netem.EndpointIndependent, netem.EndpointIndependent, true, true, true, true},
		{netem.EndpointIndependent, netem.AddressDependent, true, true, true, false},
		{netem.EndpointIndependent, netem.AddressPortDependent, true, true, false, false},
		{netem.AddressDependent, netem.AddressDependent, true, false, true, false},
		{netem.AddressDependent, netem.AddressPortDependent, true, false, false, false},
		{netem.AddressPortDependent, netem.EndpointIndependent, false, false, true, true},
		{netem.AddressPortDependent, netem.AddressPortDependent, false, false, false, false},
	} {
		t.Run(tc.mapping.String()+"/"+tc.filtering.String(), func(t *testing.T) {
			w := newWorld(t, 1)
			inet := w.n.AddSegment("internet", pfx("0.0.0.0/0"), netem.LinkParams{Latency: 10 * ms})
			lan := w.n.AddSegment("home", pfx("192.168.1.0/24"), netem.LinkParams{Latency: ms})
			_, err := w.n.AddRouter(netem.RouterConfig{Name: "nat", Inside: lan, InsideAddr: ip("192.168.1.1"),
				Outside: inet, OutsideAddr: ip("203.0.113.10"), NAT: true,
				NATOptions: netem.NATOptions{Mapping: tc.mapping, Filtering: tc.filtering}})
			require.NoError(t, err)
			cli := w.host("cli", lan, "192.168.1.2")
			s1, s2, s3 := w.host("s1", inet, "198.51.100.1"), w.host("s2", inet, "198.51.100.2"), w.host("s3", inet, "198.51.100.3")
			c, got := w.listen(cli, 5000)
			a, seenA := w.listen(s1, 3478)
			b, seenB := w.listen(s1, 3479)
			_, seenC := w.listen(s2, 3478)
			d, _ := w.listen(s3, 3478)

			c.WriteTo([]byte("to-s1"), ap("198.51.100.1:3478"))
			w.run()
			require.Len(t, *seenA, 1)
			ext := (*seenA)[0].from
			b.WriteTo([]byte("from-s1b"), ext)
			d.WriteTo([]byte("from-s3"), ext)
			a.WriteTo([]byte("from-s1"), ext)
			w.run()
			var heard []string
			for _, g := range *got {
				heard = append(heard, g.data)
			}
			assert.Contains(t, heard, "from-s1", "the endpoint the client sent to always gets through")
			assert.Equal(t, tc.fromS1b, contains(heard, "from-s1b"), "another port of the same address gets through")
			assert.Equal(t, tc.fromS3, contains(heard, "from-s3"), "an unrelated address gets through")

			c.WriteTo([]byte("to-s1b"), ap("198.51.100.1:3479"))
			c.WriteTo([]byte("to-s2"), ap("198.51.100.2:3478"))
			w.run()
			require.Len(t, *seenB, 1)
			require.Len(t, *seenC, 1)
			assert.Equal(t, tc.samePortS1b, (*seenB)[0].from == ext, "same external endpoint towards another port of S1")
			assert.Equal(t, tc.samePortS2, (*seenC)[0].from == ext, "same external endpoint towards another address")
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Presets set the behaviours they are named after.
func TestNATPresets(t *testing.T) {
	for _, tc := range []struct {
		name               string
		mapping, filtering netem.Behavior
		ports              netem.PortAssignment
	}{
		{"full-cone", netem.EndpointIndependent, netem.EndpointIndependent, netem.PortPreserveRandom},
		{"restricted-cone", netem.EndpointIndependent, netem.AddressDependent, netem.PortPreserveRandom},
		{"port-restricted", netem.EndpointIndependent, netem.AddressPortDependent, netem.PortPreserveRandom},
		{"symmetric", netem.AddressPortDependent, netem.AddressPortDependent, netem.PortRandom},
		{"carrier-grade", netem.EndpointIndependent, netem.AddressPortDependent, netem.PortRandom},
	} {
		o, ok := netem.NATPreset(tc.name)
		require.True(t, ok, tc.name)
		assert.Equal(t, tc.mapping, o.Mapping, tc.name)
		assert.Equal(t, tc.filtering, o.Filtering, tc.name)
		assert.Equal(t, tc.ports, o.Ports, tc.name)
	}
	_, ok := netem.NATPreset("cone-ish")
	assert.False(t, ok, "an unknown preset is refused")
}

// A symmetric NAT picks seeded random ports; the same seed picks the same ones.
func TestNATRandomPortsAreSeeded(t *testing.T) {
	run := func(seed uint64) []netip.AddrPort {
		w := newWorld(t, seed)
		inet := w.n.AddSegment("internet", pfx("0.0.0.0/0"), netem.LinkParams{Latency: ms})
		lan := w.n.AddSegment("home", pfx("192.168.1.0/24"), netem.LinkParams{})
		o, _ := netem.NATPreset("symmetric")
		_, err := w.n.AddRouter(netem.RouterConfig{Name: "nat", Inside: lan, InsideAddr: ip("192.168.1.1"),
			Outside: inet, OutsideAddr: ip("203.0.113.10"), NAT: true, NATOptions: o})
		require.NoError(t, err)
		c, _ := w.listen(w.host("cli", lan, "192.168.1.2"), 5000)
		srv := w.host("srv", inet, "198.51.100.1")
		var seen []netip.AddrPort
		for port := uint16(1); port <= 3; port++ {
			_, err := srv.ListenUDP(port, func(from netip.AddrPort, _ []byte) { seen = append(seen, from) })
			require.NoError(t, err)
			c.WriteTo([]byte("x"), netip.AddrPortFrom(ip("198.51.100.1"), port))
		}
		w.run()
		return seen
	}
	a, b := run(7), run(7)
	assert.Equal(t, a, b, "same seed, same ports")
	require.Len(t, a, 3)
	assert.NotEqual(t, a[0].Port(), a[1].Port(), "a new mapping per destination")
}

// NAT table limit, configurable UDP timeout, flush and 1:1 NAT.
func TestNATTableLimitTimeoutFlushAndOneToOne(t *testing.T) {
	w := newWorld(t, 1)
	inet := w.n.AddSegment("internet", pfx("0.0.0.0/0"), netem.LinkParams{Latency: ms})
	lan := w.n.AddSegment("office", pfx("10.0.0.0/24"), netem.LinkParams{})
	r, err := w.n.AddRouter(netem.RouterConfig{Name: "nat", Inside: lan, InsideAddr: ip("10.0.0.1"),
		Outside: inet, OutsideAddr: ip("203.0.113.10"), NAT: true,
		NATOptions: netem.NATOptions{MaxMappings: 2, UDPTimeout: 30 * time.Second, OneToOne: ip("10.0.0.99")}})
	require.NoError(t, err)
	srv := w.host("srv", inet, "198.51.100.1")
	sc, seen := w.listen(srv, 53)
	var socks []*netem.UDPConn
	for i := range 3 {
		c, _ := w.listen(w.host("h"+string(rune('a'+i)), lan, "10.0.0."+string(rune('2'+i))), 4000)
		socks = append(socks, c)
		c.WriteTo([]byte("q"), ap("198.51.100.1:53"))
	}
	w.run()
	assert.Len(t, *seen, 2, "two mappings fit")
	require.Len(t, w.drops, 1)
	assert.Equal(t, netem.DropNATTableFull, w.drops[0].Reason, "the third flow is dropped: table full")

	w.s.AdvanceTo(w.s.Now().Add(31 * time.Second))
	assert.Empty(t, r.Mappings(), "UDP mappings expire after the configured 30 s")
	socks[2].WriteTo([]byte("q"), ap("198.51.100.1:53"))
	w.run()
	assert.Len(t, *seen, 3, "expired mappings make room")
	assert.Len(t, r.Mappings(), 1)
	r.FlushNAT()
	assert.Empty(t, r.Mappings(), "flush forgets every mapping")
	sc.WriteTo([]byte("late"), (*seen)[2].from)
	w.run()
	last := w.drops[len(w.drops)-1]
	assert.Equal(t, ap("10.0.0.99:4000"), last.Dst, "after a flush the reply finds no mapping, and 1:1 NAT sends it to the 1:1 host")
	assert.Equal(t, netem.DropNoHost, last.Reason, "which does not exist yet")

	one, got := w.listen(w.host("dmz", lan, "10.0.0.99"), 7000)
	sc.WriteTo([]byte("unsolicited"), ap("203.0.113.10:7000"))
	one.WriteTo([]byte("out"), ap("198.51.100.1:53"))
	w.run()
	require.Len(t, *got, 1, "1:1 NAT: inbound to any port reaches the 1:1 host, unfiltered")
	assert.Equal(t, ap("203.0.113.10:7000"), (*seen)[3].from, "1:1 NAT keeps the port")
}

// Connection tracking: with conntrack on and every inbound packet denied, replies to the host's
// own UDP and TCP flows still pass; unsolicited packets, and UDP replies after the flow's idle
// timeout (30 s unanswered, 120 s answered), do not.
func TestConntrack(t *testing.T) {
	w := newWorld(t, 1)
	inet := w.n.AddSegment("internet", pfx("0.0.0.0/0"), netem.LinkParams{Latency: 5 * ms})
	cli, srv := w.host("cli", inet, "198.51.100.9"), w.host("srv", inet, "198.51.100.5")
	cli.AddRule(netem.Rule{Name: "deny-in", Dir: netem.In, Action: netem.Deny})
	cli.SetConntrack(true)
	c, got := w.listen(cli, 5000)
	s, _ := w.listen(srv, 53)
	var replies int
	_, err := srv.ListenUDP(54, func(from netip.AddrPort, _ []byte) { replies++ })
	require.NoError(t, err)

	s.WriteTo([]byte("unsolicited"), ap("198.51.100.9:5000"))
	w.run()
	assert.Empty(t, *got, "no flow: the rule drops it")
	c.WriteTo([]byte("query"), ap("198.51.100.5:53"))
	w.run()
	s.WriteTo([]byte("answer"), ap("198.51.100.9:5000"))
	w.run()
	require.Len(t, *got, 1, "a reply to the host's own flow passes")
	w.s.AdvanceTo(w.s.Now().Add(119 * time.Second))
	s.WriteTo([]byte("late but in time"), ap("198.51.100.9:5000"))
	w.run()
	assert.Len(t, *got, 2, "an answered flow lives 120 s")
	w.s.AdvanceTo(w.s.Now().Add(121 * time.Second))
	s.WriteTo([]byte("too late"), ap("198.51.100.9:5000"))
	w.run()
	assert.Len(t, *got, 2, "after 120 s idle the flow is gone")
	assert.Equal(t, uint64(2), cli.RuleHits("deny-in"))

	// TCP: dialing out works through the deny-in rule; dialing in does not.
	w.echoServer(srv, 80)
	w.echoServer(cli, 8080)
	out := w.dial(cli, ap("198.51.100.5:80"), []byte("hello"))
	in := w.dial(srv, ap("198.51.100.9:8080"), []byte("hello"))
	w.run()
	assert.NoError(t, out.err)
	assert.Equal(t, "hello", string(out.data), "replies of an outbound connection pass")
	assert.ErrorIs(t, in.err, netem.ErrTimeout, "inbound connections stay blocked")
}

// Reject vs drop as the client sees it: a reject rule refuses a TCP connect one round trip
// later, and reports ICMP port unreachable to a UDP socket with an error handler (through a NAT,
// which translates the error back); a drop rule leaves the connect to time out at 127 s.
func TestRejectVersusDrop(t *testing.T) {
	for _, tc := range []struct {
		action  netem.Action
		err     error
		at      time.Duration
		udpErrs int
	}{
		{netem.Reject, netem.ErrRefused, 22 * ms, 1}, // SYN out 1+10 ms, RST back 10+1 ms
		{netem.Deny, netem.ErrTimeout, 127 * time.Second, 0},
	} {
		t.Run(tc.action.String(), func(t *testing.T) {
			w := newWorld(t, 1)
			inet := w.n.AddSegment("internet", pfx("0.0.0.0/0"), netem.LinkParams{Latency: 10 * ms})
			lan, _ := w.home("home", inet, "203.0.113.10", netem.LinkParams{Latency: ms}, true)
			cli, srv := w.host("cli", lan, "192.168.1.2"), w.host("srv", inet, "198.51.100.5")
			srv.AddRule(netem.Rule{Name: "no-service", Dir: netem.In, Action: tc.action})
			st := w.dial(cli, ap("198.51.100.5:80"), nil)
			c, _ := w.listen(cli, 5000)
			var udpErrs []error
			c.SetErrorHandler(func(to netip.AddrPort, err error) {
				assert.Equal(t, ap("198.51.100.5:9000"), to, "the error names the datagram's destination")
				udpErrs = append(udpErrs, err)
			})
			c.WriteTo([]byte("hi"), ap("198.51.100.5:9000"))
			w.run()
			require.True(t, st.closed)
			assert.ErrorIs(t, st.err, tc.err)
			assert.Equal(t, tc.at, st.closedAt.Duration(), "the client learns at")
			require.Len(t, udpErrs, tc.udpErrs)
			if tc.udpErrs > 0 {
				assert.ErrorIs(t, udpErrs[0], netem.ErrPortUnreachable)
			}
		})
	}
}

// An egress reject answers the host's own socket at once.
func TestEgressRejectIsImmediate(t *testing.T) {
	w := newWorld(t, 1)
	inet := w.n.AddSegment("internet", pfx("0.0.0.0/0"), netem.LinkParams{Latency: 10 * ms})
	cli := w.host("cli", inet, "198.51.100.9")
	w.host("srv", inet, "198.51.100.5")
	cli.AddRule(netem.Rule{Name: "no-web", Dir: netem.Out, Proto: netem.TCP, RemotePorts: netem.PortRange{Lo: 80, Hi: 443}, Action: netem.Reject})
	st := w.dial(cli, ap("198.51.100.5:443"), nil)
	w.run()
	assert.ErrorIs(t, st.err, netem.ErrRefused)
	assert.Equal(t, time.Duration(0), st.closedAt.Duration())
	assert.Equal(t, uint64(1), cli.RuleHits("no-web"))
}

// Host down and up, partition and heal: packets are dropped with their reasons, and flow again
// afterwards.
func TestHostDownAndPartition(t *testing.T) {
	w := newWorld(t, 1)
	inet := w.n.AddSegment("internet", pfx("0.0.0.0/0"), netem.LinkParams{Latency: 10 * ms})
	office, _ := w.home("office", inet, "203.0.113.10", netem.LinkParams{Latency: ms}, true,
		netem.Forward{Proto: netem.UDP, Port: 9000, To: ap("192.168.1.5:9000")})
	home, _ := w.n.AddSegment("home", pfx("10.9.0.0/24"), netem.LinkParams{}), 0
	_, err := w.n.AddRouter(netem.RouterConfig{Name: "home-router", Inside: home, InsideAddr: ip("10.9.0.1"), Outside: inet, OutsideAddr: ip("203.0.113.20"), NAT: true})
	require.NoError(t, err)
	srv := w.host("srv", office, "192.168.1.5")
	_, got := w.listen(srv, 9000)
	c, _ := w.listen(w.host("cli", home, "10.9.0.2"), 0)
	send := func() { c.WriteTo([]byte("x"), ap("203.0.113.10:9000")); w.run() }

	srv.SetDown(true)
	send()
	assert.Equal(t, netem.DropHostDown, w.drops[len(w.drops)-1].Reason)
	srv.SetDown(false)
	send()
	assert.Len(t, *got, 1, "back up: delivered")

	require.NoError(t, w.n.Partition(inet, office))
	send()
	assert.Equal(t, netem.DropPartition, w.drops[len(w.drops)-1].Reason, "internet/office partition cuts a path from a third network")
	assert.Equal(t, "office", w.drops[len(w.drops)-1].Where)
	assert.True(t, w.n.Heal(office, inet))
	send()
	assert.Len(t, *got, 2, "healed: delivered")
	require.NoError(t, w.n.Partition(home, office))
	send()
	assert.Equal(t, netem.DropPartition, w.drops[len(w.drops)-1].Reason, "distant networks can be partitioned too")
}

// DNS: records, NXDOMAIN and an unreachable resolver, with Go's error values.
func TestResolver(t *testing.T) {
	w := newWorld(t, 1)
	inet := w.n.AddSegment("internet", pfx("0.0.0.0/0"), netem.LinkParams{})
	h := w.host("cli", inet, "198.51.100.9")
	res := w.n.DNS()
	res.Add("grid.example.org", ip("203.0.113.7"))
	res.SetDelay(20 * ms)
	type answer struct {
		at    time.Duration
		addrs []netip.Addr
		err   error
	}
	look := func(name string) *answer {
		a := &answer{}
		h.Resolve(name, func(addrs []netip.Addr, err error) { *a = answer{w.s.Now().Duration(), addrs, err} })
		w.run()
		return a
	}
	a := look("GRID.example.org.")
	assert.Equal(t, []netip.Addr{ip("203.0.113.7")}, a.addrs, "names are case-insensitive, trailing dot ignored")
	assert.Equal(t, 20*ms, a.at)
	a = look("nope.example.org")
	var de *net.DNSError
	require.True(t, errors.As(a.err, &de))
	assert.True(t, de.IsNotFound, "NXDOMAIN is IsNotFound")
	assert.Equal(t, "lookup nope.example.org: no such host", a.err.Error())
	res.SetUnreachable(true)
	start := w.s.Now().Duration()
	a = look("grid.example.org")
	require.True(t, errors.As(a.err, &de))
	assert.True(t, de.IsTimeout, "an unreachable resolver times out")
	assert.Equal(t, netem.ResolverTimeout, a.at-start)
	a = look("203.0.113.9")
	assert.Equal(t, []netip.Addr{ip("203.0.113.9")}, a.addrs, "an IP literal resolves to itself")
}

// MTU and a rate-limited FIFO: oversized datagrams are dropped (mtu); a burst beyond the queue
// is tail-dropped (queue-full), and the rest leave one transmission time apart.
func TestMTUAndQueue(t *testing.T) {
	w := newWorld(t, 1)
	// 1000-byte payload + 28 header bytes at 1,028,000 bit/s: 8 ms per packet.
	inet := w.n.AddSegment("internet", pfx("0.0.0.0/0"), netem.LinkParams{Latency: 10 * ms, Rate: 1_028_000, Queue: 5, MTU: 1100})
	c, _ := w.listen(w.host("cli", inet, "198.51.100.9"), 0)
	_, got := w.listen(w.host("srv", inet, "198.51.100.5"), 9000)
	c.WriteTo(make([]byte, 1100), ap("198.51.100.5:9000"))
	for range 8 {
		c.WriteTo(make([]byte, 1000), ap("198.51.100.5:9000"))
	}
	w.run()
	reasons := map[netem.Reason]int{}
	for _, d := range w.drops {
		reasons[d.Reason]++
	}
	assert.Equal(t, map[netem.Reason]int{netem.DropMTU: 1, netem.DropQueueFull: 3}, reasons)
	require.Len(t, *got, 5)
	for i, g := range *got {
		assert.Equal(t, time.Duration(i+1)*8*ms+10*ms, g.at.Duration(), "packet %d leaves after %d transmissions", i, i+1)
	}
}

// Duplication, reordering and corruption happen at their configured rates; corrupted TCP
// segments fail the checksum and are retransmitted, so the stream still arrives intact.
func TestDuplicateReorderCorrupt(t *testing.T) {
	w := newWorld(t, 3)
	inet := w.n.AddSegment("internet", pfx("0.0.0.0/0"), netem.LinkParams{Latency: 10 * ms,
		Duplicate: 0.1, Reorder: 0.2, ReorderGap: 2, Corrupt: 0.05})
	c, _ := w.listen(w.host("cli", inet, "198.51.100.9"), 0)
	_, got := w.listen(w.host("srv", inet, "198.51.100.5"), 9000)
	const n = 4000
	for i := range n {
		w.s.At(sim.Time(time.Duration(i)*ms), "test/send", func() { c.WriteTo([]byte("0123456789"), ap("198.51.100.5:9000")) })
	}
	w.run()
	dup, reo, cor := float64(w.counter("link/duplicated")), float64(w.counter("link/reordered")), float64(w.counter("link/corrupted"))
	assert.InDelta(t, 0.1*n, dup, 0.1*n*0.15, "duplicates")
	assert.InDelta(t, 0.05*(n+dup), cor, 0.05*n*0.2, "corrupted")
	assert.Greater(t, reo, 0.05*n, "reordered")
	assert.Len(t, *got, n+int(dup))
	flipped := 0
	for _, g := range *got {
		if g.data != "0123456789" {
			flipped++
		}
	}
	assert.Equal(t, int(cor), flipped, "every corrupted datagram has one flipped bit (the receiver must cope)")

	srv := w.host("web", inet, "198.51.100.6")
	w.echoServer(srv, 80)
	payload := []byte(strings.Repeat("gridlab ", 4000))
	st := w.dial(w.host("browser", inet, "198.51.100.7"), ap("198.51.100.6:80"), payload)
	w.run()
	assert.Equal(t, string(payload), string(st.data), "TCP delivers intact through duplication, reordering and corruption")
	assert.Greater(t, w.counter("drop/checksum"), uint64(0))
}

// A capture of a NATed UDP exchange and a TCP handshake reads back with tshark (skipped when
// tshark is not installed): the same datagram before and after NAT, and the drops sidecar.
func TestPcapReadsBackWithTshark(t *testing.T) {
	w := newWorld(t, 1)
	inet := w.n.AddSegment("internet", pfx("0.0.0.0/0"), netem.LinkParams{Latency: 10 * ms})
	lan, _ := w.home("home", inet, "203.0.113.10", netem.LinkParams{Latency: ms}, true)
	dir := t.TempDir()
	path := filepath.Join(dir, "run.pcap")
	pf, err := os.Create(path)
	require.NoError(t, err)
	df, err := os.Create(path + ".drops.txt")
	require.NoError(t, err)
	require.NoError(t, w.n.StartCapture(pf, df))
	cli, srv := w.host("cli", lan, "192.168.1.2"), w.host("srv", inet, "198.51.100.5")
	srv.AddRule(netem.Rule{Name: "reject-9001", Dir: netem.In, LocalPorts: netem.PortRange{Lo: 9001}, Action: netem.Reject})
	c, _ := w.listen(cli, 5000)
	w.listen(srv, 9000)
	w.echoServer(srv, 80)
	c.WriteTo([]byte("hello"), ap("198.51.100.5:9000"))
	c.WriteTo([]byte("refused"), ap("198.51.100.5:9001"))
	w.dial(cli, ap("198.51.100.5:80"), []byte("GET /"))
	w.run()
	require.NoError(t, w.n.StopCapture())
	drops, err := os.ReadFile(path + ".drops.txt")
	require.NoError(t, err)
	assert.Contains(t, string(drops), "5\t0.011s udp 203.0.113.10:5000 > 198.51.100.5:9001 dropped at srv: firewall (reject-9001)")

	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark is not installed")
	}
	out, err := exec.Command(tshark, "-r", path, "-T", "fields", "-e", "frame.number", "-e", "frame.time_epoch",
		"-e", "ip.src", "-e", "ip.dst", "-e", "_ws.col.Protocol", "-e", "_ws.expert").Output()
	require.NoError(t, err, string(out))
	t.Logf("tshark:\n%s", out)
	text := string(out)
	assert.Contains(t, text, "1\t0.000000000\t192.168.1.2\t198.51.100.5\tUDP\t", "first: the datagram on the home LAN")
	assert.Contains(t, text, "\t0.001000000\t203.0.113.10\t198.51.100.5\tUDP\t", "then on the internet, after NAT")
	assert.Contains(t, text, "ICMP", "the reject's port unreachable")
	assert.Contains(t, text, "TCP")
	assert.NotContains(t, text, "checksum", "no bad checksums")
	assert.NotContains(t, strings.ToLower(text), "malformed")

	// pcapng: the dropped datagram's record carries the drop as a comment, records after a NAT
	// say what it translated, and every record names the segment it was seen on.
	out, err = exec.Command(tshark, "-r", path, "-Y", "frame.comment", "-T", "fields", "-e", "frame.number",
		"-e", "frame.interface_name", "-e", "udp.dstport", "-e", "frame.comment").Output()
	require.NoError(t, err, string(out))
	t.Logf("commented frames:\n%s", out)
	var dropped []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.Contains(line, "dropped") {
			dropped = append(dropped, line)
		}
	}
	assert.Equal(t, []string{"5\tinternet\t9001\tNAT home-router: source 192.168.1.2:5000 → 203.0.113.10:5000; dropped: firewall (rule reject-9001) at srv"},
		dropped, "one frame is dropped: the datagram to 9001 on the internet, after NAT, by the reject rule")
	assert.Contains(t, string(out), "4\tinternet\t9000\tNAT home-router: source 192.168.1.2:5000 → 203.0.113.10:5000\n",
		"the delivered datagram's record after the NAT says what the NAT did")
	assert.Contains(t, string(out), "\thome\t\tNAT home-router: destination 203.0.113.10:32768 → 192.168.1.2:32768\n",
		"and so does the SYN-ACK's on its way back in")
}
