package reports

import (
	"slices"
	"strconv"
	"strings"
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
	// Samples are the run's per-virtual-second samples, in time order (may be empty).
	Samples []Sample
	// Traces are recorded per-viewer event traces, sorted by viewer ID (may be empty;
	// viewers without a trace are simply absent).
	Traces []ViewerTrace
	// Expectations are the verdicts of the scenario's expectations, in scenario order.
	Expectations []Expectation
	// Findings are the grid-level diagnoses, in mode order.
	Findings []Finding
}

// Sample is a snapshot of the run taken every virtual second. Counts are
// cumulative since the start of the run unless noted.
type Sample struct {
	At       time.Duration // virtual time of the sample
	Decided  int           // viewers whose login was decided (in world or failed)
	InWorld  int           // viewers that reached AgentMovementComplete
	Failed   int           // viewers that failed
	Circuits int           // circuits open at the regions right now (not cumulative)
	UDPSent  uint64        // datagrams handed to the network
	UDPDeliv uint64        // datagrams delivered to a socket
	UDPLost  uint64        // datagrams and segments dropped by link loss
	Drops    uint64        // packets dropped for any reason, loss included
	Resends  uint64        // LLUDP reliable resends, viewers and regions
}

// Expectation is the verdict of one scenario expectation, e.g. name
// "movement_complete p99", threshold "< 5s", observed "1.354s".
type Expectation struct {
	Name      string `json:"name"`
	Threshold string `json:"threshold"`
	Observed  string `json:"observed"`
	Pass      bool   `json:"pass"`
}

// ViewerTrace is the recorded story of one viewer. Full traces keep every
// event; others keep the first events and the last ones, with Omitted events
// left out between them (marked by an event of kind TraceGap).
type ViewerTrace struct {
	ViewerID int          `json:"viewer_id"`
	Full     bool         `json:"full"`
	Omitted  int          `json:"omitted"`
	Events   []TraceEvent `json:"events"`
}

// Parties of a trace event.
const (
	PartyViewer = "viewer"
	PartyLogin  = "login"
	PartyRegion = "region"
)

// Kinds of trace event.
const (
	TraceMessage = "msg"     // a message from one party to another (sent and/or received)
	TraceDrop    = "drop"    // the network dropped a packet of this viewer
	TraceStage   = "stage"   // the viewer reached a login stage
	TraceOutcome = "outcome" // the viewer's login was decided
	TraceGap     = "gap"     // events left out of a bounded trace
)

// TraceEvent is one event of a viewer's trace. A message that was both sent
// and received is one event with both times; one that was sent and lost has
// Dropped set and the drop's reason in Note.
type TraceEvent struct {
	At       time.Duration `json:"at_ns"`                // when it was sent (or happened)
	RecvAt   time.Duration `json:"recv_at_ns,omitempty"` // when it was received; 0 = not received / not a message
	Kind     string        `json:"kind"`
	From     string        `json:"from,omitempty"` // a Party*
	To       string        `json:"to,omitempty"`   // a Party*
	What     string        `json:"what"`           // message name, stage title, outcome ...
	Seq      uint32        `json:"seq,omitempty"`
	Reliable bool          `json:"reliable,omitempty"`
	Resent   bool          `json:"resent,omitempty"`
	Acks     int           `json:"acks,omitempty"` // acks carried (appended or in a PacketAck)
	Bytes    int           `json:"bytes,omitempty"`
	Dropped  bool          `json:"dropped,omitempty"`
	Note     string        `json:"note,omitempty"`
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
	StageLoginReply        Stage = iota // XML-RPC login_to_simulator reply received
	StageCircuitAck                     // UseCircuitCode acknowledged
	StageRegionHandshake                // RegionHandshake received
	StageMovementComplete               // AgentMovementComplete received: in world
	StageFirstObjectUpdate              // first ObjectUpdate received: the world starts to appear
	NumStages
)

var (
	stageNames  = [NumStages]string{"login_reply", "circuit_ack", "region_handshake", "movement_complete", "first_object_update"}
	stageTitles = [NumStages]string{"Login reply", "UseCircuitCode ack", "RegionHandshake", "AgentMovementComplete", "first ObjectUpdate"}
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
	// Mode is the failure mode of shared/docs/FAILURE_MODES.md the lab diagnosed: the outcome of
	// a failed viewer, or a mode a successful viewer went through (region-down-fallback,
	// relogin-during-logout); "" for an unremarkable success.
	Mode string
	// Evidence says in words what the diagnosis rests on; Fix is what an operator would change.
	Evidence string
	Fix      string
}

// Finding is a failure mode the lab saw in the grid rather than in one viewer's login, such as
// garbage datagrams reaching a region (malformed-udp).
type Finding struct {
	Mode     string
	Count    int // occurrences (datagrams, queue overflows, ...), as Evidence says
	Evidence string
	Fix      string
}

// CountersOf lists a name → value map as Run.Counters wants it: sorted by name.
func CountersOf(m map[string]uint64) []Counter {
	out := make([]Counter, 0, len(m))
	for n, v := range m {
		out = append(out, Counter{Name: n, Value: v})
	}
	slices.SortFunc(out, func(a, b Counter) int { return strings.Compare(a.Name, b.Name) })
	return out
}
