package scenarios

import "time"

// Scenario is one scenario file: the network, the grid under test, and the viewers that use it.
// Field tags are the YAML keys. Durations are strings such as "60s" or "1m30s"; percentages may
// be written "0.5%" or as a fraction (0.005).
type Scenario struct {
	Name        string        `mapstructure:"name"`
	Description string        `mapstructure:"description"`
	Seed        uint64        `mapstructure:"seed"`
	Duration    time.Duration `mapstructure:"duration"` // virtual time limit of the run
	Budget      uint64        `mapstructure:"budget"`   // event budget, 0 = unlimited

	Networks []Network    `mapstructure:"networks"`
	Hosts    []Host       `mapstructure:"hosts"`
	Grid     Grid         `mapstructure:"grid"`
	Viewers  []Population `mapstructure:"viewers"`

	DNS      DNS      `mapstructure:"dns"`      // the network's resolver
	TCP      TCP      `mapstructure:"tcp"`      // TCP stack settings of every host
	Timeline []Event  `mapstructure:"timeline"` // faults carried out at virtual times
	Expect   []Expect `mapstructure:"expect"`   // checks of the run's results (docs/SCENARIOS.md)

	// Path is the file the scenario was loaded from ("" when loaded from bytes).
	Path string `mapstructure:"-"`

	// src records where each key was written, for error messages (nil when built in code).
	src *source `mapstructure:"-"`
}

// Network is one network segment: the internet, an office LAN, a data centre. Its impairment
// keys are those of Link; Up and Down override them for one direction (up: traffic leaving the
// network through its router; down: everything else).
type Network struct {
	Name    string        `mapstructure:"name"`
	CIDR    string        `mapstructure:"cidr"`    // e.g. 192.168.1.0/24; the internet may be 0.0.0.0/0
	Latency time.Duration `mapstructure:"latency"` // one-way, per traversal
	Jitter  time.Duration `mapstructure:"jitter"`  // spread of the delay, never reorders a path
	Loss    Fraction      `mapstructure:"loss"`    // Bernoulli loss per traversal

	JitterDist string     `mapstructure:"jitter_distribution"` // uniform (default), normal, pareto, paretonormal
	JitterCorr Fraction   `mapstructure:"jitter_correlation"`
	LossCorr   Fraction   `mapstructure:"loss_correlation"`
	LossModel  *LossModel `mapstructure:"loss_model"` // instead of loss: gilbert-elliott or 4-state
	Duplicate  Fraction   `mapstructure:"duplicate"`
	Reorder    Fraction   `mapstructure:"reorder"`
	ReorderGap int        `mapstructure:"reorder_gap"`
	Corrupt    Fraction   `mapstructure:"corrupt"`
	Rate       string     `mapstructure:"rate"`  // e.g. 10mbit, 512kbit (tc units; kbps = kilobytes/s)
	Queue      int        `mapstructure:"queue"` // FIFO length in packets when rate-limited, default 1000
	MTU        int        `mapstructure:"mtu"`   // largest IP packet in bytes

	Up   *Link `mapstructure:"up"`   // overrides for traffic leaving through the router
	Down *Link `mapstructure:"down"` // overrides for the other direction

	Router *Router `mapstructure:"router"` // gateway to the parent network, nil for the top
}

// Link returns the network's impairments (both directions unless Up or Down override them).
func (n Network) Link() Link {
	return Link{Latency: n.Latency, Jitter: n.Jitter, Loss: n.Loss, JitterDist: n.JitterDist,
		JitterCorr: n.JitterCorr, LossCorr: n.LossCorr, LossModel: n.LossModel, Duplicate: n.Duplicate,
		Reorder: n.Reorder, ReorderGap: n.ReorderGap, Corrupt: n.Corrupt, Rate: n.Rate, Queue: n.Queue, MTU: n.MTU}
}

// LossModel is a Markov loss model (tc netem's "loss gemodel" and "loss state").
type LossModel struct {
	Type string `mapstructure:"type"` // gilbert-elliott or 4-state
	// gilbert-elliott: p (good→bad), r (bad→good), bad_loss (tc's 1-h, default 100%),
	// good_loss (tc's 1-k, default 0).
	P        Fraction  `mapstructure:"p"`
	R        Fraction  `mapstructure:"r"`
	BadLoss  *Fraction `mapstructure:"bad_loss"`
	GoodLoss Fraction  `mapstructure:"good_loss"`
	// 4-state: transition probabilities between 1 (gap, received), 2 (burst, received), 3
	// (burst, lost) and 4 (isolated loss).
	P13 Fraction `mapstructure:"p13"`
	P31 Fraction `mapstructure:"p31"`
	P32 Fraction `mapstructure:"p32"`
	P23 Fraction `mapstructure:"p23"`
	P14 Fraction `mapstructure:"p14"`
}

// Router joins a network to its parent (by default "internet").
type Router struct {
	Parent   string    `mapstructure:"parent"`   // parent network name, default "internet"
	Address  string    `mapstructure:"address"`  // inside address, default first host of the CIDR
	Public   string    `mapstructure:"public"`   // address on the parent network
	NAT      *bool     `mapstructure:"nat"`      // default true
	Hairpin  *bool     `mapstructure:"hairpin"`  // NAT loopback, default true
	Forwards []Forward `mapstructure:"forwards"` // static port forwards for servers inside

	// NATType names a kind of NAT device: full-cone, restricted-cone, port-restricted, symmetric
	// or carrier-grade. Empty: a home router (port-restricted, ports kept else the next free one).
	NATType   string     `mapstructure:"nat_type"`
	NATConfig *NATConfig `mapstructure:"nat_config"` // overrides on top of NATType
}

// NATConfig sets a NAT's behaviours one by one (RFC 4787 / 5382).
type NATConfig struct {
	Mapping     string        `mapstructure:"mapping"`      // endpoint-independent (eim), address-dependent (adm), address-and-port-dependent (apdm)
	Filtering   string        `mapstructure:"filtering"`    // the same names (eif, adf, apdf)
	Ports       string        `mapstructure:"ports"`        // preserve, preserve-random or random
	UDPTimeout  time.Duration `mapstructure:"udp_timeout"`  // idle UDP mapping lifetime, default 120s
	TCPTimeout  time.Duration `mapstructure:"tcp_timeout"`  // after a mapping's last TCP connection closed, default 240s
	MaxMappings int           `mapstructure:"max_mappings"` // table size; new flows beyond it are dropped
	OneToOne    string        `mapstructure:"one_to_one"`   // inside address given the whole public address
}

// Forward is a static port forward: Proto Port on the router's public address goes to To.
type Forward struct {
	Proto string `mapstructure:"proto"` // udp or tcp
	Port  uint16 `mapstructure:"port"`
	To    string `mapstructure:"to"` // inside address:port
}

// Host is a named machine (the grid's servers).
type Host struct {
	Name    string `mapstructure:"name"`
	Network string `mapstructure:"network"` // the host's one network; or use interfaces
	Address string `mapstructure:"address"` // its address there
	// Interfaces instead of network and address: every network the host is on with its address
	// there (two entries may share a network: two addresses on one LAN). The first is the
	// primary interface: the grid's address and the default route.
	Interfaces []Interface `mapstructure:"interfaces"`
	// Routes: which interface reaches which prefix; the most specific prefix wins (a route over
	// an interface's own network on a tie), and the primary interface is the default route.
	Routes   []HostRoute `mapstructure:"routes"`
	Firewall []Rule      `mapstructure:"firewall"`
	// Conntrack makes the firewall stateful: packets of flows it allowed, either way, pass.
	Conntrack bool `mapstructure:"conntrack"`
}

// Interface is one of a host's addresses on a network.
type Interface struct {
	Network string `mapstructure:"network"`
	Address string `mapstructure:"address"`
}

// HostRoute sends traffic for a prefix out of the host's interface on a network (directly
// inside that network's CIDR, else through its router).
type HostRoute struct {
	To      string `mapstructure:"to"`      // CIDR, e.g. 198.51.100.0/24 or 0.0.0.0/0 (default route)
	Network string `mapstructure:"network"` // a network the host has an interface on
}

// Rule is one firewall rule, evaluated in order; the first match decides. No match allows.
type Rule struct {
	Name        string `mapstructure:"name"`
	Dir         string `mapstructure:"dir"`          // in or out
	Proto       string `mapstructure:"proto"`        // udp, tcp or any (default any)
	Remote      string `mapstructure:"remote"`       // CIDR of the other end, default any
	Ports       string `mapstructure:"ports"`        // local port or range "9000" / "9000-9010", default any
	RemotePorts string `mapstructure:"remote_ports"` // the other end's port or range, default any
	Action      string `mapstructure:"action"`       // allow, drop (silently) or reject (TCP RST / ICMP port unreachable)
}

// Grid is the grid under test.
type Grid struct {
	// Mode is standalone (default: one process runs the login service and the regions, which
	// it tells of logins in process) or grid (the login service asks each region's process over
	// HTTP: QUERYACCESS, then POST of the agent, 30 s timeout each, as OpenSim's ROBUST does).
	Mode       string `mapstructure:"mode"`
	Host       string `mapstructure:"host"`        // host running the login service (and, in standalone, the regions)
	LoginPort  uint16 `mapstructure:"login_port"`  // HTTP port of the login service, default 9000
	RegionsINI string `mapstructure:"regions_ini"` // Regions.ini text, inline
	// RegionsINIFile is a Regions.ini file instead, relative to the scenario file's directory.
	RegionsINIFile string   `mapstructure:"regions_ini_file"`
	Accounts       Accounts `mapstructure:"accounts"`
	Welcome        string   `mapstructure:"welcome"` // login message, default "Welcome to gridlab!"
	// Regions says, per Regions.ini section, what the grid service knows of the region and (grid
	// mode) where its process runs. Regions not listed run on Host; without any DefaultRegion
	// the first region is the default.
	Regions []GridRegion `mapstructure:"regions"`
	// RegionHTTPPort is the region processes' HTTP port in grid mode (OpenSim's
	// http_listener_port: the agent endpoint and the capabilities), default 9000. A standalone
	// grid serves everything on LoginPort and ignores it.
	RegionHTTPPort uint16 `mapstructure:"region_http_port"`
	// Capacity models how much work the grid's machines can do (zero: unlimited).
	Capacity Capacity `mapstructure:"capacity"`
}

// Capacity is the grid's service-time model: the login service's workers and cost per login,
// and each region's UDP receive buffer and cost per inbound datagram.
//
// The keys with defaults are pointers so that a value given is told from one left out: a
// spread of 0 % is a fixed service time, not the default, and 0 workers or a 0-datagram buffer
// is an error rather than the default (lab/capacity.go applies the defaults).
type Capacity struct {
	LoginWorkers     *int          `mapstructure:"login_workers"`      // logins handled at once (at least 1), default 8 when login_time is set
	LoginTime        time.Duration `mapstructure:"login_time"`         // mean time one login occupies a worker
	LoginTimeSpread  *Fraction     `mapstructure:"login_time_spread"`  // ± uniform spread around login_time (0 %: fixed), default 50%
	RegionPacketTime time.Duration `mapstructure:"region_packet_time"` // time a region spends on one inbound datagram
	RegionUDPBuffer  *int          `mapstructure:"region_udp_buffer"`  // datagrams a region's socket queues (at least 1), default 1024 when region_packet_time is set
	LogoutTime       time.Duration `mapstructure:"logout_time"`        // a region's teardown after a logout, before it tells presence
}

// GridRegion is one region as the grid service and the operator see it.
type GridRegion struct {
	Name string `mapstructure:"name"` // its Regions.ini section name
	// Flags is OpenSim's [GridService] Region_<name> value: "DefaultRegion", "FallbackRegion"
	// or both ("DefaultRegion, FallbackRegion").
	Flags string `mapstructure:"flags"`
	Host  string `mapstructure:"host"` // grid mode: the host running the region's process, default grid.host
	// Offline (grid mode): the region is registered with the grid service but its process is not
	// running, so nothing answers on its HTTP or UDP port.
	Offline bool `mapstructure:"offline"`
}

// Accounts describes the avatars the grid knows.
type Accounts struct {
	Pattern  string `mapstructure:"pattern"`  // "Load Test{n}": first and last name; {n} is the viewer number
	Password string `mapstructure:"password"` // the same password for every account
}

// Population is a group of viewers with the same placement and behaviour.
type Population struct {
	Name     string        `mapstructure:"name"`
	Count    int           `mapstructure:"count"`
	Network  string        `mapstructure:"network"`  // network the viewers live on
	HomeNAT  bool          `mapstructure:"home_nat"` // each viewer behind its own home router on Network
	HomeLAN  Link          `mapstructure:"home_lan"` // the home LAN's link when HomeNAT
	Arrival  Arrival       `mapstructure:"arrival"`
	LoginURI string        `mapstructure:"login_uri"`         // e.g. http://203.0.113.7:9000/
	Start    string        `mapstructure:"start"`             // last (default), home, or uri:Region&x&y&z
	Stay     time.Duration `mapstructure:"stay"`              // time in world before logging out, 0 = until the end
	Valid    *Fraction     `mapstructure:"valid_credentials"` // fraction with the right password, default 1
	Unknown  Fraction      `mapstructure:"unknown_avatars"`   // fraction whose avatar the grid does not have
	Profile  string        `mapstructure:"profile"`           // viewer profile, default sl-viewer
	// AgentUpdates is how often a viewer in world sends AgentUpdate, e.g. "1/s" or "0.5/s";
	// "0" sends none; empty keeps the profile's rate.
	AgentUpdates string `mapstructure:"agent_updates"`
	// Relogin logs the same avatar in again after each session ends (logged out or failed).
	Relogin *Relogin `mapstructure:"relogin"`
	// SeedCaps makes viewers POST the seed capability while the circuit comes up, as real
	// viewers do (default true); the region sends the world (ObjectUpdate) only after it.
	SeedCaps *bool `mapstructure:"seed_caps"`
}

// Relogin is a population's relogin behaviour.
type Relogin struct {
	After time.Duration `mapstructure:"after"` // pause between the end of one session and the next login
	Times int           `mapstructure:"times"` // logins after the first, default 1
	// Retry relogs only after a failed login (a user trying again), not after a logout.
	OnlyFailed bool `mapstructure:"only_failed"`
}

// Link is a link's impairments (see Network for the keys' meaning).
type Link struct {
	Latency    time.Duration `mapstructure:"latency"`
	Jitter     time.Duration `mapstructure:"jitter"`
	Loss       Fraction      `mapstructure:"loss"`
	JitterDist string        `mapstructure:"jitter_distribution"`
	JitterCorr Fraction      `mapstructure:"jitter_correlation"`
	LossCorr   Fraction      `mapstructure:"loss_correlation"`
	LossModel  *LossModel    `mapstructure:"loss_model"`
	Duplicate  Fraction      `mapstructure:"duplicate"`
	Reorder    Fraction      `mapstructure:"reorder"`
	ReorderGap int           `mapstructure:"reorder_gap"`
	Corrupt    Fraction      `mapstructure:"corrupt"`
	Rate       string        `mapstructure:"rate"`
	Queue      int           `mapstructure:"queue"`
	MTU        int           `mapstructure:"mtu"`
}

// DNS is the network's resolver.
type DNS struct {
	Records     []DNSRecord   `mapstructure:"records"`
	Delay       time.Duration `mapstructure:"delay"`       // the resolver's own answer time, default 1ms
	Unreachable bool          `mapstructure:"unreachable"` // its host is down: lookups time out (after 10 s)
	// Resolver is where the resolver host ("dns-resolver", UDP port 53) lives. Default: on the
	// top network (the first without a router) at 192.0.2.53, or that network's 53rd address
	// when 192.0.2.53 is outside it.
	Resolver *Interface `mapstructure:"resolver"`
}

// DNSRecord gives a name an address (a name may have several records).
type DNSRecord struct {
	Name    string `mapstructure:"name"`
	Address string `mapstructure:"address"`
}

// TCP holds TCP stack settings.
type TCP struct {
	// SYNSchedule is classic (default: 1 s doubling, 6 retries, connect fails at 127 s) or
	// linear (Linux >= 6.5 with tcp_syn_linear_timeouts: fails at 131 s).
	SYNSchedule string `mapstructure:"syn_schedule"`
}

// Event is one timeline entry: at a virtual time, exactly one of its actions.
type Event struct {
	At         time.Duration  `mapstructure:"at"`
	Link       *LinkChange    `mapstructure:"link"`           // change a network's impairments
	AddRule    *RuleChange    `mapstructure:"add_rule"`       // append a firewall rule to a host
	RemoveRule *RuleRef       `mapstructure:"remove_rule"`    // remove a host's rule by name
	Partition  []string       `mapstructure:"partition"`      // two network names: cut every path between them
	Heal       []string       `mapstructure:"heal"`           // two network names: undo a partition
	HostDown   string         `mapstructure:"host_down"`      // take a host off the network
	HostUp     string         `mapstructure:"host_up"`        // bring it back
	FlushNAT   string         `mapstructure:"flush_nat"`      // a network name: forget its router's NAT mappings
	Resolver   *ResolverState `mapstructure:"dns"`            // change the resolver
	SendUDP    *SendUDP       `mapstructure:"send_udp"`       // a host sends datagrams (e.g. garbage to a region)
	Restart    string         `mapstructure:"restart_region"` // a region's process restarts: its circuits are lost
	// RestartLogin crashes the login service's process; it listens again after this long.
	RestartLogin *time.Duration `mapstructure:"restart_login"`
}

// SendUDP makes host From send Count datagrams of Data to To, Interval apart (the lab's
// "echo foo | nc -u host 9000").
type SendUDP struct {
	From     string        `mapstructure:"from"`     // a host name
	To       string        `mapstructure:"to"`       // address:port
	Data     string        `mapstructure:"data"`     // the payload, as text
	Count    int           `mapstructure:"count"`    // default 1
	Interval time.Duration `mapstructure:"interval"` // between datagrams, default 1s
}

// LinkChange sets impairments of a network. Keys of Set left out keep the values the network
// was configured with (for that direction).
type LinkChange struct {
	Network   string `mapstructure:"network"`
	Direction string `mapstructure:"direction"` // up, down or both (default)
	Set       Link   `mapstructure:"set"`
}

// RuleChange adds Rule to Host's firewall (at the end).
type RuleChange struct {
	Host string `mapstructure:"host"`
	Rule Rule   `mapstructure:"rule"`
}

// RuleRef names a host's firewall rule.
type RuleRef struct {
	Host string `mapstructure:"host"`
	Name string `mapstructure:"name"`
}

// ResolverState changes the resolver; keys left out are unchanged.
type ResolverState struct {
	Delay       *time.Duration `mapstructure:"delay"`
	Unreachable *bool          `mapstructure:"unreachable"`
}

// Expect is one expectation checked after the run, in the style of k6 thresholds. Its kind is
// given by the key it has (see docs/SCENARIOS.md):
//
//	{outcome: success, count: 20}                         viewers with an outcome: count, min and/or max
//	{stage: movement_complete, threshold: "p(99) < 5s"}   a stage's p(N), min, max or avg
//	{rate: success, threshold: "> 0.99"}                  the fraction of viewers with an outcome
//	{message: "trouble connecting", outcome: X, after: 19s, before: 21s}
//	                                                      every viewer with outcome X saw the text, decided in the window
//	{log: "Ignoring a repeated UseCircuitCode", min: 1}   grid log lines containing the text: count, min and/or max
//	{diagnosis: nat-loopback-unsupported, min: 1}         viewers diagnosed with the mode (plus grid findings): count, min and/or max
//	{counter: "region/My Region/use_circuit_code", count: 0}  a report.json counter: count, min and/or max
type Expect struct {
	Outcome   string         `mapstructure:"outcome"`   // an outcome id or "success"
	Stage     string         `mapstructure:"stage"`     // a stage id (login_reply ... first_object_update)
	Rate      string         `mapstructure:"rate"`      // an outcome id or "success"
	Message   string         `mapstructure:"message"`   // text the viewers' message contains
	Log       string         `mapstructure:"log"`       // text grid log lines contain
	Diagnosis string         `mapstructure:"diagnosis"` // a failure-mode id the lab diagnosed
	Counter   string         `mapstructure:"counter"`   // a report.json counter by name
	Threshold string         `mapstructure:"threshold"` // stage: "p(99) < 5s"; rate: "> 0.99" or "> 99%"
	Count     *int           `mapstructure:"count"`     // exactly this many (outcome, log)
	Min       *int           `mapstructure:"min"`       // at least (outcome, log)
	Max       *int           `mapstructure:"max"`       // at most (outcome, log)
	After     *time.Duration `mapstructure:"after"`     // message: decided at least this long after the viewer's start
	Before    *time.Duration `mapstructure:"before"`    // message: decided at most this long after the viewer's start
}

// Arrival is when the viewers of a population start, from At on:
//
//	uniform   (default) each at a random time in [At, At+Window)
//	constant  evenly spaced over Window, or Rate per second when Window is not given
//	poisson   exponential gaps with mean 1/Rate (Rate defaults to count/Window)
//	ramp      the arrival rate grows linearly from 0 over Window (most arrive late)
//	burst     all at At
type Arrival struct {
	Process string        `mapstructure:"process"`
	At      time.Duration `mapstructure:"at"`
	Window  time.Duration `mapstructure:"window"`
	Rate    string        `mapstructure:"rate"` // "50/s", "3000/m"
}

// Fraction is a probability in [0,1]; the loader accepts "0.5%" and 0.005 alike.
type Fraction float64
