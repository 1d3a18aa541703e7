package viewer

import (
	"fmt"
	"strings"
	"time"
)

// Profile holds a viewer implementation's timers.
type Profile struct {
	Name string
	// LoginTimeout is the HTTP timeout of the login request (SL: LoginSRVTimeout 90 s, never
	// retried). 0 means the viewer sets none and only TCP's own timeout ends a dead login.
	LoginTimeout time.Duration
	// CircuitResend and CircuitRetries are UseCircuitCode's fixed resend schedule
	// (SL: UseCircuitCodeTimeout 5 s, UseCircuitCodeMaxRetries 3: failure at about 20 s).
	// CircuitRetries < 0 resends forever.
	CircuitResend  time.Duration
	CircuitRetries int
	// CircuitAckWait, if set, gives up on UseCircuitCode when its ack has not come this long after
	// the first send (LibreMetaverse and node-metaverse: 60 s). 0: give up when the resends run out.
	CircuitAckWait time.Duration
	// MovementDelay is the pause between the ack and CompleteAgentMovement (LibreMetaverse: 500 ms).
	MovementDelay time.Duration
	// HandshakeWait, if set, gives up when RegionHandshake has not come this long after the ack
	// (node-metaverse: 10 s, LibreMetaverse: 60 s). The SL viewer has no such wait.
	HandshakeWait time.Duration
	// ResendTimeout and Retries apply to the viewer's other reliable packets
	// (SL: max(1 s, 5 × ping), with the ping starting at 1 s; 3 retries).
	ResendTimeout time.Duration
	Retries       int
	// AgentWait is how long AgentMovementComplete is awaited after CompleteAgentMovement (SL: 240 s).
	AgentWait time.Duration
	// LogoutWait is how long the viewer waits for LogoutReply before quitting anyway (SL: 6 s).
	LogoutWait time.Duration
	// PingInterval is the StartPingCheck period (SL: 5 s ± 5 %).
	PingInterval time.Duration
	// AckDelay is how long an ack waits for a packet to ride on (SL: AckCollectTime 0.1 s).
	AckDelay time.Duration
	// AgentUpdateInterval is how often an idle viewer sends AgentUpdate.
	AgentUpdateInterval time.Duration
	// RegionTimeout is how long a viewer in world goes without hearing from its region before it
	// gives the region up (SL: 100 s without a CompletePingCheck; node-metaverse: 120 s without
	// one; LibreMetaverse: two 30 s ticks without any packet). 0 = never.
	RegionTimeout time.Duration
	// RegionTimeoutAnyPacket counts any packet from the region as a sign of life, not only
	// CompletePingCheck (LibreMetaverse).
	RegionTimeoutAnyPacket bool
	// Text is what this viewer shows its user for each failure.
	Text Messages
}

// Messages are a viewer's words for what went wrong.
type Messages struct {
	LoginUnreachable string // the login service could not be reached or did not answer
	CircuitFailed    string // UseCircuitCode was never acked
	HandshakeFailed  string // no RegionHandshake after the ack
	AgentWaitFailed  string // no AgentMovementComplete after CompleteAgentMovement
	RegionLost       string // the region fell silent while the viewer was in world
}

// SLViewer is the Second Life viewer's profile (shared/docs/reference/protocol.md §4).
var SLViewer = Profile{
	Name:                "sl-viewer",
	LoginTimeout:        90 * time.Second,
	CircuitResend:       5 * time.Second,
	CircuitRetries:      3,
	ResendTimeout:       5 * time.Second,
	Retries:             3,
	AgentWait:           240 * time.Second,
	LogoutWait:          6 * time.Second,
	PingInterval:        5 * time.Second,
	AckDelay:            100 * time.Millisecond,
	AgentUpdateInterval: time.Second,
	RegionTimeout:       100 * time.Second,
	Text: Messages{
		LoginUnreachable: MsgUnableToConnect,
		CircuitFailed:    MsgTroubleConnecting,
		HandshakeFailed:  MsgTroubleConnecting,
		AgentWaitFailed:  MsgTroubleConnecting,
		RegionLost:       MsgRegionTrouble,
	},
}

// LibreMetaverse is the LibreMetaverse client library's profile (protocol.md §4.8: Settings and
// Simulator.ConnectAsync). It logs in over LLSD-XML in reality; here it speaks XML-RPC like the
// others, which changes no timing.
var LibreMetaverse = Profile{
	Name:                   "libremetaverse",
	LoginTimeout:           60 * time.Second,
	CircuitResend:          4 * time.Second,
	CircuitRetries:         3,
	CircuitAckWait:         60 * time.Second,
	MovementDelay:          500 * time.Millisecond,
	HandshakeWait:          60 * time.Second,
	ResendTimeout:          4 * time.Second,
	Retries:                3,
	AgentWait:              60 * time.Second,
	LogoutWait:             5 * time.Second,
	PingInterval:           2200 * time.Millisecond,
	AckDelay:               500 * time.Millisecond,
	AgentUpdateInterval:    500 * time.Millisecond,
	RegionTimeout:          60 * time.Second,
	RegionTimeoutAnyPacket: true,
	Text: Messages{
		LoginUnreachable: "Unable to connect to simulator",
		CircuitFailed:    "Unable to establish a UDP connection to the simulator",
		HandshakeFailed:  "Giving up waiting for RegionHandshake",
		AgentWaitFailed:  "Giving up waiting for RegionHandshake",
		RegionLost:       "Network timeout for the current simulator, logging out",
	},
}

// NodeMetaverse is the node-metaverse client's profile (shared/peers/node-metaverse/NOTES.md):
// no login timeout of its own, UseCircuitCode resent every second until acked or 60 s pass,
// RegionHandshake awaited 10 s; it counts as connected without waiting for AgentMovementComplete,
// so its agent wait is the 10 s it gives the handshake reply's ack.
var NodeMetaverse = Profile{
	Name:                "node-metaverse",
	LoginTimeout:        0,
	CircuitResend:       time.Second,
	CircuitRetries:      -1,
	CircuitAckWait:      60 * time.Second,
	HandshakeWait:       10 * time.Second,
	ResendTimeout:       time.Second,
	Retries:             -1,
	AgentWait:           10 * time.Second,
	LogoutWait:          5 * time.Second,
	PingInterval:        5 * time.Second,
	AckDelay:            100 * time.Millisecond,
	AgentUpdateInterval: time.Second,
	RegionTimeout:       120 * time.Second,
	Text: Messages{
		LoginUnreachable: "connect ETIMEDOUT",
		CircuitFailed:    "Timeout",
		HandshakeFailed:  "Timeout waiting for message of type RegionHandshake",
		AgentWaitFailed:  "Timeout waiting for message of type AgentMovementComplete",
		RegionLost:       "Disconnected from the simulator",
	},
}

// Profiles lists the bundled profiles.
var Profiles = []Profile{SLViewer, LibreMetaverse, NodeMetaverse}

// ProfileByName returns a bundled profile; "" is sl-viewer.
func ProfileByName(name string) (Profile, error) {
	if name == "" {
		return SLViewer, nil
	}
	var known []string
	for _, p := range Profiles {
		if p.Name == name {
			return p, nil
		}
		known = append(known, p.Name)
	}
	return Profile{}, fmt.Errorf("unknown viewer profile %q (known: %s)", name, strings.Join(known, ", "))
}

// What the user sees. The LoginPacketNeverReceived text is the SL viewer's notification with the
// grid name in place of [SECOND_LIFE_GRID].
const (
	MsgUnableToConnect   = "Unable to connect to grid"
	MsgTroubleConnecting = "We're having trouble connecting. There may be a problem with your Internet connection or the grid. " +
		"You can either check your Internet connection and try again in a few minutes, click Help to view the support site, " +
		"or click Teleport to attempt to teleport home."
	// MsgRegionTrouble is AgentLostConnection, shown when the region stops answering pings.
	MsgRegionTrouble  = "This region may be experiencing trouble.  Please check your connection to the Internet."
	MsgMalformedReply = "Viewer received malformed response from server. Please check your login server address."
)
