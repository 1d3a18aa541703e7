package sim

import (
	"testing"
	"time"
)

// BenchmarkScheduleFire measures one timer schedule plus its dispatch with a standing queue of
// 10,000 pending timers (the hold model).
func BenchmarkScheduleFire(b *testing.B) {
	s := New(1)
	r := s.Rand("bench")
	noop := func() {}
	for i := 0; i < 10000; i++ {
		s.After(time.Duration(r.Int64N(int64(time.Second))), "hold", noop)
	}
	b.ReportAllocs()
	for b.Loop() {
		s.After(time.Duration(r.Int64N(int64(time.Second))), "hold", noop)
		s.Step()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkScheduleCancel measures a resend-style timer that is almost always cancelled.
func BenchmarkScheduleCancel(b *testing.B) {
	s := New(1)
	noop := func() {}
	for i := 0; i < 10000; i++ {
		s.After(time.Duration(i)*time.Millisecond, "hold", noop)
	}
	b.ReportAllocs()
	for b.Loop() {
		t := s.After(time.Second, "resend", noop)
		t.Stop()
	}
}
