package netem_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"gridlab/netem"
	"gridlab/sim"
)

const ms = time.Millisecond

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
func ip(s string) netip.Addr     { return netip.MustParseAddr(s) }
func pfx(s string) netip.Prefix  { return netip.MustParsePrefix(s) }

// world is a small test topology with a drop log.
type world struct {
	t     testing.TB
	s     *sim.Sim
	n     *netem.Network
	drops []netem.Drop
}

func newWorld(t testing.TB, seed uint64) *world {
	s := sim.New(seed)
	w := &world{t: t, s: s, n: netem.New(s)}
	w.n.OnDrop(func(d netem.Drop) { w.drops = append(w.drops, d) })
	return w
}

func (w *world) host(name string, seg *netem.Segment, addr string) *netem.Host {
	h, err := w.n.AddHost(name, seg, ip(addr))
	require.NoError(w.t, err)
	return h
}

// home adds a LAN 192.168.<k>.0/24 behind a NAT router with public address pub on outside.
func (w *world) home(name string, outside *netem.Segment, pub string, p netem.LinkParams, hairpin bool, fwd ...netem.Forward) (*netem.Segment, *netem.Router) {
	lan := w.n.AddSegment(name, pfx("192.168.1.0/24"), p)
	r, err := w.n.AddRouter(netem.RouterConfig{
		Name: name + "-router", Inside: lan, InsideAddr: ip("192.168.1.1"),
		Outside: outside, OutsideAddr: ip(pub), NAT: true, Hairpin: hairpin, Forwards: fwd,
	})
	require.NoError(w.t, err)
	return lan, r
}

func (w *world) counter(name string) uint64 {
	for _, c := range w.n.Counters() {
		if c.Name == name {
			return c.Value
		}
	}
	w.t.Fatalf("no counter %q", name)
	return 0
}

func (w *world) run() {
	w.s.SetBudget(50_000_000)
	require.NoError(w.t, w.s.Run())
}

// datagram is one received UDP datagram.
type datagram struct {
	at   sim.Time
	from netip.AddrPort
	data string
}

// listen binds a UDP socket that records what it receives.
func (w *world) listen(h *netem.Host, port uint16) (*netem.UDPConn, *[]datagram) {
	var got []datagram
	c, err := h.ListenUDP(port, func(from netip.AddrPort, b []byte) {
		got = append(got, datagram{w.s.Now(), from, string(b)})
	})
	require.NoError(w.t, err)
	return c, &got
}

// stream records a TCP connection's callbacks.
type stream struct {
	s         *sim.Sim
	c         *netem.TCPConn
	connected sim.Time
	data      []byte
	closed    bool
	err       error
	closedAt  sim.Time
	onConnect func(st *stream)
	onData    func(st *stream, b []byte)
	onClose   func(st *stream, err error)
}

func (st *stream) OnConnect() {
	st.connected = st.s.Now()
	if st.onConnect != nil {
		st.onConnect(st)
	}
}

func (st *stream) OnData(b []byte) {
	st.data = append(st.data, b...)
	if st.onData != nil {
		st.onData(st, b)
	}
}

func (st *stream) OnClose(err error) {
	if st.closed {
		panic("OnClose called twice")
	}
	st.closed, st.err, st.closedAt = true, err, st.s.Now()
	if st.onClose != nil {
		st.onClose(st, err)
	}
}

// echoServer listens on port and echoes everything; it closes after the peer's FIN.
func (w *world) echoServer(h *netem.Host, port uint16) *[]*stream {
	var conns []*stream
	_, err := h.ListenTCP(port, func(c *netem.TCPConn) netem.StreamHandler {
		st := &stream{s: w.s, c: c,
			onData:  func(st *stream, b []byte) { st.c.Write(b) },
			onClose: func(st *stream, err error) { st.c.Close() },
		}
		conns = append(conns, st)
		return st
	})
	require.NoError(w.t, err)
	return &conns
}

// dial connects and, once connected, writes payload and closes.
func (w *world) dial(h *netem.Host, to netip.AddrPort, payload []byte) *stream {
	st := &stream{s: w.s, connected: -1, onConnect: func(st *stream) {
		st.c.Write(payload)
		st.c.Close()
	}}
	st.c = h.DialTCP(to, st)
	return st
}
