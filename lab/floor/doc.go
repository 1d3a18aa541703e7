// Package floor measures the least an in-world datagram path can cost on this machine: the
// yardstick for scale-100k's time target (issue 7), not a part of the lab.
//
// It runs the steady state of scale-100k's workload — viewers in world on 16 regions, an
// AgentUpdate a second, a StartPingCheck each way every 5 seconds answered by a
// CompletePingCheck, over a 30 ms ± 3 ms first-in-first-out path — with as little as a
// simulation of it can do: real LLUDP bytes (a prepared AgentUpdate and encoded pings from
// lludp, decoded by lludp's Decoder and DecodeBody at the receiver, every payload copied into
// the network's buffer as a sender's buffer is its own), regions that find a datagram's client
// by its source endpoint (addrmap, as the lab's regions do) and drop duplicates by sequence
// number, and a trace hash over every event and delivered payload. All state is one record per
// viewer and one per region client, and events sit in a 1 ms wheel whose ticks are sorted
// once. There are no logins, no losses, no resends, no observer beyond a four-entry ring in the
// viewer's record, no firewall and no capture.
//
// Whatever the lab's path costs beyond this floor is its layers; what this floor costs is the
// machine's. Config.Layers puts the lab's own kernel (sim), network (netem) and circuits
// (lab/circuit) in place of the floor's parts, so that each layer's cost per event can be
// measured on the same workload. Run it through `gridlab bench floor [--with ...]`, which backs
// the heap with huge pages as `gridlab run` does, or through BenchmarkFloor.
package floor
