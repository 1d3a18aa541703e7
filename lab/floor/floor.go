package floor

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/google/uuid"

	"gridlab/lab/addrmap"
	"gridlab/lab/circuit"
	"gridlab/lab/lludp"
	"gridlab/netem"
	"gridlab/sim"
	"gridlab/sim/freelist"
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
	Layers   Layers        // the lab's own parts to put in place of the floor's

	// Second, if set, is called at every virtual second with the events dispatched so far.
	Second func(at time.Duration, events uint64)
}

// Layers are the lab's own parts a run puts in place of the floor's, to price each one: the
// same workload, the cost of an event with and without.
type Layers struct {
	// Kernel runs the events on sim.Sim — a Handler per timer and per datagram, the lab's event
	// labels, sim's trace hash — instead of the floor's wheel.
	Kernel bool
	// Network carries the datagrams through netem — a host and a socket per viewer, the grid's
	// host with a socket per region, one segment of 30 ms ± 3 ms (uniform) — instead of
	// the floor's copy into a packet and scheduled arrival. It needs Kernel.
	Network bool
	// Circuit gives each viewer and each region client a lab/circuit.Circuit, which numbers,
	// encodes, decodes, deduplicates and answers pings as the lab's do, instead of the
	// floor's sequence counter and window. It needs Kernel (a circuit's clock).
	Circuit bool
}

// Check reports a set of layers that cannot run: the network and the circuits need the kernel.
func (l Layers) Check() error {
	if (l.Network || l.Circuit) && !l.Kernel {
		return errors.New("the network layer (netem) and the circuits (their clock) run on the kernel layer (sim): add kernel")
	}
	return nil
}

// Result is what a run did.
type Result struct {
	Events       uint64 // dispatched events: timers and datagram arrivals
	Datagrams    uint64 // sent; the path loses none, but the last may still be on it at the end
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
	if err := cfg.Layers.Check(); err != nil {
		return Result{}, fmt.Errorf("floor: %w", err)
	}
	w, err := newWorld(cfg)
	if err != nil {
		return Result{}, err
	}
	if cfg.Layers.Kernel {
		err = w.runKernel()
	} else {
		err = w.run()
	}
	if err != nil {
		return Result{}, err
	}
	return w.result(), nil
}

type kind uint8

const (
	viewerUpdate kind = iota // a viewer's AgentUpdate timer
	viewerPing               // a viewer's StartPingCheck timer
	regionPing               // a region's StartPingCheck timer for one client
	toRegion                 // a datagram arrives at a region (the floor's network)
	toViewer                 // a datagram arrives at a viewer (the floor's network)
)

// labels are the events' labels on the kernel: the lab's own.
var labels = [...]string{"viewer-agent-update", "viewer-ping", "region-ping", "netem/arrive", "netem/arrive"}

// event is 16 bytes. ns is its time within its tick (the floor's wheel); who is a viewer's
// index, a region's (toRegion), or a client's in region n (regionPing); for an arrival, pkt is
// its packet and n its length.
type event struct {
	ns   uint32
	who  uint32
	pkt  uint32
	n    uint16
	kind kind
}

// viewer is one viewer's whole state.
type viewer struct {
	ep       netip.AddrPort
	au       lludp.Prepared   // a viewer standing still sends the same AgentUpdate
	c        *circuit.Circuit // Layers.Circuit
	link     endLink          // c's link, in the record, as the lab's viewer is its circuit's
	pathFree int64            // when the last datagram on the path to the region arrives: the path is FIFO
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
	c        *circuit.Circuit // Layers.Circuit
	link     endLink          // c's link, in the record
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

// packet is a datagram in flight on the floor's network: its source and a copy of its bytes.
type packet struct {
	src netip.AddrPort
	b   [packetRoom]byte
}

type world struct {
	cfg     Config
	now     int64
	rng     *rand.Rand
	viewers []viewer
	regions [Regions]region
	dec     lludp.Decoder // the viewers'
	out     []byte        // the datagram being encoded
	ping    lludp.StartPingCheck
	pong    lludp.CompletePingCheck
	res     Result

	// The floor's wheel and network (wheel.go).
	cur    int64 // the tick being dispatched
	slots  [wheelSlots][]event
	batch  []event
	order  []uint64 // the batch's events as ns << 32 | index in the batch, sorted
	hash   uint64
	events uint64
	pkts   []packet
	free   freelist.Indexes // of pkts

	// The lab's kernel and network, when Layers asks for them (layers.go).
	s     *sim.Sim
	tasks []*task // idle tasks, for datagrams on the floor's network
	net   *netem.Network
	vsock []*netem.UDPConn // by viewer
	rsock [Regions]*netem.UDPConn
	err   error // the first error in a netem callback
}

func newWorld(cfg Config) (*world, error) {
	w := &world{cfg: cfg, hash: fnvOffset, rng: rand.New(rand.NewPCG(cfg.Seed, 0x666c6f6f72)), out: make([]byte, 0, 512)}
	if cfg.Layers.Kernel {
		w.s = sim.New(cfg.Seed)
	}
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
	if cfg.Layers.Network {
		if err := w.buildNetwork(); err != nil {
			return nil, err
		}
	}
	if cfg.Layers.Circuit {
		w.buildCircuits()
	}
	// Every timer starts at a random phase within its period.
	for i := range w.viewers {
		w.after(1+w.rng.Int64N(int64(updateEvery)), event{kind: viewerUpdate, who: uint32(i)}, nil)
		w.after(1+w.rng.Int64N(int64(pingEvery)), event{kind: viewerPing, who: uint32(i)}, nil)
	}
	for r := range w.regions {
		for c := range w.regions[r].clients {
			w.after(1+w.rng.Int64N(int64(pingEvery)), event{kind: regionPing, who: uint32(c), n: uint16(r)}, nil)
		}
	}
	return w, nil
}

// after schedules e d nanoseconds from now, on the floor's wheel or the kernel. On the kernel a
// timer passes the task it fired from (t), which it reuses; nil takes an idle one.
func (w *world) after(d int64, e event, t *task) {
	if w.s != nil {
		w.afterKernel(d, e, t)
		return
	}
	w.afterWheel(d, e)
}

// fire runs a timer, or an arrival on the floor's network; t is its task on the kernel.
func (w *world) fire(e event, t *task) error {
	switch e.kind {
	case viewerUpdate:
		w.viewerSend(e.who, &w.viewers[e.who].au)
		w.after(int64(updateEvery), e, t)
	case viewerPing:
		v := &w.viewers[e.who]
		v.pingID++
		v.pingAt = w.now
		w.ping = lludp.StartPingCheck{PingID: v.pingID}
		w.viewerSend(e.who, &w.ping)
		w.after(int64(pingEvery), e, t)
	case regionPing:
		cl := &w.regions[e.n].clients[e.who]
		cl.pingID++
		cl.pingAt = w.now
		w.ping = lludp.StartPingCheck{PingID: cl.pingID}
		w.regionSend(int(e.n), cl, &w.ping)
		w.after(int64(pingEvery), e, t)
	case toRegion, toViewer:
		return w.arrive(e)
	}
	return nil
}

// viewerSend sends m from viewer who to its region: through its circuit, or numbered and
// encoded here.
func (w *world) viewerSend(who uint32, m lludp.Message) {
	v := &w.viewers[who]
	if v.c != nil {
		v.c.Send(m) // the circuit's link puts the datagram in w.out and transmits it
		return
	}
	v.seq++
	w.out = lludp.Encode(w.out[:0], 0, v.seq, m, nil)
	w.viewerTransmit(who, w.out)
}

// regionSend sends m from region r to client cl's viewer, as viewerSend does.
func (w *world) regionSend(r int, cl *client, m lludp.Message) {
	if cl.c != nil {
		cl.c.Send(m)
		return
	}
	cl.seq++
	w.out = lludp.Encode(w.out[:0], 0, cl.seq, m, nil)
	w.regionTransmit(r, cl, w.out)
}

// viewerTransmit puts datagram b on the path from viewer who to its region.
func (w *world) viewerTransmit(who uint32, b []byte) {
	v := &w.viewers[who]
	w.note(v, b)
	w.res.Datagrams++
	if w.net != nil {
		w.vsock[who].WriteTo(b, w.regions[v.region].ep)
		return
	}
	w.send(v.ep, &v.pathFree, event{kind: toRegion, who: uint32(v.region)}, b)
}

// regionTransmit puts datagram b on the path from region r to client cl's viewer.
func (w *world) regionTransmit(r int, cl *client, b []byte) {
	w.res.Datagrams++
	if w.net != nil {
		w.rsock[r].WriteTo(b, w.viewers[cl.viewer].ep)
		return
	}
	w.send(w.regions[r].ep, &cl.pathFree, event{kind: toViewer, who: cl.viewer}, b)
}

// regionGot handles a datagram from src at region r.
func (w *world) regionGot(r int, src netip.AddrPort, b []byte) error {
	rg := &w.regions[r]
	c, ok := rg.byEP.Get(src)
	if !ok {
		return fmt.Errorf("region %d: datagram from unknown endpoint %s", r, src)
	}
	cl := &rg.clients[c]
	if cl.c != nil {
		cl.c.Receive(b) // its link hands the packet to regionHandle
		return nil
	}
	p, err := rg.dec.Decode(b)
	if err != nil {
		return fmt.Errorf("region %d: from %s: %w", r, src, err)
	}
	if !fresh(&cl.inHigh, &cl.inSeen, p.Seq) {
		return nil
	}
	return w.regionHandle(r, cl, &p)
}

// regionHandle handles a new packet from client cl at region r.
func (w *world) regionHandle(r int, cl *client, p *lludp.Packet) error {
	switch p.ID {
	case lludp.MsgAgentUpdate:
		rg := &w.regions[r]
		if err := rg.au.DecodeBody(p.Body); err != nil {
			return fmt.Errorf("region %d: AgentUpdate from viewer %d: %w", r, cl.viewer, err)
		}
		cl.pos = rg.au.CameraCenter
		cl.updates++
	case lludp.MsgStartPingCheck: // answered here without a circuit; a circuit answers itself
		if err := w.ping.DecodeBody(p.Body); err != nil {
			return fmt.Errorf("region %d: StartPingCheck from viewer %d: %w", r, cl.viewer, err)
		}
		w.pong.PingID = w.ping.PingID
		w.regionSend(r, cl, &w.pong)
	case lludp.MsgCompletePingCheck:
		cl.rttSum += w.now - cl.pingAt
		cl.pings++
	default:
		return fmt.Errorf("region %d: unexpected %s from viewer %d", r, p.ID, cl.viewer)
	}
	return nil
}

// viewerGot handles a datagram at viewer who.
func (w *world) viewerGot(who uint32, b []byte) error {
	v := &w.viewers[who]
	w.note(v, b)
	if v.c != nil {
		v.c.Receive(b) // its link hands the packet to viewerHandle
		return nil
	}
	p, err := w.dec.Decode(b)
	if err != nil {
		return fmt.Errorf("viewer %d: %w", who, err)
	}
	if !fresh(&v.inHigh, &v.inSeen, p.Seq) {
		return nil
	}
	return w.viewerHandle(who, &p)
}

// viewerHandle handles a new packet at viewer who.
func (w *world) viewerHandle(who uint32, p *lludp.Packet) error {
	v := &w.viewers[who]
	switch p.ID {
	case lludp.MsgStartPingCheck: // answered here without a circuit; a circuit answers itself
		if err := w.ping.DecodeBody(p.Body); err != nil {
			return fmt.Errorf("viewer %d: StartPingCheck: %w", who, err)
		}
		w.pong.PingID = w.ping.PingID
		w.viewerSend(who, &w.pong)
	case lludp.MsgCompletePingCheck:
		v.rttSum += w.now - v.pingAt
		v.pings++
	default:
		return fmt.Errorf("viewer %d: unexpected %s", who, p.ID)
	}
	return nil
}

// note records a datagram the viewer sent or received in its ring: the observer's share, kept
// in the viewer's own lines. The workload's messages are High frequency: their number is the
// byte after the header.
func (w *world) note(v *viewer, b []byte) {
	var id byte
	if len(b) > lludp.HeaderSize {
		id = b[lludp.HeaderSize]
	}
	v.ring[v.ringNext&3] = uint64(w.now)<<8 | uint64(id)
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

func (w *world) result() Result {
	r := w.res
	r.Events, r.TraceHash = w.events, w.hash
	if w.s != nil {
		r.Events, r.TraceHash = w.s.Events(), w.s.TraceHash()
	}
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
