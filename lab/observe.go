package lab

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"gridlab/lab/addrmap"
	"gridlab/lab/lludp"
	"gridlab/lab/viewer"
	"gridlab/netem"
	"gridlab/reports"
	"gridlab/sim"
	"gridlab/sim/freelist"
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
	traces  []vtrace         // by viewer index, in place: a datagram's event costs no pointer to chase
	addrs   addrmap.Map[int] // viewer addresses (port 0) → viewer index
	ports   addrmap.Map[int] // viewer UDP sockets → viewer index
	codes   map[uint32]int
	dec     lludp.Decoder
	ev      []*viewerEvidence                       // by viewer index: the drops on its paths (diagnose.go); nil until one
	perPop  map[string]int                          // viewers per population with a trace so far
	slowest []slowTrace                             // the slowest successful viewers whose traces are kept (retire)
	texts   texts                                   // the events' what and note
	spares  spareBufs                               // released traces' buffers, for the next traces
	onEvent func(*viewer.Viewer, viewer.TraceEvent) // viewerEvent, made once
	onWarm  func(*viewer.Viewer) byte               // warmViewer, made once
	resends uint64                                  // datagrams the viewers resent (Sample.Resends)

	recvUnsent textID               // ("", "send not recorded")
	loginReq   map[string]textID    // login request note → its text
	stageText  map[string]textID    // stage name → its title
	dropWhy    map[dropCause]string // a drop's note
	dropWhat   map[dropSize]string  // a drop's what, e.g. "UDP 50 B"
}

// party and evKind are the small codes of the reports.Party* and reports.Trace* strings.
type party uint8

const (
	noParty party = iota
	partyViewer
	partyLogin
	partyRegion
)

var partyNames = [...]string{"", reports.PartyViewer, reports.PartyLogin, reports.PartyRegion}

type evKind uint8

const (
	kindMessage evKind = iota
	kindDrop
	kindStage
	kindOutcome
)

var kindNames = [...]string{reports.TraceMessage, reports.TraceDrop, reports.TraceStage, reports.TraceOutcome}

// tev is one recorded event, 40 bytes; it becomes a reports.TraceEvent when the run ends. Its
// what and note are one textID of the observer's texts (most events, datagrams, have neither).
type tev struct {
	at, recvAt sim.Time // recvAt 0: not received
	msg        lludp.MsgID
	seq        uint32
	size       uint32 // datagram bytes
	text       textID // what and note
	acks       uint8  // appended acks: the count is one byte on the wire
	flags      lludp.Flags
	kind       evKind
	from, to   party
	dropped    bool
}

// textID indexes texts.pairs; 0 is the empty pair.
type textID uint32

type textPair struct{ what, note string }

// texts interns the (what, note) pairs of the events: a handful of distinct texts (stage titles,
// outcomes, drop causes) are shared by many events, so an event carries 4 bytes instead of two
// string headers.
type texts struct {
	pairs []textPair
	ids   map[textPair]textID
}

func (tx *texts) id(what, note string) textID {
	if what == "" && note == "" {
		return 0
	}
	p := textPair{what, note}
	if id, ok := tx.ids[p]; ok {
		return id
	}
	if tx.pairs == nil {
		tx.pairs, tx.ids = []textPair{{}}, map[textPair]textID{}
	}
	id := textID(len(tx.pairs))
	tx.pairs = append(tx.pairs, p)
	tx.ids[p] = id
	return id
}

func (tx *texts) pair(id textID) textPair {
	if id == 0 {
		return textPair{}
	}
	return tx.pairs[id]
}

// vtrace is one viewer's bounded trace: a head kept in full and a ring of the latest events.
// A trace is made at the viewer's first event; its head and ring are allocated at their final
// size when first needed (a full trace's head grows up to fullTraceCap).
//
// A vtrace is 64 bytes, so that in the observer's slice of them (a large allocation, which
// starts on a page) each is one cache line: every datagram a viewer sends or receives reads its
// trace, on both sides, and at 100,000 viewers the trace is never in the cache. At 88 bytes,
// with the observer's texts and spares in it, every trace straddled two lines.
type vtrace struct {
	head []tev
	ring []tev // ring buffer of the events after the head
	// newest[d] is 1 + the ordinal (0-based count) of the newest datagram recorded in direction
	// d (viewer → region, region → viewer), 0 if none: a receive almost always matches it, so
	// lastUnreceived looks there before it searches the trace.
	newest [2]int32
	total  int32 // events recorded
	next   uint8 // next slot of ring once full (traceTail < 256)
	state  traceState
}

// traceState is a vtrace's flags.
type traceState uint8

const (
	traceFull     traceState = 1 << iota // keeps up to fullTraceCap events in its head
	traceCode                            // circuit code registered
	traceMade                            // the viewer had its first event
	traceReleased                        // released by retire: records nothing more
)

func (t *vtrace) is(s traceState) bool { return t.state&s != 0 }

// live reports whether the trace was made and not released: whether a datagram has anything to
// record into or mark.
func (t *vtrace) live() bool { return t.state&(traceMade|traceReleased) == traceMade }

// Directions of the datagrams newest tracks.
const (
	toRegion = iota
	toViewer
)

// direction returns the index in newest of a datagram from → to, or -1 for other parties.
func direction(from, to party) int {
	switch {
	case from == partyViewer && to == partyRegion:
		return toRegion
	case from == partyRegion && to == partyViewer:
		return toViewer
	}
	return -1
}

// at returns the event of ordinal k if the trace still holds it (the ring overwrites).
func (t *vtrace) at(k int) *tev {
	if k < len(t.head) {
		return &t.head[k]
	}
	if total := int(t.total); k < total-len(t.ring) || k >= total {
		return nil
	}
	return &t.ring[(k-len(t.head))%traceTail]
}

func (t *vtrace) headCap() int {
	if t.is(traceFull) {
		return fullTraceCap
	}
	return traceHead
}

// add records e; a head or ring it needs comes from spares.
func (t *vtrace) add(spares *spareBufs, e tev) {
	if e.kind == kindMessage {
		if d := direction(e.from, e.to); d >= 0 {
			t.newest[d] = t.total + 1
		}
	}
	t.total++
	if n := len(t.head); n < t.headCap() {
		if n == cap(t.head) {
			if !t.is(traceFull) {
				t.head = spares.head()
			} else {
				t.head = append(make([]tev, 0, min(fullTraceCap, max(2*n, 256))), t.head...)
			}
		}
		t.head = append(t.head, e)
		return
	}
	if len(t.ring) < traceTail {
		if t.ring == nil {
			t.ring = spares.ring()
		}
		t.ring = append(t.ring, e)
		return
	}
	t.ring[t.next] = e
	if t.next++; t.next == traceTail {
		t.next = 0
	}
}

// spareBufs keeps the heads and rings of released traces (retire) for the traces made next: a
// successful viewer's trace is released when it is done, and allocating each new viewer's head
// (~2 KB) and, if it stays long enough, its ring (~2 KB) was the largest allocation of the lab
// outside the login codec. A buffer is handed out empty, so nothing of the trace that had it
// can be read (reads stop at a slice's length, and add overwrites before it extends).
type spareBufs struct {
	heads, rings freelist.List[tev] // each of cap traceHead, resp. traceTail
}

// maxSpareBufs bounds each list: enough for the logouts between two logins of a storm, and
// no more than ~1 MB kept after the last viewer left.
const maxSpareBufs = 256

func newSpareBufs() spareBufs {
	return spareBufs{heads: freelist.New[tev](maxSpareBufs, 0), rings: freelist.New[tev](maxSpareBufs, 0)}
}

// head and ring return an empty buffer for a trace's head, resp. ring: a kept one if there is
// one. A nil s (a trace made outside an observer, in tests) always gets a new one.
func (s *spareBufs) head() []tev {
	if s == nil {
		return make([]tev, 0, traceHead)
	}
	return take(&s.heads, traceHead)
}

func (s *spareBufs) ring() []tev {
	if s == nil {
		return make([]tev, 0, traceTail)
	}
	return take(&s.rings, traceTail)
}

// take returns a kept buffer from l, or a new one of capacity size if there is none.
func take(l *freelist.List[tev], size int) []tev {
	if b := l.Get(); b != nil {
		return b
	}
	return make([]tev, 0, size)
}

// keep takes a released trace's head and ring; only the sizes take hands out are kept (a full
// trace's head grows past traceHead, and a trace that keeps a head expects room for traceHead).
func (s *spareBufs) keep(head, ring []tev) {
	if cap(head) == traceHead {
		s.heads.Put(head)
	}
	if cap(ring) == traceTail {
		s.rings.Put(ring)
	}
}

// newestFirst returns the recorded events in three runs; read each from its end, they go from
// the newest back to the oldest.
func (t *vtrace) newestFirst() [3][]tev {
	return [3][]tev{t.ring[:t.next], t.ring[t.next:], t.head}
}

// lastUnreceived finds the newest message from → to with this header that was neither received
// nor dropped.
func (t *vtrace) lastUnreceived(from, to party, msg lludp.MsgID, seq uint32, flags lludp.Flags) *tev {
	if d := direction(from, to); d >= 0 {
		// The newest datagram this way is the newest that can match; if it does, no search.
		if x := t.newestTo(d); x != nil && x.seq == seq && x.msg == msg && x.flags == flags && x.recvAt == 0 && !x.dropped {
			return x
		}
	}
	return t.searchUnreceived(from, to, msg, seq, flags)
}

// newestTo returns the newest datagram recorded in direction d if the trace still holds it.
func (t *vtrace) newestTo(d int) *tev {
	if t.newest[d] == 0 {
		return nil
	}
	return t.at(int(t.newest[d]) - 1)
}

// searchUnreceived is lastUnreceived by a search from the newest event back.
func (t *vtrace) searchUnreceived(from, to party, msg lludp.MsgID, seq uint32, flags lludp.Flags) *tev {
	for _, run := range t.newestFirst() {
		for k := len(run) - 1; k >= 0; k-- {
			x := &run[k]
			if x.seq == seq && x.msg == msg && x.flags == flags && x.from == from && x.to == to && x.recvAt == 0 && !x.dropped {
				return x
			}
		}
	}
	return nil
}

// lastInFlight finds the newest message from sender of size bytes that was neither received
// nor dropped, looking back no further than the first event older than notBefore.
func (t *vtrace) lastInFlight(from party, size int, notBefore sim.Time) *tev {
	for _, run := range t.newestFirst() {
		for k := len(run) - 1; k >= 0; k-- {
			x := &run[k]
			if x.kind == kindMessage && x.from == from && int(x.size) == size && x.recvAt == 0 && !x.dropped {
				return x
			}
			if x.at < notBefore {
				return nil
			}
		}
	}
	return nil
}

// event is a recorded event spelled out: kinds, parties and texts as the report's strings.
type event struct {
	at, recvAt     sim.Time
	kind, from, to string
	what, note     string
	msg            lludp.MsgID
	seq            uint32
	flags          lludp.Flags
	acks, size     int
	dropped        bool
}

// events returns the recorded events, oldest first; a trace never made has none.
func (t *vtrace) events(tx *texts) []event {
	if !t.is(traceMade) {
		return nil
	}
	out := make([]event, 0, len(t.head)+len(t.ring))
	add := func(es []tev) {
		for i := range es {
			e := &es[i]
			p := tx.pair(e.text)
			out = append(out, event{at: e.at, recvAt: e.recvAt, kind: kindNames[e.kind], from: partyNames[e.from], to: partyNames[e.to],
				what: p.what, note: p.note, msg: e.msg, seq: e.seq, flags: e.flags, acks: int(e.acks), size: int(e.size), dropped: e.dropped})
		}
	}
	add(t.head)
	add(t.ring[t.next:])
	add(t.ring[:t.next])
	return out
}

// addr is the key of an address without a port in addrs.
func addr(a netip.Addr) netip.AddrPort { return netip.AddrPortFrom(a, 0) }

func newObserver(w *world) *observer {
	o := &observer{w: w, codes: map[uint32]int{}, spares: newSpareBufs()}
	o.onEvent, o.onWarm = o.viewerEvent, o.warmViewer
	o.recvUnsent = o.texts.id("", "send not recorded")
	w.net.OnDrop(o.onDrop)
	return o
}

// addViewers sets up the traces once the viewers exist: who keeps a full trace, and which
// addresses are whose (the viewer's own, and its home router's public address).
func (o *observer) addViewers() {
	n := len(o.w.viewers) - len(o.traces)
	o.traces = slices.Grow(o.traces, n)
	o.ev = slices.Grow(o.ev, n)
	for i := len(o.traces); i < len(o.w.viewers); i++ {
		o.addViewer(i)
	}
}

// addViewer sets up the trace of viewer i; viewers added during the run (relogins) come here too.
// Nothing is allocated for the trace itself until the viewer's first event.
func (o *observer) addViewer(i int) {
	if o.perPop == nil {
		o.perPop = map[string]int{}
	}
	v := o.w.viewers[i]
	var t vtrace
	if o.perPop[o.w.pops[i]] < fullTracePerPop {
		t.state = traceFull
	}
	o.traces = append(o.traces, t)
	o.perPop[o.w.pops[i]]++
	o.ev = append(o.ev, nil)
	// A relogin is a new session on the same machine: its addresses are the latest session's.
	if hn, ok := v.Config().Net.(hostNet); ok {
		o.addrs.Set(addr(hn.h.Addr()), i)
	}
	if r := o.w.net.Router(fmt.Sprintf("home-router-%d", o.w.firstID[i])); r != nil {
		o.addrs.Set(addr(r.OutsideAddr()), i)
	}
}

// trace returns viewer i's trace, made at its first event; nil once released (retire).
func (o *observer) trace(i int) *vtrace {
	t := &o.traces[i]
	if t.is(traceReleased) {
		return nil
	}
	if !t.is(traceMade) {
		t.state |= traceMade
	}
	return t
}

// evidence returns the drops seen on viewer i's paths.
func (o *observer) evidence(i int) viewerEvidence {
	if e := o.ev[i]; e != nil {
		return *e
	}
	return viewerEvidence{}
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

// viewerEvent is every viewer's Trace hook (onEvent): it records what viewer v reports. One
// func for all viewers, found by the viewer's ID, rather than one bound to each: at 100,000
// viewers a func per viewer is one more object out of the cache at every datagram.
func (o *observer) viewerEvent(v *viewer.Viewer, e viewer.TraceEvent) {
	if i := v.ID() - 1; i >= 0 && i < len(o.traces) {
		o.record(i, v, e)
	}
}

// record records an event of viewer i.
func (o *observer) record(i int, v *viewer.Viewer, e viewer.TraceEvent) {
	if e.Kind == viewer.TraceSend && e.Flags&lludp.FlagResent != 0 {
		o.resends++ // every resend of the viewer's circuit is sent, and so traced, once
	}
	t := o.trace(i)
	if t == nil {
		return // released (retire)
	}
	switch e.Kind {
	case viewer.TraceLoginRequest:
		id, ok := o.loginReq[e.Note]
		if !ok {
			id = o.texts.id(e.Note+" (XML-RPC over HTTP)", "")
			if o.loginReq == nil {
				o.loginReq = map[string]textID{}
			}
			o.loginReq[e.Note] = id
		}
		t.add(&o.spares, tev{at: e.At, kind: kindMessage, from: partyViewer, to: partyLogin, text: id})
	case viewer.TraceLoginReply:
		t.add(&o.spares, tev{at: e.At, kind: kindMessage, from: partyLogin, to: partyViewer, text: o.texts.id("login reply", e.Note)})
	case viewer.TraceStage:
		id, ok := o.stageText[e.Note]
		if !ok {
			id = o.texts.id(stageTitles[e.Note], "")
			if o.stageText == nil {
				o.stageText = map[string]textID{}
			}
			o.stageText[e.Note] = id
		}
		t.add(&o.spares, tev{at: e.At, kind: kindStage, text: id})
	case viewer.TraceOutcome:
		t.add(&o.spares, tev{at: e.At, kind: kindOutcome, text: o.texts.id(e.Note, "")})
	case viewer.TraceLost:
		t.add(&o.spares, tev{at: e.At, kind: kindStage, text: o.texts.id("Region lost", e.Note)})
	case viewer.TraceSend:
		if !t.is(traceCode) && e.Msg == lludp.MsgUseCircuitCode {
			t.state |= traceCode
			o.codes[v.Result().CircuitCode] = i
		}
		t.add(&o.spares, tev{at: e.At, kind: kindMessage, from: partyViewer, to: partyRegion,
			msg: e.Msg, seq: e.Seq, flags: e.Flags, acks: acks8(e.Acks), size: uint32(e.Size)})
	case viewer.TraceRecv:
		// Everything recorded as from the region went to the viewer.
		if x := t.lastUnreceived(partyRegion, partyViewer, e.Msg, e.Seq, e.Flags); x != nil {
			x.recvAt = e.At
			return
		}
		t.add(&o.spares, tev{at: e.At, recvAt: e.At, kind: kindMessage, from: partyRegion, to: partyViewer,
			msg: e.Msg, seq: e.Seq, flags: e.Flags, acks: acks8(e.Acks), size: uint32(e.Size), text: o.recvUnsent})
	}
}

// acks8 stores a datagram's count of appended acks, which is one byte on the wire.
func acks8(n int) uint8 { return uint8(min(max(n, 0), 255)) }

// regionSend records a datagram a region sends, if it goes to a known viewer.
func (o *observer) regionSend(to netip.AddrPort, b []byte) {
	i, ok := o.ports.Get(to)
	if !ok {
		return
	}
	t := o.trace(i)
	if t == nil {
		return
	}
	flags, seq, id, acks := viewer.PeekHeader(b)
	t.add(&o.spares, tev{at: o.w.s.Now(), kind: kindMessage, from: partyRegion, to: partyViewer,
		msg: id, seq: seq, flags: flags, acks: acks8(acks), size: uint32(len(b))})
}

// regionRecv marks a viewer's datagram as received by a region. The first UseCircuitCode of a
// circuit tells whose address it is.
func (o *observer) regionRecv(from netip.AddrPort, b []byte) {
	i, ok := o.ports.Get(from)
	if !ok {
		if _, _, id, _ := viewer.PeekHeader(b); id != lludp.MsgUseCircuitCode {
			return
		}
		p, err := o.dec.Decode(b)
		if err != nil || len(p.Body) < 4 {
			return
		}
		if i, ok = o.codes[binary.LittleEndian.Uint32(p.Body)]; !ok {
			return
		}
		o.ports.Set(from, i)
		if _, known := o.addrs.Get(addr(from.Addr())); !known {
			o.addrs.Set(addr(from.Addr()), i)
		}
	}
	t := &o.traces[i]
	if !t.live() {
		return // no events yet (nothing to mark), or released
	}
	flags, seq, id, _ := viewer.PeekHeader(b)
	if x := t.lastUnreceived(partyViewer, partyRegion, id, seq, flags); x != nil {
		x.recvAt = o.w.s.Now()
	}
}

// warmRecv reads ahead what regionRecv will read for a datagram from from (the viewer's trace
// and its newest datagram to the region); it changes nothing.
func (o *observer) warmRecv(from netip.AddrPort) byte {
	i, ok := o.ports.Get(from)
	if !ok {
		return 0
	}
	t := &o.traces[i]
	if !t.live() {
		return 0
	}
	if x := t.newestTo(toRegion); x != nil {
		return byte(x.seq)
	}
	return 0
}

// warmViewer reads ahead what record will read for viewer v's next datagram (its trace, the
// slot a send fills and the newest datagram to the viewer, which a receive marks); it changes
// nothing.
func (o *observer) warmViewer(v *viewer.Viewer) byte {
	i := v.ID() - 1
	if i < 0 || i >= len(o.traces) {
		return 0
	}
	t := &o.traces[i]
	if !t.live() {
		return 0
	}
	var b byte
	if x := t.newestTo(toViewer); x != nil {
		b = byte(x.seq)
	}
	if len(t.ring) == traceTail {
		b += byte(t.ring[t.next].seq)
	}
	return b
}

// dropCause and dropSize key the observer's caches of drop texts.
type dropCause struct {
	reason      netem.Reason
	where, rule string
}

type dropSize struct {
	proto netem.Proto
	len   int
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
	// Only a failure's diagnosis reads the evidence (evidenceMatters): keeping none for the
	// region's last datagrams to a viewer that logged out saves every viewer an allocation.
	if v := o.w.viewers[i]; evidenceMatters(v.Finished(), v.Result()) {
		if o.ev[i] == nil {
			o.ev[i] = &viewerEvidence{}
		}
		o.ev[i].note(d, fromViewer)
	}
	t := o.trace(i)
	if t == nil {
		return
	}
	why := o.dropWhy[dropCause{d.Reason, d.Where, d.Rule}]
	if why == "" {
		why = string(d.Reason) + " at " + d.Where
		if d.Rule != "" {
			why += " (rule " + d.Rule + ")"
		}
		if o.dropWhy == nil {
			o.dropWhy = map[dropCause]string{}
		}
		o.dropWhy[dropCause{d.Reason, d.Where, d.Rule}] = why
	}
	if d.Proto == netem.UDP {
		sender := partyRegion
		if fromViewer {
			sender = partyViewer
		}
		if x := t.lastInFlight(sender, d.Len, d.At-sim.Time(10e9)); x != nil { // no older than 10 s
			x.dropped, x.text = true, o.texts.id(o.texts.pair(x.text).what, why)
			return
		}
	}
	from, to := partyLogin, partyViewer
	if d.Proto == netem.UDP {
		from = partyRegion
	}
	if fromViewer {
		from, to = to, from
	}
	what := o.dropWhat[dropSize{d.Proto, d.Len}]
	if what == "" {
		what = fmt.Sprintf("%s %d B", strings.ToUpper(string(d.Proto)), d.Len)
		if o.dropWhat == nil {
			o.dropWhat = map[dropSize]string{}
		}
		o.dropWhat[dropSize{d.Proto, d.Len}] = what
	}
	t.add(&o.spares, tev{at: d.At, kind: kindDrop, from: from, to: to, text: o.texts.id(what, why), dropped: true})
}

// bufferDrop is told of a datagram from a viewer that reached region's host and was lost there
// because the region's UDP receive buffer was full (the capacity model, capacity.go). netem
// delivered it, so onDrop never hears of it, and regionRecv has already marked it received: it
// is counted in the evidence of the viewer that sent it, and its message in the trace is marked
// dropped instead, with the reason.
func (o *observer) bufferDrop(region string, from netip.AddrPort, b []byte) {
	i, ok := o.ports.Get(from)
	if !ok {
		if i, ok = o.addrs.Get(addr(from.Addr())); !ok {
			return
		}
	}
	flags, seq, id, _ := viewer.PeekHeader(b)
	if v := o.w.viewers[i]; evidenceMatters(v.Finished(), v.Result()) {
		if o.ev[i] == nil {
			o.ev[i] = &viewerEvidence{}
		}
		o.ev[i].buf.add(region, id)
	}
	t := &o.traces[i]
	if !t.live() {
		return
	}
	now := o.w.s.Now()
	x := t.lastReceivedAt(id, seq, flags, now)
	if x == nil {
		return
	}
	key := dropCause{reason: reasonUDPBuffer, where: region}
	why := o.dropWhy[key]
	if why == "" {
		why = string(reasonUDPBuffer) + " full at " + region
		if o.dropWhy == nil {
			o.dropWhy = map[dropCause]string{}
		}
		o.dropWhy[key] = why
	}
	x.recvAt, x.dropped, x.text = 0, true, o.texts.id(o.texts.pair(x.text).what, why)
}

// reasonUDPBuffer is the reason a trace gives for a datagram a region's full receive buffer lost.
// It is not one of netem's: the network delivered the datagram.
const reasonUDPBuffer netem.Reason = "udp_buffer"

// lastReceivedAt finds the newest message from the viewer to the region with this header that
// the region received at now (regionRecv marked it).
func (t *vtrace) lastReceivedAt(msg lludp.MsgID, seq uint32, flags lludp.Flags, now sim.Time) *tev {
	match := func(x *tev) bool {
		return x.kind == kindMessage && x.from == partyViewer && x.to == partyRegion &&
			x.msg == msg && x.seq == seq && x.flags == flags && x.recvAt == now && !x.dropped
	}
	if x := t.newestTo(toRegion); x != nil && match(x) {
		return x
	}
	for _, run := range t.newestFirst() {
		for k := len(run) - 1; k >= 0; k-- {
			if x := &run[k]; match(x) {
				return x
			}
		}
	}
	return nil
}

// evidenceMatters reports whether drops seen now may explain a failure of a viewer with result
// r: not once it has failed or lost its region (then the drops are the aftermath), nor once it
// is done without either (its result is final: it will never be diagnosed).
func evidenceMatters(done bool, r *viewer.Result) bool {
	return !done && !r.Lost && (r.Outcome == "" || r.Outcome == viewer.Success)
}

// owner finds the viewer an address belongs to; fromViewer is true for its own addresses.
func (o *observer) owner(a netip.AddrPort) (int, bool) {
	if i, ok := o.ports.Get(a); ok {
		return i, true
	}
	if i, ok := o.addrs.Get(addr(a.Addr())); ok {
		return i, true
	}
	return -1, false
}

// sample appends the per-second sample; it is called from the progress tick.
func (o *observer) sample() {
	w := o.w
	s := reports.Sample{At: w.s.Now().Duration(), Decided: w.decided, InWorld: w.inWorld, Failed: w.failed}
	// Resends are counted as they happen, by the regions and here (record): summing every
	// circuit's stats would visit every viewer every second.
	s.Resends = o.resends
	for _, rg := range w.regions {
		s.Circuits += rg.Agents()
		s.Resends += rg.Resends()
	}
	t := w.net.Traffic()
	s.UDPSent, s.UDPDeliv, s.UDPLost, s.Drops = t.UDPSent, t.UDPDelivered, t.Lost, t.Drops
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
	for i := range o.traces {
		t := &o.traces[i]
		if t.is(traceReleased) {
			continue // a successful viewer's trace nobody will draw (retire)
		}
		evs := t.events(&o.texts) // none for a viewer that never started
		total, head := len(evs), 0
		if t.is(traceMade) {
			total, head = int(t.total), len(t.head)
		}
		vt := reports.ViewerTrace{ViewerID: rvs[i].ID, Full: total == len(evs), Omitted: total - len(evs)}
		for k, e := range evs {
			if k == head && vt.Omitted > 0 {
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
// came (a trace is ~4 KB: traceHead+traceTail events of 40 bytes).
const (
	sampleEvery = 64
	keepSlowest = 16
)

// retire releases viewer i's trace when it finished in world and no diagram will need it.
func (o *observer) retire(i int) {
	if t := &o.traces[i]; t.is(traceReleased | traceFull) {
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
			o.release(lose)
		}
		return
	}
	o.release(i)
}

// release drops viewer i's trace for good: it records nothing more and is not exported.
func (o *observer) release(i int) {
	o.spares.keep(o.traces[i].head, o.traces[i].ring)
	o.traces[i] = vtrace{state: traceReleased}
}

type slowTrace struct {
	i int
	d time.Duration
}
