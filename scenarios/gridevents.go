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

// capacity checks the grid's service-time model: no negative times, counts of at least one
// where one is given, a spread between 0 and 1, and no key that only matters beside another
// left without it (a model that silently does nothing).
func (c *checker) capacity(p string, k Capacity) {
	for _, n := range []struct {
		key, what string
		v         *int
		def       int
	}{
		{"login_workers", "workers would never answer a login", k.LoginWorkers, 8},
		{"region_udp_buffer", "datagrams of buffer would drop every datagram", k.RegionUDPBuffer, 1024},
	} {
		switch {
		case n.v == nil:
		case *n.v < 0:
			c.add(p+"."+n.key, "%d is negative: give at least 1 (or leave the key out for the default, %d)", *n.v, n.def)
		case *n.v == 0:
			c.add(p+"."+n.key, "0 %s: give at least 1 (or leave the key out for the default, %d)", n.what, n.def)
		}
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"login_time", k.LoginTime}, {"region_packet_time", k.RegionPacketTime}, {"logout_time", k.LogoutTime}} {
		if d.v < 0 {
			c.add(p+"."+d.key, "%v is negative: a time the grid spends is 0 or more", d.v)
		}
	}
	if f := k.LoginTimeSpread; f != nil && (*f < 0 || *f > 1) {
		c.add(p+".login_time_spread", "%v is out of range: a fraction is between 0 and 1 (0%% to 100%%)", float64(*f))
	}
	if k.LoginTime == 0 {
		if k.LoginWorkers != nil {
			c.add(p+".login_time", "missing: login_workers needs the time one login takes (e.g. 150ms), or the login service answers at once")
		} else if k.LoginTimeSpread != nil {
			c.add(p+".login_time", "missing: login_time_spread needs the time one login takes (e.g. 150ms), or the login service answers at once")
		}
	}
	if k.RegionUDPBuffer != nil && k.RegionPacketTime == 0 {
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
