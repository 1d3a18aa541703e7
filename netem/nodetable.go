package netem

// nodeTable finds the node behind an IPv4 address on a segment (forward's lookup for every
// packet): open addressing with linear probing, at most half full, each slot holding the address
// and its node together. At scale-100k a segment has 100,000 hosts, and the Go map this replaces
// walked its directory, a table header, a control word and then the slot, the last three likely
// cache misses for every datagram to a viewer (its lookup was 8 % of BenchmarkUDPScaleShape's
// cycles); here a lookup usually reads one slot, often one cache line.
type nodeTable struct {
	slots []nodeSlot // len is zero or a power of two
	shift uint8      // 64 - log2(len(slots))
	n     int
}

type nodeSlot struct {
	node segNode // zero: the slot is empty
	addr uint32
}

func (t *nodeTable) home(a uint32) int {
	return int((uint64(a) * 0x9E3779B97F4A7C15) >> t.shift) // Fibonacci hashing: top bits
}

// get returns a's node, or the zero segNode.
func (t *nodeTable) get(a uint32) segNode {
	if len(t.slots) == 0 {
		return segNode{}
	}
	mask := len(t.slots) - 1
	for i := t.home(a); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.addr == a || s.node.empty() {
			return s.node
		}
	}
}

// set makes nd (not empty) a's node.
func (t *nodeTable) set(a uint32, nd segNode) {
	if 2*(t.n+1) > len(t.slots) {
		t.resize(max(16, 2*len(t.slots)))
	}
	if t.insert(a, nd) {
		t.n++
	}
}

// insert puts a's node in its slot and reports whether a is new.
func (t *nodeTable) insert(a uint32, nd segNode) bool {
	mask := len(t.slots) - 1
	for i := t.home(a); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.node.empty() {
			s.addr, s.node = a, nd
			return true
		}
		if s.addr == a {
			s.node = nd
			return false
		}
	}
}

func (t *nodeTable) resize(size int) {
	old := t.slots
	t.slots = make([]nodeSlot, size)
	t.shift = 64
	for k := size; k > 1; k >>= 1 {
		t.shift--
	}
	for i := range old {
		if s := &old[i]; !s.node.empty() {
			t.insert(s.addr, s.node)
		}
	}
}

func (nd segNode) empty() bool { return nd.h == nil && nd.r == nil }
