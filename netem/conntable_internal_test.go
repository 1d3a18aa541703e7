package netem

import (
	"net/netip"
	"testing"
)

// A host's connection table finds each connection by its local port and remote address, and
// counts the connections on each local port, the same whether it holds one connection (kept
// without maps) or several (in maps); removing a connection never removes another with the
// same key (a new connection on a reused 4-tuple).
func TestConnTableFindsAndCountsConnectionsWithOneOrMany(t *testing.T) {
	conn := func(port uint16, remote string) *TCPConn {
		return &TCPConn{local: netip.AddrPortFrom(netip.MustParseAddr("198.51.100.9"), port), remote: netip.MustParseAddrPort(remote)}
	}
	var tb connTable
	a := conn(40000, "198.51.100.5:9000")
	b := conn(40000, "198.51.100.6:9000") // same local port, another peer (a server's listening port)
	c := conn(40001, "198.51.100.5:9000")
	check := func(when string, want map[*TCPConn]bool, ports map[uint16]int) {
		t.Helper()
		for _, x := range []*TCPConn{a, b, c} {
			got := tb.get(x.key())
			if want[x] && got != x {
				t.Errorf("%s: connection %v is not found (got %p)", when, x.key(), got)
			}
			if !want[x] && got != nil {
				t.Errorf("%s: connection %v is found though not in the table", when, x.key())
			}
		}
		for p, n := range ports {
			if got := tb.onPort(p); got != n {
				t.Errorf("%s: port %d has %d connections, want %d", when, p, got, n)
			}
		}
	}
	check("empty", nil, map[uint16]int{40000: 0, 40001: 0})
	tb.add(a)
	check("one", map[*TCPConn]bool{a: true}, map[uint16]int{40000: 1, 40001: 0})
	if tb.byKey != nil {
		t.Error("one connection made the maps")
	}
	tb.remove(conn(40000, "198.51.100.5:9000")) // another connection with a's key
	check("one, after removing a namesake", map[*TCPConn]bool{a: true}, map[uint16]int{40000: 1})
	tb.add(b)
	tb.add(c)
	check("three", map[*TCPConn]bool{a: true, b: true, c: true}, map[uint16]int{40000: 2, 40001: 1})
	tb.remove(conn(40001, "198.51.100.5:9000"))
	check("three, after removing a namesake", map[*TCPConn]bool{a: true, b: true, c: true}, map[uint16]int{40000: 2, 40001: 1})
	tb.remove(a)
	check("two", map[*TCPConn]bool{b: true, c: true}, map[uint16]int{40000: 1, 40001: 1})
	tb.remove(b)
	tb.remove(c)
	check("none", nil, map[uint16]int{40000: 0, 40001: 0})
	if len(tb.ports) != 0 {
		t.Errorf("ports with no connection stay counted: %v", tb.ports)
	}
}
