package viewer_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gridlab/lab/grid"
	"gridlab/lab/login"
	"gridlab/lab/region"
	"gridlab/lab/vhttp"
	"gridlab/lab/viewer"
	"gridlab/netem"
	"gridlab/sim"
)

// world is one viewer and one grid host on a 20 ms segment: the real login service and region.
type world struct {
	s      *sim.Sim
	net    *netem.Network
	grid   *netem.Host
	client *netem.Host
	region *region.Region
	v      *viewer.Viewer
	done   bool
}

type nopLog struct{}

func (nopLog) Logf(string, string, ...any) {}

type hostNet struct{ h *netem.Host }

func (n hostNet) DialTCP(to netip.AddrPort, h viewer.StreamHandler) viewer.Conn {
	return n.h.DialTCP(to, h)
}

func (n hostNet) Resolve(name string, cb func([]netip.Addr, error)) { n.h.Resolve(name, cb) }

func (n hostNet) ListenUDP(recv func(netip.AddrPort, []byte)) (viewer.UDPSocket, error) {
	return n.h.ListenUDP(0, recv)
}

type setup struct {
	password  string      // the viewer's password ("secret" is right)
	loginAddr string      // where the viewer sends its login
	simIP     string      // what the login reply says the region is
	rule      *netem.Rule // a firewall rule on the grid host
	stay      time.Duration
	profile   *viewer.Profile // default sl-viewer
}

func newWorld(t *testing.T, st setup) *world {
	t.Helper()
	w := &world{s: sim.New(1)}
	w.net = netem.New(w.s)
	seg := w.net.AddSegment("lan", netip.MustParsePrefix("10.0.0.0/24"), netem.LinkParams{Latency: 20 * time.Millisecond})
	var err error
	w.grid, err = w.net.AddHost("grid", seg, netip.MustParseAddr("10.0.0.10"))
	require.NoError(t, err)
	w.client, err = w.net.AddHost("viewer", seg, netip.MustParseAddr("10.0.0.20"))
	require.NoError(t, err)
	if st.rule != nil {
		w.grid.AddRule(*st.rule)
	}
	w.region = region.New(region.Config{Name: "My Region", ID: uuid.MustParse("4a3c1f2e-9b7d-4e5a-8c61-0d2f3b4a5c6d"), X: 1000, Y: 1000, Clock: w.s, Log: nopLog{}})
	sock, err := w.grid.ListenUDP(9000, w.region.Receive)
	require.NoError(t, err)
	w.region.SetSend(func(to netip.AddrPort, b []byte) { sock.WriteTo(b, to) })
	accounts := grid.NewAccounts()
	_, err = accounts.Add("Test", "User", "secret", w.s.Rand("accounts"))
	require.NoError(t, err)
	simIP := "10.0.0.10"
	if st.simIP != "" {
		simIP = st.simIP
	}
	svc, err := login.New(login.Config{
		Accounts: accounts, IDs: w.s.Rand("ids"), Log: nopLog{},
		Regions: []login.Region{{Name: "My Region", ID: uuid.MustParse("4a3c1f2e-9b7d-4e5a-8c61-0d2f3b4a5c6d"), X: 1000, Y: 1000, SizeX: 256, SizeY: 256,
			SimIP: netip.MustParseAddr(simIP), SimPort: 9000, ServerURI: "http://10.0.0.10:9000/", Dest: w.region, Default: true}},
	})
	require.NoError(t, err)
	_, err = w.grid.ListenTCP(9000, func(c *netem.TCPConn) netem.StreamHandler { return vhttp.NewServerConn(c, svc, 1<<20) })
	require.NoError(t, err)
	addr := "10.0.0.10:9000"
	if st.loginAddr != "" {
		addr = st.loginAddr
	}
	pw := "secret"
	if st.password != "" {
		pw = st.password
	}
	prof := viewer.SLViewer
	if st.profile != nil {
		prof = *st.profile
	}
	w.v = viewer.New(viewer.Config{
		ID: 1, First: "Test", Last: "User", Password: pw,
		LoginURI: "http://" + addr + "/", LoginAddr: netip.MustParseAddrPort(addr), Start: "last", Stay: st.stay,
		Profile: prof, Clock: w.s, Net: hostNet{w.client}, Rand: w.s.Rand("viewer"),
		Done: func(*viewer.Viewer) { w.done = true },
	})
	w.s.At(0, "start", w.v.Start)
	return w
}

func (w *world) run(t *testing.T, d time.Duration) *viewer.Result {
	t.Helper()
	require.NoError(t, w.s.RunUntil(sim.Time(d)))
	return w.v.Result()
}

func TestSuccessfulLoginReachesEveryStageInOrderAndLogsOut(t *testing.T) {
	w := newWorld(t, setup{stay: 10 * time.Second})
	r := w.run(t, 2*time.Minute)
	require.Equal(t, viewer.Success, r.Outcome)
	for s := viewer.Stage(1); s <= viewer.StageMovementComplete; s++ {
		require.GreaterOrEqual(t, r.Stages[s], r.Stages[s-1], "stage %d comes after stage %d", s, s-1)
	}
	assert.Equal(t, sim.Time(-1), r.Stages[viewer.StageFirstObjectUpdate], "the region sends no ObjectUpdate yet")
	// TCP handshake + request/reply are 2 round trips of 40 ms; UseCircuitCode and its ack one more.
	assert.InDelta(t, 80, r.Stages[viewer.StageLoginReply].Sub(r.Start).Seconds()*1000, 5, "login reply after two round trips")
	assert.InDelta(t, 40, r.Stages[viewer.StageCircuitAck].Sub(r.Stages[viewer.StageLoginReply]).Seconds()*1000, 2, "ack one round trip after the reply")
	assert.True(t, r.LoggedOut, "the region answered LogoutRequest")
	assert.True(t, w.done)
	assert.Equal(t, 0, w.region.Agents(), "the region forgot the agent")
	assert.Equal(t, "Logging out...", r.Status)
}

func TestWrongPasswordShowsOpenSimsMessage(t *testing.T) {
	w := newWorld(t, setup{password: "wrong"})
	r := w.run(t, time.Minute)
	assert.Equal(t, viewer.BadCredentials, r.Outcome)
	assert.Equal(t, login.MsgUserProblem, r.Message)
	assert.Equal(t, uint32(0), r.CircuitCode, "no circuit was handed out")
}

func TestClosedLoginPortFailsAtOnce(t *testing.T) {
	w := newWorld(t, setup{loginAddr: "10.0.0.10:9001"})
	r := w.run(t, time.Minute)
	assert.Equal(t, viewer.LoginPortClosed, r.Outcome)
	assert.Equal(t, viewer.MsgUnableToConnect, r.Message)
	assert.InDelta(t, 0.04, r.DecidedAt.Sub(r.Start).Seconds(), 0.005, "the RST comes back after one round trip")
}

func TestLoginServiceBehindADropRuleTimesOutAtNinetySeconds(t *testing.T) {
	w := newWorld(t, setup{rule: &netem.Rule{Name: "no-login", Dir: netem.In, Proto: netem.TCP, Action: netem.Deny}})
	r := w.run(t, 3*time.Minute)
	assert.Equal(t, viewer.LoginTimeout, r.Outcome)
	assert.Equal(t, viewer.MsgUnableToConnect, r.Message)
	assert.Equal(t, 90*time.Second, r.DecidedAt.Sub(r.Start), "the SL viewer's login timeout, never retried")
}

func TestUnreachableRegionGivesUpAfterFourUseCircuitCodes(t *testing.T) {
	w := newWorld(t, setup{simIP: "10.0.0.99"}) // nothing lives there
	r := w.run(t, 2*time.Minute)
	assert.Equal(t, viewer.NoCircuitAck, r.Outcome)
	assert.Equal(t, viewer.MsgTroubleConnecting, r.Message)
	assert.Equal(t, 20*time.Second, r.DecidedAt.Sub(r.Stages[viewer.StageLoginReply]), "sent at 0, 5, 10, 15 s; given up at 20 s")
	assert.Equal(t, uint64(3), r.Circuit.Resent)
}

func TestProfilesGiveUpOnADeadRegionOnTheirOwnSchedules(t *testing.T) {
	tests := []struct {
		profile viewer.Profile
		after   time.Duration // from the login reply
		sends   int           // UseCircuitCode transmissions
		message string
	}{
		{viewer.SLViewer, 20 * time.Second, 4, viewer.MsgTroubleConnecting},
		{viewer.LibreMetaverse, 60 * time.Second, 4, "Unable to establish a UDP connection to the simulator"},
		{viewer.NodeMetaverse, 60 * time.Second, 60, "Timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.profile.Name, func(t *testing.T) {
			prof := tt.profile
			w := newWorld(t, setup{simIP: "10.0.0.99", profile: &prof})
			r := w.run(t, 5*time.Minute)
			assert.Equal(t, viewer.NoCircuitAck, r.Outcome)
			assert.Equal(t, tt.message, r.Message)
			assert.Equal(t, tt.after, r.DecidedAt.Sub(r.Stages[viewer.StageLoginReply]))
			assert.Equal(t, uint64(tt.sends-1), r.Circuit.Resent, "UseCircuitCode sent %d times", tt.sends)
		})
	}
}

func TestLibreMetaversePausesBeforeCompleteAgentMovement(t *testing.T) {
	prof := viewer.LibreMetaverse
	w := newWorld(t, setup{profile: &prof})
	r := w.run(t, time.Minute)
	require.Equal(t, viewer.Success, r.Outcome)
	gap := r.Stages[viewer.StageRegionHandshake].Sub(r.Stages[viewer.StageCircuitAck])
	assert.InDelta(t, 540, gap.Seconds()*1000, 2, "500 ms pause, then one round trip")
}

func TestNodeMetaverseHasNoLoginTimeoutSoTCPDecides(t *testing.T) {
	prof := viewer.NodeMetaverse
	w := newWorld(t, setup{profile: &prof, rule: &netem.Rule{Name: "no-login", Dir: netem.In, Proto: netem.TCP, Action: netem.Deny}})
	r := w.run(t, 5*time.Minute)
	assert.Equal(t, viewer.LoginTimeout, r.Outcome)
	assert.Greater(t, r.DecidedAt.Sub(r.Start), 120*time.Second, "only the kernel's SYN retries end it")
}

func TestFinishedOnlyOnceTheViewerIsDone(t *testing.T) {
	// Finished is false while the viewer logs in and stays in world, and true from its Done
	// callback on: the lab relies on its result being final then.
	w := newWorld(t, setup{stay: 10 * time.Second})
	var finishedInCallback bool
	w.v.Config().Done = func(v *viewer.Viewer) { finishedInCallback = v.Finished() }
	assert.False(t, w.v.Finished(), "not started")
	r := w.run(t, 5*time.Second)
	require.Equal(t, viewer.Success, r.Outcome)
	assert.False(t, w.v.Finished(), "in world")
	w.run(t, 2*time.Minute)
	assert.True(t, w.v.Finished(), "logged out")
	assert.True(t, finishedInCallback, "already finished when the Done callback runs")
}
