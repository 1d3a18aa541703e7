// Package realnet runs gridlab's sans-IO cores on OS sockets and the wall clock.
//
// One event-loop goroutine owns a *sim.Sim used in real-time mode: its clock is the time since
// the loop started (sim.AdvanceTo), its timers are the cores' timers, and between them the loop
// waits on a channel for work that socket goroutines hand it. Reader goroutines only read and
// post; every core callback (a datagram, bytes on a stream, an accept, a connect, a close)
// runs on the loop goroutine, so the cores stay single-threaded exactly as on the simulator.
// This is the only package in gridlab with socket goroutines.
package realnet

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"gridlab/sim"
)

// queueLen bounds the work waiting for the loop. Datagrams beyond it are dropped, as a full
// socket buffer would drop them, so a flood cannot grow memory or starve the timers.
const queueLen = 8192

// Loop is the event loop. Sim may be used only from the loop goroutine (inside Post, Do, or a
// core callback).
type Loop struct {
	Sim *sim.Sim

	start   time.Time
	work    chan func()
	done    chan struct{}
	stop    sync.Once
	running sync.Mutex

	dropped atomic.Uint64

	pending []*UDPConn // sockets with queued datagrams, sent when the turn ends (flush)
}

// flush sends every socket's queued datagrams; it runs on the loop between turns.
func (l *Loop) flush() {
	for _, u := range l.pending {
		u.dirty = false
		u.flush()
	}
	clear(l.pending)
	l.pending = l.pending[:0]
}

// Dropped returns how many datagrams were dropped because the loop's queue was full.
func (l *Loop) Dropped() uint64 { return l.dropped.Load() }

// New returns a loop whose simulated clock starts now.
func New() *Loop {
	return &Loop{
		Sim:   sim.New(0),
		start: time.Now(),
		work:  make(chan func(), queueLen),
		done:  make(chan struct{}),
	}
}

// Now returns the loop's clock: the wall time since New.
func (l *Loop) now() sim.Time { return sim.Time(time.Since(l.start)) }

// Wall converts a loop time to wall-clock time.
func (l *Loop) Wall(t sim.Time) time.Time { return l.start.Add(time.Duration(t)) }

// Post hands fn to the loop goroutine. It may be called from any goroutine; it blocks while
// the queue is full and returns false if the loop has stopped.
func (l *Loop) Post(fn func()) bool {
	select {
	case l.work <- fn:
		return true
	case <-l.done:
		return false
	}
}

// tryPost is Post without waiting: it reports false when the queue is full or the loop stopped.
func (l *Loop) tryPost(fn func()) bool {
	select {
	case <-l.done:
		return false
	default:
	}
	select {
	case l.work <- fn:
		return true
	default:
		return false
	}
}

// Do runs fn on the loop goroutine and waits for it. It must not be called from the loop.
func (l *Loop) Do(fn func()) error {
	ch := make(chan struct{})
	if !l.Post(func() { fn(); close(ch) }) {
		return ErrStopped
	}
	select {
	case <-ch:
		return nil
	case <-l.done:
		return ErrStopped
	}
}

// ErrStopped is returned by Do when the loop is not running any more.
var ErrStopped = errors.New("realnet: loop stopped")

// Stop ends Run after the current callback. It may be called from any goroutine.
func (l *Loop) Stop() { l.stop.Do(func() { close(l.done) }) }

// Done is closed when the loop stops.
func (l *Loop) Done() <-chan struct{} { return l.done }

// Run drives the loop until ctx ends or Stop is called.
func (l *Loop) Run(ctx context.Context) error {
	l.running.Lock()
	defer l.running.Unlock()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	defer l.flush()
	for {
		l.dispatch(maxTimersPerTurn)
		l.flush()
		var wait time.Duration = time.Hour
		if at, ok := l.Sim.NextAt(); ok {
			wait = max(time.Duration(at-l.now()), 0)
		}
		timer.Reset(wait)
		select {
		case fn := <-l.work:
			l.dispatch(maxTimersPerItem)
			fn()
			// Drain what else is ready, still checking timers between callbacks.
			for i := 0; i < 256; i++ {
				select {
				case fn := <-l.work:
					l.dispatch(maxTimersPerItem)
					fn()
					continue
				default:
				}
				break
			}
			l.flush()
		case <-timer.C:
		case <-ctx.Done():
			l.Stop()
			return ctx.Err()
		case <-l.done:
			return nil
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// Under overload (timers falling due faster than the loop runs them) the loop must still read
// its queue, or sockets go unread and Do waits forever. So each turn runs at most
// maxTimersPerTurn due timers, and each queued callback at most maxTimersPerItem before it;
// the timers left over run late, in order, on the next turns. An idle loop is unaffected.
const (
	maxTimersPerTurn = 1024
	maxTimersPerItem = 16
)

// dispatch runs up to limit due timers and moves the clock towards the wall time (never past a
// timer still due).
func (l *Loop) dispatch(limit int) {
	now := l.now()
	for range limit {
		at, ok := l.Sim.NextAt()
		if !ok || at > now {
			break
		}
		l.Sim.Step()
	}
	l.Sim.AdvanceTo(now)
}
