package reports

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// viewersHeader is the header of viewers.csv. Stage columns hold the time from
// the viewer's intended start to the stage, in seconds; empty = not reached.
func viewersHeader() []string {
	h := []string{"id", "name", "population", "placement", "profile", "start_s"}
	for s := range NumStages {
		h = append(h, s.String()+"_s")
	}
	return append(h, "outcome", "failure_mode", "message", "ended_at_s", "evidence", "fix")
}

// fmtSeconds writes d as seconds, exact to the nanosecond, with at least
// three decimals: 1.600, 0.181887, 12.000000001.
func fmtSeconds(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	s := fmt.Sprintf("%d.%09d", d/time.Second, d%time.Second)
	s = strings.TrimRight(s, "0")
	if i := strings.IndexByte(s, '.'); len(s)-i-1 < 3 {
		s += strings.Repeat("0", 3-(len(s)-i-1))
	}
	if neg {
		s = "-" + s
	}
	return s
}

// parseSeconds reads what fmtSeconds writes (and any decimal seconds).
func parseSeconds(s string) (time.Duration, error) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bad seconds %q", s)
	}
	if len(frac) > 9 {
		frac = frac[:9]
	}
	var f int64
	if frac != "" {
		if f, err = strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64); err != nil {
			return 0, fmt.Errorf("bad seconds %q", s)
		}
	}
	d := time.Duration(w)*time.Second + time.Duration(f)
	if neg {
		d = -d
	}
	return d, nil
}

// sortedViewers returns the viewers in ID order.
func sortedViewers(vs []Viewer) []Viewer {
	out := slices.Clone(vs)
	slices.SortStableFunc(out, func(a, b Viewer) int { return a.ID - b.ID })
	return out
}

// WriteViewersCSV writes viewers.csv: one row per viewer in ID order.
// failure_mode is the outcome for failed viewers and empty on success.
func WriteViewersCSV(w io.Writer, r *Run) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(viewersHeader()); err != nil {
		return err
	}
	for _, v := range sortedViewers(r.Viewers) {
		row := []string{strconv.Itoa(v.ID), v.Name, v.Population, v.Placement, v.Profile, fmtSeconds(v.Start)}
		for _, d := range v.Stages {
			if d < 0 {
				row = append(row, "")
			} else {
				row = append(row, fmtSeconds(d))
			}
		}
		out := outcomeOf(&v)
		mode := v.Mode
		if mode == "" && out != OutcomeSuccess {
			mode = out
		}
		row = append(row, out, mode, v.Message, fmtSeconds(v.EndedAt), v.Evidence, v.Fix)
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ReadViewersCSV reads viewers.csv back. Columns are found by header name;
// stage columns missing from an older file read as "not reached".
func ReadViewersCSV(rd io.Reader) ([]Viewer, error) {
	cr := csv.NewReader(rd)
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("viewers.csv: empty")
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, need := range []string{"id", "start_s", "outcome"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("viewers.csv: no %q column", need)
		}
	}
	get := func(row []string, name string) string {
		if i, ok := col[name]; ok && i < len(row) {
			return row[i]
		}
		return ""
	}
	var vs []Viewer
	for n, row := range rows[1:] {
		line := n + 2
		id, err := strconv.Atoi(get(row, "id"))
		if err != nil {
			return nil, fmt.Errorf("viewers.csv:%d: id: %w", line, err)
		}
		v := Viewer{ID: id, Name: get(row, "name"), Population: get(row, "population"),
			Placement: get(row, "placement"), Profile: get(row, "profile"),
			Outcome: get(row, "outcome"), Message: get(row, "message"),
			Evidence: get(row, "evidence"), Fix: get(row, "fix")}
		if m := get(row, "failure_mode"); m != v.Outcome {
			v.Mode = m
		}
		if v.Start, err = parseSeconds(get(row, "start_s")); err != nil {
			return nil, fmt.Errorf("viewers.csv:%d: start_s: %w", line, err)
		}
		if s := get(row, "ended_at_s"); s != "" {
			if v.EndedAt, err = parseSeconds(s); err != nil {
				return nil, fmt.Errorf("viewers.csv:%d: ended_at_s: %w", line, err)
			}
		}
		for s := range NumStages {
			v.Stages[s] = -1
			if c := get(row, s.String()+"_s"); c != "" {
				if v.Stages[s], err = parseSeconds(c); err != nil {
					return nil, fmt.Errorf("viewers.csv:%d: %s: %w", line, s, err)
				}
			}
		}
		vs = append(vs, v)
	}
	return vs, nil
}

var samplesHeader = []string{"t_s", "decided", "in_world", "failed", "circuits",
	"udp_sent", "udp_delivered", "udp_lost", "drops", "resends"}

// WriteSamplesCSV writes timeseries.csv: one row per virtual second. All
// columns but t_s and circuits (open right now) are cumulative counts.
func WriteSamplesCSV(w io.Writer, r *Run) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(samplesHeader); err != nil {
		return err
	}
	u := func(x uint64) string { return strconv.FormatUint(x, 10) }
	for _, s := range r.Samples {
		if err := cw.Write([]string{fmtSeconds(s.At), itoa(s.Decided), itoa(s.InWorld), itoa(s.Failed),
			itoa(s.Circuits), u(s.UDPSent), u(s.UDPDeliv), u(s.UDPLost), u(s.Drops), u(s.Resends)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ReadSamplesCSV reads timeseries.csv back.
func ReadSamplesCSV(rd io.Reader) ([]Sample, error) {
	rows, err := csv.NewReader(rd).ReadAll()
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 || !slices.Equal(rows[0], samplesHeader) {
		return nil, fmt.Errorf("timeseries.csv: unexpected header")
	}
	var ss []Sample
	for n, row := range rows[1:] {
		var s Sample
		var err error
		if s.At, err = parseSeconds(row[0]); err != nil {
			return nil, fmt.Errorf("timeseries.csv:%d: %w", n+2, err)
		}
		var ints [4]int
		for i := range ints {
			if ints[i], err = strconv.Atoi(row[1+i]); err != nil {
				return nil, fmt.Errorf("timeseries.csv:%d: %w", n+2, err)
			}
		}
		var us [5]uint64
		for i := range us {
			if us[i], err = strconv.ParseUint(row[5+i], 10, 64); err != nil {
				return nil, fmt.Errorf("timeseries.csv:%d: %w", n+2, err)
			}
		}
		s.Decided, s.InWorld, s.Failed, s.Circuits = ints[0], ints[1], ints[2], ints[3]
		s.UDPSent, s.UDPDeliv, s.UDPLost, s.Drops, s.Resends = us[0], us[1], us[2], us[3], us[4]
		ss = append(ss, s)
	}
	return ss, nil
}
