package main

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gridlab/lab/explore"
	"gridlab/scenarios"
)

func TestExploreHelpDocumentsItsFlags(t *testing.T) {
	out, _, err := execute(t, "explore", "--help")
	require.NoError(t, err)
	for _, flag := range []string{"--seeds", "--from", "--jobs", "--out", "--time-limit", "--no-shrink", "Example"} {
		assert.Contains(t, out, flag, "explore --help documents %s", flag)
	}
}

func TestExploreWithoutSeedsSaysWhatIsMissing(t *testing.T) {
	_, _, err := execute(t, "explore")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--seeds")
}

// Seeds that keep every invariant: no output on stdout, a summary on stderr, exit 0.
func TestExploreCleanSeedsExitZero(t *testing.T) {
	out, errOut, err := execute(t, "explore", "--seeds", "3", "--from", "0", "--jobs", "1", "--out", t.TempDir())
	require.NoError(t, err)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "explored 3 seeds (0 to 2)")
}

// A seed that breaks an invariant: one line with its seed, a shrunk scenario that `gridlab run
// --invariants` replays to the same violation, and a non-zero exit.
func TestExploreFindsShrinksAndReplays(t *testing.T) {
	var f *explore.Finding
	for seed := uint64(0); seed < 300 && f == nil; seed++ {
		if x, _ := explore.RunSeed(seed); x != nil && x.Violation != nil {
			f = x
		}
	}
	if f == nil {
		t.Skip("no seed of 0..299 breaks an invariant any more: nothing to find")
	}
	dir := t.TempDir()
	seed, inv := strconv.FormatUint(f.Seed, 10), f.Violation.Invariant
	out, _, err := execute(t, "explore", "--seeds", "1", "--from", seed, "--out", dir)
	require.Error(t, err, "a violation makes explore fail")
	assert.Equal(t, 1, exitCode(err))
	assert.Contains(t, out, "seed "+seed+": "+inv+" at ")
	file := filepath.Join(dir, "seed-"+seed+"-"+inv+".yaml")
	assert.Contains(t, out, "shrunk to "+file)
	_, statErr := os.Stat(filepath.Join(dir, "seed-"+seed+"-"+inv+".trace.txt"))
	assert.NoError(t, statErr, "the violation's trace is written beside the scenario")
	sc, lerr := scenarios.Load(file)
	require.NoError(t, lerr, "the shrunk scenario is a valid scenario file")
	assert.Equal(t, f.Seed, sc.Seed)

	_, _, rerr := execute(t, "run", "--invariants", "--quiet", file, "--out", filepath.Join(dir, "run"))
	require.Error(t, rerr)
	assert.Contains(t, rerr.Error(), "invariant "+inv+" violated")
	_, _, rerr = execute(t, "run", "--quiet", file, "--out", filepath.Join(dir, "run2"))
	assert.NoError(t, rerr, "without --invariants the same run is not checked")
}

// --time-limit stops handing out seeds; what was not run is said on stderr.
func TestExploreTimeLimitStopsStartingSeeds(t *testing.T) {
	_, errOut, _ := execute(t, "explore", "--seeds", "100000", "--time-limit", "1ns", "--jobs", "1", "--no-shrink", "--out", t.TempDir())
	assert.Contains(t, errOut, "time limit 1ns reached")
	assert.NotContains(t, errOut, "18446744073709551615", "no seed range wraps around when none ran")
}
