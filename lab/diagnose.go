package lab

import (
	"gridlab/lab/viewer"
	"gridlab/netem"
)

// diagnosis is what the lab concludes about one viewer: the failure mode of
// shared/docs/FAILURE_MODES.md, the evidence for it in words, and the fix an operator would apply.
type diagnosis struct {
	Mode     string
	Evidence string
	Fix      string
}

// diagnose turns what a viewer saw into a failure mode of shared/docs/FAILURE_MODES.md, using
// evidence only the lab has: what the region received and why the network dropped packets.
func (w *world) diagnose(v *viewer.Viewer) diagnosis {
	if d, ok := w.diagnoseGrid(v); ok {
		return d
	}
	r := v.Result()
	switch r.Outcome {
	case viewer.NoCircuitAck:
		if w.uccSeen[r.CircuitCode] > 0 {
			return diagnosis{Mode: "sim-reply-blocked"} // the region heard every UseCircuitCode; its answers were lost
		}
		host := v.Config().Net.(hostNet).h
		if d, ok := w.udpDrops[host.Addr()]; ok {
			switch d.Reason {
			case netem.DropFirewall:
				return diagnosis{Mode: "region-udp-blocked"}
			case netem.DropHairpin:
				return diagnosis{Mode: "nat-loopback-unsupported"}
			case netem.DropNoHost, netem.DropNoRoute:
				return diagnosis{Mode: "region-host-wrong"}
			}
		}
		return diagnosis{Mode: "region-unreachable"}
	case viewer.AgentWaitTimeout, viewer.HandshakeTimeout:
		if w.unknown[r.CircuitCode] {
			return diagnosis{Mode: "unknown-circuit-code"}
		}
		return diagnosis{Mode: r.Outcome}
	case viewer.LoginTimeout:
		return diagnosis{Mode: "login-unreachable"}
	}
	return diagnosis{Mode: r.Outcome}
}
