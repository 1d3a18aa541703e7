package scenarios

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// comparable clears what is not part of a scenario file: where it was loaded from.
func comparable(s *Scenario) Scenario {
	c := *s
	c.Path, c.src = "", nil
	return c
}

// Parse(Marshal(s)) must give s back for every bundled scenario and every valid file under
// testdata, and writing it again must give the same bytes.
func TestMarshalRoundTripsEveryBundledScenario(t *testing.T) {
	type file struct {
		name string
		data []byte
	}
	var files []file
	ents, err := fs.ReadDir(Files, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".yaml") {
			data, err := fs.ReadFile(Files, e.Name())
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, file{e.Name(), data})
		}
	}
	extra, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	for _, p := range extra {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, file{p, data})
	}
	n := 0
	for _, f := range files {
		s, err := Parse(f.name, f.data)
		if err != nil {
			continue // testdata holds invalid files on purpose
		}
		if s.Grid.RegionsINIFile != "" {
			continue // the file's text was read in relative to the scenario's directory
		}
		n++
		out, err := Marshal(s)
		if err != nil {
			t.Errorf("%s: Marshal: %v", f.name, err)
			continue
		}
		back, err := Parse(f.name+" (marshalled)", out)
		if err != nil {
			t.Errorf("%s: the marshalled scenario does not parse: %v\n%s", f.name, err, out)
			continue
		}
		if a, b := comparable(s), comparable(back); !reflect.DeepEqual(a, b) {
			t.Errorf("%s: Parse(Marshal(s)) differs from s:\n%s", f.name, out)
		}
		again, err := Marshal(back)
		if err != nil || string(again) != string(out) {
			t.Errorf("%s: marshalling the round-tripped scenario should give the same bytes", f.name)
		}
	}
	if n < 10 {
		t.Fatalf("only %d scenarios were round-tripped; the bundled set should give more", n)
	}
}

// Values that are easy to lose: a pointer to false, a zero duration behind a pointer, a
// fraction, a multi-line string, names that look like numbers or booleans.
func TestMarshalKeepsTrickyValues(t *testing.T) {
	src := `name: "123"
description: "yes"
seed: 18446744073709551615
duration: 1m30s
networks:
  - {name: internet, cidr: 0.0.0.0/0, latency: 1500us, loss: 0.5%}
  - name: office
    cidr: 10.0.0.0/16
    router: {public: 203.0.113.7, nat: false, hairpin: false}
hosts:
  - {name: grid, network: office, address: 10.0.0.10}
grid:
  host: grid
  regions_ini: |
    [My Region]
    RegionUUID = 4a3c1f2e-9b7d-4e5a-8c61-0d2f3b4a5c6d
    Location = 1000,1000
    InternalPort = 9000
    ExternalHostName = 203.0.113.7
  accounts: {pattern: "Load Test{n}", password: "true"}
viewers:
  - {name: a, count: 1, network: internet, login_uri: "http://203.0.113.7:9000/", valid_credentials: 0}
timeline:
  - {at: 0s, dns: {delay: 0s, unreachable: false}}
  - {at: 10s, link: {network: internet, set: {loss: 0, duplicate: 1%}}}
`
	s, err := Parse("tricky.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	out, err := Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse("tricky.yaml (marshalled)", out)
	if err != nil {
		t.Fatalf("does not parse back: %v\n%s", err, out)
	}
	if a, b := comparable(s), comparable(back); !reflect.DeepEqual(a, b) {
		t.Fatalf("round trip changed the scenario:\n%s", out)
	}
	if *back.Networks[1].Router.NAT || back.Viewers[0].Valid == nil || *back.Viewers[0].Valid != 0 {
		t.Errorf("nat: false and valid_credentials: 0 must survive, got\n%s", out)
	}
	if l := back.Timeline[1].Link.Set; l.Loss != 0 || l.Latency != 1500*time.Microsecond {
		t.Errorf("a link change clearing the loss must keep loss 0 and the network's latency, got %+v", l)
	}
}
