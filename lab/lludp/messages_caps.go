package lludp

import (
	"encoding/binary"

	"github.com/google/uuid"
)

// Messages a region exchanges with a client after the login handshake: what node-metaverse's
// connectToSim and the SL viewer's startup ask for (wearables, region info, map block, agent
// data, economy data, names) and what the region pushes (terrain, avatars arriving and
// leaving). They live here, apart from the login-sequence codecs in messages.go, and are
// checked against the template by TestCapsLayouts.

// IDs of the messages in this file.
const (
	MsgLayerData              MsgID = 11         // High 11
	MsgObjectUpdate           MsgID = 12         // High 12
	MsgKillObject             MsgID = 16         // High 16
	MsgEconomyDataRequest     MsgID = 0xFFFF0018 // Low 24
	MsgEconomyData            MsgID = 0xFFFF0019 // Low 25
	MsgAgentThrottle          MsgID = 0xFFFF0051 // Low 81
	MsgRequestRegionInfo      MsgID = 0xFFFF008D // Low 141
	MsgRegionInfo             MsgID = 0xFFFF008E // Low 142
	MsgUUIDNameRequest        MsgID = 0xFFFF00EB // Low 235
	MsgUUIDNameReply          MsgID = 0xFFFF00EC // Low 236
	MsgAgentWearablesRequest  MsgID = 0xFFFF017D // Low 381
	MsgAgentWearablesUpdate   MsgID = 0xFFFF017E // Low 382
	MsgAgentDataUpdateRequest MsgID = 0xFFFF0182 // Low 386
	MsgAgentDataUpdate        MsgID = 0xFFFF0183 // Low 387
	MsgMapNameRequest         MsgID = 0xFFFF0198 // Low 408
	MsgMapBlockReply          MsgID = 0xFFFF0199 // Low 409
)

func appendU16(b []byte, v uint16) []byte { return binary.LittleEndian.AppendUint16(b, v) }

func (r *reader) u16(field string) uint16 {
	s, ok := r.take(field, 2)
	if !ok {
		return 0
	}
	return binary.LittleEndian.Uint16(s)
}

// agentDataBody is the body of the many requests that carry only AgentData {AgentID, SessionID}.
func appendAgentData(b []byte, agent, session uuid.UUID) []byte {
	return appendUUID(appendUUID(b, agent), session)
}

func decodeAgentData(msg string, body []byte, agent, session *uuid.UUID) error {
	r := newReader(msg, body)
	r.enter("AgentData", -1)
	*agent = r.uuid("AgentID")
	*session = r.uuid("SessionID")
	return r.err
}

// ---- AgentWearablesRequest (Low 381) / RequestRegionInfo (Low 141) / AgentDataUpdateRequest (Low 386) ----

// AgentWearablesRequest asks for the agent's worn items: block AgentData.
type AgentWearablesRequest struct{ AgentID, SessionID uuid.UUID }

func (*AgentWearablesRequest) ID() MsgID { return MsgAgentWearablesRequest }
func (m *AgentWearablesRequest) AppendBody(b []byte) []byte {
	return appendAgentData(b, m.AgentID, m.SessionID)
}
func (m *AgentWearablesRequest) DecodeBody(body []byte) error {
	return decodeAgentData("AgentWearablesRequest", body, &m.AgentID, &m.SessionID)
}

// RequestRegionInfo asks for RegionInfo: block AgentData.
type RequestRegionInfo struct{ AgentID, SessionID uuid.UUID }

func (*RequestRegionInfo) ID() MsgID { return MsgRequestRegionInfo }
func (m *RequestRegionInfo) AppendBody(b []byte) []byte {
	return appendAgentData(b, m.AgentID, m.SessionID)
}
func (m *RequestRegionInfo) DecodeBody(body []byte) error {
	return decodeAgentData("RequestRegionInfo", body, &m.AgentID, &m.SessionID)
}

// AgentDataUpdateRequest asks for AgentDataUpdate: block AgentData.
type AgentDataUpdateRequest struct{ AgentID, SessionID uuid.UUID }

func (*AgentDataUpdateRequest) ID() MsgID { return MsgAgentDataUpdateRequest }
func (m *AgentDataUpdateRequest) AppendBody(b []byte) []byte {
	return appendAgentData(b, m.AgentID, m.SessionID)
}
func (m *AgentDataUpdateRequest) DecodeBody(body []byte) error {
	return decodeAgentData("AgentDataUpdateRequest", body, &m.AgentID, &m.SessionID)
}

// ---- AgentWearablesUpdate (Low 382, Trusted, Zerocoded) ----

// Wearable is one AgentWearablesUpdate.WearableData entry.
type Wearable struct {
	ItemID, AssetID uuid.UUID
	WearableType    uint8
}

// AgentWearablesUpdate lists the agent's worn items (an empty list is valid).
type AgentWearablesUpdate struct {
	AgentID, SessionID uuid.UUID
	SerialNum          uint32
	Wearables          []Wearable
}

func (*AgentWearablesUpdate) ID() MsgID { return MsgAgentWearablesUpdate }
func (m *AgentWearablesUpdate) AppendBody(b []byte) []byte {
	b = appendAgentData(b, m.AgentID, m.SessionID)
	b = appendU32(b, m.SerialNum)
	b = appendCount(b, "AgentWearablesUpdate", "WearableData", len(m.Wearables))
	for _, w := range m.Wearables {
		b = appendUUID(b, w.ItemID)
		b = appendUUID(b, w.AssetID)
		b = appendU8(b, w.WearableType)
	}
	return b
}
func (m *AgentWearablesUpdate) DecodeBody(body []byte) error {
	r := newReader("AgentWearablesUpdate", body)
	r.enter("AgentData", -1)
	m.AgentID = r.uuid("AgentID")
	m.SessionID = r.uuid("SessionID")
	m.SerialNum = r.u32("SerialNum")
	n := r.count("WearableData", 33)
	m.Wearables = m.Wearables[:0]
	for i := 0; i < n; i++ {
		r.enter("WearableData", i)
		m.Wearables = append(m.Wearables, Wearable{ItemID: r.uuid("ItemID"), AssetID: r.uuid("AssetID"), WearableType: r.u8("WearableType")})
	}
	return r.err
}

// ---- RegionInfo (Low 142, NotTrusted, Zerocoded) ----

// ChatSettings is one RegionInfo.RegionInfo5 entry.
type ChatSettings struct {
	ChatWhisperRange, ChatNormalRange, ChatShoutRange    float32
	ChatWhisperOffset, ChatNormalOffset, ChatShoutOffset float32
	ChatFlags                                            uint32
}

// CombatSettings is one RegionInfo.CombatSettings entry.
type CombatSettings struct {
	CombatFlags       uint32
	OnDeath           uint8
	DamageThrottle    float32
	RegenerationRate  float32
	InvulnerabilyTime float32 // sic, as the template spells it
	DamageLimit       float32
}

// RegionInfo describes the region's estate settings (the answer to RequestRegionInfo).
type RegionInfo struct {
	AgentID, SessionID uuid.UUID
	// RegionInfo
	SimName           []byte
	EstateID          uint32
	ParentEstateID    uint32
	RegionFlags       uint32
	SimAccess         uint8
	MaxAgents         uint8
	BillableFactor    float32
	ObjectBonusFactor float32
	WaterHeight       float32
	TerrainRaiseLimit float32
	TerrainLowerLimit float32
	PricePerMeter     int32
	RedirectGridX     int32
	RedirectGridY     int32
	UseEstateSun      bool
	SunHour           float32
	// RegionInfo2
	ProductSKU     []byte
	ProductName    []byte
	MaxAgents32    uint32
	HardMaxAgents  uint32
	HardMaxObjects uint32
	// Variable blocks
	RegionFlagsExtended []uint64 // RegionInfo3[].RegionFlagsExtended
	Chat                []ChatSettings
	Combat              []CombatSettings
}

func (*RegionInfo) ID() MsgID { return MsgRegionInfo }
func (m *RegionInfo) AppendBody(b []byte) []byte {
	b = appendAgentData(b, m.AgentID, m.SessionID)
	b = appendVar1(b, m.SimName)
	b = appendU32(b, m.EstateID)
	b = appendU32(b, m.ParentEstateID)
	b = appendU32(b, m.RegionFlags)
	b = appendU8(b, m.SimAccess)
	b = appendU8(b, m.MaxAgents)
	b = appendF32(b, m.BillableFactor)
	b = appendF32(b, m.ObjectBonusFactor)
	b = appendF32(b, m.WaterHeight)
	b = appendF32(b, m.TerrainRaiseLimit)
	b = appendF32(b, m.TerrainLowerLimit)
	b = appendS32(b, m.PricePerMeter)
	b = appendS32(b, m.RedirectGridX)
	b = appendS32(b, m.RedirectGridY)
	b = appendBool(b, m.UseEstateSun)
	b = appendF32(b, m.SunHour)
	b = appendVar1(b, m.ProductSKU)
	b = appendVar1(b, m.ProductName)
	b = appendU32(b, m.MaxAgents32)
	b = appendU32(b, m.HardMaxAgents)
	b = appendU32(b, m.HardMaxObjects)
	b = appendCount(b, "RegionInfo", "RegionInfo3", len(m.RegionFlagsExtended))
	for _, f := range m.RegionFlagsExtended {
		b = appendU64(b, f)
	}
	b = appendCount(b, "RegionInfo", "RegionInfo5", len(m.Chat))
	for _, c := range m.Chat {
		b = appendF32(b, c.ChatWhisperRange)
		b = appendF32(b, c.ChatNormalRange)
		b = appendF32(b, c.ChatShoutRange)
		b = appendF32(b, c.ChatWhisperOffset)
		b = appendF32(b, c.ChatNormalOffset)
		b = appendF32(b, c.ChatShoutOffset)
		b = appendU32(b, c.ChatFlags)
	}
	b = appendCount(b, "RegionInfo", "CombatSettings", len(m.Combat))
	for _, c := range m.Combat {
		b = appendU32(b, c.CombatFlags)
		b = appendU8(b, c.OnDeath)
		b = appendF32(b, c.DamageThrottle)
		b = appendF32(b, c.RegenerationRate)
		b = appendF32(b, c.InvulnerabilyTime)
		b = appendF32(b, c.DamageLimit)
	}
	return b
}
func (m *RegionInfo) DecodeBody(body []byte) error {
	r := newReader("RegionInfo", body)
	r.enter("AgentData", -1)
	m.AgentID = r.uuid("AgentID")
	m.SessionID = r.uuid("SessionID")
	r.enter("RegionInfo", -1)
	m.SimName = r.var1("SimName", m.SimName)
	m.EstateID = r.u32("EstateID")
	m.ParentEstateID = r.u32("ParentEstateID")
	m.RegionFlags = r.u32("RegionFlags")
	m.SimAccess = r.u8("SimAccess")
	m.MaxAgents = r.u8("MaxAgents")
	m.BillableFactor = r.f32("BillableFactor")
	m.ObjectBonusFactor = r.f32("ObjectBonusFactor")
	m.WaterHeight = r.f32("WaterHeight")
	m.TerrainRaiseLimit = r.f32("TerrainRaiseLimit")
	m.TerrainLowerLimit = r.f32("TerrainLowerLimit")
	m.PricePerMeter = r.s32("PricePerMeter")
	m.RedirectGridX = r.s32("RedirectGridX")
	m.RedirectGridY = r.s32("RedirectGridY")
	m.UseEstateSun = r.boolean("UseEstateSun")
	m.SunHour = r.f32("SunHour")
	r.enter("RegionInfo2", -1)
	m.ProductSKU = r.var1("ProductSKU", m.ProductSKU)
	m.ProductName = r.var1("ProductName", m.ProductName)
	m.MaxAgents32 = r.u32("MaxAgents32")
	m.HardMaxAgents = r.u32("HardMaxAgents")
	m.HardMaxObjects = r.u32("HardMaxObjects")
	n := r.count("RegionInfo3", 8)
	m.RegionFlagsExtended = m.RegionFlagsExtended[:0]
	for i := 0; i < n; i++ {
		r.enter("RegionInfo3", i)
		m.RegionFlagsExtended = append(m.RegionFlagsExtended, r.u64("RegionFlagsExtended"))
	}
	n = r.count("RegionInfo5", 28)
	m.Chat = m.Chat[:0]
	for i := 0; i < n; i++ {
		r.enter("RegionInfo5", i)
		m.Chat = append(m.Chat, ChatSettings{r.f32("ChatWhisperRange"), r.f32("ChatNormalRange"), r.f32("ChatShoutRange"),
			r.f32("ChatWhisperOffset"), r.f32("ChatNormalOffset"), r.f32("ChatShoutOffset"), r.u32("ChatFlags")})
	}
	n = r.count("CombatSettings", 21)
	m.Combat = m.Combat[:0]
	for i := 0; i < n; i++ {
		r.enter("CombatSettings", i)
		m.Combat = append(m.Combat, CombatSettings{r.u32("CombatFlags"), r.u8("OnDeath"), r.f32("DamageThrottle"),
			r.f32("RegenerationRate"), r.f32("InvulnerabilyTime"), r.f32("DamageLimit")})
	}
	return r.err
}

// ---- MapNameRequest (Low 408) / MapBlockReply (Low 409) ----

// MapNameRequest searches the map by region name.
type MapNameRequest struct {
	AgentID, SessionID uuid.UUID
	Flags, EstateID    uint32
	Godlike            bool
	Name               []byte
}

func (*MapNameRequest) ID() MsgID { return MsgMapNameRequest }
func (m *MapNameRequest) AppendBody(b []byte) []byte {
	b = appendAgentData(b, m.AgentID, m.SessionID)
	b = appendU32(b, m.Flags)
	b = appendU32(b, m.EstateID)
	b = appendBool(b, m.Godlike)
	return appendVar1(b, m.Name)
}
func (m *MapNameRequest) DecodeBody(body []byte) error {
	r := newReader("MapNameRequest", body)
	r.enter("AgentData", -1)
	m.AgentID = r.uuid("AgentID")
	m.SessionID = r.uuid("SessionID")
	m.Flags = r.u32("Flags")
	m.EstateID = r.u32("EstateID")
	m.Godlike = r.boolean("Godlike")
	r.enter("NameData", -1)
	m.Name = r.var1("Name", m.Name)
	return r.err
}

// MapBlock is one MapBlockReply.Data entry.
type MapBlock struct {
	X, Y        uint16 // in regions
	Name        []byte
	Access      uint8
	RegionFlags uint32
	WaterHeight uint8
	Agents      uint8
	MapImageID  uuid.UUID
}

// MapBlockReply answers a map query with region blocks.
type MapBlockReply struct {
	AgentID uuid.UUID
	Flags   uint32
	Blocks  []MapBlock
}

func (*MapBlockReply) ID() MsgID { return MsgMapBlockReply }
func (m *MapBlockReply) AppendBody(b []byte) []byte {
	b = appendUUID(b, m.AgentID)
	b = appendU32(b, m.Flags)
	b = appendCount(b, "MapBlockReply", "Data", len(m.Blocks))
	for _, d := range m.Blocks {
		b = appendU16(b, d.X)
		b = appendU16(b, d.Y)
		b = appendVar1(b, d.Name)
		b = appendU8(b, d.Access)
		b = appendU32(b, d.RegionFlags)
		b = appendU8(b, d.WaterHeight)
		b = appendU8(b, d.Agents)
		b = appendUUID(b, d.MapImageID)
	}
	return b
}
func (m *MapBlockReply) DecodeBody(body []byte) error {
	r := newReader("MapBlockReply", body)
	r.enter("AgentData", -1)
	m.AgentID = r.uuid("AgentID")
	m.Flags = r.u32("Flags")
	n := r.count("Data", 28)
	m.Blocks = m.Blocks[:0]
	for i := 0; i < n; i++ {
		r.enter("Data", i)
		var d MapBlock
		d.X = r.u16("X")
		d.Y = r.u16("Y")
		d.Name = r.var1("Name", nil)
		d.Access = r.u8("Access")
		d.RegionFlags = r.u32("RegionFlags")
		d.WaterHeight = r.u8("WaterHeight")
		d.Agents = r.u8("Agents")
		d.MapImageID = r.uuid("MapImageID")
		m.Blocks = append(m.Blocks, d)
	}
	return r.err
}

// ---- AgentDataUpdate (Low 387, Trusted, Zerocoded) ----

// AgentDataUpdate tells the viewer the agent's name and active group.
type AgentDataUpdate struct {
	AgentID       uuid.UUID
	FirstName     []byte
	LastName      []byte
	GroupTitle    []byte
	ActiveGroupID uuid.UUID
	GroupPowers   uint64
	GroupName     []byte
}

func (*AgentDataUpdate) ID() MsgID { return MsgAgentDataUpdate }
func (m *AgentDataUpdate) AppendBody(b []byte) []byte {
	b = appendUUID(b, m.AgentID)
	b = appendVar1(b, m.FirstName)
	b = appendVar1(b, m.LastName)
	b = appendVar1(b, m.GroupTitle)
	b = appendUUID(b, m.ActiveGroupID)
	b = appendU64(b, m.GroupPowers)
	return appendVar1(b, m.GroupName)
}
func (m *AgentDataUpdate) DecodeBody(body []byte) error {
	r := newReader("AgentDataUpdate", body)
	r.enter("AgentData", -1)
	m.AgentID = r.uuid("AgentID")
	m.FirstName = r.var1("FirstName", m.FirstName)
	m.LastName = r.var1("LastName", m.LastName)
	m.GroupTitle = r.var1("GroupTitle", m.GroupTitle)
	m.ActiveGroupID = r.uuid("ActiveGroupID")
	m.GroupPowers = r.u64("GroupPowers")
	m.GroupName = r.var1("GroupName", m.GroupName)
	return r.err
}

// ---- EconomyDataRequest (Low 24) / EconomyData (Low 25, Trusted, Zerocoded) ----

// EconomyDataRequest has no blocks.
type EconomyDataRequest struct{}

func (*EconomyDataRequest) ID() MsgID                    { return MsgEconomyDataRequest }
func (*EconomyDataRequest) AppendBody(b []byte) []byte   { return b }
func (*EconomyDataRequest) DecodeBody(body []byte) error { return nil }

// EconomyData is the grid's price list: block Info.
type EconomyData struct {
	ObjectCapacity          int32
	ObjectCount             int32
	PriceEnergyUnit         int32
	PriceObjectClaim        int32
	PricePublicObjectDecay  int32
	PricePublicObjectDelete int32
	PriceParcelClaim        int32
	PriceParcelClaimFactor  float32
	PriceUpload             int32
	PriceRentLight          int32
	TeleportMinPrice        int32
	TeleportPriceExponent   float32
	EnergyEfficiency        float32
	PriceObjectRent         float32
	PriceObjectScaleFactor  float32
	PriceParcelRent         int32
	PriceGroupCreate        int32
}

func (*EconomyData) ID() MsgID { return MsgEconomyData }
func (m *EconomyData) AppendBody(b []byte) []byte {
	for _, v := range []int32{m.ObjectCapacity, m.ObjectCount, m.PriceEnergyUnit, m.PriceObjectClaim,
		m.PricePublicObjectDecay, m.PricePublicObjectDelete, m.PriceParcelClaim} {
		b = appendS32(b, v)
	}
	b = appendF32(b, m.PriceParcelClaimFactor)
	b = appendS32(b, m.PriceUpload)
	b = appendS32(b, m.PriceRentLight)
	b = appendS32(b, m.TeleportMinPrice)
	b = appendF32(b, m.TeleportPriceExponent)
	b = appendF32(b, m.EnergyEfficiency)
	b = appendF32(b, m.PriceObjectRent)
	b = appendF32(b, m.PriceObjectScaleFactor)
	b = appendS32(b, m.PriceParcelRent)
	return appendS32(b, m.PriceGroupCreate)
}
func (m *EconomyData) DecodeBody(body []byte) error {
	r := newReader("EconomyData", body)
	r.enter("Info", -1)
	m.ObjectCapacity = r.s32("ObjectCapacity")
	m.ObjectCount = r.s32("ObjectCount")
	m.PriceEnergyUnit = r.s32("PriceEnergyUnit")
	m.PriceObjectClaim = r.s32("PriceObjectClaim")
	m.PricePublicObjectDecay = r.s32("PricePublicObjectDecay")
	m.PricePublicObjectDelete = r.s32("PricePublicObjectDelete")
	m.PriceParcelClaim = r.s32("PriceParcelClaim")
	m.PriceParcelClaimFactor = r.f32("PriceParcelClaimFactor")
	m.PriceUpload = r.s32("PriceUpload")
	m.PriceRentLight = r.s32("PriceRentLight")
	m.TeleportMinPrice = r.s32("TeleportMinPrice")
	m.TeleportPriceExponent = r.f32("TeleportPriceExponent")
	m.EnergyEfficiency = r.f32("EnergyEfficiency")
	m.PriceObjectRent = r.f32("PriceObjectRent")
	m.PriceObjectScaleFactor = r.f32("PriceObjectScaleFactor")
	m.PriceParcelRent = r.s32("PriceParcelRent")
	m.PriceGroupCreate = r.s32("PriceGroupCreate")
	return r.err
}

// ---- UUIDNameRequest (Low 235) / UUIDNameReply (Low 236) ----

// UUIDNameRequest asks for the names of agents.
type UUIDNameRequest struct{ IDs []uuid.UUID }

func (*UUIDNameRequest) ID() MsgID { return MsgUUIDNameRequest }
func (m *UUIDNameRequest) AppendBody(b []byte) []byte {
	b = appendCount(b, "UUIDNameRequest", "UUIDNameBlock", len(m.IDs))
	for _, id := range m.IDs {
		b = appendUUID(b, id)
	}
	return b
}
func (m *UUIDNameRequest) DecodeBody(body []byte) error {
	r := newReader("UUIDNameRequest", body)
	n := r.count("UUIDNameBlock", 16)
	m.IDs = m.IDs[:0]
	for i := 0; i < n; i++ {
		r.enter("UUIDNameBlock", i)
		m.IDs = append(m.IDs, r.uuid("ID"))
	}
	return r.err
}

// UUIDName is one UUIDNameReply entry.
type UUIDName struct {
	ID                  uuid.UUID
	FirstName, LastName []byte
}

// UUIDNameReply answers UUIDNameRequest.
type UUIDNameReply struct{ Names []UUIDName }

func (*UUIDNameReply) ID() MsgID { return MsgUUIDNameReply }
func (m *UUIDNameReply) AppendBody(b []byte) []byte {
	b = appendCount(b, "UUIDNameReply", "UUIDNameBlock", len(m.Names))
	for _, n := range m.Names {
		b = appendUUID(b, n.ID)
		b = appendVar1(b, n.FirstName)
		b = appendVar1(b, n.LastName)
	}
	return b
}
func (m *UUIDNameReply) DecodeBody(body []byte) error {
	r := newReader("UUIDNameReply", body)
	n := r.count("UUIDNameBlock", 18)
	m.Names = m.Names[:0]
	for i := 0; i < n; i++ {
		r.enter("UUIDNameBlock", i)
		m.Names = append(m.Names, UUIDName{ID: r.uuid("ID"), FirstName: r.var1("FirstName", nil), LastName: r.var1("LastName", nil)})
	}
	return r.err
}

// ---- KillObject (High 16) ----

// KillObject removes objects (by local ID) from the viewer's scene.
type KillObject struct{ LocalIDs []uint32 }

func (*KillObject) ID() MsgID { return MsgKillObject }
func (m *KillObject) AppendBody(b []byte) []byte {
	b = appendCount(b, "KillObject", "ObjectData", len(m.LocalIDs))
	for _, id := range m.LocalIDs {
		b = appendU32(b, id)
	}
	return b
}
func (m *KillObject) DecodeBody(body []byte) error {
	r := newReader("KillObject", body)
	n := r.count("ObjectData", 4)
	m.LocalIDs = m.LocalIDs[:0]
	for i := 0; i < n; i++ {
		r.enter("ObjectData", i)
		m.LocalIDs = append(m.LocalIDs, r.u32("ID"))
	}
	return r.err
}

// ---- LayerData (High 11) ----

// LayerData carries compressed terrain patches (Type 'L' = 0x4C for land).
type LayerData struct {
	Type uint8
	Data []byte
}

func (*LayerData) ID() MsgID { return MsgLayerData }
func (m *LayerData) AppendBody(b []byte) []byte {
	b = appendU8(b, m.Type)
	return appendVar2(b, m.Data)
}
func (m *LayerData) DecodeBody(body []byte) error {
	r := newReader("LayerData", body)
	r.enter("LayerID", -1)
	m.Type = r.u8("Type")
	r.enter("LayerData", -1)
	m.Data = r.var2("Data", m.Data)
	return r.err
}

// ---- ObjectUpdate (High 12, Trusted, Zerocoded) ----

// ObjectUpdateData is one ObjectUpdate.ObjectData entry: a full object description.
type ObjectUpdateData struct {
	LocalID           uint32 // template field ID
	State             uint8
	FullID            uuid.UUID
	CRC               uint32
	PCode             uint8 // 47 = avatar, 9 = primitive
	Material          uint8
	ClickAction       uint8
	Scale             [3]float32
	ObjectData        []byte // position, velocity, ... (76 bytes for an avatar: with the foot collision plane)
	ParentID          uint32
	UpdateFlags       uint32
	PathCurve         uint8
	ProfileCurve      uint8
	PathBegin         uint16
	PathEnd           uint16
	PathScaleX        uint8
	PathScaleY        uint8
	PathShearX        uint8
	PathShearY        uint8
	PathTwist         int8
	PathTwistBegin    int8
	PathRadiusOffset  int8
	PathTaperX        int8
	PathTaperY        int8
	PathRevolutions   uint8
	PathSkew          int8
	ProfileBegin      uint16
	ProfileEnd        uint16
	ProfileHollow     uint16
	TextureEntry      []byte
	TextureAnim       []byte
	NameValue         []byte // "FirstName STRING RW SV Test\nLastName STRING RW SV User\n..."
	Data              []byte
	Text              []byte
	TextColor         []byte // Fixed 4: RGBA; shorter is zero-padded
	MediaURL          []byte
	PSBlock           []byte
	ExtraParams       []byte
	Sound             uuid.UUID
	OwnerID           uuid.UUID
	Gain              float32
	Flags             uint8
	Radius            float32
	JointType         uint8
	JointPivot        [3]float32
	JointAxisOrAnchor [3]float32
}

// ObjectUpdate describes objects (and avatars) to the viewer in full.
type ObjectUpdate struct {
	RegionHandle uint64
	TimeDilation uint16
	Objects      []ObjectUpdateData
}

func (*ObjectUpdate) ID() MsgID { return MsgObjectUpdate }
func (m *ObjectUpdate) AppendBody(b []byte) []byte {
	b = appendU64(b, m.RegionHandle)
	b = appendU16(b, m.TimeDilation)
	b = appendCount(b, "ObjectUpdate", "ObjectData", len(m.Objects))
	for i := range m.Objects {
		o := &m.Objects[i]
		b = appendU32(b, o.LocalID)
		b = appendU8(b, o.State)
		b = appendUUID(b, o.FullID)
		b = appendU32(b, o.CRC)
		b = append(b, o.PCode, o.Material, o.ClickAction)
		b = appendVec3(b, o.Scale)
		b = appendVar1(b, o.ObjectData)
		b = appendU32(b, o.ParentID)
		b = appendU32(b, o.UpdateFlags)
		b = append(b, o.PathCurve, o.ProfileCurve)
		b = appendU16(b, o.PathBegin)
		b = appendU16(b, o.PathEnd)
		b = append(b, o.PathScaleX, o.PathScaleY, o.PathShearX, o.PathShearY, byte(o.PathTwist), byte(o.PathTwistBegin),
			byte(o.PathRadiusOffset), byte(o.PathTaperX), byte(o.PathTaperY), o.PathRevolutions, byte(o.PathSkew))
		b = appendU16(b, o.ProfileBegin)
		b = appendU16(b, o.ProfileEnd)
		b = appendU16(b, o.ProfileHollow)
		b = appendVar2(b, o.TextureEntry)
		b = appendVar1(b, o.TextureAnim)
		b = appendVar2(b, o.NameValue)
		b = appendVar2(b, o.Data)
		b = appendVar1(b, o.Text)
		var tc [4]byte
		copy(tc[:], o.TextColor)
		b = append(b, tc[:]...)
		b = appendVar1(b, o.MediaURL)
		b = appendVar1(b, o.PSBlock)
		b = appendVar1(b, o.ExtraParams)
		b = appendUUID(b, o.Sound)
		b = appendUUID(b, o.OwnerID)
		b = appendF32(b, o.Gain)
		b = appendU8(b, o.Flags)
		b = appendF32(b, o.Radius)
		b = appendU8(b, o.JointType)
		b = appendVec3(b, o.JointPivot)
		b = appendVec3(b, o.JointAxisOrAnchor)
	}
	return b
}
func (m *ObjectUpdate) DecodeBody(body []byte) error {
	r := newReader("ObjectUpdate", body)
	r.enter("RegionData", -1)
	m.RegionHandle = r.u64("RegionHandle")
	m.TimeDilation = r.u16("TimeDilation")
	n := r.count("ObjectData", 141)
	m.Objects = m.Objects[:0]
	for i := 0; i < n; i++ {
		r.enter("ObjectData", i)
		var o ObjectUpdateData
		o.LocalID = r.u32("ID")
		o.State = r.u8("State")
		o.FullID = r.uuid("FullID")
		o.CRC = r.u32("CRC")
		o.PCode = r.u8("PCode")
		o.Material = r.u8("Material")
		o.ClickAction = r.u8("ClickAction")
		o.Scale = r.vec3("Scale")
		o.ObjectData = r.var1("ObjectData", nil)
		o.ParentID = r.u32("ParentID")
		o.UpdateFlags = r.u32("UpdateFlags")
		o.PathCurve = r.u8("PathCurve")
		o.ProfileCurve = r.u8("ProfileCurve")
		o.PathBegin = r.u16("PathBegin")
		o.PathEnd = r.u16("PathEnd")
		o.PathScaleX = r.u8("PathScaleX")
		o.PathScaleY = r.u8("PathScaleY")
		o.PathShearX = r.u8("PathShearX")
		o.PathShearY = r.u8("PathShearY")
		o.PathTwist = int8(r.u8("PathTwist"))
		o.PathTwistBegin = int8(r.u8("PathTwistBegin"))
		o.PathRadiusOffset = int8(r.u8("PathRadiusOffset"))
		o.PathTaperX = int8(r.u8("PathTaperX"))
		o.PathTaperY = int8(r.u8("PathTaperY"))
		o.PathRevolutions = r.u8("PathRevolutions")
		o.PathSkew = int8(r.u8("PathSkew"))
		o.ProfileBegin = r.u16("ProfileBegin")
		o.ProfileEnd = r.u16("ProfileEnd")
		o.ProfileHollow = r.u16("ProfileHollow")
		o.TextureEntry = r.var2("TextureEntry", nil)
		o.TextureAnim = r.var1("TextureAnim", nil)
		o.NameValue = r.var2("NameValue", nil)
		o.Data = r.var2("Data", nil)
		o.Text = r.var1("Text", nil)
		if s, ok := r.take("TextColor", 4); ok {
			o.TextColor = append([]byte(nil), s...)
		}
		o.MediaURL = r.var1("MediaURL", nil)
		o.PSBlock = r.var1("PSBlock", nil)
		o.ExtraParams = r.var1("ExtraParams", nil)
		o.Sound = r.uuid("Sound")
		o.OwnerID = r.uuid("OwnerID")
		o.Gain = r.f32("Gain")
		o.Flags = r.u8("Flags")
		o.Radius = r.f32("Radius")
		o.JointType = r.u8("JointType")
		o.JointPivot = r.vec3("JointPivot")
		o.JointAxisOrAnchor = r.vec3("JointAxisOrAnchor")
		m.Objects = append(m.Objects, o)
	}
	return r.err
}
