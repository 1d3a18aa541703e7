package sim

import "slices"

// A tick's events from its wheel slot are dispatched from a sorted array rather than through
// the current heap. They are all known when the tick comes up, so they are sorted once — a
// counting sort on where in the tick each falls (tickBuckets sub-ticks of ~16 µs), which leaves
// only the few events sharing a sub-tick out of order, then an insertion sort that puts those
// right — and then taken from the front, each in O(1). A heap costs a sift up on the way in and a
// sift down (several levels of unpredictable comparisons) on the way out, per event: at 100,000
// viewers a tick holds ~100 events.
//
// The events scheduled while a tick runs for that same tick, and the far heap's events that
// come due in it, still go to the current heap; peek takes whichever of the batch's first and
// the heap's top comes first in (at, seq). The order of dispatch is exactly (at, seq), as before.

const (
	bucketBits  = 6
	tickBuckets = 1 << bucketBits
	// maxBucketRun is the largest sub-tick population left to the insertion sort: past it (a
	// tick whose events crowd into one sub-tick, at many different instants) the batch is
	// sorted outright, so that no input makes the insertion sort quadratic.
	maxBucketRun = 64
)

// tickBatch is the sorted events of the current tick's wheel slot; items[next:] are still due.
type tickBatch struct {
	items []hitem
	next  int
	tmp   []hitem // scratch of the counting sort, swapped with items
}

// first returns the first item still due, or nil.
func (b *tickBatch) first() *hitem {
	if b.next < len(b.items) {
		return &b.items[b.next]
	}
	return nil
}

// reset empties the batch for the next tick.
func (b *tickBatch) reset() {
	b.items, b.next = b.items[:0], 0
}

// sort orders the batch's items by (at, seq); all lie in the tick starting at base.
func (b *tickBatch) sort(base Time) {
	it := b.items
	if len(it) <= 16 {
		insertionSort(it)
		return
	}
	var count [tickBuckets + 1]int32
	for i := range it {
		count[1+subTick(it[i].at, base)]++
	}
	most := int32(0)
	for k := 1; k <= tickBuckets; k++ {
		most = max(most, count[k])
		count[k] += count[k-1]
	}
	if most > maxBucketRun {
		slices.SortFunc(it, compareItems)
		return
	}
	tmp := slices.Grow(b.tmp[:0], len(it))[:len(it)]
	for i := range it {
		k := subTick(it[i].at, base)
		tmp[count[k]] = it[i]
		count[k]++
	}
	insertionSort(tmp) // only items of one sub-tick can be out of order now
	b.items, b.tmp = tmp, it
}

// subTick returns which of the tick's tickBuckets sub-ticks at (in the tick starting at base)
// falls in.
func subTick(at, base Time) int {
	return int((at-base)>>(tickShift-bucketBits)) & (tickBuckets - 1)
}

// insertionSort sorts a by (at, seq); it is linear when a is nearly sorted.
func insertionSort(a []hitem) {
	for i := 1; i < len(a); i++ {
		x := a[i]
		j := i
		for j > 0 && x.before(&a[j-1]) {
			a[j] = a[j-1]
			j--
		}
		a[j] = x
	}
}

func compareItems(a, b hitem) int {
	switch {
	case a.before(&b):
		return -1
	case b.before(&a):
		return 1
	}
	return 0
}

// take removes the event peek found first: the batch's first item or the current heap's top.
func (s *Sim) take() {
	if s.fromBatch {
		s.batch.next++
	} else {
		s.heap.pop()
	}
}
