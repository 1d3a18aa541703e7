package circuit

import (
	"testing"
	"unsafe"
)

// TestHotFieldsInThreeLines: what every datagram sent or received reads of a circuit lies in
// its first three 64-byte cache lines, the lines Warm reads ahead; and a Circuit is a whole
// number of lines, so that the allocator's size class for it keeps every circuit on a line
// boundary. A field added in the wrong place, or one that makes the struct grow past a line,
// fails here rather than as a slower 100,000-viewer run.
func TestHotFieldsInThreeLines(t *testing.T) {
	var c Circuit
	if size := unsafe.Sizeof(c); size%64 != 0 {
		t.Errorf("a Circuit is %d bytes, not a whole number of 64-byte lines: pad or trim it (now %d bytes over)", size, size%64)
	}
	type field struct {
		name      string
		off, size uintptr
		line      uintptr
	}
	seen, runs := unsafe.Offsetof(c.seen), unsafe.Offsetof(c.seen.runs)
	for _, f := range []field{
		{"closed", unsafe.Offsetof(c.closed), unsafe.Sizeof(c.closed), 0},
		{"piggyback", unsafe.Offsetof(c.piggyback), unsafe.Sizeof(c.piggyback), 0},
		{"seq", unsafe.Offsetof(c.seq), unsafe.Sizeof(c.seq), 0},
		{"lastRecv", unsafe.Offsetof(c.lastRecv), unsafe.Sizeof(c.lastRecv), 0},
		{"link", unsafe.Offsetof(c.link), unsafe.Sizeof(c.link), 0},
		{"clock", unsafe.Offsetof(c.clock), unsafe.Sizeof(c.clock), 0},
		{"seen's head", seen, runs, 0},
		{"seen.runs", seen + runs, unsafe.Sizeof(c.seen.runs), 1},
		{"acks", unsafe.Offsetof(c.acks), unsafe.Sizeof(c.acks), 2},
		{"stats.PacketsSent … BytesReceived", unsafe.Offsetof(c.stats), unsafe.Offsetof(c.stats.BytesReceived) + 8, 2},
	} {
		if last := f.off + f.size - 1; f.off/64 != f.line || last/64 != f.line {
			t.Errorf("%s is at bytes %d-%d of the circuit, want it all in cache line %d (bytes %d-%d)", f.name, f.off, last, f.line, 64*f.line, 64*f.line+63)
		}
	}
}
