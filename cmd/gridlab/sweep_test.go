package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSweepCommandFindsTheKneeAndShardsMergeToTheSameIndex(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 6 small simulations")
	}
	dir := t.TempDir()
	args := []string{"sweep", "login-storm", "--param", "grid.capacity.login_workers=1..3", "--points", "3", "--seeds", "1",
		"--set", "viewers.class.count=40", "--threshold", "p(99) < 10s"}
	out, _, err := execute(t, append(args, "--out", filepath.Join(dir, "whole"), "--jobs", "2")...)
	require.NoError(t, err)
	// One worker keeps 40 logins of 400 ms each queued past 10 s; from two on they hold: login
	// workers are a resource, so the knee is the least value that holds.
	assert.Contains(t, out, "capacity knee: grid.capacity.login_workers = 2 (the least value from which every point holds the threshold")
	for _, f := range []string{"sweep.json", "index.html", "sweep-latency.svg", "point-02-seed-1/report.json"} {
		assert.FileExists(t, filepath.Join(dir, "whole", f))
	}

	for _, sh := range []string{"0/2", "1/2"} {
		_, _, err := execute(t, append(args, "--out", filepath.Join(dir, "s"+sh[:1]), "--shard", sh, "--quiet")...)
		require.NoError(t, err)
	}
	_, _, err = execute(t, "sweep", "merge", filepath.Join(dir, "s0"), filepath.Join(dir, "s1"), "--out", filepath.Join(dir, "merged"), "--quiet")
	require.NoError(t, err)
	a, err := os.ReadFile(filepath.Join(dir, "whole", "sweep.json"))
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(dir, "merged", "sweep.json"))
	require.NoError(t, err)
	assert.Equal(t, string(a), string(b), "sharded and merged sweep.json equals the unsharded one")
}

// login-storm's only stage expectation is a lower bound (its queue must show), not a limit: a
// sweep without --threshold says so instead of calling every healthy point broken, and a
// --threshold that is not a limit is refused before anything runs.
func TestSweepWantsALimitForAThreshold(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 2 small simulations")
	}
	out, _, err := execute(t, "sweep", "login-storm", "--param", "grid.capacity.login_workers=1..2", "--points", "2",
		"--set", "viewers.class.count=20", "--out", t.TempDir())
	require.NoError(t, err)
	assert.Contains(t, out, "no threshold (the scenario has no stage expectation that is a limit")
	assert.NotContains(t, out, "capacity knee")

	_, _, err = execute(t, "sweep", "login-storm", "--param", "grid.capacity.login_workers=1..2", "--threshold", "p(99) > 10s", "--out", t.TempDir())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "use < or <=")
}

func TestSweepRejectsABadParam(t *testing.T) {
	_, _, err := execute(t, "sweep", "login-storm", "--param", "grid.capacity.login_workers=1..x", "--out", t.TempDir())
	require.Error(t, err)
	_, _, err = execute(t, "sweep", "login-storm", "--param", "grid.nosuchkey=1..3", "--out", t.TempDir())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nosuchkey")
}
