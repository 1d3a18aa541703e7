// Package llsd reads and writes LLSD XML, the serialisation Linden Lab's capabilities, event
// queue and LLSD login speak.
//
// Decode parses a document into a Value tree with bounded depth and size, accepting what real
// clients send (optional <?xml?> prolog, whitespace between elements, <undef/>, empty scalars).
// Writer produces the compact form (no whitespace between elements) that strict clients such
// as node-metaverse's LLSD parser require. Nothing here reads a clock or keeps state between
// calls, so the region and login cores can use it on the simulation and on real sockets alike.
package llsd

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// Kind is an LLSD type.
type Kind uint8

// The LLSD types.
const (
	Undef Kind = iota
	Boolean
	Integer
	Real
	String
	UUID
	Date
	URI
	Binary
	Map
	Array
)

var kindNames = [...]string{"undef", "boolean", "integer", "real", "string", "uuid", "date", "uri", "binary", "map", "array"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is one LLSD value. Scalars keep their text in Text (converted on demand); maps keep
// their keys in document order in Keys with the values at the same index in Items; arrays use
// Items only.
type Value struct {
	Kind  Kind
	Text  string
	Bytes []byte
	Keys  []string
	Items []Value
}

// Get returns a map member.
func (v Value) Get(key string) (Value, bool) {
	if v.Kind != Map {
		return Value{}, false
	}
	for i, k := range v.Keys {
		if k == key {
			return v.Items[i], true
		}
	}
	return Value{}, false
}

// AsString returns the value's text (LLSD's string conversion).
func (v Value) AsString() string {
	if v.Kind == Binary {
		return string(v.Bytes)
	}
	return strings.TrimSpace(v.Text)
}

// AsInt converts the value to an integer as LLSD does (reals truncate, booleans are 0/1,
// anything unparseable is 0).
func (v Value) AsInt() int64 {
	s := strings.TrimSpace(v.Text)
	switch v.Kind {
	case Boolean:
		if v.AsBool() {
			return 1
		}
		return 0
	case Real:
		f, _ := strconv.ParseFloat(s, 64)
		return int64(f)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, _ := strconv.ParseFloat(s, 64)
		return int64(f)
	}
	return n
}

// AsBool converts the value to a boolean: "1"/"true" are true.
func (v Value) AsBool() bool {
	s := strings.ToLower(strings.TrimSpace(v.Text))
	return s == "1" || s == "true"
}

// AsUUID parses the value as a UUID; anything else is the nil UUID.
func (v Value) AsUUID() uuid.UUID {
	u, err := uuid.Parse(strings.TrimSpace(v.Text))
	if err != nil {
		return uuid.Nil
	}
	return u
}

// Limits of Decode.
const (
	MaxDepth = 32
	MaxNodes = 1 << 16
)

// ErrSyntax wraps every decoding error.
var ErrSyntax = errors.New("llsd: malformed document")

type decoder struct {
	d     *xml.Decoder
	nodes int
}

func (d *decoder) fail(format string, args ...any) error {
	return fmt.Errorf("%w: %s (offset %d)", ErrSyntax, fmt.Sprintf(format, args...), d.d.InputOffset())
}

// next returns the next start or end element, skipping character data that is only
// whitespace, comments, processing instructions and directives.
func (d *decoder) next() (xml.Token, error) {
	for {
		t, err := d.d.Token()
		if err != nil {
			if err == io.EOF {
				return nil, d.fail("unexpected end of document")
			}
			return nil, fmt.Errorf("%w: %v", ErrSyntax, err)
		}
		switch tt := t.(type) {
		case xml.StartElement, xml.EndElement:
			return t, nil
		case xml.CharData:
			if len(bytes.TrimSpace(tt)) != 0 {
				return nil, d.fail("unexpected text %q", clip(string(tt)))
			}
		}
	}
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// Decode parses an LLSD XML document (<llsd>value</llsd>). An empty <llsd/> is undef.
func Decode(b []byte) (Value, error) {
	d := &decoder{d: xml.NewDecoder(bytes.NewReader(b))}
	d.d.Strict = true
	t, err := d.next()
	if err != nil {
		return Value{}, err
	}
	se, ok := t.(xml.StartElement)
	if !ok || se.Name.Local != "llsd" {
		return Value{}, d.fail("expected <llsd>")
	}
	t, err = d.next()
	if err != nil {
		return Value{}, err
	}
	var v Value
	if se, ok := t.(xml.StartElement); ok {
		if v, err = d.value(se, 0); err != nil {
			return Value{}, err
		}
		if t, err = d.next(); err != nil {
			return Value{}, err
		}
	}
	if ee, ok := t.(xml.EndElement); !ok || ee.Name.Local != "llsd" {
		return Value{}, d.fail("expected </llsd>")
	}
	return v, nil
}

// text reads character data up to the end of the current element.
func (d *decoder) text(name string) (string, error) {
	var sb strings.Builder
	for {
		t, err := d.d.Token()
		if err != nil {
			return "", d.fail("unterminated <%s>", name)
		}
		switch tt := t.(type) {
		case xml.CharData:
			sb.Write(tt)
		case xml.EndElement:
			return sb.String(), nil
		case xml.StartElement:
			return "", d.fail("unexpected <%s> inside <%s>", tt.Name.Local, name)
		}
	}
}

func (d *decoder) value(se xml.StartElement, depth int) (Value, error) {
	if depth > MaxDepth {
		return Value{}, d.fail("nesting deeper than %d", MaxDepth)
	}
	if d.nodes++; d.nodes > MaxNodes {
		return Value{}, d.fail("more than %d values", MaxNodes)
	}
	name := se.Name.Local
	switch name {
	case "map":
		v := Value{Kind: Map}
		for {
			t, err := d.next()
			if err != nil {
				return Value{}, err
			}
			if _, ok := t.(xml.EndElement); ok {
				return v, nil
			}
			ks := t.(xml.StartElement)
			if ks.Name.Local != "key" {
				return Value{}, d.fail("expected <key> in <map>, got <%s>", ks.Name.Local)
			}
			k, err := d.text("key")
			if err != nil {
				return Value{}, err
			}
			t, err = d.next()
			if err != nil {
				return Value{}, err
			}
			vs, ok := t.(xml.StartElement)
			if !ok {
				return Value{}, d.fail("<key>%s</key> has no value", clip(k))
			}
			item, err := d.value(vs, depth+1)
			if err != nil {
				return Value{}, err
			}
			v.Keys = append(v.Keys, k)
			v.Items = append(v.Items, item)
		}
	case "array":
		v := Value{Kind: Array}
		for {
			t, err := d.next()
			if err != nil {
				return Value{}, err
			}
			if _, ok := t.(xml.EndElement); ok {
				return v, nil
			}
			item, err := d.value(t.(xml.StartElement), depth+1)
			if err != nil {
				return Value{}, err
			}
			v.Items = append(v.Items, item)
		}
	case "undef":
		if _, err := d.text(name); err != nil {
			return Value{}, err
		}
		return Value{Kind: Undef}, nil
	case "boolean", "integer", "real", "string", "uuid", "date", "uri":
		s, err := d.text(name)
		if err != nil {
			return Value{}, err
		}
		k := map[string]Kind{"boolean": Boolean, "integer": Integer, "real": Real, "string": String, "uuid": UUID, "date": Date, "uri": URI}[name]
		return Value{Kind: k, Text: s}, nil
	case "binary":
		s, err := d.text(name)
		if err != nil {
			return Value{}, err
		}
		raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
		if err != nil {
			return Value{}, d.fail("<binary>: %v", err)
		}
		return Value{Kind: Binary, Bytes: raw}, nil
	}
	return Value{}, d.fail("unknown element <%s>", name)
}

// Writer builds a compact LLSD XML document. Calls must nest correctly; the zero value is
// ready and Bytes returns the document.
type Writer struct {
	b []byte
}

// NewWriter returns a writer that has written the opening <llsd>.
func NewWriter() *Writer { return &Writer{b: append(make([]byte, 0, 256), "<llsd>"...)} }

// Bytes closes the document and returns it.
func (w *Writer) Bytes() []byte { return append(w.b, "</llsd>"...) }

func (w *Writer) esc(s string) {
	var buf bytes.Buffer
	_ = xml.EscapeText(&buf, []byte(s))
	w.b = append(w.b, buf.Bytes()...)
}

// BeginMap opens a map.
func (w *Writer) BeginMap() *Writer { w.b = append(w.b, "<map>"...); return w }

// EndMap closes a map.
func (w *Writer) EndMap() *Writer { w.b = append(w.b, "</map>"...); return w }

// BeginArray opens an array.
func (w *Writer) BeginArray() *Writer { w.b = append(w.b, "<array>"...); return w }

// EndArray closes an array.
func (w *Writer) EndArray() *Writer { w.b = append(w.b, "</array>"...); return w }

// Key writes a map key; the value follows.
func (w *Writer) Key(k string) *Writer {
	w.b = append(w.b, "<key>"...)
	w.esc(k)
	w.b = append(w.b, "</key>"...)
	return w
}

// String writes a string.
func (w *Writer) String(s string) *Writer {
	w.b = append(w.b, "<string>"...)
	w.esc(s)
	w.b = append(w.b, "</string>"...)
	return w
}

// Int writes an integer.
func (w *Writer) Int(n int64) *Writer {
	w.b = append(w.b, "<integer>"...)
	w.b = strconv.AppendInt(w.b, n, 10)
	w.b = append(w.b, "</integer>"...)
	return w
}

// Real writes a real.
func (w *Writer) Real(f float64) *Writer {
	w.b = append(w.b, "<real>"...)
	w.b = strconv.AppendFloat(w.b, f, 'g', -1, 64)
	w.b = append(w.b, "</real>"...)
	return w
}

// Bool writes a boolean.
func (w *Writer) Bool(v bool) *Writer {
	if v {
		w.b = append(w.b, "<boolean>1</boolean>"...)
	} else {
		w.b = append(w.b, "<boolean>0</boolean>"...)
	}
	return w
}

// UUID writes a UUID.
func (w *Writer) UUID(u uuid.UUID) *Writer {
	w.b = append(w.b, "<uuid>"...)
	w.b = append(w.b, u.String()...)
	w.b = append(w.b, "</uuid>"...)
	return w
}

// Undef writes undef.
func (w *Writer) Undef() *Writer { w.b = append(w.b, "<undef />"...); return w }

// Binary writes base64 binary.
func (w *Writer) Binary(b []byte) *Writer {
	w.b = append(w.b, "<binary>"...)
	w.b = base64.StdEncoding.AppendEncode(w.b, b)
	w.b = append(w.b, "</binary>"...)
	return w
}

// Value writes v (as decoded) back out.
func (w *Writer) Value(v Value) *Writer {
	switch v.Kind {
	case Undef:
		return w.Undef()
	case Map:
		w.BeginMap()
		for i, k := range v.Keys {
			w.Key(k).Value(v.Items[i])
		}
		return w.EndMap()
	case Array:
		w.BeginArray()
		for _, it := range v.Items {
			w.Value(it)
		}
		return w.EndArray()
	case Binary:
		return w.Binary(v.Bytes)
	}
	tag := v.Kind.String()
	w.b = append(w.b, '<')
	w.b = append(w.b, tag...)
	w.b = append(w.b, '>')
	w.esc(v.Text)
	w.b = append(w.b, "</"...)
	w.b = append(w.b, tag...)
	w.b = append(w.b, '>')
	return w
}
