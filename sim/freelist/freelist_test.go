package freelist

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestListHandsBackWhatItKeptLastFirstAndEmpty(t *testing.T) {
	var l List[byte]
	assert.Nil(t, l.Get(), "nothing kept yet")
	a, b := make([]byte, 3, 8), make([]byte, 5, 16)
	l.Put(a)
	l.Put(b)
	got := l.Get()
	assert.Len(t, got, 0, "a kept slice comes back empty")
	assert.Equal(t, 16, cap(got), "the last kept comes back first")
	assert.Same(t, &b[:1][0], &got[:1][0], "it is the same memory")
	assert.Equal(t, 8, cap(l.Get()))
	assert.Nil(t, l.Get(), "and then nothing")
}

func TestListKeepsWithinItsBounds(t *testing.T) {
	// A zero List keeps DefaultMax slices of any size; New's bounds limit the count and the
	// capacity; a nil or zero-capacity slice is never kept.
	var z List[int]
	for range DefaultMax + 3 {
		z.Put(make([]int, 0, 1<<20))
	}
	assert.Equal(t, DefaultMax, z.Len())
	z.Put(nil)
	assert.Equal(t, DefaultMax, z.Len())

	l := New[int](2, 64)
	l.Put(make([]int, 0, 65))
	assert.Equal(t, 0, l.Len(), "too large")
	l.Put(make([]int, 0, 64))
	l.Put(make([]int, 0, 1))
	l.Put(make([]int, 0, 2))
	assert.Equal(t, 2, l.Len(), "full")
}

func TestIndexesReuseTheLastFreedFirstAndOtherwiseCountUp(t *testing.T) {
	var x Indexes
	for want := uint32(0); want < 3; want++ {
		i, fresh := x.Take()
		assert.Equal(t, want, i, "new indexes count up from 0")
		assert.True(t, fresh)
	}
	x.Free(0)
	x.Free(2)
	i, fresh := x.Take()
	assert.Equal(t, uint32(2), i, "the last freed comes back first")
	assert.False(t, fresh, "a reused index is not fresh")
	i, _ = x.Take()
	assert.Equal(t, uint32(0), i)
	i, fresh = x.Take()
	assert.Equal(t, uint32(3), i, "with none freed, the next new one")
	assert.True(t, fresh)
}
