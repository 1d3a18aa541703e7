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
		{At: 80 * time.Second, What: "flush NAT of office-router (8 mappings)"},
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
