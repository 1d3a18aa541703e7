package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"gridlab/lab/loadtest"
)

func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Repeatable micro-benchmarks of gridlab's pipelines (see the subcommands)",
		Long: `bench runs repeatable benchmarks of gridlab's own machinery and prints what they measured.
Each subcommand benchmarks one pipeline.`,
		Example: `  gridlab bench udp
  gridlab bench udp --circuits 1000 --rate 10 --duration 10s
  gridlab bench grid
  gridlab bench floor`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newBenchUDPCmd())
	cmd.AddCommand(newBenchGridCmd())
	cmd.AddCommand(newBenchFloorCmd())
	return cmd
}

func newBenchUDPCmd() *cobra.Command {
	var (
		cfg    loadtest.BenchConfig
		noSim  bool
		noReal bool
	)
	cmd := &cobra.Command{
		Use:   "udp",
		Short: "Benchmark the LLUDP packet pipeline on loopback sockets and on the in-memory network",
		Long: `udp sets up N raw circuits to one region (UseCircuitCode to a region told to expect them; no
login) and has each send a reliable AgentUpdate --rate times a second, and a StartPingCheck once
a second, for --duration. The region decodes every packet, acks on its ack timer (--ack-delay)
and answers the pings.

It runs the workload twice: over real UDP sockets on 127.0.0.1 (the region on one event loop as
in 'gridlab serve', the circuits on another as in 'gridlab load'), and on the deterministic
in-memory network (netem, virtual time). For each it prints the datagrams the region handled
per second, the ack latency of the AgentUpdates (send to ack received, HDR histogram: p50, p90,
p99, p99.9, max), the ping round trip, resends, datagrams lost and datagrams dropped by a full
event-loop queue. On netem, rates are per virtual second; "wall" is how fast the simulator
computed them.`,
		Example: `  gridlab bench udp
  gridlab bench udp --circuits 2000 --rate 10 --duration 20s
  gridlab bench udp --circuits 100 --rate 100 --ack-delay 500ms --no-netem`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if noSim && noReal {
				return fmt.Errorf("--no-netem and --no-sockets together leave nothing to run")
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "workload: %d circuits x %g AgentUpdate/s (reliable) + 1 ping/s, %v, region ack delay %v\n\n",
				cfg.Circuits, cfg.Rate, cfg.Duration, cfg.AckDelay)
			if !noReal {
				r, err := loadtest.BenchLoopback(ctx, cfg)
				if err != nil {
					return fmt.Errorf("loopback benchmark: %w", err)
				}
				printBench(w, r)
			}
			if !noSim {
				r, err := loadtest.BenchNetem(cfg)
				if err != nil {
					return fmt.Errorf("netem benchmark: %w", err)
				}
				printBench(w, r)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Circuits, "circuits", 200, "number of circuits (one UDP socket each)")
	f.Float64Var(&cfg.Rate, "rate", 10, "AgentUpdates per second per circuit")
	f.DurationVar(&cfg.Duration, "duration", 5*time.Second, "length of the measured window")
	f.DurationVar(&cfg.AckDelay, "ack-delay", 10*time.Millisecond, "the region's ack flush interval (OpenSim: 500ms)")
	f.BoolVar(&noSim, "no-netem", false, "skip the in-memory run")
	f.BoolVar(&noReal, "no-sockets", false, "skip the loopback run")
	return cmd
}

func printBench(w io.Writer, r *loadtest.BenchResult) {
	fmt.Fprintf(w, "%s\n", r.Path)
	fmt.Fprintf(w, "  circuits          %d connected of %d\n", r.Connected, r.Circuits)
	fmt.Fprintf(w, "  window            %v (computed in %v wall)\n", r.Window.Round(time.Millisecond), r.Wall.Round(time.Millisecond))
	fmt.Fprintf(w, "  region packets/s  %.0f  (%d in, %d out; %.0f per wall second)\n",
		r.PacketsPerSecond(), r.RegionReceived, r.RegionSent, r.WallPacketsPerSecond())
	fmt.Fprintf(w, "  AgentUpdates      %d decoded by the region, %d acks back\n", r.AgentUpdates, r.Acked)
	us := func(v int64) string { return (time.Duration(v) * time.Microsecond).String() }
	h := r.AckLatency
	if h.TotalCount() > 0 {
		fmt.Fprintf(w, "  ack latency       p50 %s  p90 %s  p99 %s  p99.9 %s  max %s\n",
			us(h.ValueAtPercentile(50)), us(h.ValueAtPercentile(90)), us(h.ValueAtPercentile(99)), us(h.ValueAtPercentile(99.9)), us(h.Max()))
	}
	if p := r.PingRTT; p.TotalCount() > 0 {
		fmt.Fprintf(w, "  ping round trip   p50 %s  p99 %s  max %s  (%d pings)\n",
			us(p.ValueAtPercentile(50)), us(p.ValueAtPercentile(99)), us(p.Max()), p.TotalCount())
	}
	fmt.Fprintf(w, "  drops             %d lost, %d resent, %d dropped by a full event-loop queue\n\n", r.Lost, r.Resent, r.LoopDropped)
}
