package lab

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"gridlab/netem"
	"gridlab/scenarios"
)

func parseAddr(what, s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%s: %q is not an IP address", what, s)
	}
	return a, nil
}

func (w *world) buildNetwork() error {
	// Parents first: a router's parent segment must exist before the router.
	nets := append([]scenarios.Network(nil), w.sc.Networks...)
	for _, n := range nets {
		pfx, err := netip.ParsePrefix(n.CIDR)
		if err != nil {
			return fmt.Errorf("networks.%s.cidr: %w", n.Name, err)
		}
		seg := w.net.AddSegment(n.Name, pfx.Masked(), netem.LinkParams{Latency: n.Latency, Jitter: n.Jitter, Loss: float64(n.Loss)})
		w.segs[n.Name] = seg
		first := pfx.Masked().Addr().Next()
		if pfx.Bits() == 0 {
			first = netip.AddrFrom4([4]byte{100, 64, 0, 1}) // hosts placed on "the internet" get CGN-range addresses
		}
		w.next[seg] = first
	}
	for _, n := range nets {
		if n.Router == nil {
			continue
		}
		rt := n.Router
		parent := w.segs[rt.Parent]
		if parent == nil {
			return fmt.Errorf("networks.%s.router.parent: no network %q", n.Name, rt.Parent)
		}
		pfx, _ := netip.ParsePrefix(n.CIDR)
		inside := pfx.Masked().Addr().Next()
		if rt.Address != "" {
			a, err := parseAddr("networks."+n.Name+".router.address", rt.Address)
			if err != nil {
				return err
			}
			inside = a
		}
		public, err := parseAddr("networks."+n.Name+".router.public", rt.Public)
		if err != nil {
			return err
		}
		cfg := netem.RouterConfig{
			Name: n.Name + "-router", Inside: w.segs[n.Name], InsideAddr: inside,
			Outside: parent, OutsideAddr: public,
			NAT: rt.NAT == nil || *rt.NAT, Hairpin: rt.Hairpin == nil || *rt.Hairpin,
		}
		for i, f := range rt.Forwards {
			to, err := netip.ParseAddrPort(f.To)
			if err != nil {
				return fmt.Errorf("networks.%s.router.forwards[%d].to: %w", n.Name, i, err)
			}
			proto := netem.UDP
			if f.Proto == "tcp" {
				proto = netem.TCP
			}
			cfg.Forwards = append(cfg.Forwards, netem.Forward{Proto: proto, Port: f.Port, To: to})
		}
		w.used[inside], w.used[public] = true, true
		if _, err := w.net.AddRouter(cfg); err != nil {
			return fmt.Errorf("networks.%s.router: %w", n.Name, err)
		}
	}
	for _, h := range w.sc.Hosts {
		addr, err := parseAddr("hosts."+h.Name+".address", h.Address)
		if err != nil {
			return err
		}
		w.used[addr] = true
		host, err := w.net.AddHost(h.Name, w.segs[h.Network], addr)
		if err != nil {
			return fmt.Errorf("hosts.%s: %w", h.Name, err)
		}
		for i, r := range h.Firewall {
			rule, err := firewallRule(r)
			if err != nil {
				return fmt.Errorf("hosts.%s.firewall[%d]: %w", h.Name, i, err)
			}
			host.AddRule(rule)
		}
		w.hosts[h.Name] = host
	}
	return nil
}

func firewallRule(r scenarios.Rule) (netem.Rule, error) {
	rule := netem.Rule{Name: r.Name, Dir: netem.In, Action: netem.Allow}
	if r.Dir == "out" {
		rule.Dir = netem.Out
	}
	if r.Action == "drop" {
		rule.Action = netem.Deny
	}
	switch r.Proto {
	case "udp":
		rule.Proto = netem.UDP
	case "tcp":
		rule.Proto = netem.TCP
	}
	if r.Remote != "" {
		p, err := netip.ParsePrefix(r.Remote)
		if err != nil {
			return rule, fmt.Errorf("remote: %w", err)
		}
		rule.Remote = p
	}
	if r.Ports != "" {
		lo, hi, ok := strings.Cut(r.Ports, "-")
		if !ok {
			hi = lo
		}
		l, err1 := strconv.ParseUint(lo, 10, 16)
		h, err2 := strconv.ParseUint(hi, 10, 16)
		if err1 != nil || err2 != nil || l > h {
			return rule, fmt.Errorf("ports: %q is not a port or range", r.Ports)
		}
		rule.LocalPorts = netem.PortRange{Lo: uint16(l), Hi: uint16(h)}
	}
	return rule, nil
}

// viewerHost places viewer id: directly on the population's network, or behind its own home
// router on it. Home LANs get distinct 10.64.0.0/10 /24s and public addresses from 198.18.0.0/15.
func (w *world) viewerHost(pop scenarios.Population, seg *netem.Segment, id int) (*netem.Host, string, error) {
	name := fmt.Sprintf("viewer%d", id)
	if !pop.HomeNAT {
		a, err := w.nextAddr(seg)
		if err != nil {
			return nil, "", err
		}
		h, err := w.net.AddHost(name, seg, a)
		return h, pop.Network, err
	}
	n := id - 1
	if n >= 1<<14 {
		return nil, "", fmt.Errorf("at most %d viewers behind home routers so far", 1<<14)
	}
	lanPfx := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(64 + n>>8), byte(n), 0}), 24)
	public := netip.AddrFrom4([4]byte{198, byte(18 + n>>16), byte(n >> 8), byte(n)})
	if public.As4()[3] == 0 {
		public = netip.AddrFrom4([4]byte{198, 19, byte(n >> 8), byte(n)})
	}
	home := w.net.AddSegment("home-"+strconv.Itoa(id), lanPfx, netem.LinkParams{Latency: pop.HomeLAN.Latency, Jitter: pop.HomeLAN.Jitter, Loss: float64(pop.HomeLAN.Loss)})
	if _, err := w.net.AddRouter(netem.RouterConfig{
		Name: "home-router-" + strconv.Itoa(id), Inside: home, InsideAddr: lanPfx.Addr().Next(),
		Outside: seg, OutsideAddr: public, NAT: true, Hairpin: true,
	}); err != nil {
		return nil, "", err
	}
	h, err := w.net.AddHost(name, home, lanPfx.Addr().Next().Next())
	return h, pop.Network + " (home NAT)", err
}

// nextAddr returns the next unused address on seg for a viewer host.
func (w *world) nextAddr(seg *netem.Segment) (netip.Addr, error) {
	a := w.next[seg]
	for w.used[a] {
		a = a.Next()
	}
	if !a.IsValid() || !seg.Prefix().Contains(a) {
		return netip.Addr{}, fmt.Errorf("network %s has no free address left", seg.Name())
	}
	w.used[a] = true
	w.next[seg] = a.Next()
	return a, nil
}

// scheduleTimeline schedules the scenario's fault timeline; each entry, when carried out, is
// appended to w.timeline. (The scenario language has no timeline yet.)
func (w *world) scheduleTimeline() error { return nil }

// startCapture begins writing a packet capture of the run to path.
func (w *world) startCapture(path string) error {
	return fmt.Errorf("packet capture is not implemented yet")
}

// finishCapture flushes and closes the capture.
func (w *world) finishCapture() error { return nil }
