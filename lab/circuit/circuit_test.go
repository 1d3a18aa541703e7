package circuit

import (
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
	}
}
