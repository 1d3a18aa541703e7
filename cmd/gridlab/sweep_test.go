package main

import (
	"os"
	"path/filepath"
	"strings"
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

	// A shard run with another --set is another sweep: merge names the folders and the
	// difference, and writes nothing.
	_, _, err = execute(t, append(args, "--out", filepath.Join(dir, "s1-16"), "--shard", "1/2", "--quiet", "--set", "grid.capacity.login_workers=16")...)
	require.NoError(t, err)
	_, _, err = execute(t, "sweep", "merge", filepath.Join(dir, "s0"), filepath.Join(dir, "s1-16"), "--out", filepath.Join(dir, "mixed"), "--quiet")
	require.Error(t, err)
	assert.Contains(t, err.Error(), filepath.Join(dir, "s1-16")+" is not a shard of the same sweep as "+filepath.Join(dir, "s0"))
	assert.Contains(t, err.Error(), "--set differs: viewers.class.count=40 vs viewers.class.count=40, grid.capacity.login_workers=16")
	assert.NoDirExists(t, filepath.Join(dir, "mixed"))

	// Merging into one of the shards would rewrite its manifest: refused, so the merge can be
	// repeated.
	_, _, err = execute(t, "sweep", "merge", filepath.Join(dir, "s0"), filepath.Join(dir, "s1"), "--out", filepath.Join(dir, "s0"), "--quiet")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is the shard folder")
	_, _, err = execute(t, "sweep", "merge", filepath.Join(dir, "s0"), filepath.Join(dir, "s1"), "--out", filepath.Join(dir, "merged"), "--quiet")
	require.NoError(t, err, "the shards are as they were: merging again works")
}

// QA's sweep of the region's packet time: the p99 of the viewers that got in stays under 30 s,
// but at 40 ms 51 of 100 never got in. In the threshold those count as never arriving, so the
// point breaks and the table says "never" with how many; a --set that is only valid with the
// swept parameter (a receive buffer needs a packet time) is checked with it.
func TestSweepCountsViewersThatNeverGetIn(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 2 small simulations")
	}
	out, _, err := execute(t, "sweep", "poisson-arrivals", "--set", "viewers.home.count=100", "--set", "viewers.home.arrival.rate=20/s",
		"--set", "grid.capacity.region_udp_buffer=8", "--param", "grid.capacity.region_packet_time=1ms..40ms:log", "--points", "2",
		"--threshold", "p(99) < 30s", "--out", t.TempDir(), "--jobs", "2")
	require.NoError(t, err)
	assert.Contains(t, out, "never (51 of 100 not reached)")
	assert.Contains(t, out, "capacity knee: grid.capacity.region_packet_time = 40ms (the first point that breaks the threshold")
	assert.NotContains(t, out, "no point breaks")
	// The parameter's name is longer than its values: the table's columns still line up.
	lines := strings.Split(out, "\n")
	require.GreaterOrEqual(t, len(lines), 3)
	end := strings.Index(lines[0], "viewers") + len("viewers")
	for _, l := range lines[1:3] {
		assert.Regexp(t, `^\S+ +\d+$`, l[:end], "the viewers column ends where its heading does: %q", l)
	}
}

func TestSweepTableAlignsColumns(t *testing.T) {
	var b strings.Builder
	writeTable(&b, [][]string{
		{"grid.capacity.region_packet_time", "viewers", "p(99) of all"},
		{"1ms", "100", "9.039s"},
		{"40ms", "100", "never (51 of 100 not reached)"},
	})
	assert.Equal(t, ""+
		"grid.capacity.region_packet_time  viewers                   p(99) of all\n"+
		"1ms                                   100                         9.039s\n"+
		"40ms                                  100  never (51 of 100 not reached)\n", b.String())
}

// A range runs low to high, its spacing is :log or :lin, and seeds must not wrap past the
// largest: each is refused before anything runs, with what to write instead.
func TestSweepRefusesBadRangesAndSeeds(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		errHas string
	}{
		{[]string{"--param", "viewers.home.arrival.rate=40/s..2/s:log"}, "FROM 40/s is above TO 2/s: give the range low to high (2/s..40/s)"},
		{[]string{"--param", "grid.capacity.login_workers=8..1"}, "give the range low to high (1..8)"},
		{[]string{"--param", "grid.capacity.login_workers=2..2", "--points", "3"}, "FROM and TO are both 2"},
		{[]string{"--param", "viewers.home.arrival.rate=2/s..40/s:geo"}, `unknown spacing ":geo": write :log for geometric spacing, :lin (or nothing) for even spacing`},
		{[]string{"--param", "grid.capacity.login_workers=1..2", "--seed", "18446744073709551615", "--seeds", "2"}, "the seeds would run past 18446744073709551615"},
	} {
		_, _, err := execute(t, append([]string{"sweep", "poisson-arrivals", "--out", t.TempDir()}, tc.args...)...)
		if assert.Error(t, err, tc.args) {
			assert.Contains(t, err.Error(), tc.errHas, tc.args)
		}
	}
}

// An integer range gives fewer points than asked for when values round to one already taken:
// a note says so, and :lin is the default spacing spelled out.
func TestSweepNotesDroppedPoints(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 3 small simulations")
	}
	_, errOut, err := execute(t, "sweep", "login-storm", "--param", "grid.capacity.login_workers=1..3:lin", "--points", "5",
		"--set", "viewers.class.count=5", "--out", t.TempDir(), "--jobs", "2")
	require.NoError(t, err)
	assert.Contains(t, errOut, "note: --points 5 gives 3 points of grid.capacity.login_workers (1, 2, 3)")
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
