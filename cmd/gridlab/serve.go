package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"gridlab/lab/grid"
	"gridlab/lab/realnet"
)

type serveOptions struct {
	login       string
	regions     string
	users       []string
	nUsers      int
	userPattern string
	accounts    string
	gridName    string
	welcome     string
	debug       bool
	role        string
	regionsURL  string
	regionHTTP  string
	cpuprofile  string
}

func newServeCmd() *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the login service and regions on real sockets (an OpenSim-compatible standalone grid)",
		Long: `serve runs gridlab's login service and regions on real sockets and the wall clock: the same
cores the simulation uses, on one event loop. Viewers and client libraries log in at the
login URI (XML-RPC login_to_simulator), connect to the region over LLUDP and use its seed
capability and event queue. Log lines go to stderr in OpenSim's style. SIGINT or SIGTERM
logs every agent out and stops.

Accounts come from --user "First Last:password" (repeatable), --users N with --user-pattern
("Load Test{n}:password", n from 1), and --accounts FILE (one "First Last:password" a line,
# comments). Passwords are kept only salted and hashed, as OpenSim stores them.

Grid mode splits the grid into processes as OpenSim's ROBUST does: --role login runs the login
service alone and asks the regions' process over HTTP to expect each agent (QUERYACCESS, then
POST to /agent/{id}/, 30 s timeout each, fallback regions on failure); --role region runs the
regions alone, with their HTTP server (agent endpoint, capabilities, /simstatus) on
--region-http. Give both the same --regions file. --role all (the default) is a standalone grid.`,
		Example: `  gridlab serve --user "Test User:secret"
  gridlab serve --login 127.0.0.1:9000 --regions Regions.ini --users 100 --user-pattern "Load Test{n}:secret"
  gridlab serve --role region --regions Regions.ini --region-http 10.0.1.20:9000
  gridlab serve --role login --login 10.0.1.10:8002 --regions Regions.ini --regions-url http://10.0.1.20:9000/ --user "Test User:secret"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if o.cpuprofile != "" {
				pf, err := os.Create(o.cpuprofile)
				if err != nil {
					return fmt.Errorf("--cpuprofile: %w", err)
				}
				defer pf.Close()
				if err := pprof.StartCPUProfile(pf); err != nil {
					return fmt.Errorf("--cpuprofile: %w", err)
				}
				defer pprof.StopCPUProfile()
			}
			return runServe(ctx, o, cmd.ErrOrStderr(), nil)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.login, "login", "127.0.0.1:9000", "login service address (TCP); regions' capabilities are served here too")
	f.StringVar(&o.regions, "regions", "", "Regions.ini file (default: one region \"gridlab\" on the login address, UDP port = login port)")
	f.StringArrayVar(&o.users, "user", nil, `account "First Last:password" (repeatable)`)
	f.IntVar(&o.nUsers, "users", 0, "create N accounts from --user-pattern")
	f.StringVar(&o.userPattern, "user-pattern", "Load Test{n}:password", "account pattern for --users; {n} counts from 1")
	f.StringVar(&o.accounts, "accounts", "", `accounts file: "First Last:password" per line`)
	f.StringVar(&o.gridName, "grid-name", "gridlab", "grid name for /get_grid_info")
	f.StringVar(&o.welcome, "welcome", "", "login message (default OpenSim's \"Welcome, Avatar!\")")
	f.BoolVar(&o.debug, "debug", false, "log DEBUG lines too")
	f.StringVar(&o.role, "role", realnet.RoleAll, "what this process runs: all (standalone grid), login (login service only) or region (regions only)")
	f.StringVar(&o.regionsURL, "regions-url", "", "--role login: the regions' process's HTTP base URL (its ServerURI), e.g. http://10.0.1.20:9000/")
	f.StringVar(&o.regionHTTP, "region-http", "127.0.0.1:9000", "--role region: TCP address of the regions' HTTP server (agent endpoint, capabilities)")
	f.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the whole serve (go tool pprof) to FILE when it stops")
	return cmd
}

// parseUser reads "First Last:password".
func parseUser(s string) (realnet.User, error) {
	name, pw, ok := strings.Cut(s, ":")
	first, last, ok2 := strings.Cut(strings.TrimSpace(name), " ")
	if !ok || !ok2 || strings.TrimSpace(first) == "" || strings.TrimSpace(last) == "" || pw == "" {
		return realnet.User{}, fmt.Errorf("account %q: want \"First Last:password\"", strings.SplitN(s, ":", 2)[0]+":...")
	}
	return realnet.User{First: strings.TrimSpace(first), Last: strings.TrimSpace(last), Password: pw}, nil
}

func (o *serveOptions) usersList() ([]realnet.User, error) {
	var out []realnet.User
	for _, s := range o.users {
		u, err := parseUser(s)
		if err != nil {
			return nil, fmt.Errorf("--user: %w", err)
		}
		out = append(out, u)
	}
	if o.nUsers > 0 {
		if !strings.Contains(o.userPattern, "{n}") {
			return nil, errors.New("--user-pattern must contain {n}")
		}
		for n := 1; n <= o.nUsers; n++ {
			u, err := parseUser(strings.ReplaceAll(o.userPattern, "{n}", strconv.Itoa(n)))
			if err != nil {
				return nil, fmt.Errorf("--user-pattern: %w", err)
			}
			out = append(out, u)
		}
	}
	if o.accounts != "" {
		f, err := os.Open(o.accounts)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for line := 1; sc.Scan(); line++ {
			t := strings.TrimSpace(sc.Text())
			if t == "" || strings.HasPrefix(t, "#") {
				continue
			}
			u, err := parseUser(t)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %w", o.accounts, line, err)
			}
			out = append(out, u)
		}
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// runServe runs the grid until ctx ends; ready, if set, is called on the loop once it serves.
func runServe(ctx context.Context, o serveOptions, logw io.Writer, ready func(*realnet.Grid)) error {
	addr, err := netip.ParseAddrPort(o.login)
	if err != nil {
		return fmt.Errorf("--login %q: want IP:port: %w", o.login, err)
	}
	var regionHTTP netip.AddrPort
	switch o.role {
	case "", realnet.RoleAll:
		if o.regionsURL != "" {
			return errors.New("--regions-url is for --role login: a standalone grid (--role all) runs its regions itself")
		}
	case realnet.RoleLogin:
		if o.regionsURL == "" {
			return errors.New("--role login needs --regions-url: the regions' process's HTTP base, e.g. http://10.0.1.20:9000/")
		}
	case realnet.RoleRegion:
		if o.regionsURL != "" {
			return errors.New("--regions-url is for --role login; the region role listens on --region-http")
		}
		if regionHTTP, err = netip.ParseAddrPort(o.regionHTTP); err != nil {
			return fmt.Errorf("--region-http %q: want IP:port: %w", o.regionHTTP, err)
		}
	default:
		return fmt.Errorf("--role %q: want all, login or region", o.role)
	}
	users, err := o.usersList()
	if err != nil {
		return err
	}
	var rcs []grid.RegionConfig
	if o.regions != "" {
		data, err := os.ReadFile(o.regions)
		if err != nil {
			return err
		}
		if rcs, err = grid.ParseRegionsINI(o.regions, data); err != nil {
			return err
		}
	}
	l := realnet.New()
	g, err := realnet.StartGrid(l, realnet.GridConfig{
		Login: addr, Regions: rcs, Users: users, Log: logw, GridName: o.gridName, Welcome: o.welcome, Debug: o.debug,
		Role: o.role, RegionsURL: o.regionsURL, RegionHTTP: regionHTTP,
	})
	if err != nil {
		return err
	}
	if ready != nil {
		l.Post(func() { ready(g) })
	}
	runCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- l.Run(runCtx) }()
	select {
	case <-ctx.Done():
	case err := <-done:
		return err
	}
	// Graceful shutdown: agents logged out on the loop, then the loop stops.
	_ = l.Do(g.Shutdown)
	cancel()
	<-done
	realnet.NewLogger(logw, false).Logf("INFO", "[SHUTDOWN]: Shutdown complete")
	return nil
}
