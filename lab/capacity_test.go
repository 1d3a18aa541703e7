package lab

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gridlab/reports"
)

// TestLoginServiceTimeSpread runs a burst into one login worker and reads the service time off
// the gaps between consecutive login replies (the queue serves one login after another, so a
// gap is one login's service time, give or take the 30 ms ± 3 ms path's jitter). A spread of
// 0 % is a fixed service time — every gap 400 ms — not the default 50 %; left out, the default
// spreads the gaps over 200–600 ms.
func TestLoginServiceTimeSpread(t *testing.T) {
	gaps := func(t *testing.T, set map[string]string) []time.Duration {
		t.Helper()
		sc := bundled(t, "login-storm.yaml")
		require.NoError(t, sc.Set("viewers.class.count", "8"))
		for k, v := range set {
			require.NoError(t, sc.Set(k, v))
		}
		require.NoError(t, sc.Validate())
		run, err := Run(sc, Options{})
		require.NoError(t, err)
		var at []time.Duration
		for _, v := range run.Viewers {
			require.GreaterOrEqual(t, v.Stages[reports.StageLoginReply], time.Duration(0), "viewer %d got its login reply", v.ID)
			at = append(at, v.Start+v.Stages[reports.StageLoginReply])
		}
		slices.Sort(at)
		var out []time.Duration
		for i := 1; i < len(at); i++ {
			out = append(out, at[i]-at[i-1])
		}
		return out
	}
	near400 := func(d time.Duration) bool { return d > 390*time.Millisecond && d < 410*time.Millisecond }

	for _, d := range gaps(t, map[string]string{"grid.capacity.login_time_spread": "0%"}) {
		assert.True(t, near400(d), "with a 0%% spread every login takes login_time (400ms): a gap of %v", d)
	}
	off := 0
	for _, d := range gaps(t, map[string]string{"grid.capacity.login_time_spread": ""}) { // cleared: the default
		assert.True(t, d > 190*time.Millisecond && d < 610*time.Millisecond, "the default spread keeps a login within 400ms ± 50%%: a gap of %v", d)
		if !near400(d) {
			off++
		}
	}
	assert.Greater(t, off, 3, "the default spread (50%%) varies the service time")
}
