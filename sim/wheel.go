package sim

import "math/bits"

// The queue has three parts. A timing wheel holds the near future: events whose tick (at >>
// tickShift, about a millisecond) lies in (cursor, cursor+wheelSlots); scheduling there and
// cancelling are O(1). The current tick's events (and any earlier) wait in the batch, sorted
// (batch.go), and in the current heap (s.heap), both in exact (at, seq) order; the far heap
// (s.far) holds the events beyond the wheel's horizon. When the batch and the current heap are
// empty, the cursor moves to the earlier of the next occupied wheel slot and the far heap's top,
// and that tick's events move into the batch (from the wheel) and the heap (from far). The
// dispatch order is therefore exactly (at, seq), the same as a single heap's: the wheel and the
// split change the cost, never the order.

const (
	tickShift  = 20 // 2^20 ns ≈ 1.05 ms per slot
	wheelBits  = 13
	wheelSlots = 1 << wheelBits // ≈ 8.6 s of horizon: pings (5 s) and resends stay in the wheel
	wheelMask  = wheelSlots - 1
)

// wref is a wheel entry: a slab slot and the generation it had when scheduled. Cancelling an
// event in the wheel only bumps the slot's generation; the stale wref is dropped when its slot is
// drained. A timer cancelled soon after it was set (a resend timer, usually) is the last wref of
// its slot and is removed outright.
type wref struct {
	slot uint32
	gen  uint32
}

type wheel struct {
	cursor int64 // current tick; wheel slots hold ticks in (cursor, cursor+wheelSlots)
	slots  [wheelSlots][]wref
	occ    [wheelSlots / 64]uint64 // occupied slots
	n      int                     // wrefs in the wheel, stale ones included
}

func tickOf(t Time) int64 { return int64(t) >> tickShift }

// insert queues e (in slab slot slot) in the current heap, the wheel or the far heap.
func (s *Sim) insert(e *entry, slot uint32) {
	tk := tickOf(e.at)
	w := &s.wheel
	switch {
	case tk <= w.cursor:
		e.q = qHeap
		s.heap.push(e.item(slot))
	case tk < w.cursor+wheelSlots:
		e.q = qWheel
		i := tk & wheelMask
		w.slots[i] = append(w.slots[i], wref{slot, e.gen})
		w.occ[i>>6] |= 1 << (i & 63)
		w.n++
	default:
		e.q = qFar
		s.far.push(e.item(slot))
	}
}

// nextWheelTick returns the first occupied tick after the cursor.
func (w *wheel) nextWheelTick() (int64, bool) {
	start := (w.cursor + 1) & wheelMask
	word := start >> 6
	// First word: mask off bits below start.
	if m := w.occ[word] &^ (1<<(start&63) - 1); m != 0 {
		return w.tickAt(word<<6 + int64(bits.TrailingZeros64(m))), true
	}
	for n := int64(1); n <= int64(len(w.occ)); n++ {
		wi := (word + n) % int64(len(w.occ))
		if m := w.occ[wi]; m != 0 {
			if wi == word { // wrapped around to the first word: only bits below start remain
				m &= 1<<(start&63) - 1
				if m == 0 {
					return 0, false
				}
			}
			return w.tickAt(wi<<6 + int64(bits.TrailingZeros64(m))), true
		}
	}
	return 0, false
}

// tickAt maps a slot index back to its tick in (cursor, cursor+wheelSlots).
func (w *wheel) tickAt(i int64) int64 {
	return w.cursor + 1 + ((i - (w.cursor + 1)) & wheelMask)
}

// drain moves the live events of the wheel slot of tick tk into the batch, dropping the stale
// wrefs (it reads each event's slab entry for its key), and sorts the batch (batch.go). Unless
// read-ahead is off it also reads ahead for the whole tick: each event's object as it goes (the
// reads are independent of each other, so the CPU overlaps their cache misses), then whatever
// each Warmer names. The tick's events then find their memory at hand when they fire.
func (s *Sim) drain(tk int64) {
	w := &s.wheel
	i := tk & wheelMask
	refs := w.slots[i]
	b := s.batch.items[:0]
	for _, r := range refs {
		if e := &s.slots[r.slot]; e.gen == r.gen {
			b = append(b, e.item(r.slot))
			if !s.noAhead {
				s.warm += e.touch()
			}
		}
	}
	if !s.noAhead {
		for _, r := range refs {
			if e := &s.slots[r.slot]; e.gen == r.gen {
				if wm, ok := e.h.(Warmer); ok {
					s.warm += wm.Warm()
				}
			}
		}
	}
	s.batch.items = b // peek reset the batch before draining
	s.batch.sort(Time(tk << tickShift))
	w.n -= len(refs)
	w.slots[i] = refs[:0]
	w.occ[i>>6] &^= 1 << (i & 63)
}

// peek returns the slab slot of the earliest pending event, moving the cursor and draining wheel
// slots and the far heap as needed, and dropping the stale items it meets. It leaves that event
// first in the batch or at the top of the current heap, and fromBatch saying which (take).
func (s *Sim) peek() (uint32, bool) {
	w := &s.wheel
	for {
		// All of the current tick: the batch's first live item against the heap's.
		bt := s.batch.first()
		for bt != nil && !s.live(bt) {
			s.batch.next++
			bt = s.batch.first()
		}
		for len(s.heap.items) > 0 && !s.live(&s.heap.items[0]) {
			s.heap.pop()
		}
		if len(s.heap.items) > 0 {
			if top := &s.heap.items[0]; bt == nil || top.before(bt) {
				s.fromBatch = false
				return top.slot, true
			}
		}
		if bt != nil {
			s.fromBatch = true
			return bt.slot, true
		}
		next, ok := int64(0), false
		if w.n > 0 {
			next, ok = w.nextWheelTick()
		}
		if len(s.far.items) > 0 {
			if tk := tickOf(s.far.items[0].at); !ok || tk < next {
				next, ok = tk, true
			}
		}
		if !ok {
			return 0, false
		}
		// Every wheel event lies at or after next, so the wheel's range stays valid.
		w.cursor = next
		s.batch.reset()
		if w.n > 0 {
			s.drain(next)
		}
		for len(s.far.items) > 0 && tickOf(s.far.items[0].at) <= next {
			x := s.far.items[0]
			s.far.pop()
			if s.live(&x) {
				s.heap.push(x)
			} else {
				s.far.stale--
			}
		}
	}
}

// cancel takes the event in slab slot slot out of the queue if gen is still its generation.
func (s *Sim) cancel(slot, gen uint32) bool {
	if int(slot) >= len(s.slots) {
		return false
	}
	e := &s.slots[slot]
	if e.gen != gen || e.q == qNone {
		return false
	}
	q := e.q
	if q == qWheel {
		s.wheel.forget(slot, e)
	}
	e.fn, e.h, e.label, e.q = nil, nil, "", qNone
	e.gen++ // any item left queued for it is stale from now on
	s.free.Free(slot)
	s.pending--
	if q == qFar {
		s.far.stale++
		s.compact(&s.far)
	}
	return true
}

// forget removes a cancelled event's wref from its wheel slot when it is the slot's last (a
// resend timer cancelled soon after it was set); any other stays, stale, until its tick.
func (w *wheel) forget(slot uint32, e *entry) {
	i := tickOf(e.at) & wheelMask
	refs := w.slots[i]
	if n := len(refs); n > 0 && refs[n-1] == (wref{slot, e.gen}) {
		w.slots[i] = refs[:n-1]
		w.n--
		if n == 1 {
			w.occ[i>>6] &^= 1 << (i & 63)
		}
	}
}
