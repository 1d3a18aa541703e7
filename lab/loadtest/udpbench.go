package loadtest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/google/uuid"

	"gridlab/lab/circuit"
	"gridlab/lab/lludp"
	"gridlab/lab/login"
	"gridlab/lab/realnet"
	"gridlab/lab/region"
	"gridlab/netem"
	"gridlab/sim"
)

// BenchConfig is the UDP pipeline benchmark's workload: Circuits raw circuits (UseCircuitCode
// straight to a region that was told to expect them, no login) each sending a reliable
// AgentUpdate Rate times a second for Duration; the region decodes, acks (its ack timer runs
// every AckDelay) and answers the circuits' StartPingCheck, one a second per circuit.
type BenchConfig struct {
	Circuits int
	Rate     float64 // AgentUpdates per second per circuit
	Duration time.Duration
	AckDelay time.Duration // the region's ack flush interval (default 10 ms; OpenSim's is 500 ms)
}

// BenchResult is what one path of the benchmark measured.
type BenchResult struct {
	Path      string
	Circuits  int
	Connected int           // circuits whose UseCircuitCode was acked
	Window    time.Duration // the measured window: wall time on sockets, virtual time on netem
	Wall      time.Duration // wall time the window took to compute
	// Datagrams during the window.
	ClientSent, ClientReceived uint64
	RegionReceived, RegionSent uint64
	AgentUpdates               uint64 // decoded by the region
	Acked                      uint64 // AgentUpdates whose ack came back
	Resent                     uint64 // reliable resends, both sides
	Lost                       uint64 // datagrams sent that never arrived (either direction)
	LoopDropped                uint64 // datagrams dropped because an event loop's queue was full
	AckLatency                 *hdrhistogram.Histogram
	PingRTT                    *hdrhistogram.Histogram
}

// PacketsPerSecond is the datagrams the region handled (received + sent) per second of the
// window's own clock.
func (r *BenchResult) PacketsPerSecond() float64 {
	return float64(r.RegionReceived+r.RegionSent) / r.Window.Seconds()
}

// WallPacketsPerSecond is the same per second of wall time: what the pipeline costs to run.
func (r *BenchResult) WallPacketsPerSecond() float64 {
	return float64(r.RegionReceived+r.RegionSent) / r.Wall.Seconds()
}

func (c *BenchConfig) check() error {
	switch {
	case c.Circuits < 1:
		return fmt.Errorf("bench: %d circuits: want at least 1", c.Circuits)
	case c.Circuits > 20000:
		return fmt.Errorf("bench: %d circuits: at most 20000 (one socket each)", c.Circuits)
	case !(c.Rate > 0) || c.Rate > 1000:
		return fmt.Errorf("bench: rate %v: want 0 < rate <= 1000 AgentUpdates/s per circuit", c.Rate)
	case c.Duration <= 0:
		return fmt.Errorf("bench: duration %v: want > 0", c.Duration)
	}
	if c.AckDelay <= 0 {
		c.AckDelay = 10 * time.Millisecond
	}
	return nil
}

type nopLog struct{}

func (nopLog) Logf(string, string, ...any) {}

// benchClock is what the workload needs of a clock: the loop's or the simulator's Sim.
type benchClock = region.Clock

type sentAt struct {
	seq uint32
	at  sim.Time
}

// benchClient is one raw circuit: the viewer's end, without a viewer.
type benchClient struct {
	w         *workload
	c         *circuit.Circuit
	ac        login.AgentCircuit
	ucc       uint32
	connected bool
	sending   bool
	out       []sentAt
	pingAt    [256]sim.Time
	pingID    uint8
}

// workload drives the clients; it runs on one goroutine (a loop, or the simulator).
type workload struct {
	cfg        BenchConfig
	clock      benchClock
	clients    []*benchClient
	connected  int
	measuring  bool
	acked      uint64
	ack, ping  *hdrhistogram.Histogram
	onAllReady func()
}

func newWorkload(cfg BenchConfig, clock benchClock) *workload {
	return &workload{
		cfg: cfg, clock: clock,
		ack:  hdrhistogram.New(1, int64(time.Minute/time.Microsecond), 3),
		ping: hdrhistogram.New(1, int64(time.Minute/time.Microsecond), 3),
	}
}

// newClient sets up circuit k's client end; the region must be told to expect cl.ac.
func (w *workload) newClient(k int, rng *rand.Rand, send func(b []byte)) *benchClient {
	aid, _ := uuid.NewRandomFromReader(chachaReader{rng})
	sid, _ := uuid.NewRandomFromReader(chachaReader{rng})
	cl := &benchClient{w: w, ac: login.AgentCircuit{AgentID: aid, SessionID: sid, CircuitCode: uint32(100000 + k),
		First: "Bench", Last: fmt.Sprintf("Circuit%d", k), ViaLogin: true}}
	cl.c = circuit.New(circuit.Config{
		Clock: w.clock, Send: send, Deliver: cl.deliver,
		ResendTimeout: time.Second, MaxResends: 3, AckDelay: 100 * time.Millisecond, Piggyback: true,
	})
	w.clients = append(w.clients, cl)
	return cl
}

// chachaReader reads random bytes from a math/rand generator (for UUIDs).
type chachaReader struct{ r *rand.Rand }

func (c chachaReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(c.r.Uint32())
	}
	return len(p), nil
}

func (cl *benchClient) connect() {
	cl.ucc = cl.c.SendReliable(&lludp.UseCircuitCode{Code: cl.ac.CircuitCode, SessionID: cl.ac.SessionID, AgentID: cl.ac.AgentID})
}

func (cl *benchClient) deliver(p *lludp.Packet) {
	if p.ID == lludp.MsgCompletePingCheck {
		var m lludp.CompletePingCheck
		if m.DecodeBody(p.Body) == nil && cl.pingAt[m.PingID] > 0 && cl.w.measuring {
			_ = cl.w.ping.RecordValue(int64(cl.w.clock.Now().Sub(cl.pingAt[m.PingID]) / time.Microsecond))
			cl.pingAt[m.PingID] = 0
		}
	}
}

// receive hands a datagram from the region to the circuit and notes the acks it carried.
func (cl *benchClient) receive(b []byte) {
	cl.c.Receive(b)
	w := cl.w
	if !cl.connected && cl.ucc != 0 && !cl.c.Pending(cl.ucc) {
		cl.connected = true
		w.connected++
		if w.connected == len(w.clients) && w.onAllReady != nil {
			w.onAllReady()
		}
	}
	now := w.clock.Now()
	kept := cl.out[:0]
	for _, s := range cl.out {
		if cl.c.Pending(s.seq) {
			kept = append(kept, s)
			continue
		}
		if w.measuring {
			w.acked++
			_ = w.ack.RecordValue(int64(now.Sub(s.at) / time.Microsecond))
		}
	}
	cl.out = kept
}

// start begins client k's AgentUpdates, phased so that the circuits spread over the period.
func (w *workload) start(k int, cl *benchClient) {
	period := time.Duration(float64(time.Second) / w.cfg.Rate)
	phase := time.Duration(int64(period) * int64(k) / int64(len(w.clients)))
	cl.sending = true
	var tick func()
	tick = func() {
		if !cl.sending {
			return
		}
		seq := cl.c.SendReliable(&lludp.AgentUpdate{AgentID: cl.ac.AgentID, SessionID: cl.ac.SessionID, CameraCenter: [3]float32{128, 128, 25}, Far: 64})
		cl.out = append(cl.out, sentAt{seq, w.clock.Now()})
		w.clock.After(period, "bench-agent-update", tick)
	}
	w.clock.After(phase, "bench-agent-update", tick)
	var ping func()
	ping = func() {
		if !cl.sending {
			return
		}
		cl.pingID++
		cl.pingAt[cl.pingID] = w.clock.Now()
		cl.c.Send(&lludp.StartPingCheck{PingID: cl.pingID, OldestUnacked: cl.c.OldestUnacked()})
		w.clock.After(time.Second, "bench-ping", ping)
	}
	w.clock.After(phase+period/2, "bench-ping", ping)
}

func (w *workload) stopSending() {
	for _, cl := range w.clients {
		cl.sending = false
	}
}

func (w *workload) clientStats() circuit.Stats {
	var st circuit.Stats
	for _, cl := range w.clients {
		st.Add(cl.c.Stats())
	}
	return st
}

type snapshot struct {
	client circuit.Stats
	region region.Stats
}

func (w *workload) snap(rg *region.Region) snapshot {
	return snapshot{client: w.clientStats(), region: rg.Stats()}
}

func (w *workload) result(path string, a, b snapshot, window, wall time.Duration) *BenchResult {
	r := &BenchResult{
		Path: path, Circuits: len(w.clients), Connected: w.connected, Window: window, Wall: wall,
		ClientSent:     b.client.PacketsSent - a.client.PacketsSent,
		ClientReceived: b.client.PacketsReceived - a.client.PacketsReceived,
		RegionReceived: b.region.Circuit.PacketsReceived - a.region.Circuit.PacketsReceived,
		RegionSent:     b.region.Circuit.PacketsSent - a.region.Circuit.PacketsSent,
		AgentUpdates:   b.region.AgentUpdates - a.region.AgentUpdates,
		Acked:          w.acked,
		Resent:         (b.client.Resent - a.client.Resent) + (b.region.Circuit.Resent - a.region.Circuit.Resent),
		AckLatency:     w.ack, PingRTT: w.ping,
	}
	if r.ClientSent > r.RegionReceived {
		r.Lost += r.ClientSent - r.RegionReceived
	}
	if r.RegionSent > r.ClientReceived {
		r.Lost += r.RegionSent - r.ClientReceived
	}
	return r
}

// drain is how long the benchmark waits after the window for the last acks.
func (c BenchConfig) drain() time.Duration { return 3*c.AckDelay + 200*time.Millisecond }

// BenchLoopback runs the workload over real UDP sockets on 127.0.0.1: the region on one
// event loop (as gridlab serve runs it), the clients on another (as gridlab load does).
func BenchLoopback(ctx context.Context, cfg BenchConfig) (*BenchResult, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	lo := netip.MustParseAddr("127.0.0.1")
	srv, cli := realnet.New(), realnet.New()
	runCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var done [2]chan struct{}
	for i, l := range []*realnet.Loop{srv, cli} {
		done[i] = make(chan struct{})
		go func() { _ = l.Run(runCtx); close(done[i]) }()
	}
	defer func() { cancel(); <-done[0]; <-done[1] }()

	var rg *region.Region
	var rsock *realnet.UDPConn
	var err error
	if derr := srv.Do(func() {
		rg = region.New(region.Config{Name: "bench", ID: uuid.NewSHA1(uuid.NameSpaceURL, []byte("gridlab/bench")), X: 1000, Y: 1000,
			Clock: srv.Sim, Log: nopLog{}, AckDelay: cfg.AckDelay, Inactivity: time.Hour})
		rsock, err = srv.ListenUDP(netip.AddrPortFrom(lo, 0), rg.Receive)
		if err == nil {
			rg.SetSend(func(to netip.AddrPort, b []byte) { rsock.WriteTo(b, to) })
		}
	}); derr != nil {
		return nil, derr
	}
	if err != nil {
		return nil, fmt.Errorf("bench: region socket: %w", err)
	}
	defer srv.Do(rsock.Close)
	to := rsock.LocalAddr()

	w := newWorkload(cfg, cli.Sim)
	ready := make(chan struct{})
	w.onAllReady = func() { close(ready) }
	rng := realnet.CryptoRand()
	var socks []*realnet.UDPConn
	defer func() {
		_ = cli.Do(func() {
			for _, s := range socks {
				s.Close()
			}
		})
	}()
	if derr := cli.Do(func() {
		for k := range cfg.Circuits {
			var cl *benchClient
			var s *realnet.UDPConn
			s, err = cli.ListenUDPSize(netip.AddrPortFrom(lo, 0), 4096, 0, func(_ netip.AddrPort, b []byte) { cl.receive(b) })
			if err != nil {
				err = fmt.Errorf("bench: client socket %d: %w", k, err)
				return
			}
			socks = append(socks, s)
			send := func(b []byte) { s.WriteTo(b, to) }
			cl = w.newClient(k, rng, send)
			ac := cl.ac
			srv.Post(func() { _ = rg.ExpectAgent(ac) })
		}
	}); derr != nil {
		return nil, derr
	}
	if err != nil {
		return nil, err
	}
	// The region has been told of every circuit (the Posts above) once this returns.
	if err := srv.Do(func() {}); err != nil {
		return nil, err
	}
	if err := cli.Do(func() {
		for _, cl := range w.clients {
			cl.connect()
		}
	}); err != nil {
		return nil, err
	}
	select {
	case <-ready:
	case <-time.After(15 * time.Second):
		var n int
		_ = cli.Do(func() { n = w.connected })
		return nil, fmt.Errorf("bench: only %d of %d circuits connected in 15 s", n, cfg.Circuits)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var a, b snapshot
	var t0 time.Time
	take := func(s *snapshot) error {
		if err := cli.Do(func() { s.client = w.clientStats() }); err != nil {
			return err
		}
		return srv.Do(func() { s.region = rg.Stats() })
	}
	if err := take(&a); err != nil {
		return nil, err
	}
	if err := cli.Do(func() {
		t0 = time.Now()
		w.measuring = true
		for k, cl := range w.clients {
			w.start(k, cl)
		}
	}); err != nil {
		return nil, err
	}
	select {
	case <-time.After(cfg.Duration):
	case <-ctx.Done():
	}
	var window time.Duration
	_ = cli.Do(func() { w.stopSending(); window = time.Since(t0) })
	time.Sleep(cfg.drain())
	var res *BenchResult
	if err := take(&b); err != nil {
		return nil, err
	}
	if err := cli.Do(func() { res = w.result("loopback UDP, real sockets (wall clock)", a, b, window, window) }); err != nil {
		return nil, err
	}
	res.LoopDropped = srv.Dropped() + cli.Dropped()
	return res, nil
}

// BenchNetem runs the same workload on the deterministic simulator: the region and the
// clients on two hosts of one netem segment (no latency, no loss), in virtual time.
func BenchNetem(cfg BenchConfig) (*BenchResult, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if cfg.Circuits > 28000 {
		return nil, errors.New("bench: netem hosts have 28232 ephemeral ports")
	}
	s := sim.New(1)
	n := netem.New(s)
	seg := n.AddSegment("lan", netip.MustParsePrefix("10.0.0.0/24"), netem.LinkParams{Queue: 1 << 20})
	rh, err := n.AddHost("region", seg, netip.MustParseAddr("10.0.0.1"))
	if err != nil {
		return nil, err
	}
	ch, err := n.AddHost("clients", seg, netip.MustParseAddr("10.0.0.2"))
	if err != nil {
		return nil, err
	}
	rg := region.New(region.Config{Name: "bench", ID: uuid.NewSHA1(uuid.NameSpaceURL, []byte("gridlab/bench")), X: 1000, Y: 1000,
		Clock: s, Log: nopLog{}, AckDelay: cfg.AckDelay, Inactivity: time.Hour})
	rsock, err := rh.ListenUDP(9000, rg.Receive)
	if err != nil {
		return nil, err
	}
	rg.SetSend(func(to netip.AddrPort, b []byte) { rsock.WriteTo(b, to) })
	to := rsock.LocalAddr()
	w := newWorkload(cfg, s)
	rng := s.Rand("bench/ids")
	for k := range cfg.Circuits {
		var cl *benchClient
		sock, err := ch.ListenUDP(0, func(_ netip.AddrPort, b []byte) { cl.receive(b) })
		if err != nil {
			return nil, fmt.Errorf("bench: netem client socket %d: %w", k, err)
		}
		cl = w.newClient(k, rng, func(b []byte) { sock.WriteTo(b, to) })
		_ = rg.ExpectAgent(cl.ac)
	}
	for _, cl := range w.clients {
		cl.connect()
	}
	if err := s.RunUntil(s.Now().Add(5 * time.Second)); err != nil {
		return nil, err
	}
	if w.connected < cfg.Circuits {
		return nil, fmt.Errorf("bench: netem: only %d of %d circuits connected", w.connected, cfg.Circuits)
	}
	a := w.snap(rg)
	start := s.Now()
	w.measuring = true
	for k, cl := range w.clients {
		w.start(k, cl)
	}
	t0 := time.Now()
	if err := s.RunUntil(start.Add(cfg.Duration - 1)); err != nil { // the window is [start, start+Duration)
		return nil, err
	}
	w.stopSending()
	wall := time.Since(t0)
	if err := s.RunUntil(s.Now().Add(cfg.drain())); err != nil {
		return nil, err
	}
	b := w.snap(rg)
	return w.result("netem, in memory (virtual time)", a, b, cfg.Duration, wall), nil
}
