package msgs

import (
	"encoding/binary"
	"fmt"

	"gridlab/lab/lludp"
)

// Packet is a whole datagram with its message decoded generically.
type Packet struct {
	Flags    lludp.Flags // as received; encoding adds FlagAcks when there are Acks
	Seq      uint32
	Message  *Message
	Acks     []uint32 // appended acks
	Trailing []byte   // body bytes after the last block (receivers ignore them)
}

// DecodePacket parses a datagram: the header with package lludp's decoder, then the body
// against the message's layout. Errors name the byte offset in the datagram (in the
// zero-expanded data for a zero-coded packet) and what was expected there, and wrap
// [lludp.ErrMalformed].
func DecodePacket(b []byte) (*Packet, error) {
	var d lludp.Decoder
	h, err := d.Decode(b)
	if err != nil {
		return nil, err
	}
	extra := int(b[5])
	start := lludp.HeaderSize + extra + numLen(h.ID) // where the body starts
	where := func(off int) string {
		if h.Flags&lludp.FlagZerocoded != 0 {
			return fmt.Sprintf("offset %d of the zero-expanded packet", off)
		}
		return fmt.Sprintf("offset %d", off)
	}
	p := &Packet{Flags: h.Flags, Seq: h.Seq, Acks: append([]uint32(nil), h.Acks...)}
	l, ok := Lookup(h.ID)
	if !ok {
		return nil, fmt.Errorf("lludp: message number 0x%08X at %s: expected a message of the template: %w",
			uint32(h.ID), where(lludp.HeaderSize+extra), lludp.ErrMalformed)
	}
	p.Message = &Message{Layout: l}
	n, err := p.Message.decode(h.Body)
	if err != nil {
		if de, ok := err.(*DecodeError); ok {
			return nil, fmt.Errorf("%w (packet %s)", err, where(start+de.Offset))
		}
		return nil, err
	}
	if n < len(h.Body) {
		p.Trailing = append([]byte(nil), h.Body[n:]...)
	}
	return p, nil
}

func numLen(id lludp.MsgID) int {
	switch {
	case id < 0xFF:
		return 1
	case id>>8 == 0xFF:
		return 2
	}
	return 4
}

// AppendTo appends the datagram to dst: header with byte 5 = 0, message number, body and
// trailing bytes, zero-coded exactly when p.Flags has FlagZerocoded (so a decoded packet
// re-encodes to the same bytes, whichever rule its sender followed), then the appended acks
// and their count, with FlagAcks set, when there are any or p.Flags has FlagAcks (a count
// of 0 is legal on the wire). Unlike [lludp.Encode], it never decides on
// zero-coding itself.
func (p *Packet) AppendTo(dst []byte) ([]byte, error) {
	if p.Message == nil {
		return dst, fmt.Errorf("msgs: packet has no message")
	}
	if err := p.Message.Validate(); err != nil {
		return dst, err
	}
	if len(p.Acks) > lludp.MaxAppendedAcks {
		return dst, fmt.Errorf("msgs: %d appended acks, at most %d fit", len(p.Acks), lludp.MaxAppendedAcks)
	}
	flags := p.Flags
	if len(p.Acks) > 0 {
		flags |= lludp.FlagAcks
	}
	dst = append(dst, byte(flags), byte(p.Seq>>24), byte(p.Seq>>16), byte(p.Seq>>8), byte(p.Seq), 0)
	var plain []byte
	id := p.Message.ID()
	switch numLen(id) {
	case 1:
		plain = append(plain, byte(id))
	case 2:
		plain = append(plain, 0xFF, byte(id))
	default:
		plain = binary.BigEndian.AppendUint32(plain, uint32(id))
	}
	plain = p.Message.AppendBody(plain)
	plain = append(plain, p.Trailing...)
	if flags&lludp.FlagZerocoded != 0 {
		dst = zeroCode(dst, plain)
	} else {
		dst = append(dst, plain...)
	}
	for _, a := range p.Acks {
		dst = binary.BigEndian.AppendUint32(dst, a)
	}
	if flags&lludp.FlagAcks != 0 {
		dst = append(dst, byte(len(p.Acks)))
	}
	if len(dst) > lludp.MaxPacketSize {
		return dst, fmt.Errorf("msgs: %s packet is %d bytes, at most %d fit", p.Message.Layout.Name, len(dst), lludp.MaxPacketSize)
	}
	return dst, nil
}

// zeroCode appends src zero-coded: each run of zeros as 00 and its length, runs longer than
// 255 split.
func zeroCode(dst, src []byte) []byte {
	for i := 0; i < len(src); {
		if src[i] != 0 {
			dst = append(dst, src[i])
			i++
			continue
		}
		r := 0
		for i < len(src) && src[i] == 0 && r < 255 {
			r, i = r+1, i+1
		}
		dst = append(dst, 0, byte(r))
	}
	return dst
}
