package scenarios

import (
	"fmt"
	"net/netip"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Defaults filled in by Validate (and so by Load and Parse) when a scenario leaves them out.
const (
	DefaultDuration  = 10 * time.Minute
	DefaultMode      = "standalone"
	DefaultLoginPort = 9000
	// DefaultRegionHTTPPort is a region process's HTTP port in grid mode (OpenSim's default
	// http_listener_port).
	DefaultRegionHTTPPort = 9000
	DefaultWelcome        = "Welcome to gridlab!"
	DefaultParent         = "internet"
	DefaultProfile        = "sl-viewer"
	DefaultStart          = "last"
)

// Profiles are the viewer profiles lab/viewer bundles (kept in step with viewer.Profiles; a lab
// test checks that every name here resolves).
var Profiles = []string{"sl-viewer", "libremetaverse", "node-metaverse"}

// problem is a validation failure at a normalised path.
type problem struct {
	path string
	msg  string
}

// Validate checks what decoding cannot: required values, references between networks, hosts,
// the grid and viewers, addresses inside their networks, and the forms of CIDRs, ports, URIs
// and names. When s is valid it fills in the defaults. Call it after the last Set.
// Router.Address is left empty when not given: it means the first host address of the
// network, which follows the CIDR if that is overridden.
//
// Zero means "default" for Duration (10m), Grid.Mode (standalone), Grid.LoginPort (9000), Grid.RegionHTTPPort (9000),
// Grid.Welcome, Router.Parent ("internet"), Router.NAT and Router.Hairpin (true), Rule.Proto (any), Population.Start (last),
// Population.Valid (1) and Population.Profile (sl-viewer).
func (s *Scenario) Validate() error {
	var errs Errors
	for _, p := range s.check() {
		errs = append(errs, s.src.errAt(p.path, p.msg))
	}
	if len(errs) > 0 {
		return errs.err()
	}
	s.fillDefaults()
	return nil
}

type checker struct {
	probs []problem
}

func (c *checker) add(path, format string, args ...any) {
	c.probs = append(c.probs, problem{path, fmt.Sprintf(format, args...)})
}

func idx(parent string, i int, field string) string {
	p := parent + "." + strconv.Itoa(i)
	if field != "" {
		p += "." + field
	}
	return p
}

// check returns every problem with s; it changes nothing.
func (s *Scenario) check() []problem {
	c := &checker{}
	if strings.TrimSpace(s.Name) == "" {
		c.add("name", "missing: every scenario needs a name")
	}
	if s.Duration < 0 {
		c.add("duration", "%v is negative", s.Duration)
	}

	// Networks.
	nets := map[string]netip.Prefix{}
	netIndex := map[string]int{}
	for i, n := range s.Networks {
		p := idx("networks", i, "")
		if n.Name == "" {
			c.add(p+".name", "missing: every network needs a name")
		} else if j, dup := netIndex[n.Name]; dup {
			c.add(p+".name", "network %q is already defined (networks[%d])", n.Name, j)
		} else {
			netIndex[n.Name] = i
		}
		pfx, ok := c.prefix(p+".cidr", n.CIDR, true)
		if ok && n.Name != "" {
			if _, dup := nets[n.Name]; !dup {
				nets[n.Name] = pfx
			}
		}
		c.link(p, n.Link())
		if n.Up != nil {
			c.link(p+".up", *n.Up)
		}
		if n.Down != nil {
			c.link(p+".down", *n.Down)
		}
	}
	addrs := map[netip.Addr]string{} // addresses taken, and by what
	for i, n := range s.Networks {
		if n.Router == nil {
			continue
		}
		p := idx("networks", i, "router")
		r := n.Router
		parent := r.Parent
		if parent == "" {
			parent = DefaultParent
		}
		ppfx, parentOK := nets[parent]
		switch {
		case parent == n.Name:
			c.add(p+".parent", "a network cannot be its own parent")
			parentOK = false
		case !parentOK:
			if _, named := netIndex[parent]; !named {
				if r.Parent == "" {
					c.add(p+".parent", "missing, and there is no network %q to default to", parent)
				} else {
					c.add(p+".parent", "no network named %q%s", parent, known(netNames(s)))
				}
			}
		}
		if r.Public == "" {
			c.add(p+".public", "missing: the router's address on network %q", parent)
		} else if a, ok := c.addr(p+".public", r.Public); ok {
			if parentOK && !ppfx.Contains(a) {
				c.add(p+".public", "%s is not inside network %q (%s)", a, parent, ppfx)
			}
			c.claim(addrs, p+".public", a, fmt.Sprintf("the public address of network %q's router", n.Name))
		}
		pfx, netOK := nets[n.Name]
		if r.Address != "" {
			if a, ok := c.addr(p+".address", r.Address); ok {
				if netOK && !pfx.Contains(a) {
					c.add(p+".address", "%s is not inside network %q (%s)", a, n.Name, pfx)
				}
				c.claim(addrs, p+".address", a, fmt.Sprintf("the inside address of network %q's router", n.Name))
			}
		} else if netOK && pfx.Bits() > 0 && pfx.Bits() < 32 {
			c.claim(addrs, p+".address", pfx.Addr().Next(), fmt.Sprintf("the inside address of network %q's router (by default the first address)", n.Name))
		}
		seen := map[string]int{}
		for j, f := range r.Forwards {
			fp := idx(p+".forwards", j, "")
			if f.Proto != "udp" && f.Proto != "tcp" {
				c.add(fp+".proto", "%q is not a protocol: use udp or tcp", f.Proto)
			}
			if f.Port == 0 {
				c.add(fp+".port", "missing: the public port to forward (1-65535)")
			}
			key := f.Proto + "/" + strconv.Itoa(int(f.Port))
			if k, dup := seen[key]; dup && f.Port != 0 {
				c.add(fp, "%s port %d is already forwarded (forwards[%d])", f.Proto, f.Port, k)
			}
			seen[key] = j
			ap, err := netip.ParseAddrPort(f.To)
			switch {
			case f.To == "":
				c.add(fp+".to", "missing: the inside address:port (e.g. %s)", example(pfx, netOK))
			case err != nil:
				c.add(fp+".to", "%q is not an address:port (e.g. %s)", f.To, example(pfx, netOK))
			case ap.Port() == 0:
				c.add(fp+".to", "%q: port 0 is not a port", f.To)
			case netOK && !pfx.Contains(ap.Addr()):
				c.add(fp+".to", "%s is not inside network %q (%s)", ap.Addr(), n.Name, pfx)
			}
		}
		c.nat(p, r, n.Name, pfx, netOK)
	}
	// Routers must not form a loop of parents.
	for i, n := range s.Networks {
		cur, steps := n, 0
		for cur.Router != nil && steps <= len(s.Networks) {
			parent := cur.Router.Parent
			if parent == "" {
				parent = DefaultParent
			}
			j, ok := netIndex[parent]
			if !ok || parent == cur.Name {
				break
			}
			cur, steps = s.Networks[j], steps+1
		}
		if steps > len(s.Networks) {
			c.add(idx("networks", i, "router.parent"), "routers form a loop: network %q is inside itself", n.Name)
		}
	}

	// Hosts.
	hosts := map[string]int{}
	for i, h := range s.Hosts {
		p := idx("hosts", i, "")
		if h.Name == "" {
			c.add(p+".name", "missing: every host needs a name")
		} else if j, dup := hosts[h.Name]; dup {
			c.add(p+".name", "host %q is already defined (hosts[%d])", h.Name, j)
		} else {
			hosts[h.Name] = i
		}
		if h.Name == ResolverHostName {
			c.add(p+".name", "%q is the resolver's own host (set dns.resolver to place it)", h.Name)
		}
		onNet := map[string]bool{} // networks the host has an interface on
		if len(h.Interfaces) > 0 {
			if h.Network != "" || h.Address != "" {
				c.add(p+".interfaces", "give either network and address, or interfaces, not both")
			}
			for j, f := range h.Interfaces {
				c.hostAddr(idx(p+".interfaces", j, ""), f, s, nets, netIndex, addrs, fmt.Sprintf("an address of host %q", h.Name))
				onNet[f.Network] = true
			}
		} else {
			c.hostAddr(p, Interface{h.Network, h.Address}, s, nets, netIndex, addrs, fmt.Sprintf("the address of host %q", h.Name))
			onNet[h.Network] = true
		}
		for j, r := range h.Routes {
			rp := idx(p+".routes", j, "")
			if r.To == "" {
				c.add(rp+".to", "missing: the prefix the route is for (e.g. 0.0.0.0/0)")
			} else {
				c.prefix(rp+".to", r.To, false)
			}
			switch {
			case r.Network == "":
				c.add(rp+".network", "missing: the network whose interface the route uses")
			case !onNet[r.Network]:
				var on []string
				for _, f := range h.Interfaces {
					on = append(on, f.Network)
				}
				if len(h.Interfaces) == 0 {
					on = []string{h.Network}
				}
				c.add(rp+".network", "host %q has no interface on network %q%s", h.Name, r.Network, known(on))
			}
		}
		for j, r := range h.Firewall {
			c.rule(idx(p+".firewall", j, ""), r)
		}
	}
	c.dns(s.DNS)
	if r := s.DNS.Resolver; r != nil {
		c.hostAddr("dns.resolver", *r, s, nets, netIndex, addrs, "the resolver's address")
	}
	switch s.TCP.SYNSchedule {
	case "", "classic", "linear":
	default:
		c.add("tcp.syn_schedule", "%q is not a SYN schedule: use classic (127 s) or linear (131 s)", s.TCP.SYNSchedule)
	}
	c.timeline(s, netIndex, hosts)
	c.expect(s)

	// Grid.
	c.regionsFile(s) // regions_ini_file: read into regions_ini (gridevents.go)
	g := s.Grid
	if g.Mode != "" && g.Mode != "standalone" && g.Mode != "grid" {
		c.add("grid.mode", "%q is not a mode: use standalone (one process) or grid (login service and regions talk HTTP)", g.Mode)
	}
	if g.Host == "" {
		c.add("grid.host", "missing: the host that runs the grid%s", known(hostNames(s)))
	} else if _, ok := hosts[g.Host]; !ok {
		c.add("grid.host", "no host named %q%s", g.Host, known(hostNames(s)))
	}
	if strings.TrimSpace(g.RegionsINI) == "" && g.RegionsINIFile == "" {
		c.add("grid.regions_ini", "missing: the Regions.ini text (at least one [Region] section), or regions_ini_file")
	}
	c.gridRegions(s, func(name string) bool { _, ok := hosts[name]; return ok })
	c.capacity("grid.capacity", g.Capacity) // gridevents.go
	pat := g.Accounts.Pattern
	first, last, _ := strings.Cut(pat, " ")
	switch {
	case pat == "":
		c.add("grid.accounts.pattern", `missing: the account names, e.g. "Load Test{n}"`)
	case !strings.Contains(pat, "{n}"):
		c.add("grid.accounts.pattern", `%q has no {n} for the viewer number (e.g. "Load Test{n}")`, pat)
	case first == "" || last == "" || strings.ContainsFunc(first+last, unicode.IsSpace):
		c.add("grid.accounts.pattern", `%q must be a first and a last name separated by one space (e.g. "Load Test{n}")`, pat)
	}
	if g.Accounts.Password == "" {
		c.add("grid.accounts.password", "missing: the accounts' password")
	}

	// Viewers.
	pops := map[string]int{}
	for i, v := range s.Viewers {
		p := idx("viewers", i, "")
		if v.Name == "" {
			c.add(p+".name", "missing: every viewer population needs a name")
		} else if j, dup := pops[v.Name]; dup {
			c.add(p+".name", "population %q is already defined (viewers[%d])", v.Name, j)
		} else {
			pops[v.Name] = i
		}
		if v.Count < 0 {
			c.add(p+".count", "%d is negative", v.Count)
		}
		if v.Network == "" {
			c.add(p+".network", "missing: the network the viewers are on%s", known(netNames(s)))
		} else if _, ok := netIndex[v.Network]; !ok {
			c.add(p+".network", "no network named %q%s", v.Network, known(netNames(s)))
		}
		c.link(p+".home_lan", v.HomeLAN)
		if v.Arrival.At < 0 {
			c.add(p+".arrival.at", "%v is negative", v.Arrival.At)
		}
		if v.Arrival.Window < 0 {
			c.add(p+".arrival.window", "%v is negative", v.Arrival.Window)
		}
		c.arrival(p+".arrival", v.Arrival)
		if v.AgentUpdates != "" {
			if _, err := ParseEventRate(v.AgentUpdates); err != nil {
				c.add(p+".agent_updates", "%v", err)
			}
		}
		if v.Unknown < 0 || v.Unknown > 1 {
			c.add(p+".unknown_avatars", "%v is out of range: a fraction is between 0 and 1", float64(v.Unknown))
		}
		if r := v.Relogin; r != nil {
			if r.After < 0 {
				c.add(p+".relogin.after", "%v is negative", r.After)
			}
			if r.Times < 0 {
				c.add(p+".relogin.times", "%d is negative", r.Times)
			}
		}
		if v.Stay < 0 {
			c.add(p+".stay", "%v is negative", v.Stay)
		}
		c.loginURI(p+".login_uri", v.LoginURI)
		switch {
		case v.Start == "" || v.Start == "last" || v.Start == "home":
		case strings.HasPrefix(v.Start, "uri:") && len(v.Start) > len("uri:"):
		default:
			c.add(p+".start", "%q is not a start location: use last, home or uri:Region&x&y&z", v.Start)
		}
		if v.Valid != nil && !(*v.Valid >= 0 && *v.Valid <= 1) {
			c.add(p+".valid_credentials", "%v is out of range: a fraction is between 0 and 1", float64(*v.Valid))
		}
		if v.Profile != "" && !slices.Contains(Profiles, v.Profile) {
			c.add(p+".profile", "%q is not a viewer profile (known: %s)", v.Profile, strings.Join(Profiles, ", "))
		}
	}
	return c.probs
}

// claim records that address a is used by what, reporting it at p if something has it already.
func (c *checker) claim(addrs map[netip.Addr]string, p string, a netip.Addr, what string) {
	if other, dup := addrs[a]; dup {
		c.add(p, "%s is already %s", a, other)
		return
	}
	addrs[a] = what
}

// link checks a link's impairments.
func (c *checker) link(p string, l Link) {
	if l.Latency < 0 {
		c.add(p+".latency", "%v is negative", l.Latency)
	}
	uniform := l.JitterDist == "" || l.JitterDist == "uniform"
	if l.Jitter < 0 {
		c.add(p+".jitter", "%v is negative", l.Jitter)
	} else if uniform && l.Jitter > l.Latency && l.Latency >= 0 {
		c.add(p+".jitter", "%v is more than the latency (%v): delays would go below zero", l.Jitter, l.Latency)
	}
	if !(l.Loss >= 0 && l.Loss <= 1) {
		c.add(p+".loss", "%v is out of range: a fraction is between 0 and 1", float64(l.Loss))
	}
	switch l.JitterDist {
	case "", "uniform", "normal", "pareto", "paretonormal":
	default:
		c.add(p+".jitter_distribution", "%q is not a distribution: use uniform, normal, pareto or paretonormal", l.JitterDist)
	}
	if l.JitterCorr >= 1 {
		c.add(p+".jitter_correlation", "must be below 100%%: a correlation of 1 never changes")
	}
	if l.LossCorr >= 1 {
		c.add(p+".loss_correlation", "must be below 100%%: a correlation of 1 never changes")
	}
	if m := l.LossModel; m != nil {
		mp := p + ".loss_model"
		if l.Loss > 0 {
			c.add(mp, "give either loss (Bernoulli) or loss_model, not both")
		}
		switch m.Type {
		case "gilbert-elliott":
			if m.P13+m.P31+m.P32+m.P23+m.P14 > 0 {
				c.add(mp, "p13, p31, p32, p23 and p14 belong to the 4-state model, not gilbert-elliott")
			}
			if m.R == 0 && m.P > 0 {
				c.add(mp+".r", "missing: with r = 0 the bad state is never left")
			}
		case "4-state":
			if m.P+m.R+m.GoodLoss > 0 || m.BadLoss != nil {
				c.add(mp, "p, r, bad_loss and good_loss belong to gilbert-elliott, not the 4-state model")
			}
			if m.P13+m.P14 > 1 {
				c.add(mp+".p14", "p13 + p14 is more than 100%%")
			}
			if m.P31+m.P32 > 1 {
				c.add(mp+".p32", "p31 + p32 is more than 100%%")
			}
		case "":
			c.add(mp+".type", "missing: gilbert-elliott or 4-state")
		default:
			c.add(mp+".type", "%q is not a loss model: use gilbert-elliott or 4-state", m.Type)
		}
	}
	if l.ReorderGap < 0 {
		c.add(p+".reorder_gap", "%d is negative", l.ReorderGap)
	}
	if l.Reorder > 0 && l.Latency <= 0 {
		c.add(p+".reorder", "reordering needs a latency for reordered packets to skip")
	}
	if l.Rate != "" {
		if _, ok := ParseRate(l.Rate); !ok {
			c.add(p+".rate", "%q is not a rate: a number with a unit, e.g. 10mbit, 512kbit or 1gbit (kbps, mbps: bytes per second)", l.Rate)
		}
	}
	if l.Queue < 0 {
		c.add(p+".queue", "%d is negative", l.Queue)
	} else if l.Queue > 0 && l.Rate == "" {
		c.add(p+".queue", "a queue needs a rate: packets queue only behind a rate-limited link")
	}
	if l.MTU != 0 && (l.MTU < 68 || l.MTU > 65535) {
		c.add(p+".mtu", "%d is out of range: an IPv4 MTU is between 68 and 65535", l.MTU)
	}
}

// ParseRate parses a link rate as tc writes it (bit, kbit, mbit, gbit; bps, kbps, mbps, gbps
// are bytes per second) and returns bits per second.
func ParseRate(s string) (uint64, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		i++
	}
	x, err := strconv.ParseFloat(s[:i], 64)
	if err != nil || x <= 0 {
		return 0, false
	}
	mult := map[string]float64{"bit": 1, "kbit": 1e3, "mbit": 1e6, "gbit": 1e9,
		"bps": 8, "kbps": 8e3, "mbps": 8e6, "gbps": 8e9}[strings.TrimSpace(s[i:])]
	if mult == 0 || x*mult < 1 || x*mult > 1e12 {
		return 0, false
	}
	return uint64(x * mult), true
}

// nat checks a router's NAT type and configuration.
func (c *checker) nat(p string, r *Router, netName string, pfx netip.Prefix, netOK bool) {
	if r.NAT != nil && !*r.NAT && (r.NATType != "" || r.NATConfig != nil) {
		c.add(p+".nat", "nat is false, but nat_type or nat_config is given")
	}
	switch r.NATType {
	case "", "full-cone", "restricted-cone", "port-restricted", "symmetric", "carrier-grade":
	default:
		c.add(p+".nat_type", "%q is not a NAT type: use full-cone, restricted-cone, port-restricted, symmetric or carrier-grade", r.NATType)
	}
	nc := r.NATConfig
	if nc == nil {
		return
	}
	cp := p + ".nat_config"
	behaviour := func(key, v string, short ...string) {
		switch v {
		case "", "endpoint-independent", "address-dependent", "address-and-port-dependent", short[0], short[1], short[2]:
		default:
			c.add(cp+"."+key, "%q is not a %s behaviour: use endpoint-independent, address-dependent or address-and-port-dependent (%s)", v, key, strings.Join(short, ", "))
		}
	}
	behaviour("mapping", nc.Mapping, "eim", "adm", "apdm")
	behaviour("filtering", nc.Filtering, "eif", "adf", "apdf")
	switch nc.Ports {
	case "", "preserve", "preserve-random", "random":
	default:
		c.add(cp+".ports", "%q is not a port assignment: use preserve, preserve-random or random", nc.Ports)
	}
	if nc.UDPTimeout < 0 {
		c.add(cp+".udp_timeout", "%v is negative", nc.UDPTimeout)
	}
	if nc.TCPTimeout < 0 {
		c.add(cp+".tcp_timeout", "%v is negative", nc.TCPTimeout)
	}
	if nc.MaxMappings < 0 {
		c.add(cp+".max_mappings", "%d is negative", nc.MaxMappings)
	}
	if nc.OneToOne != "" {
		if a, ok := c.addr(cp+".one_to_one", nc.OneToOne); ok && netOK && !pfx.Contains(a) {
			c.add(cp+".one_to_one", "%s is not inside network %q (%s)", a, netName, pfx)
		}
	}
}

// hostAddr checks one interface of a host (or of the resolver) at path p: a known network and
// a free host address inside it.
func (c *checker) hostAddr(p string, f Interface, s *Scenario, nets map[string]netip.Prefix, netIndex map[string]int, addrs map[netip.Addr]string, what string) {
	pfx, netOK := nets[f.Network]
	if f.Network == "" {
		c.add(p+".network", "missing: the network the host is on%s", known(netNames(s)))
	} else if _, named := netIndex[f.Network]; !named {
		c.add(p+".network", "no network named %q%s", f.Network, known(netNames(s)))
	}
	if f.Address == "" {
		c.add(p+".address", "missing: the host's address (e.g. %s)", exampleAddr(pfx, netOK))
	} else if a, ok := c.addr(p+".address", f.Address); ok {
		switch {
		case netOK && !pfx.Contains(a):
			c.add(p+".address", "%s is not inside network %q (%s)", a, f.Network, pfx)
		case netOK && pfx.Bits() > 0 && pfx.Bits() < 31 && (a == pfx.Addr() || a == lastAddr(pfx)):
			c.add(p+".address", "%s is the network's own or broadcast address; use a host address (e.g. %s)", a, exampleAddr(pfx, true))
		}
		c.claim(addrs, p+".address", a, what)
	}
}

// ResolverHostName is the name of the resolver's host (netem.ResolverHostName).
const ResolverHostName = "dns-resolver"

// dns checks the resolver's records.
func (c *checker) dns(d DNS) {
	if d.Delay < 0 {
		c.add("dns.delay", "%v is negative", d.Delay)
	}
	for i, r := range d.Records {
		p := idx("dns.records", i, "")
		switch {
		case r.Name == "":
			c.add(p+".name", "missing: the host name (e.g. grid.example.org)")
		case !validHostname(r.Name):
			c.add(p+".name", "%q is not a host name (letters, digits, '-' and '.')", r.Name)
		}
		if r.Address == "" {
			c.add(p+".address", "missing: the name's IPv4 address")
		} else {
			c.addr(p+".address", r.Address)
		}
	}
}

func validHostname(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// timeline checks the fault timeline: one action per entry, naming networks and hosts that exist.
func (c *checker) timeline(s *Scenario, nets map[string]int, hosts map[string]int) {
	network := func(p, name string) {
		if name == "" {
			c.add(p, "missing: a network name%s", known(netNames(s)))
		} else if _, ok := nets[name]; !ok {
			c.add(p, "no network named %q%s", name, known(netNames(s)))
		}
	}
	host := func(p, name string) {
		if name == "" {
			c.add(p, "missing: a host name%s", known(hostNames(s)))
		} else if _, ok := hosts[name]; !ok {
			c.add(p, "no host named %q%s", name, known(hostNames(s)))
		}
	}
	pair := func(p string, names []string) {
		if len(names) != 2 {
			c.add(p, "give exactly two network names, e.g. [office, internet]")
			return
		}
		network(p+".0", names[0])
		network(p+".1", names[1])
		if names[0] == names[1] && names[0] != "" {
			c.add(p+".1", "a network cannot be partitioned from itself")
		}
	}
	for i, e := range s.Timeline {
		p := idx("timeline", i, "")
		if e.At < 0 {
			c.add(p+".at", "%v is negative", e.At)
		}
		actions := 0
		if e.Link != nil {
			actions++
			network(p+".link.network", e.Link.Network)
			switch e.Link.Direction {
			case "", "both", "up", "down":
			default:
				c.add(p+".link.direction", "%q is not a direction: use up, down or both", e.Link.Direction)
			}
			c.link(p+".link.set", e.Link.Set)
		}
		if e.AddRule != nil {
			actions++
			host(p+".add_rule.host", e.AddRule.Host)
			if e.AddRule.Rule.Name == "" {
				c.add(p+".add_rule.rule.name", "missing: the rule's name (remove_rule refers to it)")
			}
			c.rule(p+".add_rule.rule", e.AddRule.Rule)
		}
		if e.RemoveRule != nil {
			actions++
			host(p+".remove_rule.host", e.RemoveRule.Host)
			if e.RemoveRule.Name == "" {
				c.add(p+".remove_rule.name", "missing: the name of the rule to remove")
			}
		}
		if e.Partition != nil {
			actions++
			pair(p+".partition", e.Partition)
		}
		if e.Heal != nil {
			actions++
			pair(p+".heal", e.Heal)
		}
		if e.HostDown != "" {
			actions++
			host(p+".host_down", e.HostDown)
		}
		if e.HostUp != "" {
			actions++
			host(p+".host_up", e.HostUp)
		}
		if e.FlushNAT != "" {
			actions++
			network(p+".flush_nat", e.FlushNAT)
			if j, ok := nets[e.FlushNAT]; ok {
				if r := s.Networks[j].Router; r == nil || (r.NAT != nil && !*r.NAT) {
					c.add(p+".flush_nat", "network %q has no NAT router", e.FlushNAT)
				}
			}
		}
		if e.Resolver != nil {
			actions++
			if d := e.Resolver.Delay; d != nil && *d < 0 {
				c.add(p+".dns.delay", "%v is negative", *d)
			}
		}
		actions += c.gridEvent(p, s, e, host)
		switch {
		case actions == 0:
			c.add(p, "no action: give one of link, add_rule, remove_rule, partition, heal, host_down, host_up, flush_nat, dns, send_udp, restart_region, restart_login")
		case actions > 1:
			c.add(p, "%d actions in one entry: give one per entry (several entries may share a time)", actions)
		}
	}
}

// prefix parses an IPv4 CIDR; required says whether "" is a problem.
func (c *checker) prefix(p, s string, required bool) (netip.Prefix, bool) {
	if s == "" {
		if required {
			c.add(p, "missing: the network's address range (e.g. 192.168.1.0/24)")
		}
		return netip.Prefix{}, false
	}
	pfx, err := netip.ParsePrefix(s)
	switch {
	case err != nil:
		c.add(p, "%q is not a CIDR (e.g. 192.168.1.0/24)", s)
	case !pfx.Addr().Is4():
		c.add(p, "%q: only IPv4 is supported", s)
	case pfx.Masked() != pfx:
		c.add(p, "%q has host bits set: did you mean %s?", s, pfx.Masked())
	default:
		return pfx, true
	}
	return netip.Prefix{}, false
}

// addr parses an IPv4 address.
func (c *checker) addr(p, s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	switch {
	case err != nil:
		c.add(p, "%q is not an IPv4 address (e.g. 192.168.1.10)", s)
	case !a.Is4():
		c.add(p, "%q: only IPv4 is supported", s)
	default:
		return a, true
	}
	return netip.Addr{}, false
}

func (c *checker) rule(p string, r Rule) {
	if r.Dir != "in" && r.Dir != "out" {
		c.add(p+".dir", "%q is not a direction: use in or out", r.Dir)
	}
	switch r.Proto {
	case "", "any", "udp", "tcp":
	default:
		c.add(p+".proto", "%q is not a protocol: use udp, tcp or any", r.Proto)
	}
	if r.Action != "allow" && r.Action != "drop" && r.Action != "reject" {
		c.add(p+".action", "%q is not an action: use allow, drop or reject", r.Action)
	}
	if r.Remote != "" {
		if pfx, err := netip.ParsePrefix(r.Remote); err != nil || !pfx.Addr().Is4() {
			c.add(p+".remote", "%q is not an IPv4 CIDR (e.g. 203.0.113.0/24)", r.Remote)
		}
	}
	if r.Ports != "" {
		if _, _, ok := ParsePorts(r.Ports); !ok {
			c.add(p+".ports", `%q is not a port or range: use "N" or "N-M" with 1 <= N <= M <= 65535`, r.Ports)
		}
	}
	if r.RemotePorts != "" {
		if _, _, ok := ParsePorts(r.RemotePorts); !ok {
			c.add(p+".remote_ports", `%q is not a port or range: use "N" or "N-M" with 1 <= N <= M <= 65535`, r.RemotePorts)
		}
	}
}

// ParsePorts parses a firewall rule's ports, "9000" or "9000-9010".
func ParsePorts(s string) (lo, hi uint16, ok bool) {
	a, b, isRange := strings.Cut(s, "-")
	if !isRange {
		b = a
	}
	l, err1 := strconv.ParseUint(a, 10, 16)
	h, err2 := strconv.ParseUint(b, 10, 16)
	if err1 != nil || err2 != nil || l == 0 || l > h {
		return 0, 0, false
	}
	return uint16(l), uint16(h), true
}

func (c *checker) loginURI(p, s string) {
	const eg = "(e.g. http://203.0.113.7:9000/)"
	if s == "" {
		c.add(p, "missing: the grid's login URI %s", eg)
		return
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		c.add(p, "%q is not a URL %s", s, eg)
	case u.Scheme != "http":
		c.add(p, "%q is not an http:// URL %s", s, eg)
	case u.Hostname() == "":
		c.add(p, "%q has no host %s", s, eg)
	case u.Port() == "":
		c.add(p, "%q has no port %s", s, eg)
	default:
		if n, err := strconv.Atoi(u.Port()); err != nil || n < 1 || n > 65535 {
			c.add(p, "%q: port %s is out of range", s, u.Port())
		}
	}
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	n := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n |= 1<<(32-p.Bits()) - 1
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}

// example suggests an address:port inside pfx for a message.
func example(pfx netip.Prefix, ok bool) string {
	return exampleAddr(pfx, ok) + ":9000"
}

// exampleAddr suggests an address inside pfx for a message.
func exampleAddr(pfx netip.Prefix, ok bool) string {
	if !ok || pfx.Bits() == 0 || pfx.Bits() >= 31 {
		return "192.168.1.10"
	}
	return pfx.Addr().Next().Next().String()
}

func netNames(s *Scenario) []string {
	var names []string
	for _, n := range s.Networks {
		names = append(names, n.Name)
	}
	return names
}

func hostNames(s *Scenario) []string {
	var names []string
	for _, h := range s.Hosts {
		names = append(names, h.Name)
	}
	return names
}

// known lists the names defined, for a message about a reference to an undefined one.
func known(names []string) string {
	var q []string
	seen := map[string]bool{}
	for _, n := range names {
		if n != "" && !seen[n] {
			seen[n] = true
			q = append(q, n)
		}
	}
	if len(q) == 0 {
		return " (none are defined)"
	}
	return " (defined: " + strings.Join(q, ", ") + ")"
}

// fillDefaults fills in every default; s must be valid.
func (s *Scenario) fillDefaults() {
	yes := func() *bool { b := true; return &b }
	if s.Duration == 0 {
		s.Duration = DefaultDuration
	}
	for i := range s.Networks {
		r := s.Networks[i].Router
		if r == nil {
			continue
		}
		if r.Parent == "" {
			r.Parent = DefaultParent
		}
		if r.NAT == nil {
			r.NAT = yes()
		}
		if r.Hairpin == nil {
			r.Hairpin = yes()
		}
	}
	for i := range s.Hosts {
		for j := range s.Hosts[i].Firewall {
			if s.Hosts[i].Firewall[j].Proto == "" {
				s.Hosts[i].Firewall[j].Proto = "any"
			}
		}
	}
	for i := range s.Timeline {
		e := &s.Timeline[i]
		if e.AddRule != nil && e.AddRule.Rule.Proto == "" {
			e.AddRule.Rule.Proto = "any"
		}
		if e.Link != nil {
			if e.Link.Direction == "" {
				e.Link.Direction = "both"
			}
			s.mergeLink(i, e.Link)
		}
	}
	if s.Grid.Mode == "" {
		s.Grid.Mode = DefaultMode
	}
	if s.Grid.LoginPort == 0 {
		s.Grid.LoginPort = DefaultLoginPort
	}
	if s.Grid.RegionHTTPPort == 0 {
		s.Grid.RegionHTTPPort = DefaultRegionHTTPPort
	}
	if s.Grid.Welcome == "" {
		s.Grid.Welcome = DefaultWelcome
	}
	for i := range s.Viewers {
		v := &s.Viewers[i]
		if v.Start == "" {
			v.Start = DefaultStart
		}
		if v.Valid == nil {
			one := Fraction(1)
			v.Valid = &one
		}
		if v.Profile == "" {
			v.Profile = DefaultProfile
		}
	}
}

// mergeLink fills the keys a timeline link change leaves out with the network's configured
// values for that direction. Keys are "left out" when the file (or --set) did not write them;
// a scenario built in code without a source counts every key as written.
func (s *Scenario) mergeLink(i int, lc *LinkChange) {
	if s.src == nil {
		return
	}
	var base Link
	for _, n := range s.Networks {
		if n.Name != lc.Network {
			continue
		}
		base = n.Link()
		if lc.Direction == "up" && n.Up != nil {
			base = *n.Up
		} else if lc.Direction == "down" && n.Down != nil {
			base = *n.Down
		}
	}
	prefix := "timeline." + strconv.Itoa(i) + ".link.set."
	dst, src := reflect.ValueOf(&lc.Set).Elem(), reflect.ValueOf(base)
	for f := range dst.NumField() {
		key := strings.ToLower(tagKey(dst.Type().Field(f)))
		if key == "" {
			continue
		}
		if s.written(prefix + key) {
			continue
		}
		dst.Field(f).Set(src.Field(f))
	}
}

// written reports whether normalised path p (or a parent) was written in the file or by Set.
func (s *Scenario) written(p string) bool {
	for q := p; q != ""; q = parentPath(q) {
		if _, ok := s.src.loc[q]; ok && q == p {
			return true
		}
		if _, ok := s.src.set[q]; ok {
			return true
		}
	}
	return false
}

// regionFlags are the [GridService] region flags gridlab models; OpenSim knows more.
var regionFlags = []string{"DefaultRegion", "FallbackRegion"}

// otherRegionFlags are OpenSim's other region flags: recognised, not modelled.
var otherRegionFlags = []string{"RegionOnline", "NoDirectLogin", "Persistent", "LockedOut", "NoMove", "Reservation",
	"Authenticate", "Hyperlink", "DefaultHGRegion"}

// ParseRegionFlags reads OpenSim's Region_<name> value ("DefaultRegion, FallbackRegion"):
// names separated by commas or spaces, in any case.
func ParseRegionFlags(v string) (def, fallback bool, err error) {
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
		switch {
		case strings.EqualFold(f, "DefaultRegion"):
			def = true
		case strings.EqualFold(f, "FallbackRegion"):
			fallback = true
		case slices.ContainsFunc(otherRegionFlags, func(o string) bool { return strings.EqualFold(o, f) }):
			return false, false, fmt.Errorf("%q is an OpenSim region flag gridlab does not model: use %s", f, strings.Join(regionFlags, " and/or "))
		default:
			return false, false, fmt.Errorf("%q is not a region flag: use %s (e.g. \"DefaultRegion, FallbackRegion\")", f, strings.Join(regionFlags, " and/or "))
		}
	}
	return def, fallback, nil
}

// iniSections lists the section names of a Regions.ini text (its regions), in order.
func iniSections(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(line)
		if len(t) > 2 && t[0] == '[' && t[len(t)-1] == ']' {
			out = append(out, strings.TrimSpace(t[1:len(t)-1]))
		}
	}
	return out
}

// gridRegions checks grid.regions and the keys only grid mode has.
func (c *checker) gridRegions(s *Scenario, isHost func(string) bool) {
	g := s.Grid
	gridMode := g.Mode == "grid"
	sections := iniSections(g.RegionsINI)
	seen := map[string]int{}
	for i, r := range g.Regions {
		p := idx("grid.regions", i, "")
		switch {
		case r.Name == "":
			c.add(p+".name", "missing: the region's Regions.ini section name%s", known(sections))
		case !slices.Contains(sections, r.Name):
			c.add(p+".name", "no [%s] section in grid.regions_ini%s", r.Name, known(sections))
		default:
			if j, dup := seen[r.Name]; dup {
				c.add(p+".name", "region %q is already listed (grid.regions[%d])", r.Name, j)
			}
			seen[r.Name] = i
		}
		if _, _, err := ParseRegionFlags(r.Flags); err != nil {
			c.add(p+".flags", "%s", err)
		}
		if r.Host != "" {
			if !gridMode {
				c.add(p+".host", "only in grid mode: in standalone every region runs on grid.host (set grid.mode: grid)")
			} else if !isHost(r.Host) {
				c.add(p+".host", "no host named %q%s", r.Host, known(hostNames(s)))
			}
		}
		if r.Offline && !gridMode {
			c.add(p+".offline", "only in grid mode: in standalone the regions run in the login service's process")
		}
	}
}
