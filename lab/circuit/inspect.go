package circuit

import "sort"

// Read-only views of a circuit's bookkeeping for the lab's invariant checks (lab/invariants.go).
// Nothing here changes the circuit or schedules anything.

// UnackedPacket is one reliable packet waiting for its ack.
type UnackedPacket struct {
	Seq     uint32
	Resends int
	// Retrying is false when no resend is scheduled: the packet would wait forever.
	Retrying bool
}

// Snapshot is a circuit's state as the invariants see it.
type Snapshot struct {
	Closed  bool
	LastSeq uint32          // the last sequence number given to an outgoing packet (0: none yet)
	Unacked []UnackedPacket // by sequence number
	// PendingAcks are received sequence numbers waiting to be acked, in queue order.
	PendingAcks []uint32
	// Unreceived are the pending acks for sequence numbers this circuit never received.
	Unreceived []uint32
	Seen       int // received sequence numbers remembered for dedupe (at most 1024)
}

// Inspect returns a copy of the circuit's bookkeeping.
func (c *Circuit) Inspect() Snapshot {
	s := Snapshot{Closed: c.closed, LastSeq: c.seq, Seen: c.seen.len()}
	c.unacked.each(func(p *pending) {
		s.Unacked = append(s.Unacked, UnackedPacket{Seq: p.seq, Resends: p.resends, Retrying: p.timer.Active()})
	})
	sort.Slice(s.Unacked, func(i, j int) bool { return s.Unacked[i].Seq < s.Unacked[j].Seq })
	s.PendingAcks = append([]uint32(nil), c.acks...)
	for _, seq := range c.acks {
		if !c.seen.contains(seq) {
			s.Unreceived = append(s.Unreceived, seq)
		}
	}
	return s
}
