package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// SchemaVersion is the version of the report.json layout written by this package.
const SchemaVersion = 2

// Histogram range and precision of the per-stage HDR histograms: microsecond
// units from 1 µs to 1 h with 3 significant digits. Longer times are recorded
// as 1 h.
const (
	histLowestUS  = 1
	histHighestUS = int64(time.Hour / time.Microsecond)
	histSigFigs   = 3
)

// Report is the content of report.json. Field order is the key order of the
// document; the maps are written with sorted keys by encoding/json.
type Report struct {
	SchemaVersion int    `json:"schema_version"`
	Scenario      string `json:"scenario"`
	Description   string `json:"description"`
	Seed          uint64 `json:"seed"`
	// TraceHash is the run's trace hash as "0x%016x".
	TraceHash string `json:"trace_hash"`
	Events    uint64 `json:"events"`
	// VirtualTimeS is the virtual time the run covered, in seconds (µs precision).
	VirtualTimeS float64      `json:"virtual_time_s"`
	Viewers      ViewerCounts `json:"viewers"`
	// Outcomes counts viewers per outcome id, "success" included.
	Outcomes map[string]int `json:"outcomes"`
	// Stages holds the latency statistics per login stage, in stage order.
	Stages StageTable `json:"stages"`
	// Failures lists the failure modes, most frequent first (ties by mode id).
	Failures []Failure `json:"failures"`
	// Notes lists the modes successful viewers went through (region-down-fallback,
	// relogin-during-logout), in the same form.
	Notes []Failure `json:"notes"`
	// Findings are diagnoses of the grid as a whole (malformed-udp, ...), by mode id.
	Findings []FindingEntry `json:"findings"`
	// Network groups the netem counters ("net/...") by protocol, drop
	// reason, firewall rule and network entity.
	Network NetworkReport `json:"network"`
	// Circuits holds the LLUDP circuit counters of the viewers (summed) and
	// of each region.
	Circuits CircuitReport `json:"circuits"`
	// Timeline is the scenario's fault timeline as executed, in order.
	Timeline []TimelineEntry `json:"timeline"`
	// Expectations are the verdicts of the scenario's expectations.
	Expectations []Expectation `json:"expectations"`
	// Counters are the run's network/grid counters by name, unabridged.
	Counters map[string]uint64 `json:"counters"`
}

// TimelineEntry is one fault-timeline entry in report.json.
type TimelineEntry struct {
	AtS  float64 `json:"at_s"` // virtual time, seconds (µs precision)
	What string  `json:"what"`
}

// ViewerCounts is the login tally.
type ViewerCounts struct {
	Total   int `json:"total"`
	Success int `json:"success"`
	Failed  int `json:"failed"`
}

// StageStats are the latency statistics of one stage over every viewer that
// reached it (successful or not), measured from the viewer's intended start.
// Percentiles come from an HDR histogram (3 significant digits, reported as
// the bucket's highest equivalent value, clamped to [min, max]); min, max and
// mean are exact to the microsecond. All times are in milliseconds with 3
// decimals. With Count == 0 every time is 0.
type StageStats struct {
	Count  int     `json:"count"`
	P50MS  float64 `json:"p50_ms"`
	P90MS  float64 `json:"p90_ms"`
	P95MS  float64 `json:"p95_ms"`
	P99MS  float64 `json:"p99_ms"`
	P999MS float64 `json:"p999_ms"`
	MaxMS  float64 `json:"max_ms"`
	MinMS  float64 `json:"min_ms"`
	MeanMS float64 `json:"mean_ms"`
}

// StageTable holds one StageStats per stage, indexed by Stage. In JSON it is
// an object keyed by Stage.String(), in stage order (login_reply first).
type StageTable [NumStages]StageStats

// MarshalJSON writes the table as an object in stage order.
func (t StageTable) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for s := range NumStages {
		if s > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:", s.String())
		v, err := json.Marshal(t[s])
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads an object keyed by stage id; unknown keys are an error.
func (t *StageTable) UnmarshalJSON(data []byte) error {
	var m map[string]StageStats
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	*t = StageTable{}
	for k, v := range m {
		i := slices.Index(stageNames[:], k)
		if i < 0 {
			return fmt.Errorf("reports: unknown stage %q", k)
		}
		t[i] = v
	}
	return nil
}

// Failure is one failure mode of the run.
type Failure struct {
	Mode  string `json:"mode"`
	Count int    `json:"count"`
	// Message is what the example viewer saw.
	Message string `json:"message"`
	// ExampleViewer is the name of the failed viewer with the lowest ID.
	ExampleViewer   string `json:"example_viewer"`
	ExampleViewerID int    `json:"example_viewer_id"`
	// Evidence and Fix are the diagnosis of the example viewer: the worked example.
	Evidence string `json:"evidence"`
	Fix      string `json:"fix"`
}

// FindingEntry is a grid-level diagnosis in report.json.
type FindingEntry struct {
	Mode     string `json:"mode"`
	Count    int    `json:"count"`
	Evidence string `json:"evidence"`
	Fix      string `json:"fix"`
}

// reportPercentiles are the percentiles (0..100, as hdrhistogram wants them)
// in StageStats order.
var reportPercentiles = []float64{50, 90, 95, 99, 99.9}

// latency accumulates one latency distribution: an HDR histogram for the
// percentiles plus exact count, sum, min and max in microseconds.
type latency struct {
	h        *hdrhistogram.Histogram
	n        int
	sum      int64
	min, max int64
}

func newLatency() *latency {
	return &latency{h: hdrhistogram.New(histLowestUS, histHighestUS, histSigFigs)}
}

// durationUS converts d to whole microseconds (rounded half up), clamped to
// the histogram range.
func durationUS(d time.Duration) int64 {
	us := int64((d + time.Microsecond/2) / time.Microsecond)
	return min(max(us, 0), histHighestUS)
}

func (l *latency) record(d time.Duration) {
	us := durationUS(d)
	_ = l.h.RecordValue(us) // cannot fail: us is within the histogram range
	if l.n == 0 || us < l.min {
		l.min = us
	}
	if l.n == 0 || us > l.max {
		l.max = us
	}
	l.n++
	l.sum += us
}

// percentilesUS returns the reportPercentiles in microseconds, clamped to
// the exact [min, max].
func (l *latency) percentilesUS() []int64 {
	ps := l.h.ValueAtPercentilesSlice(reportPercentiles)
	for i, v := range ps {
		ps[i] = min(max(v, l.min), l.max)
	}
	return ps
}

func (l *latency) stats() StageStats {
	if l.n == 0 {
		return StageStats{}
	}
	ps := l.percentilesUS()
	return StageStats{
		Count:  l.n,
		P50MS:  usToMS(ps[0]),
		P90MS:  usToMS(ps[1]),
		P95MS:  usToMS(ps[2]),
		P99MS:  usToMS(ps[3]),
		P999MS: usToMS(ps[4]),
		MaxMS:  usToMS(l.max),
		MinMS:  usToMS(l.min),
		MeanMS: math.Round(float64(l.sum)/float64(l.n)) / 1000,
	}
}

func usToMS(us int64) float64 { return float64(us) / 1000 }

// seconds converts d to seconds rounded to the microsecond.
func seconds(d time.Duration) float64 { return math.Round(d.Seconds()*1e6) / 1e6 }

// outcomeOf maps a viewer's outcome to its report id.
func outcomeOf(v *Viewer) string {
	if v.Outcome == "" {
		return OutcomeUnfinished
	}
	return v.Outcome
}

// Build computes the report of a run. Stage statistics cover every viewer
// that reached the stage (negative stage times are "not reached" and
// skipped); every outcome other than "success" is a failure mode, and an
// empty outcome counts as "unfinished". Counters with the same name are
// summed. The result does not depend on the order of r.Viewers.
func Build(r *Run) *Report {
	rep := &Report{
		SchemaVersion: SchemaVersion,
		Scenario:      r.Scenario,
		Description:   r.Description,
		Seed:          r.Seed,
		TraceHash:     fmt.Sprintf("0x%016x", r.TraceHash),
		Events:        r.Events,
		VirtualTimeS:  seconds(r.VirtualTime),
		Outcomes:      map[string]int{},
		Failures:      []Failure{},
		Notes:         []Failure{},
		Findings:      []FindingEntry{},
		Counters:      make(map[string]uint64, len(r.Counters)),
		Timeline:      []TimelineEntry{},
		Expectations:  []Expectation{},
	}
	for _, e := range r.Timeline {
		rep.Timeline = append(rep.Timeline, TimelineEntry{AtS: seconds(e.At), What: e.What})
	}
	rep.Expectations = append(rep.Expectations, r.Expectations...)
	var lat [NumStages]*latency
	for s := range lat {
		lat[s] = newLatency()
	}
	failures, notes := map[string]*Failure{}, map[string]*Failure{}
	tally := func(m map[string]*Failure, mode string, v *Viewer) {
		f := m[mode]
		if f == nil {
			f = &Failure{Mode: mode}
			m[mode] = f
		}
		if f.Count == 0 || v.ID < f.ExampleViewerID {
			f.Message, f.ExampleViewer, f.ExampleViewerID = v.Message, v.Name, v.ID
			f.Evidence, f.Fix = v.Evidence, v.Fix
		}
		f.Count++
	}
	for i := range r.Viewers {
		v := &r.Viewers[i]
		for s, d := range v.Stages {
			if d >= 0 {
				lat[s].record(d)
			}
		}
		out := outcomeOf(v)
		rep.Outcomes[out]++
		if out == OutcomeSuccess {
			rep.Viewers.Success++
			if v.Mode != "" {
				tally(notes, v.Mode, v)
			}
			continue
		}
		tally(failures, out, v)
	}
	for _, f := range r.Findings {
		rep.Findings = append(rep.Findings, FindingEntry(f))
	}
	rep.Viewers.Total = len(r.Viewers)
	rep.Viewers.Failed = rep.Viewers.Total - rep.Viewers.Success
	for s := range lat {
		rep.Stages[s] = lat[s].stats()
	}
	rep.Failures = byCount(rep.Failures, failures)
	rep.Notes = byCount(rep.Notes, notes)
	for _, c := range r.Counters {
		rep.Counters[c.Name] += c.Value
	}
	rep.Network = groupNetwork(rep.Counters)
	rep.Circuits = groupCircuits(rep.Counters)
	return rep
}

// byCount appends the modes of m to dst, most frequent first (ties by mode id).
func byCount(dst []Failure, m map[string]*Failure) []Failure {
	for _, f := range m {
		dst = append(dst, *f)
	}
	slices.SortFunc(dst, func(a, b Failure) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Mode, b.Mode)
	})
	return dst
}

// WriteJSON writes the report as report.json: keys in a fixed order (struct
// order, maps sorted), 2-space indent, no HTML escaping, trailing newline.
func (rep *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(rep)
}
