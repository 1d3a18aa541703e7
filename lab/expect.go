package lab

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"gridlab/reports"
	"gridlab/scenarios"
)

// Evaluate checks a scenario's expect: entries against a run's results and returns one verdict
// per entry, in scenario order (nil when there are none). Stage statistics are those of
// report.json (reports.Build's stage table), so a verdict and the report always agree. The
// entries must be valid (scenarios.Validate); one that is not fails with the reason as observed.
func Evaluate(exps []scenarios.Expect, run *reports.Run) []reports.Expectation {
	if len(exps) == 0 {
		return nil
	}
	var stages *reports.StageTable
	out := make([]reports.Expectation, 0, len(exps))
	for _, e := range exps {
		var v reports.Expectation
		switch e.Kind() {
		case scenarios.ExpectOutcome:
			n := 0
			for i := range run.Viewers {
				if outcomeID(&run.Viewers[i]) == e.Outcome {
					n++
				}
			}
			v = countVerdict("viewers with outcome "+e.Outcome, e, n)
		case scenarios.ExpectDiag:
			n := 0
			for i := range run.Viewers {
				if rv := &run.Viewers[i]; rv.Mode == e.Diagnosis || (rv.Mode == "" && outcomeID(rv) == e.Diagnosis) {
					n++
				}
			}
			for _, f := range run.Findings {
				if f.Mode == e.Diagnosis {
					n += f.Count
				}
			}
			v = countVerdict("viewers (and grid findings) diagnosed "+e.Diagnosis, e, n)
		case scenarios.ExpectCounter:
			var n uint64
			found := false
			for _, c := range run.Counters {
				if c.Name == e.Counter {
					n, found = n+c.Value, true
				}
			}
			v = countVerdict("counter "+e.Counter, e, int(n))
			if !found {
				v.Pass, v.Observed = false, "no such counter (report.json lists them under counters)"
			}
		case scenarios.ExpectLog:
			n := 0
			for _, l := range run.Log {
				if strings.Contains(l.Text, e.Log) {
					n++
				}
			}
			v = countVerdict(fmt.Sprintf("grid log lines containing %q", e.Log), e, n)
		case scenarios.ExpectStage:
			if stages == nil {
				stages = &reports.Build(run).Stages
			}
			v = stageVerdict(e, stages)
		case scenarios.ExpectRate:
			v = rateVerdict(e, run)
		case scenarios.ExpectMessage:
			v = messageVerdict(e, run)
		default:
			v = reports.Expectation{Name: "expectation", Observed: "not a valid expectation (run scenarios check)"}
		}
		out = append(out, v)
	}
	return out
}

// outcomeID is the viewer's outcome as report.json counts it.
func outcomeID(v *reports.Viewer) string {
	if v.Outcome == "" {
		return reports.OutcomeUnfinished
	}
	return v.Outcome
}

// countVerdict checks n against the entry's count, min and max.
func countVerdict(name string, e scenarios.Expect, n int) reports.Expectation {
	v := reports.Expectation{Name: name, Observed: strconv.Itoa(n), Pass: true}
	var conds []string
	if e.Count != nil {
		conds = append(conds, "== "+strconv.Itoa(*e.Count))
		v.Pass = v.Pass && n == *e.Count
	}
	if e.Min != nil {
		conds = append(conds, ">= "+strconv.Itoa(*e.Min))
		v.Pass = v.Pass && n >= *e.Min
	}
	if e.Max != nil {
		conds = append(conds, "<= "+strconv.Itoa(*e.Max))
		v.Pass = v.Pass && n <= *e.Max
	}
	v.Threshold = strings.Join(conds, ", ")
	return v
}

func stageVerdict(e scenarios.Expect, stages *reports.StageTable) reports.Expectation {
	t, err := scenarios.ParseStageThreshold(e.Threshold)
	v := reports.Expectation{Name: e.Stage, Threshold: e.Threshold}
	if err != nil {
		v.Observed = err.Error()
		return v
	}
	v.Name = t.String() + " of " + e.Stage
	v.Threshold = t.Op + " " + t.Limit.String()
	i := slices.Index(scenarios.StageIDs, e.Stage)
	if i < 0 {
		v.Observed = "no stage " + e.Stage
		return v
	}
	st := stages[i]
	if st.Count == 0 {
		v.Observed = "no viewer reached " + e.Stage
		return v
	}
	var ms float64
	switch t.Stat {
	case "min":
		ms = st.MinMS
	case "max":
		ms = st.MaxMS
	case "avg":
		ms = st.MeanMS
	default:
		ms = [...]float64{st.P50MS, st.P90MS, st.P95MS, st.P99MS, st.P999MS}[slices.Index(scenarios.Percentiles, t.P)]
	}
	obs := time.Duration(math.Round(ms*1000)) * time.Microsecond
	v.Observed = obs.String()
	v.Pass = scenarios.Compare(float64(obs), t.Op, float64(t.Limit))
	return v
}

func rateVerdict(e scenarios.Expect, run *reports.Run) reports.Expectation {
	v := reports.Expectation{Name: "rate(" + e.Rate + ")", Threshold: strings.TrimSpace(e.Threshold)}
	t, err := scenarios.ParseRateThreshold(e.Threshold)
	if err != nil {
		v.Observed = err.Error()
		return v
	}
	total := len(run.Viewers)
	if total == 0 {
		v.Observed = "no viewers"
		return v
	}
	n := 0
	for i := range run.Viewers {
		if outcomeID(&run.Viewers[i]) == e.Rate {
			n++
		}
	}
	rate := float64(n) / float64(total)
	v.Observed = fmt.Sprintf("%s (%d/%d)", strconv.FormatFloat(math.Round(rate*1e6)/1e6, 'f', -1, 64), n, total)
	v.Pass = scenarios.Compare(rate, t.Op, t.Limit)
	return v
}

// messageVerdict checks that every viewer with the outcome saw the text, decided within the
// window; observed names the first viewer (by ID) that did not.
func messageVerdict(e scenarios.Expect, run *reports.Run) reports.Expectation {
	v := reports.Expectation{
		Name:      fmt.Sprintf("message of %s viewers contains %q", e.Outcome, e.Message),
		Threshold: "every viewer",
	}
	switch {
	case e.After != nil && e.Before != nil:
		v.Threshold += fmt.Sprintf(", decided %v to %v after its start", *e.After, *e.Before)
	case e.After != nil:
		v.Threshold += fmt.Sprintf(", decided at least %v after its start", *e.After)
	case e.Before != nil:
		v.Threshold += fmt.Sprintf(", decided at most %v after its start", *e.Before)
	}
	total, ok := 0, 0
	var first *reports.Viewer
	why := ""
	for i := range run.Viewers {
		rv := &run.Viewers[i]
		if outcomeID(rv) != e.Outcome {
			continue
		}
		total++
		took := rv.EndedAt - rv.Start
		bad := ""
		switch {
		case !strings.Contains(rv.Message, e.Message):
			bad = fmt.Sprintf("saw %q", clip(rv.Message, 60))
		case e.After != nil && took < *e.After, e.Before != nil && took > *e.Before:
			bad = fmt.Sprintf("decided %v after its start", took.Round(time.Millisecond))
		}
		if bad == "" {
			ok++
		} else if first == nil || rv.ID < first.ID {
			first, why = rv, bad
		}
	}
	switch {
	case total == 0:
		v.Observed = "no viewer had outcome " + e.Outcome
	case first == nil:
		v.Observed = fmt.Sprintf("%d of %d viewers", ok, total)
		v.Pass = true
	default:
		v.Observed = fmt.Sprintf("%d of %d viewers; viewer %d (%s) %s", ok, total, first.ID, first.Name, why)
	}
	return v
}

// clip shortens s to at most n runes, marking the cut with "...".
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "..."
}
