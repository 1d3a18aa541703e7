package vhttp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"gridlab/sim/freelist"
)

// Stream is the consumer-side view of a connection: the transport delivers the other direction
// through OnConnect, OnData and OnClose.
type Stream interface {
	// Write sends b; it must copy what it keeps, since vhttp reuses b once Write returns.
	Write(b []byte)
	Close()
}

// Response is what a Handler answers. Content-Length is set from Body.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Handler serves one request. reply must be called exactly once, now or later; the connection
// reads no further request until it is (pipelined bytes wait in the buffer). reply has written
// the response out when it returns: the handler may reuse Body's bytes after that.
type Handler interface {
	ServeVHTTP(req *http.Request, body []byte, reply func(Response))
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(req *http.Request, body []byte, reply func(Response))

// ServeVHTTP calls f.
func (f HandlerFunc) ServeVHTTP(req *http.Request, body []byte, reply func(Response)) {
	f(req, body, reply)
}

// MaxHeaderBytes bounds a request's or response's header block; a longer one is refused
// (server: 431 and close; client: error).
const MaxHeaderBytes = 64 << 10

// MaxResponseBytes bounds a response body a ClientConn accepts.
const MaxResponseBytes = 64 << 20

// headerEnd returns the length of the header block at the start of b (up to and including
// the empty line), or -1 if the block is not complete yet. net/http accepts bare LF line ends,
// so both "\n\n" and "\n\r\n" end a block.
func headerEnd(b []byte) int {
	for i := 0; i < len(b); i++ {
		if b[i] != '\n' {
			continue
		}
		if i+1 < len(b) && b[i+1] == '\n' {
			return i + 2
		}
		if i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n' {
			return i + 3
		}
	}
	return -1
}

// incomplete reports whether a parse error only means "more bytes are needed". net/http
// reports a chunked body's missing final CRLF with its own unexported "unexpected EOF reading
// trailer" error, hence the text match.
func incomplete(err error) bool {
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		strings.Contains(err.Error(), "unexpected EOF")
}

// remoteAddr asks the stream for its peer address, if it knows one.
func remoteAddr(s Stream) string {
	switch r := s.(type) {
	case interface{ RemoteAddr() netip.AddrPort }:
		if ap := r.RemoteAddr(); ap.IsValid() {
			return ap.String()
		}
	case interface{ RemoteAddr() net.Addr }:
		if a := r.RemoteAddr(); a != nil {
			return a.String()
		}
	}
	return ""
}

// ServerConn is the server side of one HTTP/1.1 connection.
type ServerConn struct {
	s       Stream
	h       Handler
	maxBody int64
	remote  string

	buf       []byte
	need      int  // bytes the current request needs in buf before parsing is worth trying (0: unknown)
	continued bool // "100 Continue" already sent for the request at the head of buf
	busy      bool // a request is with the handler
	inLoop    bool
	closed    bool
	served    int
}

// NewServerConn returns a connection that serves requests arriving on s with h. A request body
// longer than maxBody is answered with 413 and the connection is closed. If s has a
// RemoteAddr method (returning netip.AddrPort or net.Addr), requests carry it in RemoteAddr.
func NewServerConn(s Stream, h Handler, maxBody int64) *ServerConn {
	return &ServerConn{s: s, h: h, maxBody: maxBody, remote: remoteAddr(s)}
}

// Served returns how many requests have been answered.
func (c *ServerConn) Served() int { return c.served }

// OnConnect is called when the connection is established.
func (c *ServerConn) OnConnect() {}

// OnData is called with bytes from the peer; b is not retained.
func (c *ServerConn) OnData(b []byte) {
	if c.closed {
		return
	}
	c.buf = append(c.buf, b...)
	c.loop()
}

// OnClose is called when the connection is gone. A pending reply is dropped.
func (c *ServerConn) OnClose(err error) {
	c.closed = true
	c.buf = nil
}

// fail answers an unparseable or refused request and closes the connection.
func (c *ServerConn) fail(status int) {
	body := []byte(http.StatusText(status) + "\n")
	c.write(&http.Response{
		StatusCode:    status,
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"text/plain; charset=utf-8"}},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Close:         true,
	}, len(body))
	c.shut()
}

func (c *ServerConn) shut() {
	if c.closed {
		return
	}
	c.closed = true
	c.buf = nil
	c.s.Close()
}

func (c *ServerConn) write(r *http.Response, bodyLen int) {
	out := writeBufs.Get().(*bytes.Buffer)
	defer writeBufs.Put(out)
	out.Reset()
	out.Grow(bodyLen + 1024) // the header block too: one allocation, not a doubling chain
	if err := r.Write(out); err != nil {
		// Only a broken header value can get here; answer something well-formed instead.
		out.Reset()
		out.WriteString("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		r.Close = true
	}
	c.s.Write(out.Bytes())
}

// writeBufs hold a request or response while it is written to the stream, which copies it.
var writeBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (c *ServerConn) loop() {
	if c.inLoop {
		return
	}
	c.inLoop = true
	defer func() { c.inLoop = false }()
	for !c.busy && !c.closed && len(c.buf) > 0 {
		if !c.next() {
			return
		}
	}
}

// maxPreGrow bounds the room a ServerConn makes for a request body it has been promised but
// not sent yet: a peer that announces a large body and stalls gets no more than this.
const maxPreGrow = 64 << 10

// readers are the bufio.Readers http.ReadRequest and http.ReadResponse parse from, shared by
// every connection of the process: a 4 KB reader per request would be most of what 100,000
// logins allocate in this package.
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}

func getReader(r io.Reader) *bufio.Reader {
	rd := readers.Get().(*bufio.Reader)
	rd.Reset(r)
	return rd
}

func putReader(rd *bufio.Reader) {
	rd.Reset(nil)
	readers.Put(rd)
}

// next tries to take one complete request off the buffer and hand it to the handler. It
// returns false when more bytes are needed.
func (c *ServerConn) next() bool {
	if c.need > 0 && len(c.buf) < c.need {
		return false
	}
	hl := headerEnd(c.buf)
	if hl < 0 {
		if len(c.buf) > MaxHeaderBytes {
			c.fail(http.StatusRequestHeaderFieldsTooLarge)
		}
		return false
	}
	if hl > MaxHeaderBytes {
		c.fail(http.StatusRequestHeaderFieldsTooLarge)
		return false
	}
	br := bytes.NewReader(c.buf)
	rd := getReader(br)
	defer putReader(rd) // req.Body reads from rd until it is replaced below
	req, err := http.ReadRequest(rd)
	if err != nil {
		// The header block is complete, so any error is a malformed request.
		c.fail(http.StatusBadRequest)
		return false
	}
	if req.ContentLength > c.maxBody {
		c.fail(http.StatusRequestEntityTooLarge)
		return false
	}
	chunked := len(req.TransferEncoding) > 0
	start := len(c.buf) - br.Len() - rd.Buffered() // where the body starts
	if !chunked && req.ContentLength > 0 && len(c.buf) < start+int(req.ContentLength) {
		c.need = start + int(req.ContentLength)
		if c.need <= maxPreGrow {
			// Room for the whole request now, not a doubling chain as its segments arrive.
			c.buf = slices.Grow(c.buf, c.need-len(c.buf))
		}
		c.expectContinue(req)
		return false
	}
	var body []byte
	used := 0
	if !chunked && req.ContentLength > 0 {
		// The whole body is in the buffer (checked above): the handler gets it in place. c.buf
		// is only ever cut at the front or appended to, so those bytes are never written over.
		used = start + int(req.ContentLength)
		body = c.buf[start:used:used]
	} else {
		body, err = io.ReadAll(io.LimitReader(req.Body, c.maxBody+1))
		used = len(c.buf) - br.Len() - rd.Buffered()
	}
	switch {
	case err != nil && incomplete(err):
		if chunked && int64(len(c.buf)-hl) > 2*c.maxBody+MaxHeaderBytes {
			c.fail(http.StatusRequestEntityTooLarge)
			return false
		}
		c.expectContinue(req)
		return false
	case err != nil:
		c.fail(http.StatusBadRequest)
		return false
	case int64(len(body)) > c.maxBody:
		c.fail(http.StatusRequestEntityTooLarge)
		return false
	}
	c.buf = c.buf[used:]
	if len(c.buf) == 0 {
		c.buf = nil
	}
	c.need = 0
	c.continued = false
	req.Body = http.NoBody
	req.RemoteAddr = c.remote
	if req.ContentLength < 0 {
		req.ContentLength = int64(len(body))
	}

	closeAfter := req.Close
	c.busy = true
	answered := false
	c.h.ServeVHTTP(req, body, func(r Response) {
		if answered {
			return
		}
		answered = true
		c.respond(req, r, closeAfter)
	})
	return true
}

// expectContinue tells a client that waits before sending its body to go ahead.
func (c *ServerConn) expectContinue(req *http.Request) {
	if c.continued || !strings.EqualFold(req.Header.Get("Expect"), "100-continue") || !req.ProtoAtLeast(1, 1) {
		return
	}
	c.continued = true
	c.s.Write([]byte("HTTP/1.1 100 Continue\r\n\r\n"))
}

func (c *ServerConn) respond(req *http.Request, r Response, closeAfter bool) {
	if c.closed {
		return
	}
	c.served++
	status := r.Status
	if status == 0 {
		status = http.StatusOK
	}
	h := r.Header
	if h == nil {
		h = http.Header{}
	}
	if strings.EqualFold(h.Get("Connection"), "close") {
		closeAfter = true
	}
	hasBody := status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
	resp := &http.Response{
		StatusCode: status,
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     h,
		Request:    req,
		Close:      closeAfter,
	}
	if hasBody {
		resp.ContentLength = int64(len(r.Body))
		resp.Body = io.NopCloser(bytes.NewReader(r.Body))
		if len(r.Body) == 0 {
			// (*http.Response).Write omits a zero Content-Length; keep-alive clients need it.
			h.Set("Content-Length", "0")
		}
	}
	c.write(resp, len(r.Body))
	if closeAfter {
		c.shut()
		return
	}
	c.busy = false
	c.loop()
}

// ClientConn is the client side of one HTTP/1.1 exchange: one request, one response.
type ClientConn struct {
	s    Stream
	req  *http.Request
	body []byte
	done func(*http.Response, []byte, error)

	sent     bool
	finished bool
	buf      []byte
	bufs     *Buffers       // where buf comes from and goes back to, if the caller allows (ReuseBuffer)
	scanned  int            // bytes of buf known to hold no header end
	head     *http.Response // the final response's header, once parsed
	hl       int            // its length in buf
}

// ErrClosed is wrapped by the error a ClientConn reports when the connection ends before a
// complete response; the transport's own error (refused, timeout, reset) is wrapped as well.
var ErrClosed = errors.New("vhttp: connection closed before a complete response")

// NewClientConn returns a connection that writes req (with body) on OnConnect and calls done
// exactly once: with the response and its body, or with an error. The stream is not closed
// when the response is complete; that is the caller's choice.
func NewClientConn(s Stream, req *http.Request, body []byte, done func(resp *http.Response, body []byte, err error)) *ClientConn {
	return &ClientConn{s: s, req: req, body: body, done: done}
}

// Done reports whether done has been called.
func (c *ClientConn) Done() bool { return c.finished }

// ReuseBuffer makes the connection receive into a buffer from bufs and give it back once done
// returns: for a caller whose done func keeps nothing of the body (it decodes what it needs),
// so that the next connection receives into the same bytes instead of allocating its own.
func (c *ClientConn) ReuseBuffer(bufs *Buffers) { c.bufs = bufs }

// Buffers is a free list of byte buffers for the connections and handlers of one event loop
// (it is not safe for concurrent use): ClientConn receive buffers (ReuseBuffer), a handler's
// reply bodies once reply has returned. The zero value keeps any size; NewBuffers bounds it.
type Buffers = freelist.List[byte]

// NewBuffers returns a list that keeps up to 16 buffers of at most 64 KB, so that one large
// response does not stay for the rest of a run.
func NewBuffers() Buffers { return freelist.New[byte](16, 64<<10) }

func (c *ClientConn) finish(resp *http.Response, body []byte, err error) {
	if c.finished {
		return
	}
	c.finished = true
	buf := c.buf
	c.buf = nil
	done := c.done
	// Keep nothing of the exchange: a viewer holds its login connection for its whole session,
	// and a 24 KB login reply per viewer adds up over 100,000 of them.
	c.head, c.req, c.body, c.done = nil, nil, nil, nil
	done(resp, body, err)
	if c.bufs != nil {
		c.bufs.Put(buf) // done has returned: nothing reads body any more (ReuseBuffer)
	}
}

// OnConnect writes the request.
func (c *ClientConn) OnConnect() {
	if c.sent || c.finished {
		return
	}
	c.sent = true
	r := c.req
	r.Body = io.NopCloser(bytes.NewReader(c.body))
	r.ContentLength = int64(len(c.body))
	if len(c.body) == 0 && (r.Method == "" || r.Method == http.MethodGet || r.Method == http.MethodHead) {
		r.Body = nil
	}
	out := writeBufs.Get().(*bytes.Buffer)
	defer writeBufs.Put(out)
	out.Reset()
	out.Grow(len(c.body) + 1024) // the header block too: one allocation, not a doubling chain
	if err := r.Write(out); err != nil {
		c.finish(nil, nil, fmt.Errorf("vhttp: writing request: %w", err))
		c.s.Close()
		return
	}
	c.s.Write(out.Bytes())
}

// OnData accumulates response bytes and completes the exchange when the response is whole.
func (c *ClientConn) OnData(b []byte) {
	if c.finished {
		return
	}
	if c.buf == nil && c.bufs != nil {
		c.buf = c.bufs.Get()
	}
	c.buf = append(c.buf, b...)
	c.parse(false)
}

// OnClose completes an EOF-terminated response, or reports err (wrapped with ErrClosed).
func (c *ClientConn) OnClose(err error) {
	if c.finished {
		return
	}
	if len(c.buf) > 0 {
		c.parse(true)
		if c.finished {
			return
		}
	}
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	c.finish(nil, nil, fmt.Errorf("%w: %w", ErrClosed, err))
}

// parse completes the exchange once the response at the head of buf is whole. The header
// block is looked for only in bytes not scanned before and parsed once; a Content-Length body
// is then only counted until it is complete, so a large response costs one parse, not one per
// segment. Chunked bodies (rare from the services gridlab talks to) are decoded when they may
// be complete.
func (c *ClientConn) parse(eof bool) {
	for !c.finished {
		if c.head == nil {
			hl := headerEndFrom(c.buf, c.scanned)
			if hl < 0 {
				c.scanned = len(c.buf)
				if len(c.buf) > MaxHeaderBytes {
					c.finish(nil, nil, errors.New("vhttp: response header too large"))
					c.s.Close()
				}
				return
			}
			if hl > MaxHeaderBytes {
				c.finish(nil, nil, errors.New("vhttp: response header too large"))
				c.s.Close()
				return
			}
			rd := getReader(bytes.NewReader(c.buf[:hl]))
			resp, err := http.ReadResponse(rd, c.req)
			putReader(rd) // the header block is all rd had: resp.Body (if any) is never read
			if err != nil {
				c.finish(nil, nil, fmt.Errorf("vhttp: malformed response: %w", err))
				c.s.Close()
				return
			}
			if resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols {
				// An interim response (100 Continue): drop it and read on.
				c.buf = c.buf[hl:]
				c.scanned = 0
				continue
			}
			if resp.ContentLength > MaxResponseBytes {
				c.finish(nil, nil, fmt.Errorf("vhttp: response body of %d bytes is too large", resp.ContentLength))
				c.s.Close()
				return
			}
			c.head, c.hl = resp, hl
			if n := resp.ContentLength; n > 0 && len(resp.TransferEncoding) == 0 && hl+int(n) > len(c.buf) {
				// Room for the whole body now: a 24 KB login reply arrives in ~17 segments,
				// and growing the buffer by appends would copy it over and over.
				c.buf = slices.Grow(c.buf, hl+int(n)-len(c.buf))
			}
		}
		resp, hl := c.head, c.hl
		rest := c.buf[hl:]
		var body []byte
		switch {
		case resp.Body == http.NoBody || resp.ContentLength == 0:
		case len(resp.TransferEncoding) > 0:
			b, err := io.ReadAll(io.LimitReader(httputil.NewChunkedReader(bytes.NewReader(rest)), MaxResponseBytes+1))
			switch {
			case err != nil && incomplete(err):
				// At EOF, OnClose reports the truncation (ErrClosed).
				if len(rest) > 2*MaxResponseBytes {
					c.finish(nil, nil, errors.New("vhttp: response body too large"))
					c.s.Close()
				}
				return
			case err != nil:
				c.finish(nil, nil, fmt.Errorf("vhttp: reading response body: %w", err))
				c.s.Close()
				return
			case len(b) > MaxResponseBytes:
				c.finish(nil, nil, errors.New("vhttp: response body too large"))
				c.s.Close()
				return
			}
			body = b
		case resp.ContentLength < 0: // until EOF
			if len(rest) > MaxResponseBytes {
				c.finish(nil, nil, errors.New("vhttp: response body too large"))
				c.s.Close()
				return
			}
			if !eof {
				return
			}
			body = rest[:len(rest):len(rest)] // in place, as below
		default:
			n := int(resp.ContentLength)
			if len(rest) < n {
				return // at EOF, OnClose reports the truncation (ErrClosed)
			}
			// Handed over in place, not copied: finish lets go of buf, so nothing writes there
			// again (a 24 KB login reply per viewer was one more copy to make and collect).
			body = rest[:n:n]
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		if resp.ContentLength < 0 {
			resp.ContentLength = int64(len(body))
		}
		c.finish(resp, body, nil)
		return
	}
}

// headerEndFrom is headerEnd for b whose first scanned bytes held no header end.
func headerEndFrom(b []byte, scanned int) int {
	from := max(scanned-2, 0)
	if n := headerEnd(b[from:]); n >= 0 {
		return from + n
	}
	return -1
}
