package viewer

import (
	"github.com/google/uuid"

	"gridlab/lab/circuit"
)

// Read-only views of a viewer for the lab's invariant checks (lab/invariants.go).

// SessionID returns the session ID of the login reply, or the zero UUID before a successful reply.
func (v *Viewer) SessionID() uuid.UUID {
	if v.reply == nil {
		return uuid.Nil
	}
	return v.reply.SessionID
}

// Circuit returns the viewer's circuit to its region, or nil before the login reply.
func (v *Viewer) Circuit() *circuit.Circuit { return v.c }

// Finished reports whether the viewer has finished (failed, logged out or given up).
func (v *Viewer) Finished() bool { return v.done }

// Decided reports whether the viewer's outcome is known.
func (v *Viewer) Decided() bool { return v.decided }
