package netem

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// DNS wire format (RFC 1035 section 4.1): the subset netem's stub resolver and resolver speak.
// Parsing accepts any well-formed message (compression pointers included, RFC 1035 4.1.4) and
// rejects malformed ones with an error; it never panics.

// DNS header flag bits and codes.
const (
	dnsQR = 1 << 15 // a response
	dnsAA = 1 << 10
	dnsTC = 1 << 9
	dnsRD = 1 << 8 // recursion desired
	dnsRA = 1 << 7 // recursion available

	dnsRcodeOK       = 0
	dnsRcodeFormErr  = 1
	dnsRcodeServFail = 2
	dnsRcodeNXDomain = 3
	dnsRcodeNotImp   = 4

	dnsTypeA     = 1
	dnsTypeAAAA  = 28
	dnsClassINET = 1

	dnsHeaderLen = 12
	dnsMaxName   = 255 // octets on the wire, length bytes and the root included
	dnsMaxLabel  = 63
	dnsMaxUDP    = 512 // largest answer over UDP without EDNS (RFC 1035 4.2.1)
	dnsPort      = 53
	dnsAnswerTTL = 300
)

// dnsMsg is a parsed DNS message. Names are dot-separated labels without the trailing dot, as
// they were on the wire (case kept).
type dnsMsg struct {
	id        uint16
	flags     uint16 // QR, opcode, AA, TC, RD, RA, Z and RCODE
	questions []dnsQuestion
	answers   []dnsRR
	authority []dnsRR
	extra     []dnsRR
}

type dnsQuestion struct {
	name          string
	qtype, qclass uint16
}

type dnsRR struct {
	name         string
	rtype, class uint16
	ttl          uint32
	data         []byte
}

func (m *dnsMsg) rcode() int { return int(m.flags & 0xf) }

// errDNSShort is returned for a message that ends inside a field.
var errDNSShort = errors.New("dns: message too short")

// parseDNS parses a DNS message. Trailing bytes after the last record are an error.
func parseDNS(b []byte) (*dnsMsg, error) {
	if len(b) < dnsHeaderLen {
		return nil, errDNSShort
	}
	m := &dnsMsg{id: binary.BigEndian.Uint16(b), flags: binary.BigEndian.Uint16(b[2:])}
	qd := int(binary.BigEndian.Uint16(b[4:]))
	an := int(binary.BigEndian.Uint16(b[6:]))
	ns := int(binary.BigEndian.Uint16(b[8:]))
	ar := int(binary.BigEndian.Uint16(b[10:]))
	// Every question takes at least 5 bytes and every record 11: reject impossible counts before
	// allocating for them.
	if dnsHeaderLen+5*qd+11*(an+ns+ar) > len(b) {
		return nil, fmt.Errorf("dns: counts (%d questions, %d records) exceed the message's %d bytes", qd, an+ns+ar, len(b))
	}
	off := dnsHeaderLen
	for range qd {
		name, n, err := parseDNSName(b, off)
		if err != nil {
			return nil, err
		}
		off = n
		if off+4 > len(b) {
			return nil, errDNSShort
		}
		m.questions = append(m.questions, dnsQuestion{name, binary.BigEndian.Uint16(b[off:]), binary.BigEndian.Uint16(b[off+2:])})
		off += 4
	}
	for _, sec := range []struct {
		k   int
		out *[]dnsRR
	}{{an, &m.answers}, {ns, &m.authority}, {ar, &m.extra}} {
		for range sec.k {
			name, n, err := parseDNSName(b, off)
			if err != nil {
				return nil, err
			}
			off = n
			if off+10 > len(b) {
				return nil, errDNSShort
			}
			rr := dnsRR{name: name, rtype: binary.BigEndian.Uint16(b[off:]), class: binary.BigEndian.Uint16(b[off+2:]),
				ttl: binary.BigEndian.Uint32(b[off+4:])}
			l := int(binary.BigEndian.Uint16(b[off+8:]))
			off += 10
			if off+l > len(b) {
				return nil, errDNSShort
			}
			rr.data = append([]byte(nil), b[off:off+l]...)
			off += l
			if rr.rtype == dnsTypeA && rr.class == dnsClassINET && l != 4 {
				return nil, fmt.Errorf("dns: A record of %d bytes", l)
			}
			*sec.out = append(*sec.out, rr)
		}
	}
	if off != len(b) {
		return nil, fmt.Errorf("dns: %d bytes after the last record", len(b)-off)
	}
	return m, nil
}

// parseDNSName reads the name at off and returns it and the offset after it (after the first
// compression pointer, if any). Pointers must point strictly backwards, so they cannot loop.
func parseDNSName(b []byte, off int) (string, int, error) {
	var sb strings.Builder
	end := -1    // offset after the name where it started, once a pointer was followed
	wire := 1    // octets of the name as it would be uncompressed (root byte included)
	limit := off // a pointer must go before this
	for {
		if off >= len(b) {
			return "", 0, errDNSShort
		}
		l := int(b[off])
		switch l & 0xc0 {
		case 0x00:
			if l == 0 {
				if end < 0 {
					end = off + 1
				}
				return sb.String(), end, nil
			}
			if off+1+l > len(b) {
				return "", 0, errDNSShort
			}
			wire += 1 + l
			if wire > dnsMaxName {
				return "", 0, errors.New("dns: name longer than 255 octets")
			}
			label := b[off+1 : off+1+l]
			for _, c := range label {
				if c == '.' {
					return "", 0, errors.New("dns: label contains a dot")
				}
			}
			if sb.Len() > 0 {
				sb.WriteByte('.')
			}
			sb.Write(label)
			off += 1 + l
		case 0xc0:
			if off+2 > len(b) {
				return "", 0, errDNSShort
			}
			ptr := int(binary.BigEndian.Uint16(b[off:]) & 0x3fff)
			if ptr >= limit {
				return "", 0, errors.New("dns: compression pointer does not point backwards")
			}
			if end < 0 {
				end = off + 2
			}
			off, limit = ptr, ptr
		default:
			return "", 0, fmt.Errorf("dns: label type 0x%02x", l&0xc0)
		}
	}
}

// appendDNSName appends name in wire format (no compression).
func appendDNSName(b []byte, name string) ([]byte, error) {
	name = strings.TrimSuffix(name, ".")
	wire := 1
	if name != "" {
		for label := range strings.SplitSeq(name, ".") {
			if label == "" || len(label) > dnsMaxLabel {
				return b, fmt.Errorf("dns: name %q has an empty or over-long label", name)
			}
			wire += 1 + len(label)
			b = append(b, byte(len(label)))
			b = append(b, label...)
		}
	}
	if wire > dnsMaxName {
		return b, fmt.Errorf("dns: name %q is longer than 255 octets", name)
	}
	return append(b, 0), nil
}

// appendDNS appends m in wire format. An answer whose name equals the first question's is
// written as a compression pointer to it, as resolvers do.
func appendDNS(b []byte, m *dnsMsg) ([]byte, error) {
	start := len(b)
	b = binary.BigEndian.AppendUint16(b, m.id)
	b = binary.BigEndian.AppendUint16(b, m.flags)
	for _, k := range []int{len(m.questions), len(m.answers), len(m.authority), len(m.extra)} {
		if k > 0xffff {
			return b, errors.New("dns: too many records")
		}
		b = binary.BigEndian.AppendUint16(b, uint16(k))
	}
	var err error
	for _, q := range m.questions {
		if b, err = appendDNSName(b, q.name); err != nil {
			return b, err
		}
		b = binary.BigEndian.AppendUint16(b, q.qtype)
		b = binary.BigEndian.AppendUint16(b, q.qclass)
	}
	for _, sec := range [][]dnsRR{m.answers, m.authority, m.extra} {
		for _, rr := range sec {
			if start == 0 && len(m.questions) > 0 && rr.name == m.questions[0].name && rr.name != "" {
				b = append(b, 0xc0, dnsHeaderLen) // the first question's name follows the header
			} else if b, err = appendDNSName(b, rr.name); err != nil {
				return b, err
			}
			if len(rr.data) > 0xffff {
				return b, errors.New("dns: record data too long")
			}
			b = binary.BigEndian.AppendUint16(b, rr.rtype)
			b = binary.BigEndian.AppendUint16(b, rr.class)
			b = binary.BigEndian.AppendUint32(b, rr.ttl)
			b = binary.BigEndian.AppendUint16(b, uint16(len(rr.data)))
			b = append(b, rr.data...)
		}
	}
	return b, nil
}
