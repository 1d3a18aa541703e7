package reports

import (
	"strconv"
	"time"
)

// Run is everything a finished run hands to the reports.
type Run struct {
	Scenario    string // scenario name
	Description string
	Seed        uint64
	Viewers     []Viewer
	Events      uint64        // simulation events dispatched
	VirtualTime time.Duration // virtual time the run covered
	TraceHash   uint64
	Counters    []Counter       // network/grid counters, already sorted by name
	Log         []LogLine       // grid log lines, in order
	Timeline    []TimelineEvent // the scenario's fault timeline as executed, in order
}

// TimelineEvent is one fault-timeline entry as it was carried out.
type TimelineEvent struct {
	At   time.Duration // virtual time
	What string        // e.g. "set internet loss=5%", "add rule block-sim-out on grid"
}

// Counter is one named network or grid counter.
type Counter struct {
	Name  string
	Value uint64
}

// LogLine is one grid log line.
type LogLine struct {
	At    time.Duration // virtual time
	Level string
	Text  string
}

// Stage is a step of the login sequence a viewer goes through.
type Stage int

// The login stages, in the order a viewer reaches them.
const (
	StageLoginReply       Stage = iota // XML-RPC login_to_simulator reply received
	StageCircuitAck                    // UseCircuitCode acknowledged
	StageRegionHandshake               // RegionHandshake received
	StageMovementComplete              // AgentMovementComplete received: in world
	NumStages
)

var (
	stageNames  = [NumStages]string{"login_reply", "circuit_ack", "region_handshake", "movement_complete"}
	stageTitles = [NumStages]string{"Login reply", "UseCircuitCode ack", "RegionHandshake", "AgentMovementComplete"}
)

// String returns the stage's id as used in report.json, e.g. "login_reply".
func (s Stage) String() string {
	if s < 0 || s >= NumStages {
		return "stage(" + strconv.Itoa(int(s)) + ")"
	}
	return stageNames[s]
}

// Title returns the stage's human name, e.g. "UseCircuitCode ack".
func (s Stage) Title() string {
	if s < 0 || s >= NumStages {
		return s.String()
	}
	return stageTitles[s]
}

// Outcome ids with a meaning to the reports. Any other outcome is a failure mode.
const (
	OutcomeSuccess = "success"
	// OutcomeUnfinished is reported for a viewer whose Outcome is empty,
	// i.e. the run ended before its login was decided.
	OutcomeUnfinished = "unfinished"
)

// Viewer is the result of one synthetic viewer.
type Viewer struct {
	ID         int
	Name       string
	Population string
	Placement  string // network placement
	Profile    string
	// Start is the virtual time the viewer started its login (intended start).
	Start time.Duration
	// Stages is the time from Start to reaching each stage; negative (-1) = not reached.
	Stages [NumStages]time.Duration
	// Outcome is "success" or a failure-mode id such as "bad-credentials".
	Outcome string
	// Message is what the user saw (failure text), "" on success.
	Message string
	// EndedAt is the virtual time the outcome was decided, from the run start.
	EndedAt time.Duration
}
