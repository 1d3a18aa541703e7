package loadtest

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gridlab/scenarios"
)

// DefaultStage is the stage a threshold without one applies to: login to in world.
const DefaultStage = "movement_complete"

var (
	rateRE  = regexp.MustCompile(`^rate\(\s*([a-z0-9][a-z0-9-]*)\s*\)\s*(.*)$`)
	countRE = regexp.MustCompile(`^count\(\s*([a-z0-9][a-z0-9-]*)\s*\)\s*(<=|>=|==|<|>)\s*([0-9]+)$`)
)

// ExpectSyntax describes what ParseExpect accepts, for help texts and errors.
const ExpectSyntax = `"p(99)<2s" (movement_complete), "login_reply p(95)<500ms", "rate(success)>=0.99", "count(bad-credentials)==0"`

// ParseExpect reads one --expect threshold, k6 style, into the scenarios' expect: entry it
// stands for:
//
//	p(99)<2s                  movement_complete's p(99) (also p(50|90|95|99.9), min, max, avg)
//	circuit_ack p(95)<500ms   another stage's statistic ("circuit_ack:p(95)<500ms" too)
//	rate(success)>=99%        the fraction of viewers with an outcome
//	count(bad-credentials)==0 the number of viewers with an outcome (==, <=, >=, <, >)
func ParseExpect(s string) (scenarios.Expect, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return scenarios.Expect{}, fmt.Errorf("--expect %q: empty; e.g. %s", s, ExpectSyntax)
	}
	if m := rateRE.FindStringSubmatch(t); m != nil {
		if _, err := scenarios.ParseRateThreshold(m[2]); err != nil {
			return scenarios.Expect{}, fmt.Errorf("--expect %q: %w", s, err)
		}
		return scenarios.Expect{Rate: m[1], Threshold: strings.TrimSpace(m[2])}, nil
	}
	if strings.HasPrefix(t, "count(") {
		m := countRE.FindStringSubmatch(strings.ReplaceAll(t, " ", ""))
		if m == nil {
			return scenarios.Expect{}, fmt.Errorf("--expect %q: write it as count(OUTCOME) OP N, e.g. count(bad-credentials)==0", s)
		}
		n, err := strconv.Atoi(m[3])
		if err != nil {
			return scenarios.Expect{}, fmt.Errorf("--expect %q: %w", s, err)
		}
		e := scenarios.Expect{Outcome: m[1]}
		switch m[2] {
		case "==":
			e.Count = &n
		case ">=":
			e.Min = &n
		case ">":
			n++
			e.Min = &n
		case "<=":
			e.Max = &n
		case "<":
			if n == 0 {
				return scenarios.Expect{}, fmt.Errorf("--expect %q: a count cannot be below 0", s)
			}
			n--
			e.Max = &n
		}
		return e, nil
	}
	stage, rest := DefaultStage, t
	if i := strings.IndexAny(t, " :"); i > 0 && slices.Contains(scenarios.StageIDs, t[:i]) {
		stage, rest = t[:i], strings.TrimLeft(t[i+1:], " :")
	} else if i > 0 && !strings.ContainsAny(t[:i], "()<>=") && t[:i] != "min" && t[:i] != "max" && t[:i] != "avg" {
		return scenarios.Expect{}, fmt.Errorf("--expect %q: %q is not a stage (stages: %s)", s, t[:i], strings.Join(scenarios.StageIDs, ", "))
	}
	if _, err := scenarios.ParseStageThreshold(rest); err != nil {
		return scenarios.Expect{}, fmt.Errorf("--expect %q: %w; e.g. %s", s, err, ExpectSyntax)
	}
	return scenarios.Expect{Stage: stage, Threshold: rest}, nil
}

// ParseExpects parses every --expect flag, in order.
func ParseExpects(ss []string) ([]scenarios.Expect, error) {
	var out []scenarios.Expect
	for _, s := range ss {
		e, err := ParseExpect(s)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}
