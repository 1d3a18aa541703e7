package main

import (
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"gridlab/scenarios"
)

func newScenariosCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scenarios",
		Short: "List the bundled scenarios, or check scenario files without running them",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the bundled scenarios with a one-line description each",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			infos, err := scenarios.Bundled()
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			for _, in := range infos {
				fmt.Fprintf(tw, "%s\t%s\n", in.Name, in.Description)
			}
			tw.Flush()
			return err
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "check FILE...",
		Short: "Validate scenario files without running them",
		Long: `Validate scenario files without running them. Every problem is reported as
file:line: key.path: message, with an unknown key named as written. Exits non-zero when any
file has a problem.`,
		Example: "  gridlab scenarios check scenarios/*.yaml",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			bad := 0
			for _, path := range args {
				if _, err := scenarios.Load(path); err != nil {
					bad++
					var list scenarios.Errors
					if errors.As(err, &list) {
						for _, e := range list {
							fmt.Fprintln(cmd.ErrOrStderr(), e)
						}
					} else {
						fmt.Fprintln(cmd.ErrOrStderr(), err)
					}
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: ok\n", path)
			}
			if bad > 0 {
				return fmt.Errorf("%d of %d scenario files have problems", bad, len(args))
			}
			return nil
		},
	})
	return cmd
}
