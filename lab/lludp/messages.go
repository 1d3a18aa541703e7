package lludp

import (
	"encoding/binary"
	"math"
	"slices"

	"github.com/google/uuid"
)

// Message is one message body. AppendBody appends the body (blocks in template order, no
// header, no message number) to b. DecodeBody parses a body, reusing the receiver's slices;
// it rejects a truncated body and ignores trailing bytes after the last block (OpenSim does
// too). Byte-slice fields are copied out of body, so they stay valid after the next Decode.
// After an error the receiver's fields are unspecified.
type Message interface {
	ID() MsgID
	AppendBody(b []byte) []byte
	DecodeBody(body []byte) error
}

// ---- UseCircuitCode (Low 3, NotTrusted, Unencoded) ----

// UseCircuitCode is the viewer's first packet on a circuit: block CircuitCode.
type UseCircuitCode struct {
	Code      uint32
	SessionID uuid.UUID
	AgentID   uuid.UUID // template field CircuitCode.ID
}

func (*UseCircuitCode) ID() MsgID { return MsgUseCircuitCode }

func (m *UseCircuitCode) AppendBody(b []byte) []byte {
	b = appendU32(b, m.Code)
	b = appendUUID(b, m.SessionID)
	return appendUUID(b, m.AgentID)
}

func (m *UseCircuitCode) DecodeBody(body []byte) error {
	r := newReader("UseCircuitCode", body)
	r.enter("CircuitCode", -1)
	m.Code = r.u32("Code")
	m.SessionID = r.uuid("SessionID")
	m.AgentID = r.uuid("ID")
	return r.err
}

// ---- PacketAck (Fixed 0xFFFFFFFB, NotTrusted, Unencoded) ----

// PacketAck acknowledges reliable packets: block Packets (Variable) { ID U32 }, the IDs
// little-endian. At most 255 IDs fit in one message; AppendBody panics beyond that.
type PacketAck struct {
	IDs []uint32
}

func (*PacketAck) ID() MsgID { return MsgPacketAck }

func (m *PacketAck) AppendBody(b []byte) []byte {
	b = appendCount(b, "PacketAck", "Packets", len(m.IDs))
	for _, id := range m.IDs {
		b = appendU32(b, id)
	}
	return b
}

func (m *PacketAck) DecodeBody(body []byte) error {
	r := newReader("PacketAck", body)
	n := r.count("Packets", 4)
	m.IDs = m.IDs[:0]
	for i := 0; i < n; i++ {
		r.enter("Packets", i)
		m.IDs = append(m.IDs, r.u32("ID"))
	}
	return r.err
}

// ---- CompleteAgentMovement (Low 249, NotTrusted, Unencoded) ----

// CompleteAgentMovement asks the region to make the agent root: block AgentData.
type CompleteAgentMovement struct {
	AgentID     uuid.UUID
	SessionID   uuid.UUID
	CircuitCode uint32
}

func (*CompleteAgentMovement) ID() MsgID { return MsgCompleteAgentMovement }

func (m *CompleteAgentMovement) AppendBody(b []byte) []byte {
	b = appendUUID(b, m.AgentID)
	b = appendUUID(b, m.SessionID)
	return appendU32(b, m.CircuitCode)
}

func (m *CompleteAgentMovement) DecodeBody(body []byte) error {
	r := newReader("CompleteAgentMovement", body)
	r.enter("AgentData", -1)
	m.AgentID = r.uuid("AgentID")
	m.SessionID = r.uuid("SessionID")
	m.CircuitCode = r.u32("CircuitCode")
	return r.err
}

// ---- RegionHandshake (Low 148, Trusted, Zerocoded) ----

// RegionHandshake describes the region to the viewer. Blocks RegionInfo, RegionInfo2 and
// RegionInfo3 are flattened into the struct; RegionInfo4 is a Variable block. Variable 1
// fields (SimName, ColoName, ProductSKU, ProductName) are raw bytes; LL senders include the
// trailing NUL of a string.
type RegionHandshake struct {
	// RegionInfo
	RegionFlags          uint32
	SimAccess            uint8
	SimName              []byte
	SimOwner             uuid.UUID
	IsEstateManager      bool
	WaterHeight          float32
	BillableFactor       float32
	CacheID              uuid.UUID
	TerrainBase0         uuid.UUID
	TerrainBase1         uuid.UUID
	TerrainBase2         uuid.UUID
	TerrainBase3         uuid.UUID
	TerrainDetail0       uuid.UUID
	TerrainDetail1       uuid.UUID
	TerrainDetail2       uuid.UUID
	TerrainDetail3       uuid.UUID
	TerrainStartHeight00 float32
	TerrainStartHeight01 float32
	TerrainStartHeight10 float32
	TerrainStartHeight11 float32
	TerrainHeightRange00 float32
	TerrainHeightRange01 float32
	TerrainHeightRange10 float32
	TerrainHeightRange11 float32
	// RegionInfo2
	RegionID uuid.UUID
	// RegionInfo3
	CPUClassID  int32
	CPURatio    int32
	ColoName    []byte
	ProductSKU  []byte
	ProductName []byte
	// RegionInfo4 (Variable, at most 255 entries)
	RegionInfo4 []RegionInfo4
}

// RegionInfo4 is one entry of RegionHandshake's RegionInfo4 block.
type RegionInfo4 struct {
	RegionFlagsExtended uint64
	RegionProtocols     uint64
}

func (*RegionHandshake) ID() MsgID { return MsgRegionHandshake }

func (m *RegionHandshake) AppendBody(b []byte) []byte {
	b = appendU32(b, m.RegionFlags)
	b = appendU8(b, m.SimAccess)
	b = appendVar1(b, m.SimName)
	b = appendUUID(b, m.SimOwner)
	b = appendBool(b, m.IsEstateManager)
	b = appendF32(b, m.WaterHeight)
	b = appendF32(b, m.BillableFactor)
	b = appendUUID(b, m.CacheID)
	b = appendUUID(b, m.TerrainBase0)
	b = appendUUID(b, m.TerrainBase1)
	b = appendUUID(b, m.TerrainBase2)
	b = appendUUID(b, m.TerrainBase3)
	b = appendUUID(b, m.TerrainDetail0)
	b = appendUUID(b, m.TerrainDetail1)
	b = appendUUID(b, m.TerrainDetail2)
	b = appendUUID(b, m.TerrainDetail3)
	b = appendF32(b, m.TerrainStartHeight00)
	b = appendF32(b, m.TerrainStartHeight01)
	b = appendF32(b, m.TerrainStartHeight10)
	b = appendF32(b, m.TerrainStartHeight11)
	b = appendF32(b, m.TerrainHeightRange00)
	b = appendF32(b, m.TerrainHeightRange01)
	b = appendF32(b, m.TerrainHeightRange10)
	b = appendF32(b, m.TerrainHeightRange11)

	b = appendUUID(b, m.RegionID)

	b = appendS32(b, m.CPUClassID)
	b = appendS32(b, m.CPURatio)
	b = appendVar1(b, m.ColoName)
	b = appendVar1(b, m.ProductSKU)
	b = appendVar1(b, m.ProductName)

	b = appendCount(b, "RegionHandshake", "RegionInfo4", len(m.RegionInfo4))
	for _, e := range m.RegionInfo4 {
		b = appendU64(b, e.RegionFlagsExtended)
		b = appendU64(b, e.RegionProtocols)
	}
	return b
}

func (m *RegionHandshake) DecodeBody(body []byte) error {
	r := newReader("RegionHandshake", body)
	r.enter("RegionInfo", -1)
	m.RegionFlags = r.u32("RegionFlags")
	m.SimAccess = r.u8("SimAccess")
	m.SimName = r.var1("SimName", m.SimName)
	m.SimOwner = r.uuid("SimOwner")
	m.IsEstateManager = r.boolean("IsEstateManager")
	m.WaterHeight = r.f32("WaterHeight")
	m.BillableFactor = r.f32("BillableFactor")
	m.CacheID = r.uuid("CacheID")
	m.TerrainBase0 = r.uuid("TerrainBase0")
	m.TerrainBase1 = r.uuid("TerrainBase1")
	m.TerrainBase2 = r.uuid("TerrainBase2")
	m.TerrainBase3 = r.uuid("TerrainBase3")
	m.TerrainDetail0 = r.uuid("TerrainDetail0")
	m.TerrainDetail1 = r.uuid("TerrainDetail1")
	m.TerrainDetail2 = r.uuid("TerrainDetail2")
	m.TerrainDetail3 = r.uuid("TerrainDetail3")
	m.TerrainStartHeight00 = r.f32("TerrainStartHeight00")
	m.TerrainStartHeight01 = r.f32("TerrainStartHeight01")
	m.TerrainStartHeight10 = r.f32("TerrainStartHeight10")
	m.TerrainStartHeight11 = r.f32("TerrainStartHeight11")
	m.TerrainHeightRange00 = r.f32("TerrainHeightRange00")
	m.TerrainHeightRange01 = r.f32("TerrainHeightRange01")
	m.TerrainHeightRange10 = r.f32("TerrainHeightRange10")
	m.TerrainHeightRange11 = r.f32("TerrainHeightRange11")

	r.enter("RegionInfo2", -1)
	m.RegionID = r.uuid("RegionID")

	r.enter("RegionInfo3", -1)
	m.CPUClassID = r.s32("CPUClassID")
	m.CPURatio = r.s32("CPURatio")
	m.ColoName = r.var1("ColoName", m.ColoName)
	m.ProductSKU = r.var1("ProductSKU", m.ProductSKU)
	m.ProductName = r.var1("ProductName", m.ProductName)

	n := r.count("RegionInfo4", 16)
	m.RegionInfo4 = m.RegionInfo4[:0]
	for i := 0; i < n; i++ {
		r.enter("RegionInfo4", i)
		m.RegionInfo4 = append(m.RegionInfo4, RegionInfo4{
			RegionFlagsExtended: r.u64("RegionFlagsExtended"),
			RegionProtocols:     r.u64("RegionProtocols"),
		})
	}
	return r.err
}

// ---- RegionHandshakeReply (Low 149, NotTrusted, Zerocoded) ----

// RegionHandshakeReply is the viewer's answer to RegionHandshake: blocks AgentData and
// RegionInfo { Flags }.
type RegionHandshakeReply struct {
	AgentID   uuid.UUID
	SessionID uuid.UUID
	Flags     uint32 // RegionInfo.Flags
}

func (*RegionHandshakeReply) ID() MsgID { return MsgRegionHandshakeReply }

func (m *RegionHandshakeReply) AppendBody(b []byte) []byte {
	b = appendUUID(b, m.AgentID)
	b = appendUUID(b, m.SessionID)
	return appendU32(b, m.Flags)
}

func (m *RegionHandshakeReply) DecodeBody(body []byte) error {
	r := newReader("RegionHandshakeReply", body)
	r.enter("AgentData", -1)
	m.AgentID = r.uuid("AgentID")
	m.SessionID = r.uuid("SessionID")
	r.enter("RegionInfo", -1)
	m.Flags = r.u32("Flags")
	return r.err
}

// ---- AgentMovementComplete (Low 250, NotTrusted, Unencoded) ----

// AgentMovementComplete tells the viewer it is now a root agent here: blocks AgentData, Data
// and SimData { ChannelVersion Variable 2 }.
type AgentMovementComplete struct {
	AgentID        uuid.UUID
	SessionID      uuid.UUID
	Position       [3]float32
	LookAt         [3]float32
	RegionHandle   uint64
	Timestamp      uint32
	ChannelVersion []byte
}

func (*AgentMovementComplete) ID() MsgID { return MsgAgentMovementComplete }

func (m *AgentMovementComplete) AppendBody(b []byte) []byte {
	b = appendUUID(b, m.AgentID)
	b = appendUUID(b, m.SessionID)
	b = appendVec3(b, m.Position)
	b = appendVec3(b, m.LookAt)
	b = appendU64(b, m.RegionHandle)
	b = appendU32(b, m.Timestamp)
	return appendVar2(b, m.ChannelVersion)
}

func (m *AgentMovementComplete) DecodeBody(body []byte) error {
	r := newReader("AgentMovementComplete", body)
	r.enter("AgentData", -1)
	m.AgentID = r.uuid("AgentID")
	m.SessionID = r.uuid("SessionID")
	r.enter("Data", -1)
	m.Position = r.vec3("Position")
	m.LookAt = r.vec3("LookAt")
	m.RegionHandle = r.u64("RegionHandle")
	m.Timestamp = r.u32("Timestamp")
	r.enter("SimData", -1)
	m.ChannelVersion = r.var2("ChannelVersion", m.ChannelVersion)
	return r.err
}

// ---- AgentUpdate (High 4, NotTrusted, Zerocoded) ----

// AgentUpdate is the viewer's periodic camera/controls update: block AgentData. Rotations
// are quaternions sent as x, y, z only (w is implied).
type AgentUpdate struct {
	AgentID        uuid.UUID
	SessionID      uuid.UUID
	BodyRotation   [3]float32
	HeadRotation   [3]float32
	State          uint8
	CameraCenter   [3]float32
	CameraAtAxis   [3]float32
	CameraLeftAxis [3]float32
	CameraUpAxis   [3]float32
	Far            float32
	ControlFlags   uint32
	Flags          uint8
}

// agentUpdateSize is AgentUpdate's body size.
const agentUpdateSize = 16 + 16 + 12 + 12 + 1 + 4*12 + 4 + 4 + 1

func (*AgentUpdate) ID() MsgID { return MsgAgentUpdate }

// AppendBody and DecodeBody have fixed-offset fast paths: AgentUpdate is the packet a viewer
// sends several times a second. They go through a *[agentUpdateSize]byte and the fields in
// place (putVec3At/getVec3At take pointers), so that every offset is checked at compile
// time and no [3]float32 is copied through the stack on the way.
func (m *AgentUpdate) AppendBody(b []byte) []byte {
	n := len(b)
	b = slices.Grow(b, agentUpdateSize)[:n+agentUpdateSize]
	s := (*[agentUpdateSize]byte)(b[n:])
	*(*[16]byte)(s[0:16]) = m.AgentID
	*(*[16]byte)(s[16:32]) = m.SessionID
	putVec3At((*[12]byte)(s[32:44]), &m.BodyRotation)
	putVec3At((*[12]byte)(s[44:56]), &m.HeadRotation)
	s[56] = m.State
	putVec3At((*[12]byte)(s[57:69]), &m.CameraCenter)
	putVec3At((*[12]byte)(s[69:81]), &m.CameraAtAxis)
	putVec3At((*[12]byte)(s[81:93]), &m.CameraLeftAxis)
	putVec3At((*[12]byte)(s[93:105]), &m.CameraUpAxis)
	binary.LittleEndian.PutUint32(s[105:109], math.Float32bits(m.Far))
	binary.LittleEndian.PutUint32(s[109:113], m.ControlFlags)
	s[113] = m.Flags
	return b
}

func (m *AgentUpdate) DecodeBody(body []byte) error {
	if len(body) < agentUpdateSize {
		return m.decodeChecked(body)
	}
	s := (*[agentUpdateSize]byte)(body)
	m.AgentID = *(*[16]byte)(s[0:16])
	m.SessionID = *(*[16]byte)(s[16:32])
	getVec3At(&m.BodyRotation, (*[12]byte)(s[32:44]))
	getVec3At(&m.HeadRotation, (*[12]byte)(s[44:56]))
	m.State = s[56]
	getVec3At(&m.CameraCenter, (*[12]byte)(s[57:69]))
	getVec3At(&m.CameraAtAxis, (*[12]byte)(s[69:81]))
	getVec3At(&m.CameraLeftAxis, (*[12]byte)(s[81:93]))
	getVec3At(&m.CameraUpAxis, (*[12]byte)(s[93:105]))
	m.Far = math.Float32frombits(binary.LittleEndian.Uint32(s[105:109]))
	m.ControlFlags = binary.LittleEndian.Uint32(s[109:113])
	m.Flags = s[113]
	return nil
}

// decodeChecked is the field-by-field decoder, used for its error on a short body.
func (m *AgentUpdate) decodeChecked(body []byte) error {
	r := newReader("AgentUpdate", body)
	r.enter("AgentData", -1)
	m.AgentID = r.uuid("AgentID")
	m.SessionID = r.uuid("SessionID")
	m.BodyRotation = r.vec3("BodyRotation")
	m.HeadRotation = r.vec3("HeadRotation")
	m.State = r.u8("State")
	m.CameraCenter = r.vec3("CameraCenter")
	m.CameraAtAxis = r.vec3("CameraAtAxis")
	m.CameraLeftAxis = r.vec3("CameraLeftAxis")
	m.CameraUpAxis = r.vec3("CameraUpAxis")
	m.Far = r.f32("Far")
	m.ControlFlags = r.u32("ControlFlags")
	m.Flags = r.u8("Flags")
	return r.err
}

// ---- StartPingCheck (High 1) / CompletePingCheck (High 2), NotTrusted, Unencoded ----

// StartPingCheck measures the circuit's round trip: block PingID.
type StartPingCheck struct {
	PingID        uint8
	OldestUnacked uint32 // the sender's oldest unacked sequence number (little-endian)
}

func (*StartPingCheck) ID() MsgID { return MsgStartPingCheck }

func (m *StartPingCheck) AppendBody(b []byte) []byte {
	b = appendU8(b, m.PingID)
	return appendU32(b, m.OldestUnacked)
}

func (m *StartPingCheck) DecodeBody(body []byte) error {
	r := newReader("StartPingCheck", body)
	r.enter("PingID", -1)
	m.PingID = r.u8("PingID")
	m.OldestUnacked = r.u32("OldestUnacked")
	return r.err
}

// CompletePingCheck answers a StartPingCheck with its PingID.
type CompletePingCheck struct {
	PingID uint8
}

func (*CompletePingCheck) ID() MsgID { return MsgCompletePingCheck }

func (m *CompletePingCheck) AppendBody(b []byte) []byte { return appendU8(b, m.PingID) }

func (m *CompletePingCheck) DecodeBody(body []byte) error {
	r := newReader("CompletePingCheck", body)
	r.enter("PingID", -1)
	m.PingID = r.u8("PingID")
	return r.err
}

// ---- LogoutRequest (Low 252, NotTrusted, Unencoded) / LogoutReply (Low 253, Trusted, Zerocoded) ----

// LogoutRequest is the viewer asking to log out: block AgentData.
type LogoutRequest struct {
	AgentID   uuid.UUID
	SessionID uuid.UUID
}

func (*LogoutRequest) ID() MsgID { return MsgLogoutRequest }

func (m *LogoutRequest) AppendBody(b []byte) []byte {
	b = appendUUID(b, m.AgentID)
	return appendUUID(b, m.SessionID)
}

func (m *LogoutRequest) DecodeBody(body []byte) error {
	r := newReader("LogoutRequest", body)
	r.enter("AgentData", -1)
	m.AgentID = r.uuid("AgentID")
	m.SessionID = r.uuid("SessionID")
	return r.err
}

// LogoutReply confirms a logout: block AgentData and InventoryData (Variable) { ItemID }.
type LogoutReply struct {
	AgentID   uuid.UUID
	SessionID uuid.UUID
	ItemIDs   []uuid.UUID // InventoryData[].ItemID, at most 255
}

func (*LogoutReply) ID() MsgID { return MsgLogoutReply }

func (m *LogoutReply) AppendBody(b []byte) []byte {
	b = appendUUID(b, m.AgentID)
	b = appendUUID(b, m.SessionID)
	b = appendCount(b, "LogoutReply", "InventoryData", len(m.ItemIDs))
	for _, id := range m.ItemIDs {
		b = appendUUID(b, id)
	}
	return b
}

func (m *LogoutReply) DecodeBody(body []byte) error {
	r := newReader("LogoutReply", body)
	r.enter("AgentData", -1)
	m.AgentID = r.uuid("AgentID")
	m.SessionID = r.uuid("SessionID")
	n := r.count("InventoryData", 16)
	m.ItemIDs = m.ItemIDs[:0]
	for i := 0; i < n; i++ {
		r.enter("InventoryData", i)
		m.ItemIDs = append(m.ItemIDs, r.uuid("ItemID"))
	}
	return r.err
}

// ---- CloseCircuit (Fixed 0xFFFFFFFD) / DisableSimulator (Low 152): no blocks ----

// CloseCircuit tells the peer the circuit is closed. It has no blocks.
type CloseCircuit struct{}

func (*CloseCircuit) ID() MsgID                    { return MsgCloseCircuit }
func (*CloseCircuit) AppendBody(b []byte) []byte   { return b }
func (*CloseCircuit) DecodeBody(body []byte) error { return nil }

// DisableSimulator tells the viewer to drop its circuit to this region. It has no blocks.
type DisableSimulator struct{}

func (*DisableSimulator) ID() MsgID                    { return MsgDisableSimulator }
func (*DisableSimulator) AppendBody(b []byte) []byte   { return b }
func (*DisableSimulator) DecodeBody(body []byte) error { return nil }
