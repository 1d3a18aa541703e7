package lab

import (
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"gridlab/netem"
	"gridlab/reports"
	"gridlab/scenarios"
	"gridlab/sim"
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
		lp, err := linkParams(n.Link())
		if err != nil {
			return fmt.Errorf("networks.%s: %w", n.Name, err)
		}
		seg := w.net.AddSegment(n.Name, pfx.Masked(), lp)
		for _, d := range []struct {
			dir  netem.LinkDir
			link *scenarios.Link
			key  string
		}{{netem.LinkUp, n.Up, "up"}, {netem.LinkDown, n.Down, "down"}} {
			if d.link != nil {
				dp, err := linkParams(*d.link)
				if err != nil {
					return fmt.Errorf("networks.%s.%s: %w", n.Name, d.key, err)
				}
				seg.SetDirParams(d.dir, dp)
			}
		}
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
		opt, err := natOptions(rt)
		if err != nil {
			return fmt.Errorf("networks.%s.router: %w", n.Name, err)
		}
		cfg.NATOptions = opt
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
		ifaces := h.Interfaces
		if len(ifaces) == 0 {
			ifaces = []scenarios.Interface{{Network: h.Network, Address: h.Address}}
		}
		var host *netem.Host
		for i, f := range ifaces {
			addr, err := parseAddr(fmt.Sprintf("hosts.%s.interfaces[%d].address", h.Name, i), f.Address)
			if err != nil {
				return err
			}
			seg := w.segs[f.Network]
			if seg == nil {
				return fmt.Errorf("hosts.%s: no network %q", h.Name, f.Network)
			}
			w.used[addr] = true
			if i == 0 {
				host, err = w.net.AddHost(h.Name, seg, addr)
			} else {
				err = host.AddInterface(seg, addr)
			}
			if err != nil {
				return fmt.Errorf("hosts.%s: %w", h.Name, err)
			}
		}
		for i, r := range h.Routes {
			pfx, err := netip.ParsePrefix(r.To)
			if err != nil {
				return fmt.Errorf("hosts.%s.routes[%d].to: %w", h.Name, i, err)
			}
			if err := host.AddRoute(pfx, w.segs[r.Network]); err != nil {
				return fmt.Errorf("hosts.%s.routes[%d]: %w", h.Name, i, err)
			}
		}
		for i, r := range h.Firewall {
			rule, err := firewallRule(r)
			if err != nil {
				return fmt.Errorf("hosts.%s.firewall[%d]: %w", h.Name, i, err)
			}
			host.AddRule(rule)
		}
		if h.Conntrack {
			host.SetConntrack(true)
		}
		w.hosts[h.Name] = host
	}
	if w.sc.TCP.SYNSchedule == "linear" {
		w.net.SetSYNSchedule(netem.SYNLinear)
	}
	if d := w.sc.DNS; len(d.Records) > 0 || d.Delay > 0 || d.Unreachable || d.Resolver != nil {
		res := w.net.DNS()
		if r := d.Resolver; r != nil {
			a, err := parseAddr("dns.resolver.address", r.Address)
			if err != nil {
				return err
			}
			if err := res.Place(w.segs[r.Network], a); err != nil {
				return fmt.Errorf("dns.resolver: %w", err)
			}
			w.used[a] = true
		} else if err := res.PlaceDefault(); err != nil {
			return fmt.Errorf("dns: %w", err)
		} else {
			w.used[res.Addr().Addr()] = true
		}
		for i, rec := range d.Records {
			a, err := parseAddr(fmt.Sprintf("dns.records[%d].address", i), rec.Address)
			if err != nil {
				return err
			}
			res.Add(rec.Name, a)
		}
		if d.Delay > 0 {
			res.SetDelay(d.Delay)
		}
		res.SetUnreachable(d.Unreachable)
	}
	return nil
}

// linkParams converts a scenario link to netem's parameters.
func linkParams(l scenarios.Link) (netem.LinkParams, error) {
	p := netem.LinkParams{Latency: l.Latency, Jitter: l.Jitter, Loss: float64(l.Loss),
		JitterCorr: float64(l.JitterCorr), LossCorr: float64(l.LossCorr),
		Duplicate: float64(l.Duplicate), Reorder: float64(l.Reorder), ReorderGap: l.ReorderGap,
		Corrupt: float64(l.Corrupt), Queue: l.Queue, MTU: l.MTU}
	d, ok := netem.ParseDist(l.JitterDist)
	if !ok {
		return p, fmt.Errorf("jitter_distribution: %q is not a distribution", l.JitterDist)
	}
	p.Dist = d
	if l.Rate != "" {
		r, ok := scenarios.ParseRate(l.Rate)
		if !ok {
			return p, fmt.Errorf("rate: %q is not a rate", l.Rate)
		}
		p.Rate = r
	}
	if m := l.LossModel; m != nil {
		switch m.Type {
		case "gilbert-elliott":
			bad := 1.0
			if m.BadLoss != nil {
				bad = float64(*m.BadLoss)
			}
			p.LossModel = netem.LossModel{Kind: netem.LossGilbertElliott, P: float64(m.P), R: float64(m.R),
				BadLoss: bad, GoodLoss: float64(m.GoodLoss)}
		case "4-state":
			p.LossModel = netem.LossModel{Kind: netem.LossFourState, P13: float64(m.P13), P31: float64(m.P31),
				P32: float64(m.P32), P23: float64(m.P23), P14: float64(m.P14)}
		default:
			return p, fmt.Errorf("loss_model.type: %q is not a loss model", m.Type)
		}
	}
	return p, nil
}

// natOptions turns a router's nat_type and nat_config into netem's options.
func natOptions(rt *scenarios.Router) (netem.NATOptions, error) {
	var opt netem.NATOptions
	if rt.NATType != "" {
		o, ok := netem.NATPreset(rt.NATType)
		if !ok {
			return opt, fmt.Errorf("nat_type: %q is not a NAT type", rt.NATType)
		}
		opt = o
	}
	nc := rt.NATConfig
	if nc == nil {
		return opt, nil
	}
	for _, b := range []struct {
		key string
		v   string
		to  *netem.Behavior
	}{{"mapping", nc.Mapping, &opt.Mapping}, {"filtering", nc.Filtering, &opt.Filtering}} {
		if b.v == "" {
			continue
		}
		v, ok := netem.ParseBehavior(b.v)
		if !ok {
			return opt, fmt.Errorf("nat_config.%s: %q is not a behaviour", b.key, b.v)
		}
		*b.to = v
	}
	switch nc.Ports {
	case "preserve":
		opt.Ports = netem.PortPreserve
	case "preserve-random":
		opt.Ports = netem.PortPreserveRandom
	case "random":
		opt.Ports = netem.PortRandom
	}
	if nc.UDPTimeout > 0 {
		opt.UDPTimeout = nc.UDPTimeout
	}
	if nc.TCPTimeout > 0 {
		opt.TCPTimeout = nc.TCPTimeout
	}
	if nc.MaxMappings > 0 {
		opt.MaxMappings = nc.MaxMappings
	}
	if nc.OneToOne != "" {
		a, err := parseAddr("nat_config.one_to_one", nc.OneToOne)
		if err != nil {
			return opt, err
		}
		opt.OneToOne = a
	}
	return opt, nil
}

func firewallRule(r scenarios.Rule) (netem.Rule, error) {
	rule := netem.Rule{Name: r.Name, Dir: netem.In, Action: netem.Allow}
	if r.Dir == "out" {
		rule.Dir = netem.Out
	}
	switch r.Action {
	case "drop":
		rule.Action = netem.Deny
	case "reject":
		rule.Action = netem.Reject
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
	if r.RemotePorts != "" {
		lo, hi, ok := scenarios.ParsePorts(r.RemotePorts)
		if !ok {
			return rule, fmt.Errorf("remote_ports: %q is not a port or range", r.RemotePorts)
		}
		rule.RemotePorts = netem.PortRange{Lo: lo, Hi: hi}
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
	lp, err := linkParams(pop.HomeLAN)
	if err != nil {
		return nil, "", fmt.Errorf("home_lan: %w", err)
	}
	home := w.net.AddSegment("home-"+strconv.Itoa(id), lanPfx, lp)
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

// routerName is the netem name of the router of scenario network net.
func routerName(net string) string { return net + "-router" }

// scheduleTimeline schedules the scenario's fault timeline; each entry, when carried out, is
// appended to w.timeline with a description of what it did.
func (w *world) scheduleTimeline() error {
	for i, e := range w.sc.Timeline {
		act, what, err := w.timelineAction(e)
		if err != nil {
			return fmt.Errorf("timeline[%d]: %w", i, err)
		}
		w.s.At(sim.Time(e.At), "lab/timeline", func() {
			if note := act(); note != "" {
				what += " (" + note + ")"
			}
			w.timeline = append(w.timeline, reports.TimelineEvent{At: w.s.Now().Duration(), What: what})
		})
	}
	return nil
}

// timelineAction resolves one timeline entry into the change it makes and its description. The
// change returns a note when it had nothing to do.
func (w *world) timelineAction(e scenarios.Event) (func() string, string, error) {
	if act, what, ok, err := w.gridAction(e); ok { // send_udp, restart_region (faults.go)
		return act, what, err
	}
	host := func(name string) (*netem.Host, error) {
		if h := w.hosts[name]; h != nil {
			return h, nil
		}
		return nil, fmt.Errorf("no host %q", name)
	}
	seg := func(name string) (*netem.Segment, error) {
		if g := w.segs[name]; g != nil {
			return g, nil
		}
		return nil, fmt.Errorf("no network %q", name)
	}
	switch {
	case e.Link != nil:
		g, err := seg(e.Link.Network)
		if err != nil {
			return nil, "", err
		}
		lp, err := linkParams(e.Link.Set)
		if err != nil {
			return nil, "", fmt.Errorf("link.set: %w", err)
		}
		dir := e.Link.Direction
		what := fmt.Sprintf("set %s link%s: %s", g.Name(), map[string]string{"up": " up", "down": " down"}[dir], describeLink(lp))
		return func() string {
			switch dir {
			case "up":
				g.SetDirParams(netem.LinkUp, lp)
			case "down":
				g.SetDirParams(netem.LinkDown, lp)
			default:
				g.SetParams(lp)
			}
			return ""
		}, what, nil
	case e.AddRule != nil:
		h, err := host(e.AddRule.Host)
		if err != nil {
			return nil, "", err
		}
		rule, err := firewallRule(e.AddRule.Rule)
		if err != nil {
			return nil, "", fmt.Errorf("add_rule.rule: %w", err)
		}
		r := e.AddRule.Rule
		what := fmt.Sprintf("add rule %s on %s: %s %s %s", r.Name, h.Name(), r.Action, r.Dir, r.Proto)
		return func() string { h.AddRule(rule); return "" }, what, nil
	case e.RemoveRule != nil:
		h, err := host(e.RemoveRule.Host)
		if err != nil {
			return nil, "", err
		}
		name := e.RemoveRule.Name
		return func() string {
			if !h.RemoveRule(name) {
				return "no such rule"
			}
			return ""
		}, fmt.Sprintf("remove rule %s on %s", name, h.Name()), nil
	case e.Partition != nil || e.Heal != nil:
		names, heal := e.Partition, false
		if e.Heal != nil {
			names, heal = e.Heal, true
		}
		if len(names) != 2 {
			return nil, "", fmt.Errorf("partition and heal take two networks")
		}
		a, err := seg(names[0])
		if err != nil {
			return nil, "", err
		}
		b, err := seg(names[1])
		if err != nil {
			return nil, "", err
		}
		if heal {
			return func() string {
				if !w.net.Heal(a, b) {
					return "they were not partitioned"
				}
				return ""
			}, fmt.Sprintf("heal %s / %s", a.Name(), b.Name()), nil
		}
		return func() string {
			if err := w.net.Partition(a, b); err != nil {
				return err.Error()
			}
			return ""
		}, fmt.Sprintf("partition %s / %s", a.Name(), b.Name()), nil
	case e.HostDown != "" || e.HostUp != "":
		name, down := e.HostDown, true
		if e.HostUp != "" {
			name, down = e.HostUp, false
		}
		h, err := host(name)
		if err != nil {
			return nil, "", err
		}
		what := "host " + h.Name() + " up"
		if down {
			what = "host " + h.Name() + " down"
		}
		return func() string { h.SetDown(down); return "" }, what, nil
	case e.FlushNAT != "":
		r := w.net.Router(routerName(e.FlushNAT))
		if r == nil {
			return nil, "", fmt.Errorf("flush_nat: network %q has no router", e.FlushNAT)
		}
		return func() string {
			k := len(r.Mappings())
			r.FlushNAT()
			return fmt.Sprintf("%d mappings", k)
		}, "flush NAT of " + r.Name(), nil
	case e.Resolver != nil:
		st := *e.Resolver
		var parts []string
		if st.Delay != nil {
			parts = append(parts, "delay "+st.Delay.String())
		}
		if st.Unreachable != nil {
			parts = append(parts, "unreachable "+strconv.FormatBool(*st.Unreachable))
		}
		return func() string {
			res := w.net.DNS()
			if st.Delay != nil {
				res.SetDelay(*st.Delay)
			}
			if st.Unreachable != nil {
				res.SetUnreachable(*st.Unreachable)
			}
			return ""
		}, "dns: " + strings.Join(parts, ", "), nil
	}
	return nil, "", fmt.Errorf("no action")
}

// describeLink is a short tc-like description of link parameters for the report's timeline.
func describeLink(p netem.LinkParams) string {
	parts := []string{"latency " + p.Latency.String()}
	if p.Jitter > 0 {
		parts = append(parts, fmt.Sprintf("jitter %s %s", p.Jitter, p.Dist))
	}
	switch p.LossModel.Kind {
	case netem.LossGilbertElliott:
		parts = append(parts, fmt.Sprintf("loss gilbert-elliott p=%g r=%g", p.LossModel.P, p.LossModel.R))
	case netem.LossFourState:
		parts = append(parts, "loss 4-state")
	default:
		if p.Loss > 0 {
			parts = append(parts, fmt.Sprintf("loss %g%%", 100*p.Loss))
		}
	}
	for _, x := range []struct {
		name string
		v    float64
	}{{"duplicate", p.Duplicate}, {"reorder", p.Reorder}, {"corrupt", p.Corrupt}} {
		if x.v > 0 {
			parts = append(parts, fmt.Sprintf("%s %g%%", x.name, 100*x.v))
		}
	}
	if p.Rate > 0 {
		parts = append(parts, fmt.Sprintf("rate %dbit", p.Rate))
	}
	if p.MTU > 0 {
		parts = append(parts, fmt.Sprintf("mtu %d", p.MTU))
	}
	return strings.Join(parts, ", ")
}

// startCapture begins writing a packet capture of the run to path (pcapng: one interface per
// network, LINKTYPE_RAW, virtual nanosecond timestamps; one record per packet per network it
// enters; dropped packets' records carry the drop, translated ones the NAT, as comments) and the
// drops to path.drops.txt, keyed by the frame number of the dropped packet's last record.
func (w *world) startCapture(path string) error {
	pf, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating capture: %w", err)
	}
	df, err := os.Create(path + ".drops.txt")
	if err != nil {
		pf.Close()
		return fmt.Errorf("creating drop list: %w", err)
	}
	if err := w.net.StartCapture(pf, df); err != nil {
		pf.Close()
		df.Close()
		return err
	}
	return nil
}

// finishCapture flushes and closes the capture.
func (w *world) finishCapture() error { return w.net.StopCapture() }
