package lludp

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"strconv"
)

// Sizes of the wire format.
const (
	HeaderSize      = 6    // flags, sequence (4), extra-header length
	MinPacketSize   = 7    // header plus a 1-byte message number (LL_MINIMUM_VALID_PACKET_SIZE)
	MaxPacketSize   = 8192 // largest datagram Decode accepts, and the zero-expansion bound (LL NET_BUFFER_SIZE)
	MaxAppendedAcks = 255  // appended acks fit a 1-byte count
)

// Packet is a decoded datagram.
type Packet struct {
	Flags Flags
	Seq   uint32
	ID    MsgID
	Body  []byte   // after the message number, zero-expanded
	Acks  []uint32 // appended acks
}

// Decoder decodes datagrams without allocating in steady state; Packet.Body and Packet.Acks
// alias the decoder's buffers and are valid until the next Decode. The zero value is ready to
// use. A Decoder is not safe for concurrent use.
type Decoder struct {
	buf    []byte
	ackBuf []uint32
	acks   []uint32 // the last packet's Acks: nil, or ackBuf
}

// Decode parses one datagram. It accepts zero-coded and plain encodings of any message,
// strips appended acks from the raw tail before zero-expanding, and skips the extra header
// bytes byte 5 announces (OpenSim's placement: between byte 6 and the message number). It
// does not look at the body; call the message's DecodeBody for that. Unknown message numbers
// are not an error: Packet.ID is whatever the datagram says.
//
// Decode itself is small enough to inline and builds the Packet in the caller: decode returns
// its parts in registers. A Packet returned from a call comes back through memory, written a
// field at a time and read back by the caller 16 bytes at a time, which the CPU cannot
// forward from the narrower stores (a stall on every packet).
func (d *Decoder) Decode(b []byte) (p Packet, err error) {
	p.Flags, p.Seq, p.ID, p.Body, err = d.decode(b)
	p.Acks = d.acks
	return p, err
}

// decode is Decode but for Packet.Acks, which it leaves in d.acks (nil on an error).
func (d *Decoder) decode(b []byte) (Flags, uint32, MsgID, []byte, error) {
	d.acks = nil
	if len(b) < MinPacketSize {
		return 0, 0, 0, nil, errorf(0, "packet too short: %d byte%s, need at least %d (offset 0)", len(b), plural(len(b)), MinPacketSize)
	}
	if len(b) > MaxPacketSize {
		return 0, 0, 0, nil, errorf(MaxPacketSize, "packet too long: %d bytes, at most %d (offset %d)", len(b), MaxPacketSize, MaxPacketSize)
	}
	flags, seq := Flags(b[0]), binary.BigEndian.Uint32(b[1:5])
	extra := int(b[5])
	end := len(b)

	var acks []uint32
	if flags&FlagAcks != 0 {
		n := int(b[end-1])
		if tail := 4*n + 1; end-tail < MinPacketSize {
			return 0, 0, 0, nil, errorf(end-1, "appended ack count %d at offset %d: %d ack%s need %d bytes after a packet of at least %d, the datagram has %d",
				n, end-1, n, plural(n), tail, MinPacketSize, len(b))
		}
		end -= 4*n + 1
		acks = d.ackBuf[:0]
		for i := 0; i < n; i++ {
			acks = append(acks, binary.BigEndian.Uint32(b[end+4*i:]))
		}
		d.ackBuf = acks
	}

	// s is everything from byte 6 up to the acks, zero-expanded if need be.
	if flags&FlagZerocoded != 0 {
		var err error
		if d.buf, err = zeroExpand(d.buf[:0], b[:end], HeaderSize); err != nil {
			return 0, 0, 0, nil, err
		}
	} else {
		d.buf = append(d.buf[:0], b[HeaderSize:end]...)
	}
	s := d.buf

	if extra+1 > len(s) {
		return 0, 0, 0, nil, errorf(HeaderSize, "extra header of %d byte%s (byte 5) leaves no room for the message number at %s: %d byte%s left",
			extra, plural(extra), expandedOffset(flags, extra), len(s)-min(extra, len(s)), plural(len(s)-min(extra, len(s))))
	}
	pos := extra
	var (
		id    MsgID
		idLen int
	)
	switch {
	case s[pos] != 0xFF:
		id, idLen = MsgID(s[pos]), 1
	case pos+1 == len(s):
		return 0, 0, 0, nil, errorf(HeaderSize+pos, "message number at %s: need at least 2 bytes after FF, have 1", expandedOffset(flags, pos))
	case s[pos+1] != 0xFF:
		id, idLen = 0xFF00|MsgID(s[pos+1]), 2
	case pos+4 > len(s):
		return 0, 0, 0, nil, errorf(HeaderSize+pos, "message number at %s: need 4 bytes, have %d", expandedOffset(flags, pos), len(s)-pos)
	default:
		id, idLen = MsgID(binary.BigEndian.Uint32(s[pos:])), 4
	}
	d.acks = acks
	return flags, seq, id, s[pos+idLen:], nil
}

// expandedOffset describes offset i of the data after the header as an offset in the packet.
func expandedOffset(f Flags, i int) string {
	if f&FlagZerocoded != 0 {
		return "offset " + strconv.Itoa(HeaderSize+i) + " of the zero-expanded packet"
	}
	return "offset " + strconv.Itoa(HeaderSize+i)
}

// Encode appends a whole datagram to dst: header (flags, seq big-endian, offset byte 0),
// message number, body — zero-coded when the template says Zerocoded and the coded form is
// not longer than the plain one (OpenSim's rule; LL's viewer codes only when it is strictly
// shorter, both decode either way), with FlagZerocoded set or cleared to match — then, if
// len(acks) > 0, the acks as big-endian U32s and a count byte, with FlagAcks set. flags may
// carry FlagReliable/FlagResent; Encode manages FlagZerocoded and FlagAcks itself.
//
// In steady state (dst reused with enough capacity) Encode does not allocate; zero-coding
// uses dst's spare capacity as scratch. More than MaxAppendedAcks acks, or a message whose
// Variable block has more than MaxBlocks entries, is a programming error and panics.
func Encode(dst []byte, flags Flags, seq uint32, m Message, acks []uint32) []byte {
	if len(acks) > MaxAppendedAcks {
		panic("lludp: Encode: " + strconv.Itoa(len(acks)) + " appended acks, at most 255 fit")
	}
	start := len(dst)
	flags &^= FlagZerocoded | FlagAcks
	if p, ok := m.(*Prepared); ok {
		if p.zerocoded {
			flags |= FlagZerocoded
		}
		dst = appendHeader(dst, flags, seq)
		dst = append(dst, p.wire...)
		return appendAcks(dst, start, acks)
	}
	id := m.ID()
	dst = appendHeader(dst, flags, seq)
	dst = appendMsgID(dst, id)
	dst = m.AppendBody(dst)

	if zerocoded(id) {
		plainEnd := len(dst)
		plain := dst[start+HeaderSize : plainEnd]
		dst = zeroCode(dst, plain) // the coded form goes after the plain one, as scratch
		if coded := len(dst) - plainEnd; coded <= len(plain) {
			copy(dst[start+HeaderSize:], dst[plainEnd:])
			dst = dst[:start+HeaderSize+coded]
			dst[start] |= byte(FlagZerocoded)
		} else {
			dst = dst[:plainEnd]
		}
	}

	return appendAcks(dst, start, acks)
}

// appendHeader appends the 6-byte packet header: flags, big-endian sequence number, no extra
// header.
func appendHeader(dst []byte, flags Flags, seq uint32) []byte {
	return append(dst, byte(flags), byte(seq>>24), byte(seq>>16), byte(seq>>8), byte(seq), 0)
}

// appendAcks appends acks (if any) and their count to the datagram that starts at dst[start],
// and sets its FlagAcks.
func appendAcks(dst []byte, start int, acks []uint32) []byte {
	if len(acks) > 0 {
		for _, a := range acks {
			dst = binary.BigEndian.AppendUint32(dst, a)
		}
		dst = append(dst, byte(len(acks)))
		dst[start] |= byte(FlagAcks)
	}
	return dst
}

// Prepared is a message encoded once, for a message sent unchanged again and again — a viewer
// standing still sends the same AgentUpdate every second. Encode of a Prepared writes exactly
// the bytes Encode of its message would (the message number and body, zero-coded by the same
// rule), copied rather than encoded: for an AgentUpdate that is a copy of ~70 bytes instead of
// zero-coding 115.
//
// A Prepared is a Message: ID and AppendBody are its message's, and DecodeBody decodes into its
// message and prepares it again. Its message must not be changed otherwise; Prepare it again.
type Prepared struct {
	id        MsgID
	zerocoded bool
	wire      []byte // the message number and body as sent: zero-coded when zerocoded
	m         Message
}

// Prepare encodes m once. The Prepared keeps m (not a copy).
func Prepare(m Message) *Prepared {
	p := new(Prepared)
	p.Set(m)
	return p
}

// Set makes p m's, encoded now; a Prepared kept in a struct is set this way, allocating only
// when the encoding outgrows the one before.
func (p *Prepared) Set(m Message) {
	p.m, p.id = m, m.ID()
	p.encode()
}

func (p *Prepared) encode() {
	b := Encode(nil, 0, 0, p.m, nil)
	p.wire = append(p.wire[:0], b[HeaderSize:]...)
	p.zerocoded = Flags(b[0])&FlagZerocoded != 0
}

// ID returns the message's ID.
func (p *Prepared) ID() MsgID { return p.id }

// AppendBody appends the message's plain (not zero-coded) body.
func (p *Prepared) AppendBody(b []byte) []byte { return p.m.AppendBody(b) }

// Warm reads the first byte of the encoding, so that a caller reading ahead (sim.Warmer) has it
// fetched before Encode copies it; it changes nothing.
func (p *Prepared) Warm() byte {
	if len(p.wire) == 0 {
		return 0
	}
	return p.wire[0]
}

// DecodeBody decodes body into the message and prepares it again.
func (p *Prepared) DecodeBody(body []byte) error {
	if err := p.m.DecodeBody(body); err != nil {
		return err
	}
	p.encode()
	return nil
}

// appendMsgID appends id's message number: 1, 2 (FF nn) or 4 (FF FF nn nn) bytes.
func appendMsgID(dst []byte, id MsgID) []byte {
	switch id.numLen() {
	case 1:
		return append(dst, byte(id))
	case 2:
		return append(dst, 0xFF, byte(id))
	default:
		return binary.BigEndian.AppendUint32(dst, uint32(id))
	}
}

// zeroCode appends the zero-coded form of src to dst: each run of zero bytes becomes 00 and
// the run length; runs longer than 255 are split (255 zeros → 00 FF, 256 → 00 FF 00 01).
// src may alias dst's contents but not its spare capacity.
//
// It works a word at a time: literal spans are copied 8 bytes per store and zero runs are
// measured 8 bytes per load, so the output gets 8 bytes of slack beyond the worst case
// (every zero alone: 2×len(src)). Words are sliced with a constant length (src[i:i+8], not
// src[i:]): the compiler then needs one bounds check and no pointer mask for a possibly empty
// slice, ~25 % fewer cycles for an AgentUpdate (FuzzZeroCodeRef checks it against a byte loop).
func zeroCode(dst, src []byte) []byte {
	n := len(dst)
	dst = slices.Grow(dst, 2*len(src)+8)
	out := dst[:cap(dst)]
	i := 0
	for i < len(src) {
		// A literal span, up to the next zero byte.
		for i+8 <= len(src) {
			v := binary.LittleEndian.Uint64(src[i : i+8])
			binary.LittleEndian.PutUint64(out[n:n+8], v)
			if z := zeroBytes(v); z != 0 {
				k := bits.TrailingZeros64(z) >> 3 // bytes before the first zero
				i, n = i+k, n+k
				goto run
			}
			i, n = i+8, n+8
		}
		for i < len(src) && src[i] != 0 {
			out[n] = src[i]
			i, n = i+1, n+1
		}
		if i == len(src) {
			break
		}
	run:
		// A run of zeros starting at src[i].
		{
			r := 0
			for i+8 <= len(src) {
				v := binary.LittleEndian.Uint64(src[i : i+8])
				if v != 0 {
					k := bits.TrailingZeros64(v) >> 3 // zero bytes before the first non-zero one
					r, i = r+k, i+k
					goto emit
				}
				r, i = r+8, i+8
			}
			for i < len(src) && src[i] == 0 {
				r, i = r+1, i+1
			}
		emit:
			for r > 255 {
				out[n], out[n+1] = 0, 255
				n, r = n+2, r-255
			}
			out[n], out[n+1] = 0, byte(r)
			n += 2
		}
	}
	return out[:n]
}

// zeroBytes has the high bit set in (at least) the lowest zero byte of v and in no byte
// below it; it is 0 if v has no zero byte.
func zeroBytes(v uint64) uint64 {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	return (v - lo) &^ v & hi
}

// zeroExpand appends the zero-expansion of b[from:] to dst. A run 00 N expands to N zeros; like
// LL's reader, 00 00 expands to 256. The expansion, with the header, may not pass
// MaxPacketSize. Offsets in errors are offsets in b.
//
// Literal spans are copied 8 bytes per store and runs cleared 8 bytes per store, so the
// output needs room for one whole step (a 256-byte run plus a word) beyond what it holds. Far
// from the limit, one step takes a literal span and the run that ends it, with no checks: an
// AgentUpdate's ~20 alternating spans and runs cost about a quarter fewer cycles that way.
// dst is grown once, up front, to hold the largest expansion plus that room (8 KiB, which a
// Decoder keeps across packets): growing it inside the loop, only as needed, was a call in
// the loop, and made the compiler keep the loop's variables on the stack.
func zeroExpand(dst, b []byte, from int) ([]byte, error) {
	const (
		expandLimit = MaxPacketSize - HeaderSize
		room        = 256 + 8
	)
	n := len(dst)
	limit := n + expandLimit // the expansion's own bytes count, not what dst held before
	dst = slices.Grow(dst, expandLimit+room)
	out := dst[:cap(dst)] // so n+room <= len(out) while n <= limit, which the loops keep
	i := from
	// The fast loop takes a literal span and the zero run after it in one step, with no error
	// to check: it runs while a word and a run's count byte are left to read (so the count is
	// there) and the output is a whole step short of the limit (so no step can pass it).
	for i+9 <= len(b) && n <= limit-room {
		v := binary.LittleEndian.Uint64(b[i : i+8])
		binary.LittleEndian.PutUint64(out[n:n+8], v)
		z := zeroBytes(v)
		if z == 0 {
			n, i = n+8, i+8
			continue
		}
		k := bits.TrailingZeros64(z) >> 3 // literal bytes before the zero at b[i+k]
		n, i = n+k, i+k
		run := int(b[i+1])
		if run == 0 {
			run = 256
		}
		binary.LittleEndian.PutUint64(out[n:n+8], 0)
		for j := n + 8; j < n+run; j += 8 {
			binary.LittleEndian.PutUint64(out[j:j+8], 0)
		}
		n, i = n+run, i+2
	}
	// The rest, step by step, with the checks that find malformed input.
	for i < len(b) {
		if c := b[i]; c != 0 {
			k := 1
			if i+8 <= len(b) {
				v := binary.LittleEndian.Uint64(b[i : i+8])
				binary.LittleEndian.PutUint64(out[n:n+8], v)
				k = 8
				if z := zeroBytes(v); z != 0 {
					k = bits.TrailingZeros64(z) >> 3
				}
			} else {
				out[n] = c
			}
			if n+k > limit {
				i += limit - n // the first byte that does not fit
				return out[:n], errorf(i, "zero-expanded data at offset %d grows past %d bytes", i, MaxPacketSize)
			}
			n, i = n+k, i+k
			continue
		}
		if i+1 == len(b) {
			return out[:n], errorf(i, "zero-code run at offset %d has no count byte", i)
		}
		run := int(b[i+1])
		if run == 0 {
			run = 256
		}
		if n+run > limit {
			return out[:n], errorf(i, "zero-code run at offset %d expands past %d bytes", i, MaxPacketSize)
		}
		for j := n; j < n+run; j += 8 {
			binary.LittleEndian.PutUint64(out[j:j+8], 0)
		}
		n, i = n+run, i+2
	}
	return out[:n], nil
}
