package scenarios

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"go.yaml.in/yaml/v3"
)

// Set overrides one value, as the command line's --set key.path=value does. The path is a
// dotted key path; a list element is addressed by its index or by its name field:
//
//	s.Set("viewers.0.count", "10")
//	s.Set("viewers.home.arrival.window", "30s")
//	s.Set("networks.internet.loss", "1%")
//	s.Set("hosts.grid.firewall", "[{dir: out, proto: udp, action: drop}]")
//
// Keys match without regard to case. The value is read as YAML and checked like the same value
// in a file (a duration needs a unit, a count must be a whole number, loss "150%" is out of
// range); a mapping or list replaces the whole field, and an empty value clears it back to its
// default. Set does not run the cross-field checks, so that several overrides may be applied
// in any order: call Validate after the last one. Errors are an Errors list whose File is "--set" and
// whose Path is the path as given; later Validate errors about the value name it the same way.
func (s *Scenario) Set(path, value string) (err error) {
	fail := func(p, format string, args ...any) error {
		return Errors{{File: "--set", Path: p, Msg: fmt.Sprintf(format, args...)}}
	}
	segs := strings.Split(strings.NewReplacer("[", ".", "]", "").Replace(path), ".")
	for _, seg := range segs {
		if seg == "" {
			return fail(path, "not a key path (e.g. viewers.0.count or networks.internet.loss)")
		}
	}

	// Undo pointer allocations if the override fails.
	var allocated []reflect.Value
	defer func() {
		if err != nil {
			for _, v := range allocated {
				v.Set(reflect.Zero(v.Type()))
			}
		}
	}()

	cur := reflect.ValueOf(s).Elem()
	var norm []string
	walked := ""
	for _, seg := range segs {
		for cur.Kind() == reflect.Pointer {
			if cur.IsNil() {
				cur.Set(reflect.New(cur.Type().Elem()))
				allocated = append(allocated, cur)
			}
			cur = cur.Elem()
		}
		here := joinUser(walked, seg)
		switch cur.Kind() {
		case reflect.Struct:
			t := cur.Type()
			found := -1
			for i := range t.NumField() {
				if key := tagKey(t.Field(i)); key != "" && strings.EqualFold(key, seg) {
					found = i
					norm = append(norm, key)
					break
				}
			}
			if found < 0 {
				msg := fmt.Sprintf("unknown key %q", seg)
				if sg := suggest(strings.ToLower(seg), t); sg != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", sg)
				}
				return fail(here, "%s", msg)
			}
			cur = cur.Field(found)
		case reflect.Slice:
			i, err := elementIndex(cur, seg)
			if err != nil {
				return fail(here, "%s", err.Error())
			}
			norm = append(norm, strconv.Itoa(i))
			cur = cur.Index(i)
		default:
			return fail(here, "%q has no keys below it", walked)
		}
		walked = here
	}

	base := cur.Type()
	for base.Kind() == reflect.Pointer {
		base = base.Elem()
	}
	var input any
	if base.Kind() == reflect.String {
		input = value
	} else if err := yaml.Unmarshal([]byte(value), &input); err != nil {
		return fail(path, "%q is not a YAML value: %s", value, syntaxError("", nil, err).Msg)
	}
	if input == nil {
		cur.Set(reflect.Zero(cur.Type()))
	} else {
		tmp := reflect.New(cur.Type())
		dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
			DecodeHook:       mapstructure.DecodeHookFuncValue(decodeHook),
			ErrorUnused:      true,
			WeaklyTypedInput: true,
			Result:           tmp.Interface(),
		})
		if err != nil {
			return fail(path, "%v", err)
		}
		if err := dec.Decode(input); err != nil {
			var errs Errors
			for _, p := range decodeProblems(err) {
				at := path
				if p.name != "" && p.name != base.String() {
					at = strings.ReplaceAll(path+"."+p.name, ".[", "[")
				}
				if keys, ok := strings.CutPrefix(p.msg, "has invalid keys: "); ok {
					for _, k := range strings.Split(keys, ", ") {
						errs = append(errs, &Error{File: "--set", Path: at + "." + k, Msg: fmt.Sprintf("unknown key %q", k)})
					}
					continue
				}
				errs = append(errs, &Error{File: "--set", Path: at, Msg: p.msg})
			}
			return errs.err()
		}
		cur.Set(tmp.Elem())
	}
	if s.src == nil {
		s.src = newSource("")
	}
	s.src.set[strings.ToLower(strings.Join(norm, "."))] = path
	return nil
}

// elementIndex finds the element of list v named by seg: an index, or the value of the
// elements' name field.
func elementIndex(v reflect.Value, seg string) (int, error) {
	if isIndex(seg) {
		i, err := strconv.Atoi(seg)
		if err != nil || i >= v.Len() {
			return 0, fmt.Errorf("no element %s: the list has %d", seg, v.Len())
		}
		return i, nil
	}
	et := v.Type().Elem()
	if et.Kind() != reflect.Struct {
		return 0, fmt.Errorf("%q is not an index", seg)
	}
	if _, ok := et.FieldByName("Name"); !ok {
		return 0, fmt.Errorf("%q is not an index", seg)
	}
	var names []string
	for pass := range 2 {
		for i := range v.Len() {
			name := v.Index(i).FieldByName("Name").String()
			if pass == 0 {
				names = append(names, name)
			}
			if name == seg || (pass == 1 && strings.EqualFold(name, seg)) {
				return i, nil
			}
		}
	}
	return 0, fmt.Errorf("no element named %q%s", seg, known(names))
}
