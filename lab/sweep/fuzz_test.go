package sweep

import (
	"math"
	"testing"
)

// FuzzParseParam feeds arbitrary --param text and point counts to ParseParam. It must never
// panic; when it accepts, it gives between 1 and points values, each with a finite position,
// from low to high (a sweep's knee rules read the points in that order).
func FuzzParseParam(f *testing.F) {
	for _, s := range []string{
		"viewers.home.arrival.rate=5/s..200/s",
		"viewers.home.arrival.rate=5/s..200/s:log",
		"grid.capacity.login_workers=1..8:log",
		"grid.capacity.login_workers=8..1",
		"networks.internet.loss=0%..10%:lin",
		"grid.capacity.login_time=100ms..1s",
		"x=0.01..0.1:log",
		"x=0..0:log",
		"x=1e308..1.7e308",
		"x=-5..5",
		"=1..2",
		"x=1..",
		"x=1ms..2/s",
	} {
		f.Add(s, 5)
	}
	f.Fuzz(func(t *testing.T, spec string, points int) {
		points = 1 + (points%64+64)%64
		p, err := ParseParam(spec, points)
		if err != nil {
			return
		}
		if len(p.Values) < 1 || len(p.Values) > points || len(p.X) != len(p.Values) {
			t.Fatalf("%q in %d points: %d values, %d positions", spec, points, len(p.Values), len(p.X))
		}
		for i, x := range p.X {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				t.Fatalf("%q: position %d is %v", spec, i, x)
			}
			if i > 0 && x < p.X[i-1] {
				t.Fatalf("%q: positions not low to high: %v", spec, p.X)
			}
		}
	})
}
