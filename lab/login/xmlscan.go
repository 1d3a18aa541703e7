package login

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A small XML scanner for the XML-RPC subset, working on the []byte in place.
//
// It accepts exactly the documents encoding/xml's Decoder (Strict, no AutoClose, no Entity
// map, our charset labels) tokenizes without error, and yields the same token boundaries
// (a text run up to the next '<', or one CDATA section, is one text token):
//   - elements with any attributes (checked, then ignored; duplicates are not an error, as
//     in encoding/xml), self-closing tags, end tags that must repeat the start tag's name
//     (prefix included); names are XML 1.0 names with at most one colon;
//   - character data with the five predefined entities and character references (&#NN;
//     &#xNN;, where a surrogate becomes U+FFFD), \r and \r\n read as \n, "]]>" forbidden
//     outside CDATA, and invalid UTF-8 or characters outside XML's Char production rejected
//     (in text, CDATA and attribute values; comments, processing instructions and directives
//     are not checked, as in encoding/xml);
//   - comments (no "--" inside), CDATA sections, processing instructions and directives
//     (<!DOCTYPE ...>, skipped with encoding/xml's quoting and nesting rules; an internal
//     subset declares nothing, so &custom; stays an error);
//   - <?xml ...?> declarations: version must be 1.0 if given; an encoding label other than
//     UTF-8 must be ISO-8859-1 or US-ASCII (see singleByteCharset), and the rest of the
//     document is then read as ISO-8859-1, wherever the declaration is — encoding/xml switches
//     its reader there too, and converts again at a second such declaration, as we do.
//
// Namespaces are not resolved: callers compare local names, as our decoders did with
// encoding/xml's Name.Local. Element nesting is bounded by maxElementDepth (encoding/xml has
// no bound; every accepted XML-RPC document is far shallower). Errors give the line, the byte
// offset (counted in the original body, also after an encoding switch unless there were two)
// and what was expected. The scanner never panics and does not allocate per token: text is a
// slice of the body unless entities or \r had to be decoded into a reused buffer.

// maxElementDepth bounds element nesting: above 3*maxDepth+4, the deepest element an accepted
// methodCall can have.
const maxElementDepth = 256

type tokKind uint8

const (
	tokErr       tokKind = iota // s.err says what and where
	tokEOF                      // end of document, every element closed
	tokStart                    // start tag: s.name, s.local, s.empty
	tokEnd                      // end tag (also right after a self-closing start tag)
	tokText                     // character data: s.text, valid until the next call
	tokComment                  // <!-- -->
	tokPI                       // <?target ...?>
	tokDirective                // <!DOCTYPE ...> and the like
)

// span is a range of scanner.src; loc is where a tag name's local part starts, from lo.
type span struct{ lo, hi, loc int }

// xmlError is a syntax error at a place in the document.
type xmlError struct {
	Line, Offset int // 1-based line; 0-based byte offset into the body
	Msg          string
}

func (e *xmlError) Error() string {
	return fmt.Sprintf("line %d, byte %d: %s", e.Line, e.Offset, e.Msg)
}

type scanner struct {
	src   []byte // the document; after an encoding declaration, src[conv:] is converted to UTF-8
	pos   int
	conv  int // where the first conversion started, -1 if none
	nconv int

	depth      int
	open       [maxElementDepth]span
	pendingEnd bool

	kind  tokKind
	at    int  // start of the current token
	name  span // tokStart, tokEnd: the qualified name
	local span // its local part
	empty bool // tokStart: self-closing
	text  []byte
	inSrc bool // tokText: text is a slice of src (else of buf, overwritten by the next token)
	buf   []byte
	err   *xmlError
}

func (s *scanner) reset(b []byte) {
	s.src, s.pos, s.conv, s.nconv = b, 0, -1, 0
	s.depth, s.pendingEnd, s.err, s.kind = 0, false, nil, tokErr
}

// nameBytes returns the current tag's qualified name; localIs compares its local part.
func (s *scanner) nameBytes() []byte  { return s.src[s.name.lo:s.name.hi] }
func (s *scanner) localBytes() []byte { return s.src[s.local.lo:s.local.hi] }
func (s *scanner) localIs(n string) bool {
	return string(s.src[s.local.lo:s.local.hi]) == n
}

// line returns the 1-based line of offset at.
func (s *scanner) line(at int) int {
	if at > len(s.src) {
		at = len(s.src)
	}
	return 1 + bytes.Count(s.src[:at], []byte{'\n'})
}

// origOffset maps an offset in src back to the body (exact for one encoding switch).
func (s *scanner) origOffset(at int) int {
	if s.conv < 0 || at <= s.conv {
		return at
	}
	if at > len(s.src) {
		at = len(s.src)
	}
	return s.conv + utf8.RuneCount(s.src[s.conv:at])
}

// errorAt returns an error at offset at of src.
func (s *scanner) errorAt(at int, format string, args ...any) *xmlError {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &xmlError{Line: s.line(at), Offset: s.origOffset(at), Msg: msg}
}

func (s *scanner) fail(at int, format string, args ...any) tokKind {
	s.err = s.errorAt(at, format, args...)
	s.kind = tokErr
	return tokErr
}

func (s *scanner) eof(what string) tokKind {
	return s.fail(len(s.src), "unexpected end of document in %s", what)
}

// next scans the next token.
func (s *scanner) next() tokKind {
	if s.err != nil {
		return tokErr
	}
	if s.pendingEnd {
		s.pendingEnd = false
		s.depth--
		s.kind = tokEnd
		return tokEnd
	}
	src, p := s.src, s.pos
	s.at = p
	if p >= len(src) {
		if s.depth > 0 {
			top := s.open[s.depth-1]
			return s.fail(p, "unexpected end of document: expected </%s>", src[top.lo:top.hi])
		}
		s.kind = tokEOF
		return tokEOF
	}
	if src[p] != '<' {
		return s.scanText(p)
	}
	if p+1 >= len(src) {
		return s.eof("a tag")
	}
	switch src[p+1] {
	case '/':
		return s.scanEndTag(p)
	case '?':
		return s.scanPI(p)
	case '!':
		return s.scanBang(p)
	}
	return s.scanStartTag(p)
}

func (s *scanner) setText(t []byte, inSrc bool, end int) tokKind {
	s.text, s.inSrc, s.pos, s.kind = t, inSrc, end, tokText
	return tokText
}

// scanText scans character data from p up to the next '<'.
func (s *scanner) scanText(p int) tokKind {
	src := s.src
	i := plainTextEnd(src, p)
	for i < len(src) {
		c := src[i]
		if byteClass[c]&classText != 0 {
			i++
			continue
		}
		switch {
		case c == '<':
			return s.setText(src[p:i], true, i)
		case c == '&' || c == '\r':
			return s.scanTextSlow(p)
		case c == '>':
			if i-p >= 2 && src[i-1] == ']' && src[i-2] == ']' {
				return s.fail(i-2, "unescaped ]]> outside a CDATA section")
			}
			i++
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(src[i:])
			if r == utf8.RuneError && n == 1 {
				return s.fail(i, "invalid UTF-8")
			}
			if !isXMLChar(r) {
				return s.fail(i, "illegal character code %U", r)
			}
			i += n
		default:
			return s.fail(i, "illegal character code %U", rune(c))
		}
	}
	return s.setText(src[p:i], true, i)
}

// scanTextSlow scans character data with references or \r to decode.
func (s *scanner) scanTextSlow(p int) tokKind {
	src := s.src
	end := len(src)
	if i := bytes.IndexByte(src[p:], '<'); i >= 0 {
		end = p + i
	}
	out, i, msg := appendCharData(s.buf[:0], src[p:end], true, true)
	s.buf = out
	if i >= 0 {
		return s.fail(p+i, "%s", msg)
	}
	return s.setText(out, false, end)
}

// appendCharData appends raw character data to dst, decoding entities if refs is set and
// reading \r and \r\n as \n. It reports the offset in raw and the reason of the first error,
// or -1. With cdEnd set, "]]>" is an error (encoding/xml forgets the two bytes before an
// entity, so "]]&gt;>" is fine).
func appendCharData(dst, raw []byte, refs, cdEnd bool) ([]byte, int, string) {
	var b0, b1 byte
	for i := 0; i < len(raw); {
		c := raw[i]
		if cdEnd && c == '>' && b0 == ']' && b1 == ']' {
			return dst, i, "unescaped ]]> outside a CDATA section"
		}
		switch {
		case c == '&' && refs:
			r, n, msg := parseEntity(raw[i:])
			if msg != "" {
				return dst, i, msg
			}
			dst = utf8.AppendRune(dst, r)
			i += n
			b0, b1 = 0, 0
			continue
		case c == '\r':
			dst = append(dst, '\n')
		case c == '\n' && b1 == '\r':
		case c < utf8.RuneSelf:
			if c < 0x20 && c != '\t' && c != '\n' {
				return dst, i, fmt.Sprintf("illegal character code %U", rune(c))
			}
			dst = append(dst, c)
		default:
			r, n := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && n == 1 {
				return dst, i, "invalid UTF-8"
			}
			if !isXMLChar(r) {
				return dst, i, fmt.Sprintf("illegal character code %U", r)
			}
			dst = append(dst, raw[i:i+n]...)
			b0, b1 = b1, raw[i+n-1]
			i += n
			continue
		}
		b0, b1 = b1, c
		i++
	}
	return dst, -1, ""
}

// checkChars reports the offset and reason of the first byte of b that is invalid UTF-8 or
// not an XML Char, or -1.
func checkChars(b []byte) (int, string) {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return i, fmt.Sprintf("illegal character code %U", rune(c))
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i, "invalid UTF-8"
		}
		if !isXMLChar(r) {
			return i, fmt.Sprintf("illegal character code %U", r)
		}
		i += n
	}
	return -1, ""
}

// isXMLChar reports whether r is in XML 1.0's Char production.
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// parseEntity decodes the entity or character reference at the start of b (b[0] == '&'),
// returning the rune and the bytes consumed, or a reason.
func parseEntity(b []byte) (rune, int, string) {
	if len(b) >= 2 && b[1] == '#' {
		i, base := 2, uint64(10)
		if i < len(b) && b[i] == 'x' {
			i, base = 3, 16
		}
		start := i
		var v uint64
		for ; i < len(b); i++ {
			d := uint64(255)
			switch c := b[i]; {
			case '0' <= c && c <= '9':
				d = uint64(c - '0')
			case base == 16 && 'a' <= c && c <= 'f':
				d = uint64(c-'a') + 10
			case base == 16 && 'A' <= c && c <= 'F':
				d = uint64(c-'A') + 10
			}
			if d == 255 {
				break
			}
			if v <= unicode.MaxRune {
				v = v*base + d
			}
		}
		if i >= len(b) || b[i] != ';' || i == start || v > unicode.MaxRune {
			if i >= len(b) {
				i = len(b) - 1
			}
			return 0, 0, fmt.Sprintf("invalid character reference %q", truncate(string(b[:i+1])))
		}
		r := rune(v)
		if r >= 0xD800 && r <= 0xDFFF {
			r = utf8.RuneError // what string(rune(n)) gives, as in encoding/xml
		}
		if !isXMLChar(r) {
			return 0, 0, fmt.Sprintf("illegal character code %U", r)
		}
		return r, i + 1, ""
	}
	for _, e := range [...]struct {
		ref string
		r   rune
	}{{"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&apos;", '\''}, {"&quot;", '"'}} {
		if bytes.HasPrefix(b, []byte(e.ref)) {
			return e.r, len(e.ref), ""
		}
	}
	end := 1
	for end < len(b) && end < 12 && b[end] != ';' && b[end] != '<' {
		end++
	}
	return 0, 0, fmt.Sprintf("invalid character entity %q (only &lt; &gt; &amp; &apos; &quot; and &#N; are defined)", b[:end])
}

// Byte classes.
const (
	classNameStart = 1 << iota // ASCII that may start a name
	className                  // may be part of a name (bytes from 0x80 too, pending isXMLName)
	classText                  // plain character data: no markup, reference, \r or control
	classPlainName             // an ASCII name byte other than ':': a run of them needs no more checks
)

var byteClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		if 'A' <= b && b <= 'Z' || 'a' <= b && b <= 'z' || b == '_' || b == ':' {
			t[c] |= classNameStart | className
		}
		if '0' <= b && b <= '9' || b == '.' || b == '-' || b >= utf8.RuneSelf {
			t[c] |= className
		}
		if b == '\t' || b == '\n' || b >= 0x20 && b < utf8.RuneSelf && b != '<' && b != '&' && b != '>' {
			t[c] |= classText
		}
		if t[c]&className != 0 && b < utf8.RuneSelf && b != ':' {
			t[c] |= classPlainName
		}
	}
	return t
}()

// plainTextEnd returns the end of the run of classText bytes at i in src, taking eight at a
// time while it can: most of a login reply's text is UUIDs and names in plain ASCII.
func plainTextEnd(src []byte, i int) int {
	for i+8 <= len(src) && plainText8(binary.LittleEndian.Uint64(src[i:])) {
		i += 8
	}
	for i < len(src) && byteClass[src[i]]&classText != 0 {
		i++
	}
	return i
}

// plainText8 reports whether the eight bytes packed in x are all classText other than tab and
// newline (which the byte loop takes): ASCII from 0x20, but not '<', '&' or '>'. A byte of v
// is below n (n <= 0x80) when the borrow of v - n sets its high bit, which v itself lacks; a
// byte equal to c is one of v^c below 1.
func plainText8(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	lt, amp, gt := x^(ones*'<'), x^(ones*'&'), x^(ones*'>')
	bad := x | (x-ones*0x20)&^x | (lt-ones)&^lt | (amp-ones)&^amp | (gt-ones)&^gt
	return bad&highs == 0
}

// sameBytes reports whether src[a:a+n] equals src[b:b+n] (both in range): names up to eight
// bytes, every end tag gridlab's peers write, are compared as one word each.
func sameBytes(src []byte, a, b, n int) bool {
	if n <= 8 && a+8 <= len(src) && b+8 <= len(src) {
		x := binary.LittleEndian.Uint64(src[a:]) ^ binary.LittleEndian.Uint64(src[b:])
		return x<<(64-8*n) == 0 // the n low bytes, the first n in memory, are the names
	}
	return string(src[a:a+n]) == string(src[b:b+n])
}

func isNameStartByte(c byte) bool { return byteClass[c]&classNameStart != 0 }

// isNameByte reports whether c may be part of a name; bytes from 0x80 are too, pending
// isXMLName's check of the runes.
func isNameByte(c byte) bool { return byteClass[c]&className != 0 }

// isXMLName reports whether b is an XML 1.0 name.
func isXMLName(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if i == 0 && !isNameStartByte(c) || !isNameByte(c) {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return false
		}
		if i == 0 && !unicode.Is(xmlNameStart, r) || i > 0 && !unicode.Is(xmlNameChar, r) {
			return false
		}
		i += n
	}
	return true
}

// scanName scans a name at p: the bytes up to the first ASCII byte that cannot be in a name.
// It returns the end, and a reason if there is no valid name there.
func (s *scanner) scanName(p int, what string) (int, string) {
	end, _, msg := s.scanNameColons(p, what)
	return end, msg
}

// scanNameColons is scanName that also counts the name's colons and gives the offset of its
// first one (-1 if none): tag names are looked at for a prefix, and finding the colons in
// the same pass costs less than searching each name for them again.
func (s *scanner) scanNameColons(p int, what string) (end int, colons colonRun, msg string) {
	src := s.src
	i := p
	var all uint8 = 0xFF
	colons.first = -1
	for i < len(src) && isNameByte(src[i]) {
		c := src[i]
		all &= ^c // bit 7 stays set while every byte is ASCII
		if c == ':' {
			if colons.n == 0 {
				colons.first = i - p
			}
			colons.n++
		}
		i++
	}
	switch {
	case i == len(src):
		return i, colons, "unexpected end of document in " + what
	case i == p:
		return i, colons, fmt.Sprintf("expected %s, found %q", what, src[p])
	case all&0x80 != 0 && isNameStartByte(src[p]):
		return i, colons, "" // ASCII: every byte is a name byte, and the first may start one
	case !isXMLName(src[p:i]):
		return i, colons, fmt.Sprintf("invalid XML name %q", truncate(string(src[p:i])))
	}
	return i, colons, ""
}

// plainName is scanQName's fast path: it returns the end of an ASCII name without a colon at
// p (every name in what gridlab's viewers and services send), or false to take the full path
// (another name, or an error to describe).
func (s *scanner) plainName(p int) (int, bool) {
	src := s.src
	i := p
	for i < len(src) && byteClass[src[i]]&classPlainName != 0 {
		i++
	}
	return i, i > p && i < len(src) && !isNameByte(src[i]) && isNameStartByte(src[p])
}

// colonRun is what scanNameColons found of a name's colons.
type colonRun struct {
	n     int // how many
	first int // offset of the first in the name, -1 if none
}

// scanQName scans a name that may have one colon; it sets local to the part after it.
func (s *scanner) scanQName(p int, what string) (end int, local span, msg string) {
	if end, ok := s.plainName(p); ok {
		return end, span{lo: p, hi: end}, ""
	}
	end, colons, msg := s.scanNameColons(p, what)
	if msg != "" {
		return end, span{}, msg
	}
	local = span{lo: p, hi: end}
	switch c := colons.first; {
	case colons.n > 1:
		return end, span{}, fmt.Sprintf("%s %q has more than one colon", what, s.src[p:end])
	case colons.n == 1 && c > 0 && c < end-p-1:
		local.lo = p + c + 1
	}
	return end, local, ""
}

func skipSpace(src []byte, i int) int {
	for i < len(src) {
		switch src[i] {
		case ' ', '\r', '\n', '\t':
			i++
		default:
			return i
		}
	}
	return i
}

// scanStartTag scans <name attr="value" ...> or <name .../> at p.
func (s *scanner) scanStartTag(p int) tokKind {
	if nameEnd, end, empty, ok := s.plainTag(p); ok && s.depth < len(s.open) {
		name := span{lo: p + 1, hi: nameEnd}
		return s.startTag(name, name, empty, end)
	}
	src := s.src
	i, local, msg := s.scanQName(p+1, "element name")
	if msg != "" {
		return s.fail(i, "%s", msg)
	}
	name := span{p + 1, i, local.lo - (p + 1)}
	empty := false
	for {
		i = skipSpace(src, i)
		if i >= len(src) {
			return s.eof("a start tag")
		}
		c := src[i]
		if c == '/' {
			if i+1 >= len(src) {
				return s.eof("a start tag")
			}
			if src[i+1] != '>' {
				return s.fail(i, "expected /> in element")
			}
			i += 2
			empty = true
			break
		}
		if c == '>' {
			i++
			break
		}
		var m string
		if i, _, m = s.scanQName(i, "attribute name"); m != "" {
			return s.fail(i, "%s", m)
		}
		i = skipSpace(src, i)
		if i >= len(src) {
			return s.eof("a start tag")
		}
		if src[i] != '=' {
			return s.fail(i, "expected = after attribute name")
		}
		i = skipSpace(src, i+1)
		if i >= len(src) {
			return s.eof("a start tag")
		}
		q := src[i]
		if q != '"' && q != '\'' {
			return s.fail(i, "expected a quoted attribute value")
		}
		i++
		k := bytes.IndexByte(src[i:], q)
		if k < 0 {
			return s.eof("an attribute value")
		}
		val := src[i : i+k]
		if j := bytes.IndexByte(val, '<'); j >= 0 {
			return s.fail(i+j, "unescaped < in an attribute value")
		}
		var bad int
		s.buf, bad, m = appendCharData(s.buf[:0], val, true, false)
		if bad >= 0 {
			return s.fail(i+bad, "%s", m)
		}
		i += k + 1
	}
	if s.depth >= len(s.open) {
		return s.fail(p, "elements nested deeper than %d", len(s.open))
	}
	return s.startTag(name, local, empty, i)
}

// startTag makes the start tag with name (local part local) ending at end the current token
// and opens its element; a self-closing one is closed by the next token.
func (s *scanner) startTag(name, local span, empty bool, end int) tokKind {
	s.open[s.depth] = name
	s.depth++
	s.name, s.local, s.empty, s.pendingEnd = name, local, empty, empty
	s.pos, s.kind = end, tokStart
	return tokStart
}

// scanEndTag scans </name> at p and checks it closes the innermost open element.
func (s *scanner) scanEndTag(p int) tokKind {
	src := s.src
	if s.depth > 0 {
		// Most often the name is the innermost open element's, which was checked already.
		top := s.open[s.depth-1]
		j := p + 2 + top.hi - top.lo
		if j < len(src) && !isNameByte(src[j]) && sameBytes(src, p+2, top.lo, top.hi-top.lo) {
			i := skipSpace(src, j)
			if i >= len(src) {
				return s.eof("an end tag")
			}
			if src[i] != '>' {
				return s.fail(i, "expected > to end </%s", src[top.lo:top.hi])
			}
			s.depth--
			s.name = span{lo: p + 2, hi: j}
			s.local = span{lo: s.name.lo + top.loc, hi: j}
			s.pos, s.kind = i+1, tokEnd
			return tokEnd
		}
	}
	i, local, msg := s.scanQName(p+2, "element name after </")
	if msg != "" {
		return s.fail(i, "%s", msg)
	}
	name := span{lo: p + 2, hi: i}
	i = skipSpace(src, i)
	if i >= len(src) {
		return s.eof("an end tag")
	}
	if src[i] != '>' {
		return s.fail(i, "expected > to end </%s", src[name.lo:name.hi])
	}
	if s.depth == 0 {
		return s.fail(p, "unexpected end tag </%s>", src[name.lo:name.hi])
	}
	top := s.open[s.depth-1]
	if !bytes.Equal(src[top.lo:top.hi], src[name.lo:name.hi]) {
		return s.fail(p, "element <%s> closed by </%s>", src[top.lo:top.hi], src[name.lo:name.hi])
	}
	s.depth--
	s.name, s.local = name, local
	s.pos, s.kind = i+1, tokEnd
	return tokEnd
}

// scanPI scans <?target ...?> at p and applies an XML declaration's encoding.
func (s *scanner) scanPI(p int) tokKind {
	src := s.src
	i, msg := s.scanName(p+2, "processing instruction target")
	if msg != "" {
		return s.fail(i, "%s", msg)
	}
	target := src[p+2 : i]
	i = skipSpace(src, i)
	k := bytes.Index(src[i:], []byte("?>"))
	if k < 0 {
		return s.eof("a processing instruction")
	}
	content := src[i : i+k]
	end := i + k + 2
	if string(target) == "xml" {
		if v := declParam(content, "version"); len(v) > 0 && string(v) != "1.0" {
			return s.fail(i, "unsupported XML version %q: only 1.0 is", v)
		}
		if enc := declParam(content, "encoding"); len(enc) > 0 && !bytes.EqualFold(enc, []byte("utf-8")) {
			if !singleByteCharset(string(enc)) {
				return s.fail(i, "unsupported encoding %q: UTF-8, ISO-8859-1 and US-ASCII are", enc)
			}
			s.latin1From(end)
		}
	}
	s.pos, s.kind = end, tokPI
	return tokPI
}

// declParam finds name="value" or name='value' in an XML declaration the way encoding/xml
// does: the first "name=" directly followed by a quote, the value up to the same quote; nil
// if there is none.
func declParam(content []byte, name string) []byte {
	for i := 0; i < len(content); {
		k := bytes.Index(content[i:], []byte(name))
		if k < 0 {
			return nil
		}
		j := i + k + len(name) // at '=' if this is it
		if j+1 >= len(content) {
			return nil
		}
		if content[j] != '=' {
			i += k + 1
			continue
		}
		q := content[j+1]
		if q != '"' && q != '\'' {
			i = j + 2
			continue
		}
		v := content[j+2:]
		e := bytes.IndexByte(v, q)
		if e < 0 {
			return nil
		}
		return v[:e]
	}
	return nil
}

// singleByteCharset reports whether label names a charset we read as ISO-8859-1 (US-ASCII
// is read the same way, as the encoding/xml CharsetReader we had did).
func singleByteCharset(label string) bool {
	switch strings.ToLower(label) {
	case "iso-8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii":
		return true
	}
	return false
}

// latin1From converts src[from:] from ISO-8859-1 to UTF-8 into a new buffer (the body is
// never written to).
func (s *scanner) latin1From(from int) {
	rest := s.src[from:]
	n := from + len(rest)
	for _, c := range rest {
		if c >= utf8.RuneSelf {
			n++
		}
	}
	out := make([]byte, from, n)
	copy(out, s.src[:from])
	for _, c := range rest {
		if c < utf8.RuneSelf {
			out = append(out, c)
		} else {
			out = append(out, 0xC0|c>>6, 0x80|c&0x3F)
		}
	}
	s.src = out
	if s.nconv == 0 {
		s.conv = from
	}
	s.nconv++
}

// scanBang scans a comment, a CDATA section or a directive at p ("<!").
func (s *scanner) scanBang(p int) tokKind {
	src := s.src
	i := p + 2
	if i >= len(src) {
		return s.eof("markup after <!")
	}
	switch src[i] {
	case '-':
		if i+1 >= len(src) {
			return s.eof("a comment")
		}
		if src[i+1] != '-' {
			return s.fail(i, "expected <!-- to start a comment")
		}
		i += 2
		k := bytes.Index(src[i:], []byte("--"))
		if k < 0 || i+k+2 >= len(src) {
			return s.eof("a comment")
		}
		if src[i+k+2] != '>' {
			return s.fail(i+k, `"--" not allowed in a comment`)
		}
		s.pos, s.kind = i+k+3, tokComment
		return tokComment
	case '[':
		if !bytes.HasPrefix(src[i:], []byte("[CDATA[")) {
			if len(src)-i < 7 && bytes.HasPrefix([]byte("[CDATA["), src[i:]) {
				return s.eof("<![CDATA[")
			}
			return s.fail(i, "expected <![CDATA[")
		}
		i += 7
		k := bytes.Index(src[i:], []byte("]]>"))
		if k < 0 {
			return s.eof("a CDATA section")
		}
		raw := src[i : i+k]
		if bytes.IndexByte(raw, '\r') < 0 {
			if j, msg := checkChars(raw); j >= 0 {
				return s.fail(i+j, "%s", msg)
			}
			return s.setText(raw, true, i+k+3)
		}
		out, j, msg := appendCharData(s.buf[:0], raw, false, false)
		s.buf = out
		if j >= 0 {
			return s.fail(i+j, "%s", msg)
		}
		return s.setText(out, false, i+k+3)
	}
	return s.scanDirective(p)
}

// scanDirective skips <!...> at p as encoding/xml does: the byte after "<!" is taken as is;
// then quotes (' or ") hide everything up to the same quote, unquoted < and > nest, and
// <!-- ... --> inside is a comment. It ends at an unquoted > at nesting level 0.
func (s *scanner) scanDirective(p int) tokKind {
	src := s.src
	i := p + 3
	var quote byte
	depth := 0
	for {
		if i >= len(src) {
			return s.eof("a directive")
		}
		b := src[i]
		i++
		if quote == 0 && b == '>' && depth == 0 {
			break
		}
		for again := true; again; {
			again = false
			switch {
			case quote != 0:
				if b == quote {
					quote = 0
				}
			case b == '\'' || b == '"':
				quote = b
			case b == '>':
				depth--
			case b == '<':
				const open = "!--"
				for m := 0; m < len(open); m++ {
					if i >= len(src) {
						return s.eof("a directive")
					}
					b = src[i]
					i++
					if b != open[m] {
						depth++
						again = true // this byte is not part of "<!--": look at it again
						break
					}
				}
				if again {
					continue
				}
				k := bytes.Index(src[i:], []byte("-->"))
				if k < 0 {
					return s.eof("a comment in a directive")
				}
				i += k + 3
			}
		}
	}
	s.pos, s.kind = i, tokDirective
	return tokDirective
}

// skipElement skips the rest of the element whose start tag was just read, checking that
// it is well formed.
func (s *scanner) skipElement() tokKind { return s.skip(true) }

// skip is skipElement, through skipPlain's fast path when fast is set and token by token
// through next otherwise (what the fast path is tested against).
func (s *scanner) skip(fast bool) tokKind {
	d := s.depth
	for {
		if fast && s.skipPlain(d) {
			return tokEnd
		}
		switch s.next() {
		case tokErr:
			return tokErr
		case tokEnd:
			if s.depth < d {
				return tokEnd
			}
		}
	}
}

// isBlank reports whether text is all white space as bytes.TrimSpace sees it.
func isBlank(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r', '\v', '\f':
			continue
		}
		return len(bytes.TrimSpace(b)) == 0
	}
	return true
}

// skipPlain is skipElement's fast path, for the bulk of a login reply (the inventory skeleton
// and the rest a viewer does not read). It consumes, as next would, the tokens whose checks
// are all in their bytes' classes: start tags that plainTag recognises, end tags naming the
// innermost open element with nothing before the '>', and character data without references,
// \r or '>'. It stops at the start of any other token, for next to read or report. It returns
// true, that end tag read, once an end tag closes the element at depth d.
func (s *scanner) skipPlain(d int) bool {
	if s.pendingEnd || s.err != nil {
		return false
	}
	src, p, depth := s.src, s.pos, s.depth
	for p+1 < len(src) {
		if src[p] != '<' {
			i := plainTextEnd(src, p)
			if i+1 >= len(src) || src[i] != '<' {
				break
			}
			p = i
		}
		if src[p+1] != '/' {
			if depth >= len(s.open) {
				break
			}
			nameEnd, end, empty, ok := s.plainTag(p)
			if !ok {
				break
			}
			if !empty { // a self-closing element opens and closes: the stack is as it was
				s.open[depth] = span{lo: p + 1, hi: nameEnd}
				depth++
			}
			p = end
			continue
		}
		if depth == 0 {
			break
		}
		top := s.open[depth-1]
		j := p + 2 + top.hi - top.lo
		if j >= len(src) || src[j] != '>' || !sameBytes(src, p+2, top.lo, top.hi-top.lo) {
			break
		}
		depth--
		if depth < d {
			s.depth = depth
			s.at, s.kind, s.pos = p, tokEnd, j+1
			s.name = span{lo: p + 2, hi: j}
			s.local = span{lo: s.name.lo + top.loc, hi: j}
			return true
		}
		p = j + 1
	}
	s.pos, s.depth = p, depth
	return false
}

// plainTag recognises a start tag at p that needs no check beyond its bytes' classes:
// <name> or <name/> with an ASCII name without colon (every tag gridlab's peers write); the
// caller checks there is room on the element stack. It returns where the name and the tag end
// and whether the tag closes itself; anything else (attributes, white space, prefixes, other
// names, errors) is left to scanStartTag's full path.
func (s *scanner) plainTag(p int) (nameEnd, end int, empty, ok bool) {
	src := s.src
	i, ok := s.plainName(p + 1)
	if !ok {
		return 0, 0, false, false
	}
	switch {
	case i < len(src) && src[i] == '>':
		return i, i + 1, false, true
	case i+1 < len(src) && src[i] == '/' && src[i+1] == '>':
		return i, i + 2, true, true
	}
	return 0, 0, false, false
}
