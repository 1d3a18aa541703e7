package region

import (
	"mime"
	"net/http"
	"net/netip"
	"strings"

	"github.com/google/uuid"

	"gridlab/lab/login"
	"gridlab/lab/vhttp"
)

// Server is a region process's HTTP server in grid mode (OpenSim's http_listener_port): the
// simulation service's agent endpoint (AgentHandlers: QUERYACCESS and POST under /agent/), the
// regions' capabilities, and /simstatus. It is a sans-IO vhttp.Handler for every region the
// process runs.
type Server struct {
	regions []*Region
	log     Logger
}

// NewServer returns the HTTP server of a process running regions (at least one).
func NewServer(regions ...*Region) *Server {
	s := &Server{regions: regions, log: nopLog{}}
	if len(regions) > 0 && regions[0].cfg.Log != nil {
		s.log = regions[0].cfg.Log
	}
	return s
}

type nopLog struct{}

func (nopLog) Logf(string, string, ...any) {}

func jsonReply(r func(vhttp.Response), status int, body []byte, keepAlive bool) {
	h := http.Header{"Content-Type": {"application/json"}}
	if !keepAlive {
		h.Set("Connection", "close")
	}
	r(vhttp.Response{Status: status, Header: h, Body: body})
}

func (s *Server) byID(id uuid.UUID) *Region {
	for _, r := range s.regions {
		if r.cfg.ID == id {
			return r
		}
	}
	return nil
}

// ServeVHTTP routes a request to the agent endpoint, a capability or /simstatus.
func (s *Server) ServeVHTTP(req *http.Request, body []byte, reply func(vhttp.Response)) {
	p := req.URL.Path
	switch {
	case strings.HasPrefix(p, "/CAPS/"):
		for _, r := range s.regions {
			if r.OwnsPath(p) {
				r.ServeVHTTP(req, body, reply)
				return
			}
		}
		textReply(reply, http.StatusNotFound, "Not Found\n")
	case strings.HasPrefix(p, "/agent/"):
		s.agent(req, body, reply)
	case p == "/simstatus" && (req.Method == http.MethodGet || req.Method == http.MethodHead):
		reply(vhttp.Response{Status: http.StatusOK, Header: http.Header{
			"Content-Type": {"text/plain"}, "Connection": {"close"}}, Body: []byte("OK")})
	default:
		textReply(reply, http.StatusNotFound, "Not Found\n")
	}
}

// agent is AgentHandlers: /agent/{agent}/ and /agent/{agent}/{region}/.
func (s *Server) agent(req *http.Request, body []byte, reply func(vhttp.Response)) {
	parts := strings.Split(strings.Trim(strings.TrimPrefix(req.URL.Path, "/agent/"), "/"), "/")
	agent, err := uuid.Parse(parts[0])
	if err != nil || len(parts[0]) != 36 || len(parts) > 3 {
		textReply(reply, http.StatusBadRequest, "Bad Request\n")
		return
	}
	var regionID uuid.UUID
	if len(parts) > 1 {
		if regionID, err = uuid.Parse(parts[1]); err != nil || len(parts[1]) != 36 {
			textReply(reply, http.StatusBadRequest, "Bad Request\n")
			return
		}
	}
	if len(body) > login.MaxAgentBody {
		textReply(reply, http.StatusRequestEntityTooLarge, "Request Entity Too Large\n")
		return
	}
	switch req.Method {
	case "QUERYACCESS":
		s.queryAccess(agent, regionID, body, reply)
	case http.MethodPost:
		s.createAgent(req, agent, body, reply)
	default:
		textReply(reply, http.StatusMethodNotAllowed, "Method Not Allowed\n")
	}
}

// queryAccess answers whether the region would take the agent and in which version.
func (s *Server) queryAccess(agent, regionID uuid.UUID, body []byte, reply func(vhttp.Response)) {
	q, err := login.DecodeQueryAccess(body)
	if err != nil {
		s.log.Logf("WARN", "[AGENT HANDLER]: QueryAccess for %s: %s", agent, err)
		jsonReply(reply, http.StatusOK, login.EncodeAccessReply(false, "Bad request", login.SimVersionMin), false)
		return
	}
	version, verr := q.Negotiate()
	r := s.byID(regionID)
	ok, reason := true, ""
	switch {
	case verr != nil:
		ok, reason, version = false, verr.Error(), login.SimVersionMin
	case r == nil:
		ok, reason = false, "Destination not found"
	}
	s.log.Logf("DEBUG", "[AGENT HANDLER]: QueryAccess returned %v (%s). Version=SIMULATION/%g, %g/%g", ok, reason, version, version, version)
	jsonReply(reply, http.StatusOK, login.EncodeAccessReply(ok, reason, version), ok)
}

// createAgent is AgentPostHandler → Scene.NewUserConnection.
func (s *Server) createAgent(req *http.Request, agent uuid.UUID, body []byte, reply func(vhttp.Response)) {
	ct, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
	case "application/x-gzip":
		b, err := login.Gunzip(body)
		if err != nil {
			s.log.Logf("WARN", "[AGENT HANDLER]: Agent post from %s: %s", clientHost(req), err)
			textReply(reply, http.StatusBadRequest, "Bad Request\n")
			return
		}
		body = b
	default:
		textReply(reply, http.StatusUnsupportedMediaType, "Unsupported Media Type\n")
		return
	}
	yourIP := clientHost(req)
	p, err := login.DecodeAgentPost(body, agent)
	if err != nil {
		s.log.Logf("WARN", "[AGENT HANDLER]: Bad agent post for %s from %s: %s", agent, yourIP, err)
		jsonReply(reply, http.StatusOK, login.EncodeAgentReply(false, "Bad request", yourIP), false)
		return
	}
	r := s.byID(p.DestID)
	if r == nil {
		jsonReply(reply, http.StatusOK, login.EncodeAgentReply(false, "Destination not found", yourIP), false)
		return
	}
	if err := r.ExpectAgent(p.Circuit); err != nil {
		jsonReply(reply, http.StatusOK, login.EncodeAgentReply(false, err.Error(), yourIP), false)
		return
	}
	jsonReply(reply, http.StatusOK, login.EncodeAgentReply(true, "", yourIP), true)
}

func clientHost(req *http.Request) string {
	if ap, err := netip.ParseAddrPort(req.RemoteAddr); err == nil {
		return ap.Addr().Unmap().String()
	}
	return req.RemoteAddr
}
