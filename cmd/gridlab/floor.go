package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"gridlab/lab/floor"
)

func newBenchFloorCmd() *cobra.Command {
	var (
		cfg   floor.Config
		huge  bool
		quiet bool
		with  []string
	)
	cmd := &cobra.Command{
		Use:   "floor",
		Short: "Measure the least an in-world datagram path costs on this machine (the yardstick for scale-100k)",
		Long: `floor runs the in-world steady state of scenarios/scale-100k.yaml — viewers on 16 regions
sending an AgentUpdate a second, pinging and pinged every 5 seconds, over a 30 ms ± 3 ms path —
with as little as a simulation of it can do: real LLUDP bytes encoded and decoded with gridlab's
codec, regions that find each datagram's client by its source endpoint and drop duplicates,
one record per viewer and per client, a 1 ms event wheel, a trace hash. No logins, losses,
observer, firewall or capture (lab/floor's package comment says exactly what is left out).

--with puts the lab's own parts in place of the floor's, to price them: "kernel" runs the
events on gridlab's simulation kernel (sim); "network" carries the datagrams through its
virtual network (netem: a host and a socket per viewer); "circuit" gives every viewer and
region client a lab circuit (numbering, encoding, decoding, duplicates, pings). "network" and
"circuit" need "kernel". Run the floor and the layers one after another; the difference per
event is a layer's cost.

It prints the cost of an event here and now (from the first virtual second on; setting up is
not timed) and what 100 million events would take at that cost. scale-100k dispatches ~101
million, ~96 million of them in world, and its logins come on top: a lab that does this work no
better than the floor cannot run scale-100k faster than that on this machine, at this moment
(a VM's speed moves with its neighbours; compare runs made together). The same seed gives the
same trace hash.`,
		Example: `  gridlab bench floor
  gridlab bench floor --viewers 50000 --duration 60s
  gridlab bench floor --with kernel,network,circuit`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out, errw := cmd.OutOrStdout(), cmd.ErrOrStderr()
			if cfg.Duration < 2*time.Second {
				return fmt.Errorf("--duration %v: the clock starts after the first virtual second; run at least 2s", cfg.Duration)
			}
			for _, l := range with {
				switch l {
				case "kernel":
					cfg.Layers.Kernel = true
				case "network":
					cfg.Layers.Network = true
				case "circuit":
					cfg.Layers.Circuit = true
				default:
					return fmt.Errorf("--with %q: the layers are kernel, network and circuit", l)
				}
			}
			if err := cfg.Layers.Check(); err != nil {
				return fmt.Errorf("--with %s: %w", strings.Join(with, ","), err)
			}
			var h *hugePages
			if huge {
				h = &hugePages{}
				h.advise()
			}
			// The clock starts at the first virtual second, so that setting up the viewers and
			// their first second (every timer's random phase) are not counted.
			var (
				start  time.Time
				events uint64
			)
			cfg.Second = func(at time.Duration, n uint64) {
				if h != nil {
					h.advise() // the heap's new mappings, as it grows
				}
				if at == time.Second {
					start, events = time.Now(), n
				}
				if !quiet && at%(10*time.Second) == 0 {
					fmt.Fprintf(errw, "  %v virtual, %d events\n", at, n)
				}
			}
			r, err := floor.Run(cfg)
			if err != nil {
				return err
			}
			printFloor(out, cfg, r, r.Events-events, time.Since(start))
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Viewers, "viewers", 50000, "viewers in world (scale-100k peaks at ~50,000)")
	f.DurationVar(&cfg.Duration, "duration", 60*time.Second, "virtual time to run")
	f.Uint64Var(&cfg.Seed, "seed", 1, "seed for the viewers' phases and identities and the path's jitter")
	f.BoolVar(&huge, "huge-pages", true, "on Linux, ask for transparent huge pages for the heap, as gridlab run does")
	f.BoolVar(&quiet, "quiet", false, "no progress lines on stderr")
	f.StringSliceVar(&with, "with", nil, "the lab's layers to run in place of the floor's: kernel, network, circuit (the last two need kernel)")
	return cmd
}

// printFloor prints a run; timed is the events dispatched in wall, from the first virtual
// second to the end.
func printFloor(w io.Writer, cfg floor.Config, r floor.Result, timed uint64, wall time.Duration) {
	perEvent := float64(wall.Nanoseconds()) / float64(max(timed, 1))
	on := "the floor alone"
	if l := cfg.Layers; l.Kernel {
		parts := []string{"kernel"}
		if l.Network {
			parts = append(parts, "network")
		}
		if l.Circuit {
			parts = append(parts, "circuits")
		}
		on = "the lab's " + strings.Join(parts, ", ")
	}
	fmt.Fprintf(w, "floor: %d viewers in world on %d regions for %v virtual, on %s\n", cfg.Viewers, floor.Regions, cfg.Duration, on)
	fmt.Fprintf(w, "  events       %d (%d datagrams; %d AgentUpdates decoded, %d pings answered, mean RTT %v)\n",
		r.Events, r.Datagrams, r.AgentUpdates, r.Pings, r.MeanRTT.Round(time.Microsecond))
	fmt.Fprintf(w, "  wall         %v for the %d events after the first virtual second: %.0f ns per event, %.2f M events/s\n",
		wall.Round(time.Millisecond), timed, perEvent, 1e3/perEvent)
	fmt.Fprintf(w, "  100 M events at this cost: %.0f s (scale-100k dispatches ~101 M; issue 7's target is 60 s)\n", perEvent/10)
	fmt.Fprintf(w, "  trace hash   0x%016x\n", r.TraceHash)
}
