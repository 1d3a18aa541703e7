// Package msgs encodes and decodes every message of Linden Lab's message_template.msg.
//
// The layout of each message (blocks, fields and their types, in template order) is
// generated from ../shared/protocol/message_template.msg into layouts_gen.go by ./gen; run
// `go generate ./lab/lludp/msgs` after the template changes and commit the result.
//
// [Message] is a generic message value: the blocks of one message, each a list of entries,
// each entry one typed value per field. It implements [lludp.Message], so [lludp.Encode]
// sends it like any hand-written message, and its AppendBody/DecodeBody are driven by the
// layout. Package lludp keeps its hand-written, allocation-free codecs for the messages the
// simulation exchanges; tests here check that both give the same bytes for the same values.
//
// [DecodePacket] and [Packet.AppendTo] handle whole datagrams (header, zero-coding,
// appended acks), and [Packet] marshals to and from the JSON shape of the node-metaverse
// packet vectors, which `gridlab packet decode --json` prints and `gridlab packet encode`
// reads.
package msgs

//go:generate go run ./gen -o layouts_gen.go ../../../../shared/protocol/message_template.msg
