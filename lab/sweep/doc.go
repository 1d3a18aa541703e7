// Package sweep runs a scenario over a range of one parameter — the login rate, the number of
// login workers, a loss rate — with several seeds per point, and finds where the grid breaks.
//
// A sweep is a Spec: the scenario, the parameter's path (as scenarios.Scenario.Set takes it)
// and its values (ParseParam: FROM..TO in N points, linear or :log), the seeds, and the
// threshold that defines "broken" (the scenario's own stage expectation, or one given). Run
// executes every (point, seed) pair as an independent lab.Run — each single-threaded and
// deterministic — on all cores, writes each run's report folder, and then the index:
//
//	DIR/point-00-seed-1/       report.json, viewers.csv, plots, index.html, sweep-run.json
//	DIR/sweep-shard.json       the spec and the runs this process made
//	DIR/sweep.json             per point: p50/p99 time-to-in-world, failure rate, the verdict
//	DIR/sweep-latency.svg|png  p50 and p99 against the parameter, threshold and knee marked
//	DIR/sweep-failures.svg|png failure rate against the parameter
//	DIR/index.html
//
// The knee is the first point whose statistic breaks the threshold. Percentiles pool every
// seed's viewers of a point (exact, nearest rank, to the microsecond); they are never averaged.
//
// Sharding: with Shard{I, N}, a process runs the pairs whose index q (point-major, seed-minor)
// has q % N == I and writes only its run folders and sweep-shard.json; Merge combines shard
// folders into one, and writes the same sweep.json, byte for byte, as one process would. Only
// run results enter sweep.json — no wall times, paths or shard layout — so it is reproducible.
package sweep
