package scenarios

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const netemKeys = `
dns:
  records:
    - {name: grid.example.org, address: 203.0.113.7}
  delay: 20ms
tcp: {syn_schedule: linear}
timeline:
  - at: 30s
    link: {network: internet, set: {loss: 5%}}
  - at: 40s
    add_rule: {host: grid, rule: {name: block-sim, dir: out, proto: udp, action: reject, remote_ports: "1024-65535"}}
  - {at: 50s, partition: [office, internet]}
  - {at: 60s, heal: [office, internet]}
  - {at: 70s, host_down: grid}
  - {at: 80s, host_up: grid}
  - {at: 90s, flush_nat: office}
  - {at: 95s, dns: {unreachable: true}}
  - {at: 100s, remove_rule: {host: grid, name: block-sim}}
`

const officeLink = `    latency: 200us
    rate: 10mbit
    queue: 50
    mtu: 1400
    up: {latency: 1ms, rate: 1mbit, loss_model: {type: gilbert-elliott, p: 1%, r: 30%}}
    down: {latency: 1ms, jitter: 2ms, jitter_distribution: paretonormal, jitter_correlation: 25%, duplicate: 0.1%, reorder: 1%, reorder_gap: 5, corrupt: 0.01%}
    router:
      nat_type: symmetric
      nat_config: {filtering: eif, udp_timeout: 30s, max_mappings: 1000, one_to_one: 192.168.1.20}`

// withNetemKeys is the fixture with every network key of issue 3, optionally changed.
func withNetemKeys(t *testing.T, old, new string) []byte {
	data := string(mutate(t, "    latency: 200us\n    router:", officeLink)) + netemKeys
	if old != "" {
		require.Equal(t, 1, strings.Count(data, old), "must contain %q exactly once", old)
		data = strings.Replace(data, old, new, 1)
	}
	return []byte(data)
}

func lineOf(data []byte, s string) int {
	i := strings.Index(string(data), s)
	return strings.Count(string(data[:i]), "\n") + 1
}

// Every key of the network emulator loads, and a timeline link change keeps the network's
// values for the keys it leaves out.
func TestNetemKeysLoad(t *testing.T) {
	s, err := Parse("full.yaml", withNetemKeys(t, "", ""))
	require.NoError(t, err)
	office := s.Networks[1]
	assert.Equal(t, "10mbit", office.Rate)
	require.NotNil(t, office.Up)
	require.NotNil(t, office.Up.LossModel)
	assert.Equal(t, "gilbert-elliott", office.Up.LossModel.Type)
	assert.InDelta(t, 0.3, float64(office.Up.LossModel.R), 1e-12)
	assert.Equal(t, "paretonormal", office.Down.JitterDist)
	assert.Equal(t, 5, office.Down.ReorderGap)
	assert.Equal(t, "symmetric", office.Router.NATType)
	assert.Equal(t, 30*time.Second, office.Router.NATConfig.UDPTimeout)
	assert.Equal(t, "linear", s.TCP.SYNSchedule)
	assert.Equal(t, 20*time.Millisecond, s.DNS.Delay)
	require.Len(t, s.Timeline, 9)
	lc := s.Timeline[0].Link
	assert.Equal(t, Link{Latency: 40 * time.Millisecond, Jitter: 5 * time.Millisecond, Loss: 0.05}, lc.Set,
		"loss as written, latency and jitter kept from the network")
	assert.Equal(t, "both", lc.Direction)
	assert.Equal(t, "reject", s.Timeline[1].AddRule.Rule.Action)
	assert.Equal(t, "any", s.Hosts[0].Firewall[1].Proto)
	assert.Equal(t, []string{"office", "internet"}, s.Timeline[2].Partition)
	assert.True(t, *s.Timeline[7].Resolver.Unreachable)
	v, ok := ParseRate("1.5mbit")
	assert.True(t, ok)
	assert.Equal(t, uint64(1_500_000), v)
	v, _ = ParseRate("100kbps")
	assert.Equal(t, uint64(800_000), v, "kbps is kilobytes per second, as in tc")
}

// Each broken variant fails with exactly the listed error, at the line of the key.
func TestNetemKeyErrors(t *testing.T) {
	for _, tc := range []struct {
		name, old, new, at, want string
	}{
		{"unknown distribution", "jitter_distribution: paretonormal", "jitter_distribution: gauss", "jitter_distribution: gauss",
			`networks[1].down.jitter_distribution: "gauss" is not a distribution: use uniform, normal, pareto or paretonormal`},
		{"bad rate", "rate: 10mbit", "rate: fast", "rate: fast",
			`networks[1].rate: "fast" is not a rate: a number with a unit, e.g. 10mbit, 512kbit or 1gbit (kbps, mbps: bytes per second)`},
		{"tiny MTU", "mtu: 1400", "mtu: 40", "mtu: 40", `networks[1].mtu: 40 is out of range: an IPv4 MTU is between 68 and 65535`},
		{"unknown loss model", "type: gilbert-elliott", "type: gilbert", "type: gilbert",
			`networks[1].up.loss_model.type: "gilbert" is not a loss model: use gilbert-elliott or 4-state`},
		{"unknown NAT type", "nat_type: symmetric", "nat_type: cone", "nat_type: cone",
			`networks[1].router.nat_type: "cone" is not a NAT type: use full-cone, restricted-cone, port-restricted, symmetric or carrier-grade`},
		{"unknown filtering", "filtering: eif", "filtering: open", "nat_config:",
			`networks[1].router.nat_config.filtering: "open" is not a filtering behaviour: use endpoint-independent, address-dependent or address-and-port-dependent (eif, adf, apdf)`},
		{"1:1 address outside the network", "one_to_one: 192.168.1.20", "one_to_one: 10.1.1.1", "nat_config:",
			`networks[1].router.nat_config.one_to_one: 10.1.1.1 is not inside network "office" (192.168.1.0/24)`},
		{"bad remote ports", `remote_ports: "1024-65535"`, `remote_ports: "9-1"`, "add_rule:",
			`timeline[1].add_rule.rule.remote_ports: "9-1" is not a port or range: use "N" or "N-M" with 1 <= N <= M <= 65535`},
		{"unknown host", "host_down: grid", "host_down: gird", "host_down: gird",
			`timeline[4].host_down: no host named "gird" (defined: grid)`},
		{"partition needs two networks", "partition: [office, internet]", "partition: [office]", "partition: [office]",
			`timeline[2].partition: give exactly two network names, e.g. [office, internet]`},
		{"two actions in one entry", "{at: 70s, host_down: grid}", "{at: 70s, host_down: grid, host_up: grid}", "{at: 70s",
			`timeline[4]: 2 actions in one entry: give one per entry (several entries may share a time)`},
		{"flush_nat of a network without a router", "flush_nat: office", "flush_nat: internet", "flush_nat: internet",
			`timeline[6].flush_nat: network "internet" has no NAT router`},
		{"bad SYN schedule", "syn_schedule: linear", "syn_schedule: fast", "tcp:",
			`tcp.syn_schedule: "fast" is not a SYN schedule: use classic (127 s) or linear (131 s)`},
		{"bad DNS address", "address: 203.0.113.7}", "address: grid}", "address: grid}",
			`dns.records[0].address: "grid" is not an IPv4 address (e.g. 192.168.1.10)`},
		{"reject is an action, deny is not", "action: reject", "action: deny", "add_rule:",
			`timeline[1].add_rule.rule.action: "deny" is not an action: use allow, drop or reject`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := withNetemKeys(t, tc.old, tc.new)
			_, err := Parse("full.yaml", data)
			require.Error(t, err)
			assert.Equal(t, []string{fmt.Sprintf("full.yaml:%d: %s", lineOf(data, tc.at), tc.want)}, lines(err))
		})
	}
}
