// Package explore is the grid's simulation testing, after FoundationDB's simulator and
// TigerBeetle's VOPR: it generates a random but valid scenario from each seed (topology, NAT
// and firewall presets, impairments, a fault timeline, populations of every viewer profile),
// runs it on the deterministic lab with the invariants checked (lab.Options.Invariants), and
// shrinks each violation by delta debugging to the smallest scenario that still breaks the same
// invariant, written as YAML that `gridlab run --invariants FILE` replays.
//
// A run is single-threaded and deterministic; parallelism lives above it: Explore runs
// independent seeds on a pool of goroutines. Everything a run does depends only on its seed.
// See docs/TESTING.md.
package explore
