package reports

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// pngDPI is the resolution of the PNG figures.
const pngDPI = 96

// Figure is something drawable at a fixed size: a plot, a stack of aligned
// plots, or a sequence diagram.
type Figure interface {
	Size() (w, h vg.Length)
	Draw(dc draw.Canvas)
}

// plotFigure draws one plot at the default size.
type plotFigure struct {
	p    *plot.Plot
	w, h vg.Length
}

func (f plotFigure) Size() (vg.Length, vg.Length) { return f.w, f.h }
func (f plotFigure) Draw(dc draw.Canvas)          { f.p.Draw(dc) }

func onePlot(p *plot.Plot) Figure { return plotFigure{p, plotWidth, plotHeight} }

// stackFigure draws plots on top of each other with aligned data areas.
type stackFigure struct {
	plots []*plot.Plot
	w, h  vg.Length
}

func (f stackFigure) Size() (vg.Length, vg.Length) { return f.w, f.h }

func (f stackFigure) Draw(dc draw.Canvas) {
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	rows := make([][]*plot.Plot, len(f.plots))
	for i, p := range f.plots {
		rows[i] = []*plot.Plot{p}
	}
	t := draw.Tiles{Rows: len(f.plots), Cols: 1, PadY: vg.Points(6), PadTop: vg.Points(2), PadBottom: vg.Points(2)}
	cs := plot.Align(rows, t, dc)
	for i, p := range f.plots {
		p.Draw(cs[i][0])
	}
}

// encodeFigure renders f as "svg" or "png".
func encodeFigure(f Figure, format string) ([]byte, error) {
	w, h := f.Size()
	var c interface {
		vg.CanvasSizer
	}
	var wt io.WriterTo
	switch format {
	case "svg":
		sc := vgsvg.New(w, h)
		c, wt = sc, sc
	case "png":
		ic := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(pngDPI), vgimg.UseBackgroundColor(color.White))
		c, wt = ic, vgimg.PngCanvas{Canvas: ic}
	default:
		return nil, fmt.Errorf("reports: unsupported figure format %q", format)
	}
	f.Draw(draw.New(c))
	var b bytes.Buffer
	if _, err := wt.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// saveFigure writes f to path; the format follows the extension (.svg, .png).
func saveFigure(f Figure, path string) error {
	b, err := encodeFigure(f, strings.TrimPrefix(filepath.Ext(path), "."))
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// durationTicks marks a log axis in seconds with 1-2-5 steps labelled as
// durations (1ms, 10ms, 100ms, 1s, 10s, ...) and unlabelled minor ticks.
type durationTicks struct{}

func (durationTicks) Ticks(lo, hi float64) []plot.Tick {
	if lo <= 0 {
		lo = 1e-6
	}
	if hi <= lo {
		hi = lo * 10
	}
	var ts []plot.Tick
	for e := int(math.Floor(math.Log10(lo))); e <= int(math.Ceil(math.Log10(hi))); e++ {
		base := math.Pow10(e)
		for m := 1; m < 10; m++ {
			v := float64(m) * base
			if v < lo*0.999 || v > hi*1.001 {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = fmtTick(v)
			}
			ts = append(ts, t)
		}
	}
	return ts
}

// fmtTick formats seconds as a short duration: 500µs, 2ms, 20ms, 1s, 2m.
func fmtTick(s float64) string {
	d := time.Duration(math.Round(s * 1e9))
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%gµs", math.Round(s*1e7)/10)
	case d < time.Second:
		return fmt.Sprintf("%gms", math.Round(s*1e4)/10)
	case d < time.Minute:
		return fmt.Sprintf("%gs", math.Round(s*10)/10)
	default:
		return fmt.Sprintf("%gm", math.Round(s/6)/10)
	}
}

// logRange returns a log axis range covering [lo, hi] seconds with head room;
// lo is floored at 100 µs.
func logRange(lo, hi float64) (float64, float64) {
	lo = max(lo, 1e-4)
	hi = max(hi, lo*1.5)
	return lo / 1.25, hi * 1.25
}
