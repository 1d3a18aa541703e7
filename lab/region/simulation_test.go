package region

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gridlab/lab/lludp"
	"gridlab/lab/login"
	"gridlab/lab/vhttp"
)

func (w *world) serve(s *Server, method, path, ctype string, body []byte) (int, string) {
	req := &http.Request{Method: method, URL: &url.URL{Path: path}, Host: "10.0.1.20:9000",
		Header: http.Header{"Content-Type": {ctype}}, RemoteAddr: "10.0.1.10:40000"}
	code, out := -1, ""
	s.ServeVHTTP(req, body, func(r vhttp.Response) { code, out = r.Status, string(r.Body) })
	return code, out
}

// The region's HTTP server answers the login service's QUERYACCESS and agent POST as
// OpenSim's AgentHandlers do, and the posted circuit is then accepted over UDP.
func TestServerAgentEndpoint(t *testing.T) {
	w := newWorld(t)
	s := NewServer(w.r)
	ac, ep := agent(1)
	rid := w.r.cfg.ID
	qa := "/agent/" + ac.AgentID.String() + "/" + rid.String() + "/"

	code, out := w.serve(s, "QUERYACCESS", qa, "application/json", login.EncodeQueryAccess(ac.StartPos))
	require.Equal(t, 200, code)
	r, err := login.DecodeAccessReply([]byte(out))
	require.NoError(t, err)
	assert.True(t, r.Success, "the region accepts: %s", out)
	assert.Equal(t, login.SimVersionMax, r.Inbound, "and negotiates the highest common version")

	code, out = w.serve(s, "QUERYACCESS", "/agent/"+ac.AgentID.String()+"/"+uuid.Nil.String()+"/", "application/json", login.EncodeQueryAccess(ac.StartPos))
	require.Equal(t, 200, code)
	assert.Contains(t, out, `"reason":"Destination not found"`, "a region this process does not run is refused")

	post := login.EncodeAgentPost(login.AgentPost{Circuit: ac, DestID: rid, DestName: "My Region", TeleportFlags: login.TeleportViaLogin})
	code, out = w.serve(s, http.MethodPost, "/agent/"+ac.AgentID.String()+"/", "text/plain", post)
	assert.Equal(t, http.StatusUnsupportedMediaType, code, "AgentPostHandler wants application/json or application/x-gzip")

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(post)
	zw.Close()
	code, out = w.serve(s, http.MethodPost, "/agent/"+ac.AgentID.String()+"/", "application/x-gzip", gz.Bytes())
	require.Equal(t, 200, code)
	rep, err := login.DecodeAgentReply([]byte(out))
	require.NoError(t, err)
	assert.True(t, rep.Success)
	assert.Equal(t, "10.0.1.10", rep.YourIP)
	assert.Equal(t, 1, w.r.Expected(), "the region now expects the circuit")
	assert.Equal(t, 1, w.log.count("told of incoming root agent Agent B"))

	w.send(ep, &lludp.UseCircuitCode{Code: ac.CircuitCode, SessionID: ac.SessionID, AgentID: ac.AgentID})
	assert.Equal(t, 1, w.r.Agents(), "and accepts its UseCircuitCode")
	assert.Zero(t, w.r.Stats().UnknownCircuits)

	// The capabilities of agents posted this way are served on the same server.
	w.send(ep, &lludp.CompleteAgentMovement{AgentID: ac.AgentID, SessionID: ac.SessionID, CircuitCode: ac.CircuitCode})
	code, _ = w.serve(s, http.MethodPost, "/CAPS/"+ac.CapsPath+"0000/", "application/llsd+xml", []byte(`<llsd><array><string>EventQueueGet</string></array></llsd>`))
	assert.Equal(t, 200, code)
	code, out = w.serve(s, http.MethodGet, "/simstatus", "", nil)
	assert.Equal(t, 200, code)
	assert.Equal(t, "OK", out)
}

func TestServerRefusesBadRequests(t *testing.T) {
	w := newWorld(t)
	s := NewServer(w.r)
	ac, _ := agent(1)
	good := login.EncodeAgentPost(login.AgentPost{Circuit: ac, DestID: w.r.cfg.ID})
	tests := []struct {
		name, method, path, ctype string
		body                      []byte
		code                      int
		out                       string
	}{
		{"an agent id that is no UUID", http.MethodPost, "/agent/nobody/", "application/json", good, 400, "Bad Request"},
		{"a region id that is no UUID", "QUERYACCESS", "/agent/" + ac.AgentID.String() + "/x/", "application/json", nil, 400, "Bad Request"},
		{"a DELETE", http.MethodDelete, "/agent/" + ac.AgentID.String() + "/", "application/json", nil, 405, ""},
		{"a body for another agent", http.MethodPost, "/agent/" + uuid.Nil.String() + "/", "application/json", good, 200, `"success":false`},
		{"garbage JSON", http.MethodPost, "/agent/" + ac.AgentID.String() + "/", "application/json", []byte("{"), 200, `"reason":"Bad request"`},
		{"a broken gzip body", http.MethodPost, "/agent/" + ac.AgentID.String() + "/", "application/x-gzip", []byte("nope"), 400, ""},
		{"an oversize body", http.MethodPost, "/agent/" + ac.AgentID.String() + "/", "application/json", bytes.Repeat([]byte{' '}, login.MaxAgentBody+1), 413, ""},
		{"an unknown path", http.MethodGet, "/nothing", "", nil, 404, ""},
	}
	for _, tt := range tests {
		code, out := w.serve(s, tt.method, tt.path, tt.ctype, tt.body)
		assert.Equal(t, tt.code, code, tt.name)
		assert.True(t, strings.Contains(out, tt.out), "%s: %q lacks %q", tt.name, out, tt.out)
	}
	assert.Zero(t, w.r.Expected(), "no bad request made the region expect anyone")
}

// Restart loses circuits, expected circuits and agents: a UseCircuitCode for a circuit the
// login service announced before the restart is an unknown circuit code afterwards.
func TestRestartForgetsCircuits(t *testing.T) {
	w := newWorld(t)
	w.arrive(1, true)
	ac2, ep2 := agent(2)
	require.NoError(t, w.r.ExpectAgent(ac2))
	require.Equal(t, 1, w.r.Agents())
	require.Equal(t, 2, w.r.Expected()) // agent 1's entry stays until its circuit closes

	w.r.Restart()
	assert.Zero(t, w.r.Agents())
	assert.Zero(t, w.r.Expected())
	assert.False(t, w.r.OwnsPath("/CAPS/"+ac2.CapsPath+"0000/"), "capabilities are gone too")
	assert.Equal(t, 1, w.log.count("[LLUDPSERVER]: Starting inbound packet processing for the LLUDP server"))

	w.send(ep2, &lludp.UseCircuitCode{Code: ac2.CircuitCode, SessionID: ac2.SessionID, AgentID: ac2.AgentID})
	assert.Equal(t, 1, w.log.count("with unknown circuit code"))
	assert.Zero(t, w.r.Agents())
}
