package reports

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// smallSamples is a 5-second time series for the small run.
func smallSamples() []Sample {
	var ss []Sample
	for i := 1; i <= 5; i++ {
		ss = append(ss, Sample{At: time.Duration(i) * time.Second, Decided: i, InWorld: min(i, 4), Failed: max(i-4, 0),
			Circuits: min(i, 4), UDPSent: uint64(200 * i), UDPDeliv: uint64(198 * i), UDPLost: uint64(i / 2),
			Drops: uint64(i/2 + i/3), Resends: uint64(i / 2)})
	}
	return ss
}

// smallTraces are the traces of viewer 2 (success) and 6 (sim-reply-blocked).
func smallTraces() []ViewerTrace {
	at := func(ms int) time.Duration { return time.Duration(ms) * time.Millisecond }
	return []ViewerTrace{
		{ViewerID: 2, Full: true, Events: []TraceEvent{
			{At: at(500), Kind: TraceMessage, From: PartyViewer, To: PartyLogin, What: "login_to_simulator (XML-RPC over HTTP)"},
			{At: at(650), Kind: TraceMessage, From: PartyLogin, To: PartyViewer, What: "login reply", Note: "200 OK"},
			{At: at(650), Kind: TraceStage, What: "Login reply"},
			{At: at(650), RecvAt: at(690), Kind: TraceMessage, From: PartyViewer, To: PartyRegion, What: "UseCircuitCode", Seq: 1, Reliable: true, Bytes: 42},
			{At: at(700), RecvAt: at(740), Kind: TraceMessage, From: PartyRegion, To: PartyViewer, What: "PacketAck", Seq: 1, Acks: 1, Bytes: 15},
			{At: at(740), Kind: TraceStage, What: "UseCircuitCode ack"},
			{At: at(740), Kind: TraceMessage, From: PartyViewer, To: PartyRegion, What: "CompleteAgentMovement", Seq: 2, Reliable: true, Bytes: 50, Dropped: true, Note: "loss at internet"},
			{At: at(1740), RecvAt: at(1780), Kind: TraceMessage, From: PartyViewer, To: PartyRegion, What: "CompleteAgentMovement", Seq: 2, Reliable: true, Resent: true, Bytes: 50},
			{At: at(1790), RecvAt: at(1830), Kind: TraceMessage, From: PartyRegion, To: PartyViewer, What: "AgentMovementComplete", Seq: 2, Reliable: true, Bytes: 60},
			{At: at(1830), Kind: TraceStage, What: "AgentMovementComplete"},
			{At: at(1830), Kind: TraceOutcome, What: "in world"},
		}},
		{ViewerID: 6, Full: false, Omitted: 3, Events: []TraceEvent{
			{At: at(2500), Kind: TraceMessage, From: PartyViewer, To: PartyLogin, What: "login_to_simulator (XML-RPC over HTTP)"},
			{At: at(2700), RecvAt: at(2740), Kind: TraceMessage, From: PartyViewer, To: PartyRegion, What: "UseCircuitCode", Seq: 1, Reliable: true, Bytes: 42},
			{At: at(2740), Kind: TraceDrop, From: PartyRegion, To: PartyViewer, What: "UDP 15 B", Dropped: true, Note: "firewall at grid (rule block-sim-out)"},
			{At: at(2740), Kind: TraceGap, What: "3 events not recorded"},
			{At: at(62500), Kind: TraceOutcome, What: "sim-reply-blocked", Note: "Failed to connect to region: timed out waiting for RegionHandshake"},
		}},
	}
}

// runFiles writes the small run's folder and returns its files by name.
func runFiles(t *testing.T, r *Run) (string, map[string][]byte) {
	t.Helper()
	dir := t.TempDir()
	_, err := WriteRunFiles(dir, r)
	require.NoError(t, err)
	files := map[string][]byte{}
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		files[e.Name()] = b
	}
	return dir, files
}

func TestRunFilesGolden(t *testing.T) {
	// Every text file of the small run's folder (report.json, the CSVs,
	// traces.json, each SVG, index.html) matches testdata/run/<name>.
	_, files := runFiles(t, smallRun())
	require.NoError(t, os.MkdirAll(filepath.Join("testdata", "run"), 0o755))
	for _, name := range sortedKeys(files) {
		if strings.HasSuffix(name, ".png") {
			continue
		}
		t.Run(name, func(t *testing.T) { golden(t, filepath.Join("run", name), files[name]) })
	}
	for _, want := range []string{ReportFile, ViewersFile, SamplesFile, TracesFile, IndexFile, StageCDFsFile, CDFFile,
		HistogramFile, ArrivalFile, ActivityFile, NetworkFile, FailureBarFile,
		"seq-success-median.svg", "seq-fail-sim-reply-blocked.svg"} {
		assert.Contains(t, files, want)
		if strings.HasSuffix(want, ".svg") {
			assert.Contains(t, files, strings.TrimSuffix(want, ".svg")+".png", "every figure also as PNG")
		}
	}
}

func TestRunFilesDeterministic(t *testing.T) {
	// Writing the same run twice gives byte-identical files, PNGs included,
	// and viewer order does not matter.
	_, a := runFiles(t, smallRun())
	rev := smallRun()
	slices.Reverse(rev.Viewers)
	_, b := runFiles(t, rev)
	require.Equal(t, sortedKeys(a), sortedKeys(b))
	for name := range a {
		assert.True(t, bytes.Equal(a[name], b[name]), "%s differs between two writes", name)
	}
}

func TestViewersCSVRoundTrip(t *testing.T) {
	// viewers.csv has a row per viewer in ID order with every stage time
	// (empty = not reached), and reads back into the same viewers, exact to
	// the nanosecond; unfinished viewers read back as "unfinished".
	r := smallRun()
	r.Viewers[0].Stages[StageLoginReply] = 123456789 * time.Nanosecond
	r.Viewers[1].Mode, r.Viewers[1].Evidence, r.Viewers[1].Fix = "region-down-fallback", "asked for A, sent to B", "bring A back"
	var b bytes.Buffer
	require.NoError(t, WriteViewersCSV(&b, r))
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	require.Len(t, lines, 1+len(r.Viewers))
	assert.Equal(t, "id,name,population,placement,profile,start_s,login_reply_s,circuit_ack_s,region_handshake_s,movement_complete_s,first_object_update_s,outcome,failure_mode,message,ended_at_s,evidence,fix", lines[0])
	assert.Equal(t, "1,Ada Lovelace,residents,lan,default,0.000,0.123456789,0.180,0.260,0.900,,success,,,0.900,,", lines[1])
	back, err := ReadViewersCSV(&b)
	require.NoError(t, err)
	want := sortedViewers(r.Viewers)
	want[6].Outcome = OutcomeUnfinished
	assert.Equal(t, want, back)
}

func TestSamplesCSVRoundTrip(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, WriteSamplesCSV(&b, smallRun()))
	back, err := ReadSamplesCSV(&b)
	require.NoError(t, err)
	assert.Equal(t, smallSamples(), back)
}

func TestSecondsFormat(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{{0, "0.000"}, {1600 * time.Microsecond, "0.0016"}, {time.Second, "1.000"}, {12*time.Second + 1, "12.000000001"}, {-time.Millisecond, "-0.001"}} {
		assert.Equal(t, tc.want, fmtSeconds(tc.d))
		back, err := parseSeconds(tc.want)
		require.NoError(t, err)
		assert.Equal(t, tc.d, back)
	}
}

func TestRenderDirReproducesTheFolder(t *testing.T) {
	// gridlab report DIR: re-rendering from report.json, viewers.csv,
	// timeseries.csv and traces.json gives the same figures and index.html.
	dir, before := runFiles(t, smallRun())
	for name := range before {
		if name != ReportFile && name != ViewersFile && name != SamplesFile && name != TracesFile {
			require.NoError(t, os.Remove(filepath.Join(dir, name)))
		}
	}
	_, err := RenderDir(dir)
	require.NoError(t, err)
	for name, want := range before {
		got, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err, name)
		assert.True(t, bytes.Equal(want, got), "%s differs after re-rendering", name)
	}
}

func TestNetworkAndCircuitGrouping(t *testing.T) {
	// net/ counters are grouped by drop reason, firewall rule, protocol
	// totals and entity; numbered families of 3+ are summed into "name-*";
	// circuit counters are collected for the viewers and per region.
	rep := Build(smallRun())
	n := rep.Network
	assert.Equal(t, map[string]uint64{"firewall": 4, "loss": 3}, n.Drops)
	assert.Equal(t, []RuleCounters{{Rule: "block-sim-out", Host: "grid", Hits: 4, Drops: 4}}, n.Rules)
	assert.Equal(t, map[string]map[string]uint64{"udp": {"sent": 1200, "delivered": 1193}}, n.Totals)
	assert.Equal(t, []EntityCounters{
		{Name: "home-router-*", Members: 3, Counters: map[string]uint64{"mappings": 5}},
		{Name: "office-router", Members: 1, Counters: map[string]uint64{"mappings": 3}},
	}, n.Entities["nat"])
	assert.Equal(t, []EntityCounters{{Name: "internet", Members: 1, Counters: map[string]uint64{"packets": 700}}}, n.Entities["segment"])
	assert.Equal(t, map[string]uint64{"packets_sent": 60, "resent": 2}, rep.Circuits.Viewers)
	assert.Equal(t, map[string]map[string]uint64{"Sandbox": {"packets_sent": 40, "resent": 5}}, rep.Circuits.Regions)
	assert.Equal(t, []TimelineEntry{{AtS: 30, What: "add rule block-sim-out on grid"}}, rep.Timeline)
}

func TestUnreachedStageIsHandled(t *testing.T) {
	// No viewer reaches first ObjectUpdate: the stage CDF says so in its
	// title, the tables show dashes, and nothing fails.
	_, files := runFiles(t, smallRun())
	assert.Contains(t, string(files[StageCDFsFile]), "not reached by any viewer: first ObjectUpdate")
	assert.Contains(t, string(files[IndexFile]), "<td>first ObjectUpdate</td><td class=\"n\">0</td><td class=\"n\">–</td>")
}

func TestSequenceDiagramContent(t *testing.T) {
	// The failed viewer's diagram shows the lifelines, the dropped packet
	// with its reason, the gap and the outcome with the user's message.
	_, files := runFiles(t, smallRun())
	s := string(files["seq-fail-sim-reply-blocked.svg"])
	for _, want := range []string{"Viewer", "Login server", "Region", "DROPPED: firewall at grid (rule block-sim-out)",
		"3 events not recorded", "sim-reply-blocked: Failed to connect to region", "+240.0ms"} {
		assert.Contains(t, s, want)
	}
	s = string(files["seq-success-median.svg"])
	for _, want := range []string{"CompleteAgentMovement #2 [reliable] — DROPPED: loss at internet", "CompleteAgentMovement #2 [reliable, RESENT]", "in world"} {
		assert.Contains(t, s, want)
	}
}

func TestIndexHTML(t *testing.T) {
	// index.html is self-contained: the summary comes first, every image is
	// an inline data URI, and it links the data files relatively.
	_, files := runFiles(t, smallRun())
	html := string(files[IndexFile])
	assert.Less(t, strings.Index(html, `id="summary"`), strings.Index(html, `id="plots"`))
	assert.Less(t, strings.Index(html, `id="plots"`), strings.Index(html, `id="diagnosis"`))
	imgs := regexp.MustCompile(`<img src="([^"]*)"`).FindAllStringSubmatch(html, -1)
	assert.Equal(t, len(runFigures)+2, len(imgs), "every figure and 2 sequence diagrams (the viewers with a trace)")
	for _, m := range imgs {
		assert.True(t, strings.HasPrefix(m[1], "data:image/svg&#43;xml;base64,"), "inline image: %.40s", m[1])
	}
	assert.NotContains(t, html, "http://")
	assert.NotContains(t, html, "https://")
	assert.Contains(t, html, `<a href="#seq-fail-sim-reply-blocked">Flo Blocked (#6)</a>`)
	assert.Contains(t, html, "sim-reply-blocked: worked example (Flo Blocked)", "the worked example of a mode with evidence is shown")
	assert.Contains(t, html, "dropped by rule &#39;block-sim-out&#39; on host grid", "with its evidence")
	assert.NotContains(t, html, "bad-credentials: worked example", "a mode without evidence gets no empty example")
	assert.Contains(t, html, "<th>virtual time · events</th>", "a simulation gives its virtual time")
	assert.Contains(t, html, "<code>0x000000deadbeef12</code>", "and its trace hash")

	// A `gridlab load` run (its load/ counters) ran on the wall clock: no trace hash to show.
	load := smallRun()
	load.Counters = append(load.Counters, CountersOf(map[string]uint64{"load/viewers_planned": 7})...)
	_, files = runFiles(t, load)
	html = string(files[IndexFile])
	assert.Contains(t, html, "<th>wall time · events</th>")
	assert.Contains(t, html, "none: real sockets")
	assert.NotContains(t, html, "virtual time · events")
}

func TestCompare(t *testing.T) {
	// compare prints outcome and percentile deltas of B against A and
	// writes a page with both runs' CDFs.
	a := smallRun()
	b := smallRun()
	for i := range b.Viewers {
		for s := range b.Viewers[i].Stages {
			if b.Viewers[i].Stages[s] >= 0 {
				b.Viewers[i].Stages[s] *= 2
			}
		}
	}
	b.Viewers[3].Outcome, b.Viewers[3].Stages[StageMovementComplete] = "agent-wait-timeout", -1
	c := &Comparison{NameA: "a", NameB: "b", A: a, B: b, RepA: Build(a), RepB: Build(b)}
	var txt bytes.Buffer
	c.WriteText(&txt)
	out := txt.String()
	assert.Regexp(t, `agent-wait-timeout\s+0\s+1\s+\+1\n`, out)
	assert.Regexp(t, `success\s+4\s+3\s+-1\n`, out)
	assert.Regexp(t, `p50\s+150\.0ms\s+300\.0ms\s+\+150\.0ms \(\+100\.0%\)`, out)
	var html bytes.Buffer
	require.NoError(t, c.WriteHTML(&html))
	assert.Equal(t, 2, strings.Count(html.String(), ";base64,"))
}

// chromium returns the path of a headless Chromium, or skips.
func chromium(t *testing.T) string {
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("no Chromium at /usr/bin/chromium (CI installs Debian's chromium)")
	return ""
}

func TestIndexHTMLInChromium(t *testing.T) {
	// The page loads from disk in headless Chromium, every image loads (the
	// page's own check sets data-broken-images="0") and nothing is logged to
	// the console.
	bin := chromium(t)
	dir, _ := runFiles(t, smallRun())
	pages := []string{filepath.Join(dir, IndexFile)}
	c := &Comparison{NameA: "a", NameB: "b", A: smallRun(), B: smallRun()}
	c.RepA, c.RepB = Build(c.A), Build(c.B)
	var cmp bytes.Buffer
	require.NoError(t, c.WriteHTML(&cmp))
	cmpPath := filepath.Join(dir, "compare.html")
	require.NoError(t, os.WriteFile(cmpPath, cmp.Bytes(), 0o644))
	pages = append(pages, cmpPath)
	for _, page := range pages {
		t.Run(filepath.Base(page), func(t *testing.T) {
			cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
				"--disable-background-networking", "--disable-component-update", "--disable-sync",
				"--user-data-dir="+t.TempDir(), "--enable-logging=stderr", "--v=0",
				"--virtual-time-budget=5000", "--dump-dom", "file://"+page)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			done := make(chan error, 1)
			require.NoError(t, cmd.Start())
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				require.NoError(t, err, "chromium: %s", stderr.String())
			case <-time.After(60 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatal("chromium did not finish within 60 s")
			}
			dom := stdout.String()
			m := regexp.MustCompile(`data-images="(\d+)"`).FindStringSubmatch(dom)
			require.NotNil(t, m, "the page's load handler ran")
			assert.NotEqual(t, "0", m[1], "the page has images")
			assert.Contains(t, dom, `data-broken-images="0"`, "every image loaded")
			for _, line := range strings.Split(stderr.String(), "\n") {
				assert.NotContains(t, line, "CONSOLE", "console output: %s", line)
				assert.NotContains(t, line, "Uncaught", "script error: %s", line)
			}
		})
	}
}
