package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"gridlab/lab/explore"
)

type exploreFlags struct {
	seeds     uint64
	from      uint64
	jobs      int
	out       string
	timeLimit time.Duration
	noShrink  bool
}

func newExploreCmd() *cobra.Command {
	var f exploreFlags
	cmd := &cobra.Command{
		Use:   "explore --seeds N",
		Short: "Run random fault scenarios with the grid's invariants checked, and shrink what breaks",
		Long: `Simulation-test the grid: generate a random but valid scenario from each seed (topology, NAT
and firewall presets, impairments, a fault timeline with partitions, hosts down, NAT flushes,
region restarts, garbage datagrams and loss bursts, populations of every viewer profile), run it
on the deterministic simulator with the invariants checked (docs/TESTING.md), on every core.

Each seed that breaks an invariant (or makes a run fail) is printed on stdout as one line:
  seed 26: no-leak at 1m52s: presence still has agent ... online ...
The first seed of each signature (the invariant and the detail's first words) is then shrunk by delta debugging (timeline entries, populations,
viewers, regions, firewall rules, impairments removed while the same invariant still breaks),
and the minimal scenario is written to --out as seed-N-INVARIANT.yaml, with the violation's
trace beside it; ` + "`gridlab run --invariants FILE`" + ` replays it.

Progress goes to stderr. The exit code is 1 when anything was found.`,
		Example: `  gridlab explore --seeds 1000
  gridlab explore --seeds 10000 --from 50000 --jobs 2 --out out/explore
  gridlab explore --seeds 1 --from 26            # replay one seed, and shrink it
  gridlab run --invariants out/explore/seed-26-no-leak.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.seeds == 0 {
				return fmt.Errorf("--seeds: give the number of seeds to explore (e.g. --seeds 1000)")
			}
			if f.jobs < 0 {
				return fmt.Errorf("--jobs %d: want 0 (every core) or more", f.jobs)
			}
			return runExplore(f, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().Uint64Var(&f.seeds, "seeds", 0, "how many seeds to explore (required)")
	cmd.Flags().Uint64Var(&f.from, "from", 0, "first seed; seeds --from to --from+--seeds-1 run")
	cmd.Flags().IntVar(&f.jobs, "jobs", 0, "runs at once (default: every core)")
	cmd.Flags().StringVar(&f.out, "out", filepath.Join("out", "explore"), "directory for the shrunk scenarios and their traces")
	cmd.Flags().DurationVar(&f.timeLimit, "time-limit", 0, "stop starting new seeds after this much wall time (e.g. 10m); 0 = none")
	cmd.Flags().BoolVar(&f.noShrink, "no-shrink", false, "only print the findings; do not shrink them")
	return cmd
}

// runExplore explores, prints the findings and shrinks the first of each signature.
func runExplore(f exploreFlags, stdout, stderr io.Writer) error {
	pr := newExploreProgress(stderr)
	sum := explore.Explore(explore.Config{
		From: f.from, Seeds: f.seeds, Jobs: f.jobs, TimeLimit: f.timeLimit,
		Progress: pr.update,
		Found:    func(fd explore.Finding) { pr.clear(); fmt.Fprintln(stdout, fd) },
	})
	pr.clear()
	rate := float64(sum.Ran) / max(sum.Wall.Seconds(), 1e-9)
	span := "none"
	if sum.Ran > 0 {
		span = fmt.Sprintf("%d to %d", f.from, f.from+sum.Ran-1)
	}
	fmt.Fprintf(stderr, "explored %d seeds (%s) in %s: %.0f runs/s, %d events; %d found\n",
		sum.Ran, span, sum.Wall.Round(time.Millisecond), rate, sum.Events, len(sum.Findings))
	if sum.Ran < f.seeds {
		fmt.Fprintf(stderr, "time limit %s reached: %d seeds not run\n", f.timeLimit, f.seeds-sum.Ran)
	}
	if len(sum.Findings) == 0 {
		return nil
	}
	kinds := map[string]int{}
	var order []string
	for _, fd := range sum.Findings {
		if kinds[fd.Signature()] == 0 {
			order = append(order, fd.Signature())
		}
		kinds[fd.Signature()]++
	}
	fmt.Fprintln(stderr, "findings by signature:")
	for _, k := range order {
		fmt.Fprintf(stderr, "  %5d  %s\n", kinds[k], k)
	}
	if !f.noShrink {
		if err := os.MkdirAll(f.out, 0o755); err != nil {
			return err
		}
		done := map[string]bool{}
		for _, fd := range sum.Findings {
			if fd.Violation == nil || done[fd.Signature()] {
				continue
			}
			done[fd.Signature()] = true
			if err := shrinkFinding(fd, f.out, stdout, stderr); err != nil {
				fmt.Fprintf(stderr, "seed %d: %v\n", fd.Seed, err)
			}
		}
	}
	return fmt.Errorf("%d of %d seeds broke an invariant or failed", len(sum.Findings), sum.Ran)
}

// shrinkFinding shrinks one finding and writes its minimal scenario and trace to dir.
func shrinkFinding(fd explore.Finding, dir string, stdout, stderr io.Writer) error {
	sc, err := explore.Written(fd.Seed)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "shrinking seed %d (%s)...\n", fd.Seed, fd.Kind())
	sh, err := explore.Shrink(sc, fd.Signature())
	if err != nil {
		return err
	}
	base := filepath.Join(dir, fmt.Sprintf("seed-%d-%s", fd.Seed, fd.Kind()))
	v := sh.Violation
	head := fmt.Sprintf("# Shrunk by gridlab explore from seed %d (%d runs): breaks %s at %s:\n#   %s\n# Replay: gridlab run --invariants %s.yaml\n",
		fd.Seed, sh.Runs, v.Invariant, v.At, v.Detail, base)
	if err := os.WriteFile(base+".yaml", append([]byte(head), sh.YAML...), 0o644); err != nil {
		return err
	}
	trace := fmt.Sprintf("shrunk from seed %d by removing: %s\n\n%s", fd.Seed, strings.Join(sh.Removed, "; "), v.Report())
	if err := os.WriteFile(base+".trace.txt", []byte(trace), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "seed %d: shrunk to %s.yaml (%d timeline entries, %d populations, %d viewers)\n",
		fd.Seed, base, len(sh.Scenario.Timeline), len(sh.Scenario.Viewers), viewers(sh))
	return nil
}

func viewers(sh *explore.Shrunk) int {
	n := 0
	for _, p := range sh.Scenario.Viewers {
		n += p.Count
	}
	return n
}

// exploreProgress shows seeds done on stderr: a line rewritten in place on a terminal, a line
// every few seconds otherwise. It reads the wall clock; the runs never do.
type exploreProgress struct {
	w     io.Writer
	tty   bool
	start time.Time
	last  time.Time
	shown bool
}

func newExploreProgress(w io.Writer) *exploreProgress {
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	now := time.Now()
	return &exploreProgress{w: w, tty: tty, start: now, last: now}
}

func (p *exploreProgress) update(done, total uint64, found int) {
	now := time.Now()
	every := 200 * time.Millisecond
	if !p.tty {
		every = 5 * time.Second
	}
	if now.Sub(p.last) < every && done != total {
		return
	}
	p.last = now
	el := now.Sub(p.start)
	line := fmt.Sprintf("explore: %d/%d seeds, %d found, %.0f runs/s, %s", done, total, found,
		float64(done)/max(el.Seconds(), 1e-9), el.Round(time.Second))
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		p.shown = true
	} else {
		fmt.Fprintln(p.w, line)
	}
}

// clear removes the progress line on a terminal before other output.
func (p *exploreProgress) clear() {
	if p.tty && p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
}
