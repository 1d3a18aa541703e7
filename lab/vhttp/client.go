package vhttp

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"time"
)

// StreamHandler receives a connection's events; netem's and realnet's TCP connections deliver
// them, and ServerConn and ClientConn implement it.
type StreamHandler interface {
	OnConnect()
	OnData(b []byte)
	OnClose(err error)
}

// Client sends requests the way OpenSim's service connectors do: one request per connection
// (Connection: close), with a deadline for the whole exchange. Dial and After are the driver's
// (netem host or realnet loop, and its clock), so the client is as sans-IO as the rest.
type Client struct {
	// Dial opens a TCP connection to addr whose events go to h.
	Dial func(to netip.AddrPort, h StreamHandler) Stream
	// After runs fn after d on the caller's event loop; stop cancels it.
	After func(d time.Duration, fn func()) (stop func())
}

// TimeoutError is reported when no complete response arrived within the request's timeout.
type TimeoutError struct{ Timeout time.Duration }

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("vhttp: no complete response within %s", e.Timeout)
}

// ErrNotIP is wrapped by the error for a URL whose host is not an IP address: the client does
// not resolve names (the cores are given addresses).
var ErrNotIP = errors.New("vhttp: the URL's host is not an IP address")

// AddrOf returns the address a URL host ("10.0.0.1:9000", "[::1]:80", "10.0.0.1") names.
func AddrOf(host string, defPort uint16) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(host); err == nil {
		return ap, nil
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return netip.AddrPortFrom(a, defPort), nil
	}
	if len(host) > 2 && host[0] == '[' && host[len(host)-1] == ']' {
		if a, err := netip.ParseAddr(host[1 : len(host)-1]); err == nil {
			return netip.AddrPortFrom(a, defPort), nil
		}
	}
	return netip.AddrPort{}, fmt.Errorf("%w: %q", ErrNotIP, host)
}

// Do sends req with body to req.URL's host and calls done exactly once, on the event loop:
// with the response and its body, or with an error (a *TimeoutError when timeout passed first,
// else the transport's error wrapped with ErrClosed, or a parse error). done may be called
// before Do returns (a bad URL). timeout <= 0 means none. Do returns the connection it dialled
// (nil if none), e.g. for its local address.
func (c *Client) Do(req *http.Request, body []byte, timeout time.Duration, done func(resp *http.Response, body []byte, err error)) Stream {
	if req.URL == nil {
		done(nil, nil, errors.New("vhttp: request without URL"))
		return nil
	}
	addr, err := AddrOf(req.URL.Host, 80)
	if err != nil {
		done(nil, nil, err)
		return nil
	}
	if req.Host == "" {
		req.Host = req.URL.Host
	}
	req.Close = true
	st := &lazyStream{}
	var stop func()
	finished := false
	cc := NewClientConn(st, req, body, func(resp *http.Response, b []byte, err error) {
		if finished {
			return
		}
		finished = true
		if stop != nil {
			stop()
		}
		st.Close()
		done(resp, b, err)
	})
	if timeout > 0 && c.After != nil {
		stop = c.After(timeout, func() {
			if finished {
				return
			}
			finished = true
			st.Abort()
			done(nil, nil, &TimeoutError{Timeout: timeout})
		})
	}
	conn := c.Dial(addr, cc)
	st.set(conn)
	return conn
}

// lazyStream lets the ClientConn exist before the dial returns its connection.
type lazyStream struct {
	s       Stream
	pending [][]byte
	closing bool
	abort   bool
}

func (l *lazyStream) set(s Stream) {
	l.s = s
	for _, b := range l.pending {
		s.Write(b)
	}
	l.pending = nil
	switch {
	case l.abort:
		l.Abort()
	case l.closing:
		s.Close()
	}
}

func (l *lazyStream) Write(b []byte) {
	if l.s == nil {
		l.pending = append(l.pending, append([]byte(nil), b...))
		return
	}
	l.s.Write(b)
}

func (l *lazyStream) Close() {
	if l.s == nil {
		l.closing = true
		return
	}
	l.s.Close()
}

// Abort resets the connection when the transport can (a timed-out request is abandoned).
func (l *lazyStream) Abort() {
	if l.s == nil {
		l.abort = true
		return
	}
	if a, ok := l.s.(interface{ Abort() }); ok {
		a.Abort()
		return
	}
	l.s.Close()
}

// statusText is "404 (Not Found)" for error messages.
func statusText(code int) string {
	return strconv.Itoa(code) + " (" + http.StatusText(code) + ")"
}

// StatusError is a non-2xx answer, for callers that treat those as failures.
type StatusError struct{ Code int }

func (e *StatusError) Error() string {
	return "Response status code does not indicate success: " + statusText(e.Code) + "."
}
