package reports

import (
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// fmtDuration formats a latency compactly: 850µs, 4.25ms, 12.3ms, 1.234s, 1m23.5s.
func fmtDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d/time.Microsecond)
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	case d < time.Minute:
		return fmt.Sprintf("%.3fs", d.Seconds())
	default:
		m := d / time.Minute
		return fmt.Sprintf("%dm%04.1fs", m, (d - m*time.Minute).Seconds())
	}
}

// msDuration converts a report time in milliseconds back to a Duration.
func msDuration(ms float64) time.Duration {
	return time.Duration(ms*1000+0.5) * time.Microsecond
}

// maxMessageRunes is where WriteSummary cuts failure messages.
const maxMessageRunes = 100

// truncate cuts s to n runes, marking the cut with an ellipsis.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimRight(string(r[:n-1]), " ") + "…"
}

// wrap writes text after prefix, wrapped at 100 columns with continuation lines indented to the
// prefix's width.
func wrap(b *strings.Builder, prefix, text string) {
	const width = 100
	col := 0
	indent := strings.Repeat(" ", len(prefix))
	b.WriteString(prefix)
	col = len(prefix)
	for i, word := range strings.Fields(text) {
		n := len([]rune(word))
		if i > 0 && col+1+n > width {
			b.WriteString("\n" + indent)
			col = len(indent)
		} else if i > 0 {
			b.WriteByte(' ')
			col++
		}
		b.WriteString(word)
		col += n
	}
	b.WriteByte('\n')
}

// WriteSummary writes the short end-of-run summary for the terminal: the
// login tally, the failure modes (count, id, message cut to 100 runes) with the worked example of
// each (evidence and fix) and the grid-level findings, a per-stage latency
// table (n, p50, p90, p99, max), events, virtual time and trace hash (wall time
// and no hash for a `gridlab load` run, on real sockets). It
// reads only rep, so it is as deterministic as the report.
func WriteSummary(w io.Writer, rep *Report) {
	var b strings.Builder
	pct := 0.0
	if rep.Viewers.Total > 0 {
		pct = 100 * float64(rep.Viewers.Success) / float64(rep.Viewers.Total)
	}
	fmt.Fprintf(&b, "scenario %s (seed %d)\n", rep.Scenario, rep.Seed)
	fmt.Fprintf(&b, "viewers logged in  %d/%d (%.1f%%)\n", rep.Viewers.Success, rep.Viewers.Total, pct)

	if len(rep.Failures) > 0 {
		fmt.Fprintf(&b, "failures           %d\n", rep.Viewers.Failed)
		cw, mw := 0, 0
		for _, f := range rep.Failures {
			cw = max(cw, len(strconv.Itoa(f.Count)))
			mw = max(mw, len(f.Mode))
		}
		for _, f := range rep.Failures {
			row := fmt.Sprintf("  %*d  %-*s", cw, f.Count, mw, f.Mode)
			if f.Message != "" {
				row += "  " + strconv.Quote(truncate(f.Message, maxMessageRunes))
			}
			b.WriteString(strings.TrimRight(row, " ") + "\n")
		}
		for _, f := range rep.Failures {
			if f.Evidence == "" {
				continue
			}
			fmt.Fprintf(&b, "\n%s, e.g. %s (#%d):\n", f.Mode, f.ExampleViewer, f.ExampleViewerID)
			wrap(&b, "  why: ", f.Evidence)
			wrap(&b, "  fix: ", f.Fix)
		}
	}
	for _, f := range rep.Findings {
		fmt.Fprintf(&b, "\nfinding: %s (%d)\n", f.Mode, f.Count)
		wrap(&b, "  why: ", f.Evidence)
		wrap(&b, "  fix: ", f.Fix)
	}

	// Per-stage table: stage names left-aligned, numbers right-aligned.
	header := []string{"n", "p50", "p90", "p99", "max"}
	rows := make([][]string, NumStages)
	nameW := len("stage")
	colW := make([]int, len(header))
	for i, h := range header {
		colW[i] = max(len(h), 6)
	}
	for s := range NumStages {
		st := rep.Stages[s]
		row := []string{strconv.Itoa(st.Count), "-", "-", "-", "-"}
		if st.Count > 0 {
			row = []string{strconv.Itoa(st.Count), fmtDuration(msDuration(st.P50MS)),
				fmtDuration(msDuration(st.P90MS)), fmtDuration(msDuration(st.P99MS)),
				fmtDuration(msDuration(st.MaxMS))}
		}
		rows[s] = row
		nameW = max(nameW, len(s.Title()))
		for i, c := range row {
			colW[i] = max(colW[i], len([]rune(c)))
		}
	}
	b.WriteString("\n")
	line := func(name string, cells []string) {
		fmt.Fprintf(&b, "%-*s", nameW, name)
		for i, c := range cells {
			b.WriteString(strings.Repeat(" ", 2+colW[i]-len([]rune(c))))
			b.WriteString(c)
		}
		b.WriteString("\n")
	}
	line("stage", header)
	for s := range NumStages {
		line(s.Title(), rows[s])
	}
	b.WriteString("\n")
	took := time.Duration(rep.VirtualTimeS*1e6+0.5) * time.Microsecond
	if isLoad(rep) {
		// Real sockets on the wall clock: the events are the load loop's, and nothing makes
		// two runs alike, so there is no trace hash to compare.
		fmt.Fprintf(&b, "events %d, wall time %s (real sockets: no trace hash)\n", rep.Events, took)
	} else {
		fmt.Fprintf(&b, "events %d, virtual time %s, trace %s\n", rep.Events, took, rep.TraceHash)
	}
	io.WriteString(w, b.String())
}

// isLoad reports whether rep is a `gridlab load` run's (its load/ counters say so).
func isLoad(rep *Report) bool {
	_, ok := rep.Counters["load/viewers_planned"]
	return ok
}

// Summary is what `gridlab run --json` prints: the report's headline numbers
// and where the files went. Field order is the key order.
type Summary struct {
	SchemaVersion int            `json:"schema_version"`
	Scenario      string         `json:"scenario"`
	Seed          uint64         `json:"seed"`
	TraceHash     string         `json:"trace_hash"`
	Events        uint64         `json:"events"`
	VirtualTimeS  float64        `json:"virtual_time_s"`
	Viewers       ViewerCounts   `json:"viewers"`
	Outcomes      map[string]int `json:"outcomes"`
	Stages        StageTable     `json:"stages"`
	Failures      []Failure      `json:"failures"`
	Expectations  []Expectation  `json:"expectations"`
	// Passed is false when an expectation failed.
	Passed bool   `json:"passed"`
	Dir    string `json:"dir"`
	Report string `json:"report"`
	Index  string `json:"index"`
}

// NewSummary returns the summary of rep, whose files are in dir.
func NewSummary(rep *Report, dir string) Summary {
	s := Summary{SchemaVersion: rep.SchemaVersion, Scenario: rep.Scenario, Seed: rep.Seed, TraceHash: rep.TraceHash,
		Events: rep.Events, VirtualTimeS: rep.VirtualTimeS, Viewers: rep.Viewers, Outcomes: rep.Outcomes,
		Stages: rep.Stages, Failures: rep.Failures, Expectations: rep.Expectations, Passed: true,
		Dir: dir, Report: filepath.Join(dir, ReportFile), Index: filepath.Join(dir, IndexFile)}
	for _, e := range rep.Expectations {
		s.Passed = s.Passed && e.Pass
	}
	return s
}

// WriteSummaryJSON writes NewSummary(rep, dir) as indented JSON.
func WriteSummaryJSON(w io.Writer, rep *Report, dir string) error {
	b, err := encodeJSON(NewSummary(rep, dir))
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}
