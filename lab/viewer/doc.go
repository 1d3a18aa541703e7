// Package viewer is the synthetic viewer: the login sequence of
// shared/seeds/sl-wiki-login-sequence.txt with a real viewer's timers (a Profile), each stage
// timestamped, and the outcome a user would see.
//
// The sequence: XML-RPC login_to_simulator over HTTP → login reply → UseCircuitCode (reliable,
// resent on the profile's fixed schedule) → its ack → CompleteAgentMovement → RegionHandshake
// (answered with RegionHandshakeReply and a first AgentUpdate) → AgentMovementComplete, the
// moment the user is in world. It then idles with AgentUpdates and pings, and logs out after
// its stay: LogoutRequest, and quits on LogoutReply or after the profile's logout wait.
//
// A Viewer is sans-IO: it acts through the Network and Clock it is handed and never blocks.
package viewer
