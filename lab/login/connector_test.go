package login

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"gridlab/lab/vhttp"
	"gridlab/lab/vhttp/vhttptest"
)

// connectorTo returns a Connector whose requests are served by h over an in-memory stream.
func connectorTo(h vhttp.Handler, log Logger, calls *[]Call) (*Connector, *vhttptest.Net) {
	n := &vhttptest.Net{}
	c := &Connector{
		Client: &vhttp.Client{
			Dial: func(to netip.AddrPort, eh vhttp.StreamHandler) vhttp.Stream {
				a, b := n.Pair(netip.MustParseAddrPort("198.51.100.10:40000"), to)
				a.Attach(eh)
				b.Attach(vhttp.NewServerConn(b, h, 1<<20))
				n.Connect(a, b)
				return a
			},
			After: func(time.Duration, func()) func() { return func() {} },
		},
		Log:    log,
		OnCall: func(c Call) { *calls = append(*calls, c) },
	}
	return c, n
}

func TestConnectorSpeaksTheSimulationService(t *testing.T) {
	tests := []struct {
		name      string
		qa, post  string // JSON bodies the region answers; "" = 404
		wantErr   string // "" = accepted
		wantCalls string
	}{
		{"accepted", string(EncodeAccessReply(true, "", 0.8)), string(EncodeAgentReply(true, "", "198.51.100.10")), "", "QUERYACCESS POST"},
		{"refused at QUERYACCESS", string(EncodeAccessReply(false, "The region is full", 0.8)), "", "The region is full", "QUERYACCESS"},
		{"no version negotiated", `{"success":true,"reason":""}`, "", "Communications failure", "QUERYACCESS"},
		{"refused at the POST", string(EncodeAccessReply(true, "", 0.8)), string(EncodeAgentReply(false, "Access denied, your viewer is banned", "")), "Access denied, your viewer is banned", "QUERYACCESS POST"},
		{"no agent endpoint", "", "", "Service request failed: [404] Response status code does not indicate success: 404 (Not Found).", "QUERYACCESS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seen []string
			h := vhttp.HandlerFunc(func(req *http.Request, body []byte, reply func(vhttp.Response)) {
				seen = append(seen, req.Method+" "+req.URL.Path+" "+req.Header.Get("Content-Type"))
				out := tt.qa
				if req.Method == http.MethodPost {
					out = tt.post
				}
				if out == "" {
					reply(vhttp.Response{Status: 404})
					return
				}
				reply(vhttp.Response{Status: 200, Body: []byte(out)})
			})
			var calls []Call
			log := &testLog{}
			c, n := connectorTo(h, log, &calls)
			r := Region{Name: "Welcome", ID: simRegion, X: 1000, Y: 1000, ServerURI: "http://198.51.100.20:9000"}
			var got error
			answered := 0
			c.Destination(r).LaunchAgent(simCircuit(), func(err error) { answered++; got = err })
			n.Run()
			if answered != 1 {
				t.Fatalf("answered %d times", answered)
			}
			if tt.wantErr == "" && got != nil || tt.wantErr != "" && (got == nil || got.Error() != tt.wantErr) {
				t.Fatalf("got %v, want %q", got, tt.wantErr)
			}
			var methods []string
			for _, c := range calls {
				methods = append(methods, c.Method)
			}
			if strings.Join(methods, " ") != tt.wantCalls {
				t.Errorf("calls %v, want %s", methods, tt.wantCalls)
			}
			if !strings.HasPrefix(seen[0], "QUERYACCESS /agent/"+simAgent.String()+"/"+simRegion.String()+"/ application/json") {
				t.Errorf("first request %q", seen[0])
			}
			if len(seen) > 1 && seen[1] != "POST /agent/"+simAgent.String()+"/ application/json" {
				t.Errorf("second request %q", seen[1])
			}
		})
	}
}
