package region

import (
	"net/netip"
	"sort"

	"gridlab/lab/login"
)

// Restart is the region's process being restarted (a crash and start, or an operator's
// restart) between two packets: everything it kept in memory is gone — circuits, the circuits
// logins announced (expected circuits), agents and their capabilities. A dead process says
// nothing, so no DisableSimulator or KillObject goes out; viewers learn of it only when their
// packets meet a region that no longer knows them (unknown circuit code, orphan packets).
// Counters survive: they are the lab's, not the process's.
func (r *Region) Restart() {
	circuits, expected := r.clients.Len(), len(r.expected)
	// What the process hosted, for the grid's presence once it is back (OpenSim's region calls
	// PresenceService.LogoutRegionAgents when it starts).
	lost := map[uint32]login.AgentCircuit{}
	for _, cl := range r.clients.All() {
		lost[cl.ac.CircuitCode] = cl.ac
	}
	for code, ac := range r.expected {
		lost[code] = ac
	}
	for code, t := range r.expiry {
		t.Stop()
		delete(r.expiry, code)
	}
	for _, cl := range r.byAgent { // detached clients (rebinding) too
		if r.clientAt(cl.ep) != cl {
			r.stats.Circuit.Add(cl.c.Stats())
			cl.c.Close()
			cl.pingTimer.Stop()
			cl.idleTimer.Stop()
			lost[cl.ac.CircuitCode] = cl.ac
		}
	}
	eps := make([]netip.AddrPort, 0, r.clients.Len())
	for ep, cl := range r.clients.All() {
		cl.visible = false // no KillObject to the others: they vanish together
		eps = append(eps, ep)
	}
	sort.Slice(eps, func(i, j int) bool { return eps[i].Compare(eps[j]) < 0 })
	for _, ep := range eps {
		cl := r.clientAt(ep)
		r.stats.Circuit.Add(cl.c.Stats())
		cl.c.Close()
		cl.pingTimer.Stop()
		cl.idleTimer.Stop()
		r.clients.Delete(ep)
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
	clear(r.codesOf)
	clear(r.byAgent)
	r.malformed = 0
	r.cfg.Log.Logf("WARN", "[GRIDLAB]: Region %s restarted: %d circuits and %d expected circuits lost", r.cfg.Name, circuits, expected)
	r.cfg.Log.Logf("INFO", "[REGIONINFO]: Loading region %s (%s) at %d,%d", r.cfg.Name, r.cfg.ID, r.cfg.X, r.cfg.Y)
	r.cfg.Log.Logf("INFO", "[LLUDPSERVER]: Starting inbound packet processing for the LLUDP server")
	r.cfg.Log.Logf("INFO", "[LLUDPSERVER]: Starting outbound packet processing for the LLUDP server")
	r.cfg.Log.Logf("INFO", "[SCENE]: Region %s is ready to accept logins", r.cfg.Name)
	codes := make([]uint32, 0, len(lost))
	for c := range lost {
		codes = append(codes, c)
	}
	sort.Slice(codes, func(i, j int) bool { return codes[i] < codes[j] })
	if r.cfg.OnLeave != nil {
		for _, c := range codes {
			r.cfg.OnLeave(lost[c], "restart")
		}
	}
}
