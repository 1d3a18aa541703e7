package msgs

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"github.com/google/uuid"

	"gridlab/lab/lludp"
)

// Message is any message of the template as generic values: Blocks[i] holds the entries of
// the layout's block i, and each entry holds one value per field, in layout order, of the Go
// type the field's [FieldType] names. A Single block has one entry, a Multiple block exactly
// Count, a Variable block 0 to 255.
type Message struct {
	Layout *Layout
	Blocks []Block
}

// Block is the entries of one block.
type Block struct {
	Name    string
	Entries []Entry
}

// Entry is one instance of a block: one value per field.
type Entry []any

// New returns message id with every field zero: Single and Multiple blocks hold their
// entries, Variable blocks none. ok is false when the template has no message id.
func New(id lludp.MsgID) (m *Message, ok bool) {
	l, ok := Lookup(id)
	if !ok {
		return nil, false
	}
	m = &Message{Layout: l, Blocks: make([]Block, len(l.Blocks))}
	for i := range l.Blocks {
		bl := &l.Blocks[i]
		m.Blocks[i].Name = bl.Name
		n := 0
		switch bl.Kind {
		case SingleBlock:
			n = 1
		case MultipleBlock:
			n = bl.Count
		}
		for range n {
			m.Blocks[i].Entries = append(m.Blocks[i].Entries, zeroEntry(bl))
		}
	}
	return m, true
}

func zeroEntry(bl *BlockLayout) Entry {
	e := make(Entry, len(bl.Fields))
	for i, f := range bl.Fields {
		e[i] = zeroValue(f)
	}
	return e
}

func zeroValue(f FieldLayout) any {
	switch f.Type {
	case U8:
		return uint8(0)
	case U16, IPPort:
		return uint16(0)
	case U32:
		return uint32(0)
	case U64:
		return uint64(0)
	case S8:
		return int8(0)
	case S16:
		return int16(0)
	case S32:
		return int32(0)
	case S64:
		return int64(0)
	case F32:
		return float32(0)
	case F64:
		return float64(0)
	case Vector3:
		return [3]float32{}
	case Vector3d:
		return [3]float64{}
	case Vector4:
		return [4]float32{}
	case Quaternion:
		return [4]float32{0, 0, 0, 1}
	case UUID:
		return uuid.UUID{}
	case Bool:
		return false
	case IPAddr:
		return [4]byte{}
	case Variable:
		return []byte(nil)
	case Fixed:
		return make([]byte, f.Size)
	}
	panic("msgs: unknown field type " + f.Type.String())
}

// Block returns the block named name, or nil.
func (m *Message) Block(name string) *Block {
	for i := range m.Blocks {
		if m.Blocks[i].Name == name {
			return &m.Blocks[i]
		}
	}
	return nil
}

// Field returns the value of field of entry i of block, or nil if there is no such thing.
func (m *Message) Field(block string, i int, field string) any {
	b := m.Block(block)
	if b == nil || i < 0 || i >= len(b.Entries) {
		return nil
	}
	for j := range m.Layout.Blocks {
		if m.Layout.Blocks[j].Name == block {
			for k, f := range m.Layout.Blocks[j].Fields {
				if f.Name == field && k < len(b.Entries[i]) {
					return b.Entries[i][k]
				}
			}
		}
	}
	return nil
}

// ID returns the message ID; it implements [lludp.Message].
func (m *Message) ID() lludp.MsgID { return m.Layout.ID }

// Validate checks that m matches its layout: the blocks, entry counts, field counts and the Go
// type of every value, Fixed sizes and Variable lengths.
func (m *Message) Validate() error {
	if m.Layout == nil {
		return fmt.Errorf("msgs: message has no layout")
	}
	l := m.Layout
	if len(m.Blocks) != len(l.Blocks) {
		return fmt.Errorf("msgs: %s: %d blocks, the template has %d", l.Name, len(m.Blocks), len(l.Blocks))
	}
	for i := range l.Blocks {
		bl, b := &l.Blocks[i], &m.Blocks[i]
		if b.Name != "" && b.Name != bl.Name {
			return fmt.Errorf("msgs: %s: block %d is %s, the template says %s", l.Name, i, b.Name, bl.Name)
		}
		n := len(b.Entries)
		switch {
		case bl.Kind == SingleBlock && n != 1:
			return fmt.Errorf("msgs: %s: Single block %s has %d entries, want 1", l.Name, bl.Name, n)
		case bl.Kind == MultipleBlock && n != bl.Count:
			return fmt.Errorf("msgs: %s: Multiple block %s has %d entries, want %d", l.Name, bl.Name, n, bl.Count)
		case bl.Kind == VariableBlock && n > lludp.MaxBlocks:
			return fmt.Errorf("msgs: %s: Variable block %s has %d entries, at most %d fit", l.Name, bl.Name, n, lludp.MaxBlocks)
		}
		for j, e := range b.Entries {
			if len(e) != len(bl.Fields) {
				return fmt.Errorf("msgs: %s: %s[%d] has %d fields, want %d", l.Name, bl.Name, j, len(e), len(bl.Fields))
			}
			for k, f := range bl.Fields {
				if err := checkValue(f, e[k]); err != nil {
					return fmt.Errorf("msgs: %s: %s[%d].%s: %v", l.Name, bl.Name, j, f.Name, err)
				}
			}
		}
	}
	return nil
}

func checkValue(f FieldLayout, v any) error {
	want := zeroValue(f)
	if fmt.Sprintf("%T", v) != fmt.Sprintf("%T", want) {
		return fmt.Errorf("value of type %T, want %T for %s", v, want, f.TypeString())
	}
	switch f.Type {
	case Fixed:
		if n := len(v.([]byte)); n != f.Size {
			return fmt.Errorf("%d bytes, %s needs exactly %d", n, f.TypeString(), f.Size)
		}
	case Variable:
		if n, max := len(v.([]byte)), maxVariable(f.Size); n > max {
			return fmt.Errorf("%d bytes, %s holds at most %d", n, f.TypeString(), max)
		}
	}
	return nil
}

func maxVariable(size int) int {
	if size == 1 {
		return lludp.MaxVariable1
	}
	return lludp.MaxVariable2
}

// AppendBody appends the body (blocks in template order) to b; it implements [lludp.Message].
// m must be valid ([Message.Validate]); a message that does not match its layout is a
// programming error and panics.
func (m *Message) AppendBody(b []byte) []byte {
	if err := m.Validate(); err != nil {
		panic(err.Error())
	}
	for i := range m.Layout.Blocks {
		bl := &m.Layout.Blocks[i]
		if bl.Kind == VariableBlock {
			b = append(b, byte(len(m.Blocks[i].Entries)))
		}
		for _, e := range m.Blocks[i].Entries {
			for k, f := range bl.Fields {
				b = appendValue(b, f, e[k])
			}
		}
	}
	return b
}

func appendValue(b []byte, f FieldLayout, v any) []byte {
	le := binary.LittleEndian
	switch f.Type {
	case U8:
		return append(b, v.(uint8))
	case U16:
		return le.AppendUint16(b, v.(uint16))
	case U32:
		return le.AppendUint32(b, v.(uint32))
	case U64:
		return le.AppendUint64(b, v.(uint64))
	case S8:
		return append(b, byte(v.(int8)))
	case S16:
		return le.AppendUint16(b, uint16(v.(int16)))
	case S32:
		return le.AppendUint32(b, uint32(v.(int32)))
	case S64:
		return le.AppendUint64(b, uint64(v.(int64)))
	case F32:
		return le.AppendUint32(b, math.Float32bits(v.(float32)))
	case F64:
		return le.AppendUint64(b, math.Float64bits(v.(float64)))
	case Vector3:
		for _, x := range v.([3]float32) {
			b = le.AppendUint32(b, math.Float32bits(x))
		}
		return b
	case Vector3d:
		for _, x := range v.([3]float64) {
			b = le.AppendUint64(b, math.Float64bits(x))
		}
		return b
	case Vector4:
		for _, x := range v.([4]float32) {
			b = le.AppendUint32(b, math.Float32bits(x))
		}
		return b
	case Quaternion:
		q := v.([4]float32)
		if q[3] < 0 { // only x, y, z are sent: send the equivalent rotation with w >= 0
			q = [4]float32{-q[0], -q[1], -q[2], -q[3]}
		}
		for _, x := range q[:3] {
			b = le.AppendUint32(b, math.Float32bits(x))
		}
		return b
	case UUID:
		u := v.(uuid.UUID)
		return append(b, u[:]...)
	case Bool:
		if v.(bool) {
			return append(b, 1)
		}
		return append(b, 0)
	case IPAddr:
		a := v.([4]byte)
		return append(b, a[:]...)
	case IPPort:
		return binary.BigEndian.AppendUint16(b, v.(uint16))
	case Variable:
		s := v.([]byte)
		if f.Size == 1 {
			b = append(b, byte(len(s)))
		} else {
			b = le.AppendUint16(b, uint16(len(s)))
		}
		return append(b, s...)
	case Fixed:
		return append(b, v.([]byte)...)
	}
	panic("msgs: unknown field type " + f.Type.String())
}

// DecodeError is a body decoding error. It wraps [lludp.ErrMalformed].
type DecodeError struct {
	Offset int    // byte offset in the body
	Msg    string // message name
	Where  string // Block, Block[i] or Block[i].Field
	Want   string // what was expected there
}

func (e *DecodeError) Error() string {
	return "lludp: " + e.Msg + ": " + e.Where + " at body offset " + strconv.Itoa(e.Offset) + ": " + e.Want
}

func (e *DecodeError) Unwrap() error { return lludp.ErrMalformed }

// DecodeBody parses a body of message m.Layout.ID (set Layout first, e.g. with [New]),
// replacing m.Blocks. Like package lludp it rejects a truncated body and ignores bytes after
// the last block; [Decode] reports how many there were.
func (m *Message) DecodeBody(body []byte) error {
	if m.Layout == nil {
		return fmt.Errorf("msgs: DecodeBody: message has no layout")
	}
	_, err := m.decode(body)
	return err
}

// Decode parses a body of message id. n is the number of body bytes the blocks used; the
// rest (body[n:]) is trailing data that receivers ignore.
func Decode(id lludp.MsgID, body []byte) (m *Message, n int, err error) {
	l, ok := Lookup(id)
	if !ok {
		return nil, 0, fmt.Errorf("msgs: message 0x%08X is not in the template: %w", uint32(id), lludp.ErrMalformed)
	}
	m = &Message{Layout: l}
	n, err = m.decode(body)
	return m, n, err
}

func (m *Message) decode(body []byte) (int, error) {
	l := m.Layout
	m.Blocks = make([]Block, len(l.Blocks))
	off := 0
	fail := func(where, want string) (int, error) {
		return off, &DecodeError{Offset: off, Msg: l.Name, Where: where, Want: want}
	}
	for i := range l.Blocks {
		bl := &l.Blocks[i]
		b := &m.Blocks[i]
		b.Name = bl.Name
		n := 1
		switch bl.Kind {
		case MultipleBlock:
			n = bl.Count
		case VariableBlock:
			if off >= len(body) {
				return fail("block "+bl.Name, "need a 1-byte entry count, have 0 bytes")
			}
			n = int(body[off])
			off++
			if need, have := n*bl.entryMin(), len(body)-off; need > have {
				off--
				return fail("block "+bl.Name, fmt.Sprintf("count %d: the entries need at least %d bytes, have %d", n, need, have))
			}
		}
		b.Entries = make([]Entry, n)
		for j := range n {
			e := make(Entry, len(bl.Fields))
			for k, f := range bl.Fields {
				v, size, want := decodeValue(f, body[off:])
				if want != "" {
					where := "field " + bl.Name
					if bl.Kind != SingleBlock {
						where += "[" + strconv.Itoa(j) + "]"
					}
					return fail(where+"."+f.Name, want)
				}
				e[k] = v
				off += size
			}
			b.Entries[j] = e
		}
	}
	return off, nil
}

// decodeValue reads one field from the front of s. want describes what was missing, or is "".
func decodeValue(f FieldLayout, s []byte) (v any, n int, want string) {
	le := binary.LittleEndian
	need := func(n int) string {
		return fmt.Sprintf("%s needs %d byte%s, have %d", f.TypeString(), n, plural(n), len(s))
	}
	if f.Type == Variable {
		if len(s) < f.Size {
			return nil, 0, need(f.Size)
		}
		size := int(s[0])
		if f.Size == 2 {
			size = int(le.Uint16(s))
		}
		if len(s)-f.Size < size {
			return nil, 0, fmt.Sprintf("%s of length %d needs %d bytes after the length, have %d", f.TypeString(), size, size, len(s)-f.Size)
		}
		var out []byte
		if size > 0 {
			out = append([]byte(nil), s[f.Size:f.Size+size]...)
		}
		return out, f.Size + size, ""
	}
	n = f.wireMin()
	if len(s) < n {
		return nil, 0, need(n)
	}
	f32 := func(i int) float32 { return math.Float32frombits(le.Uint32(s[4*i:])) }
	switch f.Type {
	case U8:
		v = s[0]
	case U16:
		v = le.Uint16(s)
	case U32:
		v = le.Uint32(s)
	case U64:
		v = le.Uint64(s)
	case S8:
		v = int8(s[0])
	case S16:
		v = int16(le.Uint16(s))
	case S32:
		v = int32(le.Uint32(s))
	case S64:
		v = int64(le.Uint64(s))
	case F32:
		v = f32(0)
	case F64:
		v = math.Float64frombits(le.Uint64(s))
	case Vector3:
		v = [3]float32{f32(0), f32(1), f32(2)}
	case Vector3d:
		v = [3]float64{math.Float64frombits(le.Uint64(s)), math.Float64frombits(le.Uint64(s[8:])), math.Float64frombits(le.Uint64(s[16:]))}
	case Vector4:
		v = [4]float32{f32(0), f32(1), f32(2), f32(3)}
	case Quaternion:
		x, y, z := f32(0), f32(1), f32(2)
		v = [4]float32{x, y, z, ImpliedW(x, y, z)}
	case UUID:
		v = uuid.UUID(s[:16])
	case Bool:
		v = s[0] != 0
	case IPAddr:
		v = [4]byte(s[:4])
	case IPPort:
		v = binary.BigEndian.Uint16(s)
	case Fixed:
		v = append([]byte(nil), s[:n]...)
	default:
		panic("msgs: unknown field type " + f.Type.String())
	}
	return v, n, ""
}

// ImpliedW is the w of a unit quaternion sent as x, y, z (LL's unpackFromVector3): the
// non-negative root of 1 - x² - y² - z², or 0 when that is negative.
func ImpliedW(x, y, z float32) float32 {
	t := 1 - float64(x)*float64(x) - float64(y)*float64(y) - float64(z)*float64(z)
	if !(t > 0) {
		return 0
	}
	return float32(math.Sqrt(t))
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
