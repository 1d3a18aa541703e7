package sim

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"time"
	"unsafe"

	"gridlab/sim/freelist"
)

// Time is virtual time: nanoseconds since the start of the run.
type Time int64

// Add returns t+d.
func (t Time) Add(d time.Duration) Time { return t + Time(d) }

// Sub returns the duration t-u.
func (t Time) Sub(u Time) time.Duration { return time.Duration(t - u) }

// Duration returns t as a duration since the start of the run.
func (t Time) Duration() time.Duration { return time.Duration(t) }

// Seconds returns t in seconds.
func (t Time) Seconds() float64 { return float64(t) / 1e9 }

// String formats t as seconds with millisecond precision, e.g. "12.345s".
func (t Time) String() string {
	return strconv.FormatFloat(t.Seconds(), 'f', 3, 64) + "s"
}

// ErrBudget is returned by Run and RunUntil when the event budget is spent.
var ErrBudget = errors.New("sim: event budget exhausted")

// ErrStopped is returned by Run and RunUntil when a model called Stop.
var ErrStopped = errors.New("sim: stopped")

// entry is one scheduled event. Entries live in a slab and are referred to by index so that
// scheduling allocates nothing once the slab has grown.
type entry struct {
	at    Time
	seq   uint64
	fn    func() // the event, or nil when h is
	h     Handler
	label string
	gen   uint32 // bumped whenever the slot is freed, invalidating old Timer handles and queue items
	q     queue  // where the event waits, qNone once fired or cancelled
}

// touch reads the first byte of the event's state — the Handler's object, or the func's closure —
// so that the CPU fetches it with the other events of its tick while drain walks them (their
// misses overlap), rather than alone when the event fires. It changes nothing; what it returns
// only keeps the read from being optimised away.
func (e *entry) touch() byte {
	if e.h != nil {
		// An interface value is two words, its type's and its data's; a Handler with a nil
		// pointer inside is legal (its Fire may handle a nil receiver), so it is not read.
		if p := (*[2]unsafe.Pointer)(unsafe.Pointer(&e.h))[1]; p != nil {
			return *(*byte)(p)
		}
		return 0
	}
	return **(**byte)(unsafe.Pointer(&e.fn)) // a func value points to its code and captures
}

// queue names the part of the queue an event waits in.
type queue uint8

const (
	qNone queue = iota
	qHeap
	qWheel
	qFar
)

// Handler is an event scheduled with AtH: the kernel calls Fire.
//
// Scheduling a pointer to a model's own state this way, rather than a func bound to it, saves
// each dispatch a memory access: a bound func is an object of its own, which the kernel must
// read to find the code and the state. In a large run that object is out of the cache as often
// as the state is (netem schedules every packet's arrival this way).
type Handler interface{ Fire() }

// Warmer is a Handler that can read ahead: the kernel calls Warm for each event of a tick when
// the tick comes up, before any of them fires, so that the memory the events will touch is
// fetched for all of them at once (the CPU overlaps those misses) rather than one event at a
// time. Warm must change nothing; it returns any byte it read, which the kernel discards (a
// read whose value is unused would be optimised away).
type Warmer interface {
	Handler
	Warm() byte
}

// Sim is the kernel: a virtual clock and an event queue ordered by (time, sequence).
type Sim struct {
	now     Time
	seed    uint64
	seq     uint64
	slots   []entry
	free    freelist.Indexes // of slots
	pending int              // events scheduled and neither fired nor cancelled
	warm    byte             // sum of what the read-ahead read: never used
	noAhead bool             // SetReadAhead(false)
	// fromBatch says where peek found the earliest event: first in batch, or atop heap.
	fromBatch bool
	batch     tickBatch // the current tick's events from its wheel slot, sorted (batch.go)
	heap      qheap     // the current tick's other events: scheduled during it, or from far (heap.go)
	wheel     wheel     // the near future (wheel.go)
	far       qheap     // beyond the wheel's horizon
	events    uint64
	budget    uint64 // 0 = unlimited
	stopped   bool
	hash      uint64
	trace     io.Writer
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// New returns a kernel at time 0 whose random streams derive from seed.
func New(seed uint64) *Sim {
	return &Sim{seed: seed, hash: fnvOffset}
}

// Seed returns the run seed.
func (s *Sim) Seed() uint64 { return s.seed }

// Now returns the current virtual time.
func (s *Sim) Now() Time { return s.now }

// Events returns the number of events dispatched so far.
func (s *Sim) Events() uint64 { return s.events }

// Pending returns the number of events waiting in the queue.
func (s *Sim) Pending() int { return s.pending }

// SetBudget limits the total number of events Run and RunUntil may dispatch (0 = no limit).
func (s *Sim) SetBudget(n uint64) { s.budget = n }

// SetTraceWriter makes the kernel write the canonical event log, one line per dispatched event
// and per Trace call, to w. The log is what the trace hash covers. nil turns it off.
func (s *Sim) SetTraceWriter(w io.Writer) { s.trace = w }

// SetReadAhead turns the kernel's read-ahead of a tick's events on (the default) or off. It
// changes how fast a large run goes, never what it does; tests turn it off to check that.
func (s *Sim) SetReadAhead(on bool) { s.noAhead = !on }

// Stop makes the running Run or RunUntil return ErrStopped after the current event.
func (s *Sim) Stop() { s.stopped = true }

// Timer is a handle to a scheduled event. The zero Timer is valid and never active.
type Timer struct {
	s    *Sim
	slot uint32
	gen  uint32
}

// Stop cancels the event. It reports whether the event was still pending.
func (t Timer) Stop() bool {
	if t.s == nil {
		return false
	}
	return t.s.cancel(t.slot, t.gen)
}

// Active reports whether the event is still pending.
func (t Timer) Active() bool {
	if t.s == nil || int(t.slot) >= len(t.s.slots) {
		return false
	}
	e := &t.s.slots[t.slot]
	return e.gen == t.gen && e.q != qNone
}

// When returns the time the event is due, or -1 when it is not pending.
func (t Timer) When() Time {
	if !t.Active() {
		return -1
	}
	return t.s.slots[t.slot].at
}

// At schedules fn to run at time at (or now, if at is in the past). label names the event in
// the trace; keep it a constant string so that scheduling does not allocate.
func (s *Sim) At(at Time, label string, fn func()) Timer {
	e, t := s.schedule(at, label)
	e.fn = fn
	s.insert(e, t.slot)
	return t
}

// AtH schedules h.Fire to run at time at (or now, if at is in the past), as At does fn.
func (s *Sim) AtH(at Time, label string, h Handler) Timer {
	e, t := s.schedule(at, label)
	e.h = h
	s.insert(e, t.slot)
	return t
}

// schedule takes a slot for an event at at (at least now) and sets all but its function.
func (s *Sim) schedule(at Time, label string) (*entry, Timer) {
	if at < s.now {
		at = s.now
	}
	slot, fresh := s.free.Take()
	if fresh {
		s.slots = append(s.slots, entry{})
	}
	s.seq++
	s.pending++
	e := &s.slots[slot]
	e.at, e.seq, e.label = at, s.seq, label
	return e, Timer{s: s, slot: slot, gen: e.gen}
}

// After schedules fn to run d from now.
func (s *Sim) After(d time.Duration, label string, fn func()) Timer {
	return s.At(s.now.Add(d), label, fn)
}

// AfterH schedules h.Fire to run d from now.
func (s *Sim) AfterH(d time.Duration, label string, h Handler) Timer {
	return s.AtH(s.now.Add(d), label, h)
}

// NextAt returns the time of the earliest pending event.
func (s *Sim) NextAt() (Time, bool) {
	slot, ok := s.peek()
	if !ok {
		return 0, false
	}
	return s.slots[slot].at, true
}

// Step dispatches the earliest pending event. It reports false when the queue is empty.
func (s *Sim) Step() bool {
	slot, ok := s.peek()
	if !ok {
		return false
	}
	s.take() // peek leaves the earliest event first in the batch or at the top of the heap
	e := &s.slots[slot]
	at, fn, h, label := e.at, e.fn, e.h, e.label
	e.fn, e.h, e.label, e.q = nil, nil, "", qNone
	e.gen++
	s.free.Free(slot)
	s.pending--
	s.now = at
	s.events++
	s.mixEvent(at, label)
	if fn != nil {
		fn()
	} else {
		h.Fire()
	}
	return true
}

// RunUntil dispatches events due at or before end, then sets the clock to end. It returns
// ErrBudget or ErrStopped when it ends early, nil otherwise.
func (s *Sim) RunUntil(end Time) error {
	s.stopped = false
	for {
		slot, ok := s.peek()
		if !ok || s.slots[slot].at > end {
			break
		}
		if s.budget > 0 && s.events >= s.budget {
			return ErrBudget
		}
		s.Step()
		if s.stopped {
			return ErrStopped
		}
	}
	if end > s.now {
		s.now = end
	}
	return nil
}

// Run dispatches events until the queue is empty, the budget is spent or a model calls Stop.
func (s *Sim) Run() error {
	s.stopped = false
	for s.Pending() > 0 {
		if s.budget > 0 && s.events >= s.budget {
			return ErrBudget
		}
		s.Step()
		if s.stopped {
			return ErrStopped
		}
	}
	return nil
}

// AdvanceTo moves the clock forward to t without dispatching anything; events due before t
// run at their own time on the next Step. lab/realnet uses it to follow the wall clock.
func (s *Sim) AdvanceTo(t Time) {
	if t > s.now {
		if at, ok := s.NextAt(); ok && at < t {
			t = at
		}
		s.now = t
	}
}

// Rand returns a new generator for the named stream. The stream depends only on the run seed and
// the name: use stable names such as "viewer/17/jitter". Each call returns a fresh generator at
// the start of the stream, so a component should ask once and keep it.
func (s *Sim) Rand(name string) *rand.Rand {
	a, b := s.streamSeed(name)
	return rand.New(rand.NewPCG(a, b))
}

// Reader returns a byte stream (ChaCha8) for the named stream, for consumers that need an
// io.Reader such as uuid.NewRandomFromReader.
func (s *Sim) Reader(name string) io.Reader {
	var key [32]byte
	var buf [8]byte
	binary.LittleEndian.PutUint64(buf[:], s.seed)
	h := sha256.New()
	h.Write(buf[:])
	h.Write([]byte("reader/"))
	h.Write([]byte(name))
	copy(key[:], h.Sum(nil))
	return rand.NewChaCha8(key)
}

func (s *Sim) streamSeed(name string) (uint64, uint64) {
	var buf [8]byte
	binary.LittleEndian.PutUint64(buf[:], s.seed)
	h := sha256.New()
	h.Write(buf[:])
	h.Write([]byte(name))
	sum := h.Sum(nil)
	return binary.LittleEndian.Uint64(sum[0:8]), binary.LittleEndian.Uint64(sum[8:16])
}

// Trace adds a model-level fact (kind and one number) to the trace hash and log.
func (s *Sim) Trace(kind string, x uint64) {
	s.mixString(kind)
	s.mixUint(x)
	if s.trace != nil {
		fmt.Fprintf(s.trace, "%s  . %s %d\n", s.now, kind, x)
	}
}

// TraceBytes adds a model-level fact with a byte payload (e.g. a delivered packet).
func (s *Sim) TraceBytes(kind string, b []byte) {
	s.mixString(kind)
	s.hash = mixBytes(s.hash, b)
	if s.trace != nil {
		fmt.Fprintf(s.trace, "%s  . %s %x\n", s.now, kind, b)
	}
}

// TraceHash returns the FNV-1a hash of the canonical event log so far.
func (s *Sim) TraceHash() uint64 { return s.hash }

func (s *Sim) mixEvent(at Time, label string) {
	s.mixUint(uint64(at))
	s.mixString(label)
	if s.trace != nil {
		fmt.Fprintf(s.trace, "%s %s\n", at, label)
	}
}

func (s *Sim) mixUint(x uint64) {
	s.hash = (s.hash ^ x) * fnvPrime
}

func (s *Sim) mixString(str string) {
	h := s.hash
	i := 0
	for ; i+8 <= len(str); i += 8 {
		h ^= uint64(str[i]) | uint64(str[i+1])<<8 | uint64(str[i+2])<<16 | uint64(str[i+3])<<24 |
			uint64(str[i+4])<<32 | uint64(str[i+5])<<40 | uint64(str[i+6])<<48 | uint64(str[i+7])<<56
		h *= fnvPrime
	}
	for ; i < len(str); i++ {
		h ^= uint64(str[i])
		h *= fnvPrime
	}
	h ^= 0xff // terminator, so "ab"+"c" differs from "a"+"bc"
	h *= fnvPrime
	s.hash = h
}

// mixBytes folds b into h a little-endian 64-bit word at a time (FNV-1a's xor-multiply step on
// words rather than bytes: the same determinism, an eighth of the multiplications), then the
// tail bytes and the length.
func mixBytes(h uint64, b []byte) uint64 {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		h ^= binary.LittleEndian.Uint64(b[i:])
		h *= fnvPrime
	}
	for ; i < len(b); i++ {
		h ^= uint64(b[i])
		h *= fnvPrime
	}
	h ^= uint64(len(b))
	h *= fnvPrime
	return h
}
