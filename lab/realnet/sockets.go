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

	"golang.org/x/net/ipv4"

	"gridlab/netem"
)

// UDPConn is a bound UDP socket. WriteTo and Close are for the loop goroutine; the receive
// callback runs there too.
//
// Server sockets (those asking for a kernel buffer) move datagrams in batches where the
// platform offers it (recvmmsg/sendmmsg on Linux, through golang.org/x/net/ipv4): the reader
// takes up to readBatch datagrams per system call and hands them to the loop as one work item,
// and WriteTo queues datagrams that the loop sends together when its turn ends (or when
// writeBatch are waiting). Elsewhere the batch calls move one datagram at a time.
type UDPConn struct {
	l     *Loop
	c     *net.UDPConn
	pc    *ipv4.PacketConn
	local netip.AddrPort
	batch bool

	// Pending writes: their bytes back to back in arena, their ends and destinations.
	arena []byte
	ends  []int
	dsts  []netip.AddrPort
	msgs  []ipv4.Message
	addrs []net.UDPAddr
	dirty bool // on the loop's flush list
}

// Batch sizes of server sockets.
const (
	readBatch  = 32
	writeBatch = 64
)

// ListenUDP binds addr (port 0 picks one) and calls recv on the loop for every datagram.
func (l *Loop) ListenUDP(addr netip.AddrPort, recv func(from netip.AddrPort, b []byte)) (*UDPConn, error) {
	return l.ListenUDPSize(addr, 65536, 4<<20, recv)
}

// ListenUDPSize is ListenUDP with a reader buffer of maxDatagram bytes (longer datagrams are
// truncated) and a kernel receive buffer of sockBuf bytes (0 leaves the system default). A
// process with thousands of client sockets (gridlab load) keeps both small: the reader buffer
// is held for the socket's whole life.
func (l *Loop) ListenUDPSize(addr netip.AddrPort, maxDatagram, sockBuf int, recv func(from netip.AddrPort, b []byte)) (*UDPConn, error) {
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(addr))
	if err != nil {
		return nil, err
	}
	if sockBuf > 0 {
		_ = c.SetReadBuffer(sockBuf)
	}
	u := &UDPConn{l: l, c: c, local: c.LocalAddr().(*net.UDPAddr).AddrPort(), batch: sockBuf > 0}
	if u.batch {
		u.pc = ipv4.NewPacketConn(c)
		go u.readBatched(recv, maxDatagram)
	} else {
		go u.read(recv, maxDatagram)
	}
	return u, nil
}

// readBatched reads up to readBatch datagrams per system call and posts them to the loop as
// one work item: a burst costs one wake-up of the loop, not one per datagram.
func (u *UDPConn) readBatched(recv func(from netip.AddrPort, b []byte), size int) {
	msgs := make([]ipv4.Message, readBatch)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{make([]byte, size)}
	}
	type dgram struct {
		from netip.AddrPort
		b    []byte
	}
	for {
		n, err := u.pc.ReadBatch(msgs, 0)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // ICMP errors surface here on some systems; the socket is still good
		}
		total := 0
		for i := range n {
			total += msgs[i].N
		}
		slab := make([]byte, 0, total) // one allocation for the batch's bytes
		got := make([]dgram, 0, n)
		for i := range n {
			ua, ok := msgs[i].Addr.(*net.UDPAddr)
			if !ok {
				continue
			}
			from := ua.AddrPort()
			start := len(slab)
			slab = append(slab, msgs[i].Buffers[0][:msgs[i].N]...)
			got = append(got, dgram{netip.AddrPortFrom(from.Addr().Unmap(), from.Port()), slab[start:len(slab):len(slab)]})
		}
		if !u.l.tryPost(func() {
			for _, d := range got {
				recv(d.from, d.b)
			}
		}) {
			select {
			case <-u.l.done:
				return
			default:
			}
			u.l.dropped.Add(uint64(len(got)))
		}
	}
}

func (u *UDPConn) read(recv func(from netip.AddrPort, b []byte), size int) {
	buf := make([]byte, size)
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

// WriteTo sends one datagram (a server socket queues it for the loop's flush). Errors are
// dropped packets, as on the wire.
func (u *UDPConn) WriteTo(b []byte, to netip.AddrPort) {
	if !u.batch {
		_, _ = u.c.WriteToUDPAddrPort(b, to)
		return
	}
	u.arena = append(u.arena, b...)
	u.ends = append(u.ends, len(u.arena))
	u.dsts = append(u.dsts, to)
	if len(u.ends) >= writeBatch {
		u.flush()
		return
	}
	if !u.dirty {
		u.dirty = true
		u.l.pending = append(u.l.pending, u)
	}
}

// flush sends the queued datagrams, as many per system call as the platform takes.
func (u *UDPConn) flush() {
	n := len(u.ends)
	if n == 0 {
		return
	}
	if cap(u.msgs) < n {
		u.msgs = make([]ipv4.Message, n)
		u.addrs = make([]net.UDPAddr, n)
	}
	msgs := u.msgs[:n]
	start := 0
	for i, end := range u.ends {
		a := &u.addrs[i]
		ip := u.dsts[i].Addr().As4()
		a.IP = append(a.IP[:0], ip[:]...)
		a.Port = int(u.dsts[i].Port())
		if msgs[i].Buffers == nil {
			msgs[i].Buffers = make([][]byte, 1)
		}
		msgs[i].Buffers[0] = u.arena[start:end]
		msgs[i].Addr = a
		start = end
	}
	for len(msgs) > 0 {
		sent, err := u.pc.WriteBatch(msgs, 0)
		if err != nil {
			// The first datagram failed (no route, buffer full...): it is lost, as on the
			// wire; go on with the rest.
			sent = max(sent, 1)
		}
		msgs = msgs[sent:]
	}
	u.arena, u.ends, u.dsts = u.arena[:0], u.ends[:0], u.dsts[:0]
}

// LocalAddr returns the bound address.
func (u *UDPConn) LocalAddr() netip.AddrPort { return u.local }

// Close sends what is queued and closes the socket.
func (u *UDPConn) Close() {
	if u.batch {
		u.flush()
	}
	_ = u.c.Close()
}

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
	go c.writer(c.out)
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

func (c *TCPConn) writer(out chan []byte) {
	for b := range out {
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
	// Cores may hold a closed connection for long (a viewer keeps its login connection): let
	// go of the write queue (24 KiB) and the handler's buffers now.
	h := c.h
	c.h, c.out, c.pending = nil, nil, nil
	if c.closing && err == nil {
		return // we closed it; nothing to report
	}
	h.OnClose(err)
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
