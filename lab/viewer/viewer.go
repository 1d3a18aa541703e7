package viewer

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"gridlab/lab/circuit"
	"gridlab/lab/lludp"
	"gridlab/lab/login"
	"gridlab/lab/vhttp"
	"gridlab/netem"
	"gridlab/sim"
)

// Stage is a milestone of the login sequence.
type Stage int

// The stages, in the order a successful login reaches them.
const (
	StageLoginReply        Stage = iota // the login service's reply arrived
	StageCircuitAck                     // the region acked UseCircuitCode
	StageRegionHandshake                // RegionHandshake arrived
	StageMovementComplete               // AgentMovementComplete arrived: the user is in world
	StageFirstObjectUpdate              // the first ObjectUpdate arrived: the world starts to appear
	NumStages
)

// Outcomes the viewer decides by itself. Symptoms that several setups share ("no-circuit-ack",
// "agent-wait-timeout", "login-timeout") are refined into failure modes by the lab's diagnosis.
const (
	Success          = "success"
	BadCredentials   = "bad-credentials"
	LoginFailed      = "login-failed"
	LoginHostUnknown = "login-host-unknown"
	LoginPortClosed  = "login-port-closed"
	LoginTimeout     = "login-timeout"
	LoginBadReply    = "login-bad-reply"
	NoCircuitAck     = "no-circuit-ack"
	HandshakeTimeout = "handshake-timeout"
	AgentWaitTimeout = "agent-wait-timeout"
)

// StreamHandler receives a TCP connection's events.
type StreamHandler interface {
	OnConnect()
	OnData(b []byte)
	OnClose(err error)
}

// Conn is an outgoing TCP connection.
type Conn interface {
	Write(b []byte)
	Close()
	Abort()
}

// UDPSocket is a bound UDP socket.
type UDPSocket interface {
	WriteTo(b []byte, to netip.AddrPort)
	LocalAddr() netip.AddrPort
	Close()
}

// Network is what a viewer needs of its host's network stack.
type Network interface {
	// Resolve looks a host name up; cb gets the addresses or the resolver's error.
	Resolve(name string, cb func(addrs []netip.Addr, err error))
	DialTCP(to netip.AddrPort, h StreamHandler) Conn
	ListenUDP(recv func(from netip.AddrPort, b []byte)) (UDPSocket, error)
}

// Config is one viewer.
type Config struct {
	ID       int
	First    string
	Last     string
	Password string // clear text; hashed before it leaves the viewer
	LoginURI string // http://host:port/
	// LoginAddr is where the login request goes. When it is not set, the viewer looks the login
	// URI's host name up first, as a viewer does.
	LoginAddr netip.AddrPort
	Start     string        // last, home or uri:Region&x&y&z
	Stay      time.Duration // time in world before logging out; 0 = stay
	// AgentUpdates is the AgentUpdate period in world; 0 = the profile's, < 0 = none.
	AgentUpdates time.Duration
	// SeedCaps makes the viewer POST its seed capability while the circuit comes up, as real
	// viewers do; the region sends the world (ObjectUpdate) only after it.
	SeedCaps bool
	Profile  Profile
	Clock    circuit.Clock
	Net      Network
	Rand     *rand.Rand // the viewer's own stream (ping jitter)
	// Done is called once when the viewer has finished: failed, or logged out.
	Done func(v *Viewer)
	// Decided is called once when the outcome is known (in world, or failed).
	Decided func(v *Viewer)
	// Trace, if set, is called for everything the viewer sends and receives (see trace.go).
	Trace func(v *Viewer, e TraceEvent)
	// Warm, if set, reads ahead what Trace will read for the viewer's next datagram, changing
	// nothing: the viewer calls it when its next tick or datagram comes up (see sim.Warmer).
	Warm func(v *Viewer) byte
	// LoginBuffers, if set, is where the login reply is received into and given back to once
	// decoded (the viewer keeps nothing of the reply's bytes): viewers of one event loop then
	// share a few buffers instead of allocating ~24 KB each.
	LoginBuffers *vhttp.Buffers
}

// Result is what happened to one viewer.
type Result struct {
	Start       sim.Time
	Stages      [NumStages]sim.Time // absolute virtual times; -1 = not reached
	Outcome     string
	Message     string
	DecidedAt   sim.Time
	Status      string // the last status line shown
	CircuitCode uint32
	AgentID     uuid.UUID
	Sim         netip.AddrPort // region address from the login reply
	LocalUDP    netip.AddrPort
	UCCSends    int // UseCircuitCode transmissions, first one included
	LoggedOut   bool
	// LoginError is the transport error that ended the login request ("" if the reply came).
	LoginError string
	// SimName is the region's name from RegionHandshake.
	SimName string
	// SeedGranted is when the seed capability answered (0 = never asked or no answer).
	SeedGranted sim.Time
	// Lost is set when the viewer, once in world, gave its region up as silent (LostAt, and the
	// message the user saw in LostMessage).
	Lost        bool
	LostAt      sim.Time
	LostMessage string
	Circuit     circuit.Stats
}

// Viewer is one synthetic viewer. The fields an AgentUpdate or a ping touches come first, so that
// they share cache lines: at 100,000 viewers, each viewer is cold when its timer fires.
type Viewer struct {
	done       bool
	loggingOut bool
	decided    bool
	acked      bool
	pingID     uint8
	c          *circuit.Circuit
	tick       sim.Timer // AgentUpdate
	pingTimer  sim.Timer
	lastHeard  sim.Time // the last sign of life from the region (see Profile.RegionTimeout)
	sock       UDPSocket
	sockWarm   warmer         // sock's read-ahead, if it has one (found once, not at every warm)
	au         lludp.Prepared // the AgentUpdate, encoded once (buildAgentUpdate): a tick copies it
	pingMsg    lludp.StartPingCheck
	// Copied from cfg by New, for the same cache lines: what every datagram and timer reads.
	clock         circuit.Clock
	id            int // cfg.ID
	traceFn       func(v *Viewer, e TraceEvent)
	warmFn        func(v *Viewer) byte // cfg.Warm
	rand          *rand.Rand
	sim           netip.AddrPort // the region's address (res.Sim), once the login reply is in; the circuit sends there
	updateEvery   time.Duration  // AgentUpdate period in world
	pingEvery     time.Duration
	regionTimeout time.Duration
	anyPacket     bool // Profile.RegionTimeoutAnyPacket

	cfg      Config
	res      Result
	conn     Conn
	reply    *login.Reply
	uccSeq   uint32
	timer    sim.Timer // the current stage's deadline
	ackTimer sim.Timer // the profile's UseCircuitCode ack wait
	hsTimer  sim.Timer // the profile's RegionHandshake wait
	seedConn Conn      // the seed capability request, while it runs (caps.go)
}

// New returns a viewer that starts when Start is called.
func New(cfg Config) *Viewer {
	v := &Viewer{cfg: cfg, clock: cfg.Clock, id: cfg.ID, traceFn: cfg.Trace, warmFn: cfg.Warm, rand: cfg.Rand,
		pingEvery: cfg.Profile.PingInterval, regionTimeout: cfg.Profile.RegionTimeout,
		anyPacket: cfg.Profile.RegionTimeoutAnyPacket}
	v.updateEvery = cfg.Profile.AgentUpdateInterval
	if cfg.AgentUpdates != 0 {
		v.updateEvery = max(cfg.AgentUpdates, 0)
	}
	for i := range v.res.Stages {
		v.res.Stages[i] = -1
	}
	return v
}

// Result returns what happened so far.
func (v *Viewer) Result() *Result { return &v.res }

// CircuitStats returns the circuit's counters, live or final.
func (v *Viewer) CircuitStats() circuit.Stats {
	if v.c == nil {
		return v.res.Circuit
	}
	return v.c.Stats()
}

// Config returns the viewer's configuration.
func (v *Viewer) Config() *Config { return &v.cfg }

// ID returns Config().ID from the viewer's first cache lines, which its every datagram reads.
func (v *Viewer) ID() int { return v.id }

func (v *Viewer) now() sim.Time { return v.clock.Now() }

func (v *Viewer) status(s string) { v.res.Status = s }

func (v *Viewer) reach(s Stage) {
	if v.res.Stages[s] < 0 {
		v.res.Stages[s] = v.now()
		v.traceNote(TraceStage, s.String())
	}
}

// proxy lets the connection exist before the HTTP client that handles its events.
type proxy struct{ h StreamHandler }

func (p *proxy) OnConnect()        { p.h.OnConnect() }
func (p *proxy) OnData(b []byte)   { p.h.OnData(b) }
func (p *proxy) OnClose(err error) { p.h.OnClose(err) }

// Start begins the login: the XML-RPC request to the login service.
func (v *Viewer) Start() {
	v.res.Start = v.now()
	v.status("Logging in...")
	body, err := login.EncodeRequest(login.Request{
		First:    v.cfg.First,
		Last:     v.cfg.Last,
		Passwd:   login.HashPassword(v.cfg.Password),
		Start:    v.cfg.Start,
		Channel:  "gridlab",
		Version:  "0.1.0",
		Platform: "Lnx",
		Mac:      fmt.Sprintf("%032x", v.cfg.ID),
		ID0:      fmt.Sprintf("%032x", v.cfg.ID),
	})
	if err != nil {
		v.fail(LoginFailed, err.Error())
		return
	}
	req, err := http.NewRequest(http.MethodPost, v.cfg.LoginURI, bytes.NewReader(body))
	if err != nil {
		v.fail(LoginFailed, err.Error())
		return
	}
	req.Header.Set("Content-Type", "text/xml")
	if v.cfg.LoginAddr.IsValid() {
		v.dialLogin(v.cfg.LoginAddr, req, body)
	} else {
		v.resolveLogin(req, body)
	}
	v.traceNote(TraceLoginRequest, "login_to_simulator")
	if v.cfg.Profile.LoginTimeout > 0 {
		v.timer = v.clock.After(v.cfg.Profile.LoginTimeout, "viewer-login-timeout", func() {
			if v.conn != nil {
				v.conn.Abort()
			}
			v.fail(LoginTimeout, v.cfg.Profile.Text.LoginUnreachable)
		})
	}
}

// resolveLogin looks the login URI's host up, then dials it; a name that does not resolve is
// "Unable to connect to grid" at once (login-host-unknown).
func (v *Viewer) resolveLogin(req *http.Request, body []byte) {
	host, port := req.URL.Hostname(), req.URL.Port()
	if port == "" {
		port = "80"
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		v.fail(LoginFailed, fmt.Sprintf("bad login URI port %q", port))
		return
	}
	v.status("Resolving " + host + "...")
	v.cfg.Net.Resolve(host, func(addrs []netip.Addr, err error) {
		if v.decided {
			return
		}
		if err != nil || len(addrs) == 0 {
			v.res.LoginError = "no such host"
			if err != nil {
				v.res.LoginError = err.Error()
			}
			v.timer.Stop()
			v.fail(LoginHostUnknown, v.cfg.Profile.Text.LoginUnreachable)
			return
		}
		v.dialLogin(netip.AddrPortFrom(addrs[0].Unmap(), uint16(p)), req, body)
	})
}

func (v *Viewer) dialLogin(to netip.AddrPort, req *http.Request, body []byte) {
	p := &proxy{}
	v.conn = v.cfg.Net.DialTCP(to, p)
	cc := vhttp.NewClientConn(v.conn, req, body, v.onLoginReply)
	if v.cfg.LoginBuffers != nil {
		cc.ReuseBuffer(v.cfg.LoginBuffers) // onLoginReply decodes the body and keeps none of it
	}
	p.h = cc
}

func (v *Viewer) onLoginReply(resp *http.Response, body []byte, err error) {
	v.traceLoginReply(resp, err)
	if v.decided {
		return
	}
	v.timer.Stop()
	if err != nil {
		// Keep the socket's own words ("connect: connection refused"), not the HTTP client's.
		v.res.LoginError = err.Error()
		if i := strings.LastIndex(v.res.LoginError, "connect: "); i >= 0 {
			v.res.LoginError = v.res.LoginError[i:]
		}
	}
	switch {
	case errors.Is(err, netem.ErrRefused):
		v.fail(LoginPortClosed, v.cfg.Profile.Text.LoginUnreachable)
		return
	case errors.Is(err, netem.ErrReset):
		v.fail(LoginFailed, v.cfg.Profile.Text.LoginUnreachable) // the server went away mid-request
		return
	case err != nil:
		v.fail(LoginTimeout, v.cfg.Profile.Text.LoginUnreachable)
		return
	case resp.StatusCode != http.StatusOK:
		v.fail(LoginFailed, fmt.Sprintf("Login failed. The login server answered HTTP %d.", resp.StatusCode))
		return
	}
	v.conn.Close()
	v.conn = nil // it finishes closing on its own; held for the session it would stay in memory
	reply, derr := login.DecodeReply(body)
	if derr != nil {
		v.fail(LoginBadReply, MsgMalformedReply)
		return
	}
	v.reach(StageLoginReply)
	if !reply.OK() {
		if reply.Reason == "key" && bytes.Contains([]byte(reply.Message), []byte("Could not authenticate")) {
			v.fail(BadCredentials, reply.Message)
		} else {
			v.fail(LoginFailed, reply.Message)
		}
		return
	}
	v.reply = reply
	v.res.CircuitCode = reply.CircuitCode
	v.res.AgentID = reply.AgentID
	v.res.Sim = netip.AddrPortFrom(reply.SimIP, reply.SimPort)
	v.sim = v.res.Sim
	v.status("Initializing world...")
	v.connectRegion()
	if v.cfg.SeedCaps && !v.done {
		v.fetchSeed()
	}
}

func (v *Viewer) connectRegion() {
	sock, err := v.cfg.Net.ListenUDP(v.onDatagram)
	if err != nil {
		v.fail(LoginFailed, "Network error: Could not establish connection, please check your network connection.")
		return
	}
	v.sock = sock
	v.sockWarm, _ = sock.(warmer)
	if ws, ok := sock.(interface {
		SetWarm(func(netip.AddrPort) byte)
	}); ok {
		ws.SetWarm(v.warmFrom)
	}
	v.res.LocalUDP = sock.LocalAddr()
	v.c = circuit.New(circuit.Config{
		Clock:         v.cfg.Clock,
		Link:          (*viewerLink)(v),
		GiveUp:        v.giveUp,
		ResendTimeout: v.cfg.Profile.ResendTimeout,
		MaxResends:    v.cfg.Profile.Retries,
		AckDelay:      v.cfg.Profile.AckDelay,
		Piggyback:     true,
	})
	v.buildAgentUpdate()
	v.status("Waiting for region handshake...")
	v.uccSeq = v.c.SendReliableWith(&lludp.UseCircuitCode{
		Code:      v.reply.CircuitCode,
		SessionID: v.reply.SessionID,
		AgentID:   v.reply.AgentID,
	}, v.cfg.Profile.CircuitResend, v.cfg.Profile.CircuitRetries)
	v.res.UCCSends = 1
	if w := v.cfg.Profile.CircuitAckWait; w > 0 {
		v.ackTimer = v.clock.After(w, "viewer-circuit-wait", func() {
			v.fail(NoCircuitAck, v.cfg.Profile.Text.CircuitFailed)
		})
	}
}

// viewerLink is the viewer as its circuit's Link.
type viewerLink Viewer

func (l *viewerLink) SendDatagram(b []byte) {
	v := (*Viewer)(l)
	v.traceDatagram(TraceSend, b)
	v.sock.WriteTo(b, v.sim)
}

func (l *viewerLink) DeliverPacket(p *lludp.Packet) { (*Viewer)(l).deliver(p) }

func (v *Viewer) giveUp(seq uint32, id lludp.MsgID) {
	// With an ack wait of its own the viewer stops resending but keeps waiting (LibreMetaverse).
	if seq == v.uccSeq && !v.acked && v.cfg.Profile.CircuitAckWait == 0 {
		v.fail(NoCircuitAck, v.cfg.Profile.Text.CircuitFailed)
	}
}

func (v *Viewer) completeMovement() {
	if v.done {
		return
	}
	v.c.SendReliable(&lludp.CompleteAgentMovement{
		AgentID:     v.reply.AgentID,
		SessionID:   v.reply.SessionID,
		CircuitCode: v.reply.CircuitCode,
	})
}

func (v *Viewer) onDatagram(from netip.AddrPort, b []byte) {
	if v.c == nil || from != v.sim {
		return // viewers drop datagrams from hosts they have no circuit with
	}
	v.traceDatagram(TraceRecv, b)
	if v.anyPacket {
		v.lastHeard = v.now()
	}
	v.c.Receive(b)
	if !v.acked && v.uccSeq != 0 && !v.c.Pending(v.uccSeq) && !v.decided {
		v.acked = true
		v.ackTimer.Stop()
		v.reach(StageCircuitAck)
		v.status("Connecting to region...")
		if d := v.cfg.Profile.MovementDelay; d > 0 {
			v.clock.After(d, "viewer-movement-delay", v.completeMovement)
		} else {
			v.completeMovement()
		}
		if w := v.cfg.Profile.HandshakeWait; w > 0 {
			v.hsTimer = v.clock.After(w, "viewer-handshake-wait", func() {
				v.fail(HandshakeTimeout, v.cfg.Profile.Text.HandshakeFailed)
			})
		}
		v.timer = v.clock.After(v.cfg.Profile.AgentWait, "viewer-agent-wait", func() {
			v.fail(AgentWaitTimeout, v.cfg.Profile.Text.AgentWaitFailed)
		})
	}
}

func (v *Viewer) deliver(p *lludp.Packet) {
	switch p.ID {
	case lludp.MsgRegionHandshake:
		v.hsTimer.Stop()
		v.reach(StageRegionHandshake)
		var hs lludp.RegionHandshake
		if v.res.SimName == "" && hs.DecodeBody(p.Body) == nil {
			v.res.SimName = string(bytes.TrimRight(hs.SimName, "\x00"))
		}
		v.c.SendReliable(&lludp.RegionHandshakeReply{AgentID: v.reply.AgentID, SessionID: v.reply.SessionID, Flags: 0x7})
		v.c.Send(&v.au)
	case lludp.MsgAgentMovementComplete:
		if v.decided {
			return
		}
		v.reach(StageMovementComplete)
		v.timer.Stop()
		v.status("Logged in")
		v.decide(Success, "")
		if iv := v.updateInterval(); iv > 0 {
			v.tick = v.clock.AfterH(iv, "viewer-agent-update", (*agentUpdateTick)(v))
		}
		v.lastHeard = v.now()
		v.schedulePing()
		if v.cfg.Stay > 0 {
			v.timer = v.clock.After(v.cfg.Stay, "viewer-logout", v.logout)
		}
	case lludp.MsgCompletePingCheck:
		v.lastHeard = v.now()
	case msgObjectUpdate:
		v.reach(StageFirstObjectUpdate)
	case lludp.MsgLogoutReply:
		if v.loggingOut {
			v.res.LoggedOut = true
			v.finish()
		}
	case lludp.MsgDisableSimulator:
		if !v.decided { // disconnected before AgentMovementComplete: a failed login, not "unfinished"
			v.fail(AgentWaitTimeout, v.cfg.Profile.Text.AgentWaitFailed)
			return
		}
		v.finish()
	}
}

// buildAgentUpdate prepares the AgentUpdate the viewer sends in world: a viewer standing still
// sends the same one every time, so it is encoded once and each tick copies the bytes.
func (v *Viewer) buildAgentUpdate() {
	v.au.Set(&lludp.AgentUpdate{
		AgentID:      v.reply.AgentID,
		SessionID:    v.reply.SessionID,
		BodyRotation: [3]float32{0, 0, 0},
		CameraCenter: [3]float32{128, 128, 25},
		CameraAtAxis: [3]float32{1, 0, 0},
		Far:          64,
	})
}

func (v *Viewer) sendAgentUpdate() {
	if v.done || v.loggingOut {
		return
	}
	v.c.Send(&v.au)
	v.tick = v.clock.AfterH(v.updateInterval(), "viewer-agent-update", (*agentUpdateTick)(v))
}

// agentUpdateTick and pingTick are the viewer's two periodic timers as sim.Handlers: the
// viewer itself is the event, so the kernel reaches it without reading a func bound to it (a
// method value would also allocate at every scheduling).
type (
	agentUpdateTick Viewer
	pingTick        Viewer
)

func (t *agentUpdateTick) Fire() { (*Viewer)(t).sendAgentUpdate() }
func (t *pingTick) Fire()        { (*Viewer)(t).ping() }

func (t *agentUpdateTick) Warm() byte { return (*Viewer)(t).warm() + t.au.Warm() }
func (t *pingTick) Warm() byte        { return (*Viewer)(t).warm() }

// warmer is what a socket may offer for reading ahead (netem.UDPConn does).
type warmer interface {
	WarmTo(to netip.AddrPort) byte
}

// warmFrom is the socket's read-ahead (netem.UDPConn.SetWarm): what a datagram will touch.
func (v *Viewer) warmFrom(netip.AddrPort) byte { return byte(v.pingID) + v.warm() }

// warm reads ahead what a tick or a datagram will use — the circuit, the socket, what the
// Trace hook records into — and changes nothing (see sim.Warmer).
func (v *Viewer) warm() byte {
	var b byte
	if v.c != nil {
		b = v.c.Warm()
	}
	if v.sockWarm != nil {
		b += v.sockWarm.WarmTo(v.sim)
	}
	if v.warmFn != nil {
		b += v.warmFn(v)
	}
	return b
}

func (v *Viewer) updateInterval() time.Duration { return v.updateEvery }

func (v *Viewer) schedulePing() {
	iv := v.pingEvery
	d := time.Duration(float64(iv) * (0.95 + 0.1*v.rand.Float64()))
	v.pingTimer = v.clock.AfterH(d, "viewer-ping", (*pingTick)(v))
}

// ping is the ping timer: give up a region silent for too long, else StartPingCheck.
func (v *Viewer) ping() {
	if v.done {
		return
	}
	if rt := v.regionTimeout; rt > 0 && !v.loggingOut && v.now().Sub(v.lastHeard) > rt {
		v.loseRegion()
		return
	}
	v.pingID++
	v.pingMsg = lludp.StartPingCheck{PingID: v.pingID, OldestUnacked: v.c.OldestUnacked()}
	v.c.Send(&v.pingMsg)
	v.schedulePing()
}

// loseRegion gives up a region that has fallen silent while the viewer was in world: the user
// sees the profile's message and the viewer closes the circuit without a logout.
func (v *Viewer) loseRegion() {
	v.res.Lost, v.res.LostAt, v.res.LostMessage = true, v.now(), v.cfg.Profile.Text.RegionLost
	v.status(v.cfg.Profile.Text.RegionLost)
	v.traceNote(TraceLost, v.res.LostMessage)
	v.finish()
}

// Logout logs a viewer that is in world out now, as its user quitting would: LogoutRequest,
// then quit on LogoutReply or after the profile's logout wait. Otherwise it does nothing.
func (v *Viewer) Logout() {
	if !v.decided || v.res.Outcome != Success || v.done || v.loggingOut {
		return
	}
	v.timer.Stop() // the stay
	v.logout()
}

// logout sends LogoutRequest and quits on LogoutReply or after the profile's logout wait.
func (v *Viewer) logout() {
	if v.done || v.loggingOut {
		return
	}
	v.loggingOut = true
	v.status("Logging out...")
	v.tick.Stop()
	v.c.SendReliable(&lludp.LogoutRequest{AgentID: v.reply.AgentID, SessionID: v.reply.SessionID})
	v.timer = v.clock.After(v.cfg.Profile.LogoutWait, "viewer-logout-wait", v.finish)
}

func (v *Viewer) decide(outcome, msg string) {
	if v.decided {
		return
	}
	v.decided = true
	v.res.Outcome = outcome
	v.res.Message = msg
	v.res.DecidedAt = v.now()
	v.traceNote(TraceOutcome, outcome)
	if v.cfg.Decided != nil {
		v.cfg.Decided(v)
	}
}

func (v *Viewer) fail(outcome, msg string) {
	if v.decided {
		return
	}
	v.decide(outcome, msg)
	v.finish()
}

// finish releases the viewer's sockets and timers and reports it done.
func (v *Viewer) finish() {
	if v.done {
		return
	}
	v.done = true
	v.timer.Stop()
	v.ackTimer.Stop()
	v.hsTimer.Stop()
	v.tick.Stop()
	v.pingTimer.Stop()
	if v.c != nil {
		v.c.FlushAcks()
		v.res.Circuit = v.c.Stats()
		v.c.Close()
	}
	if v.sock != nil {
		v.sock.Close()
	}
	if v.seedConn != nil {
		v.seedConn.Abort()
		v.seedConn = nil
	}
	if v.cfg.Done != nil {
		v.cfg.Done(v)
	}
}
