package realnet

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"gridlab/netem"
)

// UDPConn is a bound UDP socket. WriteTo and Close are for the loop goroutine; the receive
// callback runs there too.
type UDPConn struct {
	l     *Loop
	c     *net.UDPConn
	local netip.AddrPort
}

// ListenUDP binds addr (port 0 picks one) and calls recv on the loop for every datagram.
func (l *Loop) ListenUDP(addr netip.AddrPort, recv func(from netip.AddrPort, b []byte)) (*UDPConn, error) {
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(addr))
	if err != nil {
		return nil, err
	}
	_ = c.SetReadBuffer(4 << 20)
	u := &UDPConn{l: l, c: c, local: c.LocalAddr().(*net.UDPAddr).AddrPort()}
	go u.read(recv)
	return u, nil
}

func (u *UDPConn) read(recv func(from netip.AddrPort, b []byte)) {
	buf := make([]byte, 65536)
	for {
		n, from, err := u.c.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // ICMP errors surface here on some systems; the socket is still good
		}
		b := append([]byte(nil), buf[:n]...)
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		if !u.l.tryPost(func() { recv(from, b) }) {
			select {
			case <-u.l.done:
				return
			default:
			}
			u.l.dropped.Add(1)
		}
	}
}

// WriteTo sends one datagram. Errors are dropped packets, as on the wire.
func (u *UDPConn) WriteTo(b []byte, to netip.AddrPort) { _, _ = u.c.WriteToUDPAddrPort(b, to) }

// LocalAddr returns the bound address.
func (u *UDPConn) LocalAddr() netip.AddrPort { return u.local }

// Close closes the socket.
func (u *UDPConn) Close() { _ = u.c.Close() }

// StreamHandler receives a TCP connection's events on the loop goroutine, like netem's.
type StreamHandler interface {
	OnConnect()
	OnData(b []byte)
	OnClose(err error)
}

// TCPConn is one TCP connection. Write, Close and Abort are for the loop goroutine; they never
// block it (a writer goroutine owns the socket's send side).
type TCPConn struct {
	l       *Loop
	h       StreamHandler
	local   netip.AddrPort
	remote  netip.AddrPort
	conn    *net.TCPConn
	out     chan []byte // nil entry: close after flushing
	pending [][]byte    // written before the connection was up
	closing bool        // Close or Abort called, or the peer is gone
	closed  bool        // OnClose delivered
	once    sync.Once
}

const writeQueue = 1024

// mapErr turns socket errors into netem's, so cores see the same errors on both drivers.
func mapErr(err error) error {
	switch {
	case err == nil, errors.Is(err, io.EOF):
		return nil
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%w: %v", netem.ErrRefused, err)
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return fmt.Errorf("%w: %v", netem.ErrReset, err)
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, syscall.ETIMEDOUT):
		return fmt.Errorf("%w: %v", netem.ErrTimeout, err)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("%w: %v", netem.ErrTimeout, err)
	}
	return err
}

func (c *TCPConn) start(conn *net.TCPConn) {
	c.conn = conn
	c.local = conn.LocalAddr().(*net.TCPAddr).AddrPort()
	c.remote = conn.RemoteAddr().(*net.TCPAddr).AddrPort()
	c.local = netip.AddrPortFrom(c.local.Addr().Unmap(), c.local.Port())
	c.remote = netip.AddrPortFrom(c.remote.Addr().Unmap(), c.remote.Port())
	c.out = make(chan []byte, writeQueue)
	go c.writer()
	go c.reader()
}

func (c *TCPConn) reader() {
	buf := make([]byte, 32<<10)
	for {
		n, err := c.conn.Read(buf)
		if n > 0 {
			b := append([]byte(nil), buf[:n]...)
			if !c.l.Post(func() {
				if !c.closed && !c.closing {
					c.h.OnData(b)
				}
			}) {
				return
			}
		}
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				err = nil
			}
			e := mapErr(err)
			c.l.Post(func() { c.deliverClose(e) })
			return
		}
	}
}

func (c *TCPConn) writer() {
	for b := range c.out {
		if b == nil {
			_ = c.conn.CloseWrite()
			// Give the peer a moment to read and close; then release the socket.
			_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			return
		}
		_ = c.conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
		if _, err := c.conn.Write(b); err != nil {
			_ = c.conn.Close()
			return
		}
	}
}

func (c *TCPConn) deliverClose(err error) {
	if c.closed {
		return
	}
	c.closed = true
	if c.conn != nil {
		c.once.Do(func() { close(c.out) })
		_ = c.conn.Close()
	}
	if c.closing && err == nil {
		return // we closed it; nothing to report
	}
	c.h.OnClose(err)
}

// LocalAddr returns the local address (invalid until connected).
func (c *TCPConn) LocalAddr() netip.AddrPort { return c.local }

// RemoteAddr returns the peer's address; vhttp puts it in Request.RemoteAddr.
func (c *TCPConn) RemoteAddr() netip.AddrPort { return c.remote }

// Write queues b for sending.
func (c *TCPConn) Write(b []byte) {
	if c.closing || c.closed {
		return
	}
	b = append([]byte(nil), b...)
	if c.conn == nil {
		c.pending = append(c.pending, b)
		return
	}
	select {
	case c.out <- b:
	default: // the peer is not reading: give up on it
		c.Abort()
	}
}

// Close sends what is queued, then closes the connection.
func (c *TCPConn) Close() {
	if c.closing || c.closed {
		return
	}
	c.closing = true
	if c.conn != nil {
		c.once.Do(func() {
			select {
			case c.out <- nil:
				close(c.out)
			default:
				close(c.out)
				_ = c.conn.Close()
			}
		})
	}
}

// Abort resets the connection at once.
func (c *TCPConn) Abort() {
	if c.closed {
		return
	}
	c.closing = true
	if c.conn != nil {
		_ = c.conn.SetLinger(0)
		_ = c.conn.Close()
	}
}

// Listener is a listening TCP socket.
type Listener struct {
	l  *net.TCPListener
	ap netip.AddrPort
}

// Addr returns the bound address.
func (ln *Listener) Addr() netip.AddrPort { return ln.ap }

// Close stops accepting.
func (ln *Listener) Close() { _ = ln.l.Close() }

// ListenTCP listens on addr; accept runs on the loop for each connection and returns its
// handler, which then gets OnConnect, OnData and OnClose.
func (l *Loop) ListenTCP(addr netip.AddrPort, accept func(c *TCPConn) StreamHandler) (*Listener, error) {
	tl, err := net.ListenTCP("tcp4", net.TCPAddrFromAddrPort(addr))
	if err != nil {
		return nil, err
	}
	ln := &Listener{l: tl, ap: tl.Addr().(*net.TCPAddr).AddrPort()}
	go func() {
		for {
			conn, err := tl.AcceptTCP()
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				time.Sleep(10 * time.Millisecond) // EMFILE and the like: back off
				continue
			}
			if !l.Post(func() {
				c := &TCPConn{l: l}
				c.start(conn)
				c.h = accept(c)
				c.h.OnConnect()
			}) {
				_ = conn.Close()
				return
			}
		}
	}()
	return ln, nil
}

// DialTCP connects to addr; h gets OnConnect, or OnClose with netem.ErrRefused (wrapped),
// netem.ErrTimeout after 30 s, or another error. It must be called on the loop.
func (l *Loop) DialTCP(to netip.AddrPort, h StreamHandler) *TCPConn {
	c := &TCPConn{l: l, h: h, remote: to}
	go func() {
		d := net.Dialer{Timeout: 30 * time.Second}
		conn, err := d.Dial("tcp4", to.String())
		l.Post(func() {
			if err != nil {
				c.closed = true
				if !c.closing {
					h.OnClose(mapErr(err))
				}
				return
			}
			if c.closing || c.closed {
				_ = conn.Close()
				return
			}
			c.start(conn.(*net.TCPConn))
			for _, b := range c.pending {
				c.out <- b
			}
			c.pending = nil
			h.OnConnect()
		})
	}()
	return c
}
