// Command gridlab is the lab's one binary. `gridlab run [SCENARIO]` runs a scenario on the
// deterministic simulator and writes its report; later subcommands (serve, load, packet, report,
// bench, sweep) share the same cores. Run `gridlab help` for the list.
//
// # Profile-guided optimisation
//
// default.pgo, beside this file, is a CPU profile of a large run: the go command builds gridlab
// with it (go build's -pgo=auto), inlining and devirtualising the calls that run hottest — the
// simulator's per-event Handler and Warmer calls, the circuit's Link, the sockets' callbacks.
// It makes a large run ~6 % fewer instructions (docs/BENCHMARKS.md, session 7) and never
// changes what a run does. Regenerate it after large changes to the hot paths with
//
//	go run ./cmd/gridlab run scenarios/scale-100k.yaml --viewers 16000 --out /tmp/pgo --quiet --cpuprofile cmd/gridlab/default.pgo
//
// (build without it with -pgo=off).
package main
