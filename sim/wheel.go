package sim

import "math/bits"

// The queue has three parts. A timing wheel holds the near future: events whose tick (at >>
// tickShift, about a millisecond) lies in (cursor, cursor+wheelSlots); scheduling there and
// cancelling are O(1). The current heap (s.heap) holds the events of the current tick (and
// earlier) in exact (at, seq) order; the far heap (s.far) holds the events beyond the wheel's
// horizon. When the current heap is empty, the cursor moves to the earlier of the next occupied
// wheel slot and the far heap's top, and that tick's events move into the current heap. The
// dispatch order is therefore exactly (at, seq), the same as a single heap's: the wheel and the
// split change the cost, never the order.

const (
	tickShift  = 20 // 2^20 ns ≈ 1.05 ms per slot
	wheelBits  = 13
	wheelSlots = 1 << wheelBits // ≈ 8.6 s of horizon: pings (5 s) and resends stay in the wheel
	wheelMask  = wheelSlots - 1
	inWheel    = -2 // entry.hidx of an event waiting in the wheel
)

// wref is a wheel entry: a slab slot and the generation it had when scheduled. Cancelling an event
// in the wheel only bumps the slot's generation; the stale wref is skipped when its slot is drained.
type wref struct {
	slot uint32
	gen  uint32
}

type wheel struct {
	cursor int64 // current tick; wheel slots hold ticks in (cursor, cursor+wheelSlots)
	slots  [wheelSlots][]wref
	occ    [wheelSlots / 64]uint64 // occupied slots
	live   int                     // live events in the wheel
}

func tickOf(t Time) int64 { return int64(t) >> tickShift }

// insert queues slot in the current heap, the wheel or the far heap.
func (s *Sim) insert(slot uint32) {
	e := &s.slots[slot]
	tk := tickOf(e.at)
	w := &s.wheel
	if tk <= w.cursor {
		s.push(&s.heap, slot)
		return
	}
	if tk < w.cursor+wheelSlots {
		i := tk & wheelMask
		w.slots[i] = append(w.slots[i], wref{slot, e.gen})
		w.occ[i>>6] |= 1 << (i & 63)
		w.live++
		e.hidx = inWheel
		return
	}
	s.push(&s.far, slot)
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

// drain moves the wheel slot of tick tk into the heap.
func (s *Sim) drain(tk int64) {
	w := &s.wheel
	i := tk & wheelMask
	refs := w.slots[i]
	for _, r := range refs {
		e := &s.slots[r.slot]
		if e.gen != r.gen || e.hidx != inWheel {
			continue // cancelled
		}
		w.live--
		s.push(&s.heap, r.slot)
	}
	w.slots[i] = refs[:0]
	w.occ[i>>6] &^= 1 << (i & 63)
}

// peek returns the slab slot of the earliest pending event, moving the cursor and draining wheel
// slots and the far heap as needed. It leaves that event at the top of the current heap.
func (s *Sim) peek() (uint32, bool) {
	w := &s.wheel
	for {
		if len(s.heap.items) > 0 { // all of the current tick
			return s.heap.items[0].slot, true
		}
		next, ok := int64(0), false
		if w.live > 0 {
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
		if w.live > 0 {
			s.drain(next)
		}
		for len(s.far.items) > 0 && tickOf(s.far.items[0].at) <= next {
			slot := s.far.items[0].slot
			s.removeAt(&s.far, 0)
			s.push(&s.heap, slot)
		}
	}
}

// forget takes a cancelled event out of the wheel. A timer cancelled soon after it was set (a resend
// timer, usually) is the last entry of its slot and is removed outright; any other leaves a stale
// wref that drain skips.
func (w *wheel) forget(slot uint32, e *entry) {
	w.live--
	e.hidx = -1
	i := tickOf(e.at) & wheelMask
	refs := w.slots[i]
	if n := len(refs); n > 0 && refs[n-1] == (wref{slot, e.gen}) {
		w.slots[i] = refs[:n-1]
		if n == 1 {
			w.occ[i>>6] &^= 1 << (i & 63)
		}
	}
}
