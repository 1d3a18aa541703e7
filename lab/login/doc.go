// Package login is OpenSim's login service as a sans-IO core, plus the viewer-side codec.
//
// Service implements vhttp.Handler. It answers XML-RPC login_to_simulator following
// OpenSim's LLLoginService (shared/docs/reference/protocol.md §3): the same order of checks,
// the same failure reasons and messages, the same log lines (minus secrets: passwords and
// secure session IDs are never logged), start-location parsing, default and fallback regions,
// and telling the destination region to expect the agent (Destination.LaunchAgent, which
// answers through a callback: at once in process in standalone mode, when the region has
// answered in grid mode, where Connector speaks OpenSim's simulation service over HTTP —
// QUERYACCESS, then POST of the agent to /agent/{id}/ — and simulation.go holds both ends'
// JSON codecs). The login reply is written when the destination has answered. It also serves
// GET /get_grid_info, /json_grid_info and /simstatus.
// Requests are decoded by a small encoding/xml methodCall decoder (kolo/xmlrpc has no server
// side) that accepts untyped and empty <value/> elements as real clients send them; replies
// are written by a small encoder in a fixed member order, so a run's bytes are reproducible.
// All randomness (session IDs, circuit codes, caps paths) comes from Config.IDs and no wall
// clock is read.
//
// The viewer side — Request/EncodeRequest and DecodeReply/Reply — uses
// github.com/kolo/xmlrpc with typed structs (never maps, whose member order is random) and
// validates the decoded reply, since that library silently drops struct members that follow
// an empty <value/>.
package login
