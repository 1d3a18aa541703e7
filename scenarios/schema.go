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

	// Path is the file the scenario was loaded from ("" when loaded from bytes).
	Path string `mapstructure:"-"`

	// src records where each key was written, for error messages (nil when built in code).
	src *source `mapstructure:"-"`
}

// Network is one network segment: the internet, an office LAN, a data centre.
type Network struct {
	Name    string        `mapstructure:"name"`
	CIDR    string        `mapstructure:"cidr"`    // e.g. 192.168.1.0/24; the internet may be 0.0.0.0/0
	Latency time.Duration `mapstructure:"latency"` // one-way, per traversal
	Jitter  time.Duration `mapstructure:"jitter"`  // uniform ±jitter, never reorders a path
	Loss    Fraction      `mapstructure:"loss"`    // Bernoulli loss per traversal
	Router  *Router       `mapstructure:"router"`  // gateway to the parent network, nil for the top
}

// Router joins a network to its parent (by default "internet").
type Router struct {
	Parent   string    `mapstructure:"parent"`   // parent network name, default "internet"
	Address  string    `mapstructure:"address"`  // inside address, default first host of the CIDR
	Public   string    `mapstructure:"public"`   // address on the parent network
	NAT      *bool     `mapstructure:"nat"`      // default true
	Hairpin  *bool     `mapstructure:"hairpin"`  // NAT loopback, default true
	Forwards []Forward `mapstructure:"forwards"` // static port forwards for servers inside
}

// Forward is a static port forward: Proto Port on the router's public address goes to To.
type Forward struct {
	Proto string `mapstructure:"proto"` // udp or tcp
	Port  uint16 `mapstructure:"port"`
	To    string `mapstructure:"to"` // inside address:port
}

// Host is a named machine (the grid's servers).
type Host struct {
	Name     string `mapstructure:"name"`
	Network  string `mapstructure:"network"`
	Address  string `mapstructure:"address"`
	Firewall []Rule `mapstructure:"firewall"`
}

// Rule is one firewall rule, evaluated in order; the first match decides. No match allows.
type Rule struct {
	Name   string `mapstructure:"name"`
	Dir    string `mapstructure:"dir"`    // in or out
	Proto  string `mapstructure:"proto"`  // udp, tcp or any (default any)
	Remote string `mapstructure:"remote"` // CIDR of the other end, default any
	Ports  string `mapstructure:"ports"`  // local port or range "9000" / "9000-9010", default any
	Action string `mapstructure:"action"` // allow or drop
}

// Grid is the grid under test.
type Grid struct {
	Mode       string   `mapstructure:"mode"`        // standalone (default)
	Host       string   `mapstructure:"host"`        // host running the login service and regions
	LoginPort  uint16   `mapstructure:"login_port"`  // HTTP port of the login service, default 9000
	RegionsINI string   `mapstructure:"regions_ini"` // Regions.ini text, inline
	Accounts   Accounts `mapstructure:"accounts"`
	Welcome    string   `mapstructure:"welcome"` // login message, default "Welcome to gridlab!"
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
	Profile  string        `mapstructure:"profile"`           // viewer profile, default sl-viewer
}

// Link is a link's impairments.
type Link struct {
	Latency time.Duration `mapstructure:"latency"`
	Jitter  time.Duration `mapstructure:"jitter"`
	Loss    Fraction      `mapstructure:"loss"`
}

// Arrival is when the viewers of a population start: uniformly spread over Window, starting at At.
type Arrival struct {
	At     time.Duration `mapstructure:"at"`
	Window time.Duration `mapstructure:"window"`
}

// Fraction is a probability in [0,1]; the loader accepts "0.5%" and 0.005 alike.
type Fraction float64
