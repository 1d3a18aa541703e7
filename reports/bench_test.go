package reports

import (
	"math/rand/v2"
	"testing"
	"time"
)

// benchRun is a deterministic run of n viewers: 2% fail at the region
// handshake with one of two modes, the rest reach the world.
func benchRun(n int) *Run {
	rng := rand.New(rand.NewPCG(7, 11))
	r := &Run{Scenario: "bench", Viewers: make([]Viewer, n)}
	for i := range r.Viewers {
		v := &r.Viewers[i]
		v.ID, v.Outcome = i, OutcomeSuccess
		d := time.Duration(50+rng.ExpFloat64()*50) * time.Millisecond
		for s := range NumStages {
			v.Stages[s] = d
			d += time.Duration(20+rng.ExpFloat64()*100) * time.Millisecond
		}
		if i%50 == 0 {
			v.Stages[StageRegionHandshake], v.Stages[StageMovementComplete] = -1, -1
			v.Outcome, v.Message = "sim-reply-blocked", "timed out"
			if i%100 == 0 {
				v.Outcome = "circuit-timeout"
			}
		}
	}
	return r
}

// BenchmarkBuild measures Build for 100,000 viewers.
func BenchmarkBuild(b *testing.B) {
	r := benchRun(100_000)
	b.ReportAllocs()
	for b.Loop() {
		Build(r)
	}
}
