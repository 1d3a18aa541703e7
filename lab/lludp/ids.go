package lludp

import "strconv"

// Flags is byte 0 of a datagram.
type Flags uint8

// Header flag bits (LL message.h: LL_ZERO_CODE_FLAG, LL_RELIABLE_FLAG, LL_RESENT_FLAG, LL_ACK_FLAG).
const (
	FlagZerocoded Flags = 0x80 // bytes from offset 6 up to the appended acks are zero-coded
	FlagReliable  Flags = 0x40 // the receiver must ack the sequence number
	FlagResent    Flags = 0x20 // a retransmission; the sequence number is the original one
	FlagAcks      Flags = 0x10 // acks are appended after the body
)

// MsgID is a canonical message ID: High N is N, Medium N is 0xFF00|N, Low N is 0xFFFF0000|N and
// a Fixed message is the template's full value (PacketAck 0xFFFFFFFB). It is also the value of
// the message-number bytes on the wire read big-endian: 04, FF 11, FF FF 00 94, FF FF FF FB.
type MsgID uint32

// IDs of the messages this package has bodies for.
const (
	MsgStartPingCheck        MsgID = 1          // High 1
	MsgCompletePingCheck     MsgID = 2          // High 2
	MsgAgentUpdate           MsgID = 4          // High 4
	MsgUseCircuitCode        MsgID = 0xFFFF0003 // Low 3
	MsgRegionHandshake       MsgID = 0xFFFF0094 // Low 148
	MsgRegionHandshakeReply  MsgID = 0xFFFF0095 // Low 149
	MsgDisableSimulator      MsgID = 0xFFFF0098 // Low 152
	MsgCompleteAgentMovement MsgID = 0xFFFF00F9 // Low 249
	MsgAgentMovementComplete MsgID = 0xFFFF00FA // Low 250
	MsgLogoutRequest         MsgID = 0xFFFF00FC // Low 252
	MsgLogoutReply           MsgID = 0xFFFF00FD // Low 253
	MsgPacketAck             MsgID = 0xFFFFFFFB // Fixed 0xFFFFFFFB
	MsgCloseCircuit          MsgID = 0xFFFFFFFD // Fixed 0xFFFFFFFD
)

// Frequency classes as the template spells them.
const (
	High   = "High"
	Medium = "Medium"
	Low    = "Low"
	Fixed  = "Fixed"
)

// Info describes one message of message_template.msg.
type Info struct {
	Name      string
	ID        MsgID
	Frequency string // High, Medium, Low or Fixed
	Number    uint32 // the template's number: N for High/Medium/Low, the full value for Fixed
	Trusted   bool   // only accepted on trusted circuits (sim → viewer, sim ↔ sim)
	Zerocoded bool   // the sender may zero-code it

	Deprecated     bool // template flag Deprecated
	UDPDeprecated  bool // template flag UDPDeprecated: superseded by a capability, still valid on UDP
	UDPBlackListed bool // template flag UDPBlackListed: must not arrive over UDP from a viewer
}

// Lookup returns the template entry for id. It knows every message of the template, not only
// the ones this package has bodies for (see [New]).
func Lookup(id MsgID) (Info, bool) {
	if i := index(id); i >= 0 {
		return messageTable[i], true
	}
	return Info{}, false
}

// String returns the message name, or Unknown(0x...) for an ID the template does not define.
func (id MsgID) String() string {
	if i := index(id); i >= 0 {
		return messageTable[i].Name
	}
	return "Unknown(0x" + strconv.FormatUint(uint64(id), 16) + ")"
}

// numLen is the size of id's message number on the wire: 1 (High), 2 (Medium) or 4 (Low, Fixed).
func (id MsgID) numLen() int {
	switch {
	case id < 0xFF:
		return 1
	case id >= 0xFF00 && id < 0xFFFF:
		return 2
	case id >= 0xFFFF0000:
		return 4
	}
	panic("lludp: invalid message ID 0x" + strconv.FormatUint(uint64(id), 16) + ": not High (<0xFF), Medium (0xFF00|N) or Low/Fixed (0xFFFF0000|N)")
}

// Index tables into messageTable, +1 so that 0 means unknown.
var (
	highIndex, mediumIndex [256]uint16
	lowIndex               []uint16 // by Low number (also covers Fixed 0xFFFFFFxx via fixedIndex)
	fixedIndex             map[MsgID]uint16
)

func init() {
	fixedIndex = make(map[MsgID]uint16)
	maxLow := uint32(0)
	for _, m := range messageTable {
		if m.Frequency == Low && m.Number > maxLow {
			maxLow = m.Number
		}
	}
	lowIndex = make([]uint16, maxLow+1)
	for i, m := range messageTable {
		x := uint16(i + 1)
		switch m.Frequency {
		case High:
			highIndex[m.Number] = x
		case Medium:
			mediumIndex[m.Number] = x
		case Low:
			lowIndex[m.Number] = x
		case Fixed:
			fixedIndex[m.ID] = x
		}
	}
}

// index returns id's position in messageTable, or -1.
func index(id MsgID) int {
	var x uint16
	switch {
	case id < 0x100:
		x = highIndex[id]
	case id&^0xFF == 0xFF00:
		x = mediumIndex[id&0xFF]
	case id&^0xFFFF == 0xFFFF0000:
		if n := id & 0xFFFF; int(n) < len(lowIndex) {
			x = lowIndex[n]
		} else {
			x = fixedIndex[id]
		}
	}
	return int(x) - 1
}

// zerocoded reports whether the template lets id be zero-coded.
func zerocoded(id MsgID) bool {
	i := index(id)
	return i >= 0 && messageTable[i].Zerocoded
}
