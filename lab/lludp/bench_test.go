package lludp

import (
	"testing"

	"github.com/google/uuid"
)

// benchAgentUpdate is the AgentUpdate of the round-trip benchmarks: a viewer standing still.
func benchAgentUpdate() *AgentUpdate {
	return &AgentUpdate{
		AgentID: agentID, SessionID: sessionID,
		BodyRotation: [3]float32{0, 0, 0.38268343}, HeadRotation: [3]float32{0, 0, 0.38268343},
		CameraCenter: [3]float32{128, 128, 25}, CameraAtAxis: [3]float32{1, 0, 0},
		CameraLeftAxis: [3]float32{0, 1, 0}, CameraUpAxis: [3]float32{0, 0, 1}, Far: 64,
	}
}

// benchRoundTrip encodes send (zero-coded) into a reused buffer, Decodes it and DecodeBodies it
// into a reused struct, which must come out as want.
func benchRoundTrip(b *testing.B, send Message, want *AgentUpdate) {
	var d Decoder
	var out AgentUpdate
	buf := make([]byte, 0, 512)
	seq := uint32(0)
	b.ReportAllocs()
	for b.Loop() {
		seq++
		buf = Encode(buf[:0], 0, seq, send, nil)
		p, err := d.Decode(buf)
		if err != nil {
			b.Fatal(err)
		}
		if err := out.DecodeBody(p.Body); err != nil {
			b.Fatal(err)
		}
	}
	if out != *want {
		b.Fatal("round trip changed the message")
	}
}

// BenchmarkAgentUpdateEncodeDecode is the viewer → region hot path through the general
// encoder: encode an AgentUpdate, Decode it and DecodeBody it. Target: ≤150 ns/op and 0
// allocs/op.
func BenchmarkAgentUpdateEncodeDecode(b *testing.B) {
	m := benchAgentUpdate()
	benchRoundTrip(b, m, m)
}

// BenchmarkPreparedAgentUpdateEncodeDecode is the same round trip as the lab's viewers make
// it: the AgentUpdate is prepared once (a viewer standing still sends the same one), so
// encoding is a copy of its bytes behind the header; decoding is as above.
func BenchmarkPreparedAgentUpdateEncodeDecode(b *testing.B) {
	m := benchAgentUpdate()
	benchRoundTrip(b, Prepare(m), m)
}

// BenchmarkDecodeRegionHandshake decodes a zero-coded, reliable RegionHandshake with one
// appended ack (the node-metaverse decode vector) and its body, into a reused struct.
func BenchmarkDecodeRegionHandshake(b *testing.B) {
	wire := Encode(nil, FlagReliable, 30, &RegionHandshake{
		SimAccess: 13, SimName: []byte("Test Region\x00"), SimOwner: agentID, IsEstateManager: true,
		WaterHeight: 20, BillableFactor: 1, CacheID: uuid.MustParse("99999999-8888-7777-6666-555555555555"),
		TerrainStartHeight00: 10, TerrainStartHeight01: 10, TerrainStartHeight10: 10, TerrainStartHeight11: 10,
		TerrainHeightRange00: 60, TerrainHeightRange01: 60, TerrainHeightRange10: 60, TerrainHeightRange11: 60,
		RegionID: uuid.MustParse("99999999-8888-7777-6666-555555555555"), CPURatio: 1, ProductName: []byte("Go Sim\x00"),
		RegionInfo4: []RegionInfo4{{RegionProtocols: 1}},
	}, []uint32{0})
	var d Decoder
	var m RegionHandshake
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		p, err := d.Decode(wire)
		if err != nil {
			b.Fatal(err)
		}
		if err := m.DecodeBody(p.Body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeRegionHandshake encodes (and zero-codes) a RegionHandshake into a reused buffer.
func BenchmarkEncodeRegionHandshake(b *testing.B) {
	m := &RegionHandshake{SimAccess: 13, SimName: []byte("Test Region\x00"), SimOwner: agentID,
		WaterHeight: 20, BillableFactor: 1, RegionID: sessionID, CPURatio: 1, ProductName: []byte("Go Sim\x00"),
		RegionInfo4: []RegionInfo4{{RegionProtocols: 1}}}
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = Encode(buf[:0], FlagReliable, 1, m, nil)
	}
}
