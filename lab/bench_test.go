package lab

import (
	"testing"

	"gridlab/scenarios"
)

// BenchmarkDefaultScenario runs the bundled default scenario (1,000 viewers) end to end and
// reports how many viewers are simulated per second of wall time.
func BenchmarkDefaultScenario(b *testing.B) {
	sc := bundledB(b, scenarios.Default)
	b.ReportAllocs()
	var viewers, events int
	for b.Loop() {
		run, err := Run(sc, Options{})
		if err != nil {
			b.Fatal(err)
		}
		viewers += len(run.Viewers)
		events += int(run.Events)
	}
	b.ReportMetric(float64(viewers)/b.Elapsed().Seconds(), "viewers/s")
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

func bundledB(b *testing.B, file string) *scenarios.Scenario {
	b.Helper()
	data, err := scenarios.Files.ReadFile(file)
	if err != nil {
		b.Fatal(err)
	}
	sc, err := scenarios.Parse(file, data)
	if err != nil {
		b.Fatal(err)
	}
	return sc
}
