package freelist

// List is a bounded stack of spare slices. The zero value keeps up to DefaultMax slices of any
// capacity; New sets other bounds.
type List[T any] struct {
	free   [][]T
	max    int // most slices kept; 0 means DefaultMax
	maxCap int // largest capacity kept; 0 means any
}

// DefaultMax is how many slices a zero List keeps.
const DefaultMax = 16

// New returns a List that keeps at most max slices (DefaultMax if max is 0), each of
// capacity at most maxCap (any if maxCap is 0): a few large buffers would otherwise stay
// for the rest of a run.
func New[T any](max, maxCap int) List[T] { return List[T]{max: max, maxCap: maxCap} }

// Get returns a kept slice, empty, or nil when none is kept.
func (l *List[T]) Get() []T {
	n := len(l.free)
	if n == 0 {
		return nil
	}
	b := l.free[n-1]
	l.free[n-1] = nil
	l.free = l.free[:n-1]
	return b
}

// Put keeps b for a later Get unless the list is full or b is outside its bounds. The caller
// gives b up: nothing may read or write it afterwards.
func (l *List[T]) Put(b []T) {
	max := l.max
	if max == 0 {
		max = DefaultMax
	}
	if cap(b) == 0 || l.maxCap > 0 && cap(b) > l.maxCap || len(l.free) >= max {
		return
	}
	l.free = append(l.free, b[:0])
}

// Len returns the number of slices kept.
func (l *List[T]) Len() int { return len(l.free) }
