package sweep

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
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
		log    bool
	}{
		{"viewers.home.arrival.rate=5/s..200/s", 3, []string{"5/s", "102.5/s", "200/s"}, false},
		{"viewers.home.arrival.rate=5/s..200/s:log", 3, []string{"5/s", "31.62/s", "200/s"}, true},
		{"viewers.home.arrival.rate=5/s..200/s:lin", 3, []string{"5/s", "102.5/s", "200/s"}, false},
		{"grid.capacity.login_workers=1..16", 4, []string{"1", "6", "11", "16"}, false},
		{"grid.capacity.login_workers=1..3", 5, []string{"1", "2", "3"}, false},
		// Integers on a log scale drop repeats: 8 points asked, 6 given.
		{"grid.capacity.login_workers=1..8:log", 8, []string{"1", "2", "3", "4", "6", "8"}, true},
		{"networks.internet.loss=0%..10%", 3, []string{"0%", "5%", "10%"}, false},
		{"grid.capacity.login_time=100ms..1s", 4, []string{"100ms", "400ms", "700ms", "1s"}, false},
		{"networks.internet.loss=0.01..0.1:log", 2, []string{"0.01", "0.1"}, true},
		// A single point is FROM..FROM.
		{"grid.capacity.login_workers=4..4", 1, []string{"4"}, false},
	} {
		p, err := ParseParam(tc.spec, tc.n)
		require.NoError(t, err, tc.spec)
		assert.Equal(t, tc.values, p.Values, tc.spec)
		assert.Equal(t, tc.log, p.Log, tc.spec)
		assert.Len(t, p.X, len(p.Values))
	}
}

// A bad --param is refused with an error that says what to write instead. A range runs low to
// high: which end breaks decides the knee's rule, so a descending range would call the largest
// value "the least from which every point holds".
func TestParseParamRefuses(t *testing.T) {
	for _, tc := range []struct {
		spec   string
		points int
		errHas string
	}{
		{"x", 3, "want PATH=FROM..TO"},
		{"a=1", 3, "has no '..'"},
		{"a=1..2s", 3, "one kind"},
		{"a=0..10:log", 3, "above zero"},
		{"a=x..y", 3, "is not a number"},
		{"viewers.home.arrival.rate=40/s..2/s:log", 6, `FROM 40/s is above TO 2/s: give the range low to high (2/s..40/s)`},
		{"grid.capacity.login_workers=8..1", 8, `FROM 8 is above TO 1: give the range low to high (1..8)`},
		{"grid.capacity.login_time=1s..100ms", 3, "give the range low to high (100ms..1s)"},
		{"grid.capacity.login_workers=4..4", 3, "FROM and TO are both 4: give a range low to high, or --points 1"},
		{"grid.capacity.login_workers=1..4", 1, "--points 1 with a range 1..4"},
		{"viewers.home.arrival.rate=2/s..40/s:geo", 3, `unknown spacing ":geo": write :log for geometric spacing, :lin (or nothing) for even spacing`},
		{"grid.capacity.login_workers=1..4", 0, "--points 0: need at least 1"},
	} {
		_, err := ParseParam(tc.spec, tc.points)
		if assert.Error(t, err, tc.spec) {
			assert.Contains(t, err.Error(), tc.errHas, tc.spec)
		}
	}
}

func TestSweepWritesReportsAndShardsMergeToTheSameIndex(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 12 small simulations")
	}
	sc, err := small()
	require.NoError(t, err)
	spec, err := NewSpec(sc, small, nil, "networks.internet.loss=0%..20%", 3, 2, nil, "")
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
		// On a log axis a duration's ticks carry their unit (1ms, 3.42ms), so the name does not.
		{"grid.capacity.region_packet_time=1ms..40ms:log", "grid.capacity.region_packet_time"},
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

// times returns n arrival times in µs, 1 s, 2 s, ... n s.
func times(n int) []int64 {
	us := make([]int64, n)
	for i := range us {
		us[i] = int64(i+1) * 1e6
	}
	return us
}

// In the threshold's statistic a viewer that never reached the stage counts as slower than
// every viewer that did: the statistic is "never" (stat_ms null, and the point breaks) when
// such viewers decide it, however fast the ones that got there were. The p50/p99/max columns
// stay over the viewers that got there.
func TestThresholdCountsViewersThatNeverArrived(t *testing.T) {
	for _, tc := range []struct {
		name    string
		stat    string
		viewers int
		arrived int   // the first arrived of times(100) reach the stage: 1 s, 2 s, ...
		statMS  int64 // -1: never
		breaks  bool
	}{
		{"p(99), everyone there: the 99th of 100", "p(99)", 100, 100, 99_000, false},
		{"p(99), 1% never there: still a time", "p(99)", 100, 99, 99_000, false},
		{"p(99), 2% never there: never", "p(99)", 100, 98, -1, true},
		{"p(99), 51% never there (QA's 40 ms point): never", "p(99)", 100, 49, -1, true},
		{"p(50), half never there: the last who did", "p(50)", 100, 50, 50_000, false},
		{"p(50), more than half never there: never", "p(50)", 100, 49, -1, true},
		{"max, everyone there", "max", 100, 100, 100_000, false},
		{"max, one never there: never", "max", 100, 99, -1, true},
		{"avg, one never there: never", "avg", 10, 9, -1, true},
		{"avg, everyone there", "avg", 10, 10, 5_500, false},
		{"min, some there: the fastest", "min", 100, 1, 1_000, false},
		{"min, nobody there: never", "min", 100, 0, -1, true},
		{"a point with no viewers: never", "p(99)", 0, 0, -1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The limit is 200 s, above every viewer's time: only "never" breaks it.
			sp := Spec{Param: Param{Path: "x", Values: []string{"1"}, X: []float64{1}}, Seeds: []uint64{1},
				Threshold: &Threshold{Stage: "movement_complete", Stat: tc.stat, Op: "<", LimitMS: 200_000}}
			r := &Record{Point: 0, Seed: 1, Dir: RunDir(0, 1), Viewers: tc.viewers, Success: tc.arrived, InWorldUS: times(tc.arrived)}
			ix, err := Build(sp, []*Record{r})
			require.NoError(t, err)
			pt := ix.Points[0]
			if tc.statMS < 0 {
				assert.Nil(t, pt.Stat, "the statistic is never")
			} else if assert.NotNil(t, pt.Stat) {
				assert.Equal(t, float64(tc.statMS), *pt.Stat)
			}
			assert.Equal(t, tc.viewers-tc.arrived, pt.NeverReached)
			assert.Equal(t, tc.breaks, pt.Breaks)
			if tc.arrived > 0 {
				assert.Equal(t, float64(tc.arrived)*1000, pt.MaxMS, "max_ms is over the viewers that got there")
			}
		})
	}
}

// A stage other than movement_complete counts the viewers that never reached that stage.
func TestThresholdOnAnotherStageCountsItsOwnStragglers(t *testing.T) {
	sp := Spec{Param: Param{Path: "x", Values: []string{"1"}, X: []float64{1}}, Seeds: []uint64{1},
		Threshold: &Threshold{Stage: "login_reply", Stat: "max", Op: "<", LimitMS: 60_000}}
	// Everyone got a login reply, but only half got in world: login_reply's max holds.
	r := &Record{Point: 0, Seed: 1, Dir: RunDir(0, 1), Viewers: 10, InWorldUS: times(5), StageUS: times(10)}
	ix, err := Build(sp, []*Record{r})
	require.NoError(t, err)
	require.NotNil(t, ix.Points[0].Stat)
	assert.Equal(t, 10_000.0, *ix.Points[0].Stat)
	assert.Zero(t, ix.Points[0].NeverReached)
	assert.False(t, ix.Points[0].Breaks)
}

// QA's sweep of region_packet_time: the p99 of the viewers that got in stays under 30 s at
// every point, but from 12 ms on more than 1% never got in. Those points break, so the knee
// is at 12 ms, not "no point breaks"; when every point breaks for that reason, the message says
// so.
func TestKneeCountsViewersThatNeverArrived(t *testing.T) {
	sp := Spec{Param: Param{Path: "grid.capacity.region_packet_time", Values: []string{"1ms", "3.42ms", "12ms", "40ms"}, X: []float64{0.001, 0.00342, 0.012, 0.04}},
		Seeds: []uint64{1}, Threshold: &Threshold{Stage: "movement_complete", Stat: "p(99)", Op: "<", LimitMS: 30_000}}
	var recs []*Record
	for i, in := range []int{100, 100, 88, 49} {
		recs = append(recs, &Record{Point: i, Seed: 1, Dir: RunDir(i, 1), Viewers: 100, Success: in, InWorldUS: times(in)})
		for k := range recs[i].InWorldUS {
			recs[i].InWorldUS[k] /= 10 // under 10 s, well under the limit
		}
	}
	ix, err := Build(sp, recs)
	require.NoError(t, err)
	require.NotNil(t, ix.Knee, "a point where 51% never got in breaks")
	assert.Equal(t, Knee{Point: 2, Value: "12ms", Rule: KneeFirstBreak}, *ix.Knee)
	assert.Equal(t, "never (12 of 100 not reached)", ix.Points[2].StatText())
	assert.Equal(t, "never (51 of 100 not reached)", ix.Points[3].StatText())
	assert.Equal(t, "9.9s", ix.Points[1].StatText())

	var html bytes.Buffer
	require.NoError(t, writeHTML(&html, ix))
	assert.Contains(t, html.String(), "never (51 of 100 not reached)")
	assert.Contains(t, html.String(), "p99 of those in world")

	sp.Threshold.LimitMS = 1_000 // now the first two break on time, the others on stragglers
	ix, err = Build(sp, recs)
	require.NoError(t, err)
	require.True(t, ix.AllBreak())
	assert.Equal(t, "every point breaks movement_complete p(99) < 1s; at 2 of the 4 points (12ms, 40ms) more than 1% of the viewers never reached movement_complete, so its p(99) is never", ix.AllBreakText())
	html.Reset()
	require.NoError(t, writeHTML(&html, ix))
	assert.Contains(t, html.String(), "Every point breaks movement_complete p(99) &lt; 1s; at 2 of the 4 points")
}

// writeShard writes a shard folder as Run would, without running anything: the manifest and a
// record per run.
func writeShard(t *testing.T, dir string, sp Spec, shard string, recs ...*Record) {
	t.Helper()
	m := Manifest{Spec: sp, Shard: shard}
	for _, r := range recs {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, r.Dir), 0o755))
		require.NoError(t, writeJSON(filepath.Join(dir, r.Dir, RecordFile), r))
		m.Runs = append(m.Runs, r.Dir)
	}
	require.NoError(t, writeJSON(filepath.Join(dir, ShardFile), m))
}

// Merge refuses shards that are not of one sweep — other --set overrides, another version of
// the scenario file — naming the folders and what differs; a run in two shard folders, naming
// both; and an --out that is one of the shards, which would rewrite that shard's manifest.
func TestMergeRefuses(t *testing.T) {
	spec := Spec{Scenario: "s", Sets: []string{}, Fingerprint: "sha256:aa",
		Param: Param{Path: "x", From: "1", To: "2", Values: []string{"1", "2"}, X: []float64{1, 2}}, Seeds: []uint64{1}}
	rec := func(i int) *Record {
		return &Record{Point: i, Seed: 1, Dir: RunDir(i, 1), Viewers: 1, Success: 1, InWorldUS: []int64{1000}}
	}
	otherSets := spec
	otherSets.Sets, otherSets.Fingerprint = []string{"grid.capacity.login_workers=16"}, "sha256:bb"
	otherFile := spec
	otherFile.Fingerprint = "sha256:cc"
	old := spec
	old.Fingerprint = ""

	for _, tc := range []struct {
		name   string
		second Spec
		recs1  []*Record // the second shard's runs
		out    string    // "" for a new folder; "s0" for the first shard
		errHas []string
	}{
		{"a shard run with another --set", otherSets, []*Record{rec(1)}, "",
			[]string{"s1 is not a shard of the same sweep as", "s0", "--set differs: none vs grid.capacity.login_workers=16"}},
		{"a shard of another version of the scenario file", otherFile, []*Record{rec(1)}, "",
			[]string{"s1 is not a shard of the same sweep as", "the scenario file's content differs (it changed between the runs): fingerprint sha256:aa vs sha256:cc"}},
		{"a shard made before fingerprints", old, []*Record{rec(1)}, "", []string{"s1: its sweep-shard.json has no scenario fingerprint"}},
		{"one run in two shards", spec, []*Record{rec(0), rec(1)}, "",
			[]string{"point 0 seed 1 (point-00-seed-1) is in two shard folders,", "s0 and", "s1: give each shard once"}},
		{"--out is a shard", spec, []*Record{rec(1)}, "s0", []string{"--out", "is the shard folder", "give a new folder for --out"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s0, s1 := filepath.Join(dir, "s0"), filepath.Join(dir, "s1")
			writeShard(t, s0, spec, "0/2", rec(0))
			writeShard(t, s1, tc.second, "1/2", tc.recs1...)
			out := filepath.Join(dir, "merged")
			if tc.out != "" {
				out = filepath.Join(dir, tc.out)
			}
			before, err := os.ReadFile(filepath.Join(s0, ShardFile))
			require.NoError(t, err)
			err = Merge(out, []string{s0, s1})
			require.Error(t, err)
			for _, want := range tc.errHas {
				assert.Contains(t, err.Error(), want)
			}
			after, err := os.ReadFile(filepath.Join(s0, ShardFile))
			require.NoError(t, err)
			assert.Equal(t, string(before), string(after), "a refused merge leaves the shards as they were")
		})
	}

	// The same shards, right: they merge, and merging them again gives the same sweep.json.
	dir := t.TempDir()
	s0, s1 := filepath.Join(dir, "s0"), filepath.Join(dir, "s1")
	writeShard(t, s0, spec, "0/2", rec(0))
	writeShard(t, s1, spec, "1/2", rec(1))
	require.NoError(t, Merge(filepath.Join(dir, "m1"), []string{s0, s1}))
	require.NoError(t, Merge(filepath.Join(dir, "m2"), []string{s0, s1}))
	a, err := os.ReadFile(filepath.Join(dir, "m1", IndexFile))
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(dir, "m2", IndexFile))
	require.NoError(t, err)
	assert.Equal(t, string(a), string(b))

	err = Merge(filepath.Join(dir, "m3"), []string{s0, s0})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "are the same folder: give each shard once")
}

// The spec records the --set overrides and a fingerprint of the scenario they give (before
// the parameter is set): other overrides or another scenario give another fingerprint; the
// scenario's own seed, which a sweep replaces, does not count.
func TestSpecFingerprintsTheScenarioAsRun(t *testing.T) {
	spec := func(sets []string, seed uint64) Spec {
		load := func() (*scenarios.Scenario, error) {
			sc, err := small()
			if err != nil {
				return nil, err
			}
			sc.Seed = seed
			for _, kv := range sets {
				k, v, _ := strings.Cut(kv, "=")
				if err := sc.Set(k, v); err != nil {
					return nil, err
				}
			}
			return sc, nil
		}
		sc, err := load()
		require.NoError(t, err)
		base := uint64(1)
		sp, err := NewSpec(sc, load, sets, "networks.internet.loss=0%..20%", 2, 1, &base, "")
		require.NoError(t, err)
		return sp
	}
	plain := spec(nil, 1)
	assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, plain.Fingerprint)
	assert.Equal(t, []string{}, plain.Sets)
	assert.Equal(t, plain.Fingerprint, spec(nil, 1).Fingerprint, "deterministic")
	assert.Equal(t, plain.Fingerprint, spec(nil, 7).Fingerprint, "the scenario's seed is not part of it")
	set := spec([]string{"viewers.home.count=7"}, 1)
	assert.Equal(t, []string{"viewers.home.count=7"}, set.Sets)
	assert.NotEqual(t, plain.Fingerprint, set.Fingerprint)
	assert.NotEmpty(t, specDiff(plain, set))
	assert.Empty(t, specDiff(plain, spec(nil, 1)))
}

// Seeds run from --seed on; a --seed so large that the next ones would wrap to 0 is refused.
func TestNewSpecRefusesSeedsThatOverflow(t *testing.T) {
	sc, err := small()
	require.NoError(t, err)
	for _, tc := range []struct {
		base   uint64
		seeds  int
		errHas string
	}{
		{math.MaxUint64, 1, ""},
		{math.MaxUint64 - 1, 2, ""},
		{math.MaxUint64, 2, "--seed 18446744073709551615 with --seeds 2: the seeds would run past 18446744073709551615, the largest seed; give a --seed of at most 18446744073709551614"},
		{math.MaxUint64 - 1, 3, "give a --seed of at most 18446744073709551613"},
	} {
		base := tc.base
		sp, err := NewSpec(sc, small, nil, "networks.internet.loss=0%..20%", 2, tc.seeds, &base, "")
		if tc.errHas == "" {
			require.NoError(t, err)
			assert.Len(t, sp.Seeds, tc.seeds)
			assert.Equal(t, tc.base+uint64(tc.seeds-1), sp.Seeds[len(sp.Seeds)-1])
			continue
		}
		require.Error(t, err)
		assert.Contains(t, err.Error(), tc.errHas)
	}
}

// The failure plot shows FailureRate — viewers without a successful outcome, including ones
// that got in world and failed later — and its axis says so (silent-circuit: everyone in
// world, half of them failed).
func TestFailurePlotIsLabelledAsWhatItPlots(t *testing.T) {
	ix := &Index{Spec: Spec{Param: Param{Path: "viewers.isp-a.count", Values: []string{"5", "10"}, X: []float64{5, 10}}},
		Points: []Point{{Index: 0, Value: "5", X: 5, Viewers: 15, InWorld: 15, Success: 10, FailureRate: 1.0 / 3},
			{Index: 1, Value: "10", X: 10, Viewers: 20, InWorld: 20, Success: 10, FailureRate: 0.5}}}
	dir := t.TempDir()
	require.NoError(t, writePlots(dir, ix))
	svg, err := os.ReadFile(filepath.Join(dir, "sweep-failures.svg"))
	require.NoError(t, err)
	assert.Contains(t, string(svg), "fraction of viewers without a successful outcome")
	assert.NotContains(t, string(svg), "not in world")
}

// With one point the threshold line still spans the x axis, so it shows on the plot and not
// only in the legend.
func TestThresholdLineIsVisibleWithOnePoint(t *testing.T) {
	for _, param := range []string{"grid.capacity.login_workers=4..4", "viewers.home.arrival.rate=5/s..5/s:log", "networks.internet.loss=0..0"} {
		p, err := ParseParam(param, 1)
		require.NoError(t, err)
		th := &Threshold{Stage: "movement_complete", Stat: "p(99)", Op: "<", LimitMS: 5000}
		ix := &Index{Spec: Spec{Param: p, Threshold: th}, Points: []Point{{Value: p.Values[0], X: p.X[0], Viewers: 1, InWorld: 1, P50MS: 1000, P99MS: 1000}}}
		pl, err := latencyPlot(ix)
		require.NoError(t, err)
		l, err := thresholdLine(pl, th)
		require.NoError(t, err)
		assert.Less(t, l.XYs[0].X, p.X[0], param)
		assert.Greater(t, l.XYs[1].X, p.X[0], param)
	}
}
