package sweep

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gridlab/scenarios"
)

// small loads the bundled default scenario cut down to 12 viewers arriving over 5 s.
func small() (*scenarios.Scenario, error) {
	sc, err := scenarios.Parse("standalone-basic.yaml", mustRead("standalone-basic.yaml"))
	if err != nil {
		return nil, err
	}
	for k, v := range map[string]string{
		"viewers.lan.count": "6", "viewers.home.count": "6",
		"viewers.lan.arrival.window": "5s", "viewers.home.arrival.window": "5s",
		"viewers.lan.stay": "5s", "viewers.home.stay": "5s", "duration": "1m",
	} {
		if err := sc.Set(k, v); err != nil {
			return nil, err
		}
	}
	return sc, sc.Validate()
}

func mustRead(name string) []byte {
	data, err := scenarios.Files.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return data
}

func TestParseParam(t *testing.T) {
	for _, tc := range []struct {
		spec   string
		n      int
		values []string
	}{
		{"viewers.home.arrival.rate=5/s..200/s", 3, []string{"5/s", "102.5/s", "200/s"}},
		{"viewers.home.arrival.rate=5/s..200/s:log", 3, []string{"5/s", "31.62/s", "200/s"}},
		{"grid.capacity.login_workers=1..16", 4, []string{"1", "6", "11", "16"}},
		{"grid.capacity.login_workers=1..3", 5, []string{"1", "2", "3"}},
		{"networks.internet.loss=0%..10%", 3, []string{"0%", "5%", "10%"}},
		{"grid.capacity.login_time=100ms..1s", 4, []string{"100ms", "400ms", "700ms", "1s"}},
		{"networks.internet.loss=0.01..0.1:log", 2, []string{"0.01", "0.1"}},
	} {
		p, err := ParseParam(tc.spec, tc.n)
		require.NoError(t, err, tc.spec)
		assert.Equal(t, tc.values, p.Values, tc.spec)
		assert.Len(t, p.X, len(p.Values))
	}
	for _, bad := range []string{"x", "a=1", "a=1..2s", "a=0..10:log", "a=x..y"} {
		_, err := ParseParam(bad, 3)
		assert.Error(t, err, bad)
	}
}

func TestSweepWritesReportsAndShardsMergeToTheSameIndex(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 12 small simulations")
	}
	sc, err := small()
	require.NoError(t, err)
	spec, err := NewSpec(sc, small, "networks.internet.loss=0%..20%", 3, 2, nil, "")
	require.NoError(t, err)
	require.NotNil(t, spec.Threshold, "the default scenario's p(99) < 5s expectation is the threshold")
	assert.Equal(t, "movement_complete", spec.Threshold.Stage)

	dir := t.TempDir()
	whole := filepath.Join(dir, "whole")
	require.NoError(t, Run(Config{Spec: spec, Load: small, Out: whole, Jobs: 2}))
	for _, f := range []string{IndexFile, ShardFile, "index.html", "sweep-latency.svg", "sweep-latency.png", "sweep-failures.svg", "sweep-failures.png"} {
		assert.FileExists(t, filepath.Join(whole, f))
	}
	for i := range 3 {
		for _, seed := range spec.Seeds {
			for _, f := range []string{"report.json", "viewers.csv", "index.html", RecordFile} {
				assert.FileExists(t, filepath.Join(whole, RunDir(i, seed), f))
			}
		}
	}
	var ix Index
	require.NoError(t, readJSON(filepath.Join(whole, IndexFile), &ix))
	require.Len(t, ix.Points, 3)
	for _, pt := range ix.Points {
		assert.Equal(t, 2, pt.Runs)
		assert.Equal(t, 24, pt.Viewers)
	}
	assert.Equal(t, 24, ix.Points[0].InWorld, "no loss: everyone gets in")

	// Two shards, merged, give the same sweep.json byte for byte.
	for i := range 2 {
		require.NoError(t, Run(Config{Spec: spec, Load: small, Out: filepath.Join(dir, "shard", string(rune('0'+i))), Jobs: 1, Shard: Shard{I: i, N: 2}}))
	}
	assert.NoFileExists(t, filepath.Join(dir, "shard", "0", IndexFile), "a shard writes no index")
	merged := filepath.Join(dir, "merged")
	require.NoError(t, Merge(merged, []string{filepath.Join(dir, "shard", "0"), filepath.Join(dir, "shard", "1")}))
	a, err := os.ReadFile(filepath.Join(whole, IndexFile))
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(merged, IndexFile))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(a, b), "merged sweep.json differs from the unsharded one")
	assert.FileExists(t, filepath.Join(merged, RunDir(2, spec.Seeds[1]), "report.json"), "merge copies the run folders")

	// One shard alone is not the whole sweep.
	err = Merge(filepath.Join(dir, "half"), []string{filepath.Join(dir, "shard", "0")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "missing")
}

// The threshold is a limit: a scenario's lower bounds ("the queue must show") are passed over,
// an upper bound on movement_complete is preferred, and a flag that is not a limit is refused.
func TestNewThresholdTakesOnlyLimits(t *testing.T) {
	for _, tc := range []struct {
		name   string
		scen   string // a bundled scenario
		flag   string
		want   string // Threshold.String(), "" for none
		errHas string
	}{
		{"login-storm has only a lower bound (max > 60s): no threshold", "login-storm.yaml", "", "", ""},
		{"lossy-mobile's p(50) > 1s comes first but is not a limit", "lossy-mobile.yaml", "", "movement_complete p(99) < 30s", ""},
		{"login-storm-after-restart: its max > 10s is passed over", "login-storm-after-restart.yaml", "", "movement_complete p(99) < 30s", ""},
		{"region-down-fallback: min >= 30s passed over, max < 32s taken", "region-down-fallback.yaml", "", "login_reply max < 32s", ""},
		{"the default scenario's p(99) < 5s", "standalone-basic.yaml", "", "movement_complete p(99) < 5s", ""},
		{"a bare duration is p(99) below it", "login-storm.yaml", "20s", "movement_complete p(99) < 20s", ""},
		{"<= is a limit too", "login-storm.yaml", "max <= 1m", "movement_complete max <= 1m0s", ""},
		{"a lower bound is refused", "login-storm.yaml", "p(99) > 10s", "", "use < or <="},
		{"== is refused", "login-storm.yaml", "p(99) == 10s", "", "use < or <="},
		{"nonsense names the form", "login-storm.yaml", "p(99) < soon", "", "--threshold"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc, err := scenarios.Parse(tc.scen, mustRead(tc.scen))
			require.NoError(t, err)
			th, err := NewThreshold(sc, tc.flag)
			if tc.errHas != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.errHas)
				return
			}
			require.NoError(t, err)
			if tc.want == "" {
				assert.Nil(t, th)
				return
			}
			require.NotNil(t, th)
			assert.Equal(t, tc.want, th.String())
		})
	}
}

// A load sweep's knee is its first breaking point; a resource sweep's (broken at the low end,
// holding at the high end) is the least value from which every point holds; a sweep where no
// point or every point breaks has none.
func TestKneeRules(t *testing.T) {
	for _, tc := range []struct {
		name   string
		breaks string // one letter per point: B breaks, h holds
		point  int
		rule   string // "" for no knee
	}{
		{"load: holds, then breaks", "hhBB", 2, KneeFirstBreak},
		{"load with a noisy point: the first break counts", "hBhB", 1, KneeFirstBreak},
		{"resource: breaks, then holds", "BBhh", 2, KneeFirstHold},
		{"resource with a noisy point: every point from the knee on holds", "BhBhh", 3, KneeFirstHold},
		{"resource holding only at its last point", "BBBh", 3, KneeFirstHold},
		{"nothing breaks", "hhhh", 0, ""},
		{"everything breaks", "BBBB", 0, ""},
		{"breaks at both ends: the first break", "BhhB", 0, KneeFirstBreak},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pts := make([]Point, len(tc.breaks))
			for i, c := range tc.breaks {
				pts[i] = Point{Index: i, Value: string(rune('a' + i)), Breaks: c == 'B'}
			}
			k := kneeOf(pts)
			if tc.rule == "" {
				assert.Nil(t, k)
				return
			}
			require.NotNil(t, k)
			assert.Equal(t, Knee{Point: tc.point, Value: pts[tc.point].Value, Rule: tc.rule}, *k)
		})
	}
}

// The x axis names the parameter's unit in words (a rate is per second, not seconds), and a log
// axis is labelled at the sweep's own values, not at powers of ten a short range barely has.
func TestPlotAxisNamesTheUnitAndLabelsThePoints(t *testing.T) {
	for _, tc := range []struct{ param, label string }{
		{"viewers.home.arrival.rate=2/s..40/s", "viewers.home.arrival.rate (per second)"},
		{"networks.internet.loss=0%..10%", "networks.internet.loss (%)"},
		{"grid.capacity.login_time=100ms..1s", "grid.capacity.login_time (seconds)"},
		{"grid.capacity.login_workers=1..8", "grid.capacity.login_workers"},
	} {
		p, err := ParseParam(tc.param, 3)
		require.NoError(t, err)
		assert.Equal(t, tc.label, xLabel(&Index{Spec: Spec{Param: p}}), tc.param)
	}
	p, err := ParseParam("viewers.home.arrival.rate=2/s..40/s:log", 6)
	require.NoError(t, err)
	var labels []string
	for _, tk := range (pointTicks{p}).Ticks(p.X[0], p.X[len(p.X)-1]) {
		labels = append(labels, tk.Label)
	}
	assert.Equal(t, []string{"2", "3.641", "6.629", "12.07", "21.97", "40"}, labels)

	p, err = ParseParam("grid.capacity.login_time=100ms..1s:log", 3)
	require.NoError(t, err)
	labels = nil
	for _, tk := range (pointTicks{p}).Ticks(p.X[0], p.X[len(p.X)-1]) {
		labels = append(labels, tk.Label)
	}
	assert.Equal(t, []string{"100ms", "316ms", "1s"}, labels, "durations keep their unit")
}
