package realnet

import (
	"context"
	"testing"
	"time"
)

// TestDoRunsWhileTimersNeverStopFallingDue: an overloaded loop, whose timers fall due faster
// than it runs them, must still run queued work (socket reads, Do) between its timers.
func TestDoRunsWhileTimersNeverStopFallingDue(t *testing.T) {
	l := New()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = l.Run(ctx) }()
	var spin func()
	spin = func() { l.Sim.After(0, "spin", spin) } // always due: the loop never catches up
	if err := l.Do(spin); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		for range 100 {
			_ = l.Do(func() {})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Do never ran: the loop's timers starved its queue")
	}
}
