package reports

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files")

const ms = time.Millisecond

// stages builds a Stages array; missing trailing stages are -1 (not reached).
func stages(ds ...time.Duration) [NumStages]time.Duration {
	var s [NumStages]time.Duration
	for i := range s {
		s[i] = -1
		if i < len(ds) {
			s[i] = ds[i]
		}
	}
	return s
}

// smallRun is the hand-made run behind the golden files: 6 viewers, 4 in
// world, one bad password, one blocked by a sim and one still going when
// the run ended.
func smallRun() *Run {
	return &Run{
		Scenario:    "golden-small",
		Description: "hand-made run for the golden files <&>",
		Seed:        42,
		Events:      12345,
		VirtualTime: 90*time.Second + 250*ms,
		TraceHash:   0xdeadbeef12,
		Counters: []Counter{
			{Name: "net.udp.packets_lost", Value: 3},
			{Name: "net.udp.packets_sent", Value: 1200},
			{Name: "net/drop/firewall", Value: 4},
			{Name: "net/drop/firewall/block-sim-out@grid", Value: 4},
			{Name: "net/drop/loss", Value: 3},
			{Name: "net/firewall/block-sim-out@grid/hits", Value: 4},
			{Name: "net/nat/home-router-1/mappings", Value: 2},
			{Name: "net/nat/home-router-2/mappings", Value: 2},
			{Name: "net/nat/home-router-3/mappings", Value: 1},
			{Name: "net/nat/office-router/mappings", Value: 3},
			{Name: "net/segment/internet/packets", Value: 700},
			{Name: "net/udp/delivered", Value: 1193},
			{Name: "net/udp/sent", Value: 1200},
			{Name: "region/Sandbox/circuit/packets_sent", Value: 40},
			{Name: "region/Sandbox/circuit/resent", Value: 5},
			{Name: "region/Sandbox/use_circuit_code", Value: 5},
			{Name: "viewers/circuit/packets_sent", Value: 60},
			{Name: "viewers/circuit/resent", Value: 2},
			{Name: "xmlrpc.logins", Value: 6},
		},
		Timeline: []TimelineEvent{{At: 30 * time.Second, What: "add rule block-sim-out on grid"}},
		Samples:  smallSamples(),
		Traces:   smallTraces(),
		Log:      []LogLine{{At: 2 * time.Second, Level: "WARN", Text: "sim blocked"}},
		Viewers: []Viewer{
			{ID: 1, Name: "Ada Lovelace", Population: "residents", Placement: "lan", Profile: "default",
				Start: 0, Stages: stages(120*ms, 180*ms, 260*ms, 900*ms), Outcome: "success", EndedAt: 900 * ms},
			{ID: 2, Name: "Bob Builder", Population: "residents", Placement: "lan", Profile: "default",
				Start: 500 * ms, Stages: stages(150*ms, 240*ms, 330*ms, 1200*ms), Outcome: "success", EndedAt: 1700 * ms},
			{ID: 3, Name: "Cy Cyclist", Population: "residents", Placement: "wan", Profile: "default",
				Start: time.Second, Stages: stages(310*ms, 520*ms, 640*ms, 2100*ms), Outcome: "success", EndedAt: 3100 * ms},
			{ID: 4, Name: "Di Diver", Population: "residents", Placement: "wan", Profile: "default",
				Start: 1500 * ms, Stages: stages(290*ms, 480*ms, 700*ms, 3400*ms), Outcome: "success", EndedAt: 4900 * ms},
			{ID: 5, Name: "Ed Typo", Population: "clumsy", Placement: "lan", Profile: "default",
				Start: 2 * time.Second, Stages: stages(95 * ms), Outcome: "bad-credentials",
				Message: "Could not authenticate your avatar. Please check your username and password, and check the grid if the problem persists.", EndedAt: 2095 * ms},
			{ID: 6, Name: "Flo Blocked", Population: "residents", Placement: "wan", Profile: "default",
				Start: 2500 * ms, Stages: stages(200*ms, 350*ms), Outcome: "sim-reply-blocked",
				Message: "Failed to connect to region: timed out waiting for RegionHandshake", EndedAt: 62500 * ms,
				Evidence: "UseCircuitCode sent 4 times; the region received all 4; its 4 replies were dropped by rule 'block-sim-out' on host grid.",
				Fix:      "Allow outbound UDP from host grid to viewers."},
			{ID: 7, Name: "Gus Late", Population: "residents", Placement: "wan", Profile: "default",
				Start: 90 * time.Second, Stages: stages(), EndedAt: 0},
		},
	}
}

func TestStageString(t *testing.T) {
	// Stage ids and titles are the documented ones, and out-of-range stages do not panic.
	assert.Equal(t, []string{"login_reply", "circuit_ack", "region_handshake", "movement_complete", "first_object_update"},
		[]string{StageLoginReply.String(), StageCircuitAck.String(), StageRegionHandshake.String(), StageMovementComplete.String(), StageFirstObjectUpdate.String()})
	assert.Equal(t, []string{"Login reply", "UseCircuitCode ack", "RegionHandshake", "AgentMovementComplete", "first ObjectUpdate"},
		[]string{StageLoginReply.Title(), StageCircuitAck.Title(), StageRegionHandshake.Title(), StageMovementComplete.Title(), StageFirstObjectUpdate.Title()})
	assert.Equal(t, "stage(7)", Stage(7).String())
	assert.Equal(t, "stage(-1)", Stage(-1).Title())
}

func TestStagePercentilesKnownDistribution(t *testing.T) {
	// 1000 viewers reaching AgentMovementComplete after 1, 2, ..., 1000 ms:
	// each percentile pN is N% of 1000 ms within HDR precision (3 significant
	// digits, i.e. 0.1%), min/max are exact and the mean is 500.5 ms. The
	// other stages are unreached, so they report count 0 and zeros.
	r := &Run{}
	for i := 1; i <= 1000; i++ {
		r.Viewers = append(r.Viewers, Viewer{ID: i, Outcome: OutcomeSuccess,
			Stages: stages(-1, -1, -1, time.Duration(i)*ms)})
	}
	st := Build(r).Stages[StageMovementComplete]
	for _, tc := range []struct {
		name      string
		got, want float64
	}{
		{"p50", st.P50MS, 500},
		{"p90", st.P90MS, 900},
		{"p95", st.P95MS, 950},
		{"p99", st.P99MS, 990},
		{"p999", st.P999MS, 999},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.InEpsilon(t, tc.want, tc.got, 1e-3, "%s should be %v ms within 0.1%%", tc.name, tc.want)
			assert.GreaterOrEqual(t, tc.got, tc.want, "HDR reports the bucket's highest equivalent value, never below the exact one")
		})
	}
	assert.Equal(t, 1000, st.Count)
	assert.Equal(t, 1.0, st.MinMS, "min is exact")
	assert.Equal(t, 1000.0, st.MaxMS, "max is exact")
	assert.Equal(t, 500.5, st.MeanMS, "mean is exact to the microsecond")
	for s := range StageMovementComplete {
		assert.Equal(t, StageStats{}, Build(r).Stages[s], "stage %v was never reached", s)
	}
}

func TestPercentilesNeverExceedMax(t *testing.T) {
	// With a single sample every percentile equals that sample: HDR's
	// highest-equivalent value is clamped to the exact max.
	r := &Run{Viewers: []Viewer{{Outcome: OutcomeSuccess, Stages: stages(1234567 * time.Microsecond)}}}
	st := Build(r).Stages[StageLoginReply]
	assert.Equal(t, StageStats{Count: 1, P50MS: 1234.567, P90MS: 1234.567, P95MS: 1234.567, P99MS: 1234.567,
		P999MS: 1234.567, MaxMS: 1234.567, MinMS: 1234.567, MeanMS: 1234.567}, st)
}

func TestDurationsBeyondRangeAreClamped(t *testing.T) {
	// A stage time over an hour is recorded as one hour instead of being
	// dropped, and sub-microsecond times round to the nearest microsecond.
	r := &Run{Viewers: []Viewer{
		{Stages: stages(2 * time.Hour)},
		{Stages: stages(400 * time.Nanosecond)},
	}}
	st := Build(r).Stages[StageLoginReply]
	assert.Equal(t, 2, st.Count)
	assert.Equal(t, 3600000.0, st.MaxMS)
	assert.Equal(t, 0.0, st.MinMS)
}

func TestUnreachedStagesExcluded(t *testing.T) {
	// Negative stage times mean "not reached" and are not counted: each
	// stage's count is the number of viewers that got that far, failed
	// viewers included, and unreached times do not drag the minimum to 0.
	rep := Build(smallRun())
	assert.Equal(t, [NumStages]int{6, 5, 4, 4, 0}, [NumStages]int{
		rep.Stages[StageLoginReply].Count, rep.Stages[StageCircuitAck].Count,
		rep.Stages[StageRegionHandshake].Count, rep.Stages[StageMovementComplete].Count,
		rep.Stages[StageFirstObjectUpdate].Count})
	assert.Equal(t, 95.0, rep.Stages[StageLoginReply].MinMS)
	assert.Equal(t, 180.0, rep.Stages[StageCircuitAck].MinMS)
	assert.Equal(t, 900.0, rep.Stages[StageMovementComplete].MinMS)
	assert.Equal(t, 3400.0, rep.Stages[StageMovementComplete].MaxMS)
}

func TestOutcomesCounted(t *testing.T) {
	// Outcomes are tallied per id (success included, empty = "unfinished");
	// failures are every non-success mode, most frequent first, ties by id,
	// each with the message of its lowest-ID viewer.
	v := func(id int, outcome, msg string) Viewer {
		return Viewer{ID: id, Name: "v" + string(rune('a'+id)), Outcome: outcome, Message: msg, Stages: stages()}
	}
	tests := []struct {
		name         string
		viewers      []Viewer
		wantCounts   ViewerCounts
		wantOutcomes map[string]int
		wantFailures []Failure
	}{
		{
			name:         "no viewers",
			wantOutcomes: map[string]int{},
			wantFailures: []Failure{},
		},
		{
			name:         "all success",
			viewers:      []Viewer{v(1, "success", ""), v(2, "success", "")},
			wantCounts:   ViewerCounts{Total: 2, Success: 2},
			wantOutcomes: map[string]int{"success": 2},
			wantFailures: []Failure{},
		},
		{
			name: "mixed, ordered by count then id, lowest-ID example",
			viewers: []Viewer{
				v(9, "timeout", "timed out (9)"), v(3, "bad-credentials", "bad pw (3)"), v(1, "success", ""),
				v(4, "timeout", "timed out (4)"), v(2, "zz-rare", "rare"), v(5, "bad-credentials", "bad pw (5)"),
				v(6, "", ""),
			},
			wantCounts:   ViewerCounts{Total: 7, Success: 1, Failed: 6},
			wantOutcomes: map[string]int{"success": 1, "timeout": 2, "bad-credentials": 2, "zz-rare": 1, "unfinished": 1},
			wantFailures: []Failure{
				{Mode: "bad-credentials", Count: 2, Message: "bad pw (3)", ExampleViewer: "vd", ExampleViewerID: 3},
				{Mode: "timeout", Count: 2, Message: "timed out (4)", ExampleViewer: "ve", ExampleViewerID: 4},
				{Mode: "unfinished", Count: 1, Message: "", ExampleViewer: "vg", ExampleViewerID: 6},
				{Mode: "zz-rare", Count: 1, Message: "rare", ExampleViewer: "vc", ExampleViewerID: 2},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := Build(&Run{Viewers: tc.viewers})
			assert.Equal(t, tc.wantCounts, rep.Viewers)
			assert.Equal(t, tc.wantOutcomes, rep.Outcomes)
			assert.Equal(t, tc.wantFailures, rep.Failures)
		})
	}
}

func TestCountersSummedByName(t *testing.T) {
	// Counters land in the report by name; a repeated name is summed.
	rep := Build(&Run{Counters: []Counter{{"a", 1}, {"b", 2}, {"a", 3}}})
	assert.Equal(t, map[string]uint64{"a": 4, "b": 2}, rep.Counters)
}

func reportJSON(t testing.TB, r *Run) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, Build(r).WriteJSON(&b))
	return b.Bytes()
}

func TestJSONStable(t *testing.T) {
	// Two builds of the same run give byte-identical JSON, and so does a run
	// whose viewers come in reverse order: nothing depends on map iteration
	// or viewer order. The output ends with a newline.
	a := reportJSON(t, smallRun())
	b := reportJSON(t, smallRun())
	rev := smallRun()
	slices.Reverse(rev.Viewers)
	c := reportJSON(t, rev)
	assert.Equal(t, string(a), string(b))
	assert.Equal(t, string(a), string(c))
	assert.Equal(t, byte('\n'), a[len(a)-1])
}

func TestJSONRoundTrip(t *testing.T) {
	// report.json decodes back into an equal Report (the stage table
	// included), and stages are written in stage order, not alphabetically.
	rep := Build(smallRun())
	data := reportJSON(t, smallRun())
	var back Report
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, *rep, back)
	i1 := bytes.Index(data, []byte(`"login_reply"`))
	i2 := bytes.Index(data, []byte(`"circuit_ack"`))
	i3 := bytes.Index(data, []byte(`"region_handshake"`))
	i4 := bytes.Index(data, []byte(`"movement_complete"`))
	assert.True(t, 0 < i1 && i1 < i2 && i2 < i3 && i3 < i4, "stages in pipeline order")
	assert.Error(t, json.Unmarshal([]byte(`{"bogus":{}}`), new(StageTable)), "unknown stage ids are rejected")
}

func TestEmptyRunJSON(t *testing.T) {
	// A run without viewers still has every key: empty objects/arrays, not null.
	data := reportJSON(t, &Run{Scenario: "empty"})
	assert.Contains(t, string(data), `"outcomes": {}`)
	assert.Contains(t, string(data), `"failures": []`)
	assert.Contains(t, string(data), `"counters": {}`)
	assert.Contains(t, string(data), `"timeline": []`)
	assert.Contains(t, string(data), `"expectations": []`)
	assert.NotContains(t, string(data), "null")
}

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./reports/ -update to create %s", path)
	assert.Equal(t, string(want), string(got), "%s differs; rerun with -update if the change is intended", path)
}

func TestReportGolden(t *testing.T) {
	// report.json of the small hand-made run matches testdata/report.golden.json.
	golden(t, "report.golden.json", reportJSON(t, smallRun()))
}
