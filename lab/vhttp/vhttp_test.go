package vhttp_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"gridlab/lab/vhttp"
	"gridlab/lab/vhttp/vhttptest"
)

var (
	clientAddr = netip.MustParseAddrPort("10.0.0.2:40000")
	serverAddr = netip.MustParseAddrPort("10.0.0.1:9000")
)

// echo answers with the method, path, remote address and body.
var echo = vhttp.HandlerFunc(func(req *http.Request, body []byte, reply func(vhttp.Response)) {
	reply(vhttp.Response{
		Status: http.StatusOK,
		Header: http.Header{"Content-Type": {"text/plain"}},
		Body:   fmt.Appendf(nil, "%s %s from %s: %s", req.Method, req.URL.Path, req.RemoteAddr, body),
	})
})

// rawServer feeds raw bytes into a ServerConn and returns what it wrote back.
type rawServer struct {
	n      vhttptest.Net
	client *vhttptest.Conn
	server *vhttptest.Conn
	sc     *vhttp.ServerConn
	out    bytes.Buffer
	closed bool
}

func (r *rawServer) OnConnect()        {}
func (r *rawServer) OnData(b []byte)   { r.out.Write(b) }
func (r *rawServer) OnClose(err error) { r.closed = true }

func newRawServer(h vhttp.Handler, maxBody int64, chunk int) *rawServer {
	r := &rawServer{}
	r.n.Chunk = chunk
	r.client, r.server = r.n.Pair(clientAddr, serverAddr)
	r.sc = vhttp.NewServerConn(r.server, h, maxBody)
	r.client.Attach(r)
	r.server.Attach(r.sc)
	r.n.Connect(r.client, r.server)
	r.n.Run()
	return r
}

func (r *rawServer) send(s string) string {
	r.client.Write([]byte(s))
	r.n.Run()
	return r.out.String()
}

func TestServerPipelinedKeepAlive(t *testing.T) {
	reqs := "GET /a HTTP/1.1\r\nHost: x\r\n\r\n" +
		"POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" +
		"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n" +
		"GET /d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" +
		"GET /never HTTP/1.1\r\nHost: x\r\n\r\n"
	for _, chunk := range []int{0, 1, 7} {
		r := newRawServer(echo, 1<<20, chunk)
		out := r.send(reqs)
		for _, want := range []string{
			"GET /a from 10.0.0.2:40000: ",
			"POST /b from 10.0.0.2:40000: hello",
			"POST /c from 10.0.0.2:40000: abcde",
			"GET /d from 10.0.0.2:40000: ",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("chunk %d: missing %q in\n%s", chunk, want, out)
			}
		}
		if strings.Contains(out, "/never") {
			t.Errorf("chunk %d: request after Connection: close was served", chunk)
		}
		if got := strings.Count(out, "HTTP/1.1 200 OK"); got != 4 {
			t.Errorf("chunk %d: %d responses, want 4", chunk, got)
		}
		if !strings.Contains(out, "Connection: close") || !r.closed {
			t.Errorf("chunk %d: connection not closed after Connection: close (closed=%v)", chunk, r.closed)
		}
		if r.sc.Served() != 4 {
			t.Errorf("chunk %d: Served = %d", chunk, r.sc.Served())
		}
	}
}

func TestServerHTTP10Closes(t *testing.T) {
	r := newRawServer(echo, 1<<20, 0)
	out := r.send("GET /x HTTP/1.0\r\n\r\n")
	if !strings.HasPrefix(out, "HTTP/1.1 200 OK") || !r.closed {
		t.Fatalf("closed=%v out=%q", r.closed, out)
	}
}

func TestServerErrors(t *testing.T) {
	cases := []struct {
		name, in string
		status   string
	}{
		{"garbage", "NOT HTTP AT ALL\r\n\r\n", "400 Bad Request"},
		{"bad header", "GET / HTTP/1.1\r\nno colon here\r\n\r\n", "400 Bad Request"},
		{"bad length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -3\r\n\r\n", "400 Bad Request"},
		{"bad chunk", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "400 Bad Request"},
		{"oversize length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n", "413 Request Entity Too Large"},
		{"oversize chunked", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n65\r\n" + strings.Repeat("a", 101) + "\r\n0\r\n\r\n", "413 Request Entity Too Large"},
		{"huge header", "GET / HTTP/1.1\r\nX: " + strings.Repeat("a", vhttp.MaxHeaderBytes+1), "431 Request Header Fields Too Large"},
	}
	for _, tc := range cases {
		for _, chunk := range []int{0, 1} {
			if chunk == 1 && tc.name == "huge header" {
				continue // quadratic by design of the test fake; covered with chunk 0
			}
			r := newRawServer(echo, 100, chunk)
			out := r.send(tc.in)
			if !strings.HasPrefix(out, "HTTP/1.1 "+tc.status) || !r.closed {
				t.Errorf("%s (chunk %d): closed=%v out=%q", tc.name, chunk, r.closed, out)
			}
		}
	}
}

func TestServerIncompleteWaits(t *testing.T) {
	r := newRawServer(echo, 1<<20, 0)
	if out := r.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345"); out != "" || r.closed {
		t.Fatalf("answered an incomplete request: %q", out)
	}
	if out := r.send("67890"); !strings.Contains(out, ": 1234567890") {
		t.Fatalf("out=%q", out)
	}
}

func TestServerExpectContinue(t *testing.T) {
	r := newRawServer(echo, 1<<20, 0)
	out := r.send("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
	if out != "HTTP/1.1 100 Continue\r\n\r\n" {
		t.Fatalf("out=%q", out)
	}
	out = r.send("abc")
	if !strings.HasSuffix(out, ": abc") {
		t.Fatalf("out=%q", out)
	}
}

func TestServerAsyncReply(t *testing.T) {
	var pending []func(vhttp.Response)
	h := vhttp.HandlerFunc(func(req *http.Request, body []byte, reply func(vhttp.Response)) {
		pending = append(pending, func(r vhttp.Response) { reply(r) })
		_ = req
	})
	r := newRawServer(h, 1<<20, 0)
	r.send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n")
	if len(pending) != 1 || r.out.Len() != 0 {
		t.Fatalf("pending=%d out=%q; the second request must wait for the first reply", len(pending), r.out.String())
	}
	pending[0](vhttp.Response{Status: 201, Body: []byte("one")})
	pending[0](vhttp.Response{Status: 500, Body: []byte("twice")}) // ignored
	r.n.Run()
	if len(pending) != 2 {
		t.Fatalf("second request not served after the first reply: %d", len(pending))
	}
	pending[1](vhttp.Response{Status: 204})
	r.n.Run()
	out := r.out.String()
	if strings.Count(out, "HTTP/1.1 ") != 2 || !strings.Contains(out, "201 Created") || !strings.Contains(out, "204 No Content") || strings.Contains(out, "twice") {
		t.Fatalf("out=%q", out)
	}
	// A reply after the connection is gone is dropped without a panic.
	r.send("GET /3 HTTP/1.1\r\nHost: x\r\n\r\n")
	r.client.Close()
	r.n.Run()
	pending[2](vhttp.Response{Status: 200})
}

func TestServerEmptyBodyKeepsContentLength(t *testing.T) {
	h := vhttp.HandlerFunc(func(req *http.Request, body []byte, reply func(vhttp.Response)) {
		reply(vhttp.Response{Status: 200})
	})
	r := newRawServer(h, 1<<20, 0)
	out := r.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if !strings.Contains(out, "Content-Length: 0\r\n") {
		t.Fatalf("out=%q", out)
	}
}

// clientRun performs one exchange against a raw responder.
type rawResponder struct {
	conn  *vhttptest.Conn
	got   bytes.Buffer
	reply string
	close bool
}

func (r *rawResponder) OnConnect() {}
func (r *rawResponder) OnData(b []byte) {
	r.got.Write(b)
	if bytes.HasSuffix(r.got.Bytes(), []byte("\r\n\r\nping")) && r.reply != "" {
		r.conn.Write([]byte(r.reply))
		r.reply = ""
		if r.close {
			r.conn.Close()
		}
	}
}
func (r *rawResponder) OnClose(error) {}

type result struct {
	calls int
	resp  *http.Response
	body  []byte
	err   error
}

func runClient(t *testing.T, reply string, closeAfter bool, chunk int) (*result, *rawResponder) {
	t.Helper()
	var n vhttptest.Net
	n.Chunk = chunk
	c, s := n.Pair(clientAddr, serverAddr)
	rr := &rawResponder{conn: s, reply: reply, close: closeAfter}
	s.Attach(rr)
	req, err := http.NewRequest("POST", "http://10.0.0.1:9000/", nil)
	if err != nil {
		t.Fatal(err)
	}
	res := &result{}
	cc := vhttp.NewClientConn(c, req, []byte("ping"), func(resp *http.Response, body []byte, err error) {
		res.calls++
		res.resp, res.body, res.err = resp, body, err
	})
	c.Attach(cc)
	n.Connect(c, s)
	n.Run()
	if !closeAfter && res.calls == 0 {
		c.Close()
		n.Run()
	}
	return res, rr
}

func TestClientFraming(t *testing.T) {
	cases := []struct {
		name, reply string
		close       bool
		body        string
	}{
		{"length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false, "hello"},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n", false, "hello"},
		{"eof", "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello", true, "hello"},
		{"continue", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false, "hello"},
		{"no content", "HTTP/1.1 204 No Content\r\n\r\n", false, ""},
	}
	for _, tc := range cases {
		for _, chunk := range []int{0, 1} {
			res, rr := runClient(t, tc.reply, tc.close, chunk)
			if res.calls != 1 || res.err != nil || string(res.body) != tc.body {
				t.Errorf("%s/%d: calls=%d err=%v body=%q", tc.name, chunk, res.calls, res.err, res.body)
				continue
			}
			if got := rr.got.String(); !strings.HasPrefix(got, "POST / HTTP/1.1\r\nHost: 10.0.0.1:9000\r\n") || !strings.HasSuffix(got, "Content-Length: 4\r\n\r\nping") && !strings.HasSuffix(got, "\r\n\r\nping") {
				t.Errorf("%s: request bytes %q", tc.name, got)
			}
			b, _ := io.ReadAll(res.resp.Body)
			if string(b) != tc.body {
				t.Errorf("%s: resp.Body %q", tc.name, b)
			}
		}
	}
}

func TestClientErrors(t *testing.T) {
	// Closed before the body is complete.
	res, _ := runClient(t, "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort", true, 0)
	if res.calls != 1 || !errors.Is(res.err, vhttp.ErrClosed) {
		t.Errorf("truncated: calls=%d err=%v", res.calls, res.err)
	}
	// Malformed.
	res, _ = runClient(t, "SPDY/9 what\r\n\r\n", false, 0)
	if res.calls != 1 || res.err == nil || res.resp != nil {
		t.Errorf("malformed: calls=%d err=%v", res.calls, res.err)
	}
	// The transport's error is wrapped.
	var n vhttptest.Net
	c, s := n.Pair(clientAddr, serverAddr)
	refused := errors.New("connection refused")
	var got error
	calls := 0
	req, _ := http.NewRequest("GET", "http://10.0.0.1:9000/simstatus", nil)
	c.Attach(vhttp.NewClientConn(c, req, nil, func(_ *http.Response, _ []byte, err error) { calls++; got = err }))
	s.Attach(&rawResponder{conn: s})
	c.Fail(refused)
	n.Run()
	c.Fail(refused)
	n.Run()
	if calls != 1 || !errors.Is(got, refused) || !errors.Is(got, vhttp.ErrClosed) {
		t.Errorf("refused: calls=%d err=%v", calls, got)
	}
}

func TestClientServerRoundTrip(t *testing.T) {
	for _, chunk := range []int{0, 1} {
		var n vhttptest.Net
		n.Chunk = chunk
		c, s := n.Pair(clientAddr, serverAddr)
		s.Attach(vhttp.NewServerConn(s, echo, 1<<20))
		req, _ := http.NewRequest("POST", "http://10.0.0.1:9000/login", nil)
		var body []byte
		var status int
		c.Attach(vhttp.NewClientConn(c, req, []byte("xml"), func(resp *http.Response, b []byte, err error) {
			if err != nil {
				t.Fatal(err)
			}
			status, body = resp.StatusCode, b
		}))
		n.Connect(c, s)
		n.Run()
		if status != 200 || string(body) != "POST /login from 10.0.0.2:40000: xml" {
			t.Fatalf("chunk %d: %d %q", chunk, status, body)
		}
	}
}

func FuzzServerConn(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), uint8(0))
	f.Add([]byte("POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.0\r\n\r\n"), uint8(3))
	f.Add([]byte("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n"), uint8(1))
	f.Add([]byte("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"), uint8(2))
	f.Add([]byte("\n\n\r\n"), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		var pending []func()
		h := vhttp.HandlerFunc(func(req *http.Request, body []byte, reply func(vhttp.Response)) {
			r := vhttp.Response{Status: 200 + int(mode%3), Body: body}
			if mode&4 != 0 {
				pending = append(pending, func() { reply(r) })
				return
			}
			reply(r)
		})
		r := newRawServer(h, 64, int(mode>>3)%5)
		r.client.Write(data)
		r.n.Run()
		for len(pending) > 0 {
			p := pending[0]
			pending = pending[1:]
			p()
			r.n.Run()
		}
		r.client.Close()
		r.n.Run()
		// Whatever the server wrote must be a sequence of well-formed responses.
		out := r.out.Bytes()
		for len(out) > 0 {
			i := bytes.Index(out, []byte("HTTP/1.1 "))
			if i != 0 {
				t.Fatalf("server wrote something that is not a response at %d: %q", i, out)
			}
			end := bytes.Index(out, []byte("\r\n\r\n"))
			if end < 0 {
				t.Fatalf("unterminated response header: %q", out)
			}
			hdr := string(out[:end])
			out = out[end+4:]
			var cl int
			for _, line := range strings.Split(hdr, "\r\n") {
				if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
					fmt.Sscan(v, &cl)
				}
			}
			if cl > len(out) {
				t.Fatalf("short body: %d > %d", cl, len(out))
			}
			out = out[cl:]
		}
	})
}

// ClientConns that share a Buffers receive in turn into the same bytes once each done func has
// returned (ReuseBuffer): the second response is read into the first one's buffer, and each
// done func, copying its body when called, got its own response whole.
func TestClientConnsReuseABufferOnceItsBodyIsGivenUp(t *testing.T) {
	bufs := vhttp.NewBuffers()
	var starts []*byte
	var bodies []string
	for _, reply := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHELLO",
	} {
		var n vhttptest.Net
		c, s := n.Pair(clientAddr, serverAddr)
		s.Attach(&rawResponder{conn: s, reply: reply})
		req, err := http.NewRequest("POST", "http://10.0.0.1:9000/", nil)
		if err != nil {
			t.Fatal(err)
		}
		cc := vhttp.NewClientConn(c, req, []byte("ping"), func(_ *http.Response, body []byte, err error) {
			if err != nil || len(body) == 0 {
				t.Fatalf("done: %v, %q", err, body)
			}
			starts, bodies = append(starts, &body[0]), append(bodies, string(body))
		})
		cc.ReuseBuffer(&bufs)
		c.Attach(cc)
		n.Connect(c, s)
		n.Run()
	}
	if len(bodies) != 2 || bodies[0] != "hello" || bodies[1] != "HELLO" {
		t.Fatalf("bodies %q, want hello and HELLO", bodies)
	}
	if starts[0] != starts[1] {
		t.Errorf("the second response was received into a new buffer, not the first one's")
	}
}
