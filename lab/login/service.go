package login

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"gridlab/lab/grid"
	"gridlab/lab/vhttp"
)

// Logger receives log lines; the lab stamps them with virtual time.
type Logger interface {
	Logf(level, format string, args ...any)
}

// AgentCircuit is what a region is told to expect for a login (OpenSim's AgentCircuitData).
type AgentCircuit struct {
	AgentID, SessionID, SecureSessionID uuid.UUID
	CircuitCode                         uint32
	First, Last                         string
	StartPos                            [3]float32
	LookAt                              [3]float32
	CapsPath                            string // the seed capability's UUID, without the "0000/" suffix
	ClientIP                            netip.Addr
	ViaLogin                            bool
}

// Destination is a region's simulation service as the login service sees it: in process in
// standalone mode (the region answers at once), over HTTP in grid mode (QUERYACCESS, then the
// POST of the agent, answered when the region has replied or the request failed). LaunchAgent
// calls done exactly once, now or later, on the caller's event loop: nil when the region
// expects the agent, else the refusal or failure, whose text becomes the login message.
type Destination interface {
	LaunchAgent(c AgentCircuit, done func(err error))
}

// Region is a region the login service can send agents to.
type Region struct {
	Name         string
	ID           uuid.UUID
	X, Y         uint32 // grid coordinates (regions)
	SizeX, SizeY uint32 // metres; 0 means 256
	SimIP        netip.Addr
	SimPort      uint16 // UDP
	ServerURI    string // "http://host:port/", the base of seed capabilities
	Dest         Destination
	Default      bool // a DefaultRegion: where "home", "last" and unknown locations go
	Fallback     bool // a FallbackRegion: tried in turn when the destination refuses the agent
}

// Config configures a Service.
type Config struct {
	Accounts *grid.Accounts
	Regions  []Region
	Welcome  string     // the login message; <USERNAME> is replaced by the user's name
	IDs      *rand.Rand // session IDs, circuit codes and caps paths
	Log      Logger
	GridName string
	GridNick string
	LoginURI string
	// Epoch, if set, gives seconds_since_epoch; cores read no wall clock, so it is 0 otherwise.
	Epoch func() int64
	// MaxAgentGroups is max-agent-groups in the reply; 0 means OpenSim's 42.
	MaxAgentGroups int32
	// CheckPresence refuses a login for an agent that is already online (OpenSim with
	// AllowDuplicatePresences = false): the old session is kicked through Kick and the login
	// fails with reason "presence"; the next attempt succeeds.
	CheckPresence bool
	// Kick, if set, is asked to remove an agent found online by CheckPresence.
	Kick func(agent uuid.UUID)
}

// MaxRequestBody is the largest request body the service reads.
const MaxRequestBody = 1 << 20

// Failure messages, as OpenSim's LLFailedLoginResponse sends them (protocol.md §3.3).
const (
	MsgIncomplete       = "Incomplete login credentials. Check your username and password."
	MsgUserProblem      = "Could not authenticate your avatar. Please check your username and password, and check the grid if problems persist."
	MsgGridProblem      = "Error connecting to the desired location. Try connecting to another region."
	MsgInventoryProblem = "The inventory service is not responding.  Please notify your login region operator."
	MsgLoginBlocked     = "Logins are currently restricted. Please try again later."
	MsgInternalError    = "Error generating Login Response"
)

// Stats counts login outcomes.
type Stats struct {
	Requests, Succeeded, Incomplete, UnknownUser, BadPassword, NoDestination, Refused, Fallbacks uint64
	AlreadyOnline                                                                                uint64
}

// Service is the login service: XML-RPC login_to_simulator, grid info and /simstatus.
// It implements vhttp.Handler and, like every core, must be used from one event loop.
type Service struct {
	cfg      Config
	def      int // index of the default region, -1 if none
	issued   map[uint32]struct{}
	stats    Stats
	gridXML  []byte
	gridJSON []byte
	online   map[uuid.UUID]uuid.UUID // agent → session
	// replySize is the longest login reply written so far: the next one's buffer starts with
	// that capacity (it affects allocation only, never the bytes).
	replySize int
	// spare holds reply buffers already written out (a vhttp reply has sent the body when it
	// returns): each login would otherwise allocate ~24 KB for its reply.
	spare vhttp.Buffers
}

// replyBuf returns an empty buffer for a login reply: a spare one if there is one.
func (s *Service) replyBuf() []byte {
	if b := s.spare.Get(); b != nil {
		return b
	}
	return make([]byte, 0, s.replySize) // one allocation, not a doubling chain
}

// New checks cfg and returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Accounts == nil {
		return nil, errors.New("login: Config.Accounts is nil")
	}
	if cfg.IDs == nil {
		return nil, errors.New("login: Config.IDs is nil")
	}
	if cfg.Log == nil {
		cfg.Log = nopLogger{}
	}
	if cfg.Welcome == "" {
		cfg.Welcome = "Welcome, Avatar!"
	}
	if cfg.MaxAgentGroups == 0 {
		cfg.MaxAgentGroups = 42
	}
	cfg.Regions = append([]Region(nil), cfg.Regions...)
	s := &Service{cfg: cfg, def: -1, issued: map[uint32]struct{}{}, online: map[uuid.UUID]uuid.UUID{}}
	names := map[string]bool{}
	for i := range s.cfg.Regions {
		r := &s.cfg.Regions[i]
		if r.Name == "" {
			return nil, fmt.Errorf("login: region %d has no name", i)
		}
		if names[strings.ToLower(r.Name)] {
			return nil, fmt.Errorf("login: region %q is listed twice", r.Name)
		}
		names[strings.ToLower(r.Name)] = true
		if r.SizeX == 0 {
			r.SizeX = 256
		}
		if r.SizeY == 0 {
			r.SizeY = 256
		}
		if r.ServerURI != "" && !strings.HasSuffix(r.ServerURI, "/") {
			r.ServerURI += "/"
		}
		if r.Default && s.def < 0 {
			s.def = i
		}
	}
	if s.def < 0 && len(s.cfg.Regions) > 0 {
		s.def = 0
	}
	s.buildGridInfo()
	return s, nil
}

// DefaultRegion returns the name of the region "last", "home" and unknown start locations go to.
func (s *Service) DefaultRegion() (string, bool) {
	if s.def < 0 {
		return "", false
	}
	return s.cfg.Regions[s.def].Name, true
}

// Stats returns the outcome counters.
func (s *Service) Stats() Stats { return s.stats }

type nopLogger struct{}

func (nopLogger) Logf(string, string, ...any) {}

func (s *Service) buildGridInfo() {
	type kv struct{ k, v string }
	kvs := []kv{{"platform", "OpenSim"}, {"login", s.cfg.LoginURI}, {"gridname", s.cfg.GridName}, {"gridnick", s.cfg.GridNick}}
	var e enc
	e.raw("<gridinfo>")
	for _, p := range kvs {
		e.raw("<" + p.k + ">")
		e.esc(p.v)
		e.raw("</" + p.k + ">")
	}
	e.raw("</gridinfo>")
	s.gridXML = e.b
	var j []byte
	j = append(j, '{')
	for i, p := range kvs {
		if i > 0 {
			j = append(j, ',')
		}
		k, _ := json.Marshal(p.k)
		v, _ := json.Marshal(p.v)
		j = append(append(append(j, k...), ':'), v...)
	}
	s.gridJSON = append(j, '}')
}

func reply(r func(vhttp.Response), status int, ctype string, body []byte) {
	h := http.Header{}
	if ctype != "" {
		h.Set("Content-Type", ctype)
	}
	r(vhttp.Response{Status: status, Header: h, Body: body})
}

// ServeVHTTP serves POST XML-RPC (login_to_simulator, get_grid_info), GET /get_grid_info,
// GET /json_grid_info and GET /simstatus; anything else is 404.
func (s *Service) ServeVHTTP(req *http.Request, body []byte, r func(vhttp.Response)) {
	path := req.URL.Path
	switch req.Method {
	case http.MethodGet, http.MethodHead:
		switch path {
		case "/get_grid_info":
			reply(r, http.StatusOK, "application/xml", s.gridXML)
		case "/json_grid_info":
			reply(r, http.StatusOK, "application/json", s.gridJSON)
		case "/simstatus":
			// OpenSim answers without keep-alive.
			r(vhttp.Response{Status: http.StatusOK, Header: http.Header{
				"Content-Type": {"text/plain"}, "Connection": {"close"}}, Body: []byte("OK")})
		default:
			reply(r, http.StatusNotFound, "text/plain", []byte("Not Found\n"))
		}
		return
	case http.MethodPost:
	default:
		reply(r, http.StatusNotFound, "text/plain", []byte("Not Found\n"))
		return
	}
	ct, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if ct == "application/llsd+xml" {
		if len(body) > MaxRequestBody {
			reply(r, http.StatusRequestEntityTooLarge, "text/plain", []byte("Request Entity Too Large\n"))
			return
		}
		s.serveLLSDLogin(req, body, r)
		return
	}
	if path != "/" && ct != "text/xml" && ct != "application/xml" {
		reply(r, http.StatusNotFound, "text/plain", []byte("Not Found\n"))
		return
	}
	if len(body) > MaxRequestBody {
		reply(r, http.StatusRequestEntityTooLarge, "text/plain", []byte("Request Entity Too Large\n"))
		return
	}
	call, err := decodeMethodCall(body)
	if err != nil {
		s.cfg.Log.Logf("WARN", "[XMLRPC]: bad request from %s: %s", clean(req.RemoteAddr), clean(err.Error()))
		reply(r, http.StatusBadRequest, "text/plain", []byte(err.Error()+"\n"))
		return
	}
	var e enc
	switch call.method {
	case "login_to_simulator":
		s.login(call, req, func(e *enc) {
			s.replySize = max(s.replySize, len(e.b))
			reply(r, http.StatusOK, "text/xml", e.b)
			s.spare.Put(e.b)
		})
		return
	case "get_grid_info":
		e.beginResponse()
		e.beginStruct()
		e.ms("platform", "OpenSim")
		e.ms("login", s.cfg.LoginURI)
		e.ms("gridname", s.cfg.GridName)
		e.ms("gridnick", s.cfg.GridNick)
		e.endStruct()
		e.endResponse()
	default:
		e.fault(-32601, "Requested method ["+call.method+"] not found")
	}
	reply(r, http.StatusOK, "text/xml", e.b)
}

// clean makes a client-supplied string safe for one log line.
func clean(s string) string {
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

// param returns a request struct member as text (OpenSim calls ToString() on it).
func param(p *value, name string) (string, bool) {
	if p == nil {
		return "", false
	}
	v, ok := p.get(name)
	if !ok {
		return "", false
	}
	s, ok := v.scalar()
	return s, ok
}

func paramOr(p *value, name, def string) string {
	if s, ok := param(p, name); ok {
		return s
	}
	return def
}

var startURI = regexp.MustCompile(`^uri:(?P<region>[^&]+)&(?P<x>\d+[.]?\d*)&(?P<y>\d+[.]?\d*)&(?P<z>\d+[.]?\d*)$`)

// destination is where a login goes.
type destination struct {
	r      *Region
	pos    [3]float32
	where  string // start_location: "safe" or "url"
	regIdx int
}

func (s *Service) failure(e *enc, reason, msg string) {
	e.beginResponse()
	e.beginStruct()
	e.ms("reason", reason)
	e.ms("message", msg)
	e.ms("login", "false")
	e.endStruct()
	e.endResponse()
}

// login runs LLLoginService.Login. The reply is written into an enc handed to finish, at once
// for every failure before the destination is asked, later when the region has answered.
func (s *Service) login(call *methodCall, req *http.Request, finish func(e *enc)) {
	s.stats.Requests++
	e := &enc{b: s.replyBuf()}
	fail := func(reason, msg string) {
		s.failure(e, reason, msg)
		finish(e)
	}
	var p *value
	if len(call.params) > 0 && call.params[0].kind == kindStruct {
		p = &call.params[0]
	}
	first, okF := param(p, "first")
	last, okL := param(p, "last")
	passwd, okP := param(p, "passwd")
	if !okP {
		if k, ok := param(p, "web_login_key"); ok {
			if id, err := uuid.Parse(k); err == nil && id != uuid.Nil {
				passwd, okP = "$1$"+k, true
			}
		}
	}
	if !okF || !okL || !okP {
		s.stats.Incomplete++
		s.cfg.Log.Logf("INFO", "[LOGIN]: login_to_simulator request from %s did not contain all the required data", clean(req.RemoteAddr))
		fail("key", MsgIncomplete)
		return
	}
	start := paramOr(p, "start", "")
	version := paramOr(p, "version", "Unknown")
	channel := paramOr(p, "channel", "Unknown")
	mac := paramOr(p, "mac", "Unknown")
	id0 := paramOr(p, "id0", "Unknown")

	var clientIP netip.Addr
	if ap, err := netip.ParseAddrPort(req.RemoteAddr); err == nil {
		clientIP = ap.Addr().Unmap()
	} else if a, err := netip.ParseAddr(req.RemoteAddr); err == nil {
		clientIP = a.Unmap()
	}
	ipText := "unknown"
	if clientIP.IsValid() {
		ipText = clientIP.String()
	}
	log := s.cfg.Log
	log.Logf("INFO", "[LLOGIN SERVICE]: Login request for %s %s at %s using viewer %s, channel %s, IP %s, Mac %s, Id0 %s ",
		clean(first), clean(last), clean(start), clean(version), clean(channel), ipText, clean(mac), clean(id0))

	acc, ok := s.cfg.Accounts.Lookup(first, last)
	if !ok {
		s.stats.UnknownUser++
		log.Logf("INFO", "[LLOGIN SERVICE]: Login failed for user %s %s, reason: user not found", clean(first), clean(last))
		fail("key", MsgUserProblem)
		return
	}
	log.Logf("DEBUG", "[AUTH SERVICE]: Authenticating for %s, user account service present: True", acc.ID)
	if !s.cfg.Accounts.Authenticate(acc, passwd) {
		s.stats.BadPassword++
		log.Logf("INFO", "[LLOGIN SERVICE]: Login failed for user %s %s, reason: authentication failed", clean(first), clean(last))
		fail("key", MsgUserProblem)
		return
	}
	if s.cfg.CheckPresence {
		if old, on := s.online[acc.ID]; on {
			s.stats.AlreadyOnline++
			log.Logf("INFO", "[LLOGIN SERVICE]: Login failed for user %s %s, reason: already logged in", acc.First, acc.Last)
			if s.cfg.Kick != nil {
				s.cfg.Kick(acc.ID)
			}
			s.LogoutAgent(acc.ID, old)
			fail("presence", MsgAlreadyLoggedIn)
			return
		}
	}
	ids := s.cfg.IDs
	secure := grid.RandomUUID(ids)
	session := grid.RandomUUID(ids)
	log.Logf("INFO", "[PRESENCE SERVICE]: LoginAgent: session %s, user %s, region %s", session, acc.ID, uuid.Nil)

	log.Logf("INFO", "[LLOGIN SERVICE]: Finding destination matching start location %s for %s %s", clean(start), acc.First, acc.Last)
	dest, ok := s.findDestination(start)
	if !ok {
		s.stats.NoDestination++
		log.Logf("INFO", "[LLOGIN SERVICE]: Login failed for user %s %s, reason: destination not found", acc.First, acc.Last)
		fail("key", MsgGridProblem)
		return
	}
	log.Logf("INFO", "[LLOGIN SERVICE]: Found destination %s, endpoint %s for %s %s",
		dest.r.Name, netip.AddrPortFrom(dest.r.SimIP, dest.r.SimPort), acc.First, acc.Last)

	caps := grid.RandomUUID(ids)
	ac := AgentCircuit{
		AgentID: acc.ID, SessionID: session, SecureSessionID: secure,
		CircuitCode: s.circuitCode(),
		First:       acc.First, Last: acc.Last,
		StartPos: dest.pos, LookAt: [3]float32{0, 1, 0},
		CapsPath: caps.String(), ClientIP: clientIP, ViaLogin: true,
	}
	s.launch(&dest, ac, func(reason string, ok bool) {
		if !ok {
			s.stats.Refused++
			log.Logf("INFO", "[LLOGIN SERVICE]: Login failed for user %s %s, reason: %s", acc.First, acc.Last, clean(reason))
			fail("key", reason)
			return
		}
		s.stats.Succeeded++
		if s.cfg.CheckPresence {
			s.online[acc.ID] = session
			log.Logf("INFO", "[GRID USER SERVICE]: User %s is online", acc.ID)
		}
		log.Logf("DEBUG", "[LOGIN RESPONSE]: LLLoginResponse create. sizeX=%d, sizeY=%d", dest.r.SizeX, dest.r.SizeY)
		log.Logf("INFO", "[LLOGIN SERVICE]: All clear. Sending login response to %s %s", acc.First, acc.Last)
		s.success(e, acc, ac, &dest)
		finish(e)
	})
}

// circuitCode draws a circuit code that is nonzero, below 2^31 (OpenSim draws from
// Random.Next(), so the i4 on the wire is never negative) and not issued before by this service.
func (s *Service) circuitCode() uint32 {
	for {
		c := s.cfg.IDs.Uint32() & 0x7fffffff
		if _, dup := s.issued[c]; c != 0 && !dup {
			s.issued[c] = struct{}{}
			return c
		}
	}
}

// findDestination follows LLLoginService.FindDestination for a grid without last/home
// locations: "last", "home" and "" go to the default region ("safe"); "uri:Region&x&y&z" goes
// to that region ("url") if it exists, else to the default region.
func (s *Service) findDestination(start string) (destination, bool) {
	def := func() (destination, bool) {
		if s.def < 0 {
			return destination{}, false
		}
		return destination{r: &s.cfg.Regions[s.def], pos: [3]float32{128, 128, 0}, where: "safe", regIdx: s.def}, true
	}
	switch start {
	case "last", "home", "":
		return def()
	}
	m := startURI.FindStringSubmatch(start)
	if m == nil {
		s.cfg.Log.Logf("INFO", "[LLOGIN SERVICE]: Got Custom Login URI %s, but can't process it. Trying defaults.", clean(start))
		return def()
	}
	name := m[1]
	if u, err := url.PathUnescape(name); err == nil {
		name = u
	}
	if strings.Contains(name, "@") {
		s.cfg.Log.Logf("INFO", "[LLOGIN SERVICE]: Got Custom direct HG Login URI no longer supported")
		return destination{}, false
	}
	for i := range s.cfg.Regions {
		if strings.EqualFold(s.cfg.Regions[i].Name, name) {
			x, _ := strconv.ParseFloat(m[2], 32)
			y, _ := strconv.ParseFloat(m[3], 32)
			z, _ := strconv.ParseFloat(m[4], 32)
			return destination{r: &s.cfg.Regions[i], pos: [3]float32{float32(x), float32(y), float32(z)}, where: "url", regIdx: i}, true
		}
	}
	s.cfg.Log.Logf("INFO", "[LLOGIN SERVICE]: Got Custom Login URI %s, can't locate region %s. Trying defaults.", clean(start), clean(name))
	return def()
}

// launch tells the destination to expect the agent; on refusal or failure it tries the fallback
// regions in turn, nearest first (ties in configuration order), as LaunchAgentAtGrid does. done
// gets the last reason when every region failed. With in-process destinations it all happens
// before launch returns; with remote ones each attempt waits for the region's answer.
func (s *Service) launch(d *destination, ac AgentCircuit, done func(reason string, ok bool)) {
	var order []int
	for i := range s.cfg.Regions {
		if s.cfg.Regions[i].Fallback && i != d.regIdx {
			order = append(order, i)
		}
	}
	dist := func(i int) int64 {
		dx := int64(s.cfg.Regions[i].X) - int64(d.r.X)
		dy := int64(s.cfg.Regions[i].Y) - int64(d.r.Y)
		return dx*dx + dy*dy
	}
	// Insertion sort: stable and allocation-free for the handful of fallback regions.
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && dist(order[j]) < dist(order[j-1]); j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	var try func(k int)
	try = func(k int) {
		r := d.r
		if k > 0 {
			r = &s.cfg.Regions[order[k-1]]
		}
		expect(r, ac, func(reason string, ok bool) {
			if ok {
				if k > 0 {
					s.stats.Fallbacks++
					s.cfg.Log.Logf("INFO", "[LLOGIN SERVICE]: Using fallback region %s for %s %s", r.Name, ac.First, ac.Last)
					d.r, d.regIdx, d.where = r, order[k-1], "safe"
				}
				done("", true)
				return
			}
			s.cfg.Log.Logf("INFO", "[LLOGIN SERVICE]: Region %s refused agent %s %s: %s", r.Name, ac.First, ac.Last, clean(reason))
			if k < len(order) {
				try(k + 1)
				return
			}
			done(reason, false)
		})
	}
	try(0)
}

func expect(r *Region, ac AgentCircuit, done func(reason string, ok bool)) {
	if r.Dest == nil {
		done("", true)
		return
	}
	called := false
	r.Dest.LaunchAgent(ac, func(err error) {
		if called {
			return
		}
		called = true
		if err != nil {
			done(err.Error(), false)
			return
		}
		done("", true)
	})
}
