package reports

import (
	"fmt"
	"html/template"
	"image/color"
	"io"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Comparison is two runs side by side: A (the baseline) and B.
type Comparison struct {
	NameA, NameB string
	A, B         *Run
	RepA, RepB   *Report
}

// fmtDelta formats b-a in ms as a signed duration with the relative change.
func fmtDelta(a, b float64) string {
	d := b - a
	sign := "+"
	if d < 0 {
		sign = "-"
	}
	s := sign + fmtDuration(msDuration(math.Abs(d)))
	if a > 0 {
		s += fmt.Sprintf(" (%+.1f%%)", 100*d/a)
	}
	return s
}

// compareRows returns the text table rows: stage, percentile, A, B, delta.
func (c *Comparison) stageRows() [][]string {
	var rows [][]string
	for s := range NumStages {
		a, b := c.RepA.Stages[s], c.RepB.Stages[s]
		if a.Count == 0 && b.Count == 0 {
			rows = append(rows, []string{s.Title(), "n", "0", "0", "not reached in either run"})
			continue
		}
		rows = append(rows, []string{s.Title(), "n", itoa(a.Count), itoa(b.Count), fmt.Sprintf("%+d", b.Count-a.Count)})
		for _, p := range []struct {
			name string
			a, b float64
		}{{"p50", a.P50MS, b.P50MS}, {"p90", a.P90MS, b.P90MS}, {"p99", a.P99MS, b.P99MS}, {"p99.9", a.P999MS, b.P999MS}, {"max", a.MaxMS, b.MaxMS}} {
			va, vb, dd := "–", "–", "–"
			if a.Count > 0 {
				va = fmtDuration(msDuration(p.a))
			}
			if b.Count > 0 {
				vb = fmtDuration(msDuration(p.b))
			}
			if a.Count > 0 && b.Count > 0 {
				dd = fmtDelta(p.a, p.b)
			}
			rows = append(rows, []string{"", p.name, va, vb, dd})
		}
	}
	return rows
}

func (c *Comparison) outcomeRows() [][]string {
	names := map[string]bool{}
	for k := range c.RepA.Outcomes {
		names[k] = true
	}
	for k := range c.RepB.Outcomes {
		names[k] = true
	}
	keys := sortedKeys(names)
	// success first
	slices.SortStableFunc(keys, func(x, y string) int {
		if (x == OutcomeSuccess) != (y == OutcomeSuccess) {
			if x == OutcomeSuccess {
				return -1
			}
			return 1
		}
		return 0
	})
	rows := [][]string{{"viewers", itoa(c.RepA.Viewers.Total), itoa(c.RepB.Viewers.Total), fmt.Sprintf("%+d", c.RepB.Viewers.Total-c.RepA.Viewers.Total)}}
	for _, k := range keys {
		a, b := c.RepA.Outcomes[k], c.RepB.Outcomes[k]
		rows = append(rows, []string{k, itoa(a), itoa(b), fmt.Sprintf("%+d", b-a)})
	}
	return rows
}

func writeTable(w io.Writer, header []string, rows [][]string) {
	width := make([]int, len(header))
	for i, h := range header {
		width[i] = len([]rune(h))
	}
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	line := func(cells []string) {
		var b strings.Builder
		for i, c := range cells {
			pad := strings.Repeat(" ", width[i]-len([]rune(c)))
			if i <= 1 {
				b.WriteString(c + pad)
			} else {
				b.WriteString(pad + c)
			}
			b.WriteString("  ")
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(header)
	for _, r := range rows {
		line(r)
	}
}

// WriteText writes the comparison as text: outcome counts and per-stage
// percentiles of A and B with B's change relative to A.
func (c *Comparison) WriteText(w io.Writer) {
	fmt.Fprintf(w, "A: %s  (%s, seed %d, trace %s)\n", c.NameA, c.RepA.Scenario, c.RepA.Seed, c.RepA.TraceHash)
	fmt.Fprintf(w, "B: %s  (%s, seed %d, trace %s)\n\n", c.NameB, c.RepB.Scenario, c.RepB.Seed, c.RepB.TraceHash)
	rows := c.outcomeRows()
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = []string{r[0], "", r[1], r[2], r[3]}
	}
	writeTable(w, []string{"outcome", "", "A", "B", "B-A"}, out)
	fmt.Fprintln(w)
	writeTable(w, []string{"stage", "", "A", "B", "B-A"}, c.stageRows())
}

// CompareCDFPlot overlays the per-stage CDFs of A (solid) and B (dashed).
func (c *Comparison) CompareCDFPlot() (*plot.Plot, error) {
	p := newCDFPlot(fmt.Sprintf("time to each login stage: A solid, B dashed\nA = %s, B = %s", c.NameA, c.NameB))
	minS, maxS := math.Inf(1), 0.0
	drawn := 0
	for s := range NumStages {
		for k, r := range []*Run{c.A, c.B} {
			ds := stageTimes(r, s)
			if len(ds) == 0 {
				continue
			}
			l, err := cdfLine(ds)
			if err != nil {
				return nil, err
			}
			l.Color = plotutil.Color(int(s))
			l.Width = vg.Points(1.5)
			if k == 1 {
				l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
			}
			p.Add(l)
			p.Legend.Add(fmt.Sprintf("%s %s (n=%d)", []string{"A", "B"}[k], s.Title(), len(ds)), l)
			minS, maxS = min(minS, ds[0].Seconds()), max(maxS, ds[len(ds)-1].Seconds())
			drawn++
		}
	}
	if drawn == 0 {
		return p, addNote(p, "no viewer reached any login stage in either run")
	}
	setXRange(p, minS, maxS)
	return p, nil
}

// CompareLoginPlot overlays the login-to-in-world CDFs of A and B.
func (c *Comparison) CompareLoginPlot() (*plot.Plot, error) {
	p := newCDFPlot("login to in world: A vs B")
	minS, maxS := math.Inf(1), 0.0
	for k, r := range []*Run{c.A, c.B} {
		ds := loginToWorld(r)
		if len(ds) == 0 {
			continue
		}
		l, err := cdfLine(ds)
		if err != nil {
			return nil, err
		}
		l.Width = vg.Points(1.6)
		l.Color = []color.Color{cdfColor, p99Color}[k]
		if k == 1 {
			l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		p50, p99 := percentilesOf(ds)
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("%s (n=%d, p50 %s, p99 %s)", []string{"A", "B"}[k], len(ds), fmtDuration(p50), fmtDuration(p99)), l)
		minS, maxS = min(minS, ds[0].Seconds()), max(maxS, ds[len(ds)-1].Seconds())
	}
	if maxS == 0 {
		return p, addNote(p, emptyCDFText)
	}
	setXRange(p, minS, maxS)
	return p, nil
}

type compareData struct {
	CSS          template.CSS
	Script       template.JS
	NameA, NameB string
	RepA, RepB   *Report
	Outcomes     [][]string
	Stages       [][]string
	Figures      []htmlFigure
}

// WriteHTML writes a self-contained comparison page: the tables and the
// overlaid CDFs.
func (c *Comparison) WriteHTML(w io.Writer) error {
	d := compareData{CSS: template.CSS(pageCSS), Script: template.JS(imageCheckJS), NameA: c.NameA, NameB: c.NameB,
		RepA: c.RepA, RepB: c.RepB, Outcomes: c.outcomeRows(), Stages: c.stageRows()}
	for _, f := range []struct {
		id, title string
		mk        func() (*plot.Plot, error)
	}{{"login", "Login to in world", c.CompareLoginPlot}, {"stages", "Time to each login stage", c.CompareCDFPlot}} {
		p, err := f.mk()
		if err != nil {
			return err
		}
		svg, err := encodeFigure(onePlot(p), "svg")
		if err != nil {
			return err
		}
		d.Figures = append(d.Figures, htmlFigure{ID: f.id, Title: f.title, Src: dataURI("image/svg+xml", svg)})
	}
	return compareTmpl.Execute(w, d)
}

var compareTmpl = template.Must(template.New("compare").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gridlab · compare</title>
<style>{{.CSS}}</style>
<script>{{.Script}}</script>
</head>
<body>
<h1>A vs B</h1>
<p class="sub">A = <code>{{.NameA}}</code> ({{.RepA.Scenario}}, seed {{.RepA.Seed}}) · B = <code>{{.NameB}}</code> ({{.RepB.Scenario}}, seed {{.RepB.Seed}})</p>
<h2>Outcomes</h2>
<table><tr><th>outcome</th><th>A</th><th>B</th><th>B − A</th></tr>
{{- range .Outcomes}}<tr><td>{{index . 0}}</td><td class="n">{{index . 1}}</td><td class="n">{{index . 2}}</td><td class="n">{{index . 3}}</td></tr>{{end}}
</table>
<h2>Time to each stage</h2>
<table><tr><th>stage</th><th></th><th>A</th><th>B</th><th>B − A</th></tr>
{{- range .Stages}}<tr><td>{{index . 0}}</td><td>{{index . 1}}</td><td class="n">{{index . 2}}</td><td class="n">{{index . 3}}</td><td class="n">{{index . 4}}</td></tr>{{end}}
</table>
<h2>CDFs overlaid</h2>
{{- range .Figures}}
<figure id="{{.ID}}"><h3>{{.Title}}</h3><img src="{{.Src}}" alt="{{.Title}}" width="672"></figure>
{{- end}}
</body>
</html>
`))
