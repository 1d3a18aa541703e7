package sim

// The kernel keeps two 4-ary min-heaps ordered by (at, seq): s.heap holds the events of the
// current tick (and any scheduled in the past), s.far the events beyond the wheel's horizon. Each
// heap item carries its key, so that sifting compares items in the heap's own array instead of
// dereferencing slab entries scattered over memory; a 4-ary heap does fewer levels of sifting
// than a binary one and keeps siblings on one cache line.
//
// Keeping the far future out of the current tick's heap matters at scale: with 100,000 viewers,
// hundreds of thousands of stay, idle and expiry timers wait minutes ahead, and every dispatch
// would otherwise sift through all of them.

type hitem struct {
	at   Time
	seq  uint64
	slot uint32
}

// qheap is one of the two heaps; far tells which, for the entries' hidx encoding.
type qheap struct {
	items []hitem
	far   bool
}

// Entries record where they are queued in hidx: ≥ 0 is a position in s.heap, inWheel the wheel,
// farPos(i) position i in s.far, -1 nowhere.
func farPos(i int) int32      { return int32(-3 - i) }
func farIndex(hidx int32) int { return int(-3 - hidx) }

func (h *qheap) pos(i int) int32 {
	if h.far {
		return farPos(i)
	}
	return int32(i)
}

func (a *hitem) before(b *hitem) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}

func (s *Sim) push(h *qheap, slot uint32) {
	e := &s.slots[slot]
	h.items = append(h.items, hitem{at: e.at, seq: e.seq, slot: slot})
	i := len(h.items) - 1
	e.hidx = h.pos(i)
	s.up(h, i)
}

func (s *Sim) up(h *qheap, i int) {
	it := h.items
	x := it[i]
	for i > 0 {
		p := (i - 1) / 4
		if !x.before(&it[p]) {
			break
		}
		it[i] = it[p]
		s.slots[it[i].slot].hidx = h.pos(i)
		i = p
	}
	it[i] = x
	s.slots[x.slot].hidx = h.pos(i)
}

func (s *Sim) down(h *qheap, i int) {
	it := h.items
	n := len(it)
	x := it[i]
	for {
		first := 4*i + 1
		if first >= n {
			break
		}
		m := first
		last := min(first+4, n)
		for c := first + 1; c < last; c++ {
			if it[c].before(&it[m]) {
				m = c
			}
		}
		if !it[m].before(&x) {
			break
		}
		it[i] = it[m]
		s.slots[it[i].slot].hidx = h.pos(i)
		i = m
	}
	it[i] = x
	s.slots[x.slot].hidx = h.pos(i)
}

// removeAt takes the item at position i out of h.
func (s *Sim) removeAt(h *qheap, i int) {
	it := h.items
	last := len(it) - 1
	removed := it[i].slot
	if i != last {
		it[i] = it[last]
	}
	h.items = it[:last]
	if i != last {
		s.down(h, i)
		s.up(h, i)
	}
	s.slots[removed].hidx = -1
}

func (s *Sim) cancel(slot, gen uint32) bool {
	if int(slot) >= len(s.slots) {
		return false
	}
	e := &s.slots[slot]
	if e.gen != gen || e.hidx == -1 {
		return false
	}
	switch {
	case e.hidx == inWheel:
		s.wheel.forget(slot, e)
	case e.hidx >= 0:
		s.removeAt(&s.heap, int(e.hidx))
	default:
		s.removeAt(&s.far, farIndex(e.hidx))
	}
	e.fn, e.h, e.label = nil, nil, ""
	e.gen++
	s.free = append(s.free, slot)
	return true
}
