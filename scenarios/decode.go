package scenarios

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
)

var (
	durationType = reflect.TypeOf(time.Duration(0))
	fractionType = reflect.TypeOf(Fraction(0))
)

// decodeHook replaces viper's weak typing with the scenario's rules: durations only from
// strings with a unit, fractions from "0.5%" or 0.005 within [0,1], whole numbers only into
// integers (in range), true/false only into booleans, mappings only into structs and lists
// only into lists.
func decodeHook(from, to reflect.Value) (any, error) {
	if !from.IsValid() {
		return nil, nil
	}
	in := from.Interface()
	if in == nil {
		return nil, nil
	}
	t := to.Type()
	switch {
	case t == durationType:
		return toDuration(in)
	case t == fractionType:
		return toFraction(in)
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := toInt(in)
		if err != nil {
			return nil, err
		}
		if to.OverflowInt(n) {
			return nil, fmt.Errorf("%d is out of range", n)
		}
		return n, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := toUint(in)
		if err != nil {
			return nil, err
		}
		if to.OverflowUint(n) {
			return nil, fmt.Errorf("%d is out of range (at most %d)", n, uint64(1)<<t.Bits()-1)
		}
		return n, nil
	case reflect.Bool:
		if b, ok := in.(bool); ok {
			return b, nil
		}
		return nil, fmt.Errorf("%s is not true or false", show(in))
	case reflect.String:
		switch v := in.(type) {
		case string:
			return v, nil
		case bool:
			return strconv.FormatBool(v), nil
		case int, int64, uint64, float64:
			return fmt.Sprint(v), nil
		}
		return nil, fmt.Errorf("expected a single value, found %s", show(in))
	case reflect.Struct:
		if from.Kind() != reflect.Map {
			return nil, fmt.Errorf("expected a mapping of keys, found %s", show(in))
		}
	case reflect.Slice:
		if from.Kind() != reflect.Slice {
			return nil, fmt.Errorf("expected a list (lines starting with \"- \"), found %s", show(in))
		}
	}
	return in, nil
}

// show renders a decoded YAML value for a message: strings quoted, numbers as written.
func show(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case map[string]any, map[any]any:
		return "a mapping"
	case []any:
		return "a list"
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map:
		return "a mapping"
	case reflect.Slice, reflect.Array:
		return "a list"
	}
	return fmt.Sprint(v)
}

func toDuration(in any) (time.Duration, error) {
	s, ok := in.(string)
	if !ok {
		if isNumber(in) {
			return 0, fmt.Errorf("%s is a bare number, not a duration: give a unit (e.g. %ss)", show(in), show(in))
		}
		return 0, fmt.Errorf("%s is not a duration (e.g. 60s)", show(in))
	}
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		if _, nerr := strconv.ParseFloat(strings.TrimSpace(s), 64); nerr == nil {
			return 0, fmt.Errorf("%q is a bare number, not a duration: give a unit (e.g. %ss)", s, strings.TrimSpace(s))
		}
		return 0, fmt.Errorf("%q is not a duration (e.g. 60s)", s)
	}
	return d, nil
}

func isNumber(in any) bool {
	switch in.(type) {
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return true
	}
	return false
}

func toFraction(in any) (Fraction, error) {
	var f float64
	switch v := in.(type) {
	case string:
		s := strings.TrimSpace(v)
		pct := strings.HasSuffix(s, "%")
		x, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(s, "%")), 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, fmt.Errorf("%q is not a percentage or fraction (e.g. 0.5%% or 0.005)", v)
		}
		if pct {
			if x < 0 || x > 100 {
				return 0, fmt.Errorf("%q is out of range: a percentage is between 0%% and 100%%", v)
			}
			return Fraction(x / 100), nil
		}
		f = x
	case float64:
		f = v
	case bool:
		return 0, fmt.Errorf("%v is not a percentage or fraction (e.g. 0.5%% or 0.005)", v)
	default:
		if !isNumber(in) {
			return 0, fmt.Errorf("%s is not a percentage or fraction (e.g. 0.5%% or 0.005)", show(in))
		}
		f = reflect.ValueOf(in).Convert(reflect.TypeOf(0.0)).Float()
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%s is not a percentage or fraction (e.g. 0.5%% or 0.005)", show(in))
	}
	if f < 0 || f > 1 {
		return 0, fmt.Errorf("%s is out of range: a fraction is between 0 and 1 (for a percentage add %%, e.g. 0.5%%)", show(in))
	}
	return Fraction(f), nil
}

func toInt(in any) (int64, error) {
	switch v := in.(type) {
	case int:
		return int64(v), nil
	case int64:
		return v, nil
	case int32:
		return int64(v), nil
	case uint64:
		if v > math.MaxInt64 {
			return 0, fmt.Errorf("%d is out of range", v)
		}
		return int64(v), nil
	case float64:
		if v != math.Trunc(v) || math.IsInf(v, 0) || math.IsNaN(v) {
			return 0, fmt.Errorf("%s is not a whole number", show(v))
		}
		if v < math.MinInt64 || v >= math.MaxInt64 {
			return 0, fmt.Errorf("%s is out of range", show(v))
		}
		return int64(v), nil
	}
	return 0, fmt.Errorf("%s is not a whole number", show(in))
}

func toUint(in any) (uint64, error) {
	switch v := in.(type) {
	case uint64:
		return v, nil
	case float64:
		if v < 0 && v == math.Trunc(v) {
			return 0, fmt.Errorf("%s is negative", show(v))
		}
		if v != math.Trunc(v) || math.IsInf(v, 0) || math.IsNaN(v) {
			return 0, fmt.Errorf("%s is not a whole number", show(v))
		}
		if v >= math.MaxUint64 {
			return 0, fmt.Errorf("%s is out of range", show(v))
		}
		return uint64(v), nil
	}
	n, err := toInt(in)
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, fmt.Errorf("%d is negative", n)
	}
	return uint64(n), nil
}

// decodeProblem is one error from mapstructure: the field path as mapstructure names it
// ("viewers[1].arrival.window", lower-cased by viper) and the message.
type decodeProblem struct {
	name string
	msg  string
}

// decodeProblems flattens the joined and wrapped errors mapstructure returns.
func decodeProblems(err error) []decodeProblem {
	var out []decodeProblem
	var walk func(err error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if de, ok := err.(*mapstructure.DecodeError); ok {
			inner := de.Unwrap()
			var deeper *mapstructure.DecodeError
			if errors.As(inner, &deeper) {
				walk(inner)
				return
			}
			out = append(out, decodeProblem{de.Name(), inner.Error()})
			return
		}
		if m, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range m.Unwrap() {
				walk(e)
			}
			return
		}
		if u := errors.Unwrap(err); u != nil {
			walk(u)
			return
		}
		out = append(out, decodeProblem{"", err.Error()})
	}
	walk(err)
	return out
}

// normName turns a mapstructure field name into a normalised path.
func normName(name string) string {
	name = strings.ReplaceAll(name, "[", ".")
	name = strings.ReplaceAll(name, "]", "")
	return strings.ToLower(name)
}
