package lludp

import (
	"encoding/binary"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// TestTemplateLayouts checks every implemented message against message_template.msg:
//   - Lookup's number, frequency, trust and zero-coding flags match the template;
//   - the codec's layout table lists the template's blocks (name, kind, count) and fields
//     (name, type) in template order;
//   - every exported field of the Go struct is mapped by exactly one template field;
//   - AppendBody of a message filled with distinct values equals the bytes an independent,
//     template-driven reflective encoder produces (so the size, the order and the byte order of
//     every field are the template's), and DecodeBody of those bytes gives the message back;
//   - every proper prefix of the body is rejected with an error naming an offset, and trailing
//     bytes after the last block are tolerated.
func TestTemplateLayouts(t *testing.T) {
	tmpl := loadTemplate(t)
	require.Len(t, codecs, 13, "the 13 messages of the brief are implemented")
	for _, c := range codecs {
		info, ok := Lookup(c.id)
		require.True(t, ok, "Lookup(0x%08X)", uint32(c.id))
		t.Run(info.Name, func(t *testing.T) {
			tm, ok := tmpl[info.Name]
			require.True(t, ok, "the template defines %s", info.Name)

			require.Equal(t, canonicalID(tm.Frequency, tm.Number), c.id, "ID from the template's frequency and number")
			require.Equal(t, tm.Frequency, info.Frequency)
			require.Equal(t, tm.Number, info.Number)
			require.Equal(t, tm.Trust == "Trusted", info.Trusted, "trust flag")
			require.Equal(t, tm.Encoding == "Zerocoded", info.Zerocoded, "zero-coding flag")

			// Layout table vs template.
			require.Len(t, c.blocks, len(tm.Blocks), "number of blocks")
			for i, tb := range tm.Blocks {
				cb := c.blocks[i]
				require.Equal(t, tb.Name, cb.Name, "block %d name", i)
				require.Equal(t, tb.Kind, cb.Kind, "block %s kind", tb.Name)
				require.Equal(t, tb.Count, cb.Count, "block %s count", tb.Name)
				require.Len(t, cb.Fields, len(tb.Fields), "block %s fields", tb.Name)
				for j, tf := range tb.Fields {
					require.Equal(t, tf.Name, cb.Fields[j].Name, "block %s field %d name", tb.Name, j)
					require.Equal(t, tf.Type, cb.Fields[j].Type, "%s.%s type", tb.Name, tf.Name)
				}
			}

			m := c.new()
			require.Equal(t, c.id, m.ID(), "the Go type's ID()")
			require.Equal(t, reflect.TypeOf(m), reflect.TypeOf(New(c.id)), "New returns the right type")
			checkMapping(t, reflect.TypeOf(m).Elem(), c.blocks)

			// Distinct values, template-driven expected bytes.
			v := reflect.ValueOf(m).Elem()
			var f filler
			f.fill(t, v, c.blocks)
			want := templateEncode(t, v, tm.Blocks, c.blocks)
			got := m.AppendBody(nil)
			require.Equal(t, want, got, "AppendBody must lay out the fields exactly as the template does")

			back := c.new()
			require.NoError(t, back.DecodeBody(want))
			require.Equal(t, m, back, "DecodeBody must return every field")

			for n := 0; n < len(want); n++ {
				err := c.new().DecodeBody(want[:n])
				require.Error(t, err, "a body cut to %d of %d bytes must be rejected", n, len(want))
				require.Contains(t, err.Error(), "offset")
				require.ErrorIs(t, err, ErrMalformed)
			}
			long := append(append([]byte{}, want...), 0xEE, 0xEE, 0xEE)
			back = c.new()
			require.NoError(t, back.DecodeBody(long), "trailing bytes are tolerated, as OpenSim does")
			require.Equal(t, m, back)
		})
	}
}

// checkMapping requires each exported field of struct typ to be named by exactly one layout
// field (Single blocks) or block (Variable/Multiple blocks).
func checkMapping(t *testing.T, typ reflect.Type, blocks []blockLayout) {
	t.Helper()
	used := map[string]int{}
	for _, b := range blocks {
		if b.Kind == "Single" {
			for _, f := range b.Fields {
				_, ok := typ.FieldByName(f.Go)
				require.True(t, ok, "%s.%s maps to %s.%s, which must exist", b.Name, f.Name, typ.Name(), f.Go)
				used[f.Go]++
			}
			continue
		}
		sf, ok := typ.FieldByName(b.Go)
		require.True(t, ok, "block %s maps to %s.%s, which must exist", b.Name, typ.Name(), b.Go)
		used[b.Go]++
		elem := sf.Type.Elem()
		if len(b.Fields) == 1 && b.Fields[0].Go == "" {
			require.NotEqual(t, reflect.Struct, elem.Kind(), "block %s maps to a slice of values", b.Name)
			continue
		}
		checkMapping(t, elem, []blockLayout{{Name: b.Name, Kind: "Single", Fields: b.Fields}})
	}
	for i := 0; i < typ.NumField(); i++ {
		if sf := typ.Field(i); sf.IsExported() {
			require.Equal(t, 1, used[sf.Name], "%s.%s must be mapped by exactly one template field", typ.Name(), sf.Name)
		}
	}
}

// filler sets fields to distinct, non-zero values derived from a running counter.
type filler struct{ n int }

func (f *filler) next() byte {
	f.n++
	return byte(f.n*37 + 11)
}

func (f *filler) fill(t *testing.T, v reflect.Value, blocks []blockLayout) {
	for _, b := range blocks {
		if b.Kind == "Single" {
			for _, fl := range b.Fields {
				f.value(t, v.FieldByName(fl.Go), fl.Type)
			}
			continue
		}
		s := v.FieldByName(b.Go)
		n := 3
		if b.Kind == "Multiple" {
			n = b.Count
		}
		s.Set(reflect.MakeSlice(s.Type(), n, n))
		for i := 0; i < n; i++ {
			if len(b.Fields) == 1 && b.Fields[0].Go == "" {
				f.value(t, s.Index(i), b.Fields[0].Type)
				continue
			}
			for _, fl := range b.Fields {
				f.value(t, s.Index(i).FieldByName(fl.Go), fl.Type)
			}
		}
	}
}

func (f *filler) value(t *testing.T, v reflect.Value, typ string) {
	switch v.Interface().(type) {
	case uint8:
		v.SetUint(uint64(f.next()))
	case bool:
		v.SetBool(true)
	case uint16, uint32, uint64:
		var x uint64
		for i := 0; i < 8; i++ {
			x = x<<8 | uint64(f.next())
		}
		v.SetUint(x)
	case int8, int16, int32, int64:
		var x int64
		for i := 0; i < 8; i++ {
			x = x<<8 | int64(f.next())
		}
		v.SetInt(x)
	case float32, float64:
		v.SetFloat(float64(f.next()) + 0.25)
	case uuid.UUID:
		for i := 0; i < 16; i++ {
			v.Index(i).SetUint(uint64(f.next()))
		}
	case [3]float32:
		for i := 0; i < 3; i++ {
			v.Index(i).SetFloat(float64(f.next()) + 0.5)
		}
	case []byte:
		n := 3 + int(f.next()%5)
		s := make([]byte, n)
		for i := range s {
			s[i] = f.next()
		}
		v.SetBytes(s)
	default:
		t.Fatalf("filler: no value generator for Go type %s (template type %s)", v.Type(), typ)
	}
}

// templateEncode encodes v the way the template says, independently of the package's codec:
// the wire type and size come from the template's blocks, the values from v via the layout's
// Go mapping.
func templateEncode(t *testing.T, v reflect.Value, tblocks []tmplBlock, blocks []blockLayout) []byte {
	var b []byte
	for i, tb := range tblocks {
		lb := blocks[i]
		if tb.Kind == "Single" {
			for j, tf := range tb.Fields {
				b = templateField(t, b, v.FieldByName(lb.Fields[j].Go), tf.Type)
			}
			continue
		}
		s := v.FieldByName(lb.Go)
		if tb.Kind == "Variable" {
			b = append(b, byte(s.Len()))
		} else {
			require.Equal(t, tb.Count, s.Len(), "Multiple %s", tb.Name)
		}
		for k := 0; k < s.Len(); k++ {
			for j, tf := range tb.Fields {
				fv := s.Index(k)
				if lb.Fields[j].Go != "" {
					fv = fv.FieldByName(lb.Fields[j].Go)
				}
				b = templateField(t, b, fv, tf.Type)
			}
		}
	}
	return b
}

func templateField(t *testing.T, b []byte, v reflect.Value, typ string) []byte {
	le := binary.LittleEndian
	switch typ {
	case "U8", "S8":
		return append(b, byte(intOf(v)))
	case "BOOL":
		if v.Bool() {
			return append(b, 1)
		}
		return append(b, 0)
	case "U16", "S16":
		return le.AppendUint16(b, uint16(intOf(v)))
	case "U32", "S32":
		return le.AppendUint32(b, uint32(intOf(v)))
	case "U64", "S64":
		return le.AppendUint64(b, intOf(v))
	case "F32":
		return le.AppendUint32(b, math.Float32bits(float32(v.Float())))
	case "F64":
		return le.AppendUint64(b, math.Float64bits(v.Float()))
	case "IPPORT":
		return binary.BigEndian.AppendUint16(b, uint16(intOf(v)))
	case "IPADDR", "LLUUID":
		for i := 0; i < v.Len(); i++ {
			b = append(b, byte(v.Index(i).Uint()))
		}
		return b
	case "LLVector3", "LLQuaternion": // a quaternion is sent as x, y, z
		require.Equal(t, 3, v.Len(), "%s is 3 x F32 on the wire", typ)
		for i := 0; i < 3; i++ {
			b = le.AppendUint32(b, math.Float32bits(float32(v.Index(i).Float())))
		}
		return b
	case "LLVector3d":
		for i := 0; i < 3; i++ {
			b = le.AppendUint64(b, math.Float64bits(v.Index(i).Float()))
		}
		return b
	}
	if n, ok := strings.CutPrefix(typ, "Variable "); ok {
		data := v.Bytes()
		if n == "1" {
			return append(append(b, byte(len(data))), data...)
		}
		return append(le.AppendUint16(b, uint16(len(data))), data...)
	}
	if n, ok := strings.CutPrefix(typ, "Fixed "); ok {
		size, _ := strconv.Atoi(n)
		require.Equal(t, size, v.Len(), "Fixed %d", size)
		for i := 0; i < size; i++ {
			b = append(b, byte(v.Index(i).Uint()))
		}
		return b
	}
	t.Fatalf("templateEncode: unsupported template type %q", typ)
	return nil
}

func intOf(v reflect.Value) uint64 {
	if v.CanInt() {
		return uint64(v.Int())
	}
	return v.Uint()
}
