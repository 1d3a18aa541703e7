package scenarios

import (
	"errors"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const fixture = "testdata/full.yaml"

func readFixture(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile(fixture)
	require.NoError(t, err)
	return data
}

// mutate returns the fixture with the single occurrence of old replaced by new.
func mutate(t *testing.T, old, new string) []byte {
	t.Helper()
	data := string(readFixture(t))
	require.Equal(t, 1, strings.Count(data, old), "fixture must contain %q exactly once", old)
	return []byte(strings.Replace(data, old, new, 1))
}

func lines(err error) []string {
	if err == nil {
		return nil
	}
	return strings.Split(err.Error(), "\n")
}

func TestLoadFull(t *testing.T) {
	// The fixture loads without error and every field it sets arrives, with the units the
	// loader promises: durations from "40ms", "1m30s"; loss from "0.5%" and 0.001; 90% as 0.9.
	s, err := Load(fixture)
	require.NoError(t, err)
	assert.Equal(t, fixture, s.Path)
	assert.Equal(t, "full", s.Name)
	assert.Equal(t, "an office grid reached from the LAN and from home", s.Description)
	assert.Equal(t, uint64(42), s.Seed)
	assert.Equal(t, 5*time.Minute, s.Duration)
	assert.Equal(t, uint64(1000000), s.Budget)

	require.Len(t, s.Networks, 2)
	inet, office := s.Networks[0], s.Networks[1]
	assert.Equal(t, Network{Name: "internet", CIDR: "0.0.0.0/0", Latency: 40 * time.Millisecond, Jitter: 5 * time.Millisecond, Loss: 0.005}, inet)
	assert.Equal(t, "192.168.1.0/24", office.CIDR)
	assert.Equal(t, 200*time.Microsecond, office.Latency)
	require.NotNil(t, office.Router)
	r := office.Router
	assert.Equal(t, "203.0.113.7", r.Public)
	assert.Equal(t, "internet", r.Parent, "parent defaults to internet")
	assert.Equal(t, "", r.Address, "an empty inside address means the first host; it is not filled in")
	require.NotNil(t, r.NAT)
	assert.True(t, *r.NAT, "NAT defaults to true")
	require.NotNil(t, r.Hairpin)
	assert.False(t, *r.Hairpin, "hairpin: false is kept, not defaulted")
	assert.Equal(t, []Forward{{"udp", 9000, "192.168.1.10:9000"}, {"tcp", 9000, "192.168.1.10:9000"}}, r.Forwards)

	require.Len(t, s.Hosts, 1)
	assert.Equal(t, Host{Name: "grid", Network: "office", Address: "192.168.1.10", Firewall: []Rule{
		{Name: "no-ssh", Dir: "in", Proto: "tcp", Remote: "0.0.0.0/0", Ports: "22", Action: "drop"},
		{Name: "sim-range", Dir: "in", Proto: "any", Ports: "9000-9010", Action: "allow"},
	}}, s.Hosts[0])

	g := s.Grid
	assert.Equal(t, "standalone", g.Mode)
	assert.Equal(t, "grid", g.Host)
	assert.Equal(t, uint16(9000), g.LoginPort)
	assert.True(t, strings.HasPrefix(g.RegionsINI, "[My Region]\nRegionUUID = "), "regions_ini is kept verbatim: %q", g.RegionsINI)
	assert.Equal(t, Accounts{Pattern: "Load Test{n}", Password: "secret"}, g.Accounts)
	assert.Equal(t, "Welcome to gridlab!", g.Welcome)

	require.Len(t, s.Viewers, 2)
	lan, home := s.Viewers[0], s.Viewers[1]
	assert.Equal(t, "lan", lan.Name)
	assert.Equal(t, 500, lan.Count)
	assert.Equal(t, "office", lan.Network)
	assert.False(t, lan.HomeNAT)
	assert.Equal(t, Arrival{Window: time.Minute}, lan.Arrival)
	assert.Equal(t, "http://203.0.113.7:9000/", lan.LoginURI)
	assert.Equal(t, "last", lan.Start)
	require.NotNil(t, lan.Valid)
	assert.Equal(t, Fraction(1), *lan.Valid)
	assert.Equal(t, "sl-viewer", lan.Profile)

	assert.True(t, home.HomeNAT)
	assert.Equal(t, Link{Latency: 2 * time.Millisecond, Jitter: time.Millisecond, Loss: 0.001}, home.HomeLAN)
	assert.Equal(t, Arrival{At: 5 * time.Second, Window: 90 * time.Second}, home.Arrival)
	assert.Equal(t, "uri:My Region&128&128&25", home.Start)
	assert.Equal(t, 30*time.Second, home.Stay)
	require.NotNil(t, home.Valid)
	assert.InDelta(t, 0.9, float64(*home.Valid), 1e-12)
}

func TestParseErrors(t *testing.T) {
	// Each broken variant of the fixture fails with exactly the listed errors, each in the
	// form file:line: key path: message, the path spelled as the user wrote it.
	tests := []struct {
		name     string
		old, new string
		want     []string
	}{
		{"an unknown key is named as written, with its line and a suggestion",
			"    count: 500\n    network: office", "    cuont: 500\n    network: office",
			[]string{`full.yaml:45: viewers[0].cuont: unknown key "cuont" (did you mean "count"?)`}},
		{"an unknown key keeps its case",
			"budget: 1000000", "Budgte: 1000000",
			[]string{`full.yaml:6: Budgte: unknown key "Budgte" (did you mean "budget"?)`}},
		{"keys differing only in case are duplicates",
			"    count: 500\n    network: office", "    count: 500\n    Count: 5\n    network: office",
			[]string{`full.yaml:46: viewers[0].Count: duplicate key "Count": keys ignore case, and "count" is at line 45`}},
		{"a key repeated exactly is a duplicate",
			"seed: 42", "seed: 42\nseed: 43",
			[]string{`full.yaml:5: seed: duplicate key "seed" (first at line 4)`}},
		{"a bad duration names the expected form",
			"window: 1m30s", "window: sixty",
			[]string{`full.yaml:54: viewers[1].arrival.window: "sixty" is not a duration (e.g. 60s)`}},
		{"a bare number is not a duration (viper would make it 30ns)",
			"duration: 5m", "duration: 30",
			[]string{`full.yaml:5: duration: 30 is a bare number, not a duration: give a unit (e.g. 30s)`}},
		{"a quoted bare number is not a duration either",
			"stay: 30s", `stay: "30"`,
			[]string{`full.yaml:57: viewers[1].stay: "30" is a bare number, not a duration: give a unit (e.g. 30s)`}},
		{"a float is not truncated into an int",
			"    count: 500\n    network: office", "    count: 10.7\n    network: office",
			[]string{`full.yaml:45: viewers[0].count: 10.7 is not a whole number`}},
		{"a string is not a count",
			"    count: 500\n    network: internet", "    count: many\n    network: internet",
			[]string{`full.yaml:50: viewers[1].count: "many" is not a whole number`}},
		{"a negative seed is out of range for an unsigned field",
			"seed: 42", "seed: -1",
			[]string{`full.yaml:4: seed: -1 is negative`}},
		{"a port above 65535 is out of range",
			`{proto: udp, port: 9000`, `{proto: udp, port: 70000`,
			[]string{`full.yaml:21: networks[1].router.forwards[0].port: 70000 is out of range (at most 65535)`}},
		{"loss 150% is out of range",
			"loss: 0.5%", "loss: 150%",
			[]string{`full.yaml:13: networks[0].loss: "150%" is out of range: a percentage is between 0% and 100%`}},
		{"loss 50 without % is an out-of-range fraction",
			"loss: 0.5%", "loss: 50",
			[]string{`full.yaml:13: networks[0].loss: 50 is out of range: a fraction is between 0 and 1 (for a percentage add %, e.g. 0.5%)`}},
		{"loss that is not a number",
			"loss: 0.001", "loss: some",
			[]string{`full.yaml:53: viewers[1].home_lan.loss: "some" is not a percentage or fraction (e.g. 0.5% or 0.005)`}},
		{"yes is not a boolean in YAML 1.2",
			"home_nat: true", "home_nat: yes",
			[]string{`full.yaml:52: viewers[1].home_nat: "yes" is not true or false`}},
		{"a bad CIDR",
			"cidr: 192.168.1.0/24", "cidr: 192.168.1.0/33",
			[]string{`full.yaml:15: networks[1].cidr: "192.168.1.0/33" is not a CIDR (e.g. 192.168.1.0/24)`}},
		{"a CIDR with host bits set",
			"cidr: 192.168.1.0/24", "cidr: 192.168.1.5/24",
			[]string{`full.yaml:15: networks[1].cidr: "192.168.1.5/24" has host bits set: did you mean 192.168.1.0/24?`}},
		{"an unknown host reference",
			"  host: grid", "  host: gird",
			[]string{`full.yaml:33: grid.host: no host named "gird" (defined: grid)`}},
		{"an unknown network reference",
			"    network: office\n    address", "    network: ofice\n    address",
			[]string{`full.yaml:26: hosts[0].network: no network named "ofice" (defined: internet, office)`}},
		{"a host address outside its network",
			"address: 192.168.1.10", "address: 10.0.0.5",
			[]string{`full.yaml:27: hosts[0].address: 10.0.0.5 is not inside network "office" (192.168.1.0/24)`}},
		{"a forward to an address outside the network, and one that is not addr:port",
			`{proto: tcp, port: 9000, to: "192.168.1.10:9000"}`, `{proto: sctp, port: 9000, to: "192.168.1.10"}`,
			[]string{
				`full.yaml:22: networks[1].router.forwards[1].proto: "sctp" is not a protocol: use udp or tcp`,
				`full.yaml:22: networks[1].router.forwards[1].to: "192.168.1.10" is not an address:port (e.g. 192.168.1.2:9000)`,
			}},
		{"a router whose public address is not an address",
			"public: 203.0.113.7", "public: 203.0.113",
			[]string{`full.yaml:18: networks[1].router.public: "203.0.113" is not an IPv4 address (e.g. 192.168.1.10)`}},
		{"firewall rule fields",
			`dir: in, proto: tcp, remote: 0.0.0.0/0, ports: "22", action: drop`, `dir: inbound, proto: icmp, remote: 0.0.0.0, ports: "22-10", action: deny`,
			[]string{
				`full.yaml:29: hosts[0].firewall[0].action: "deny" is not an action: use allow, drop or reject`,
				`full.yaml:29: hosts[0].firewall[0].dir: "inbound" is not a direction: use in or out`,
				`full.yaml:29: hosts[0].firewall[0].ports: "22-10" is not a port or range: use "N" or "N-M" with 1 <= N <= M <= 65535`,
				`full.yaml:29: hosts[0].firewall[0].proto: "icmp" is not a protocol: use udp, tcp or any`,
				`full.yaml:29: hosts[0].firewall[0].remote: "0.0.0.0" is not an IPv4 CIDR (e.g. 203.0.113.0/24)`,
			}},
		{"an accounts pattern without {n}",
			`pattern: "Load Test{n}"`, `pattern: "Load Test"`,
			[]string{`full.yaml:40: grid.accounts.pattern: "Load Test" has no {n} for the viewer number (e.g. "Load Test{n}")`}},
		{"an accounts pattern that is one name",
			`pattern: "Load Test{n}"`, `pattern: "LoadTest{n}"`,
			[]string{`full.yaml:40: grid.accounts.pattern: "LoadTest{n}" must be a first and a last name separated by one space (e.g. "Load Test{n}")`}},
		{"a missing key is reported at its parent's line",
			"    password: secret\n", "",
			[]string{`full.yaml:39: grid.accounts.password: missing: the accounts' password`}},
		{"a login URI without a port, and a bad start",
			"    login_uri: http://203.0.113.7:9000/\n    start: uri:My Region&128&128&25", "    login_uri: http://203.0.113.7/\n    start: somewhere",
			[]string{
				`full.yaml:55: viewers[1].login_uri: "http://203.0.113.7/" has no port (e.g. http://203.0.113.7:9000/)`,
				`full.yaml:56: viewers[1].start: "somewhere" is not a start location: use last, home or uri:Region&x&y&z`,
			}},
		{"valid_credentials over 100%, and an unknown profile",
			"valid_credentials: 90%", "valid_credentials: 1.5\n    profile: firestorm",
			[]string{
				`full.yaml:58: viewers[1].valid_credentials: 1.5 is out of range: a fraction is between 0 and 1 (for a percentage add %, e.g. 0.5%)`,
				`full.yaml:59: viewers[1].profile: "firestorm" is not a viewer profile (known: sl-viewer, libremetaverse, node-metaverse)`,
			}},
		{"every problem is reported, in line order",
			"    count: 500\n    network: office", "    cuont: 500\n    network: nowhere",
			[]string{
				`full.yaml:45: viewers[0].cuont: unknown key "cuont" (did you mean "count"?)`,
				`full.yaml:46: viewers[0].network: no network named "nowhere" (defined: internet, office)`,
			}},
		{"a value of the wrong shape does not also cause follow-on errors",
			"  host: grid", "  host: [grid]",
			[]string{`full.yaml:33: grid.host: expected a single value, found a list`}},
		{"zero login workers is an error, not the default, and names its line",
			"    password: secret\n", "    password: secret\n  capacity:\n    login_workers: 0\n    login_time: 200ms\n",
			[]string{`full.yaml:43: grid.capacity.login_workers: 0 workers would never answer a login: give at least 1 (or leave the key out for the default, 8)`}},
		{"a negative receive buffer is an error, and so is a buffer with no per-packet time",
			"    password: secret\n", "    password: secret\n  capacity:\n    region_udp_buffer: -5\n",
			[]string{
				`full.yaml:42: grid.capacity.region_packet_time: missing: a receive buffer fills only if each datagram takes time (e.g. 20us)`,
				`full.yaml:43: grid.capacity.region_udp_buffer: -5 is negative: give at least 1 (or leave the key out for the default, 1024)`,
			}},
		{"a YAML syntax error names its line",
			"    latency: 200us", "\tlatency: 200us",
			[]string{`full.yaml:16: YAML syntax: found a tab character that violates indentation`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse("full.yaml", mutate(t, tt.old, tt.new))
			require.Error(t, err)
			assert.Nil(t, s)
			assert.Equal(t, tt.want, lines(err))
			// The structured form carries the same file, line and path.
			var list Errors
			require.True(t, errors.As(err, &list))
			require.Len(t, list, len(tt.want))
			var one *Error
			require.True(t, errors.As(err, &one))
			assert.Equal(t, "full.yaml", one.File)
			assert.Positive(t, one.Line)
		})
	}
}

func TestParseShapes(t *testing.T) {
	// Whole documents of the wrong shape fail with one clear error each, never a panic, and
	// viper's weak typing does not turn a mapping into a one-element list.
	tests := []struct {
		name, doc string
		want      []string
	}{
		{"a list at the top", "- name: x\n", []string{`s.yaml:1: a scenario is a mapping of keys (name:, networks:, hosts:, grid:, viewers:), not a list`}},
		{"a mapping where a list belongs", "name: x\nnetworks: {name: internet, cidr: 0.0.0.0/0}\n",
			[]string{`s.yaml:2: networks: expected a list (lines starting with "- "), found a mapping`}},
		{"a scalar where a mapping belongs", "name: x\ngrid: standalone\n",
			[]string{`s.yaml:2: grid: expected a mapping of keys, found "standalone"`}},
		{"a non-scalar key", "name: x\n? [a]\n: 1\n", []string{`s.yaml:2: a key must be a plain name, not a list`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("s.yaml", []byte(tt.doc))
			require.Error(t, err)
			got := lines(err)
			for _, w := range tt.want {
				assert.Contains(t, got, w)
			}
		})
	}
}

func TestEmptyDocument(t *testing.T) {
	// An empty file is not a scenario: it is missing its name, grid and so on, reported at line 1.
	_, err := Parse("empty.yaml", nil)
	require.Error(t, err)
	assert.Contains(t, lines(err), `empty.yaml:1: name: missing: every scenario needs a name`)
}

func TestMergeKeysAndAliases(t *testing.T) {
	// YAML anchors, aliases and merge keys work; an explicit key overrides a merged one, and an
	// unknown key inside an anchored mapping is still caught.
	doc := string(readFixture(t))
	doc = strings.Replace(doc, "    arrival: {window: 60s}", "    arrival: &arr {window: 60s}", 1)
	doc = strings.Replace(doc, "    arrival: {at: 5s, window: 1m30s}", "    arrival: {<<: *arr, at: 5s}", 1)
	s, err := Parse("full.yaml", []byte(doc))
	require.NoError(t, err)
	assert.Equal(t, Arrival{At: 5 * time.Second, Window: time.Minute}, s.Viewers[1].Arrival)

	doc = strings.Replace(doc, "&arr {window: 60s}", "&arr {window: 60s, windw: 5s}", 1)
	_, err = Parse("full.yaml", []byte(doc))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `full.yaml:47: viewers[0].arrival.windw: unknown key "windw" (did you mean "window"?)`)
}

func TestDefaults(t *testing.T) {
	// A scenario that leaves out everything optional gets the documented defaults.
	doc := `
name: minimal
networks:
  - {name: internet, cidr: 0.0.0.0/0}
  - name: lan
    cidr: 10.1.0.0/16
    router: {public: 198.51.100.1}
hosts:
  - name: grid
    network: lan
    address: 10.1.0.10
    firewall: [{dir: in, action: allow}]
grid:
  host: grid
  regions_ini: "[R]\n"
  accounts: {pattern: "A B{n}", password: p}
viewers:
  - {name: v, count: 1, network: internet, login_uri: "http://198.51.100.1:9000/"}
`
	s, err := Parse("minimal.yaml", []byte(doc))
	require.NoError(t, err)
	assert.Equal(t, 10*time.Minute, s.Duration)
	r := s.Networks[1].Router
	assert.Equal(t, "internet", r.Parent)
	assert.True(t, *r.NAT)
	assert.True(t, *r.Hairpin)
	assert.Equal(t, "any", s.Hosts[0].Firewall[0].Proto)
	assert.Equal(t, "standalone", s.Grid.Mode)
	assert.Equal(t, uint16(9000), s.Grid.LoginPort)
	assert.Equal(t, "Welcome to gridlab!", s.Grid.Welcome)
	v := s.Viewers[0]
	assert.Equal(t, "last", v.Start)
	assert.Equal(t, "sl-viewer", v.Profile)
	require.NotNil(t, v.Valid)
	assert.Equal(t, Fraction(1), *v.Valid)
	assert.Equal(t, "", s.Path, "Parse leaves Path empty")

	// Validate is idempotent: a loaded scenario validates again unchanged.
	before := *s.Networks[1].Router
	require.NoError(t, s.Validate())
	assert.Equal(t, before, *s.Networks[1].Router)
}

func TestValidate(t *testing.T) {
	// Validate's cross-field checks on a scenario changed in code: each change yields exactly
	// the listed (path, message) problems.
	tests := []struct {
		name   string
		change func(s *Scenario)
		want   map[string]string // path -> message
	}{
		{"duplicate network names", func(s *Scenario) { s.Networks = append(s.Networks, Network{Name: "office", CIDR: "10.0.0.0/8"}) },
			map[string]string{"networks[2].name": `network "office" is already defined (networks[1])`}},
		{"a router whose parent does not exist", func(s *Scenario) { s.Networks[1].Router.Parent = "isp" },
			map[string]string{"networks[1].router.parent": `no network named "isp" (defined: internet, office)`}},
		{"a router that is its own parent", func(s *Scenario) { s.Networks[1].Router.Parent = "office" },
			map[string]string{"networks[1].router.parent": `a network cannot be its own parent`}},
		{"a router public address outside the parent", func(s *Scenario) {
			s.Networks[0].CIDR = "203.0.0.0/16"
			s.Networks[1].Router.Public = "198.51.100.7"
		}, map[string]string{"networks[1].router.public": `198.51.100.7 is not inside network "internet" (203.0.0.0/16)`}},
		{"routers in a loop", func(s *Scenario) {
			s.Networks[0].Router = &Router{Parent: "office", Public: "192.168.1.200"}
		}, map[string]string{
			"networks[0].router.parent": `routers form a loop: network "internet" is inside itself`,
			"networks[1].router.parent": `routers form a loop: network "office" is inside itself`,
		}},
		{"a forward to an address outside the network", func(s *Scenario) { s.Networks[1].Router.Forwards[0].To = "10.0.0.1:9000" },
			map[string]string{"networks[1].router.forwards[0].to": `10.0.0.1 is not inside network "office" (192.168.1.0/24)`}},
		{"a forward repeated", func(s *Scenario) { s.Networks[1].Router.Forwards[1].Proto = "udp" },
			map[string]string{"networks[1].router.forwards[1]": `udp port 9000 is already forwarded (forwards[0])`}},
		{"a host on the router's address", func(s *Scenario) { s.Hosts[0].Address = "192.168.1.1" },
			map[string]string{"hosts[0].address": `192.168.1.1 is already the inside address of network "office"'s router (by default the first address)`}},
		{"a host on the router's explicit address", func(s *Scenario) { s.Networks[1].Router.Address = "192.168.1.10" },
			map[string]string{"hosts[0].address": `192.168.1.10 is already the inside address of network "office"'s router`}},
		{"a host on the broadcast address", func(s *Scenario) { s.Hosts[0].Address = "192.168.1.255" },
			map[string]string{"hosts[0].address": `192.168.1.255 is the network's own or broadcast address; use a host address (e.g. 192.168.1.2)`}},
		{"duplicate host names", func(s *Scenario) {
			s.Hosts = append(s.Hosts, Host{Name: "grid", Network: "office", Address: "192.168.1.11"})
		},
			map[string]string{"hosts[1].name": `host "grid" is already defined (hosts[0])`}},
		{"no regions", func(s *Scenario) { s.Grid.RegionsINI = " \n" },
			map[string]string{"grid.regions_ini": `missing: the Regions.ini text (at least one [Region] section), or regions_ini_file`}},
		{"an unknown grid mode", func(s *Scenario) { s.Grid.Mode = "robust" },
			map[string]string{"grid.mode": `"robust" is not a mode: use standalone (one process) or grid (login service and regions talk HTTP)`}},
		{"a region's host in standalone mode", func(s *Scenario) {
			s.Grid.Regions = []GridRegion{{Name: "My Region", Host: "grid"}}
		}, map[string]string{"grid.regions[0].host": `only in grid mode: in standalone every region runs on grid.host (set grid.mode: grid)`}},
		{"grid mode: an unknown region, host and flag", func(s *Scenario) {
			s.Grid.Mode = "grid"
			s.Grid.Regions = []GridRegion{{Name: "Nowhere", Host: "nohost", Flags: "DefaultRegion, Persistent"}}
		}, map[string]string{
			"grid.regions[0].name":  `no [Nowhere] section in grid.regions_ini (defined: My Region)`,
			"grid.regions[0].host":  `no host named "nohost" (defined: grid)`,
			"grid.regions[0].flags": `"Persistent" is an OpenSim region flag gridlab does not model: use DefaultRegion and/or FallbackRegion`}},
		{"a negative count", func(s *Scenario) { s.Viewers[0].Count = -1 },
			map[string]string{"viewers[0].count": `-1 is negative`}},
		{"an https login URI", func(s *Scenario) { s.Viewers[0].LoginURI = "https://203.0.113.7:9000/" },
			map[string]string{"viewers[0].login_uri": `"https://203.0.113.7:9000/" is not an http:// URL (e.g. http://203.0.113.7:9000/)`}},
		{"a login URI without a host", func(s *Scenario) { s.Viewers[0].LoginURI = "http://:9000/" },
			map[string]string{"viewers[0].login_uri": `"http://:9000/" has no host (e.g. http://203.0.113.7:9000/)`}},
		{"valid_credentials out of range", func(s *Scenario) { f := Fraction(-0.1); s.Viewers[0].Valid = &f },
			map[string]string{"viewers[0].valid_credentials": `-0.1 is out of range: a fraction is between 0 and 1`}},
		{"jitter above latency", func(s *Scenario) { s.Networks[0].Jitter = time.Second },
			map[string]string{"networks[0].jitter": `1s is more than the latency (40ms): delays would go below zero`}},
		{"a negative duration", func(s *Scenario) { s.Duration = -time.Second },
			map[string]string{"duration": `-1s is negative`}},
		{"capacity: negative times", func(s *Scenario) {
			s.Grid.Capacity.LoginTime = -time.Second
			s.Grid.Capacity.RegionPacketTime = -time.Millisecond
			s.Grid.Capacity.LogoutTime = -time.Second
		}, map[string]string{
			"grid.capacity.login_time":         `-1s is negative: a time the grid spends is 0 or more`,
			"grid.capacity.region_packet_time": `-1ms is negative: a time the grid spends is 0 or more`,
			"grid.capacity.logout_time":        `-1s is negative: a time the grid spends is 0 or more`,
		}},
		{"capacity: zero and negative counts", func(s *Scenario) {
			workers, buf := -1, 0
			s.Grid.Capacity = Capacity{LoginWorkers: &workers, LoginTime: time.Second, RegionUDPBuffer: &buf, RegionPacketTime: time.Millisecond}
		}, map[string]string{
			"grid.capacity.login_workers":     `-1 is negative: give at least 1 (or leave the key out for the default, 8)`,
			"grid.capacity.region_udp_buffer": `0 datagrams of buffer would drop every datagram: give at least 1 (or leave the key out for the default, 1024)`,
		}},
		{"capacity: a spread above 100 %", func(s *Scenario) {
			f := Fraction(1.5)
			s.Grid.Capacity = Capacity{LoginTime: time.Second, LoginTimeSpread: &f}
		}, map[string]string{"grid.capacity.login_time_spread": `1.5 is out of range: a fraction is between 0 and 1 (0% to 100%)`}},
		{"capacity: workers or a spread without login_time would model nothing", func(s *Scenario) {
			workers := 4
			s.Grid.Capacity = Capacity{LoginWorkers: &workers}
		}, map[string]string{"grid.capacity.login_time": `missing: login_workers needs the time one login takes (e.g. 150ms), or the login service answers at once`}},
		{"capacity: a spread alone", func(s *Scenario) {
			f := Fraction(0)
			s.Grid.Capacity = Capacity{LoginTimeSpread: &f}
		}, map[string]string{"grid.capacity.login_time": `missing: login_time_spread needs the time one login takes (e.g. 150ms), or the login service answers at once`}},
		{"duplicate population names", func(s *Scenario) { s.Viewers[1].Name = "lan" },
			map[string]string{"viewers[1].name": `population "lan" is already defined (viewers[0])`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Load(fixture)
			require.NoError(t, err)
			tt.change(s)
			err = s.Validate()
			require.Error(t, err)
			var list Errors
			require.True(t, errors.As(err, &list))
			got := map[string]string{}
			for _, e := range list {
				got[e.Path] = e.Msg
				assert.Equal(t, fixture, e.File, "%v", e)
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestValidateWithoutSource(t *testing.T) {
	// A scenario built in code has no file: its errors carry just the path and message.
	s := &Scenario{}
	err := s.Validate()
	require.Error(t, err)
	assert.Contains(t, lines(err), "name: missing: every scenario needs a name")
}

func TestSet(t *testing.T) {
	// Overrides address list elements by index or name, match keys without regard to case,
	// read values with the file's rules, and are checked again by Validate.
	tests := []struct {
		path, value string
		check       func(t *testing.T, s *Scenario)
	}{
		{"viewers.0.count", "10", func(t *testing.T, s *Scenario) { assert.Equal(t, 10, s.Viewers[0].Count) }},
		{"viewers[1].count", "7", func(t *testing.T, s *Scenario) { assert.Equal(t, 7, s.Viewers[1].Count) }},
		{"Viewers.HOME.Arrival.Window", "30s", func(t *testing.T, s *Scenario) { assert.Equal(t, 30*time.Second, s.Viewers[1].Arrival.Window) }},
		{"networks.internet.loss", "1%", func(t *testing.T, s *Scenario) { assert.InDelta(t, 0.01, float64(s.Networks[0].Loss), 1e-12) }},
		{"networks.internet.loss", "0.02", func(t *testing.T, s *Scenario) { assert.InDelta(t, 0.02, float64(s.Networks[0].Loss), 1e-12) }},
		{"networks.office.router.nat", "false", func(t *testing.T, s *Scenario) { assert.False(t, *s.Networks[1].Router.NAT) }},
		{"viewers.lan.valid_credentials", "50%", func(t *testing.T, s *Scenario) { assert.Equal(t, Fraction(0.5), *s.Viewers[0].Valid) }},
		{"name", "123", func(t *testing.T, s *Scenario) { assert.Equal(t, "123", s.Name, "strings are taken verbatim") }},
		{"description", "a: b # c", func(t *testing.T, s *Scenario) { assert.Equal(t, "a: b # c", s.Description) }},
		{"viewers.lan.arrival", "{at: 1s, window: 2s}", func(t *testing.T, s *Scenario) {
			assert.Equal(t, Arrival{At: time.Second, Window: 2 * time.Second}, s.Viewers[0].Arrival)
		}},
		{"hosts.grid.firewall", "[{dir: out, proto: udp, action: drop}]", func(t *testing.T, s *Scenario) {
			assert.Equal(t, []Rule{{Dir: "out", Proto: "udp", Action: "drop"}}, s.Hosts[0].Firewall)
		}},
		{"viewers.home.stay", "", func(t *testing.T, s *Scenario) { assert.Zero(t, s.Viewers[1].Stay, "an empty value clears") }},
	}
	for _, tt := range tests {
		t.Run(tt.path+"="+tt.value, func(t *testing.T) {
			s, err := Load(fixture)
			require.NoError(t, err)
			require.NoError(t, s.Set(tt.path, tt.value))
			tt.check(t, s)
			require.NoError(t, s.Validate())
		})
	}
}

func TestSetErrors(t *testing.T) {
	// A bad override fails with "--set: path: message", leaves the scenario unchanged, and is
	// checked like the same value in a file.
	tests := []struct {
		path, value string
		want        []string
	}{
		{"viewers.0.count", "ten", []string{`--set: viewers.0.count: "ten" is not a whole number`}},
		{"viewers.0.count", "10.7", []string{`--set: viewers.0.count: 10.7 is not a whole number`}},
		{"networks.internet.loss", "150%", []string{`--set: networks.internet.loss: "150%" is out of range: a percentage is between 0% and 100%`}},
		{"networks.internet.loss", "50", []string{`--set: networks.internet.loss: 50 is out of range: a fraction is between 0 and 1 (for a percentage add %, e.g. 0.5%)`}},
		{"viewers.0.arrival.window", "30", []string{`--set: viewers.0.arrival.window: 30 is a bare number, not a duration: give a unit (e.g. 30s)`}},
		{"viewers.0.arrival.window", "sixty", []string{`--set: viewers.0.arrival.window: "sixty" is not a duration (e.g. 60s)`}},
		{"viewers.0.arrival", "{windw: 5s}", []string{`--set: viewers.0.arrival.windw: unknown key "windw"`}},
		{"viewers.0.arrival", "{window: 5}", []string{`--set: viewers.0.arrival.window: 5 is a bare number, not a duration: give a unit (e.g. 5s)`}},
		{"viewers.9.count", "1", []string{`--set: viewers.9: no element 9: the list has 2`}},
		{"viewers.nobody.count", "1", []string{`--set: viewers.nobody: no element named "nobody" (defined: lan, home)`}},
		{"viewers.0.cuont", "1", []string{`--set: viewers.0.cuont: unknown key "cuont" (did you mean "count"?)`}},
		{"viewers.0.count.x", "1", []string{`--set: viewers.0.count.x: "viewers.0.count" has no keys below it`}},
		{"path", "x", []string{`--set: path: unknown key "path"`}},
		{"viewers..count", "1", []string{`--set: viewers..count: not a key path (e.g. viewers.0.count or networks.internet.loss)`}},
		{"networks.internet.router.nat", "maybe", []string{`--set: networks.internet.router.nat: "maybe" is not true or false`}},
	}
	for _, tt := range tests {
		t.Run(tt.path+"="+tt.value, func(t *testing.T) {
			s, err := Load(fixture)
			require.NoError(t, err)
			orig, err := Load(fixture)
			require.NoError(t, err)
			err = s.Set(tt.path, tt.value)
			require.Error(t, err)
			assert.Equal(t, tt.want, lines(err))
			s.src, orig.src = nil, nil
			assert.Equal(t, orig, s, "a failed Set changes nothing")
		})
	}
}

func TestSetThenValidate(t *testing.T) {
	// Cross-field problems caused by an override are found by Validate and blamed on --set;
	// overrides that only make sense together can be applied in either order.
	s, err := Load(fixture)
	require.NoError(t, err)
	require.NoError(t, s.Set("hosts.grid.network", "nowhere"))
	err = s.Validate()
	require.Error(t, err)
	assert.Equal(t, []string{`--set: hosts.grid.network: no network named "nowhere" (defined: internet, office)`}, lines(err))

	s, err = Load(fixture)
	require.NoError(t, err)
	require.NoError(t, s.Set("hosts.grid.address", "10.9.0.10"))
	require.NoError(t, s.Set("networks.office.router.forwards.0.to", "10.9.0.10:9000"))
	require.NoError(t, s.Set("networks.office.router.forwards.1.to", "10.9.0.10:9000"))
	err = s.Validate()
	require.Error(t, err, "the network still says 192.168.1.0/24")
	assert.Contains(t, lines(err), `--set: hosts.grid.address: 10.9.0.10 is not inside network "office" (192.168.1.0/24)`)
	require.NoError(t, s.Set("networks.office.cidr", "10.9.0.0/16"))
	require.NoError(t, s.Validate())
	assert.Equal(t, "", s.Networks[1].Router.Address, "the router's address stays the network's first, whatever the CIDR")
}

func TestList(t *testing.T) {
	// List describes each *.yaml file, sorted by name; a broken file is left out and reported.
	good := readFixture(t)
	fsys := fstest.MapFS{
		"b.yaml":      {Data: good},
		"a.yaml":      {Data: []byte(strings.Replace(string(good), "name: full", "name: other\n", 1))},
		"broken.yaml": {Data: []byte("name: x\ncuont: 1\n")},
		"notes.txt":   {Data: []byte("ignored")},
	}
	infos, err := List(fsys)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `broken.yaml:2: cuont: unknown key "cuont"`)
	assert.Equal(t, []Info{
		{File: "a.yaml", Name: "other", Description: "an office grid reached from the LAN and from home"},
		{File: "b.yaml", Name: "full", Description: "an office grid reached from the LAN and from home"},
	}, infos)
}

func TestBundled(t *testing.T) {
	// Every bundled scenario loads cleanly, and the default is among them.
	infos, err := Bundled()
	require.NoError(t, err)
	var files []string
	for _, in := range infos {
		files = append(files, in.File)
		assert.NotEmpty(t, in.Name, in.File)
		assert.NotEmpty(t, in.Description, in.File)
	}
	assert.Contains(t, files, Default)
}

func TestErrorFormat(t *testing.T) {
	// The parts of an Error that are unknown are left out of its text.
	assert.Equal(t, "f.yaml:3: a.b: bad", (&Error{File: "f.yaml", Line: 3, Path: "a.b", Msg: "bad"}).Error())
	assert.Equal(t, "f.yaml: a.b: bad", (&Error{File: "f.yaml", Path: "a.b", Msg: "bad"}).Error())
	assert.Equal(t, "f.yaml:3: bad", (&Error{File: "f.yaml", Line: 3, Msg: "bad"}).Error())
	assert.Equal(t, "a.b: bad", (&Error{Path: "a.b", Msg: "bad"}).Error())
}
