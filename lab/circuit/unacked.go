package circuit

import "slices"

// unackedSet holds the reliable packets waiting for their ack, in the order they were sent.
// Sequence numbers rise as packets are sent (until the 2^24 wrap), so a lookup by sequence is a
// binary search, and an ack — usually for one of the oldest — leaves a hole that is dropped when
// it reaches the front or when holes are half the slice. It replaces a map that cost a hash
// insert and delete per reliable packet (4 % of a 100,000-viewer run).
type unackedSet struct {
	seqs   []uint32   // in send order; seqs[i] stays when ps[i] is removed
	ps     []*pending // nil: acked or given up
	n      int        // live entries
	sorted bool       // seqs is ascending (false after a wrap, until compaction)
}

func (u *unackedSet) len() int { return u.n }

func (u *unackedSet) add(p *pending) {
	if len(u.seqs) == 0 {
		u.sorted = true
	} else if p.seq <= u.seqs[len(u.seqs)-1] {
		u.sorted = false
	}
	u.seqs = append(u.seqs, p.seq)
	u.ps = append(u.ps, p)
	u.n++
}

// index returns the position of live entry seq, or -1.
func (u *unackedSet) index(seq uint32) int {
	if u.sorted {
		if i, ok := slices.BinarySearch(u.seqs, seq); ok && u.ps[i] != nil {
			return i
		}
		return -1
	}
	for i, s := range u.seqs {
		if s == seq && u.ps[i] != nil {
			return i
		}
	}
	return -1
}

func (u *unackedSet) get(seq uint32) *pending {
	if i := u.index(seq); i >= 0 {
		return u.ps[i]
	}
	return nil
}

// remove deletes live entry seq and returns it, or nil.
func (u *unackedSet) remove(seq uint32) *pending {
	i := u.index(seq)
	if i < 0 {
		return nil
	}
	p := u.ps[i]
	u.ps[i] = nil
	u.n--
	switch {
	case u.n == 0:
		u.seqs, u.ps = u.seqs[:0], u.ps[:0]
	case 2*u.n < len(u.ps):
		u.compact()
	}
	return p
}

// compact drops the holes and recomputes sorted.
func (u *unackedSet) compact() {
	k := 0
	u.sorted = true
	for i, p := range u.ps {
		if p == nil {
			continue
		}
		if k > 0 && u.seqs[i] <= u.seqs[k-1] {
			u.sorted = false
		}
		u.seqs[k], u.ps[k] = u.seqs[i], p
		k++
	}
	clear(u.ps[k:])
	u.seqs, u.ps = u.seqs[:k], u.ps[:k]
}

// each calls f for every live entry, in send order.
func (u *unackedSet) each(f func(*pending)) {
	for _, p := range u.ps {
		if p != nil {
			f(p)
		}
	}
}

func (u *unackedSet) clear() {
	clear(u.ps)
	u.seqs, u.ps, u.n = u.seqs[:0], u.ps[:0], 0
}
