package sweep

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"image/color"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"gridlab/scenarios"
)

// Index is sweep.json.
type Index struct {
	SchemaVersion int     `json:"schema_version"`
	Spec          Spec    `json:"spec"`
	Points        []Point `json:"points"`
	Knee          *Knee   `json:"knee"` // nil: no threshold, or no point breaks it, or every point does
}

// Point is one parameter value's results, pooled over its seeds.
type Point struct {
	Index       int     `json:"index"`
	Value       string  `json:"value"`
	X           float64 `json:"x"`
	Runs        int     `json:"runs"`
	Viewers     int     `json:"viewers"`
	InWorld     int     `json:"in_world"` // reached movement_complete
	Success     int     `json:"success"`
	FailureRate float64 `json:"failure_rate"` // viewers without outcome success, of all viewers
	// P50MS, P99MS and MaxMS are the time to in world of the viewers that got there; those that
	// did not are left out of them (0 when none got there). The threshold's Stat counts them.
	P50MS float64 `json:"p50_ms"`
	P99MS float64 `json:"p99_ms"`
	MaxMS float64 `json:"max_ms"`
	// Stat is the threshold's statistic at this point (ms) over all its viewers: the
	// NeverReached viewers that never reached the threshold's stage count as slower than every
	// viewer that did. Stat is nil — "never" — when they decide it: p(q) when more than
	// (100-q)% of the viewers never got there, max or avg when any did not, min when none got
	// there (or the point has no viewers). Breaks says the statistic fails the threshold; a
	// "never" always does.
	Stat         *float64 `json:"stat_ms"`
	NeverReached int      `json:"never_reached"`
	Breaks       bool     `json:"breaks"`
	// ExpectFailed counts failed scenario expectations over the point's runs.
	ExpectFailed int            `json:"expect_failed"`
	Outcomes     map[string]int `json:"outcomes"`
	RunList      []RunSummary   `json:"run_list"`
}

// RunSummary is one run of a point, for the index's links.
type RunSummary struct {
	Seed      uint64 `json:"seed"`
	Dir       string `json:"dir"`
	TraceHash string `json:"trace_hash"`
	Events    uint64 `json:"events"`
	Viewers   int    `json:"viewers"`
	Success   int    `json:"success"`
}

// Knee is where the grid goes from holding the threshold to breaking it, by one of two rules.
// A sweep of load (arrival rate, viewers, loss) holds at its low end: its knee is the first
// point that breaks — the grid's limit. A sweep of a resource (login workers, bandwidth) breaks
// at its low end and holds at its high end: its knee is the least value from which every point
// holds — the capacity the load needs.
type Knee struct {
	Point int    `json:"point"`
	Value string `json:"value"`
	Rule  string `json:"rule"` // KneeFirstBreak or KneeFirstHold
}

// Knee rules.
const (
	KneeFirstBreak = "first_break"
	KneeFirstHold  = "first_hold"
)

// kneeOf finds the knee of points whose Breaks are set (see Knee). There is none when no point
// breaks or every point does.
func kneeOf(points []Point) *Knee {
	broken := 0
	for _, pt := range points {
		if pt.Breaks {
			broken++
		}
	}
	if broken == 0 || broken == len(points) {
		return nil
	}
	last := len(points) - 1
	if points[0].Breaks && !points[last].Breaks {
		i := last
		for i > 0 && !points[i-1].Breaks {
			i--
		}
		return &Knee{Point: i, Value: points[i].Value, Rule: KneeFirstHold}
	}
	for i, pt := range points {
		if pt.Breaks {
			return &Knee{Point: i, Value: pt.Value, Rule: KneeFirstBreak}
		}
	}
	return nil
}

// AllBreak reports whether the sweep has a threshold and every point breaks it.
func (ix *Index) AllBreak() bool {
	if ix.Spec.Threshold == nil || len(ix.Points) == 0 {
		return false
	}
	for _, pt := range ix.Points {
		if !pt.Breaks {
			return false
		}
	}
	return true
}

// AllBreakText says that every point breaks the threshold and, when viewers that never reached
// its stage are why at some points, which: e.g. "every point breaks movement_complete p(99) <
// 30s; at 2 of the 4 points (1, 2) more than 1% of the viewers never reached movement_complete,
// so its p(99) is never".
func (ix *Index) AllBreakText() string {
	t := ix.Spec.Threshold
	msg := "every point breaks " + t.String()
	var never []string
	for _, pt := range ix.Points {
		if pt.Stat == nil && pt.NeverReached > 0 {
			never = append(never, pt.Value)
		}
	}
	switch {
	case len(never) == 0:
		return msg
	case len(never) == len(ix.Points):
		return fmt.Sprintf("%s; at every point %s, so its %s is never", msg, neverClause(t), t.Stat)
	}
	return fmt.Sprintf("%s; at %d of the %d points (%s) %s, so its %s is never", msg, len(never), len(ix.Points),
		strings.Join(never, ", "), neverClause(t), t.Stat)
}

// neverClause says when the threshold's statistic is never, in words.
func neverClause(t *Threshold) string {
	switch t.Stat {
	case "max", "avg":
		return "some viewers never reached " + t.Stage
	case "min":
		return "no viewer reached " + t.Stage
	}
	q := percentOf(t.Stat)
	rest := strconv.FormatFloat(math.Round((100-q)*1e6)/1e6, 'f', -1, 64)
	return fmt.Sprintf("more than %s%% of the viewers never reached %s", rest, t.Stage)
}

// StatText writes the threshold's statistic of the point: its time, or "never", with how many
// viewers never reached the stage when any did not ("never (51 of 100 not reached)").
func (pt Point) StatText() string {
	s := "never"
	if pt.Stat != nil {
		s = fmtMS(*pt.Stat)
	}
	switch {
	case pt.Viewers == 0:
		return s + " (no viewers)"
	case pt.NeverReached > 0:
		return fmt.Sprintf("%s (%d of %d not reached)", s, pt.NeverReached, pt.Viewers)
	}
	return s
}

// Meaning says in words what the knee is, for the summary and the index.
func (k *Knee) Meaning() string {
	if k.Rule == KneeFirstHold {
		return "the least value from which every point holds the threshold"
	}
	return "the first point that breaks the threshold"
}

// percentileUS is the nearest-rank percentile of sorted values.
func percentileUS(sorted []int64, p float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[nearestRank(p, len(sorted))-1]
}

// nearestRank is the 1-based rank of the p-th percentile among n > 0 values.
func nearestRank(p float64, n int) int {
	return min(max(int(math.Ceil(p/100*float64(n))), 1), n)
}

// percentOf is q of a percentile statistic "p(q)".
func percentOf(stat string) float64 {
	q, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimPrefix(stat, "p("), ")"), 64)
	return q
}

// stat evaluates a threshold statistic ("p(99)", "max", "min", "avg"), in µs, over the sorted
// times of the viewers that reached the stage and never more that did not, who count as slower
// than all of them. ok is false when the statistic is "never": decided by a viewer that never
// got there (or there are no viewers at all).
func stat(name string, sorted []int64, never int) (us float64, ok bool) {
	n := len(sorted) + never
	if n == 0 {
		return 0, false
	}
	switch name {
	case "max":
		if never > 0 {
			return 0, false
		}
		return float64(sorted[len(sorted)-1]), true
	case "min":
		if len(sorted) == 0 {
			return 0, false
		}
		return float64(sorted[0]), true
	case "avg":
		if never > 0 {
			return 0, false
		}
		var sum int64
		for _, v := range sorted {
			sum += v
		}
		return math.Round(float64(sum) / float64(len(sorted))), true
	}
	k := nearestRank(percentOf(name), n) // among all n viewers
	if k > len(sorted) {
		return 0, false
	}
	return float64(sorted[k-1]), true
}

// Build computes the index of a sweep from its runs' records (in any order).
func Build(sp Spec, records []*Record) (*Index, error) {
	byPair := map[[2]uint64]*Record{}
	for _, r := range records {
		k := [2]uint64{uint64(r.Point), r.Seed}
		if byPair[k] != nil {
			return nil, fmt.Errorf("sweep: point %d seed %d appears twice (%s and %s)", r.Point, r.Seed, byPair[k].Dir, r.Dir)
		}
		if r.Point < 0 || r.Point >= len(sp.Param.Values) || !slices.Contains(sp.Seeds, r.Seed) {
			return nil, fmt.Errorf("sweep: %s is not a run of this sweep (point %d, seed %d)", r.Dir, r.Point, r.Seed)
		}
		byPair[k] = r
	}
	ix := &Index{SchemaVersion: SchemaVersion, Spec: sp, Points: []Point{}}
	var missing []string
	for i, v := range sp.Param.Values {
		pt := Point{Index: i, Value: v, X: sp.Param.X[i], Outcomes: map[string]int{}, RunList: []RunSummary{}}
		var inWorld, stageUS []int64
		for _, seed := range sp.Seeds {
			r := byPair[[2]uint64{uint64(i), seed}]
			if r == nil {
				missing = append(missing, RunDir(i, seed))
				continue
			}
			pt.Runs++
			pt.Viewers += r.Viewers
			pt.Success += r.Success
			for o, n := range r.Outcomes {
				pt.Outcomes[o] += n
			}
			for _, e := range r.Expect {
				if !e.Pass {
					pt.ExpectFailed++
				}
			}
			inWorld = append(inWorld, r.InWorldUS...)
			stageUS = append(stageUS, r.StageUS...)
			pt.RunList = append(pt.RunList, RunSummary{Seed: seed, Dir: r.Dir, TraceHash: r.TraceHash, Events: r.Events, Viewers: r.Viewers, Success: r.Success})
		}
		slices.Sort(inWorld)
		slices.Sort(stageUS)
		pt.InWorld = len(inWorld)
		if pt.Viewers > 0 {
			pt.FailureRate = math.Round(float64(pt.Viewers-pt.Success)/float64(pt.Viewers)*1e6) / 1e6
		}
		if len(inWorld) > 0 {
			pt.P50MS = float64(percentileUS(inWorld, 50)) / 1000
			pt.P99MS = float64(percentileUS(inWorld, 99)) / 1000
			pt.MaxMS = float64(inWorld[len(inWorld)-1]) / 1000
		}
		if t := sp.Threshold; t != nil {
			vals := inWorld
			if t.Stage != "movement_complete" {
				vals = stageUS
			}
			pt.NeverReached = pt.Viewers - len(vals)
			if v, ok := stat(t.Stat, vals, pt.NeverReached); ok {
				ms := v / 1000
				pt.Stat = &ms
				pt.Breaks = !scenarios.Compare(ms, t.Op, t.LimitMS)
			} else {
				pt.Breaks = true // never: no time is under a limit
			}
		}
		ix.Points = append(ix.Points, pt)
	}
	ix.Knee = kneeOf(ix.Points)
	if len(missing) > 0 {
		return nil, fmt.Errorf("sweep: %d run(s) missing: %s (merge every shard)", len(missing), strings.Join(missing, ", "))
	}
	return ix, nil
}

// WriteIndex builds the index from records and writes sweep.json, the plots and index.html
// into dir.
func WriteIndex(dir string, sp Spec, records []*Record) error {
	ix, err := Build(sp, records)
	if err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(dir, IndexFile), ix); err != nil {
		return err
	}
	if err := writePlots(dir, ix); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "index.html"))
	if err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	if err := writeHTML(f, ix); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Merge combines the folders of a sweep's shards into out, a folder that is none of them: it
// checks they are shards of one sweep — the same Spec: scenario, --set overrides, scenario
// fingerprint, parameter, seeds and threshold — and together hold every run exactly once, and
// only then copies their run folders into out and writes out's manifest and the index: the
// same sweep.json one process running the whole sweep writes.
func Merge(out string, dirs []string) error {
	if len(dirs) == 0 {
		return fmt.Errorf("sweep merge: no shard folders given")
	}
	if err := checkFolders(out, dirs); err != nil {
		return err
	}
	var (
		spec    Spec
		records []*Record
		runs    []string
		from    = map[[2]uint64]string{} // (point, seed) -> the shard folder holding it
	)
	for k, d := range dirs {
		var m Manifest
		if err := readJSON(filepath.Join(d, ShardFile), &m); err != nil {
			return fmt.Errorf("sweep merge: %s is not a sweep folder: %w", d, err)
		}
		if m.Spec.Fingerprint == "" {
			return fmt.Errorf("sweep merge: %s: its %s has no scenario fingerprint (written by an older gridlab): run that shard again", d, ShardFile)
		}
		if k == 0 {
			spec = m.Spec
		} else if diff := specDiff(spec, m.Spec); len(diff) > 0 {
			return fmt.Errorf("sweep merge: %s is not a shard of the same sweep as %s: %s", d, dirs[0], strings.Join(diff, "; "))
		}
		for _, rd := range m.Runs {
			var r Record
			if err := readJSON(filepath.Join(d, rd, RecordFile), &r); err != nil {
				return fmt.Errorf("sweep merge: %w", err)
			}
			key := [2]uint64{uint64(r.Point), r.Seed}
			if prev, dup := from[key]; dup && prev == d {
				return fmt.Errorf("sweep merge: %s: its %s lists point %d seed %d (%s) twice", d, ShardFile, r.Point, r.Seed, rd)
			} else if dup {
				return fmt.Errorf("sweep merge: point %d seed %d (%s) is in two shard folders, %s and %s: give each shard once", r.Point, r.Seed, rd, prev, d)
			}
			from[key] = d
			records = append(records, &r)
			runs = append(runs, rd)
		}
	}
	if _, err := Build(spec, records); err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	for _, r := range records {
		if err := copyDir(filepath.Join(from[[2]uint64{uint64(r.Point), r.Seed}], r.Dir), filepath.Join(out, r.Dir)); err != nil {
			return err
		}
	}
	slices.Sort(runs)
	if err := writeJSON(filepath.Join(out, ShardFile), Manifest{Spec: spec, Shard: "0/1", Runs: runs}); err != nil {
		return err
	}
	return WriteIndex(out, spec, records)
}

// checkFolders refuses a merge into one of its own shard folders — it would rewrite that
// shard's manifest to claim every run, and the next merge of the same shards would fail — and a
// shard folder given twice.
func checkFolders(out string, dirs []string) error {
	stats := make([]os.FileInfo, len(dirs))
	for k, d := range dirs {
		st, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("sweep merge: %w", err)
		}
		if !st.IsDir() {
			return fmt.Errorf("sweep merge: %s is not a folder", d)
		}
		for j := range k {
			if os.SameFile(stats[j], st) {
				return fmt.Errorf("sweep merge: %s and %s are the same folder: give each shard once", dirs[j], d)
			}
		}
		stats[k] = st
	}
	st, err := os.Stat(out)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sweep merge: --out: %w", err)
	}
	for k, d := range dirs {
		if os.SameFile(stats[k], st) {
			return fmt.Errorf("sweep merge: --out %s is the shard folder %s: merging into a shard would rewrite its %s; give a new folder for --out", out, d, ShardFile)
		}
	}
	return nil
}

// specDiff says in words how b differs from a, one item for each part of the spec that does;
// nil when they are equal.
func specDiff(a, b Spec) []string {
	var d []string
	if a.Scenario != b.Scenario {
		d = append(d, fmt.Sprintf("scenario differs: %s vs %s", a.Scenario, b.Scenario))
	}
	sets := func(s []string) string {
		if len(s) == 0 {
			return "none"
		}
		return strings.Join(s, ", ")
	}
	setsDiffer := !slices.Equal(a.Sets, b.Sets)
	if setsDiffer {
		d = append(d, fmt.Sprintf("--set differs: %s vs %s", sets(a.Sets), sets(b.Sets)))
	}
	if a.Fingerprint != b.Fingerprint {
		what := "the scenario's content differs"
		if !setsDiffer {
			what = "the scenario file's content differs (it changed between the runs)"
		}
		d = append(d, fmt.Sprintf("%s: fingerprint %s vs %s", what, a.Fingerprint, b.Fingerprint))
	}
	if jsonString(a.Param) != jsonString(b.Param) {
		d = append(d, fmt.Sprintf("parameter differs: %s vs %s", a.Param, b.Param))
	}
	if !slices.Equal(a.Seeds, b.Seeds) {
		d = append(d, fmt.Sprintf("seeds differ: %v vs %v", a.Seeds, b.Seeds))
	}
	th := func(t *Threshold) string {
		if t == nil {
			return "none"
		}
		return t.String()
	}
	if jsonString(a.Threshold) != jsonString(b.Threshold) {
		d = append(d, fmt.Sprintf("threshold differs: %s vs %s", th(a.Threshold), th(b.Threshold)))
	}
	if len(d) == 0 && jsonString(a) != jsonString(b) {
		d = append(d, "the spec differs") // in a part this list does not name yet
	}
	return d
}

func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// copyDir copies the regular files of a run folder (it has no subfolders) to dst.
func copyDir(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
}

// ---- plots ----

var (
	colP50  = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	colP99  = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	colFail = color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}
	colKnee = color.RGBA{R: 0x55, G: 0x55, B: 0x55, A: 0xff}
)

func xLabel(ix *Index) string {
	p := ix.Spec.Param
	switch {
	case p.Unit == "":
		return p.Path
	case p.Unit == "s" && p.Log:
		return p.Path // the ticks are the points' durations, each with its unit (pointTicks)
	case p.Unit == "s":
		return p.Path + " (seconds)"
	case strings.HasPrefix(p.Unit, "/"): // a rate: 5/s
		return fmt.Sprintf("%s (per %s)", p.Path, unitWord(strings.TrimPrefix(p.Unit, "/")))
	}
	return fmt.Sprintf("%s (%s)", p.Path, p.Unit)
}

// unitWord spells out a rate's time unit.
func unitWord(u string) string {
	switch u {
	case "s":
		return "second"
	case "m", "min":
		return "minute"
	case "h":
		return "hour"
	}
	return u
}

// pointTicks labels the x axis at the sweep's own values (a rate or percentage without its
// unit, which the axis label gives; a duration as written, 250ms): on a log scale the default
// ticks are powers of ten, which a range like 2..40 has one of.
type pointTicks struct{ p Param }

func (t pointTicks) Ticks(lo, hi float64) []plot.Tick {
	var ts []plot.Tick
	for i, x := range t.p.X {
		if x >= lo && x <= hi {
			label := t.p.Values[i]
			if t.p.Unit != "s" {
				label = strings.TrimSuffix(label, t.p.Unit)
			}
			ts = append(ts, plot.Tick{Value: x, Label: label})
		}
	}
	return ts
}

func newSweepPlot(ix *Index, title, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel(ix)
	p.Y.Label.Text = y
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	p.Legend.Left = true
	if ix.Spec.Param.Log {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = pointTicks{ix.Spec.Param}
	}
	xs := ix.Spec.Param.X
	if len(xs) > 0 {
		lo, hi := slices.Min(xs), slices.Max(xs)
		if lo == hi { // one point: a tenth of its value either side
			d := math.Abs(lo) * 0.1
			if d == 0 {
				d = 1
			}
			lo, hi = lo-d, hi+d
		}
		p.X.Min, p.X.Max = lo, hi
	}
	return p
}

func addSeries(p *plot.Plot, xys plotter.XYs, c color.Color, dashes []vg.Length, legend string) error {
	l, s, err := plotter.NewLinePoints(xys)
	if err != nil {
		return err
	}
	l.Color, l.Width, l.Dashes = c, vg.Points(1.5), dashes
	s.Color, s.Shape = c, draw.CircleGlyph{}
	p.Add(l, s)
	p.Legend.Add(legend, l, s)
	return nil
}

// kneeLine marks the knee's x across [y0, y1].
func kneeLine(p *plot.Plot, ix *Index, y0, y1 float64) error {
	if ix.Knee == nil {
		return nil
	}
	x := ix.Points[ix.Knee.Point].X
	l, err := plotter.NewLine(plotter.XYs{{X: x, Y: y0}, {X: x, Y: y1}})
	if err != nil {
		return err
	}
	l.Color, l.Dashes, l.Width = colKnee, []vg.Length{vg.Points(2), vg.Points(2)}, vg.Points(1)
	p.Add(l)
	p.Legend.Add("knee: "+ix.Knee.Value, l)
	return nil
}

// Axis and series names of the plots.
const (
	latencyTitle = "Time to in world of the viewers that got there (pooled over seeds)"
	failureTitle = "Failure rate"
	failureAxis  = "fraction of viewers without a successful outcome" // Point.FailureRate
)

func writePlots(dir string, ix *Index) error {
	lat, err := latencyPlot(ix)
	if err != nil {
		return err
	}
	fail, err := failurePlot(ix)
	if err != nil {
		return err
	}
	for _, p := range []struct {
		name string
		plot *plot.Plot
	}{{"sweep-latency", lat}, {"sweep-failures", fail}} {
		for _, ext := range []string{"svg", "png"} {
			if err := p.plot.Save(16*vg.Centimeter, 10*vg.Centimeter, filepath.Join(dir, p.name+"."+ext)); err != nil {
				return fmt.Errorf("sweep: plot %s: %w", p.name, err)
			}
		}
	}
	return nil
}

// latencyPlot draws p50 and p99 time to in world (seconds) of the viewers that got there, the
// threshold when it is on movement_complete, and the knee.
func latencyPlot(ix *Index) (*plot.Plot, error) {
	lat := newSweepPlot(ix, latencyTitle, "seconds")
	var p50, p99 plotter.XYs
	top := 0.0
	for _, pt := range ix.Points {
		if pt.InWorld == 0 {
			continue
		}
		p50 = append(p50, plotter.XY{X: pt.X, Y: pt.P50MS / 1000})
		p99 = append(p99, plotter.XY{X: pt.X, Y: pt.P99MS / 1000})
		top = max(top, pt.P99MS/1000)
	}
	if len(p50) > 0 {
		if err := addSeries(lat, p50, colP50, nil, "p50"); err != nil {
			return nil, err
		}
		if err := addSeries(lat, p99, colP99, nil, "p99"); err != nil {
			return nil, err
		}
	}
	if t := ix.Spec.Threshold; t != nil && t.Stage == "movement_complete" {
		l, err := thresholdLine(lat, t)
		if err != nil {
			return nil, err
		}
		top = max(top, t.LimitMS/1000)
		lat.Add(l)
		lat.Legend.Add("threshold "+t.Stat+" "+t.Op+" "+fmtMS(t.LimitMS), l)
	}
	lat.Y.Min, lat.Y.Max = 0, math.Max(top*1.3, 0.001) // headroom for the legend
	if err := kneeLine(lat, ix, 0, lat.Y.Max); err != nil {
		return nil, err
	}
	return lat, nil
}

// thresholdLine draws the limit across the whole x axis of p — wider than the points when
// there is only one.
func thresholdLine(p *plot.Plot, t *Threshold) (*plotter.Line, error) {
	lim := t.LimitMS / 1000
	l, err := plotter.NewLine(plotter.XYs{{X: p.X.Min, Y: lim}, {X: p.X.Max, Y: lim}})
	if err != nil {
		return nil, err
	}
	l.Color, l.Dashes = colP99, []vg.Length{vg.Points(6), vg.Points(3)}
	return l, nil
}

// failurePlot draws the failure rate: the fraction of viewers whose outcome is not success
// (Point.FailureRate), which counts viewers that got in world and failed later too.
func failurePlot(ix *Index) (*plot.Plot, error) {
	fail := newSweepPlot(ix, failureTitle, failureAxis)
	var fr plotter.XYs
	for _, pt := range ix.Points {
		fr = append(fr, plotter.XY{X: pt.X, Y: pt.FailureRate})
	}
	if err := addSeries(fail, fr, colFail, nil, "not success"); err != nil {
		return nil, err
	}
	fail.Y.Min, fail.Y.Max = 0, 1.3
	if err := kneeLine(fail, ix, 0, 1.3); err != nil {
		return nil, err
	}
	return fail, nil
}

// ---- index.html ----

var page = template.Must(template.New("index").Funcs(template.FuncMap{
	"pct": func(f float64) string { return strconv.FormatFloat(f*100, 'f', 1, 64) + "%" },
	"ms":  func(f float64) string { return fmtMS(f) },
	"upper": func(s string) string {
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	},
	"outcomes": func(m map[string]int) string {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b string) int { return cmp.Or(cmp.Compare(m[b], m[a]), cmp.Compare(a, b)) })
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
		}
		return strings.Join(parts, ", ")
	},
}).Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>sweep: {{.Spec.Scenario}} over {{.Spec.Param.Path}}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}td.l,th.l{text-align:left}tr.knee{background:#fde0e0}tr.broken{color:#a00}img{max-width:48%}</style>
</head><body>
<h1>Sweep of {{.Spec.Scenario}} over <code>{{.Spec.Param.Path}}</code></h1>
<p>{{len .Points}} points from {{.Spec.Param.From}} to {{.Spec.Param.To}}{{if .Spec.Param.Log}} (log spacing){{end}}, seeds {{range $i, $s := .Spec.Seeds}}{{if $i}}, {{end}}{{$s}}{{end}}.
{{with .Spec.Threshold}}Threshold ({{if eq .Source "flag"}}--threshold{{else}}the scenario's expectation{{end}}): {{.Stage}} {{.Stat}} {{.Op}} {{ms .LimitMS}}.{{else}}No threshold (the scenario has no stage expectation that is a limit, &lt; or &lt;=; give --threshold): no knee is looked for.{{end}}
{{with .Knee}}<strong>Capacity knee: {{$.Spec.Param.Path}} = {{.Value}}</strong> ({{.Meaning}}).{{else}}{{if .AllBreak}}{{upper .AllBreakText}}.{{else if .Spec.Threshold}}No point breaks the threshold.{{end}}{{end}}</p>
<p><img src="sweep-latency.svg" alt="p50 and p99 time to in world of the viewers that got there, against the parameter"> <img src="sweep-failures.svg" alt="failure rate (viewers without a successful outcome) against the parameter"></p>
<table><tr><th>#</th><th class="l">{{.Spec.Param.Path}}</th><th>viewers</th><th>in world</th><th>failure rate</th><th>p50 of those in world</th><th>p99 of those in world</th><th>max of those in world</th>{{with .Spec.Threshold}}<th>{{.Stage}} {{.Stat}} of all viewers</th>{{end}}<th>failed expectations</th><th class="l">outcomes</th><th class="l">runs</th></tr>
{{range .Points}}<tr class="{{if and $.Knee (eq .Index $.Knee.Point)}}knee{{else if .Breaks}}broken{{end}}"><td>{{.Index}}</td><td class="l">{{.Value}}</td><td>{{.Viewers}}</td><td>{{.InWorld}}</td><td>{{pct .FailureRate}}</td><td>{{ms .P50MS}}</td><td>{{ms .P99MS}}</td><td>{{ms .MaxMS}}</td>{{if $.Spec.Threshold}}<td>{{.StatText}}</td>{{end}}<td>{{.ExpectFailed}}</td><td class="l">{{outcomes .Outcomes}}</td><td class="l">{{range .RunList}}<a href="{{.Dir}}/index.html">seed {{.Seed}}</a> {{end}}</td></tr>
{{end}}</table>
<p>Percentiles pool the viewers of every seed of a point (nearest rank, microsecond precision); each run's own report is linked.
The failure rate counts every viewer without a successful outcome, also one that got in world and failed later.
p50, p99 and max are the time to in world of the viewers that got there only.
{{with .Spec.Threshold}}The threshold's {{.Stat}} is over all the point's viewers: one that never reached {{.Stage}} counts as slower than every one that did, and when such viewers decide the statistic it is "never" (how many did not reach {{.Stage}} is in brackets), which breaks the threshold.{{end}}</p>
</body></html>
`))

func writeHTML(w io.Writer, ix *Index) error {
	if err := page.Execute(w, ix); err != nil {
		return fmt.Errorf("sweep: index.html: %w", err)
	}
	return nil
}

// ReadIndex reads dir's sweep.json.
func ReadIndex(dir string) (*Index, error) {
	var ix Index
	if err := readJSON(filepath.Join(dir, IndexFile), &ix); err != nil {
		return nil, err
	}
	return &ix, nil
}

// FormatMS writes milliseconds as a duration rounded to the millisecond ("1.234s").
func FormatMS(ms float64) string { return fmtMS(ms) }
