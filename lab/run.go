package lab

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"net/url"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"gridlab/lab/grid"
	"gridlab/lab/login"
	"gridlab/lab/region"
	"gridlab/lab/vhttp"
	"gridlab/lab/viewer"
	"gridlab/netem"
	"gridlab/reports"
	"gridlab/scenarios"
	"gridlab/sim"
)

// Options change a run without editing its scenario.
type Options struct {
	Seed     *uint64 // overrides the scenario's seed
	Viewers  int     // overrides the population size (scaled across populations); 0 = as written
	Progress func(Progress)
	Pcap     string // write a packet capture of the run to this file ("" = none)
	// Invariants checks the grid's invariants (invariants.go) every virtual second and at the
	// end; a violation stops the run and is returned as a *Violation error.
	Invariants bool
	// AfterRun, when set, is called once the simulation has ended and while its world is still
	// alive (cmd/gridlab uses it to write a heap profile); its error fails the run.
	AfterRun func() error
	// NoReadAhead turns off the kernel's read-ahead (sim.SetReadAhead), which changes only the
	// speed of a large run; tests use it to check that.
	NoReadAhead bool
}

// Progress is a snapshot taken every virtual second.
type Progress struct {
	Now     sim.Time
	End     sim.Time
	Total   int
	InWorld int // reached AgentMovementComplete
	Failed  int
	Done    int // finished: failed or logged out
	Events  uint64
}

// world is one assembled run.
type world struct {
	loginBufs vhttp.Buffers // the viewers' login replies are received into these, in turn
	sc        *scenarios.Scenario
	s         *sim.Sim
	net       *netem.Network
	log       *gridLog
	segs      map[string]*netem.Segment
	hosts     map[string]*netem.Host
	regions   []*region.Region
	viewers   []*viewer.Viewer
	pops      []string // population of each viewer
	popIdx    []int    // index in sc.Viewers of each viewer's population
	firstID   []int    // the ID of each viewer's first session (its own, unless it is a relogin)
	sessions  []int    // the session number of each viewer: 1, or 2... for relogins
	places    []string // network placement of each viewer
	srcAddrs  []netip.Addr
	uccSeen   map[uint32]int  // circuit code → UseCircuitCode packets the region received
	unknown   map[uint32]bool // circuit codes a region rejected as unknown
	udpDrops  map[netip.Addr]netem.Drop
	// regionBySim finds a region by the address the login reply gives viewers (diagnose.go).
	regionBySim map[netip.AddrPort]regionRef
	loginQ      *loginQueue                 // the login service's workers (capacity.go), nil without a model
	inboxes     []namedInbox                // the regions' receive buffers (capacity.go)
	presence    *login.Service              // the login service, whose presence regions clear (presence.go)
	ended       map[*viewer.Viewer]sim.Time // when each finished viewer finished
	violation   *Violation                  // the first invariant violated (invariants.go)
	loginProc   *loginProcess               // the login service's listener and connections (faults.go)
	inv         *invState                   // what the invariant checks remember between checks (invariants.go)
	accounts    *grid.Accounts
	used        map[netip.Addr]bool           // addresses given to hosts and routers
	next        map[*netem.Segment]netip.Addr // next candidate address for a viewer host
	timeline    []reports.TimelineEvent       // fault timeline entries as executed
	obs         *observer                     // samples and per-viewer traces (observe.go)
	gm          *gridMode                     // grid mode's login-to-region links (gridmode.go); nil in standalone
	decided     int
	inWorld     int
	failed      int
	done        int
}

// Run assembles the scenario's world, runs it to completion or to its duration, and returns the
// results for reporting.
func Run(sc *scenarios.Scenario, opt Options) (*reports.Run, error) {
	seed := sc.Seed
	if opt.Seed != nil {
		seed = *opt.Seed
	}
	w := &world{
		sc:          sc,
		s:           sim.New(seed),
		loginBufs:   vhttp.NewBuffers(),
		segs:        map[string]*netem.Segment{},
		hosts:       map[string]*netem.Host{},
		uccSeen:     map[uint32]int{},
		unknown:     map[uint32]bool{},
		udpDrops:    map[netip.Addr]netem.Drop{},
		regionBySim: map[netip.AddrPort]regionRef{},
		used:        map[netip.Addr]bool{},
		next:        map[*netem.Segment]netip.Addr{},
	}
	w.net = netem.New(w.s)
	w.log = &gridLog{s: w.s}
	if sc.Budget > 0 {
		w.s.SetBudget(sc.Budget)
	}
	w.s.SetReadAhead(!opt.NoReadAhead)
	w.net.OnDrop(func(d netem.Drop) {
		if d.Proto == netem.UDP {
			from := d.From
			if !from.IsValid() {
				from = d.Src
			}
			w.udpDrops[from.Addr()] = d // keyed by the host that sent it, even behind NAT
		}
	})
	if err := w.buildNetwork(); err != nil {
		return nil, fmt.Errorf("%s: network: %w", sc.Name, err)
	}
	if err := w.scheduleTimeline(); err != nil {
		return nil, fmt.Errorf("%s: timeline: %w", sc.Name, err)
	}
	if opt.Pcap != "" {
		if err := w.startCapture(opt.Pcap); err != nil {
			return nil, fmt.Errorf("%s: pcap: %w", sc.Name, err)
		}
	}
	w.obs = newObserver(w)
	if err := w.buildGrid(); err != nil {
		return nil, fmt.Errorf("%s: grid: %w", sc.Name, err)
	}
	if opt.Viewers < 0 {
		return nil, fmt.Errorf("%s: viewers: %d is negative (0 runs the scenario's own)", sc.Name, opt.Viewers)
	}
	if err := w.buildViewers(opt.Viewers); err != nil {
		return nil, fmt.Errorf("%s: viewers: %w", sc.Name, err)
	}
	w.obs.addViewers()

	end := sim.Time(sc.Duration)
	var tick func()
	tick = func() {
		w.obs.sample()
		if opt.Invariants {
			if v := w.checkInvariants(false); v != nil {
				w.violation = v
				w.s.Stop()
				return
			}
		}
		if opt.Progress != nil {
			opt.Progress(w.progress(end))
		}
		w.s.After(time.Second, "progress", tick)
	}
	w.s.After(time.Second, "progress", tick)
	runErr := w.s.RunUntil(end)
	if runErr != nil && !errors.Is(runErr, sim.ErrStopped) {
		return nil, fmt.Errorf("%s: %w after %d events at %s", sc.Name, runErr, w.s.Events(), w.s.Now())
	}
	if opt.Progress != nil {
		opt.Progress(w.progress(end))
	}
	if opt.Invariants && w.violation == nil {
		w.violation = w.checkInvariants(true)
	}
	if opt.AfterRun != nil {
		if err := opt.AfterRun(); err != nil {
			return nil, fmt.Errorf("%s: %w", sc.Name, err)
		}
		runtime.KeepAlive(w)
	}
	if opt.Pcap != "" {
		if err := w.finishCapture(); err != nil {
			return nil, fmt.Errorf("%s: pcap: %w", sc.Name, err)
		}
	}
	run := w.results(seed)
	if w.violation != nil {
		return run, w.violation
	}
	return run, nil
}

func (w *world) progress(end sim.Time) Progress {
	return Progress{Now: w.s.Now(), End: end, Total: len(w.viewers), InWorld: w.inWorld, Failed: w.failed, Done: w.done, Events: w.s.Events()}
}

// buildGrid starts the login service and the regions on the grid host.
func (w *world) buildGrid() error {
	if w.sc.Grid.Mode == "grid" {
		return w.buildGridMode()
	}
	g := w.sc.Grid
	host, rcs, err := w.gridHostAndRegions()
	if err != nil {
		return err
	}
	var logRegions []login.Region
	for _, rc := range rcs {
		ext, err := w.externalAddr(rc, host)
		if err != nil {
			return err
		}
		w.regionBySim[netip.AddrPortFrom(ext, rc.InternalPort)] = regionRef{cfg: rc, host: host}
		rg := region.New(region.Config{
			Name: rc.Name, ID: rc.ID, X: rc.X, Y: rc.Y,
			Clock: w.s, Log: w.log,
			ChannelVersion: "gridlab 0.1",
			OnUseCircuitCode: func(code uint32, from netip.AddrPort, known bool) {
				w.uccSeen[code]++
				if !known {
					w.unknown[code] = true
				}
			},
		})
		receive := w.capRegion(rc.Name, rg.Receive) // the capacity model's receive buffer, if any
		sock, err := host.ListenUDP(rc.InternalPort, func(from netip.AddrPort, b []byte) {
			w.obs.regionRecv(from, b)
			receive(from, b)
		})
		if err != nil {
			return fmt.Errorf("region %q: UDP port %d: %w", rc.Name, rc.InternalPort, err)
		}
		sock.SetWarm(func(from netip.AddrPort) byte { return w.obs.warmRecv(from) + rg.Warm(from) })
		rg.SetSend(func(to netip.AddrPort, b []byte) { w.obs.regionSend(to, b); sock.WriteTo(b, to) })
		w.regions = append(w.regions, rg)
		logRegions = append(logRegions, login.Region{
			Name: rc.Name, ID: rc.ID, X: rc.X, Y: rc.Y, SizeX: rc.SizeX, SizeY: rc.SizeY,
			SimIP: ext, SimPort: rc.InternalPort,
			ServerURI: fmt.Sprintf("http://%s:%d/", ext, g.LoginPort),
			Dest:      rg, Default: w.regionFlags(rc.Name).def, Fallback: w.regionFlags(rc.Name).fallback,
		})
	}
	accounts := grid.NewAccounts()
	w.accounts = accounts
	svc, err := login.New(login.Config{
		Accounts: accounts, Regions: logRegions, Welcome: g.Welcome,
		IDs: w.s.Rand("login/ids"), Log: w.log,
		GridName: w.sc.Name, GridNick: "gridlab",
		LoginURI:      fmt.Sprintf("http://%s:%d/", host.Addr(), g.LoginPort),
		CheckPresence: true, Kick: w.kick,
	})
	if err != nil {
		return err
	}
	w.wirePresence(svc)                               // regions tell presence of logouts (presence.go)
	loginHandler := w.standaloneHTTP(w.capLogin(svc)) // capabilities, then the login service behind the capacity model's workers, if any
	return w.listenLogin(host, g.LoginPort, loginHandler)
}

// gridHostAndRegions finds the host that runs the login service (grid.host) and reads the
// scenario's Regions.ini.
func (w *world) gridHostAndRegions() (*netem.Host, []grid.RegionConfig, error) {
	g := w.sc.Grid
	host := w.hosts[g.Host]
	if host == nil {
		return nil, nil, fmt.Errorf("grid.host: no host %q", g.Host)
	}
	rcs, err := grid.ParseRegionsINI(w.sc.Name+" grid.regions_ini", []byte(g.RegionsINI))
	if err != nil {
		return nil, nil, err
	}
	return host, rcs, nil
}

// externalAddr resolves a region's ExternalHostName as OpenSim does: SYSTEMIP is the host's
// first non-loopback IPv4 address, which is wrong behind NAT — exactly as in OpenSim.
func (w *world) externalAddr(rc grid.RegionConfig, host *netem.Host) (netip.Addr, error) {
	if rc.ExternalHostName == "" || strings.EqualFold(rc.ExternalHostName, "SYSTEMIP") {
		return host.Addr(), nil
	}
	if a, err := netip.ParseAddr(rc.ExternalHostName); err == nil {
		return a, nil
	}
	// A name is resolved once when the region starts, as OpenSim does.
	if addrs := w.net.DNS().Records(rc.ExternalHostName); len(addrs) > 0 {
		return addrs[0], nil
	}
	return netip.Addr{}, fmt.Errorf("region %q: ExternalHostName %q does not resolve (add it under dns.records)", rc.Name, rc.ExternalHostName)
}

// accountName splits the accounts pattern for viewer n into first and last name.
func accountName(pattern string, n int) (string, string) {
	full := strings.ReplaceAll(pattern, "{n}", strconv.Itoa(n))
	first, last, _ := strings.Cut(full, " ")
	return first, last
}

// scaleCounts spreads total over the populations in proportion to their written counts
// (largest remainder, ties to the earlier population) so that --viewers keeps the mix.
func scaleCounts(pops []scenarios.Population, total int) []int {
	counts := make([]int, len(pops))
	written := 0
	for i, p := range pops {
		counts[i] = p.Count
		written += p.Count
	}
	if total <= 0 || written == 0 {
		return counts
	}
	type rem struct {
		i int
		r float64
	}
	var rems []rem
	assigned := 0
	for i, p := range pops {
		exact := float64(p.Count) * float64(total) / float64(written)
		counts[i] = int(math.Floor(exact))
		assigned += counts[i]
		rems = append(rems, rem{i, exact - float64(counts[i])})
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].r > rems[b].r })
	for k := 0; assigned < total; k++ {
		counts[rems[k%len(rems)].i]++
		assigned++
	}
	return counts
}

func (w *world) buildViewers(override int) error {
	pw := w.sc.Grid.Accounts.Password
	acctRand := w.s.Rand("grid/accounts")
	counts := scaleCounts(w.sc.Viewers, override)
	id := 0
	for pi, pop := range w.sc.Viewers {
		prof, err := viewer.ProfileByName(pop.Profile)
		if err != nil {
			return fmt.Errorf("viewers.%s.profile: %w", pop.Name, err)
		}
		u, err := url.Parse(pop.LoginURI)
		if err != nil {
			return fmt.Errorf("viewers.%s.login_uri: %w", pop.Name, err)
		}
		port, err := strconv.ParseUint(u.Port(), 10, 16)
		if err != nil {
			return fmt.Errorf("viewers.%s.login_uri: %q has no port", pop.Name, pop.LoginURI)
		}
		// An IP literal is dialled directly; a host name is looked up by each viewer through the
		// scenario's DNS, so a name that does not resolve fails as login-host-unknown.
		var loginAddr netip.AddrPort
		if ip, err := netip.ParseAddr(u.Hostname()); err == nil {
			loginAddr = netip.AddrPortFrom(ip, uint16(port))
		}
		seg := w.segs[pop.Network]
		if seg == nil {
			return fmt.Errorf("viewers.%s.network: no network %q", pop.Name, pop.Network)
		}
		arrive := w.s.Rand("pop/" + pop.Name + "/arrival")
		starts, err := pop.Arrival.Starts(counts[pi], arrive)
		if err != nil {
			return fmt.Errorf("viewers.%s.arrival: %w", pop.Name, err)
		}
		creds := w.s.Rand("pop/" + pop.Name + "/credentials")
		var unknown *rand.Rand
		if pop.Unknown > 0 {
			unknown = w.s.Rand("pop/" + pop.Name + "/unknown")
		}
		valid := 1.0
		if pop.Valid != nil {
			valid = float64(*pop.Valid)
		}
		updates := time.Duration(0)
		if pop.AgentUpdates != "" {
			r, err := scenarios.ParseEventRate(pop.AgentUpdates)
			if err != nil {
				return fmt.Errorf("viewers.%s.agent_updates: %w", pop.Name, err)
			}
			updates = -1
			if r > 0 {
				updates = time.Duration(float64(time.Second) / r)
			}
		}
		for k := 0; k < counts[pi]; k++ {
			id++
			first, last := accountName(w.sc.Grid.Accounts.Pattern, id)
			if unknown != nil && unknown.Float64() < float64(pop.Unknown) {
				last += "-Nobody" // a name the grid has no account for
			} else if _, err := w.accounts.Add(first, last, pw, acctRand); err != nil {
				return fmt.Errorf("viewers.%s: account %s %s: %w", pop.Name, first, last, err)
			}
			password := pw
			if creds.Float64() >= valid {
				password = pw + "-typo"
			}
			host, place, err := w.viewerHost(pop, seg, id)
			if err != nil {
				return fmt.Errorf("viewers.%s: viewer %d: %w", pop.Name, id, err)
			}
			cfg := viewer.Config{
				ID: id, First: first, Last: last, Password: password,
				LoginURI: pop.LoginURI, LoginAddr: loginAddr, Start: pop.Start, Stay: pop.Stay,
				AgentUpdates: updates, Profile: prof, Clock: w.s, Net: hostNet{host},
				SeedCaps: pop.SeedCaps == nil || *pop.SeedCaps,
			}
			w.addSession(cfg, pi, place, id, 1, sim.Time(starts[k]))
		}
	}
	return nil
}

// addSession adds one viewer session that starts at start: a population's viewer (session 1)
// or one of its relogins. IDs stay dense (1..N in the order sessions are added).
func (w *world) addSession(cfg viewer.Config, pop int, place string, firstID, session int, start sim.Time) {
	cfg.ID = len(w.viewers) + 1
	cfg.Rand = w.s.Rand(fmt.Sprintf("viewer/%d", cfg.ID))
	cfg.LoginBuffers = &w.loginBufs
	cfg.Decided, cfg.Done, cfg.Trace = w.onDecided, w.onDone, w.obs.onEvent
	cfg.Warm = w.obs.onWarm
	v := viewer.New(cfg)
	w.viewers = append(w.viewers, v)
	w.popIdx = append(w.popIdx, pop)
	w.pops = append(w.pops, w.sc.Viewers[pop].Name)
	w.places = append(w.places, place)
	w.firstID = append(w.firstID, firstID)
	w.sessions = append(w.sessions, session)
	if w.obs.traces != nil || session > 1 {
		w.obs.addViewers()
	}
	w.s.At(start, "viewer-start", v.Start)
}

// relogin starts the next session of a viewer whose population logs in again.
func (w *world) relogin(v *viewer.Viewer) {
	i := v.Config().ID - 1
	pop := w.sc.Viewers[w.popIdx[i]]
	rl := pop.Relogin
	if rl == nil {
		return
	}
	times := rl.Times
	if times == 0 {
		times = 1
	}
	r := v.Result()
	if w.sessions[i] > times || (rl.OnlyFailed && r.Outcome == viewer.Success && !r.Lost) {
		return
	}
	cfg := *v.Config()
	w.addSession(cfg, w.popIdx[i], w.places[i], w.firstID[i], w.sessions[i]+1, w.s.Now()+sim.Time(rl.After))
}

func (w *world) onDecided(v *viewer.Viewer) {
	w.decided++
	if v.Result().Outcome == viewer.Success {
		w.inWorld++
	} else {
		w.failed++
	}
}

func (w *world) onDone(v *viewer.Viewer) {
	if w.ended == nil {
		w.ended = map[*viewer.Viewer]sim.Time{}
	}
	w.ended[v] = w.s.Now()
	if i := w.obs.viewerIndex(v); i >= 0 {
		w.obs.retire(i)
	}
	w.relogin(v)
	w.done++
	if w.done == len(w.viewers) {
		w.s.Stop()
	}
}
