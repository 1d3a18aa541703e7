package netem

import "fmt"

// SetDown takes the host off the network (down) or brings it back. While down, every packet it
// sends or that reaches it is dropped with DropHostDown; its sockets, connections and timers
// live on (a pulled cable, not a reboot), so TCP retransmits into the void and recovers if the
// host comes back in time.
func (h *Host) SetDown(down bool) {
	h.down = down
	h.noteSendPath()
}

// Down reports whether the host is down.
func (h *Host) Down() bool { return h.down }

// Partition cuts every path between segments a and b: a packet sent from a host on one of them
// is dropped with DropPartition where it would enter the other, and so is a packet crossing
// directly from one to the other (through the router joining them, or a chain of them ending
// there). Partitioning a pair twice is harmless.
func (n *Network) Partition(a, b *Segment) error {
	if a == nil || b == nil || a.n != n || b.n != n || a == b {
		return fmt.Errorf("netem: partition needs two distinct segments of this network")
	}
	if n.partitioned(a, b) {
		return nil
	}
	n.partitions = append(n.partitions, [2]*Segment{a, b})
	return nil
}

// Heal removes the partition between a and b and reports whether there was one.
func (n *Network) Heal(a, b *Segment) bool {
	for i, pr := range n.partitions {
		if (pr[0] == a && pr[1] == b) || (pr[0] == b && pr[1] == a) {
			n.partitions = append(n.partitions[:i], n.partitions[i+1:]...)
			return true
		}
	}
	return false
}

func (n *Network) partitioned(a, b *Segment) bool {
	for _, pr := range n.partitions {
		if (pr[0] == a && pr[1] == b) || (pr[0] == b && pr[1] == a) {
			return true
		}
	}
	return false
}

// cut reports whether entering g is forbidden for p by a partition.
func (n *Network) cut(p *packet, g *Segment) bool {
	return (p.origin != nil && p.origin != g && n.partitioned(p.origin, g)) ||
		(p.prev != nil && p.prev != g && n.partitioned(p.prev, g))
}
