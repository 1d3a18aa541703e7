package netem

import (
	"net/netip"
	"time"

	"gridlab/sim"
)

// TCP flags carried by a segment.
const (
	flagFIN uint8 = 1 << iota
	flagSYN
	flagRST
	flagACK
)

// TCP model constants (Linux defaults where Linux has one).
const (
	MSS             = 1460        // payload bytes per segment
	Window          = 64 << 10    // fixed send window (bytes in flight)
	RTOInitial      = time.Second // RFC 6298 initial RTO
	RTOMin          = 200 * time.Millisecond
	RTOMax          = 120 * time.Second
	RTOAfterSYNLoss = 3 * time.Second // RFC 6298 5.7: RTO when the SYN had to be retransmitted
	MaxRetries      = 15              // tcp_retries2
	TimeWait        = 60 * time.Second
	dupAckThreshold = 3
)

// SYNRTOs is the linear SYN retransmission schedule of Linux >= 6.5 (tcp_syn_linear_timeouts 4,
// tcp_syn_retries 6 + 4 linear): retransmissions at 1,2,3,4,5,7,11,19,35,67 s and ETIMEDOUT 64 s
// after the last, at 131 s. Select it with Network.SetSYNSchedule(SYNLinear).
var SYNRTOs = [...]time.Duration{1 * time.Second, 1 * time.Second, 1 * time.Second, 1 * time.Second,
	1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second,
	32 * time.Second, 64 * time.Second}

// SYNRTOsClassic is the classic SYN schedule (tcp_syn_retries 6, initial RTO 1 s doubling):
// retransmissions at 1,3,7,15,31,63 s and ETIMEDOUT 64 s after the last, at 127 s. It is the
// default.
var SYNRTOsClassic = [...]time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second,
	8 * time.Second, 16 * time.Second, 32 * time.Second, 64 * time.Second}

// SYNSchedule selects the client's SYN retransmission schedule.
type SYNSchedule uint8

// SYN schedules.
const (
	SYNClassic SYNSchedule = iota // 1 s doubling, 6 retries, ETIMEDOUT at 127 s
	SYNLinear                     // Linux >= 6.5 with tcp_syn_linear_timeouts: ETIMEDOUT at 131 s
)

// SetSYNSchedule selects the SYN schedule for connections dialed from now on.
func (n *Network) SetSYNSchedule(s SYNSchedule) { n.synLinear = s == SYNLinear }

// synRTO returns the wait after the i-th SYN transmission and whether it is the last.
func (c *TCPConn) synRTO(i int) (time.Duration, bool) {
	if c.synLinear {
		return SYNRTOs[i], i >= len(SYNRTOs)-1
	}
	return SYNRTOsClassic[i], i >= len(SYNRTOsClassic)-1
}

// SYNACKRTOs is the server's SYN-ACK retransmission schedule (tcp_synack_retries 5): the half-open
// connection is forgotten at 63 s.
var SYNACKRTOs = [...]time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second,
	8 * time.Second, 16 * time.Second, 32 * time.Second}

const (
	labelSYNRTO    = "netem/tcp/syn-rto"
	labelSYNACKRTO = "netem/tcp/synack-rto"
	labelRTO       = "netem/tcp/rto"
	labelTimeWait  = "netem/tcp/time-wait"
	labelDialError = "netem/tcp/dial-error"
)

// StreamHandler receives a TCP connection's events. No callback is made synchronously from a
// method call on the connection; all come from events.
type StreamHandler interface {
	// OnConnect is called on the dialing side when the handshake completes.
	OnConnect()
	// OnData delivers bytes in order; b is valid only during the call.
	OnData(b []byte)
	// OnClose is the last callback: nil after the peer's FIN (all data delivered; the connection
	// is half-closed and Write still works until Close), else ErrRefused, ErrReset or ErrTimeout.
	OnClose(err error)
}

type tcpState uint8

const (
	stateSynSent tcpState = iota + 1
	stateSynRcvd
	stateEstablished // includes FIN_WAIT, CLOSE_WAIT, LAST_ACK: see finSent / finRcvd
	stateTimeWait
	stateClosed
)

type connKey struct {
	port   uint16
	remote netip.AddrPort
}

func (c *TCPConn) key() connKey { return connKey{c.local.Port(), c.remote} }

// connTable holds a host's TCP connections by local port and remote address, and counts the
// connections on each local port. Most hosts (every viewer's) have at most one connection at a
// time: it is kept in one, and the maps are made at the first second connection. A viewer's
// host then keeps no maps (two maps' groups, ~500 bytes, stayed after its login connection had
// gone), and finding its connection for a segment is a comparison, not a hash.
type connTable struct {
	one   *TCPConn // the only connection while byKey is nil; nil if none
	byKey map[connKey]*TCPConn
	ports map[uint16]int // local port -> connections using it, with byKey
}

func (t *connTable) get(k connKey) *TCPConn {
	if t.byKey != nil {
		return t.byKey[k]
	}
	if t.one != nil && t.one.key() == k {
		return t.one
	}
	return nil
}

// onPort returns the number of connections using local port p.
func (t *connTable) onPort(p uint16) int {
	if t.byKey != nil {
		return t.ports[p]
	}
	if t.one != nil && t.one.local.Port() == p {
		return 1
	}
	return 0
}

// add adds c, whose key is not in the table.
func (t *connTable) add(c *TCPConn) {
	if t.byKey == nil && t.one == nil {
		t.one = c
		return
	}
	if t.byKey == nil {
		t.byKey, t.ports = map[connKey]*TCPConn{}, map[uint16]int{}
		t.byKey[t.one.key()] = t.one
		t.ports[t.one.local.Port()]++
		t.one = nil
	}
	t.byKey[c.key()] = c
	t.ports[c.local.Port()]++
}

// remove removes c if the table holds it (not another connection with its key).
func (t *connTable) remove(c *TCPConn) {
	if t.byKey == nil {
		if t.one == c {
			t.one = nil
		}
		return
	}
	k := c.key()
	if t.byKey[k] != c {
		return
	}
	delete(t.byKey, k)
	if t.ports[k.port]--; t.ports[k.port] <= 0 {
		delete(t.ports, k.port)
	}
}

type oooSeg struct {
	seq  uint64
	data []byte
	fin  bool
}

// TCPConn is one end of a TCP connection.
type TCPConn struct {
	h      *Host
	n      *Network
	local  netip.AddrPort
	remote netip.AddrPort
	hnd    StreamHandler
	lst    *TCPListener // server side, until accepted
	state  tcpState

	notified  bool // OnClose was called (or Abort): no more callbacks
	synLinear bool

	// send side; sequence numbers are 64-bit and start at iss (no wrap-around)
	iss, sndUna, sndNxt uint64
	buf                 []byte // unacknowledged and unsent bytes are buf[off:]
	off                 int
	sndBase             uint64 // sequence number of buf[off]
	finQueued, finSent  bool
	activeClose         bool
	synRetries          int
	retries             int
	rto, baseRTO        time.Duration
	srtt, rttvar        time.Duration
	hasRTT              bool
	rttTiming           bool
	rttSeq              uint64
	rttStart            sim.Time
	dupAcks             int
	inRecovery          bool
	recover             uint64
	timer               sim.Timer
	timerFn             func()

	// receive side
	rcvNxt     uint64
	finRcvd    bool
	ooo        []oooSeg
	ackPending bool
}

// TCPListener accepts connections on a port.
type TCPListener struct {
	h      *Host
	port   uint16
	accept func(c *TCPConn) StreamHandler
	closed bool
}

// ListenTCP listens on port (0 = next free ephemeral port). accept is called when a handshake
// completes; the handler it returns gets OnData and OnClose (not OnConnect). Returning nil resets
// the connection. It fails with ErrAddrInUse when the port has a listener.
func (h *Host) ListenTCP(port uint16, accept func(c *TCPConn) StreamHandler) (*TCPListener, error) {
	if port == 0 {
		p, ok := nextFree(&h.nextTCP, h.tcpPortFree)
		if !ok {
			return nil, ErrAddrNotAvailable
		}
		port = p
	} else if h.listeners[port] != nil {
		return nil, ErrAddrInUse
	}
	l := &TCPListener{h: h, port: port, accept: accept}
	if h.listeners == nil {
		h.listeners = map[uint16]*TCPListener{} // only servers listen: none for a viewer's host
	}
	h.listeners[port] = l
	return l, nil
}

func (h *Host) tcpPortFree(p uint16) bool { return h.listeners[p] == nil && h.conns.onPort(p) == 0 }

// Addr returns the listening address.
func (l *TCPListener) Addr() netip.AddrPort { return netip.AddrPortFrom(l.h.Addr(), l.port) }

// Close stops accepting. Established connections continue; handshakes completing later are reset.
func (l *TCPListener) Close() {
	if l.closed {
		return
	}
	l.closed = true
	if l.h.listeners[l.port] == l {
		delete(l.h.listeners, l.port)
	}
}

func (h *Host) newConn(local, remote netip.AddrPort, st tcpState) *TCPConn {
	c := &TCPConn{h: h, n: h.n, local: local, remote: remote, state: st,
		rto: RTOInitial, baseRTO: RTOInitial}
	c.timerFn = c.onTimer
	// Initial sequence numbers are random per connection (RFC 6528), from the host's own stream:
	// a segment of an old connection is then unacceptable to a new one on the same 4-tuple (after
	// a NAT reused a port), as on a real stack.
	if h.issRand == nil {
		h.issRand = h.n.s.Rand("netem/tcp-iss/" + h.name)
	}
	c.iss = uint64(h.issRand.Uint32())
	c.sndUna, c.sndNxt = c.iss, c.iss+1
	c.sndBase = c.iss + 1
	h.conns.add(c)
	return c
}

// DialTCP starts a handshake to `to` from the next free ephemeral port. The handler later gets
// OnConnect, or OnClose with ErrRefused (RST), ErrTimeout (127 s without a SYN-ACK, 131 s with
// the linear schedule) or
// ErrAddrNotAvailable (no free port).
func (h *Host) DialTCP(to netip.AddrPort, hnd StreamHandler) *TCPConn {
	port, ok := nextFree(&h.nextTCP, func(p uint16) bool {
		return h.tcpPortFree(p) && h.conns.get(connKey{p, to}) == nil
	})
	if !ok {
		c := &TCPConn{h: h, n: h.n, remote: to, hnd: hnd, state: stateClosed, notified: true}
		h.n.s.After(0, labelDialError, func() { hnd.OnClose(ErrAddrNotAvailable) })
		return c
	}
	c := h.newConn(netip.AddrPortFrom(h.SourceFor(to.Addr()), port), to, stateSynSent)
	c.hnd = hnd
	c.synLinear = h.n.synLinear
	c.rttStart = h.n.s.Now()
	c.emit(flagSYN, c.iss, nil)
	d, _ := c.synRTO(0)
	c.arm(d, labelSYNRTO)
	return c
}

// LocalAddr returns the local address (the host's address and port, before any NAT).
func (c *TCPConn) LocalAddr() netip.AddrPort { return c.local }

// RemoteAddr returns the peer's address as this host sees it (after any NAT).
func (c *TCPConn) RemoteAddr() netip.AddrPort { return c.remote }

// Write queues b (copied) for sending; bytes are sent once connected. Writing after Close or on a
// failed connection does nothing.
func (c *TCPConn) Write(b []byte) {
	if c.state == stateClosed || c.state == stateTimeWait || c.finQueued || len(b) == 0 {
		return
	}
	if c.buf == nil {
		c.buf = c.n.sendBuf(len(b))
	}
	c.buf = append(c.buf, b...)
	c.output()
}

// Closed reports whether the connection has ended (reset, timed out, or closed both ways).
func (c *TCPConn) Closed() bool { return c.state == stateClosed }

// Close sends FIN after all queued data. The handler still receives data until the peer's FIN.
func (c *TCPConn) Close() {
	if c.state == stateClosed || c.state == stateTimeWait || c.finQueued {
		return
	}
	c.finQueued = true
	c.output()
}

// Abort resets the connection: RST to the peer (which sees ErrReset) and no further callbacks to
// this side. Aborting a connection still in SYN_SENT sends nothing.
func (c *TCPConn) Abort() {
	if c.state == stateClosed {
		return
	}
	if c.state == stateEstablished || c.state == stateSynRcvd {
		c.emit(flagRST, c.sndNxt, nil)
	}
	c.notified = true
	c.teardown()
}

func (c *TCPConn) dataEnd() uint64 { return c.sndBase + uint64(len(c.buf)-c.off) }

func (c *TCPConn) arm(d time.Duration, label string) {
	c.timer.Stop()
	c.timer = c.n.s.After(d, label, c.timerFn)
}

// Send buffers of connections that went idle are kept for the next connection to write, up to
// maxFreeSendBufs of at most maxFreeSendBuf bytes: a login storm opens and closes a connection
// per login, each sending a 4 KB request or a 24 KB reply, and allocating each buffer anew was
// a sixth of what the logins allocated (the garbage collector's work) and cold memory besides.
// Which buffer a connection gets changes nothing but the timing: its bytes are copied into
// packets when sent.
const (
	maxFreeSendBufs = 64
	maxFreeSendBuf  = 64 << 10
)

// sendBuf returns an empty send buffer, a kept one if there is one.
func (n *Network) sendBuf(size int) []byte {
	if b := n.sendBufs.Get(); b != nil {
		return b
	}
	return make([]byte, 0, max(size, 4096))
}

// freeSendBuf keeps b, which no connection uses any more, for sendBuf.
func (n *Network) freeSendBuf(b []byte) { n.sendBufs.Put(b) }

// emit sends one segment. Segments with ACK carry rcvNxt.
func (c *TCPConn) emit(flags uint8, seq uint64, data []byte) {
	n := c.n
	p := n.newPacket()
	p.proto = TCP
	p.src, p.dst = c.local, c.remote
	p.flags = flags
	p.seq = seq
	if flags&flagACK != 0 {
		p.ack = c.rcvNxt
		c.ackPending = false
	}
	p.payload = append(p.payload[:0], data...)
	n.stats.tcpSegments++
	n.sendFrom(c.h, p)
}

// output sends new data (and FIN) within the window.
func (c *TCPConn) output() {
	if c.state != stateEstablished {
		return
	}
	for {
		end := c.dataEnd()
		switch {
		case c.sndNxt < end:
			if c.sndNxt-c.sndUna >= Window {
				return
			}
			seq := c.sndNxt
			size := min(end-seq, MSS)
			flags := flagACK
			c.sndNxt += size
			if c.finQueued && seq+size == end {
				flags |= flagFIN
				c.sentFIN()
			}
			start := c.off + int(seq-c.sndBase)
			c.emit(flags, seq, c.buf[start:start+int(size)])
			c.startTiming()
		case c.finQueued && !c.finSent:
			c.sentFIN()
			c.emit(flagACK|flagFIN, end, nil)
			c.startTiming()
		default:
			return
		}
	}
}

func (c *TCPConn) sentFIN() {
	c.finSent = true
	c.sndNxt++
	c.activeClose = !c.finRcvd
}

func (c *TCPConn) startTiming() {
	if !c.timer.Active() {
		c.arm(c.rto, labelRTO)
	}
	if !c.rttTiming {
		c.rttTiming, c.rttSeq, c.rttStart = true, c.sndNxt, c.n.s.Now()
	}
}

// retransmit resends the oldest unacknowledged segment.
func (c *TCPConn) retransmit() {
	end := c.dataEnd()
	seq := c.sndUna
	switch {
	case seq < end:
		size := min(end-seq, MSS)
		flags := flagACK
		if c.finSent && seq+size == end {
			flags |= flagFIN
		}
		start := c.off + int(seq-c.sndBase)
		c.emit(flags, seq, c.buf[start:start+int(size)])
	case c.finSent:
		c.emit(flagACK|flagFIN, end, nil)
	default:
		return
	}
	c.n.stats.tcpRetransmits++
	c.rttTiming = false // Karn: no samples from retransmitted data
}

func (c *TCPConn) onTimer() {
	n := c.n
	switch c.state {
	case stateSynSent:
		if _, last := c.synRTO(c.synRetries); last {
			c.fail(ErrTimeout)
			return
		}
		c.synRetries++
		n.stats.tcpRetransmits++
		c.emit(flagSYN, c.iss, nil)
		d, _ := c.synRTO(c.synRetries)
		c.arm(d, labelSYNRTO)
	case stateSynRcvd:
		if c.synRetries >= len(SYNACKRTOs)-1 {
			c.notified = true
			c.teardown() // half-open connection forgotten; accept was never called
			return
		}
		c.synRetries++
		n.stats.tcpRetransmits++
		c.emit(flagSYN|flagACK, c.iss, nil)
		c.arm(SYNACKRTOs[c.synRetries], labelSYNACKRTO)
	case stateEstablished:
		if c.sndUna == c.sndNxt {
			return
		}
		c.retries++
		if c.retries > MaxRetries {
			c.fail(ErrTimeout)
			return
		}
		c.rto = min(2*c.rto, RTOMax)
		c.inRecovery, c.recover, c.dupAcks = true, c.sndNxt, 0
		c.retransmit()
		c.arm(c.rto, labelRTO)
	case stateTimeWait:
		c.teardown()
	}
}

func (c *TCPConn) sample(r time.Duration) {
	if !c.hasRTT {
		c.hasRTT = true
		c.srtt, c.rttvar = r, r/2
	} else {
		d := c.srtt - r
		if d < 0 {
			d = -d
		}
		c.rttvar = (3*c.rttvar + d) / 4
		c.srtt = (7*c.srtt + r) / 8
	}
	c.baseRTO = min(max(c.srtt+max(time.Millisecond, 4*c.rttvar), RTOMin), RTOMax)
	c.rto = c.baseRTO
}

// teardown removes the connection from its host and stops its timer.
func (c *TCPConn) teardown() {
	if c.state == stateClosed {
		return
	}
	c.state = stateClosed
	c.timer.Stop()
	c.h.conns.remove(c)
	c.n.freeSendBuf(c.buf)
	c.buf, c.ooo = nil, nil
}

// fail tears the connection down and reports err.
func (c *TCPConn) fail(err error) {
	n := c.n
	switch err {
	case ErrRefused:
		n.stats.tcpRefused++
		n.s.Trace("tcp/refused", uint64(c.local.Port()))
	case ErrReset:
		n.stats.tcpResets++
		n.s.Trace("tcp/reset", uint64(c.local.Port()))
	case ErrTimeout:
		n.stats.tcpTimeouts++
		n.s.Trace("tcp/timeout", uint64(c.local.Port()))
	}
	c.teardown()
	if !c.notified {
		c.notified = true
		if c.hnd != nil {
			c.hnd.OnClose(err)
		}
	}
}

// tcpInput dispatches an arriving segment to its connection or listener. It releases p.
func (h *Host) tcpInput(p *packet) {
	n := h.n
	if c := h.conns.get(connKey{p.dst.Port(), p.src}); c != nil {
		c.input(p)
		n.release(p)
		return
	}
	if p.flags&flagRST != 0 {
		n.drop(p, DropNoListener, h.name, "")
		return
	}
	if p.flags&(flagSYN|flagACK) == flagSYN {
		if l := h.listeners[p.dst.Port()]; l != nil {
			c := h.newConn(p.dst, p.src, stateSynRcvd)
			c.lst = l
			c.rcvNxt = p.seq + 1
			c.rttStart = n.s.Now()
			n.release(p)
			c.emit(flagSYN|flagACK, c.iss, nil)
			c.arm(SYNACKRTOs[0], labelSYNACKRTO)
			return
		}
	}
	// No socket: answer with RST (a closed port refuses the connection).
	rst := n.rstFor(p)
	n.drop(p, DropNoListener, h.name, "")
	n.sendFrom(h, rst)
}

// input processes a segment for this connection (p is released by the caller).
func (c *TCPConn) input(p *packet) {
	n := c.n
	if p.flags&flagRST != 0 {
		switch c.state {
		case stateSynSent:
			if p.flags&flagACK != 0 && p.ack == c.iss+1 {
				c.fail(ErrRefused)
			}
		case stateEstablished:
			c.fail(ErrReset)
		default:
			c.notified = true
			c.teardown()
		}
		return
	}
	switch c.state {
	case stateSynSent:
		if p.flags&(flagSYN|flagACK) != flagSYN|flagACK || p.ack != c.iss+1 {
			return // simultaneous open is not modelled
		}
		c.rcvNxt = p.seq + 1
		c.sndUna = c.iss + 1
		c.state = stateEstablished
		c.timer.Stop()
		if c.synRetries == 0 {
			c.sample(n.s.Now().Sub(c.rttStart))
		} else {
			c.rto, c.baseRTO = RTOAfterSYNLoss, RTOAfterSYNLoss
		}
		c.ackPending = true
		n.stats.tcpConnects++
		n.s.Trace("tcp/connect", uint64(c.local.Port()))
		if c.hnd != nil {
			c.hnd.OnConnect()
		}
		if c.state != stateEstablished {
			return
		}
		c.output()
		c.flushAck()
		return
	case stateSynRcvd:
		if p.flags&flagSYN != 0 {
			if p.flags&flagACK == 0 { // the client retransmitted its SYN: our SYN-ACK was lost
				n.stats.tcpRetransmits++
				c.emit(flagSYN|flagACK, c.iss, nil)
			}
			return
		}
		if p.flags&flagACK == 0 || p.ack != c.iss+1 {
			return
		}
		c.sndUna = c.iss + 1
		c.state = stateEstablished
		c.timer.Stop()
		if c.synRetries == 0 {
			c.sample(n.s.Now().Sub(c.rttStart))
		}
		l := c.lst
		c.lst = nil
		if l.closed {
			c.Abort()
			return
		}
		var hnd StreamHandler
		if l.accept != nil {
			hnd = l.accept(c)
		}
		if c.state != stateEstablished {
			return
		}
		if hnd == nil {
			c.Abort()
			return
		}
		c.hnd = hnd
		n.stats.tcpAccepts++
		n.s.Trace("tcp/accept", uint64(c.remote.Port()))
	case stateTimeWait:
		if p.flags&flagFIN != 0 {
			c.emit(flagACK, c.sndNxt, nil)
		}
		return
	case stateEstablished:
		if p.flags&flagSYN != 0 { // duplicate SYN-ACK (our ACK was lost) or stray SYN
			c.emit(flagACK, c.sndNxt, nil)
			return
		}
	default:
		return
	}
	if p.flags&flagACK != 0 {
		c.onAck(p)
		if c.state != stateEstablished {
			return
		}
	}
	if len(p.payload) > 0 || p.flags&flagFIN != 0 {
		c.onData(p)
		if c.state != stateEstablished {
			return
		}
	}
	c.flushAck()
	c.checkDone()
}

func (c *TCPConn) flushAck() {
	if c.ackPending && c.state == stateEstablished {
		c.emit(flagACK, c.sndNxt, nil)
	}
}

func (c *TCPConn) onAck(p *packet) {
	ack := p.ack
	if ack > c.sndNxt {
		return
	}
	if ack > c.sndUna {
		if c.rttTiming && ack >= c.rttSeq {
			c.rttTiming = false
			c.sample(c.n.s.Now().Sub(c.rttStart))
		}
		if e := min(ack, c.dataEnd()); e > c.sndBase {
			k := int(e - c.sndBase)
			c.off += k
			c.sndBase = e
			if c.off == len(c.buf) {
				// All sent data is acked: keep no buffer on an idle connection (a login
				// request's 4 KB or a reply's 24 KB, for a session's length, times 100,000).
				c.n.freeSendBuf(c.buf)
				c.buf, c.off = nil, 0
			} else if c.off > cap(c.buf)/2 {
				m := copy(c.buf, c.buf[c.off:])
				c.buf, c.off = c.buf[:m], 0
			}
		}
		c.sndUna = ack
		c.retries, c.dupAcks = 0, 0
		c.rto = c.baseRTO
		if c.inRecovery {
			if ack >= c.recover {
				c.inRecovery = false
			} else {
				c.retransmit() // partial ack: the next hole
			}
		}
		if c.sndUna == c.sndNxt {
			c.timer.Stop()
		} else {
			c.arm(c.rto, labelRTO)
		}
		c.output()
		return
	}
	if ack == c.sndUna && c.sndNxt > c.sndUna && len(p.payload) == 0 && p.flags&flagFIN == 0 && !c.inRecovery {
		c.dupAcks++
		if c.dupAcks == dupAckThreshold {
			c.inRecovery, c.recover = true, c.sndNxt
			c.retransmit()
			c.arm(c.rto, labelRTO)
		}
	}
}

func (c *TCPConn) onData(p *packet) {
	seq, data, fin := p.seq, p.payload, p.flags&flagFIN != 0
	end := seq + uint64(len(data))
	if fin {
		end++
	}
	c.ackPending = true
	if end <= c.rcvNxt || c.finRcvd {
		return // duplicate: re-ack
	}
	if seq > c.rcvNxt {
		c.storeOOO(seq, data, fin)
		return
	}
	if !c.deliver(seq, data, fin) {
		return
	}
	for len(c.ooo) > 0 && c.ooo[0].seq <= c.rcvNxt && !c.finRcvd {
		s := c.ooo[0]
		c.ooo = c.ooo[1:]
		if !c.deliver(s.seq, s.data, s.fin) {
			return
		}
	}
	if len(c.ooo) == 0 {
		c.ooo = nil
	}
}

func (c *TCPConn) storeOOO(seq uint64, data []byte, fin bool) {
	i := 0
	for i < len(c.ooo) && c.ooo[i].seq < seq {
		i++
	}
	if i < len(c.ooo) && c.ooo[i].seq == seq && len(c.ooo[i].data) >= len(data) {
		return
	}
	s := oooSeg{seq: seq, data: append([]byte(nil), data...), fin: fin}
	if i < len(c.ooo) && c.ooo[i].seq == seq {
		c.ooo[i] = s
		return
	}
	c.ooo = append(c.ooo, oooSeg{})
	copy(c.ooo[i+1:], c.ooo[i:])
	c.ooo[i] = s
}

// deliver hands the new part of an in-order segment to the handler. It reports false when the
// connection went away during a callback.
func (c *TCPConn) deliver(seq uint64, data []byte, fin bool) bool {
	if skip := c.rcvNxt - seq; skip < uint64(len(data)) {
		d := data[skip:]
		c.rcvNxt += uint64(len(d))
		c.n.traceData("tcp", c.remote, c.local, d)
		if !c.notified && c.hnd != nil {
			c.hnd.OnData(d)
			if c.state != stateEstablished {
				return false
			}
		}
	} else if seq+uint64(len(data)) < c.rcvNxt {
		return true // entirely old
	}
	if fin {
		c.rcvNxt++
		c.finRcvd = true
		c.n.s.Trace("tcp/fin", uint64(c.local.Port()))
		if !c.notified {
			c.notified = true
			if c.hnd != nil {
				c.hnd.OnClose(nil)
			}
			if c.state != stateEstablished {
				return false
			}
		}
	}
	return true
}

// checkDone finishes a connection once both FINs are through: TIME_WAIT for the active closer.
func (c *TCPConn) checkDone() {
	if c.state != stateEstablished || !c.finSent || !c.finRcvd || c.sndUna < c.sndNxt {
		return
	}
	if c.activeClose {
		c.state = stateTimeWait
		c.arm(TimeWait, labelTimeWait)
		return
	}
	c.teardown()
}
