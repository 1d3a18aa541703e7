package netem

import "gridlab/sim"

// fifoTable keeps, per (source, destination) pair, the latest arrival scheduled on a segment,
// so that jitter never reorders a pair's packets (Linux netem's rate-less jitter does the same
// by keeping its queue in time order). Most pairs have nothing in flight most of the time; an
// entry matters only while its time lies ahead.
//
// A direct-mapped table answers most lookups with one probe; a pair whose slot holds another
// pair's entry still in flight goes to an overflow map. Each pair's latest time lives in one
// place only: the overflow map if it is there, else its slot. Entries whose time has passed
// are free for reuse, so the table needs no deletion. At 100,000 viewers a map alone cost a
// lookup, an insertion and a deletion per datagram (6 % of a run).
//
// The overflow is consulted only for a pair whose slot counts pairs homed there in the overflow
// (spills): with ~5,000 datagrams in flight, as at scale-100k's peak, the overflow was never
// empty, and every datagram paid a map lookup for it. A count, not a flag, because the overflow
// never empties at that load: flags would all end up set. Counts belong to an epoch, and
// clearing the overflow starts a new one, so that no counts need erasing. For the same reason
// the table doubles (up to fifoMaxSlots) when more than a thirty-second of its slots' worth of
// pairs in flight are in the overflow (at that load a third of new pairs found their slot taken
// at 16,384 slots). None of this changes a time the table returns, only where entries live.
type fifoTable struct {
	slots    []fifoSlot // len is a power of two; nil until first use
	shift    uint8      // 64 - log2(len(slots))
	epoch    uint32     // the overflow's generation: a slot's spills count only if it has it
	overflow map[pairKey]sim.Time
	overMax  sim.Time // the latest time in overflow: once passed, all of it is stale
	pruneAt  int
}

// fifoSlot is 32 bytes, so that a slot never straddles two cache lines.
type fifoSlot struct {
	key    pairKey
	at     sim.Time // 0: never used
	spills uint32   // pairs whose home this is in the overflow, when epoch is the table's
	epoch  uint32
}

// spilled reports whether pairs homed at s may be in the overflow.
func (t *fifoTable) spilled(s *fifoSlot) bool { return s.epoch == t.epoch && s.spills > 0 }

func (t *fifoTable) addSpill(s *fifoSlot) {
	if s.epoch != t.epoch {
		s.epoch, s.spills = t.epoch, 0
	}
	s.spills++
}

const (
	fifoSlots    = 1 << 14
	fifoMaxSlots = 1 << 18
)

func (t *fifoTable) slot(k pairKey) *fifoSlot {
	if t.slots == nil {
		t.slots, t.shift, t.epoch = make([]fifoSlot, fifoSlots), 64-14, 1
	}
	return t.at(k)
}

// peek returns k's slot, nil while the table is empty; it changes nothing (UDPConn.WarmTo).
func (t *fifoTable) peek(k pairKey) *fifoSlot {
	if t.slots == nil {
		return nil
	}
	return t.at(k)
}

// at returns k's slot in a table that has its slots.
func (t *fifoTable) at(k pairKey) *fifoSlot {
	h := (k.a*0x9E3779B97F4A7C15 ^ k.b*0xC2B2AE3D27D4EB4F) >> t.shift
	return &t.slots[h&uint64(len(t.slots)-1)]
}

// next returns the arrival time for a packet of pair k that would arrive at `at`: no earlier
// than the pair's previous packet. It records the result as the pair's latest; now is the
// current time (entries at or before it are stale).
func (t *fifoTable) next(k pairKey, at, now sim.Time) sim.Time {
	s := t.slot(k)
	if s.key == k { // a pair in its slot is not in the overflow (it goes there only from elsewhere)
		at = max(at, s.at)
		s.at = at
		return at
	}
	if t.spilled(s) {
		if now >= t.overMax {
			clear(t.overflow) // nothing in it is in flight any more
			t.epoch++
		} else if prev, ok := t.overflow[k]; ok {
			at = max(at, prev)
			if s.at <= now { // its slot is free again: back home, out of the overflow
				delete(t.overflow, k)
				s.spills--
				s.key, s.at = k, at
				return at
			}
			t.overflow[k] = at
			t.overMax = max(t.overMax, at)
			return at
		}
	}
	if s.at <= now { // free, or another pair's entry that no longer matters
		s.key, s.at = k, at
		return at
	}
	// Another pair has a packet in flight here.
	if t.overflow == nil {
		t.overflow = map[pairKey]sim.Time{}
		t.pruneAt = minPruneSize
	}
	t.overflow[k] = at
	t.addSpill(s)
	t.overMax = max(t.overMax, at)
	if len(t.overflow) > t.pruneAt {
		for key, a := range t.overflow { // deleting stale entries: order does not matter
			if a <= now {
				delete(t.overflow, key)
				t.slot(key).spills--
			}
		}
		if len(t.overflow) > len(t.slots)/32 && len(t.slots) < fifoMaxSlots {
			t.grow(now)
		}
		t.pruneAt = max(minPruneSize, 2*len(t.overflow))
	}
	return at
}

// grow doubles the slots, moving there every entry still in flight (slots first, then the
// overflow's where their new slot is free; the rest stay in the overflow, counted at their new
// home). Which overflow entries find a slot depends on the map's order, but an entry's time is
// the same wherever it lives.
func (t *fifoTable) grow(now sim.Time) {
	old := t.slots
	t.slots, t.shift = make([]fifoSlot, 2*len(old)), t.shift-1
	for i := range old {
		if e := &old[i]; e.at > now {
			// Old slot i's pairs go to new slot 2i or 2i+1 (one more bit of the same hash), so
			// two entries never meet.
			s := t.slot(e.key)
			s.key, s.at = e.key, e.at
		}
	}
	for k, at := range t.overflow { // all in flight: next pruned the overflow just before
		if s := t.slot(k); s.at <= now {
			s.key, s.at = k, at
			delete(t.overflow, k)
		} else {
			t.addSpill(s)
		}
	}
}
