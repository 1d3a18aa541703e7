package region

import (
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"gridlab/lab/llsd"
	"gridlab/lab/vhttp"
	"gridlab/sim"
)

// Capabilities over HTTP: the seed capability, EventQueueGet and FetchInventoryDescendents2,
// as OpenSim's BunchOfCaps and EventQueueGetModule serve them. The login reply's
// seed_capability is <ServerURI>CAPS/<CapsPath>0000/; the other capabilities live under
// CAPS/<CapsPath>/<Name>. Like the rest of the region this is a sans-IO core: the driver hands
// requests in through ServeVHTTP (vhttp.Handler) and the event queue's long poll is a timer on
// the region's clock.

// EventQueueHold is how long an EventQueueGet poll is held before the region answers 502
// (OpenSim holds it about 58 s, below the viewer's 60 s HTTP timeout).
const EventQueueHold = 58 * time.Second

// capsNames are the capabilities the seed capability grants, when asked for.
var capsNames = map[string]bool{"EventQueueGet": true, "FetchInventoryDescendents2": true, "SimulatorFeatures": true}

// agentCaps is one agent's capabilities and event queue.
type agentCaps struct {
	path      string // CapsPath
	agent     uuid.UUID
	first     string
	last      string
	seeded    bool // the seed capability was POSTed (OpenSim's SentSeeds)
	events    []eqEvent
	nextID    int64
	poll      func(vhttp.Response)
	pollTimer sim.Timer
	closed    bool
}

type eqEvent struct {
	message string
	body    []byte // an LLSD value, already encoded without the <llsd> wrapper
}

func textReply(r func(vhttp.Response), status int, text string) {
	r(vhttp.Response{Status: status, Header: http.Header{"Content-Type": {"text/plain"}}, Body: []byte(text)})
}

func llsdReply(r func(vhttp.Response), body []byte) {
	r(vhttp.Response{Status: http.StatusOK, Header: http.Header{"Content-Type": {"application/llsd+xml"}}, Body: body})
}

// OwnsPath reports whether path is one of this region's capabilities.
func (r *Region) OwnsPath(path string) bool {
	rest, ok := strings.CutPrefix(path, "/CAPS/")
	if !ok || len(rest) < 36 {
		return false
	}
	_, ok = r.caps[rest[:36]]
	return ok
}

// ServeVHTTP serves the region's capabilities. Requests for unknown capabilities get 404.
func (r *Region) ServeVHTTP(req *http.Request, body []byte, reply func(vhttp.Response)) {
	rest, ok := strings.CutPrefix(req.URL.Path, "/CAPS/")
	if !ok || len(rest) < 36 {
		textReply(reply, http.StatusNotFound, "Not Found\n")
		return
	}
	ac := r.caps[rest[:36]]
	if ac == nil || ac.closed {
		textReply(reply, http.StatusNotFound, "Not Found\n")
		return
	}
	name := strings.Trim(rest[36:], "/")
	switch {
	case name == "0000" && req.Method == http.MethodPost:
		r.seed(ac, req, body, reply)
	case name == "EventQueueGet" && req.Method == http.MethodPost:
		r.eventQueueGet(ac, body, reply)
	case name == "FetchInventoryDescendents2" && req.Method == http.MethodPost:
		r.fetchInventoryDescendents(ac, body, reply)
	case name == "SimulatorFeatures" && req.Method == http.MethodGet:
		w := llsd.NewWriter().BeginMap().
			Key("MeshRezEnabled").Bool(true).Key("MeshUploadEnabled").Bool(false).
			Key("MaxMaterialsPerTransaction").Int(50).Key("OpenSimExtras").BeginMap().
			Key("GridName").String(r.cfg.Name).EndMap().EndMap()
		llsdReply(reply, w.Bytes())
	default:
		textReply(reply, http.StatusNotFound, "Not Found\n")
	}
}

// seed answers the seed capability: a compact LLSD map of the requested capabilities this
// region serves, name → <string> URL, in the order they were asked for.
func (r *Region) seed(ac *agentCaps, req *http.Request, body []byte, reply func(vhttp.Response)) {
	v, err := llsd.Decode(body)
	if err != nil || v.Kind != llsd.Array {
		r.cfg.Log.Logf("WARN", "[CAPS]: Bad SEED caps request in %s for agent %s", r.cfg.Name, ac.agent)
		textReply(reply, http.StatusBadRequest, "Bad Request\n")
		return
	}
	r.cfg.Log.Logf("INFO", "[CAPS]: Received SEED caps request in %s for agent %s", r.cfg.Name, ac.agent)
	ac.seeded = true
	host := req.Host
	if host == "" {
		host = "127.0.0.1"
	}
	base := "http://" + host + "/CAPS/" + ac.path + "/"
	w := llsd.NewWriter().BeginMap()
	seen := map[string]bool{}
	for _, it := range v.Items {
		n := it.AsString()
		if capsNames[n] && !seen[n] {
			seen[n] = true
			w.Key(n).String(base + n)
		}
	}
	llsdReply(reply, w.EndMap().Bytes())
	if cl := r.byAgent[ac.agent]; cl != nil {
		r.maybeInitialData(cl)
	}
}

// Enqueue adds an event (an LLSD map body written without the <llsd> wrapper) to an agent's
// event queue. It reports false when the agent has no event queue here.
func (r *Region) Enqueue(agent uuid.UUID, message string, body []byte) bool {
	cl := r.byAgent[agent]
	if cl == nil || cl.caps == nil {
		return false
	}
	ac := cl.caps
	ac.events = append(ac.events, eqEvent{message: message, body: body})
	if ac.poll != nil {
		r.flushEvents(ac)
	}
	return true
}

func (r *Region) flushEvents(ac *agentCaps) {
	ac.pollTimer.Stop()
	poll := ac.poll
	ac.poll = nil
	ac.nextID++
	w := llsd.NewWriter().BeginMap().Key("events").BeginArray()
	for _, e := range ac.events {
		w.BeginMap().Key("message").String(e.message).Key("body").Value(mustDecodeInner(e.body)).EndMap()
	}
	w.EndArray().Key("id").Int(ac.nextID).EndMap()
	ac.events = ac.events[:0]
	llsdReply(poll, w.Bytes())
}

// mustDecodeInner decodes an event body written by this package; an unreadable one is undef.
func mustDecodeInner(b []byte) llsd.Value {
	v, err := llsd.Decode(append(append([]byte("<llsd>"), b...), "</llsd>"...))
	if err != nil {
		return llsd.Value{}
	}
	return v
}

// eventQueueGet is the long poll: events at once if there are any, else held until an event
// arrives or EventQueueHold passes (502, as OpenSim answers an empty poll).
func (r *Region) eventQueueGet(ac *agentCaps, body []byte, reply func(vhttp.Response)) {
	if v, err := llsd.Decode(body); err == nil {
		if d, ok := v.Get("done"); ok && d.AsBool() {
			textReply(reply, http.StatusNotFound, "Not Found\n")
			return
		}
	}
	if ac.poll != nil { // a new poll replaces the old one, which gets the empty answer
		ac.pollTimer.Stop()
		old := ac.poll
		ac.poll = nil
		textReply(old, http.StatusBadGateway, "Upstream error: ")
	}
	ac.poll = reply
	if len(ac.events) > 0 {
		r.flushEvents(ac)
		return
	}
	ac.pollTimer = r.cfg.Clock.After(EventQueueHold, "region-eq-hold", func() {
		if ac.poll != nil {
			p := ac.poll
			ac.poll = nil
			textReply(p, http.StatusBadGateway, "Upstream error: ")
		}
	})
}

// fetchInventoryDescendents answers FetchInventoryDescendents2 with empty folders: this grid
// has no inventory store, and an empty Current Outfit is what a fresh avatar has.
func (r *Region) fetchInventoryDescendents(ac *agentCaps, body []byte, reply func(vhttp.Response)) {
	v, err := llsd.Decode(body)
	if err != nil {
		textReply(reply, http.StatusBadRequest, "Bad Request\n")
		return
	}
	folders, _ := v.Get("folders")
	w := llsd.NewWriter().BeginMap().Key("folders").BeginArray()
	for _, f := range folders.Items {
		id, _ := f.Get("folder_id")
		w.BeginMap().
			Key("folder_id").UUID(id.AsUUID()).
			Key("owner_id").UUID(ac.agent).
			Key("agent_id").UUID(ac.agent).
			Key("version").Int(1).
			Key("descendents").Int(0).
			Key("categories").BeginArray().EndArray().
			Key("items").BeginArray().EndArray().
			EndMap()
	}
	llsdReply(reply, w.EndArray().EndMap().Bytes())
}

// closeCaps ends an agent's capabilities: a held poll is answered 404 and later requests too.
func (r *Region) closeCaps(ac *agentCaps) {
	if ac == nil || ac.closed {
		return
	}
	ac.closed = true
	ac.pollTimer.Stop()
	if ac.poll != nil {
		p := ac.poll
		ac.poll = nil
		textReply(p, http.StatusNotFound, "Not Found\n")
	}
	delete(r.caps, ac.path)
	r.cfg.Log.Logf("DEBUG", "[CAPS]: Remove caps for agent %s in region %s", ac.agent, r.cfg.Name)
}
