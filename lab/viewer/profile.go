package viewer

import (
	"fmt"
	"time"
)

// Profile holds a viewer implementation's timers.
type Profile struct {
	Name string
	// LoginTimeout is the HTTP timeout of the login request (SL: LoginSRVTimeout 90 s, never retried).
	LoginTimeout time.Duration
	// CircuitResend and CircuitRetries are UseCircuitCode's fixed resend schedule
	// (SL: UseCircuitCodeTimeout 5 s, UseCircuitCodeMaxRetries 3: failure at about 20 s).
	CircuitResend  time.Duration
	CircuitRetries int
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
}

// ProfileByName returns a bundled profile.
func ProfileByName(name string) (Profile, error) {
	switch name {
	case "", SLViewer.Name:
		return SLViewer, nil
	}
	return Profile{}, fmt.Errorf("unknown viewer profile %q (known: sl-viewer)", name)
}

// What the user sees. The LoginPacketNeverReceived text is the SL viewer's notification with the
// grid name in place of [SECOND_LIFE_GRID].
const (
	MsgUnableToConnect   = "Unable to connect to grid"
	MsgTroubleConnecting = "We're having trouble connecting. There may be a problem with your Internet connection or the grid. " +
		"You can either check your Internet connection and try again in a few minutes, click Help to view the support site, " +
		"or click Teleport to attempt to teleport home."
	MsgMalformedReply = "Viewer received malformed response from server. Please check your login server address."
)
