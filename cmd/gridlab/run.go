package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"gridlab/lab"
	"gridlab/reports"
	"gridlab/scenarios"
)

type runFlags struct {
	seed       uint64
	out        string
	viewers    int
	quiet      bool
	set        []string
	pcap       string
	json       bool
	invariants bool
	cpuprofile string
	memprofile string
	hugePages  bool
}

func newRunCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run [SCENARIO]",
		Short: "Run a scenario on the deterministic simulator and write its report",
		Long: `Run a scenario file on the deterministic simulator: build its virtual network, start its grid,
let its viewers log in, and write report.json and plots to --out.

SCENARIO is a path to a .yaml file, or the name of a bundled scenario (e.g. sim-reply-blocked).
With no SCENARIO, the bundled default (` + scenarios.Default + `) runs.

The same scenario and seed always give a byte-identical report.json and the same trace hash.`,
		Example: `  gridlab run
  gridlab run scenarios/standalone-basic.yaml --out out/basic
  gridlab run sim-reply-blocked --seed 7 --viewers 50 --quiet`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := scenarios.Default
			if len(args) == 1 {
				name = args[0]
			}
			if f.viewers < 0 {
				return fmt.Errorf("--viewers %d is negative: give the total number of viewers (0, or leave it out, runs the scenario's own)", f.viewers)
			}
			sc, err := loadScenario(name)
			if err != nil {
				return err
			}
			if err := applySets(sc, f.set); err != nil {
				return err
			}
			opt := lab.Options{Viewers: f.viewers, Pcap: f.pcap, Invariants: f.invariants}
			if cmd.Flags().Changed("seed") {
				opt.Seed = &f.seed
			}
			out := f.out
			if out == "" {
				out = filepath.Join("out", sc.Name)
			}
			if f.cpuprofile != "" {
				pf, err := os.Create(f.cpuprofile)
				if err != nil {
					return err
				}
				defer pf.Close()
				if err := pprof.StartCPUProfile(pf); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			if f.memprofile != "" {
				opt.AfterRun = func() error { return writeHeapProfile(f.memprofile) }
			}
			withHugePages(&opt, f.hugePages)
			if f.json {
				return runScenario(sc, opt, out, f.quiet, true, cmd.OutOrStdout(), cmd.ErrOrStderr())
			}
			return runScenario(sc, opt, out, f.quiet, false, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().Uint64Var(&f.seed, "seed", 0, "run seed (default: the scenario's seed); the same seed gives the same report")
	cmd.Flags().StringVar(&f.out, "out", "", "directory for report.json and plots (default out/<scenario name>)")
	cmd.Flags().IntVar(&f.viewers, "viewers", 0, "override the total number of viewers, keeping the populations' proportions (0: the scenario's own)")
	cmd.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "no progress line and no summary; errors only")
	cmd.Flags().BoolVar(&f.json, "json", false, "print the summary as JSON on stdout (see docs/REPORT.md); progress still goes to stderr unless --quiet")
	cmd.Flags().BoolVar(&f.invariants, "invariants", false, "check the grid's invariants every virtual second (docs/TESTING.md); a violation stops the run and fails the command")
	cmd.Flags().StringVar(&f.pcap, "pcap", "", "write a packet capture (pcap, virtual nanosecond timestamps) to FILE, and its drops to FILE.drops.txt")
	cmd.Flags().StringVar(&f.cpuprofile, "cpuprofile", "", "write a CPU profile of the run (go tool pprof) to FILE")
	cmd.Flags().StringVar(&f.memprofile, "memprofile", "", "write a heap profile (go tool pprof) to FILE when the simulation ends, before the run's world is released")
	cmd.Flags().BoolVar(&f.hugePages, "huge-pages", true, "on Linux, ask for transparent huge pages for the simulation's heap: large runs are markedly faster (docs/BENCHMARKS.md); results are the same either way")
	cmd.Flags().StringArrayVar(&f.set, "set", nil, "override a scenario field, e.g. --set viewers.home.count=10 or --set networks.internet.loss=2% (repeatable)")
	return cmd
}

// applySets applies --set key.path=value overrides in order, then validates the result.
func applySets(sc *scenarios.Scenario, sets []string) error {
	if err := setAll(sc, sets); err != nil {
		return err
	}
	if len(sets) > 0 {
		return sc.Validate()
	}
	return nil
}

// setAll applies --set overrides without the cross-field checks, for a caller that changes
// more before it validates (a sweep sets its parameter too).
func setAll(sc *scenarios.Scenario, sets []string) error {
	for _, kv := range sets {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("--set %q: want key.path=value", kv)
		}
		if err := sc.Set(k, v); err != nil {
			return err
		}
	}
	return nil
}

// loadScenario reads a scenario from a file, or from the bundled set by name.
func loadScenario(name string) (*scenarios.Scenario, error) {
	if _, err := os.Stat(name); err == nil {
		return scenarios.Load(name)
	}
	base := filepath.Base(name)
	if !strings.HasSuffix(base, ".yaml") {
		base += ".yaml"
	}
	data, err := fs.ReadFile(scenarios.Files, base)
	if err != nil {
		return nil, fmt.Errorf("scenario %q: no such file, and no bundled scenario of that name", name)
	}
	return scenarios.Parse(base, data)
}

// runScenario runs sc, writes its run folder to out and prints the summary: as JSON for scripts
// when asJSON (even with quiet, which then only silences progress), as text otherwise.
func runScenario(sc *scenarios.Scenario, opt lab.Options, out string, quiet, asJSON bool, stdout, stderr io.Writer) error {
	var pr *progressPrinter
	if !quiet {
		pr = newProgressPrinter(stderr, sc.Name)
		next := opt.Progress
		opt.Progress = func(p lab.Progress) {
			pr.update(p)
			if next != nil {
				next(p)
			}
		}
	}
	run, err := lab.Run(sc, opt)
	if pr != nil {
		pr.finish(run)
	}
	var v *lab.Violation
	if errors.As(err, &v) && run != nil {
		// A broken invariant: the report of the run up to it, then the violation with its trace.
		if werr := writeRunOutput(run, out, true, false, stdout); werr != nil {
			return werr
		}
		fmt.Fprintln(stderr, v.Report())
		return fmt.Errorf("%w (the run up to it is in %s)", err, out)
	}
	if err != nil {
		return err
	}
	return writeRunOutput(run, out, quiet, asJSON, stdout)
}

// writeRunOutput writes a finished run's folder to out (report.json, viewers.csv, plots,
// index.html) and prints its summary: as JSON when asJSON, as text unless quiet. It returns
// an *ExpectationsError when an expectation failed. gridlab run, load and report merge share it.
func writeRunOutput(run *reports.Run, out string, quiet, asJSON bool, stdout io.Writer) error {
	rep, err := reports.WriteRunFiles(out, run)
	if err != nil {
		return fmt.Errorf("writing the report to %s: %w", out, err)
	}
	if asJSON {
		if err := reports.WriteSummaryJSON(stdout, rep, out); err != nil {
			return err
		}
	} else if !quiet {
		reports.WriteSummary(stdout, rep)
		fmt.Fprintf(stdout, "\nreport: %s\n", filepath.Join(out, "report.json"))
	}
	return failedExpectations(run.Expectations)
}

// ExitExpectations is gridlab run's exit code when an expectation failed (k6's).
const ExitExpectations = 99

// ExpectationsError is the error of a run whose expectations did not all hold; the run
// folder is written all the same. main exits with ExitExpectations on it.
type ExpectationsError struct {
	Failed []reports.Expectation
}

// Error names each failed expectation with its observed value, one a line.
func (e *ExpectationsError) Error() string {
	lines := make([]string, len(e.Failed))
	for i, x := range e.Failed {
		lines[i] = fmt.Sprintf("expectation failed: %s %s: observed %s", x.Name, x.Threshold, x.Observed)
	}
	return strings.Join(lines, "\n")
}

// failedExpectations returns an *ExpectationsError naming the verdicts that failed, or nil.
func failedExpectations(verdicts []reports.Expectation) error {
	var failed []reports.Expectation
	for _, v := range verdicts {
		if !v.Pass {
			failed = append(failed, v)
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return &ExpectationsError{Failed: failed}
}

// exitCode maps a command's error to the process exit code.
func exitCode(err error) int {
	var ee *ExpectationsError
	if errors.As(err, &ee) {
		return ExitExpectations
	}
	return 1
}

// progressPrinter shows one progress line on a terminal (rewritten in place), or a line every
// few seconds when stderr is a file or pipe. It reads the wall clock; the models never do.
type progressPrinter struct {
	w        io.Writer
	name     string
	tty      bool
	start    time.Time
	last     time.Time
	lastLine string
}

func newProgressPrinter(w io.Writer, name string) *progressPrinter {
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	now := time.Now()
	return &progressPrinter{w: w, name: name, tty: tty, start: now, last: now}
}

func (p *progressPrinter) update(pg lab.Progress) {
	now := time.Now()
	every := 200 * time.Millisecond
	if !p.tty {
		every = 2 * time.Second
	}
	if now.Sub(p.last) < every {
		return
	}
	p.last = now
	elapsed := now.Sub(p.start)
	frac := 0.0
	if pg.End > 0 {
		frac = float64(pg.Now) / float64(pg.End)
	}
	if pg.Total > 0 {
		frac = max(frac, float64(pg.Done)/float64(pg.Total))
	}
	eta := "?"
	if frac > 0.01 {
		eta = (time.Duration(float64(elapsed) * (1 - frac) / frac)).Round(time.Second).String()
	}
	rate := float64(pg.Events) / max(elapsed.Seconds(), 1e-9)
	line := fmt.Sprintf("%s  t=%s  viewers %d/%d in world, %d failed, %d done  events %d (%.2fM/s)  ETA %s",
		p.name, pg.Now, pg.InWorld, pg.Total, pg.Failed, pg.Done, pg.Events, rate/1e6, eta)
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
	} else {
		fmt.Fprintln(p.w, line)
	}
	p.lastLine = line
}

// finish ends the progress line with what the run cost: wall time, events and datagrams per
// second, peak memory per connected viewer (run may be nil after an error).
func (p *progressPrinter) finish(run *reports.Run) {
	if p.tty && p.lastLine != "" {
		fmt.Fprint(p.w, "\r\033[K")
	}
	wall := time.Since(p.start)
	if run == nil {
		fmt.Fprintf(p.w, "%s: simulated in %s of wall time\n", p.name, wall.Round(time.Millisecond))
		return
	}
	fmt.Fprintf(p.w, "%s: simulated %s\n", p.name, costOf(run, wall))
}

// writeHeapProfile collects garbage and writes the live heap to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--memprofile: %w", err)
	}
	defer f.Close()
	runtime.GC()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		return fmt.Errorf("--memprofile: %w", err)
	}
	return f.Close()
}
