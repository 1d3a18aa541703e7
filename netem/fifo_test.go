package netem

import (
	"math/rand/v2"
	"testing"

	"gridlab/sim"
)

// The FIFO table gives every packet the arrival time a map that never forgets would: no
// earlier than the previous packet of its pair, whatever the collisions in the table, the
// overflow and its pruning. Many pairs live at once force collisions and overflow.
func TestFIFOTableMatchesAMapThatNeverForgets(t *testing.T) {
	for _, tc := range []struct {
		name  string
		pairs int
		span  sim.Time // how far ahead arrivals land: more in flight at once
	}{
		{"few pairs", 50, 30e6},
		{"more live pairs than slots", 40000, 50e9},
		{"many pairs, short flights", 200000, 30e6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(tc.pairs)))
			var tbl fifoTable
			ref := map[pairKey]sim.Time{}
			now := sim.Time(1)
			overflowed := false
			for i := 0; i < 300000; i++ {
				now += sim.Time(r.Int64N(200_000)) // packets every ~100 µs
				k := pairKey{r.Uint64N(uint64(tc.pairs)), 7}
				at := now + sim.Time(r.Int64N(int64(tc.span)))
				want := max(at, ref[k])
				ref[k] = want
				if got := tbl.next(k, at, now); got != want {
					t.Fatalf("packet %d of pair %v: arrival %d, want %d (no earlier than the pair's previous)", i, k, got, want)
				}
				overflowed = overflowed || len(tbl.overflow) > 0
			}
			if tc.pairs > fifoSlots && !overflowed {
				t.Fatal("the test never exercised the overflow map")
			}
		})
	}
}

func BenchmarkFIFOTable(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	keys := make([]pairKey, 4096)
	for i := range keys {
		keys[i] = pairKey{r.Uint64(), r.Uint64()}
	}
	var tbl fifoTable
	now := sim.Time(0)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		now += 10_000
		tbl.next(keys[i&4095], now+30e6, now)
		i++
	}
}
