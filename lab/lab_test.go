package lab

import (
	"bytes"
	"fmt"
	"io/fs"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gridlab/lab/viewer"
	"gridlab/reports"
	"gridlab/scenarios"
	"gridlab/sim"
)

func bundled(t *testing.T, file string) *scenarios.Scenario {
	t.Helper()
	data, err := fs.ReadFile(scenarios.Files, file)
	require.NoError(t, err)
	sc, err := scenarios.Parse(file, data)
	require.NoError(t, err)
	return sc
}

func reportJSON(t *testing.T, run *reports.Run) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, reports.Build(run).WriteJSON(&buf))
	return buf.Bytes()
}

func outcomes(run *reports.Run) map[string]int {
	m := map[string]int{}
	for _, v := range run.Viewers {
		m[v.Outcome]++
	}
	return m
}

func TestDefaultScenarioIsDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the 1,000-viewer default scenario four times")
	}
	sc := bundled(t, scenarios.Default)
	first, err := Run(sc, Options{})
	require.NoError(t, err)
	again, err := Run(sc, Options{})
	require.NoError(t, err)
	assert.Equal(t, first.TraceHash, again.TraceHash, "same scenario and seed: same trace hash")
	assert.Equal(t, string(reportJSON(t, first)), string(reportJSON(t, again)), "same scenario and seed: byte-identical report.json")

	prev := runtime.GOMAXPROCS(1)
	single, err := Run(sc, Options{})
	runtime.GOMAXPROCS(prev)
	require.NoError(t, err)
	assert.Equal(t, string(reportJSON(t, first)), string(reportJSON(t, single)), "GOMAXPROCS=1 gives the same bytes")

	seed := sc.Seed + 1
	other, err := Run(sc, Options{Seed: &seed})
	require.NoError(t, err)
	assert.NotEqual(t, first.TraceHash, other.TraceHash, "another seed gives another trace hash")
}

// The kernel's read-ahead (sim.Warmer: viewers, regions, the observer and netem read ahead
// what their next events will touch) must change nothing a run does: with it off, scenarios
// that exercise NAT, firewalls, loss, restarts and the grid give byte-identical reports.
func TestReadAheadChangesNothing(t *testing.T) {
	files := []string{"lossy-mobile.yaml", "region-down-fallback.yaml", "sim-reply-blocked.yaml", "nat-loopback-unsupported.yaml", "login-storm-after-restart.yaml"}
	if !testing.Short() {
		files = append(files, scenarios.Default)
	}
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			sc := bundled(t, file)
			on, err := Run(sc, Options{Viewers: min(len(sc.Viewers)*200, 400)})
			require.NoError(t, err)
			off, err := Run(sc, Options{Viewers: min(len(sc.Viewers)*200, 400), NoReadAhead: true})
			require.NoError(t, err)
			assert.Equal(t, on.TraceHash, off.TraceHash, "the same trace hash without read-ahead")
			assert.Equal(t, string(reportJSON(t, on)), string(reportJSON(t, off)), "the same report without read-ahead")
		})
	}
}

func TestEveryViewerOfTheDefaultScenarioLogsIn(t *testing.T) {
	sc := bundled(t, scenarios.Default)
	run, err := Run(sc, Options{})
	require.NoError(t, err)
	require.Len(t, run.Viewers, 1000)
	assert.Equal(t, map[string]int{"success": 1000}, outcomes(run))
	for _, v := range run.Viewers {
		for s, d := range v.Stages {
			require.GreaterOrEqual(t, d, time.Duration(0), "viewer %d reached stage %d (the first ObjectUpdate too: it asked for its seed capability)", v.ID, s)
		}
		require.Less(t, v.Stages[reports.StageMovementComplete], 30*time.Second, "nobody needs more than a few resends")
	}
}

func TestWrongPasswordsFailAsBadCredentialsWithOpenSimsMessage(t *testing.T) {
	sc := bundled(t, scenarios.Default)
	require.NoError(t, sc.Set("viewers.lan.valid_credentials", "0.9"))
	require.NoError(t, sc.Set("viewers.home.valid_credentials", "0.9"))
	run, err := Run(sc, Options{})
	require.NoError(t, err)
	got := outcomes(run)
	assert.InDelta(t, 100, got["bad-credentials"], 35, "about 10 %% of 1,000 viewers have the wrong password")
	assert.Equal(t, 1000, got["bad-credentials"]+got["success"], "nobody fails for another reason")
	for _, v := range run.Viewers {
		if v.Outcome == "bad-credentials" {
			assert.Equal(t, "Could not authenticate your avatar. Please check your username and password, and check the grid if problems persist.", v.Message)
			assert.GreaterOrEqual(t, v.Stages[reports.StageLoginReply], time.Duration(0), "the login reply arrived")
			assert.Less(t, v.Stages[reports.StageCircuitAck], time.Duration(0), "no circuit was opened")
		}
	}
}

func TestBlockedRegionRepliesFailEveryViewerAtTwentySeconds(t *testing.T) {
	sc := bundled(t, "sim-reply-blocked.yaml")
	run, err := Run(sc, Options{})
	require.NoError(t, err)
	n := len(run.Viewers)
	require.Positive(t, n)
	assert.Equal(t, map[string]int{"sim-reply-blocked": n}, outcomes(run))
	for _, v := range run.Viewers {
		assert.Equal(t, viewer.MsgTroubleConnecting, v.Message)
		failedAfter := v.EndedAt - v.Start
		assert.InDelta(t, 20.0, failedAfter.Seconds(), 1.0, "viewer %d gave up %s after starting", v.ID, failedAfter)
	}
	repeated := 0
	for _, l := range run.Log {
		if strings.Contains(l.Text, "[LLUDPSERVER]: Ignoring a repeated UseCircuitCode from ") {
			repeated++
		}
	}
	assert.Equal(t, 3*n, repeated, "the region logs each of the 3 resends of every viewer")
}

// TestDiagnosisFollowsTheEvidence changes one thing in the sim-reply-blocked setup at a time and
// expects the diagnosis to move with it: the same symptom for the user, a different cause.
func TestDiagnosisFollowsTheEvidence(t *testing.T) {
	wrongHost := "[My Region]\nRegionUUID = 4a3c1f2e-9b7d-4e5a-8c61-0d2f3b4a5c6d\nLocation = 1000,1000\nInternalPort = 9000\nExternalHostName = 203.0.113.99\n"
	tests := []struct {
		name string
		set  map[string]string
		want string
	}{
		{"outbound UDP dropped on the region host", nil, "sim-reply-blocked"},
		{"inbound UDP dropped instead", map[string]string{"hosts.grid.firewall": "[{name: block-udp-in, dir: in, proto: udp, action: drop}]"}, "region-udp-blocked"},
		{"no firewall but ExternalHostName names no machine", map[string]string{"hosts.grid.firewall": "[]", "grid.regions_ini": wrongHost}, "region-host-wrong"},
		{"no firewall", map[string]string{"hosts.grid.firewall": "[]"}, "success"},
		{"login URI names a host with no DNS record", map[string]string{"hosts.grid.firewall": "[]", "viewers.home.login_uri": "http://grid.exmaple.org:9000/"}, "login-host-unknown"},
		{"login URI names a host DNS knows", map[string]string{"hosts.grid.firewall": "[]", "dns.records": "[{name: grid.example.org, address: 203.0.113.7}]", "viewers.home.login_uri": "http://grid.example.org:9000/"}, "success"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := bundled(t, "sim-reply-blocked.yaml")
			for k, v := range tt.set {
				require.NoError(t, sc.Set(k, v))
			}
			require.NoError(t, sc.Validate())
			run, err := Run(sc, Options{Viewers: 5})
			require.NoError(t, err)
			assert.Equal(t, map[string]int{tt.want: 5}, outcomes(run))
		})
	}
}

func TestEveryProfileTheScenarioLanguageAcceptsExists(t *testing.T) {
	for _, name := range scenarios.Profiles {
		_, err := viewer.ProfileByName(name)
		assert.NoError(t, err, "scenarios accepts profile %q, so lab/viewer must have it", name)
	}
}

func TestGridLogKeepsItsFirstLinesInOrderAndCountsTheRest(t *testing.T) {
	// The grid log keeps the first maxLogLines lines, in order, with their times; it never
	// reserves room for more than that, skips DEBUG lines, and ends with one line counting those
	// not kept.
	l := &gridLog{s: sim.New(1)}
	for k := range maxLogLines + 5 {
		l.Logf("DEBUG", "debug %d", k)
		l.Logf("INFO", "line %d", k)
	}
	require.Len(t, l.lines, maxLogLines)
	assert.Equal(t, maxLogLines, cap(l.lines), "no room reserved beyond the cap")
	for k, line := range l.lines {
		if line.Text != fmt.Sprintf("line %d", k) || line.Level != "INFO" {
			require.Failf(t, "lines out of order", "line %d is %q %q", k, line.Level, line.Text)
		}
	}
	all := l.all()
	require.Len(t, all, maxLogLines+1)
	assert.Equal(t, "[GRIDLAB]: 5 more log lines were not kept (the first 100000 are above)", all[maxLogLines].Text)
}
