package region

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gridlab/lab/lludp"
	"gridlab/lab/login"
	"gridlab/sim"
)

type logRec struct{ lines []string }

func (l *logRec) Logf(level, format string, args ...any) {
	l.lines = append(l.lines, level+" "+fmt.Sprintf(format, args...))
}

func (l *logRec) count(substr string) int {
	n := 0
	for _, s := range l.lines {
		if strings.Contains(s, substr) {
			n++
		}
	}
	return n
}

type harness struct {
	s    *sim.Sim
	r    *Region
	log  *logRec
	sent []lludp.Packet   // decoded copies of what the region sent
	to   []netip.AddrPort // where each of sent went
	dec  lludp.Decoder
	ep   netip.AddrPort
	ac   login.AgentCircuit
	seq  uint32
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{s: sim.New(1), log: &logRec{}, ep: netip.MustParseAddrPort("198.51.100.7:40000")}
	h.r = New(Config{
		Name: "My Region", ID: uuid.MustParse("4a3c1f2e-9b7d-4e5a-8c61-0d2f3b4a5c6d"), X: 1000, Y: 1000,
		Clock: h.s, Log: h.log, Terrain: true,
		Send: func(to netip.AddrPort, b []byte) {
			p, err := h.dec.Decode(b)
			require.NoError(t, err, "the region sends only packets that decode")
			p.Body = append([]byte(nil), p.Body...)
			p.Acks = append([]uint32(nil), p.Acks...)
			h.sent = append(h.sent, p)
			h.to = append(h.to, to)
		},
	})
	h.ac = login.AgentCircuit{
		AgentID: uuid.MustParse("11111111-2222-3333-4444-555555555555"), SessionID: uuid.MustParse("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"),
		CircuitCode: 123456789, First: "Test", Last: "User", StartPos: [3]float32{128, 128, 25},
	}
	return h
}

func (h *harness) send(flags lludp.Flags, m lludp.Message) {
	h.seq++
	h.r.Receive(h.ep, lludp.Encode(nil, flags, h.seq, m, nil))
}

func (h *harness) ids() []lludp.MsgID {
	var out []lludp.MsgID
	for _, p := range h.sent {
		out = append(out, p.ID)
	}
	return out
}

func (h *harness) ucc() *lludp.UseCircuitCode {
	return &lludp.UseCircuitCode{Code: h.ac.CircuitCode, SessionID: h.ac.SessionID, AgentID: h.ac.AgentID}
}

func TestUnknownCircuitCodeIsAckedThenIgnoredWithOpenSimsLogLine(t *testing.T) {
	h := newHarness(t)
	h.send(lludp.FlagReliable, h.ucc()) // nobody told the region to expect it
	require.Equal(t, []lludp.MsgID{lludp.MsgPacketAck}, h.ids(), "OpenSim acks before it checks the code")
	assert.Equal(t, 1, h.log.count("WARN [LLUDPSERVER]: Ignoring connection request for 11111111-2222-3333-4444-555555555555 to My Region with unknown circuit code 123456789 from IP 198.51.100.7:40000"))
	assert.Equal(t, 0, h.r.Agents())
}

func TestLoginHandshakeSendsRegionHandshakeThenAgentMovementComplete(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.r.ExpectAgent(h.ac))
	h.send(lludp.FlagReliable, h.ucc())
	assert.Equal(t, 1, h.r.Agents())
	h.send(lludp.FlagReliable, &lludp.CompleteAgentMovement{AgentID: h.ac.AgentID, SessionID: h.ac.SessionID, CircuitCode: h.ac.CircuitCode})
	require.Equal(t, []lludp.MsgID{lludp.MsgPacketAck, lludp.MsgRegionHandshake, lludp.MsgAgentMovementComplete,
		lludp.MsgLayerData, lludp.MsgLayerData}, h.ids(), "then the terrain, 256 patches in two LayerData packets")
	var hs lludp.RegionHandshake
	require.NoError(t, hs.DecodeBody(h.sent[1].Body))
	assert.Equal(t, "My Region", string(hs.SimName))
	var amc lludp.AgentMovementComplete
	require.NoError(t, amc.DecodeBody(h.sent[2].Body))
	assert.Equal(t, uint64(256000)<<32|256000, amc.RegionHandle, "the handle is in metres")
	assert.Equal(t, [3]float32{128, 128, 25}, amc.Position)
	for _, p := range h.sent[1:] {
		assert.NotZero(t, p.Flags&lludp.FlagReliable, "%s is sent reliably", p.ID)
	}
	require.NoError(t, h.s.RunUntil(sim.Time(600*time.Millisecond)))
	assert.Equal(t, lludp.MsgPacketAck, h.sent[len(h.sent)-1].ID, "CompleteAgentMovement is acked within the ack period")
}

func TestRepeatedUseCircuitCodeIsLoggedEachTime(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.r.ExpectAgent(h.ac))
	raw := lludp.Encode(nil, lludp.FlagReliable, 1, h.ucc(), nil)
	h.r.Receive(h.ep, raw)
	resent := append([]byte(nil), raw...)
	resent[0] |= byte(lludp.FlagResent)
	for i := 0; i < 3; i++ {
		h.r.Receive(h.ep, resent)
	}
	assert.Equal(t, 3, h.log.count("[LLUDPSERVER]: Ignoring a repeated UseCircuitCode from 11111111-2222-3333-4444-555555555555 at 198.51.100.7:40000 for circuit 123456789"))
	assert.Equal(t, uint64(4), h.r.Stats().UseCircuitCode)
}

func TestLogoutRepliesAndForgetsTheAgent(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.r.ExpectAgent(h.ac))
	h.send(lludp.FlagReliable, h.ucc())
	h.send(lludp.FlagReliable, &lludp.LogoutRequest{AgentID: h.ac.AgentID, SessionID: h.ac.SessionID})
	assert.Contains(t, h.ids(), lludp.MsgLogoutReply)
	assert.Equal(t, 1, h.log.count("[CLIENT]: Got a logout request for Test User in My Region"))
	assert.Equal(t, 0, h.r.Agents(), "no circuit is left")
	assert.Equal(t, 0, h.r.Expected(), "no expected circuit is left")
	require.NoError(t, h.s.RunUntil(sim.Time(10*time.Minute)))
	assert.Equal(t, 0, h.s.Pending(), "no timer is left behind")
}

func TestSilentClientIsDisconnectedAfterSixtySeconds(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.r.ExpectAgent(h.ac))
	h.send(lludp.FlagReliable, h.ucc())
	require.NoError(t, h.s.RunUntil(sim.Time(59*time.Second)))
	assert.Equal(t, 1, h.r.Agents(), "still connected at 59 s")
	require.NoError(t, h.s.RunUntil(sim.Time(61*time.Second)))
	assert.Equal(t, 0, h.r.Agents(), "disconnected after 60 s of silence")
	assert.Equal(t, 1, h.log.count("[LLUDPSERVER]: No packets received from child agent of Test User for 60000ms in My Region.  Disconnecting."))
	assert.Contains(t, h.ids(), lludp.MsgDisableSimulator)
}

func TestMalformedDatagramsAreLoggedAndOtherClientsUnaffected(t *testing.T) {
	h := newHarness(t)
	h.r.Receive(netip.MustParseAddrPort("192.0.2.1:5000"), []byte("foo\n"))
	assert.Equal(t, 1, h.log.count("[LLUDPSERVER]: Malformed data, cannot parse 4 byte packet from 192.0.2.1:5000, data 666f6f0a:"))
	require.NoError(t, h.r.ExpectAgent(h.ac))
	h.send(lludp.FlagReliable, h.ucc())
	assert.Equal(t, 1, h.r.Agents())
}

// TestGarbageFloodNeitherGrowsStateNorStarvesALogin sends 50,000 datagrams from 50,000 unknown
// endpoints — garbage, valid packets with no circuit, UseCircuitCode with made-up codes — around
// a real login, and expects the login to complete and the region to hold state for it alone.
func TestGarbageFloodNeitherGrowsStateNorStarvesALogin(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.r.ExpectAgent(h.ac))
	r := h.s.Rand("flood")
	flood := func(n int) {
		for i := 0; i < n; i++ {
			ep := netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), uint16(1024+i))
			var b []byte
			switch i % 3 {
			case 0:
				b = make([]byte, 1+r.IntN(64))
				for k := range b {
					b[k] = byte(r.Uint32())
				}
			case 1:
				b = lludp.Encode(nil, lludp.FlagReliable, uint32(i), &lludp.AgentUpdate{}, nil)
			default:
				b = lludp.Encode(nil, lludp.FlagReliable, 1, &lludp.UseCircuitCode{Code: r.Uint32()}, nil)
			}
			h.r.Receive(ep, b)
		}
	}
	flood(25000)
	h.send(lludp.FlagReliable, h.ucc())
	flood(25000)
	h.send(lludp.FlagReliable, &lludp.CompleteAgentMovement{AgentID: h.ac.AgentID, SessionID: h.ac.SessionID, CircuitCode: h.ac.CircuitCode})
	assert.Contains(t, h.ids(), lludp.MsgAgentMovementComplete, "the login completes in the middle of the flood")
	assert.Equal(t, 1, h.r.Agents(), "only the real viewer has a circuit")
	assert.Equal(t, 1, h.r.Expected(), "no expected circuit was added or lost")
	st := h.r.Stats()
	assert.Positive(t, st.Malformed)
	assert.Positive(t, st.Orphans)
	assert.Positive(t, st.UnknownCircuits)
	assert.LessOrEqual(t, h.log.count("Malformed data"), 100, "malformed-data logging is rate-limited")
}

func TestANewerLoginSupersedesTheAgentsUnusedCircuitsOnly(t *testing.T) {
	h := newHarness(t)
	other := login.AgentCircuit{AgentID: uuid.MustParse("99999999-2222-3333-4444-555555555555"), SessionID: h.ac.SessionID,
		CircuitCode: 42, First: "Other", Last: "User"}
	require.NoError(t, h.r.ExpectAgent(other))
	first := h.ac
	require.NoError(t, h.r.ExpectAgent(first))
	second := h.ac
	second.CircuitCode++
	require.NoError(t, h.r.ExpectAgent(second))
	codes := map[uint32]bool{}
	for _, ac := range h.r.ExpectedCircuits() {
		codes[ac.CircuitCode] = true
	}
	assert.Equal(t, map[uint32]bool{42: true, second.CircuitCode: true}, codes,
		"the agent's first, unused circuit is gone; another agent's stays")

	// A circuit in use is not superseded: connect with the second, then log in a third time.
	h.ac = second
	h.send(lludp.FlagReliable, h.ucc())
	require.Equal(t, 1, h.r.Agents())
	third := second
	third.CircuitCode++
	require.NoError(t, h.r.ExpectAgent(third))
	assert.Equal(t, 3, h.r.Expected(), "the connected circuit, the new one and the other agent's")
}

func TestAgentsGetTheirOwnMessagesWhenTheyArriveAndLeaveTogether(t *testing.T) {
	// The region fills the same AgentMovementComplete, LogoutReply and UseCircuitCode ack for
	// every agent: two agents arriving and leaving interleaved must each get their own IDs,
	// position and acked sequence number, and the same RegionHandshake.
	h := newHarness(t)
	type agent struct {
		ep  netip.AddrPort
		ac  login.AgentCircuit
		ucc uint32 // UseCircuitCode's sequence number
	}
	a, b := &agent{ep: h.ep, ac: h.ac}, &agent{ep: netip.MustParseAddrPort("203.0.113.9:50000"), ac: login.AgentCircuit{
		AgentID: uuid.MustParse("66666666-7777-8888-9999-000000000000"), SessionID: uuid.MustParse("ffffffff-eeee-dddd-cccc-bbbbbbbbbbbb"),
		CircuitCode: 987654321, First: "Other", Last: "User", StartPos: [3]float32{10, 20, 30}, LookAt: [3]float32{0, 1, 0},
	}}
	send := func(ag *agent, m lludp.Message) uint32 {
		h.seq++
		h.r.Receive(ag.ep, lludp.Encode(nil, lludp.FlagReliable, h.seq, m, nil))
		return h.seq
	}
	for _, ag := range []*agent{a, b} {
		require.NoError(t, h.r.ExpectAgent(ag.ac))
	}
	for _, ag := range []*agent{a, b} {
		ag.ucc = send(ag, &lludp.UseCircuitCode{Code: ag.ac.CircuitCode, SessionID: ag.ac.SessionID, AgentID: ag.ac.AgentID})
	}
	for _, ag := range []*agent{b, a} {
		send(ag, &lludp.CompleteAgentMovement{AgentID: ag.ac.AgentID, SessionID: ag.ac.SessionID, CircuitCode: ag.ac.CircuitCode})
	}
	for _, ag := range []*agent{a, b} {
		send(ag, &lludp.LogoutRequest{AgentID: ag.ac.AgentID, SessionID: ag.ac.SessionID})
	}
	for _, ag := range []*agent{a, b} {
		var acks, handshakes, moves, logouts int
		for k, p := range h.sent {
			if h.to[k] != ag.ep {
				continue
			}
			switch p.ID {
			case lludp.MsgPacketAck:
				var m lludp.PacketAck
				require.NoError(t, m.DecodeBody(p.Body))
				if acks++; acks == 1 {
					assert.Equal(t, []uint32{ag.ucc}, m.IDs, "%s: the first ack is UseCircuitCode's own", ag.ac.First)
				}
			case lludp.MsgRegionHandshake:
				var m lludp.RegionHandshake
				require.NoError(t, m.DecodeBody(p.Body))
				assert.Equal(t, "My Region", string(m.SimName))
				handshakes++
			case lludp.MsgAgentMovementComplete:
				var m lludp.AgentMovementComplete
				require.NoError(t, m.DecodeBody(p.Body))
				assert.Equal(t, lludp.AgentMovementComplete{AgentID: ag.ac.AgentID, SessionID: ag.ac.SessionID,
					Position: ag.ac.StartPos, LookAt: ag.ac.LookAt, RegionHandle: uint64(256000)<<32 | 256000,
					ChannelVersion: []byte("gridlab")}, m, "%s's AgentMovementComplete", ag.ac.First)
				moves++
			case lludp.MsgLogoutReply:
				var m lludp.LogoutReply
				require.NoError(t, m.DecodeBody(p.Body))
				assert.Equal(t, lludp.LogoutReply{AgentID: ag.ac.AgentID, SessionID: ag.ac.SessionID, ItemIDs: []uuid.UUID{uuid.Nil}}, m,
					"%s's LogoutReply", ag.ac.First)
				logouts++
			}
		}
		assert.Equal(t, []int{1, 1, 1}, []int{handshakes, moves, logouts}, "%s got one of each", ag.ac.First)
		assert.Positive(t, acks)
	}
}
