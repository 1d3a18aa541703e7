package reports

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// loadLikeRun makes n viewers with log-normal-ish stage times, IDs from first.
func loadLikeRun(rng *rand.Rand, first, n int, failEvery int) *Run {
	r := &Run{Scenario: "load"}
	for i := range n {
		v := Viewer{ID: first + i, Name: "Load Test", Start: time.Duration(i) * 10 * time.Millisecond, Outcome: OutcomeSuccess}
		t := time.Duration(0)
		for s := range v.Stages {
			t += time.Duration(rng.ExpFloat64() * float64(3*time.Millisecond))
			v.Stages[s] = t
		}
		if failEvery > 0 && i%failEvery == 0 {
			v.Outcome, v.Message = "login-port-closed", "Unable to connect to grid"
			for s := 1; s < int(NumStages); s++ {
				v.Stages[s] = -1
			}
		}
		v.EndedAt = v.Start + v.Stages[StageLoginReply]
		r.Viewers = append(r.Viewers, v)
	}
	r.Counters = []Counter{{"viewers/circuit/packets_sent", uint64(n * 10)}}
	r.Samples = []Sample{{At: time.Second, Decided: n / 2, InWorld: n / 2, Circuits: n / 2}, {At: 2 * time.Second, Decided: n, InWorld: n, Circuits: 0}}
	return r
}

func TestMergedShardsReportLikeOneRunOfTheirViewers(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	a := loadLikeRun(rng, 1, 600, 7)
	b := loadLikeRun(rng, 601, 400, 5)
	merged, err := Merge([]Shard{{Name: "a", Run: a}, {Name: "b", Run: b, Offset: 500 * time.Millisecond}})
	require.NoError(t, err)
	one := &Run{Viewers: append(append([]Viewer{}, a.Viewers...), b.Viewers...)}
	got, want := Build(merged), Build(one)
	assert.Equal(t, want.Stages, got.Stages, "stage statistics of the merge are those of all viewers in one run")
	assert.Equal(t, want.Outcomes, got.Outcomes)
	assert.Equal(t, uint64(10000), got.Counters["viewers/circuit/packets_sent"], "counters are summed")
	assert.Equal(t, 1000, got.Viewers.Total)
	assert.Equal(t, 601, merged.Viewers[600].ID, "viewers are in ID order")
	assert.Equal(t, b.Viewers[0].Start+500*time.Millisecond, merged.Viewers[600].Start, "a shard's times move by its offset")
	assert.Equal(t, b.Viewers[0].Stages, merged.Viewers[600].Stages, "stage times are durations from the viewer's start and do not move")

	// The samples: at 2 s, a is finished (600 decided) and b is half way (200).
	require.NotEmpty(t, merged.Samples)
	assert.Equal(t, 2*time.Second, merged.Samples[1].At)
	assert.Equal(t, 800, merged.Samples[1].Decided, "cumulative columns add up across shards")
	last := merged.Samples[len(merged.Samples)-1]
	assert.Equal(t, 2500*time.Millisecond, last.At, "the series ends with the last shard")
	assert.Equal(t, 1000, last.Decided)
}

// TestMergingHDRHistogramsGivesTheUnionsPercentiles checks the claim Merge rests on: merging
// the shards' HDR histograms gives the percentiles of one histogram of all samples, and both
// are within the histogram's precision (3 significant digits) of the exact percentile;
// averaging the shards' percentiles does not.
func TestMergingHDRHistogramsGivesTheUnionsPercentiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	fast := newLatency()
	slow := newLatency()
	all := newLatency()
	var exact []int64
	for i := range 20000 {
		d := time.Duration(rng.ExpFloat64() * float64(2*time.Millisecond))
		if i%4 == 0 {
			d = 200*time.Millisecond + time.Duration(rng.ExpFloat64()*float64(time.Second))
			slow.record(d)
		} else {
			fast.record(d)
		}
		all.record(d)
		exact = append(exact, durationUS(d))
	}
	merged := hdrhistogram.New(histLowestUS, histHighestUS, histSigFigs)
	merged.Merge(fast.h)
	merged.Merge(slow.h)
	for _, p := range reportPercentiles {
		assert.Equal(t, all.h.ValueAtPercentile(p), merged.ValueAtPercentile(p), "p%v: merged histogram = histogram of the union", p)
	}
	exactP99 := exactPercentile(exact, 99)
	assert.InEpsilon(t, float64(exactP99), float64(merged.ValueAtPercentile(99)), 1e-3, "p99 within HDR precision")
	avg := (fast.h.ValueAtPercentile(99) + slow.h.ValueAtPercentile(99)) / 2
	assert.Greater(t, abs(float64(avg-exactP99))/float64(exactP99), 0.1, "averaged percentiles would be far off")
}

func abs(x float64) float64 { return max(x, -x) }

func exactPercentile(vs []int64, p float64) int64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	k := int(p/100*float64(len(s))+0.5) - 1
	return s[min(max(k, 0), len(s)-1)]
}

func TestMergeRefusesOverlappingViewerIDs(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	_, err := Merge([]Shard{{Name: "x", Run: loadLikeRun(rng, 1, 10, 0)}, {Name: "y", Run: loadLikeRun(rng, 10, 10, 0)}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "viewer 10 is in both x and y")
	_, err = Merge(nil)
	assert.Error(t, err, "nothing to merge")
}
