package msgs

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"gridlab/lab/lludp"
)

// /work/main is the repository and /work/shared the shared folder; this package is
// /work/main/lab/lludp/msgs.
const sharedProtocol = "../../../../shared/protocol"

func TestLayoutsMatchTable(t *testing.T) {
	all := All()
	require.Len(t, all, 483)
	for _, l := range all {
		in, ok := lludp.Lookup(l.ID)
		require.True(t, ok, "%s 0x%08X not in lludp's table", l.Name, uint32(l.ID))
		require.Equal(t, in.Name, l.Name)
		got, ok := LookupName(l.Name)
		require.True(t, ok)
		require.Same(t, l, got)
	}
	// Spot checks against the template text.
	l, _ := Lookup(IDRegionHandshake)
	require.Equal(t, "RegionInfo4", l.Blocks[3].Name)
	require.Equal(t, VariableBlock, l.Blocks[3].Kind)
	l, _ = LookupName("ObjectUpdate")
	require.Equal(t, lludp.MsgObjectUpdate, l.ID)
	l, _ = LookupName("TestMessage")
	require.Equal(t, MultipleBlock, l.Blocks[1].Kind)
	require.Equal(t, 4, l.Blocks[1].Count)
}

// TestGeneratedUpToDate regenerates the layouts from the template and compares.
func TestGeneratedUpToDate(t *testing.T) {
	tmpl := filepath.Join(sharedProtocol, "message_template.msg")
	if _, err := os.Stat(tmpl); err != nil {
		t.Skipf("template not found: %v", err)
	}
	if testing.Short() {
		t.Skip("runs the generator")
	}
	out := filepath.Join(t.TempDir(), "layouts_gen.go")
	cmd := exec.Command("go", "run", "./gen", "-o", out, tmpl)
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", b)
	want, err := os.ReadFile(out)
	require.NoError(t, err)
	got, err := os.ReadFile("layouts_gen.go")
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, got), "layouts_gen.go is stale: run go generate ./lab/lludp/msgs")
}

// randomMessage fills every field of message l with values drawn from r. Floats are small
// integers over 8 (never NaN), quaternions unit ones.
func randomMessage(r *rand.Rand, l *Layout) *Message {
	m, _ := New(l.ID)
	for i := range l.Blocks {
		bl := &l.Blocks[i]
		if bl.Kind == VariableBlock {
			m.Blocks[i].Entries = make([]Entry, r.IntN(4))
		}
		for j := range m.Blocks[i].Entries {
			e := make(Entry, len(bl.Fields))
			for k, f := range bl.Fields {
				e[k] = randomValue(r, f)
			}
			m.Blocks[i].Entries[j] = e
		}
	}
	return m
}

func randomValue(r *rand.Rand, f FieldLayout) any {
	fl := func() float32 { return float32(r.IntN(2001)-1000) / 8 }
	switch f.Type {
	case U8:
		return uint8(r.Uint32())
	case U16, IPPort:
		return uint16(r.Uint32())
	case U32:
		return r.Uint32()
	case U64:
		return r.Uint64()
	case S8:
		return int8(r.Uint32())
	case S16:
		return int16(r.Uint32())
	case S32:
		return int32(r.Uint32())
	case S64:
		return int64(r.Uint64())
	case F32:
		return fl()
	case F64:
		return float64(fl())
	case Vector3:
		return [3]float32{fl(), fl(), fl()}
	case Vector3d:
		return [3]float64{float64(fl()), float64(fl()), float64(fl())}
	case Vector4:
		return [4]float32{fl(), fl(), fl(), fl()}
	case Quaternion:
		x, y, z := float32(r.IntN(5))/8, float32(r.IntN(5))/8, float32(r.IntN(5))/8
		return [4]float32{x, y, z, ImpliedW(x, y, z)}
	case UUID:
		var u uuid.UUID
		for i := range u {
			u[i] = byte(r.Uint32())
		}
		return u
	case Bool:
		return r.IntN(2) == 1
	case IPAddr:
		return [4]byte{byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32())}
	case Variable:
		n := r.IntN(12)
		if n == 0 {
			return []byte(nil)
		}
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.IntN(3)) // zeros and non-zeros, for the zero-coder
		}
		return b
	case Fixed:
		b := make([]byte, f.Size)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	panic("unknown type")
}

// TestEveryMessageRoundTrips encodes and decodes random values of all 483 messages, as bodies,
// as whole packets (zero-coded or not, with acks) and through JSON, and checks that every
// truncation of a body is an error naming an offset inside it.
func TestEveryMessageRoundTrips(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, l := range All() {
		for round := range 4 {
			m := randomMessage(r, l)
			require.NoError(t, m.Validate(), l.Name)
			body := m.AppendBody(nil)

			got, n, err := Decode(l.ID, body)
			require.NoError(t, err, l.Name)
			require.Equal(t, len(body), n, l.Name)
			require.Equal(t, m.Blocks, got.Blocks, l.Name)

			for cut := 0; cut < len(body); cut++ {
				_, _, err := Decode(l.ID, body[:cut])
				require.Error(t, err, "%s cut at %d of %d", l.Name, cut, len(body))
				require.True(t, errors.Is(err, lludp.ErrMalformed))
				var de *DecodeError
				require.True(t, errors.As(err, &de))
				require.LessOrEqual(t, de.Offset, cut, err.Error())
			}

			p := &Packet{Flags: lludp.FlagReliable, Seq: uint32(r.IntN(1 << 24)), Message: m}
			if round%2 == 1 {
				p.Flags |= lludp.FlagZerocoded
			}
			if round >= 2 {
				p.Acks = []uint32{1, 0x01020304}
				p.Flags |= lludp.FlagAcks
			}
			wire, err := p.AppendTo(nil)
			require.NoError(t, err)
			if l.Info().Zerocoded == (round%2 == 1) && round < 2 {
				// When the template's choice matches, lludp.Encode gives the same bytes,
				// unless its "only if not longer" rule decides otherwise.
				enc := lludp.Encode(nil, p.Flags, p.Seq, m, nil)
				if lludp.Flags(enc[0]) == p.Flags {
					require.Equal(t, enc, wire, l.Name)
				}
			}
			back, err := DecodePacket(wire)
			require.NoError(t, err, l.Name)
			require.Equal(t, p.Flags, back.Flags)
			require.Equal(t, p.Seq, back.Seq)
			require.Equal(t, m.Blocks, back.Message.Blocks)
			require.Equal(t, len(p.Acks), len(back.Acks))

			js, err := json.Marshal(back)
			require.NoError(t, err)
			var fromJSON Packet
			require.NoError(t, json.Unmarshal(js, &fromJSON), "%s", js)
			again, err := fromJSON.AppendTo(nil)
			require.NoError(t, err)
			require.Equal(t, wire, again, "%s via %s", l.Name, js)
		}
	}
}

// handWritten is every message package lludp has a hand-written codec for.
func handWritten() []lludp.Message {
	var out []lludp.Message
	for _, id := range lludp.Implemented() {
		out = append(out, lludp.New(id))
	}
	return append(out,
		new(lludp.AgentWearablesRequest), new(lludp.RequestRegionInfo), new(lludp.AgentDataUpdateRequest),
		new(lludp.AgentWearablesUpdate), new(lludp.RegionInfo), new(lludp.MapNameRequest),
		new(lludp.MapBlockReply), new(lludp.AgentDataUpdate), new(lludp.EconomyDataRequest),
		new(lludp.EconomyData), new(lludp.UUIDNameRequest), new(lludp.UUIDNameReply),
		new(lludp.KillObject), new(lludp.LayerData), new(lludp.ObjectUpdate))
}

// TestHandWrittenAgree checks that for every hand-written codec of package lludp the generic
// encoding of the same values gives the same bytes: a random generic message decodes with the
// hand-written DecodeBody, re-encodes with its AppendBody to the same body, and both give the
// same datagram through lludp.Encode.
func TestHandWrittenAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, hw := range handWritten() {
		l, ok := Lookup(hw.ID())
		require.True(t, ok, hw.ID().String())
		for range 50 {
			g := randomMessage(r, l)
			body := g.AppendBody(nil)
			require.NoError(t, hw.DecodeBody(body), "%s: %x", l.Name, body)
			require.Equal(t, hex.EncodeToString(body), hex.EncodeToString(hw.AppendBody(nil)), l.Name)
			require.Equal(t, lludp.Encode(nil, lludp.FlagReliable, 7, g, []uint32{9}),
				lludp.Encode(nil, lludp.FlagReliable, 7, hw, []uint32{9}), l.Name)
		}
	}
}

// ---- the node-metaverse vectors ----

type vector struct {
	Kind     string          `json:"kind"`
	Message  string          `json:"message"`
	Flags    int             `json:"flags"`
	Sequence uint32          `json:"sequence"`
	Fields   json.RawMessage `json:"fields"`
	Hex      string          `json:"hex"`
	PlainHex string          `json:"plain_hex"`
	InputHex string          `json:"input_hex"`
	Acks     []uint32        `json:"appended_acks"`
}

func loadVectors(t testing.TB) []vector {
	src, err := os.ReadFile(filepath.Join(sharedProtocol, "captures", "node-metaverse_packet_vectors.jsonl"))
	if os.IsNotExist(err) {
		t.Skip("packet vectors not found")
	}
	require.NoError(t, err)
	var out []vector
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var v vector
		require.NoError(t, json.Unmarshal(sc.Bytes(), &v))
		out = append(out, v)
	}
	return out
}

func decodeJSON(t testing.TB, b []byte) any {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	require.NoError(t, d.Decode(&v))
	return v
}

// sameFields compares a vector's fields (want) with ours field by field: every key on both
// sides, numbers by value (a quaternion's w, which the vectors compute in float64, within
// 1e-6), Variable fields by hex (and by text when both sides render it).
func sameFields(t *testing.T, path string, want, got any) {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		require.True(t, ok, "%s: want an object, got %v", path, got)
		for k, wv := range w {
			gv, ok := g[k]
			if !ok && k == "text" {
				continue // the vectors also render binary data as (lossy) text; the hex decides
			}
			require.True(t, ok, "%s.%s missing", path, k)
			sameFields(t, path+"."+k, wv, gv)
		}
		for k := range g {
			_, ok := w[k]
			require.True(t, ok || k == "text", "%s.%s not in the vector", path, k)
		}
	case []any:
		g, ok := got.([]any)
		require.True(t, ok, "%s: want an array, got %v", path, got)
		require.Len(t, g, len(w), path)
		for i := range w {
			sameFields(t, path, w[i], g[i])
		}
	case json.Number:
		g, ok := got.(json.Number)
		require.True(t, ok, "%s: want a number, got %v", path, got)
		wf, _ := w.Float64()
		gf, _ := g.Float64()
		require.InDelta(t, wf, gf, 1e-6, path)
	default:
		require.Equal(t, want, got, path)
	}
}

func TestVectors(t *testing.T) {
	vs := loadVectors(t)
	require.NotEmpty(t, vs)
	for _, v := range vs {
		for _, h := range []string{v.Hex, v.PlainHex, v.InputHex} {
			if h == "" {
				continue
			}
			wire, err := hex.DecodeString(h)
			require.NoError(t, err)
			p, err := DecodePacket(wire)
			require.NoError(t, err, "%s %s", v.Message, h)
			require.Equal(t, v.Message, p.Message.Layout.Name)
			require.Equal(t, v.Sequence, p.Seq)
			if h != v.PlainHex {
				require.Equal(t, v.Flags, int(p.Flags), v.Message)
			}
			require.Equal(t, len(v.Acks), len(p.Acks))
			for i := range v.Acks {
				require.Equal(t, v.Acks[i], p.Acks[i])
			}
			require.Empty(t, p.Trailing)

			fields, err := p.Message.MarshalJSON()
			require.NoError(t, err)
			sameFields(t, v.Message, decodeJSON(t, v.Fields), decodeJSON(t, fields))

			again, err := p.AppendTo(nil)
			require.NoError(t, err)
			require.Equal(t, h, hex.EncodeToString(again), v.Message)

			// The vector's own JSON, as `gridlab packet encode` would read it, gives the bytes.
			var fromVec Packet
			line, _ := json.Marshal(map[string]any{"message": v.Message, "flags": int(p.Flags), "sequence": v.Sequence,
				"fields": v.Fields, "appended_acks": v.Acks})
			require.NoError(t, json.Unmarshal(line, &fromVec), "%s", line)
			enc, err := fromVec.AppendTo(nil)
			require.NoError(t, err)
			require.Equal(t, h, hex.EncodeToString(enc), "%s from the vector's fields", v.Message)
		}
	}
}

func TestDecodePacketErrors(t *testing.T) {
	for _, c := range []struct{ hex, want string }{
		{"4000", "offset 0"},
		{"400000000100ffff0003", "CircuitCode.Code at body offset 0"},
		{"400000000100ffff000315cd5b07aaaa", "field CircuitCode.SessionID at body offset 4: LLUUID needs 16 bytes, have 2 (packet offset 14)"},
		{"400000000100ffff7777", "message number 0xFFFF7777 at offset 6: expected a message of the template"},
		{"000000000500fffffffb05020000", "block Packets at body offset 0: count 5"},
		{"c00000000300ffff00019511", "(packet offset 10 of the zero-expanded packet)"},
	} {
		b, err := hex.DecodeString(c.hex)
		require.NoError(t, err)
		_, err = DecodePacket(b)
		require.Error(t, err, c.hex)
		require.True(t, errors.Is(err, lludp.ErrMalformed), err.Error())
		require.Contains(t, err.Error(), c.want)
	}
}

func TestMessageFromJSONErrors(t *testing.T) {
	for _, c := range []struct{ js, want string }{
		{`{"message":"Nope"}`, `message "Nope" is not in the template`},
		{`{"message":"UseCircuitCode","fields":{"CircuitCode":{"Code":-1}}}`, "CircuitCode.Code (U32)"},
		{`{"message":"UseCircuitCode","fields":{"CircuitCode":{"Cod":1}}}`, `no field "Cod"`},
		{`{"message":"UseCircuitCode","fields":{"Circuit":{}}}`, `no block "Circuit"`},
		{`{"message":"PacketAck","fields":{"Packets":{"ID":1}}}`, "must be an array"},
		{`{"message":"TestMessage","fields":{"NeighborBlock":[]}}`, "Multiple 4: 0 entries"},
	} {
		var p Packet
		err := json.Unmarshal([]byte(c.js), &p)
		require.Error(t, err, c.js)
		require.Contains(t, err.Error(), c.want)
	}
	// Missing fields are zero; text is taken as is.
	var p Packet
	require.NoError(t, json.Unmarshal([]byte(`{"message":"ChatFromViewer","flag_names":["RELIABLE"],"sequence":9,"fields":{"ChatData":{"Message":{"text":"hi\u0000"},"Channel":0}}}`), &p))
	require.Equal(t, []byte("hi\x00"), p.Message.Field("ChatData", 0, "Message"))
	require.Equal(t, lludp.FlagReliable, p.Flags)
	require.Equal(t, uuid.Nil, p.Message.Field("AgentData", 0, "AgentID"))
}

func TestQuaternionSign(t *testing.T) {
	l, _ := LookupName("AgentUpdate")
	m, _ := New(l.ID)
	m.Blocks[0].Entries[0][2] = [4]float32{0.5, 0.5, 0.5, -0.5}
	got, _, err := Decode(l.ID, m.AppendBody(nil))
	require.NoError(t, err)
	q := got.Blocks[0].Entries[0][2].([4]float32)
	require.Equal(t, [4]float32{-0.5, -0.5, -0.5, 0.5}, q)
	require.False(t, math.IsNaN(float64(ImpliedW(2, 0, 0))))
}
