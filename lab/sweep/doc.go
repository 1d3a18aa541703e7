// Package sweep runs a scenario over a range of one parameter — the login rate, the number of
// login workers, a loss rate — with several seeds per point, and finds where the grid breaks.
//
// A sweep is a Spec: the scenario (its name, the --set overrides applied at every point and a
// fingerprint of the scenario they give), the parameter's path (as scenarios.Scenario.Set takes
// it) and its values (ParseParam: FROM..TO, low to high, in N points, linear or :log), the
// seeds, and the threshold that defines "broken" (the scenario's own stage expectation, or one
// given). Run executes every (point, seed) pair as an independent lab.Run — each
// single-threaded and deterministic — on all cores, writes each run's report folder, and then
// the index:
//
//	DIR/point-00-seed-1/       report.json, viewers.csv, plots, index.html, sweep-run.json
//	DIR/sweep-shard.json       the spec and the runs this process made
//	DIR/sweep.json             per point: p50/p99 time to in world, failure rate, the threshold's
//	                           statistic and verdict; the knee (docs/REPORT.md)
//	DIR/sweep-latency.svg|png  p50 and p99 against the parameter, threshold and knee marked
//	DIR/sweep-failures.svg|png failure rate (viewers without a successful outcome) against it
//	DIR/index.html
//
// The threshold is a limit — the time the grid must stay under (--threshold, or the scenario's
// first "<" or "<=" stage expectation); a scenario's lower bounds, which say what a reproduction
// must show, are never taken for one. A point breaks it when its statistic does not hold. The
// statistic is over all the point's viewers: one that never reached the threshold's stage
// counts as slower than every one that did, so the statistic is "never" — and the point breaks
// — when such viewers decide it (p(99) with more than 1% of the viewers never there, max with
// any, p(50) with more than half). p50, p99 and max time to in world, reported beside it, are
// over the viewers that got there. The knee of a load sweep (holding at the low end) is the
// first point that breaks; the knee of a resource sweep (login workers: broken at the low end,
// holding at the high end) is the least value from which every point holds (Knee.Rule).
// Percentiles pool every seed's viewers of a point (exact, nearest rank, to the microsecond);
// they are never averaged.
//
// Sharding: with Shard{I, N}, a process runs the pairs whose index q (point-major, seed-minor)
// has q % N == I and writes only its run folders and sweep-shard.json; Merge combines shard
// folders into a new one, refusing shards whose specs differ (other overrides, another version
// of the scenario file), and writes the same sweep.json, byte for byte, as one process would.
// Only run results enter sweep.json — no wall times, paths or shard layout — so it is
// reproducible.
package sweep
