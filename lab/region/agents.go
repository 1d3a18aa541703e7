package region

import (
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"gridlab/lab/lludp"
	"gridlab/lab/login"
)

// The region's answers to what a client asks after arriving (OpenSim's LLClientView handlers),
// its RTO from pings, and avatars seeing each other arrive and leave.

// OpenSim's RTO bounds (LLUDPClient: m_minRTO, m_maxRTO) and the ping smoothing.
const (
	minRTO = 250 * time.Millisecond
	maxRTO = 3000 * time.Millisecond
)

// rtoFromPing is OpenSim 0.9.2's UpdateRoundTrip: 5 × smoothed ping, clamped to 250–3000 ms.
func rtoFromPing(srtt time.Duration) time.Duration {
	return min(max(5*srtt, minRTO), maxRTO)
}

// completePing updates the smoothed ping (0.8·old + 0.2·sample) and the circuit's RTO.
func (r *Region) completePing(cl *client, p *lludp.Packet) {
	var m lludp.CompletePingCheck
	if m.DecodeBody(p.Body) != nil || m.PingID != cl.pingID || cl.pingSent == 0 {
		return
	}
	sample := r.cfg.Clock.Now().Sub(cl.pingSent)
	cl.srtt = time.Duration(0.8*float64(cl.srtt) + 0.2*float64(sample))
	cl.c.SetResendTimeout(rtoFromPing(cl.srtt))
}

func (r *Region) maxAgents() uint32 {
	if r.cfg.MaxAgents == 0 {
		return 40
	}
	return r.cfg.MaxAgents
}

func (r *Region) waterHeight() float32 {
	if r.cfg.WaterHeight == 0 {
		return 20
	}
	return r.cfg.WaterHeight
}

// deliverMore handles the messages a client sends once in the region. Requests carrying
// AgentData for another agent or session are dropped, as OpenSim's ValidIDs check does.
func (r *Region) deliverMore(cl *client, p *lludp.Packet) {
	ac := &cl.ac
	switch p.ID {
	case lludp.MsgAgentWearablesRequest:
		var m lludp.AgentWearablesRequest
		if m.DecodeBody(p.Body) != nil || m.AgentID != ac.AgentID || m.SessionID != ac.SessionID {
			return
		}
		cl.wearables++
		cl.c.SendReliable(&lludp.AgentWearablesUpdate{AgentID: ac.AgentID, SessionID: ac.SessionID, SerialNum: cl.wearables})
	case lludp.MsgRequestRegionInfo:
		var m lludp.RequestRegionInfo
		if m.DecodeBody(p.Body) != nil || m.AgentID != ac.AgentID || m.SessionID != ac.SessionID {
			return
		}
		n := r.maxAgents()
		cl.c.SendReliable(&lludp.RegionInfo{
			AgentID: ac.AgentID, SessionID: ac.SessionID,
			SimName: []byte(r.cfg.Name), EstateID: 1, ParentEstateID: 1, SimAccess: 13,
			MaxAgents: uint8(min(n, 255)), BillableFactor: 1, ObjectBonusFactor: 1,
			WaterHeight: r.waterHeight(), TerrainRaiseLimit: 100, TerrainLowerLimit: -100,
			ProductName: []byte("Mainland"), MaxAgents32: n, HardMaxAgents: 100, HardMaxObjects: 15000,
			RegionFlagsExtended: []uint64{0},
		})
	case lludp.MsgMapNameRequest:
		var m lludp.MapNameRequest
		if m.DecodeBody(p.Body) != nil || m.AgentID != ac.AgentID || m.SessionID != ac.SessionID {
			return
		}
		reply := &lludp.MapBlockReply{AgentID: ac.AgentID, Flags: m.Flags}
		q := strings.ToLower(strings.TrimRight(string(m.Name), "\x00"))
		if q != "" && strings.Contains(strings.ToLower(r.cfg.Name), q) {
			reply.Blocks = append(reply.Blocks, lludp.MapBlock{
				X: uint16(r.cfg.X), Y: uint16(r.cfg.Y), Name: []byte(r.cfg.Name), Access: 13,
				WaterHeight: uint8(r.waterHeight()), Agents: uint8(min(r.rootAgents(), 255)),
			})
		}
		// OpenSim ends a name search with a block for "no more results" (an empty name).
		reply.Blocks = append(reply.Blocks, lludp.MapBlock{Access: 255})
		cl.c.SendReliable(reply)
	case lludp.MsgAgentDataUpdateRequest:
		var m lludp.AgentDataUpdateRequest
		if m.DecodeBody(p.Body) != nil || m.AgentID != ac.AgentID || m.SessionID != ac.SessionID {
			return
		}
		cl.c.SendReliable(&lludp.AgentDataUpdate{AgentID: ac.AgentID, FirstName: []byte(ac.First), LastName: []byte(ac.Last)})
	case lludp.MsgEconomyDataRequest:
		// OpenSim's defaults (LLClientView.SendEconomyData with an empty economy module).
		cl.c.SendReliable(&lludp.EconomyData{ObjectCapacity: 45000, PriceEnergyUnit: 100, PriceObjectClaim: 10,
			PricePublicObjectDecay: 4, PricePublicObjectDelete: 4, PriceParcelClaim: 1, PriceParcelClaimFactor: 1,
			PriceRentLight: 5, TeleportMinPrice: 2, TeleportPriceExponent: 2, EnergyEfficiency: 1,
			PriceObjectRent: 1, PriceObjectScaleFactor: 10, PriceParcelRent: 1})
	case lludp.MsgUUIDNameRequest:
		var m lludp.UUIDNameRequest
		if m.DecodeBody(p.Body) != nil {
			return
		}
		var reply lludp.UUIDNameReply
		for _, id := range m.IDs {
			if o := r.byAgent[id]; o != nil && len(reply.Names) < lludp.MaxBlocks {
				reply.Names = append(reply.Names, lludp.UUIDName{ID: id, FirstName: []byte(o.ac.First), LastName: []byte(o.ac.Last)})
			}
		}
		if len(reply.Names) > 0 {
			cl.c.SendReliable(&reply)
		}
	}
}

func (r *Region) rootAgents() int {
	n := 0
	for _, cl := range r.clients.All() { // a count does not depend on order
		if cl.root {
			n++
		}
	}
	return n
}

// maybeInitialData is ScenePresence.SendInitialData: once a root agent has answered the
// handshake and POSTed its seed capability, it sees the avatars already here and they see it.
// A client that never fetches the seed capability (the simulation's viewers) gets none of this,
// exactly as on OpenSim.
func (r *Region) maybeInitialData(cl *client) {
	if cl.visible || !cl.root || !cl.handshake || cl.caps == nil || !cl.caps.seeded || cl.c.Closed() {
		return
	}
	cl.visible = true
	// The agent's own avatar first (ScenePresence.SendInitialData → SendAvatarDataToAgent).
	cl.c.SendReliable(&lludp.ObjectUpdate{RegionHandle: r.handle, TimeDilation: 0xFFFF, Objects: []lludp.ObjectUpdateData{r.avatarData(cl)}})
	var others []*client
	for _, o := range r.clients.All() {
		if o != cl && o.visible {
			others = append(others, o)
		}
	}
	slices.SortFunc(others, func(a, b *client) int { return int(a.localID) - int(b.localID) })
	if len(others) > 0 {
		u := &lludp.ObjectUpdate{RegionHandle: r.handle, TimeDilation: 0xFFFF}
		for _, o := range others {
			u.Objects = append(u.Objects, r.avatarData(o))
			if len(u.Objects) == 8 { // keep each datagram well under the MTU
				cl.c.SendReliable(u)
				u = &lludp.ObjectUpdate{RegionHandle: r.handle, TimeDilation: 0xFFFF}
			}
		}
		if len(u.Objects) > 0 {
			cl.c.SendReliable(u)
		}
	}
	for _, o := range others {
		o.c.SendReliable(&lludp.ObjectUpdate{RegionHandle: r.handle, TimeDilation: 0xFFFF, Objects: []lludp.ObjectUpdateData{r.avatarData(cl)}})
	}
}

// leave tells the clients that could see cl that its avatar is gone (KillObject).
func (r *Region) leave(cl *client) {
	if !cl.visible {
		return
	}
	cl.visible = false
	var others []*client
	for _, o := range r.clients.All() {
		if o != cl && o.visible {
			others = append(others, o)
		}
	}
	slices.SortFunc(others, func(a, b *client) int { return int(a.localID) - int(b.localID) })
	for _, o := range others {
		o.c.SendReliable(&lludp.KillObject{LocalIDs: []uint32{cl.localID}})
	}
}

// avatarData is OpenSim's CreateAvatarUpdateBlock for a standing avatar. The avatar does not
// move, so the block is built once per agent: every arrival sends it to everyone present.
func (r *Region) avatarData(cl *client) lludp.ObjectUpdateData {
	if cl.avatar == nil {
		d := r.buildAvatarData(cl)
		cl.avatar = &d
	}
	return *cl.avatar
}

func (r *Region) buildAvatarData(cl *client) lludp.ObjectUpdateData {
	od := make([]byte, 76) // collision plane (4 floats), position, velocity, acceleration, rotation, angular velocity
	put := func(off int, f float32) { binary.LittleEndian.PutUint32(od[off:], math.Float32bits(f)) }
	put(8, 1) // collision plane normal (0,0,1)
	put(12, cl.ac.StartPos[2])
	put(16, cl.ac.StartPos[0])
	put(20, cl.ac.StartPos[1])
	put(24, cl.ac.StartPos[2])
	nv := "FirstName STRING RW SV " + cl.ac.First + "\nLastName STRING RW SV " + cl.ac.Last + "\nTitle STRING RW SV \x00"
	return lludp.ObjectUpdateData{
		LocalID: cl.localID, FullID: cl.ac.AgentID, PCode: 47, Material: 4,
		Scale: [3]float32{0.45, 0.6, 1.9}, ObjectData: od,
		UpdateFlags: 0x1 | 0x4 | 0x8 | 0x20 | 0x100, // a fixed set of object flags for an avatar
		PathCurve:   16, ProfileCurve: 1, PathScaleX: 100, PathScaleY: 100,
		NameValue: []byte(nv), TextColor: []byte{0, 0, 0, 0},
	}
}

// Kick removes an agent from the region at once (a duplicate login, an operator's kick):
// DisableSimulator, then the circuit closes. It reports whether the agent was here.
func (r *Region) Kick(agent uuid.UUID, why string) bool {
	cl := r.byAgent[agent]
	if cl == nil {
		return false
	}
	cl.c.Send(&lludp.DisableSimulator{})
	r.close(cl, why)
	return true
}

// SetOnLeave sets Config.OnLeave, for drivers that wire presence after creating the region.
func (r *Region) SetOnLeave(f func(ac login.AgentCircuit, why string)) { r.cfg.OnLeave = f }
