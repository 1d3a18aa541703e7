package circuit

import (
	"time"

	"gridlab/lab/lludp"
	"gridlab/sim"
)

// Clock is what a circuit needs of time; *sim.Sim satisfies it.
type Clock interface {
	Now() sim.Time
	After(d time.Duration, label string, fn func()) sim.Timer
}

// Config sets up one end of a circuit. The zero values of the numbers mean the defaults noted.
type Config struct {
	Clock Clock
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

// pending is a reliable packet waiting for its ack.
type pending struct {
	seq      uint32
	id       lludp.MsgID
	data     []byte
	resends  int
	max      int
	interval time.Duration
	timer    sim.Timer
}

// dedupeWindow is how many received sequence numbers are remembered (OpenSim keeps 1024).
const dedupeWindow = 1024

// maxAcksPerPacket bounds a standalone PacketAck (OpenSim sends at most 255 IDs).
const maxAcksPerPacket = 255

// maxAppendedAcks bounds the acks appended to one packet.
const maxAppendedAcks = 32

// Circuit is one end of a circuit.
type Circuit struct {
	cfg       Config
	seq       uint32
	unacked   map[uint32]*pending
	acks      []uint32 // received reliable sequence numbers not yet acked
	ackTimer  sim.Timer
	seen      map[uint32]struct{}
	seenRing  [dedupeWindow]uint32
	seenNext  int
	seenCount int
	dec       lludp.Decoder
	buf       []byte
	closed    bool
	stats     Stats
	lastRecv  sim.Time
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
	return &Circuit{
		cfg:     cfg,
		unacked: make(map[uint32]*pending),
		seen:    make(map[uint32]struct{}),
		buf:     make([]byte, 0, 1500),
	}
}

// Stats returns the circuit's counters.
func (c *Circuit) Stats() Stats { return c.stats }

// LastReceived returns when the last datagram arrived (0 if none yet).
func (c *Circuit) LastReceived() sim.Time { return c.lastRecv }

// Unacked returns the number of reliable packets waiting for an ack.
func (c *Circuit) Unacked() int { return len(c.unacked) }

// Pending reports whether the reliable packet seq is still waiting for its ack.
func (c *Circuit) Pending(seq uint32) bool {
	_, ok := c.unacked[seq]
	return ok
}

// OldestUnacked returns the lowest sequence number waiting for an ack, or 0.
func (c *Circuit) OldestUnacked() uint32 {
	var oldest uint32
	for seq := range c.unacked { // a minimum does not depend on iteration order
		if oldest == 0 || seq < oldest {
			oldest = seq
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
	c.transmit(0, seq, m)
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
	b := c.transmit(lludp.FlagReliable, seq, m)
	p := &pending{seq: seq, id: m.ID(), data: append([]byte(nil), b...), max: maxResends, interval: interval}
	c.unacked[seq] = p
	c.stats.ReliableSent++
	p.timer = c.cfg.Clock.After(interval, "circuit-resend", func() { c.resend(p) })
	return seq
}

func (c *Circuit) transmit(flags lludp.Flags, seq uint32, m lludp.Message) []byte {
	var acks []uint32
	if c.cfg.Piggyback && len(c.acks) > 0 && m.ID() != lludp.MsgPacketAck {
		n := min(len(c.acks), maxAppendedAcks)
		acks = c.acks[:n]
		c.stats.AcksSent += uint64(n)
	}
	c.buf = lludp.Encode(c.buf[:0], flags, seq, m, acks)
	if len(acks) > 0 {
		c.acks = c.acks[:copy(c.acks, c.acks[len(acks):])]
		if len(c.acks) == 0 {
			c.ackTimer.Stop()
		}
	}
	c.stats.PacketsSent++
	c.stats.BytesSent += uint64(len(c.buf))
	c.cfg.Send(c.buf)
	return c.buf
}

func (c *Circuit) resend(p *pending) {
	if c.closed || c.unacked[p.seq] != p {
		return
	}
	if p.max >= 0 && p.resends >= p.max {
		delete(c.unacked, p.seq)
		c.stats.GaveUp++
		if c.cfg.GiveUp != nil {
			c.cfg.GiveUp(p.seq, p.id)
		}
		return
	}
	p.resends++
	p.data[0] |= byte(lludp.FlagResent)
	c.stats.Resent++
	c.stats.PacketsSent++
	c.stats.BytesSent += uint64(len(p.data))
	c.cfg.Send(p.data)
	p.timer = c.cfg.Clock.After(p.interval, "circuit-resend", func() { c.resend(p) })
}

// AckNow sends a standalone PacketAck for seq at once, outside the pending-ack queue. OpenSim
// acks UseCircuitCode this way, before it has even looked at the circuit code.
func (c *Circuit) AckNow(seq uint32) {
	if c.closed {
		return
	}
	c.stats.AcksSent++
	c.buf = lludp.Encode(c.buf[:0], 0, c.nextSeq(), &lludp.PacketAck{IDs: []uint32{seq}}, nil)
	c.stats.PacketsSent++
	c.stats.BytesSent += uint64(len(c.buf))
	c.cfg.Send(c.buf)
}

// FlushAcks sends every pending ack now as standalone PacketAck packets.
func (c *Circuit) FlushAcks() {
	c.ackTimer.Stop()
	for len(c.acks) > 0 && !c.closed {
		n := min(len(c.acks), maxAcksPerPacket)
		c.stats.AcksSent += uint64(n)
		// Every packet gets a fresh sequence number, acks included, as OpenSim does: a peer
		// that filters duplicates by sequence (node-metaverse) would drop a repeated 0.
		c.buf = lludp.Encode(c.buf[:0], 0, c.nextSeq(), &lludp.PacketAck{IDs: c.acks[:n]}, nil)
		c.stats.PacketsSent++
		c.stats.BytesSent += uint64(len(c.buf))
		c.cfg.Send(c.buf)
		c.acks = c.acks[:copy(c.acks, c.acks[n:])]
	}
}

func (c *Circuit) queueAck(seq uint32) {
	c.acks = append(c.acks, seq)
	if !c.ackTimer.Active() {
		c.ackTimer = c.cfg.Clock.After(c.cfg.AckDelay, "circuit-acks", c.FlushAcks)
	}
}

func (c *Circuit) ack(seq uint32) {
	c.stats.AcksReceived++
	if p, ok := c.unacked[seq]; ok {
		p.timer.Stop()
		delete(c.unacked, seq)
	}
}

// isDuplicate records seq as seen and reports whether it had been seen before.
func (c *Circuit) isDuplicate(seq uint32) bool {
	if _, ok := c.seen[seq]; ok {
		return true
	}
	if c.seenCount == dedupeWindow {
		delete(c.seen, c.seenRing[c.seenNext])
	} else {
		c.seenCount++
	}
	c.seenRing[c.seenNext] = seq
	c.seenNext = (c.seenNext + 1) % dedupeWindow
	c.seen[seq] = struct{}{}
	return false
}

// Receive processes one datagram from the peer.
func (c *Circuit) Receive(b []byte) {
	if c.closed {
		return
	}
	p, err := c.dec.Decode(b)
	if err != nil {
		c.stats.Malformed++
		if c.cfg.Malformed != nil {
			c.cfg.Malformed(b, err)
		}
		return
	}
	c.ReceivePacket(&p, len(b))
}

// MarkReceived records reliable packet seq (n bytes) as received and already acked, so that a
// resend of it is treated as a duplicate. OpenSim's region does this for the UseCircuitCode
// that opened the circuit, which it acked before the circuit existed.
func (c *Circuit) MarkReceived(seq uint32, n int) {
	c.lastRecv = c.cfg.Clock.Now()
	c.stats.PacketsReceived++
	c.stats.BytesReceived += uint64(n)
	c.isDuplicate(seq)
}

// ReceivePacket processes a datagram the caller has already decoded (n is its size on the wire).
func (c *Circuit) ReceivePacket(p *lludp.Packet, n int) {
	if c.closed {
		return
	}
	c.lastRecv = c.cfg.Clock.Now()
	c.stats.PacketsReceived++
	c.stats.BytesReceived += uint64(n)
	for _, seq := range p.Acks {
		c.ack(seq)
	}
	if p.ID == lludp.MsgPacketAck {
		var pa lludp.PacketAck
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
		var ping lludp.StartPingCheck
		if err := ping.DecodeBody(p.Body); err == nil {
			c.Send(&lludp.CompletePingCheck{PingID: ping.PingID})
		}
		return
	}
	if c.cfg.Deliver != nil {
		c.cfg.Deliver(p)
	}
}

// Close stops every timer; later sends and receives are ignored.
func (c *Circuit) Close() {
	if c.closed {
		return
	}
	c.closed = true
	c.ackTimer.Stop()
	for _, p := range c.unacked { // stopping timers has no observable order
		p.timer.Stop()
	}
	clear(c.unacked)
}

// Closed reports whether Close was called.
func (c *Circuit) Closed() bool { return c.closed }
