package lab

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"gridlab/lab/grid"
	"gridlab/lab/lludp"
	"gridlab/lab/viewer"
	"gridlab/netem"
	"gridlab/reports"
)

// diagnosis is what the lab concludes about one viewer: the failure mode of
// shared/docs/FAILURE_MODES.md, the evidence for it in words, and the fix an operator would apply.
type diagnosis struct {
	Mode     string
	Evidence string
	Fix      string
}

// Failure-mode ids the lab's diagnosis produces (shared/docs/FAILURE_MODES.md); the viewer's own
// outcomes (viewer.BadCredentials, ...) are the others.
const (
	ModeLoginUnreachable   = "login-unreachable"
	ModeLoginReplyBlocked  = "login-reply-blocked"
	ModeRegionHostWrong    = "region-host-wrong"
	ModeRegionUDPBlocked   = "region-udp-blocked"
	ModeNATLoopback        = "nat-loopback-unsupported"
	ModeOneToOneInternal   = "one-to-one-nat-internal-address"
	ModeSimReplyBlocked    = "sim-reply-blocked"
	ModeUnknownCircuitCode = "unknown-circuit-code"
	ModeMalformedUDP       = "malformed-udp"
	ModeLossyPath          = "lossy-path"
	ModeSilentCircuit      = "silent-circuit"
	ModeRegionUnreachable  = "region-unreachable" // UseCircuitCode lost without a recorded drop
	ModeLoginStorm         = "login-storm"        // arrivals beyond the login service's or a region's capacity
)

// dropTally counts the drops on one direction of one protocol of a viewer's paths. first is the
// first drop that was not link loss (the decisive one), or the first loss when all were loss.
type dropTally struct {
	n, loss int
	first   netem.Drop
	hasHard bool
}

func (t *dropTally) add(d netem.Drop) {
	t.n++
	lossy := isLoss(d.Reason)
	if lossy {
		t.loss++
	}
	switch {
	case !lossy && !t.hasHard:
		t.first, t.hasHard = d, true
	case t.n == 1:
		t.first = d
	}
}

// onlyLoss reports drops of which none had a cause other than the link's loss or congestion.
func (t *dropTally) onlyLoss() bool { return t.n > 0 && !t.hasHard }

func isLoss(r netem.Reason) bool {
	return r == netem.DropLoss || r == netem.DropQueueFull || r == netem.DropChecksum
}

// bufferTally counts a viewer's datagrams that reached a region's host and were lost there
// because the region's UDP receive buffer was full (the capacity model): the network delivered
// them, so they are no drop of netem's.
type bufferTally struct {
	n      int    // datagrams lost
	ucc    int    // of them UseCircuitCode
	cam    int    // of them CompleteAgentMovement
	region string // the region of the first
}

func (t *bufferTally) add(region string, msg lludp.MsgID) {
	if t.n == 0 {
		t.region = region
	}
	t.n++
	switch msg {
	case lludp.MsgUseCircuitCode:
		t.ucc++
	case lludp.MsgCompleteAgentMovement:
		t.cam++
	}
}

// viewerEvidence is what the network did to one viewer's packets, both ways, and what the
// regions' receive buffers lost of them.
type viewerEvidence struct {
	udpOut, udpIn dropTally // viewer → grid, grid → viewer
	tcpOut, tcpIn dropTally
	buf           bufferTally // viewer → region, lost in the region's full receive buffer
}

func (e *viewerEvidence) note(d netem.Drop, fromViewer bool) {
	switch {
	case d.Proto == netem.UDP && fromViewer:
		e.udpOut.add(d)
	case d.Proto == netem.UDP:
		e.udpIn.add(d)
	case fromViewer:
		e.tcpOut.add(d)
	default:
		e.tcpIn.add(d)
	}
}

// regionRef is what the diagnosis needs to know of a region: its Regions.ini section and the
// host it runs on.
type regionRef struct {
	cfg  grid.RegionConfig
	host *netem.Host
}

// diagnose turns what a viewer saw into a failure mode of shared/docs/FAILURE_MODES.md, using
// evidence only the lab has: what the region received and why the network dropped packets.
func (w *world) diagnose(v *viewer.Viewer) diagnosis {
	if d, ok := w.diagnoseGrid(v); ok {
		return d
	}
	r := v.Result()
	var ev viewerEvidence
	if i := w.obs.viewerIndex(v); i >= 0 {
		ev = w.obs.evidence(i)
	}
	if r.Lost {
		return w.diagnoseLost(v, &ev)
	}
	if d, ok := w.diagnoseRelogin(v); ok {
		return d
	}
	switch r.Outcome {
	case viewer.NoCircuitAck:
		return w.diagnoseCircuit(v, &ev)
	case viewer.AgentWaitTimeout, viewer.HandshakeTimeout:
		if w.unknown[r.CircuitCode] {
			return diagnosis{Mode: ModeUnknownCircuitCode,
				Evidence: fmt.Sprintf("The region acked UseCircuitCode for circuit %d but logged \"Ignoring connection request for %s to %s with unknown circuit code %d\": no login it knows of announced that circuit (the region was restarted, or the login reply was stale). The viewer then waited %s for AgentMovementComplete and gave up.",
					r.CircuitCode, r.AgentID, w.regionName(r.Sim), r.CircuitCode, secs(r.DecidedAt.Sub(r.Stages[viewer.StageCircuitAck]))),
				Fix: "Log in again: the new login announces a circuit the running region knows. If regions restart often, restart them when nobody is logging in, or have the login service check the region first (grid mode QUERYACCESS)."}
		}
		awaited := map[bool]string{true: "RegionHandshake", false: "AgentMovementComplete"}[r.Outcome == viewer.HandshakeTimeout]
		if ev.buf.overloads(ev.udpOut.loss+ev.udpIn.loss) && !ev.udpOut.hasHard && !ev.udpIn.hasHard {
			what := fmt.Sprintf("The region acked UseCircuitCode but the viewer did not get %s in time: region %s's full UDP receive buffer dropped %s",
				awaited, ev.buf.region, ev.buf.lost())
			return w.overloaded(&ev, what)
		}
		if ev.udpIn.n+ev.udpOut.n > 0 && ev.udpIn.onlyLossOrNone() && ev.udpOut.onlyLossOrNone() {
			return w.lossy(v, &ev, fmt.Sprintf("the circuit was up but the region's answers did not arrive within the viewer's %s wait", secs(v.Config().Profile.AgentWait)))
		}
		return diagnosis{Mode: r.Outcome,
			Evidence: fmt.Sprintf("The region acked UseCircuitCode but the viewer did not get %s in time; the network dropped %d of its packets to the region and %d of the region's to it%s.",
				awaited, ev.udpOut.n, ev.udpIn.n, ev.buf.also()),
			Fix: "Look at the region's log for this agent around the time of the ack; the region accepted the circuit but did not finish the arrival."}
	case viewer.LoginTimeout:
		return w.diagnoseLoginTimeout(v, &ev)
	case viewer.LoginPortClosed, viewer.LoginFailed:
		if d, ok := w.loginCrashEvidence(v); ok {
			return d
		}
		if r.Outcome == viewer.LoginFailed {
			return diagnosis{Mode: r.Outcome, Evidence: orDefault(r.LoginError, r.Message)}
		}
		host, port := uriHostPort(v.Config().LoginURI)
		ev := fmt.Sprintf("The TCP connection to %s:%s was refused at once (%s): no service listens on that port.", host, port, orDefault(r.LoginError, "connection refused"))
		fix := fmt.Sprintf("Use the login service's port in the login URI: this grid's login service listens on %d.", w.sc.Grid.LoginPort)
		if d := w.rejectFor(v); d != nil {
			ev = fmt.Sprintf("The TCP connection to %s:%s was refused at once: rule '%s' on %s rejects it (TCP RST).", host, port, d.Rule, w.where(d.Where))
			fix = fmt.Sprintf("Allow inbound TCP to port %s on %s: rule '%s' rejects it.", port, w.where(d.Where), d.Rule)
		}
		return diagnosis{Mode: viewer.LoginPortClosed, Evidence: ev, Fix: fix}
	case viewer.LoginHostUnknown:
		host, _ := uriHostPort(v.Config().LoginURI)
		return diagnosis{Mode: viewer.LoginHostUnknown,
			Evidence: fmt.Sprintf("The login URI's host name %q did not resolve (%s), so no connection was attempted.", host, orDefault(r.LoginError, "no such host")),
			Fix:      fmt.Sprintf("Correct the login URI, or add a DNS record for %q pointing at the login service.", host)}
	case viewer.BadCredentials:
		cfg := v.Config()
		ev := fmt.Sprintf("The login service answered login=false, reason \"key\": avatar %q exists but the password did not match.", cfg.First+" "+cfg.Last)
		if w.accounts != nil {
			if _, ok := w.accounts.Lookup(cfg.First, cfg.Last); !ok {
				ev = fmt.Sprintf("The login service answered login=false, reason \"key\": the grid has no avatar named %q.", cfg.First+" "+cfg.Last)
			}
		}
		return diagnosis{Mode: viewer.BadCredentials, Evidence: ev,
			Fix: "Check the avatar's first and last name and its password; the grid's other logins work."}
	}
	return diagnosis{Mode: r.Outcome, Evidence: r.Message}
}

func (t *dropTally) onlyLossOrNone() bool { return t.n == 0 || !t.hasHard }

// diagnoseCircuit explains a UseCircuitCode that was never acked.
func (w *world) diagnoseCircuit(v *viewer.Viewer, ev *viewerEvidence) diagnosis {
	r := v.Result()
	sent, got := r.UCCSends, w.uccSeen[r.CircuitCode]
	if c := v.CircuitStats(); c.Resent > 0 && sent < 1+int(c.Resent) {
		sent = 1 + int(c.Resent)
	}
	sim := r.Sim
	head := fmt.Sprintf("UseCircuitCode sent %s to %s", times(sent), sim)
	if got > 0 {
		if ev.udpIn.hasHard {
			d := ev.udpIn.first
			return diagnosis{Mode: ModeSimReplyBlocked,
				Evidence: fmt.Sprintf("%s; the region received %s; its %d replies to the viewer were dropped %s.", head, received(got, sent), ev.udpIn.n, w.dropCause(d)),
				Fix:      w.fixReplies(d)}
		}
		if ev.udpIn.onlyLoss() {
			return w.lossy(v, ev, fmt.Sprintf("%s; the region received %s but its acks were lost on the way back", head, received(got, sent)))
		}
		return diagnosis{Mode: ModeSimReplyBlocked,
			Evidence: fmt.Sprintf("%s; the region received %s; no ack reached the viewer and the network recorded no drop of them.", head, received(got, sent)),
			Fix:      "Check that the region answers from the address and port the viewer sent to, and that nothing between them filters UDP."}
	}
	ref, known := w.regionBySim[sim]
	if known && sim.Addr().IsPrivate() && !w.canReach(v, sim.Addr()) && isSystemIP(ref) {
		pub := w.publicAddrOf(ref.host)
		fix := fmt.Sprintf("Set ExternalHostName in Regions.ini [%s] to the public address viewers reach the region at", ref.cfg.Name)
		if pub.IsValid() {
			fix += " (" + pub.String() + ")"
		}
		return diagnosis{Mode: ModeOneToOneInternal,
			Evidence: fmt.Sprintf("%s, the sim_ip of the login reply: Regions.ini [%s] says ExternalHostName = %s, which is the region host's own, private address; from the viewer's network %s it is unreachable, so the region received none (%s).",
				head, ref.cfg.Name, orDefault(ref.cfg.ExternalHostName, "SYSTEMIP"), w.placeOf(v), w.dropSummary(&ev.udpOut)),
			Fix: fix + "; viewers on the region's LAN keep working."}
	}
	if !ev.udpOut.hasHard {
		if ev.buf.ucc > 0 && ev.buf.overloads(ev.udpOut.loss) {
			what := fmt.Sprintf("%s; the region handled none: %s reached the region's host, where region %s's full UDP receive buffer dropped %s",
				head, reachedOf(ev.buf.ucc, sent), ev.buf.region, map[bool]string{true: "them", false: "it"}[ev.buf.ucc > 1])
			if ev.udpOut.loss > 0 {
				what += fmt.Sprintf(", and the links lost %d of the viewer's packets", ev.udpOut.loss)
			}
			return w.overloaded(ev, what)
		}
		if ev.udpOut.onlyLoss() {
			return w.lossy(v, ev, fmt.Sprintf("%s; the region received none", head))
		}
		return diagnosis{Mode: ModeRegionUnreachable,
			Evidence: fmt.Sprintf("%s; the region received none and the network recorded no drop of them.", head),
			Fix:      "Check the path from the viewer's network to the region's UDP port."}
	}
	d := ev.udpOut.first
	switch d.Reason {
	case netem.DropFirewall:
		return diagnosis{Mode: ModeRegionUDPBlocked,
			Evidence: fmt.Sprintf("%s; the region received none: %d were dropped %s.", head, ev.udpOut.n, w.dropCause(d)),
			Fix:      fmt.Sprintf("Allow inbound UDP to port %d on %s: rule '%s' drops the viewers' packets to the region.", sim.Port(), w.where(d.Where), d.Rule)}
	case netem.DropHairpin:
		return diagnosis{Mode: ModeNATLoopback,
			Evidence: fmt.Sprintf("%s, the public address of router %s, from inside that router's own network (%s); the router does not support NAT loopback (hairpin), so all %d were dropped there and the region received none.",
				head, d.Where, w.placeOf(v), ev.udpOut.n),
			Fix: fmt.Sprintf("Enable NAT loopback (hairpin) on router %s, or give viewers on its LAN a way to reach the region by its LAN address (split DNS with a host name as ExternalHostName).", d.Where)}
	case netem.DropNoHost, netem.DropNoRoute:
		what := "no machine has that address"
		if d.Reason == netem.DropNoRoute {
			what = "there is no route to that address"
		}
		ini := ""
		fix := "Set ExternalHostName in Regions.ini to an address viewers can reach"
		if known {
			ini = fmt.Sprintf(" (Regions.ini [%s] ExternalHostName = %s)", ref.cfg.Name, orDefault(ref.cfg.ExternalHostName, "SYSTEMIP"))
			fix = fmt.Sprintf("Set ExternalHostName in Regions.ini [%s] to an address viewers can reach", ref.cfg.Name)
			if pub := w.publicAddrOf(ref.host); pub.IsValid() {
				fix += fmt.Sprintf(" (the grid host's public address is %s)", pub)
			}
		}
		return diagnosis{Mode: ModeRegionHostWrong,
			Evidence: fmt.Sprintf("%s, the region address of the login reply%s; %s, so all %d were dropped on %s and the region received none.", head, ini, what, ev.udpOut.n, w.where(d.Where)),
			Fix:      fix + "."}
	}
	return diagnosis{Mode: ModeRegionUnreachable,
		Evidence: fmt.Sprintf("%s; the region received none: %d were dropped %s.", head, ev.udpOut.n, w.dropCause(d)),
		Fix:      "Restore the path from the viewer's network to the region's UDP port."}
}

// diagnoseLoginTimeout explains a login request that got no answer in time.
func (w *world) diagnoseLoginTimeout(v *viewer.Viewer, ev *viewerEvidence) diagnosis {
	cfg := v.Config()
	host, port := uriHostPort(cfg.LoginURI)
	wait := secs(cfg.Profile.LoginTimeout)
	if cfg.Profile.LoginTimeout == 0 {
		wait = "TCP's own"
	}
	switch {
	case ev.tcpIn.hasHard:
		d := ev.tcpIn.first
		return diagnosis{Mode: ModeLoginReplyBlocked,
			Evidence: fmt.Sprintf("The login request to %s:%s got no answer within the viewer's %s timeout. The viewer's connection reached the login service's host, but its %d replies to the viewer were dropped %s.", host, port, wait, ev.tcpIn.n, w.dropCause(d)),
			Fix:      w.fixLoginReplies(d, port)}
	case ev.tcpOut.hasHard:
		d := ev.tcpOut.first
		return diagnosis{Mode: ModeLoginUnreachable,
			Evidence: fmt.Sprintf("The viewer's %d TCP packets to the login service at %s:%s (SYNs and their retransmissions) were dropped %s; it gave up after its %s timeout.", ev.tcpOut.n, host, port, w.dropCause(d), wait),
			Fix:      w.fixLoginPath(d, port)}
	case ev.tcpOut.onlyLoss() || ev.tcpIn.onlyLoss():
		return w.lossy(v, ev, fmt.Sprintf("the login request to %s:%s got no answer within the viewer's %s timeout", host, port, wait))
	}
	if d, ok := w.stormEvidence(w.publicAddrOfViewer(v), cfg.Profile.LoginTimeout); ok {
		return d
	}
	return diagnosis{Mode: ModeLoginUnreachable,
		Evidence: fmt.Sprintf("The login request to %s:%s got no answer within the viewer's %s timeout, and the network recorded no drop: the login service accepted the connection but did not answer in time.", host, port, wait),
		Fix:      "Check the login service's load and its log; it answered too slowly for this viewer."}
}

// diagnoseLost explains a viewer that was in world and then gave its silent region up.
func (w *world) diagnoseLost(v *viewer.Viewer, ev *viewerEvidence) diagnosis {
	r := v.Result()
	inWorld := r.Stages[viewer.StageMovementComplete]
	cause := "the network recorded no drop"
	fix := "Find out why the region stopped answering: its log shows whether it dropped the circuit."
	switch d := firstHard(&ev.udpOut, &ev.udpIn); {
	case d != nil && d.Reason == netem.DropPartition:
		cause = fmt.Sprintf("%d of the viewer's packets and %d of the region's were dropped %s", ev.udpOut.n, ev.udpIn.n, w.dropCause(*d))
		fix = "Keep the path between the viewer's network and the region up: a circuit cannot survive a silence longer than the region's 60 s inactivity timeout or the viewer's own."
	case d != nil:
		cause = fmt.Sprintf("%d of the viewer's packets and %d of the region's were dropped %s", ev.udpOut.n, ev.udpIn.n, w.dropCause(*d))
		fix = "Restore the path between the viewer and the region; the circuit went silent for longer than the viewer waits."
	case ev.buf.overloads(ev.udpOut.loss + ev.udpIn.loss):
		cause = fmt.Sprintf("region %s's full UDP receive buffer dropped %s", ev.buf.region, ev.buf.lost())
		if ev.udpOut.n+ev.udpIn.n > 0 {
			cause += fmt.Sprintf(", and the links lost %d of the viewer's packets and %d of the region's", ev.udpOut.n, ev.udpIn.n)
		}
		fix = w.overloadFix(ev.buf.region)
	case ev.udpOut.n+ev.udpIn.n > 0:
		cause = fmt.Sprintf("%d of the viewer's packets and %d of the region's were lost on the links", ev.udpOut.n, ev.udpIn.n)
		fix = "Reduce the loss on the viewer's path; the circuit went silent for longer than the viewer waits."
	}
	return diagnosis{Mode: ModeSilentCircuit,
		Evidence: fmt.Sprintf("In world at %s; then the viewer heard nothing from the region for %s, the %s profile's limit: %s. It showed %q at %s.",
			secs(inWorld.Duration()), secs(v.Config().Profile.RegionTimeout), v.Config().Profile.Name, cause, r.LostMessage, secs(r.LostAt.Duration())),
		Fix: fix}
}

func firstHard(ts ...*dropTally) *netem.Drop {
	for _, t := range ts {
		if t.hasHard {
			return &t.first
		}
	}
	return nil
}

// lossy is the lossy-path diagnosis: what failed, and how much the links lost.
func (w *world) lossy(v *viewer.Viewer, ev *viewerEvidence, what string) diagnosis {
	lost := ev.udpOut.loss + ev.udpIn.loss + ev.tcpOut.loss + ev.tcpIn.loss
	where := ""
	for _, t := range []*dropTally{&ev.udpOut, &ev.udpIn, &ev.tcpOut, &ev.tcpIn} {
		if t.n > 0 {
			where = w.where(t.first.Where)
			break
		}
	}
	return diagnosis{Mode: ModeLossyPath,
		Evidence: fmt.Sprintf("%s: %d of the viewer's packets were lost to the links' loss or congestion (first on %s), none to a firewall, NAT or routing; the viewer's timers ran out.", upperFirst(what), lost, where),
		Fix:      "Nothing on the grid blocks this viewer: its path loses too much. Improve the viewer's connection (its network " + w.placeOf(v) + "), or expect retries to succeed."}
}

// overloads reports whether the region's full receive buffer explains what a viewer's
// datagrams met better than the links' loss did: it dropped some, and no fewer than the links
// lost (lost is the viewer's link losses on the paths that matter).
func (t *bufferTally) overloads(lost int) bool { return t.n > 0 && t.n >= lost }

// lost says how many of the viewer's datagrams the buffer dropped, naming the login's messages
// among them: "9 of the viewer's datagrams to it (4 CompleteAgentMovement among them)".
func (t *bufferTally) lost() string {
	var of []string
	if t.ucc > 0 {
		of = append(of, fmt.Sprintf("%d UseCircuitCode", t.ucc))
	}
	if t.cam > 0 {
		of = append(of, fmt.Sprintf("%d CompleteAgentMovement", t.cam))
	}
	s := fmt.Sprintf("%d of the viewer's datagrams to it", t.n)
	if len(of) > 0 {
		s += " (" + strings.Join(of, " and ") + " among them)"
	}
	return s
}

// also is the clause a sentence about a viewer's network drops adds when a region's receive
// buffer dropped some of its datagrams too; empty when it dropped none.
func (t *bufferTally) also() string {
	if t.n == 0 {
		return ""
	}
	return fmt.Sprintf(", and region %s's full UDP receive buffer dropped %d more", t.region, t.n)
}

// overloaded is the login-storm diagnosis of a viewer whose datagrams reached the region's host
// and were lost there because the region's UDP receive buffer was full (the capacity model):
// the path is fine, the region is overloaded. what says what failed and what the buffer dropped.
func (w *world) overloaded(ev *viewerEvidence, what string) diagnosis {
	text := upperFirst(what) + "."
	if in := w.inbox(ev.buf.region); in != nil {
		text += fmt.Sprintf(" The buffer holds %s and the region spends %s on each, so it handles at most %.0f a second; beyond that it dropped %d datagrams from all viewers in the run (up to %d waited at once).",
			plural(in.limit, "datagram"), secs(in.cost), float64(time.Second)/float64(in.cost), in.drops, in.maxLen)
	}
	return diagnosis{Mode: ModeLoginStorm, Evidence: text, Fix: w.overloadFix(ev.buf.region)}
}

// overloadFix is the fix for a region whose receive buffer overflowed.
func (w *world) overloadFix(region string) string {
	return fmt.Sprintf("Region %s is overloaded, not cut off: the datagrams reached its host and its receive buffer was full. Give it a larger UDP receive buffer (grid.capacity.region_udp_buffer; on a real host the socket's buffer and net.core.rmem_max), make each packet cheaper to handle (region_packet_time: a faster machine, less load), or spread the arrivals so fewer viewers send to it at once.", region)
}

// inbox returns the receive buffer of the region named region, nil without a capacity model.
func (w *world) inbox(region string) *regionInbox {
	for _, n := range w.inboxes {
		if n.region == region {
			return n.in
		}
	}
	return nil
}

// reachedOf says how many of sent datagrams reached their destination: "it" (the only one),
// "all 4", "3 of the 4".
func reachedOf(n, sent int) string {
	switch {
	case n >= sent && n == 1:
		return "it"
	case n >= sent:
		return fmt.Sprintf("all %d", n)
	}
	return fmt.Sprintf("%d of the %d", n, sent)
}

// dropCause describes where and why a packet was dropped, for evidence sentences.
func (w *world) dropCause(d netem.Drop) string {
	switch d.Reason {
	case netem.DropFirewall:
		return fmt.Sprintf("by rule '%s' on %s", d.Rule, w.where(d.Where))
	case netem.DropHairpin:
		return fmt.Sprintf("at %s: NAT loopback (hairpin) is not supported", w.where(d.Where))
	case netem.DropNoHost:
		return fmt.Sprintf("on %s: no machine has %s", w.where(d.Where), d.Dst.Addr())
	case netem.DropNoRoute:
		return fmt.Sprintf("at %s: no route to %s", w.where(d.Where), d.Dst.Addr())
	case netem.DropNATFiltered:
		return fmt.Sprintf("at %s: its NAT filters packets from %s (no mapping for that sender)", w.where(d.Where), d.Src)
	case netem.DropNATNoMapping:
		return fmt.Sprintf("at %s: its NAT has no mapping for %s", w.where(d.Where), d.Dst)
	case netem.DropHostDown:
		return fmt.Sprintf("at %s: the host is down", w.where(d.Where))
	case netem.DropPartition:
		return fmt.Sprintf("on %s: the networks are partitioned", w.where(d.Where))
	case netem.DropLoss:
		return fmt.Sprintf("by loss on %s", w.where(d.Where))
	}
	return fmt.Sprintf("at %s (%s)", w.where(d.Where), d.Reason)
}

// fixReplies is the fix for the region's UDP replies being dropped.
func (w *world) fixReplies(d netem.Drop) string {
	switch d.Reason {
	case netem.DropFirewall:
		return fmt.Sprintf("Allow outbound UDP from the region to viewers on %s: rule '%s' drops the region's acks and handshake.", w.where(d.Where), d.Rule)
	case netem.DropNATFiltered, netem.DropNATNoMapping:
		return fmt.Sprintf("Make the region answer from the address and port the viewer sent to; %s drops replies from anywhere else.", w.where(d.Where))
	}
	return "Restore the path from the region back to the viewers: " + w.dropCause(d) + "."
}

func (w *world) fixLoginReplies(d netem.Drop, port string) string {
	if d.Reason == netem.DropFirewall {
		return fmt.Sprintf("Allow outbound TCP from the login service's port %s to viewers on %s: rule '%s' drops its replies.", port, w.where(d.Where), d.Rule)
	}
	return "Restore the path from the login service back to the viewers: " + w.dropCause(d) + "."
}

func (w *world) fixLoginPath(d netem.Drop, port string) string {
	switch d.Reason {
	case netem.DropFirewall:
		return fmt.Sprintf("Allow inbound TCP to port %s on %s: rule '%s' drops the viewers' connections.", port, w.where(d.Where), d.Rule)
	case netem.DropNoHost, netem.DropNoRoute:
		return fmt.Sprintf("Point the login URI at the login service's address: %s.", w.dropCause(d))
	case netem.DropHostDown:
		return fmt.Sprintf("Bring %s back up.", w.where(d.Where))
	}
	return "Restore the path to the login service: " + w.dropCause(d) + "."
}

// rejectFor finds a firewall rejection of the viewer's login connection, if that is what refused it.
func (w *world) rejectFor(v *viewer.Viewer) *netem.Drop {
	i := w.obs.viewerIndex(v)
	if i < 0 {
		return nil
	}
	if e := w.obs.ev[i]; e != nil && e.tcpOut.hasHard && e.tcpOut.first.Reason == netem.DropFirewall {
		return &e.tcpOut.first
	}
	return nil
}

// where names a drop's place as an operator would: host, router or network.
func (w *world) where(name string) string {
	switch {
	case w.hosts[name] != nil:
		return "host " + name
	case w.net.Router(name) != nil:
		return "router " + name
	case w.segs[name] != nil:
		return "network " + name
	}
	return name
}

// canReach reports whether the viewer's host is on a network that contains a.
func (w *world) canReach(v *viewer.Viewer, a netip.Addr) bool {
	hn, ok := v.Config().Net.(hostNet)
	if !ok {
		return true
	}
	for _, seg := range w.segs {
		if seg.Prefix().Contains(a) && seg.Prefix().Contains(hn.h.Addr()) && seg.Prefix().Bits() > 0 {
			return true
		}
	}
	return false
}

// publicAddrOf is the address the internet reaches host h at: its router's public address when
// it sits behind one, else its own.
func (w *world) publicAddrOf(h *netem.Host) netip.Addr {
	if h == nil {
		return netip.Addr{}
	}
	for _, n := range w.sc.Networks {
		if n.Router == nil || n.Router.Public == "" {
			continue
		}
		if p, err := netip.ParsePrefix(n.CIDR); err == nil && p.Contains(h.Addr()) {
			if a, err := netip.ParseAddr(n.Router.Public); err == nil {
				return a
			}
		}
	}
	return h.Addr()
}

func isSystemIP(ref regionRef) bool {
	e := strings.TrimSpace(ref.cfg.ExternalHostName)
	if e == "" || strings.EqualFold(e, "SYSTEMIP") {
		return true
	}
	a, err := netip.ParseAddr(e)
	return err == nil && ref.host != nil && a == ref.host.Addr()
}

func (w *world) regionName(sim netip.AddrPort) string {
	if ref, ok := w.regionBySim[sim]; ok {
		return ref.cfg.Name
	}
	return sim.String()
}

func (w *world) placeOf(v *viewer.Viewer) string {
	if i := w.obs.viewerIndex(v); i >= 0 && i < len(w.places) {
		return w.places[i]
	}
	return "?"
}

// dropSummary says how a direction's packets were dropped, or that none were recorded.
func (w *world) dropSummary(t *dropTally) string {
	if t.n == 0 {
		return "the network recorded no drop"
	}
	return fmt.Sprintf("%d dropped %s", t.n, w.dropCause(t.first))
}

// findings are the grid-level diagnoses: failure modes seen in the grid as a whole.
func (w *world) findings() []reports.Finding {
	var out []reports.Finding
	for _, rg := range w.regions {
		st := rg.Stats()
		if st.Malformed == 0 {
			continue
		}
		from := ""
		for _, l := range w.log.lines {
			if _, after, ok := strings.Cut(l.Text, "byte packet from "); ok && strings.Contains(l.Text, "Malformed data") {
				from, _, _ = strings.Cut(after, ",")
				break
			}
		}
		ev := fmt.Sprintf("Region %s received %d datagrams it could not parse", rg.Name(), st.Malformed)
		if from != "" {
			ev += " (the first from " + from + ")"
		}
		ev += fmt.Sprintf("; it logged \"Malformed data, cannot parse ...\" and dropped them. Logins went on: %d viewers got in world.", w.inWorld)
		out = append(out, reports.Finding{Mode: ModeMalformedUDP, Count: int(st.Malformed), Evidence: ev,
			Fix: "Nothing breaks: the region drops what it cannot parse. If the datagrams keep coming, find their sender and block it with a firewall rule on the region's UDP port."})
	}
	return out
}

func uriHostPort(uri string) (string, string) {
	u, err := url.Parse(uri)
	if err != nil {
		return uri, ""
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	return u.Hostname(), port
}

func times(n int) string {
	if n == 1 {
		return "once"
	}
	return strconv.Itoa(n) + " times"
}

func received(got, sent int) string {
	if got >= sent {
		return fmt.Sprintf("all %d", got)
	}
	return fmt.Sprintf("%d of them", got)
}

func secs(d time.Duration) string {
	return strconv.FormatFloat(d.Round(time.Millisecond).Seconds(), 'f', -1, 64) + " s"
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// publicAddrOfViewer is the address the grid sees the viewer's connections come from: its home
// router's public address, or its own.
func (w *world) publicAddrOfViewer(v *viewer.Viewer) netip.Addr {
	i := w.obs.viewerIndex(v)
	if i < 0 {
		return netip.Addr{}
	}
	if r := w.net.Router(fmt.Sprintf("home-router-%d", w.firstID[i])); r != nil {
		return r.OutsideAddr()
	}
	if hn, ok := v.Config().Net.(hostNet); ok {
		return hn.h.Addr()
	}
	return netip.Addr{}
}

// loginCrashEvidence explains a login that met a crashed login service (timeline
// restart_login): reset mid-request, or refused while the process was down.
func (w *world) loginCrashEvidence(v *viewer.Viewer) (diagnosis, bool) {
	r := v.Result()
	d, down := w.loginProc.downAt(r.DecidedAt)
	if !down && !strings.Contains(r.LoginError, "connection reset") {
		return diagnosis{}, false
	}
	back := "it was still down when the run ended"
	if d[1] != 0 {
		back = "it was back at " + secs(d[1].Duration())
	}
	what := "the connection was refused while the process was down"
	if strings.Contains(r.LoginError, "connection reset") {
		what = "the login request's connection was reset mid-request (connection reset by peer)"
	}
	if !down {
		return diagnosis{Mode: r.Outcome, Evidence: "The login service reset the connection mid-request (connection reset by peer): its process went away.",
			Fix: "Log in again; find out from the grid's log why the login service went away."}, true
	}
	return diagnosis{Mode: r.Outcome,
		Evidence: fmt.Sprintf("The login service's process died at %s (%s): %s.", secs(d[0].Duration()), back, what),
		Fix:      "Log in again once the login service is back; find out from the grid's log why it died."}, true
}
