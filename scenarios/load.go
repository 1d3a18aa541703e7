package scenarios

import (
	"bytes"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"
)

// Load reads, decodes and validates the scenario file at path, and fills in defaults. The
// error, if any, is an Errors list naming the file, line and key path of every problem found.
func Load(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	s.Path = path
	return s, nil
}

// Parse decodes and validates a scenario from YAML data, and fills in defaults. name (the
// file name) prefixes every error. Decoding is strict: an unknown key, a key repeated in any
// case, or a value of the wrong form is an error. See Validate for the checks that follow.
func Parse(name string, data []byte) (s *Scenario, err error) {
	defer func() {
		// Belt and braces: a panic in a third-party decoder must not take down the command.
		if r := recover(); r != nil {
			s, err = nil, Errors{{File: name, Msg: fmt.Sprintf("internal error decoding the scenario: %v", r)}}
		}
	}()
	src := newSource(name)
	src.rootLine = 1

	// 1. The node tree: syntax, keys as written, lines.
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, Errors{syntaxError(name, data, err)}
	}
	w := &walker{src: src}
	if !w.root(&doc) {
		return nil, w.errs.err()
	}
	errs := w.errs
	unknown := map[string]bool{} // normalised paths already reported as unknown or repeated
	for _, e := range w.errs {
		unknown[normName(e.Path)] = true
	}

	// 2. viper: the values.
	s = &Scenario{}
	v := viper.New()
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		if len(errs) > 0 { // e.g. a repeated key, already reported with its line
			return nil, errs.err()
		}
		return nil, Errors{syntaxError(name, data, err)}
	}
	failed := map[string]bool{}
	if err := v.UnmarshalExact(s, viper.DecodeHook(mapstructure.DecodeHookFuncValue(decodeHook))); err != nil {
		for _, p := range decodeProblems(err) {
			pname := p.name
			if pname == reflect.TypeOf(*s).String() {
				pname = ""
			}
			if keys, ok := strings.CutPrefix(p.msg, "has invalid keys: "); ok {
				for _, k := range strings.Split(keys, ", ") {
					np := joinNorm(normName(pname), strings.ToLower(k))
					if !unknown[np] {
						errs = append(errs, src.errAt(np, fmt.Sprintf("unknown key %q", k)))
					}
				}
				continue
			}
			np := normName(pname)
			failed[np] = true
			errs = append(errs, src.errAt(np, p.msg))
		}
	}
	s.src = src

	// 3. Cross-field checks, leaving out problems that follow from one already reported.
	for _, e := range s.check() {
		if !under(e.path, failed) {
			errs = append(errs, src.errAt(e.path, e.msg))
		}
	}
	if len(errs) > 0 {
		return nil, errs.err()
	}
	s.fillDefaults()
	return s, nil
}

// under reports whether p or one of its ancestors is in set.
func under(p string, set map[string]bool) bool {
	for q := p; ; q = parentPath(q) {
		if set[q] {
			return true
		}
		if q == "" {
			return false
		}
	}
}

var lineRE = regexp.MustCompile(`line (\d+)`)

// syntaxError turns a YAML parser error into an Error with the line it names. yaml.v3 often
// names the line where the enclosing construct starts; for a tab, the usual culprit, the
// line of the first tab-indented line from there is more helpful.
func syntaxError(file string, data []byte, err error) *Error {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "While parsing config: ")
	line := 0
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	msg = regexp.MustCompile(`^line \d+: `).ReplaceAllString(msg, "")
	msg = strings.Join(strings.Fields(msg), " ")
	if strings.Contains(msg, "tab character") && line > 0 {
		for i, l := range strings.Split(string(data), "\n") {
			if i+1 >= line && strings.HasPrefix(strings.TrimLeft(l, " "), "\t") {
				line = i + 1
				break
			}
		}
	}
	return &Error{File: file, Line: line, Msg: "YAML syntax: " + msg}
}
