package scenarios

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// StageIDs are the login stages an expectation may name, as report.json names them (kept in
// step with reports.Stage; a lab test checks it).
var StageIDs = []string{"login_reply", "circuit_ack", "region_handshake", "movement_complete", "first_object_update"}

// Percentiles are the p(N) a stage threshold may use: those report.json has.
var Percentiles = []float64{50, 90, 95, 99, 99.9}

// Expectation kinds, as Expect.Kind returns them.
const (
	ExpectOutcome = "outcome"
	ExpectStage   = "stage"
	ExpectRate    = "rate"
	ExpectMessage = "message"
	ExpectLog     = "log"
	ExpectDiag    = "diagnosis"
	ExpectCounter = "counter"
)

// Outcomes are the outcome and failure-mode ids a run can report (shared/docs/FAILURE_MODES.md,
// plus the viewer's own symptoms that no diagnosis refined); a lab test keeps them in step.
var Outcomes = []string{
	"success", "unfinished",
	"login-host-unknown", "login-port-closed", "login-unreachable", "bad-credentials", "login-failed", "login-bad-reply",
	"login-reply-blocked", "region-host-wrong", "region-udp-blocked", "nat-loopback-unsupported",
	"one-to-one-nat-internal-address", "sim-reply-blocked", "grid-link-failure", "region-down-fallback",
	"unknown-circuit-code", "malformed-udp", "lossy-path", "login-storm", "silent-circuit", "relogin-during-logout",
	"region-unreachable", "no-circuit-ack", "handshake-timeout", "agent-wait-timeout", "login-timeout",
}

// expectKeys are the keys each kind of expectation takes.
var expectKeys = map[string][]string{
	ExpectOutcome: {"outcome", "count", "min", "max"},
	ExpectStage:   {"stage", "threshold"},
	ExpectRate:    {"rate", "threshold"},
	ExpectMessage: {"message", "outcome", "after", "before"},
	ExpectLog:     {"log", "count", "min", "max"},
	ExpectDiag:    {"diagnosis", "count", "min", "max"},
	ExpectCounter: {"counter", "count", "min", "max"},
}

// Kind names the kind of e: the first of stage, rate, message, log that is set, else outcome
// when it is set, else "". A valid expectation has exactly one.
func (e Expect) Kind() string {
	if k := e.kinds(); len(k) > 0 {
		return k[0]
	}
	return ""
}

func (e Expect) kinds() []string {
	var k []string
	for _, c := range []struct {
		kind string
		set  bool
	}{{ExpectStage, e.Stage != ""}, {ExpectRate, e.Rate != ""}, {ExpectMessage, e.Message != ""}, {ExpectLog, e.Log != ""},
		{ExpectDiag, e.Diagnosis != ""}, {ExpectCounter, e.Counter != ""}} {
		if c.set {
			k = append(k, c.kind)
		}
	}
	if len(k) == 0 && e.Outcome != "" {
		k = append(k, ExpectOutcome)
	}
	return k
}

// StageThreshold is a parsed stage threshold such as "p(99) < 5s" or "max <= 30s".
type StageThreshold struct {
	Stat  string  // "p", "min", "max" or "avg"
	P     float64 // the percentile when Stat is "p"
	Op    string  // <, <=, >, >= or ==
	Limit time.Duration
}

// String renders the statistic, e.g. "p(99)" or "avg".
func (t StageThreshold) String() string {
	if t.Stat == "p" {
		return "p(" + strconv.FormatFloat(t.P, 'f', -1, 64) + ")"
	}
	return t.Stat
}

// RateThreshold is a parsed rate threshold such as "> 0.99" or ">= 99%".
type RateThreshold struct {
	Op    string
	Limit float64 // a fraction in [0,1]
}

// Compare reports whether "a op b" holds.
func Compare(a float64, op string, b float64) bool {
	switch op {
	case "<":
		return a < b
	case "<=":
		return a <= b
	case ">":
		return a > b
	case ">=":
		return a >= b
	case "==":
		return a == b
	}
	return false
}

// splitOp splits "lhs op rhs" at its comparison operator.
func splitOp(s string) (lhs, op, rhs string, ok bool) {
	i := strings.IndexAny(s, "<>=")
	if i < 0 {
		return "", "", "", false
	}
	op = s[i : i+1]
	if i+1 < len(s) && s[i+1] == '=' {
		op += "="
	}
	if op == "=" {
		return "", "", "", false
	}
	return strings.TrimSpace(s[:i]), op, strings.TrimSpace(s[i+len(op):]), true
}

var pctRE = regexp.MustCompile(`^p\(\s*([0-9.]+)\s*\)$`)

// ParseStageThreshold parses "STAT OP DURATION": STAT is p(N) (N one of Percentiles), min, max
// or avg; OP is <, <=, >, >= or ==; DURATION has a unit ("5s", "750ms").
func ParseStageThreshold(s string) (StageThreshold, error) {
	const form = `write it as "p(99) < 5s" (p(N), min, max or avg; <, <=, >, >= or ==; a duration)`
	lhs, op, rhs, ok := splitOp(s)
	if !ok {
		return StageThreshold{}, fmt.Errorf("%q has no comparison: %s", s, form)
	}
	var t StageThreshold
	t.Op = op
	switch lhs {
	case "min", "max", "avg":
		t.Stat = lhs
	default:
		m := pctRE.FindStringSubmatch(lhs)
		if m == nil {
			return StageThreshold{}, fmt.Errorf("%q: %q is not a statistic: %s", s, lhs, form)
		}
		p, err := strconv.ParseFloat(m[1], 64)
		if err != nil || !slices.Contains(Percentiles, p) {
			return StageThreshold{}, fmt.Errorf("%q: report.json has p(50), p(90), p(95), p(99) and p(99.9), not p(%s)", s, m[1])
		}
		t.Stat, t.P = "p", p
	}
	d, err := toDuration(rhs)
	if err != nil {
		return StageThreshold{}, fmt.Errorf("%q: %v", s, err)
	}
	if d < 0 {
		return StageThreshold{}, fmt.Errorf("%q: %v is negative", s, d)
	}
	t.Limit = d
	return t, nil
}

// ParseRateThreshold parses "OP FRACTION": OP is <, <=, >, >= or ==; FRACTION is 0.99 or 99%.
func ParseRateThreshold(s string) (RateThreshold, error) {
	const form = `write it as "> 0.99" or ">= 99%"`
	lhs, op, rhs, ok := splitOp(s)
	if !ok || lhs != "" {
		return RateThreshold{}, fmt.Errorf("%q: %s", s, form)
	}
	var in any = rhs
	if f, err := strconv.ParseFloat(rhs, 64); err == nil {
		in = f
	}
	f, err := toFraction(in)
	if err != nil {
		return RateThreshold{}, fmt.Errorf("%q: %v", s, err)
	}
	return RateThreshold{Op: op, Limit: float64(f)}, nil
}

var outcomeRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// expect checks the expect: entries.
func (c *checker) expect(s *Scenario) {
	outcome := func(p, id string) {
		if !outcomeRE.MatchString(id) || !slices.Contains(Outcomes, id) {
			c.add(p, "%q is not an outcome or failure-mode id (such as success or sim-reply-blocked; docs/SCENARIOS.md lists them)", id)
		}
	}
	for i, e := range s.Expect {
		p := idx("expect", i, "")
		kinds := e.kinds()
		switch len(kinds) {
		case 0:
			c.add(p, "no kind: give one of outcome, stage, rate, message, log, diagnosis, counter")
			continue
		case 1:
		default:
			c.add(p, "%s in one entry: give one kind per entry", strings.Join(kinds, " and "))
			continue
		}
		kind := kinds[0]
		allowed := expectKeys[kind]
		v, t := reflect.ValueOf(e), reflect.TypeOf(e)
		bad := false
		for f := range t.NumField() {
			key := tagKey(t.Field(f))
			if key != "" && !v.Field(f).IsZero() && !slices.Contains(allowed, key) {
				c.add(p+"."+key, "does not apply to a %s expectation (it takes %s)", kind, strings.Join(allowed, ", "))
				bad = true
			}
		}
		if bad {
			continue
		}
		switch kind {
		case ExpectOutcome, ExpectLog, ExpectDiag, ExpectCounter:
			if kind == ExpectOutcome {
				outcome(p+".outcome", e.Outcome)
			}
			if kind == ExpectDiag {
				outcome(p+".diagnosis", e.Diagnosis)
			}
			if e.Count == nil && e.Min == nil && e.Max == nil {
				c.add(p, "missing: give count, min or max")
			}
			if e.Count != nil && (e.Min != nil || e.Max != nil) {
				c.add(p+".count", "give count, or min and/or max, not both")
			}
			for _, n := range []struct {
				key string
				v   *int
			}{{"count", e.Count}, {"min", e.Min}, {"max", e.Max}} {
				if n.v != nil && *n.v < 0 {
					c.add(p+"."+n.key, "%d is negative", *n.v)
				}
			}
			if e.Min != nil && e.Max != nil && *e.Min > *e.Max {
				c.add(p+".max", "%d is less than min (%d)", *e.Max, *e.Min)
			}
		case ExpectStage:
			if !slices.Contains(StageIDs, e.Stage) {
				c.add(p+".stage", "%q is not a stage (stages: %s)", e.Stage, strings.Join(StageIDs, ", "))
			}
			if e.Threshold == "" {
				c.add(p+".threshold", `missing: e.g. threshold: "p(99) < 5s"`)
			} else if _, err := ParseStageThreshold(e.Threshold); err != nil {
				c.add(p+".threshold", "%v", err)
			}
		case ExpectRate:
			outcome(p+".rate", e.Rate)
			if e.Threshold == "" {
				c.add(p+".threshold", `missing: e.g. threshold: "> 0.99"`)
			} else if _, err := ParseRateThreshold(e.Threshold); err != nil {
				c.add(p+".threshold", "%v", err)
			}
		case ExpectMessage:
			if e.Outcome == "" {
				c.add(p+".outcome", "missing: the outcome of the viewers whose message is checked")
			} else {
				outcome(p+".outcome", e.Outcome)
			}
			for _, d := range []struct {
				key string
				v   *time.Duration
			}{{"after", e.After}, {"before", e.Before}} {
				if d.v != nil && *d.v < 0 {
					c.add(p+"."+d.key, "%v is negative", *d.v)
				}
			}
			if e.After != nil && e.Before != nil && *e.After > *e.Before {
				c.add(p+".before", "%v is earlier than after (%v)", *e.Before, *e.After)
			}
		}
	}
}
