package lludp

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	agentID   = uuid.MustParse("11111111-2222-3333-4444-555555555555")
	sessionID = uuid.MustParse("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee")
)

// sampleMessages returns one non-trivial value of every implemented message.
func sampleMessages() []Message {
	many := make([]uint32, 255)
	for i := range many {
		many[i] = uint32(i) * 0x01010101
	}
	return []Message{
		&UseCircuitCode{Code: 123456789, SessionID: sessionID, AgentID: agentID},
		&PacketAck{IDs: []uint32{1, 2, 0xFFFFFFFF}},
		&PacketAck{IDs: many},
		&CompleteAgentMovement{AgentID: agentID, SessionID: sessionID, CircuitCode: 42},
		&RegionHandshake{
			RegionFlags: 0x10000, SimAccess: 13, SimName: []byte("Test Region\x00"), SimOwner: agentID,
			IsEstateManager: true, WaterHeight: 20, BillableFactor: 1, CacheID: sessionID,
			TerrainBase2: agentID, TerrainDetail3: sessionID, TerrainStartHeight10: 10, TerrainHeightRange11: 60,
			RegionID: agentID, CPUClassID: -1, CPURatio: 1, ColoName: []byte("colo"), ProductName: []byte("Go Sim\x00"),
			RegionInfo4: []RegionInfo4{{RegionFlagsExtended: 1 << 40, RegionProtocols: 1 << 63}, {}},
		},
		&RegionHandshake{}, // all zero, no RegionInfo4
		&RegionHandshakeReply{AgentID: agentID, SessionID: sessionID, Flags: 7},
		&AgentMovementComplete{AgentID: agentID, SessionID: sessionID, Position: [3]float32{128, 128, 25},
			LookAt: [3]float32{1, 0, 0}, RegionHandle: 0x0003E8000003E800, Timestamp: 1700000000,
			ChannelVersion: bytes.Repeat([]byte("v"), 1000)},
		&AgentUpdate{AgentID: agentID, SessionID: sessionID, BodyRotation: [3]float32{0, 0, 0.7071},
			State: 2, CameraCenter: [3]float32{128, 128, 25}, CameraAtAxis: [3]float32{1, 0, 0},
			CameraLeftAxis: [3]float32{0, 1, 0}, CameraUpAxis: [3]float32{0, 0, 1}, Far: 128, ControlFlags: 1 << 31, Flags: 1},
		&AgentUpdate{},
		&StartPingCheck{PingID: 255, OldestUnacked: 0x00FFFFFF},
		&CompletePingCheck{PingID: 7},
		&LogoutRequest{AgentID: agentID, SessionID: sessionID},
		&LogoutReply{AgentID: agentID, SessionID: sessionID, ItemIDs: []uuid.UUID{uuid.Nil, agentID}},
		&CloseCircuit{},
		&DisableSimulator{},
	}
}

// TestRoundTrip: every implemented message, with every flag combination the caller may pass
// and with 0, 1 or 255 appended acks, must come back from Decode + DecodeBody unchanged; the
// caller's Reliable/Resent bits survive, FlagAcks is set exactly when acks were appended, and
// FlagZerocoded is set only for Zerocoded messages.
func TestRoundTrip(t *testing.T) {
	ackSets := [][]uint32{nil, {0}, make([]uint32, 255)}
	for i := range ackSets[2] {
		ackSets[2][i] = uint32(i) << 16
	}
	var d Decoder
	var buf []byte
	for _, m := range sampleMessages() {
		for _, flags := range []Flags{0, FlagReliable, FlagReliable | FlagResent, FlagZerocoded | FlagAcks} {
			for _, acks := range ackSets {
				name := fmt.Sprintf("%s/flags=%#x/acks=%d", m.ID(), flags, len(acks))
				buf = Encode(buf[:0], flags, 0x00ABCDEF, m, acks)
				p, err := d.Decode(buf)
				require.NoError(t, err, name)
				require.Equal(t, m.ID(), p.ID, name)
				require.Equal(t, uint32(0x00ABCDEF), p.Seq, name)
				require.Equal(t, flags&(FlagReliable|FlagResent), p.Flags&(FlagReliable|FlagResent), name)
				require.Equal(t, len(acks) > 0, p.Flags&FlagAcks != 0, name)
				if p.Flags&FlagZerocoded != 0 {
					require.True(t, zerocoded(m.ID()), "%s: only Zerocoded messages are zero-coded", name)
				}
				if len(acks) > 0 {
					require.Equal(t, acks, p.Acks, name)
				} else {
					require.Empty(t, p.Acks, name)
				}
				back := New(p.ID)
				require.NoError(t, back.DecodeBody(p.Body), name)
				require.Equal(t, m, back, name)
			}
		}
	}
}

// TestPreparedEncodesAsItsMessage: a Prepared message gives exactly the bytes of its message,
// for every message, flag combination and set of appended acks, after whatever dst held; and
// DecodeBody keeps the two in step.
func TestPreparedEncodesAsItsMessage(t *testing.T) {
	for _, m := range sampleMessages() {
		p := Prepare(m)
		require.Equal(t, m.ID(), p.ID())
		require.Equal(t, m.AppendBody(nil), p.AppendBody(nil), "%s: the plain body is the message's", m.ID())
		for _, flags := range []Flags{0, FlagReliable | FlagResent, FlagZerocoded | FlagAcks} {
			for _, acks := range [][]uint32{nil, {7, 0xFFFFFFFF}} {
				want := Encode([]byte("pre"), flags, 0x00ABCDEF, m, acks)
				got := Encode([]byte("pre"), flags, 0x00ABCDEF, p, acks)
				require.Equal(t, want, got, "%s flags %#x acks %d", m.ID(), flags, len(acks))
			}
		}
	}
	au := &AgentUpdate{Far: 64}
	p := Prepare(au)
	other := (&AgentUpdate{AgentID: agentID, State: 3}).AppendBody(nil)
	require.NoError(t, p.DecodeBody(other))
	assert.Equal(t, agentID, au.AgentID, "decoded into the message")
	assert.Equal(t, Encode(nil, 0, 1, au, nil), Encode(nil, 0, 1, p, nil), "and prepared again")
	require.Error(t, p.DecodeBody(other[:3]), "a short body is an error, as for the message")
}

// TestEncodeAppends: Encode appends to dst and leaves what was there alone.
func TestEncodeAppends(t *testing.T) {
	prefix := []byte("prefix")
	out := Encode(append([]byte{}, prefix...), FlagReliable, 9, &AgentUpdate{}, []uint32{1})
	require.Equal(t, prefix, out[:len(prefix)])
	var d Decoder
	p, err := d.Decode(out[len(prefix):])
	require.NoError(t, err)
	require.Equal(t, MsgAgentUpdate, p.ID)
	require.Equal(t, []uint32{1}, p.Acks)
}

// TestEncodeZeroCodingDecision: a Zerocoded message is sent zero-coded when that is not
// longer than the plain form and plain when it would grow; an Unencoded message is never
// zero-coded however many zeros it has. In every case the message number follows the header
// (uncoded High id 04; coded Low id FF FF 00 01 94 for RegionHandshake, as OpenSim sends it).
func TestEncodeZeroCodingDecision(t *testing.T) {
	ones := [3]float32{1, 1, 1}
	tests := []struct {
		name    string
		m       Message
		zeroed  bool
		idBytes string
	}{
		{"all-zero AgentUpdate shrinks", &AgentUpdate{}, true, "04"},
		{"all-zero RegionHandshake shrinks", &RegionHandshake{}, true, "ffff000194"},
		{"AgentUpdate with isolated zero bytes would grow", &AgentUpdate{
			AgentID: uuid.UUID{1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0}, SessionID: uuid.UUID{1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0},
			BodyRotation: ones, HeadRotation: ones, State: 1, CameraCenter: ones, CameraAtAxis: ones, CameraLeftAxis: ones,
			CameraUpAxis: ones, Far: 1, ControlFlags: 0x01010101, Flags: 1,
		}, false, "04"},
		{"Unencoded UseCircuitCode stays plain despite 36 zero bytes", &UseCircuitCode{}, false, "ffff0003"},
		{"Unencoded PacketAck stays plain", &PacketAck{IDs: []uint32{0, 0, 0}}, false, "fffffffb"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			plainLen := HeaderSize + tc.m.ID().numLen() + len(tc.m.AppendBody(nil))
			out := Encode(nil, FlagReliable, 1, tc.m, nil)
			require.Equal(t, tc.zeroed, Flags(out[0])&FlagZerocoded != 0, "zero-coded flag")
			if tc.zeroed {
				require.Less(t, len(out), plainLen)
			} else {
				require.Equal(t, plainLen, len(out))
			}
			require.Equal(t, tc.idBytes, hex.EncodeToString(out[HeaderSize:HeaderSize+len(tc.idBytes)/2]))
			var d Decoder
			p, err := d.Decode(out)
			require.NoError(t, err)
			require.Equal(t, tc.m.ID(), p.ID)
			require.Equal(t, tc.m.AppendBody(nil), p.Body)
		})
	}
}

// TestZeroCode: zero-coding turns each run of zeros into 00 <count> with count 1..255, splits
// longer runs (255 → 00 FF, 256 → 00 FF 00 01), codes trailing zeros as a final run, and
// zero-expanding the result gives the input back.
func TestZeroCode(t *testing.T) {
	z := func(n int) []byte { return make([]byte, n) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name  string
		plain []byte
		coded string
	}{
		{"empty", nil, ""},
		{"no zeros", []byte{1, 2, 3}, "010203"},
		{"single zero", []byte{0}, "0001"},
		{"leading and trailing zeros", cat(z(3), []byte{7}, z(2)), "00030700 02"},
		{"run of 254", z(254), "00fe"},
		{"run of 255", z(255), "00ff"},
		{"run of 256", z(256), "00ff0001"},
		{"run of 257 then data", cat(z(257), []byte{9}), "00ff000209"},
		{"run of 510", z(510), "00ff00ff"},
		{"run of 511", z(511), "00ff00ff0001"},
		{"trailing run of 300", cat([]byte{5}, z(300)), "0500ff002d"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := strings.ReplaceAll(tc.coded, " ", "")
			got := zeroCode(nil, tc.plain)
			require.Equal(t, want, hex.EncodeToString(got))
			// zeroExpand works on a datagram; give it a 6-byte header.
			back, err := zeroExpand(nil, append(make([]byte, HeaderSize), got...), HeaderSize)
			require.NoError(t, err)
			require.Equal(t, len(tc.plain), len(back))
			require.True(t, bytes.Equal(tc.plain, back))
		})
	}
}

// TestZeroExpandDoubleZero: like LL's reader, a run count of 0 (00 00) expands to 256 zeros.
func TestZeroExpandDoubleZero(t *testing.T) {
	got, err := zeroExpand(nil, []byte{0, 0, 0, 0, 0, 0, 0, 0, 7}, HeaderSize)
	require.NoError(t, err)
	require.Equal(t, append(make([]byte, 256), 7), got)
}

// TestZeroRunNeverCrossesIntoAcks: a zero-coded body that ends in zeros followed by appended
// acks that start with zero bytes must keep the two apart: the body's last run is closed
// (00 <count>) before the acks, the acks are raw big-endian U32s plus a count byte, and the
// receiver strips them before expanding, so both come back intact.
func TestZeroRunNeverCrossesIntoAcks(t *testing.T) {
	m := &AgentUpdate{AgentID: agentID, Far: 64} // ends with ControlFlags=0, Flags=0: 5 zero bytes
	acks := []uint32{0, 1, 0x100}
	out := Encode(nil, FlagReliable, 3, m, acks)
	require.Equal(t, FlagZerocoded|FlagReliable|FlagAcks, Flags(out[0]))
	tail := out[len(out)-13:]
	require.Equal(t, "00000000"+"00000001"+"00000100"+"03", hex.EncodeToString(tail), "acks are appended raw, never zero-coded")
	require.Equal(t, "0005", hex.EncodeToString(out[len(out)-15:len(out)-13]), "the body's trailing run is closed before the acks")

	var d Decoder
	p, err := d.Decode(out)
	require.NoError(t, err)
	require.Equal(t, acks, p.Acks)
	var back AgentUpdate
	require.NoError(t, back.DecodeBody(p.Body))
	require.Equal(t, *m, back)
	require.Len(t, p.Body, agentUpdateSize, "no ack byte leaked into the body")
}

// TestDecodeExtraHeader: byte 5 announces extra header bytes; Decode skips that many bytes
// before the message number (OpenSim's placement), in plain and zero-coded packets.
func TestDecodeExtraHeader(t *testing.T) {
	var d Decoder
	// plain: 3 extra bytes, then StartPingCheck id 01, PingID 9, OldestUnacked 5.
	p, err := d.Decode(unhex(t, "400000000703"+"aabbcc"+"01"+"0905000000"))
	require.NoError(t, err)
	require.Equal(t, MsgStartPingCheck, p.ID)
	require.Equal(t, uint32(7), p.Seq)
	var ping StartPingCheck
	require.NoError(t, ping.DecodeBody(p.Body))
	require.Equal(t, StartPingCheck{PingID: 9, OldestUnacked: 5}, ping)

	// zero-coded: 2 extra zero bytes (coded 00 02), then AgentUpdate id 04 and its 114-byte all-zero body (00 72).
	p, err = d.Decode(unhex(t, "800000000802"+"0002"+"04"+"0072"))
	require.NoError(t, err)
	require.Equal(t, MsgAgentUpdate, p.ID)
	require.Equal(t, make([]byte, agentUpdateSize), p.Body)
}

// TestDecodeAppendedAcks: acks are read big-endian from the raw tail; a count of 0 with
// FlagAcks set is consistent (one count byte, no acks) and accepted; and a zero-coded packet's
// acks are stripped before expanding, even when the coded body ends in a run.
func TestDecodeAppendedAcks(t *testing.T) {
	var d Decoder
	p, err := d.Decode(unhex(t, "100000000100"+"0201"+"00"))
	require.NoError(t, err)
	require.Equal(t, MsgCompletePingCheck, p.ID)
	require.Empty(t, p.Acks)
	require.Equal(t, []byte{1}, p.Body)

	p, err = d.Decode(unhex(t, "900000000100"+"0201"+"0003"+"0000000a"+"ffffffff"+"02"))
	require.NoError(t, err)
	require.Equal(t, []uint32{10, 0xFFFFFFFF}, p.Acks)
	require.Equal(t, []byte{1, 0, 0, 0}, p.Body)
}

// TestDecodeMessageNumbers: 1-, 2- and 4-byte message numbers decode to the canonical IDs,
// including OpenSim's zero-coded RegionHandshake header FF FF 00 01 94.
func TestDecodeMessageNumbers(t *testing.T) {
	tests := []struct {
		hex  string
		id   MsgID
		name string
	}{
		{"00000000010004", MsgAgentUpdate, "AgentUpdate"},
		{"000000000100ff11", 0xFF11, "ViewerEffect"},
		{"000000000100ffff0094", MsgRegionHandshake, "RegionHandshake"},
		{"800000000100ffff000194", MsgRegionHandshake, "RegionHandshake"},
		{"000000000100fffffffd", MsgCloseCircuit, "CloseCircuit"},
		{"000000000100ffff0fff", 0xFFFF0FFF, "Unknown(0xffff0fff)"},
		{"00000000010040", 0x40, "Unknown(0x40)"},
	}
	var d Decoder
	for _, tc := range tests {
		p, err := d.Decode(unhex(t, tc.hex))
		require.NoError(t, err, tc.hex)
		require.Equal(t, tc.id, p.ID, tc.hex)
		require.Equal(t, tc.name, p.ID.String(), tc.hex)
		require.Empty(t, p.Body)
	}
}

// TestEncodeMessageNumbers: Encode writes High ids as 1 byte, Medium as FF N, Low and Fixed as
// FF FF hi lo, and always writes 0 in byte 5.
func TestEncodeMessageNumbers(t *testing.T) {
	for _, tc := range []struct {
		id  MsgID
		hex string
	}{
		{MsgStartPingCheck, "01"}, {0xFF11, "ff11"}, {MsgLogoutReply, "ffff00fd"}, {MsgPacketAck, "fffffffb"}, {0xFFFF0182, "ffff0182"},
	} {
		out := Encode(nil, FlagResent, 0x01020304, rawMessage{id: tc.id}, nil)
		require.Equal(t, FlagResent, Flags(out[0])&^FlagZerocoded) // ViewerEffect is Zerocoded; with no zeros, coding costs nothing
		require.Equal(t, "0102030400"+tc.hex, hex.EncodeToString(out[1:]))
	}
	require.Panics(t, func() { Encode(nil, 0, 0, rawMessage{id: 0x1234}, nil) }, "an ID that is neither High, Medium nor Low cannot be encoded")
}

// TestDecodeMalformed: every malformed datagram or body is rejected with an error that names
// the offset and what was expected, and wraps ErrMalformed.
func TestDecodeMalformed(t *testing.T) {
	bomb := append(unhex(t, "800000000100"+"04"), bytes.Repeat([]byte{0, 0xFF}, 40)...)
	tests := []struct {
		name string
		hex  string
		raw  []byte
		want string
	}{
		{"empty", "", nil, "packet too short: 0 bytes, need at least 7 (offset 0)"},
		{"five bytes", "4000000001", nil, "packet too short: 5 bytes, need at least 7 (offset 0)"},
		{"header only", "400000000100", nil, "packet too short: 6 bytes"},
		{"too long", "", make([]byte, MaxPacketSize+1), "packet too long: 8193 bytes, at most 8192 (offset 8192)"},
		{"ack count larger than the packet", "10000000010001" + "00000001" + "05", nil,
			"appended ack count 5 at offset 11: 5 acks need 21 bytes after a packet of at least 7, the datagram has 12"},
		{"ack count eats the message number", "100000000100" + "00000001" + "01", nil, "appended ack count 1 at offset 10"},
		{"lone zero at end of zero-coded data", "80000000010004aa00", nil, "zero-code run at offset 8 has no count byte"},
		{"zero-code bomb", "", bomb, "zero-code run at offset 71 expands past 8192 bytes"},
		{"lone FF medium number", "000000000100ff", nil, "message number at offset 6: need at least 2 bytes after FF, have 1"},
		{"truncated low number", "000000000100ffff00", nil, "message number at offset 6: need 4 bytes, have 3"},
		{"truncated coded low number", "800000000100ffff0001", nil, "message number at offset 6 of the zero-expanded packet: need 4 bytes, have 3"},
		{"extra header swallows everything", "00000000010504", nil, "extra header of 5 bytes (byte 5) leaves no room for the message number at offset 11: 0 bytes left"},
	}
	var d Decoder
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.raw
			if in == nil {
				in = unhex(t, tc.hex)
			}
			_, err := d.Decode(in)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
			require.Contains(t, err.Error(), "offset")
			require.ErrorIs(t, err, ErrMalformed)
			_, ok := ErrorOffset(err)
			require.True(t, ok)
		})
	}
}

// TestDecodeBodyMalformed: truncated or inconsistent bodies are rejected with errors naming
// the message, block, field, body offset, and the bytes needed and available.
func TestDecodeBodyMalformed(t *testing.T) {
	au := (&AgentUpdate{}).AppendBody(nil)
	rh := (&RegionHandshake{SimName: []byte("abc")}).AppendBody(nil)
	tests := []struct {
		name string
		m    Message
		body []byte
		want string
	}{
		{"AgentUpdate cut inside CameraCenter", &AgentUpdate{}, au[:60],
			"lludp: AgentUpdate: field AgentData.CameraCenter at body offset 57: need 12 bytes, have 3"},
		{"AgentUpdate missing Flags", &AgentUpdate{}, au[:len(au)-1], "field AgentData.Flags at body offset 113: need 1 byte, have 0"},
		{"empty UseCircuitCode", &UseCircuitCode{}, nil, "UseCircuitCode: field CircuitCode.Code at body offset 0: need 4 bytes, have 0"},
		{"PacketAck without count", &PacketAck{}, nil, "PacketAck: block Packets count at body offset 0: need 1 byte, have 0"},
		{"PacketAck count larger than data", &PacketAck{}, []byte{200, 1, 0, 0, 0}, "PacketAck: block Packets at body offset 1: 200 entries need at least 800 bytes, have 4"},
		{"RegionHandshake SimName longer than body", &RegionHandshake{}, []byte{0, 0, 0, 0, 0, 40, 'a'},
			"RegionHandshake: field RegionInfo.SimName at body offset 6: need 40 bytes, have 1"},
		{"RegionHandshake without RegionInfo4 count", &RegionHandshake{}, rh[:len(rh)-1], "block RegionInfo4 count at body offset"},
		{"RegionHandshake cut inside RegionInfo4[1]", &RegionHandshake{}, append(append(rh[:len(rh)-1:len(rh)-1], 2), make([]byte, 20)...),
			"block RegionInfo4 at body offset 238: 2 entries need at least 32 bytes, have 20"},
		{"RegionHandshake cut inside ProductName", &RegionHandshake{}, rh[:len(rh)-2], "field RegionInfo3.ProductName at body offset"},
		{"LogoutReply item list short", &LogoutReply{}, append(make([]byte, 32), 2, 1), "LogoutReply: block InventoryData at body offset 33: 2 entries need at least 32 bytes, have 1"},
		{"AgentMovementComplete ChannelVersion length", &AgentMovementComplete{}, append(make([]byte, 68), 0xFF, 0xFF),
			"field SimData.ChannelVersion at body offset 70: need 65535 bytes, have 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.m.DecodeBody(tc.body)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
			require.ErrorIs(t, err, ErrMalformed)
		})
	}
}

// TestEncodeLimits: more than 255 appended acks or Variable-block entries cannot be encoded
// and panic (a caller bug); Variable 1 data longer than 255 bytes is clamped, as LL does.
func TestEncodeLimits(t *testing.T) {
	require.Panics(t, func() { Encode(nil, 0, 0, &CompletePingCheck{}, make([]uint32, 256)) })
	require.NotPanics(t, func() { Encode(nil, 0, 0, &CompletePingCheck{}, make([]uint32, 255)) })
	require.Panics(t, func() { Encode(nil, 0, 0, &PacketAck{IDs: make([]uint32, 256)}, nil) })
	require.Panics(t, func() { Encode(nil, 0, 0, &LogoutReply{ItemIDs: make([]uuid.UUID, 256)}, nil) })

	m := &RegionHandshake{SimName: bytes.Repeat([]byte{'x'}, 300)}
	var d Decoder
	p, err := d.Decode(Encode(nil, 0, 0, m, nil))
	require.NoError(t, err)
	var back RegionHandshake
	require.NoError(t, back.DecodeBody(p.Body))
	require.Equal(t, bytes.Repeat([]byte{'x'}, 255), back.SimName)
}

// TestLookup: Lookup and String know the whole template (e.g. AgentThrottle, which this
// package has no codec for), and report Unknown(0x...) for anything else.
func TestLookup(t *testing.T) {
	info, ok := Lookup(0xFFFF0051)
	require.True(t, ok)
	assert.Equal(t, Info{Name: "AgentThrottle", ID: 0xFFFF0051, Frequency: Low, Number: 81, Zerocoded: true}, info)
	info, ok = Lookup(MsgPacketAck)
	require.True(t, ok)
	assert.Equal(t, Info{Name: "PacketAck", ID: 0xFFFFFFFB, Frequency: Fixed, Number: 0xFFFFFFFB}, info)
	info, ok = Lookup(MsgRegionHandshake)
	require.True(t, ok)
	assert.True(t, info.Trusted && info.Zerocoded)
	info, ok = Lookup(0xFFFF0097)
	require.True(t, ok)
	assert.True(t, info.UDPBlackListed, "EnableSimulator is UDPBlackListed")

	for _, id := range []MsgID{0, 0xFF, 0xFFFF, 0xFF00, 0x1234, 0xFFFF0000, 0xFFFF01FF, 0xFFFFFFFE, 0xFFFFFFFF} {
		_, ok := Lookup(id)
		assert.False(t, ok, "%#x", uint32(id))
		assert.Equal(t, fmt.Sprintf("Unknown(0x%x)", uint32(id)), id.String())
	}
	assert.Nil(t, New(0xFFFF0051), "no codec for AgentThrottle")
	assert.Len(t, Implemented(), 13)
}

// TestDecoderBuffersReused: Packet.Body and Packet.Acks alias the decoder's buffers, so they
// are overwritten by the next Decode, and a steady stream of packets decodes without
// allocating.
func TestDecoderBuffersReused(t *testing.T) {
	var d Decoder
	a := Encode(nil, FlagReliable, 1, &AgentUpdate{Far: 1}, []uint32{5})
	b := Encode(nil, FlagReliable, 2, &AgentUpdate{Far: 2}, []uint32{6})
	p, err := d.Decode(a)
	require.NoError(t, err)
	body := p.Body
	_, err = d.Decode(b)
	require.NoError(t, err)
	var m AgentUpdate
	require.NoError(t, m.DecodeBody(body))
	require.Equal(t, float32(2), m.Far, "the first packet's body was overwritten by the second Decode")

	allocs := testing.AllocsPerRun(100, func() {
		p, _ := d.Decode(a)
		_ = m.DecodeBody(p.Body)
	})
	require.Zero(t, allocs)
}
