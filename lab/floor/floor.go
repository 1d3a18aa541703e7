package floor

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"github.com/google/uuid"

	"gridlab/lab/addrmap"
	"gridlab/lab/lludp"
)

// The workload: scale-100k's in-world steady state.
const (
	Regions      = 16
	updateEvery  = time.Second
	pingEvery    = 5 * time.Second
	pathLatency  = 27 * time.Millisecond // 30 ms ± 3 ms: 27 ms plus up to 6 ms of jitter
	pathJitter   = 6 * time.Millisecond
	tick         = int64(time.Millisecond)
	wheelSlots   = 8192    // ticks: more than the longest delay (pingEvery), so no event laps the wheel
	maxViewers   = 1 << 20 // viewer endpoints are 10.0.0.0/12 addresses
	maxDuration  = 24 * time.Hour
	packetRoom   = 224 // the largest datagram the workload sends is an AgentUpdate, ≤ 128 bytes
	fnvOffset    = 14695981039217614103
	fnvPrime     = 1099511628211
	regionPortLo = 9001
)

// Config is a run of the floor.
type Config struct {
	Viewers  int           // in world from the start, spread evenly over the Regions
	Duration time.Duration // virtual time
	Seed     uint64        // the viewers' phases, identities and the path's jitter

	// Second, if set, is called at every virtual second with the events dispatched so far.
	Second func(at time.Duration, events uint64)
}

// Result is what a run did.
type Result struct {
	Events       uint64 // dispatched events: timers and datagram arrivals
	Datagrams    uint64 // sent, every one delivered
	AgentUpdates uint64 // decoded by the regions
	Pings        uint64 // ping round trips completed, both directions
	MeanRTT      time.Duration
	TraceHash    uint64 // over every event's time and kind and every delivered payload
}

// Run runs the workload for cfg.Duration of virtual time.
func Run(cfg Config) (Result, error) {
	if cfg.Viewers < 1 || cfg.Viewers > maxViewers {
		return Result{}, fmt.Errorf("floor: viewers %d: want 1 to %d", cfg.Viewers, maxViewers)
	}
	if cfg.Duration <= 0 || cfg.Duration > maxDuration {
		return Result{}, fmt.Errorf("floor: duration %v: want more than 0 and at most %v", cfg.Duration, maxDuration)
	}
	w := newWorld(cfg)
	if err := w.run(); err != nil {
		return Result{}, err
	}
	return w.result(), nil
}

type kind uint8

const (
	viewerUpdate kind = iota // a viewer's AgentUpdate timer
	viewerPing               // a viewer's StartPingCheck timer
	regionPing               // a region's StartPingCheck timer for one client
	toRegion                 // a datagram arrives at a region
	toViewer                 // a datagram arrives at a viewer
)

// event is 16 bytes. ns is its time within its tick; who is a viewer's index, or a client's
// in region n (regionPing); for an arrival, pkt is its packet and n its length.
type event struct {
	ns   uint32
	who  uint32
	pkt  int32
	n    uint16
	kind kind
}

// viewer is one viewer's whole state.
type viewer struct {
	ep       netip.AddrPort
	au       lludp.Prepared // a viewer standing still sends the same AgentUpdate
	pathFree int64          // when the last datagram on the path to the region arrives: the path is FIFO
	pingAt   int64
	rttSum   int64
	inSeen   uint64 // the 64 sequence numbers below inHigh that arrived
	inHigh   uint32
	seq      uint32
	pings    uint32
	region   uint8
	pingID   uint8
	ringNext uint8
	ring     [4]uint64 // the last datagrams sent and received: time << 8 | message number's low byte
}

// client is a region's state for one viewer.
type client struct {
	pathFree int64
	pingAt   int64
	rttSum   int64
	inSeen   uint64
	inHigh   uint32
	seq      uint32
	viewer   uint32
	pings    uint32
	updates  uint32
	pingID   uint8
	pos      [3]float32
}

type region struct {
	ep      netip.AddrPort
	clients []client
	byEP    addrmap.Map[int32] // source endpoint → client
	dec     lludp.Decoder
	au      lludp.AgentUpdate
}

// packet is a datagram in flight: its source and a copy of its bytes.
type packet struct {
	src netip.AddrPort
	b   [packetRoom]byte
}

type world struct {
	cfg     Config
	now     int64
	cur     int64 // the tick being dispatched
	slots   [wheelSlots][]event
	batch   []event
	order   []uint64 // the batch's events as ns << 32 | index in the batch, sorted
	hash    uint64
	events  uint64
	rng     *rand.Rand
	pkts    []packet
	free    []int32
	viewers []viewer
	regions [Regions]region
	dec     lludp.Decoder // the viewers'
	out     []byte        // the datagram being encoded
	ping    lludp.StartPingCheck
	pong    lludp.CompletePingCheck
	res     Result
}

func newWorld(cfg Config) *world {
	w := &world{cfg: cfg, hash: fnvOffset, rng: rand.New(rand.NewPCG(cfg.Seed, 0x666c6f6f72)), out: make([]byte, 0, 512)}
	for i := range w.regions {
		w.regions[i].ep = netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, 10}), uint16(regionPortLo+i))
	}
	w.viewers = make([]viewer, cfg.Viewers)
	for i := range w.viewers {
		v := &w.viewers[i]
		v.ep = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 40000)
		v.region = uint8(i % Regions)
		rg := &w.regions[v.region]
		rg.byEP.Set(v.ep, int32(len(rg.clients)))
		rg.clients = append(rg.clients, client{viewer: uint32(i)})
		var agent, session uuid.UUID
		binary.LittleEndian.PutUint64(agent[:], w.rng.Uint64())
		binary.LittleEndian.PutUint64(agent[8:], w.rng.Uint64())
		binary.LittleEndian.PutUint64(session[:], w.rng.Uint64())
		binary.LittleEndian.PutUint64(session[8:], w.rng.Uint64())
		v.au.Set(&lludp.AgentUpdate{
			AgentID: agent, SessionID: session,
			BodyRotation: [3]float32{0, 0, 0.38268343}, HeadRotation: [3]float32{0, 0, 0.38268343},
			CameraCenter: [3]float32{128, 128, 25}, CameraAtAxis: [3]float32{1, 0, 0},
			CameraLeftAxis: [3]float32{0, 1, 0}, CameraUpAxis: [3]float32{0, 0, 1}, Far: 64,
		})
	}
	// Every timer starts at a random phase within its period.
	for i := range w.viewers {
		w.after(1+w.rng.Int64N(int64(updateEvery)), event{kind: viewerUpdate, who: uint32(i)})
		w.after(1+w.rng.Int64N(int64(pingEvery)), event{kind: viewerPing, who: uint32(i)})
	}
	for r := range w.regions {
		for c := range w.regions[r].clients {
			w.after(1+w.rng.Int64N(int64(pingEvery)), event{kind: regionPing, who: uint32(c), n: uint16(r)})
		}
	}
	return w
}

// after schedules e d nanoseconds from now; d is at least 1 ns and less than the wheel's span,
// and never lands in the tick being dispatched (the workload's shortest delay is the path's).
// A slot's events are in the order they were scheduled, which orders events due at the same
// nanosecond.
func (w *world) after(d int64, e event) {
	at := w.now + d
	t := at / tick
	e.ns = uint32(at - t*tick)
	w.slots[t%wheelSlots] = append(w.slots[t%wheelSlots], e)
}

func (w *world) run() error {
	end := int64(w.cfg.Duration)
	for w.cur = 0; w.cur*tick < end; w.cur++ {
		if w.cfg.Second != nil && w.cur%1000 == 0 && w.cur > 0 {
			w.cfg.Second(time.Duration(w.cur*tick), w.events)
		}
		s := &w.slots[w.cur%wheelSlots]
		if len(*s) == 0 {
			continue
		}
		// Take the tick's events, leaving the slot an empty buffer for the tick a lap on.
		w.batch, *s = *s, w.batch[:0]
		w.order = w.order[:0]
		for i, e := range w.batch {
			w.order = append(w.order, uint64(e.ns)<<32|uint64(i))
		}
		slices.Sort(w.order) // by time, then by scheduling order
		base := w.cur * tick
		for _, o := range w.order {
			e := w.batch[uint32(o)]
			w.now = base + int64(e.ns)
			if w.now >= end {
				return nil
			}
			w.events++
			w.mix(uint64(w.now))
			w.mix(uint64(e.kind))
			if err := w.fire(e); err != nil {
				return fmt.Errorf("floor: at %v: %w", time.Duration(w.now), err)
			}
		}
	}
	return nil
}

func (w *world) fire(e event) error {
	switch e.kind {
	case viewerUpdate:
		v := &w.viewers[e.who]
		v.seq++
		w.out = lludp.Encode(w.out[:0], 0, v.seq, &v.au, nil)
		w.viewerSends(v, lludp.MsgAgentUpdate)
		w.after(int64(updateEvery), e)
	case viewerPing:
		v := &w.viewers[e.who]
		v.seq++
		v.pingID++
		v.pingAt = w.now
		w.ping = lludp.StartPingCheck{PingID: v.pingID}
		w.out = lludp.Encode(w.out[:0], 0, v.seq, &w.ping, nil)
		w.viewerSends(v, lludp.MsgStartPingCheck)
		w.after(int64(pingEvery), e)
	case regionPing:
		rg := &w.regions[e.n]
		cl := &rg.clients[e.who]
		cl.seq++
		cl.pingID++
		cl.pingAt = w.now
		w.ping = lludp.StartPingCheck{PingID: cl.pingID}
		w.out = lludp.Encode(w.out[:0], 0, cl.seq, &w.ping, nil)
		w.send(rg.ep, &cl.pathFree, event{kind: toViewer, who: cl.viewer})
		w.after(int64(pingEvery), e)
	case toRegion:
		return w.regionReceives(e)
	case toViewer:
		return w.viewerReceives(e)
	}
	return nil
}

// viewerSends sends w.out, a message id, from viewer v to its region.
func (w *world) viewerSends(v *viewer, id lludp.MsgID) {
	w.note(v, id)
	w.send(v.ep, &v.pathFree, event{kind: toRegion, who: uint32(v.region)})
}

// send copies w.out into a packet from src and schedules its arrival, after the path's latency
// and no earlier than the datagram before it on the same path (*pathFree).
func (w *world) send(src netip.AddrPort, pathFree *int64, e event) {
	var p int32
	if n := len(w.free); n > 0 {
		p = w.free[n-1]
		w.free = w.free[:n-1]
	} else {
		w.pkts = append(w.pkts, packet{})
		p = int32(len(w.pkts) - 1)
	}
	pk := &w.pkts[p]
	pk.src = src
	e.pkt, e.n = p, uint16(copy(pk.b[:], w.out))
	at := max(w.now+int64(pathLatency)+w.rng.Int64N(int64(pathJitter)), *pathFree)
	*pathFree = at
	w.res.Datagrams++
	w.after(at-w.now, e)
}

// delivered returns an arriving packet's source and bytes, mixed into the trace hash; the
// packet goes back to the pool after the handler (release).
func (w *world) delivered(e event) (netip.AddrPort, []byte) {
	pk := &w.pkts[e.pkt]
	b := pk.b[:e.n]
	w.mixBytes(b)
	return pk.src, b
}

func (w *world) release(e event) { w.free = append(w.free, e.pkt) }

func (w *world) regionReceives(e event) error {
	defer w.release(e)
	src, b := w.delivered(e)
	rg := &w.regions[e.who]
	c, ok := rg.byEP.Get(src)
	if !ok {
		return fmt.Errorf("region %d: datagram from unknown endpoint %s", e.who, src)
	}
	p, err := rg.dec.Decode(b)
	if err != nil {
		return fmt.Errorf("region %d: from %s: %w", e.who, src, err)
	}
	cl := &rg.clients[c]
	if !fresh(&cl.inHigh, &cl.inSeen, p.Seq) {
		return nil
	}
	switch p.ID {
	case lludp.MsgAgentUpdate:
		if err := rg.au.DecodeBody(p.Body); err != nil {
			return fmt.Errorf("region %d: AgentUpdate from %s: %w", e.who, src, err)
		}
		cl.pos = rg.au.CameraCenter
		cl.updates++
	case lludp.MsgStartPingCheck:
		if err := w.ping.DecodeBody(p.Body); err != nil {
			return fmt.Errorf("region %d: StartPingCheck from %s: %w", e.who, src, err)
		}
		cl.seq++
		w.pong.PingID = w.ping.PingID
		w.out = lludp.Encode(w.out[:0], 0, cl.seq, &w.pong, nil)
		w.send(rg.ep, &cl.pathFree, event{kind: toViewer, who: cl.viewer})
	case lludp.MsgCompletePingCheck:
		cl.rttSum += w.now - cl.pingAt
		cl.pings++
	default:
		return fmt.Errorf("region %d: unexpected %s from %s", e.who, p.ID, src)
	}
	return nil
}

func (w *world) viewerReceives(e event) error {
	defer w.release(e)
	_, b := w.delivered(e)
	v := &w.viewers[e.who]
	p, err := w.dec.Decode(b)
	if err != nil {
		return fmt.Errorf("viewer %d: %w", e.who, err)
	}
	w.note(v, p.ID)
	if !fresh(&v.inHigh, &v.inSeen, p.Seq) {
		return nil
	}
	switch p.ID {
	case lludp.MsgStartPingCheck:
		if err := w.ping.DecodeBody(p.Body); err != nil {
			return fmt.Errorf("viewer %d: StartPingCheck: %w", e.who, err)
		}
		v.seq++
		w.pong.PingID = w.ping.PingID
		w.out = lludp.Encode(w.out[:0], 0, v.seq, &w.pong, nil)
		w.viewerSends(v, lludp.MsgCompletePingCheck)
	case lludp.MsgCompletePingCheck:
		v.rttSum += w.now - v.pingAt
		v.pings++
	default:
		return fmt.Errorf("viewer %d: unexpected %s", e.who, p.ID)
	}
	return nil
}

// note records a datagram the viewer sent or received in its ring: the observer's share, kept
// in the viewer's own lines.
func (w *world) note(v *viewer, id lludp.MsgID) {
	v.ring[v.ringNext&3] = uint64(w.now)<<8 | uint64(id&0xFF)
	v.ringNext++
}

// fresh reports whether seq has not arrived before, keeping the highest sequence number seen
// and which of the 64 below it arrived; anything older than that counts as a duplicate.
func fresh(high *uint32, seen *uint64, seq uint32) bool {
	switch {
	case seq > *high:
		if d := seq - *high; d < 64 {
			*seen = *seen<<d | 1<<(d-1)
		} else {
			*seen = 0
		}
		*high = seq
		return true
	case seq == *high:
		return false
	default:
		d := *high - seq
		if d > 64 || *seen&(1<<(d-1)) != 0 {
			return false
		}
		*seen |= 1 << (d - 1)
		return true
	}
}

func (w *world) mix(x uint64) { w.hash = (w.hash ^ x) * fnvPrime }

func (w *world) mixBytes(b []byte) {
	h := w.hash
	for ; len(b) >= 8; b = b[8:] {
		h = (h ^ binary.LittleEndian.Uint64(b)) * fnvPrime
	}
	for _, c := range b {
		h = (h ^ uint64(c)) * fnvPrime
	}
	w.hash = (h ^ 0xFF) * fnvPrime
}

func (w *world) result() Result {
	r := w.res
	r.Events, r.TraceHash = w.events, w.hash
	var rtt int64
	for i := range w.viewers {
		r.Pings += uint64(w.viewers[i].pings)
		rtt += w.viewers[i].rttSum
	}
	for i := range w.regions {
		for _, cl := range w.regions[i].clients {
			r.Pings += uint64(cl.pings)
			r.AgentUpdates += uint64(cl.updates)
			rtt += cl.rttSum
		}
	}
	if r.Pings > 0 {
		r.MeanRTT = time.Duration(rtt / int64(r.Pings))
	}
	return r
}
