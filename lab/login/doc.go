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
// XML-RPC is read with our own scanner (xmlscan.go), which works on the body in place with
// no per-token allocation and accepts exactly the documents encoding/xml did (UTF-8, or
// ISO-8859-1/US-ASCII when declared; entities, character references, CDATA, comments,
// processing instructions and directives; end tags checked; invalid UTF-8 rejected), with
// errors that give the line and byte offset and what was expected, and element nesting
// bounded. On it, decodeMethodCall reads requests (kolo/xmlrpc has no server side), accepting
// untyped and empty <value/> elements as real clients send them. Replies are written by a
// small encoder in a fixed member order, so a run's bytes are reproducible.
// All randomness (session IDs, circuit codes, caps paths) comes from Config.IDs and no wall
// clock is read. The inventory skeleton's folder IDs are name-based UUIDs under the agent ID,
// computed for each reply rather than kept per agent.
//
// The viewer side — Request/EncodeRequest and DecodeReply/Reply — writes requests with the
// same encoder, byte for byte as github.com/kolo/xmlrpc's EncodeMethodCall wrote them (traces
// hash those bytes), and reads replies on the scanner, taking the members a viewer acts on
// and only checking that the rest is well formed; XML-RPC faults are still decoded by
// kolo/xmlrpc. The reply is validated after decoding (IDs, circuit code, address, port,
// inventory root).
//
// The implementations these replaced are kept in the tests as oracles: the encoding/xml
// methodCall decoder (oracle_call_test.go) and the kolo/xmlrpc encoder and decoder
// (oracle_kolo_test.go). Differential fuzz targets (FuzzDecodeMethodCallMatchesOracle,
// FuzzDecodeReplyMatchesKolo) and TestEncodeRequestMatchesKolo hold the new code to them, and
// the benchmarks in bench_codec_test.go run old and new side by side. The reply decoder
// deliberately differs from kolo/xmlrpc where that was wrong: it does not drop the members
// that follow an empty <value/>, keeps all of a text split by comments or CDATA rather than
// its first piece, and does not give a <member> without <value> the next member's value.
package login
