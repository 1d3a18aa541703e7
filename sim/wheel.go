package sim

import "math/bits"

// The queue has two parts. A timing wheel holds the near future: events whose tick (at >> tickShift,
// about a millisecond) lies in (cursor, cursor+wheelSlots); scheduling there and cancelling are O(1).
// The heap holds everything else: events of the current tick (and earlier), which it keeps in exact
// (at, seq) order, and events beyond the wheel's horizon. When the heap has no event of the current
// tick, the cursor moves to the earlier of the next occupied wheel slot and the heap's top, and a
// slot's events are moved into the heap. The dispatch order is therefore exactly (at, seq), the same
// as a single heap's: the wheel changes the cost, never the order.

const (
	tickShift  = 20 // 2^20 ns ≈ 1.05 ms per slot
	wheelBits  = 12
	wheelSlots = 1 << wheelBits // ≈ 4.4 s of horizon
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

// insert queues slot in the wheel or the heap.
func (s *Sim) insert(slot uint32) {
	e := &s.slots[slot]
	tk := tickOf(e.at)
	w := &s.wheel
	if tk > w.cursor && tk < w.cursor+wheelSlots {
		i := tk & wheelMask
		w.slots[i] = append(w.slots[i], wref{slot, e.gen})
		w.occ[i>>6] |= 1 << (i & 63)
		w.live++
		e.hidx = inWheel
		return
	}
	s.push(slot)
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
		s.push(r.slot)
	}
	w.slots[i] = refs[:0]
	w.occ[i>>6] &^= 1 << (i & 63)
}

// peek returns the slab slot of the earliest pending event, moving the cursor and draining wheel
// slots as needed.
func (s *Sim) peek() (uint32, bool) {
	w := &s.wheel
	for {
		if len(s.heap) > 0 && tickOf(s.slots[s.heap[0]].at) <= w.cursor {
			return s.heap[0], true
		}
		if w.live > 0 {
			if tk, ok := w.nextWheelTick(); ok && (len(s.heap) == 0 || tk <= tickOf(s.slots[s.heap[0]].at)) {
				w.cursor = tk
				s.drain(tk)
				continue
			}
		}
		if len(s.heap) == 0 {
			return 0, false
		}
		// The heap's top is a far event and no wheel event precedes it: jump to it. Wheel events
		// all lie after it, so they stay within (cursor, cursor+wheelSlots).
		w.cursor = tickOf(s.slots[s.heap[0]].at)
		return s.heap[0], true
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
