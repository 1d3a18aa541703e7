package login

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// This file is the server side of XML-RPC, which github.com/kolo/xmlrpc does not provide: a
// methodCall decoder on our XML scanner (xmlscan.go), and a small append-only encoder whose
// output (member order included) is fixed by the code that writes it.

type kind uint8

const (
	kindString   kind = iota // <string>, or an untyped or empty <value>
	kindInt                  // <i4>, <int>, <i8>
	kindBool                 // <boolean>
	kindDouble               // <double>
	kindDateTime             // <dateTime.iso8601>, kept as text
	kindBase64               // <base64>, kept as text
	kindNil                  // <nil/>
	kindStruct
	kindArray
)

// value is one decoded XML-RPC value.
type value struct {
	kind    kind
	text    string // scalars: the text as written (numbers trimmed)
	i       int64
	b       bool
	f       float64
	members []member
	items   []value
}

type member struct {
	name string
	v    value
}

// scalar returns the value as a string, the way OpenSim's ToString() sees it, and whether it is
// a scalar at all.
func (v *value) scalar() (string, bool) {
	switch v.kind {
	case kindStruct, kindArray:
		return "", false
	case kindNil:
		return "", true
	case kindBool:
		if v.b {
			return "True", true
		}
		return "False", true
	}
	return v.text, true
}

// get returns the first member called name.
func (v *value) get(name string) (*value, bool) {
	for i := range v.members {
		if v.members[i].name == name {
			return &v.members[i].v, true
		}
	}
	return nil, false
}

// methodCall is a decoded XML-RPC request.
type methodCall struct {
	method string
	params []value
}

const maxDepth = 64

var errSyntax = errors.New("xmlrpc: malformed methodCall")

// callDecoder decodes a methodCall with the scanner (xmlscan.go). It accepts exactly what the
// encoding/xml decoder it replaced accepted, with the same results; that decoder is kept in
// oracle_call_test.go and FuzzDecodeMethodCallMatchesOracle holds the two together.
type callDecoder struct {
	xmlDecoder
	depth   int      // <value> nesting
	members []member // the members of the structs being read, innermost last
	items   []value  // the items of the arrays being read, innermost last
}

// xmlDecoder is what the methodCall and methodResponse decoders share: the scanner and the
// token-level helpers, whose errors wrap errKind.
type xmlDecoder struct {
	s       scanner
	acc     []byte // text of the element being read, when it came in several pieces
	errKind error
}

// decodeMethodCall parses an XML-RPC methodCall. It accepts what real clients send beyond the
// strict spec: untyped `<value>text</value>` (a string), empty `<value/>` (an empty string),
// `<int>`/`<i4>`/`<i8>`, whitespace between elements, comments, and a member without a value.
func decodeMethodCall(b []byte) (*methodCall, error) {
	d := callDecoders.Get().(*callDecoder)
	defer d.release()
	d.s.reset(b)
	d.errKind = errSyntax
	if err := d.expectStart("methodCall"); err != nil {
		return nil, err
	}
	mc := &methodCall{}
	seenName := false
	err := d.children(func() error {
		switch {
		case d.s.localIs("methodName"):
			s, err := d.text()
			if err != nil {
				return err
			}
			mc.method = string(bytes.TrimSpace(s))
			seenName = true
			return nil
		case d.s.localIs("params"):
			return d.params(mc)
		}
		return d.unexpected("in <methodCall>")
	})
	if err != nil {
		return nil, err
	}
	if !seenName || mc.method == "" {
		return nil, d.fail("no <methodName>")
	}
	if err := d.expectEOF("</methodCall>"); err != nil {
		return nil, err
	}
	return mc, nil
}

// callDecoders keeps decoders, with their scanner's stack and scratch slices, for reuse.
var callDecoders = sync.Pool{New: func() any { return new(callDecoder) }}

func (d *callDecoder) release() {
	clear(d.members[:cap(d.members)]) // drop the strings of this call
	clear(d.items[:cap(d.items)])
	d.members, d.items, d.depth = d.members[:0], d.items[:0], 0
	d.s.reset(nil)
	d.s.text = nil
	callDecoders.Put(d)
}

// fail returns a syntax error at the current token.
func (d *xmlDecoder) fail(format string, args ...any) error {
	return fmt.Errorf("%w: %w", d.errKind, d.s.errorAt(d.s.at, format, args...))
}

func (d *xmlDecoder) unexpected(where string) error {
	return d.fail("unexpected <%s> %s", d.s.nameBytes(), where)
}

// raw returns the next token that is not a comment, processing instruction or directive.
func (d *xmlDecoder) raw() (tokKind, error) {
	for {
		switch k := d.s.next(); k {
		case tokComment, tokPI, tokDirective:
		case tokErr:
			return k, fmt.Errorf("%w: %w", d.errKind, d.s.err)
		default:
			return k, nil
		}
	}
}

// structural returns the next start tag, end tag or end of document; only white space may
// come before it.
func (d *xmlDecoder) structural() (tokKind, error) {
	for {
		k, err := d.raw()
		if err != nil {
			return k, err
		}
		if k != tokText {
			return k, nil
		}
		if !isBlank(d.s.text) {
			return k, d.fail("unexpected text %q", truncate(string(d.s.text)))
		}
	}
}

// children reads the content of the element whose start tag was just read, up to its end tag:
// each is called with a child element's start tag read and must read that child whole. Only
// white space (and comments, processing instructions) may lie between the children.
func (d *xmlDecoder) children(each func() error) error {
	for {
		k, err := d.structural()
		if err != nil {
			return err
		}
		switch k {
		case tokEnd:
			return nil
		case tokStart:
			if err := each(); err != nil {
				return err
			}
		default:
			return d.fail("unexpected end of document")
		}
	}
}

// param reads one <param> whose start tag was just read: read decodes its <value> (start tag
// read), then nothing but </param> may follow.
func (d *xmlDecoder) param(read func() error) error {
	if err := d.expectStart("value"); err != nil {
		return err
	}
	if err := read(); err != nil {
		return err
	}
	return d.closeAfterOne("<param> holds more than one value")
}

// expectEOF checks that nothing but white space, comments, processing instructions and
// directives follows the document's last end tag (named in the error).
func (d *xmlDecoder) expectEOF(last string) error {
	k, err := d.structural()
	if err != nil {
		return err
	}
	if k != tokEOF {
		return d.fail("markup after %s", last)
	}
	return nil
}

func (d *xmlDecoder) expectStart(name string) error {
	k, err := d.structural()
	if err != nil {
		return err
	}
	switch {
	case k == tokEOF:
		return d.fail("empty document")
	case k != tokStart || !d.s.localIs(name):
		return d.fail("expected <%s>", name)
	}
	return nil
}

// addText adds the current text token to the got pieces read so far (whole, in d.acc if
// owned) and returns the whole. A first piece that is a slice of the body is returned as is;
// anything else is gathered in d.acc.
func (d *xmlDecoder) addText(whole []byte, got int, owned bool) ([]byte, bool) {
	t := d.s.text
	if got == 0 {
		if d.s.inSrc {
			return t, false
		}
		d.acc = append(d.acc[:0], t...)
		return d.acc, true
	}
	if !owned {
		d.acc = append(d.acc[:0], whole...)
	}
	d.acc = append(d.acc, t...)
	return d.acc, true
}

// text reads character data up to the end of the current element; no child elements allowed.
// The result is valid until the next token.
func (d *xmlDecoder) text() ([]byte, error) {
	b, _, err := d.textPieces()
	return b, err
}

// textPieces is text that also tells whether there was any character data at all (an empty
// CDATA section counts; comments do not).
func (d *xmlDecoder) textPieces() ([]byte, bool, error) {
	text, pieces, start, err := d.content()
	if err != nil {
		return nil, false, err
	}
	if start {
		return nil, false, d.unexpected("in text")
	}
	return text, pieces > 0, nil
}

// content reads character data up to the next tag and reads that tag: the text, how many
// pieces it came in, and whether the tag is a start tag (else it is an end tag).
func (d *xmlDecoder) content() (text []byte, pieces int, start bool, err error) {
	owned := false
	for {
		k, err := d.raw()
		if err != nil {
			return nil, 0, false, err
		}
		switch k {
		case tokText:
			text, owned = d.addText(text, pieces, owned)
			pieces++
		case tokStart, tokEnd:
			return text, pieces, k == tokStart, nil
		default:
			return nil, 0, false, d.fail("unexpected end of document")
		}
	}
}

func (d *callDecoder) params(mc *methodCall) error {
	return d.children(func() error {
		if !d.s.localIs("param") {
			return d.unexpected("in <params>")
		}
		return d.param(func() error {
			v, err := d.value()
			if err != nil {
				return err
			}
			mc.params = append(mc.params, v)
			return nil
		})
	})
}

// value decodes the inside of a <value> element whose start tag has been read.
func (d *callDecoder) value() (value, error) {
	if d.depth >= maxDepth {
		return value{}, d.fail("values nested deeper than %d", maxDepth)
	}
	d.depth++
	v, err := d.valueContent()
	d.depth--
	return v, err
}

func (d *callDecoder) valueContent() (value, error) {
	typed, text, err := d.openValue()
	if err != nil {
		return value{}, err
	}
	if !typed { // untyped (or empty) value: a string, as the spec says
		return value{kind: kindString, text: string(text)}, nil
	}
	v, err := d.typed()
	if err != nil {
		return value{}, err
	}
	if err := d.closeValue(); err != nil {
		return value{}, err
	}
	return v, nil
}

// typed decodes the element whose start tag was just read inside a <value>.
func (d *callDecoder) typed() (value, error) {
	switch {
	case d.s.localIs("struct"):
		return d.structValue()
	case d.s.localIs("array"):
		return d.arrayValue()
	}
	name := d.s.localBytes() // stays valid: the scanner never writes into a document
	b, err := d.text()
	if err != nil {
		return value{}, err
	}
	bad := func() (value, error) {
		return value{}, d.fail("<%s>%s</%s> is not valid", name, truncate(string(b)), name)
	}
	tb := bytes.TrimSpace(b)
	switch string(name) {
	case "string":
		return value{kind: kindString, text: string(b)}, nil
	case "i4", "int":
		ts := string(tb)
		n, err := strconv.ParseInt(ts, 10, 32)
		if err != nil {
			return bad()
		}
		return value{kind: kindInt, text: ts, i: n}, nil
	case "i8":
		ts := string(tb)
		n, err := strconv.ParseInt(ts, 10, 64)
		if err != nil {
			return bad()
		}
		return value{kind: kindInt, text: ts, i: n}, nil
	case "boolean":
		ts := string(tb)
		switch strings.ToLower(ts) {
		case "1", "true":
			return value{kind: kindBool, text: ts, b: true}, nil
		case "0", "false":
			return value{kind: kindBool, text: ts}, nil
		}
		return bad()
	case "double":
		ts := string(tb)
		f, err := strconv.ParseFloat(ts, 64)
		if err != nil {
			return bad()
		}
		return value{kind: kindDouble, text: ts, f: f}, nil
	case "dateTime.iso8601":
		return value{kind: kindDateTime, text: string(tb)}, nil
	case "base64":
		return value{kind: kindBase64, text: string(tb)}, nil
	case "nil":
		if len(tb) != 0 {
			return bad()
		}
		return value{kind: kindNil}, nil
	}
	return value{}, d.fail("unknown type <%s>", name)
}

func (d *callDecoder) structValue() (value, error) {
	base := len(d.members)
	defer func() { d.members = d.members[:base] }()
	err := d.children(func() error {
		if !d.s.localIs("member") {
			return d.unexpected("in <struct>")
		}
		m, err := d.member()
		if err != nil {
			return err
		}
		d.members = append(d.members, m)
		return nil
	})
	if err != nil {
		return value{}, err
	}
	v := value{kind: kindStruct}
	if len(d.members) > base {
		v.members = append([]member(nil), d.members[base:]...)
	}
	return v, nil
}

func (d *callDecoder) member() (member, error) {
	var m member
	haveName := false
	m.v = value{kind: kindNil} // a member without <value> (seen in the wild) is nil
	err := d.children(func() error {
		switch {
		case d.s.localIs("name"):
			b, err := d.text()
			if err != nil {
				return err
			}
			m.name = string(b)
			haveName = true
			return nil
		case d.s.localIs("value"):
			v, err := d.value()
			if err != nil {
				return err
			}
			m.v = v
			return nil
		}
		return d.unexpected("in <member>")
	})
	if err != nil {
		return member{}, err
	}
	if !haveName {
		return member{}, d.fail("<member> without <name>")
	}
	return m, nil
}

func (d *callDecoder) arrayValue() (value, error) {
	base := len(d.items)
	defer func() { d.items = d.items[:base] }()
	err := d.children(func() error {
		if !d.s.localIs("data") {
			return d.unexpected("in <array>")
		}
		return d.children(func() error {
			if !d.s.localIs("value") {
				return d.unexpected("in <array>")
			}
			item, err := d.value()
			if err != nil {
				return err
			}
			d.items = append(d.items, item)
			return nil
		})
	})
	if err != nil {
		return value{}, err
	}
	v := value{kind: kindArray} // </array> read
	if len(d.items) > base {
		v.items = append([]value(nil), d.items[base:]...)
	}
	return v, nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// enc writes XML-RPC. Member order is the order of the calls that write them.
type enc struct{ b []byte }

func (e *enc) raw(s string) { e.b = append(e.b, s...) }

// esc appends s as XML character data. Characters XML 1.0 cannot carry become U+FFFD.
func (e *enc) esc(s string) {
	// Most of a reply is printable ASCII with nothing to escape: copy that prefix whole.
	i := 0
	for i < len(s) && s[i] >= 0x20 && s[i] < utf8.RuneSelf && s[i] != '&' && s[i] != '<' && s[i] != '>' {
		i++
	}
	e.b = append(e.b, s[:i]...)
	for _, r := range s[i:] {
		switch {
		case r == '&':
			e.b = append(e.b, "&amp;"...)
		case r == '<':
			e.b = append(e.b, "&lt;"...)
		case r == '>':
			e.b = append(e.b, "&gt;"...)
		case r == '\r':
			e.b = append(e.b, "&#xD;"...)
		case r == '\t' || r == '\n' || (r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF):
			if r == utf8.RuneError {
				e.b = append(e.b, "\uFFFD"...)
			} else {
				e.b = utf8.AppendRune(e.b, r)
			}
		default:
			e.b = append(e.b, "\uFFFD"...)
		}
	}
}

func (e *enc) str(s string) {
	e.raw("<value><string>")
	e.esc(s)
	e.raw("</string></value>")
}

func (e *enc) i4(n int32) {
	e.raw("<value><i4>")
	e.b = strconv.AppendInt(e.b, int64(n), 10)
	e.raw("</i4></value>")
}

func (e *enc) name(n string) {
	e.raw("<member><name>")
	e.esc(n)
	e.raw("</name>")
}

// ms writes a string member, mi an i4 member.
func (e *enc) ms(n, s string) { e.name(n); e.str(s); e.raw("</member>") }
func (e *enc) mi(n string, v int32) {
	e.name(n)
	e.i4(v)
	e.raw("</member>")
}

func (e *enc) beginStruct()         { e.raw("<value><struct>") }
func (e *enc) endStruct()           { e.raw("</struct></value>") }
func (e *enc) beginArray()          { e.raw("<value><array><data>") }
func (e *enc) endArray()            { e.raw("</data></array></value>") }
func (e *enc) beginMember(n string) { e.name(n) }
func (e *enc) endMember()           { e.raw("</member>") }

func (e *enc) beginResponse() {
	e.raw(`<?xml version="1.0" encoding="utf-8"?><methodResponse><params><param>`)
}
func (e *enc) endResponse() { e.raw("</param></params></methodResponse>") }

// fault writes a complete fault response.
func (e *enc) fault(code int32, msg string) {
	e.raw(`<?xml version="1.0" encoding="utf-8"?><methodResponse><fault>`)
	e.beginStruct()
	e.mi("faultCode", code)
	e.ms("faultString", msg)
	e.endStruct()
	e.raw("</fault></methodResponse>")
}

// escText appends s as encoding/xml's EscapeText escapes it (kolo/xmlrpc's requests were
// written so): the markup characters and both quotes, tab, newline and carriage return as
// references, and invalid UTF-8 or characters XML 1.0 cannot carry as U+FFFD.
func (e *enc) escText(s string) {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		var esc string
		w := 1
		if c < utf8.RuneSelf {
			switch c {
			case '"':
				esc = "&#34;"
			case '\'':
				esc = "&#39;"
			case '&':
				esc = "&amp;"
			case '<':
				esc = "&lt;"
			case '>':
				esc = "&gt;"
			case '\t':
				esc = "&#x9;"
			case '\n':
				esc = "&#xA;"
			case '\r':
				esc = "&#xD;"
			default:
				if c >= 0x20 {
					i++
					continue
				}
				esc = "\uFFFD"
			}
		} else {
			var r rune
			r, w = utf8.DecodeRuneInString(s[i:])
			if isXMLChar(r) && !(r == utf8.RuneError && w == 1) {
				i += w
				continue
			}
			esc = "\uFFFD"
		}
		e.b = append(e.b, s[last:i]...)
		e.b = append(e.b, esc...)
		i += w
		last = i
	}
	e.b = append(e.b, s[last:]...)
}

// reqString, reqInt and reqBool write request members as kolo/xmlrpc did.
func (e *enc) reqString(n, s string) {
	e.raw("<member><name>")
	e.raw(n)
	e.raw("</name><value><string>")
	e.escText(s)
	e.raw("</string></value></member>")
}

func (e *enc) reqInt(n string, v int) {
	e.raw("<member><name>")
	e.raw(n)
	e.raw("</name><value><int>")
	e.b = strconv.AppendInt(e.b, int64(v), 10)
	e.raw("</int></value></member>")
}

func (e *enc) reqBool(n string, v bool) {
	e.raw("<member><name>")
	e.raw(n)
	if v {
		e.raw("</name><value><boolean>1</boolean></value></member>")
	} else {
		e.raw("</name><value><boolean>0</boolean></value></member>")
	}
}
