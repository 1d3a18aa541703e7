package netem

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"time"

	"gridlab/sim"
)

// LinkDir is a direction across a segment (see Segment).
type LinkDir uint8

// Link directions.
const (
	LinkDown LinkDir = iota // arriving from the gateway, or between nodes of the segment
	LinkUp                  // towards the segment's gateway router
)

// Dist is a delay-jitter distribution, as tc netem names them.
type Dist uint8

// Jitter distributions. Each is scaled so that Jitter is its spread: uniform is [-J,+J]; the
// others have standard deviation J (normal; pareto with shape 3, shifted to mean 0; paretonormal,
// a quarter normal and three quarters pareto, as tc's table mixes them).
const (
	DistUniform Dist = iota
	DistNormal
	DistPareto
	DistParetoNormal
)

var distNames = [...]string{"uniform", "normal", "pareto", "paretonormal"}

// String returns the distribution's tc name.
func (d Dist) String() string {
	if int(d) < len(distNames) {
		return distNames[d]
	}
	return fmt.Sprintf("dist(%d)", d)
}

// ParseDist parses a distribution name ("" is uniform).
func ParseDist(s string) (Dist, bool) {
	if s == "" {
		return DistUniform, true
	}
	for i, n := range distNames {
		if n == s {
			return Dist(i), true
		}
	}
	return 0, false
}

// LossKind selects a loss model.
type LossKind uint8

// Loss models (tc netem's "loss random", "loss gemodel", "loss state").
const (
	LossBernoulli      LossKind = iota // LinkParams.Loss with LinkParams.LossCorr
	LossGilbertElliott                 // two states; LossModel.P, R, BadLoss, GoodLoss
	LossFourState                      // Salsano's 4-state Markov model; LossModel.P13 … P14
)

// LossModel parameterises the Gilbert-Elliott and 4-state models.
//
// Gilbert-Elliott: per packet the chain first moves (good→bad with probability P, bad→good with
// R), then the packet is lost with BadLoss in the bad state (tc's 1-h) or GoodLoss in the good
// state (tc's 1-k). With BadLoss 1 and GoodLoss 0 (the Gilbert model) the loss rate is P/(P+R)
// and the mean burst length 1/R.
//
// 4-state: state 1 receives in a gap, 2 receives in a burst, 3 loses in a burst, 4 is an
// isolated loss. From 1 the chain moves to 3 with P13 and to 4 with P14; from 2 to 3 with P23;
// from 3 to 1 with P31 and to 2 with P32; from 4 always back to 1. A packet is lost when the
// chain enters (or stays in) state 3 or 4.
type LossModel struct {
	Kind                    LossKind
	P, R, BadLoss, GoodLoss float64
	P13, P31, P32, P23, P14 float64
}

// LinkParams describe one traversal of a segment in one direction. The zero value is a perfect
// link. Steps, in tc netem's order: MTU check, loss, duplication, corruption, the rate-limited
// FIFO (tail drop), then delay (latency + jitter) or, for a reordered packet, no delay.
type LinkParams struct {
	Latency time.Duration
	Jitter  time.Duration // spread of the delay (see Dist); the delay is clamped at zero
	Dist    Dist
	// JitterCorr in [0,1) correlates successive jitter values: uniform jitter uses tc's
	// correlated random (next = (1-c)·U + c·previous); the others an AR(1) process that keeps
	// the standard deviation.
	JitterCorr float64

	Loss float64 // Bernoulli loss probability (LossKind LossBernoulli)
	// LossCorr in [0,1) is the correlation of successive loss decisions: a loss follows a loss
	// with probability Loss+LossCorr·(1-Loss), a delivery with Loss·(1-LossCorr), so the loss
	// rate stays Loss and bursts lengthen. (tc's own correlated random lowers the effective loss
	// rate, a known netem defect; this keeps the configured rate.)
	LossCorr  float64
	LossModel LossModel

	Duplicate  float64 // probability a packet is sent twice
	Reorder    float64 // probability an eligible packet skips the delay (arrives early)
	ReorderGap int     // packets are eligible for reordering only every ReorderGap-th (default 1)
	Corrupt    float64 // probability of one flipped bit in the packet's payload

	Rate  uint64 // link rate in bits per second (IP packet bytes); 0 = unlimited
	Queue int    // packets the FIFO before the link holds (tail drop beyond); default 1000
	MTU   int    // largest IP packet in bytes; 0 = unlimited
}

// DefaultQueue is the FIFO length when LinkParams.Queue is zero (tc netem's default limit).
const DefaultQueue = 1000

// Header sizes used for MTU, rate and capture: IPv4 without options, UDP, TCP without options.
const (
	ipHeader   = 20
	udpHeader  = 8
	tcpHeader  = 20
	icmpHeader = 8
)

// linkState is one direction of a segment: its parameters, random streams and model state.
type linkState struct {
	s      *sim.Sim
	prefix string // "netem/seg/<name>/" or ".../up/"
	p      LinkParams
	loss   *rand.Rand
	jitter *rand.Rand
	extra  *rand.Rand // duplication, reordering and corruption, created when first needed

	lastLost     bool    // previous loss decision (correlated Bernoulli)
	lastJit      float64 // previous jitter draw (correlated jitter)
	geBad        bool
	state4       uint8
	reorderCount int

	busy  sim.Time   // the link is transmitting until then
	queue []sim.Time // transmission end of packets queued or on the wire, oldest first
	qHead int
}

func newLinkState(s *sim.Sim, prefix string, p LinkParams) *linkState {
	ls := &linkState{s: s, prefix: prefix, state4: 1,
		loss: s.Rand(prefix + "loss"), jitter: s.Rand(prefix + "jitter")}
	ls.set(p)
	return ls
}

func (ls *linkState) set(p LinkParams) {
	ls.p = p
	if ls.extra == nil && (p.Duplicate > 0 || p.Reorder > 0 || p.Corrupt > 0) {
		ls.extra = ls.s.Rand(ls.prefix + "extra")
	}
}

// lose draws the loss decision for one packet.
func (ls *linkState) lose() bool {
	p := &ls.p
	switch p.LossModel.Kind {
	case LossGilbertElliott:
		m := &p.LossModel
		if ls.geBad {
			if ls.loss.Float64() < m.R {
				ls.geBad = false
			}
		} else if ls.loss.Float64() < m.P {
			ls.geBad = true
		}
		pl := m.GoodLoss
		if ls.geBad {
			pl = m.BadLoss
		}
		return pl > 0 && ls.loss.Float64() < pl
	case LossFourState:
		m := &p.LossModel
		u := ls.loss.Float64()
		switch ls.state4 {
		case 1:
			switch {
			case u < m.P13:
				ls.state4 = 3
			case u < m.P13+m.P14:
				ls.state4 = 4
			}
		case 2:
			if u < m.P23 {
				ls.state4 = 3
			}
		case 3:
			switch {
			case u < m.P31:
				ls.state4 = 1
			case u < m.P31+m.P32:
				ls.state4 = 2
			}
		default:
			ls.state4 = 1
		}
		return ls.state4 >= 3
	}
	if p.Loss <= 0 {
		return false
	}
	u := ls.loss.Float64()
	if c := p.LossCorr; c > 0 {
		thr := p.Loss * (1 - c)
		if ls.lastLost {
			thr = p.Loss + c*(1-p.Loss)
		}
		ls.lastLost = u < thr
		return ls.lastLost
	}
	return u < p.Loss
}

// delay draws latency plus jitter, clamped at zero.
func (ls *linkState) delay() time.Duration {
	p := &ls.p
	d := p.Latency
	if p.Jitter > 0 {
		if p.Dist == DistUniform {
			if p.JitterCorr <= 0 {
				d += time.Duration(ls.jitter.Int64N(2*int64(p.Jitter)+1)) - p.Jitter
			} else {
				u := (1-p.JitterCorr)*ls.jitter.Float64() + p.JitterCorr*ls.lastJit
				ls.lastJit = u
				d += time.Duration((2*u - 1) * float64(p.Jitter))
			}
		} else {
			z := ls.variate(p.Dist)
			if c := p.JitterCorr; c > 0 {
				z = c*ls.lastJit + math.Sqrt(1-c*c)*z
				ls.lastJit = z
			}
			d += time.Duration(z * float64(p.Jitter))
		}
	}
	return max(d, 0)
}

// Pareto with shape 3 and scale 1 has mean 1.5 and standard deviation √0.75.
const (
	paretoMean = 1.5
	paretoSD   = 0.8660254037844386
	pnSD       = 0.7905694150420949 // √(0.25² + 0.75²)
)

// variate returns a draw with mean 0 and standard deviation 1 from d.
func (ls *linkState) variate(d Dist) float64 {
	r := ls.jitter
	pareto := func() float64 {
		return (math.Pow(1-r.Float64(), -1.0/3) - paretoMean) / paretoSD
	}
	switch d {
	case DistNormal:
		return r.NormFloat64()
	case DistPareto:
		return pareto()
	default: // DistParetoNormal
		return (0.25*r.NormFloat64() + 0.75*pareto()) / pnSD
	}
}

// enqueue puts a packet of size bytes into the rate-limited FIFO; it returns the time its last
// bit leaves, or false when the queue is full.
func (ls *linkState) enqueue(now sim.Time, size int) (sim.Time, bool) {
	for ls.qHead < len(ls.queue) && ls.queue[ls.qHead] <= now {
		ls.qHead++
	}
	if ls.qHead == len(ls.queue) {
		ls.queue, ls.qHead = ls.queue[:0], 0
	} else if ls.qHead > 64 && ls.qHead > len(ls.queue)/2 {
		k := copy(ls.queue, ls.queue[ls.qHead:])
		ls.queue, ls.qHead = ls.queue[:k], 0
	}
	limit := ls.p.Queue
	if limit <= 0 {
		limit = DefaultQueue
	}
	if len(ls.queue)-ls.qHead >= limit {
		return 0, false
	}
	start := max(now, ls.busy)
	tx := time.Duration(uint64(size) * 8 * uint64(time.Second) / ls.p.Rate)
	ls.busy = start.Add(tx)
	ls.queue = append(ls.queue, ls.busy)
	return ls.busy, true
}

// QueueLen returns the packets queued or being transmitted in direction d at the current time.
func (g *Segment) QueueLen(d LinkDir) int {
	ls := g.down
	if d == LinkUp {
		ls = g.up
	}
	now := g.n.s.Now()
	k := 0
	for _, t := range ls.queue[ls.qHead:] {
		if t > now {
			k++
		}
	}
	return k
}

// wireLen is the IP packet's size.
func (p *packet) wireLen() int {
	switch p.proto {
	case TCP:
		return ipHeader + tcpHeader + len(p.payload)
	case UDP:
		return ipHeader + udpHeader + len(p.payload)
	}
	return ipHeader + icmpHeader + ipHeader + 8 // ICMP error quoting the IP header and 8 bytes
}

// traverse applies g's impairments in p's direction and schedules the arrival.
func (n *Network) traverse(p *packet, g *Segment) {
	g.packets++
	g.bytes += uint64(len(p.payload))
	if n.capture != nil {
		c := n.captured(p, g)
		if p.natR != nil {
			c.Note = natNote(p)
		}
		p.frame = n.capture(c)
	}
	if p.natR != nil {
		p.natR, p.natSrc, p.natDst = nil, netip.AddrPort{}, netip.AddrPort{}
	}
	ls := g.down
	if p.kind == toRouterIn {
		ls = g.up
	}
	prm := &ls.p
	if prm.MTU > 0 && p.wireLen() > prm.MTU {
		n.drop(p, DropMTU, g.name, "")
		return
	}
	if ls.lose() {
		n.drop(p, DropLoss, g.name, "")
		return
	}
	if prm.Duplicate > 0 && ls.extra.Float64() < prm.Duplicate {
		q := n.clonePacket(p)
		n.stats.duplicated++
		n.schedule(q, g, ls)
	}
	if prm.Corrupt > 0 && ls.extra.Float64() < prm.Corrupt {
		p.corrupt = true
		n.stats.corrupted++
		if len(p.payload) > 0 {
			bit := ls.extra.IntN(8 * len(p.payload))
			p.payload[bit/8] ^= 1 << (bit % 8)
		}
	}
	n.schedule(p, g, ls)
}

// schedule queues p for the link (when rate-limited) and schedules its arrival after the delay.
func (n *Network) schedule(p *packet, g *Segment, ls *linkState) {
	prm := &ls.p
	now := n.s.Now()
	base := now
	if prm.Rate > 0 {
		t, ok := ls.enqueue(now, p.wireLen())
		if !ok {
			n.drop(p, DropQueueFull, g.name, "")
			return
		}
		base = t
	}
	if prm.Reorder > 0 {
		gap := max(prm.ReorderGap, 1)
		if ls.reorderCount >= gap-1 && ls.extra.Float64() < prm.Reorder {
			ls.reorderCount = 0
			n.stats.reordered++
			n.s.AtH(base, labelArrive, p) // no delay: overtakes packets in flight
			return
		}
		ls.reorderCount++
	}
	at := max(base.Add(ls.delay()), g.floor)
	if g.fifo { // with a constant delay arrivals are in order anyway
		at = g.last.next(keyPair(0, p.src, p.dst), at, now)
	}
	g.maxAt = max(g.maxAt, at)
	n.s.AtH(at, labelArrive, p)
}
