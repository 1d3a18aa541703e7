package login

import (
	"bytes"
	"sort"

	"github.com/google/uuid"
)

// Read-only views of the login service's tables for the lab's invariant checks
// (lab/invariants.go).

// Presence is one online agent and its session.
type Presence struct {
	Agent, Session uuid.UUID
}

// Presences returns the agents the service has online, by agent ID.
func (s *Service) Presences() []Presence {
	out := make([]Presence, 0, len(s.online))
	for a, sess := range s.online {
		out = append(out, Presence{Agent: a, Session: sess})
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i].Agent[:], out[j].Agent[:]) < 0 })
	return out
}

// IssuedCircuitCodes returns how many circuit codes the service remembers having issued.
func (s *Service) IssuedCircuitCodes() int { return len(s.issued) }
