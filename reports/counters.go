package reports

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// NetworkReport is the network's counters ("net/..." in Counters) grouped
// for reading. Every "net/" counter lands in exactly one place.
type NetworkReport struct {
	// Totals holds the network-wide counters by protocol or layer, e.g.
	// totals.udp.sent (from "net/udp/sent"), totals.tcp.retransmits.
	Totals map[string]map[string]uint64 `json:"totals"`
	// Drops counts dropped packets by reason ("loss", "firewall", ...), every
	// reason netem knows, zeros included.
	Drops map[string]uint64 `json:"drops"`
	// Rules are the firewall rules with what they decided (hits) and dropped,
	// sorted by rule then host.
	Rules []RuleCounters `json:"rules"`
	// Entities are per-entity counters by kind ("segment", "nat", "link",
	// ...), sorted by name. Numbered families of three or more entities
	// ("home-1" ... "home-500") are summed into one entry named "home-*"
	// whose Members says how many there are.
	Entities map[string][]EntityCounters `json:"entities"`
}

// RuleCounters are one firewall rule's counters.
type RuleCounters struct {
	Rule  string `json:"rule"`
	Host  string `json:"host"`
	Hits  uint64 `json:"hits"`
	Drops uint64 `json:"drops"`
}

// EntityCounters are the counters of one network entity (a segment, a NAT
// router, a link) or of a numbered family of them.
type EntityCounters struct {
	Name     string            `json:"name"`
	Members  int               `json:"members"`
	Counters map[string]uint64 `json:"counters"`
}

// CircuitReport holds LLUDP circuit counters: packets_sent,
// packets_received, bytes_sent, bytes_received, reliable_sent, resent,
// acks_sent, acks_received, duplicates, gave_up (whatever the lab records).
type CircuitReport struct {
	// Viewers is the sum over every viewer's circuit.
	Viewers map[string]uint64 `json:"viewers"`
	// Regions are the sums over each region's circuits, by region name.
	Regions map[string]map[string]uint64 `json:"regions"`
}

// familyMin is the smallest numbered family that is summed into one entry.
const familyMin = 3

// family splits "home-router-17" into ("home-router-", true); names that do
// not end in digits after a non-digit are not part of a family.
func family(name string) (string, bool) {
	i := len(name)
	for i > 0 && name[i-1] >= '0' && name[i-1] <= '9' {
		i--
	}
	if i == len(name) || i == 0 {
		return "", false
	}
	return name[:i], true
}

func addTo(m map[string]uint64, k string, v uint64) { m[k] += v }

// groupNetwork groups the "net/" counters of a report.
func groupNetwork(counters map[string]uint64) NetworkReport {
	nr := NetworkReport{
		Totals:   map[string]map[string]uint64{},
		Drops:    map[string]uint64{},
		Rules:    []RuleCounters{},
		Entities: map[string][]EntityCounters{},
	}
	rules := map[string]*RuleCounters{}
	rule := func(ruleAtHost string) *RuleCounters {
		rc := rules[ruleAtHost]
		if rc == nil {
			r, h, _ := strings.Cut(ruleAtHost, "@")
			rc = &RuleCounters{Rule: r, Host: h}
			rules[ruleAtHost] = rc
		}
		return rc
	}
	// kind → entity → metric → value
	ents := map[string]map[string]map[string]uint64{}
	for name, v := range counters {
		rest, ok := strings.CutPrefix(name, "net/")
		if !ok {
			continue
		}
		parts := strings.Split(rest, "/")
		switch {
		case len(parts) == 2 && parts[0] == "drop":
			addTo(nr.Drops, parts[1], v)
		case len(parts) == 3 && parts[0] == "drop" && parts[1] == "firewall":
			rule(parts[2]).Drops += v
		case len(parts) == 3 && parts[0] == "firewall" && parts[2] == "hits":
			rule(parts[1]).Hits += v
		case len(parts) == 2:
			if nr.Totals[parts[0]] == nil {
				nr.Totals[parts[0]] = map[string]uint64{}
			}
			addTo(nr.Totals[parts[0]], parts[1], v)
		case len(parts) == 3:
			if ents[parts[0]] == nil {
				ents[parts[0]] = map[string]map[string]uint64{}
			}
			if ents[parts[0]][parts[1]] == nil {
				ents[parts[0]][parts[1]] = map[string]uint64{}
			}
			addTo(ents[parts[0]][parts[1]], parts[2], v)
		default:
			if nr.Totals["other"] == nil {
				nr.Totals["other"] = map[string]uint64{}
			}
			addTo(nr.Totals["other"], rest, v)
		}
	}
	for _, rc := range rules {
		nr.Rules = append(nr.Rules, *rc)
	}
	slices.SortFunc(nr.Rules, func(a, b RuleCounters) int {
		return cmp.Or(strings.Compare(a.Rule, b.Rule), strings.Compare(a.Host, b.Host))
	})
	for kind, byName := range ents {
		sizes := map[string]int{}
		for n := range byName {
			if f, ok := family(n); ok {
				sizes[f]++
			}
		}
		groups := map[string]*EntityCounters{}
		for n, ms := range byName {
			key := n
			if f, ok := family(n); ok && sizes[f] >= familyMin {
				key = f + "*"
			}
			g := groups[key]
			if g == nil {
				g = &EntityCounters{Name: key, Counters: map[string]uint64{}}
				groups[key] = g
			}
			g.Members++
			for m, v := range ms {
				g.Counters[m] += v
			}
		}
		list := make([]EntityCounters, 0, len(groups))
		for _, g := range groups {
			list = append(list, *g)
		}
		slices.SortFunc(list, func(a, b EntityCounters) int { return strings.Compare(a.Name, b.Name) })
		nr.Entities[kind] = list
	}
	return nr
}

// groupCircuits collects "viewers/circuit/<m>" and "region/<name>/circuit/<m>".
func groupCircuits(counters map[string]uint64) CircuitReport {
	cr := CircuitReport{Viewers: map[string]uint64{}, Regions: map[string]map[string]uint64{}}
	for name, v := range counters {
		if m, ok := strings.CutPrefix(name, "viewers/circuit/"); ok {
			cr.Viewers[m] += v
			continue
		}
		rest, ok := strings.CutPrefix(name, "region/")
		if !ok {
			continue
		}
		i := strings.LastIndex(rest, "/circuit/")
		if i < 0 || strings.Contains(rest[i+len("/circuit/"):], "/") {
			continue
		}
		rg, m := rest[:i], rest[i+len("/circuit/"):]
		if cr.Regions[rg] == nil {
			cr.Regions[rg] = map[string]uint64{}
		}
		cr.Regions[rg][m] += v
	}
	return cr
}

// itoa is strconv.Itoa, shorter.
func itoa(n int) string { return strconv.Itoa(n) }
