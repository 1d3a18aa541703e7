// Package loadtest is the engine of `gridlab load`: it runs thousands of lab/viewer synthetic
// viewers against a real OpenSim-compatible grid over real DNS, TCP, HTTP and UDP, in one
// process, on one lab/realnet event loop plus its socket reader goroutines.
//
// It owns:
//   - the open arrival model: viewer k's intended start is Start + k/Rate, scheduled on the
//     loop whatever the grid is doing, and every stage time is measured from that intended
//     start, so a stalled grid or a busy loop shows up as latency instead of being hidden
//     (no coordinated omission);
//   - the viewers' lifetime: each stays in world for Stay and logs out; Stop (Ctrl-C) cancels
//     the logins not yet started, logs everyone in world out (and everyone who gets in later),
//     waits a grace period and returns what happened;
//   - the result: a reports.Run (one lab.ViewerRecord row per started viewer, a per-second
//     time series, viewer circuit counters), so `gridlab load` writes the same run folder
//     as `gridlab run`, and the shard metadata (Meta) that `gridlab report merge` uses to put
//     shards on one time axis;
//   - the --expect grammar (ParseExpect), mapped onto the scenarios' expect: entries;
//   - `gridlab bench udp` (udpbench.go): raw circuits sending reliable AgentUpdates to a region,
//     once over loopback sockets (BenchLoopback) and once on netem in virtual time (BenchNetem).
//
// A grid that goes away mid-run only produces per-viewer failures (refused logins, circuits
// never acked); nothing in the engine depends on the grid answering.
package loadtest
