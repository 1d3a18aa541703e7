package vhttp_test

import (
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"gridlab/lab/vhttp"
	"gridlab/lab/vhttp/vhttptest"
)

// fakeClock runs After callbacks when the test advances it.
type fakeClock struct {
	now    time.Duration
	timers []*fakeTimer
}

type fakeTimer struct {
	at      time.Duration
	fn      func()
	stopped bool
}

func (c *fakeClock) After(d time.Duration, fn func()) func() {
	t := &fakeTimer{at: c.now + d, fn: fn}
	c.timers = append(c.timers, t)
	return func() { t.stopped = true }
}

func (c *fakeClock) advance(d time.Duration) {
	c.now += d
	for _, t := range c.timers {
		if !t.stopped && t.at <= c.now {
			t.stopped = true
			t.fn()
		}
	}
}

type clientRun struct {
	n      vhttptest.Net
	clock  fakeClock
	server *vhttptest.Conn
	client *vhttptest.Conn
	calls  int
	resp   *http.Response
	body   []byte
	err    error
}

// do sends a request through a Client whose dial connects to handler h (nil: nothing answers).
func (r *clientRun) do(t *testing.T, url string, h vhttp.Handler, connect bool, timeout time.Duration) {
	t.Helper()
	c := &vhttp.Client{
		Dial: func(to netip.AddrPort, eh vhttp.StreamHandler) vhttp.Stream {
			a, b := r.n.Pair(netip.MustParseAddrPort("10.0.0.2:40000"), to)
			a.Attach(eh)
			r.client, r.server = a, b
			if h != nil {
				b.Attach(vhttp.NewServerConn(b, h, 1<<20))
			} else {
				b.Attach(sink{})
			}
			if connect {
				r.n.Connect(a, b)
			}
			return a
		},
		After: r.clock.After,
	}
	req, err := http.NewRequest("QUERYACCESS", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Do(req, []byte(`{"viaTeleport":true}`), timeout, func(resp *http.Response, body []byte, err error) {
		r.calls++
		r.resp, r.body, r.err = resp, body, err
	})
	r.n.Run()
}

type sink struct{}

func (sink) OnConnect()      {}
func (sink) OnData([]byte)   {}
func (sink) OnClose(e error) {}

func TestClientDoAnswersAndCloses(t *testing.T) {
	var r clientRun
	var gotMethod, gotPath, gotConn string
	r.do(t, "http://10.0.1.20:9000/agent/x/y/", vhttp.HandlerFunc(func(req *http.Request, body []byte, reply func(vhttp.Response)) {
		gotMethod, gotPath, gotConn = req.Method, req.URL.Path, req.Header.Get("Connection")
		reply(vhttp.Response{Status: 200, Body: []byte(`{"success":true}`)})
	}), true, 30*time.Second)
	if r.calls != 1 || r.err != nil || string(r.body) != `{"success":true}` {
		t.Fatalf("calls=%d err=%v body=%q", r.calls, r.err, r.body)
	}
	if gotMethod != "QUERYACCESS" || gotPath != "/agent/x/y/" || gotConn != "close" {
		t.Errorf("the server saw %s %s Connection: %q; want QUERYACCESS, the path, and close", gotMethod, gotPath, gotConn)
	}
	if !r.client.Closed() {
		t.Error("the client did not close its connection after the response")
	}
	r.clock.advance(time.Minute)
	if r.calls != 1 {
		t.Error("the timeout fired after the response")
	}
}

func TestClientDoTimesOut(t *testing.T) {
	var r clientRun
	r.do(t, "http://10.0.1.20:9000/", nil, false, 30*time.Second) // SYNs go nowhere
	r.clock.advance(29 * time.Second)
	if r.calls != 0 {
		t.Fatalf("done called before the timeout: %v", r.err)
	}
	r.clock.advance(time.Second)
	var te *vhttp.TimeoutError
	if r.calls != 1 || !errors.As(r.err, &te) || te.Timeout != 30*time.Second {
		t.Fatalf("calls=%d err=%v; want one *TimeoutError of 30s", r.calls, r.err)
	}
	if !r.client.Closed() {
		t.Error("the abandoned connection was not closed")
	}
}

func TestClientDoTransportAndURLErrors(t *testing.T) {
	var r clientRun
	r.do(t, "http://10.0.1.20:9000/", nil, false, 30*time.Second)
	refused := errors.New("connection refused")
	r.client.Fail(refused)
	r.n.Run()
	if r.calls != 1 || !errors.Is(r.err, refused) || !errors.Is(r.err, vhttp.ErrClosed) {
		t.Fatalf("calls=%d err=%v; want the transport's error wrapped with ErrClosed", r.calls, r.err)
	}
	var r2 clientRun
	r2.do(t, "http://regions.example.org:9000/", nil, true, time.Second)
	if r2.calls != 1 || !errors.Is(r2.err, vhttp.ErrNotIP) {
		t.Fatalf("a host name: calls=%d err=%v; want ErrNotIP", r2.calls, r2.err)
	}
}

// A large Content-Length response delivered a byte at a time is parsed once, not per segment:
// the header block is scanned incrementally and the body only counted.
func TestClientConnLargeBodyByteByByte(t *testing.T) {
	body := strings.Repeat("x", 200_000)
	res, _ := runClient(t, "HTTP/1.1 200 OK\r\nContent-Length: 200000\r\n\r\n"+body, false, 1)
	if res.calls != 1 || res.err != nil || len(res.body) != len(body) {
		t.Fatalf("calls=%d err=%v len=%d", res.calls, res.err, len(res.body))
	}
}

func BenchmarkClientConnLargeBody(b *testing.B) {
	reply := "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + strings.Repeat("x", 100_000)
	t := &testing.T{}
	b.ReportAllocs()
	for range b.N {
		runClient(t, reply, false, 1460)
	}
}

// FuzzClientConn feeds a ClientConn arbitrary response bytes in segments of varying size, as
// a misbehaving region process could: it must call done exactly once (at the latest when the
// connection closes) and never panic, and a body it accepts must match its Content-Length.
func FuzzClientConn(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"), uint8(0))
	f.Add([]byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhe\r\n0\r\n\r\n"), uint8(1))
	f.Add([]byte("HTTP/1.1 200 OK\r\n\r\nuntil eof"), uint8(7))
	f.Add([]byte("HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n"), uint8(3))
	f.Add([]byte("\n\nHTTP/1.1"), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, seg uint8) {
		var n vhttptest.Net
		n.Chunk = int(seg%16) + 1
		c, s := n.Pair(netip.MustParseAddrPort("10.0.0.2:40000"), netip.MustParseAddrPort("10.0.0.1:9000"))
		calls := 0
		var resp *http.Response
		var body []byte
		req, _ := http.NewRequest("POST", "http://10.0.0.1:9000/agent/x/", nil)
		c.Attach(vhttp.NewClientConn(c, req, []byte("{}"), func(r *http.Response, b []byte, err error) {
			calls++
			resp, body = r, b
		}))
		s.Attach(&rawResponder{conn: s})
		n.Connect(c, s)
		n.Run()
		s.Write(data)
		n.Run()
		s.Close()
		n.Run()
		c.Close()
		n.Run()
		if calls != 1 {
			t.Fatalf("done called %d times", calls)
		}
		if resp != nil && resp.ContentLength >= 0 && int64(len(body)) != resp.ContentLength {
			t.Fatalf("body of %d bytes for Content-Length %d", len(body), resp.ContentLength)
		}
	})
}
