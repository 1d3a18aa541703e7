package lab

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"gridlab/lab/circuit"
	"gridlab/lab/login"
	"gridlab/lab/region"
	"gridlab/scenarios"
	"gridlab/sim"
)

// healthyView is a consistent world at 100 s: viewer 1 in world with a circuit on region R,
// viewer 2 failed at 10 s (long past the grace period) and left nothing behind.
func healthyView() (*invView, *invState) {
	a1, a2 := uuid.MustParse("00000000-0000-0000-0000-00000000000a"), uuid.MustParse("00000000-0000-0000-0000-00000000000b")
	s1, s2 := uuid.MustParse("00000000-0000-0000-0000-0000000000a1"), uuid.MustParse("00000000-0000-0000-0000-0000000000b1")
	vc1, vc2, rc1 := &circuit.Circuit{}, &circuit.Circuit{}, &circuit.Circuit{}
	v := &invView{
		now: sim.Time(100 * time.Second), grace: 80 * time.Second,
		viewers: []invViewer{
			{id: 1, name: "Load Test1", started: true, decided: true, outcome: "success", record: "success",
				code: 11, agent: a1, session: s1, circuit: vc1, regionTimeout: 100 * time.Second, pingInterval: 5 * time.Second,
				snap: circuit.Snapshot{LastSeq: 5, Unacked: []circuit.UnackedPacket{{Seq: 5, Retrying: true}}, PendingAcks: []uint32{3}}},
			{id: 2, name: "Load Test2", started: true, decided: true, done: true, endedAt: sim.Time(10 * time.Second),
				outcome: "no-circuit-ack", record: "sim-reply-blocked", code: 12, agent: a2, session: s2, circuit: vc2,
				snap: circuit.Snapshot{Closed: true, LastSeq: 4}},
		},
		regions: []invRegion{{name: "R", indexed: 1, caps: 1, circuits: []invCircuit{{
			CircuitInfo: region.CircuitInfo{Code: 11, Agent: a1, Session: s1, Root: true, Indexed: true, Circuit: rc1},
			snap:        circuit.Snapshot{LastSeq: 9, PendingAcks: []uint32{2, 4}},
		}}}},
		online:  []login.Presence{{Agent: a1, Session: s1}},
		issued:  2,
		decided: 2, inWorld: 1, failed: 1, done: 1, ended: 1,
		logLines: 10, pending: 50, timeline: 0,
	}
	return v, &invState{lastSeq: map[*circuit.Circuit]uint32{vc1: 5, rc1: 8}}
}

func TestHealthyWorldBreaksNoInvariant(t *testing.T) {
	for _, final := range []bool{false, true} {
		v, st := healthyView()
		v.final = final
		for _, inv := range invariants {
			if d, _ := inv.check(st, v); d != "" {
				t.Errorf("final=%v: a consistent world should pass %s, got %q", final, inv.name, d)
			}
		}
	}
}

// Each broken state must be caught by the invariant named, with a detail that says what.
func TestEachInvariantCatchesItsBrokenState(t *testing.T) {
	ghost := uuid.MustParse("00000000-0000-0000-0000-0000000000ff")
	cases := []struct {
		invariant string
		why       string
		want      string // in the detail
		brk       func(v *invView, st *invState)
	}{
		{"one-outcome-per-viewer", "a viewer that finished without deciding has no outcome", "without an outcome",
			func(v *invView, _ *invState) {
				v.viewers[1].decided, v.viewers[1].outcome = false, ""
				v.decided, v.failed = 1, 0
			}},
		{"one-outcome-per-viewer", "a decision counted twice does not match the viewers", "decisions",
			func(v *invView, _ *invState) { v.decided, v.failed = 3, 2 }},
		{"one-outcome-per-viewer", "a finished viewer reported as unfinished is not accounted for", "report outcome",
			func(v *invView, _ *invState) { v.final = true; v.viewers[1].record = Unfinished }},
		{"one-outcome-per-viewer", "a viewer finishing twice is counted twice", "finished",
			func(v *invView, _ *invState) { v.done = 2 }},
		{"unique-ids", "two viewers given one circuit code", "circuit code 11",
			func(v *invView, _ *invState) { v.viewers[1].code = 11 }},
		{"unique-ids", "two viewers given one session", "session",
			func(v *invView, _ *invState) { v.viewers[1].session = v.viewers[0].session }},
		{"circuits-match-viewers", "a region circuit whose session no viewer was given", "no viewer was given",
			func(v *invView, _ *invState) { v.regions[0].circuits[0].Session = ghost }},
		{"circuits-match-viewers", "a region keeps the circuit of a viewer gone for 90 s", "finished 1m30s ago",
			func(v *invView, _ *invState) {
				c := &v.regions[0].circuits[0]
				c.Code, c.Agent, c.Session = 12, v.viewers[1].agent, v.viewers[1].session
				v.online = nil
			}},
		{"circuits-match-viewers", "a closed circuit still in the region's table", "closed",
			func(v *invView, _ *invState) { v.regions[0].circuits[0].snap.Closed = true }},
		{"circuits-match-viewers", "the agent index disagrees with the circuits", "agents indexed",
			func(v *invView, _ *invState) { v.regions[0].indexed = 2 }},
		{"circuits-match-viewers", "a viewer in world for 130 s with no circuit anywhere, its timeout 100 s", "no circuit on any region",
			func(v *invView, st *invState) {
				v.regions[0].circuits, v.regions[0].indexed, v.regions[0].caps = nil, 0, 0
				st.orphaned = map[uuid.UUID]sim.Time{v.viewers[0].session: v.now - sim.Time(130*time.Second)}
			}},
		{"no-leak", "an expected circuit kept 200 s, its viewer gone for 90 s", "has expected circuit 12 of Load Test2 for 3m20s",
			func(v *invView, st *invState) {
				v.regions[0].expected = []login.AgentCircuit{{CircuitCode: 12, AgentID: v.viewers[1].agent, SessionID: v.viewers[1].session, First: "Load", Last: "Test2"}}
				st.expectedSince = map[expectedKey]sim.Time{{"R", 12}: v.now - sim.Time(200*time.Second)}
			}},
		{"no-leak", "an expected circuit kept 200 s for an avatar whose login reply never arrived", "the login reply never reached a viewer",
			func(v *invView, st *invState) {
				v.regions[0].expected = []login.AgentCircuit{{CircuitCode: 99, AgentID: ghost, First: "Load", Last: "Test2"}}
				st.expectedSince = map[expectedKey]sim.Time{{"R", 99}: v.now - sim.Time(200*time.Second)}
			}},
		{"no-leak", "presence of an agent gone for 90 s, held by nothing for 10 s", "presence still has agent",
			func(v *invView, st *invState) {
				v.online = append(v.online, login.Presence{Agent: v.viewers[1].agent})
				st.unheld = map[uuid.UUID]sim.Time{v.viewers[1].agent: v.now - sim.Time(10*time.Second)}
			}},
		{"no-leak", "a finished viewer's circuit left open", "its circuit is open",
			func(v *invView, _ *invState) { v.viewers[1].snap.Closed = false }},
		{"reliable-acked-or-closed", "an unacked packet with no resend scheduled", "neither acked nor resent",
			func(v *invView, _ *invState) { v.viewers[0].snap.Unacked[0].Retrying = false }},
		{"reliable-acked-or-closed", "a closed circuit keeping unacked packets", "keeps 1 unacked",
			func(v *invView, _ *invState) {
				v.viewers[1].snap.Unacked = []circuit.UnackedPacket{{Seq: 3}}
			}},
		{"acks-only-for-received", "an ack queued for a sequence number never received", "never received: [7]",
			func(v *invView, _ *invState) { v.regions[0].circuits[0].snap.Unreceived = []uint32{7} }},
		{"seq-never-repeats", "a circuit's sequence going back", "went back from sequence 8 to 3",
			func(v *invView, _ *invState) { v.regions[0].circuits[0].snap.LastSeq = 3 }},
		{"seq-never-repeats", "an unacked packet numbered beyond the last sequence given out", "beyond its last sequence",
			func(v *invView, _ *invState) { v.viewers[0].snap.Unacked[0].Seq = 6 }},
		{"memory-bound", "more presence entries than active sessions", "presence entries",
			func(v *invView, _ *invState) {
				v.online = append(v.online, login.Presence{Agent: v.viewers[0].agent}, login.Presence{Agent: v.viewers[0].agent})
			}},
		{"memory-bound", "two unused expected circuits of one avatar in one region (relogins piling up)", "expects 2 unused circuits",
			func(v *invView, _ *invState) {
				v.regions[0].expected = []login.AgentCircuit{{CircuitCode: 11, AgentID: v.viewers[0].agent},
					{CircuitCode: 13, AgentID: v.viewers[0].agent}, {CircuitCode: 14, AgentID: v.viewers[0].agent}}
				v.regions[0].caps = 4
			}},
		{"memory-bound", "capability sets beyond circuits and expected circuits", "capability sets",
			func(v *invView, _ *invState) { v.regions[0].caps = 5 }},
		{"memory-bound", "a circuit with more unacked packets than the bound", "unacked packets (bound 1024)",
			func(v *invView, _ *invState) {
				u := make([]circuit.UnackedPacket, maxUnackedPerCircuit+1)
				for i := range u {
					u[i] = circuit.UnackedPacket{Seq: uint32(i + 1), Retrying: true}
				}
				v.viewers[0].snap.Unacked, v.viewers[0].snap.LastSeq = u, uint32(len(u))
			}},
		{"memory-bound", "the event queue growing without bound", "pending events",
			func(v *invView, _ *invState) { v.pending = 1 << 20 }},
		{"memory-bound", "the grid log beyond its cap", "grid log lines",
			func(v *invView, _ *invState) { v.logLines = maxLogLines + 1 }},
	}
	for _, tc := range cases {
		t.Run(tc.invariant+"/"+tc.why, func(t *testing.T) {
			v, st := healthyView()
			tc.brk(v, st)
			for _, inv := range invariants {
				if inv.name != tc.invariant {
					continue
				}
				d, _ := inv.check(st, v)
				if d == "" {
					t.Fatalf("%s should catch %s, but passed", tc.invariant, tc.why)
				}
				if !strings.Contains(d, tc.want) {
					t.Errorf("%s caught it, but the detail %q should mention %q", tc.invariant, d, tc.want)
				}
				return
			}
			t.Fatalf("no invariant named %s", tc.invariant)
		})
	}
}

// A viewer whose region just lost its circuit is given its profile's region timeout to notice.
func TestViewerWithoutCircuitHasItsRegionTimeoutToNotice(t *testing.T) {
	v, st := healthyView()
	v.regions[0].circuits, v.regions[0].indexed, v.regions[0].caps = nil, 0, 0
	for _, after := range []time.Duration{0, 60 * time.Second, 119 * time.Second} {
		v.now = sim.Time(100*time.Second + after)
		v.viewers[1].endedAt = v.now - sim.Time(90*time.Second)
		if d, _ := checkCircuits(st, v); d != "" {
			t.Fatalf("%s after the circuit went, within 100 s + 2 pings + 10 s, the viewer may still be in world: %s", after, d)
		}
	}
	v.now = sim.Time(100*time.Second + 121*time.Second)
	v.viewers[1].endedAt = v.now - sim.Time(90*time.Second)
	if d, _ := checkCircuits(st, v); !strings.Contains(d, "no circuit on any region") {
		t.Fatalf("121 s after the circuit went the viewer should have noticed, got %q", d)
	}
}

// An expected circuit nobody can use any more is tolerated for maxExpectedAge, and it holds the
// avatar's presence meanwhile: the region may expire it, it must not keep it.
func TestExpectedCircuitIsToleratedForItsLifetime(t *testing.T) {
	v, st := healthyView()
	a2 := v.viewers[1].agent
	v.regions[0].expected = []login.AgentCircuit{{CircuitCode: 12, AgentID: a2, First: "Load", Last: "Test2"}}
	v.regions[0].caps = 2
	v.online = append(v.online, login.Presence{Agent: a2})
	for _, age := range []time.Duration{0, 60 * time.Second, maxExpectedAge} {
		st.expectedSince = map[expectedKey]sim.Time{{"R", 12}: v.now - sim.Time(age)}
		for _, inv := range invariants {
			if d, _ := inv.check(st, v); d != "" {
				t.Fatalf("an expected circuit %s old is within its lifetime, but %s says %q", age, inv.name, d)
			}
		}
	}
	st.expectedSince = map[expectedKey]sim.Time{{"R", 12}: v.now - sim.Time(maxExpectedAge+time.Second)}
	if d, _ := checkLeaks(st, v); !strings.Contains(d, "has expected circuit 12") {
		t.Fatalf("past its lifetime the expected circuit is a leak, got %q", d)
	}
}

// When the region lets an agent go, presence hears of it logout_time later: until then the entry
// is no leak.
func TestPresenceMayOutliveItsCircuitByTheLogoutTime(t *testing.T) {
	v, st := healthyView()
	v.logoutTime = 5 * time.Second
	v.online = append(v.online, login.Presence{Agent: v.viewers[1].agent})
	for _, after := range []time.Duration{0, 3 * time.Second, 6 * time.Second} {
		v.now = sim.Time(100*time.Second + after)
		if d, _ := checkLeaks(st, v); d != "" {
			t.Fatalf("%s after nothing held it, within logout_time + 1 s, presence may remain: %s", after, d)
		}
	}
	v.now = sim.Time(100*time.Second + 7*time.Second)
	if d, _ := checkLeaks(st, v); !strings.Contains(d, "presence still has agent") {
		t.Fatalf("7 s after nothing held it presence should be cleared, got %q", d)
	}
}

func loadBundled(t *testing.T, name string) *scenarios.Scenario {
	t.Helper()
	data, err := fs.ReadFile(scenarios.Files, name)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := scenarios.Parse(name, data)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// A deliberately buggy world (a viewer counted as finished twice) must stop the run with the
// invariant's name, the virtual time and a trace, and Run must still return the run.
func TestViolationStopsTheRunWithNameTimeAndTrace(t *testing.T) {
	sc := loadBundled(t, "silent-circuit.yaml")
	testBreakWorld = func(w *world) {
		if w.s.Now() >= sim.Time(30*time.Second) && w.done == 0 {
			w.done++ // as if onDone ran twice
		}
	}
	defer func() { testBreakWorld = nil }()
	run, err := Run(sc, Options{Invariants: true})
	var v *Violation
	if !errors.As(err, &v) {
		t.Fatalf("Run should return a *Violation, got %v", err)
	}
	if run == nil {
		t.Fatal("Run should still return the run with the violation")
	}
	if v.Invariant != "one-outcome-per-viewer" || v.At != 30*time.Second {
		t.Errorf("want one-outcome-per-viewer at 30s, got %s at %s", v.Invariant, v.At)
	}
	if run.VirtualTime != 30*time.Second {
		t.Errorf("the run should stop at the violation (30s), it ran to %s", run.VirtualTime)
	}
	if len(v.Trace) == 0 || !strings.Contains(strings.Join(v.Trace, "\n"), "log INFO") {
		t.Errorf("the violation should carry the recent grid log, got %q", v.Trace)
	}
	if r := v.Report(); !strings.HasPrefix(r, v.Error()) || strings.Count(r, "\n") != len(v.Trace)+2 {
		t.Errorf("Report should be the error, a heading and one line per trace event:\n%s", r)
	}
}

// Every bundled scenario runs clean under the invariants.
func TestBundledScenariosKeepTheInvariants(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every bundled scenario")
	}
	ents, err := fs.ReadDir(scenarios.Files, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".yaml") {
			continue
		}
		sc := loadBundled(t, e.Name())
		if largeScenario(sc.Description) {
			continue
		}
		if _, err := Run(sc, Options{Invariants: true}); err != nil {
			t.Errorf("%s should keep every invariant: %v", e.Name(), err)
		}
	}
}
