package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"gridlab/reports"
)

func newReportCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report DIR",
		Short: "Re-render a run folder's plots and index.html from its report.json and viewers.csv",
		Long: `Re-render the plots (SVG and PNG) and index.html of a run folder written by 'gridlab run'
from its report.json, viewers.csv, timeseries.csv and traces.json. The data files are not
changed. Use it after upgrading gridlab, or after editing the data by hand.`,
		Example: `  gridlab report out/standalone-basic
  gridlab report compare out/before out/after
  gridlab report merge out/shard-0 out/shard-1 --out out/merged`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := reports.RenderDir(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "re-rendered %s (%s, %d viewers)\n",
				filepath.Join(args[0], reports.IndexFile), rep.Scenario, rep.Viewers.Total)
			return nil
		},
	}
	cmd.AddCommand(newCompareCmd())
	cmd.AddCommand(newMergeCmd())
	return cmd
}

func newCompareCmd() *cobra.Command {
	var htmlOut string
	cmd := &cobra.Command{
		Use:   "compare A B",
		Short: "Compare two run folders: percentile and outcome deltas, and a page with the CDFs overlaid",
		Long: `Compare two run folders written by 'gridlab run' (A is the baseline): print the outcome
counts and the per-stage percentiles of both with B's change relative to A, and write an HTML
page with the CDFs of both runs overlaid (A solid, B dashed).`,
		Example: `  gridlab report compare out/before out/after
  gridlab report compare out/seed1 out/seed2 --html /tmp/cmp.html`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := &reports.Comparison{NameA: args[0], NameB: args[1]}
			var err error
			if c.A, c.RepA, err = reports.LoadRun(args[0]); err != nil {
				return err
			}
			if c.B, c.RepB, err = reports.LoadRun(args[1]); err != nil {
				return err
			}
			c.RepA, c.RepB = reports.Build(c.A), reports.Build(c.B)
			c.WriteText(cmd.OutOrStdout())
			if htmlOut == "" {
				return nil
			}
			var b bytes.Buffer
			if err := c.WriteHTML(&b); err != nil {
				return err
			}
			if err := os.WriteFile(htmlOut, b.Bytes(), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "\ncomparison page: %s\n", htmlOut)
			return nil
		},
	}
	cmd.Flags().StringVar(&htmlOut, "html", "compare.html", `where to write the comparison page ("" = none)`)
	return cmd
}
