package lab

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gridlab/reports"
)

func TestSamplesEveryVirtualSecond(t *testing.T) {
	// The run carries one sample per virtual second plus one at the end;
	// cumulative counts never go down and end at the run's totals.
	sc := bundled(t, "sim-reply-blocked.yaml")
	require.NoError(t, sc.Set("viewers.home.count", "10"))
	run, err := Run(sc, Options{})
	require.NoError(t, err)
	require.NotEmpty(t, run.Samples)
	for i, s := range run.Samples[:len(run.Samples)-1] {
		assert.Equal(t, time.Duration(i+1)*time.Second, s.At)
	}
	last := run.Samples[len(run.Samples)-1]
	assert.Equal(t, run.VirtualTime, last.At)
	assert.Equal(t, 10, last.Failed)
	assert.Positive(t, last.UDPSent)
	assert.Positive(t, last.Drops, "the region's replies were dropped by the firewall")
	for i := 1; i < len(run.Samples); i++ {
		a, b := run.Samples[i-1], run.Samples[i]
		assert.True(t, b.UDPSent >= a.UDPSent && b.Drops >= a.Drops && b.Resends >= a.Resends && b.Decided >= a.Decided)
	}
}

func TestTracesTellAFailuresStory(t *testing.T) {
	// Every viewer has a trace; a viewer whose region replies are firewalled
	// shows its UseCircuitCode arriving at the region, the region's answers
	// dropped by the rule, its resends, and the diagnosed outcome.
	sc := bundled(t, "sim-reply-blocked.yaml")
	require.NoError(t, sc.Set("viewers.home.count", "3"))
	run, err := Run(sc, Options{})
	require.NoError(t, err)
	require.Len(t, run.Traces, len(run.Viewers))
	tr := run.Traces[0]
	assert.Equal(t, run.Viewers[0].ID, tr.ViewerID)
	var received, dropped, resent bool
	var outcome reports.TraceEvent
	for _, e := range tr.Events {
		switch {
		case e.What == "UseCircuitCode" && e.RecvAt > 0:
			received = true
			resent = resent || e.Resent
		case e.Dropped && e.From == reports.PartyRegion && strings.Contains(e.Note, "firewall"):
			dropped = true
		case e.Kind == reports.TraceOutcome:
			outcome = e
		}
	}
	assert.True(t, received, "the region got UseCircuitCode")
	assert.True(t, resent, "the viewer resent it")
	assert.True(t, dropped, "the region's answers were dropped by the firewall")
	assert.Equal(t, "sim-reply-blocked", outcome.What)
	assert.Equal(t, run.Viewers[0].Message, outcome.Note)
}

func TestRunFolderIsByteIdenticalAcrossRuns(t *testing.T) {
	// Same scenario and seed: every file of the run folder (report.json,
	// CSVs, traces, SVGs, PNGs, index.html) is byte-identical.
	sc := bundled(t, "standalone-basic.yaml")
	files := func() map[string][]byte {
		run, err := Run(sc, Options{Viewers: 60})
		require.NoError(t, err)
		dir := t.TempDir()
		_, err = reports.WriteRunFiles(dir, run)
		require.NoError(t, err)
		out := map[string][]byte{}
		ents, err := os.ReadDir(dir)
		require.NoError(t, err)
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			require.NoError(t, err)
			out[e.Name()] = b
		}
		return out
	}
	a, b := files(), files()
	require.Equal(t, len(a), len(b))
	assert.Contains(t, a, "index.html")
	assert.Contains(t, a, "seq-success-median.svg")
	for name := range a {
		assert.True(t, bytes.Equal(a[name], b[name]), "%s differs between two runs", name)
	}
}
