package netem_test

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gridlab/netem"
	"gridlab/sim"
)

func payload(s *sim.Sim, n int) []byte {
	r := s.Rand("test/payload")
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// 100 KB echoed over a path with 5% loss each way (data and acks alike) arrives intact and in
// order at both ends, both sides see a clean close, and retransmissions were needed.
func TestTCPEchoOverLossyPath(t *testing.T) {
	cases := []struct {
		name string
		nat  bool
	}{{"direct", false}, {"through home NAT", true}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, 3)
			inet := w.n.AddSegment("internet", pfx("0.0.0.0/0"), netem.LinkParams{Latency: 20 * ms, Jitter: 5 * ms, Loss: 0.05})
			srv := w.host("srv", inet, "198.51.100.5")
			var cli *netem.Host
			if tc.nat {
				lan, _ := w.home("home", inet, "203.0.113.10", netem.LinkParams{Latency: ms}, true)
				cli = w.host("cli", lan, "192.168.1.2")
			} else {
				cli = w.host("cli", inet, "198.51.100.9")
			}
			conns := w.echoServer(srv, 8002)
			data := payload(w.s, 100_000)
			st := w.dial(cli, ap("198.51.100.5:8002"), data)
			w.run()
			require.True(t, st.closed)
			require.NoError(t, st.err)
			require.Equal(t, len(data), len(st.data))
			require.Equal(t, data, st.data)
			require.Len(t, *conns, 1)
			assert.Equal(t, data, (*conns)[0].data)
			assert.NoError(t, (*conns)[0].err)
			assert.Greater(t, w.counter("tcp/retransmits"), uint64(0))
			assert.Greater(t, w.counter("drop/loss"), uint64(0))
			assert.Equal(t, uint64(1), w.counter("tcp/connects"))
			assert.Equal(t, uint64(1), w.counter("tcp/accepts"))
			if tc.nat {
				assert.Equal(t, netip.MustParseAddr("203.0.113.10"), (*conns)[0].c.RemoteAddr().Addr())
			}
		})
	}
}

// A SYN to a host without a listener is answered with RST: the dialer gets ErrRefused one
// round trip later, and the SYN is recorded as a no-listener drop at the server.
func TestTCPClosedPortRefusedAfterOneRTT(t *testing.T) {
	w := newWorld(t, 1)
	inet := w.n.AddSegment("internet", pfx("0.0.0.0/0"), netem.LinkParams{Latency: 25 * ms})
	cli, _ := w.host("cli", inet, "198.51.100.9"), w.host("srv", inet, "198.51.100.5")
	st := w.dial(cli, ap("198.51.100.5:8002"), nil)
	w.run()
	require.True(t, st.closed)
	assert.ErrorIs(t, st.err, netem.ErrRefused)
	assert.True(t, errors.Is(st.err, syscall.ECONNREFUSED))
	assert.Equal(t, "connect: connection refused", st.err.Error())
	assert.Equal(t, 50*ms, st.closedAt.Duration())
	require.Len(t, w.drops, 1)
	assert.Equal(t, netem.DropNoListener, w.drops[0].Reason)
	assert.Equal(t, "srv", w.drops[0].Where)
	assert.Equal(t, uint64(1), w.counter("tcp/refused"))
}

// A blackholed SYN is retransmitted on Linux's schedule and the dial fails with ErrTimeout: by
// default the classic one (1 s doubling, 6 retries: sent at 0,1,3,7,15,31,63 s, ETIMEDOUT at
// 127 s), or Linux >= 6.5's linear one (0,1,2,3,4,5,7,11,19,35,67 s, ETIMEDOUT at 131 s).
func TestTCPBlackholedSYNSchedule(t *testing.T) {
	s := time.Second
	for _, tc := range []struct {
		name     string
		schedule netem.SYNSchedule
		sent     []time.Duration
		fails    time.Duration
	}{
		{"classic (default)", netem.SYNClassic, []time.Duration{0, 1 * s, 3 * s, 7 * s, 15 * s, 31 * s, 63 * s}, 127 * s},
		{"linear (Linux >= 6.5)", netem.SYNLinear, []time.Duration{0, 1 * s, 2 * s, 3 * s, 4 * s, 5 * s, 7 * s, 11 * s, 19 * s, 35 * s, 67 * s}, 131 * s},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, 1)
			w.n.SetSYNSchedule(tc.schedule)
			inet := w.n.AddSegment("internet", pfx("0.0.0.0/0"), netem.LinkParams{Latency: 25 * ms})
			cli, srv := w.host("cli", inet, "198.51.100.9"), w.host("srv", inet, "198.51.100.5")
			srv.AddRule(netem.Rule{Name: "drop-login", Dir: netem.In, Proto: netem.TCP, LocalPorts: netem.PortRange{Lo: 8002}, Action: netem.Deny})
			w.echoServer(srv, 8002)
			st := w.dial(cli, ap("198.51.100.5:8002"), nil)
			w.run()
			var sent []time.Duration
			for _, d := range w.drops {
				require.Equal(t, netem.DropFirewall, d.Reason)
				require.Equal(t, "drop-login", d.Rule)
				sent = append(sent, d.At.Duration()-25*ms)
			}
			assert.Equal(t, tc.sent, sent, "SYNs sent at")
			require.True(t, st.closed)
			assert.ErrorIs(t, st.err, netem.ErrTimeout)
			assert.Equal(t, tc.fails, st.closedAt.Duration(), "dial fails at")
			assert.Equal(t, uint64(len(tc.sent)-1), w.counter("tcp/retransmits"))
			assert.Equal(t, uint64(1), w.counter("tcp/timeouts"))
			assert.Equal(t, uint64(len(tc.sent)), srv.RuleHits("drop-login"), "the rule counts every SYN it dropped")
		})
	}
}

// A lost SYN-ACK is recovered: the server retransmits it (or answers the client's retransmitted
// SYN), and the connection completes. Loss is applied only on the server's LAN, which the SYN-ACK
// crosses first, for the first second.
func TestTCPSYNACKLoss(t *testing.T) {
	w := newWorld(t, 1)
	inet := w.n.AddSegment("internet", pfx("0.0.0.0/0"), netem.LinkParams{Latency: 10 * ms})
	dc := w.n.AddSegment("dc", pfx("10.1.0.0/16"), netem.LinkParams{Latency: ms})
	_, err := w.n.AddRouter(netem.RouterConfig{Name: "dc-router", Inside: dc, InsideAddr: ip("10.1.0.1"), Outside: inet,
		OutsideAddr: ip("198.51.100.1"), NAT: true, Forwards: []netem.Forward{{Proto: netem.TCP, Port: 80, To: ap("10.1.0.5:80")}}})
	require.NoError(t, err)
	srv, cli := w.host("srv", dc, "10.1.0.5"), w.host("cli", inet, "198.51.100.9")
	srv.AddRule(netem.Rule{Name: "drop-synack", Dir: netem.Out, Proto: netem.TCP, Action: netem.Deny})
	w.s.At(sim.Time(1500*ms), "test/unblock", func() { srv.RemoveRule("drop-synack") })
	conns := w.echoServer(srv, 80)
	st := w.dial(cli, ap("198.51.100.1:80"), []byte("GET / HTTP/1.1\r\n\r\n"))
	w.run()
	require.NoError(t, st.err)
	assert.Equal(t, "GET / HTTP/1.1\r\n\r\n", string(st.data))
	require.Len(t, *conns, 1)
	// The client's SYN retransmissions (1 s, 3 s) and the server's SYN-ACK ones (1 s, then 2 s
	// later) straddle the unblocking: the SYN-ACK answering the 3 s SYN gets through.
	assert.Greater(t, st.connected.Duration(), 1500*ms)
	assert.Less(t, st.connected.Duration(), 3100*ms)
}

// Abort sends RST: the peer's handler gets ErrReset and the aborting side gets no callback.
func TestTCPAbortResetsPeer(t *testing.T) {
	w := newWorld(t, 1)
	inet := w.n.AddSegment("internet", pfx("0.0.0.0/0"), netem.LinkParams{Latency: 10 * ms})
	cli, srv := w.host("cli", inet, "198.51.100.9"), w.host("srv", inet, "198.51.100.5")
	var server *stream
	_, err := srv.ListenTCP(80, func(c *netem.TCPConn) netem.StreamHandler {
		server = &stream{s: w.s, c: c}
		return server
	})
	require.NoError(t, err)
	st := &stream{s: w.s}
	st.onConnect = func(st *stream) {
		st.c.Write([]byte("hi"))
		w.s.After(time.Second, "test/abort", st.c.Abort)
	}
	st.c = cli.DialTCP(ap("198.51.100.5:80"), st)
	w.run()
	require.NotNil(t, server)
	assert.Equal(t, "hi", string(server.data))
	require.True(t, server.closed)
	assert.ErrorIs(t, server.err, netem.ErrReset)
	assert.True(t, errors.Is(server.err, syscall.ECONNRESET))
	assert.False(t, st.closed, "no callback after Abort")
}

// When the path goes dark after the handshake, data is retransmitted with exponential backoff
// and the connection fails with ErrTimeout after 15 retransmissions.
func TestTCPDataTimeout(t *testing.T) {
	w := newWorld(t, 1)
	inet := w.n.AddSegment("internet", pfx("0.0.0.0/0"), netem.LinkParams{Latency: 10 * ms})
	cli, srv := w.host("cli", inet, "198.51.100.9"), w.host("srv", inet, "198.51.100.5")
	w.echoServer(srv, 80)
	st := &stream{s: w.s}
	st.onConnect = func(st *stream) {
		inet.SetParams(netem.LinkParams{Latency: 10 * ms, Loss: 1})
		st.c.Write([]byte("into the void"))
	}
	st.c = cli.DialTCP(ap("198.51.100.5:80"), st)
	w.run()
	require.True(t, st.closed)
	assert.ErrorIs(t, st.err, netem.ErrTimeout)
	// 15 data retransmissions by the client + 5 SYN-ACK retransmissions by the server, whose
	// handshake never completed because the client's ACK went into the void too.
	assert.Equal(t, uint64(15+5), w.counter("tcp/retransmits"))
	// Written at 20 ms; RTO 200 ms (RTT 20 ms, clamped to the minimum) doubling to the 120 s cap:
	// 0.2 + (0.4+0.8+...+102.4) + 6*120 = 924.6 s, Linux's tcp_retries2 figure.
	assert.InDelta(t, 0.02+924.6, st.closedAt.Seconds(), 0.001)
}

// Same seed twice → same trace hash; another seed → a different hash (lossy, jittery scenario
// with UDP and TCP).
func TestDeterminism(t *testing.T) {
	run := func(seed uint64) (uint64, []netem.Counter) {
		w := newWorld(t, seed)
		inet := w.n.AddSegment("internet", pfx("0.0.0.0/0"), netem.LinkParams{Latency: 20 * ms, Jitter: 10 * ms, Loss: 0.05})
		lan, _ := w.home("home", inet, "203.0.113.10", netem.LinkParams{Latency: ms, Jitter: ms, Loss: 0.01}, true)
		srv, cli := w.host("srv", inet, "198.51.100.5"), w.host("cli", lan, "192.168.1.2")
		w.echoServer(srv, 80)
		st := w.dial(cli, ap("198.51.100.5:80"), payload(w.s, 20_000))
		w.listen(srv, 9000)
		uc, _ := cli.ListenUDP(0, nil)
		for i := range 200 {
			w.s.At(sim.Time(time.Duration(i)*10*ms), "test/udp", func() { uc.WriteTo([]byte{byte(i)}, ap("198.51.100.5:9000")) })
		}
		w.run()
		require.NoError(t, st.err)
		return w.s.TraceHash(), w.n.Counters()
	}
	h1, c1 := run(11)
	h2, c2 := run(11)
	h3, _ := run(12)
	assert.Equal(t, h1, h2)
	assert.Equal(t, c1, c2)
	assert.NotEqual(t, h1, h3)
}

// Connections that come and go, overlapping, each echo their own bytes intact over a lossy path:
// the send buffers idle connections leave behind are reused by later ones (TCPConn.Write), and
// a reused buffer must never carry another connection's bytes.
func TestTCPReusedSendBuffersKeepEachConnectionsBytes(t *testing.T) {
	w := newWorld(t, 5)
	inet := w.n.AddSegment("internet", pfx("0.0.0.0/0"), netem.LinkParams{Latency: 20 * ms, Jitter: 5 * ms, Loss: 0.02})
	srv := w.host("srv", inet, "198.51.100.5")
	cli := w.host("cli", inet, "198.51.100.9")
	w.echoServer(srv, 8002)
	const conns = 40
	sts := make([]*stream, conns)
	data := make([][]byte, conns)
	for i := range conns {
		r := w.s.Rand(fmt.Sprintf("test/payload/%d", i)) // 1 KB to 40 KB, each its own bytes
		data[i] = make([]byte, 1000+997*i)
		for k := range data[i] {
			data[i][k] = byte(r.Uint32())
		}
		w.s.After(time.Duration(i)*150*ms, "dial", func() { sts[i] = w.dial(cli, ap("198.51.100.5:8002"), data[i]) })
	}
	w.run()
	for i, st := range sts {
		require.NotNil(t, st, "connection %d was dialled", i)
		require.NoError(t, st.err, "connection %d", i)
		require.Equal(t, data[i], st.data, "connection %d got its own bytes back", i)
	}
}
