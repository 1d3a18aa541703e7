package floor

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// layerSets are the runs every behaviour test makes: the floor alone, on the lab's kernel, and
// on the lab's kernel and network.
var layerSets = []struct {
	name   string
	layers Layers
}{
	{"floor", Layers{}},
	{"kernel", Layers{Kernel: true}},
	{"kernel+network", Layers{Kernel: true, Network: true}},
	{"kernel+circuit", Layers{Kernel: true, Circuit: true}},
	{"all", Layers{Kernel: true, Network: true, Circuit: true}},
}

// The workload's traffic, checked from what the receivers decoded: every viewer's AgentUpdates
// reach its region once a second, and both ends' pings come back after two path crossings —
// whichever parts carry them.
func TestEveryViewerIsHeardAndEveryPingAnswered(t *testing.T) {
	for _, ls := range layerSets {
		t.Run(ls.name, func(t *testing.T) { testTraffic(t, ls.layers) })
	}
}

func testTraffic(t *testing.T, layers Layers) {
	const viewers, secs = 320, 20
	r, err := Run(Config{Viewers: viewers, Duration: secs * time.Second, Seed: 1, Layers: layers})
	require.NoError(t, err)

	// Each viewer sends 20 updates in 20 s (its first within the first second); only one sent
	// in the last 33 ms can still be on the way.
	assert.LessOrEqual(t, r.AgentUpdates, uint64(viewers*secs))
	assert.GreaterOrEqual(t, r.AgentUpdates, uint64(viewers*(secs-1)))
	// Each end pings every 5 s: 4 pings per end and viewer, the last maybe unanswered.
	assert.LessOrEqual(t, r.Pings, uint64(2*viewers*4))
	assert.GreaterOrEqual(t, r.Pings, uint64(2*viewers*3))
	// A round trip crosses the 27–33 ms path twice.
	assert.GreaterOrEqual(t, r.MeanRTT, 2*pathLatency)
	assert.LessOrEqual(t, r.MeanRTT, 2*(pathLatency+pathJitter))
	// Events: every arrival, plus the timers (an update a second, a ping each end every 5 s).
	assert.Greater(t, r.Events, r.Datagrams)
	assert.Less(t, r.Datagrams, r.Events-uint64(viewers*secs))
}

func TestTheSameSeedGivesTheSameRunAndAnotherSeedAnother(t *testing.T) {
	for _, ls := range layerSets {
		t.Run(ls.name, func(t *testing.T) { testSeeds(t, ls.layers) })
	}
}

func testSeeds(t *testing.T, layers Layers) {
	cfg := Config{Viewers: 100, Duration: 10 * time.Second, Seed: 7, Layers: layers}
	a, err := Run(cfg)
	require.NoError(t, err)
	b, err := Run(cfg)
	require.NoError(t, err)
	assert.Equal(t, a, b, "a rerun with the same seed must be identical, trace hash included")

	cfg.Seed = 8
	c, err := Run(cfg)
	require.NoError(t, err)
	assert.NotEqual(t, a.TraceHash, c.TraceHash, "another seed moves the phases and jitter, so the trace")
}

func TestTheSecondCallbackSeesEveryVirtualSecond(t *testing.T) {
	for _, ls := range layerSets {
		t.Run(ls.name, func(t *testing.T) {
			var seen []time.Duration
			var last uint64
			r, err := Run(Config{Viewers: 10, Duration: 3500 * time.Millisecond, Layers: ls.layers,
				Second: func(at time.Duration, events uint64) {
					seen = append(seen, at)
					assert.Greater(t, events, last, "every second dispatches events")
					last = events
				}})
			require.NoError(t, err)
			assert.Equal(t, []time.Duration{time.Second, 2 * time.Second, 3 * time.Second}, seen)
			assert.Greater(t, r.Events, last, "the last half second dispatches events too")
		})
	}
}

func TestAConfigOutOfRangeIsRefusedNamingTheSetting(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Viewers: 0, Duration: time.Second}, "viewers 0"},
		{Config{Viewers: maxViewers + 1, Duration: time.Second}, fmt.Sprintf("viewers %d", maxViewers+1)},
		{Config{Viewers: 1}, "duration 0s"},
		{Config{Viewers: 1, Duration: 25 * time.Hour}, "duration 25h0m0s"},
		{Config{Viewers: 1, Duration: time.Second, Layers: Layers{Network: true}}, "run on the kernel layer (sim): add kernel"},
		{Config{Viewers: 1, Duration: time.Second, Layers: Layers{Circuit: true}}, "run on the kernel layer (sim): add kernel"},
	} {
		_, err := Run(tc.cfg)
		require.Error(t, err, "%+v", tc.cfg)
		assert.Contains(t, err.Error(), tc.want)
	}
}

func TestFreshAcceptsEachSequenceNumberOnce(t *testing.T) {
	var high uint32
	var seen uint64
	for _, tc := range []struct {
		seq  uint32
		want bool
		why  string
	}{
		{1, true, "the first"},
		{1, false, "a duplicate of the highest"},
		{5, true, "a jump ahead"},
		{3, true, "late, within the window"},
		{3, false, "late and already seen"},
		{4, true, "the other gap"},
		{100, true, "a jump past the window"},
		{36, true, "64 below the highest: the window's edge"},
		{35, false, "older than the window counts as a duplicate"},
		{99, true, "just below the highest"},
		{99, false, "and only once"},
	} {
		assert.Equal(t, tc.want, fresh(&high, &seen, tc.seq), "seq %d: %s", tc.seq, tc.why)
	}
}

// BenchmarkFloor runs 10 virtual seconds of the workload on the floor alone and with the lab's
// layers; ns/event is the whole run's time, setting up included, over its events (`gridlab
// bench floor` times only the steady state, and with huge pages).
func BenchmarkFloor(b *testing.B) {
	for _, ls := range layerSets {
		for _, n := range []int{4000, 16000} {
			b.Run(fmt.Sprintf("%s/viewers=%d", ls.name, n), func(b *testing.B) {
				b.ReportAllocs()
				var events uint64
				for b.Loop() {
					r, err := Run(Config{Viewers: n, Duration: 10 * time.Second, Seed: 1, Layers: ls.layers})
					if err != nil {
						b.Fatal(err)
					}
					events += r.Events
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events), "ns/event")
			})
		}
	}
}
