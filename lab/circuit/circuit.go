package circuit

import (
	"sync"
	"time"

	"gridlab/lab/lludp"
	"gridlab/sim"
)

// Clock is what a circuit needs of time; *sim.Sim satisfies it.
type Clock interface {
	Now() sim.Time
	After(d time.Duration, label string, fn func()) sim.Timer
	AfterH(d time.Duration, label string, h sim.Handler) sim.Timer // as After, h.Fire for fn
}

// Link is the owner's side of a circuit as one object, an alternative to Config's Send and
// Deliver funcs: a circuit calls its methods through an interface value it holds in its own
// first cache line, where a func is an object of its own that must be read first — at 100,000
// circuits one more cache miss per datagram.
type Link interface {
	// SendDatagram is Config.Send.
	SendDatagram(b []byte)
	// DeliverPacket is Config.Deliver.
	DeliverPacket(p *lludp.Packet)
}

// funcLink is the Link of a circuit configured with Send and Deliver funcs.
type funcLink struct {
	send    func(b []byte)
	deliver func(p *lludp.Packet)
}

func (l *funcLink) SendDatagram(b []byte) { l.send(b) }

func (l *funcLink) DeliverPacket(p *lludp.Packet) {
	if l.deliver != nil {
		l.deliver(p)
	}
}

// Config sets up one end of a circuit. The zero values of the numbers mean the defaults noted.
type Config struct {
	Clock Clock
	// Link, when set, is used instead of Send and Deliver.
	Link Link
	// Send hands one datagram to the transport. The slice is reused after Send returns.
	Send func(b []byte)
	// Deliver receives each new packet for the application: not duplicates, not PacketAck, not
	// StartPingCheck (answered here). p and its slices are valid only during the call.
	Deliver func(p *lludp.Packet)
	// GiveUp is called when a reliable packet has been resent MaxResends times without an ack.
	GiveUp func(seq uint32, id lludp.MsgID)
	// Malformed is called for a datagram that does not decode.
	Malformed func(b []byte, err error)

	ResendTimeout time.Duration // default 1 s (OpenSim's initial RTO)
	MaxResends    int           // resends before GiveUp; 0 = default 3, <0 = never give up (OpenSim)
	AckDelay      time.Duration // how long acks may wait for a ride; default 100 ms (viewer), OpenSim 500 ms
	Piggyback     bool          // append pending acks to outgoing packets (the viewer does, OpenSim doesn't)
	// Resends, when set, counts every resend of this circuit besides its Stats: a server sums
	// its circuits' resends in one counter instead of visiting 100,000 circuits to add them up.
	Resends *uint64
}

// Stats counts a circuit's traffic.
type Stats struct {
	PacketsSent, PacketsReceived uint64
	BytesSent, BytesReceived     uint64
	ReliableSent, Resent         uint64
	AcksSent, AcksReceived       uint64 // ack IDs, standalone and appended
	Duplicates                   uint64
	Malformed                    uint64
	GaveUp                       uint64
}

// Add accumulates o into s.
func (s *Stats) Add(o Stats) {
	s.PacketsSent += o.PacketsSent
	s.PacketsReceived += o.PacketsReceived
	s.BytesSent += o.BytesSent
	s.BytesReceived += o.BytesReceived
	s.ReliableSent += o.ReliableSent
	s.Resent += o.Resent
	s.AcksSent += o.AcksSent
	s.AcksReceived += o.AcksReceived
	s.Duplicates += o.Duplicates
	s.Malformed += o.Malformed
	s.GaveUp += o.GaveUp
}

// pending is a reliable packet waiting for its ack. Acked ones go back to the circuit's free
// list with their data buffer and resend closure, so that sending reliably does not allocate
// in steady state.
type pending struct {
	seq      uint32
	id       lludp.MsgID
	data     []byte
	resends  int
	max      int
	interval time.Duration
	timer    sim.Timer
	fire     func() // c.resend(this), made once
	next     *pending
}

// maxFree and maxFreeData bound the acked pendings a circuit keeps for reuse: enough for the
// steady state (a reliable packet or two in flight), not the burst of a login, whose data would
// otherwise stay with every circuit for its life.
const (
	maxFree     = 4
	maxFreeData = 512
)

// dedupeWindow is how many received sequence numbers are remembered (OpenSim keeps 1024).
const dedupeWindow = 1024

// maxAcksPerPacket bounds a standalone PacketAck (OpenSim sends at most 255 IDs).
const maxAcksPerPacket = 255

// maxAppendedAcks bounds the acks appended to one packet.
const maxAppendedAcks = 32

// Circuit is one end of a circuit.
type Circuit struct {
	// The fields every send and receive touch come first, in three cache lines (a Circuit is
	// 512 bytes in memory, so it starts on a line): at 100,000 circuits a circuit is cold
	// whenever a datagram comes or goes, and Warm reads each of these lines ahead. Line 0:
	// the flags, sequence, clock and link, with the seen set's head; line 1: the seen set's
	// runs; line 2: the pending acks and the packet counters. clock and piggyback are cfg's,
	// copied here; the circuit reads them here only, so no datagram reads cfg's lines.
	closed    bool
	piggyback bool
	seq       uint32
	lastRecv  sim.Time
	link      Link
	clock     Clock
	seen      seenSet
	acks      []uint32 // received reliable sequence numbers not yet acked
	stats     Stats

	cfg      Config
	ackTimer sim.Timer
	unacked  unackedSet

	// Reused so that the steady state (send, ack, ping) does not allocate.
	free    *pending        // acked pendings, at most maxFree
	flushFn func()          // c.FlushAcks, as a func value made once
	ackMsg  lludp.PacketAck // sent
	ackOne  [1]uint32
	nfree   int32           // beside ackOne: the two fill a word
	ackIn   lludp.PacketAck // received
	pingIn  lludp.StartPingCheck
	pingOut lludp.CompletePingCheck
}

// New returns a circuit ready to send and receive.
func New(cfg Config) *Circuit {
	if cfg.ResendTimeout <= 0 {
		cfg.ResendTimeout = time.Second
	}
	if cfg.MaxResends == 0 {
		cfg.MaxResends = 3
	}
	if cfg.AckDelay <= 0 {
		cfg.AckDelay = 100 * time.Millisecond
	}
	c := &Circuit{
		cfg:       cfg,
		link:      cfg.Link,
		clock:     cfg.Clock,
		piggyback: cfg.Piggyback,
	}
	if c.link == nil {
		c.link = &funcLink{send: cfg.Send, deliver: cfg.Deliver}
	}
	c.flushFn = c.FlushAcks
	return c
}

// Warm reads what every datagram sent or received reads of the circuit: its first three
// cache lines (see Circuit); it changes nothing (see sim.Warmer).
func (c *Circuit) Warm() byte {
	return byte(c.seq) + byte(c.seen.runs[0].n) + byte(c.stats.PacketsReceived)
}

// Stats returns the circuit's counters.
func (c *Circuit) Stats() Stats { return c.stats }

// LastReceived returns when the last datagram arrived (0 if none yet).
func (c *Circuit) LastReceived() sim.Time { return c.lastRecv }

// Unacked returns the number of reliable packets waiting for an ack.
func (c *Circuit) Unacked() int { return c.unacked.len() }

// Pending reports whether the reliable packet seq is still waiting for its ack.
func (c *Circuit) Pending(seq uint32) bool {
	return c.unacked.get(seq) != nil
}

// OldestUnacked returns the lowest sequence number waiting for an ack, or 0.
func (c *Circuit) OldestUnacked() uint32 {
	var oldest uint32
	for _, p := range c.unacked.ps {
		if p != nil && (oldest == 0 || p.seq < oldest) {
			oldest = p.seq
		}
	}
	return oldest
}

func (c *Circuit) nextSeq() uint32 {
	c.seq++
	if c.seq >= 1<<24 { // LL viewers wrap at 2^24
		c.seq = 1
	}
	return c.seq
}

// Send sends m unreliably and returns its sequence number.
func (c *Circuit) Send(m lludp.Message) uint32 {
	if c.closed {
		return 0
	}
	seq := c.nextSeq()
	c.transmit(0, seq, m, nil)
	return seq
}

// SetResendTimeout changes the resend interval of reliable packets sent from now on (OpenSim
// recomputes its RTO from every ping: 5 × smoothed ping, clamped to 250–3000 ms).
func (c *Circuit) SetResendTimeout(d time.Duration) {
	if d > 0 {
		c.cfg.ResendTimeout = d
	}
}

// SendReliable sends m reliably with the circuit's resend policy and returns its sequence number.
func (c *Circuit) SendReliable(m lludp.Message) uint32 {
	return c.SendReliableWith(m, c.cfg.ResendTimeout, c.cfg.MaxResends)
}

// SendReliableWith sends m reliably, resending every interval up to maxResends times
// (<0: forever). The SL viewer sends UseCircuitCode this way: 5 s, 3 resends.
func (c *Circuit) SendReliableWith(m lludp.Message, interval time.Duration, maxResends int) uint32 {
	if c.closed {
		return 0
	}
	seq := c.nextSeq()
	p := c.free
	if p != nil {
		c.free = p.next
		c.nfree--
	} else {
		p = &pending{}
		p.fire = func() { c.resend(p) }
	}
	*p = pending{seq: seq, id: m.ID(), data: p.data, max: maxResends, interval: interval, fire: p.fire}
	c.transmit(lludp.FlagReliable, seq, m, &p.data)
	c.unacked.add(p)
	c.stats.ReliableSent++
	p.timer = c.clock.After(interval, "circuit-resend", p.fire)
	return seq
}

// transmit sends m (with pending acks appended when Piggyback) and, when keep is not nil,
// copies the datagram into *keep for resending.
func (c *Circuit) transmit(flags lludp.Flags, seq uint32, m lludp.Message, keep *[]byte) {
	var acks []uint32
	if c.piggyback && len(c.acks) > 0 && m.ID() != lludp.MsgPacketAck {
		n := min(len(c.acks), maxAppendedAcks)
		acks = c.acks[:n]
		c.stats.AcksSent += uint64(n)
	}
	c.send(flags, seq, m, acks, keep)
	if len(acks) > 0 {
		c.acks = c.acks[:copy(c.acks, c.acks[len(acks):])]
		if len(c.acks) == 0 {
			c.ackTimer.Stop()
		}
	}
}

// encodeBufs are datagram buffers shared by every circuit of the process (a sync.Pool, so that
// parallel simulations and realnet may share it): Send copies the datagram before returning,
// so a circuit needs one only while it encodes and sends — and 100,000 circuits do not each
// keep ~2 KB (zero-coding scratch included) for it.
var encodeBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1500); return &b }}

// receivers are shared the same way: a decoder and the packet it decodes, whose Body aliases
// the decoder only until ReceivePacket returns. The packet lives here rather than in the
// circuit: written on every Receive, it was a cold line of the circuit's at 100,000 circuits.
var receivers = sync.Pool{New: func() any { return new(receiver) }}

type receiver struct {
	d   lludp.Decoder
	pkt lludp.Packet
}

// send encodes and sends one datagram, counts it, and copies it into *keep when keep is not nil.
func (c *Circuit) send(flags lludp.Flags, seq uint32, m lludp.Message, acks []uint32, keep *[]byte) {
	bp := encodeBufs.Get().(*[]byte)
	b := lludp.Encode((*bp)[:0], flags, seq, m, acks)
	c.stats.PacketsSent++
	c.stats.BytesSent += uint64(len(b))
	c.link.SendDatagram(b)
	if keep != nil {
		*keep = append((*keep)[:0], b...)
	}
	*bp = b
	encodeBufs.Put(bp)
}

func (c *Circuit) resend(p *pending) {
	if c.closed || c.unacked.get(p.seq) != p {
		return
	}
	if p.max >= 0 && p.resends >= p.max {
		c.unacked.remove(p.seq)
		c.stats.GaveUp++
		if c.cfg.GiveUp != nil {
			c.cfg.GiveUp(p.seq, p.id)
		}
		return
	}
	p.resends++
	p.data[0] |= byte(lludp.FlagResent)
	c.stats.Resent++
	if c.cfg.Resends != nil {
		*c.cfg.Resends++
	}
	c.stats.PacketsSent++
	c.stats.BytesSent += uint64(len(p.data))
	c.link.SendDatagram(p.data)
	p.timer = c.clock.After(p.interval, "circuit-resend", p.fire)
}

// AckNow sends a standalone PacketAck for seq at once, outside the pending-ack queue. OpenSim
// acks UseCircuitCode this way, before it has even looked at the circuit code.
func (c *Circuit) AckNow(seq uint32) {
	if c.closed {
		return
	}
	c.stats.AcksSent++
	c.ackOne[0] = seq
	c.ackMsg.IDs = c.ackOne[:]
	c.send(0, c.nextSeq(), &c.ackMsg, nil, nil)
}

// FlushAcks sends every pending ack now as standalone PacketAck packets.
func (c *Circuit) FlushAcks() {
	c.ackTimer.Stop()
	for len(c.acks) > 0 && !c.closed {
		n := min(len(c.acks), maxAcksPerPacket)
		c.stats.AcksSent += uint64(n)
		// Every packet gets a fresh sequence number, acks included, as OpenSim does: a peer
		// that filters duplicates by sequence (node-metaverse) would drop a repeated 0.
		c.ackMsg.IDs = c.acks[:n]
		c.send(0, c.nextSeq(), &c.ackMsg, nil, nil)
		c.acks = c.acks[:copy(c.acks, c.acks[n:])]
	}
}

func (c *Circuit) queueAck(seq uint32) {
	c.acks = append(c.acks, seq)
	if !c.ackTimer.Active() {
		c.ackTimer = c.clock.After(c.cfg.AckDelay, "circuit-acks", c.flushFn)
	}
}

func (c *Circuit) ack(seq uint32) {
	c.stats.AcksReceived++
	if p := c.unacked.remove(seq); p != nil {
		p.timer.Stop()
		if c.nfree < maxFree { // keep a few for the next reliable sends, not every burst's worth
			if cap(p.data) > maxFreeData {
				p.data = nil
			}
			p.next, c.free = c.free, p
			c.nfree++
		}
	}
}

// isDuplicate records seq as seen and reports whether it had been seen before.
func (c *Circuit) isDuplicate(seq uint32) bool {
	if c.seen.contains(seq) {
		return true
	}
	c.seen.insert(seq)
	return false
}

// Receive processes one datagram from the peer.
func (c *Circuit) Receive(b []byte) {
	if c.closed {
		return
	}
	r := receivers.Get().(*receiver)
	defer receivers.Put(r)
	var err error
	// The packet lives in the pooled receiver, not on the heap (Deliver lets it escape); its
	// Body and Acks alias the decoder's buffers, valid until ReceivePacket returns.
	if r.pkt, err = r.d.Decode(b); err != nil {
		c.stats.Malformed++
		if c.cfg.Malformed != nil {
			c.cfg.Malformed(b, err)
		}
		return
	}
	c.ReceivePacket(&r.pkt, len(b))
	r.pkt = lludp.Packet{}
}

// MarkReceived records reliable packet seq (n bytes) as received and already acked, so that a
// resend of it is treated as a duplicate. OpenSim's region does this for the UseCircuitCode
// that opened the circuit, which it acked before the circuit existed.
func (c *Circuit) MarkReceived(seq uint32, n int) {
	c.lastRecv = c.clock.Now()
	c.stats.PacketsReceived++
	c.stats.BytesReceived += uint64(n)
	c.isDuplicate(seq)
}

// ReceivePacket processes a datagram the caller has already decoded (n is its size on the wire).
func (c *Circuit) ReceivePacket(p *lludp.Packet, n int) {
	if c.closed {
		return
	}
	c.lastRecv = c.clock.Now()
	c.stats.PacketsReceived++
	c.stats.BytesReceived += uint64(n)
	for _, seq := range p.Acks {
		c.ack(seq)
	}
	if p.ID == lludp.MsgPacketAck {
		pa := &c.ackIn
		if err := pa.DecodeBody(p.Body); err != nil {
			c.stats.Malformed++
			return
		}
		for _, seq := range pa.IDs {
			c.ack(seq)
		}
		return
	}
	if p.Flags&lludp.FlagReliable != 0 {
		c.queueAck(p.Seq) // duplicates are acked again: the first ack may have been lost
	}
	if c.isDuplicate(p.Seq) {
		c.stats.Duplicates++
		return
	}
	if p.ID == lludp.MsgStartPingCheck {
		if err := c.pingIn.DecodeBody(p.Body); err == nil {
			c.pingOut.PingID = c.pingIn.PingID
			c.Send(&c.pingOut)
		}
		return
	}
	c.link.DeliverPacket(p)
}

// Close stops every timer; later sends and receives are ignored.
func (c *Circuit) Close() {
	if c.closed {
		return
	}
	c.closed = true
	c.ackTimer.Stop()
	for _, p := range c.unacked.ps {
		if p != nil {
			p.timer.Stop()
		}
	}
	c.unacked.clear()
}

// Closed reports whether Close was called.
func (c *Circuit) Closed() bool { return c.closed }
