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
