package reports

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
)

// Figure size of the CDF plots.
const (
	plotWidth  = 7 * vg.Inch
	plotHeight = 4.5 * vg.Inch
)

// maxCDFPoints bounds the points of one CDF line so that plots of large runs
// stay small; above it the empirical CDF is sampled at evenly spaced ranks.
const maxCDFPoints = 2000

// emptyCDFText is what a CDF plot says when it has nothing to draw.
const emptyCDFText = "no viewer reached AgentMovementComplete"

var (
	gridColor = color.Gray{Y: 225}
	p50Color  = color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}
	p99Color  = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	cdfColor  = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
)

// loginToWorld returns the login-to-AgentMovementComplete times of the
// successful viewers, sorted.
func loginToWorld(r *Run) []time.Duration {
	var ds []time.Duration
	for i := range r.Viewers {
		v := &r.Viewers[i]
		if v.Outcome == OutcomeSuccess && v.Stages[StageMovementComplete] >= 0 {
			ds = append(ds, v.Stages[StageMovementComplete])
		}
	}
	slices.Sort(ds)
	return ds
}

// stageTimes returns the times of every viewer that reached stage s, sorted.
func stageTimes(r *Run, s Stage) []time.Duration {
	var ds []time.Duration
	for i := range r.Viewers {
		if d := r.Viewers[i].Stages[s]; d >= 0 {
			ds = append(ds, d)
		}
	}
	slices.Sort(ds)
	return ds
}

// cdfXYs returns the empirical CDF of sorted for a PostStep line: x in
// seconds, y the fraction of values <= x. Ties collapse into one step, and
// above maxCDFPoints steps the CDF is sampled at evenly spaced ranks.
func cdfXYs(sorted []time.Duration) plotter.XYs {
	n := len(sorted)
	if n == 0 {
		return nil
	}
	// ranks[i] is the 1-based rank of the last value of each distinct run.
	var ranks []int
	for i := range sorted {
		if i == n-1 || sorted[i+1] != sorted[i] {
			ranks = append(ranks, i+1)
		}
	}
	if len(ranks) > maxCDFPoints {
		sampled := make([]int, 0, maxCDFPoints)
		for j := 1; j <= maxCDFPoints; j++ {
			want := (j*n + maxCDFPoints - 1) / maxCDFPoints // ceil(j*n/M)
			// the first distinct-run end at or after want
			k, _ := slices.BinarySearch(ranks, want)
			if len(sampled) == 0 || sampled[len(sampled)-1] != ranks[k] {
				sampled = append(sampled, ranks[k])
			}
		}
		ranks = sampled
	}
	xys := make(plotter.XYs, 0, len(ranks)+1)
	xys = append(xys, plotter.XY{X: sorted[0].Seconds(), Y: 0})
	for _, rk := range ranks {
		xys = append(xys, plotter.XY{X: sorted[rk-1].Seconds(), Y: float64(rk) / float64(n)})
	}
	return xys
}

// percentilesOf returns p50 and p99 of sorted, computed the way the report
// does it (HDR histogram, clamped to the exact min and max).
func percentilesOf(sorted []time.Duration) (p50, p99 time.Duration) {
	l := newLatency()
	for _, d := range sorted {
		l.record(d)
	}
	ps := l.percentilesUS()
	return time.Duration(ps[0]) * time.Microsecond, time.Duration(ps[3]) * time.Microsecond
}

func newCDFPlot(title string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.Padding = vg.Points(6)
	p.X.Label.Text = "time since intended login start (log scale)"
	p.Y.Label.Text = "fraction of viewers"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = durationTicks{}
	p.Y.Min, p.Y.Max = 0, 1
	p.Y.Tick.Marker = plot.ConstantTicks(fractionTicks())
	p.Legend.Top = false
	p.Legend.Left = false
	p.Legend.XOffs = -vg.Points(8)
	p.Legend.YOffs = vg.Points(8)
	p.Legend.ThumbnailWidth = vg.Points(20)
	g := plotter.NewGrid()
	g.Vertical.Color = gridColor
	g.Horizontal.Color = gridColor
	p.Add(g)
	return p
}

func fractionTicks() []plot.Tick {
	ts := make([]plot.Tick, 0, 21)
	for i := 0; i <= 20; i++ {
		t := plot.Tick{Value: float64(i) / 20}
		if i%2 == 0 {
			t.Label = fmt.Sprintf("%.1f", t.Value)
		}
		ts = append(ts, t)
	}
	return ts
}

// setXRange sets the log x range to cover [minS, maxS] with some head room.
func setXRange(p *plot.Plot, minS, maxS float64) {
	p.X.Min, p.X.Max = logRange(minS, maxS)
}

// logXYs clamps x values to the smallest value a log axis shows (100 µs).
func logXYs(xys plotter.XYs) plotter.XYs {
	for i := range xys {
		xys[i].X = max(xys[i].X, 1e-4)
	}
	return xys
}

// addNote writes text in the middle of the data area (and makes the axes linear).
func addNote(p *plot.Plot, msg string) error {
	p.X.Scale, p.X.Tick.Marker = plot.LinearScale{}, plot.DefaultTicks{}
	p.Y.Scale, p.Y.Tick.Marker = plot.LinearScale{}, plot.DefaultTicks{}
	p.X.Min, p.X.Max = 0, 1
	p.Y.Min, p.Y.Max = 0, 1
	l, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: 0.5, Y: 0.5}}, Labels: []string{msg}})
	if err != nil {
		return err
	}
	l.TextStyle[0].XAlign = text.XCenter
	l.TextStyle[0].YAlign = text.YCenter
	l.TextStyle[0].Font.Size = vg.Points(14)
	p.Add(l)
	return nil
}

// vline returns a vertical dashed line at x from y=0 to y=1.
func vline(x float64, c color.Color) (*plotter.Line, error) {
	l, err := plotter.NewLine(plotter.XYs{{X: x, Y: 0}, {X: x, Y: 1}})
	if err != nil {
		return nil, err
	}
	l.Color = c
	l.Width = vg.Points(1)
	l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	return l, nil
}

// CDFPlot builds the CDF of login-to-AgentMovementComplete time for the
// successful viewers of r, with p50 and p99 marked. With no such viewer the
// plot says so instead.
func CDFPlot(r *Run) (*plot.Plot, error) {
	ds := loginToWorld(r)
	p := newCDFPlot(fmt.Sprintf("%s: login to AgentMovementComplete (n=%d)", r.Scenario, len(ds)))
	if len(ds) == 0 {
		return p, addNote(p, emptyCDFText)
	}
	l, err := cdfLine(ds)
	if err != nil {
		return nil, err
	}
	l.Color = cdfColor
	l.Width = vg.Points(1.5)
	p.Add(l)
	p.Legend.Add("successful viewers", l)

	p50, p99 := percentilesOf(ds)
	for _, m := range []struct {
		name string
		d    time.Duration
		c    color.Color
	}{{"p50", p50, p50Color}, {"p99", p99, p99Color}} {
		vl, err := vline(max(m.d.Seconds(), 1e-4), m.c)
		if err != nil {
			return nil, err
		}
		p.Add(vl)
		p.Legend.Add(fmt.Sprintf("%s = %s", m.name, fmtDuration(m.d)), vl)
	}
	setXRange(p, ds[0].Seconds(), ds[len(ds)-1].Seconds())
	return p, nil
}

// StageCDFPlot builds one figure with a CDF line per login stage, each over
// the viewers that reached that stage.
func StageCDFPlot(r *Run) (*plot.Plot, error) {
	p := newCDFPlot(fmt.Sprintf("%s: time to each login stage (%d viewers)", r.Scenario, len(r.Viewers)))
	minS, maxS := math.Inf(1), 0.0
	drawn := 0
	var unreached []string
	for s := range NumStages {
		ds := stageTimes(r, s)
		if len(ds) == 0 {
			unreached = append(unreached, s.Title())
			continue
		}
		l, err := cdfLine(ds)
		if err != nil {
			return nil, err
		}
		l.Color = plotutil.Color(int(s))
		l.Dashes = plotutil.Dashes(int(s))
		l.Width = vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("%s (n=%d)", s.Title(), len(ds)), l)
		minS = min(minS, ds[0].Seconds())
		maxS = max(maxS, ds[len(ds)-1].Seconds())
		drawn++
	}
	if drawn == 0 {
		return p, addNote(p, "no viewer reached any login stage")
	}
	if len(unreached) > 0 {
		p.Title.Text += "\nnot reached by any viewer: " + strings.Join(unreached, ", ")
	}
	setXRange(p, minS, maxS)
	return p, nil
}

// WriteCDF writes CDFPlot(r) to path; the format follows the extension
// (.svg, .png, .pdf, ...).
func WriteCDF(r *Run, path string) error {
	p, err := CDFPlot(r)
	if err != nil {
		return fmt.Errorf("reports: CDF plot: %w", err)
	}
	return saveFigure(onePlot(p), path)
}

// WriteStageCDFs writes StageCDFPlot(r) to path; the format follows the
// extension.
func WriteStageCDFs(r *Run, path string) error {
	p, err := StageCDFPlot(r)
	if err != nil {
		return fmt.Errorf("reports: stage CDF plot: %w", err)
	}
	return saveFigure(onePlot(p), path)
}

// cdfLine is the empirical CDF of ds as a step line on the log time axis.
func cdfLine(ds []time.Duration) (*plotter.Line, error) {
	l, err := plotter.NewLine(logXYs(cdfXYs(ds)))
	if err != nil {
		return nil, err
	}
	l.StepStyle = plotter.PostStep
	return l, nil
}
