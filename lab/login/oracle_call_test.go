package login

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The encoding/xml methodCall decoder that decodeMethodCall replaced, kept unchanged as the
// oracle for the differential tests and the before/after benchmarks.

type oracleDecoder struct {
	d     *xml.Decoder
	depth int
}

// oracleDecodeMethodCall is the encoding/xml decodeMethodCall we had before the scanner: the
// oracle the scanner-based one must agree with (FuzzDecodeMethodCallMatchesOracle). It parses an XML-RPC methodCall. It accepts what real clients send beyond the
// strict spec: untyped `<value>text</value>` (a string), empty `<value/>` (an empty string),
// `<int>`/`<i4>`/`<i8>`, whitespace between elements, comments, and a member without a value.
func oracleDecodeMethodCall(b []byte) (*methodCall, error) {
	p := &oracleDecoder{d: xml.NewDecoder(bytes.NewReader(b))}
	p.d.CharsetReader = oracleCharsetReader
	if err := p.expectStart("methodCall"); err != nil {
		return nil, err
	}
	mc := &methodCall{}
	seenName := false
	for {
		t, err := p.structural()
		if err != nil {
			return nil, err
		}
		switch t := t.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "methodName":
				s, err := p.text()
				if err != nil {
					return nil, err
				}
				mc.method = strings.TrimSpace(s)
				seenName = true
			case "params":
				if err := p.params(mc); err != nil {
					return nil, err
				}
			default:
				return nil, fmt.Errorf("%w: unexpected <%s> in <methodCall>", errSyntax, t.Name.Local)
			}
		case xml.EndElement:
			if !seenName || mc.method == "" {
				return nil, fmt.Errorf("%w: no <methodName>", errSyntax)
			}
			// Only whitespace, comments and processing instructions may follow.
			for {
				t, err := p.structural()
				if err == io.EOF {
					return mc, nil
				}
				if err != nil {
					return nil, err
				}
				return nil, fmt.Errorf("%w: %T after </methodCall>", errSyntax, t)
			}
		}
	}
}

// oracleCharsetReader lets requests declare ISO-8859-1 or US-ASCII besides UTF-8.
func oracleCharsetReader(label string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "iso-8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii":
		b, err := io.ReadAll(r)
		if err != nil {
			return nil, err
		}
		out := make([]byte, 0, len(b))
		for _, c := range b {
			out = utf8.AppendRune(out, rune(c))
		}
		return bytes.NewReader(out), nil
	}
	return nil, fmt.Errorf("xmlrpc: unsupported charset %q", label)
}

// raw returns the next token, skipping comments, processing instructions and directives.
func (p *oracleDecoder) raw() (xml.Token, error) {
	for {
		t, err := p.d.Token()
		if err != nil {
			if err == io.EOF {
				return nil, io.EOF
			}
			return nil, fmt.Errorf("%w: %v", errSyntax, err)
		}
		switch t.(type) {
		case xml.Comment, xml.ProcInst, xml.Directive:
			continue
		}
		return t, nil
	}
}

// structural returns the next element boundary; only whitespace text may come before it.
func (p *oracleDecoder) structural() (xml.Token, error) {
	for {
		t, err := p.raw()
		if err != nil {
			return nil, err
		}
		if cd, ok := t.(xml.CharData); ok {
			if len(bytes.TrimSpace(cd)) != 0 {
				return nil, fmt.Errorf("%w: unexpected text %q", errSyntax, truncate(string(cd)))
			}
			continue
		}
		return t, nil
	}
}

func (p *oracleDecoder) expectStart(name string) error {
	t, err := p.structural()
	if err == io.EOF {
		return fmt.Errorf("%w: empty document", errSyntax)
	}
	if err != nil {
		return err
	}
	se, ok := t.(xml.StartElement)
	if !ok || se.Name.Local != name {
		return fmt.Errorf("%w: expected <%s>", errSyntax, name)
	}
	return nil
}

func unexpectedEOF(err error) error {
	if err == io.EOF {
		return fmt.Errorf("%w: unexpected end of document", errSyntax)
	}
	return err
}

// text reads character data up to the end of the current element; no child elements allowed.
func (p *oracleDecoder) text() (string, error) {
	var sb strings.Builder
	for {
		t, err := p.raw()
		if err != nil {
			return "", unexpectedEOF(err)
		}
		switch t := t.(type) {
		case xml.CharData:
			sb.Write(t)
		case xml.StartElement:
			return "", fmt.Errorf("%w: unexpected <%s> in text", errSyntax, t.Name.Local)
		case xml.EndElement:
			return sb.String(), nil
		}
	}
}

func (p *oracleDecoder) params(mc *methodCall) error {
	for {
		t, err := p.structural()
		if err != nil {
			return unexpectedEOF(err)
		}
		switch t := t.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			if t.Name.Local != "param" {
				return fmt.Errorf("%w: unexpected <%s> in <params>", errSyntax, t.Name.Local)
			}
			if err := p.expectStart("value"); err != nil {
				return unexpectedEOF(err)
			}
			v, err := p.value()
			if err != nil {
				return err
			}
			mc.params = append(mc.params, v)
			t2, err := p.structural()
			if err != nil {
				return unexpectedEOF(err)
			}
			if _, ok := t2.(xml.EndElement); !ok {
				return fmt.Errorf("%w: <param> holds more than one value", errSyntax)
			}
		}
	}
}

// value decodes the inside of a <value> element whose start tag has been read.
func (p *oracleDecoder) value() (value, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return value{}, fmt.Errorf("%w: values nested deeper than %d", errSyntax, maxDepth)
	}
	var text strings.Builder
	for {
		t, err := p.raw()
		if err != nil {
			return value{}, unexpectedEOF(err)
		}
		switch t := t.(type) {
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			// Untyped (or empty) value: a string, as the spec says.
			return value{kind: kindString, text: text.String()}, nil
		case xml.StartElement:
			if strings.TrimSpace(text.String()) != "" {
				return value{}, fmt.Errorf("%w: text and <%s> in one <value>", errSyntax, t.Name.Local)
			}
			v, err := p.typed(t.Name.Local)
			if err != nil {
				return value{}, err
			}
			end, err := p.structural()
			if err != nil {
				return value{}, unexpectedEOF(err)
			}
			if _, ok := end.(xml.EndElement); !ok {
				return value{}, fmt.Errorf("%w: <value> holds more than one element", errSyntax)
			}
			return v, nil
		}
	}
}

func (p *oracleDecoder) typed(name string) (value, error) {
	switch name {
	case "struct":
		return p.structValue()
	case "array":
		return p.arrayValue()
	}
	s, err := p.text()
	if err != nil {
		return value{}, err
	}
	bad := func() (value, error) {
		return value{}, fmt.Errorf("%w: <%s>%s</%s> is not valid", errSyntax, name, truncate(s), name)
	}
	ts := strings.TrimSpace(s)
	switch name {
	case "string":
		return value{kind: kindString, text: s}, nil
	case "i4", "int":
		n, err := strconv.ParseInt(ts, 10, 32)
		if err != nil {
			return bad()
		}
		return value{kind: kindInt, text: ts, i: n}, nil
	case "i8":
		n, err := strconv.ParseInt(ts, 10, 64)
		if err != nil {
			return bad()
		}
		return value{kind: kindInt, text: ts, i: n}, nil
	case "boolean":
		switch strings.ToLower(ts) {
		case "1", "true":
			return value{kind: kindBool, text: ts, b: true}, nil
		case "0", "false":
			return value{kind: kindBool, text: ts}, nil
		}
		return bad()
	case "double":
		f, err := strconv.ParseFloat(ts, 64)
		if err != nil {
			return bad()
		}
		return value{kind: kindDouble, text: ts, f: f}, nil
	case "dateTime.iso8601":
		return value{kind: kindDateTime, text: ts}, nil
	case "base64":
		return value{kind: kindBase64, text: ts}, nil
	case "nil":
		if ts != "" {
			return bad()
		}
		return value{kind: kindNil}, nil
	}
	return value{}, fmt.Errorf("%w: unknown type <%s>", errSyntax, name)
}

func (p *oracleDecoder) structValue() (value, error) {
	v := value{kind: kindStruct}
	for {
		t, err := p.structural()
		if err != nil {
			return value{}, unexpectedEOF(err)
		}
		switch t := t.(type) {
		case xml.EndElement:
			return v, nil
		case xml.StartElement:
			if t.Name.Local != "member" {
				return value{}, fmt.Errorf("%w: unexpected <%s> in <struct>", errSyntax, t.Name.Local)
			}
			m, err := p.member()
			if err != nil {
				return value{}, err
			}
			v.members = append(v.members, m)
		}
	}
}

func (p *oracleDecoder) member() (member, error) {
	var m member
	haveName := false
	m.v = value{kind: kindNil} // a member without <value> (seen in the wild) is nil
	for {
		t, err := p.structural()
		if err != nil {
			return member{}, unexpectedEOF(err)
		}
		switch t := t.(type) {
		case xml.EndElement:
			if !haveName {
				return member{}, fmt.Errorf("%w: <member> without <name>", errSyntax)
			}
			return m, nil
		case xml.StartElement:
			switch t.Name.Local {
			case "name":
				s, err := p.text()
				if err != nil {
					return member{}, err
				}
				m.name = s
				haveName = true
			case "value":
				v, err := p.value()
				if err != nil {
					return member{}, err
				}
				m.v = v
			default:
				return member{}, fmt.Errorf("%w: unexpected <%s> in <member>", errSyntax, t.Name.Local)
			}
		}
	}
}

func (p *oracleDecoder) arrayValue() (value, error) {
	v := value{kind: kindArray}
	inData := false
	for {
		t, err := p.structural()
		if err != nil {
			return value{}, unexpectedEOF(err)
		}
		switch t := t.(type) {
		case xml.EndElement:
			if t.Name.Local == "data" {
				inData = false
				continue
			}
			return v, nil // </array>
		case xml.StartElement:
			switch {
			case t.Name.Local == "data" && !inData:
				inData = true
			case t.Name.Local == "value" && inData:
				item, err := p.value()
				if err != nil {
					return value{}, err
				}
				v.items = append(v.items, item)
			default:
				return value{}, fmt.Errorf("%w: unexpected <%s> in <array>", errSyntax, t.Name.Local)
			}
		}
	}
}

// oracleDecodeMethodResponse reads a methodResponse's params with the oracle's grammar (the
// methodCall grammar under a <methodResponse> root). FuzzDecodeReplyMatchesKolo uses it to tell
// well-formed XML-RPC replies from the documents kolo/xmlrpc also accepted.
func oracleDecodeMethodResponse(b []byte) ([]value, error) {
	p := &oracleDecoder{d: xml.NewDecoder(bytes.NewReader(b))}
	p.d.CharsetReader = oracleCharsetReader
	if err := p.expectStart("methodResponse"); err != nil {
		return nil, err
	}
	mc := &methodCall{}
	for {
		t, err := p.structural()
		if err != nil {
			return nil, unexpectedEOF(err)
		}
		switch t := t.(type) {
		case xml.StartElement:
			if t.Name.Local != "params" {
				return nil, fmt.Errorf("%w: unexpected <%s> in <methodResponse>", errSyntax, t.Name.Local)
			}
			if err := p.params(mc); err != nil {
				return nil, err
			}
		case xml.EndElement:
			t2, err := p.structural()
			if err == io.EOF {
				return mc.params, nil
			}
			if err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %T after </methodResponse>", errSyntax, t2)
		}
	}
}
