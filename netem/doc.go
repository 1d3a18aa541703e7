// Package netem is gridlab's virtual network: segments (networks with latency, jitter and loss),
// hosts with addresses and stateful firewalls, routers with NAT and port forwards, UDP sockets
// and a TCP model, all driven by one sim.Sim on one goroutine.
//
// What netem owns (issue 3: a network emulator as faithful as Linux):
//
//   - Addressing and routing. A Segment is one network (the internet, a home LAN) with a prefix and
//     LinkParams. A destination inside the sender's prefix is reached directly across that segment;
//     anything else goes to the segment's Router (its default gateway) and on to the router's Outside
//     segment. On a segment, a router's OutsideAddr is handled by that router, a host's address is
//     delivered to the host, and a non-NAT router also routes its Inside prefix; anything else is
//     dropped with DropNoHost. No gateway and an off-prefix destination is DropNoRoute. netem
//     carries IPv4 only (a packet to anything else is DropNoRoute).
//   - Hosts with several interfaces (AddInterface: another segment, or a second address on the
//     same one) and a route table (AddRoute): the most specific prefix among the routes and the
//     interfaces' own prefixes picks the outgoing interface, the primary interface is the default
//     route, and the source address is the chosen interface's (Linux's behaviour for an unbound
//     socket, which makes asymmetric routing reproducible). A packet to any address of a host is
//     delivered whichever interface it arrives on; sockets are bound to all addresses.
//   - Impairments per segment traversal and direction (LinkParams; Up = towards the segment's
//     gateway, Down = the rest), in tc netem's order: MTU (DropMTU), loss (Bernoulli with
//     correlation, Gilbert-Elliott, 4-state; DropLoss), duplication, corruption (one flipped bit:
//     UDP payloads arrive flipped, TCP segments fail their checksum, DropChecksum), a rate-limited
//     FIFO with tail drop (DropQueueFull), then latency with jitter (uniform, normal, pareto,
//     paretonormal, optionally correlated) or, for a reordered packet, no delay. Jitter never
//     reorders packets of one (src,dst) pair (fifo.go). Random numbers come from the streams
//     "netem/seg/<name>/loss", ".../jitter" and ".../extra" ("netem/seg/<name>/up/..." once the
//     directions are split).
//   - NAT per RFC 4787/5382 (NATOptions): mapping and filtering behaviours set independently
//     (endpoint-independent, address-dependent, address-and-port-dependent), port preservation
//     else the next free port or a seeded random one ("netem/nat/<router>/ports"), a configurable
//     UDP timeout (120 s default, refreshed by outbound traffic), TCP mappings kept while a
//     connection is open (and TCPTimeout after), a table size limit (DropNATTableFull), 1:1 NAT,
//     static port forwards, hairpinning (REQ-9a) or DropHairpin, FlushNAT, ICMP errors translated
//     through the mapping (RFC 5508), and the presets full-cone, restricted-cone, port-restricted,
//     symmetric and carrier-grade. The zero NATOptions is the walking skeleton's home router.
//   - A host firewall: ordered rules (direction, protocol, remote CIDR, local and remote port
//     ranges), first match decides, no match allows; actions Allow, Deny (silence) and Reject
//     (TCP RST; ICMP port unreachable for UDP, reported to sockets with an error handler as
//     ErrPortUnreachable; an egress reject answers the host's own socket at once). Per-rule hit
//     counters. Optional connection tracking (SetConntrack) makes it stateful with Linux's
//     timeouts. A packet's path is: egress firewall → NAT → segment → NAT → ingress firewall → socket.
//   - Faults: Host.SetDown (DropHostDown both ways; sockets live on), Network.Partition / Heal
//     (DropPartition), FlushNAT, SetParams / SetDirParams at any virtual time.
//   - DNS as packets: the Resolver is a host ("dns-resolver", UDP port 53, by default 192.0.2.53 on
//     the top segment) answering RFC 1035 queries from its records after a delay; Host.Resolve is
//     a stub resolver sending real queries (seeded IDs, stream "netem/dns/<host>") with glibc's
//     defaults (5 s per attempt, 2 attempts), so loss, firewalls, NAT and partitions break DNS
//     with drops that carry their reasons. NXDOMAIN, a slow and an unreachable (down) resolver,
//     with Go's *net.DNSError values.
//   - A TCP model at the level that decides login outcomes: three-way handshake with Linux's SYN
//     retransmission schedule (classic by default: 1 s doubling, 6 retries, ETIMEDOUT at 127 s;
//     SetSYNSchedule(SYNLinear) for Linux >= 6.5's 131 s) and tcp_synack_retries 5, RST for a
//     closed port or a reject rule (ECONNREFUSED one RTT later), 1460-byte segments carrying the
//     real bytes, cumulative acks, out-of-order buffering, fast retransmit on three duplicate
//     acks, RTO per RFC 6298 (initial 1 s, min 200 ms, max 120 s, exponential backoff, 15
//     retries), FIN in order, TIME_WAIT for the active closer, RST on Abort (ECONNRESET at the
//     peer). The send window is a fixed 64 KiB; there is no congestion control.
//   - Observability: every drop is a Drop with a Reason (and the firewall rule, and the capture
//     frame), delivered to OnDrop observers, counted in Counters and mixed into the trace hash;
//     every delivered datagram and every byte handed to a TCP handler is traced with its
//     endpoints. StartCapture writes a pcapng (one interface per segment, LINKTYPE_RAW, nanosecond
//     virtual timestamps, synthesized IPv4/UDP/TCP/ICMP headers, one record per segment a packet
//     enters, so before and after NAT; a dropped packet's record carries the reason and rule as
//     a comment, tshark's frame.comment) and a drop list keyed by frame number.
//
// Determinism: netem never reads the clock, never starts goroutines and never iterates a map where
// the order could be observed. Every event it schedules has a constant label ("netem/arrive",
// "netem/tcp/rto", ...). Two runs with the same topology, traffic and seed produce the same trace.
//
// Deferred: ICMP for closed UDP ports (only reject rules answer), PMTU discovery (an oversized
// TCP segment is dropped, a black hole), a rebooting host (down keeps its sockets), IPv6, DNS
// over TCP and AAAA records, several name servers, TCP flow and congestion control, keepalive,
// simultaneous open, routes through a gateway other than a segment's own router.
package netem
