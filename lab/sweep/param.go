package sweep

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Param is the swept parameter: a scenario key path and its values, one per point.
type Param struct {
	Path   string    `json:"path"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	Log    bool      `json:"log"`
	Unit   string    `json:"unit"`   // what X is in: "", "/s", "%", "s" (durations), ...
	Values []string  `json:"values"` // as given to Scenario.Set
	X      []float64 `json:"x"`      // the values as numbers, for the plots (durations in seconds)
}

// String writes the parameter as --param takes it, with its number of points:
// "viewers.home.arrival.rate=2/s..40/s:log in 6 points".
func (p Param) String() string {
	s := p.Path + "=" + p.From + ".." + p.To
	if p.Log {
		s += ":log"
	}
	return fmt.Sprintf("%s in %d points", s, len(p.Values))
}

var numRE = regexp.MustCompile(`^\s*([-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)\s*(\S*)\s*$`)

// kind of a value: how it is read and written.
type kind struct {
	unit     string // suffix after the number ("/s", "%", "" ...), or "s" for a duration
	duration bool
	integer  bool
}

// parseValue reads "5/s", "20%", "250ms", "16" or "0.5" as a number and its kind. A duration is
// returned in seconds.
func parseValue(s string) (float64, kind, error) {
	s = strings.TrimSpace(s)
	if d, err := time.ParseDuration(s); err == nil && strings.IndexFunc(s, func(r rune) bool { return r >= 'a' && r <= 'z' }) >= 0 {
		return d.Seconds(), kind{unit: "s", duration: true}, nil
	}
	m := numRE.FindStringSubmatch(s)
	if m == nil {
		return 0, kind{}, fmt.Errorf("%q is not a number, a rate (5/s), a percentage (2%%) or a duration (250ms)", s)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, kind{}, fmt.Errorf("%q: %v", s, err)
	}
	_, intErr := strconv.Atoi(m[1])
	return v, kind{unit: m[2], integer: intErr == nil}, nil
}

// ParseParam parses "PATH=FROM..TO", "PATH=FROM..TO:lin" (the same: even spacing) or
// "PATH=FROM..TO:log" into points values: FROM and TO included, evenly spaced (geometrically
// with :log). FROM and TO are numbers of one kind — integers (1..16), decimals (0.1..0.5),
// rates (5/s..200/s), percentages (0%..10%) or durations (100ms..2s) — with FROM below TO (the
// knee's rule depends on which end of the range breaks, so the range runs low to high), and
// the values are written the same way: plain integers (counts) rounded (repeats dropped, so 1..3
// in 5 points is 1, 2, 3 and 1..8:log in 8 points is 1, 2, 3, 4, 6, 8: fewer than asked for),
// other numbers to 4 significant digits, durations to the millisecond (microsecond below 10 ms).
func ParseParam(spec string, points int) (Param, error) {
	path, rng, ok := strings.Cut(spec, "=")
	if !ok || strings.TrimSpace(path) == "" {
		return Param{}, fmt.Errorf("--param %q: want PATH=FROM..TO or PATH=FROM..TO:log, e.g. viewers.home.arrival.rate=5/s..200/s", spec)
	}
	p := Param{Path: strings.TrimSpace(path)}
	if i := strings.LastIndex(rng, ":"); i >= 0 {
		switch suffix := strings.TrimSpace(rng[i+1:]); suffix {
		case "log":
			p.Log = true
		case "lin":
		default:
			return Param{}, fmt.Errorf("--param %q: unknown spacing %q: write :log for geometric spacing, :lin (or nothing) for even spacing", spec, ":"+suffix)
		}
		rng = rng[:i]
	}
	from, to, ok := strings.Cut(rng, "..")
	if !ok {
		return Param{}, fmt.Errorf("--param %q: the range %q has no '..' (write FROM..TO)", spec, rng)
	}
	p.From, p.To = strings.TrimSpace(from), strings.TrimSpace(to)
	a, ka, err := parseValue(p.From)
	if err != nil {
		return Param{}, fmt.Errorf("--param %q: %v", spec, err)
	}
	b, kb, err := parseValue(p.To)
	if err != nil {
		return Param{}, fmt.Errorf("--param %q: %v", spec, err)
	}
	if ka.unit != kb.unit || ka.duration != kb.duration {
		return Param{}, fmt.Errorf("--param %q: FROM and TO must be of one kind (%q vs %q)", spec, p.From, p.To)
	}
	if points < 1 {
		return Param{}, fmt.Errorf("--points %d: need at least 1", points)
	}
	if a > b {
		return Param{}, fmt.Errorf("--param %q: FROM %s is above TO %s: give the range low to high (%s..%s)", spec, p.From, p.To, p.To, p.From)
	}
	if points == 1 && a != b {
		return Param{}, fmt.Errorf("--points 1 with a range %s..%s: give FROM..FROM, or more points", p.From, p.To)
	}
	if points > 1 && a == b {
		return Param{}, fmt.Errorf("--param %q: FROM and TO are both %s: give a range low to high, or --points 1 for the one value", spec, p.From)
	}
	if p.Log && (a <= 0 || b <= 0) {
		return Param{}, fmt.Errorf("--param %q: a :log range needs FROM and TO above zero", spec)
	}
	k := ka
	k.integer = ka.integer && kb.integer && k.unit == "" // counts; rates and percentages are continuous
	p.Unit = k.unit
	for i := range points {
		t := 0.0
		if points > 1 {
			t = float64(i) / float64(points-1)
		}
		var v float64
		switch {
		case i == points-1:
			v = b
		case p.Log:
			v = a * math.Pow(b/a, t)
		default:
			v = a + (b-a)*t
		}
		s, x := format(v, k)
		if n := len(p.Values); n > 0 && p.Values[n-1] == s {
			continue // integers: a repeat
		}
		p.Values = append(p.Values, s)
		p.X = append(p.X, x)
	}
	return p, nil
}

// format writes v as its kind wants and returns the value it stands for.
func format(v float64, k kind) (string, float64) {
	switch {
	case k.duration:
		d := time.Duration(math.Round(v * 1e9))
		if d >= 10*time.Millisecond {
			d = d.Round(time.Millisecond)
		} else {
			d = d.Round(time.Microsecond)
		}
		return d.String(), d.Seconds()
	case k.integer:
		n := math.Round(v)
		return strconv.FormatFloat(n, 'f', -1, 64) + k.unit, n
	default:
		r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 4, 64), 64)
		return strconv.FormatFloat(r, 'f', -1, 64) + k.unit, r
	}
}
