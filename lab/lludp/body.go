package lludp

import (
	"encoding/binary"
	"math"
	"strconv"

	"github.com/google/uuid"
)

// Limits of the block and field encodings.
const (
	MaxBlocks    = 255   // entries of a Variable block (1-byte count)
	MaxVariable1 = 255   // bytes of a Variable 1 field (1-byte length)
	MaxVariable2 = 65535 // bytes of a Variable 2 field (2-byte length)
)

// ---- encoding ----

func appendU8(b []byte, v uint8) []byte { return append(b, v) }
func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}
func appendU32(b []byte, v uint32) []byte { return binary.LittleEndian.AppendUint32(b, v) }
func appendS32(b []byte, v int32) []byte  { return binary.LittleEndian.AppendUint32(b, uint32(v)) }
func appendU64(b []byte, v uint64) []byte { return binary.LittleEndian.AppendUint64(b, v) }
func appendF32(b []byte, v float32) []byte {
	return binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
}
func appendUUID(b []byte, v uuid.UUID) []byte { return append(b, v[:]...) }
func appendVec3(b []byte, v [3]float32) []byte {
	b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v[0]))
	b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v[1]))
	return binary.LittleEndian.AppendUint32(b, math.Float32bits(v[2]))
}

func putVec3(s []byte, v [3]float32) {
	_ = s[11]
	binary.LittleEndian.PutUint32(s[0:4], math.Float32bits(v[0]))
	binary.LittleEndian.PutUint32(s[4:8], math.Float32bits(v[1]))
	binary.LittleEndian.PutUint32(s[8:12], math.Float32bits(v[2]))
}

// putVec3At and getVec3At are putVec3 and getVec3 for the fixed-offset fast paths: through
// pointers, nothing is copied through the stack and no index needs a check.
func putVec3At(s *[12]byte, v *[3]float32) {
	binary.LittleEndian.PutUint32(s[0:4], math.Float32bits(v[0]))
	binary.LittleEndian.PutUint32(s[4:8], math.Float32bits(v[1]))
	binary.LittleEndian.PutUint32(s[8:12], math.Float32bits(v[2]))
}

func getVec3At(v *[3]float32, s *[12]byte) {
	v[0] = math.Float32frombits(binary.LittleEndian.Uint32(s[0:4]))
	v[1] = math.Float32frombits(binary.LittleEndian.Uint32(s[4:8]))
	v[2] = math.Float32frombits(binary.LittleEndian.Uint32(s[8:12]))
}

func getVec3(s []byte) [3]float32 {
	_ = s[11]
	return [3]float32{
		math.Float32frombits(binary.LittleEndian.Uint32(s[0:4])),
		math.Float32frombits(binary.LittleEndian.Uint32(s[4:8])),
		math.Float32frombits(binary.LittleEndian.Uint32(s[8:12])),
	}
}

// appendVar1 appends a Variable 1 field. Like LL's message builder, it clamps data longer
// than 255 bytes to its first 255.
func appendVar1(b []byte, v []byte) []byte {
	if len(v) > MaxVariable1 {
		v = v[:MaxVariable1]
	}
	b = append(b, uint8(len(v)))
	return append(b, v...)
}

// appendVar2 appends a Variable 2 field, clamping data longer than 65535 bytes.
func appendVar2(b []byte, v []byte) []byte {
	if len(v) > MaxVariable2 {
		v = v[:MaxVariable2]
	}
	b = binary.LittleEndian.AppendUint16(b, uint16(len(v)))
	return append(b, v...)
}

// appendCount appends a Variable block's count. More than 255 entries cannot be encoded; that
// is a programming error in the caller (LL's builder treats it as fatal too), so it panics.
func appendCount(b []byte, msg, block string, n int) []byte {
	if n > MaxBlocks {
		panic("lludp: " + msg + ": block " + block + " has " + strconv.Itoa(n) + " entries, the wire format allows at most 255")
	}
	return append(b, uint8(n))
}

// ---- decoding ----

// reader walks a message body. Every read is bounds-checked: past the end it records the
// first error, naming the message, block, field and body offset, and returns zero values, so
// a decoder can read straight through and check r.err once.
type reader struct {
	b     []byte
	off   int
	msg   string // message name
	block string // current block
	idx   int    // entry of a Variable block, or -1
	err   error
}

func newReader(msg string, b []byte) reader {
	return reader{b: b, msg: msg, idx: -1}
}

func (r *reader) enter(block string, idx int) { r.block, r.idx = block, idx }

// take returns the next n bytes of field, or ok=false (and records the error).
func (r *reader) take(field string, n int) ([]byte, bool) {
	if r.err != nil {
		return nil, false
	}
	if n > len(r.b)-r.off {
		r.fail(field, n)
		return nil, false
	}
	s := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return s, true
}

func (r *reader) where(field string) string {
	w := r.block
	if r.idx >= 0 {
		w += "[" + strconv.Itoa(r.idx) + "]"
	}
	return w + "." + field
}

func (r *reader) fail(field string, n int) {
	have := len(r.b) - r.off
	r.err = errorf(r.off, "%s: field %s at body offset %d: need %d byte%s, have %d",
		r.msg, r.where(field), r.off, n, plural(n), have)
}

func (r *reader) u8(field string) uint8 {
	s, ok := r.take(field, 1)
	if !ok {
		return 0
	}
	return s[0]
}

func (r *reader) boolean(field string) bool { return r.u8(field) != 0 }

func (r *reader) u32(field string) uint32 {
	s, ok := r.take(field, 4)
	if !ok {
		return 0
	}
	return binary.LittleEndian.Uint32(s)
}

func (r *reader) s32(field string) int32 { return int32(r.u32(field)) }

func (r *reader) f32(field string) float32 { return math.Float32frombits(r.u32(field)) }

func (r *reader) u64(field string) uint64 {
	s, ok := r.take(field, 8)
	if !ok {
		return 0
	}
	return binary.LittleEndian.Uint64(s)
}

func (r *reader) uuid(field string) (u uuid.UUID) {
	s, ok := r.take(field, 16)
	if ok {
		copy(u[:], s)
	}
	return u
}

func (r *reader) vec3(field string) (v [3]float32) {
	s, ok := r.take(field, 12)
	if ok {
		v[0] = math.Float32frombits(binary.LittleEndian.Uint32(s))
		v[1] = math.Float32frombits(binary.LittleEndian.Uint32(s[4:]))
		v[2] = math.Float32frombits(binary.LittleEndian.Uint32(s[8:]))
	}
	return v
}

// var1 reads a Variable 1 field into dst's storage (dst[:0]), so a reused message does not
// allocate. An empty field leaves dst[:0], which is nil for a fresh message.
func (r *reader) var1(field string, dst []byte) []byte {
	n, ok := r.take(field, 1)
	if !ok {
		return dst[:0]
	}
	s, ok := r.take(field, int(n[0]))
	if !ok {
		return dst[:0]
	}
	return append(dst[:0], s...)
}

// var2 reads a Variable 2 field (2-byte little-endian length) into dst's storage.
func (r *reader) var2(field string, dst []byte) []byte {
	n, ok := r.take(field, 2)
	if !ok {
		return dst[:0]
	}
	s, ok := r.take(field, int(binary.LittleEndian.Uint16(n)))
	if !ok {
		return dst[:0]
	}
	return append(dst[:0], s...)
}

// count reads the 1-byte count of Variable block and checks that count entries of at least
// minSize bytes each can fit in what is left, so a bogus count cannot make the caller
// allocate for entries that are not there.
func (r *reader) count(block string, minSize int) int {
	r.enter(block, -1)
	if r.err != nil {
		return 0
	}
	if r.off >= len(r.b) {
		r.err = errorf(r.off, "%s: block %s count at body offset %d: need 1 byte, have 0", r.msg, block, r.off)
		return 0
	}
	n := int(r.b[r.off])
	r.off++
	if need, have := n*minSize, len(r.b)-r.off; need > have {
		r.err = errorf(r.off, "%s: block %s at body offset %d: %d entr%s need at least %d bytes, have %d",
			r.msg, block, r.off, n, pluralY(n), need, have)
		return 0
	}
	return n
}

func pluralY(n int) string {
	if n == 1 {
		return "y"
	}
	return "ies"
}
