package lab

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gridlab/lab/lludp"
	"gridlab/lab/viewer"
	"gridlab/netem"
	"gridlab/reports"
	"gridlab/sim"
)

func TestSamplesEveryVirtualSecond(t *testing.T) {
	// The run carries one sample per virtual second plus one at the end;
	// cumulative counts never go down and end at the run's totals.
	sc := bundled(t, "sim-reply-blocked.yaml")
	require.NoError(t, sc.Set("viewers.home.count", "10"))
	run, err := Run(sc, Options{})
	require.NoError(t, err)
	require.NotEmpty(t, run.Samples)
	for i, s := range run.Samples[:len(run.Samples)-1] {
		assert.Equal(t, time.Duration(i+1)*time.Second, s.At)
	}
	last := run.Samples[len(run.Samples)-1]
	assert.Equal(t, run.VirtualTime, last.At)
	assert.Equal(t, 10, last.Failed)
	assert.Positive(t, last.UDPSent)
	assert.Positive(t, last.Drops, "the region's replies were dropped by the firewall")
	for i := 1; i < len(run.Samples); i++ {
		a, b := run.Samples[i-1], run.Samples[i]
		assert.True(t, b.UDPSent >= a.UDPSent && b.Drops >= a.Drops && b.Resends >= a.Resends && b.Decided >= a.Decided)
	}
}

func TestTracesTellAFailuresStory(t *testing.T) {
	// Every viewer has a trace; a viewer whose region replies are firewalled
	// shows its UseCircuitCode arriving at the region, the region's answers
	// dropped by the rule, its resends, and the diagnosed outcome.
	sc := bundled(t, "sim-reply-blocked.yaml")
	require.NoError(t, sc.Set("viewers.home.count", "3"))
	run, err := Run(sc, Options{})
	require.NoError(t, err)
	require.Len(t, run.Traces, len(run.Viewers))
	tr := run.Traces[0]
	assert.Equal(t, run.Viewers[0].ID, tr.ViewerID)
	var received, dropped, resent bool
	var outcome reports.TraceEvent
	for _, e := range tr.Events {
		switch {
		case e.What == "UseCircuitCode" && e.RecvAt > 0:
			received = true
			resent = resent || e.Resent
		case e.Dropped && e.From == reports.PartyRegion && strings.Contains(e.Note, "firewall"):
			dropped = true
		case e.Kind == reports.TraceOutcome:
			outcome = e
		}
	}
	assert.True(t, received, "the region got UseCircuitCode")
	assert.True(t, resent, "the viewer resent it")
	assert.True(t, dropped, "the region's answers were dropped by the firewall")
	assert.Equal(t, "sim-reply-blocked", outcome.What)
	assert.Equal(t, run.Viewers[0].Message, outcome.Note)
}

func TestRunFolderIsByteIdenticalAcrossRuns(t *testing.T) {
	// Same scenario and seed: every file of the run folder (report.json,
	// CSVs, traces, SVGs, PNGs, index.html) is byte-identical.
	sc := bundled(t, "standalone-basic.yaml")
	files := func() map[string][]byte {
		run, err := Run(sc, Options{Viewers: 60})
		require.NoError(t, err)
		dir := t.TempDir()
		_, err = reports.WriteRunFiles(dir, run)
		require.NoError(t, err)
		out := map[string][]byte{}
		ents, err := os.ReadDir(dir)
		require.NoError(t, err)
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			require.NoError(t, err)
			out[e.Name()] = b
		}
		return out
	}
	a, b := files(), files()
	require.Equal(t, len(a), len(b))
	assert.Contains(t, a, "index.html")
	assert.Contains(t, a, "seq-success-median.svg")
	for name := range a {
		assert.True(t, bytes.Equal(a[name], b[name]), "%s differs between two runs", name)
	}
}

func TestSampledResendsAreTheCircuitCounters(t *testing.T) {
	// The observer counts the viewers' resends as they are sent and takes the regions' running
	// totals, instead of visiting every circuit every second: the last sample's resends are
	// exactly what the viewers' and regions' circuit counters say at the end of the run.
	for _, file := range []string{"lossy-path.yaml", "lossy-mobile.yaml"} {
		run, err := Run(bundled(t, file), Options{})
		require.NoError(t, err)
		var viewers, regions uint64
		for _, c := range run.Counters {
			switch {
			case c.Name == "viewers/circuit/resent":
				viewers = c.Value
			case strings.HasPrefix(c.Name, "region/") && strings.HasSuffix(c.Name, "/circuit/resent"):
				regions += c.Value
			}
		}
		assert.Positive(t, viewers, "%s: the viewers resent", file)
		assert.Positive(t, regions, "%s: the regions resent", file)
		assert.Equal(t, viewers+regions, run.Samples[len(run.Samples)-1].Resends, file)
	}
}

func TestTraceEventIsCompact(t *testing.T) {
	// A recorded event is 40 bytes (kinds and parties as codes, what and note as one interned
	// text), so that a viewer's bounded trace of traceHead+traceTail events stays under 4 KB.
	assert.LessOrEqual(t, unsafe.Sizeof(tev{}), uintptr(40))
	assert.Less(t, (traceHead+traceTail)*int(unsafe.Sizeof(tev{})), 4096)
}

// newTestObserver is an observer of n viewers of one population that have not started, on an
// empty network: enough to drive its hooks directly.
func newTestObserver(tb testing.TB, n int) *observer {
	tb.Helper()
	s := sim.New(1)
	w := &world{s: s, net: netem.New(s)}
	w.obs = newObserver(w)
	for k := range n {
		w.viewers = append(w.viewers, viewer.New(viewer.Config{ID: k + 1}))
		w.pops = append(w.pops, "home")
		w.firstID = append(w.firstID, k+1)
	}
	w.obs.addViewers()
	return w.obs
}

func TestTraceIsAllocatedWhenTheViewerStarts(t *testing.T) {
	// Nothing is allocated for a viewer's trace before its first event; then its head is made
	// at exactly traceHead events and, once the head is full, its ring at exactly traceTail.
	// The ring keeps the latest events, and the trace reads back oldest first with the count
	// of those left out. The first fullTracePerPop viewers of a population keep everything.
	o := newTestObserver(t, fullTracePerPop+1)
	i := fullTracePerPop // the first viewer with a bounded trace
	v := o.w.viewers[i]
	for k := range o.traces {
		assert.False(t, o.traces[k].is(traceMade), "viewer %d has no trace before it starts", k)
	}
	send := func(seq uint32) {
		o.onViewer(v, viewer.TraceEvent{At: sim.Time(seq), Kind: viewer.TraceSend, Msg: lludp.MsgAgentUpdate, Seq: seq, Size: 100})
	}
	send(1)
	tr := &o.traces[i]
	require.True(t, tr.is(traceMade), "the first event makes the trace")
	assert.Equal(t, traceHead, cap(tr.head), "the head is made at its final size")
	assert.Nil(t, tr.ring, "no ring while the head has room")
	for seq := uint32(2); seq <= traceHead+traceTail+10; seq++ {
		send(seq)
	}
	assert.Equal(t, traceHead, cap(tr.head), "the head never grows")
	assert.Equal(t, traceTail, cap(tr.ring), "the ring is made at its final size")
	evs := tr.events(&o.texts)
	require.Len(t, evs, traceHead+traceTail)
	assert.Equal(t, uint32(traceHead), evs[traceHead-1].seq, "the head ends with its last event")
	assert.Equal(t, uint32(traceHead+11), evs[traceHead].seq, "the ring starts with the oldest it kept")
	assert.Equal(t, uint32(traceHead+traceTail+10), evs[len(evs)-1].seq, "the newest event is last")
	assert.Equal(t, 10, int(tr.total)-len(evs), "10 events were not recorded")
	assert.Equal(t, reports.PartyViewer, evs[0].from)
	assert.Equal(t, reports.PartyRegion, evs[0].to)
	assert.Equal(t, reports.TraceMessage, evs[0].kind)

	full := o.trace(0)
	assert.True(t, full.is(traceFull), "the first viewer of the population keeps a full trace")
	for seq := range uint32(traceHead + traceTail + 10) {
		o.onViewer(o.w.viewers[0], viewer.TraceEvent{At: sim.Time(seq), Kind: viewer.TraceSend, Msg: lludp.MsgAgentUpdate, Seq: seq})
	}
	assert.Len(t, full.events(&o.texts), traceHead+traceTail+10)
	assert.Equal(t, int(full.total), len(full.events(&o.texts)))
}

func TestReceiveMarksTheNewestMatchingSend(t *testing.T) {
	// A datagram the region receives marks the newest matching send of the viewer that has
	// neither been received nor dropped, also when the ring has wrapped; a drop marks the
	// newest datagram of its size still in flight.
	o := newTestObserver(t, fullTracePerPop+1)
	i := fullTracePerPop
	v := o.w.viewers[i]
	v.Result().CircuitCode = 77
	ep := netip.MustParseAddrPort("10.0.0.9:5000")
	ucc := lludp.Encode(nil, lludp.FlagReliable, 1, &lludp.UseCircuitCode{Code: 77}, nil)
	o.onViewer(v, viewer.TraceEvent{At: 1, Kind: viewer.TraceSend, Msg: lludp.MsgUseCircuitCode, Seq: 1, Flags: lludp.FlagReliable, Size: len(ucc)})
	o.w.s.RunUntil(2)
	o.regionRecv(ep, ucc)
	got, ok := o.ports.Get(ep)
	require.True(t, ok, "UseCircuitCode tells whose endpoint it is")
	assert.Equal(t, i, got)
	assert.Equal(t, sim.Time(2), o.traces[i].events(&o.texts)[0].recvAt)

	au := lludp.Encode(nil, 0, 0, &lludp.AgentUpdate{}, nil)
	flags, _, _, _ := viewer.PeekHeader(au)
	for k := range 100 { // sequence numbers 0-4 over and over; the ring wraps
		o.onViewer(v, viewer.TraceEvent{At: sim.Time(10 + k), Kind: viewer.TraceSend, Msg: lludp.MsgAgentUpdate, Seq: uint32(k % 5), Flags: flags, Size: len(au)})
	}
	binary.BigEndian.PutUint32(au[1:], 3)
	o.regionRecv(ep, au)
	evs := o.traces[i].events(&o.texts)
	require.Equal(t, uint32(3), evs[len(evs)-2].seq)
	assert.Equal(t, o.w.s.Now(), evs[len(evs)-2].recvAt, "the newest send of seq 3 was received")
	assert.Zero(t, evs[len(evs)-7].recvAt, "an older send of seq 3 was not")

	o.onDrop(netem.Drop{At: 200, Reason: netem.DropLoss, Where: "internet", Proto: netem.UDP, Src: ep, Len: len(au)})
	evs = o.traces[i].events(&o.texts)
	assert.True(t, evs[len(evs)-1].dropped, "the newest datagram still in flight was lost")
	assert.Equal(t, "loss at internet", evs[len(evs)-1].note)
	assert.False(t, evs[len(evs)-2].dropped, "the received one was not")
	assert.Empty(t, evs[len(evs)-3].note, "one drop marks one datagram")
}

// BenchmarkObserverDatagram is what the observer does for one datagram each way between a
// viewer and its region: the viewer's send, the region's receive marking it, the region's reply,
// the viewer's receive marking that. With 1,000 viewers the traces fit in the CPU's caches; with
// 20,000 (some 80 MB of traces) they do not, as in a large run.
func BenchmarkObserverDatagram(b *testing.B) {
	for _, n := range []int{1000, 20000} {
		b.Run(fmt.Sprintf("viewers=%d", n), func(b *testing.B) { benchmarkObserverDatagram(b, n) })
	}
}

func benchmarkObserverDatagram(b *testing.B, n int) {
	o := newTestObserver(b, n)
	eps := make([]netip.AddrPort, n)
	for k, v := range o.w.viewers {
		v.Result().CircuitCode = uint32(1000 + k)
		eps[k] = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(k >> 16), byte(k >> 8), byte(k)}), 5000)
		ucc := lludp.Encode(nil, lludp.FlagReliable, 1, &lludp.UseCircuitCode{Code: uint32(1000 + k)}, nil)
		o.onViewer(v, viewer.TraceEvent{Kind: viewer.TraceSend, Msg: lludp.MsgUseCircuitCode, Seq: 1, Flags: lludp.FlagReliable, Size: len(ucc)})
		o.regionRecv(eps[k], ucc)
	}
	up := lludp.Encode(nil, 0, 0, &lludp.AgentUpdate{}, nil)
	down := lludp.Encode(nil, 0, 0, &lludp.PacketAck{IDs: []uint32{1}}, nil)
	upFlags, _, _, _ := viewer.PeekHeader(up)
	downFlags, _, _, _ := viewer.PeekHeader(down)
	b.ReportAllocs()
	var seq uint32
	for b.Loop() {
		seq++
		k := int(seq) % n
		v := o.w.viewers[k]
		binary.BigEndian.PutUint32(up[1:], seq)
		binary.BigEndian.PutUint32(down[1:], seq)
		o.onViewer(v, viewer.TraceEvent{At: sim.Time(seq), Kind: viewer.TraceSend, Msg: lludp.MsgAgentUpdate, Seq: seq, Flags: upFlags, Size: len(up)})
		o.regionRecv(eps[k], up)
		o.regionSend(eps[k], down)
		o.onViewer(v, viewer.TraceEvent{At: sim.Time(seq), Kind: viewer.TraceRecv, Msg: lludp.MsgPacketAck, Seq: seq, Flags: downFlags, Size: len(down)})
	}
}

func TestNewestDatagramShortcutAgreesWithTheSearch(t *testing.T) {
	// lastUnreceived first tries the newest datagram of the direction and searches only when
	// that one does not match; on random traces (bounded and full, ring wrapped many times,
	// repeated headers, drops, receives out of order, other events in between) it must find
	// exactly the event the search finds.
	for _, full := range []bool{false, true} {
		rnd := rand.New(rand.NewPCG(7, 0))
		tr := &vtrace{}
		if full {
			tr.state = traceFull
		}
		parties := [][2]party{{partyViewer, partyRegion}, {partyRegion, partyViewer}, {partyViewer, partyLogin}}
		fast := 0
		for step := range 20000 {
			p := parties[rnd.IntN(len(parties))]
			msg, seq, flags := lludp.MsgID(1+rnd.IntN(2)), uint32(rnd.IntN(4)), lludp.Flags(rnd.IntN(2))*lludp.FlagReliable
			switch rnd.IntN(5) {
			case 0, 1:
				tr.add(nil, tev{at: sim.Time(step), kind: kindMessage, from: p[0], to: p[1], msg: msg, seq: seq, flags: flags})
			case 2:
				tr.add(nil, tev{at: sim.Time(step), kind: kindStage})
			case 3:
				if x := tr.searchUnreceived(p[0], p[1], msg, seq, flags); x != nil && rnd.IntN(4) == 0 {
					x.dropped = true
				}
			default:
				want := tr.searchUnreceived(p[0], p[1], msg, seq, flags)
				got := tr.lastUnreceived(p[0], p[1], msg, seq, flags)
				require.Same(t, want, got, "full=%v step %d: %v → %v msg %d seq %d", full, step, p[0], p[1], msg, seq)
				if got != nil {
					if d := direction(p[0], p[1]); d >= 0 && tr.at(int(tr.newest[d])-1) == got {
						fast++
					}
					got.recvAt = sim.Time(step)
				}
			}
		}
		assert.Greater(t, fast, 100, "full=%v: the shortcut was taken", full)
		assert.Greater(t, int(tr.total), traceHead+traceTail, "full=%v: the ring wrapped", full)
	}
}

// onViewer is what viewer v's Trace hook does.
func (o *observer) onViewer(v *viewer.Viewer, e viewer.TraceEvent) {
	o.onEvent(v, e)
}

func TestReleasedTraceBuffersCarryNothingToTheNextTrace(t *testing.T) {
	// A released trace's head and ring go to the next traces made; each new trace must show only
	// its own events, never one of the released trace's, whether it stops in its head or wraps
	// its ring. (The buffers being the same memory is checked too, so that the reuse is tested.)
	o := &observer{traces: make([]vtrace, 2)}
	old := o.trace(0)
	for k := range traceHead + 3*traceTail {
		old.add(&o.spares, tev{at: sim.Time(k), kind: kindMessage, from: partyViewer, to: partyRegion, seq: 1_000_000 + uint32(k)})
	}
	oldHead, oldRing := unsafe.SliceData(old.head), unsafe.SliceData(old.ring)
	o.release(0)
	require.Equal(t, 1, o.spares.heads.Len(), "the released head is kept")
	require.Equal(t, 1, o.spares.rings.Len(), "the released ring is kept")

	tr := o.trace(1)
	mine := func() []uint32 {
		var seqs []uint32
		for _, e := range tr.events(&o.texts) {
			seqs = append(seqs, e.seq)
		}
		return seqs
	}
	var want []uint32
	for k := range 5 {
		tr.add(&o.spares, tev{at: sim.Time(k), kind: kindMessage, from: partyRegion, to: partyViewer, seq: uint32(k)})
		want = append(want, uint32(k))
	}
	assert.Same(t, oldHead, unsafe.SliceData(tr.head), "the new trace's head is the released one")
	assert.Equal(t, want, mine(), "a new trace in its head shows only its own events")

	for k := 5; k < traceHead+traceTail+7; k++ {
		tr.add(&o.spares, tev{at: sim.Time(k), kind: kindMessage, from: partyRegion, to: partyViewer, seq: uint32(k)})
		want = append(want, uint32(k))
	}
	assert.Same(t, oldRing, unsafe.SliceData(tr.ring), "the new trace's ring is the released one")
	got := mine()
	assert.Equal(t, want[:traceHead], got[:traceHead], "the head holds the first events")
	assert.Equal(t, want[len(want)-traceTail:], got[traceHead:], "the ring holds the latest events, oldest first")
	assert.Zero(t, o.spares.heads.Len(), "the spare buffers were handed out")
	assert.Zero(t, o.spares.rings.Len())
}

func TestEvidenceIsKeptOnlyWhileAResultMayStillFail(t *testing.T) {
	// A drop is evidence for the diagnosis of a failure: kept while the viewer is deciding or in
	// world, not once it has failed or lost its region (the drops are then the aftermath), and
	// not once it is done without either (its result is final, so it is never diagnosed).
	tests := []struct {
		name string
		done bool
		r    viewer.Result
		want bool
	}{
		{"logging in", false, viewer.Result{}, true},
		{"in world", false, viewer.Result{Outcome: viewer.Success}, true},
		{"failed", false, viewer.Result{Outcome: viewer.LoginTimeout}, false},
		{"failed and done", true, viewer.Result{Outcome: viewer.LoginTimeout}, false},
		{"lost its region", true, viewer.Result{Outcome: viewer.Success, Lost: true}, false},
		{"logged out", true, viewer.Result{Outcome: viewer.Success}, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, evidenceMatters(tt.done, &tt.r), tt.name)
	}
}

func TestTraceIsOneCacheLine(t *testing.T) {
	// Every datagram reads its viewer's trace on both sides; in the observer's slice of traces
	// each must be exactly one 64-byte line (see vtrace), or at 100,000 viewers most reads cost
	// two cache misses instead of one.
	assert.Equal(t, uintptr(64), unsafe.Sizeof(vtrace{}), "a vtrace must stay one cache line")
}
