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

// netCapture is a capture started with StartCapture.
type netCapture struct {
	pcap, drops io.WriteCloser
	pw          *PcapWriter
	dw          *bufio.Writer
}

// StartCapture writes every packet entering a segment to pcap (see PcapWriter) and every drop
// to drops, one line each: the frame number of the dropped packet's last record ("-" when it
// was dropped before entering any segment), the virtual time and the drop. StopCapture flushes
// and closes both.
func (n *Network) StartCapture(pcap, drops io.WriteCloser) error {
	if n.cap != nil {
		return fmt.Errorf("netem: a capture is already running")
	}
	pw, err := NewPcapWriter(pcap)
	if err != nil {
		return err
	}
	c := &netCapture{pcap: pcap, drops: drops, pw: pw, dw: bufio.NewWriter(drops)}
	fmt.Fprintf(c.dw, "# drops: frame (pcap record of the packet's last segment, - if none), virtual time, what\n")
	n.cap = c
	n.SetCapture(pw.Write)
	n.OnDrop(func(d Drop) {
		if n.cap != c {
			return
		}
		frame := "-"
		if d.Frame > 0 {
			frame = fmt.Sprint(d.Frame)
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
