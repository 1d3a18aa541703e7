package netem

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"

	"gridlab/sim"
)

// Real TCP header flag bits, as Captured.Flags carries them.
const (
	TCPFin = 0x01
	TCPSyn = 0x02
	TCPRst = 0x04
	TCPPsh = 0x08
	TCPAck = 0x10
)

// Captured is one packet as a capture sees it when it enters a segment: addresses as carried
// there (after any NAT before that point), before that segment's impairments. Payload is valid
// only during the capture callback.
type Captured struct {
	At       sim.Time
	Segment  string
	Proto    Proto
	Flags    uint8 // TCP flags, real bit values (TCPSyn, ...)
	Src, Dst netip.AddrPort
	Seq, Ack uint32 // TCP
	Payload  []byte
	// ICMP port unreachable: the datagram it answers.
	InnerProto         Proto
	InnerSrc, InnerDst netip.AddrPort
	// Note says what happened to the packet just before, e.g. "NAT home-router: source
	// 192.168.1.2:5000 → 203.0.113.10:5000" (pcapng writes it as the record's comment).
	Note string
}

// NoteNotSent is the Note of a record for a packet its sender dropped (egress firewall, host
// down): it never was on the wire, but the capture shows it where it would have been.
const NoteNotSent = "not on the wire: dropped by its sender"

// natNote describes p's last translation.
func natNote(p *packet) string {
	s := "NAT " + p.natR.name + ":"
	if p.natSrc.IsValid() {
		s += " source " + p.natSrc.String() + " → " + p.src.String()
	}
	if p.natDst.IsValid() {
		if p.natSrc.IsValid() {
			s += ","
		}
		s += " destination " + p.natDst.String() + " → " + p.dst.String()
	}
	return s
}

// SetCapture registers f to see every packet entering a segment (nil stops capturing). f returns
// the capture's record number for the packet; a later Drop of the packet carries it as Frame.
// f must not call back into the network.
func (n *Network) SetCapture(f func(*Captured) uint64) { n.capture = f }

func (n *Network) captured(p *packet, g *Segment) *Captured {
	c := &n.capBuf
	*c = Captured{At: n.s.Now(), Segment: g.name, Proto: p.proto, Src: p.src, Dst: p.dst,
		Seq: uint32(p.seq), Ack: uint32(p.ack), Payload: p.payload,
		InnerProto: p.iproto, InnerSrc: p.isrc, InnerDst: p.idst}
	if p.proto == TCP {
		f := p.flags
		if f&flagFIN != 0 {
			c.Flags |= TCPFin
		}
		if f&flagSYN != 0 {
			c.Flags |= TCPSyn
		}
		if f&flagRST != 0 {
			c.Flags |= TCPRst
		}
		if f&flagACK != 0 {
			c.Flags |= TCPAck
		}
		if len(p.payload) > 0 {
			c.Flags |= TCPPsh
		}
	}
	return c
}

// PcapWriter writes a classic pcap file (nanosecond timestamps, LINKTYPE_RAW: every record is an
// IPv4 packet) with headers synthesized from Captured packets: IPv4 (TTL 64, checksum), UDP and
// TCP (with checksums; TCP with a 65535 window) and ICMP port unreachable quoting the IPv4 and
// UDP headers of the datagram it answers.
type PcapWriter struct {
	w      *bufio.Writer
	frames uint64
	buf    []byte
	ipID   uint16
	err    error
}

// LinktypeRaw is the pcap link type for raw IPv4/IPv6 packets.
const LinktypeRaw = 101

// NewPcapWriter writes the file header to w and returns the writer.
func NewPcapWriter(w io.Writer) (*PcapWriter, error) {
	pw := &PcapWriter{w: bufio.NewWriterSize(w, 1<<16)}
	var h [24]byte
	binary.LittleEndian.PutUint32(h[0:], 0xa1b23c4d) // nanosecond-resolution magic
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 65535) // snaplen
	binary.LittleEndian.PutUint32(h[20:], LinktypeRaw)
	if _, err := pw.w.Write(h[:]); err != nil {
		return nil, fmt.Errorf("pcap header: %w", err)
	}
	return pw, nil
}

// Frames returns the number of records written.
func (pw *PcapWriter) Frames() uint64 { return pw.frames }

// Write appends one packet and returns its record number (1-based, as Wireshark numbers frames).
// The first error sticks and is returned by Flush.
func (pw *PcapWriter) Write(c *Captured) uint64 {
	b := pw.buf[:0]
	b = pw.appendPacket(b, c)
	pw.buf = b
	var rh [16]byte
	ns := int64(c.At)
	binary.LittleEndian.PutUint32(rh[0:], uint32(ns/1e9))
	binary.LittleEndian.PutUint32(rh[4:], uint32(ns%1e9))
	binary.LittleEndian.PutUint32(rh[8:], uint32(len(b)))
	binary.LittleEndian.PutUint32(rh[12:], uint32(len(b)))
	if pw.err == nil {
		if _, err := pw.w.Write(rh[:]); err != nil {
			pw.err = err
		} else if _, err := pw.w.Write(b); err != nil {
			pw.err = err
		}
	}
	pw.frames++
	return pw.frames
}

// Flush writes buffered records out and returns the first error.
func (pw *PcapWriter) Flush() error {
	if pw.err != nil {
		return fmt.Errorf("pcap: %w", pw.err)
	}
	if err := pw.w.Flush(); err != nil {
		return fmt.Errorf("pcap: %w", err)
	}
	return nil
}

func (pw *PcapWriter) appendPacket(b []byte, c *Captured) []byte {
	pw.ipID++
	switch c.Proto {
	case UDP:
		b = appendIPv4(b, UDP, c.Src.Addr(), c.Dst.Addr(), udpHeader+len(c.Payload), pw.ipID)
		return appendUDP(b, c.Src, c.Dst, c.Payload)
	case TCP:
		b = appendIPv4(b, TCP, c.Src.Addr(), c.Dst.Addr(), tcpHeader+len(c.Payload), pw.ipID)
		start := len(b)
		b = binary.BigEndian.AppendUint16(b, c.Src.Port())
		b = binary.BigEndian.AppendUint16(b, c.Dst.Port())
		b = binary.BigEndian.AppendUint32(b, c.Seq)
		b = binary.BigEndian.AppendUint32(b, c.Ack)
		b = append(b, 5<<4, c.Flags)
		b = binary.BigEndian.AppendUint16(b, 65535)
		b = append(b, 0, 0, 0, 0) // checksum, urgent pointer
		b = append(b, c.Payload...)
		sum := pseudoSum(c.Src.Addr(), c.Dst.Addr(), TCP, len(b)-start)
		binary.BigEndian.PutUint16(b[start+16:], finish(checksum(sum, b[start:])))
		return b
	}
	// ICMP destination unreachable, port unreachable, quoting the original IPv4 + UDP headers.
	inner := make([]byte, 0, ipHeader+udpHeader)
	inner = appendIPv4(inner, c.InnerProto, c.InnerSrc.Addr(), c.InnerDst.Addr(), udpHeader, 0)
	inner = binary.BigEndian.AppendUint16(inner, c.InnerSrc.Port())
	inner = binary.BigEndian.AppendUint16(inner, c.InnerDst.Port())
	inner = append(inner, 0, udpHeader, 0, 0)
	b = appendIPv4(b, ICMP, c.Src.Addr(), c.Dst.Addr(), icmpHeader+len(inner), pw.ipID)
	start := len(b)
	b = append(b, 3, 3, 0, 0, 0, 0, 0, 0)
	b = append(b, inner...)
	binary.BigEndian.PutUint16(b[start+2:], finish(checksum(0, b[start:])))
	return b
}

func appendIPv4(b []byte, proto Proto, src, dst netip.Addr, l4len int, id uint16) []byte {
	start := len(b)
	b = append(b, 0x45, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(ipHeader+l4len))
	b = binary.BigEndian.AppendUint16(b, id)
	b = append(b, 0x40, 0, 64, byte(proto), 0, 0) // DF, TTL 64
	s, d := src.As4(), dst.As4()
	b = append(b, s[:]...)
	b = append(b, d[:]...)
	binary.BigEndian.PutUint16(b[start+10:], finish(checksum(0, b[start:])))
	return b
}

func appendUDP(b []byte, src, dst netip.AddrPort, payload []byte) []byte {
	start := len(b)
	b = binary.BigEndian.AppendUint16(b, src.Port())
	b = binary.BigEndian.AppendUint16(b, dst.Port())
	b = binary.BigEndian.AppendUint16(b, uint16(udpHeader+len(payload)))
	b = append(b, 0, 0)
	b = append(b, payload...)
	sum := finish(checksum(pseudoSum(src.Addr(), dst.Addr(), UDP, len(b)-start), b[start:]))
	if sum == 0 {
		sum = 0xffff
	}
	binary.BigEndian.PutUint16(b[start+6:], sum)
	return b
}

func pseudoSum(src, dst netip.Addr, proto Proto, l int) uint32 {
	s, d := src.As4(), dst.As4()
	sum := uint32(s[0])<<8 | uint32(s[1])
	sum += uint32(s[2])<<8 | uint32(s[3])
	sum += uint32(d[0])<<8 | uint32(d[1])
	sum += uint32(d[2])<<8 | uint32(d[3])
	return sum + uint32(proto) + uint32(l)
}

// checksum adds b to the ones'-complement sum (RFC 1071).
func checksum(sum uint32, b []byte) uint32 {
	for len(b) >= 2 {
		sum += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	return sum
}

func finish(sum uint32) uint16 {
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// PcapngWriter writes a pcapng file (one Section Header Block; one Interface Description Block
// per segment, named after it, LINKTYPE_RAW with nanosecond timestamps; one Enhanced Packet Block
// per packet entering a segment, with the headers PcapWriter synthesizes). A packet's record is
// held back until its fate on that segment is known, so that a dropped packet's record carries
// the drop as an opt_comment (tshark's frame.comment), e.g. "dropped: firewall (rule block-udp)
// at srv". Records are written in frame order; Flush writes the ones still in flight.
type PcapngWriter struct {
	w       *bufio.Writer
	ifaces  map[string]uint32
	pending []ngRecord // frames base, base+1, ... not yet written
	base    uint64
	frames  uint64
	free    [][]byte
	pw      PcapWriter // header synthesis
	err     error
}

type ngRecord struct {
	iface   uint32
	at      sim.Time
	data    []byte
	comment string
	done    bool
}

// pcapng block types and options.
const (
	ngSHB         = 0x0a0d0d0a
	ngIDB         = 1
	ngEPB         = 6
	ngOptEnd      = 0
	ngOptComment  = 1
	ngOptIfName   = 2
	ngOptIfDescr  = 3
	ngOptTSResol  = 9
	ngOptShbAppl  = 4
	ngByteOrderMk = 0x1a2b3c4d
)

// NewPcapngWriter writes the section header to w and returns the writer.
func NewPcapngWriter(w io.Writer) (*PcapngWriter, error) {
	pw := &PcapngWriter{w: bufio.NewWriterSize(w, 1<<16), ifaces: map[string]uint32{}, base: 1}
	body := binary.LittleEndian.AppendUint32(nil, ngByteOrderMk)
	body = binary.LittleEndian.AppendUint16(body, 1)
	body = binary.LittleEndian.AppendUint16(body, 0)
	body = binary.LittleEndian.AppendUint64(body, ^uint64(0)) // section length unknown
	body = appendNgOpt(body, ngOptShbAppl, "gridlab netem (virtual time)")
	body = appendNgOpt(body, ngOptEnd, "")
	pw.block(ngSHB, body)
	if err := pw.w.Flush(); err != nil {
		return nil, fmt.Errorf("pcapng header: %w", err)
	}
	return pw, nil
}

func appendNgOpt(b []byte, code uint16, v string) []byte {
	b = binary.LittleEndian.AppendUint16(b, code)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(v)))
	b = append(b, v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// block writes one block: type, total length, body (padded), total length.
func (pw *PcapngWriter) block(typ uint32, body []byte) {
	if pw.err != nil {
		return
	}
	var h [8]byte
	total := uint32(12 + len(body))
	binary.LittleEndian.PutUint32(h[0:], typ)
	binary.LittleEndian.PutUint32(h[4:], total)
	if _, err := pw.w.Write(h[:]); err != nil {
		pw.err = err
		return
	}
	if _, err := pw.w.Write(body); err != nil {
		pw.err = err
		return
	}
	if _, err := pw.w.Write(h[4:8]); err != nil {
		pw.err = err
	}
}

// Frames returns the number of records written or pending.
func (pw *PcapngWriter) Frames() uint64 { return pw.frames }

// Write adds one packet and returns its frame number (1-based, as Wireshark numbers frames).
func (pw *PcapngWriter) Write(c *Captured) uint64 {
	id, ok := pw.ifaces[c.Segment]
	if !ok {
		id = uint32(len(pw.ifaces))
		pw.ifaces[c.Segment] = id
		body := binary.LittleEndian.AppendUint16(nil, LinktypeRaw)
		body = binary.LittleEndian.AppendUint16(body, 0)
		body = binary.LittleEndian.AppendUint32(body, 0) // no snap length limit
		body = appendNgOpt(body, ngOptIfName, c.Segment)
		body = appendNgOpt(body, ngOptTSResol, "\x09") // 10^-9 s
		body = appendNgOpt(body, ngOptEnd, "")
		pw.block(ngIDB, body)
	}
	var data []byte
	if k := len(pw.free); k > 0 {
		data, pw.free = pw.free[k-1][:0], pw.free[:k-1]
	}
	pw.pending = append(pw.pending, ngRecord{iface: id, at: c.At, data: pw.pw.appendPacket(data, c), comment: c.Note})
	pw.frames++
	return pw.frames
}

// Annotate attaches a comment to a frame not yet written and marks it done.
func (pw *PcapngWriter) Annotate(frame uint64, comment string) {
	if frame < pw.base || frame >= pw.base+uint64(len(pw.pending)) {
		return
	}
	r := &pw.pending[frame-pw.base]
	if r.comment != "" {
		r.comment += "; "
	}
	r.comment += comment
	r.done = true
	pw.drain(false)
}

// Resolve marks a frame done (its packet left the segment); done frames are written in order.
func (pw *PcapngWriter) Resolve(frame uint64) {
	if frame < pw.base || frame >= pw.base+uint64(len(pw.pending)) {
		return
	}
	pw.pending[frame-pw.base].done = true
	pw.drain(false)
}

// drain writes the done records at the front (all of them when all is true).
func (pw *PcapngWriter) drain(all bool) {
	k := 0
	for k < len(pw.pending) && (all || pw.pending[k].done) {
		r := &pw.pending[k]
		body := make([]byte, 0, 20+len(r.data)+len(r.comment)+16)
		ns := uint64(r.at)
		body = binary.LittleEndian.AppendUint32(body, r.iface)
		body = binary.LittleEndian.AppendUint32(body, uint32(ns>>32))
		body = binary.LittleEndian.AppendUint32(body, uint32(ns))
		body = binary.LittleEndian.AppendUint32(body, uint32(len(r.data)))
		body = binary.LittleEndian.AppendUint32(body, uint32(len(r.data)))
		body = append(body, r.data...)
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
		if r.comment != "" {
			body = appendNgOpt(body, ngOptComment, r.comment)
			body = appendNgOpt(body, ngOptEnd, "")
		}
		pw.block(ngEPB, body)
		pw.free = append(pw.free, r.data)
		*r = ngRecord{}
		k++
	}
	if k > 0 {
		n := copy(pw.pending, pw.pending[k:])
		pw.pending = pw.pending[:n]
		pw.base += uint64(k)
	}
}

// Flush writes every record, pending ones included, and returns the first error.
func (pw *PcapngWriter) Flush() error {
	pw.drain(true)
	if pw.err != nil {
		return fmt.Errorf("pcapng: %w", pw.err)
	}
	if err := pw.w.Flush(); err != nil {
		return fmt.Errorf("pcapng: %w", err)
	}
	return nil
}

// netCapture is a capture started with StartCapture.
type netCapture struct {
	pcap, drops io.WriteCloser
	pw          *PcapngWriter
	dw          *bufio.Writer
}

// dropComment is the pcapng comment of a dropped packet's record.
func dropComment(d Drop) string {
	s := "dropped: " + string(d.Reason)
	if d.Rule != "" {
		s += " (rule " + d.Rule + ")"
	}
	return s + " at " + d.Where
}

// StartCapture writes every packet entering a segment to pcap as pcapng (see PcapngWriter; the
// record of a packet dropped on that segment or at the node it reached carries the drop as a
// comment; a packet its sender dropped, by an egress rule or being down, gets a record on the
// segment it was routed to with NoteNotSent and the drop) and every drop to drops, one line
// each: the frame number of the dropped packet's last record ("-" when it has none, e.g. a local
// error), the virtual time and the drop. StopCapture flushes and closes both.
func (n *Network) StartCapture(pcap, drops io.WriteCloser) error {
	if n.cap != nil {
		return fmt.Errorf("netem: a capture is already running")
	}
	pw, err := NewPcapngWriter(pcap)
	if err != nil {
		return err
	}
	c := &netCapture{pcap: pcap, drops: drops, pw: pw, dw: bufio.NewWriter(drops)}
	fmt.Fprintf(c.dw, "# drops: frame (capture record of the packet's last segment, - if none), virtual time, what\n")
	n.cap = c
	n.SetCapture(pw.Write)
	n.OnDrop(func(d Drop) {
		if n.cap != c {
			return
		}
		frame := "-"
		if d.Frame > 0 {
			frame = fmt.Sprint(d.Frame)
			pw.Annotate(d.Frame, dropComment(d))
		}
		fmt.Fprintf(c.dw, "%s\t%s\n", frame, d)
	})
	return nil
}

// StopCapture flushes and closes the capture's files.
func (n *Network) StopCapture() error {
	c := n.cap
	if c == nil {
		return nil
	}
	n.cap = nil
	n.SetCapture(nil)
	err := c.pw.Flush()
	if e := c.dw.Flush(); err == nil && e != nil {
		err = fmt.Errorf("drop list: %w", e)
	}
	if e := c.pcap.Close(); err == nil && e != nil {
		err = fmt.Errorf("pcap: %w", e)
	}
	if e := c.drops.Close(); err == nil && e != nil {
		err = fmt.Errorf("drop list: %w", e)
	}
	return err
}
