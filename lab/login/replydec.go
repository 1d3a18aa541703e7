package login

import (
	"bytes"
	"errors"
)

// The viewer's side of a login reply: decodeReplyWire reads a methodResponse with the
// scanner into a wireReply, taking the members DecodeReply uses and skipping the others (the
// inventory skeleton, the library, textures...) after checking only that they are well formed.
//
// The grammar is the one decodeMethodCall reads values with — <methodResponse><params>
// <param><value>, white space, comments and processing instructions between elements — and
// the values are read the way kolo/xmlrpc read them into DecodeReply's typed struct before
// (oracle_kolo_test.go), so that a reply gives the same Reply:
//   - a string member takes <string> or <base64> text as is, or untyped text trimmed of
//     white space; an integer member takes <int>, <i4> or <i8> (64 bits, no white space); any
//     other type, or a struct or array, is an error;
//   - a typed element with no character data at all (<string/>, <nil/>, even <foo/>), or an
//     empty or blank untyped value, leaves the member as it was — but, unlike kolo/xmlrpc, the
//     members after it are still read;
//   - a member's <name> comes first; its first <value> counts and the rest of the member is
//     skipped; a repeated member overrides an earlier one; inventory-root items add up.
//   - only the first <param> is read.

var errBadResponse = errors.New("xmlrpc: malformed methodResponse")

type replyDecoder struct {
	xmlDecoder
}

// decodeReplyWire decodes a methodResponse into w.
func decodeReplyWire(body []byte, w *wireReply) error {
	d := &replyDecoder{}
	d.s.reset(body)
	d.errKind = errBadResponse
	if err := d.expectStart("methodResponse"); err != nil {
		return err
	}
	decoded := false
	err := d.children(func() error {
		if !d.s.localIs("params") {
			return d.unexpected("in <methodResponse>")
		}
		return d.params(w, &decoded)
	})
	if err != nil {
		return err
	}
	if !decoded {
		return d.fail("no <param> in the response")
	}
	return d.expectEOF("</methodResponse>")
}

func (d *replyDecoder) params(w *wireReply, decoded *bool) error {
	return d.children(func() error {
		if !d.s.localIs("param") {
			return d.unexpected("in <params>")
		}
		if *decoded {
			return d.skip()
		}
		*decoded = true
		return d.param(func() error { return d.topValue(w) })
	})
}

// skip reads past the element whose start tag was just read, checking it is well formed.
func (d *replyDecoder) skip() error {
	if d.s.skipElement() == tokErr {
		_, err := d.raw() // the scanner keeps returning its error
		return err
	}
	return nil
}

// openValue reads a <value>'s content (its start tag read) up to its type element. For an
// untyped value it returns the text, </value> read; else typed is true and the type element's
// start tag has just been read.
func (d *xmlDecoder) openValue() (typed bool, text []byte, err error) {
	text, _, start, err := d.content()
	switch {
	case err != nil:
		return false, nil, err
	case !start:
		return false, text, nil
	case !isBlank(text):
		return false, nil, d.fail("text and <%s> in one <value>", d.s.nameBytes())
	}
	return true, nil, nil
}

// closeValue reads </value> after the type element.
func (d *xmlDecoder) closeValue() error {
	return d.closeAfterOne("<value> holds more than one element")
}

// closeAfterOne reads the end tag of an element that may hold one child; anything else in it
// fails with tooMany.
func (d *xmlDecoder) closeAfterOne(tooMany string) error {
	k, err := d.structural()
	if err != nil {
		return err
	}
	if k != tokEnd {
		return d.fail("%s", tooMany)
	}
	return nil
}

// typedValue opens a <value> that should hold one of types. It reports true with that type's
// start tag read; false with nothing left to read for an untyped blank value or an empty
// scalar of another type (both closed, as kolo/xmlrpc leaves the field unset); an error
// otherwise, what naming the expected kind ("an integer").
func (d *replyDecoder) typedValue(what string, types ...string) (bool, error) {
	typed, text, err := d.openValue()
	if err != nil {
		return false, err
	}
	if !typed {
		if !isBlank(text) {
			return false, d.fail("expected %s, found text %q", what, truncate(string(text)))
		}
		return false, nil
	}
	for _, t := range types {
		if d.s.localIs(t) {
			return true, nil
		}
	}
	return false, d.otherType(what)
}

// otherType handles a type element a member cannot take: an error unless it holds no
// character data at all.
func (d *replyDecoder) otherType(want string) error {
	if d.s.localIs("struct") || d.s.localIs("array") {
		return d.fail("expected %s, found <%s>", want, d.s.nameBytes())
	}
	name := d.s.nameBytes()
	_, present, err := d.textPieces()
	if err != nil {
		return err
	}
	if present {
		return d.fail("expected %s, found <%s>", want, name)
	}
	return d.closeValue()
}

func (d *replyDecoder) stringValue(dst *string) error {
	typed, text, err := d.openValue()
	if err != nil {
		return err
	}
	if !typed {
		if t := bytes.TrimSpace(text); len(t) > 0 {
			*dst = string(t)
		}
		return nil
	}
	if !d.s.localIs("string") && !d.s.localIs("base64") {
		return d.otherType("a string")
	}
	b, present, err := d.textPieces()
	if err != nil {
		return err
	}
	if present {
		*dst = string(b)
	}
	return d.closeValue()
}

func (d *replyDecoder) intValue(dst *int64) error {
	if ok, err := d.typedValue("an integer", "int", "i4", "i8"); !ok {
		return err
	}
	name := d.s.nameBytes()
	b, present, err := d.textPieces()
	if err != nil {
		return err
	}
	if present {
		n, ok := parseInt64(b)
		if !ok {
			return d.fail("<%s>%s</%s> is not a 64-bit integer", name, truncate(string(b)), name)
		}
		*dst = n
	}
	return d.closeValue()
}

// parseInt64 parses an optionally signed decimal integer as strconv.ParseInt(s, 10, 64) does.
func parseInt64(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '+' || b[0] == '-') {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (1<<63)/10 {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
		if n > 1<<63 {
			return 0, false
		}
	}
	if neg {
		return -int64(n), true // -(1<<63) wraps to itself, the minimum
	}
	if n == 1<<63 {
		return 0, false
	}
	return int64(n), true
}

// topValue reads the reply's <value>: a struct, or nothing.
func (d *replyDecoder) topValue(w *wireReply) error {
	if ok, err := d.typedValue("a struct", "struct"); !ok {
		return err
	}
	if err := d.structValue(w, nil); err != nil {
		return err
	}
	return d.closeValue()
}

// folderArray reads inventory-root's value: an array of structs with a folder_id.
func (d *replyDecoder) folderArray(w *wireReply) error {
	if ok, err := d.typedValue("an array", "array"); !ok {
		return err
	}
	err := d.children(func() error {
		if !d.s.localIs("data") {
			return d.unexpected("in <array>")
		}
		return d.children(func() error {
			if !d.s.localIs("value") {
				return d.unexpected("in <array>")
			}
			return d.folderItem(w)
		})
	})
	if err != nil {
		return err
	}
	return d.closeValue() // </array> read
}

// folderItem reads one inventory-root item (its <value> start tag read).
func (d *replyDecoder) folderItem(w *wireReply) error {
	var id string
	ok, err := d.typedValue("a struct", "struct")
	if err != nil {
		return err
	}
	if ok {
		if err := d.structValue(nil, &id); err != nil {
			return err
		}
		if err := d.closeValue(); err != nil {
			return err
		}
	}
	if w.InventoryRoots == 0 {
		w.InventoryRoot = id
	}
	w.InventoryRoots++
	return nil
}

type fieldKind uint8

const (
	fieldSkip fieldKind = iota
	fieldString
	fieldInt
	fieldFolders
)

// replyField returns where the reply member called name goes.
func replyField(w *wireReply, name []byte) (fieldKind, *string, *int64) {
	switch string(name) {
	case "login":
		return fieldString, &w.Login, nil
	case "reason":
		return fieldString, &w.Reason, nil
	case "message":
		return fieldString, &w.Message, nil
	case "first_name":
		return fieldString, &w.FirstName, nil
	case "last_name":
		return fieldString, &w.LastName, nil
	case "agent_id":
		return fieldString, &w.AgentID, nil
	case "session_id":
		return fieldString, &w.SessionID, nil
	case "secure_session_id":
		return fieldString, &w.SecureSessionID, nil
	case "circuit_code":
		return fieldInt, nil, &w.CircuitCode
	case "sim_ip":
		return fieldString, &w.SimIP, nil
	case "sim_port":
		return fieldInt, nil, &w.SimPort
	case "region_x":
		return fieldInt, nil, &w.RegionX
	case "region_y":
		return fieldInt, nil, &w.RegionY
	case "seed_capability":
		return fieldString, &w.SeedCapability, nil
	case "look_at":
		return fieldString, &w.LookAt, nil
	case "start_location":
		return fieldString, &w.StartLocation, nil
	case "inventory-root":
		return fieldFolders, nil, nil
	}
	return fieldSkip, nil, nil
}

// structValue reads a <struct> (its start tag read): the reply's members into w, or, with w
// nil, an inventory-root item's folder_id into folder.
func (d *replyDecoder) structValue(w *wireReply, folder *string) error {
	return d.children(func() error {
		if !d.s.localIs("member") {
			return d.unexpected("in <struct>")
		}
		return d.member(w, folder)
	})
}

func (d *replyDecoder) member(w *wireReply, folder *string) error {
	k, err := d.structural()
	if err != nil {
		return err
	}
	if k != tokStart || !d.s.localIs("name") {
		return d.fail("expected <name> first in <member>")
	}
	name, err := d.text()
	if err != nil {
		return err
	}
	kind, sp, ip := fieldSkip, (*string)(nil), (*int64)(nil)
	switch {
	case w != nil:
		kind, sp, ip = replyField(w, name)
	case string(name) == "folder_id":
		kind, sp = fieldString, folder
	}
	return d.children(func() error {
		if kind == fieldSkip || !d.s.localIs("value") {
			return d.skip()
		}
		var err error
		switch kind {
		case fieldString:
			err = d.stringValue(sp)
		case fieldInt:
			err = d.intValue(ip)
		case fieldFolders:
			err = d.folderArray(w)
		}
		kind = fieldSkip // the first value counts
		return err
	})
}
