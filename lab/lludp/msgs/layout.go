package msgs

import (
	"strconv"

	"gridlab/lab/lludp"
)

// FieldType is a template field type.
type FieldType uint8

// Field types, with the Go type of their value in a [Message].
const (
	U8         FieldType = iota + 1 // uint8
	U16                             // uint16
	U32                             // uint32
	U64                             // uint64
	S8                              // int8
	S16                             // int16
	S32                             // int32
	S64                             // int64
	F32                             // float32
	F64                             // float64
	Vector3                         // [3]float32 (LLVector3)
	Vector3d                        // [3]float64 (LLVector3d)
	Vector4                         // [4]float32 (LLVector4)
	Quaternion                      // [4]float32 x, y, z, w (LLQuaternion: w is not sent, it is implied)
	UUID                            // uuid.UUID (LLUUID)
	Bool                            // bool (BOOL)
	IPAddr                          // [4]byte in network order (IPADDR)
	IPPort                          // uint16, big-endian on the wire (IPPORT)
	Variable                        // []byte with a Size-byte length prefix (Variable 1, Variable 2)
	Fixed                           // []byte of exactly Size bytes (Fixed N)
)

var typeNames = [...]string{
	U8: "U8", U16: "U16", U32: "U32", U64: "U64", S8: "S8", S16: "S16", S32: "S32", S64: "S64",
	F32: "F32", F64: "F64", Vector3: "LLVector3", Vector3d: "LLVector3d", Vector4: "LLVector4",
	Quaternion: "LLQuaternion", UUID: "LLUUID", Bool: "BOOL", IPAddr: "IPADDR", IPPort: "IPPORT",
	Variable: "Variable", Fixed: "Fixed",
}

var typeSizes = [...]int{
	U8: 1, U16: 2, U32: 4, U64: 8, S8: 1, S16: 2, S32: 4, S64: 8, F32: 4, F64: 8,
	Vector3: 12, Vector3d: 24, Vector4: 16, Quaternion: 12, UUID: 16, Bool: 1, IPAddr: 4, IPPort: 2,
}

// String returns the type as the template spells it (without a Variable/Fixed size).
func (t FieldType) String() string {
	if int(t) < len(typeNames) && typeNames[t] != "" {
		return typeNames[t]
	}
	return "FieldType(" + strconv.Itoa(int(t)) + ")"
}

// BlockKind is how often a block occurs.
type BlockKind uint8

// Block kinds.
const (
	SingleBlock   BlockKind = iota + 1 // exactly once, no count on the wire
	MultipleBlock                      // exactly Count times, no count on the wire
	VariableBlock                      // a 1-byte count, then that many (at most 255)
)

func (k BlockKind) String() string {
	switch k {
	case SingleBlock:
		return "Single"
	case MultipleBlock:
		return "Multiple"
	case VariableBlock:
		return "Variable"
	}
	return "BlockKind(" + strconv.Itoa(int(k)) + ")"
}

// FieldLayout is one field of a block.
type FieldLayout struct {
	Name string
	Type FieldType
	Size int // Variable: length-prefix bytes (1 or 2); Fixed: the byte count
}

// TypeString returns the field type as the template spells it: U32, Variable 1, Fixed 32.
func (f FieldLayout) TypeString() string {
	if f.Type == Variable || f.Type == Fixed {
		return f.Type.String() + " " + strconv.Itoa(f.Size)
	}
	return f.Type.String()
}

// wireMin is the fewest bytes the field takes on the wire.
func (f FieldLayout) wireMin() int {
	switch f.Type {
	case Variable, Fixed:
		return f.Size
	}
	return typeSizes[f.Type]
}

// BlockLayout is one block of a message.
type BlockLayout struct {
	Name   string
	Kind   BlockKind
	Count  int // MultipleBlock only
	Fields []FieldLayout
}

// entryMin is the fewest bytes one entry of the block takes on the wire.
func (b *BlockLayout) entryMin() int {
	n := 0
	for _, f := range b.Fields {
		n += f.wireMin()
	}
	return n
}

// Layout is one message of the template.
type Layout struct {
	Name   string
	ID     lludp.MsgID
	Blocks []BlockLayout
}

// Info returns the message's template entry (frequency, number, trust, encoding).
func (l *Layout) Info() lludp.Info {
	in, _ := lludp.Lookup(l.ID)
	return in
}

var (
	byID   = map[lludp.MsgID]*Layout{}
	byName = map[string]*Layout{}
)

func init() {
	for i := range layouts {
		byID[layouts[i].ID] = &layouts[i]
		byName[layouts[i].Name] = &layouts[i]
	}
}

// Lookup returns the layout of message id.
func Lookup(id lludp.MsgID) (*Layout, bool) {
	l, ok := byID[id]
	return l, ok
}

// LookupName returns the layout of the message named name (as the template spells it).
func LookupName(name string) (*Layout, bool) {
	l, ok := byName[name]
	return l, ok
}

// All returns the layouts of every message, in template order. The caller must not modify them.
func All() []*Layout {
	out := make([]*Layout, len(layouts))
	for i := range layouts {
		out[i] = &layouts[i]
	}
	return out
}
