package scenarios

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A dual-homed grid host: the fixture's grid moved from "network/address" to interfaces on the
// office LAN and a DMZ, with routes, and the resolver placed on the DMZ.
const dualHomed = `hosts:
  - name: grid
    interfaces:
      - {network: office, address: 192.168.1.10}
      - {network: dmz, address: 172.16.0.10}
      - {network: dmz, address: 172.16.0.11}
    routes:
      - {to: 0.0.0.0/0, network: dmz}
      - {to: 198.51.100.0/24, network: office}
    firewall:`

const dmzNet = `  - name: dmz
    cidr: 172.16.0.0/24
    router: {public: 203.0.113.20, nat: false}
dns:
  resolver: {network: dmz, address: 172.16.0.53}
`

func withDualHomed(t *testing.T, old, new string) []byte {
	data := string(mutate(t, "hosts:\n  - name: grid\n    network: office\n    address: 192.168.1.10\n    firewall:", dualHomed))
	data = strings.Replace(data, "\nhosts:", "\n"+dmzNet+"\nhosts:", 1)
	if old != "" {
		require.Equal(t, 1, strings.Count(data, old), "must contain %q exactly once", old)
		data = strings.Replace(data, old, new, 1)
	}
	return []byte(data)
}

func TestHostInterfacesAndRoutesLoad(t *testing.T) {
	s, err := Parse("full.yaml", withDualHomed(t, "", ""))
	require.NoError(t, err)
	h := s.Hosts[0]
	assert.Equal(t, []Interface{{"office", "192.168.1.10"}, {"dmz", "172.16.0.10"}, {"dmz", "172.16.0.11"}}, h.Interfaces,
		"every interface in order; two on the DMZ")
	assert.Equal(t, []HostRoute{{"0.0.0.0/0", "dmz"}, {"198.51.100.0/24", "office"}}, h.Routes)
	require.NotNil(t, s.DNS.Resolver)
	assert.Equal(t, Interface{"dmz", "172.16.0.53"}, *s.DNS.Resolver)
}

// Each broken variant fails with exactly the listed error, at the line of the key.
func TestHostInterfaceErrors(t *testing.T) {
	for _, tc := range []struct {
		name, old, new, at, want string
	}{
		{"both styles at once", "    interfaces:\n", "    network: office\n    interfaces:\n", "interfaces:",
			`hosts[0].interfaces: give either network and address, or interfaces, not both`},
		{"an interface on an unknown network", "{network: dmz, address: 172.16.0.10}", "{network: dzm, address: 172.16.0.10}", "network: dzm",
			`hosts[0].interfaces[1].network: no network named "dzm" (defined: internet, office, dmz)`},
		{"an interface address outside its network", "address: 172.16.0.11}", "address: 172.17.0.11}", "172.17.0.11",
			`hosts[0].interfaces[2].address: 172.17.0.11 is not inside network "dmz" (172.16.0.0/24)`},
		{"an address twice", "address: 172.16.0.11}", "address: 172.16.0.10 }", "172.16.0.10 }",
			`hosts[0].interfaces[2].address: 172.16.0.10 is already an address of host "grid"`},
		{"a route through a network the host is not on", "{to: 198.51.100.0/24, network: office}", "{to: 198.51.100.0/24, network: internet}", "network: internet}",
			`hosts[0].routes[1].network: host "grid" has no interface on network "internet" (defined: office, dmz)`},
		{"a route that is not a CIDR", "to: 198.51.100.0/24", "to: 198.51.100.0", "to: 198.51.100.0,",
			`hosts[0].routes[1].to: "198.51.100.0" is not a CIDR (e.g. 192.168.1.0/24)`},
		{"a route without a prefix", "{to: 0.0.0.0/0, network: dmz}", "{network: dmz}", "- {network: dmz}",
			`hosts[0].routes[0].to: missing: the prefix the route is for (e.g. 0.0.0.0/0)`},
		{"the resolver outside its network", "address: 172.16.0.53", "address: 172.16.1.53", "resolver:",
			`dns.resolver.address: 172.16.1.53 is not inside network "dmz" (172.16.0.0/24)`},
		{"the resolver on a host's address", "address: 172.16.0.53", "address: 172.16.0.11", "resolver:",
			`dns.resolver.address: 172.16.0.11 is already an address of host "grid"`},
		{"a host named like the resolver", "  - name: grid\n    interfaces", "  - name: dns-resolver\n    interfaces", "name: dns-resolver",
			`hosts[0].name: "dns-resolver" is the resolver's own host (set dns.resolver to place it)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := withDualHomed(t, tc.old, tc.new)
			_, err := Parse("full.yaml", data)
			require.Error(t, err)
			got := lines(err)
			if tc.name == "a host named like the resolver" { // grid.host no longer names a host, too
				require.NotEmpty(t, got)
				got = got[:1]
			}
			assert.Equal(t, []string{fmt.Sprintf("full.yaml:%d: %s", lineOf(data, tc.at), tc.want)}, got)
		})
	}
}
