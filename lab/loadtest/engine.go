package loadtest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"sync"
	"time"

	"gridlab/lab"
	"gridlab/lab/circuit"
	"gridlab/lab/realnet"
	"gridlab/lab/viewer"
	"gridlab/reports"
	"gridlab/sim"
)

// Account is one avatar a viewer logs in as.
type Account struct {
	First, Last, Password string
}

// Config is one load run (or one shard of it).
type Config struct {
	// Name is the run's name in the report (report.json "scenario"); default "load".
	Name        string
	Description string
	// LoginURI is the grid's login URI, e.g. http://127.0.0.1:9000/. Its host name is looked
	// up by every viewer, as a viewer does.
	LoginURI string
	// Accounts has one account per viewer, in arrival order: len(Accounts) viewers run.
	Accounts []Account
	// FirstID is the report ID of the first viewer (IDs count up from it); default 1. Shards
	// use disjoint ranges so that their viewers.csv files merge.
	FirstID int
	// Rate is the arrival rate in logins per second (> 0).
	Rate float64
	// Offset delays every arrival: viewer k is due at Offset + k/Rate (shard stagger).
	Offset time.Duration
	// Stay is how long each viewer stays in world before logging out; <= 0 stays until Stop.
	Stay    time.Duration
	Profile viewer.Profile
	// Bind is the local address of the viewers' UDP sockets; the zero Addr is 0.0.0.0.
	Bind netip.Addr
	// Grace is how long Run waits, after ctx ends, for logins in flight and logouts to finish
	// before it writes down what it has (default 20 s).
	Grace time.Duration
	// Progress, if set, is called on the loop goroutine about four times a second.
	Progress func(Progress)
	// NoSeedCaps keeps the viewers from fetching their seed capability. Real viewers fetch it,
	// and the region then sends them the world: every arrival's ObjectUpdate to every avatar
	// present, which grows with the square of the avatars in a region.
	NoSeedCaps bool
	// MaxDatagram is the viewers' socket read buffer (default 4096 bytes: LLUDP's largest
	// datagrams are under 1500 bytes).
	MaxDatagram int
}

// Progress is a snapshot of a running load test.
type Progress struct {
	Elapsed  time.Duration
	Planned  int // viewers this run will start
	Started  int
	InWorld  int // in world right now
	Reached  int // reached the world so far (cumulative)
	Failed   int
	Done     int // finished: failed or logged out
	Stopping bool
	Events   uint64 // loop events (timers) dispatched
}

// Meta is what a load run records about itself beside the run folder (load.json): enough to
// put shards on one time axis when they are merged.
type Meta struct {
	Name      string    `json:"name"`
	LoginURI  string    `json:"login_uri"`
	StartedAt time.Time `json:"started_at"` // wall time of the run's time 0
	Rate      float64   `json:"rate_per_s"`
	OffsetS   float64   `json:"offset_s"`
	FirstID   int       `json:"first_id"`
	Planned   int       `json:"planned"`
	Started   int       `json:"started"`
	StayS     float64   `json:"stay_s"`
	Profile   string    `json:"profile"`
	// Shard is "i/n" for a shard, "" for a whole run; Shards lists merged shards.
	Shard       string   `json:"shard,omitempty"`
	Shards      []string `json:"shards,omitempty"`
	Interrupted bool     `json:"interrupted"`
	// MaxStartLagMS is the longest delay between a viewer's intended and actual start: a load
	// generator that cannot keep up shows it here (and in the stage times).
	MaxStartLagMS float64 `json:"max_start_lag_ms"`
	LoopDropped   uint64  `json:"loop_dropped_datagrams"`
}

// Result is a finished load run.
type Result struct {
	Run  *reports.Run
	Meta Meta
}

// DefaultGrace is Config.Grace's default.
const DefaultGrace = 20 * time.Second

// forever stands for "stay until stopped": long enough, short of sim.Time's range.
const forever = 100 * 365 * 24 * time.Hour

func (c *Config) check() error {
	switch {
	case c.LoginURI == "":
		return errors.New("loadtest: no login URI")
	case len(c.Accounts) == 0:
		return errors.New("loadtest: no accounts (no viewers to run)")
	case !(c.Rate > 0) || math.IsInf(c.Rate, 0):
		return fmt.Errorf("loadtest: rate %v: want logins per second > 0", c.Rate)
	case c.Offset < 0:
		return fmt.Errorf("loadtest: offset %v is negative", c.Offset)
	}
	return nil
}

type entry struct {
	k        int
	intended sim.Time
	startT   sim.Timer
	v        *viewer.Viewer
	started  bool
	inWorld  bool
	done     bool
	sock     *realnet.UDPConn
	conn     *realnet.TCPConn
}

type engine struct {
	cfg      Config
	l        *realnet.Loop
	rnd      *rand.Rand
	bind     netip.Addr
	ents     []*entry
	started  int
	reached  int
	inWorld  int
	failed   int
	decided  int
	done     int
	stopping bool
	maxLag   time.Duration
	finished circuit.Stats // circuits of the viewers that are done
	samples  []reports.Sample
	allDone  chan struct{}
	doneOnce sync.Once
}

// Run runs the load test until every viewer has finished (logged out or failed), or until
// ctx ends: then no more viewers start, every viewer in world (and every one that gets there
// later) logs out, and after at most cfg.Grace Run returns what happened. Viewers still on
// their way in are reported as unfinished; viewers that never started are not reported.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if cfg.Name == "" {
		cfg.Name = "load"
	}
	if cfg.FirstID == 0 {
		cfg.FirstID = 1
	}
	if cfg.Grace <= 0 {
		cfg.Grace = DefaultGrace
	}
	if cfg.MaxDatagram <= 0 {
		cfg.MaxDatagram = 4096
	}
	if cfg.Profile.Name == "" {
		cfg.Profile = viewer.SLViewer
	}
	e := &engine{cfg: cfg, l: realnet.New(), rnd: realnet.CryptoRand(), allDone: make(chan struct{}), bind: cfg.Bind}
	if !e.bind.IsValid() {
		e.bind = netip.IPv4Unspecified()
	}
	loopCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	loopDone := make(chan struct{})
	go func() { _ = e.l.Run(loopCtx); close(loopDone) }()
	defer func() { e.l.Stop(); <-loopDone }()

	if err := e.l.Do(e.schedule); err != nil {
		return nil, fmt.Errorf("loadtest: starting the event loop: %w", err)
	}
	interrupted := false
	select {
	case <-e.allDone:
	case <-ctx.Done():
		interrupted = true
		if err := e.l.Do(e.stop); err != nil {
			return nil, fmt.Errorf("loadtest: stopping: %w", err)
		}
		grace := time.NewTimer(cfg.Grace)
		select {
		case <-e.allDone:
		case <-grace.C:
		}
		grace.Stop()
	}
	var res *Result
	if err := e.l.Do(func() { res = e.collect(interrupted) }); err != nil {
		return nil, fmt.Errorf("loadtest: collecting results: %w", err)
	}
	return res, nil
}

// at is viewer k's intended start on the loop clock.
func (e *engine) at(k int) sim.Time {
	return sim.Time(e.cfg.Offset + time.Duration(float64(k)*float64(time.Second)/e.cfg.Rate))
}

// schedule runs on the loop: one start timer per viewer, the sampler and the progress ticker.
func (e *engine) schedule() {
	s := e.l.Sim
	e.ents = make([]*entry, len(e.cfg.Accounts))
	for k := range e.ents {
		en := &entry{k: k, intended: e.at(k)}
		e.ents[k] = en
		en.startT = s.At(en.intended, "load-start", func() { e.start(en) })
	}
	var sample func()
	sample = func() {
		e.sample()
		s.After(time.Second, "load-sample", sample)
	}
	s.At(sim.Time(time.Second), "load-sample", sample)
	if e.cfg.Progress != nil {
		var tick func()
		tick = func() {
			e.cfg.Progress(e.progress())
			s.After(250*time.Millisecond, "load-progress", tick)
		}
		s.After(250*time.Millisecond, "load-progress", tick)
	}
}

func (e *engine) progress() Progress {
	return Progress{
		Elapsed: e.l.Sim.Now().Duration(), Planned: len(e.ents), Started: e.started,
		InWorld: e.inWorld, Reached: e.reached, Failed: e.failed, Done: e.done,
		Stopping: e.stopping, Events: e.l.Sim.Events(),
	}
}

// viewerNet is realnet.ViewerNet with small read buffers, remembering the viewer's sockets
// so that the engine can close what is left open at the end.
type viewerNet struct {
	e  *engine
	en *entry
}

func (n viewerNet) Resolve(name string, cb func([]netip.Addr, error)) {
	realnet.ViewerNet{L: n.e.l}.Resolve(name, cb)
}

func (n viewerNet) DialTCP(to netip.AddrPort, h viewer.StreamHandler) viewer.Conn {
	c := n.e.l.DialTCP(to, h)
	n.en.conn = c
	return c
}

func (n viewerNet) ListenUDP(recv func(from netip.AddrPort, b []byte)) (viewer.UDPSocket, error) {
	c, err := n.e.l.ListenUDPSize(netip.AddrPortFrom(n.e.bind, 0), n.e.cfg.MaxDatagram, 0, recv)
	if err != nil {
		return nil, err
	}
	n.en.sock = c
	return c, nil
}

func (e *engine) start(en *entry) {
	if e.stopping || en.started {
		return
	}
	en.started = true
	e.started++
	if lag := e.l.Sim.Now().Sub(en.intended); lag > e.maxLag {
		e.maxLag = lag
	}
	acc := e.cfg.Accounts[en.k]
	stay := e.cfg.Stay
	if stay <= 0 {
		stay = forever
	}
	en.v = viewer.New(viewer.Config{
		ID: e.cfg.FirstID + en.k, First: acc.First, Last: acc.Last, Password: acc.Password,
		LoginURI: e.cfg.LoginURI, Start: "last", Stay: stay, Profile: e.cfg.Profile,
		Clock: e.l.Sim, Net: viewerNet{e, en}, SeedCaps: !e.cfg.NoSeedCaps, Rand: e.rnd,
		Decided: func(v *viewer.Viewer) { e.decidedViewer(en) },
		Done:    func(v *viewer.Viewer) { e.doneViewer(en) },
	})
	en.v.Start()
}

func (e *engine) decidedViewer(en *entry) {
	e.decided++
	if en.v.Result().Outcome == viewer.Success {
		en.inWorld = true
		e.inWorld++
		e.reached++
		if e.stopping { // in world after Stop: out again at once, once the viewer has settled in
			e.l.Sim.After(0, "loadtest/logout", en.v.Logout)
		}
	} else {
		e.failed++
	}
}

func (e *engine) doneViewer(en *entry) {
	if en.done {
		return
	}
	en.done = true
	e.done++
	if en.inWorld {
		en.inWorld = false
		e.inWorld--
	}
	e.finished.Add(en.v.CircuitStats())
	e.checkDone()
}

func (e *engine) checkDone() {
	if e.done == len(e.ents) || (e.stopping && e.done == e.started) {
		e.doneOnce.Do(func() { close(e.allDone) })
	}
}

// stop runs on the loop: no more starts; everyone in world logs out now.
func (e *engine) stop() {
	e.stopping = true
	for _, en := range e.ents {
		if !en.started {
			en.startT.Stop()
			continue
		}
		if en.inWorld && !en.done {
			en.v.Logout()
		}
	}
	e.checkDone()
}

func (e *engine) circuits() circuit.Stats {
	st := e.finished
	for _, en := range e.ents {
		if en.started && !en.done {
			st.Add(en.v.CircuitStats())
		}
	}
	return st
}

func (e *engine) sample() {
	st := e.circuits()
	e.samples = append(e.samples, reports.Sample{
		At: e.l.Sim.Now().Duration().Truncate(time.Millisecond), Decided: e.decided, InWorld: e.reached, Failed: e.failed,
		Circuits: e.inWorld, UDPSent: st.PacketsSent, UDPDeliv: st.PacketsReceived, Resends: st.Resent,
	})
}

// collect runs on the loop: the report rows, counters and metadata; then it closes what the
// viewers left open.
func (e *engine) collect(interrupted bool) *Result {
	now := e.l.Sim.Now()
	e.sample()
	run := &reports.Run{
		Scenario: e.cfg.Name, Description: e.cfg.Description,
		Events: e.l.Sim.Events(), VirtualTime: now.Duration(), Samples: e.samples,
	}
	for _, en := range e.ents {
		if !en.started {
			continue
		}
		rv := lab.ViewerRecord(en.v, now)
		// Measured from the intended start, not the actual one (coordinated omission).
		r := en.v.Result()
		rv.Start = en.intended.Duration()
		for s := range rv.Stages {
			if r.Stages[s] >= 0 {
				rv.Stages[s] = r.Stages[s].Sub(en.intended)
			}
		}
		rv.Population = "load"
		run.Viewers = append(run.Viewers, rv)
	}
	st := e.circuits()
	counters := map[string]uint64{
		"viewers/circuit/packets_sent":     st.PacketsSent,
		"viewers/circuit/packets_received": st.PacketsReceived,
		"viewers/circuit/bytes_sent":       st.BytesSent,
		"viewers/circuit/bytes_received":   st.BytesReceived,
		"viewers/circuit/reliable_sent":    st.ReliableSent,
		"viewers/circuit/resent":           st.Resent,
		"viewers/circuit/acks_sent":        st.AcksSent,
		"viewers/circuit/acks_received":    st.AcksReceived,
		"viewers/circuit/duplicates":       st.Duplicates,
		"viewers/circuit/gave_up":          st.GaveUp,
		"load/viewers_planned":             uint64(len(e.ents)),
		"load/viewers_started":             uint64(e.started),
		"load/loop_dropped_datagrams":      e.l.Dropped(),
		"load/max_start_lag_us":            uint64(e.maxLag / time.Microsecond),
	}
	loggedOut := uint64(0)
	for _, en := range e.ents {
		if en.started && en.v.Result().LoggedOut {
			loggedOut++
		}
	}
	counters["load/viewers_logged_out"] = loggedOut
	run.Counters = append(run.Counters, reports.CountersOf(counters)...)
	// Release what unfinished viewers still hold.
	for _, en := range e.ents {
		if en.sock != nil && !en.done {
			en.sock.Close()
		}
		if en.conn != nil {
			en.conn.Abort()
		}
	}
	stay := e.cfg.Stay
	return &Result{Run: run, Meta: Meta{
		Name: e.cfg.Name, LoginURI: e.cfg.LoginURI, StartedAt: e.l.Wall(0).UTC(),
		Rate: e.cfg.Rate, OffsetS: e.cfg.Offset.Seconds(), FirstID: e.cfg.FirstID,
		Planned: len(e.ents), Started: e.started, StayS: max(stay, 0).Seconds(), Profile: e.cfg.Profile.Name,
		Interrupted: interrupted, MaxStartLagMS: float64(e.maxLag.Microseconds()) / 1000,
		LoopDropped: e.l.Dropped(),
	}}
}
