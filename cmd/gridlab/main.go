package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "gridlab:", err)
		os.Exit(exitCode(err))
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "gridlab",
		Short: "A deterministic network simulation and load-test lab for OpenSimulator / Second Life grids",
		Long: `gridlab connects synthetic viewers to a real OpenSim-compatible login service and region over
an in-memory virtual network with latency, loss, firewalls and NAT, and reports how long logins
take and why they fail. Runs are deterministic: the same scenario and seed give byte-identical
reports.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newRunCmd())
	root.AddCommand(newScenariosCmd())
	root.AddCommand(newReportCmd())
	root.AddCommand(newServeCmd())
	root.AddCommand(newPacketCmd())
	root.AddCommand(newLoadCmd())
	root.AddCommand(newBenchCmd())
	root.AddCommand(newExploreCmd())
	root.AddCommand(newSweepCmd())
	return root
}
