package msgs

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"gridlab/lab/lludp"
)

// The JSON shape is that of ../shared/protocol/captures/node-metaverse_packet_vectors.jsonl:
//
//	{"flags":192,"flag_names":["ZEROCODED","RELIABLE"],"sequence":3,
//	 "message":"RegionHandshakeReply","message_id":4294901909,"frequency":"Low","number":149,
//	 "fields":{"AgentData":{"AgentID":"…","SessionID":"…"},"RegionInfo":{"Flags":5}},
//	 "appended_acks":[]}
//
// A Single block is an object of fields, a Multiple or Variable block an array of them.
// Integers are numbers except U64 and S64, which are decimal strings (JSON numbers lose
// precision past 2^53); F32/F64 are numbers ("NaN", "+Inf", "-Inf" as strings); LLUUID a
// string; LLVector3/LLVector3d {x,y,z}; LLVector4 and LLQuaternion {x,y,z,w} (a quaternion's
// w is implied on the wire, so it is ignored when encoding unless negative); BOOL true/false;
// IPADDR "a.b.c.d"; IPPORT a number; Variable and Fixed {"hex":"…","text":"…"}, text present
// when the bytes, less one trailing NUL, are printable UTF-8. When encoding, "hex" wins over
// "text", and "text" is taken as is (add "\u0000" for the NUL LL senders include).

var flagNames = []struct {
	f    lludp.Flags
	name string
}{{lludp.FlagZerocoded, "ZEROCODED"}, {lludp.FlagReliable, "RELIABLE"}, {lludp.FlagResent, "RESENT"}, {lludp.FlagAcks, "ACK"}}

// FlagNames returns the names of the flags set in f, most significant first.
func FlagNames(f lludp.Flags) []string {
	out := []string{}
	for _, n := range flagNames {
		if f&n.f != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

// MarshalJSON writes the packet in the vectors' shape, keys in a fixed order.
func (p *Packet) MarshalJSON() ([]byte, error) {
	if p.Message == nil || p.Message.Layout == nil {
		return nil, fmt.Errorf("msgs: packet has no message")
	}
	l := p.Message.Layout
	in := l.Info()
	var b bytes.Buffer
	names, _ := json.Marshal(FlagNames(p.Flags))
	fmt.Fprintf(&b, `{"flags":%d,"flag_names":%s,"sequence":%d,"message":%q,"message_id":%d,"frequency":%q,"number":%d,"fields":`,
		p.Flags, names, p.Seq, l.Name, uint32(l.ID), in.Frequency, in.Number)
	fields, err := p.Message.MarshalJSON()
	if err != nil {
		return nil, err
	}
	b.Write(fields)
	acks := p.Acks
	if acks == nil {
		acks = []uint32{}
	}
	a, _ := json.Marshal(acks)
	b.WriteString(`,"appended_acks":`)
	b.Write(a)
	if len(p.Trailing) > 0 {
		fmt.Fprintf(&b, `,"trailing_hex":%q`, hex.EncodeToString(p.Trailing))
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// MarshalJSON writes the message's blocks as the vectors' "fields" object.
func (m *Message) MarshalJSON() ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i := range m.Layout.Blocks {
		bl := &m.Layout.Blocks[i]
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:", bl.Name)
		if bl.Kind != SingleBlock {
			b.WriteByte('[')
		}
		for j, e := range m.Blocks[i].Entries {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('{')
			for k, f := range bl.Fields {
				if k > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, "%q:", f.Name)
				writeValue(&b, f, e[k])
			}
			b.WriteByte('}')
		}
		if bl.Kind != SingleBlock {
			b.WriteByte(']')
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func writeFloat(b *bytes.Buffer, v float64, bits int) {
	switch {
	case math.IsNaN(v):
		b.WriteString(`"NaN"`)
	case math.IsInf(v, 1):
		b.WriteString(`"+Inf"`)
	case math.IsInf(v, -1):
		b.WriteString(`"-Inf"`)
	default:
		b.WriteString(strconv.FormatFloat(v, 'g', -1, bits))
	}
}

func writeFloats32(b *bytes.Buffer, v []float32) {
	b.WriteByte('{')
	for i, x := range v {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + "xyzw"[i:i+1] + `":`)
		writeFloat(b, float64(x), 32)
	}
	b.WriteByte('}')
}

func writeValue(b *bytes.Buffer, f FieldLayout, v any) {
	switch f.Type {
	case U8, U16, U32, S8, S16, S32, IPPort:
		fmt.Fprintf(b, "%d", v)
	case U64, S64:
		fmt.Fprintf(b, `"%d"`, v)
	case F32:
		writeFloat(b, float64(v.(float32)), 32)
	case F64:
		writeFloat(b, v.(float64), 64)
	case Vector3:
		a := v.([3]float32)
		writeFloats32(b, a[:])
	case Vector4, Quaternion:
		a := v.([4]float32)
		writeFloats32(b, a[:])
	case Vector3d:
		a := v.([3]float64)
		b.WriteByte('{')
		for i, x := range a {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`"` + "xyz"[i:i+1] + `":`)
			writeFloat(b, x, 64)
		}
		b.WriteByte('}')
	case UUID:
		fmt.Fprintf(b, "%q", v.(uuid.UUID).String())
	case Bool:
		fmt.Fprintf(b, "%t", v)
	case IPAddr:
		fmt.Fprintf(b, "%q", netip.AddrFrom4(v.([4]byte)).String())
	case Variable, Fixed:
		s := v.([]byte)
		fmt.Fprintf(b, `{"hex":%q`, hex.EncodeToString(s))
		if t, ok := Text(s); ok {
			q, _ := json.Marshal(t)
			b.WriteString(`,"text":`)
			b.Write(q)
		}
		b.WriteByte('}')
	}
}

// Text returns s as text, less one trailing NUL, if that is printable UTF-8 (newlines and
// tabs allowed).
func Text(s []byte) (string, bool) {
	s = bytes.TrimSuffix(s, []byte{0})
	if !utf8.Valid(s) {
		return "", false
	}
	for _, r := range string(s) {
		if !unicode.IsPrint(r) && r != '\n' && r != '\t' && r != '\r' {
			return "", false
		}
	}
	return string(s), true
}

// UnmarshalJSON reads a packet in the vectors' shape. "message" (a name) or "message_id"
// selects the message; "flags" (a number) or else "flag_names" gives the flags; blocks and
// fields not given are zero, unknown ones are errors.
func (p *Packet) UnmarshalJSON(data []byte) error {
	var raw struct {
		Flags     *uint8          `json:"flags"`
		FlagNames []string        `json:"flag_names"`
		Sequence  uint32          `json:"sequence"`
		Message   string          `json:"message"`
		MessageID *uint32         `json:"message_id"`
		Fields    json.RawMessage `json:"fields"`
		Acks      []uint32        `json:"appended_acks"`
		Trailing  string          `json:"trailing_hex"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	var l *Layout
	switch {
	case raw.Message != "":
		var ok bool
		if l, ok = LookupName(raw.Message); !ok {
			return fmt.Errorf("message %q is not in the template", raw.Message)
		}
		if raw.MessageID != nil && lludp.MsgID(*raw.MessageID) != l.ID {
			return fmt.Errorf("message %s has message_id %d, not %d", l.Name, uint32(l.ID), *raw.MessageID)
		}
	case raw.MessageID != nil:
		var ok bool
		if l, ok = Lookup(lludp.MsgID(*raw.MessageID)); !ok {
			return fmt.Errorf("message_id %d (0x%08X) is not in the template", *raw.MessageID, *raw.MessageID)
		}
	default:
		return fmt.Errorf(`no "message" or "message_id"`)
	}
	*p = Packet{Seq: raw.Sequence, Acks: raw.Acks}
	if raw.Flags != nil {
		p.Flags = lludp.Flags(*raw.Flags)
	} else {
	names:
		for _, n := range raw.FlagNames {
			for _, f := range flagNames {
				if strings.EqualFold(n, f.name) {
					p.Flags |= f.f
					continue names
				}
			}
			return fmt.Errorf("flag_names: unknown flag %q (want ZEROCODED, RELIABLE, RESENT or ACK)", n)
		}
	}
	if raw.Trailing != "" {
		t, err := hex.DecodeString(raw.Trailing)
		if err != nil {
			return fmt.Errorf("trailing_hex: %v", err)
		}
		p.Trailing = t
	}
	m, err := MessageFromJSON(l.ID, raw.Fields)
	if err != nil {
		return err
	}
	p.Message = m
	return nil
}

// MessageFromJSON builds message id from a "fields" object. Blocks and fields not given are
// zero (a Variable block empty); unknown names and values of the wrong type are errors
// naming the block and field.
func MessageFromJSON(id lludp.MsgID, fields json.RawMessage) (*Message, error) {
	m, ok := New(id)
	if !ok {
		return nil, fmt.Errorf("message 0x%08X is not in the template", uint32(id))
	}
	l := m.Layout
	if len(bytes.TrimSpace(fields)) == 0 || string(bytes.TrimSpace(fields)) == "null" {
		return m, nil
	}
	var blocks map[string]json.RawMessage
	if err := json.Unmarshal(fields, &blocks); err != nil {
		return nil, fmt.Errorf("%s: fields: %v", l.Name, err)
	}
	seen := 0
	for i := range l.Blocks {
		bl := &l.Blocks[i]
		rb, ok := blocks[bl.Name]
		if !ok {
			continue
		}
		seen++
		var objs []json.RawMessage
		if bl.Kind == SingleBlock {
			objs = []json.RawMessage{rb}
		} else if err := json.Unmarshal(rb, &objs); err != nil {
			return nil, fmt.Errorf("%s: block %s (%s) must be an array of objects: %v", l.Name, bl.Name, bl.Kind, err)
		}
		switch {
		case bl.Kind == MultipleBlock && len(objs) != bl.Count:
			return nil, fmt.Errorf("%s: block %s is Multiple %d: %d entries given", l.Name, bl.Name, bl.Count, len(objs))
		case bl.Kind == VariableBlock && len(objs) > lludp.MaxBlocks:
			return nil, fmt.Errorf("%s: block %s: %d entries given, at most %d fit", l.Name, bl.Name, len(objs), lludp.MaxBlocks)
		}
		m.Blocks[i].Entries = m.Blocks[i].Entries[:0]
		for j, o := range objs {
			where := bl.Name
			if bl.Kind != SingleBlock {
				where += "[" + strconv.Itoa(j) + "]"
			}
			var fs map[string]json.RawMessage
			if err := json.Unmarshal(o, &fs); err != nil {
				return nil, fmt.Errorf("%s: block %s must be an object: %v", l.Name, where, err)
			}
			e := zeroEntry(bl)
			n := 0
			for k, f := range bl.Fields {
				rv, ok := fs[f.Name]
				if !ok {
					continue
				}
				n++
				v, err := parseValue(f, rv)
				if err != nil {
					return nil, fmt.Errorf("%s: field %s.%s (%s): %v", l.Name, where, f.Name, f.TypeString(), err)
				}
				e[k] = v
			}
			if n != len(fs) {
				for name := range fs {
					if !hasField(bl, name) {
						return nil, fmt.Errorf("%s: block %s has no field %q", l.Name, where, name)
					}
				}
			}
			m.Blocks[i].Entries = append(m.Blocks[i].Entries, e)
		}
	}
	if seen != len(blocks) {
		for name := range blocks {
			if !hasBlock(l, name) {
				return nil, fmt.Errorf("%s has no block %q", l.Name, name)
			}
		}
	}
	return m, nil
}

func hasField(bl *BlockLayout, name string) bool {
	for _, f := range bl.Fields {
		if f.Name == name {
			return true
		}
	}
	return false
}

func hasBlock(l *Layout, name string) bool {
	for _, b := range l.Blocks {
		if b.Name == name {
			return true
		}
	}
	return false
}

// number reads a JSON number or a string holding one.
func number(rv json.RawMessage) (string, error) {
	d := json.NewDecoder(bytes.NewReader(rv))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return "", err
	}
	switch v := v.(type) {
	case json.Number:
		return v.String(), nil
	case string:
		return strings.TrimSpace(v), nil
	}
	return "", fmt.Errorf("want a number, got %s", rv)
}

func parseFloat(rv json.RawMessage, bits int) (float64, error) {
	s, err := number(rv)
	if err != nil {
		return 0, err
	}
	return strconv.ParseFloat(s, bits) // accepts NaN, +Inf, -Inf
}

func parseFloats(rv json.RawMessage, keys string, bits int) ([]float64, error) {
	var o map[string]json.RawMessage
	if err := json.Unmarshal(rv, &o); err != nil {
		return nil, fmt.Errorf("want an object with %s: %v", strings.Join(strings.Split(keys, ""), ", "), err)
	}
	out := make([]float64, len(keys))
	for i := range keys {
		k := keys[i : i+1]
		r, ok := o[k]
		if !ok {
			if k == "w" {
				out[i] = math.NaN() // computed by the caller
				continue
			}
			return nil, fmt.Errorf("missing %q", k)
		}
		f, err := parseFloat(r, bits)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", k, err)
		}
		out[i] = f
	}
	for k := range o {
		if !strings.Contains(keys, k) || len(k) != 1 {
			return nil, fmt.Errorf("unknown key %q (want %s)", k, strings.Join(strings.Split(keys, ""), ", "))
		}
	}
	return out, nil
}

func parseValue(f FieldLayout, rv json.RawMessage) (any, error) {
	uint_ := func(bits int) (uint64, error) {
		s, err := number(rv)
		if err != nil {
			return 0, err
		}
		return strconv.ParseUint(s, 10, bits)
	}
	int_ := func(bits int) (int64, error) {
		s, err := number(rv)
		if err != nil {
			return 0, err
		}
		return strconv.ParseInt(s, 10, bits)
	}
	switch f.Type {
	case U8:
		v, err := uint_(8)
		return uint8(v), err
	case U16, IPPort:
		v, err := uint_(16)
		return uint16(v), err
	case U32:
		v, err := uint_(32)
		return uint32(v), err
	case U64:
		return uint_(64)
	case S8:
		v, err := int_(8)
		return int8(v), err
	case S16:
		v, err := int_(16)
		return int16(v), err
	case S32:
		v, err := int_(32)
		return int32(v), err
	case S64:
		return int_(64)
	case F32:
		v, err := parseFloat(rv, 32)
		return float32(v), err
	case F64:
		return parseFloat(rv, 64)
	case Vector3:
		v, err := parseFloats(rv, "xyz", 32)
		if err != nil {
			return nil, err
		}
		return [3]float32{float32(v[0]), float32(v[1]), float32(v[2])}, nil
	case Vector3d:
		v, err := parseFloats(rv, "xyz", 64)
		if err != nil {
			return nil, err
		}
		return [3]float64{v[0], v[1], v[2]}, nil
	case Vector4, Quaternion:
		v, err := parseFloats(rv, "xyzw", 32)
		if err != nil {
			return nil, err
		}
		q := [4]float32{float32(v[0]), float32(v[1]), float32(v[2]), float32(v[3])}
		if math.IsNaN(v[3]) && !bytes.Contains(rv, []byte(`"w"`)) {
			if f.Type == Vector4 {
				return nil, fmt.Errorf(`missing "w"`)
			}
			q[3] = ImpliedW(q[0], q[1], q[2])
		}
		return q, nil
	case UUID:
		var s string
		if err := json.Unmarshal(rv, &s); err != nil {
			return nil, fmt.Errorf("want a UUID string: %v", err)
		}
		return uuid.Parse(s)
	case Bool:
		var b bool
		if err := json.Unmarshal(rv, &b); err != nil {
			return nil, fmt.Errorf("want true or false: %v", err)
		}
		return b, nil
	case IPAddr:
		var s string
		if err := json.Unmarshal(rv, &s); err != nil {
			return nil, fmt.Errorf(`want "a.b.c.d": %v`, err)
		}
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			return nil, fmt.Errorf("want an IPv4 address, got %q", s)
		}
		return a.As4(), nil
	case Variable, Fixed:
		var o struct {
			Hex  *string `json:"hex"`
			Text *string `json:"text"`
		}
		var s string
		if json.Unmarshal(rv, &s) == nil {
			o.Text = &s
		} else if err := json.Unmarshal(rv, &o); err != nil {
			return nil, fmt.Errorf(`want {"hex": …} or {"text": …}: %v`, err)
		}
		var v []byte
		switch {
		case o.Hex != nil:
			var err error
			if v, err = hex.DecodeString(*o.Hex); err != nil {
				return nil, fmt.Errorf("hex: %v", err)
			}
		case o.Text != nil:
			v = []byte(*o.Text)
		default:
			return nil, fmt.Errorf(`want {"hex": …} or {"text": …}`)
		}
		if len(v) == 0 && f.Type == Variable {
			v = nil
		}
		if err := checkValue(f, v); err != nil {
			return nil, err
		}
		return v, nil
	}
	return nil, fmt.Errorf("unknown field type %s", f.Type)
}
