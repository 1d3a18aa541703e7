package region

import (
	"net/netip"
	"sort"
)

// Restart is the region's process being restarted (a crash and start, or an operator's
// restart) between two packets: everything it kept in memory is gone — circuits, the circuits
// logins announced (expected circuits), agents and their capabilities. A dead process says
// nothing, so no DisableSimulator or KillObject goes out; viewers learn of it only when their
// packets meet a region that no longer knows them (unknown circuit code, orphan packets).
// Counters survive: they are the lab's, not the process's.
func (r *Region) Restart() {
	circuits, expected := len(r.clients), len(r.expected)
	eps := make([]netip.AddrPort, 0, len(r.clients))
	for ep, cl := range r.clients {
		cl.visible = false // no KillObject to the others: they vanish together
		eps = append(eps, ep)
	}
	sort.Slice(eps, func(i, j int) bool { return eps[i].Compare(eps[j]) < 0 })
	for _, ep := range eps {
		cl := r.clients[ep]
		r.stats.Circuit.Add(cl.c.Stats())
		cl.c.Close()
		cl.pingTimer.Stop()
		cl.idleTimer.Stop()
		delete(r.clients, ep)
		delete(r.byAgent, cl.ac.AgentID)
	}
	paths := make([]string, 0, len(r.caps))
	for p := range r.caps {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		r.closeCaps(r.caps[p])
	}
	clear(r.expected)
	clear(r.byAgent)
	r.malformed = 0
	r.cfg.Log.Logf("WARN", "[GRIDLAB]: Region %s restarted: %d circuits and %d expected circuits lost", r.cfg.Name, circuits, expected)
	r.cfg.Log.Logf("INFO", "[REGIONINFO]: Loading region %s (%s) at %d,%d", r.cfg.Name, r.cfg.ID, r.cfg.X, r.cfg.Y)
	r.cfg.Log.Logf("INFO", "[LLUDPSERVER]: Starting inbound packet processing for the LLUDP server")
	r.cfg.Log.Logf("INFO", "[LLUDPSERVER]: Starting outbound packet processing for the LLUDP server")
	r.cfg.Log.Logf("INFO", "[SCENE]: Region %s is ready to accept logins", r.cfg.Name)
}
