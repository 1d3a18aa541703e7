package freelist

// Indexes hands out indexes into an array its user grows, reusing freed ones, the last freed
// first (the one most likely still in the cache): a slab's free list. Take says whether the
// index is new, so that the user appends an element for it.
type Indexes struct {
	free []uint32
	n    uint32 // indexes handed out so far, freed or not
}

// Take returns an index: the last one freed, or else the next new one (fresh).
func (x *Indexes) Take() (i uint32, fresh bool) {
	if n := len(x.free); n > 0 {
		i = x.free[n-1]
		x.free = x.free[:n-1]
		return i, false
	}
	x.n++
	return x.n - 1, true
}

// Free makes i available to Take again; i must have come from Take and not been freed since.
func (x *Indexes) Free(i uint32) { x.free = append(x.free, i) }
