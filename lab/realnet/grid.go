package realnet

import (
	crand "crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"gridlab/lab/grid"
	"gridlab/lab/login"
	"gridlab/lab/region"
	"gridlab/lab/vhttp"
)

// User is an account to create at start-up.
type User struct {
	First, Last, Password string
}

// GridConfig is a standalone grid on real sockets: one login service (which also serves the
// regions' capabilities, as an OpenSim standalone does on its one HTTP port) and its regions.
type GridConfig struct {
	Login    netip.AddrPort             // the login service's TCP address, e.g. 127.0.0.1:9000
	Regions  []grid.RegionConfig        // empty: one default region on the login address's IP
	Users    []User                     // accounts; passwords are kept only salted and hashed
	Log      io.Writer                  // log lines with wall timestamps; nil discards
	GridName string                     // default "gridlab"
	Welcome  string                     // the login message
	Debug    bool                       // log DEBUG lines too
	Rand     *rand.Rand                 // IDs, circuit codes, salts; nil = ChaCha8 seeded from crypto/rand
	Resolve  func() (netip.Addr, error) // SYSTEMIP; nil = the first non-loopback IPv4

	// Role is what this process runs: RoleAll (default: login service and regions, a
	// standalone grid), RoleLogin (the login service alone, reaching the regions' process over
	// HTTP at RegionsURL, as OpenSim's ROBUST does) or RoleRegion (the regions alone, with their
	// HTTP server on RegionHTTP: the agent endpoint, capabilities and /simstatus).
	Role string
	// RegionsURL (RoleLogin) is the regions' process's HTTP base, its ServerURI, e.g.
	// http://10.0.1.20:9000/; its host must be an IP address.
	RegionsURL string
	// RegionHTTP (RoleRegion) is the regions' HTTP listener; invalid = 127.0.0.1:9000.
	RegionHTTP netip.AddrPort
	// AgentTimeout (RoleLogin) is the timeout of QUERYACCESS and the agent POST; 0 = 30 s.
	AgentTimeout time.Duration
}

// Roles of a gridlab serve process.
const (
	RoleAll    = "all"
	RoleLogin  = "login"
	RoleRegion = "region"
)

// Grid is a running grid. Its methods other than Shutdown must run on the loop.
type Grid struct {
	L         *Loop
	Login     *login.Service
	Regions   []*region.Region
	Accounts  *grid.Accounts
	LoginAddr netip.AddrPort   // the login service's address (invalid in RoleRegion)
	RegionUDP []netip.AddrPort // each region's bound UDP address (none in RoleLogin)
	// RegionHTTP is the regions' HTTP server's address in RoleRegion.
	RegionHTTP netip.AddrPort
	log        *Logger
	ln         *Listener
	httpLn     *Listener
	socks      []*UDPConn
}

// Logger writes OpenSim-style log lines ("2006-01-02 15:04:05,000 INFO  - [TAG]: text") with
// wall-clock timestamps. It is safe for concurrent use.
type Logger struct {
	mu    sync.Mutex
	w     io.Writer
	debug bool
}

// NewLogger returns a logger writing to w.
func NewLogger(w io.Writer, debug bool) *Logger { return &Logger{w: w, debug: debug} }

// Logf implements the cores' Logger.
func (l *Logger) Logf(level, format string, args ...any) {
	if l == nil || l.w == nil || (level == "DEBUG" && !l.debug) {
		return
	}
	line := fmt.Sprintf(format, args...)
	ts := time.Now().Format("2006-01-02 15:04:05.000")
	ts = strings.Replace(ts, ".", ",", 1)
	l.mu.Lock()
	fmt.Fprintf(l.w, "%s %-5s - %s\n", ts, level, line)
	l.mu.Unlock()
}

// CryptoRand returns a ChaCha8 generator seeded from crypto/rand, for session IDs, secure
// session IDs and circuit codes in real mode.
func CryptoRand() *rand.Rand {
	var seed [32]byte
	if _, err := crand.Read(seed[:]); err != nil {
		panic("realnet: crypto/rand: " + err.Error())
	}
	return rand.New(rand.NewChaCha8(seed))
}

// SystemIP is OpenSim's SYSTEMIP: the host's first non-loopback IPv4 address.
func SystemIP() (netip.Addr, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return netip.Addr{}, err
	}
	for _, a := range addrs {
		if pn, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(pn.IP); ok {
				ip = ip.Unmap()
				if ip.Is4() && !ip.IsLoopback() {
					return ip, nil
				}
			}
		}
	}
	return netip.Addr{}, errors.New("no non-loopback IPv4 address for SYSTEMIP")
}

// DefaultRegion is the region used when none is configured: "gridlab" at 1000,1000 on the
// login address's IP, UDP port = the login port (as an OpenSim standalone's 9000/9000).
func DefaultRegion(loginAddr netip.AddrPort) grid.RegionConfig {
	return grid.RegionConfig{
		Name: "gridlab", ID: uuid.NewSHA1(uuid.NameSpaceURL, []byte("gridlab/default-region")),
		X: 1000, Y: 1000, SizeX: 256, SizeY: 256,
		InternalAddress: loginAddr.Addr(), InternalPort: loginAddr.Port(),
		ExternalHostName: loginAddr.Addr().String(),
	}
}

// StartGrid binds the sockets and starts the cores. Call it before l.Run, or inside l.Do.
func StartGrid(l *Loop, cfg GridConfig) (*Grid, error) {
	switch cfg.Role {
	case "", RoleAll:
	case RoleLogin:
		return startLoginRole(l, cfg)
	case RoleRegion:
		return startRegionRole(l, cfg)
	default:
		return nil, fmt.Errorf("role %q: want %s, %s or %s", cfg.Role, RoleAll, RoleLogin, RoleRegion)
	}
	g := &Grid{L: l, log: NewLogger(cfg.Log, cfg.Debug), Accounts: grid.NewAccounts()}
	if !cfg.Login.IsValid() {
		cfg.Login = netip.MustParseAddrPort("127.0.0.1:9000")
	}
	ids, err := gridDefaults(&cfg, g)
	if err != nil {
		return nil, err
	}
	rcs := cfg.Regions
	if len(rcs) == 0 {
		rcs = []grid.RegionConfig{DefaultRegion(cfg.Login)}
	}

	// The login listener first: its port (which may be 0) is the base of every URL.
	var mux vhttp.HandlerFunc
	ln, err := l.ListenTCP(cfg.Login, func(c *TCPConn) StreamHandler {
		return vhttp.NewServerConn(c, mux, login.MaxRequestBody)
	})
	if err != nil {
		return nil, fmt.Errorf("login service: %w", err)
	}
	g.ln = ln
	g.LoginAddr = ln.Addr()
	base := fmt.Sprintf("http://%s/", g.LoginAddr)

	var logRegions []login.Region
	for i, rc := range rcs {
		rg, sock, ext, err := g.startRegion(l, rc, cfg.Resolve)
		if err != nil {
			g.Close()
			return nil, err
		}
		logRegions = append(logRegions, login.Region{
			Name: rc.Name, ID: rc.ID, X: rc.X, Y: rc.Y, SizeX: rc.SizeX, SizeY: rc.SizeY,
			SimIP: ext, SimPort: sock.LocalAddr().Port(),
			ServerURI: base, Dest: rg, Default: i == 0,
		})
		g.log.Logf("INFO", "[REGION]: Region %s (%s) at %d,%d listening on UDP %s, external %s", rc.Name, rc.ID, rc.X, rc.Y, sock.LocalAddr(), ext)
	}
	svc, err := login.New(login.Config{
		Accounts: g.Accounts, Regions: logRegions, Welcome: cfg.Welcome,
		IDs: ids, Log: g.log, GridName: cfg.GridName, GridNick: "gridlab", LoginURI: base,
		Epoch:         func() int64 { return time.Now().Unix() },
		CheckPresence: true,
		Kick: func(agent uuid.UUID) {
			for _, rg := range g.Regions {
				rg.Kick(agent, "new login detected")
			}
		},
	})
	if err != nil {
		g.Close()
		return nil, err
	}
	g.Login = svc
	for _, rg := range g.Regions {
		rg.SetOnLeave(func(ac login.AgentCircuit, why string) {
			if why != "relogin" {
				svc.LogoutAgent(ac.AgentID, ac.SessionID)
			}
		})
	}
	mux = region.WithCaps(g.Regions, svc).ServeVHTTP
	g.log.Logf("INFO", "[LLOGIN SERVICE]: Login service listening on %s (%d accounts)", base, g.Accounts.Len())
	return g, nil
}

func externalAddr(rc grid.RegionConfig, resolve func() (netip.Addr, error)) (netip.Addr, error) {
	h := rc.ExternalHostName
	if h == "" || strings.EqualFold(h, "SYSTEMIP") {
		a, err := resolve()
		if err != nil {
			return netip.Addr{}, fmt.Errorf("region %q: ExternalHostName SYSTEMIP: %w", rc.Name, err)
		}
		return a, nil
	}
	if a, err := netip.ParseAddr(h); err == nil {
		return a.Unmap(), nil
	}
	ips, err := net.LookupIP(h)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("region %q: ExternalHostName %q: %w", rc.Name, h, err)
	}
	for _, ip := range ips {
		if a, ok := netip.AddrFromSlice(ip); ok && a.Unmap().Is4() {
			return a.Unmap(), nil
		}
	}
	return netip.Addr{}, fmt.Errorf("region %q: ExternalHostName %q has no IPv4 address", rc.Name, h)
}

// Shutdown logs every agent out (regions close their circuits in a stable order, which
// clears presence), then closes the sockets. It runs on the loop.
func (g *Grid) Shutdown() {
	g.log.Logf("INFO", "[SHUTDOWN]: Shutting down: logging out %d agents", g.agents())
	for _, rg := range g.Regions {
		rg.Shutdown()
	}
	if g.Login != nil {
		g.Login.LogoutAll()
	}
	g.Close()
}

func (g *Grid) agents() int {
	n := 0
	for _, rg := range g.Regions {
		n += rg.Agents()
	}
	return n
}

// Close closes the sockets without logging anyone out.
func (g *Grid) Close() {
	if g.ln != nil {
		g.ln.Close()
	}
	if g.httpLn != nil {
		g.httpLn.Close()
	}
	for _, s := range g.socks {
		s.Close()
	}
}

// gridDefaults fills the settings both roles share and creates the accounts.
func gridDefaults(cfg *GridConfig, g *Grid) (*rand.Rand, error) {
	ids := cfg.Rand
	if ids == nil {
		ids = CryptoRand()
	}
	if cfg.GridName == "" {
		cfg.GridName = "gridlab"
	}
	if cfg.Resolve == nil {
		cfg.Resolve = SystemIP
	}
	for _, u := range cfg.Users {
		if _, err := g.Accounts.Add(u.First, u.Last, u.Password, ids); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// startRegionRole runs the regions alone: UDP sockets, and one HTTP server for the agent
// endpoint (QUERYACCESS, agent POST), the capabilities and /simstatus.
func startRegionRole(l *Loop, cfg GridConfig) (*Grid, error) {
	g := &Grid{L: l, log: NewLogger(cfg.Log, cfg.Debug), Accounts: grid.NewAccounts()}
	if cfg.Resolve == nil {
		cfg.Resolve = SystemIP
	}
	if !cfg.RegionHTTP.IsValid() {
		cfg.RegionHTTP = netip.MustParseAddrPort("127.0.0.1:9000")
	}
	var srv *region.Server
	ln, err := l.ListenTCP(cfg.RegionHTTP, func(c *TCPConn) StreamHandler {
		return vhttp.NewServerConn(c, srv, login.MaxRequestBody)
	})
	if err != nil {
		return nil, fmt.Errorf("region HTTP server: %w", err)
	}
	g.httpLn = ln
	g.RegionHTTP = ln.Addr()
	rcs := cfg.Regions
	if len(rcs) == 0 {
		rcs = []grid.RegionConfig{DefaultRegion(g.RegionHTTP)}
	}
	for _, rc := range rcs {
		_, sock, ext, err := g.startRegion(l, rc, cfg.Resolve)
		if err != nil {
			g.Close()
			return nil, err
		}
		g.log.Logf("INFO", "[REGION]: Region %s (%s) at %d,%d listening on UDP %s, external %s", rc.Name, rc.ID, rc.X, rc.Y, sock.LocalAddr(), ext)
	}
	srv = region.NewServer(g.Regions...)
	g.log.Logf("INFO", "[REGION]: Simulation service (agent endpoint, capabilities) listening on http://%s/", g.RegionHTTP)
	return g, nil
}

// startLoginRole runs the login service alone; it reaches the regions' process over HTTP.
func startLoginRole(l *Loop, cfg GridConfig) (*Grid, error) {
	g := &Grid{L: l, log: NewLogger(cfg.Log, cfg.Debug), Accounts: grid.NewAccounts()}
	ids, err := gridDefaults(&cfg, g)
	if err != nil {
		return nil, err
	}
	if cfg.RegionsURL == "" {
		return nil, errors.New("role login: the regions' URL is missing (their process's HTTP base, e.g. http://10.0.1.20:9000/)")
	}
	ru, err := url.Parse(cfg.RegionsURL)
	if err != nil || ru.Scheme != "http" || ru.Host == "" {
		return nil, fmt.Errorf("regions URL %q: want http://IP:port/", cfg.RegionsURL)
	}
	regionsAddr, err := vhttp.AddrOf(ru.Host, 80)
	if err != nil {
		return nil, fmt.Errorf("regions URL %q: the host must be an IP address", cfg.RegionsURL)
	}
	serverURI := "http://" + regionsAddr.String() + "/"
	if !cfg.Login.IsValid() {
		cfg.Login = netip.MustParseAddrPort("127.0.0.1:9000")
	}
	rcs := cfg.Regions
	if len(rcs) == 0 {
		rcs = []grid.RegionConfig{DefaultRegion(regionsAddr)}
	}
	var svc *login.Service
	ln, err := l.ListenTCP(cfg.Login, func(c *TCPConn) StreamHandler {
		return vhttp.NewServerConn(c, svc, login.MaxRequestBody)
	})
	if err != nil {
		return nil, fmt.Errorf("login service: %w", err)
	}
	g.ln = ln
	g.LoginAddr = ln.Addr()
	base := fmt.Sprintf("http://%s/", g.LoginAddr)
	conn := &login.Connector{
		Client: &vhttp.Client{
			Dial: func(to netip.AddrPort, h vhttp.StreamHandler) vhttp.Stream { return l.DialTCP(to, h) },
			After: func(d time.Duration, fn func()) func() {
				t := l.Sim.After(d, "login/agent-timeout", fn)
				return func() { t.Stop() }
			},
		},
		Log:     g.log,
		Now:     func() time.Duration { return l.Sim.Now().Duration() },
		Timeout: cfg.AgentTimeout,
	}
	var logRegions []login.Region
	for i, rc := range rcs {
		ext, err := externalAddr(rc, cfg.Resolve)
		if err != nil {
			g.Close()
			return nil, err
		}
		lr := login.Region{
			Name: rc.Name, ID: rc.ID, X: rc.X, Y: rc.Y, SizeX: rc.SizeX, SizeY: rc.SizeY,
			SimIP: ext, SimPort: rc.InternalPort, ServerURI: serverURI, Default: i == 0,
		}
		lr.Dest = conn.Destination(lr)
		logRegions = append(logRegions, lr)
		g.log.Logf("INFO", "[GRID SERVICE]: Region %s (%s) at %d,%d, simulation service %s, UDP %s", rc.Name, rc.ID, rc.X, rc.Y, serverURI, netip.AddrPortFrom(ext, rc.InternalPort))
	}
	svc, err = login.New(login.Config{
		Accounts: g.Accounts, Regions: logRegions, Welcome: cfg.Welcome,
		IDs: ids, Log: g.log, GridName: cfg.GridName, GridNick: "gridlab", LoginURI: base,
		Epoch: func() int64 { return time.Now().Unix() },
	})
	if err != nil {
		g.Close()
		return nil, err
	}
	g.Login = svc
	g.log.Logf("INFO", "[LLOGIN SERVICE]: Login service listening on %s (%d accounts), regions at %s", base, g.Accounts.Len(), serverURI)
	return g, nil
}

// startRegion starts one region of Regions.ini on its UDP port: the region core on the loop and
// its socket. It returns the region, its socket and its external address (ExternalHostName).
func (g *Grid) startRegion(l *Loop, rc grid.RegionConfig, resolve func() (netip.Addr, error)) (*region.Region, *UDPConn, netip.Addr, error) {
	ext, err := externalAddr(rc, resolve)
	if err != nil {
		return nil, nil, netip.Addr{}, err
	}
	bind := netip.AddrPortFrom(rc.InternalAddress, rc.InternalPort)
	if !bind.Addr().IsValid() {
		bind = netip.AddrPortFrom(netip.IPv4Unspecified(), rc.InternalPort)
	}
	rg := region.New(region.Config{
		Name: rc.Name, ID: rc.ID, X: rc.X, Y: rc.Y,
		Clock: l.Sim, Log: g.log, ChannelVersion: "gridlab 0.1",
		MaxAgents: uint32(rc.MaxAgents), Terrain: true,
	})
	sock, err := l.ListenUDP(bind, rg.Receive)
	if err != nil {
		return nil, nil, netip.Addr{}, fmt.Errorf("region %q: UDP %s: %w", rc.Name, bind, err)
	}
	rg.SetSend(func(to netip.AddrPort, b []byte) { sock.WriteTo(b, to) })
	g.socks = append(g.socks, sock)
	g.Regions = append(g.Regions, rg)
	g.RegionUDP = append(g.RegionUDP, sock.LocalAddr())
	return rg, sock, ext, nil
}
