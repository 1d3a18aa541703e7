package explore

import (
	"fmt"
	"strings"
	"time"

	"gridlab/lab"
	"gridlab/scenarios"
)

// Shrunk is the outcome of shrinking a failing scenario.
type Shrunk struct {
	Scenario  *scenarios.Scenario
	YAML      []byte         // the scenario file; `gridlab run --invariants` on it replays Violation
	Violation *lab.Violation // the violation of the shrunk scenario
	Runs      int            // runs tried
	Removed   []string       // what was taken out, in order
}

// maxShrinkRuns bounds the runs one shrink may try.
const maxShrinkRuns = 400

// Shrink delta-debugs sc, whose violation has signature sig (Signature): it removes timeline entries (in halves, then
// one by one), populations, viewers (counts), regions, firewall rules, impairments, unused
// networks and hosts, and simplifies populations and the duration, keeping each change after
// which a violation of the same signature still occurs, until no change helps. Every candidate is written with
// scenarios.Marshal and read back with scenarios.Parse before it runs, so the YAML returned is
// exactly what was run.
func Shrink(sc *scenarios.Scenario, sig string) (*Shrunk, error) {
	out := &Shrunk{}
	try := func(c *scenarios.Scenario) (*scenarios.Scenario, []byte, *lab.Violation, bool) {
		if out.Runs >= maxShrinkRuns {
			return nil, nil, nil, false
		}
		data, err := scenarios.Marshal(c)
		if err != nil {
			return nil, nil, nil, false
		}
		p, err := scenarios.Parse(c.Name+".yaml", data)
		if err != nil {
			return nil, nil, nil, false // the change made the scenario invalid
		}
		out.Runs++
		v, _, _ := Check(p)
		if v == nil || Signature(v) != sig {
			return nil, nil, nil, false
		}
		return p, data, v, true
	}
	cur, data, v, ok := try(sc)
	if !ok {
		return nil, fmt.Errorf("explore: shrink: %s does not give %q when written and read back", sc.Name, sig)
	}
	out.Scenario, out.YAML, out.Violation = cur, data, v
	for progress := true; progress && out.Runs < maxShrinkRuns; {
		progress = false
		for _, e := range edits(out.Scenario, out.Violation) {
			c := clone(out.Scenario)
			if !e.apply(c) {
				continue
			}
			if p, data, v, ok := try(c); ok {
				out.Scenario, out.YAML, out.Violation = p, data, v
				out.Removed = append(out.Removed, e.what)
				progress = true
				break // the edits are recomputed for the smaller scenario
			}
		}
	}
	return out, nil
}

// clone deep-copies a scenario through its file form.
func clone(s *scenarios.Scenario) *scenarios.Scenario {
	data, err := scenarios.Marshal(s)
	if err != nil {
		panic(err)
	}
	c, err := scenarios.Parse(s.Name+".yaml", data)
	if err != nil {
		panic(err)
	}
	return c
}

// edit is one candidate simplification; apply reports whether it changed anything.
type edit struct {
	what  string
	apply func(s *scenarios.Scenario) bool
}

// edits lists the simplifications of s, biggest first.
func edits(s *scenarios.Scenario, v *lab.Violation) []edit {
	var es []edit
	// Timeline: chunks of halves, quarters, ... then single entries (ddmin's complements).
	n := len(s.Timeline)
	for size := n; size >= 1; size /= 2 {
		for lo := 0; lo < n; lo += size {
			lo, hi := lo, min(lo+size, n)
			es = append(es, edit{fmt.Sprintf("timeline entries %d-%d", lo, hi-1), func(s *scenarios.Scenario) bool {
				s.Timeline = append(s.Timeline[:lo:lo], s.Timeline[hi:]...)
				return true
			}})
		}
		if size == 1 {
			break
		}
	}
	// Populations, then their sizes and behaviours.
	for i, p := range s.Viewers {
		if len(s.Viewers) > 1 {
			es = append(es, edit{"population " + p.Name, func(s *scenarios.Scenario) bool {
				s.Viewers = append(s.Viewers[:i:i], s.Viewers[i+1:]...)
				return true
			}})
		}
		for _, c := range []int{1, p.Count / 2, p.Count - 1} {
			if c >= 1 && c < p.Count {
				es = append(es, edit{fmt.Sprintf("population %s: count %d", p.Name, c), func(s *scenarios.Scenario) bool {
					s.Viewers[i].Count = c
					return true
				}})
			}
		}
		simplify := []struct {
			what string
			f    func(p *scenarios.Population) bool
		}{
			{"relogin", func(p *scenarios.Population) bool { ch := p.Relogin != nil; p.Relogin = nil; return ch }},
			{"stay", func(p *scenarios.Population) bool { ch := p.Stay != 0; p.Stay = 0; return ch }},
			{"credentials", func(p *scenarios.Population) bool {
				ch := p.Unknown != 0 || (p.Valid != nil && *p.Valid != 1)
				p.Unknown, p.Valid = 0, nil
				return ch
			}},
			{"home NAT", func(p *scenarios.Population) bool {
				ch := p.HomeNAT
				p.HomeNAT, p.HomeLAN = false, scenarios.Link{}
				return ch
			}},
			{"agent updates", func(p *scenarios.Population) bool { ch := p.AgentUpdates != ""; p.AgentUpdates = ""; return ch }},
			{"start", func(p *scenarios.Population) bool { ch := p.Start != "last"; p.Start = "last"; return ch }},
			{"arrival", func(p *scenarios.Population) bool {
				ch := p.Arrival.Process != "burst"
				p.Arrival = scenarios.Arrival{Process: "burst", At: p.Arrival.At}
				return ch
			}},
			{"profile", func(p *scenarios.Population) bool { ch := p.Profile != "sl-viewer"; p.Profile = "sl-viewer"; return ch }},
		}
		for _, sf := range simplify {
			es = append(es, edit{fmt.Sprintf("population %s: %s", p.Name, sf.what), func(s *scenarios.Scenario) bool { return sf.f(&s.Viewers[i]) }})
		}
	}
	// Regions: the last Regions.ini section, with what names it.
	if secs := strings.Split(strings.TrimSpace(s.Grid.RegionsINI), "\n\n"); len(secs) > 1 {
		last := secs[len(secs)-1]
		name := strings.Trim(strings.SplitN(last, "\n", 2)[0], "[] ")
		es = append(es, edit{"region " + name, func(s *scenarios.Scenario) bool {
			s.Grid.RegionsINI = strings.Join(secs[:len(secs)-1], "\n\n") + "\n"
			var keep []scenarios.GridRegion
			for _, r := range s.Grid.Regions {
				if r.Name != name {
					keep = append(keep, r)
				}
			}
			s.Grid.Regions = keep
			for i := range s.Viewers {
				if strings.Contains(s.Viewers[i].Start, name) {
					s.Viewers[i].Start = "last"
				}
			}
			return true
		}})
	}
	// Firewall rules, impairments, networks and hosts nothing uses.
	for h, host := range s.Hosts {
		for r, rule := range host.Firewall {
			es = append(es, edit{fmt.Sprintf("host %s: rule %s", host.Name, rule.Name), func(s *scenarios.Scenario) bool {
				fw := s.Hosts[h].Firewall
				s.Hosts[h].Firewall = append(fw[:r:r], fw[r+1:]...)
				return true
			}})
		}
	}
	for k, net := range s.Networks {
		es = append(es, edit{"network " + net.Name + ": impairments", func(s *scenarios.Scenario) bool {
			n := &s.Networks[k]
			ch := n.Jitter != 0 || n.Loss != 0 || n.LossModel != nil || n.Duplicate != 0 || n.Reorder != 0 || n.Corrupt != 0
			n.Jitter, n.Loss, n.LossModel, n.Duplicate, n.Reorder, n.ReorderGap, n.Corrupt = 0, 0, nil, 0, 0, 0, 0
			n.JitterDist, n.JitterCorr, n.LossCorr = "", 0, 0
			return ch
		}})
		if net.Router != nil {
			es = append(es, edit{"network " + net.Name, func(s *scenarios.Scenario) bool {
				s.Networks = append(s.Networks[:k:k], s.Networks[k+1:]...)
				return true
			}})
		}
	}
	for h, host := range s.Hosts {
		es = append(es, edit{"host " + host.Name, func(s *scenarios.Scenario) bool {
			s.Hosts = append(s.Hosts[:h:h], s.Hosts[h+1:]...)
			return true
		}})
	}
	// Grid capacity, then the duration: just past the violation.
	es = append(es, edit{"grid capacity", func(s *scenarios.Scenario) bool {
		ch := s.Grid.Capacity != scenarios.Capacity{}
		s.Grid.Capacity = scenarios.Capacity{}
		return ch
	}})
	if d := (v.At + time.Second).Truncate(time.Second); d < s.Duration {
		es = append(es, edit{"duration " + d.String(), func(s *scenarios.Scenario) bool {
			s.Duration = d
			for _, e := range s.Timeline {
				if e.At >= d {
					return false
				}
			}
			return true
		}})
	}
	return es
}
