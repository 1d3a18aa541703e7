package scenarios

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse. Parse must never panic (it turns a panic into an
// "internal error" message, which the fuzzer treats as a failure); every error must be a
// non-empty Errors list naming the file, and a line unless the YAML parser gave none; and a
// scenario that parses must validate again unchanged and take an override without panicking.
func FuzzParse(f *testing.F) {
	f.Add(readFixture(f))
	// Every bundled scenario: together they use every key (arrival processes, relogin, capacity,
	// timeline faults, grid mode).
	names, _ := fs.Glob(Files, "*.yaml")
	for _, name := range names {
		if data, err := Files.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{
		"",
		"name: x\n",
		"- 1\n",
		"name: [\n",
		"a: 1\na: 2\n",
		"name: x\nNAME: y\n",
		"x: &a [*a]\n",
		"networks: &n [{name: a, router: {forwards: *n}}]\n",
		"base: &b {window: 1s}\nviewers: [{arrival: {<<: *b}}]\n",
		"duration: 30\nseed: -1\nbudget: 1.5\n",
		"networks: {name: x}\nviewers: hello\ngrid: [1]\n",
		"viewers: [{count: 1e400, valid_credentials: .nan, arrival: {window: \"-5s\"}}]\n",
		"? [a]\n: 1\n",
		"\tname: x\n",
		"name: !!binary aGVsbG8=\nseed: !!float 1\n",
		"networks: [{loss: \"%\"}, {loss: \"-0%\"}, {loss: 1}]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data)
		if err != nil {
			if s != nil {
				t.Fatalf("a scenario and an error")
			}
			var list Errors
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error is not a non-empty Errors: %#v", err)
			}
			for _, e := range list {
				if strings.Contains(e.Msg, "internal error") {
					t.Fatalf("panic: %v", e)
				}
				if e.File != "fuzz.yaml" || e.Msg == "" {
					t.Fatalf("error without file or message: %#v", e)
				}
				if e.Line < 1 && !strings.HasPrefix(e.Msg, "YAML syntax") {
					t.Fatalf("error without a line: %v", e)
				}
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("parsed but does not validate again: %v", err)
		}
		_ = s.Set("viewers.0.count", "1")
		_ = s.Set("networks.0.router.forwards", "[{proto: udp, port: 1, to: \"1.2.3.4:5\"}]")
		_ = s.Validate()
	})
}
