// Package region is the region simulator's LLUDP side, with OpenSim's behaviour for a login:
// circuits expected by the login service, UseCircuitCode validated by (circuit code, session,
// agent) and acked at once, CompleteAgentMovement answered with RegionHandshake and
// AgentMovementComplete, RegionHandshakeReply, AgentUpdate, pings, the 60 s inactivity
// disconnect, and LogoutRequest → LogoutReply. Log lines use OpenSim's wording so that operators
// recognise them (see shared/docs/reference/protocol.md §2).
//
// Region is sans-IO: the driver hands it datagrams with Receive and a Send function for replies.
package region
