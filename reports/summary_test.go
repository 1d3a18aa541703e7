package reports

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestSummary(t *testing.T) {
	// The summary of the small run shows the login tally, each failure mode
	// with count, id and quoted message (aligned, cut at 100 runes), a stage table with
	// right-aligned p50/p90/p99/max, and the events/virtual time/trace line.
	var b strings.Builder
	WriteSummary(&b, Build(smallRun()))
	got := b.String()
	t.Log("\n" + got)
	for _, want := range []string{
		"scenario golden-small (seed 42)\n",
		"viewers logged in  4/7 (57.1%)\n",
		"failures           3\n",
		"  1  bad-credentials    \"Could not authenticate your avatar. Please check your username and password, and check the grid if…\"\n",
		"  1  sim-reply-blocked  \"Failed to connect to region: timed out waiting for RegionHandshake\"\n",
		"  1  unfinished\n",
		"stage                       n      p50      p90      p99      max\n",
		"Login reply                 6  150.0ms  290.0ms  310.0ms  310.0ms\n",
		"AgentMovementComplete       4   1.200s   3.400s   3.400s   3.400s\n",
		"events 12345, virtual time 1m30.25s, trace 0x000000deadbeef12\n",
		// The worked example of a mode with evidence, wrapped at 100 columns.
		"\nsim-reply-blocked, e.g. Flo Blocked (#6):\n  why: UseCircuitCode sent 4 times; the region received all 4; its 4 replies were dropped by rule\n       'block-sim-out' on host grid.\n",
		"  fix: Allow outbound UDP from host grid to viewers.\n",
	} {
		assert.Contains(t, got, want)
	}
	assert.NotContains(t, got, "bad-credentials, e.g.", "no example block for a mode without evidence")
}

func TestSummaryOfALoadRun(t *testing.T) {
	// A `gridlab load` run (its load/ counters) ran on real sockets and the wall clock: the
	// last line gives the wall time and says there is no trace hash, instead of a zero hash
	// and "virtual time".
	run := &Run{Scenario: "load", Events: 8108, VirtualTime: 8984 * time.Millisecond,
		Counters: CountersOf(map[string]uint64{"load/viewers_planned": 200})}
	var b strings.Builder
	WriteSummary(&b, Build(run))
	got := b.String()
	assert.Contains(t, got, "events 8108, wall time 8.984s (real sockets: no trace hash)\n")
	assert.NotContains(t, got, "virtual time")
	assert.NotContains(t, got, "trace 0x")
}

func TestSummaryNoViewers(t *testing.T) {
	// An empty run prints 0/0, no failure block and dashes for the stages.
	var b strings.Builder
	WriteSummary(&b, Build(&Run{Scenario: "empty"}))
	got := b.String()
	assert.Contains(t, got, "viewers logged in  0/0 (0.0%)\n")
	assert.NotContains(t, got, "failures")
	assert.Contains(t, got, "Login reply")
	assert.Regexp(t, `RegionHandshake\s+0\s+-\s+-\s+-\s+-\n`, got)
}

func TestFmtDuration(t *testing.T) {
	// Latencies print with a unit chosen by magnitude.
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{850 * time.Microsecond, "850µs"},
		{4250 * time.Microsecond, "4.25ms"},
		{12300 * time.Microsecond, "12.3ms"},
		{1234 * time.Millisecond, "1.234s"},
		{83500 * time.Millisecond, "1m23.5s"},
	} {
		assert.Equal(t, tc.want, fmtDuration(tc.d))
	}
}
