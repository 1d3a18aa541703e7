package circuit

// seenSet is the set of the last dedupeWindow sequence numbers received, in arrival order
// (OpenSim's window): a number is forgotten once dedupeWindow newer ones have arrived. It
// answers exactly as a map of a ring of the last dedupeWindow arrivals would, but stores that
// ring the way circuits fill it.
//
// Numbers mostly arrive in order, each one above the last, after a little disorder while a
// circuit opens (a login's packets leave close together and jitter reorders them) and around
// a lost packet. So the ring is kept as runs: stretches of consecutive numbers that arrived in
// that order, oldest first, in a small array inside the set. A number one above the newest
// run's last extends it, which writes nothing but that run's count; any other starts a run of
// its own; forgetting the oldest number shrinks the oldest run. A written-out ring grew to 4 KB
// per circuit and took a write per datagram.
//
// When disorder goes on (a lossy, reordering path), runs are short and many; past maxRuns the
// set writes its ring out, with a bitmap of the numbers near the highest (outOfOrder), for good.
type seenSet struct {
	first uint8
	nruns uint8
	total uint16          // numbers remembered, at most dedupeWindow
	hi    uint32          // with ooo: the highest number received
	ooo   *outOfOrder     // the written-out ring, once disorder went on; nil until then
	runs  [maxRuns]seqRun // a ring of runs: runs[first] is the oldest, nruns in all
}

// seqRun is the numbers start, start+1, … start+n-1 (modulo 2^32), received in that order.
type seqRun struct{ start, n uint32 }

// maxRuns is how many runs a seenSet keeps before it writes its ring out; a power of two.
const maxRuns = 8

// outOfOrder is a seenSet's state once disorder went on: a ring in arrival order, which decides
// what is forgotten, and — because sequence numbers mostly rise — a bitmap of the ones in
// (hi-dedupeWindow, hi], which answers almost every lookup with one bit. A number below the
// bitmap's window (a very late resend, or the 2^24 wrap) is looked up in the ring.
type outOfOrder struct {
	ring []uint32 // in arrival order; once full, ring[next] is the oldest
	next int
	bits [dedupeWindow / 64]uint64
}

// len is the number of sequence numbers remembered.
func (s *seenSet) len() int {
	if s.ooo != nil {
		return len(s.ooo.ring)
	}
	return int(s.total)
}

// run returns the k-th run, 0 the oldest.
func (s *seenSet) run(k int) *seqRun { return &s.runs[(int(s.first)+k)&(maxRuns-1)] }

func (s *seenSet) contains(seq uint32) bool {
	if o := s.ooo; o != nil {
		return s.containsOOO(o, seq)
	}
	for k := range int(s.nruns) {
		if r := s.run(k); seq-r.start < r.n {
			return true
		}
	}
	return false
}

// insert adds seq, which contains reported absent.
func (s *seenSet) insert(seq uint32) {
	if s.ooo != nil {
		s.insertOOO(seq)
		return
	}
	if last := s.run(int(s.nruns) - 1); s.nruns > 0 && seq == last.start+last.n {
		last.n++
	} else if s.nruns == maxRuns {
		s.writeOut()
		s.insertOOO(seq)
		return
	} else {
		*s.run(int(s.nruns)) = seqRun{start: seq, n: 1}
		s.nruns++
	}
	if s.total++; s.total > dedupeWindow { // forget the oldest
		s.total--
		oldest := s.run(0)
		oldest.start, oldest.n = oldest.start+1, oldest.n-1
		if oldest.n == 0 {
			s.first, s.nruns = (s.first+1)&(maxRuns-1), s.nruns-1
		}
	}
}

// writeOut turns the set into an outOfOrder holding the same numbers in the same order.
func (s *seenSet) writeOut() {
	o := &outOfOrder{ring: make([]uint32, 0, dedupeWindow)}
	for k := range int(s.nruns) {
		r := s.run(k)
		for i := range r.n {
			o.ring = append(o.ring, r.start+i)
		}
	}
	s.hi = 0
	for _, v := range o.ring {
		s.hi = max(s.hi, v)
	}
	for _, v := range o.ring {
		if s.inWindow(v) {
			w, m := bit(v)
			o.bits[w] |= m
		}
	}
	s.ooo, s.runs, s.first, s.nruns, s.total = o, [maxRuns]seqRun{}, 0, 0, 0
}

func (s *seenSet) inWindow(seq uint32) bool { return seq <= s.hi && s.hi-seq < dedupeWindow }

func bit(seq uint32) (int, uint64) {
	i := seq % dedupeWindow
	return int(i / 64), 1 << (i % 64)
}

func (s *seenSet) containsOOO(o *outOfOrder, seq uint32) bool {
	if len(o.ring) == 0 || seq > s.hi {
		return false
	}
	if s.inWindow(seq) {
		w, m := bit(seq)
		return o.bits[w]&m != 0
	}
	for _, r := range o.ring {
		if r == seq {
			return true
		}
	}
	return false
}

func (s *seenSet) insertOOO(seq uint32) {
	o := s.ooo
	if len(o.ring) < dedupeWindow {
		o.ring = append(o.ring, seq)
	} else {
		old := o.ring[o.next]
		if s.inWindow(old) {
			w, m := bit(old)
			o.bits[w] &^= m
		}
		o.ring[o.next] = seq
		o.next = (o.next + 1) % dedupeWindow
	}
	if seq > s.hi {
		// The window moves up: the positions of hi+1 … seq held numbers that now fall below it.
		if seq-s.hi >= dedupeWindow {
			o.bits = [dedupeWindow / 64]uint64{}
		} else {
			for v := s.hi + 1; v != seq; v++ {
				w, m := bit(v)
				o.bits[w] &^= m
			}
		}
		s.hi = seq
	}
	if s.inWindow(seq) {
		w, m := bit(seq)
		o.bits[w] |= m
	}
}
