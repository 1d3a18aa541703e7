package addrmap

import (
	"encoding/binary"
	"maps"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// endpoint draws from a small pool of endpoints so that keys repeat and collide: IPv4 with a
// few ports, the all-zero endpoint (never cached), and IPv6.
func endpoint(r *rand.Rand, pool int) netip.AddrPort {
	switch n := r.IntN(pool); {
	case n == 0:
		return netip.AddrPortFrom(netip.IPv4Unspecified(), 0)
	case n%17 == 1:
		var a [16]byte
		a[0], a[15] = 0x20, byte(n)
		return netip.AddrPortFrom(netip.AddrFrom16(a), uint16(n))
	default:
		var a [4]byte
		binary.BigEndian.PutUint32(a[:], 0x0A000000+uint32(n/3))
		return netip.AddrPortFrom(netip.AddrFrom4(a), uint16(49152+n%3))
	}
}

func TestMapAnswersAsAGoMap(t *testing.T) {
	// Random sets, deletes, gets and clears, with pools small (every slot contended) and large
	// (the table grows many times): every answer, the length and the full contents agree with
	// a plain Go map keyed by netip.AddrPort after every step.
	for _, pool := range []int{8, 300, 20000} {
		r := rand.New(rand.NewPCG(uint64(pool), 1))
		var m Map[int]
		want := map[netip.AddrPort]int{}
		for step := range 60000 {
			ep := endpoint(r, pool)
			switch op := r.IntN(100); {
			case op < 45:
				m.Set(ep, step)
				want[ep] = step
			case op < 60:
				m.Delete(ep)
				delete(want, ep)
			case op == 60 && step%50 == 0:
				m.Clear()
				clear(want)
			default:
				got, ok := m.Get(ep)
				w, wok := want[ep]
				require.Equal(t, wok, ok, "pool %d step %d: is %v there", pool, step, ep)
				require.Equal(t, w, got, "pool %d step %d: value of %v", pool, step, ep)
			}
			require.Equal(t, len(want), m.Len(), "pool %d step %d: length", pool, step)
		}
		assert.Equal(t, want, maps.Collect(m.All()), "pool %d: the contents", pool)
	}
}

func TestConsecutiveAddressesEachHaveTheirSlot(t *testing.T) {
	// A simulation hands out addresses in order, each host with the same first port: with the
	// table at most half full, such keys should (almost) never share a slot, so that lookups
	// take the one-read path.
	var m Map[int]
	const n = 50000
	for i := range n {
		var a [4]byte
		binary.BigEndian.PutUint32(a[:], 0x64400000+uint32(i))
		m.Set(netip.AddrPortFrom(netip.AddrFrom4(a), 49152), i)
	}
	cached := 0
	for _, s := range m.slots {
		if s.key != 0 {
			cached++
		}
	}
	assert.Greater(t, cached, n*99/100, "at least 99%% of consecutive endpoints own their slot")
}

// BenchmarkGet looks up 100,000 endpoints in a random order, as a region or the observer does
// for every datagram of a large run: the table against a Go map with the same integer keys.
func BenchmarkGet(b *testing.B) {
	const n = 100000
	eps := make([]netip.AddrPort, n)
	var m Map[int]
	plain := map[uint64]int{}
	for i := range eps {
		var a [4]byte
		binary.BigEndian.PutUint32(a[:], 0x64400000+uint32(i))
		eps[i] = netip.AddrPortFrom(netip.AddrFrom4(a), 49152)
		m.Set(eps[i], i)
		k, _ := v4key(eps[i])
		plain[k] = i
	}
	order := rand.New(rand.NewPCG(1, 2)).Perm(n)
	b.Run("addrmap", func(b *testing.B) {
		b.ReportAllocs()
		k := 0
		for b.Loop() {
			if _, ok := m.Get(eps[order[k]]); !ok {
				b.Fatal("missing")
			}
			k = (k + 1) % n
		}
	})
	b.Run("gomap", func(b *testing.B) {
		b.ReportAllocs()
		k := 0
		for b.Loop() {
			key, _ := v4key(eps[order[k]])
			if _, ok := plain[key]; !ok {
				b.Fatal("missing")
			}
			k = (k + 1) % n
		}
	})
}
