package sim

import (
	"testing"
	"time"
)

// BenchmarkScheduleFire measures one timer schedule plus its dispatch with a standing queue of
// 10,000 pending timers (the hold model).
func BenchmarkScheduleFire(b *testing.B) { holdModel(b, 0) }

// holdModel keeps 10,000 timers pending within a second, besides far timers minutes ahead, and
// measures one schedule plus one dispatch.
func holdModel(b *testing.B, far int) {
	s := New(1)
	r := s.Rand("bench")
	noop := func() {}
	for i := 0; i < far; i++ {
		s.After(time.Minute+time.Duration(r.Int64N(int64(10*time.Minute))), "far", noop)
	}
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

// BenchmarkScheduleFireFarTimers is the hold model of BenchmarkScheduleFire with, besides, the
// standing far future of a 100,000-viewer run: 200,000 timers minutes ahead (stays, idle checks,
// expiries) that every dispatch must not pay for.
func BenchmarkScheduleFireFarTimers(b *testing.B) { holdModel(b, 200000) }

// BenchmarkPingTimers is a 5-second periodic timer per agent (pings), 50,000 agents: each fire
// schedules the next, as viewers and regions do.
func BenchmarkPingTimers(b *testing.B) {
	s := New(1)
	r := s.Rand("bench")
	var fire func()
	fire = func() { s.After(5*time.Second, "ping", fire) }
	for i := 0; i < 50000; i++ {
		s.After(time.Duration(r.Int64N(int64(5*time.Second))), "ping", fire)
	}
	b.ReportAllocs()
	for b.Loop() {
		s.Step()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// agent is a model's per-agent state for BenchmarkAgentTimers: a few cache lines, as a viewer's
// or a region client's hot part is.
type agent struct {
	s     *Sim
	fires uint64
	fn    func() // a.fire, bound once, for the func variant
	_     [200]byte
}

func (a *agent) fire() { a.fires++; a.s.After(5*time.Second, "ping", a.fn) }
func (a *agent) Fire() { a.fires++; a.s.AfterH(5*time.Second, "ping", a) }

// BenchmarkAgentTimers is BenchmarkPingTimers with state per agent, 100,000 agents, as in a
// large run: each agent's timer is either a func bound to it (At) or the agent itself (AtH).
// The Handler saves the dispatch a read of the bound func, an object of its own.
func BenchmarkAgentTimers(b *testing.B) {
	for _, handler := range []bool{false, true} {
		name := "func"
		if handler {
			name = "handler"
		}
		b.Run(name, func(b *testing.B) {
			s := New(1)
			r := s.Rand("bench")
			for range 100000 {
				a := &agent{s: s}
				d := time.Duration(r.Int64N(int64(5 * time.Second)))
				if handler {
					s.AfterH(d, "ping", a)
				} else {
					a.fn = a.fire
					s.After(d, "ping", a.fn)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				s.Step()
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
