package reports

import (
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
)

// dataURI embeds an image in the page.
func dataURI(mime string, b []byte) template.URL {
	return template.URL("data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(b))
}

// pageCSS is shared by index.html and the comparison page.
const pageCSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1100px;padding:0 18px 40px;color:#222;line-height:1.4}
h1{font-size:1.6em;margin:18px 0 2px}h2{font-size:1.25em;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:3px}
h3{font-size:1.05em;margin:18px 0 4px}
.sub{color:#666;margin:0 0 12px}
table{border-collapse:collapse;margin:6px 0 10px;display:block;max-width:100%;overflow-x:auto}th,td{padding:3px 10px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
th{background:#f6f6f6}td.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#1a7f1a;font-weight:600}.bad{color:#c01010;font-weight:600}
.big{font-size:1.3em}
figure{margin:12px 0 22px}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{color:#555;font-size:.92em}
code{background:#f4f4f4;padding:0 3px}
.files a{margin-right:12px}
.why{max-width:900px;border-left:3px solid #c01010;padding-left:8px}
`

// imageCheckJS marks the page with how many images loaded, for people and
// for the headless-browser test: data-images and data-broken-images on <html>.
const imageCheckJS = `
window.addEventListener('load', function () {
  var imgs = document.images, broken = 0;
  for (var i = 0; i < imgs.length; i++) {
    if (!imgs[i].complete || imgs[i].naturalWidth === 0) { broken++; }
  }
  document.documentElement.setAttribute('data-images', String(imgs.length));
  document.documentElement.setAttribute('data-broken-images', String(broken));
});
`

type htmlFigure struct {
	ID, Title, Caption string
	Src                template.URL
	SVGFile, PNGFile   string
}

type htmlFailure struct {
	Failure
	Pct     string
	Diagram string // anchor of its sequence diagram, "" if none
}

type htmlKV struct {
	Key   string
	Value string
}

type htmlCircuit struct {
	Name string
	Vals []string
}

type indexData struct {
	CSS, JS         template.CSS
	Script          template.JS
	Rep             *Report
	PctIn           string
	InWorldClass    string
	Load            bool // a `gridlab load` run: wall time, no trace hash
	LoginToWorld    StageStats
	LTW             []string // p50, p90, p99, max formatted
	Stages          []stageRow
	Figures         []htmlFigure
	Failures        []htmlFailure
	Diagrams        []htmlFigure
	Timeline        []htmlKV
	Drops           []htmlKV
	Totals          []htmlKV
	Rules           []RuleCounters
	CircuitCols     []string
	Circuits        []htmlCircuit
	ExpectationsAll bool
	Files           []string
}

type stageRow struct {
	Title string
	Count int
	Cells []string // p50, p90, p95, p99, p99.9, max
}

func stageRows(rep *Report) []stageRow {
	var rows []stageRow
	for s := range NumStages {
		st := rep.Stages[s]
		row := stageRow{Title: s.Title(), Count: st.Count}
		for _, ms := range []float64{st.P50MS, st.P90MS, st.P95MS, st.P99MS, st.P999MS, st.MaxMS} {
			if st.Count == 0 {
				row.Cells = append(row.Cells, "–")
			} else {
				row.Cells = append(row.Cells, fmtDuration(msDuration(ms)))
			}
		}
		rows = append(rows, row)
	}
	return rows
}

func sortedKV(m map[string]uint64, skipZero bool) []htmlKV {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		if v != 0 || !skipZero {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := make([]htmlKV, 0, len(keys))
	for _, k := range keys {
		out = append(out, htmlKV{k, fmt.Sprint(m[k])})
	}
	return out
}

var circuitCols = []string{"packets_sent", "packets_received", "bytes_sent", "bytes_received", "reliable_sent", "resent", "acks_sent", "acks_received", "duplicates", "gave_up"}

func toHTMLFigures(rs []rendered) []htmlFigure {
	var out []htmlFigure
	for _, f := range rs {
		out = append(out, htmlFigure{ID: f.Base, Title: f.Title, Caption: f.Caption,
			Src: dataURI("image/svg+xml", f.SVG), SVGFile: f.Base + ".svg", PNGFile: f.Base + ".png"})
	}
	return out
}

func writeIndexHTML(w io.Writer, r *Run, rep *Report, figs, seqs []rendered, ds []diagram) error {
	d := indexData{CSS: template.CSS(pageCSS), Script: template.JS(imageCheckJS), Rep: rep,
		Stages: stageRows(rep), Figures: toHTMLFigures(figs), Diagrams: toHTMLFigures(seqs),
		CircuitCols: circuitCols, ExpectationsAll: true}
	pct := 0.0
	if rep.Viewers.Total > 0 {
		pct = 100 * float64(rep.Viewers.Success) / float64(rep.Viewers.Total)
	}
	d.PctIn = fmt.Sprintf("%.1f%%", pct)
	d.Load = isLoad(rep)
	d.InWorldClass = "ok"
	if rep.Viewers.Failed > 0 {
		d.InWorldClass = "bad"
	}
	d.LoginToWorld = rep.Stages[StageMovementComplete]
	d.LTW = stageRows(rep)[StageMovementComplete].Cells
	diagFor := map[string]string{}
	for _, dg := range ds {
		if dg.Mode != "" {
			diagFor[dg.Mode] = dg.Base
		}
	}
	for _, f := range rep.Failures {
		p := 0.0
		if rep.Viewers.Total > 0 {
			p = 100 * float64(f.Count) / float64(rep.Viewers.Total)
		}
		d.Failures = append(d.Failures, htmlFailure{Failure: f, Pct: fmt.Sprintf("%.1f%%", p), Diagram: diagFor[f.Mode]})
	}
	for _, e := range rep.Timeline {
		d.Timeline = append(d.Timeline, htmlKV{fmtSeconds(msDuration(e.AtS*1000)) + " s", e.What})
	}
	d.Drops = sortedKV(rep.Network.Drops, true)
	for _, kind := range sortedKeys(rep.Network.Totals) {
		for _, kv := range sortedKV(rep.Network.Totals[kind], false) {
			d.Totals = append(d.Totals, htmlKV{kind + "/" + kv.Key, kv.Value})
		}
	}
	d.Rules = rep.Network.Rules
	if len(rep.Circuits.Viewers) > 0 {
		d.Circuits = append(d.Circuits, circuitRow("viewers (sum)", rep.Circuits.Viewers))
	}
	for _, name := range sortedKeys(rep.Circuits.Regions) {
		d.Circuits = append(d.Circuits, circuitRow("region "+name, rep.Circuits.Regions[name]))
	}
	for _, e := range rep.Expectations {
		d.ExpectationsAll = d.ExpectationsAll && e.Pass
	}
	d.Files = []string{ReportFile, ViewersFile, SamplesFile, TracesFile}
	return indexTmpl.Execute(w, d)
}

func circuitRow(name string, m map[string]uint64) htmlCircuit {
	row := htmlCircuit{Name: name}
	for _, c := range circuitCols {
		row.Vals = append(row.Vals, fmt.Sprint(m[c]))
	}
	return row
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

var indexTmpl = template.Must(template.New("index").Funcs(template.FuncMap{
	"join": strings.Join,
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gridlab · {{.Rep.Scenario}}</title>
<style>{{.CSS}}</style>
<script>{{.Script}}</script>
</head>
<body>
<h1>{{.Rep.Scenario}}</h1>
<p class="sub">{{.Rep.Description}}</p>

<h2 id="summary">Summary</h2>
<table>
<tr><th>viewers in world</th><td class="n big {{.InWorldClass}}">{{.Rep.Viewers.Success}} / {{.Rep.Viewers.Total}} ({{.PctIn}})</td></tr>
<tr><th>failed</th><td class="n {{if .Rep.Viewers.Failed}}bad{{end}}">{{.Rep.Viewers.Failed}}</td></tr>
<tr><th>login to in world p50 / p90 / p99 / max</th><td class="n">{{index .LTW 0}} / {{index .LTW 1}} / {{index .LTW 3}} / {{index .LTW 5}}</td></tr>
{{- if .Rep.Expectations}}
<tr><th>expectations</th><td class="{{if .ExpectationsAll}}ok{{else}}bad{{end}}">{{if .ExpectationsAll}}all passed{{else}}some failed{{end}}</td></tr>
{{- end}}
<tr><th>seed</th><td class="n">{{.Rep.Seed}}</td></tr>
{{- if .Load}}
<tr><th>wall time · events</th><td class="n">{{.Rep.VirtualTimeS}} s · {{.Rep.Events}}</td></tr>
<tr><th>trace hash</th><td>none: real sockets</td></tr>
{{- else}}
<tr><th>virtual time · events</th><td class="n">{{.Rep.VirtualTimeS}} s · {{.Rep.Events}}</td></tr>
<tr><th>trace hash</th><td class="n"><code>{{.Rep.TraceHash}}</code></td></tr>
{{- end}}
</table>
{{- if .Failures}}
<p>Failures by mode (details in <a href="#diagnosis">Diagnosis</a>):
{{range $i, $f := .Failures}}{{if $i}}, {{end}}<span class="bad">{{$f.Mode}}</span> {{$f.Count}}{{end}}</p>
{{- range .Failures}}{{if .Evidence}}
<p class="why"><a href="#mode-{{.Mode}}"><b>{{.Mode}}</b></a>: {{.Evidence}} <b>Fix:</b> {{.Fix}}</p>
{{- end}}{{end}}
{{- end}}
{{- range .Rep.Findings}}
<p class="why"><b>{{.Mode}}</b> ({{.Count}}): {{.Evidence}} <b>Fix:</b> {{.Fix}}</p>
{{- end}}

<h3>Time to each stage</h3>
<table>
<tr><th>stage</th><th>n</th><th>p50</th><th>p90</th><th>p95</th><th>p99</th><th>p99.9</th><th>max</th></tr>
{{- range .Stages}}
<tr><td>{{.Title}}</td><td class="n">{{.Count}}</td>{{range .Cells}}<td class="n">{{.}}</td>{{end}}</tr>
{{- end}}
</table>
<p class="sub">Times from each viewer's intended login start (virtual time), over the viewers that reached the stage; percentiles from HDR histograms (3 significant digits).</p>

<h2 id="plots">Plots</h2>
{{- range .Figures}}
<figure id="{{.ID}}">
<h3>{{.Title}}</h3>
<img src="{{.Src}}" alt="{{.Title}}" width="672">
<figcaption>{{.Caption}} <a href="{{.SVGFile}}">SVG</a> · <a href="{{.PNGFile}}">PNG</a></figcaption>
</figure>
{{- end}}

<h2 id="diagnosis">Diagnosis</h2>
{{- if .Failures}}
<table>
<tr><th>failure mode</th><th>viewers</th><th>share</th><th>what the user saw</th><th>example viewer</th></tr>
{{- range .Failures}}
<tr><td class="bad">{{.Mode}}</td><td class="n">{{.Count}}</td><td class="n">{{.Pct}}</td><td>{{.Message}}</td><td>{{if .Diagram}}<a href="#{{.Diagram}}">{{.ExampleViewer}} (#{{.ExampleViewerID}})</a>{{else}}{{.ExampleViewer}} (#{{.ExampleViewerID}}){{end}}</td></tr>
{{- end}}
</table>
{{- range .Failures}}{{if or .Evidence .Fix}}
<div class="example" id="mode-{{.Mode}}"><h3>{{.Mode}}: worked example ({{.ExampleViewer}})</h3>
<p><b>Evidence.</b> {{.Evidence}}</p>
<p><b>Fix.</b> {{.Fix}}</p></div>
{{- end}}{{end}}
{{- else}}
<p class="ok">No failures: every viewer got in world.</p>
{{- end}}
{{- if .Rep.Notes}}
<h3>Successful logins that went through a failure mode</h3>
<table><tr><th>mode</th><th>viewers</th><th>example viewer</th><th>evidence</th><th>what to do</th></tr>
{{- range .Rep.Notes}}<tr><td>{{.Mode}}</td><td class="n">{{.Count}}</td><td>{{.ExampleViewer}} (#{{.ExampleViewerID}})</td><td>{{.Evidence}}</td><td>{{.Fix}}</td></tr>{{end}}
</table>
{{- end}}
{{- if .Rep.Findings}}
<h3>Findings about the grid</h3>
<table><tr><th>mode</th><th>count</th><th>evidence</th><th>what to do</th></tr>
{{- range .Rep.Findings}}<tr><td class="bad">{{.Mode}}</td><td class="n">{{.Count}}</td><td>{{.Evidence}}</td><td>{{.Fix}}</td></tr>{{end}}
</table>
{{- end}}
{{- range .Diagrams}}
<figure id="{{.ID}}">
<h3>{{.Title}}</h3>
<img src="{{.Src}}" alt="sequence diagram: {{.Title}}" width="620">
<figcaption>Sequence diagram of {{.Caption}}: dashed arrows are UDP, solid ones HTTP; a red cross is a packet the network dropped. <a href="{{.SVGFile}}">SVG</a> · <a href="{{.PNGFile}}">PNG</a></figcaption>
</figure>
{{- end}}

<h3>Fault timeline as executed</h3>
{{- if .Timeline}}
<table><tr><th>virtual time</th><th>what</th></tr>
{{- range .Timeline}}<tr><td class="n">{{.Key}}</td><td>{{.Value}}</td></tr>{{end}}
</table>
{{- else}}
<p class="sub">The scenario has no fault timeline.</p>
{{- end}}

<h3>Expectations</h3>
{{- if .Rep.Expectations}}
<table><tr><th>expectation</th><th>threshold</th><th>observed</th><th>verdict</th></tr>
{{- range .Rep.Expectations}}<tr><td>{{.Name}}</td><td>{{.Threshold}}</td><td class="n">{{.Observed}}</td><td>{{if .Pass}}<span class="ok">pass</span>{{else}}<span class="bad">FAIL</span>{{end}}</td></tr>{{end}}
</table>
{{- else}}
<p class="sub">The scenario states no expectations.</p>
{{- end}}

<h2 id="network">Network and circuits</h2>
<h3>Drops by reason</h3>
{{- if .Drops}}
<table><tr><th>reason</th><th>packets</th></tr>
{{- range .Drops}}<tr><td>{{.Key}}</td><td class="n">{{.Value}}</td></tr>{{end}}
</table>
{{- else}}
<p class="sub">The network dropped nothing.</p>
{{- end}}
{{- if .Rules}}
<h3>Firewall rules</h3>
<table><tr><th>rule</th><th>host</th><th>hits</th><th>drops</th></tr>
{{- range .Rules}}<tr><td>{{.Rule}}</td><td>{{.Host}}</td><td class="n">{{.Hits}}</td><td class="n">{{.Drops}}</td></tr>{{end}}
</table>
{{- end}}
<h3>LLUDP circuits</h3>
<table><tr><th></th>{{range .CircuitCols}}<th>{{.}}</th>{{end}}</tr>
{{- range .Circuits}}<tr><td>{{.Name}}</td>{{range .Vals}}<td class="n">{{.}}</td>{{end}}</tr>{{end}}
</table>
<h3>Network totals</h3>
<table><tr><th>counter</th><th>value</th></tr>
{{- range .Totals}}<tr><td>{{.Key}}</td><td class="n">{{.Value}}</td></tr>{{end}}
</table>

<h2 id="files">Files</h2>
<p class="files">{{range .Files}}<a href="{{.}}">{{.}}</a>{{end}}</p>
<p class="sub">Generated by gridlab from a deterministic run: the same scenario and seed give this page byte for byte.</p>
</body>
</html>
`))
