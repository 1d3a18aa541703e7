package login

import "github.com/google/uuid"

// Presence (OpenSim's PresenceService and GridUserService, in memory): who is online with
// which session. The check is opt-in (Config.CheckPresence) so that a simulation in which the
// region never reports logouts keeps working; `gridlab serve` turns it on and wires the
// region's logouts to LogoutAgent.

// MsgAlreadyLoggedIn is OpenSim's AlreadyLoggedInProblem message (reason "presence").
const MsgAlreadyLoggedIn = "You appear to be already logged in. Please wait a a minute or two and retry. If this takes longer than a few minutes please contact the grid owner. "

// Online reports whether the agent has a live session.
func (s *Service) Online(agent uuid.UUID) bool {
	_, ok := s.online[agent]
	return ok
}

// LogoutAgent clears the agent's presence if session is its current session (a stale logout
// from a previous session changes nothing). It reports whether presence changed.
func (s *Service) LogoutAgent(agent, session uuid.UUID) bool {
	if cur, ok := s.online[agent]; !ok || cur != session {
		return false
	}
	delete(s.online, agent)
	s.cfg.Log.Logf("INFO", "[GRID USER SERVICE]: User %s is offline", agent)
	s.cfg.Log.Logf("INFO", "[PRESENCE SERVICE]: LogoutAgent: session %s, user %s", session, agent)
	return true
}

// LogoutAll clears every presence (grid shutdown).
func (s *Service) LogoutAll() {
	clear(s.online)
}
