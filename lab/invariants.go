package lab

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"gridlab/lab/circuit"
	"gridlab/lab/login"
	"gridlab/lab/region"
	"gridlab/lab/viewer"
	"gridlab/sim"
)

// Violation is a broken invariant: which, when, and the recent trace around it.
type Violation struct {
	Invariant string        // the invariant's name, e.g. "one-outcome-per-viewer"
	At        time.Duration // virtual time of the check that found it
	Detail    string        // what was observed
	Trace     []string      // the last events before it, oldest first
}

func (v *Violation) Error() string {
	return fmt.Sprintf("invariant %s violated at %s: %s", v.Invariant, v.At, v.Detail)
}

// Report is the violation with its trace, one event a line, for a person debugging it.
func (v *Violation) Report() string {
	var b strings.Builder
	b.WriteString(v.Error())
	b.WriteString("\nrecent trace:\n")
	for _, l := range v.Trace {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}

// The grid's invariants (docs/TESTING.md), checked every virtual second and after the run when
// lab.Options.Invariants is set. Each is a function of a snapshot of the world (invView), so a
// test can hand it a broken state directly.
//
// A session is "active" while its viewer runs and for a grace period after it finished: the
// region learns that a viewer went away without a logout only from its inactivity timeout (60
// s), its last packets may still be in flight or queued, and presence hears of a logout only
// after grid.capacity.logout_time. What the grid keeps for a session (circuit, capabilities,
// presence) must belong to an active session; a circuit a login announced may outlive it by at
// most maxExpectedAge (nobody may ever use it: the reply was lost, the viewer gave up).
//
// Memory bound, as a function of A (active sessions):
//
//	region circuits (all regions)     ≤ A
//	unused expected circuits          ≤ 1 per avatar per region, each ≤ 150 s old unless its avatar is active
//	capabilities of a region          ≤ its circuits + its expected circuits
//	presence entries                  ≤ A + avatars with an expected circuit + logouts on their way
//	unacked reliable packets          ≤ 1024 per circuit; pending acks ≤ 1024 per circuit
//	grid log lines                    ≤ 100,000 (the rest are counted, not kept)
//	pending events                    ≤ 4096 + 16 × (sessions not finished) + 8 × circuits
//	                                    + unacked packets + timeline entries
//
// The run's results (one row and a bounded trace per session) grow with the sessions by design
// and are not counted; neither is the login service's record of issued circuit codes, which
// grows by one per login (≤ sessions, checked): see docs/TESTING.md.
var invariants = []struct {
	name  string
	check func(st *invState, v *invView) (detail string, viewer int)
}{
	{"one-outcome-per-viewer", checkOutcomes},
	{"unique-ids", checkUniqueIDs},
	{"circuits-match-viewers", checkCircuits},
	{"no-leak", checkLeaks},
	{"reliable-acked-or-closed", checkReliable},
	{"acks-only-for-received", checkAcks},
	{"seq-never-repeats", checkSeq},
	{"memory-bound", checkMemory},
}

// Bounds of the memory-bound invariant.
const (
	maxUnackedPerCircuit = 1024
	maxAcksPerCircuit    = 1024
	eventsBase           = 4096
	eventsPerSession     = 16
	eventsPerCircuit     = 8
	traceLines           = 40 // lines of recent trace a violation carries
)

// testBreakWorld, set only by tests, breaks the world before each check: a deliberately buggy
// grid whose violation must be found.
var testBreakWorld func(w *world)

// invState is what the checks remember between two checks.
type invState struct {
	lastSeq map[*circuit.Circuit]uint32 // each open circuit's last outgoing sequence number
	// orphaned: since when each viewer in world has had no circuit on any region, by session.
	orphaned map[uuid.UUID]sim.Time
	// expectedSince: when each expected circuit was first seen.
	expectedSince map[expectedKey]sim.Time
	// unheld: since when each online agent has had no active session, circuit or expected circuit.
	unheld map[uuid.UUID]sim.Time
}

// invView is a snapshot of what the invariants look at.
type invView struct {
	now        sim.Time
	final      bool
	grace      time.Duration // how long a finished session stays active
	logoutTime time.Duration // grid.capacity.logout_time: how late presence hears of a leave
	viewers    []invViewer
	regions    []invRegion
	online     []login.Presence
	issued     int // circuit codes the login service remembers

	decided, inWorld, failed, done, ended int // the world's counters
	logLines                              int
	pending                               int // events in the kernel's queue
	timeline                              int // timeline entries of the scenario

	byAgent   map[uuid.UUID]avatarSessions // built by index
	byAvatar  map[string]avatarSessions    // by "First Last"
	indexedAt sim.Time
}

type invViewer struct {
	id              int
	name            string // "First Last": the avatar
	started, done   bool
	decided         bool
	endedAt         sim.Time
	outcome         string // the viewer's own outcome ("" undecided)
	record          string // the report's outcome (final check only)
	code            uint32
	agent, session  uuid.UUID
	circuit         *circuit.Circuit // nil before the login reply
	snap            circuit.Snapshot
	status          string
	loggedOut, lost bool
	regionTimeout   time.Duration // the profile's: how long it takes to give a silent region up
	pingInterval    time.Duration
}

type invRegion struct {
	name     string
	circuits []invCircuit
	expected []login.AgentCircuit
	indexed  int
	caps     int
}

type invCircuit struct {
	region.CircuitInfo
	snap circuit.Snapshot
}

// checkInvariants checks the grid's invariants; final is true for the check after the run. It
// returns the first violation found, or nil.
func (w *world) checkInvariants(final bool) *Violation {
	if w.inv == nil {
		w.inv = &invState{}
	}
	if testBreakWorld != nil {
		testBreakWorld(w)
	}
	v := w.invView(final)
	for _, inv := range invariants {
		if detail, vi := inv.check(w.inv, v); detail != "" {
			return &Violation{Invariant: inv.name, At: w.s.Now().Duration(), Detail: detail, Trace: w.recentTrace(vi)}
		}
	}
	return nil
}

// invGrace is how long a finished session keeps its claim on the grid's tables.
func (w *world) invGrace() time.Duration {
	g := 75*time.Second + w.sc.Grid.Capacity.LogoutTime
	if c := w.sc.Grid.Capacity; c.RegionPacketTime > 0 {
		g += time.Duration(udpBuffer(c)) * c.RegionPacketTime
	}
	for _, n := range w.sc.Networks {
		g += 4 * (n.Latency + n.Jitter)
	}
	return g
}

func (w *world) invView(final bool) *invView {
	v := &invView{now: w.s.Now(), final: final, grace: w.invGrace(), logoutTime: w.sc.Grid.Capacity.LogoutTime,
		decided: w.decided, inWorld: w.inWorld, failed: w.failed, done: w.done, ended: len(w.ended),
		logLines: len(w.log.lines), pending: w.s.Pending(), timeline: len(w.sc.Timeline)}
	for _, vw := range w.viewers {
		r := vw.Result()
		cfg := vw.Config()
		iv := invViewer{id: cfg.ID, name: cfg.First + " " + cfg.Last, started: r.Status != "", done: vw.Finished(),
			decided: vw.Decided(), outcome: r.Outcome, code: r.CircuitCode, agent: r.AgentID, session: vw.SessionID(),
			circuit: vw.Circuit(), status: r.Status, loggedOut: r.LoggedOut, lost: r.Lost,
			regionTimeout: cfg.Profile.RegionTimeout, pingInterval: cfg.Profile.PingInterval}
		if t, ok := w.ended[vw]; ok {
			iv.endedAt = t
		}
		if iv.circuit != nil {
			iv.snap = iv.circuit.Inspect()
		}
		if final {
			iv.record = ViewerRecord(vw, w.s.Now()).Outcome
		}
		v.viewers = append(v.viewers, iv)
	}
	for _, rg := range w.regions {
		ir := invRegion{name: rg.Name(), expected: rg.ExpectedCircuits(), indexed: rg.IndexedAgents(), caps: rg.CapsCount()}
		for _, ci := range rg.Circuits() {
			ir.circuits = append(ir.circuits, invCircuit{CircuitInfo: ci, snap: ci.Circuit.Inspect()})
		}
		v.regions = append(v.regions, ir)
	}
	if w.presence != nil {
		v.online = w.presence.Presences()
		v.issued = w.presence.IssuedCircuitCodes()
	}
	return v
}

// active reports whether viewer session i still has a claim on the grid's tables.
func (v *invView) active(i int) bool {
	x := &v.viewers[i]
	return x.started && (!x.done || v.now.Sub(x.endedAt) <= v.grace)
}

// activeSessions counts the active sessions.
func (v *invView) activeSessions() int {
	n := 0
	for i := range v.viewers {
		if v.active(i) {
			n++
		}
	}
	return n
}

// bySession maps the session IDs of login replies to viewer indexes.
func (v *invView) bySession() map[uuid.UUID]int {
	m := make(map[uuid.UUID]int, len(v.viewers))
	for i, x := range v.viewers {
		if x.session != uuid.Nil {
			m[x.session] = i
		}
	}
	return m
}

// agentActive reports whether the avatar agent has an active session; agents are known by the
// agent IDs of the login replies.
func (v *invView) agentActive(agent uuid.UUID) (known, active bool, who int) {
	v.index()
	a, ok := v.byAgent[agent]
	if !ok {
		return false, false, -1
	}
	return true, a.active, a.who
}

// avatarSessions is what the checks need to know of an avatar's sessions.
type avatarSessions struct {
	active bool // one of them is active
	who    int  // an active one, else the latest
}

// index builds the by-agent and by-name views of the sessions once per check (per instant), so
// that the checks stay linear in the number of viewers.
func (v *invView) index() {
	if v.byAgent != nil && v.indexedAt == v.now {
		return
	}
	v.byAgent, v.byAvatar, v.indexedAt = map[uuid.UUID]avatarSessions{}, map[string]avatarSessions{}, v.now
	for i, x := range v.viewers {
		if x.agent != uuid.Nil {
			addSession(v.byAgent, x.agent, i, v.active(i))
		}
		addSession(v.byAvatar, x.name, i, v.active(i))
	}
}

// addSession records session i of avatar k: an active session wins, else the latest.
func addSession[K comparable](m map[K]avatarSessions, k K, i int, active bool) {
	if a, ok := m[k]; !ok || !a.active {
		m[k] = avatarSessions{active: active, who: i}
	}
}

func (v *invView) ago(t sim.Time) string { return v.now.Sub(t).String() }

// checkOutcomes: every viewer ends in exactly one outcome, and the counts (and, after the run,
// the report's rows) account for every viewer.
func checkOutcomes(_ *invState, v *invView) (string, int) {
	decided, success, done := 0, 0, 0
	for i, x := range v.viewers {
		if x.done && !x.decided {
			return fmt.Sprintf("viewer %d finished without an outcome (last status %q)", x.id, x.status), i
		}
		if x.decided != (x.outcome != "") {
			return fmt.Sprintf("viewer %d: decided=%v but outcome %q", x.id, x.decided, x.outcome), i
		}
		if x.decided {
			decided++
			if x.outcome == viewer.Success {
				success++
			}
		}
		if x.done {
			done++
		}
		if v.final {
			if x.record == "" || (x.done && x.record == Unfinished) {
				return fmt.Sprintf("viewer %d (finished=%v) has report outcome %q", x.id, x.done, x.record), i
			}
		}
	}
	switch {
	case v.decided != decided:
		return fmt.Sprintf("%d viewers have an outcome but the world counted %d decisions", decided, v.decided), -1
	case v.inWorld+v.failed != v.decided:
		return fmt.Sprintf("in world %d + failed %d != decided %d", v.inWorld, v.failed, v.decided), -1
	case v.inWorld != success:
		return fmt.Sprintf("%d viewers succeeded but the world counted %d in world", success, v.inWorld), -1
	case v.done != done || v.ended != done:
		return fmt.Sprintf("%d viewers finished but the world counted %d (and recorded %d end times)", done, v.done, v.ended), -1
	}
	return "", -1
}

// checkUniqueIDs: no circuit code or session ID is issued twice.
func checkUniqueIDs(_ *invState, v *invView) (string, int) {
	codes := map[uint32]int{}
	sessions := map[uuid.UUID]int{}
	for i, x := range v.viewers {
		if x.code != 0 {
			if j, dup := codes[x.code]; dup {
				return fmt.Sprintf("circuit code %d was given to viewers %d and %d", x.code, v.viewers[j].id, x.id), i
			}
			codes[x.code] = i
		}
		if x.session != uuid.Nil {
			if j, dup := sessions[x.session]; dup {
				return fmt.Sprintf("session %s was given to viewers %d and %d", x.session, v.viewers[j].id, x.id), i
			}
			sessions[x.session] = i
		}
	}
	return "", -1
}

// checkCircuits: every circuit a region holds belongs to an active viewer session with the same
// code, agent and session; it is open and indexed under its agent, one per agent; and every
// viewer in world has its circuit, or notices in time that it has none.
func checkCircuits(st *invState, v *invView) (string, int) {
	sess := v.bySession()
	for _, r := range v.regions {
		for _, c := range r.circuits {
			i, ok := sess[c.Session]
			if !ok {
				return fmt.Sprintf("region %s has a circuit %d from %s with session %s that no viewer was given", r.name, c.Code, c.Endpoint, c.Session), -1
			}
			x := &v.viewers[i]
			switch {
			case x.code != c.Code || x.agent != c.Agent:
				return fmt.Sprintf("region %s circuit from %s: code %d agent %s, but viewer %d has code %d agent %s", r.name, c.Endpoint, c.Code, c.Agent, x.id, x.code, x.agent), i
			case !v.active(i):
				return fmt.Sprintf("region %s still has circuit %d of viewer %d, which finished %s ago (grace %s)", r.name, c.Code, x.id, v.ago(x.endedAt), v.grace), i
			case c.snap.Closed:
				return fmt.Sprintf("region %s keeps circuit %d of viewer %d although the circuit is closed", r.name, c.Code, x.id), i
			case !c.Indexed:
				return fmt.Sprintf("region %s: circuit %d of viewer %d is not the one indexed under agent %s", r.name, c.Code, x.id, c.Agent), i
			}
		}
		if r.indexed != len(r.circuits) {
			return fmt.Sprintf("region %s has %d circuits but %d agents indexed", r.name, len(r.circuits), r.indexed), -1
		}
	}
	return checkInWorldHasCircuit(st, v)
}

// checkInWorldHasCircuit is the other direction: a viewer in world (not logging out, not yet
// given up) whose circuit no region has any more (a restart, a timeout, a kick whose
// DisableSimulator was lost) must notice within its profile's region timeout plus two pings.
func checkInWorldHasCircuit(st *invState, v *invView) (string, int) {
	held := map[uuid.UUID]bool{}
	for _, r := range v.regions {
		for _, c := range r.circuits {
			held[c.Session] = true
		}
	}
	orphaned := map[uuid.UUID]sim.Time{}
	for i, x := range v.viewers {
		if x.outcome != viewer.Success || x.done || x.lost || x.status == "Logging out..." || x.regionTimeout <= 0 || held[x.session] {
			continue
		}
		since, ok := st.orphaned[x.session]
		if !ok {
			since = v.now
		}
		orphaned[x.session] = since
		if limit := x.regionTimeout + 2*x.pingInterval + 10*time.Second; v.now.Sub(since) > limit {
			st.orphaned = orphaned
			return fmt.Sprintf("viewer %d has been in world for %s with no circuit on any region (its profile gives a silent region up after %s)",
				x.id, v.ago(since), x.regionTimeout), i
		}
	}
	st.orphaned = orphaned
	return "", -1
}

// maxExpectedAge is how long a region may keep a circuit a login announced once nobody can use
// it any more (its avatar has no active session): long enough for the slowest login reply and
// UseCircuitCode window, short enough that failed logins cannot pile up.
const maxExpectedAge = 150 * time.Second

type expectedKey struct {
	region string
	code   uint32
}

// checkLeaks: a finished viewer's circuit is closed; an expected circuit belongs to an avatar
// with an active session or is younger than maxExpectedAge; a presence entry belongs to an
// avatar with an active session, a circuit or an expected circuit.
func checkLeaks(st *invState, v *invView) (string, int) {
	for i, x := range v.viewers {
		if x.done && x.circuit != nil && !x.snap.Closed {
			return fmt.Sprintf("viewer %d finished but its circuit is open", x.id), i
		}
	}
	since := map[expectedKey]sim.Time{}
	held := map[uuid.UUID]bool{} // agents with a circuit or an expected circuit somewhere
	for _, r := range v.regions {
		for _, c := range r.circuits {
			held[c.Agent] = true
		}
		for _, ac := range r.expected {
			held[ac.AgentID] = true
			k := expectedKey{r.name, ac.CircuitCode}
			t, ok := st.expectedSince[k]
			if !ok {
				t = v.now
			}
			since[k] = t
			last, active := v.byName(ac.First + " " + ac.Last)
			if active || v.now.Sub(t) <= maxExpectedAge {
				continue
			}
			why := "the login reply never reached a viewer"
			if last >= 0 && v.viewers[last].session == ac.SessionID {
				why = fmt.Sprintf("its viewer %d finished %s ago", v.viewers[last].id, v.ago(v.viewers[last].endedAt))
			} else if last >= 0 {
				why += fmt.Sprintf("; the avatar's last session, viewer %d, finished %s ago", v.viewers[last].id, v.ago(v.viewers[last].endedAt))
			}
			return fmt.Sprintf("region %s has expected circuit %d of %s %s for %s (bound %s) and the avatar has no active session: %s",
				r.name, ac.CircuitCode, ac.First, ac.Last, v.ago(t), maxExpectedAge, why), last
		}
	}
	st.expectedSince = since
	unheld := map[uuid.UUID]sim.Time{}
	for _, p := range v.online {
		known, active, who := v.agentActive(p.Agent)
		if active || held[p.Agent] {
			continue
		}
		// The region tells presence logout_time after it let the agent go.
		t, ok := st.unheld[p.Agent]
		if !ok {
			t = v.now
		}
		unheld[p.Agent] = t
		if v.now.Sub(t) <= v.logoutTime+time.Second {
			continue
		}
		st.unheld = unheld
		if known {
			return fmt.Sprintf("presence still has agent %s online (session %s) with no circuit or expected circuit, although its last session (viewer %d) finished %s ago (grace %s)",
				p.Agent, p.Session, v.viewers[who].id, v.ago(v.viewers[who].endedAt), v.grace), who
		}
		return fmt.Sprintf("presence still has agent %s online (session %s) with no circuit, expected circuit or viewer", p.Agent, p.Session), -1
	}
	st.unheld = unheld
	return "", -1
}

// byName finds an avatar's sessions by name, for grid entries whose login reply never reached a
// viewer: whether one is active, and an active session or else the latest (-1 if none).
func (v *invView) byName(name string) (last int, active bool) {
	v.index()
	a, ok := v.byAvatar[name]
	if !ok {
		return -1, false
	}
	return a.who, a.active
}

// allCircuits calls f for every circuit of the world, viewers' and regions'.
func (v *invView) allCircuits(f func(who string, vi int, c *circuit.Circuit, s *circuit.Snapshot) string) (string, int) {
	for i := range v.viewers {
		x := &v.viewers[i]
		if x.circuit != nil {
			if d := f(fmt.Sprintf("viewer %d's circuit", x.id), i, x.circuit, &x.snap); d != "" {
				return d, i
			}
		}
	}
	sess := v.bySession()
	for _, r := range v.regions {
		for k := range r.circuits {
			c := &r.circuits[k]
			vi := -1
			if i, ok := sess[c.Session]; ok {
				vi = i
			}
			if d := f(fmt.Sprintf("region %s's circuit %d to %s", r.name, c.Code, c.Endpoint), vi, c.Circuit, &c.snap); d != "" {
				return d, vi
			}
		}
	}
	return "", -1
}

// checkReliable: every reliable packet is either acked or its circuit closed: an open circuit's
// unacked packets all have a resend scheduled, and a closed circuit keeps none.
func checkReliable(_ *invState, v *invView) (string, int) {
	return v.allCircuits(func(who string, _ int, _ *circuit.Circuit, s *circuit.Snapshot) string {
		if s.Closed && len(s.Unacked) > 0 {
			return fmt.Sprintf("%s is closed but keeps %d unacked packets", who, len(s.Unacked))
		}
		for _, p := range s.Unacked {
			if !p.Retrying {
				return fmt.Sprintf("%s: reliable packet seq %d (%d resends) is neither acked nor resent", who, p.Seq, p.Resends)
			}
		}
		return ""
	})
}

// checkAcks: no ack is sent (or queued) for a sequence number never received.
func checkAcks(_ *invState, v *invView) (string, int) {
	return v.allCircuits(func(who string, _ int, _ *circuit.Circuit, s *circuit.Snapshot) string {
		if len(s.Unreceived) > 0 {
			return fmt.Sprintf("%s queues acks for sequence numbers it never received: %v", who, s.Unreceived)
		}
		return ""
	})
}

// seqWrap is where circuits wrap their sequence numbers (LL viewers: 2^24).
const seqWrap = 1 << 24

// checkSeq: sequence numbers never repeat on a circuit: the last one sent only moves forward
// (wrapping at 2^24), and no unacked packet has a number not yet given out.
func checkSeq(st *invState, v *invView) (string, int) {
	seen := make(map[*circuit.Circuit]uint32)
	d, vi := v.allCircuits(func(who string, _ int, c *circuit.Circuit, s *circuit.Snapshot) string {
		seen[c] = s.LastSeq
		if prev, ok := st.lastSeq[c]; ok && s.LastSeq < prev && !(prev > seqWrap-seqWrap/4 && s.LastSeq < seqWrap/4) {
			return fmt.Sprintf("%s went back from sequence %d to %d: numbers repeat", who, prev, s.LastSeq)
		}
		for _, p := range s.Unacked {
			if p.Seq == 0 || p.Seq > s.LastSeq && !(s.LastSeq < seqWrap/4 && p.Seq > seqWrap-seqWrap/4) {
				return fmt.Sprintf("%s has unacked packet seq %d beyond its last sequence %d", who, p.Seq, s.LastSeq)
			}
		}
		return ""
	})
	st.lastSeq = seen // only the circuits still around are remembered
	return d, vi
}

// checkMemory: the grid's tables stay within the documented function of active sessions.
func checkMemory(st *invState, v *invView) (string, int) {
	a := v.activeSessions()
	circuits, unacked := 0, 0
	expecting := map[uuid.UUID]bool{} // agents with an expected circuit
	for _, r := range v.regions {
		circuits += len(r.circuits)
		used := map[uint32]bool{}
		for _, c := range r.circuits {
			used[c.Code] = true
		}
		perAgent := map[uuid.UUID]int{}
		for _, ac := range r.expected {
			expecting[ac.AgentID] = true
			if used[ac.CircuitCode] {
				continue
			}
			if perAgent[ac.AgentID]++; perAgent[ac.AgentID] > 1 {
				return fmt.Sprintf("region %s expects %d unused circuits of %s %s (bound 1 per avatar)", r.name, perAgent[ac.AgentID], ac.First, ac.Last), -1
			}
		}
		if r.caps > len(r.circuits)+len(r.expected) {
			return fmt.Sprintf("region %s keeps %d capability sets for %d circuits and %d expected circuits", r.name, r.caps, len(r.circuits), len(r.expected)), -1
		}
	}
	switch {
	case circuits > a:
		return fmt.Sprintf("%d region circuits for %d active sessions", circuits, a), -1
	case len(v.online) > a+len(expecting)+len(st.unheld):
		return fmt.Sprintf("%d presence entries for %d active sessions, %d avatars with expected circuits and %d logouts on their way",
			len(v.online), a, len(expecting), len(st.unheld)), -1
	case v.logLines > maxLogLines:
		return fmt.Sprintf("%d grid log lines kept (bound %d)", v.logLines, maxLogLines), -1
	case v.issued > len(v.viewers):
		return fmt.Sprintf("the login service remembers %d issued circuit codes for %d sessions", v.issued, len(v.viewers)), -1
	}
	d, vi := v.allCircuits(func(who string, _ int, _ *circuit.Circuit, s *circuit.Snapshot) string {
		unacked += len(s.Unacked)
		if len(s.Unacked) > maxUnackedPerCircuit {
			return fmt.Sprintf("%s has %d unacked packets (bound %d)", who, len(s.Unacked), maxUnackedPerCircuit)
		}
		if len(s.PendingAcks) > maxAcksPerCircuit {
			return fmt.Sprintf("%s has %d pending acks (bound %d)", who, len(s.PendingAcks), maxAcksPerCircuit)
		}
		return ""
	})
	if d != "" {
		return d, vi
	}
	notDone := 0
	for _, x := range v.viewers {
		if !x.done {
			notDone++
		}
	}
	if bound := eventsBase + eventsPerSession*notDone + eventsPerCircuit*circuits + unacked + v.timeline; v.pending > bound {
		return fmt.Sprintf("%d pending events (bound %d for %d unfinished sessions, %d circuits, %d unacked packets)", v.pending, bound, notDone, circuits, unacked), -1
	}
	return "", -1
}

// recentTrace is what a developer needs next to a violation: the latest timeline entries and
// grid log lines, and the recent events of the viewer involved (vi, or -1), merged by time.
func (w *world) recentTrace(vi int) []string {
	type line struct {
		at   time.Duration
		text string
	}
	var lines []line
	tl := w.timeline
	for _, e := range tl[max(0, len(tl)-10):] {
		lines = append(lines, line{e.At, "timeline: " + e.What})
	}
	ll := w.log.lines
	for _, l := range ll[max(0, len(ll)-20):] {
		lines = append(lines, line{l.At, "log " + l.Level + " " + l.Text})
	}
	if vi >= 0 && vi < len(w.obs.traces) {
		evs := w.obs.traces[vi].events(&w.obs.texts)
		id := w.viewers[vi].Config().ID
		for _, e := range evs[max(0, len(evs)-20):] {
			what := e.what
			if e.msg != 0 {
				what = e.msg.String()
				if e.seq != 0 {
					what += fmt.Sprintf(" seq %d", e.seq)
				}
			}
			desc := fmt.Sprintf("viewer %d: %s", id, e.kind)
			if e.from != "" {
				desc += " " + e.from + "→" + e.to
			}
			desc += " " + what
			if e.dropped {
				desc += " (dropped)"
			}
			if e.note != "" {
				desc += " [" + e.note + "]"
			}
			lines = append(lines, line{e.at.Duration(), desc})
		}
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].at < lines[j].at })
	if len(lines) > traceLines {
		lines = lines[len(lines)-traceLines:]
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = fmt.Sprintf("%s %s", sim.Time(l.at), strings.TrimSpace(l.text))
	}
	return out
}
