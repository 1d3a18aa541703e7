package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"gridlab/lab/sweep"
	"gridlab/scenarios"
)

type sweepFlags struct {
	param     string
	points    int
	seeds     int
	seed      uint64
	jobs      int
	out       string
	shard     string
	threshold string
	set       []string
	quiet     bool
}

func newSweepCmd() *cobra.Command {
	var f sweepFlags
	cmd := &cobra.Command{
		Use:   "sweep SCENARIO --param PATH=FROM..TO[:log|:lin] --points N --seeds K",
		Short: "Run a scenario over a range of one parameter and find the capacity knee",
		Long: `Run SCENARIO at N values of one parameter (a key path, as --set takes it), K seeds each,
in parallel on all cores. Each run is an ordinary deterministic simulation with its own report
folder (DIR/point-XX-seed-S); the index (DIR/sweep.json, index.html, plots) shows the p50 and
p99 time to in world of the viewers that got there and the failure rate (viewers without a
successful outcome) against the parameter, with the capacity knee marked.

The threshold is the time the grid must stay under: --threshold, or else the scenario's first
stage expectation that is a limit (< or <=; one on movement_complete preferred). A point breaks
it when its statistic, pooled over the seeds and over all the point's viewers, does not hold; a
viewer that never reached the threshold's stage counts as slower than every one that did, so
p(99) is "never", and breaks, when more than 1% of the viewers never got there (max: when any
did not; p(50): more than half). For a load (arrival rate, loss) the knee is the first point
that breaks: the grid's limit. For a resource (login workers), whose low end breaks and high
end holds, it is the least value from which every point holds: the capacity the load needs.

FROM..TO, low to high, are integers (1..16), decimals, rates (5/s..200/s), percentages
(0%..10%) or durations (100ms..2s); :log spaces the points geometrically, :lin (the default)
evenly. Integers (counts) are rounded and repeats dropped, so a range can give fewer points
than --points: 1..8:log in 8 points is 1, 2, 3, 4, 6, 8 (a note says so).

--set overrides a scenario field at every point; the overrides and a fingerprint of the
scenario they give are part of the sweep, so shards run with other overrides or another
version of the scenario file do not merge.

--shard i/n runs every n-th (point, seed) pair from the i-th, for running a sweep on several
machines (docs/DISTRIBUTED.md); "gridlab sweep merge" combines the shards' folders into the
same index one process would write.`,
		Example: `  gridlab sweep poisson-arrivals --param viewers.home.arrival.rate=2/s..40/s:log --points 6 --seeds 2
  gridlab sweep login-storm --param grid.capacity.login_workers=1..8 --points 8 --seeds 3 --threshold "p(99) < 30s" --out out/workers
  gridlab sweep poisson-arrivals --param viewers.home.arrival.rate=2/s..40/s --points 6 --seeds 2 --shard 0/2 --out out/s0`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.param == "" {
				return fmt.Errorf("--param is required, e.g. --param viewers.home.arrival.rate=5/s..200/s")
			}
			// The overrides are checked with the parameter set, at every point (NewSpec): one
			// may need the other (a receive buffer needs a packet time, and the sweep gives it).
			load := func() (*scenarios.Scenario, error) {
				sc, err := loadScenario(args[0])
				if err != nil {
					return nil, err
				}
				return sc, setAll(sc, f.set)
			}
			sc, err := load()
			if err != nil {
				return err
			}
			var base *uint64
			if cmd.Flags().Changed("seed") {
				base = &f.seed
			}
			spec, err := sweep.NewSpec(sc, load, f.set, f.param, f.points, f.seeds, base, f.threshold)
			if err != nil {
				return err
			}
			if n := len(spec.Param.Values); n < f.points && !f.quiet {
				fmt.Fprintf(cmd.ErrOrStderr(), "note: --points %d gives %d points of %s (%s): values that round to one already taken are dropped\n",
					f.points, n, spec.Param.Path, strings.Join(spec.Param.Values, ", "))
			}
			cfg := sweep.Config{Spec: spec, Load: load, Out: f.out, Jobs: f.jobs}
			if cfg.Out == "" {
				cfg.Out = filepath.Join("out", "sweep-"+sc.Name)
			}
			if f.shard != "" {
				if cfg.Shard, err = sweep.ParseShard(f.shard); err != nil {
					return err
				}
			}
			if !f.quiet {
				cfg.Log = cmd.ErrOrStderr()
			}
			if err := sweep.Run(cfg); err != nil {
				return err
			}
			if cfg.Shard.N > 1 {
				if !f.quiet {
					fmt.Fprintf(cmd.OutOrStdout(), "shard %s written to %s; combine the shards with: gridlab sweep merge DIR... --out DIR\n", cfg.Shard, cfg.Out)
				}
				return nil
			}
			return printSweep(cmd, cfg.Out, f.quiet)
		},
	}
	cmd.Flags().StringVar(&f.param, "param", "", "the swept parameter: PATH=FROM..TO (low to high), :log for geometric spacing (PATH as --set takes it)")
	cmd.Flags().IntVar(&f.points, "points", 5, "number of parameter values, FROM and TO included (an integer range drops repeats, so it may give fewer)")
	cmd.Flags().IntVar(&f.seeds, "seeds", 1, "runs per point, with seeds SEED, SEED+1, ...")
	cmd.Flags().Uint64Var(&f.seed, "seed", 0, "the first seed (default: the scenario's seed)")
	cmd.Flags().IntVar(&f.jobs, "jobs", 0, "runs in parallel (default: the number of CPUs)")
	cmd.Flags().StringVar(&f.out, "out", "", "folder for the runs and the index (default out/sweep-<scenario>)")
	cmd.Flags().StringVar(&f.shard, "shard", "", "run only shard i of n (i/n), for gridlab sweep merge")
	cmd.Flags().StringVar(&f.threshold, "threshold", "", `what breaks the grid: "p(99) < 10s" on movement_complete, or just "10s" (default: the scenario's stage expectation)`)
	cmd.Flags().StringArrayVar(&f.set, "set", nil, "override a scenario field at every point, as gridlab run --set does (repeatable)")
	cmd.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "no progress lines and no summary")
	cmd.AddCommand(newSweepMergeCmd())
	return cmd
}

func newSweepMergeCmd() *cobra.Command {
	var out string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "merge DIR... --out DIR",
		Short: "Combine the folders of a sweep's shards into one index",
		Long: `Combine the output folders of "gridlab sweep --shard i/n" runs: check that they are shards of
one sweep (the same scenario, --set overrides, scenario fingerprint, parameter, seeds and
threshold) and hold every (point, seed) run exactly once, copy the run folders into --out — a
new folder, not one of the shards — and write the index: the same sweep.json, byte for byte, as
one process running the whole sweep.`,
		Example: `  gridlab sweep merge out/s0 out/s1 --out out/sweep`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return fmt.Errorf("--out is required")
			}
			if err := sweep.Merge(out, args); err != nil {
				return err
			}
			return printSweep(cmd, out, quiet)
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "folder for the merged sweep (not one of the shard folders)")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no summary")
	return cmd
}

// printSweep prints the index's table and knee.
func printSweep(cmd *cobra.Command, dir string, quiet bool) error {
	if quiet {
		return nil
	}
	ix, err := sweep.ReadIndex(dir)
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	t := ix.Spec.Threshold
	head := []string{ix.Spec.Param.Path, "viewers", "in world", "failed", "p50", "p99"}
	if t != nil {
		head = append(head, t.Stat+" of all", "breaks")
	}
	rows := [][]string{head}
	for _, pt := range ix.Points {
		row := []string{pt.Value, strconv.Itoa(pt.Viewers), strconv.Itoa(pt.InWorld),
			strconv.FormatFloat(pt.FailureRate*100, 'f', 1, 64) + "%", sweep.FormatMS(pt.P50MS), sweep.FormatMS(pt.P99MS)}
		if t != nil {
			brk := ""
			if pt.Breaks {
				brk = "yes"
			}
			row = append(row, pt.StatText(), brk)
		}
		rows = append(rows, row)
	}
	writeTable(w, rows)
	fmt.Fprintln(w, "\nfailed: viewers without a successful outcome; p50, p99: time to in world of the viewers that got there")
	if t != nil {
		fmt.Fprintf(w, "%s of all: over every viewer, one that never reached %s counted as slower than any that did\n", t.Stat, t.Stage)
	}
	switch {
	case t == nil:
		fmt.Fprintln(w, "\nno threshold (the scenario has no stage expectation that is a limit, < or <=; give --threshold): no knee")
	case ix.AllBreak():
		fmt.Fprintf(w, "\n%s: no knee in this range\n", ix.AllBreakText())
	case ix.Knee == nil:
		fmt.Fprintf(w, "\nno point breaks %s\n", t)
	default:
		fmt.Fprintf(w, "\ncapacity knee: %s = %s (%s, %s)\n", ix.Spec.Param.Path, ix.Knee.Value, ix.Knee.Meaning(), t)
	}
	fmt.Fprintf(w, "index: %s\n", filepath.Join(dir, "index.html"))
	return nil
}

// writeTable writes rows as columns as wide as their widest cell, two spaces apart: the first
// column (the parameter's values) left-aligned, the others right-aligned.
func writeTable(w io.Writer, rows [][]string) {
	var width []int
	for _, r := range rows {
		for i, c := range r {
			if i == len(width) {
				width = append(width, 0)
			}
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for i, c := range r {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if i == 0 {
				b.WriteString(c + pad)
			} else {
				b.WriteString("  " + pad + c)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}
