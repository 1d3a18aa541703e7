// Command gridlab is the lab's one binary. `gridlab run [SCENARIO]` runs a scenario on the
// deterministic simulator and writes its report; later subcommands (serve, load, packet, report,
// bench, sweep) share the same cores. Run `gridlab help` for the list.
package main
