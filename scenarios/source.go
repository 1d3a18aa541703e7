package scenarios

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// source remembers where each key of a scenario was written, so that problems found after
// decoding (viper loses lines and the case of keys) still name the file, line and key as
// written. Paths are "normalised": lower-cased keys and list indexes joined with dots
// ("viewers.1.arrival.window").
type source struct {
	file     string
	rootLine int
	loc      map[string]loc
	// set holds the normalised paths given values by Set, with the path as given to Set.
	set map[string]string
}

type loc struct {
	line int
	path string // as written: "Viewers[1].arrival.window"
}

func newSource(file string) *source {
	return &source{file: file, loc: map[string]loc{}, set: map[string]string{}}
}

// errAt builds the Error for a problem at normalised path p. A path with no recorded location
// (a key that is missing from the file) takes the line of its nearest written ancestor.
func (s *source) errAt(p, msg string) *Error {
	if s == nil {
		return &Error{Path: displayPath(p), Msg: msg}
	}
	for q := p; ; q = parentPath(q) {
		if given, ok := s.set[q]; ok {
			return &Error{File: "--set", Path: given + displayPath(p[len(q):]), Msg: msg}
		}
		if q == "" {
			break
		}
	}
	for q := p; q != ""; q = parentPath(q) {
		if l, ok := s.loc[q]; ok {
			rest := p[len(q):]
			return &Error{File: s.file, Line: l.line, Path: l.path + displayPath(rest), Msg: msg}
		}
	}
	return &Error{File: s.file, Line: s.rootLine, Path: displayPath(p), Msg: msg}
}

// parentPath is p without its last segment.
func parentPath(p string) string {
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[:i]
	}
	return ""
}

// displayPath turns a normalised path ("viewers.1.count", or a tail ".count") into the form
// used in messages ("viewers[1].count").
func displayPath(p string) string {
	var b strings.Builder
	for i, seg := range strings.Split(p, ".") {
		if seg == "" && i == 0 {
			continue
		}
		if isIndex(seg) {
			b.WriteString("[" + seg + "]")
			continue
		}
		if b.Len() > 0 || i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(seg)
	}
	return b.String()
}

func isIndex(seg string) bool {
	if seg == "" {
		return false
	}
	for _, c := range seg {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func joinNorm(parent, seg string) string {
	if parent == "" {
		return seg
	}
	return parent + "." + seg
}

func joinUser(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// maxNodes bounds the work of walking a document whose aliases expand it.
const maxNodes = 1 << 20

// walker checks a yaml.Node tree against the schema: unknown keys, keys repeated (in any
// case), keys that are not plain names. It records the line of every key it accepts.
type walker struct {
	src   *source
	errs  Errors
	nodes int
}

func (w *walker) add(line int, path, msg string) {
	w.errs = append(w.errs, &Error{File: w.src.file, Line: line, Path: path, Msg: msg})
}

// spend counts one node; false once the document is too big to check.
func (w *walker) spend(line int) bool {
	w.nodes++
	if w.nodes == maxNodes {
		w.add(line, "", "the document is too large (aliases expand it to over a million nodes)")
	}
	return w.nodes < maxNodes
}

func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

// root walks a whole document. It returns false when the document is not a mapping, in
// which case decoding it is pointless.
func (w *walker) root(doc *yaml.Node) bool {
	n := doc
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return true
		}
		n = n.Content[0]
	}
	n = deref(n)
	if n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		return true
	}
	w.src.rootLine = n.Line
	if n.Kind != yaml.MappingNode {
		w.add(n.Line, "", "a scenario is a mapping of keys (name:, networks:, hosts:, grid:, viewers:), not "+kindName(n))
		return false
	}
	w.value(n, reflect.TypeOf(Scenario{}), "", "")
	return true
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		return fmt.Sprintf("the value %q", n.Value)
	}
	return "empty"
}

func (w *walker) value(n *yaml.Node, t reflect.Type, norm, user string) {
	n = deref(n)
	if n == nil {
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == durationType || t == fractionType:
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		w.mapping(n, t, norm, user, map[string]seenKey{}, false)
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for i, e := range n.Content {
			if !w.spend(e.Line) {
				return
			}
			idx := strconv.Itoa(i)
			en, eu := joinNorm(norm, idx), user+"["+idx+"]"
			line := e.Line
			if d := deref(e); d != nil {
				line = d.Line
			}
			w.src.loc[en] = loc{line, eu}
			w.value(e, t.Elem(), en, eu)
		}
	}
}

type seenKey struct {
	node   *yaml.Node
	merged bool
}

// mapping checks the keys of n against the fields of struct type t. merged is true for the
// keys of a mapping brought in with "<<: *anchor"; keys written explicitly override those.
func (w *walker) mapping(n *yaml.Node, t reflect.Type, norm, user string, seen map[string]seenKey, merged bool) {
	fields := fieldsOf(t)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !w.spend(k.Line) {
			return
		}
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			w.merge(v, t, norm, user, seen, 0)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			w.add(k.Line, user, "a key must be a plain name, not "+kindName(k))
			continue
		}
		name, low := k.Value, strings.ToLower(k.Value)
		path := joinUser(user, name)
		if prev, ok := seen[low]; ok {
			switch {
			case merged:
				continue // an explicit key (or an earlier merge) wins
			case !prev.merged:
				if prev.node.Value == name {
					w.add(k.Line, path, fmt.Sprintf("duplicate key %q (first at line %d)", name, prev.node.Line))
				} else {
					w.add(k.Line, path, fmt.Sprintf("duplicate key %q: keys ignore case, and %q is at line %d", name, prev.node.Value, prev.node.Line))
				}
				continue
			}
		}
		seen[low] = seenKey{k, merged}
		f, ok := fields[low]
		if !ok {
			msg := fmt.Sprintf("unknown key %q", name)
			if s := suggest(low, t); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			w.add(k.Line, path, msg)
			continue
		}
		p := joinNorm(norm, low)
		w.src.loc[p] = loc{k.Line, path}
		w.value(v, f, p, path)
	}
}

func (w *walker) merge(v *yaml.Node, t reflect.Type, norm, user string, seen map[string]seenKey, depth int) {
	v = deref(v)
	if v == nil || depth > 10 {
		return
	}
	switch v.Kind {
	case yaml.MappingNode:
		w.mapping(v, t, norm, user, seen, true)
	case yaml.SequenceNode:
		for _, e := range v.Content {
			w.merge(e, t, norm, user, seen, depth+1)
		}
	default:
		w.add(v.Line, user, "<< must merge a mapping (<<: *anchor)")
	}
}

// fieldsOf maps the lower-cased keys of struct type t to their field types.
func fieldsOf(t reflect.Type) map[string]reflect.Type {
	m := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if key := tagKey(f); key != "" {
			m[strings.ToLower(key)] = f.Type
		}
	}
	return m
}

// tagKey is the YAML key of a field, "" for fields that have none.
func tagKey(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	key, _, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
	if key == "-" || key == "" {
		return ""
	}
	return key
}

// suggest returns the key of t closest to the unknown key low, if one is close.
func suggest(low string, t reflect.Type) string {
	best, bestD := "", 3
	for i := range t.NumField() {
		key := tagKey(t.Field(i))
		if key == "" {
			continue
		}
		d := editDistance(low, key)
		if d < bestD && d*3 <= len(key)+1 {
			best, bestD = key, d
		}
	}
	return best
}

// editDistance is the Damerau-Levenshtein (optimal string alignment) distance, so that a
// swap such as "cuont" for "count" counts as one edit.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
