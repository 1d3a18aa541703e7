package msgs

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gridlab/lab/lludp"
)

// FuzzDecodePacket: decoding any datagram never panics, fails only with lludp.ErrMalformed,
// and a packet that decodes re-encodes (unless that would pass the size limit) to one that
// decodes to the same JSON.
func FuzzDecodePacket(f *testing.F) {
	for _, v := range loadVectorsQuiet() {
		for _, h := range []string{v.Hex, v.PlainHex, v.InputHex} {
			if b, err := hex.DecodeString(h); err == nil && len(b) > 0 {
				f.Add(b)
			}
		}
	}
	r := rand.New(rand.NewPCG(5, 6))
	for i, l := range All() {
		if i%7 == 0 {
			b, _ := (&Packet{Flags: lludp.FlagZerocoded, Message: randomMessage(r, l), Acks: []uint32{3}}).AppendTo(nil)
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodePacket(b)
		if err != nil {
			if !errors.Is(err, lludp.ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		js, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		wire, err := p.AppendTo(nil)
		if err != nil {
			if len(wire) > lludp.MaxPacketSize {
				return
			}
			t.Fatalf("re-encode: %v", err)
		}
		q, err := DecodePacket(wire)
		if err != nil {
			t.Fatalf("re-decode %x: %v", wire, err)
		}
		js2, _ := json.Marshal(q)
		if string(js) != string(js2) {
			t.Fatalf("round trip changed the packet:\n%s\n%s", js, js2)
		}
	})
}

// FuzzDecodeBody: any body against any message's layout never panics.
func FuzzDecodeBody(f *testing.F) {
	f.Add(uint16(7), []byte{1, 2, 3})
	f.Add(uint16(1), binary.LittleEndian.AppendUint32(nil, 5))
	all := All()
	f.Fuzz(func(t *testing.T, which uint16, body []byte) {
		l := all[int(which)%len(all)]
		m, n, err := Decode(l.ID, body)
		if err != nil {
			if !errors.Is(err, lludp.ErrMalformed) {
				t.Fatal(err)
			}
			return
		}
		if n > len(body) {
			t.Fatalf("used %d of %d bytes", n, len(body))
		}
		// Re-encoding is canonical (a BOOL byte other than 0 becomes 1) but keeps every size,
		// and is stable.
		enc := m.AppendBody(nil)
		if len(enc) != n {
			t.Fatalf("%s: re-encoded %d bytes, decoded %d", l.Name, len(enc), n)
		}
		m2, _, err := Decode(l.ID, enc)
		if err != nil {
			t.Fatalf("%s: re-decode %x: %v", l.Name, enc, err)
		}
		if again := m2.AppendBody(nil); string(again) != string(enc) {
			t.Fatalf("%s: %x re-encodes to %x", l.Name, enc, again)
		}
	})
}

// loadVectorsQuiet returns the vectors, or none if the file is absent or unreadable.
func loadVectorsQuiet() (out []vector) {
	src, err := os.ReadFile(filepath.Join(sharedProtocol, "captures", "node-metaverse_packet_vectors.jsonl"))
	if err != nil {
		return nil
	}
	for _, line := range strings.Split(string(src), "\n") {
		var v vector
		if json.Unmarshal([]byte(line), &v) == nil {
			out = append(out, v)
		}
	}
	return out
}
