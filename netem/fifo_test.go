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
		gap   int64    // mean time between packets
		quiet int      // every that many packets, 1 s with nothing sent (the overflow empties)
		grows bool     // more in flight than the first slots hold well
	}{
		{"few pairs", 50, 30e6, 100_000, 0, false},
		{"more live pairs than slots", 40000, 50e9, 100_000, 0, true},
		{"many pairs, short flights", 200000, 30e6, 100_000, 0, false},
		{"scale-100k's peak, with pauses", 100000, 60e6, 5_000, 20000, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(tc.pairs)))
			var tbl fifoTable
			ref := map[pairKey]sim.Time{}
			now := sim.Time(1)
			overflowed, epochs := false, uint32(0)
			for i := 0; i < 300000; i++ {
				now += sim.Time(r.Int64N(2 * tc.gap))
				if tc.quiet > 0 && i%tc.quiet == tc.quiet-1 {
					now += 1e9
				}
				k := pairKey{r.Uint64N(uint64(tc.pairs)), 7}
				at := now + sim.Time(r.Int64N(int64(tc.span)))
				want := max(at, ref[k])
				ref[k] = want
				if got := tbl.next(k, at, now); got != want {
					t.Fatalf("packet %d of pair %v: arrival %d, want %d (no earlier than the pair's previous)", i, k, got, want)
				}
				overflowed = overflowed || len(tbl.overflow) > 0
				epochs = max(epochs, tbl.epoch)
				if i%997 == 0 {
					checkSpills(t, &tbl)
				}
			}
			if tc.pairs > fifoSlots && !overflowed {
				t.Fatal("the test never exercised the overflow map")
			}
			if tc.quiet > 0 && epochs < 3 {
				t.Fatalf("the overflow was cleared %d times: the test never exercised its epochs", epochs-1)
			}
			if tc.grows != (len(tbl.slots) > fifoSlots) {
				t.Fatalf("table grew to %d slots from %d: want growth %v", len(tbl.slots), fifoSlots, tc.grows)
			}
		})
	}
}

// checkSpills checks that every slot counts exactly the overflow's pairs whose home it is:
// fewer would hide a pair's time, more would cost lookups the count exists to save.
func checkSpills(t *testing.T, tbl *fifoTable) {
	t.Helper()
	want := map[*fifoSlot]uint32{}
	for k := range tbl.overflow { // counting: order does not matter
		s := tbl.slot(k)
		if s.key == k {
			t.Fatalf("pair %v is both in its slot and in the overflow", k)
		}
		want[s]++
	}
	for i := range tbl.slots {
		s := &tbl.slots[i]
		got := uint32(0)
		if s.epoch == tbl.epoch {
			got = s.spills
		}
		if got != want[s] {
			t.Fatalf("slot %d counts %d spilled pairs, the overflow holds %d", i, got, want[s])
		}
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
