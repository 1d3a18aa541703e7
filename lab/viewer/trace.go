package viewer

import (
	"net/http"

	"gridlab/lab/lludp"
	"gridlab/sim"
)

// msgObjectUpdate is ObjectUpdate (High 12): the first one marks StageFirstObjectUpdate.
const msgObjectUpdate lludp.MsgID = 12

// String returns the stage's id: login_reply, circuit_ack, region_handshake,
// movement_complete, first_object_update.
func (s Stage) String() string {
	switch s {
	case StageLoginReply:
		return "login_reply"
	case StageCircuitAck:
		return "circuit_ack"
	case StageRegionHandshake:
		return "region_handshake"
	case StageMovementComplete:
		return "movement_complete"
	case StageFirstObjectUpdate:
		return "first_object_update"
	}
	return "stage"
}

// TraceKind says what a TraceEvent records.
type TraceKind uint8

// Trace event kinds.
const (
	TraceLoginRequest TraceKind = iota // the XML-RPC login request was sent; Note: method
	TraceLoginReply                    // the login HTTP exchange ended; Note: status or error
	TraceSend                          // a datagram was sent to the region
	TraceRecv                          // a datagram arrived from the region
	TraceStage                         // a stage was reached; Note: Stage.String()
	TraceOutcome                       // the outcome was decided; Note: the outcome
	TraceLost                          // the viewer gave its silent region up; Note: the message
)

// TraceEvent is one thing a viewer did or saw. Datagram events carry the
// LLUDP header: message, sequence number, flags, appended acks and size.
type TraceEvent struct {
	At    sim.Time
	Kind  TraceKind
	Msg   lludp.MsgID
	Seq   uint32
	Flags lludp.Flags
	Acks  int // appended acks
	Size  int // datagram bytes
	Note  string
}

func (v *Viewer) trace(e TraceEvent) {
	e.At = v.now()
	v.traceFn(v, e)
}

func (v *Viewer) traceNote(k TraceKind, note string) {
	if v.traceFn != nil {
		v.trace(TraceEvent{Kind: k, Note: note})
	}
}

func (v *Viewer) traceLoginReply(resp *http.Response, err error) {
	if v.traceFn == nil {
		return
	}
	note := "no reply"
	switch {
	case err != nil:
		note = err.Error()
	case resp != nil:
		note = resp.Status
	}
	v.trace(TraceEvent{Kind: TraceLoginReply, Note: note})
}

func (v *Viewer) traceDatagram(k TraceKind, b []byte) {
	if v.traceFn == nil {
		return
	}
	e := TraceEvent{Kind: k, Size: len(b)}
	e.Flags, e.Seq, e.Msg, e.Acks = PeekHeader(b)
	v.trace(e)
}

// PeekHeader reads an LLUDP datagram's flags, sequence number, message ID and
// number of appended acks without decoding the body; a malformed header gives
// message ID 0. Like the decoder, it reads the extra header and the message number
// zero-expanded when the datagram is zero-coded.
func PeekHeader(b []byte) (flags lludp.Flags, seq uint32, id lludp.MsgID, acks int) {
	if len(b) < 7 {
		return 0, 0, 0, 0
	}
	flags = lludp.Flags(b[0])
	seq = uint32(b[1])<<24 | uint32(b[2])<<16 | uint32(b[3])<<8 | uint32(b[4])
	end := len(b)
	if flags&lludp.FlagAcks != 0 {
		acks = int(b[end-1])
		end -= 1 + 4*acks
	}
	extra := int(b[5])
	if c := b[6]; extra == 0 && end > 6 && c != 0 && c != 0xFF {
		return flags, seq, lludp.MsgID(c), acks // a High message: nearly every datagram
	}
	// Read the first extra+4 bytes after the header, expanding zero runs (00 N: N zeros, 00 00:
	// 256) when zero-coded; keep the 4 after the extra header.
	zc := flags&lludp.FlagZerocoded != 0
	var num [4]byte
	n, pos := 0, 0
	for i := 6; n < 4 && i < end; {
		c, count := b[i], 1
		i++
		if c == 0 && zc {
			if i == end {
				break // a run without its count: the decoder rejects the datagram
			}
			if count = int(b[i]); count == 0 {
				count = 256
			}
			i++
		}
		if skip := min(count, extra-pos); skip > 0 { // still inside the extra header
			pos, count = pos+skip, count-skip
		}
		for ; count > 0 && n < 4; count-- {
			num[n] = c
			n++
		}
	}
	switch {
	case n >= 1 && num[0] != 0xFF:
		id = lludp.MsgID(num[0])
	case n >= 2 && num[1] != 0xFF:
		id = lludp.MsgID(0xFF00 | uint32(num[1]))
	case n == 4:
		id = lludp.MsgID(uint32(num[0])<<24 | uint32(num[1])<<16 | uint32(num[2])<<8 | uint32(num[3]))
	}
	return flags, seq, id, acks
}
