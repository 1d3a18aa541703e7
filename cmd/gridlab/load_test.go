package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gridlab/reports"
)

func TestLoadHelpDocumentsFlagsAndExamples(t *testing.T) {
	out, _, err := execute(t, "load", "--help")
	require.NoError(t, err)
	for _, s := range []string{"--login-uri", "--viewers", "--rate", "--accounts", "--user-pattern", "--stay", "--profile",
		"--out", "--quiet", "--expect", "--shard", "Examples:", "coordinated omission"} {
		assert.Contains(t, out, s, "load --help mentions %s", s)
	}
	out, _, err = execute(t, "report", "merge", "--help")
	require.NoError(t, err)
	assert.Contains(t, out, "never")
	assert.Contains(t, out, "averaged")
}

func TestLoadRejectsBadFlagsClearly(t *testing.T) {
	uri := "http://127.0.0.1:9/"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--viewers", "5"}, "--login-uri is required"},
		{[]string{"--login-uri", "https://x/", "--viewers", "5"}, "https is not supported"},
		{[]string{"--login-uri", "127.0.0.1:9000", "--viewers", "5"}, "want http://HOST:PORT/"},
		{[]string{"--login-uri", uri}, "--viewers 0: want at least 1"},
		{[]string{"--login-uri", uri, "--viewers", "5", "--rate", "fast"}, `--rate "fast"`},
		{[]string{"--login-uri", uri, "--viewers", "5", "--rate", "10/h"}, `unit "h"`},
		{[]string{"--login-uri", uri, "--viewers", "5", "--rate", "-3/s"}, "positive number"},
		{[]string{"--login-uri", uri, "--viewers", "5", "--profile", "netscape"}, `unknown viewer profile "netscape"`},
		{[]string{"--login-uri", uri, "--viewers", "5", "--user-pattern", "Load Test:pw"}, "must contain {n}"},
		{[]string{"--login-uri", uri, "--viewers", "5", "--shard", "2/2"}, "0 <= i < n"},
		{[]string{"--login-uri", uri, "--viewers", "5", "--shard", "x"}, "want i/n"},
		{[]string{"--login-uri", uri, "--viewers", "2", "--shard", "0/3"}, "more shards than --viewers"},
		{[]string{"--login-uri", uri, "--viewers", "5", "--expect", "p(98)<2s"}, "p(98)"},
		{[]string{"--login-uri", uri, "--viewers", "5", "--expect", "handshake p(99)<2s"}, `"handshake" is not a stage`},
		{[]string{"--login-uri", uri, "--viewers", "5", "--accounts", "/nonexistent/accounts.txt"}, "--accounts"},
		{[]string{"--login-uri", uri, "--viewers", "5", "--bind", "::1"}, "--bind"},
		{[]string{"--login-uri", uri, "--viewers", "5", "--stay", "-1s"}, "--stay -1s is negative"},
	} {
		_, _, err := execute(t, append([]string{"load", "--quiet", "--out", t.TempDir()}, c.args...)...)
		if assert.Error(t, err, "%v", c.args) {
			assert.Contains(t, err.Error(), c.want, "%v", c.args)
			assert.Equal(t, 1, exitCode(err), "a usage error is not a failed threshold")
		}
	}
	short := filepath.Join(t.TempDir(), "accounts.txt")
	require.NoError(t, os.WriteFile(short, []byte("# two accounts\nA B:pw\nC D:pw\n"), 0o644))
	_, _, err := execute(t, "load", "--login-uri", uri, "--viewers", "3", "--accounts", short, "--quiet")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "has 2 accounts; 3 viewers need 3")

	_, _, err = execute(t, "report", "merge", t.TempDir())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--out is required")
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]float64{"100/s": 100, "100": 100, "0.5/s": 0.5, "600/m": 10, " 30 / s ": 30} {
		got, err := parseRate(in)
		require.NoError(t, err, in)
		assert.InDelta(t, want, got, 1e-9, in)
	}
}

type loadReport struct {
	Viewers  struct{ Total, Success, Failed int } `json:"viewers"`
	Outcomes map[string]int                       `json:"outcomes"`
	Stages   map[string]struct {
		Count int     `json:"count"`
		P50   float64 `json:"p50_ms"`
		P99   float64 `json:"p99_ms"`
		Max   float64 `json:"max_ms"`
	} `json:"stages"`
	Expectations []struct {
		Name string `json:"name"`
		Pass bool   `json:"pass"`
	} `json:"expectations"`
}

func readLoadReport(t *testing.T, dir string) loadReport {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "report.json"))
	require.NoError(t, err)
	var r loadReport
	require.NoError(t, json.Unmarshal(data, &r))
	return r
}

// TestLoadAgainstServeWritesTheRunFolderAndGatesOnThresholds runs `gridlab load` against an
// in-process `gridlab serve` over loopback.
func TestLoadAgainstServeWritesTheRunFolderAndGatesOnThresholds(t *testing.T) {
	uri, _ := startServe(t, serveOptions{login: "127.0.0.1:0", nUsers: 30, userPattern: "Load Test{n}:password", gridName: "gridlab"})
	dir := t.TempDir()
	out, errOut, err := execute(t, "load", "--login-uri", uri, "--viewers", "30", "--rate", "60/s", "--stay", "200ms",
		"--out", dir, "--expect", "p(99)<5s", "--expect", "rate(success)>=100%", "--expect", "count(bad-credentials)==0")
	require.NoError(t, err, "all thresholds hold\n%s", errOut)
	assert.Contains(t, out, "viewers logged in  30/30")
	assert.Contains(t, errOut, "30 of 30 viewers started")
	for _, f := range []string{"report.json", "viewers.csv", "timeseries.csv", "index.html", "cdf-login-to-world.svg", "load.json"} {
		_, err := os.Stat(filepath.Join(dir, f))
		assert.NoError(t, err, "%s is written", f)
	}
	rep := readLoadReport(t, dir)
	assert.Equal(t, 30, rep.Viewers.Success)
	assert.Len(t, rep.Expectations, 3)

	// A wrong password: bad credentials for everyone, the folder written, exit code 99.
	dir2 := t.TempDir()
	_, _, err = execute(t, "load", "--login-uri", uri, "--viewers", "5", "--rate", "50/s", "--quiet",
		"--user-pattern", "Load Test{n}:wrong", "--out", dir2, "--expect", "rate(success)>0.9")
	require.Error(t, err)
	assert.Equal(t, ExitExpectations, exitCode(err), "a failed threshold exits 99")
	assert.Equal(t, map[string]int{"bad-credentials": 5}, readLoadReport(t, dir2).Outcomes)
	_, err = os.Stat(filepath.Join(dir2, "load.json"))
	assert.NoError(t, err, "load.json is written even when a threshold fails")
}

// TestTwoShardsMergeIntoOneRun runs the same load as two shards at once and as one run, and
// merges the shards: the merged report has the one run's counts, and its percentiles are those
// of the shards' viewers taken together (within HDR precision).
func TestTwoShardsMergeIntoOneRun(t *testing.T) {
	uri, _ := startServe(t, serveOptions{login: "127.0.0.1:0", nUsers: 40, userPattern: "Load Test{n}:password", gridName: "gridlab"})
	base := t.TempDir()
	common := []string{"load", "--login-uri", uri, "--viewers", "40", "--rate", "80/s", "--stay", "200ms", "--quiet"}
	_, _, err := execute(t, append(common, "--out", filepath.Join(base, "one"))...)
	require.NoError(t, err)

	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, sh := range []string{"0/2", "1/2"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, errs[i] = execute(t, append(common, "--shard", sh, "--out", filepath.Join(base, "shard-"+sh[:1]))...)
		}()
	}
	wg.Wait()
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])

	s0, s1 := readLoadReport(t, filepath.Join(base, "shard-0")), readLoadReport(t, filepath.Join(base, "shard-1"))
	assert.Equal(t, 20, s0.Viewers.Total, "each shard runs its share")
	assert.Equal(t, 20, s1.Viewers.Total)

	merged := filepath.Join(base, "merged")
	_, _, err = execute(t, "report", "merge", filepath.Join(base, "shard-0"), filepath.Join(base, "shard-1"), "--out", merged, "--quiet", "--expect", "rate(success)>=100%")
	require.NoError(t, err)
	one, m := readLoadReport(t, filepath.Join(base, "one")), readLoadReport(t, merged)
	assert.Equal(t, one.Viewers, m.Viewers, "the merge counts what one run counts")
	assert.Equal(t, one.Outcomes, m.Outcomes)
	for name, st := range one.Stages {
		assert.Equal(t, st.Count, m.Stages[name].Count, "stage %s count", name)
	}
	// The merged p99 is the p99 of the shards' viewers together, from viewers.csv.
	var times []time.Duration
	ids := map[int]bool{}
	for _, d := range []string{"shard-0", "shard-1"} {
		f, err := os.Open(filepath.Join(base, d, "viewers.csv"))
		require.NoError(t, err)
		vs, err := reports.ReadViewersCSV(f)
		f.Close()
		require.NoError(t, err)
		for _, v := range vs {
			assert.False(t, ids[v.ID], "viewer %d is in one shard only", v.ID)
			ids[v.ID] = true
			times = append(times, v.Stages[reports.StageMovementComplete])
		}
	}
	assert.Len(t, ids, 40, "the shards cover viewers 1..40")
	slices.Sort(times)
	exactMax := float64(times[len(times)-1].Microseconds()) / 1000
	assert.InDelta(t, exactMax, m.Stages["movement_complete"].Max, 0.0011, "max is exact")
	// With 40 samples p99 is the largest; HDR keeps 3 significant digits.
	assert.InEpsilon(t, exactMax, m.Stages["movement_complete"].P99, 1e-3, "p99 within HDR precision")
	meta, ok, err := readLoadMeta(merged)
	require.NoError(t, err)
	require.True(t, ok, "the merge writes load.json")
	assert.Equal(t, 40, meta.Planned)
	assert.InDelta(t, 80, meta.Rate, 1e-9, "the shards' rates add up to the run's")
	assert.ElementsMatch(t, []string{"0/2", "1/2"}, meta.Shards)
}

func TestBenchUDPPrintsBothPaths(t *testing.T) {
	out, _, err := execute(t, "bench", "--help")
	require.NoError(t, err)
	assert.Contains(t, out, "udp", "bench lists its udp subcommand")

	out, _, err = execute(t, "bench", "udp", "--circuits", "20", "--rate", "20", "--duration", "500ms")
	require.NoError(t, err)
	for _, s := range []string{"loopback UDP, real sockets", "netem, in memory", "20 connected of 20", "region packets/s", "ack latency", "p99"} {
		assert.Contains(t, out, s)
	}
	assert.NotContains(t, out, "AgentUpdates      0 decoded", "the region decoded AgentUpdates on both paths")

	_, _, err = execute(t, "bench", "udp", "--circuits", "0")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "want at least 1")
	_, _, err = execute(t, "bench", "udp", "--no-netem", "--no-sockets")
	require.Error(t, err)
}

// TestInterruptedLoadStillWritesItsReport stands in for Ctrl-C: the context ends mid-run.
func TestInterruptedLoadStillWritesItsReport(t *testing.T) {
	uri, logs := startServe(t, serveOptions{login: "127.0.0.1:0", nUsers: 100, userPattern: "Load Test{n}:password", gridName: "gridlab"})
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 800*time.Millisecond)
	defer cancel()
	var out, errOut bytes.Buffer
	err := runLoad(ctx, loadFlags{loginURI: uri, viewers: 100, rate: "40/s", stay: 0, userPattern: "Load Test{n}:password",
		profile: "sl-viewer", out: dir, bind: "127.0.0.1", grace: 10 * time.Second, name: "load"}, &out, &errOut)
	require.NoError(t, err)
	assert.Contains(t, errOut.String(), "interrupted", "the end line says the run was interrupted")
	meta, ok, err := readLoadMeta(dir)
	require.NoError(t, err)
	require.True(t, ok)
	assert.True(t, meta.Interrupted)
	assert.Less(t, meta.Started, 100, "no viewer starts after the interrupt")
	rep := readLoadReport(t, dir)
	assert.Equal(t, meta.Started, rep.Viewers.Total, "every started viewer is in the report")
	assert.Equal(t, rep.Viewers.Total, rep.Viewers.Success)
	assert.Contains(t, logs.String(), "Got a logout request", "viewers in world logged out")
}
