package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"gridlab/lab"
	"gridlab/lab/loadtest"
	"gridlab/lab/viewer"
	"gridlab/reports"
)

// LoadMetaFile is the file beside report.json where gridlab load records its arrival plan and
// wall-clock start; gridlab report merge reads it to put shards on one time axis.
const LoadMetaFile = "load.json"

type loadFlags struct {
	noSeedCaps  bool
	loginURI    string
	viewers     int
	rate        string
	accounts    string
	userPattern string
	stay        time.Duration
	profile     string
	out         string
	quiet       bool
	json        bool
	expect      []string
	shard       string
	bind        string
	grace       time.Duration
	name        string
}

func newLoadCmd() *cobra.Command {
	var f loadFlags
	cmd := &cobra.Command{
		Use:   "load --login-uri URI --viewers N --rate R/s",
		Short: "Load-test a real grid: N synthetic viewers over real sockets, same report as 'gridlab run'",
		Long: `load runs N synthetic viewers (the same viewer code as the simulation) against a real
OpenSim-compatible grid over real DNS, TCP, HTTP and UDP, from this one process: one event
loop plus socket reader goroutines. Viewer k starts at k/R seconds (an open arrival model);
each logs in, stays --stay in world and logs out. Stage times run from each viewer's intended
start, so a grid (or a load generator) that falls behind shows up as latency rather than
being hidden (no coordinated omission).

It writes the same run folder as 'gridlab run' (report.json, viewers.csv, timeseries.csv,
plots, index.html) plus load.json (arrival plan, wall-clock start). Ctrl-C (SIGINT or SIGTERM)
stops new logins, logs every viewer in world out, waits up to --grace and writes the report.

Accounts: --accounts FILE ("First Last:password" per line, # comments; viewer k uses line k),
or --user-pattern ({n} counts from 1), which matches 'gridlab serve --users N --user-pattern'.

--expect takes k6-style thresholds (repeatable); if one fails the report is still written and
gridlab exits with status 99:
  p(99)<2s                   login to in world (movement_complete); p(50|90|95|99|99.9), min, max, avg
  circuit_ack p(95)<500ms    another stage: login_reply, circuit_ack, region_handshake, first_object_update
  rate(success)>=99%         fraction of viewers with an outcome
  count(bad-credentials)==0  number of viewers with an outcome

--shard i/n (i from 0) runs shard i of n: viewers [i*N/n, (i+1)*N/n) with their accounts and
IDs, at R/n per second, starting i/R seconds late, so that the n shards together arrive like
one run at R/s. Merge their folders with 'gridlab report merge'. See docs/DISTRIBUTED.md.`,
		Example: `  gridlab serve --users 1000 --user-pattern "Load Test{n}:password" &
  gridlab load --login-uri http://127.0.0.1:9000/ --viewers 1000 --rate 50/s --stay 1m --out out/load
  gridlab load --login-uri http://grid.example.org:8002/ --viewers 200 --rate 10/s --accounts accounts.txt --expect "p(99)<2s" --expect "rate(success)>=99%"
  gridlab load --login-uri http://10.0.0.5:9000/ --viewers 20000 --rate 200/s --shard 3/8 --out /results/shard-3`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runLoad(ctx, f, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.loginURI, "login-uri", "", "the grid's login URI, e.g. http://127.0.0.1:9000/ (required)")
	fl.IntVar(&f.viewers, "viewers", 0, "number of viewers in the whole run (all shards together) (required)")
	fl.StringVar(&f.rate, "rate", "10/s", "arrival rate: logins per second (\"100/s\", \"100\") or per minute (\"600/m\")")
	fl.StringVar(&f.accounts, "accounts", "", `accounts file: "First Last:password" per line (default: --user-pattern)`)
	fl.StringVar(&f.userPattern, "user-pattern", "Load Test{n}:password", "account pattern; {n} counts from 1 (as gridlab serve --users)")
	fl.DurationVar(&f.stay, "stay", 5*time.Minute, "time each viewer stays in world before logging out (0 = until Ctrl-C)")
	fl.BoolVar(&f.noSeedCaps, "no-seed-caps", false, "viewers do not fetch their seed capability, so the region does not send them the world (each arrival's ObjectUpdate to every avatar present grows with the square of a region's avatars)")
	fl.StringVar(&f.profile, "profile", "sl-viewer", "viewer profile (timers and messages): "+profileNames())
	fl.StringVar(&f.out, "out", "out/load", "directory for report.json, viewers.csv, plots and load.json")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress line and no summary; errors only")
	fl.BoolVar(&f.json, "json", false, "print the summary as JSON on stdout (see docs/REPORT.md)")
	fl.StringArrayVar(&f.expect, "expect", nil, `threshold, e.g. "p(99)<2s" or "rate(success)>=99%" (repeatable); a failure exits 99`)
	fl.StringVar(&f.shard, "shard", "", `run shard i of n ("i/n", i from 0), e.g. --shard 2/8`)
	fl.StringVar(&f.bind, "bind", "0.0.0.0", "local IPv4 address of the viewers' UDP sockets")
	fl.DurationVar(&f.grace, "grace", loadtest.DefaultGrace, "after Ctrl-C, how long to wait for logins in flight and logouts")
	fl.StringVar(&f.name, "name", "load", "run name in the report")
	return cmd
}

func profileNames() string {
	var ns []string
	for _, p := range viewer.Profiles {
		ns = append(ns, p.Name)
	}
	return strings.Join(ns, ", ")
}

// parseRate reads "100/s", "100", "0.5/s" or "600/m" as logins per second.
func parseRate(s string) (float64, error) {
	num, unit, _ := strings.Cut(strings.TrimSpace(s), "/")
	per := 1.0
	switch strings.TrimSpace(unit) {
	case "", "s":
	case "m", "min":
		per = 60
	default:
		return 0, fmt.Errorf("--rate %q: unit %q: want R/s or R/m, e.g. 100/s", s, unit)
	}
	r, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || !(r > 0) || r > 1e6 {
		return 0, fmt.Errorf("--rate %q: want a positive number of logins per second, e.g. 100/s", s)
	}
	return r / per, nil
}

// parseShard reads "i/n" with 0 <= i < n.
func parseShard(s string) (i, n int, err error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return 0, 0, fmt.Errorf("--shard %q: want i/n with 0 <= i < n, e.g. 0/4", s)
	}
	return i, n, nil
}

// checkLoginURI accepts http://host[:port]/... (the viewers speak plain HTTP).
func checkLoginURI(s string) error {
	if s == "" {
		return errors.New("--login-uri is required, e.g. --login-uri http://127.0.0.1:9000/")
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("--login-uri %q: want http://HOST:PORT/: %w", s, err)
	}
	if u.Scheme != "http" || u.Hostname() == "" {
		return fmt.Errorf("--login-uri %q: want http://HOST:PORT/ (https is not supported)", s)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("--login-uri %q: bad port %q", s, p)
		}
	}
	return nil
}

// loadAccounts returns the accounts of viewers [lo, hi) of the run.
func loadAccounts(f loadFlags, lo, hi int) ([]loadtest.Account, error) {
	o := serveOptions{accounts: f.accounts}
	if f.accounts == "" {
		o.nUsers, o.userPattern = hi, f.userPattern
	}
	us, err := o.usersList()
	if err != nil {
		if f.accounts != "" {
			return nil, fmt.Errorf("--accounts: %w", err)
		}
		return nil, err
	}
	if len(us) < hi {
		return nil, fmt.Errorf("--accounts %s has %d accounts; %d viewers need %d", f.accounts, len(us), f.viewers, hi)
	}
	out := make([]loadtest.Account, 0, hi-lo)
	for _, u := range us[lo:hi] {
		out = append(out, loadtest.Account{First: u.First, Last: u.Last, Password: u.Password})
	}
	return out, nil
}

// loadConfig checks the flags and turns them into the engine's configuration.
func loadConfig(f loadFlags) (loadtest.Config, []string, error) {
	var cfg loadtest.Config
	if err := checkLoginURI(f.loginURI); err != nil {
		return cfg, nil, err
	}
	if f.viewers < 1 {
		return cfg, nil, fmt.Errorf("--viewers %d: want at least 1", f.viewers)
	}
	rate, err := parseRate(f.rate)
	if err != nil {
		return cfg, nil, err
	}
	if f.stay < 0 {
		return cfg, nil, fmt.Errorf("--stay %v is negative", f.stay)
	}
	prof, err := viewer.ProfileByName(f.profile)
	if err != nil {
		return cfg, nil, fmt.Errorf("--profile: %w", err)
	}
	bind, err := netip.ParseAddr(f.bind)
	if err != nil || !bind.Is4() {
		return cfg, nil, fmt.Errorf("--bind %q: want an IPv4 address such as 0.0.0.0", f.bind)
	}
	if f.accounts == "" && !strings.Contains(f.userPattern, "{n}") {
		return cfg, nil, fmt.Errorf("--user-pattern %q must contain {n}", f.userPattern)
	}
	if _, err := loadtest.ParseExpects(f.expect); err != nil {
		return cfg, nil, err
	}
	lo, hi, shardRate, offset := 0, f.viewers, rate, time.Duration(0)
	desc := fmt.Sprintf("gridlab load: %d viewers at %g/s against %s, stay %v, profile %s", f.viewers, rate, f.loginURI, f.stay, prof.Name)
	var shard []string
	if f.shard != "" {
		i, n, err := parseShard(f.shard)
		if err != nil {
			return cfg, nil, err
		}
		if n > f.viewers {
			return cfg, nil, fmt.Errorf("--shard %s: more shards than --viewers (%d)", f.shard, f.viewers)
		}
		lo, hi = i*f.viewers/n, (i+1)*f.viewers/n
		shardRate = rate / float64(n)
		offset = time.Duration(float64(i) * float64(time.Second) / rate)
		desc += fmt.Sprintf("; shard %d/%d: viewers %d-%d", i, n, lo+1, hi)
		shard = []string{fmt.Sprintf("%d/%d", i, n)}
	}
	accs, err := loadAccounts(f, lo, hi)
	if err != nil {
		return cfg, nil, err
	}
	cfg = loadtest.Config{
		Name: f.name, Description: desc, LoginURI: f.loginURI, Accounts: accs, FirstID: lo + 1,
		Rate: shardRate, Offset: offset, Stay: f.stay, Profile: prof, Bind: bind, Grace: f.grace,
		NoSeedCaps: f.noSeedCaps,
	}
	return cfg, shard, nil
}

func runLoad(ctx context.Context, f loadFlags, stdout, stderr io.Writer) error {
	cfg, shard, err := loadConfig(f)
	if err != nil {
		return err
	}
	exps, _ := loadtest.ParseExpects(f.expect) // checked by loadConfig
	var pr *loadPrinter
	if !f.quiet {
		pr = newLoadPrinter(stderr, cfg)
		cfg.Progress = pr.update
	}
	res, err := loadtest.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if len(shard) == 1 {
		res.Meta.Shard = shard[0]
	}
	if pr != nil {
		pr.finish(res.Meta)
	}
	res.Run.Expectations = lab.Evaluate(exps, res.Run)
	err = writeRunOutput(res.Run, f.out, f.quiet, f.json, stdout)
	var ee *ExpectationsError
	if err != nil && !errors.As(err, &ee) {
		return err
	}
	if werr := writeLoadMeta(f.out, res.Meta); werr != nil {
		return werr
	}
	return err
}

func writeLoadMeta(dir string, m loadtest.Meta) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, LoadMetaFile), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", LoadMetaFile, err)
	}
	return nil
}

// readLoadMeta reads a run folder's load.json; ok is false when there is none.
func readLoadMeta(dir string) (m loadtest.Meta, ok bool, err error) {
	data, err := os.ReadFile(filepath.Join(dir, LoadMetaFile))
	if errors.Is(err, os.ErrNotExist) {
		return m, false, nil
	}
	if err != nil {
		return m, false, err
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, false, fmt.Errorf("%s: %w", filepath.Join(dir, LoadMetaFile), err)
	}
	return m, true, nil
}

// loadPrinter shows the load test's progress on stderr: one line rewritten in place on a
// terminal, a line every few seconds otherwise.
type loadPrinter struct {
	p   *progressPrinter
	cfg loadtest.Config
}

func newLoadPrinter(w io.Writer, cfg loadtest.Config) *loadPrinter {
	return &loadPrinter{p: newProgressPrinter(w, cfg.Name), cfg: cfg}
}

func (lp *loadPrinter) update(pg loadtest.Progress) {
	p := lp.p
	now := time.Now()
	every := 500 * time.Millisecond
	if !p.tty {
		every = 5 * time.Second
	}
	if now.Sub(p.last) < every {
		return
	}
	p.last = now
	state := ""
	switch {
	case pg.Stopping:
		state = "  stopping: logging out"
	case pg.Started < pg.Planned:
		state = fmt.Sprintf("  arriving at %.4g/s", float64(pg.Started)/max(pg.Elapsed.Seconds()-lp.cfg.Offset.Seconds(), 1e-3))
	}
	line := fmt.Sprintf("%s  %s  started %d/%d  in world %d  failed %d  done %d%s",
		p.name, pg.Elapsed.Round(time.Second), pg.Started, pg.Planned, pg.InWorld, pg.Failed, pg.Done, state)
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
	} else {
		fmt.Fprintln(p.w, line)
	}
	p.lastLine = line
}

func (lp *loadPrinter) finish(m loadtest.Meta) {
	p := lp.p
	if p.tty && p.lastLine != "" {
		fmt.Fprint(p.w, "\r\033[K")
	}
	how := "finished"
	if m.Interrupted {
		how = "interrupted"
	}
	fmt.Fprintf(p.w, "%s: %s after %s: %d of %d viewers started (target %g/s), max start lag %s\n",
		p.name, how, time.Since(p.start).Round(time.Millisecond), m.Started, m.Planned, m.Rate,
		time.Duration(m.MaxStartLagMS*1000)*time.Microsecond)
	if m.LoopDropped > 0 {
		fmt.Fprintf(p.w, "%s: warning: the event loop dropped %d datagrams (queue full): the load generator is saturated\n", p.name, m.LoopDropped)
	}
}

func newMergeCmd() *cobra.Command {
	var (
		out    string
		quiet  bool
		asJSON bool
		expect []string
	)
	cmd := &cobra.Command{
		Use:   "merge DIR... --out DIR",
		Short: "Merge the run folders of 'gridlab load --shard' runs into one report",
		Long: `merge combines run folders (typically one per 'gridlab load --shard i/n') into one run folder
with the same files as 'gridlab run' writes. Viewers must have disjoint IDs (shards have).

The merged stage percentiles are computed from every viewer's stage times in viewers.csv, which
gives exactly the HDR histogram of the shards' histograms merged: percentiles are never
averaged. Shards are put on one clock by the wall-clock start in their load.json (folders
without one start at 0). Counters are summed. Per-shard --expect verdicts are not carried
over; give --expect here to judge the whole run (a failure exits 99).`,
		Example: `  gridlab report merge out/shard-0 out/shard-1 out/shard-2 --out out/merged
  gridlab report merge /results/shard-* --out /results/merged --expect "p(99)<2s"`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return errors.New("--out is required: the directory for the merged report")
			}
			exps, err := loadtest.ParseExpects(expect)
			if err != nil {
				return err
			}
			run, meta, err := mergeDirs(args)
			if err != nil {
				return err
			}
			run.Expectations = lab.Evaluate(exps, run)
			err = writeRunOutput(run, out, quiet, asJSON, cmd.OutOrStdout())
			var ee *ExpectationsError
			if err != nil && !errors.As(err, &ee) {
				return err
			}
			if meta != nil {
				if werr := writeLoadMeta(out, *meta); werr != nil {
					return werr
				}
			}
			return err
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "directory for the merged run folder (required)")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no summary; errors only")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the summary as JSON on stdout")
	cmd.Flags().StringArrayVar(&expect, "expect", nil, `threshold over the merged run, e.g. "p(99)<2s" (repeatable); a failure exits 99`)
	return cmd
}

// mergeDirs loads run folders and merges them; the merged load.json (nil if no folder had one)
// sums the plans and lists the shards.
func mergeDirs(dirs []string) (*reports.Run, *loadtest.Meta, error) {
	type loaded struct {
		dir  string
		run  *reports.Run
		meta loadtest.Meta
		has  bool
	}
	var ls []loaded
	var t0 time.Time
	for _, d := range dirs {
		r, _, err := reports.LoadRun(d)
		if err != nil {
			return nil, nil, fmt.Errorf("merge: reading %s: %w", d, err)
		}
		m, has, err := readLoadMeta(d)
		if err != nil {
			return nil, nil, fmt.Errorf("merge: %w", err)
		}
		if has && (t0.IsZero() || m.StartedAt.Before(t0)) {
			t0 = m.StartedAt
		}
		ls = append(ls, loaded{d, r, m, has})
	}
	var shards []reports.Shard
	var merged *loadtest.Meta
	for _, l := range ls {
		sh := reports.Shard{Name: l.dir, Run: l.run}
		if l.has {
			sh.Offset = l.meta.StartedAt.Sub(t0)
			if merged == nil {
				merged = &loadtest.Meta{Name: l.meta.Name, LoginURI: l.meta.LoginURI, StartedAt: t0, StayS: l.meta.StayS, Profile: l.meta.Profile, FirstID: l.meta.FirstID}
			}
			merged.Rate += l.meta.Rate
			merged.Planned += l.meta.Planned
			merged.Started += l.meta.Started
			merged.FirstID = min(merged.FirstID, l.meta.FirstID)
			merged.Interrupted = merged.Interrupted || l.meta.Interrupted
			merged.MaxStartLagMS = max(merged.MaxStartLagMS, l.meta.MaxStartLagMS)
			merged.LoopDropped += l.meta.LoopDropped
			name := l.meta.Shard
			if name == "" {
				name = l.dir
			}
			merged.Shards = append(merged.Shards, name)
		}
		shards = append(shards, sh)
	}
	run, err := reports.Merge(shards)
	if err != nil {
		return nil, nil, err
	}
	return run, merged, nil
}
