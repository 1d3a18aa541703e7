package circuit

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gridlab/lab/lludp"
	"gridlab/sim"
)

// pair joins two circuits with a one-way delay; drop decides, per datagram, whether it is lost.
type pair struct {
	s        *sim.Sim
	a, b     *Circuit
	gotA     []lludp.MsgID // delivered to a
	gotB     []lludp.MsgID // delivered to b
	flagsB   []lludp.Flags
	dropAtoB func(n int, b []byte) bool
	dropBtoA func(n int, b []byte) bool
	nAB, nBA int
	giveUps  []sim.Time
}

func newPair(t *testing.T, cfgA, cfgB Config) *pair {
	t.Helper()
	p := &pair{s: sim.New(1)}
	const delay = 10 * time.Millisecond
	link := func(drop *func(int, []byte) bool, n *int, to **Circuit) func([]byte) {
		return func(b []byte) {
			*n++
			if *drop != nil && (*drop)(*n, b) {
				return
			}
			data := append([]byte(nil), b...)
			p.s.After(delay, "link", func() { (*to).Receive(data) })
		}
	}
	cfgA.Clock, cfgB.Clock = p.s, p.s
	cfgA.Send = link(&p.dropAtoB, &p.nAB, &p.b)
	cfgB.Send = link(&p.dropBtoA, &p.nBA, &p.a)
	cfgA.Deliver = func(pk *lludp.Packet) { p.gotA = append(p.gotA, pk.ID) }
	cfgB.Deliver = func(pk *lludp.Packet) {
		p.gotB = append(p.gotB, pk.ID)
		p.flagsB = append(p.flagsB, pk.Flags)
	}
	cfgA.GiveUp = func(uint32, lludp.MsgID) { p.giveUps = append(p.giveUps, p.s.Now()) }
	p.a, p.b = New(cfgA), New(cfgB)
	return p
}

var logout = &lludp.LogoutRequest{}

func TestReliablePacketIsResentAfterLossAndDeliveredOnce(t *testing.T) {
	p := newPair(t, Config{ResendTimeout: time.Second}, Config{})
	p.dropAtoB = func(n int, b []byte) bool { return n == 1 } // the first copy is lost
	seq := p.a.SendReliable(logout)
	require.NoError(t, p.s.RunUntil(sim.Time(5*time.Second)))
	assert.Equal(t, []lludp.MsgID{lludp.MsgLogoutRequest}, p.gotB, "the resend arrives and is delivered once")
	assert.NotZero(t, p.flagsB[0]&lludp.FlagResent, "a resend carries the RESENT flag")
	assert.False(t, p.a.Pending(seq), "the resend was acked")
	assert.Equal(t, uint64(1), p.a.Stats().Resent)
}

func TestLostAckCausesADuplicateThatIsAckedAgainButNotDelivered(t *testing.T) {
	p := newPair(t, Config{ResendTimeout: time.Second}, Config{})
	p.dropBtoA = func(n int, b []byte) bool { return n == 1 } // b's first ack is lost
	seq := p.a.SendReliable(logout)
	require.NoError(t, p.s.RunUntil(sim.Time(5*time.Second)))
	assert.Len(t, p.gotB, 1, "the duplicate is not delivered again")
	assert.Equal(t, uint64(1), p.b.Stats().Duplicates)
	assert.False(t, p.a.Pending(seq), "the duplicate was acked, so the sender is satisfied")
}

func TestUseCircuitCodeScheduleGivesUpAfterTwentySeconds(t *testing.T) {
	p := newPair(t, Config{}, Config{})
	p.dropAtoB = func(int, []byte) bool { return true } // the region is unreachable
	p.a.SendReliableWith(&lludp.UseCircuitCode{Code: 7}, 5*time.Second, 3)
	require.NoError(t, p.s.RunUntil(sim.Time(time.Minute)))
	assert.Equal(t, 4, p.nAB, "sent once and resent 3 times")
	assert.Equal(t, []sim.Time{sim.Time(20 * time.Second)}, p.giveUps, "the viewer gives up at 20 s")
}

func TestAcksRideOnOutgoingPacketsOrGoAloneAfterTheDelay(t *testing.T) {
	p := newPair(t, Config{}, Config{AckDelay: 100 * time.Millisecond, Piggyback: true})
	var sizes []int
	p.dropBtoA = func(n int, b []byte) bool { sizes = append(sizes, len(b)); return false }
	p.a.SendReliable(logout)
	require.NoError(t, p.s.RunUntil(sim.Time(50*time.Millisecond)))
	p.b.Send(&lludp.CompletePingCheck{PingID: 1}) // leaves before the ack delay: carries the ack
	require.NoError(t, p.s.RunUntil(sim.Time(time.Second)))
	require.Len(t, sizes, 1, "no standalone PacketAck was needed")
	assert.Equal(t, 0, p.a.Unacked())

	q := newPair(t, Config{}, Config{AckDelay: 100 * time.Millisecond})
	q.a.SendReliable(logout)
	require.NoError(t, q.s.RunUntil(sim.Time(105*time.Millisecond)))
	assert.Equal(t, 0, q.nBA, "nothing is sent before the ack delay")
	require.NoError(t, q.s.RunUntil(sim.Time(200*time.Millisecond)))
	assert.Equal(t, 1, q.nBA, "one standalone PacketAck after the delay")
	assert.Equal(t, 0, q.a.Unacked())
}

func TestStartPingCheckIsAnsweredWithCompletePingCheck(t *testing.T) {
	p := newPair(t, Config{}, Config{})
	p.a.Send(&lludp.StartPingCheck{PingID: 9})
	require.NoError(t, p.s.RunUntil(sim.Time(time.Second)))
	assert.Empty(t, p.gotB, "the ping is handled by the circuit, not the application")
	assert.Equal(t, []lludp.MsgID{lludp.MsgCompletePingCheck}, p.gotA)
}

func TestClosedCircuitStopsResending(t *testing.T) {
	p := newPair(t, Config{ResendTimeout: time.Second, MaxResends: -1}, Config{})
	p.dropAtoB = func(int, []byte) bool { return true }
	p.a.SendReliable(logout)
	require.NoError(t, p.s.RunUntil(sim.Time(2500*time.Millisecond)))
	p.a.Close()
	sent := p.nAB
	require.NoError(t, p.s.RunUntil(sim.Time(time.Minute)))
	assert.Equal(t, sent, p.nAB, "no resend after Close")
	assert.Equal(t, 0, p.s.Pending(), "Close leaves no timers behind")
}

// BenchmarkSendAck is a reliable packet and its ack, flushed at once. The clock moves on a
// millisecond a round, as it does between a real circuit's packets: the timers a round sets
// and cancels (the resend and the delayed ack) are dropped when their time comes. With the
// clock standing still they would pile up in the kernel's heap, an allocation no run has.
func BenchmarkSendAck(b *testing.B) {
	s := sim.New(1)
	var a, c *Circuit
	a = New(Config{Clock: s, Send: func(p []byte) { c.Receive(p) }})
	c = New(Config{Clock: s, Send: func(p []byte) { a.Receive(p) }, AckDelay: time.Millisecond})
	au := &lludp.AgentUpdate{}
	b.ReportAllocs()
	for b.Loop() {
		a.SendReliable(au)
		c.FlushAcks()
		if err := s.RunUntil(s.Now().Add(time.Millisecond)); err != nil {
			b.Fatal(err)
		}
	}
	if a.Unacked() != 0 {
		b.Fatalf("%d reliable packets left unacked", a.Unacked())
	}
}

// BenchmarkSteadyState is a connected viewer's traffic on one circuit pair: an unreliable
// AgentUpdate, a reliable packet whose ack rides on the peer's next packet (Piggyback), and a
// StartPingCheck answered with CompletePingCheck. The steady state must not allocate.
func BenchmarkSteadyState(b *testing.B) {
	s := sim.New(1)
	var a, c *Circuit
	a = New(Config{Clock: s, Send: func(p []byte) { c.Receive(p) }, Piggyback: true})
	c = New(Config{Clock: s, Send: func(p []byte) { a.Receive(p) }, Piggyback: true})
	au := &lludp.AgentUpdate{Far: 64, CameraAtAxis: [3]float32{1, 0, 0}}
	ping := &lludp.StartPingCheck{}
	b.ReportAllocs()
	for b.Loop() {
		a.Send(au)
		a.SendReliable(logout)
		ping.PingID++
		c.Send(ping) // carries c's pending ack; a answers CompletePingCheck, carrying its own
		c.FlushAcks()
		a.FlushAcks()
	}
	if a.Unacked() != 0 {
		b.Fatalf("%d reliable packets left unacked", a.Unacked())
	}
}

// The dedupe window remembers exactly the last 1024 sequence numbers received, in arrival
// order, whatever their order: checked against a map of the ring's contents. The regimes go
// from every kind of disorder to long in-order runs (which the set keeps without a ring) broken
// rarely, late (after the ring would have filled) or at the very start, and across the wrap.
func TestSeenSetMatchesAMapOfTheLastThousandReceived(t *testing.T) {
	type regime struct {
		name                 string
		start                uint32
		inOrder, gap, recent int // out of 1000 steps; the rest are old ones and jumps
	}
	for _, rg := range []regime{
		{"disorder", 100, 0, 800, 150},
		{"in order, rarely broken", 1, 990, 5, 4},
		{"in order, almost never broken", 5, 999, 0, 1},
		{"in order across the wrap", 1<<32 - 3000, 1000, 0, 0},
	} {
		t.Run(rg.name, func(t *testing.T) {
			var s seenSet
			var ring arrivals
			rng := uint32(12345)
			next := func() uint32 { rng = rng*1664525 + 1013904223; return rng >> 8 }
			seq := rg.start
			for i := range 200000 {
				var q uint32
				switch r := int(next() % 1000); {
				case i == 0:
					q = seq
				case r < rg.inOrder:
					seq++
					q = seq
				case r < rg.inOrder+rg.gap: // rising, with gaps
					seq += 1 + next()%3
					q = seq
				case r < rg.inOrder+rg.gap+rg.recent: // a recent resend or reordering
					q = seq - next()%1500
				case r < 990: // an old one, far below the window
					q = seq - next()%20000
				default: // a jump (a restart or the wrap)
					seq = next() % (1 << 24)
					q = seq
				}
				want := ring.has(q)
				require.Equal(t, want, s.contains(q), "step %d seq %d", i, q)
				if !want {
					s.insert(q)
					ring.add(q)
				}
				require.Equal(t, ring.len(), s.len(), "step %d: numbers remembered", i)
			}
		})
	}
}

func TestSeenSetInOrderKeepsNoRing(t *testing.T) {
	// A circuit whose numbers arrive in order keeps one run, however long it runs; a gap or a
	// late number starts another run; only past maxRuns runs is the ring written out, and from
	// then on answers are as before.
	var s seenSet
	for q := uint32(1); q <= 5000; q++ {
		require.False(t, s.contains(q))
		s.insert(q)
	}
	assert.Nil(t, s.ooo, "no ring while in order")
	assert.EqualValues(t, 1, s.nruns, "one run")
	assert.Equal(t, dedupeWindow, s.len())
	assert.True(t, s.contains(5000-dedupeWindow+1), "the oldest remembered")
	assert.False(t, s.contains(5000-dedupeWindow), "forgotten")

	s.insert(5002) // 5001 late
	assert.Nil(t, s.ooo, "a gap is a second run")
	assert.False(t, s.contains(5000-dedupeWindow+1), "the oldest was forgotten for 5002")
	assert.False(t, s.contains(5001))
	assert.True(t, s.contains(5002))
	s.insert(5001)
	s.insert(5003)
	assert.True(t, s.contains(5001) && s.contains(5003))
	assert.EqualValues(t, 4, s.nruns, "5003 does not follow 5001, the newest run's last: a run of its own")

	for q := uint32(6000); q < 6000+2*maxRuns; q += 2 { // every other number: a run each
		s.insert(q)
	}
	require.NotNil(t, s.ooo, "past maxRuns runs the ring is written out")
	assert.Equal(t, dedupeWindow, s.len())
	assert.True(t, s.contains(5001) && s.contains(6000) && !s.contains(6001))
}

// unackedSet answers as a map would, through acks in any order, compactions and the wrap.
func TestUnackedSetMatchesAMap(t *testing.T) {
	var u unackedSet
	m := map[uint32]*pending{}
	rng := uint32(7)
	next := func() uint32 { rng = rng*1664525 + 1013904223; return rng >> 8 }
	seq := uint32(1<<24 - 3000)
	for i := range 20000 {
		if next()%3 != 0 || len(m) == 0 {
			seq++
			if seq >= 1<<24 {
				seq = 1
			}
			p := &pending{seq: seq}
			u.add(p)
			m[seq] = p
		} else {
			q := seq - next()%64
			if next()%4 == 0 {
				for k := range m { // an arbitrary live one
					q = k
					break
				}
			}
			require.Equal(t, m[q], u.remove(q), "step %d remove %d", i, q)
			delete(m, q)
		}
		require.Equal(t, len(m), u.len())
		probe := seq - next()%100
		require.Equal(t, m[probe], u.get(probe), "step %d get %d", i, probe)
	}
}

// FuzzSeenSetMatchesRing: for any arrivals (each byte pair a step from the newest number:
// forward, back, or a jump), the set answers as a ring of the last dedupeWindow arrivals does.
func FuzzSeenSetMatchesRing(f *testing.F) {
	f.Add([]byte{1, 0, 1, 0, 3, 0, 0x80, 2, 1, 0})
	f.Add(bytes.Repeat([]byte{1, 0}, 1200))
	f.Add(bytes.Repeat([]byte{2, 0, 0x81, 0, 1, 0}, 300))
	f.Fuzz(func(t *testing.T, steps []byte) {
		var s seenSet
		var ring arrivals
		seq := uint32(1<<24 - 100)
		for i := 0; i+1 < len(steps); i += 2 {
			d := uint32(steps[i]&0x7f) | uint32(steps[i+1])<<7
			if steps[i]&0x80 != 0 {
				seq -= d
			} else {
				seq += d
			}
			want := ring.has(seq)
			if got := s.contains(seq); got != want {
				t.Fatalf("step %d: contains(%d) = %v, want %v", i/2, seq, got, want)
			}
			if want {
				continue
			}
			s.insert(seq)
			ring.add(seq)
			if s.len() != ring.len() {
				t.Fatalf("step %d: %d numbers remembered, want %d", i/2, s.len(), ring.len())
			}
		}
	})
}

// arrivals is what a seenSet must answer as: the last dedupeWindow numbers received, forgotten
// oldest arrival first, as a slice and a map.
type arrivals struct {
	ring []uint32
	in   map[uint32]bool
}

func (a *arrivals) has(seq uint32) bool { return a.in[seq] }
func (a *arrivals) len() int            { return len(a.ring) }

func (a *arrivals) add(seq uint32) {
	if a.in == nil {
		a.in = map[uint32]bool{}
	}
	a.ring = append(a.ring, seq)
	a.in[seq] = true
	if len(a.ring) > dedupeWindow {
		delete(a.in, a.ring[0])
		a.ring = a.ring[1:]
	}
}
