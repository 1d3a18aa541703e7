package reports

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"
)

// Names of the files WriteRunFiles writes into a run's output folder.
const (
	ReportFile     = "report.json"
	ViewersFile    = "viewers.csv"
	SamplesFile    = "timeseries.csv"
	TracesFile     = "traces.json"
	IndexFile      = "index.html"
	CDFFile        = "cdf-login-to-world.svg"
	StageCDFsFile  = "stages-cdf.svg"
	HistogramFile  = "login-histogram.svg"
	ArrivalFile    = "arrival-percentiles.svg"
	ActivityFile   = "activity.svg"
	NetworkFile    = "network.svg"
	FailureBarFile = "failure-modes.svg"
)

// rendered is one figure of a run, drawn in both formats.
type rendered struct {
	Base    string // file name without extension
	Title   string
	Caption string
	SVG     []byte
	PNG     []byte
}

// figureSpec names a figure of the run report.
type figureSpec struct {
	file, title, caption string
	make                 func(*Run) (Figure, error)
}

func plotSpec(f func(*Run) (*plot.Plot, error)) func(*Run) (Figure, error) {
	return func(r *Run) (Figure, error) {
		p, err := f(r)
		if err != nil {
			return nil, err
		}
		return onePlot(p), nil
	}
}

// runFigures are the run's plots in the order index.html shows them.
var runFigures = []figureSpec{
	{StageCDFsFile, "Time to each login stage", "CDF of the time from each viewer's intended login start to each stage, over the viewers that reached it (log time axis).", plotSpec(StageCDFPlot)},
	{CDFFile, "Login to in world", "CDF of login-to-AgentMovementComplete time of the successful viewers, p50 and p99 marked.", plotSpec(CDFPlot)},
	{HistogramFile, "Login to in world, histogram", "The same times in logarithmic bins: separate humps are separate populations or resends.", plotSpec(LoginHistogramPlot)},
	{ArrivalFile, "p50 / p99 by arrival time", "Did viewers arriving later (under more load, or during a fault) take longer?", plotSpec(ArrivalPercentilesPlot)},
	{ActivityFile, "Logins and circuits over time", "Logins decided per virtual second, and circuits open at the regions.", ActivityFigure},
	{NetworkFile, "Network over time", "UDP datagrams per second, and packets lost, dropped and resent per second.", NetworkFigure},
	{FailureBarFile, "Failure modes", "Failed viewers by diagnosed failure mode.", plotSpec(FailureBarsPlot)},
}

// renderFigure draws f as SVG and PNG.
func renderFigure(f Figure, base, title, caption string) (rendered, error) {
	svg, err := encodeFigure(f, "svg")
	if err != nil {
		return rendered{}, fmt.Errorf("reports: %s: %w", base, err)
	}
	png, err := encodeFigure(f, "png")
	if err != nil {
		return rendered{}, fmt.Errorf("reports: %s: %w", base, err)
	}
	return rendered{Base: base, Title: title, Caption: caption, SVG: svg, PNG: png}, nil
}

// diagram is a sequence diagram chosen for the report.
type diagram struct {
	Base, Title, Why string
	Viewer           Viewer
	Trace            ViewerTrace
	Mode             string // failure mode, "" for a successful viewer
}

// safeName turns a failure mode into a file-name part.
func safeName(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
			b.WriteRune(c)
		case c >= 'A' && c <= 'Z':
			b.WriteRune(c - 'A' + 'a')
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}

// chooseDiagrams picks the viewers to draw: the successful viewer at the
// median login-to-world time, the slowest successful one, and for each
// failure mode its lowest-ID viewer with a trace. Viewers without a trace are
// skipped.
func chooseDiagrams(r *Run, rep *Report) []diagram {
	traces := map[int]ViewerTrace{}
	for _, t := range r.Traces {
		traces[t.ViewerID] = t
	}
	vs := sortedViewers(r.Viewers)
	var out []diagram
	var ok []Viewer
	for _, v := range vs {
		if _, has := traces[v.ID]; has && v.Outcome == OutcomeSuccess && v.Stages[StageMovementComplete] >= 0 {
			ok = append(ok, v)
		}
	}
	slices.SortStableFunc(ok, func(a, b Viewer) int {
		return int(a.Stages[StageMovementComplete] - b.Stages[StageMovementComplete])
	})
	if len(ok) > 0 {
		med := ok[(len(ok)-1)/2]
		out = append(out, diagram{Base: "seq-success-median", Title: "A typical successful login", Viewer: med, Trace: traces[med.ID],
			Why: fmt.Sprintf("the successful viewer at the median login-to-world time (%s)", fmtDuration(med.Stages[StageMovementComplete]))})
		if slow := ok[len(ok)-1]; slow.ID != med.ID {
			out = append(out, diagram{Base: "seq-success-slowest", Title: "The slowest successful login", Viewer: slow, Trace: traces[slow.ID],
				Why: fmt.Sprintf("the successful viewer that took longest to get in world (%s)", fmtDuration(slow.Stages[StageMovementComplete]))})
		}
	}
	for _, f := range rep.Failures {
		pick := -1
		for i, v := range vs {
			if _, has := traces[v.ID]; has && outcomeOf(&v) == f.Mode {
				pick = i
				break
			}
		}
		if pick < 0 {
			continue
		}
		v := vs[pick]
		out = append(out, diagram{Base: "seq-fail-" + safeName(f.Mode), Title: "Failure: " + f.Mode, Viewer: v, Trace: traces[v.ID], Mode: f.Mode,
			Why: fmt.Sprintf("the lowest-ID viewer of the %d that failed with %s", f.Count, f.Mode)})
	}
	return out
}

// renderAll draws every figure and diagram of r.
func renderAll(r *Run, rep *Report) ([]rendered, []rendered, []diagram, error) {
	var figs []rendered
	for _, fs := range runFigures {
		f, err := fs.make(r)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("reports: %s: %w", fs.file, err)
		}
		rf, err := renderFigure(f, strings.TrimSuffix(fs.file, ".svg"), fs.title, fs.caption)
		if err != nil {
			return nil, nil, nil, err
		}
		figs = append(figs, rf)
	}
	ds := chooseDiagrams(r, rep)
	var seqs []rendered
	for _, d := range ds {
		sd := NewSequenceDiagram(fmt.Sprintf("%s — %s", d.Title, d.Viewer.Name), d.Viewer, d.Trace)
		rf, err := renderFigure(sd, d.Base, d.Title, d.Why)
		if err != nil {
			return nil, nil, nil, err
		}
		seqs = append(seqs, rf)
	}
	return figs, seqs, ds, nil
}

func writeFile(dir, name string, data []byte) error {
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	return nil
}

// tracesDoc is the content of traces.json.
type tracesDoc struct {
	SchemaVersion int           `json:"schema_version"`
	Traces        []ViewerTrace `json:"traces"`
}

func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// WriteRunFiles creates dir (like mkdir -p) and writes the run's report
// into it: report.json, viewers.csv, timeseries.csv, traces.json (the traces
// of the viewers drawn as sequence diagrams), every figure as SVG and PNG,
// and index.html. It returns the report.
func WriteRunFiles(dir string, r *Run) (*Report, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	rep := Build(r)
	data, err := encodeJSON(rep)
	if err != nil {
		return nil, fmt.Errorf("reports: encode %s: %w", ReportFile, err)
	}
	if err := writeFile(dir, ReportFile, data); err != nil {
		return nil, err
	}
	var csvb bytes.Buffer
	if err := WriteViewersCSV(&csvb, r); err != nil {
		return nil, fmt.Errorf("reports: %s: %w", ViewersFile, err)
	}
	if err := writeFile(dir, ViewersFile, csvb.Bytes()); err != nil {
		return nil, err
	}
	csvb.Reset()
	if err := WriteSamplesCSV(&csvb, r); err != nil {
		return nil, fmt.Errorf("reports: %s: %w", SamplesFile, err)
	}
	if err := writeFile(dir, SamplesFile, csvb.Bytes()); err != nil {
		return nil, err
	}
	if err := renderDir(dir, r, rep, true); err != nil {
		return nil, err
	}
	return rep, nil
}

// renderDir writes the figures and index.html (and traces.json when
// withTraces) of r into dir.
func renderDir(dir string, r *Run, rep *Report, withTraces bool) error {
	figs, seqs, ds, err := renderAll(r, rep)
	if err != nil {
		return err
	}
	if withTraces {
		doc := tracesDoc{SchemaVersion: SchemaVersion, Traces: []ViewerTrace{}}
		for _, d := range ds {
			doc.Traces = append(doc.Traces, d.Trace)
		}
		slices.SortFunc(doc.Traces, func(a, b ViewerTrace) int { return a.ViewerID - b.ViewerID })
		doc.Traces = slices.CompactFunc(doc.Traces, func(a, b ViewerTrace) bool { return a.ViewerID == b.ViewerID })
		data, err := encodeJSON(doc)
		if err != nil {
			return fmt.Errorf("reports: encode %s: %w", TracesFile, err)
		}
		if err := writeFile(dir, TracesFile, data); err != nil {
			return err
		}
	}
	for _, f := range slices.Concat(figs, seqs) {
		if err := writeFile(dir, f.Base+".svg", f.SVG); err != nil {
			return err
		}
		if err := writeFile(dir, f.Base+".png", f.PNG); err != nil {
			return err
		}
	}
	var html bytes.Buffer
	if err := writeIndexHTML(&html, r, rep, figs, seqs, ds); err != nil {
		return fmt.Errorf("reports: %s: %w", IndexFile, err)
	}
	return writeFile(dir, IndexFile, html.Bytes())
}

// LoadRun reads a run folder written by WriteRunFiles back into a Run:
// report.json and viewers.csv are required, timeseries.csv and traces.json
// are used when present. Grid log lines are not part of a run folder.
func LoadRun(dir string) (*Run, *Report, error) {
	data, err := os.ReadFile(filepath.Join(dir, ReportFile))
	if err != nil {
		return nil, nil, err
	}
	var rep Report
	if err := json.Unmarshal(data, &rep); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", filepath.Join(dir, ReportFile), err)
	}
	f, err := os.Open(filepath.Join(dir, ViewersFile))
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	vs, err := ReadViewersCSV(f)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", dir, err)
	}
	hash, _ := strconv.ParseUint(strings.TrimPrefix(rep.TraceHash, "0x"), 16, 64)
	r := &Run{
		Scenario: rep.Scenario, Description: rep.Description, Seed: rep.Seed,
		Viewers: vs, Events: rep.Events, TraceHash: hash,
		VirtualTime:  time.Duration(math.Round(rep.VirtualTimeS * 1e9)),
		Expectations: rep.Expectations,
	}
	for _, e := range rep.Timeline {
		r.Timeline = append(r.Timeline, TimelineEvent{At: time.Duration(math.Round(e.AtS * 1e9)), What: e.What})
	}
	names := make([]string, 0, len(rep.Counters))
	for n := range rep.Counters {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		r.Counters = append(r.Counters, Counter{Name: n, Value: rep.Counters[n]})
	}
	if sf, err := os.Open(filepath.Join(dir, SamplesFile)); err == nil {
		defer sf.Close()
		if r.Samples, err = ReadSamplesCSV(sf); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", dir, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, err
	}
	if tb, err := os.ReadFile(filepath.Join(dir, TracesFile)); err == nil {
		var doc tracesDoc
		if err := json.Unmarshal(tb, &doc); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", filepath.Join(dir, TracesFile), err)
		}
		r.Traces = doc.Traces
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, err
	}
	return r, &rep, nil
}

// RenderDir re-renders the figures and index.html of a run folder from its
// report.json, viewers.csv, timeseries.csv and traces.json. The data files
// are not rewritten.
func RenderDir(dir string) (*Report, error) {
	r, _, err := LoadRun(dir)
	if err != nil {
		return nil, err
	}
	rep := Build(r)
	return rep, renderDir(dir, r, rep, false)
}
