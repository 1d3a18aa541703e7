package lab

import (
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gridlab/lab/lludp"
	"gridlab/lab/viewer"
	"gridlab/netem"
	"gridlab/reports"
	"gridlab/scenarios"
	"gridlab/sim"
)

// overloadedRegion is poisson-arrivals with 40 residents arriving at 20/s into a region that
// handles at most 25 datagrams a second (40 ms each) behind an 8-datagram receive buffer: the
// buffer overflows for as long as they log in, and some viewers' login datagrams never get
// handled. set overrides it further.
func overloadedRegion(t *testing.T, set map[string]string) *scenarios.Scenario {
	t.Helper()
	sc := bundled(t, "poisson-arrivals.yaml")
	for _, kv := range [][2]string{
		{"viewers.home.count", "40"},
		{"viewers.home.arrival.rate", "20/s"},
		{"grid.capacity.region_udp_buffer", "8"},
		{"grid.capacity.region_packet_time", "40ms"},
	} {
		require.NoError(t, sc.Set(kv[0], kv[1]), kv[0])
	}
	for k, v := range set {
		require.NoError(t, sc.Set(k, v), k)
	}
	require.NoError(t, sc.Validate())
	return sc
}

// TestOverloadedRegionIsDiagnosedByItsReceiveBuffer: when a region's UDP receive buffer
// overflows (the capacity model), the viewers whose login datagrams it dropped are diagnosed
// login-storm with the buffer as the cause — the datagrams reached the region's host — and the
// fix an overloaded region needs, never as a path that lost them without a trace
// (region-unreachable) or an arrival the region did not finish for no reason (agent-wait-timeout).
// Both ways a login dies there are covered: UseCircuitCode never handled, and the circuit acked
// but CompleteAgentMovement never handled. With a region fast enough for the arrivals, nobody
// fails.
func TestOverloadedRegionIsDiagnosedByItsReceiveBuffer(t *testing.T) {
	run, err := Run(overloadedRegion(t, nil), Options{})
	require.NoError(t, err)
	out := outcomes(run)
	assert.Zero(t, out[ModeRegionUnreachable], "no viewer's lost UseCircuitCode is blamed on the path: %v", out)
	assert.Zero(t, out[viewer.AgentWaitTimeout], "no viewer's unfinished arrival is left unexplained: %v", out)
	require.NotZero(t, out[ModeLoginStorm], "the overloaded region fails some logins: %v", out)
	assert.Equal(t, len(run.Viewers), out[ModeLoginStorm]+out[reports.OutcomeSuccess], "every failure is the overload: %v", out)

	tests := []struct {
		name     string
		evidence string // what the evidence of such a viewer says (# is any number)
	}{
		{"UseCircuitCode never handled",
			"UseCircuitCode sent # times to 203.0.113.7:9000; the region handled none: all # reached the region's host, where region My Region's full UDP receive buffer dropped them."},
		{"CompleteAgentMovement never handled",
			"The region acked UseCircuitCode but the viewer did not get AgentMovementComplete in time: region My Region's full UDP receive buffer dropped # of the viewer's datagrams to it (# CompleteAgentMovement among them)."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			re := regexp.MustCompile("^" + strings.ReplaceAll(regexp.QuoteMeta(tt.evidence), "#", `\d+`))
			hit := 0
			for _, v := range run.Viewers {
				if v.Outcome != ModeLoginStorm || !re.MatchString(v.Evidence) {
					continue
				}
				hit++
				assert.Contains(t, v.Evidence, "The buffer holds 8 datagrams and the region spends 0.04 s on each, so it handles at most 25 a second",
					"viewer %d: the evidence gives the buffer's size and the region's pace", v.ID)
				assert.True(t, strings.HasPrefix(v.Fix, "Region My Region is overloaded, not cut off"), "viewer %d: the fix says the region is overloaded: %s", v.ID, v.Fix)
				assert.Contains(t, v.Fix, "region_udp_buffer", "viewer %d: the fix names the buffer to raise", v.ID)
				assert.Contains(t, v.Fix, "region_packet_time", "viewer %d: and the per-packet cost to lower", v.ID)
				assert.Contains(t, v.Fix, "spread the arrivals", "viewer %d: and the arrivals to spread", v.ID)
				assert.NotContains(t, v.Evidence, "network recorded no drop", "viewer %d", v.ID)
			}
			assert.NotZero(t, hit, "some viewer failed this way")
		})
	}

	fast, err := Run(overloadedRegion(t, map[string]string{"grid.capacity.region_packet_time": "1ms"}), Options{})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{reports.OutcomeSuccess: len(fast.Viewers)}, outcomes(fast),
		"with a region that handles a datagram in 1 ms every viewer logs in")
}

// TestBufferDropIsEvidenceAndMarksTheTrace drives the observer directly: a datagram that
// reached the region's host (regionRecv marked it received) and was then lost in the full
// receive buffer counts in the evidence of the viewer that sent it, by message, and its trace
// shows it dropped, for that reason, not received. A datagram from an address no viewer has
// changes nothing, and once the viewer has failed its drops are no longer evidence.
func TestBufferDropIsEvidenceAndMarksTheTrace(t *testing.T) {
	o := newTestObserver(t, 2)
	i := 1
	v := o.w.viewers[i]
	v.Result().CircuitCode = 77
	ep := netip.MustParseAddrPort("203.0.113.50:5000")
	ucc := lludp.Encode(nil, lludp.FlagReliable, 1, &lludp.UseCircuitCode{Code: 77}, nil)
	o.onViewer(v, viewer.TraceEvent{At: 1, Kind: viewer.TraceSend, Msg: lludp.MsgUseCircuitCode, Seq: 1, Flags: lludp.FlagReliable, Size: len(ucc)})
	cam := lludp.Encode(nil, lludp.FlagReliable, 2, &lludp.CompleteAgentMovement{}, nil)
	o.onViewer(v, viewer.TraceEvent{At: 1, Kind: viewer.TraceSend, Msg: lludp.MsgCompleteAgentMovement, Seq: 2, Flags: lludp.FlagReliable, Size: len(cam)})
	o.w.s.RunUntil(2)

	o.regionRecv(ep, ucc)
	o.regionRecv(ep, cam)
	o.bufferDrop("My Region", ep, cam)
	o.bufferDrop("My Region", netip.MustParseAddrPort("198.51.100.1:9"), cam)

	ev := o.evidence(i)
	assert.Equal(t, bufferTally{n: 1, cam: 1, region: "My Region"}, ev.buf, "the viewer's one lost CompleteAgentMovement is its evidence")
	assert.Equal(t, viewerEvidence{}, o.evidence(0), "the other viewer has none")
	assert.Zero(t, ev.udpOut.n+ev.udpIn.n, "the network dropped nothing: the buffer is no netem drop")

	evs := o.traces[i].events(&o.texts)
	require.Len(t, evs, 2)
	assert.Equal(t, sim.Time(2), evs[0].recvAt, "UseCircuitCode was received")
	assert.False(t, evs[0].dropped)
	assert.Zero(t, evs[1].recvAt, "CompleteAgentMovement was not: the buffer lost it")
	assert.True(t, evs[1].dropped)
	assert.Equal(t, "udp_buffer full at My Region", evs[1].note)

	v.Result().Outcome = viewer.AgentWaitTimeout
	o.bufferDrop("My Region", ep, ucc)
	assert.Equal(t, 1, o.evidence(i).buf.n, "after the viewer failed, a drop is the aftermath, not evidence")
}

// TestSilentRegionBlamesWhatDroppedTheViewersPackets: a viewer that was in world and gave its
// silent region up is told what dropped its packets. When a region's full receive buffer
// dropped them, at least as many as the links lost, the evidence names the buffer and the fix
// is the overloaded region's; a partition still wins over it, and link loss that outnumbers
// the buffer's drops is still the loss.
func TestSilentRegionBlamesWhatDroppedTheViewersPackets(t *testing.T) {
	loss := func(n int) dropTally {
		var d dropTally
		for range n {
			d.add(netem.Drop{Reason: netem.DropLoss, Where: "internet", Proto: netem.UDP})
		}
		return d
	}
	partition := func() dropTally {
		var d dropTally
		d.add(netem.Drop{Reason: netem.DropPartition, Where: "internet", Proto: netem.UDP})
		return d
	}
	buf := bufferTally{n: 12, region: "My Region"}
	tests := []struct {
		name     string
		ev       viewerEvidence
		evidence string // what the evidence says
		fix      string // how the fix starts
	}{
		{"the buffer dropped them", viewerEvidence{buf: buf},
			"region My Region's full UDP receive buffer dropped 12 of the viewer's datagrams to it",
			"Region My Region is overloaded"},
		{"the buffer dropped more than the links lost", viewerEvidence{buf: buf, udpOut: loss(3)},
			"region My Region's full UDP receive buffer dropped 12 of the viewer's datagrams to it, and the links lost 3 of the viewer's packets and 0 of the region's",
			"Region My Region is overloaded"},
		{"the links lost more", viewerEvidence{buf: buf, udpOut: loss(20)},
			"20 of the viewer's packets and 0 of the region's were lost on the links",
			"Reduce the loss"},
		{"a partition", viewerEvidence{buf: buf, udpOut: partition()},
			"the networks are partitioned",
			"Keep the path"},
		{"nothing dropped", viewerEvidence{},
			"the network recorded no drop",
			"Find out why the region stopped answering"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sim.New(1)
			w := &world{s: s, net: netem.New(s)}
			v := viewer.New(viewer.Config{ID: 1, Profile: viewer.Profile{Name: "sl-viewer", RegionTimeout: 100 * time.Second}})
			r := v.Result()
			r.Stages[viewer.StageMovementComplete] = sim.Time(10 * time.Second)
			r.Lost, r.LostAt, r.LostMessage = true, sim.Time(200*time.Second), "This region may be experiencing trouble."
			d := w.diagnoseLost(v, &tt.ev)
			assert.Equal(t, ModeSilentCircuit, d.Mode)
			assert.Contains(t, d.Evidence, tt.evidence)
			assert.True(t, strings.HasPrefix(d.Fix, tt.fix), "the fix starts %q: %s", tt.fix, d.Fix)
		})
	}
}
