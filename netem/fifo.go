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
type fifoTable struct {
	slots    []fifoSlot // len is a power of two; nil until first use
	overflow map[pairKey]sim.Time
	overMax  sim.Time // the latest time in overflow: once passed, all of it is stale
	pruneAt  int
}

type fifoSlot struct {
	key pairKey
	at  sim.Time // 0: never used
}

const fifoSlots = 1 << 14

func (t *fifoTable) slot(k pairKey) *fifoSlot {
	if t.slots == nil {
		t.slots = make([]fifoSlot, fifoSlots)
	}
	h := (k.a*0x9E3779B97F4A7C15 ^ k.b*0xC2B2AE3D27D4EB4F) >> (64 - 14)
	return &t.slots[h&(fifoSlots-1)]
}

// next returns the arrival time for a packet of pair k that would arrive at `at`: no earlier
// than the pair's previous packet. It records the result as the pair's latest; now is the
// current time (entries at or before it are stale).
func (t *fifoTable) next(k pairKey, at, now sim.Time) sim.Time {
	if len(t.overflow) > 0 {
		if now >= t.overMax {
			clear(t.overflow) // nothing in it is in flight any more
		} else if prev, ok := t.overflow[k]; ok {
			at = max(at, prev)
			t.overflow[k] = at
			t.overMax = max(t.overMax, at)
			return at
		}
	}
	s := t.slot(k)
	switch {
	case s.key == k:
		at = max(at, s.at)
		s.at = at
	case s.at <= now: // free, or another pair's entry that no longer matters
		s.key, s.at = k, at
	default: // another pair has a packet in flight here
		if t.overflow == nil {
			t.overflow = map[pairKey]sim.Time{}
			t.pruneAt = minPruneSize
		}
		t.overflow[k] = at
		t.overMax = max(t.overMax, at)
		if len(t.overflow) > t.pruneAt {
			for key, a := range t.overflow { // deleting stale entries: order does not matter
				if a <= now {
					delete(t.overflow, key)
				}
			}
			t.pruneAt = max(minPruneSize, 2*len(t.overflow))
		}
	}
	return at
}
