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

// zeroExpandRef is the byte-at-a-time zero-expansion zeroExpand must agree with, errors and
// their offsets included.
func zeroExpandRef(b []byte, from int) ([]byte, error) {
	const limit = MaxPacketSize - HeaderSize
	var out []byte
	for i := from; i < len(b); i++ {
		if b[i] != 0 {
			if len(out) == limit {
				return out, errorf(i, "zero-expanded data at offset %d grows past %d bytes", i, MaxPacketSize)
			}
			out = append(out, b[i])
			continue
		}
		if i+1 == len(b) {
			return out, errorf(i, "zero-code run at offset %d has no count byte", i)
		}
		run := int(b[i+1])
		if run == 0 {
			run = 256
		}
		if len(out)+run > limit {
			return out, errorf(i, "zero-code run at offset %d expands past %d bytes", i, MaxPacketSize)
		}
		out = append(out, make([]byte, run)...)
		i++
	}
	return out, nil
}

// FuzzZeroExpand: the word-at-a-time zeroExpand gives the bytes and errors of the byte loop,
// for any input and any header length, into an empty or a non-empty dst.
func FuzzZeroExpand(f *testing.F) {
	f.Add([]byte{}, uint8(0))
	f.Add([]byte{1, 0, 3, 2, 0, 0, 9}, uint8(1))
	f.Add(bytes.Repeat([]byte{0, 0}, 40), uint8(6))
	f.Add(bytes.Repeat([]byte{7, 0, 255}, 40), uint8(3))
	f.Fuzz(func(t *testing.T, b []byte, from uint8) {
		if int(from) > len(b) {
			return
		}
		want, werr := zeroExpandRef(b, int(from))
		for _, prefix := range [][]byte{nil, []byte("pre")} {
			got, err := zeroExpand(append([]byte(nil), prefix...), b, int(from))
			if (err == nil) != (werr == nil) || (err != nil && err.Error() != werr.Error()) {
				t.Fatalf("error %v, want %v", err, werr)
			}
			if err == nil && !bytes.Equal(got[len(prefix):], want) {
				t.Fatalf("expansion differs: got %d bytes, want %d", len(got)-len(prefix), len(want))
			}
		}
	})
}

// zeroCodeRef is the byte-at-a-time zero-coding zeroCode must agree with.
func zeroCodeRef(src []byte) []byte {
	var out []byte
	for i := 0; i < len(src); {
		if src[i] != 0 {
			out = append(out, src[i])
			i++
			continue
		}
		r := 0
		for i < len(src) && src[i] == 0 && r < 255 {
			r, i = r+1, i+1
		}
		out = append(out, 0, byte(r))
	}
	return out
}

// FuzzZeroCodeRef: the word-at-a-time zeroCode gives the byte loop's bytes, after any dst.
func FuzzZeroCodeRef(f *testing.F) {
	f.Add([]byte{}, uint8(0))
	f.Add(make([]byte, 600), uint8(3))
	f.Add([]byte{1, 0, 0, 2, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0}, uint8(7))
	f.Fuzz(func(t *testing.T, src []byte, pre uint8) {
		dst := bytes.Repeat([]byte{0xAB}, int(pre%16))
		got := zeroCode(dst, src)
		if !bytes.Equal(got[:len(dst)], dst) || !bytes.Equal(got[len(dst):], zeroCodeRef(src)) {
			t.Fatalf("zeroCode(% x) = % x, want % x", src, got[len(dst):], zeroCodeRef(src))
		}
	})
}

// FuzzPreparedMatchesEncode: for any message a body decodes into (every implemented message
// is tried), any flags, sequence number and appended acks, a Prepared of it encodes to exactly
// the bytes Encode of the message gives.
func FuzzPreparedMatchesEncode(f *testing.F) {
	for _, m := range sampleMessages() {
		f.Add(m.AppendBody(nil), uint8(FlagReliable), uint32(7), uint8(2))
	}
	f.Add([]byte{}, uint8(0), uint32(0), uint8(0))
	f.Fuzz(func(t *testing.T, body []byte, flags uint8, seq uint32, nacks uint8) {
		acks := make([]uint32, int(nacks)%(MaxAppendedAcks+1))
		for i := range acks {
			acks[i] = seq + uint32(i)
		}
		for _, m := range sampleMessages() {
			if m.DecodeBody(body) != nil {
				continue
			}
			want := Encode([]byte("pre"), Flags(flags), seq, m, acks)
			if got := Encode([]byte("pre"), Flags(flags), seq, Prepare(m), acks); !bytes.Equal(got, want) {
				t.Fatalf("%s: prepared % x, want % x", m.ID(), got, want)
			}
		}
	})
}
