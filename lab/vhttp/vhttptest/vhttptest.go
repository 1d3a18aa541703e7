// Package vhttptest is an in-memory, deterministic stream pair for testing vhttp users without
// the virtual network: writes are queued and delivered, in order, when Run is called.
package vhttptest

import "net/netip"

// Endpoint is what a transport drives: vhttp.ServerConn and vhttp.ClientConn implement it.
type Endpoint interface {
	OnConnect()
	OnData(b []byte)
	OnClose(err error)
}

// Net queues deliveries between connection ends.
type Net struct {
	// Chunk, if positive, splits every write into deliveries of at most Chunk bytes
	// (1 feeds the peer one byte at a time).
	Chunk int
	queue []func()
}

// Conn is one end of a pair; it implements vhttp.Stream.
type Conn struct {
	n      *Net
	peer   *Conn
	h      Endpoint
	closed bool
	remote netip.AddrPort
	// Written counts bytes written by this end.
	Written int
}

// Pair returns two connected ends whose RemoteAddr report each other's address.
func (n *Net) Pair(aAddr, bAddr netip.AddrPort) (a, b *Conn) {
	a = &Conn{n: n, remote: bAddr}
	b = &Conn{n: n, remote: aAddr}
	a.peer, b.peer = b, a
	return a, b
}

// Attach sets the endpoint that receives this end's events.
func (c *Conn) Attach(h Endpoint) { c.h = h }

// Connect queues OnConnect for b (the server) and then a (the client).
func (n *Net) Connect(a, b *Conn) {
	n.queue = append(n.queue, func() { b.h.OnConnect() }, func() { a.h.OnConnect() })
}

// Run delivers queued events, including those queued while running, until none are left.
func (n *Net) Run() {
	for len(n.queue) > 0 {
		f := n.queue[0]
		n.queue[0] = nil
		n.queue = n.queue[1:]
		f()
	}
	n.queue = nil
}

// RemoteAddr returns the peer's address.
func (c *Conn) RemoteAddr() netip.AddrPort { return c.remote }

// Closed reports whether either end closed the connection.
func (c *Conn) Closed() bool { return c.closed }

// Write queues b for the peer.
func (c *Conn) Write(b []byte) {
	if c.closed {
		return
	}
	c.Written += len(b)
	p := c.peer
	data := append([]byte(nil), b...)
	step := len(data)
	if c.n.Chunk > 0 {
		step = c.n.Chunk
	}
	for len(data) > 0 {
		k := min(step, len(data))
		piece := data[:k]
		data = data[k:]
		c.n.queue = append(c.n.queue, func() {
			if !p.closed && p.h != nil {
				p.h.OnData(piece)
			}
		})
	}
}

// Close closes both ends; the peer gets OnClose(nil) after the data already queued.
func (c *Conn) Close() {
	if c.closed {
		return
	}
	c.closed = true
	p := c.peer
	c.n.queue = append(c.n.queue, func() {
		if !p.closed {
			p.closed = true
			if p.h != nil {
				p.h.OnClose(nil)
			}
		}
	})
}

// Fail ends the connection with err as the transport would (refused, reset, timeout):
// this end's endpoint gets OnClose(err) and the peer OnClose(nil).
func (c *Conn) Fail(err error) {
	if c.closed {
		return
	}
	c.closed = true
	p := c.peer
	c.n.queue = append(c.n.queue, func() {
		if c.h != nil {
			c.h.OnClose(err)
		}
		if !p.closed {
			p.closed = true
			if p.h != nil {
				p.h.OnClose(nil)
			}
		}
	})
}
