package netem_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gridlab/netem"
)

type nopCloser struct{ *bytes.Buffer }

func (nopCloser) Close() error { return nil }

// ngRecord is one Enhanced Packet Block as read back.
type ngRec struct {
	iface   uint32
	ns      uint64
	comment string
}

// readPcapng parses the blocks of a little-endian pcapng section: interface names and records.
func readPcapng(t *testing.T, b []byte) (ifaces []string, recs []ngRec) {
	t.Helper()
	require.GreaterOrEqual(t, len(b), 28)
	require.Equal(t, uint32(0x0a0d0d0a), binary.LittleEndian.Uint32(b), "starts with a section header")
	require.Equal(t, uint32(0x1a2b3c4d), binary.LittleEndian.Uint32(b[8:]), "little-endian byte-order magic")
	opts := func(o []byte) map[uint16]string {
		m := map[uint16]string{}
		for len(o) >= 4 {
			code, l := binary.LittleEndian.Uint16(o), int(binary.LittleEndian.Uint16(o[2:]))
			if code == 0 {
				break
			}
			m[code] = string(o[4 : 4+l])
			o = o[4+(l+3)/4*4:]
		}
		return m
	}
	for off := 0; off < len(b); {
		typ, total := binary.LittleEndian.Uint32(b[off:]), int(binary.LittleEndian.Uint32(b[off+4:]))
		require.Zero(t, total%4, "block lengths are multiples of 4")
		require.Equal(t, uint32(total), binary.LittleEndian.Uint32(b[off+total-4:]), "trailing length matches")
		body := b[off+8 : off+total-4]
		switch typ {
		case 1:
			o := opts(body[8:])
			ifaces = append(ifaces, o[2])
			assert.Equal(t, "\x09", o[9], "nanosecond timestamps")
		case 6:
			capLen := int(binary.LittleEndian.Uint32(body[12:]))
			ns := uint64(binary.LittleEndian.Uint32(body[4:]))<<32 | uint64(binary.LittleEndian.Uint32(body[8:]))
			o := opts(body[20+(capLen+3)/4*4:])
			assert.Equal(t, byte(0x45), body[20], "an IPv4 header")
			recs = append(recs, ngRec{binary.LittleEndian.Uint32(body), ns, o[1]})
		}
		off += total
	}
	return ifaces, recs
}

// A packet's record waits for its fate: the first datagram's drop (no listener, 30 ms later) and
// the second's (MTU, at once) become their records' comments, and the records stay in frame
// order though the second's fate was known first.
func TestPcapngCommentsAndOrder(t *testing.T) {
	w := newWorld(t, 1)
	inet := w.n.AddSegment("internet", pfx("0.0.0.0/0"), netem.LinkParams{Latency: 30 * ms, MTU: 200})
	lan := w.n.AddSegment("lan", pfx("10.0.0.0/24"), netem.LinkParams{Latency: ms}) // never used: no interface
	var pc, dc bytes.Buffer
	require.NoError(t, w.n.StartCapture(nopCloser{&pc}, nopCloser{&dc}))
	a := w.host("a", inet, "198.51.100.1")
	w.host("b", inet, "198.51.100.2")
	c := w.host("c", lan, "10.0.0.3")
	require.NoError(t, c.AddInterface(inet, ip("198.51.100.3")))
	sa, _ := w.listen(a, 5000)
	w.listen(c, 9000)
	sa.WriteTo([]byte("to b, no listener"), ap("198.51.100.2:9000"))
	sa.WriteTo(make([]byte, 300), ap("198.51.100.2:9000"))
	sa.WriteTo([]byte("to c"), ap("198.51.100.3:9000"))
	a.AddRule(netem.Rule{Name: "no-7777", Dir: netem.Out, RemotePorts: netem.PortRange{Lo: 7777}, Action: netem.Deny})
	sa.WriteTo([]byte("blocked"), ap("198.51.100.2:7777"))
	w.run()
	require.NoError(t, w.n.StopCapture())
	ifaces, recs := readPcapng(t, pc.Bytes())
	assert.Equal(t, []string{"internet"}, ifaces, "one interface per segment seen")
	require.Len(t, recs, 4)
	assert.Equal(t, "dropped: no-listener at b", recs[0].comment, "frame 1, written after its fate at 30 ms")
	assert.Equal(t, "dropped: mtu at internet", recs[1].comment)
	assert.Equal(t, "", recs[2].comment, "delivered: no comment")
	assert.Equal(t, netem.NoteNotSent+"; dropped: firewall (rule no-7777) at a", recs[3].comment,
		"a datagram its sender's firewall dropped is shown, marked as never on the wire")
	for _, r := range recs {
		assert.Zero(t, r.ns, "timestamps are the virtual send times")
	}
	assert.Contains(t, dc.String(), "4\t0.000s udp 198.51.100.1:5000 > 198.51.100.2:7777 dropped at a: firewall (no-7777)")
	assert.Contains(t, dc.String(), "1\t0.030s udp 198.51.100.1:5000 > 198.51.100.2:9000 dropped at b: no-listener")
}
