// Package scenarios owns gridlab's scenario files: the schema (schema.go), the strict YAML
// loader (Load, Parse), command-line overrides (Scenario.Set), the cross-field checks and
// defaults (Scenario.Validate), and the bundled scenarios (Files, List, Bundled).
//
// A scenario describes the networks (latency, jitter, loss, routers with NAT and port
// forwards), the hosts and their firewalls, the grid under test and the viewer populations
// that log into it.
//
// Loading is strict. The file is decoded with viper (a fresh instance per file) and
// UnmarshalExact, with a decode hook replacing viper's weak typing: durations need a unit
// ("60s", never a bare 30, which would be 30ns), percentages are "0.5%" or a fraction 0.005
// within [0,1], integers must be whole numbers in range, booleans must be true or false.
// Because viper lower-cases keys and forgets lines, the same bytes are also parsed into a
// yaml.Node tree, which finds unknown keys as written, keys repeated in any case, and the line
// of every key. Every problem is reported, each as an *Error naming file, line and key path:
//
//	standalone-basic.yaml:12: viewers[0].cuont: unknown key "cuont" (did you mean "count"?)
//	standalone-basic.yaml:31: viewers[1].arrival.window: "sixty" is not a duration (e.g. 60s)
//
// The package neither runs scenarios nor knows how; package lab does that.
package scenarios
