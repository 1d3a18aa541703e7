package scenarios

import (
	"bytes"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Marshal writes s as a scenario file that Parse reads back to the same scenario: keys in the
// schema's order, durations with their unit ("1m30s"), fractions as numbers (0.005), zero
// values and empty lists left out (they are the defaults), pointers written whenever set. Path
// and the source positions are not part of the file.
func Marshal(s *Scenario) ([]byte, error) {
	n, err := marshalValue(reflect.ValueOf(s).Elem())
	if err != nil {
		return nil, err
	}
	if n == nil {
		n = &yaml.Node{Kind: yaml.MappingNode}
	}
	if err := explicitLinkZeros(s, n); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, fmt.Errorf("scenarios: marshal: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("scenarios: marshal: %w", err)
	}
	return buf.Bytes(), nil
}

// marshalValue returns the node for v, or nil when v is a zero value to be left out.
func marshalValue(v reflect.Value) (*yaml.Node, error) {
	scalar := func(tag, text string) *yaml.Node {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: text}
	}
	switch v.Type() {
	case durationType:
		d := time.Duration(v.Int())
		if d == 0 {
			return nil, nil
		}
		return scalar("!!str", strings.ReplaceAll(d.String(), "µ", "u")), nil
	case fractionType:
		f := v.Float()
		if f == 0 {
			return nil, nil
		}
		return scalar("", strconv.FormatFloat(f, 'g', -1, 64)), nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil, nil
		}
		e := v.Elem()
		n, err := marshalValue(e)
		if err != nil || n != nil {
			return n, err
		}
		// A pointer to a zero value is still written: it differs from "not set".
		switch {
		case e.Type() == durationType:
			return scalar("!!str", "0s"), nil
		case e.Kind() == reflect.Struct:
			return &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}, nil
		}
		return zeroScalar(e)
	case reflect.Struct:
		return marshalStruct(v)
	case reflect.Slice:
		if v.Len() == 0 {
			return nil, nil
		}
		seq := &yaml.Node{Kind: yaml.SequenceNode}
		for i := range v.Len() {
			n, err := marshalValue(v.Index(i))
			if err != nil {
				return nil, err
			}
			if n == nil {
				if v.Index(i).Kind() == reflect.Struct {
					n = &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
				} else if n, err = zeroScalar(v.Index(i)); err != nil {
					return nil, err
				}
			}
			seq.Content = append(seq.Content, n)
		}
		return seq, nil
	case reflect.String:
		if v.String() == "" {
			return nil, nil
		}
		n := scalar("!!str", v.String())
		if bytes.ContainsRune([]byte(v.String()), '\n') {
			n.Style = yaml.LiteralStyle
		}
		return n, nil
	case reflect.Bool:
		if !v.Bool() {
			return nil, nil
		}
		return scalar("!!bool", "true"), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if v.Int() == 0 {
			return nil, nil
		}
		return scalar("!!int", strconv.FormatInt(v.Int(), 10)), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if v.Uint() == 0 {
			return nil, nil
		}
		return scalar("!!int", strconv.FormatUint(v.Uint(), 10)), nil
	case reflect.Float32, reflect.Float64:
		if v.Float() == 0 {
			return nil, nil
		}
		return scalar("", strconv.FormatFloat(v.Float(), 'g', -1, 64)), nil
	}
	return nil, fmt.Errorf("scenarios: marshal: cannot write a %s", v.Type())
}

// zeroScalar is the explicit zero of a scalar kind (for set pointers and list elements).
func zeroScalar(v reflect.Value) (*yaml.Node, error) {
	switch v.Kind() {
	case reflect.String:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "", Style: yaml.DoubleQuotedStyle}, nil
	case reflect.Bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "false"}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: "0"}, nil
	case reflect.Float32, reflect.Float64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: "0"}, nil
	}
	return nil, fmt.Errorf("scenarios: marshal: no zero value for a %s", v.Type())
}

// marshalStruct writes the fields with a mapstructure key, in declaration order.
func marshalStruct(v reflect.Value) (*yaml.Node, error) {
	m := &yaml.Node{Kind: yaml.MappingNode}
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		key := tagKey(f)
		if key == "" || !f.IsExported() {
			continue
		}
		n, err := marshalValue(v.Field(i))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		if n == nil {
			continue
		}
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, n)
	}
	if len(m.Content) == 0 {
		return nil, nil
	}
	return m, nil
}

// explicitLinkZeros writes the zero values of a timeline link change that the file must say:
// a key left out of link.set keeps the network's configured value, so a set that clears a
// value the network has (loss back to 0 after a burst) needs the zero written. (A loss_model
// cleared by a link change cannot be written; Parse never produces one.)
func explicitLinkZeros(s *Scenario, root *yaml.Node) error {
	tl := mapGet(root, "timeline")
	for i, e := range s.Timeline {
		if e.Link == nil || tl == nil || i >= len(tl.Content) {
			continue
		}
		var base Link
		for _, n := range s.Networks {
			if n.Name == e.Link.Network {
				base = n.Link()
				if e.Link.Direction == "up" && n.Up != nil {
					base = *n.Up
				} else if e.Link.Direction == "down" && n.Down != nil {
					base = *n.Down
				}
			}
		}
		link := mapGet(tl.Content[i], "link")
		if link == nil {
			continue
		}
		set := mapGet(link, "set")
		if set == nil {
			set = &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
			link.Content = append(link.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "set"}, set)
		}
		sv, bv := reflect.ValueOf(e.Link.Set), reflect.ValueOf(base)
		for f := range sv.NumField() {
			key := tagKey(sv.Type().Field(f))
			if key == "" || !sv.Field(f).IsZero() || bv.Field(f).IsZero() || sv.Field(f).Kind() == reflect.Pointer {
				continue
			}
			var z *yaml.Node
			if sv.Field(f).Type() == durationType {
				z = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "0s"}
			} else {
				var err error
				if z, err = zeroScalar(sv.Field(f)); err != nil {
					return err
				}
			}
			set.Content = append(set.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, z)
		}
	}
	return nil
}

// mapGet returns the value of key in mapping node m, or nil.
func mapGet(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}
