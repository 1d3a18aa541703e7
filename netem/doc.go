// Package netem is gridlab's virtual network: segments (networks with latency, jitter and loss),
// hosts with addresses and stateless firewalls, routers with NAT and port forwards, UDP sockets
// and a TCP model, all driven by one sim.Sim on one goroutine.
//
// What netem owns (this version, the walking skeleton):
//
//   - Addressing and routing. A Segment is one network (the internet, a home LAN) with a prefix and
//     LinkParams. A destination inside the sender's prefix is reached directly across that segment;
//     anything else goes to the segment's Router (its default gateway) and on to the router's Outside
//     segment. On a segment, a router's OutsideAddr is handled by that router, a host's address is
//     delivered to the host, and a non-NAT router also routes its Inside prefix; anything else is
//     dropped with DropNoHost. No gateway and an off-prefix destination is DropNoRoute.
//   - Impairments per segment traversal: latency, uniform jitter in [-J,+J] (clamped at zero, never
//     reordering packets of one (src,dst) pair on a segment), Bernoulli loss. Random numbers come from
//     the streams "netem/seg/<name>/loss" and "netem/seg/<name>/jitter" only.
//   - NAT as a typical home router does it (RFC 4787 "port-restricted cone"): endpoint-independent
//     mapping with port preservation, address-and-port-dependent filtering, UDP mappings expiring
//     after 120 s without outbound traffic, TCP mappings kept while a connection through them is open
//     (and 240 s after the last one closed), static port forwards, and hairpinning that presents the
//     external source (REQ-9a) or drops with DropHairpin when switched off.
//   - A stateless host firewall: ordered rules, first match decides, no match allows. Egress rules
//     see the destination as Remote, ingress rules the source. A packet's path is: egress firewall →
//     NAT → segment (latency, loss) → NAT → ingress firewall → socket.
//   - UDP datagrams (no ICMP: a datagram to a closed port is dropped with DropNoListener).
//   - A TCP model at the level that decides login outcomes: three-way handshake with Linux's SYN
//     retransmission schedule (RTOs 1,1,1,1,1,2,4,8,16,32 s, ETIMEDOUT at 131 s) and tcp_synack_retries
//     5, RST for a closed port (ECONNREFUSED one RTT later), 1460-byte segments carrying the real
//     bytes, cumulative acks, out-of-order buffering, fast retransmit on three duplicate acks, RTO per
//     RFC 6298 (initial 1 s, min 200 ms, max 120 s, exponential backoff, 15 retries), FIN in order,
//     TIME_WAIT for the active closer, RST on Abort (ECONNRESET at the peer). The send window is a
//     fixed 64 KiB; there is no congestion control.
//   - Observability: every drop is a Drop with a Reason (and the firewall rule), delivered to OnDrop
//     observers, counted in Counters and mixed into the trace hash; every delivered datagram and every
//     byte handed to a TCP handler is traced with its endpoints.
//
// Determinism: netem never reads the clock, never starts goroutines and never iterates a map where
// the order could be observed. Every event it schedules has a constant label ("netem/arrive",
// "netem/tcp/rto", ...). Two runs with the same topology, traffic and seed produce the same trace.
//
// Deferred to a later issue that deepens netem: DNS, other NAT types (symmetric, full cone,
// configurable timeouts), a stateful (conntrack) firewall and REJECT rules (RST / ICMP errors),
// ICMP in general, bandwidth, queues and queue drops, duplication and reordering models, TCP flow
// and congestion control, keepalive, simultaneous open, and pcap export.
package netem
