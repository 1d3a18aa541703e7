package region

import (
	"net/netip"
	"sort"

	"github.com/google/uuid"

	"gridlab/lab/circuit"
	"gridlab/lab/login"
)

// Read-only views of the region's tables for the lab's invariant checks (lab/invariants.go).

// CircuitInfo is one connected client as the region keeps it.
type CircuitInfo struct {
	Endpoint netip.AddrPort
	Code     uint32
	Agent    uuid.UUID
	Session  uuid.UUID
	Root     bool // completed movement
	// Indexed is false when the client is missing from the by-agent index or another client
	// holds the agent's entry there.
	Indexed bool
	Circuit *circuit.Circuit
}

// Circuits returns the connected clients, by endpoint.
func (r *Region) Circuits() []CircuitInfo {
	out := make([]CircuitInfo, 0, r.clients.Len())
	for ep, cl := range r.clients.All() {
		out = append(out, CircuitInfo{Endpoint: ep, Code: cl.ac.CircuitCode, Agent: cl.ac.AgentID,
			Session: cl.ac.SessionID, Root: cl.root, Indexed: r.byAgent[cl.ac.AgentID] == cl, Circuit: cl.c})
	}
	for _, cl := range r.byAgent { // detached by a rebinding
		if r.clientAt(cl.ep) != cl {
			out = append(out, CircuitInfo{Code: cl.ac.CircuitCode, Agent: cl.ac.AgentID, Session: cl.ac.SessionID, Root: cl.root, Indexed: true, Circuit: cl.c})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if c := out[i].Endpoint.Compare(out[j].Endpoint); c != 0 {
			return c < 0
		}
		return out[i].Code < out[j].Code
	})
	return out
}

// ExpectedCircuits returns the circuits logins announced that are still registered, by code.
func (r *Region) ExpectedCircuits() []login.AgentCircuit {
	out := make([]login.AgentCircuit, 0, len(r.expected))
	for _, ac := range r.expected {
		out = append(out, ac)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CircuitCode < out[j].CircuitCode })
	return out
}

// IndexedAgents returns the size of the by-agent index (one entry per connected agent).
func (r *Region) IndexedAgents() int { return len(r.byAgent) }

// CapsCount returns the number of agents' capability sets the region keeps.
func (r *Region) CapsCount() int { return len(r.caps) }
