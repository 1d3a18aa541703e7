// Package lludp is gridlab's LLUDP wire codec: the datagram format spoken between Second Life /
// OpenSimulator viewers and regions.
//
// It owns, and only owns, the bytes on the wire:
//
//   - the 6-byte packet header (flags, big-endian sequence number, extra-header length), the
//     1/2/4-byte message number and the canonical message IDs ([MsgID]);
//   - zero-coding (runs of zero bytes sent as 00 <count>) and appended ("piggy-backed") acks;
//   - the table of every message in Linden Lab's message_template.msg (name, frequency class,
//     number, trust and encoding: [Lookup], [MsgID.String]);
//   - the bodies of the messages gridlab exchanges during login, presence and logout
//     ([UseCircuitCode], [PacketAck], [CompleteAgentMovement], [RegionHandshake],
//     [RegionHandshakeReply], [AgentMovementComplete], [AgentUpdate], [StartPingCheck],
//     [CompletePingCheck], [LogoutRequest], [LogoutReply], [CloseCircuit], [DisableSimulator]).
//
// It owns no protocol state: reliability, resends, ack queues, duplicate suppression and
// pings live in lab/circuit, and the login/region behaviour in lab/region and lab/viewer.
//
// [Encode] appends a whole datagram to a caller-owned buffer and [Decoder.Decode] parses one
// into buffers the decoder reuses, so a steady stream of packets does not allocate. A message
// sent unchanged again and again (a standing viewer's AgentUpdate) can be encoded once as a
// [Prepared], whose datagrams Encode copies rather than encodes, byte for byte the same. Decoding
// never panics on hostile input; every error names the byte offset it stopped at and wraps
// [ErrMalformed].
//
// Wire facts (shared/docs/reference/protocol.md §1): body fields are little-endian except
// IPPORT (big-endian) and IPADDR (raw); the header sequence number, the Low/Fixed message
// number and appended acks are big-endian; zero-coding covers everything from byte 6 (the
// message number included) up to, never including, the appended acks; receivers strip the
// acks from the raw tail before zero-expanding. Encode always writes 0 in byte 5; Decode
// skips that many extra header bytes before the message number, as OpenSim does.
package lludp
