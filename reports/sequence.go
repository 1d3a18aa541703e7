package reports

import (
	"fmt"
	"image/color"
	"slices"
	"strings"
	"time"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Sequence-diagram layout, in points.
const (
	seqWidth    = 620
	seqRow      = 15
	seqHeader   = 74
	seqFooter   = 14
	seqMaxRows  = 72 // rows drawn; longer traces keep the head and the tail
	seqTailRows = 26
	seqTimeX    = 6
)

// lifeline x positions by party.
var seqX = map[string]vg.Length{PartyViewer: 170, PartyLogin: 350, PartyRegion: 530}

var seqParties = []struct{ id, title string }{
	{PartyViewer, "Viewer"}, {PartyLogin, "Login server"}, {PartyRegion, "Region"},
}

var (
	seqLineColor = color.Gray{Y: 60}
	seqNoteBG    = color.RGBA{R: 0xf4, G: 0xf4, B: 0xf4, A: 0xff}
	seqDropColor = color.RGBA{R: 0xc0, G: 0x10, B: 0x10, A: 0xff}
	seqOKColor   = color.RGBA{R: 0x1a, G: 0x7f, B: 0x1a, A: 0xff}
)

// SequenceDiagram draws one viewer's recorded trace in the style of the SL
// wiki's login sequence: lifelines for the viewer, the login server and the
// region; solid arrows for HTTP, dashed for UDP; virtual times on the left
// (send time, and receive time when it differs), relative to the viewer's
// intended login start; dropped packets end in a red cross.
type SequenceDiagram struct {
	Title  string
	Viewer Viewer
	Trace  ViewerTrace
	rows   []TraceEvent
}

// NewSequenceDiagram lays out tr (bounded to seqMaxRows rows).
func NewSequenceDiagram(title string, v Viewer, tr ViewerTrace) *SequenceDiagram {
	rows := tr.Events
	// Once in world, the steady AgentUpdate/ping traffic tells little: keep a few events after
	// the login and the last few (the logout), and say how many were left out between.
	for i, e := range rows {
		if e.Kind == TraceOutcome && e.What == "in world" && len(rows)-i > 16 {
			head, tail := rows[:i+5], rows[len(rows)-8:]
			gap := TraceEvent{At: tail[0].At, Kind: TraceGap, What: fmt.Sprintf("%d events in world not drawn (AgentUpdate, pings, acks)", len(rows)-len(head)-len(tail))}
			rows = slices.Concat(head, []TraceEvent{gap}, tail)
			break
		}
	}
	if len(rows) > seqMaxRows {
		head := rows[:seqMaxRows-seqTailRows-1]
		tail := rows[len(rows)-seqTailRows:]
		gap := TraceEvent{At: tail[0].At, Kind: TraceGap, What: fmt.Sprintf("%d events not drawn", len(rows)-len(head)-len(tail))}
		rows = slices.Concat(head, []TraceEvent{gap}, tail)
	}
	return &SequenceDiagram{Title: title, Viewer: v, Trace: tr, rows: rows}
}

// Size returns the diagram's size: fixed width, a row per event.
func (d *SequenceDiagram) Size() (vg.Length, vg.Length) {
	return seqWidth, vg.Length(seqHeader + seqFooter + seqRow*d.rowCount())
}

func (d *SequenceDiagram) rowCount() int {
	n := 0
	for _, e := range d.rows {
		n += rowsOf(e)
	}
	return max(n, 1)
}

// rowsOf is the number of rows an event takes (outcome notes wrap).
func rowsOf(e TraceEvent) int {
	if e.Kind == TraceOutcome {
		return len(wrapText(outcomeText(e), 90)) + 1
	}
	return 1
}

func outcomeText(e TraceEvent) string {
	if e.Note == "" {
		return e.What
	}
	return e.What + ": " + e.Note
}

func seqFont(size vg.Length, c color.Color, bold bool) text.Style {
	f := plot.DefaultFont
	if bold {
		f.Weight = xfont.WeightBold
	}
	return text.Style{Color: c, Font: font.From(f, size), Handler: plot.DefaultTextHandler}
}

// fmtOffset formats a time relative to the viewer's start: +1.234s, +12.3ms.
func fmtOffset(d time.Duration) string {
	if d < 0 {
		return "-" + fmtDuration(-d)
	}
	return "+" + fmtDuration(d)
}

// Draw draws the diagram.
func (d *SequenceDiagram) Draw(dc draw.Canvas) {
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	_, h := d.Size()
	top := dc.Min.Y + h
	x0 := dc.Min.X
	at := func(y vg.Length) vg.Length { return top - y } // y measured from the top

	title := seqFont(11, color.Black, true)
	dc.FillText(title, vg.Point{X: x0 + 8, Y: at(16)}, d.Title)
	sub := seqFont(8, color.Gray{Y: 80}, false)
	v := d.Viewer
	info := fmt.Sprintf("viewer %d %s · %s · %s · profile %s · started at %s",
		v.ID, v.Name, v.Population, v.Placement, v.Profile, fmtDuration(v.Start))
	if d.Trace.Omitted > 0 {
		info += fmt.Sprintf(" · %d events not recorded", d.Trace.Omitted)
	}
	dc.FillText(sub, vg.Point{X: x0 + 8, Y: at(29)}, info)
	dc.FillText(sub, vg.Point{X: x0 + seqTimeX, Y: at(seqHeader - 6)}, "time since login start")

	// participants and lifelines
	boxSty := seqFont(9, color.Black, true)
	boxSty.XAlign, boxSty.YAlign = text.XCenter, text.YCenter
	lifeTop, lifeBottom := at(seqHeader-16), at(h-seqFooter+4)
	for _, p := range seqParties {
		x := x0 + seqX[p.id]
		bw := vg.Length(86)
		box := []vg.Point{{X: x - bw/2, Y: at(38)}, {X: x + bw/2, Y: at(38)}, {X: x + bw/2, Y: at(56)}, {X: x - bw/2, Y: at(56)}}
		dc.FillPolygon(seqNoteBG, box)
		dc.StrokeLines(draw.LineStyle{Color: seqLineColor, Width: 0.8}, append(box, box[0]))
		dc.FillText(boxSty, vg.Point{X: x, Y: at(47)}, p.title)
		dc.StrokeLine2(draw.LineStyle{Color: color.Gray{Y: 170}, Width: 0.6, Dashes: []vg.Length{2, 2}}, x, lifeTop, x, lifeBottom)
	}

	timeSty := seqFont(7, color.Gray{Y: 70}, false)
	label := seqFont(7.5, color.Black, false)
	label.XAlign = text.XCenter
	y := vg.Length(seqHeader)
	for _, e := range d.rows {
		y += seqRow
		base := at(y)
		t := fmtOffset(e.At - v.Start)
		if e.Kind == TraceMessage && e.RecvAt > 0 && e.RecvAt != e.At {
			t += " → " + fmtOffset(e.RecvAt-v.Start)
		}
		if e.Kind != TraceGap {
			dc.FillText(timeSty, vg.Point{X: x0 + seqTimeX, Y: base - 2}, t)
		}
		switch e.Kind {
		case TraceMessage, TraceDrop:
			d.drawArrow(dc, x0, base, e, label)
		case TraceStage:
			x := x0 + seqX[PartyViewer]
			dc.FillPolygon(seqOKColor, diamond(x, base+2, 3.5))
			s := seqFont(7.5, seqOKColor, true)
			dc.FillText(s, vg.Point{X: x + 7, Y: base - 1}, "reached "+e.What)
		case TraceGap:
			s := seqFont(7.5, color.Gray{Y: 110}, false)
			s.XAlign = text.XCenter
			dc.FillText(s, vg.Point{X: x0 + seqWidth/2 + 40, Y: base - 1}, "· · ·  "+e.What+"  · · ·")
		case TraceOutcome:
			lines := wrapText(outcomeText(e), 90)
			c := seqDropColor
			if e.What == OutcomeSuccess || strings.HasPrefix(e.What, "in world") {
				c = seqOKColor
			}
			bx0, bx1 := x0+seqX[PartyViewer]-40, x0+seqX[PartyRegion]+60
			by0 := base + seqRow - 5
			by1 := base - vg.Length(len(lines)-1)*seqRow - 5
			box := []vg.Point{{X: bx0, Y: by0}, {X: bx1, Y: by0}, {X: bx1, Y: by1}, {X: bx0, Y: by1}}
			dc.FillPolygon(seqNoteBG, box)
			dc.StrokeLines(draw.LineStyle{Color: c, Width: 1}, append(box, box[0]))
			s := seqFont(8, c, true)
			for i, l := range lines {
				dc.FillText(s, vg.Point{X: bx0 + 6, Y: base - vg.Length(i)*seqRow - 1}, l)
			}
			y += vg.Length(len(lines)) * seqRow
		}
	}
}

func diamond(x, y, r vg.Length) []vg.Point {
	return []vg.Point{{X: x, Y: y + r}, {X: x + r, Y: y}, {X: x, Y: y - r}, {X: x - r, Y: y}}
}

// messageLabel is the text above an arrow: name, sequence number and flags.
func messageLabel(e TraceEvent) string {
	var b strings.Builder
	b.WriteString(e.What)
	if e.Seq != 0 {
		fmt.Fprintf(&b, " #%d", e.Seq)
	}
	var flags []string
	if e.Reliable {
		flags = append(flags, "reliable")
	}
	if e.Resent {
		flags = append(flags, "RESENT")
	}
	if e.Acks > 0 {
		flags = append(flags, fmt.Sprintf("%d ack(s)", e.Acks))
	}
	if len(flags) > 0 {
		b.WriteString(" [" + strings.Join(flags, ", ") + "]")
	}
	if e.Dropped {
		b.WriteString(" — DROPPED")
		if e.Note != "" {
			b.WriteString(": " + e.Note)
		}
	} else if e.Note != "" {
		b.WriteString(" — " + e.Note)
	}
	return b.String()
}

func (d *SequenceDiagram) drawArrow(dc draw.Canvas, x0, base vg.Length, e TraceEvent, label text.Style) {
	from, ok1 := seqX[e.From]
	to, ok2 := seqX[e.To]
	if !ok1 || !ok2 || from == to {
		s := label
		s.XAlign = text.XLeft
		dc.FillText(s, vg.Point{X: x0 + seqX[PartyViewer] + 6, Y: base}, messageLabel(e))
		return
	}
	xa, xb := x0+from, x0+to
	dropped := e.Dropped || e.Kind == TraceDrop
	c := color.Color(seqLineColor)
	if dropped {
		c = seqDropColor
	}
	ls := draw.LineStyle{Color: c, Width: 0.9}
	if e.From != PartyLogin && e.To != PartyLogin { // UDP: dashed, as in the SL wiki
		ls.Dashes = []vg.Length{4, 2}
	}
	end := xb
	if dropped {
		end = xa + (xb-xa)*0.6
	}
	dc.StrokeLine2(ls, xa, base, end, base)
	if dropped {
		r := vg.Length(3.5)
		xs := draw.LineStyle{Color: seqDropColor, Width: 1.6}
		dc.StrokeLine2(xs, end-r, base-r, end+r, base+r)
		dc.StrokeLine2(xs, end-r, base+r, end+r, base-r)
	} else {
		dir := vg.Length(1)
		if xb < xa {
			dir = -1
		}
		dc.FillPolygon(c, []vg.Point{{X: xb, Y: base}, {X: xb - dir*6, Y: base + 2.8}, {X: xb - dir*6, Y: base - 2.8}})
	}
	s := label
	s.Color = c
	mid := (xa + xb) / 2
	if dropped {
		mid = (xa + end) / 2
	}
	txt := messageLabel(e)
	if e.Kind == TraceDrop {
		txt = e.What
		if e.Note != "" {
			txt += " — DROPPED: " + e.Note
		}
	}
	dc.FillText(s, vg.Point{X: mid, Y: base + 2}, txt)
}
