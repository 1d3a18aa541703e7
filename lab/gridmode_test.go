package lab

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gridlab/lab/viewer"
	"gridlab/reports"
)

func modes(run *reports.Run) map[string]int {
	m := map[string]int{}
	for _, v := range run.Viewers {
		k := v.Outcome
		if v.Mode != "" {
			k = v.Outcome + "/" + v.Mode
		}
		m[k]++
	}
	return m
}

func logCount(run *reports.Run, text string) int {
	n := 0
	for _, l := range run.Log {
		if strings.Contains(l.Text, text) {
			n++
		}
	}
	return n
}

// TestGridLinkFailure: in grid mode the region host's firewall drops the login service's TCP
// to the region's HTTP port; every login waits for the 30 s request timeout, fails with the
// login service's message, and is diagnosed as grid-link-failure naming the rule.
func TestGridLinkFailure(t *testing.T) {
	sc := bundled(t, "grid-link-failure.yaml")
	run, err := Run(sc, Options{})
	require.NoError(t, err)
	n := len(run.Viewers)
	require.Positive(t, n)
	assert.Equal(t, map[string]int{"grid-link-failure/grid-link-failure": n}, modes(run))
	for _, v := range run.Viewers {
		assert.Equal(t, "Service request failed: The request was canceled due to the configured HttpClient.Timeout of 30 seconds elapsing.", v.Message)
		took := v.EndedAt - v.Start
		assert.InDelta(t, 30.2, took.Seconds(), 0.5, "viewer %d failed %s after starting", v.ID, took)
		assert.Contains(t, v.Evidence, "QUERYACCESS to http://198.51.100.20:9000/agent/")
		assert.Contains(t, v.Evidence, "timed out after 30 s")
		assert.Contains(t, v.Evidence, "dropped by rule 'viewers-udp-only' on host region1")
		assert.Contains(t, v.Fix, "Open TCP 9000 from the login service's host robust")
	}
	assert.Equal(t, n, logCount(run, "[LOGHTTP]: request"), "the login service logs each failed request")
	assert.Equal(t, n, logCount(run, "[LLOGIN SERVICE]: Login failed for user Load Test"), "and each failed login")
	for _, e := range run.Expectations {
		assert.True(t, e.Pass, "%s %s: observed %s", e.Name, e.Threshold, e.Observed)
	}
}

// TestRegionDownFallback: the default region's server is down; every viewer gets in, in the
// fallback region, after the login service's 30 s timeout, and is diagnosed as rerouted.
func TestRegionDownFallback(t *testing.T) {
	sc := bundled(t, "region-down-fallback.yaml")
	run, err := Run(sc, Options{})
	require.NoError(t, err)
	n := len(run.Viewers)
	require.Positive(t, n)
	assert.Equal(t, map[string]int{"success/region-down-fallback": n}, modes(run))
	for _, v := range run.Viewers {
		reply := v.Stages[viewer.StageLoginReply]
		assert.True(t, reply >= 30*time.Second && reply < 31*time.Second, "viewer %d: login reply after %s", v.ID, reply)
		assert.Contains(t, v.Evidence, "asked for region Welcome but arrived in Sandbox")
		assert.Contains(t, v.Evidence, "the host is down")
		assert.Contains(t, v.Fix, "Bring host region-a")
	}
	assert.Equal(t, n, logCount(run, "[LLOGIN SERVICE]: Using fallback region Sandbox for Load Test"))
	for _, e := range run.Expectations {
		assert.True(t, e.Pass, "%s %s: observed %s", e.Name, e.Threshold, e.Observed)
	}
}

// TestGridDiagnosisFollowsTheEvidence changes one thing in the grid-mode setups at a time: the
// outcome and diagnosis move with the evidence, and disappear when the cause is removed.
func TestGridDiagnosisFollowsTheEvidence(t *testing.T) {
	tests := []struct {
		name string
		file string
		set  map[string]string
		want string // outcome/mode
		evid string // in every viewer's evidence ("" for none)
		took [2]time.Duration
	}{
		{"firewall opened: logins succeed at once", "grid-link-failure.yaml",
			map[string]string{"hosts.region1.firewall": "[]"}, "success", "", [2]time.Duration{0, 2 * time.Second}},
		{"reject instead of drop: refused at once", "grid-link-failure.yaml",
			map[string]string{"hosts.region1.firewall": "[{name: no-tcp, dir: in, proto: tcp, ports: \"9000\", action: reject}]"},
			"grid-link-failure/grid-link-failure", "was refused (TCP RST)", [2]time.Duration{0, 2 * time.Second}},
		{"region process not running: refused, fallback at once", "region-down-fallback.yaml",
			map[string]string{"timeline": "[]", "grid.regions": "[{name: Welcome, host: region-a, flags: DefaultRegion, offline: true}, {name: Sandbox, host: region-b, flags: FallbackRegion}]"},
			"success/region-down-fallback", "was refused (TCP RST)", [2]time.Duration{0, 2 * time.Second}},
		{"default region's host up again: no fallback", "region-down-fallback.yaml",
			map[string]string{"timeline": "[]"}, "success", "", [2]time.Duration{0, 2 * time.Second}},
		{"no fallback region configured: the login fails", "region-down-fallback.yaml",
			map[string]string{"grid.regions": "[{name: Welcome, host: region-a, flags: DefaultRegion}, {name: Sandbox, host: region-b}]"},
			"grid-link-failure/grid-link-failure", "the host is down", [2]time.Duration{30 * time.Second, 31 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := bundled(t, tt.file)
			for k, v := range tt.set {
				require.NoError(t, sc.Set(k, v))
			}
			require.NoError(t, sc.Validate())
			run, err := Run(sc, Options{Viewers: 5})
			require.NoError(t, err)
			assert.Equal(t, map[string]int{tt.want: 5}, modes(run))
			for _, v := range run.Viewers {
				if tt.evid != "" {
					assert.Contains(t, v.Evidence, tt.evid)
				}
				reply := v.Stages[viewer.StageLoginReply]
				assert.True(t, reply >= tt.took[0] && reply < tt.took[1], "viewer %d: login reply after %s, want %s to %s", v.ID, reply, tt.took[0], tt.took[1])
			}
		})
	}
}

func TestGridModeIsDeterministic(t *testing.T) {
	a, err := Run(bundled(t, "region-down-fallback.yaml"), Options{})
	require.NoError(t, err)
	b, err := Run(bundled(t, "region-down-fallback.yaml"), Options{})
	require.NoError(t, err)
	assert.Equal(t, a.TraceHash, b.TraceHash)
	assert.Equal(t, reportJSON(t, a), reportJSON(t, b))
}
