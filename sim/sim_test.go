package sim

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEventsRunInTimeThenScheduleOrder(t *testing.T) {
	s := New(1)
	var got []string
	s.At(2*Time(time.Second), "b", func() { got = append(got, "b@2s") })
	s.At(1*Time(time.Second), "a", func() { got = append(got, "a@1s") })
	s.At(2*Time(time.Second), "c", func() { got = append(got, "c@2s") })
	s.At(0, "z", func() {
		got = append(got, "z@0")
		s.After(time.Second, "d", func() { got = append(got, "d@1s") })
	})
	require.NoError(t, s.Run())
	assert.Equal(t, []string{"z@0", "a@1s", "d@1s", "b@2s", "c@2s"}, got,
		"events at one instant must run in the order they were scheduled")
	assert.Equal(t, Time(2*time.Second), s.Now())
	assert.Equal(t, uint64(5), s.Events())
}

func TestStoppedTimerNeverFires(t *testing.T) {
	s := New(1)
	fired := false
	tm := s.After(time.Second, "x", func() { fired = true })
	assert.True(t, tm.Active())
	assert.Equal(t, Time(time.Second), tm.When())
	assert.True(t, tm.Stop(), "stopping a pending timer reports true")
	assert.False(t, tm.Stop(), "stopping it twice reports false")
	assert.False(t, tm.Active())
	require.NoError(t, s.Run())
	assert.False(t, fired)
	var zero Timer
	assert.False(t, zero.Stop(), "the zero Timer is inert")
}

func TestStaleTimerHandleCannotCancelReusedSlot(t *testing.T) {
	s := New(1)
	old := s.After(time.Second, "old", func() {})
	require.NoError(t, s.Run())
	fired := false
	s.After(time.Second, "new", func() { fired = true }) // reuses the freed slot
	assert.False(t, old.Stop(), "a fired timer's handle must not cancel the event now in its slot")
	require.NoError(t, s.Run())
	assert.True(t, fired)
}

func TestManyTimersFireSortedWithCancellations(t *testing.T) {
	s := New(7)
	r := s.Rand("test")
	var timers []Timer
	var fired []Time
	for i := 0; i < 5000; i++ {
		at := Time(r.Int64N(int64(time.Hour)))
		timers = append(timers, s.At(at, "t", func() { fired = append(fired, s.Now()) }))
	}
	cancelled := 0
	for i := 0; i < len(timers); i += 3 {
		if timers[i].Stop() {
			cancelled++
		}
	}
	require.NoError(t, s.Run())
	assert.Len(t, fired, 5000-cancelled)
	for i := 1; i < len(fired); i++ {
		require.LessOrEqual(t, fired[i-1], fired[i], "time never goes backwards")
	}
}

func TestRunUntilStopsAtTheEndTimeAndAdvancesTheClock(t *testing.T) {
	s := New(1)
	n := 0
	var tick func()
	tick = func() { n++; s.After(time.Second, "tick", tick) }
	s.At(0, "tick", tick)
	require.NoError(t, s.RunUntil(Time(10*time.Second)))
	assert.Equal(t, 11, n, "ticks at 0..10 s inclusive")
	assert.Equal(t, Time(10*time.Second), s.Now())
}

func TestBudgetAndStopEndTheRunEarly(t *testing.T) {
	s := New(1)
	var tick func()
	tick = func() { s.After(time.Millisecond, "tick", tick) }
	s.At(0, "tick", tick)
	s.SetBudget(100)
	assert.True(t, errors.Is(s.Run(), ErrBudget))
	assert.Equal(t, uint64(100), s.Events())

	s2 := New(1)
	s2.After(time.Second, "stop", s2.Stop)
	s2.After(2*time.Second, "never", func() { t.Fatal("ran after Stop") })
	assert.True(t, errors.Is(s2.Run(), ErrStopped))
}

func TestNamedStreamsDependOnlyOnSeedAndName(t *testing.T) {
	a, b := New(42), New(42)
	b.Rand("other").Uint64() // drawing from another stream must not disturb this one
	assert.Equal(t, a.Rand("viewer/1/jitter").Uint64(), b.Rand("viewer/1/jitter").Uint64())
	assert.NotEqual(t, a.Rand("viewer/1/jitter").Uint64(), a.Rand("viewer/2/jitter").Uint64())
	assert.NotEqual(t, New(43).Rand("viewer/1/jitter").Uint64(), a.Rand("viewer/1/jitter").Uint64())
	var x, y [16]byte
	a.Reader("ids").Read(x[:])
	b.Reader("ids").Read(y[:])
	assert.Equal(t, x, y)
}

func TestTraceHashCoversEventsAndModelFacts(t *testing.T) {
	run := func(seed uint64, payload string) (uint64, string) {
		s := New(seed)
		var log bytes.Buffer
		s.SetTraceWriter(&log)
		r := s.Rand("arrivals")
		for i := 0; i < 10; i++ {
			s.At(Time(r.Int64N(int64(time.Second))), "arrive", func() { s.TraceBytes("pkt", []byte(payload)) })
		}
		require.NoError(t, s.Run())
		return s.TraceHash(), log.String()
	}
	h1, log1 := run(1, "hello")
	h2, log2 := run(1, "hello")
	assert.Equal(t, h1, h2, "same seed, same hash")
	assert.Equal(t, log1, log2, "same seed, same canonical log")
	h3, _ := run(2, "hello")
	assert.NotEqual(t, h1, h3, "another seed moves the arrivals and so the hash")
	h4, _ := run(1, "hellp")
	assert.NotEqual(t, h1, h4, "a different delivered byte changes the hash")
}

func TestAdvanceToNeverSkipsPendingEvents(t *testing.T) {
	s := New(1)
	s.At(Time(time.Second), "a", func() {})
	s.AdvanceTo(Time(5 * time.Second))
	assert.Equal(t, Time(time.Second), s.Now(), "the clock stops at the next due event")
	s.Step()
	s.AdvanceTo(Time(5 * time.Second))
	assert.Equal(t, Time(5*time.Second), s.Now())
}

func TestTimeFormatsAsSeconds(t *testing.T) {
	assert.Equal(t, "1.500s", Time(1500*time.Millisecond).String())
	assert.Equal(t, 2*time.Second, Time(3*time.Second).Sub(Time(time.Second)))
}

// note is a Handler that records its name when it fires.
type note struct {
	name string
	got  *[]string
}

func (n *note) Fire() { *n.got = append(*n.got, n.name) }

func TestHandlersAreEventsLikeFuncs(t *testing.T) {
	// Events scheduled as Handlers and as funcs share one order (time, then scheduling), can
	// be stopped alike, and leave the same trace hash as the same schedule made of funcs only.
	run := func(handlers bool) ([]string, uint64) {
		s := New(1)
		var got []string
		at := func(when Time, name string) Timer {
			if handlers && name != "f" {
				return s.AtH(when, name, &note{name, &got})
			}
			return s.At(when, name, func() { got = append(got, name) })
		}
		at(2, "b")
		at(1, "a")
		at(2, "f")
		at(2, "c")
		stop := at(1, "stopped")
		assert.True(t, stop.Active())
		assert.True(t, stop.Stop())
		require.NoError(t, s.Run())
		return got, s.TraceHash()
	}
	got, hash := run(true)
	assert.Equal(t, []string{"a", "b", "f", "c"}, got, "one order for both kinds, a stopped handler never fires")
	want, wantHash := run(false)
	assert.Equal(t, want, got)
	assert.Equal(t, wantHash, hash, "the trace does not depend on how an event was scheduled")
}
