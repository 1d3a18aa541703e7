package sim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestQueueDispatchesInTimeThenScheduleOrder drives the wheel and the heap with a random mix of
// events — the same instant, the same tick, within the wheel's horizon, far beyond it — scheduled
// from inside other events and cancelled at random, and checks that what fires is exactly the
// uncancelled events, in (time, schedule order).
func TestQueueDispatchesInTimeThenScheduleOrder(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		s := New(seed)
		r := s.Rand("workload")
		type ev struct {
			at  Time
			seq int
		}
		var fired []ev
		scheduled := map[int]Timer{}
		cancelled := map[int]bool{}
		n := 0
		var schedule func()
		schedule = func() {
			var d time.Duration
			switch r.IntN(5) {
			case 0:
				d = 0 // the same instant
			case 1:
				d = time.Duration(r.Int64N(int64(time.Millisecond))) // the same or the next tick
			case 2:
				d = time.Duration(r.Int64N(int64(4 * time.Second))) // within the horizon
			case 3:
				d = time.Duration(r.Int64N(int64(time.Minute))) // beyond it
			default:
				d = time.Duration(wheelSlots<<tickShift) - 50*time.Millisecond + time.Duration(r.Int64N(int64(100*time.Millisecond))) // at its edge
			}
			n++
			id := n
			at := s.Now().Add(d)
			scheduled[id] = s.At(at, "ev", func() {
				fired = append(fired, ev{s.Now(), id})
				if n < 3000 {
					for k := r.IntN(3); k > 0; k-- {
						schedule()
					}
				}
				if r.IntN(4) == 0 && n > 1 {
					victim := 1 + r.IntN(n)
					if scheduled[victim].Stop() {
						cancelled[victim] = true
					}
				}
			})
		}
		for i := 0; i < 50; i++ {
			schedule()
		}
		require.NoError(t, s.Run())
		require.Zero(t, s.Pending())
		seen := map[int]bool{}
		for i, e := range fired {
			require.False(t, seen[e.seq], "seed %d: event %d fired twice", seed, e.seq)
			seen[e.seq] = true
			require.False(t, cancelled[e.seq], "seed %d: cancelled event %d fired", seed, e.seq)
			if i > 0 {
				p := fired[i-1]
				require.True(t, p.at < e.at || (p.at == e.at && p.seq < e.seq),
					"seed %d: event %d at %s fired after event %d at %s", seed, e.seq, e.at, p.seq, p.at)
			}
		}
		require.Equal(t, n-len(cancelled), len(fired), "seed %d: every uncancelled event fired", seed)
	}
}

func TestNextAtLooksIntoTheWheel(t *testing.T) {
	s := New(1)
	s.After(3*time.Second, "near", func() {})
	s.After(time.Hour, "far", func() {})
	at, ok := s.NextAt()
	require.True(t, ok)
	require.Equal(t, Time(3*time.Second), at)
}

// TestCancelledFarTimersDoNotAccumulate cancels most of many timers far beyond the wheel (as
// login timeouts are, by successful logins): their stale heap items must be dropped, not kept
// until their time, and the survivors must still fire in order.
func TestCancelledFarTimersDoNotAccumulate(t *testing.T) {
	for _, keepEvery := range []int{10, 0} { // some survivors; none
		s := New(1)
		var timers []Timer
		for i := range 100000 {
			timers = append(timers, s.After(time.Minute+time.Duration(i)*time.Millisecond, "far", func() {}))
		}
		want := 0
		for i, tm := range timers {
			if keepEvery > 0 && i%keepEvery == 0 {
				want++
				continue
			}
			require.True(t, tm.Stop())
		}
		require.Equal(t, want, s.Pending())
		require.LessOrEqual(t, len(s.far.items), 3*want+1024, "stale far items are compacted away")
		var last Time
		n := 0
		for s.Step() {
			require.GreaterOrEqual(t, s.Now(), last)
			last = s.Now()
			n++
		}
		require.Equal(t, want, n, "exactly the uncancelled timers fire")
		require.Zero(t, s.Pending())
	}
}

// warmRecorder is a Warmer that logs its calls.
type warmRecorder struct {
	name string
	log  *[]string
}

func (w *warmRecorder) Fire()      { *w.log = append(*w.log, "fire "+w.name) }
func (w *warmRecorder) Warm() byte { *w.log = append(*w.log, "warm "+w.name); return 0 }

// nilHandler is a Handler whose Fire works on a nil receiver.
type nilHandler struct{}

func (h *nilHandler) Fire() {}

// TestWarmRunsBeforeItsTickAndChangesNothing checks that the events of a tick drained from the
// wheel are warmed, all of them, before the first of them fires; that an event cancelled before
// its tick is not; that the fire order is the schedule's; and that a Handler holding a nil
// pointer is not read ahead (its Fire may accept a nil receiver).
func TestWarmRunsBeforeItsTickAndChangesNothing(t *testing.T) {
	s := New(1)
	var log []string
	a := &warmRecorder{"a", &log}
	b := &warmRecorder{"b", &log}
	c := &warmRecorder{"c", &log}
	s.AfterH(10*time.Millisecond+2, "a", a)
	s.AfterH(10*time.Millisecond+1, "b", b)
	s.AfterH(10*time.Millisecond+3, "c", c).Stop()
	s.AfterH(10*time.Millisecond+4, "nil", (*nilHandler)(nil))
	require.NoError(t, s.Run())
	require.Equal(t, []string{"warm a", "warm b", "fire b", "fire a"}, log)
}

// TestCrowdedTicksDispatchInOrder fills single ticks with many events — spread over the tick
// (the batch's counting sort), crowded into one sub-tick at many instants (its fallback to a
// full sort), and piled on one instant — with cancellations among them and more scheduled
// into the running tick, and checks that they fire exactly in (time, schedule order).
func TestCrowdedTicksDispatchInOrder(t *testing.T) {
	tick := Time(1) << tickShift
	sub := tick / tickBuckets
	for _, tc := range []struct {
		name   string
		spread Time // offsets within the tick are drawn from [0, spread)
		n      int
	}{
		{"spread over the tick", tick, 500},
		{"crowded into one sub-tick", sub, 500},
		{"all at one instant", 1, 300},
		{"a few", tick, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New(7)
			r := s.Rand("crowd")
			type ev struct {
				at Time
				id int
			}
			var fired []ev
			var timers []Timer
			id := 0
			var add func(at Time)
			add = func(at Time) {
				id++
				me := id
				timers = append(timers, s.At(at, "crowd", func() {
					fired = append(fired, ev{s.Now(), me})
					if me%7 == 0 { // an event scheduled into the running tick
						add(s.Now() + Time(r.Int64N(int64(tick-s.Now()%tick))))
					}
				}))
			}
			base := 5 * tick
			for range tc.n {
				add(base + Time(r.Int64N(int64(tc.spread))))
			}
			cancelled := map[int]bool{}
			for k := range timers {
				if k%5 == 3 {
					require.True(t, timers[k].Stop())
					cancelled[k+1] = true
				}
			}
			require.NoError(t, s.Run())
			for i, e := range fired {
				require.False(t, cancelled[e.id], "cancelled event %d fired", e.id)
				if i > 0 {
					p := fired[i-1]
					require.True(t, p.at < e.at || (p.at == e.at && p.id < e.id),
						"event %d at %d fired after event %d at %d", e.id, e.at, p.id, p.at)
				}
			}
			require.Equal(t, id-len(cancelled), len(fired), "every uncancelled event fired once")
		})
	}
}
