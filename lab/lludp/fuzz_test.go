package lludp

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// vectorSeeds returns every datagram in the node-metaverse vectors (hex, plain_hex,
// input_hex), or nothing if the file is absent.
func vectorSeeds() [][]byte {
	src, err := os.ReadFile(filepath.Join(sharedProtocol, "captures", "node-metaverse_packet_vectors.jsonl"))
	if err != nil {
		return nil
	}
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v struct{ Hex, PlainHex, InputHex string }
		var raw map[string]any
		if json.Unmarshal(sc.Bytes(), &raw) != nil {
			continue
		}
		v.Hex, _ = raw["hex"].(string)
		v.PlainHex, _ = raw["plain_hex"].(string)
		v.InputHex, _ = raw["input_hex"].(string)
		for _, h := range []string{v.Hex, v.PlainHex, v.InputHex} {
			if b, err := hex.DecodeString(h); err == nil && len(b) > 0 {
				out = append(out, b)
			}
		}
	}
	return out
}

// FuzzDecode: any input yields a packet or an error naming an offset, never a panic, and never
// more than MaxPacketSize bytes of body or 255 acks. When a packet decodes, every implemented
// message's DecodeBody is run on its body (not only the one its ID names) and must not panic
// either; a body that decodes must survive Encode → Decode → DecodeBody with the same bytes.
func FuzzDecode(f *testing.F) {
	for _, s := range vectorSeeds() {
		f.Add(s)
	}
	for _, m := range sampleMessages()[:6] {
		f.Add(Encode(nil, FlagReliable, 1, m, []uint32{7, 8}))
	}
	for _, s := range []string{
		"", "00", "4000000001", "400000000100", "ffffffffffffffff", "10000000010001ff",
		"80000000010000", "800000000100" + strings.Repeat("00ff", 40), "000000000100ff", "000000000100ffff00",
		"00000000010504", "d0000000010004000000000001", "800000000100ffff00019400",
	} {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		var d Decoder
		p, err := d.Decode(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "offset") {
				t.Fatalf("Decode error %q must wrap ErrMalformed and name an offset", err)
			}
			return
		}
		if len(p.Body) > MaxPacketSize || len(p.Acks) > MaxAppendedAcks {
			t.Fatalf("body %d bytes, %d acks: beyond the bounds", len(p.Body), len(p.Acks))
		}
		if p.Flags&FlagAcks == 0 && len(p.Acks) > 0 {
			t.Fatalf("acks without FlagAcks")
		}
		body := append([]byte(nil), p.Body...)
		acks := append([]uint32(nil), p.Acks...)
		for _, id := range Implemented() {
			m := New(id)
			if err := m.DecodeBody(body); err != nil {
				if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "offset") {
					t.Fatalf("%s.DecodeBody error %q must wrap ErrMalformed and name an offset", id, err)
				}
				continue
			}
			if id != p.ID {
				continue
			}
			again := Encode(nil, p.Flags&(FlagReliable|FlagResent), p.Seq, m, acks)
			q, err := d.Decode(again)
			if err != nil {
				t.Fatalf("re-encoded %s does not decode: %v", id, err)
			}
			m2 := New(id)
			if err := m2.DecodeBody(q.Body); err != nil {
				t.Fatalf("re-encoded %s body does not decode: %v", id, err)
			}
			if !bytes.Equal(m.AppendBody(nil), m2.AppendBody(nil)) || q.ID != p.ID || q.Seq != p.Seq || len(q.Acks) != len(acks) {
				t.Fatalf("%s changed across Encode/Decode", id)
			}
		}
	})
}

// FuzzZeroCode: zero-expanding the zero-coded form of any byte string gives it back.
func FuzzZeroCode(f *testing.F) {
	f.Add([]byte{})
	f.Add(make([]byte, 256))
	f.Add([]byte{1, 0, 0, 2, 0})
	f.Fuzz(func(t *testing.T, plain []byte) {
		if len(plain) > MaxPacketSize-HeaderSize {
			return
		}
		coded := zeroCode(make([]byte, HeaderSize), plain)
		back, err := zeroExpand(nil, coded, HeaderSize)
		if err != nil {
			t.Fatalf("zeroExpand: %v", err)
		}
		if !bytes.Equal(back, plain) {
			t.Fatalf("round trip changed the data")
		}
	})
}
