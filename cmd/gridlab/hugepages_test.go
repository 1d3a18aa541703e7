package main

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRangesAgreeWithASetOfAddresses(t *testing.T) {
	// Random intervals over a small address space, added in random order: after each add the
	// set covers exactly the union (checked address by address against a plain set), stays
	// sorted, disjoint and merged, and missing returns exactly the uncovered parts, in order.
	r := rand.New(rand.NewPCG(3, 4))
	for round := range 200 {
		var s ranges
		covered := make([]bool, 64)
		for range 1 + r.IntN(12) {
			a := uintptr(r.IntN(64))
			b := a + 1 + uintptr(r.IntN(64-int(a)))
			q := [2]uintptr{a, b}
			var want [][2]uintptr
			for x := a; x < b; x++ {
				if covered[x] {
					continue
				}
				if n := len(want); n > 0 && want[n-1][1] == x {
					want[n-1][1]++
				} else {
					want = append(want, [2]uintptr{x, x + 1})
				}
			}
			assert.Equal(t, want, s.missing(q), "round %d: missing(%v) of %v", round, q, s)
			s.add(q)
			for x := a; x < b; x++ {
				covered[x] = true
			}
			for k, iv := range s {
				require.Less(t, iv[0], iv[1], "round %d: %v is not empty", round, iv)
				if k > 0 {
					require.Less(t, s[k-1][1], iv[0], "round %d: %v is sorted, disjoint and merged", round, s)
				}
			}
			for x := range uintptr(64) {
				assert.Equal(t, covered[x], s.missing([2]uintptr{x, x + 1}) == nil, "round %d: is %d covered by %v", round, x, s)
			}
		}
	}
}
