package netem

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"gridlab/sim"
)

// NAT timers.
const (
	// UDPMappingTimeout is how long a UDP mapping lives without outbound traffic
	// (RFC 4787 REQ-5 minimum; Linux nf_conntrack_udp_timeout_stream).
	UDPMappingTimeout = 120 * time.Second
	// TCPTransitoryTimeout is how long a TCP mapping lives once no connection through it is open
	// (RFC 5382 transitory minimum).
	TCPTransitoryTimeout = 240 * time.Second
)

// Forward is a static port forward: OutsideAddr:Port → To for one protocol.
type Forward struct {
	Proto Proto
	Port  uint16
	To    netip.AddrPort
}

// Behavior is a NAT mapping or filtering behaviour (RFC 4787 section 4.1 and 5). The zero value
// means the default: endpoint-independent mapping, address-and-port-dependent filtering.
type Behavior uint8

// NAT behaviours.
const (
	BehaviorDefault      Behavior = iota
	EndpointIndependent           // EIM / EIF
	AddressDependent              // ADM / ADF
	AddressPortDependent          // APDM / APDF
)

var behaviorNames = [...]string{"default", "endpoint-independent", "address-dependent", "address-and-port-dependent"}

// String returns the RFC 4787 name.
func (b Behavior) String() string {
	if int(b) < len(behaviorNames) {
		return behaviorNames[b]
	}
	return fmt.Sprintf("behavior(%d)", b)
}

// ParseBehavior parses "endpoint-independent", "address-dependent", "address-and-port-dependent"
// or the short forms eim/eif, adm/adf, apdm/apdf.
func ParseBehavior(s string) (Behavior, bool) {
	switch s {
	case "endpoint-independent", "eim", "eif":
		return EndpointIndependent, true
	case "address-dependent", "adm", "adf":
		return AddressDependent, true
	case "address-and-port-dependent", "apdm", "apdf":
		return AddressPortDependent, true
	}
	return 0, false
}

// PortAssignment is how a NAT picks a new mapping's external port.
type PortAssignment uint8

// Port assignments. All keep to the internal port's range (1-1023 or 1024-65535, RFC 4787 REQ-3).
const (
	// PortPreserve keeps the internal port when free, else takes the next free one above it
	// (the default; what many home routers do).
	PortPreserve PortAssignment = iota
	// PortPreserveRandom keeps the internal port when free, else a seeded random free one.
	PortPreserveRandom
	// PortRandom always takes a seeded random free port (symmetric and carrier-grade NATs).
	PortRandom
)

// NATOptions are a NAT's behaviours; the zero value is the default home router (port-restricted
// cone with port preservation, UDP 120 s, no table limit).
type NATOptions struct {
	Mapping   Behavior
	Filtering Behavior
	Ports     PortAssignment
	// UDPTimeout is how long a UDP mapping lives without outbound traffic (default 120 s).
	UDPTimeout time.Duration
	// TCPTimeout is how long a TCP mapping lives once no connection through it is open (default
	// 240 s, RFC 5382's transitory timeout); mappings with an open connection do not expire.
	TCPTimeout time.Duration
	// MaxMappings limits the live mappings; a new flow beyond it is dropped with
	// DropNATTableFull. 0 is unlimited.
	MaxMappings int
	// OneToOne, when valid, is an inside address given the whole public address (1:1 NAT): its
	// packets leave with their ports unchanged and anything arriving for the public address that
	// no port forward claims goes to it, unfiltered. Other inside hosts are still translated.
	OneToOne netip.Addr
}

// NATPresets lists the preset names NATPreset knows, in order.
var NATPresets = []string{"full-cone", "restricted-cone", "port-restricted", "symmetric", "carrier-grade"}

// NATPreset returns the options of a named kind of NAT device:
//
//   - full-cone: EIM, EIF, port preservation (then random);
//   - restricted-cone: EIM, ADF, port preservation (then random);
//   - port-restricted: EIM, APDF, port preservation (then random);
//   - symmetric: APDM, APDF, random ports;
//   - carrier-grade (RFC 6888): EIM, APDF, random ports, a 65,536-mapping table.
func NATPreset(name string) (NATOptions, bool) {
	switch name {
	case "full-cone":
		return NATOptions{Mapping: EndpointIndependent, Filtering: EndpointIndependent, Ports: PortPreserveRandom}, true
	case "restricted-cone":
		return NATOptions{Mapping: EndpointIndependent, Filtering: AddressDependent, Ports: PortPreserveRandom}, true
	case "port-restricted":
		return NATOptions{Mapping: EndpointIndependent, Filtering: AddressPortDependent, Ports: PortPreserveRandom}, true
	case "symmetric":
		return NATOptions{Mapping: AddressPortDependent, Filtering: AddressPortDependent, Ports: PortRandom}, true
	case "carrier-grade":
		return NATOptions{Mapping: EndpointIndependent, Filtering: AddressPortDependent, Ports: PortRandom, MaxMappings: 65536}, true
	}
	return NATOptions{}, false
}

// RouterConfig describes a router joining its Inside segment (of which it is the default gateway)
// to its Outside segment.
type RouterConfig struct {
	Name        string
	Inside      *Segment
	InsideAddr  netip.Addr
	Outside     *Segment
	OutsideAddr netip.Addr
	NAT         bool
	Hairpin     bool
	Forwards    []Forward
	NATOptions  NATOptions
}

// Router joins two segments, optionally with NAT (see the package documentation).
type Router struct {
	n           *Network
	name        string
	inside      *Segment
	outside     *Segment
	insideAddr  netip.Addr
	outsideAddr netip.Addr
	nat         bool
	hairpin     bool
	opt         NATOptions
	forwards    []Forward
	fwdByPort   map[portKey]netip.AddrPort
	fwdByTo     map[epKey]uint16
	byInt       map[mapKey]*natMapping
	byExt       map[portKey]*natMapping
	ports       *rand.Rand // PortRandom / PortPreserveRandom choices
	created     uint64
}

type portKey struct {
	proto Proto
	port  uint16
}

type epKey struct {
	proto Proto
	ep    netip.AddrPort
}

type natMapping struct {
	key        mapKey
	proto      Proto
	internal   netip.AddrPort
	ext        uint16
	lastOut    sim.Time           // last outbound packet (UDP expiry)
	lastActive sim.Time           // last packet either way (TCP transitory expiry)
	open       int                // TCP flows established and not closed
	remotes    map[uint64]natFlow // by ap48(remote)
}

// natFlow is the filter entry for one remote; for TCP it also follows the connection.
type natFlow struct {
	established, finOut, finIn, closed bool
}

// AddRouter adds a router. It fails on a duplicate name, missing or identical segments, addresses
// outside their segment or already in use, a second gateway for the Inside segment, or invalid
// forwards (protocol not UDP/TCP, port 0, duplicate protocol+port, To outside the Inside prefix).
func (n *Network) AddRouter(cfg RouterConfig) (*Router, error) {
	if cfg.Name == "" {
		return nil, errors.New("netem: router name is empty")
	}
	if n.nodeNames[cfg.Name] {
		return nil, fmt.Errorf("netem: router %q: duplicate name", cfg.Name)
	}
	in, out := cfg.Inside, cfg.Outside
	if in == nil || out == nil || in.n != n || out.n != n || in == out {
		return nil, fmt.Errorf("netem: router %q: needs two distinct segments of this network", cfg.Name)
	}
	if in.gateway != nil {
		return nil, fmt.Errorf("netem: router %q: segment %s already has gateway %s", cfg.Name, in.name, in.gateway.name)
	}
	if !cfg.InsideAddr.IsValid() || !in.prefix.Contains(cfg.InsideAddr) || !in.addrFree(cfg.InsideAddr) {
		return nil, fmt.Errorf("netem: router %q: inside address %s is outside %s (%s) or in use", cfg.Name, cfg.InsideAddr, in.name, in.prefix)
	}
	if !cfg.OutsideAddr.IsValid() || !out.prefix.Contains(cfg.OutsideAddr) || !out.addrFree(cfg.OutsideAddr) {
		return nil, fmt.Errorf("netem: router %q: outside address %s is outside %s (%s) or in use", cfg.Name, cfg.OutsideAddr, out.name, out.prefix)
	}
	r := &Router{
		n: n, name: cfg.Name, inside: in, outside: out,
		insideAddr: cfg.InsideAddr, outsideAddr: cfg.OutsideAddr,
		nat: cfg.NAT, hairpin: cfg.Hairpin, opt: cfg.NATOptions,
		forwards:  append([]Forward(nil), cfg.Forwards...),
		fwdByPort: map[portKey]netip.AddrPort{},
		fwdByTo:   map[epKey]uint16{},
		byInt:     map[mapKey]*natMapping{},
		byExt:     map[portKey]*natMapping{},
	}
	if r.opt.Mapping == BehaviorDefault {
		r.opt.Mapping = EndpointIndependent
	}
	if r.opt.Filtering == BehaviorDefault {
		r.opt.Filtering = AddressPortDependent
	}
	if r.opt.UDPTimeout <= 0 {
		r.opt.UDPTimeout = UDPMappingTimeout
	}
	if r.opt.TCPTimeout <= 0 {
		r.opt.TCPTimeout = TCPTransitoryTimeout
	}
	if o := r.opt.OneToOne; o.IsValid() && !in.prefix.Contains(o) {
		return nil, fmt.Errorf("netem: router %q: 1:1 NAT address %s is not inside %s (%s)", cfg.Name, o, in.name, in.prefix)
	}
	if r.opt.Ports != PortPreserve {
		r.ports = n.s.Rand("netem/nat/" + cfg.Name + "/ports")
	}
	for i, f := range cfg.Forwards {
		if f.Proto != UDP && f.Proto != TCP {
			return nil, fmt.Errorf("netem: router %q: forward %d: protocol %s", cfg.Name, i, f.Proto)
		}
		if f.Port == 0 || f.To.Port() == 0 {
			return nil, fmt.Errorf("netem: router %q: forward %d: port 0", cfg.Name, i)
		}
		if !f.To.Addr().IsValid() || !in.prefix.Contains(f.To.Addr()) {
			return nil, fmt.Errorf("netem: router %q: forward %d: %s is not inside %s (%s)", cfg.Name, i, f.To, in.name, in.prefix)
		}
		k := portKey{f.Proto, f.Port}
		if _, dup := r.fwdByPort[k]; dup {
			return nil, fmt.Errorf("netem: router %q: forward %d: %s port %d forwarded twice", cfg.Name, i, f.Proto, f.Port)
		}
		r.fwdByPort[k] = f.To
		if _, ok := r.fwdByTo[epKey{f.Proto, f.To}]; !ok {
			r.fwdByTo[epKey{f.Proto, f.To}] = f.Port
		}
	}
	n.nodeNames[cfg.Name] = true
	n.routers = append(n.routers, r)
	n.routerByName[r.name] = r
	in.gateway = r
	in.addNode(cfg.InsideAddr, nil, r)
	out.addNode(cfg.OutsideAddr, nil, r)
	if !cfg.NAT {
		out.transit = append(out.transit, r)
	}
	return r, nil
}

// Name returns the router's name.
func (r *Router) Name() string { return r.name }

// InsideAddr returns the router's address on its Inside segment.
func (r *Router) InsideAddr() netip.Addr { return r.insideAddr }

// OutsideAddr returns the router's address on its Outside segment (the public address with NAT).
func (r *Router) OutsideAddr() netip.Addr { return r.outsideAddr }
