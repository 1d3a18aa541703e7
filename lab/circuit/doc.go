// Package circuit is the reliable-UDP circuit both ends of an LLUDP connection run: sequence
// numbers, reliable sends resent on a timeout, acks (standalone PacketAck and appended to
// outgoing packets), dedupe of received sequence numbers, and answers to StartPingCheck.
//
// A Circuit is sans-IO: it is handed a Clock and a Send function, fed datagrams with Receive,
// and hands new application packets to a Deliver callback. It never blocks, reads no clock of
// its own and starts no goroutines, so the region, the synthetic viewer and the real-socket
// driver all use the same code.
package circuit
