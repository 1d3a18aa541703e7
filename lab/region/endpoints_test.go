package region

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEndpointsKeepIPv4AndIPv6ClientsApartAndGiveBackTheExactEndpoints(t *testing.T) {
	e := newEndpoints()
	eps := []netip.AddrPort{
		netip.MustParseAddrPort("198.51.100.7:40000"),
		netip.MustParseAddrPort("198.51.100.7:40001"),    // same address, another port
		netip.MustParseAddrPort("0.0.0.0:0"),             // all-zero key
		netip.MustParseAddrPort("255.255.255.255:65535"), // all-ones key
		netip.MustParseAddrPort("[2001:db8::7]:40000"),
		netip.MustParseAddrPort("[::ffff:198.51.100.7]:40000"), // IPv4-mapped IPv6 is not IPv4
	}
	clients := map[netip.AddrPort]*client{}
	for i, ep := range eps {
		cl := &client{localID: uint32(i + 1)}
		clients[ep] = cl
		e.set(ep, cl)
	}
	require.Equal(t, len(eps), e.len())
	for _, ep := range eps {
		require.Same(t, clients[ep], e.get(ep), "%s finds its own client", ep)
	}
	got := map[netip.AddrPort]*client{}
	for ep, cl := range e.all() {
		got[ep] = cl
	}
	require.Equal(t, clients, got, "all yields every endpoint exactly as it was set")

	e.del(eps[0])
	e.del(eps[5])
	require.Nil(t, e.get(eps[0]))
	require.Nil(t, e.get(eps[5]))
	require.Same(t, clients[eps[1]], e.get(eps[1]), "deleting one port leaves the other")
	require.Same(t, clients[netip.MustParseAddrPort("198.51.100.7:40001")], e.get(eps[1]))
	require.Equal(t, len(eps)-2, e.len())
	e.clear()
	require.Zero(t, e.len())
}
