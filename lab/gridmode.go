package lab

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"gridlab/lab/grid"
	"gridlab/lab/login"
	"gridlab/lab/region"
	"gridlab/lab/vhttp"
	"gridlab/lab/viewer"
	"gridlab/netem"
	"gridlab/scenarios"
)

// Failure modes only grid mode has (shared/docs/FAILURE_MODES.md).
const (
	ModeGridLinkFailure     = "grid-link-failure"
	ModeRegionDownFallback  = "region-down-fallback"
	gridModeTimeoutLabel    = "login/agent-timeout"
	gridModeRegionHTTPLabel = "region process HTTP"
)

// gridMode is what a grid-mode world keeps beyond the standalone one: where each region's
// process runs, and every request the login service made to a region, with the network's
// drops on those paths, for the diagnosis.
type gridMode struct {
	loginHost *netem.Host
	port      uint16 // the regions' HTTP port
	regions   map[string]gridRegionRef
	calls     map[string][]login.Call // by the agent's "First Last"
	links     map[netip.AddrPort]*linkDrops
	def       string // the default region's name
}

// gridRegionRef is one region of a grid-mode world.
type gridRegionRef struct {
	name      string
	host      *netem.Host
	serverURI string
	offline   bool
}

type regionRole struct{ def, fallback bool }

// regionFlags is the grid service's view of a region (grid.regions[].flags); an unlisted region
// has no flags. Validation already refused bad flags.
func (w *world) regionFlags(name string) regionRole {
	for _, r := range w.sc.Grid.Regions {
		if r.Name == name {
			d, f, _ := scenarios.ParseRegionFlags(r.Flags)
			return regionRole{d, f}
		}
	}
	return regionRole{}
}

func (w *world) gridRegion(name string) scenarios.GridRegion {
	for _, r := range w.sc.Grid.Regions {
		if r.Name == name {
			return r
		}
	}
	return scenarios.GridRegion{Name: name}
}

// buildGridMode assembles grid mode: the login service on grid.host; each region's process on
// its host with its UDP port and an HTTP server (agent endpoint, capabilities) on
// grid.region_http_port; the login service reaching them over virtual HTTP.
func (w *world) buildGridMode() error {
	g := w.sc.Grid
	loginHost, rcs, err := w.gridHostAndRegions()
	if err != nil {
		return err
	}
	gm := &gridMode{loginHost: loginHost, port: g.RegionHTTPPort, regions: map[string]gridRegionRef{},
		calls: map[string][]login.Call{}, links: map[netip.AddrPort]*linkDrops{}}
	w.gm = gm
	w.net.OnDrop(gm.noteDrop)
	conn := &login.Connector{
		Client: &vhttp.Client{
			Dial: func(to netip.AddrPort, h vhttp.StreamHandler) vhttp.Stream { return loginHost.DialTCP(to, h) },
			After: func(d time.Duration, fn func()) func() {
				t := w.s.After(d, gridModeTimeoutLabel, fn)
				return func() { t.Stop() }
			},
		},
		Log: w.log,
		Now: func() time.Duration { return w.s.Now().Duration() },
		OnCall: func(c login.Call) {
			k := c.Agent.First + " " + c.Agent.Last
			gm.calls[k] = append(gm.calls[k], c)
		},
	}
	// Regions grouped by the host their process runs on, in Regions.ini order.
	var hostOrder []*netem.Host
	byHost := map[*netem.Host][]*region.Region{}
	var logRegions []login.Region
	for _, rc := range rcs {
		gr := w.gridRegion(rc.Name)
		hostName := gr.Host
		if hostName == "" {
			hostName = g.Host
		}
		host := w.hosts[hostName]
		if host == nil {
			return fmt.Errorf("grid.regions: region %q: no host %q", rc.Name, hostName)
		}
		ext, err := w.externalAddr(rc, host)
		if err != nil {
			return err
		}
		w.regionBySim[netip.AddrPortFrom(ext, rc.InternalPort)] = regionRef{cfg: rc, host: host}
		role := w.regionFlags(rc.Name)
		lr := login.Region{
			Name: rc.Name, ID: rc.ID, X: rc.X, Y: rc.Y, SizeX: rc.SizeX, SizeY: rc.SizeY,
			SimIP: ext, SimPort: rc.InternalPort,
			ServerURI: fmt.Sprintf("http://%s:%d/", ext, g.RegionHTTPPort),
			Default:   role.def, Fallback: role.fallback,
		}
		lr.Dest = conn.Destination(lr)
		logRegions = append(logRegions, lr)
		gm.regions[rc.Name] = gridRegionRef{name: rc.Name, host: host, serverURI: lr.ServerURI, offline: gr.Offline}
		if gr.Offline {
			continue // registered with the grid service, process not running
		}
		rg := region.New(region.Config{
			Name: rc.Name, ID: rc.ID, X: rc.X, Y: rc.Y,
			Clock: w.s, Log: w.log,
			ChannelVersion: "gridlab 0.1",
			MaxAgents:      uint32(rc.MaxAgents),
			OnUseCircuitCode: func(code uint32, from netip.AddrPort, known bool) {
				w.uccSeen[code]++
				if !known {
					w.unknown[code] = true
				}
			},
		})
		sock, err := host.ListenUDP(rc.InternalPort, func(from netip.AddrPort, b []byte) {
			w.obs.regionRecv(from, b)
			rg.Receive(from, b)
		})
		if err != nil {
			return fmt.Errorf("region %q: UDP port %d on host %s: %w", rc.Name, rc.InternalPort, hostName, err)
		}
		sock.SetWarm(func(from netip.AddrPort) byte { return w.obs.warmRecv(from) + rg.Warm(from) })
		rg.SetSend(func(to netip.AddrPort, b []byte) { w.obs.regionSend(to, b); sock.WriteTo(b, to) })
		w.regions = append(w.regions, rg)
		if byHost[host] == nil {
			hostOrder = append(hostOrder, host)
		}
		byHost[host] = append(byHost[host], rg)
	}
	for _, host := range hostOrder {
		srv := region.NewServer(byHost[host]...)
		if _, err := host.ListenTCP(g.RegionHTTPPort, func(c *netem.TCPConn) netem.StreamHandler {
			return vhttp.NewServerConn(c, srv, 1<<20)
		}); err != nil {
			if host == loginHost && g.RegionHTTPPort == g.LoginPort {
				return fmt.Errorf("grid.region_http_port %d is the login service's port on host %s: give the region process its own port", g.RegionHTTPPort, g.Host)
			}
			return fmt.Errorf("%s: TCP port %d: %w", gridModeRegionHTTPLabel, g.RegionHTTPPort, err)
		}
	}
	accounts := grid.NewAccounts()
	w.accounts = accounts
	svc, err := login.New(login.Config{
		Accounts: accounts, Regions: logRegions, Welcome: g.Welcome,
		IDs: w.s.Rand("login/ids"), Log: w.log,
		GridName: w.sc.Name, GridNick: "gridlab",
		LoginURI: fmt.Sprintf("http://%s:%d/", loginHost.Addr(), g.LoginPort),
	})
	if err != nil {
		return err
	}
	if d, ok := svc.DefaultRegion(); ok {
		gm.def = d
	}
	return w.listenLogin(loginHost, g.LoginPort, w.capLogin(svc))
}

// noteDrop keeps the drops of packets from the login service's host to a region process's
// HTTP port (and its answers back), by the login service's end of the connection.
func (gm *gridMode) noteDrop(d netem.Drop) {
	if d.Proto != netem.TCP {
		return
	}
	from := d.From
	if !from.IsValid() {
		from = d.Src
	}
	switch {
	case from.Addr() == gm.loginHost.Addr() && d.Dst.Port() == gm.port:
		gm.tally(from).add(d)
	case d.Dst.Addr() == gm.loginHost.Addr() && d.Src.Port() == gm.port:
		gm.tally(d.Dst).add(d)
	}
}

func (gm *gridMode) tally(ap netip.AddrPort) *linkDrops {
	t := gm.links[ap]
	if t == nil {
		t = &linkDrops{}
		gm.links[ap] = t
	}
	return t
}

// maxLinkDrops bounds the drops kept per login-to-region path; the rest are only counted.
const maxLinkDrops = 1 << 16

// linkDrops are the drops on one login-to-region path, in time order.
type linkDrops struct {
	drops []netem.Drop
	more  int
}

func (l *linkDrops) add(d netem.Drop) {
	if len(l.drops) >= maxLinkDrops {
		l.more++
		return
	}
	l.drops = append(l.drops, d)
}

// during tallies the drops between from and to (a request's lifetime).
func (l *linkDrops) during(from, to time.Duration) dropTally {
	var t dropTally
	if l == nil {
		return t
	}
	for _, d := range l.drops {
		if at := d.At.Duration(); at >= from && at <= to {
			t.add(d)
		}
	}
	return t
}

// callDrops are the drops on one request's connection while it lasted.
func (w *world) callDrops(c login.Call) dropTally {
	return w.gm.links[c.Local].during(c.Start, c.End)
}

// requested is the region a viewer's start location asks for: the uri: region if the grid has
// it, else the default region.
func (w *world) requestedRegion(v *viewer.Viewer) string {
	start := v.Config().Start
	if rest, ok := strings.CutPrefix(start, "uri:"); ok {
		name, _, _ := strings.Cut(rest, "&")
		for n := range w.gm.regions {
			if strings.EqualFold(n, name) {
				return n
			}
		}
	}
	return w.gm.def
}

// describeCall says what became of one request, in an operator's words.
func (w *world) describeCall(c login.Call) string {
	what := fmt.Sprintf("the login service's %s to %s", c.Method, c.URL)
	var te *vhttp.TimeoutError
	switch {
	case c.Err == nil && c.OK:
		return what + " succeeded"
	case c.Err == nil:
		return fmt.Sprintf("%s was answered with a refusal: %q", what, c.Reason)
	case errors.As(c.Err, &te):
		what += fmt.Sprintf(" timed out after %s", secs(c.End-c.Start))
	case errors.Is(c.Err, netem.ErrRefused):
		what += " was refused (TCP RST): nothing listens on that port"
	default:
		what += fmt.Sprintf(" failed after %s (%s)", secs(c.End-c.Start), c.Reason)
	}
	if t := w.callDrops(c); t.n > 0 {
		what += fmt.Sprintf("; %d of its packets were dropped %s", t.n, w.dropCause(t.first))
	}
	return what
}

// urlAddr is the address:port a URL with an IP literal names.
func urlAddr(uri string) (netip.AddrPort, bool) {
	h, p := uriHostPort(uri)
	ap, err := netip.ParseAddrPort(net.JoinHostPort(h, p))
	return ap, err == nil
}

// linkFix is what an operator does about a failed request to a region.
func (w *world) linkFix(c login.Call) string {
	ref := w.gm.regions[c.Region]
	hostName := "?"
	if ref.host != nil {
		hostName = ref.host.Name()
	}
	port := w.gm.port
	if ap, ok := urlAddr(c.URL); ok {
		port = ap.Port()
		if t := w.callDrops(c); t.hasHard {
			d := t.first
			switch d.Reason {
			case netem.DropFirewall:
				return fmt.Sprintf("Open TCP %d from the login service's host %s (%s) to region %s's host %s: rule '%s' on %s drops it.",
					port, w.gm.loginHost.Name(), w.gm.loginHost.Addr(), c.Region, hostName, d.Rule, w.where(d.Where))
			case netem.DropHostDown:
				return fmt.Sprintf("Bring host %s (region %s's process) back up, or mark a running region FallbackRegion so that logins go there meanwhile.", hostName, c.Region)
			case netem.DropNoHost, netem.DropNoRoute:
				return fmt.Sprintf("Set region %s's ExternalHostName to an address the login service's host can reach: %s.", c.Region, w.dropCause(d))
			case netem.DropHairpin:
				return fmt.Sprintf("Enable NAT loopback on %s, or give the login service the region's inside address (ExternalHostName as seen from %s).", w.where(d.Where), w.gm.loginHost.Name())
			}
			return "Restore the path from the login service to the region's HTTP port: " + w.dropCause(d) + "."
		}
	}
	if errors.Is(c.Err, netem.ErrRefused) {
		if ref.offline {
			return fmt.Sprintf("Start region %s's process on host %s (it is registered with the grid but not running), or mark a running region FallbackRegion.", c.Region, hostName)
		}
		return fmt.Sprintf("Make region %s's process listen on TCP %d (its http_listener_port), or correct the port the grid has for it.", c.Region, port)
	}
	return fmt.Sprintf("Check region %s's process on host %s and the path to its TCP port %d from the login service's host.", c.Region, hostName, port)
}

// diagnoseGrid diagnoses the failures only grid mode has (grid-link-failure, region-down-fallback).
func (w *world) diagnoseGrid(v *viewer.Viewer) (diagnosis, bool) {
	if w.gm == nil {
		return diagnosis{}, false
	}
	cfg := v.Config()
	r := v.Result()
	calls := w.gm.calls[cfg.First+" "+cfg.Last]
	if len(calls) == 0 {
		return diagnosis{}, false
	}
	var failed []login.Call
	for _, c := range calls {
		if !c.OK && c.Err != nil {
			failed = append(failed, c)
		}
	}
	switch {
	case r.Outcome == viewer.Success && !r.Lost:
		want := w.requestedRegion(v)
		got := r.SimName
		last := calls[len(calls)-1]
		if got == "" {
			got = last.Region
		}
		if want == "" || strings.EqualFold(got, want) {
			return diagnosis{}, false
		}
		why := "it refused the agent"
		for _, c := range calls {
			if strings.EqualFold(c.Region, want) && !c.OK {
				why = w.describeCall(c)
				break
			}
		}
		fix := fmt.Sprintf("Nothing is broken for this user: the grid's fallback region %s took the login. Bring region %s back", got, want)
		for _, c := range calls {
			if strings.EqualFold(c.Region, want) && !c.OK {
				fix = w.linkFix(c) + " Until then logins land in " + got + "."
				break
			}
		}
		return diagnosis{Mode: ModeRegionDownFallback,
			Evidence: fmt.Sprintf("The viewer asked for region %s but arrived in %s (RegionHandshake SimName %q): %s, so the login service logged \"Using fallback region %s\" and sent the viewer there (its login reply came %s after the request).",
				want, got, r.SimName, why, got, secs(r.Stages[viewer.StageLoginReply].Sub(r.Start))),
			Fix: fix}, true
	case r.Outcome == viewer.LoginFailed && len(failed) > 0:
		var parts []string
		for _, c := range failed {
			parts = append(parts, fmt.Sprintf("region %s: %s", c.Region, w.describeCall(c)))
		}
		tried := "no fallback region was configured"
		if len(failed) > 1 {
			tried = fmt.Sprintf("the fallback regions were tried too (%d requests failed)", len(failed))
		}
		return diagnosis{Mode: ModeGridLinkFailure,
			Evidence: fmt.Sprintf("Grid mode: the login service could not reach the region's agent endpoint — %s; %s. It logged the failure and answered login=false with %q, which the viewer showed after %s.",
				strings.Join(parts, "; "), tried, r.Message, secs(r.DecidedAt.Sub(r.Start))),
			Fix: w.linkFix(failed[0])}, true
	}
	return diagnosis{}, false
}
