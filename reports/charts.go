package reports

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

var (
	failColor    = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	okColor      = color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}
	orangeColor  = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}
	purpleColor  = color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}
	timelineGray = color.Gray{Y: 120}
)

func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.Padding = vg.Points(6)
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Legend.Top = true
	p.Legend.Left = false
	p.Legend.XOffs = -vg.Points(14)
	p.Legend.ThumbnailWidth = vg.Points(20)
	p.X.Tick.Marker, p.Y.Tick.Marker = countTicks{}, countTicks{}
	g := plotter.NewGrid()
	g.Vertical.Color = gridColor
	g.Horizontal.Color = gridColor
	p.Add(g)
	return p
}

func addLine(p *plot.Plot, xys plotter.XYs, c color.Color, dashes []vg.Length, legend string) error {
	if len(xys) == 0 {
		return nil
	}
	l, err := plotter.NewLine(xys)
	if err != nil {
		return err
	}
	l.Color = c
	l.Width = vg.Points(1.5)
	l.Dashes = dashes
	p.Add(l)
	if legend != "" {
		p.Legend.Add(legend, l)
	}
	return nil
}

// countTicks are gonum's default ticks labelled without trailing zeros
// (250, not 250.00).
type countTicks struct{}

func (countTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = strconv.FormatFloat(ts[i].Value, 'f', -1, 64)
		}
	}
	return ts
}

// LoginHistogramPlot is the histogram of login-to-in-world time of the
// successful viewers with 10 logarithmic bins per decade.
func LoginHistogramPlot(r *Run) (*plot.Plot, error) {
	ds := loginToWorld(r)
	p := newPlot(fmt.Sprintf("%s: login to in world, histogram (n=%d)", r.Scenario, len(ds)),
		"time since intended login start (log bins, 10 per decade)", "viewers")
	if len(ds) == 0 {
		return p, addNote(p, emptyCDFText)
	}
	const perDecade = 10
	lo := max(ds[0].Seconds(), 1e-4)
	hi := max(ds[len(ds)-1].Seconds(), lo)
	e0 := math.Floor(math.Log10(lo) * perDecade)
	e1 := math.Floor(math.Log10(hi)*perDecade) + 1
	n := int(e1 - e0)
	bins := make([]plotter.HistogramBin, n)
	for i := range bins {
		bins[i].Min = math.Pow(10, (e0+float64(i))/perDecade)
		bins[i].Max = math.Pow(10, (e0+float64(i)+1)/perDecade)
	}
	for _, d := range ds {
		x := max(d.Seconds(), 1e-4)
		i := int(math.Floor(math.Log10(x)*perDecade) - e0)
		i = min(max(i, 0), n-1)
		bins[i].Weight++
	}
	h := &plotter.Histogram{Bins: bins, FillColor: cdfColor, LineStyle: plotter.DefaultLineStyle}
	h.LineStyle.Color = color.White
	h.LineStyle.Width = vg.Points(0.5)
	p.Add(h)
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = durationTicks{}
	p.X.Min, p.X.Max = bins[0].Min/1.1, bins[n-1].Max*1.1
	p.Y.Min = 0
	p50, p99 := percentilesOf(ds)
	var top float64
	for _, b := range bins {
		top = max(top, b.Weight)
	}
	p.Y.Max = top * 1.1
	for _, m := range []struct {
		name string
		d    time.Duration
		c    color.Color
	}{{"p50", p50, p50Color}, {"p99", p99, p99Color}} {
		x := max(m.d.Seconds(), 1e-4)
		if err := addLine(p, plotter.XYs{{X: x, Y: 0}, {X: x, Y: top * 1.1}}, m.c,
			[]vg.Length{vg.Points(4), vg.Points(3)}, fmt.Sprintf("%s = %s", m.name, fmtDuration(m.d))); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// arrivalBucket picks the width of the arrival-time buckets: about 30 over
// the arrival span, in whole seconds.
func arrivalBucket(r *Run) time.Duration {
	var last time.Duration
	for i := range r.Viewers {
		last = max(last, r.Viewers[i].Start)
	}
	b := (last/30 + time.Second - 1).Truncate(time.Second)
	return max(b, time.Second)
}

// ArrivalPercentilesPlot shows p50 and p99 of login-to-in-world time (log
// scale) of the successful viewers by when they arrived, and the failures.
func ArrivalPercentilesPlot(r *Run) (*plot.Plot, error) {
	bucket := arrivalBucket(r)
	p := newPlot(fmt.Sprintf("%s: login to in world by arrival time (%s buckets)", r.Scenario, fmtTick(bucket.Seconds())),
		"intended login start (s since run start)", "login to in world (log scale)")
	type acc struct {
		lat    *latency
		failed int
	}
	byBucket := map[int]*acc{}
	for i := range r.Viewers {
		v := &r.Viewers[i]
		k := int(v.Start / bucket)
		a := byBucket[k]
		if a == nil {
			a = &acc{lat: newLatency()}
			byBucket[k] = a
		}
		if v.Outcome == OutcomeSuccess && v.Stages[StageMovementComplete] >= 0 {
			a.lat.record(v.Stages[StageMovementComplete])
		} else if v.Outcome != OutcomeSuccess {
			a.failed++
		}
	}
	keys := make([]int, 0, len(byBucket))
	for k := range byBucket {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var p50s, p99s plotter.XYs
	lo, hi := math.Inf(1), 0.0
	failedBuckets := 0
	for _, k := range keys {
		a := byBucket[k]
		if a.failed > 0 {
			failedBuckets++
		}
		if a.lat.n == 0 {
			continue
		}
		x := (time.Duration(k)*bucket + bucket/2).Seconds()
		ps := a.lat.percentilesUS()
		y50, y99 := max(float64(ps[0])/1e6, 1e-4), max(float64(ps[3])/1e6, 1e-4)
		p50s = append(p50s, plotter.XY{X: x, Y: y50})
		p99s = append(p99s, plotter.XY{X: x, Y: y99})
		lo, hi = min(lo, y50), max(hi, y99)
	}
	if len(p50s) == 0 {
		return p, addNote(p, emptyCDFText)
	}
	if err := addLine(p, p99s, p99Color, nil, "p99"); err != nil {
		return nil, err
	}
	if err := addLine(p, p50s, p50Color, nil, "p50"); err != nil {
		return nil, err
	}
	for _, xys := range []plotter.XYs{p99s, p50s} {
		s, err := plotter.NewScatter(xys)
		if err != nil {
			return nil, err
		}
		s.GlyphStyle.Radius = vg.Points(1.8)
		s.GlyphStyle.Shape = draw.CircleGlyph{}
		p.Add(s)
	}
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = durationTicks{}
	p.Y.Min, p.Y.Max = logRange(lo, hi)
	p.X.Min = 0
	if failedBuckets > 0 {
		p.Title.Text += "\n(successful viewers only; failures are in the failure-mode chart)"
	}
	return p, addTimeline(p, r, p.Y.Min, p.Y.Max)
}

// addTimeline marks the executed fault-timeline entries as grey dashed lines.
func addTimeline(p *plot.Plot, r *Run, y0, y1 float64) error {
	for i, e := range r.Timeline {
		legend := ""
		if i == 0 {
			legend = "fault timeline"
		}
		x := e.At.Seconds()
		if err := addLine(p, plotter.XYs{{X: x, Y: y0}, {X: x, Y: y1}}, timelineGray,
			[]vg.Length{vg.Points(2), vg.Points(2)}, legend); err != nil {
			return err
		}
	}
	return nil
}

// rate returns per-second differences of a cumulative series of samples.
func rate(ss []Sample, f func(*Sample) float64) plotter.XYs {
	xys := make(plotter.XYs, 0, len(ss))
	prevT, prevV := 0.0, 0.0
	for i := range ss {
		t, v := ss[i].At.Seconds(), f(&ss[i])
		dt := t - prevT
		if dt <= 0 {
			continue
		}
		xys = append(xys, plotter.XY{X: t, Y: (v - prevV) / dt})
		prevT, prevV = t, v
	}
	return xys
}

func level(ss []Sample, f func(*Sample) float64) plotter.XYs {
	xys := make(plotter.XYs, len(ss))
	for i := range ss {
		xys[i] = plotter.XY{X: ss[i].At.Seconds(), Y: f(&ss[i])}
	}
	return xys
}

func maxY(sets ...plotter.XYs) float64 {
	m := 0.0
	for _, s := range sets {
		for _, xy := range s {
			m = max(m, xy.Y)
		}
	}
	return m
}

// stepLine adds a post-step line (one value per second interval).
func stepLine(p *plot.Plot, xys plotter.XYs, c color.Color, dashes []vg.Length, legend string) error {
	if len(xys) == 0 {
		return nil
	}
	// a rate sampled at t covers (t-1, t]: draw it as a step ending at t
	pts := make(plotter.XYs, 0, len(xys)+1)
	prev := 0.0
	for _, xy := range xys {
		pts = append(pts, plotter.XY{X: prev, Y: xy.Y})
		prev = xy.X
	}
	pts = append(pts, plotter.XY{X: prev, Y: xys[len(xys)-1].Y})
	l, err := plotter.NewLine(pts)
	if err != nil {
		return err
	}
	l.StepStyle = plotter.PostStep
	l.Color = c
	l.Width = vg.Points(1.3)
	l.Dashes = dashes
	p.Add(l)
	p.Legend.Add(legend, l)
	return nil
}

// ActivityFigure shows logins per second (in world and failed) over virtual
// time above the number of open circuits at the regions.
func ActivityFigure(r *Run) (Figure, error) {
	top := newPlot(r.Scenario+": logins per second", "", "logins decided / s")
	bottom := newPlot("concurrent circuits", "virtual time (s)", "circuits at the regions")
	if len(r.Samples) == 0 {
		if err := addNote(top, "no samples recorded"); err != nil {
			return nil, err
		}
		if err := addNote(bottom, "no samples recorded"); err != nil {
			return nil, err
		}
		return stackFigure{[]*plot.Plot{top, bottom}, plotWidth, plotHeight * 1.4}, nil
	}
	in := rate(r.Samples, func(s *Sample) float64 { return float64(s.InWorld) })
	failed := rate(r.Samples, func(s *Sample) float64 { return float64(s.Failed) })
	if err := stepLine(top, in, okColor, nil, "in world / s"); err != nil {
		return nil, err
	}
	if err := stepLine(top, failed, failColor, []vg.Length{vg.Points(4), vg.Points(2)}, "failed / s"); err != nil {
		return nil, err
	}
	circ := level(r.Samples, func(s *Sample) float64 { return float64(s.Circuits) })
	if err := addLine(bottom, circ, cdfColor, nil, "open circuits"); err != nil {
		return nil, err
	}
	end := r.Samples[len(r.Samples)-1].At.Seconds()
	for _, p := range []*plot.Plot{top, bottom} {
		p.X.Min, p.X.Max = 0, end
		p.Y.Min = 0
	}
	top.Y.Max = max(maxY(in, failed)*1.15, 1)
	bottom.Y.Max = max(maxY(circ)*1.15, 1)
	if err := addTimeline(top, r, 0, top.Y.Max); err != nil {
		return nil, err
	}
	if err := addTimeline(bottom, r, 0, bottom.Y.Max); err != nil {
		return nil, err
	}
	return stackFigure{[]*plot.Plot{top, bottom}, plotWidth, plotHeight * 1.4}, nil
}

// NetworkFigure shows UDP packets per second over virtual time above the
// losses, other drops and LLUDP resends per second.
func NetworkFigure(r *Run) (Figure, error) {
	top := newPlot(r.Scenario+": UDP datagrams per second", "", "datagrams / s")
	bottom := newPlot("losses, drops and resends per second", "virtual time (s)", "packets / s")
	if len(r.Samples) == 0 {
		if err := addNote(top, "no samples recorded"); err != nil {
			return nil, err
		}
		if err := addNote(bottom, "no samples recorded"); err != nil {
			return nil, err
		}
		return stackFigure{[]*plot.Plot{top, bottom}, plotWidth, plotHeight * 1.4}, nil
	}
	sent := rate(r.Samples, func(s *Sample) float64 { return float64(s.UDPSent) })
	deliv := rate(r.Samples, func(s *Sample) float64 { return float64(s.UDPDeliv) })
	lost := rate(r.Samples, func(s *Sample) float64 { return float64(s.UDPLost) })
	other := rate(r.Samples, func(s *Sample) float64 { return float64(s.Drops - s.UDPLost) })
	resent := rate(r.Samples, func(s *Sample) float64 { return float64(s.Resends) })
	if err := stepLine(top, sent, cdfColor, nil, "sent"); err != nil {
		return nil, err
	}
	if err := stepLine(top, deliv, okColor, []vg.Length{vg.Points(4), vg.Points(2)}, "delivered"); err != nil {
		return nil, err
	}
	if err := stepLine(bottom, lost, failColor, nil, "lost on links (loss)"); err != nil {
		return nil, err
	}
	if err := stepLine(bottom, other, purpleColor, []vg.Length{vg.Points(1), vg.Points(2)}, "dropped, other reasons"); err != nil {
		return nil, err
	}
	if err := stepLine(bottom, resent, orangeColor, []vg.Length{vg.Points(4), vg.Points(2)}, "LLUDP resends"); err != nil {
		return nil, err
	}
	end := r.Samples[len(r.Samples)-1].At.Seconds()
	for _, p := range []*plot.Plot{top, bottom} {
		p.X.Min, p.X.Max = 0, end
		p.Y.Min = 0
	}
	top.Y.Max = max(maxY(sent, deliv)*1.15, 1)
	bottom.Y.Max = max(maxY(lost, other, resent)*1.15, 1)
	if err := addTimeline(top, r, 0, top.Y.Max); err != nil {
		return nil, err
	}
	if err := addTimeline(bottom, r, 0, bottom.Y.Max); err != nil {
		return nil, err
	}
	return stackFigure{[]*plot.Plot{top, bottom}, plotWidth, plotHeight * 1.4}, nil
}

// FailureBarsPlot shows viewers per failure mode as horizontal bars, most
// frequent on top.
func FailureBarsPlot(r *Run) (*plot.Plot, error) {
	rep := Build(r)
	p := newPlot(fmt.Sprintf("%s: failure modes (%d of %d viewers failed)", r.Scenario, rep.Viewers.Failed, rep.Viewers.Total),
		"viewers", "")
	if len(rep.Failures) == 0 {
		return p, addNote(p, "no failures: every viewer got in world")
	}
	n := len(rep.Failures)
	vals := make(plotter.Values, n)
	names := make([]string, n)
	for i, f := range rep.Failures { // bottom to top: least frequent first
		j := n - 1 - i
		vals[j] = float64(f.Count)
		names[j] = fmt.Sprintf("%s (%d)", f.Mode, f.Count)
	}
	b, err := plotter.NewBarChart(vals, vg.Points(min(28, 200/float64(n))))
	if err != nil {
		return nil, err
	}
	b.Horizontal = true
	b.Color = failColor
	b.LineStyle.Width = 0
	p.Add(b)
	p.NominalY(names...)
	p.X.Min = 0
	p.X.Max = maxValue(vals) * 1.1
	return p, nil
}

func maxValue(vs plotter.Values) float64 {
	m := 1.0
	for _, v := range vs {
		m = max(m, v)
	}
	return m
}

// wrapText cuts s into lines of at most n runes at spaces.
func wrapText(s string, n int) []string {
	var lines []string
	var cur strings.Builder
	for _, w := range strings.Fields(s) {
		if cur.Len() > 0 && len([]rune(cur.String()))+1+len([]rune(w)) > n {
			lines = append(lines, cur.String())
			cur.Reset()
		}
		if cur.Len() > 0 {
			cur.WriteByte(' ')
		}
		cur.WriteString(w)
	}
	if cur.Len() > 0 {
		lines = append(lines, cur.String())
	}
	return lines
}
