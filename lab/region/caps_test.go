package region

import (
	"net/http"
	"net/netip"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"gridlab/lab/llsd"
	"gridlab/lab/lludp"
	"gridlab/lab/login"
	"gridlab/lab/vhttp"
	"gridlab/sim"
)

// world is a region with several agents at their own endpoints.
type world struct {
	t    *testing.T
	s    *sim.Sim
	r    *Region
	log  *logRec
	got  map[netip.AddrPort][]lludp.Packet
	seqs map[netip.AddrPort]uint32
	left []string
}

func newWorld(t *testing.T) *world {
	w := &world{t: t, s: sim.New(1), log: &logRec{}, got: map[netip.AddrPort][]lludp.Packet{}, seqs: map[netip.AddrPort]uint32{}}
	var dec lludp.Decoder
	w.r = New(Config{Name: "My Region", ID: uuid.MustParse("4a3c1f2e-9b7d-4e5a-8c61-0d2f3b4a5c6d"), X: 1000, Y: 1000,
		Clock: w.s, Log: w.log,
		Send: func(to netip.AddrPort, b []byte) {
			p, err := dec.Decode(b)
			require.NoError(t, err)
			p.Body = append([]byte(nil), p.Body...)
			p.Acks = nil
			w.got[to] = append(w.got[to], p)
		},
		OnLeave: func(ac login.AgentCircuit, why string) { w.left = append(w.left, ac.First+":"+why) },
	})
	return w
}

func agent(n int) (login.AgentCircuit, netip.AddrPort) {
	ac := login.AgentCircuit{
		AgentID: uuid.NewSHA1(uuid.Nil, []byte{byte(n), 1}), SessionID: uuid.NewSHA1(uuid.Nil, []byte{byte(n), 2}),
		CircuitCode: uint32(1000 + n), First: "Agent", Last: string(rune('A' + n)), StartPos: [3]float32{128, 128, 25},
		CapsPath: uuid.NewSHA1(uuid.Nil, []byte{byte(n), 3}).String(),
	}
	return ac, netip.AddrPortFrom(netip.MustParseAddr("192.0.2.1"), uint16(40000+n))
}

func (w *world) send(ep netip.AddrPort, m lludp.Message) {
	w.seqs[ep]++
	w.r.Receive(ep, lludp.Encode(nil, lludp.FlagReliable, w.seqs[ep], m, nil))
}

// arrive runs the login handshake for agent n; seed also POSTs its seed capability.
func (w *world) arrive(n int, seed bool) (login.AgentCircuit, netip.AddrPort) {
	ac, ep := agent(n)
	require.NoError(w.t, w.r.ExpectAgent(ac))
	w.send(ep, &lludp.UseCircuitCode{Code: ac.CircuitCode, SessionID: ac.SessionID, AgentID: ac.AgentID})
	w.send(ep, &lludp.CompleteAgentMovement{AgentID: ac.AgentID, SessionID: ac.SessionID, CircuitCode: ac.CircuitCode})
	w.send(ep, &lludp.RegionHandshakeReply{AgentID: ac.AgentID, SessionID: ac.SessionID, Flags: 5})
	if seed {
		code, _ := w.http(http.MethodPost, "/CAPS/"+ac.CapsPath+"0000/", `<llsd><array><string>EventQueueGet</string><string>Nope</string><string>FetchInventoryDescendents2</string></array></llsd>`)
		require.Equal(w.t, 200, code)
	}
	return ac, ep
}

// http sends one request to the region's capabilities and returns the answer, if any yet.
func (w *world) http(method, path, body string) (int, string) {
	req := &http.Request{Method: method, URL: &url.URL{Path: path}, Host: "127.0.0.1:9000", Header: http.Header{}}
	code, out := -1, ""
	w.r.ServeVHTTP(req, []byte(body), func(r vhttp.Response) { code, out = r.Status, string(r.Body) })
	return code, out
}

func (w *world) of(ep netip.AddrPort, id lludp.MsgID) []lludp.Packet {
	var out []lludp.Packet
	for _, p := range w.got[ep] {
		if p.ID == id {
			out = append(out, p)
		}
	}
	return out
}

func TestSeedCapabilityAndEventQueue(t *testing.T) {
	w := newWorld(t)
	ac, _ := w.arrive(1, false)
	require.False(t, w.r.OwnsPath("/CAPS/"+uuid.Nil.String()+"0000/"))
	require.True(t, w.r.OwnsPath("/CAPS/"+ac.CapsPath+"0000/"))

	code, body := w.http(http.MethodPost, "/CAPS/"+ac.CapsPath+"0000/", `<?xml version="1.0"?><llsd><array><string>FetchInventoryDescendents2</string><string>Unknown</string><string>EventQueueGet</string></array></llsd>`)
	require.Equal(t, 200, code)
	base := "http://127.0.0.1:9000/CAPS/" + ac.CapsPath + "/"
	require.Equal(t, `<llsd><map><key>FetchInventoryDescendents2</key><string>`+base+`FetchInventoryDescendents2</string><key>EventQueueGet</key><string>`+base+`EventQueueGet</string></map></llsd>`, body,
		"compact LLSD, <string> URLs, in request order, only what the region serves")
	require.Equal(t, 1, w.log.count("[CAPS]: Received SEED caps request in My Region"))

	// An empty poll is held, then answered 502 after EventQueueHold.
	eq := "/CAPS/" + ac.CapsPath + "/EventQueueGet"
	code, _ = w.http(http.MethodPost, eq, `<llsd><map><key>ack</key><undef /><key>done</key><boolean>false</boolean></map></llsd>`)
	require.Equal(t, -1, code, "held")
	var held int
	req := &http.Request{Method: http.MethodPost, URL: &url.URL{Path: eq}, Header: http.Header{}}
	w.r.ServeVHTTP(req, []byte(`<llsd><map><key>done</key><boolean>false</boolean></map></llsd>`), func(r vhttp.Response) { held = r.Status })
	require.NoError(t, w.s.RunUntil(w.s.Now().Add(EventQueueHold-time.Second)))
	require.Equal(t, 0, held)
	require.NoError(t, w.s.RunUntil(w.s.Now().Add(2*time.Second)))
	require.Equal(t, http.StatusBadGateway, held)

	// An event is delivered at once to a waiting poll, with an increasing id.
	var answer string
	w.r.ServeVHTTP(req, nil, func(r vhttp.Response) { answer = string(r.Body) })
	require.True(t, w.r.Enqueue(ac.AgentID, "TestEvent", []byte(`<map><key>x</key><integer>1</integer></map>`)))
	v, err := llsd.Decode([]byte(answer))
	require.NoError(t, err)
	id, _ := v.Get("id")
	require.EqualValues(t, 1, id.AsInt())
	evs, _ := v.Get("events")
	require.Len(t, evs.Items, 1)
	msg, _ := evs.Items[0].Get("message")
	require.Equal(t, "TestEvent", msg.AsString())

	// FetchInventoryDescendents2: categories and items are arrays.
	code, body = w.http(http.MethodPost, "/CAPS/"+ac.CapsPath+"/FetchInventoryDescendents2",
		`<llsd><map><key>folders</key><array><map><key>folder_id</key><uuid>`+ac.AgentID.String()+`</uuid><key>fetch_items</key><boolean>1</boolean></map></array></map></llsd>`)
	require.Equal(t, 200, code)
	require.Contains(t, body, `<key>categories</key><array></array><key>items</key><array></array>`)

	code, _ = w.http(http.MethodGet, "/CAPS/"+ac.CapsPath+"/ExtEnvironment", "")
	require.Equal(t, 404, code)
	code, _ = w.http(http.MethodPost, "/CAPS/"+ac.CapsPath+"0000/", "not llsd")
	require.Equal(t, 400, code)
}

func TestAvatarsSeeEachOtherArriveAndLeave(t *testing.T) {
	w := newWorld(t)
	decode := func(p lludp.Packet) *lludp.ObjectUpdate {
		var m lludp.ObjectUpdate
		require.NoError(t, m.DecodeBody(p.Body))
		return &m
	}
	a, epA := w.arrive(1, true)
	own := w.of(epA, lludp.MsgObjectUpdate)
	require.Len(t, own, 1, "alone: it sees only its own avatar")
	require.Equal(t, a.AgentID, decode(own[0]).Objects[0].FullID)
	b, epB := w.arrive(2, true)
	c, epC := w.arrive(3, false) // never POSTs its seed capability: OpenSim sends it no objects

	ua := w.of(epA, lludp.MsgObjectUpdate)[1:]
	require.Len(t, ua, 1)
	require.Equal(t, b.AgentID, decode(ua[0]).Objects[0].FullID)
	require.EqualValues(t, 47, decode(ua[0]).Objects[0].PCode)
	require.Contains(t, string(decode(ua[0]).Objects[0].NameValue), "LastName STRING RW SV "+b.Last)
	ub := w.of(epB, lludp.MsgObjectUpdate)
	require.Len(t, ub, 2, "B sees itself, then A")
	require.Equal(t, b.AgentID, decode(ub[0]).Objects[0].FullID)
	require.Equal(t, a.AgentID, decode(ub[1]).Objects[0].FullID)
	require.Empty(t, w.of(epC, lludp.MsgObjectUpdate))
	for _, p := range w.got[epA] {
		if p.ID == lludp.MsgObjectUpdate {
			for _, o := range decode(p).Objects {
				require.NotEqual(t, c.AgentID, o.FullID, "an agent without a seed capability is not shown yet")
			}
		}
	}

	w.send(epB, &lludp.LogoutRequest{AgentID: b.AgentID, SessionID: b.SessionID})
	ka := w.of(epA, lludp.MsgKillObject)
	require.Len(t, ka, 1)
	var k lludp.KillObject
	require.NoError(t, k.DecodeBody(ka[0].Body))
	require.Equal(t, decode(ua[0]).Objects[0].LocalID, k.LocalIDs[0])
	require.Empty(t, w.of(epC, lludp.MsgKillObject))
	require.Equal(t, []string{"Agent:logout"}, w.left, "OnLeave reports the logout for presence")
}

func TestPostArrivalRequests(t *testing.T) {
	w := newWorld(t)
	a, ep := w.arrive(1, false)
	w.send(ep, &lludp.AgentWearablesRequest{AgentID: a.AgentID, SessionID: a.SessionID})
	w.send(ep, &lludp.RequestRegionInfo{AgentID: a.AgentID, SessionID: a.SessionID})
	w.send(ep, &lludp.MapNameRequest{AgentID: a.AgentID, SessionID: a.SessionID, Flags: 2, Name: []byte("my reg")})
	w.send(ep, &lludp.AgentDataUpdateRequest{AgentID: a.AgentID, SessionID: a.SessionID})
	w.send(ep, &lludp.EconomyDataRequest{})
	w.send(ep, &lludp.UUIDNameRequest{IDs: []uuid.UUID{a.AgentID, uuid.Nil}})
	// A request for another agent's session is dropped (OpenSim's ValidIDs).
	w.send(ep, &lludp.AgentWearablesRequest{AgentID: a.AgentID, SessionID: uuid.Nil})

	require.Len(t, w.of(ep, lludp.MsgAgentWearablesUpdate), 1)
	var ri lludp.RegionInfo
	require.NoError(t, ri.DecodeBody(w.of(ep, lludp.MsgRegionInfo)[0].Body))
	require.Equal(t, "My Region", string(ri.SimName))
	var mb lludp.MapBlockReply
	require.NoError(t, mb.DecodeBody(w.of(ep, lludp.MsgMapBlockReply)[0].Body))
	require.Equal(t, "My Region", string(mb.Blocks[0].Name), "node-metaverse matches the name to the SimName")
	require.EqualValues(t, 1000, mb.Blocks[0].X)
	var ad lludp.AgentDataUpdate
	require.NoError(t, ad.DecodeBody(w.of(ep, lludp.MsgAgentDataUpdate)[0].Body))
	require.Equal(t, a.First, string(ad.FirstName))
	require.Len(t, w.of(ep, lludp.MsgEconomyData), 1)
	var names lludp.UUIDNameReply
	require.NoError(t, names.DecodeBody(w.of(ep, lludp.MsgUUIDNameReply)[0].Body))
	require.Len(t, names.Names, 1)
	require.Equal(t, a.Last, string(names.Names[0].LastName))
}

func TestRTOFromPing(t *testing.T) {
	for _, c := range []struct{ srtt, want time.Duration }{
		{time.Millisecond, 250 * time.Millisecond},
		{100 * time.Millisecond, 500 * time.Millisecond},
		{2 * time.Second, 3 * time.Second},
	} {
		require.Equal(t, c.want, rtoFromPing(c.srtt), "srtt %s", c.srtt)
	}
	// A ping answered after 10 ms: smoothed 0.8·20 + 0.2·10 = 18 ms → RTO 250 ms, so a
	// reliable packet is resent 250 ms after it was sent, not 1 s.
	w := newWorld(t)
	_, ep := w.arrive(1, false)
	require.NoError(t, w.s.RunUntil(w.s.Now().Add(5*time.Second)))
	pings := w.of(ep, lludp.MsgStartPingCheck)
	require.Len(t, pings, 1)
	require.NoError(t, w.s.RunUntil(w.s.Now().Add(10*time.Millisecond)))
	w.send(ep, &lludp.CompletePingCheck{PingID: 1})
	cl := w.r.clientAt(ep)
	require.Equal(t, 18*time.Millisecond, cl.srtt)
	seq := cl.c.SendReliable(&lludp.EconomyData{})
	n := len(w.got[ep])
	require.NoError(t, w.s.RunUntil(w.s.Now().Add(260*time.Millisecond)))
	resent := false
	for _, p := range w.got[ep][n:] {
		if p.Seq == seq && p.Flags&lludp.FlagResent != 0 {
			resent = true
		}
	}
	require.True(t, resent, "resent after the 250 ms RTO")
	require.NotZero(t, w.r.Resends(), "the region counts its circuits' resends")
	require.Equal(t, w.r.Stats().Circuit.Resent, w.r.Resends(), "Resends is the circuits' Resent summed")
}
