package lludp

// The layouts below are this package's declaration of each implemented message's blocks and
// fields, as message_template.msg spells them, together with the Go field each one maps to.
// The codec is hand-written for speed; TestTemplateLayouts checks these tables against the
// template and checks the hand-written AppendBody/DecodeBody against these tables field by
// field, so a mistake in either place fails a test.

// fieldLayout is one template field.
type fieldLayout struct {
	Name string // template field name
	Type string // template type as written: U8, U32, LLUUID, Variable 1, Fixed 4, ...
	Go   string // Go struct field; "" when the block maps to a slice of this field's values
}

// blockLayout is one template block.
type blockLayout struct {
	Name   string
	Kind   string // Single, Multiple or Variable
	Count  int    // for Multiple
	Go     string // for Variable/Multiple blocks: the Go slice field; "" for Single (flattened)
	Fields []fieldLayout
}

type codec struct {
	id     MsgID
	new    func() Message
	blocks []blockLayout
}

var agentData = []fieldLayout{{"AgentID", "LLUUID", "AgentID"}, {"SessionID", "LLUUID", "SessionID"}}

var codecs = [...]codec{
	{MsgUseCircuitCode, func() Message { return new(UseCircuitCode) }, []blockLayout{
		{Name: "CircuitCode", Kind: "Single", Fields: []fieldLayout{
			{"Code", "U32", "Code"}, {"SessionID", "LLUUID", "SessionID"}, {"ID", "LLUUID", "AgentID"}}},
	}},
	{MsgPacketAck, func() Message { return new(PacketAck) }, []blockLayout{
		{Name: "Packets", Kind: "Variable", Go: "IDs", Fields: []fieldLayout{{"ID", "U32", ""}}},
	}},
	{MsgCompleteAgentMovement, func() Message { return new(CompleteAgentMovement) }, []blockLayout{
		{Name: "AgentData", Kind: "Single", Fields: append(agentData[:2:2], fieldLayout{"CircuitCode", "U32", "CircuitCode"})},
	}},
	{MsgRegionHandshake, func() Message { return new(RegionHandshake) }, []blockLayout{
		{Name: "RegionInfo", Kind: "Single", Fields: []fieldLayout{
			{"RegionFlags", "U32", "RegionFlags"},
			{"SimAccess", "U8", "SimAccess"},
			{"SimName", "Variable 1", "SimName"},
			{"SimOwner", "LLUUID", "SimOwner"},
			{"IsEstateManager", "BOOL", "IsEstateManager"},
			{"WaterHeight", "F32", "WaterHeight"},
			{"BillableFactor", "F32", "BillableFactor"},
			{"CacheID", "LLUUID", "CacheID"},
			{"TerrainBase0", "LLUUID", "TerrainBase0"},
			{"TerrainBase1", "LLUUID", "TerrainBase1"},
			{"TerrainBase2", "LLUUID", "TerrainBase2"},
			{"TerrainBase3", "LLUUID", "TerrainBase3"},
			{"TerrainDetail0", "LLUUID", "TerrainDetail0"},
			{"TerrainDetail1", "LLUUID", "TerrainDetail1"},
			{"TerrainDetail2", "LLUUID", "TerrainDetail2"},
			{"TerrainDetail3", "LLUUID", "TerrainDetail3"},
			{"TerrainStartHeight00", "F32", "TerrainStartHeight00"},
			{"TerrainStartHeight01", "F32", "TerrainStartHeight01"},
			{"TerrainStartHeight10", "F32", "TerrainStartHeight10"},
			{"TerrainStartHeight11", "F32", "TerrainStartHeight11"},
			{"TerrainHeightRange00", "F32", "TerrainHeightRange00"},
			{"TerrainHeightRange01", "F32", "TerrainHeightRange01"},
			{"TerrainHeightRange10", "F32", "TerrainHeightRange10"},
			{"TerrainHeightRange11", "F32", "TerrainHeightRange11"},
		}},
		{Name: "RegionInfo2", Kind: "Single", Fields: []fieldLayout{{"RegionID", "LLUUID", "RegionID"}}},
		{Name: "RegionInfo3", Kind: "Single", Fields: []fieldLayout{
			{"CPUClassID", "S32", "CPUClassID"},
			{"CPURatio", "S32", "CPURatio"},
			{"ColoName", "Variable 1", "ColoName"},
			{"ProductSKU", "Variable 1", "ProductSKU"},
			{"ProductName", "Variable 1", "ProductName"},
		}},
		{Name: "RegionInfo4", Kind: "Variable", Go: "RegionInfo4", Fields: []fieldLayout{
			{"RegionFlagsExtended", "U64", "RegionFlagsExtended"},
			{"RegionProtocols", "U64", "RegionProtocols"},
		}},
	}},
	{MsgRegionHandshakeReply, func() Message { return new(RegionHandshakeReply) }, []blockLayout{
		{Name: "AgentData", Kind: "Single", Fields: agentData},
		{Name: "RegionInfo", Kind: "Single", Fields: []fieldLayout{{"Flags", "U32", "Flags"}}},
	}},
	{MsgAgentMovementComplete, func() Message { return new(AgentMovementComplete) }, []blockLayout{
		{Name: "AgentData", Kind: "Single", Fields: agentData},
		{Name: "Data", Kind: "Single", Fields: []fieldLayout{
			{"Position", "LLVector3", "Position"},
			{"LookAt", "LLVector3", "LookAt"},
			{"RegionHandle", "U64", "RegionHandle"},
			{"Timestamp", "U32", "Timestamp"},
		}},
		{Name: "SimData", Kind: "Single", Fields: []fieldLayout{{"ChannelVersion", "Variable 2", "ChannelVersion"}}},
	}},
	{MsgAgentUpdate, func() Message { return new(AgentUpdate) }, []blockLayout{
		{Name: "AgentData", Kind: "Single", Fields: []fieldLayout{
			{"AgentID", "LLUUID", "AgentID"},
			{"SessionID", "LLUUID", "SessionID"},
			{"BodyRotation", "LLQuaternion", "BodyRotation"},
			{"HeadRotation", "LLQuaternion", "HeadRotation"},
			{"State", "U8", "State"},
			{"CameraCenter", "LLVector3", "CameraCenter"},
			{"CameraAtAxis", "LLVector3", "CameraAtAxis"},
			{"CameraLeftAxis", "LLVector3", "CameraLeftAxis"},
			{"CameraUpAxis", "LLVector3", "CameraUpAxis"},
			{"Far", "F32", "Far"},
			{"ControlFlags", "U32", "ControlFlags"},
			{"Flags", "U8", "Flags"},
		}},
	}},
	{MsgStartPingCheck, func() Message { return new(StartPingCheck) }, []blockLayout{
		{Name: "PingID", Kind: "Single", Fields: []fieldLayout{{"PingID", "U8", "PingID"}, {"OldestUnacked", "U32", "OldestUnacked"}}},
	}},
	{MsgCompletePingCheck, func() Message { return new(CompletePingCheck) }, []blockLayout{
		{Name: "PingID", Kind: "Single", Fields: []fieldLayout{{"PingID", "U8", "PingID"}}},
	}},
	{MsgLogoutRequest, func() Message { return new(LogoutRequest) }, []blockLayout{
		{Name: "AgentData", Kind: "Single", Fields: agentData},
	}},
	{MsgLogoutReply, func() Message { return new(LogoutReply) }, []blockLayout{
		{Name: "AgentData", Kind: "Single", Fields: agentData},
		{Name: "InventoryData", Kind: "Variable", Go: "ItemIDs", Fields: []fieldLayout{{"ItemID", "LLUUID", ""}}},
	}},
	{MsgCloseCircuit, func() Message { return new(CloseCircuit) }, nil},
	{MsgDisableSimulator, func() Message { return new(DisableSimulator) }, nil},
}

// New returns a new zero message of type id, or nil if this package has no body codec for
// id (Lookup may still know its name).
func New(id MsgID) Message {
	for i := range codecs {
		if codecs[i].id == id {
			return codecs[i].new()
		}
	}
	return nil
}

// Implemented lists the IDs of the messages [New] can create, in a fixed order.
func Implemented() []MsgID {
	ids := make([]MsgID, len(codecs))
	for i := range codecs {
		ids[i] = codecs[i].id
	}
	return ids
}
