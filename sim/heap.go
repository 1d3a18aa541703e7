package sim

// The kernel keeps two 4-ary min-heaps ordered by (at, seq): s.heap holds the events of the
// current tick that did not come from its wheel slot (scheduled while it runs, or due from far;
// the slot's own are in the batch, batch.go), s.far the events beyond the wheel's horizon. Each
// heap item carries its key and the generation its slab slot had when it was scheduled, so that
// sifting compares and moves items in the heap's own array and never touches the slab entries,
// which lie scattered over memory: a cancelled event's item stays where it is, stale (its slot's
// generation moved on), and is dropped when it reaches the top. A 4-ary heap does fewer levels
// of sifting than a binary one and keeps siblings on one cache line.
//
// Keeping the far future out of the current tick's heap matters at scale: with 100,000 viewers,
// hundreds of thousands of stay, idle and expiry timers wait minutes ahead, and every dispatch
// would otherwise sift through all of them.

type hitem struct {
	at   Time
	seq  uint64
	slot uint32
	gen  uint32
}

// qheap is one of the two heaps.
type qheap struct {
	items []hitem
	stale int // items whose event was cancelled
}

func (a *hitem) before(b *hitem) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}

func (h *qheap) push(x hitem) {
	h.items = append(h.items, x)
	h.up(len(h.items) - 1)
}

func (h *qheap) up(i int) {
	it := h.items
	x := it[i]
	for i > 0 {
		p := (i - 1) / 4
		if !x.before(&it[p]) {
			break
		}
		it[i] = it[p]
		i = p
	}
	it[i] = x
}

func (h *qheap) down(i int) {
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
		i = m
	}
	it[i] = x
}

// pop takes the top item out of h.
func (h *qheap) pop() {
	it := h.items
	last := len(it) - 1
	if last > 0 {
		it[0] = it[last]
	}
	h.items = it[:last]
	if last > 1 {
		h.down(0)
	}
}

// item is the heap item of entry e in slab slot slot.
func (e *entry) item(slot uint32) hitem {
	return hitem{at: e.at, seq: e.seq, slot: slot, gen: e.gen}
}

// live reports whether item x still stands for a scheduled event (it was not cancelled).
func (s *Sim) live(x *hitem) bool { return s.slots[x.slot].gen == x.gen }

// compact drops h's stale items once they are most of it, so that a heap whose events are
// mostly cancelled (login timeouts cancelled by success, minutes ahead) does not keep them all.
func (s *Sim) compact(h *qheap) {
	if h.stale < 1024 || 2*h.stale < len(h.items) {
		return
	}
	kept := h.items[:0]
	for _, x := range h.items {
		if s.live(&x) {
			kept = append(kept, x)
		}
	}
	clear(h.items[len(kept):])
	h.items, h.stale = kept, 0
	if len(kept) > 1 {
		for i := (len(kept) - 2) / 4; i >= 0; i-- {
			h.down(i)
		}
	}
}
