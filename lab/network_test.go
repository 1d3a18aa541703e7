package lab

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gridlab/reports"
	"gridlab/scenarios"
)

// A fault timeline runs at its virtual times and is reported as executed; a capture of the run
// is written with its drop list. The timeline takes the grid host down for the first 70 s
// (every viewer's login connect gets no answer) and then brings it back.
func TestTimelineAndCapture(t *testing.T) {
	data, err := fs.ReadFile(scenarios.Files, "standalone-basic.yaml")
	require.NoError(t, err)
	text := string(data) + `
timeline:
  - {at: 0s, host_down: grid}
  - at: 10s
    link: {network: internet, set: {loss: 2%}}
  - {at: 70s, host_up: grid}
  - {at: 80s, flush_nat: office}
`
	sc, err := scenarios.Parse("timeline.yaml", []byte(text))
	require.NoError(t, err)
	sc.Duration = 5 * time.Minute
	pcap := filepath.Join(t.TempDir(), "run.pcap")
	run, err := Run(sc, Options{Viewers: 10, Pcap: pcap})
	require.NoError(t, err)
	assert.Equal(t, []reports.TimelineEvent{
		{At: 0, What: "host grid down"},
		{At: 10 * time.Second, What: "set internet link: latency 40ms, jitter 5ms uniform, loss 2%"},
		{At: 70 * time.Second, What: "host grid up"},
		{At: 80 * time.Second, What: "flush NAT of office-router (11 mappings)"},
	}, run.Timeline)
	var hostDown uint64
	for _, c := range run.Counters {
		if c.Name == "net/drop/host-down" {
			hostDown = c.Value
		}
	}
	assert.Greater(t, hostDown, uint64(0), "packets to the downed host are counted")
	for _, v := range run.Viewers {
		if v.Outcome == "success" {
			assert.Greater(t, v.EndedAt, 70*time.Second, "nobody gets in while the grid is down")
		}
	}
	st, err := os.Stat(pcap)
	require.NoError(t, err)
	assert.Greater(t, st.Size(), int64(24), "the capture has records")
	drops, err := os.ReadFile(pcap + ".drops.txt")
	require.NoError(t, err)
	assert.Contains(t, string(drops), "dropped at grid: host-down")

	again, err := Run(sc, Options{Viewers: 10})
	require.NoError(t, err)
	assert.Equal(t, run.TraceHash, again.TraceHash, "capturing does not change the run")
	assert.True(t, strings.HasPrefix(run.Timeline[1].What, "set internet"))
}

// dualHomed is standalone-basic with the grid on a routed DMZ as well as on the office LAN:
// home viewers log in by name at the DMZ address, which the resolver, placed on the DMZ, knows.
func dualHomed(t *testing.T, routes string) *scenarios.Scenario {
	data, err := fs.ReadFile(scenarios.Files, "standalone-basic.yaml")
	require.NoError(t, err)
	text := string(data)
	for _, r := range []struct{ old, new string }{
		{"\nhosts:\n  - name: grid\n    network: office\n    address: 10.0.0.10\n", `
  - name: dmz
    cidr: 172.16.0.0/24
    router: {public: 203.0.113.20, nat: false}
hosts:
  - name: grid
    interfaces:
      - {network: office, address: 10.0.0.10}
      - {network: dmz, address: 172.16.0.10}
` + routes + `
dns:
  resolver: {network: dmz, address: 172.16.0.53}
  records: [{name: grid.example.org, address: 172.16.0.10}]
`},
		{"ExternalHostName = 203.0.113.7", "ExternalHostName = 172.16.0.10"},
		{"  - name: lan\n    count: 500\n", "  - name: lan\n    count: 0\n"}, // only home viewers
		{"    home_lan: {latency: 2ms, jitter: 1ms}\n    arrival: {window: 60s}\n    login_uri: http://203.0.113.7:9000/",
			"    home_lan: {latency: 2ms, jitter: 1ms}\n    arrival: {window: 60s}\n    login_uri: http://grid.example.org:9000/"},
	} {
		require.Equal(t, 1, strings.Count(text, r.old), "standalone-basic must contain %q once", r.old)
		text = strings.Replace(text, r.old, r.new, 1)
	}
	sc, err := scenarios.Parse("dual-homed.yaml", []byte(text))
	require.NoError(t, err)
	sc.Duration = 3 * time.Minute
	return sc
}

// A dual-homed grid works when its route table sends the internet out through the DMZ, and
// fails the way asymmetric routing does when it does not: answers to logins that came in on the
// DMZ leave through the office NAT with the wrong source address.
func TestDualHomedGridRoutes(t *testing.T) {
	for _, tc := range []struct {
		what    string
		routes  string
		success bool
	}{
		{"default route through the DMZ: logins succeed", "    routes: [{to: 0.0.0.0/0, network: dmz}, {to: 10.0.0.0/16, network: office}]\n", true},
		{"no route: replies leave by the office NAT and logins fail", "", false},
	} {
		t.Run(tc.what, func(t *testing.T) {
			run, err := Run(dualHomed(t, tc.routes), Options{Viewers: 6})
			require.NoError(t, err)
			got := outcomes(run)
			t.Logf("outcomes: %v", got)
			require.NotEmpty(t, got)
			assert.NotContains(t, got, "login-host-unknown", "the name resolves through the resolver on the DMZ")
			if tc.success {
				assert.Equal(t, map[string]int{"success": len(run.Viewers)}, got)
			} else {
				assert.Zero(t, got["success"], "no viewer logs in: %v", got)
			}
			var answered uint64
			for _, c := range run.Counters {
				if c.Name == "net/udp/delivered" {
					answered = c.Value
				}
			}
			assert.Greater(t, answered, uint64(0))
		})
	}
}
