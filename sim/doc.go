// Package sim is gridlab's deterministic discrete-event kernel.
//
// It owns virtual time, the event queue, cancelable timers, named random-number streams and the
// trace hash. Nothing else in gridlab reads a clock or seeds a generator on its own: models are
// handed a *Sim (or a small interface it satisfies) and act only through it.
//
// Determinism contract:
//   - Events run in (time, sequence) order; sequence numbers are assigned when an event is
//     scheduled, so two events at the same instant run in the order they were scheduled.
//   - Random streams are derived from (run seed, stream name) alone, so adding a component never
//     changes the numbers another component draws.
//   - The trace hash (FNV-1a style, 64 bit, mixed a word at a time) covers every dispatched
//     event's time and label plus whatever models add with Trace and TraceBytes. Same
//     scenario + seed gives the same hash.
//
// The queue is a timing wheel for the next 8.6 seconds (O(1) schedule and cancel: most resend
// timers are cancelled); when a tick comes up, its slot's events are sorted once into a batch
// and taken from its front (a counting sort on the sub-tick, then an insertion sort), beside a
// small 4-ary heap for the events scheduled into the running tick; another heap holds the far
// future (stays, idle checks: hundreds of thousands at 100,000 viewers, never sifted by a
// dispatch); see wheel.go, batch.go and heap.go. The split changes the cost, never the dispatch
// order. Cancelling leaves a stale item behind (the slot's generation moves on), dropped when it
// surfaces, so that no sifting has to update the slab. When the wheel hands a tick's events over it
// reads each one's state ahead (the Handler's or func's object, and Warmer.Warm where a model
// offers it), so that the CPU overlaps those cache misses instead of meeting them one event at a
// time; reading ahead changes nothing but the timing.
//
// An event is a func (At, After) or a Handler (AtH, AfterH): a model's own state with a Fire
// method, which the kernel reaches without reading a func bound to it — the form for the events
// a large run has most of (netem's packet arrivals, the viewers' and regions' periodic timers).
//
// The kernel starts no goroutines and is not safe for concurrent use: one goroutine drives it.
// lab/realnet drives the same kernel with wall-clock time (see AdvanceTo).
package sim
