package scenarios

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// gridEvent checks the timeline actions aimed at the grid rather than the network (send_udp,
// restart_region) and returns how many the entry has.
func (c *checker) gridEvent(p string, s *Scenario, e Event, host func(p, name string)) int {
	n := 0
	if u := e.SendUDP; u != nil {
		n++
		host(p+".send_udp.from", u.From)
		if u.To == "" {
			c.add(p+".send_udp.to", "missing: address:port to send to (e.g. 203.0.113.7:9000)")
		} else if _, err := netip.ParseAddrPort(u.To); err != nil {
			c.add(p+".send_udp.to", "%q is not address:port (e.g. 203.0.113.7:9000)", u.To)
		}
		if u.Data == "" {
			c.add(p+".send_udp.data", "missing: the datagram's content, e.g. \"foo\\n\"")
		} else if len(u.Data) > 65507 {
			c.add(p+".send_udp.data", "%d bytes is more than a UDP datagram holds (65507)", len(u.Data))
		}
		if u.Count < 0 {
			c.add(p+".send_udp.count", "%d is negative", u.Count)
		}
		if u.Interval < 0 {
			c.add(p+".send_udp.interval", "%v is negative", u.Interval)
		}
	}
	if d := e.RestartLogin; d != nil {
		n++
		if *d < 0 {
			c.add(p+".restart_login", "%v is negative: give how long the login service is down", *d)
		}
	}
	if e.Restart != "" {
		n++
		names := iniSections(s.Grid.RegionsINI)
		for _, name := range names {
			if strings.EqualFold(name, e.Restart) {
				return n
			}
		}
		if s.Grid.RegionsINI != "" {
			c.add(p+".restart_region", "no region named %q%s", e.Restart, known(names))
		}
	}
	return n
}

// capacity checks the grid's service-time model.
func (c *checker) capacity(p string, k Capacity) {
	for _, n := range []struct {
		key string
		v   int
	}{{"login_workers", k.LoginWorkers}, {"region_udp_buffer", k.RegionUDPBuffer}} {
		if n.v < 0 {
			c.add(p+"."+n.key, "%d is negative", n.v)
		}
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"login_time", k.LoginTime}, {"region_packet_time", k.RegionPacketTime}, {"logout_time", k.LogoutTime}} {
		if d.v < 0 {
			c.add(p+"."+d.key, "%v is negative", d.v)
		}
	}
	if k.LoginTimeSpread < 0 || k.LoginTimeSpread > 1 {
		c.add(p+".login_time_spread", "%v is out of range: a fraction is between 0 and 1", float64(k.LoginTimeSpread))
	}
	if k.LoginWorkers > 0 && k.LoginTime == 0 {
		c.add(p+".login_time", "missing: login_workers needs the time one login takes (e.g. 150ms)")
	}
	if k.RegionUDPBuffer > 0 && k.RegionPacketTime == 0 {
		c.add(p+".region_packet_time", "missing: a receive buffer fills only if each datagram takes time (e.g. 20us)")
	}
}

// regionsFile reads grid.regions_ini_file, relative to the scenario file, into grid.regions_ini
// so that everything after sees the text as if it were inline.
func (c *checker) regionsFile(s *Scenario) {
	f := s.Grid.RegionsINIFile
	if f == "" {
		return
	}
	if strings.TrimSpace(s.Grid.RegionsINI) != "" {
		c.add("grid.regions_ini_file", "give regions_ini (inline) or regions_ini_file, not both")
		return
	}
	path := f
	if !filepath.IsAbs(path) && s.src != nil && s.src.file != "" {
		path = filepath.Join(filepath.Dir(s.src.file), f)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		c.add("grid.regions_ini_file", "cannot read %s: %v", path, errors.Unwrap(err))
		return
	}
	s.Grid.RegionsINI = string(data)
	s.Grid.RegionsINIFile = "" // read: the scenario now carries the text (Set and re-validation see it inline)
}
