package lab

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"gridlab/lab/lludp"
	"gridlab/lab/viewer"
	"gridlab/netem"
	"gridlab/reports"
	"gridlab/sim"
)

// Trace bounds. The first fullTracePerPop viewers of each population keep up to fullTraceCap
// events; every other viewer keeps its first traceHead events and a ring of its last traceTail,
// so that a failure's story (how it started, how it ended) is always there.
const (
	fullTracePerPop = 3
	fullTraceCap    = 4000
	traceHead       = 48
	traceTail       = 48
)

// observer samples the run every virtual second and records per-viewer traces. It only reads
// the world and never schedules events, so it cannot change a run's outcome or trace hash.
type observer struct {
	w       *world
	samples []reports.Sample
	traces  []*vtrace // by viewer index
	addrs   map[netip.Addr]int
	ports   map[netip.AddrPort]int
	codes   map[uint32]int
	dec     lludp.Decoder
	ev      []viewerEvidence // by viewer index: the drops on its paths (diagnose.go)
	perPop  map[string]int   // viewers per population with a trace so far
	slowest []slowTrace      // the slowest successful viewers whose traces are kept (retire)
}

// tev is one recorded event; it becomes a reports.TraceEvent when the run ends.
type tev struct {
	at, recvAt sim.Time
	kind       string
	from, to   string
	what       string
	msg        lludp.MsgID
	seq        uint32
	flags      lludp.Flags
	acks       int
	size       int
	dropped    bool
	note       string
}

// vtrace is one viewer's bounded trace: a head kept in full and a ring of the latest events.
type vtrace struct {
	headCap int
	head    []tev
	ring    []tev // ring buffer of the events after the head
	next    int   // next slot of ring once full
	total   int   // events recorded
	code    bool  // circuit code registered
}

func (t *vtrace) add(e tev) *tev {
	t.total++
	if len(t.head) < t.headCap {
		t.head = append(t.head, e)
		return &t.head[len(t.head)-1]
	}
	if len(t.ring) < traceTail {
		t.ring = append(t.ring, e)
		return &t.ring[len(t.ring)-1]
	}
	t.ring[t.next] = e
	p := &t.ring[t.next]
	t.next = (t.next + 1) % traceTail
	return p
}

// latest calls f on the recorded events from the newest back, until f returns true.
func (t *vtrace) latest(f func(*tev) bool) {
	n := len(t.ring)
	for k := 1; k <= n; k++ {
		if f(&t.ring[(t.next-k+n)%n]) {
			return
		}
	}
	for i := len(t.head) - 1; i >= 0; i-- {
		if f(&t.head[i]) {
			return
		}
	}
}

func (t *vtrace) events() []tev {
	out := append([]tev(nil), t.head...)
	if len(t.ring) < traceTail {
		return append(out, t.ring...)
	}
	return append(append(out, t.ring[t.next:]...), t.ring[:t.next]...)
}

func newObserver(w *world) *observer {
	o := &observer{w: w, addrs: map[netip.Addr]int{}, ports: map[netip.AddrPort]int{}, codes: map[uint32]int{}}
	w.net.OnDrop(o.onDrop)
	return o
}

// addViewers sets up the traces once the viewers exist: who keeps a full trace, and which
// addresses are whose (the viewer's own, and its home router's public address).
func (o *observer) addViewers() {
	for i := len(o.traces); i < len(o.w.viewers); i++ {
		o.addViewer(i)
	}
}

// addViewer sets up the trace of viewer i; viewers added during the run (relogins) come here too.
func (o *observer) addViewer(i int) {
	if o.perPop == nil {
		o.perPop = map[string]int{}
	}
	v := o.w.viewers[i]
	t := &vtrace{headCap: traceHead}
	if o.perPop[o.w.pops[i]] < fullTracePerPop {
		t.headCap = fullTraceCap
	}
	o.perPop[o.w.pops[i]]++
	o.traces = append(o.traces, t)
	o.ev = append(o.ev, viewerEvidence{})
	// A relogin is a new session on the same machine: its addresses are the latest session's.
	if hn, ok := v.Config().Net.(hostNet); ok {
		o.addrs[hn.h.Addr()] = i
	}
	if r := o.w.net.Router(fmt.Sprintf("home-router-%d", o.w.firstID[i])); r != nil {
		o.addrs[r.OutsideAddr()] = i
	}
}

// viewerIndex maps a viewer to its index in w.viewers (IDs are 1-based and dense).
func (o *observer) viewerIndex(v *viewer.Viewer) int {
	i := v.Config().ID - 1
	if i < 0 || i >= len(o.traces) || o.w.viewers[i] != v {
		return -1
	}
	return i
}

var stageTitles = func() map[string]string {
	m := map[string]string{}
	for s := range reports.NumStages {
		m[s.String()] = s.Title()
	}
	return m
}()

// onViewer records what a viewer reports through its Trace hook.
func (o *observer) onViewer(v *viewer.Viewer, e viewer.TraceEvent) {
	i := o.viewerIndex(v)
	if i < 0 {
		return
	}
	t := o.traces[i]
	if t == nil {
		return // released (retire)
	}
	switch e.Kind {
	case viewer.TraceLoginRequest:
		t.add(tev{at: e.At, kind: reports.TraceMessage, from: reports.PartyViewer, to: reports.PartyLogin,
			what: e.Note + " (XML-RPC over HTTP)"})
	case viewer.TraceLoginReply:
		t.add(tev{at: e.At, kind: reports.TraceMessage, from: reports.PartyLogin, to: reports.PartyViewer,
			what: "login reply", note: e.Note})
	case viewer.TraceStage:
		t.add(tev{at: e.At, kind: reports.TraceStage, what: stageTitles[e.Note]})
	case viewer.TraceOutcome:
		t.add(tev{at: e.At, kind: reports.TraceOutcome, what: e.Note})
	case viewer.TraceLost:
		t.add(tev{at: e.At, kind: reports.TraceStage, what: "Region lost", note: e.Note})
	case viewer.TraceSend:
		if !t.code && e.Msg == lludp.MsgUseCircuitCode {
			t.code = true
			o.codes[v.Result().CircuitCode] = i
		}
		t.add(tev{at: e.At, kind: reports.TraceMessage, from: reports.PartyViewer, to: reports.PartyRegion,
			msg: e.Msg, seq: e.Seq, flags: e.Flags, acks: e.Acks, size: e.Size})
	case viewer.TraceRecv:
		matched := false
		t.latest(func(x *tev) bool {
			if x.from == reports.PartyRegion && x.seq == e.Seq && x.msg == e.Msg && x.flags == e.Flags && x.recvAt == 0 && !x.dropped {
				x.recvAt, matched = e.At, true
				return true
			}
			return false
		})
		if !matched {
			t.add(tev{at: e.At, recvAt: e.At, kind: reports.TraceMessage, from: reports.PartyRegion, to: reports.PartyViewer,
				msg: e.Msg, seq: e.Seq, flags: e.Flags, acks: e.Acks, size: e.Size, note: "send not recorded"})
		}
	}
}

// regionSend records a datagram a region sends, if it goes to a known viewer.
func (o *observer) regionSend(to netip.AddrPort, b []byte) {
	i, ok := o.ports[to]
	if !ok {
		return
	}
	flags, seq, id, acks := viewer.PeekHeader(b)
	if o.traces[i] == nil {
		return
	}
	o.traces[i].add(tev{at: o.w.s.Now(), kind: reports.TraceMessage, from: reports.PartyRegion, to: reports.PartyViewer,
		msg: id, seq: seq, flags: flags, acks: acks, size: len(b)})
}

// regionRecv marks a viewer's datagram as received by a region. The first UseCircuitCode of a
// circuit tells whose address it is.
func (o *observer) regionRecv(from netip.AddrPort, b []byte) {
	flags, seq, id, _ := viewer.PeekHeader(b)
	i, ok := o.ports[from]
	if !ok && id == lludp.MsgUseCircuitCode {
		if p, err := o.dec.Decode(b); err == nil && len(p.Body) >= 4 {
			i, ok = o.codes[binary.LittleEndian.Uint32(p.Body)]
			if ok {
				o.ports[from] = i
				if _, known := o.addrs[from.Addr()]; !known {
					o.addrs[from.Addr()] = i
				}
			}
		}
	}
	if !ok {
		return
	}
	if o.traces[i] == nil {
		return
	}
	now := o.w.s.Now()
	o.traces[i].latest(func(x *tev) bool {
		if x.from == reports.PartyViewer && x.to == reports.PartyRegion && x.seq == seq && x.msg == id && x.flags == flags && x.recvAt == 0 && !x.dropped {
			x.recvAt = now
			return true
		}
		return false
	})
}

// onDrop marks a dropped packet in the trace of the viewer it came from or went to.
func (o *observer) onDrop(d netem.Drop) {
	i, fromViewer := -1, false
	if d.From.IsValid() {
		i, fromViewer = o.owner(d.From)
	}
	if i < 0 {
		i, fromViewer = o.owner(d.Src)
	}
	if i < 0 {
		if i, _ = o.owner(d.Dst); i < 0 {
			return
		}
	}
	// What happens to packets after the viewer gave up (replies to its closed socket) is no
	// evidence of why it failed.
	if r := o.w.viewers[i].Result(); !r.Lost && (r.Outcome == "" || r.Outcome == viewer.Success) {
		o.ev[i].note(d, fromViewer)
	}
	t := o.traces[i]
	if t == nil {
		return
	}
	why := string(d.Reason) + " at " + d.Where
	if d.Rule != "" {
		why += " (rule " + d.Rule + ")"
	}
	if d.Proto == netem.UDP {
		sender := reports.PartyRegion
		if fromViewer {
			sender = reports.PartyViewer
		}
		found := false
		t.latest(func(x *tev) bool {
			if x.kind == reports.TraceMessage && x.from == sender && x.size == d.Len && x.recvAt == 0 && !x.dropped {
				x.dropped, x.note, found = true, why, true
				return true
			}
			return x.at < d.At-sim.Time(10e9) // no older than 10 s
		})
		if found {
			return
		}
	}
	from, to := reports.PartyLogin, reports.PartyViewer
	if d.Proto == netem.UDP {
		from = reports.PartyRegion
	}
	if fromViewer {
		from, to = to, from
	}
	t.add(tev{at: d.At, kind: reports.TraceDrop, from: from, to: to,
		what: fmt.Sprintf("%s %d B", strings.ToUpper(string(d.Proto)), d.Len), note: why, dropped: true})
}

// owner finds the viewer an address belongs to; fromViewer is true for its own addresses.
func (o *observer) owner(a netip.AddrPort) (int, bool) {
	if i, ok := o.ports[a]; ok {
		return i, true
	}
	if i, ok := o.addrs[a.Addr()]; ok {
		return i, true
	}
	return -1, false
}

// sample appends the per-second sample; it is called from the progress tick.
func (o *observer) sample() {
	w := o.w
	s := reports.Sample{At: w.s.Now().Duration(), Decided: w.decided, InWorld: w.inWorld, Failed: w.failed}
	for _, rg := range w.regions {
		s.Circuits += rg.Agents()
		s.Resends += rg.Stats().Circuit.Resent
	}
	for _, v := range w.viewers {
		s.Resends += v.CircuitStats().Resent
	}
	for _, c := range w.net.Counters() {
		switch {
		case c.Name == "udp/sent":
			s.UDPSent = c.Value
		case c.Name == "udp/delivered":
			s.UDPDeliv = c.Value
		case c.Name == "drop/loss":
			s.UDPLost = c.Value
			s.Drops += c.Value
		case strings.HasPrefix(c.Name, "drop/") && strings.Count(c.Name, "/") == 1:
			s.Drops += c.Value
		}
	}
	o.samples = append(o.samples, s)
}

// finish takes a last sample at the end of the run unless the tick just took one.
func (o *observer) finish() {
	if n := len(o.samples); n == 0 || o.samples[n-1].At != o.w.s.Now().Duration() {
		o.sample()
	}
}

// export converts the traces for the report; rvs are the viewers' results, in the same order.
func (o *observer) export(rvs []reports.Viewer) []reports.ViewerTrace {
	out := make([]reports.ViewerTrace, 0, len(o.traces))
	for i, t := range o.traces {
		if t == nil {
			continue // a successful viewer's trace nobody will draw (retire)
		}
		evs := t.events()
		vt := reports.ViewerTrace{ViewerID: rvs[i].ID, Full: t.total == len(evs), Omitted: t.total - len(evs)}
		for k, e := range evs {
			if k == len(t.head) && vt.Omitted > 0 {
				vt.Events = append(vt.Events, reports.TraceEvent{At: e.at.Duration(), Kind: reports.TraceGap,
					What: fmt.Sprintf("%d events not recorded", vt.Omitted)})
			}
			re := reports.TraceEvent{At: e.at.Duration(), RecvAt: e.recvAt.Duration(), Kind: e.kind, From: e.from, To: e.to,
				What: e.what, Seq: e.seq, Acks: e.acks, Bytes: e.size, Dropped: e.dropped, Note: e.note,
				Reliable: e.flags&lludp.FlagReliable != 0, Resent: e.flags&lludp.FlagResent != 0}
			if e.msg != 0 {
				re.What = e.msg.String()
			}
			if e.kind == reports.TraceOutcome {
				re.What, re.Note = rvs[i].Outcome, rvs[i].Message
				if re.What == reports.OutcomeSuccess {
					re.What, re.Note = "in world", ""
				}
			}
			vt.Events = append(vt.Events, re)
		}
		out = append(out, vt)
	}
	return out
}

// Traces of successful viewers are kept only where the report may draw them: the full traces
// (the first few of each population), every sampleEvery-th viewer (the "typical" login is
// picked among them) and the keepSlowest slowest so far (the slowest login). The others are
// released when the viewer finishes, so that memory does not grow with every viewer that ever
// came (a trace is ~17 KB).
const (
	sampleEvery = 64
	keepSlowest = 16
)

// retire releases viewer i's trace when it finished in world and no diagram will need it.
func (o *observer) retire(i int) {
	t := o.traces[i]
	if t == nil || t.headCap == fullTraceCap {
		return
	}
	r := o.w.viewers[i].Result()
	if r.Outcome != viewer.Success || r.Lost {
		return // failures keep their story
	}
	if (i+1)%sampleEvery == 0 {
		return
	}
	d := r.Stages[viewer.StageMovementComplete].Sub(r.Start)
	if len(o.slowest) < keepSlowest {
		o.slowest = append(o.slowest, slowTrace{i, d})
		return
	}
	// Replace the fastest of the kept if this one is slower; release whichever loses.
	k := 0
	for j := range o.slowest {
		if o.slowest[j].d < o.slowest[k].d || (o.slowest[j].d == o.slowest[k].d && o.slowest[j].i > o.slowest[k].i) {
			k = j
		}
	}
	if d > o.slowest[k].d {
		lose := o.slowest[k].i
		o.slowest[k] = slowTrace{i, d}
		if (lose+1)%sampleEvery != 0 {
			o.traces[lose] = nil
		}
		return
	}
	o.traces[i] = nil
}

type slowTrace struct {
	i int
	d time.Duration
}
