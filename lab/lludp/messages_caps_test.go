package lludp

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"
)

// capsCodecs declares the layouts of messages_caps.go the way layout.go declares the
// login-sequence ones; TestCapsLayouts runs the same template checks over them.
var capsCodecs = []codec{
	{MsgAgentWearablesRequest, func() Message { return new(AgentWearablesRequest) }, []blockLayout{
		{Name: "AgentData", Kind: "Single", Fields: agentData}}},
	{MsgRequestRegionInfo, func() Message { return new(RequestRegionInfo) }, []blockLayout{
		{Name: "AgentData", Kind: "Single", Fields: agentData}}},
	{MsgAgentDataUpdateRequest, func() Message { return new(AgentDataUpdateRequest) }, []blockLayout{
		{Name: "AgentData", Kind: "Single", Fields: agentData}}},
	{MsgAgentWearablesUpdate, func() Message { return new(AgentWearablesUpdate) }, []blockLayout{
		{Name: "AgentData", Kind: "Single", Fields: append(agentData[:2:2], fieldLayout{"SerialNum", "U32", "SerialNum"})},
		{Name: "WearableData", Kind: "Variable", Go: "Wearables", Fields: []fieldLayout{
			{"ItemID", "LLUUID", "ItemID"}, {"AssetID", "LLUUID", "AssetID"}, {"WearableType", "U8", "WearableType"}}},
	}},
	{MsgRegionInfo, func() Message { return new(RegionInfo) }, []blockLayout{
		{Name: "AgentData", Kind: "Single", Fields: agentData},
		{Name: "RegionInfo", Kind: "Single", Fields: []fieldLayout{
			{"SimName", "Variable 1", "SimName"}, {"EstateID", "U32", "EstateID"}, {"ParentEstateID", "U32", "ParentEstateID"},
			{"RegionFlags", "U32", "RegionFlags"}, {"SimAccess", "U8", "SimAccess"}, {"MaxAgents", "U8", "MaxAgents"},
			{"BillableFactor", "F32", "BillableFactor"}, {"ObjectBonusFactor", "F32", "ObjectBonusFactor"},
			{"WaterHeight", "F32", "WaterHeight"}, {"TerrainRaiseLimit", "F32", "TerrainRaiseLimit"},
			{"TerrainLowerLimit", "F32", "TerrainLowerLimit"}, {"PricePerMeter", "S32", "PricePerMeter"},
			{"RedirectGridX", "S32", "RedirectGridX"}, {"RedirectGridY", "S32", "RedirectGridY"},
			{"UseEstateSun", "BOOL", "UseEstateSun"}, {"SunHour", "F32", "SunHour"}}},
		{Name: "RegionInfo2", Kind: "Single", Fields: []fieldLayout{
			{"ProductSKU", "Variable 1", "ProductSKU"}, {"ProductName", "Variable 1", "ProductName"},
			{"MaxAgents32", "U32", "MaxAgents32"}, {"HardMaxAgents", "U32", "HardMaxAgents"}, {"HardMaxObjects", "U32", "HardMaxObjects"}}},
		{Name: "RegionInfo3", Kind: "Variable", Go: "RegionFlagsExtended", Fields: []fieldLayout{{"RegionFlagsExtended", "U64", ""}}},
		{Name: "RegionInfo5", Kind: "Variable", Go: "Chat", Fields: []fieldLayout{
			{"ChatWhisperRange", "F32", "ChatWhisperRange"}, {"ChatNormalRange", "F32", "ChatNormalRange"},
			{"ChatShoutRange", "F32", "ChatShoutRange"}, {"ChatWhisperOffset", "F32", "ChatWhisperOffset"},
			{"ChatNormalOffset", "F32", "ChatNormalOffset"}, {"ChatShoutOffset", "F32", "ChatShoutOffset"},
			{"ChatFlags", "U32", "ChatFlags"}}},
		{Name: "CombatSettings", Kind: "Variable", Go: "Combat", Fields: []fieldLayout{
			{"CombatFlags", "U32", "CombatFlags"}, {"OnDeath", "U8", "OnDeath"}, {"DamageThrottle", "F32", "DamageThrottle"},
			{"RegenerationRate", "F32", "RegenerationRate"}, {"InvulnerabilyTime", "F32", "InvulnerabilyTime"},
			{"DamageLimit", "F32", "DamageLimit"}}},
	}},
	{MsgMapNameRequest, func() Message { return new(MapNameRequest) }, []blockLayout{
		{Name: "AgentData", Kind: "Single", Fields: append(agentData[:2:2], fieldLayout{"Flags", "U32", "Flags"},
			fieldLayout{"EstateID", "U32", "EstateID"}, fieldLayout{"Godlike", "BOOL", "Godlike"})},
		{Name: "NameData", Kind: "Single", Fields: []fieldLayout{{"Name", "Variable 1", "Name"}}},
	}},
	{MsgMapBlockReply, func() Message { return new(MapBlockReply) }, []blockLayout{
		{Name: "AgentData", Kind: "Single", Fields: []fieldLayout{{"AgentID", "LLUUID", "AgentID"}, {"Flags", "U32", "Flags"}}},
		{Name: "Data", Kind: "Variable", Go: "Blocks", Fields: []fieldLayout{
			{"X", "U16", "X"}, {"Y", "U16", "Y"}, {"Name", "Variable 1", "Name"}, {"Access", "U8", "Access"},
			{"RegionFlags", "U32", "RegionFlags"}, {"WaterHeight", "U8", "WaterHeight"}, {"Agents", "U8", "Agents"},
			{"MapImageID", "LLUUID", "MapImageID"}}},
	}},
	{MsgAgentDataUpdate, func() Message { return new(AgentDataUpdate) }, []blockLayout{
		{Name: "AgentData", Kind: "Single", Fields: []fieldLayout{
			{"AgentID", "LLUUID", "AgentID"}, {"FirstName", "Variable 1", "FirstName"}, {"LastName", "Variable 1", "LastName"},
			{"GroupTitle", "Variable 1", "GroupTitle"}, {"ActiveGroupID", "LLUUID", "ActiveGroupID"},
			{"GroupPowers", "U64", "GroupPowers"}, {"GroupName", "Variable 1", "GroupName"}}},
	}},
	{MsgEconomyDataRequest, func() Message { return new(EconomyDataRequest) }, nil},
	{MsgEconomyData, func() Message { return new(EconomyData) }, []blockLayout{
		{Name: "Info", Kind: "Single", Fields: []fieldLayout{
			{"ObjectCapacity", "S32", "ObjectCapacity"}, {"ObjectCount", "S32", "ObjectCount"},
			{"PriceEnergyUnit", "S32", "PriceEnergyUnit"}, {"PriceObjectClaim", "S32", "PriceObjectClaim"},
			{"PricePublicObjectDecay", "S32", "PricePublicObjectDecay"}, {"PricePublicObjectDelete", "S32", "PricePublicObjectDelete"},
			{"PriceParcelClaim", "S32", "PriceParcelClaim"}, {"PriceParcelClaimFactor", "F32", "PriceParcelClaimFactor"},
			{"PriceUpload", "S32", "PriceUpload"}, {"PriceRentLight", "S32", "PriceRentLight"},
			{"TeleportMinPrice", "S32", "TeleportMinPrice"}, {"TeleportPriceExponent", "F32", "TeleportPriceExponent"},
			{"EnergyEfficiency", "F32", "EnergyEfficiency"}, {"PriceObjectRent", "F32", "PriceObjectRent"},
			{"PriceObjectScaleFactor", "F32", "PriceObjectScaleFactor"}, {"PriceParcelRent", "S32", "PriceParcelRent"},
			{"PriceGroupCreate", "S32", "PriceGroupCreate"}}},
	}},
	{MsgUUIDNameRequest, func() Message { return new(UUIDNameRequest) }, []blockLayout{
		{Name: "UUIDNameBlock", Kind: "Variable", Go: "IDs", Fields: []fieldLayout{{"ID", "LLUUID", ""}}}}},
	{MsgUUIDNameReply, func() Message { return new(UUIDNameReply) }, []blockLayout{
		{Name: "UUIDNameBlock", Kind: "Variable", Go: "Names", Fields: []fieldLayout{
			{"ID", "LLUUID", "ID"}, {"FirstName", "Variable 1", "FirstName"}, {"LastName", "Variable 1", "LastName"}}}}},
	{MsgKillObject, func() Message { return new(KillObject) }, []blockLayout{
		{Name: "ObjectData", Kind: "Variable", Go: "LocalIDs", Fields: []fieldLayout{{"ID", "U32", ""}}}}},
	{MsgLayerData, func() Message { return new(LayerData) }, []blockLayout{
		{Name: "LayerID", Kind: "Single", Fields: []fieldLayout{{"Type", "U8", "Type"}}},
		{Name: "LayerData", Kind: "Single", Fields: []fieldLayout{{"Data", "Variable 2", "Data"}}},
	}},
	{MsgObjectUpdate, func() Message { return new(ObjectUpdate) }, []blockLayout{
		{Name: "RegionData", Kind: "Single", Fields: []fieldLayout{{"RegionHandle", "U64", "RegionHandle"}, {"TimeDilation", "U16", "TimeDilation"}}},
		{Name: "ObjectData", Kind: "Variable", Go: "Objects", Fields: []fieldLayout{
			{"ID", "U32", "LocalID"},
			{"State", "U8", "State"},
			{"FullID", "LLUUID", "FullID"},
			{"CRC", "U32", "CRC"},
			{"PCode", "U8", "PCode"},
			{"Material", "U8", "Material"},
			{"ClickAction", "U8", "ClickAction"},
			{"Scale", "LLVector3", "Scale"},
			{"ObjectData", "Variable 1", "ObjectData"},
			{"ParentID", "U32", "ParentID"},
			{"UpdateFlags", "U32", "UpdateFlags"},
			{"PathCurve", "U8", "PathCurve"},
			{"ProfileCurve", "U8", "ProfileCurve"},
			{"PathBegin", "U16", "PathBegin"},
			{"PathEnd", "U16", "PathEnd"},
			{"PathScaleX", "U8", "PathScaleX"},
			{"PathScaleY", "U8", "PathScaleY"},
			{"PathShearX", "U8", "PathShearX"},
			{"PathShearY", "U8", "PathShearY"},
			{"PathTwist", "S8", "PathTwist"},
			{"PathTwistBegin", "S8", "PathTwistBegin"},
			{"PathRadiusOffset", "S8", "PathRadiusOffset"},
			{"PathTaperX", "S8", "PathTaperX"},
			{"PathTaperY", "S8", "PathTaperY"},
			{"PathRevolutions", "U8", "PathRevolutions"},
			{"PathSkew", "S8", "PathSkew"},
			{"ProfileBegin", "U16", "ProfileBegin"},
			{"ProfileEnd", "U16", "ProfileEnd"},
			{"ProfileHollow", "U16", "ProfileHollow"},
			{"TextureEntry", "Variable 2", "TextureEntry"},
			{"TextureAnim", "Variable 1", "TextureAnim"},
			{"NameValue", "Variable 2", "NameValue"},
			{"Data", "Variable 2", "Data"},
			{"Text", "Variable 1", "Text"},
			{"TextColor", "Fixed 4", "TextColor"},
			{"MediaURL", "Variable 1", "MediaURL"},
			{"PSBlock", "Variable 1", "PSBlock"},
			{"ExtraParams", "Variable 1", "ExtraParams"},
			{"Sound", "LLUUID", "Sound"},
			{"OwnerID", "LLUUID", "OwnerID"},
			{"Gain", "F32", "Gain"},
			{"Flags", "U8", "Flags"},
			{"Radius", "F32", "Radius"},
			{"JointType", "U8", "JointType"},
			{"JointPivot", "LLVector3", "JointPivot"},
			{"JointAxisOrAnchor", "LLVector3", "JointAxisOrAnchor"}}},
	}},
}

// TestCapsLayouts is TestTemplateLayouts for the messages of messages_caps.go.
func TestCapsLayouts(t *testing.T) {
	tmpl := loadTemplate(t)
	for _, c := range capsCodecs {
		info, ok := Lookup(c.id)
		require.True(t, ok, "Lookup(0x%08X)", uint32(c.id))
		t.Run(info.Name, func(t *testing.T) {
			tm, ok := tmpl[info.Name]
			require.True(t, ok)
			require.Equal(t, canonicalID(tm.Frequency, tm.Number), c.id)
			require.Len(t, c.blocks, len(tm.Blocks))
			for i, tb := range tm.Blocks {
				cb := c.blocks[i]
				require.Equal(t, tb.Name, cb.Name)
				require.Equal(t, tb.Kind, cb.Kind, tb.Name)
				require.Len(t, cb.Fields, len(tb.Fields), tb.Name)
				for j, tf := range tb.Fields {
					require.Equal(t, tf.Name, cb.Fields[j].Name)
					require.Equal(t, tf.Type, cb.Fields[j].Type)
				}
			}
			m := c.new()
			require.Equal(t, c.id, m.ID())
			checkMapping(t, reflect.TypeOf(m).Elem(), c.blocks)
			v := reflect.ValueOf(m).Elem()
			var f filler
			f.fill(t, v, c.blocks)
			if ou, ok := m.(*ObjectUpdate); ok { // the filler makes 3-byte slices; Fixed 4 needs 4
				for i := range ou.Objects {
					ou.Objects[i].TextColor = []byte{1, 2, 3, 4}
				}
			}
			want := templateEncode(t, v, tm.Blocks, c.blocks)
			require.Equal(t, want, m.AppendBody(nil))
			back := c.new()
			require.NoError(t, back.DecodeBody(want))
			require.Equal(t, m, back)
			for n := 0; n < len(want); n++ {
				err := c.new().DecodeBody(want[:n])
				require.Error(t, err, "cut to %d of %d", n, len(want))
				require.ErrorIs(t, err, ErrMalformed)
			}
			// A whole packet round-trips through Encode/Decode.
			pkt := Encode(nil, FlagReliable, 7, m, nil)
			var d Decoder
			p, err := d.Decode(pkt)
			require.NoError(t, err)
			require.Equal(t, c.id, p.ID)
			back = c.new()
			require.NoError(t, back.DecodeBody(p.Body))
			require.Equal(t, m, back)
		})
	}
}
