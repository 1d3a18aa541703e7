// Package reports turns a finished gridlab run into its results: the
// report.json document, the login-time CDF plots and the terminal summary.
//
// The package owns:
//
//   - the input contract of the reports ([Run], [Viewer], [Counter],
//     [LogLine], [Stage]) that the lab fills in after a run; reports reads
//     results only and imports nothing else from gridlab;
//   - the statistics: one HDR histogram per login stage (microsecond units,
//     1 µs..1 h, 3 significant digits), outcome counts and failure modes
//     ([Build], [Report]);
//   - the on-disk formats: report.json ([Report.WriteJSON]), the
//     login-to-AgentMovementComplete CDF ([WriteCDF]) and the per-stage CDFs
//     ([WriteStageCDFs]), written together by [WriteRunFiles];
//   - the short human summary printed at the end of a run ([WriteSummary]).
//
// Everything written is deterministic: the same Run gives byte-identical
// files. Maps are only ever emitted through encoding/json (which sorts keys)
// or after sorting, nothing carries a wall-clock timestamp, and results never
// depend on the order of Run.Viewers beyond what the Run itself says.
//
// Stage times are measured from each viewer's intended start (Viewer.Start),
// so they are free of coordinated omission as long as the lab schedules
// starts from the arrival process.
package reports
