package region

import (
	"encoding/hex"
	"net/netip"
	"slices"
	"sort"
	"time"

	"github.com/google/uuid"

	"gridlab/lab/addrmap"
	"gridlab/lab/circuit"
	"gridlab/lab/lludp"
	"gridlab/lab/login"
	"gridlab/sim"
)

// Logger receives log lines; the driver stamps them with (virtual) time.
type Logger interface {
	Logf(level, format string, args ...any)
}

// Clock is what a region needs of time; *sim.Sim satisfies it.
type Clock interface {
	circuit.Clock
	At(t sim.Time, label string, fn func()) sim.Timer
}

// Config describes one region.
type Config struct {
	Name           string
	ID             uuid.UUID
	X, Y           uint32 // grid location, in regions
	Clock          Clock
	Log            Logger
	Send           func(to netip.AddrPort, b []byte)
	ChannelVersion string        // AgentMovementComplete.SimData.ChannelVersion
	AckDelay       time.Duration // how often pending acks are flushed; OpenSim: 500 ms
	PingInterval   time.Duration // StartPingCheck period; OpenSim: 5 s
	Inactivity     time.Duration // disconnect after this long without a packet; OpenSim: 60 s
	// OnUseCircuitCode, if set, observes every UseCircuitCode the region receives (for diagnosis).
	OnUseCircuitCode func(code uint32, from netip.AddrPort, known bool)
	// OnLeave, if set, is told when an agent's circuit closes (logout, timeout, shutdown), so
	// that the grid can clear its presence (OpenSim's PresenceService.LogoutAgent).
	OnLeave func(ac login.AgentCircuit, why string)
	// Terrain sends the land (LayerData, terrain.go) after AgentMovementComplete, as OpenSim
	// does. Real-socket grids set it; the simulation leaves it off for now, because the bundled
	// lossy-path scenario's thresholds were tuned on a trace without terrain packets.
	Terrain bool
	// Estate settings for RegionInfo and MapBlockReply; zero values mean OpenSim's defaults.
	MaxAgents   uint32
	WaterHeight float32
}

// Stats counts what the region saw.
type Stats struct {
	UseCircuitCode  uint64 // UseCircuitCode packets received, repeats included
	UnknownCircuits uint64 // UseCircuitCode with an unknown code or mismatched session/agent
	Repeated        uint64 // UseCircuitCode for a circuit that already exists
	Orphans         uint64 // packets from an endpoint with no circuit
	Malformed       uint64 // datagrams that did not parse
	Arrivals        uint64 // agents that completed movement into the region
	Logouts         uint64
	Timeouts        uint64 // agents disconnected for inactivity
	AgentUpdates    uint64
	Circuit         circuit.Stats // summed over closed and open circuits
}

type client struct {
	avatar    *lludp.ObjectUpdateData // the avatar's update block, built once (avatarData)
	ep        netip.AddrPort
	ac        login.AgentCircuit
	c         *circuit.Circuit
	root      bool // completed movement
	handshake bool // RegionHandshakeReply received
	pingID    uint8
	pingTimer sim.Timer
	r         *Region              // for its ping timer (clientPing)
	pingMsg   lludp.StartPingCheck // the ping being sent (Send encodes it before returning)
	idleTimer sim.Timer
	loggedOut bool
	caps      *agentCaps
	localID   uint32 // the avatar's object ID in this region
	visible   bool   // initial data sent: the agent sees others and others see it
	pingSent  sim.Time
	srtt      time.Duration // smoothed ping, OpenSim's m_pingMS
	wearables uint32        // AgentWearablesUpdate serial number
}

// Region is one region's UDP server.
type Region struct {
	cfg       Config
	handle    uint64
	expected  map[uint32]login.AgentCircuit // by circuit code
	codesOf   map[uuid.UUID][]uint32        // the expected circuit codes of each agent
	clients   addrmap.Map[*client]          // by UDP endpoint
	byAgent   map[uuid.UUID]*client
	resends   uint64 // every circuit's resends, open and closed (Resends)
	dec       lludp.Decoder
	pkt       lludp.Packet // the datagram being received: a local would escape through Deliver
	buf       []byte
	stats     Stats
	malformed int
	caps      map[string]*agentCaps // by CapsPath
	nextLocal uint32
	land      []*lludp.LayerData   // the terrain's LayerData messages, built once
	expiry    map[uint32]sim.Timer // when each expected circuit is given up

	// What every arrival and logout sends, built once: a circuit encodes a message before Send
	// or SendReliable returns and keeps only the bytes, so one RegionHandshake (the same for
	// every agent) and one of each per-agent message, refilled, serve every client.
	handshake   *lludp.RegionHandshake
	moveDone    lludp.AgentMovementComplete
	logoutReply lludp.LogoutReply
	ack         lludp.PacketAck // UseCircuitCode's immediate ack
}

// expectTTL is how long an expected circuit waits for its UseCircuitCode: longer than the
// slowest login reply plus any viewer's UseCircuitCode window (LibreMetaverse: 60 s).
const expectTTL = 120 * time.Second

// New returns a region with no agents.
func New(cfg Config) *Region {
	if cfg.AckDelay <= 0 {
		cfg.AckDelay = 500 * time.Millisecond
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = 5 * time.Second
	}
	if cfg.Inactivity <= 0 {
		cfg.Inactivity = 60 * time.Second
	}
	if cfg.ChannelVersion == "" {
		cfg.ChannelVersion = "gridlab"
	}
	r := &Region{
		cfg:      cfg,
		handle:   uint64(cfg.X*256)<<32 | uint64(cfg.Y*256),
		expected: make(map[uint32]login.AgentCircuit),
		codesOf:  make(map[uuid.UUID][]uint32),
		byAgent:  make(map[uuid.UUID]*client),
		caps:     make(map[string]*agentCaps),
		expiry:   make(map[uint32]sim.Timer),
	}
	r.handshake = r.regionHandshake()
	r.moveDone = lludp.AgentMovementComplete{RegionHandle: r.handle, ChannelVersion: []byte(cfg.ChannelVersion)}
	r.logoutReply.ItemIDs = []uuid.UUID{uuid.Nil}
	r.ack.IDs = make([]uint32, 1)
	return r
}

// SetSend sets where replies go, for drivers that bind the socket after creating the region.
func (r *Region) SetSend(send func(to netip.AddrPort, b []byte)) { r.cfg.Send = send }

// Name returns the region's name.
func (r *Region) Name() string { return r.cfg.Name }

// Stats returns the region's counters, including those of its circuits.
func (r *Region) Stats() Stats {
	s := r.stats
	for _, cl := range r.clients.All() { // sums do not depend on order
		s.Circuit.Add(cl.c.Stats())
	}
	return s
}

// Resends returns the number of datagrams the region's circuits have resent, open and closed
// ones: Stats().Circuit.Resent without visiting every client.
func (r *Region) Resends() uint64 { return r.resends }

// clientAt returns the client at endpoint ep, nil if none.
func (r *Region) clientAt(ep netip.AddrPort) *client {
	cl, _ := r.clients.Get(ep)
	return cl
}

// Warm reads ahead what Receive will read for a datagram from from: its client and the
// client's circuit. It changes nothing (see netem.UDPConn.SetWarm).
func (r *Region) Warm(from netip.AddrPort) byte {
	cl := r.clientAt(from)
	if cl == nil {
		return 0
	}
	return cl.ac.AgentID[0] + cl.c.Warm()
}

// Agents returns the number of connected circuits.
func (r *Region) Agents() int { return r.clients.Len() }

// Expected returns the number of circuits registered by the login service and not yet used.
func (r *Region) Expected() int { return len(r.expected) }

// ExpectAgent registers a circuit the login service has handed to a viewer (OpenSim's
// Scene.NewUserConnection → AgentCircuitManager.AddNewCircuit).
func (r *Region) ExpectAgent(ac login.AgentCircuit) error {
	r.cfg.Log.Logf("INFO", "[SCENE]: Region %s told of incoming root agent %s %s %s (circuit code %d, IP %s, teleportflags (ViaLogin))",
		r.cfg.Name, ac.First, ac.Last, ac.AgentID, ac.CircuitCode, ac.ClientIP)
	// A newer login of the agent supersedes its unused ones (in the order they came; a copy,
	// since dropping edits the list).
	for _, code := range append([]uint32(nil), r.codesOf[ac.AgentID]...) {
		if old := r.expected[code]; code != ac.CircuitCode && !r.inUse(old) {
			r.dropExpected(old)
		}
	}
	r.setExpected(ac)
	code := ac.CircuitCode
	r.expiry[code].Stop()
	r.expiry[code] = r.cfg.Clock.After(expectTTL, "region-expect-expiry", func() { r.expire(code) })
	if ac.CapsPath != "" {
		if old := r.caps[ac.CapsPath]; old != nil {
			r.closeCaps(old)
		}
		r.caps[ac.CapsPath] = &agentCaps{path: ac.CapsPath, agent: ac.AgentID, first: ac.First, last: ac.Last}
	}
	r.cfg.Log.Logf("INFO", "[SCENE %s]: authorized child agent %s %s %s (circuit code %d)",
		r.cfg.Name, ac.First, ac.Last, ac.AgentID, ac.CircuitCode)
	return nil
}

// inUse reports whether a connected client uses the expected circuit ac.
func (r *Region) inUse(ac login.AgentCircuit) bool {
	cl := r.byAgent[ac.AgentID]
	return cl != nil && cl.ac.CircuitCode == ac.CircuitCode
}

// setExpected records ac as expected, indexed by code and by agent.
func (r *Region) setExpected(ac login.AgentCircuit) {
	if old, ok := r.expected[ac.CircuitCode]; ok {
		r.unsetExpected(old.CircuitCode)
	}
	r.expected[ac.CircuitCode] = ac
	r.codesOf[ac.AgentID] = append(r.codesOf[ac.AgentID], ac.CircuitCode)
}

// unsetExpected forgets the expected circuit code, if there is one.
func (r *Region) unsetExpected(code uint32) {
	ac, ok := r.expected[code]
	if !ok {
		return
	}
	delete(r.expected, code)
	codes := slices.DeleteFunc(r.codesOf[ac.AgentID], func(c uint32) bool { return c == code })
	if len(codes) == 0 {
		delete(r.codesOf, ac.AgentID)
	} else {
		r.codesOf[ac.AgentID] = codes
	}
}

// dropExpected forgets an unused expected circuit and its capabilities.
func (r *Region) dropExpected(ac login.AgentCircuit) {
	r.unsetExpected(ac.CircuitCode)
	if t, ok := r.expiry[ac.CircuitCode]; ok {
		t.Stop()
		delete(r.expiry, ac.CircuitCode)
	}
	if c := r.caps[ac.CapsPath]; c != nil {
		r.closeCaps(c)
	}
}

// expire gives up an expected circuit nobody used: the grid's presence is told, as for a logout.
func (r *Region) expire(code uint32) {
	delete(r.expiry, code)
	ac, ok := r.expected[code]
	if !ok || r.inUse(ac) {
		return
	}
	r.dropExpected(ac)
	r.cfg.Log.Logf("INFO", "[SCENE]: Region %s gave up expected circuit %d of %s %s: no UseCircuitCode within %s", r.cfg.Name, code, ac.First, ac.Last, expectTTL)
	if r.cfg.OnLeave != nil {
		r.cfg.OnLeave(ac, "expired")
	}
}

// LaunchAgent is login.Destination for a region in the login service's process (standalone):
// the region answers at once.
func (r *Region) LaunchAgent(ac login.AgentCircuit, done func(err error)) {
	done(r.ExpectAgent(ac))
}

// Receive handles one datagram from the network.
func (r *Region) Receive(from netip.AddrPort, b []byte) {
	var err error
	r.pkt, err = r.dec.Decode(b)
	p := &r.pkt
	if err != nil {
		r.stats.Malformed++
		r.malformed++
		if r.malformed <= 100 { // OpenSim logs the first 100
			r.cfg.Log.Logf("WARN", "[LLUDPSERVER]: Malformed data, cannot parse %d byte packet from %s, data %s:", len(b), from, hex.EncodeToString(b[:min(len(b), 64)]))
		}
		return
	}
	cl := r.clientAt(from)
	if p.ID == lludp.MsgUseCircuitCode {
		var ucc lludp.UseCircuitCode
		if err := ucc.DecodeBody(p.Body); err != nil {
			r.stats.Malformed++
			return
		}
		r.stats.UseCircuitCode++
		if cl != nil && (ucc.Code != cl.ac.CircuitCode || ucc.AgentID != cl.ac.AgentID) {
			// Another circuit's UseCircuitCode on this endpoint: a NAT gave the address to
			// another viewer. A connected agent's moves here; a new one gets its circuit, and the
			// client that was here is detached until its own packets show where it went.
			if o := r.byAgent[ucc.AgentID]; o != nil && o.ac.CircuitCode == ucc.Code && o.ac.SessionID == ucc.SessionID {
				r.rebind(o, from)
				o.c.ReceivePacket(p, len(b))
				return
			}
			cl.ep = netip.AddrPort{}
			r.clients.Delete(from)
			cl = nil
		}
		if cl != nil {
			// Kept from OpenSim ≤0.7.2 on purpose: the operator's best clue for sim-reply-blocked.
			r.stats.Repeated++
			r.cfg.Log.Logf("INFO", "[LLUDPSERVER]: Ignoring a repeated UseCircuitCode from %s at %s for circuit %d", ucc.AgentID, from, ucc.Code)
			cl.c.ReceivePacket(p, len(b)) // acked and deduplicated like any reliable packet
			if r.cfg.OnUseCircuitCode != nil {
				r.cfg.OnUseCircuitCode(ucc.Code, from, true)
			}
			return
		}
		r.useCircuitCode(from, p, &ucc, len(b))
		return
	}
	if agent, session, ok := agentData(p); ok && (cl == nil || agent != cl.ac.AgentID) {
		// A packet naming an agent that is not this endpoint's: if it is a connected agent's,
		// a NAT gave its viewer a new address (rebinding); else it is nobody's.
		if o := r.byAgent[agent]; o != nil && o.ac.SessionID == session {
			r.rebind(o, from)
			o.c.ReceivePacket(p, len(b))
			return
		}
		r.stats.Orphans++
		return
	}
	if cl == nil {
		r.stats.Orphans++
		return
	}
	cl.c.ReceivePacket(p, len(b))
}

// agentData returns the AgentID a message's AgentData block starts with, for the messages that
// carry one.
func agentData(p *lludp.Packet) (agent, session uuid.UUID, ok bool) {
	switch p.ID {
	case lludp.MsgAgentUpdate, lludp.MsgLogoutRequest, lludp.MsgCompleteAgentMovement, lludp.MsgRegionHandshakeReply:
		if len(p.Body) >= 32 {
			copy(agent[:], p.Body[:16])
			copy(session[:], p.Body[16:32])
			return agent, session, true
		}
	}
	return uuid.Nil, uuid.Nil, false
}

// sendClient sends to the client's current endpoint (none while it is detached).
func (r *Region) sendClient(cl *client, b []byte) {
	if cl.ep.IsValid() {
		r.cfg.Send(cl.ep, b)
	}
}

// rebind moves client o to endpoint ep, where a packet with its agent and session arrived: a NAT
// gave its viewer a new address. A client still bound to ep (whose viewer's address ep was) is
// detached until a packet of its own shows where its viewer went, or it times out.
func (r *Region) rebind(o *client, ep netip.AddrPort) {
	if old := r.clientAt(ep); old != nil && old != o {
		old.ep = netip.AddrPort{}
	}
	if r.clientAt(o.ep) == o {
		r.clients.Delete(o.ep)
	}
	r.cfg.Log.Logf("INFO", "[LLUDPSERVER]: %s %s moved from %s to %s", o.ac.First, o.ac.Last, o.ep, ep)
	o.ep = ep
	r.clients.Set(ep, o)
}

func (r *Region) sendTo(ep netip.AddrPort) func([]byte) {
	return func(b []byte) { r.cfg.Send(ep, b) }
}

// useCircuitCode is OpenSim's HandleUseCircuitCode for an endpoint with no client yet.
func (r *Region) useCircuitCode(from netip.AddrPort, p *lludp.Packet, ucc *lludp.UseCircuitCode, n int) {
	// OpenSim (0.9.1+) acks before it authorises: "i hear you shutup".
	r.ack.IDs[0] = p.Seq
	r.buf = lludp.Encode(r.buf[:0], 0, 0, &r.ack, nil)
	r.stats.Circuit.PacketsSent++
	r.stats.Circuit.BytesSent += uint64(len(r.buf))
	r.stats.Circuit.AcksSent++
	r.cfg.Send(from, r.buf)

	r.cfg.Log.Logf("DEBUG", "[LLUDPSERVER]: Handling UseCircuitCode request for circuit %d to %s from IP %s", ucc.Code, r.cfg.Name, from)
	ac, ok := r.expected[ucc.Code]
	if !ok || ac.SessionID != ucc.SessionID || ac.AgentID != ucc.AgentID {
		r.stats.UnknownCircuits++
		r.cfg.Log.Logf("WARN", "[LLUDPSERVER]: Ignoring connection request for %s to %s with unknown circuit code %d from IP %s", ucc.AgentID, r.cfg.Name, ucc.Code, from)
		if r.cfg.OnUseCircuitCode != nil {
			r.cfg.OnUseCircuitCode(ucc.Code, from, false)
		}
		return
	}
	if r.cfg.OnUseCircuitCode != nil {
		r.cfg.OnUseCircuitCode(ucc.Code, from, true)
	}
	if old := r.byAgent[ac.AgentID]; old != nil {
		r.close(old, "relogin")
	}
	r.nextLocal++
	cl := &client{r: r, ep: from, ac: ac, caps: r.caps[ac.CapsPath], localID: r.nextLocal, srtt: 20 * time.Millisecond}
	cl.c = circuit.New(circuit.Config{
		Clock:         r.cfg.Clock,
		Link:          (*clientLink)(cl),
		ResendTimeout: time.Second, // OpenSim's initial RTO
		MaxResends:    -1,          // OpenSim resends until acked or the client times out
		AckDelay:      r.cfg.AckDelay,
		Resends:       &r.resends,
	})
	r.clients.Set(from, cl)
	r.byAgent[ac.AgentID] = cl
	r.cfg.Log.Logf("DEBUG", "[LLUDPSERVER]: Client created")
	cl.c.MarkReceived(p.Seq, n) // acked above; a resend of it is a duplicate
	r.armIdle(cl)
	cl.pingTimer = r.cfg.Clock.AfterH(r.cfg.PingInterval, "region-ping", (*clientPing)(cl))
}

// clientLink is a client as its circuit's Link.
type clientLink client

func (l *clientLink) SendDatagram(b []byte) { cl := (*client)(l); cl.r.sendClient(cl, b) }

func (l *clientLink) DeliverPacket(p *lludp.Packet) { cl := (*client)(l); cl.r.deliver(cl, p) }

func (r *Region) ping(cl *client) {
	if cl.c.Closed() {
		return
	}
	cl.pingID++
	cl.pingSent = r.cfg.Clock.Now()
	cl.pingMsg = lludp.StartPingCheck{PingID: cl.pingID, OldestUnacked: cl.c.OldestUnacked()}
	cl.c.Send(&cl.pingMsg)
	cl.pingTimer = r.cfg.Clock.AfterH(r.cfg.PingInterval, "region-ping", (*clientPing)(cl))
}

// clientPing is a client's ping timer as a sim.Handler: the client itself is the event, so the
// kernel reaches it without reading a closure bound to it.
type clientPing client

func (p *clientPing) Fire() { cl := (*client)(p); cl.r.ping(cl) }

// armIdle schedules the inactivity check for when the client would time out if nothing arrives.
func (r *Region) armIdle(cl *client) {
	last := cl.c.LastReceived()
	cl.idleTimer = r.cfg.Clock.At(last.Add(r.cfg.Inactivity)+1, "region-idle", func() {
		if cl.c.Closed() {
			return
		}
		idle := r.cfg.Clock.Now().Sub(cl.c.LastReceived())
		if idle <= r.cfg.Inactivity {
			r.armIdle(cl)
			return
		}
		kind := "child"
		if cl.root {
			kind = "root"
		}
		r.stats.Timeouts++
		r.cfg.Log.Logf("WARN", "[LLUDPSERVER]: No packets received from %s agent of %s %s for %dms in %s.  Disconnecting.",
			kind, cl.ac.First, cl.ac.Last, idle.Milliseconds(), r.cfg.Name)
		cl.c.Send(&lludp.DisableSimulator{})
		r.close(cl, "timeout")
	})
}

func (r *Region) deliver(cl *client, p *lludp.Packet) {
	switch p.ID {
	case lludp.MsgCompleteAgentMovement:
		var m lludp.CompleteAgentMovement
		if m.DecodeBody(p.Body) != nil || m.CircuitCode != cl.ac.CircuitCode || m.AgentID != cl.ac.AgentID || m.SessionID != cl.ac.SessionID {
			return
		}
		if cl.root {
			r.cfg.Log.Logf("INFO", "[SCENE PRESENCE]: Aborting CompleteMovement call for %s %s in %s as they are already root", cl.ac.First, cl.ac.Last, r.cfg.Name)
			return
		}
		cl.root = true
		r.stats.Arrivals++
		pos := cl.ac.StartPos
		r.cfg.Log.Logf("INFO", "[SCENE PRESENCE]: Complete movement of %s %s into %s <%g, %g, %g>", cl.ac.First, cl.ac.Last, r.cfg.Name, pos[0], pos[1], pos[2])
		cl.c.SendReliable(r.handshake)
		md := &r.moveDone
		md.AgentID, md.SessionID, md.Position, md.LookAt = cl.ac.AgentID, cl.ac.SessionID, pos, cl.ac.LookAt
		cl.c.SendReliable(md)
		if r.cfg.Terrain {
			r.sendTerrain(cl)
		}
		r.maybeInitialData(cl)
	case lludp.MsgRegionHandshakeReply:
		cl.handshake = true
		r.maybeInitialData(cl)
	case lludp.MsgAgentUpdate:
		r.stats.AgentUpdates++
	case lludp.MsgCompletePingCheck:
		r.completePing(cl, p)
	default:
		r.deliverMore(cl, p)
	case lludp.MsgLogoutRequest:
		var m lludp.LogoutRequest
		if m.DecodeBody(p.Body) != nil || m.AgentID != cl.ac.AgentID || m.SessionID != cl.ac.SessionID {
			return
		}
		r.cfg.Log.Logf("INFO", "[CLIENT]: Got a logout request for %s %s in %s", cl.ac.First, cl.ac.Last, r.cfg.Name)
		r.logoutReply.AgentID, r.logoutReply.SessionID = cl.ac.AgentID, cl.ac.SessionID
		cl.c.SendReliable(&r.logoutReply)
		cl.c.FlushAcks()
		r.stats.Logouts++
		cl.loggedOut = true
		r.close(cl, "logout")
	}
}

// regionHandshake builds the region's RegionHandshake (New keeps it as r.handshake).
func (r *Region) regionHandshake() *lludp.RegionHandshake {
	return &lludp.RegionHandshake{
		SimAccess:   13, // PG
		SimName:     []byte(r.cfg.Name),
		WaterHeight: 20,
		RegionID:    r.cfg.ID,
		CPUClassID:  9,
		CPURatio:    1,
		ProductName: []byte("Mainland"),
		RegionInfo4: []lludp.RegionInfo4{{RegionProtocols: 1 << 63}},
	}
}

// close tears a client down: its circuit, its expected-circuit entry and its timers.
func (r *Region) close(cl *client, why string) {
	if cl.c.Closed() {
		return
	}
	r.stats.Circuit.Add(cl.c.Stats())
	cl.c.Close()
	cl.pingTimer.Stop()
	cl.idleTimer.Stop()
	if r.clientAt(cl.ep) == cl {
		r.clients.Delete(cl.ep)
	}
	if r.byAgent[cl.ac.AgentID] == cl {
		delete(r.byAgent, cl.ac.AgentID)
	}
	r.unsetExpected(cl.ac.CircuitCode)
	r.closeCaps(cl.caps)
	r.leave(cl)
	if r.cfg.OnLeave != nil {
		r.cfg.OnLeave(cl.ac, why)
	}
	r.cfg.Log.Logf("DEBUG", "[CLIENT]: Close has been called for %s %s attached to scene %s (%s)", cl.ac.First, cl.ac.Last, r.cfg.Name, why)
}

// Shutdown closes every client in a stable order.
func (r *Region) Shutdown() {
	eps := make([]netip.AddrPort, 0, r.clients.Len())
	for ep := range r.clients.All() {
		eps = append(eps, ep)
	}
	sort.Slice(eps, func(i, j int) bool { return eps[i].Compare(eps[j]) < 0 })
	for _, ep := range eps {
		r.close(r.clientAt(ep), "shutdown")
	}
}
