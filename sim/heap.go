package sim

// The queue is a 4-ary min-heap of slot indices ordered by (at, seq). A 4-ary heap does fewer
// levels of sifting than a binary one and keeps siblings on one cache line.

func (s *Sim) less(a, b uint32) bool {
	ea, eb := &s.slots[a], &s.slots[b]
	if ea.at != eb.at {
		return ea.at < eb.at
	}
	return ea.seq < eb.seq
}

func (s *Sim) push(slot uint32) {
	s.heap = append(s.heap, slot)
	i := len(s.heap) - 1
	s.slots[slot].hidx = int32(i)
	s.up(i)
}

func (s *Sim) up(i int) {
	h := s.heap
	for i > 0 {
		p := (i - 1) / 4
		if !s.less(h[i], h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		s.slots[h[i]].hidx = int32(i)
		s.slots[h[p]].hidx = int32(p)
		i = p
	}
}

func (s *Sim) down(i int) {
	h := s.heap
	n := len(h)
	for {
		first := 4*i + 1
		if first >= n {
			return
		}
		m := first
		last := min(first+4, n)
		for c := first + 1; c < last; c++ {
			if s.less(h[c], h[m]) {
				m = c
			}
		}
		if !s.less(h[m], h[i]) {
			return
		}
		h[i], h[m] = h[m], h[i]
		s.slots[h[i]].hidx = int32(i)
		s.slots[h[m]].hidx = int32(m)
		i = m
	}
}

// removeAt takes the element at heap position i out of the heap.
func (s *Sim) removeAt(i int) {
	h := s.heap
	last := len(h) - 1
	removed := h[i]
	if i != last {
		h[i] = h[last]
		s.slots[h[i]].hidx = int32(i)
	}
	s.heap = h[:last]
	s.slots[removed].hidx = -1
	if i != last {
		s.down(i)
		s.up(i)
	}
}

func (s *Sim) cancel(slot, gen uint32) bool {
	if int(slot) >= len(s.slots) {
		return false
	}
	e := &s.slots[slot]
	if e.gen != gen || e.hidx == -1 {
		return false
	}
	if e.hidx == inWheel {
		s.wheel.forget(slot, e)
	} else {
		s.removeAt(int(e.hidx))
	}
	e.fn, e.label = nil, ""
	e.gen++
	s.free = append(s.free, slot)
	return true
}
