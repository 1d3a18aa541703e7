package scenarios

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Arrival processes (Arrival.Process).
const (
	ArrivalUniform  = "uniform"
	ArrivalConstant = "constant"
	ArrivalPoisson  = "poisson"
	ArrivalRamp     = "ramp"
	ArrivalBurst    = "burst"
)

// ArrivalProcesses lists the arrival processes a population may use.
var ArrivalProcesses = []string{ArrivalUniform, ArrivalConstant, ArrivalPoisson, ArrivalRamp, ArrivalBurst}

// ParseEventRate parses "N/s", "N/m" or "N/h" (N may be fractional) into events per second. "0"
// is a rate of zero.
func ParseEventRate(s string) (float64, error) {
	t := strings.TrimSpace(s)
	if t == "0" {
		return 0, nil
	}
	num, unit, ok := strings.Cut(t, "/")
	if !ok {
		return 0, fmt.Errorf("%q is not a rate: write it as 50/s, 3000/m or 0.5/s", s)
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || n < 0 || math.IsInf(n, 0) || math.IsNaN(n) {
		return 0, fmt.Errorf("%q: %q is not a non-negative number", s, num)
	}
	switch strings.TrimSpace(unit) {
	case "s":
		return n, nil
	case "m", "min":
		return n / 60, nil
	case "h":
		return n / 3600, nil
	}
	return 0, fmt.Errorf("%q: per %q? use /s, /m or /h", s, unit)
}

// Draw is the random stream an arrival process draws from (a *rand.Rand).
type Draw interface {
	Float64() float64
	Int64N(n int64) int64
}

// Starts returns the start offsets (from the run's beginning) of n viewers under the arrival
// process, in arrival order, drawing from the population's own stream r.
func (a Arrival) Starts(n int, r Draw) ([]time.Duration, error) {
	rate := 0.0
	if a.Rate != "" {
		r, err := ParseEventRate(a.Rate)
		if err != nil {
			return nil, err
		}
		rate = r
	}
	out := make([]time.Duration, n)
	w := float64(a.Window)
	switch a.Process {
	case "", ArrivalUniform:
		for k := range out {
			out[k] = a.At
			if a.Window > 0 {
				out[k] += time.Duration(r.Int64N(int64(a.Window)))
			}
		}
	case ArrivalConstant:
		gap := 0.0
		switch {
		case a.Window > 0 && n > 0:
			gap = w / float64(n)
		case rate > 0:
			gap = float64(time.Second) / rate
		}
		for k := range out {
			out[k] = a.At + time.Duration(gap*float64(k))
		}
	case ArrivalPoisson:
		if rate == 0 && a.Window > 0 && n > 0 {
			rate = float64(n) / a.Window.Seconds()
		}
		if rate <= 0 {
			return nil, fmt.Errorf("poisson arrivals need a rate or a window")
		}
		t := 0.0
		for k := range out {
			t += -math.Log(1-r.Float64()) / rate * float64(time.Second)
			out[k] = a.At + time.Duration(t)
		}
	case ArrivalRamp:
		// The rate grows linearly over the window: the k-th of n arrives where the cumulative
		// share (t/W)² reaches (k+0.5)/n.
		for k := range out {
			out[k] = a.At + time.Duration(w*math.Sqrt((float64(k)+0.5)/float64(n)))
		}
	case ArrivalBurst:
		for k := range out {
			out[k] = a.At
		}
	default:
		return nil, fmt.Errorf("%q is not an arrival process (known: %s)", a.Process, strings.Join(ArrivalProcesses, ", "))
	}
	return out, nil
}

// arrival checks a population's arrival process.
func (c *checker) arrival(p string, a Arrival) {
	if a.Process != "" && !containsString(ArrivalProcesses, a.Process) {
		c.add(p+".process", "%q is not an arrival process (known: %s)", a.Process, strings.Join(ArrivalProcesses, ", "))
		return
	}
	if a.Rate != "" {
		if _, err := ParseEventRate(a.Rate); err != nil {
			c.add(p+".rate", "%v", err)
			return
		}
	}
	switch a.Process {
	case ArrivalPoisson:
		if a.Rate == "" && a.Window == 0 {
			c.add(p, "poisson arrivals need a rate (e.g. rate: 50/s) or a window")
		}
	case ArrivalConstant:
		if a.Rate == "" && a.Window == 0 {
			c.add(p, "constant arrivals need a window or a rate (e.g. rate: 50/s)")
		}
	case ArrivalRamp:
		if a.Window == 0 {
			c.add(p+".window", "missing: a ramp needs the window it ramps over")
		}
	}
}

func containsString(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
