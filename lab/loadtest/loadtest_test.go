package loadtest

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gridlab/lab/realnet"
	"gridlab/lab/viewer"
	"gridlab/reports"
)

var loopback = netip.MustParseAddr("127.0.0.1")

// testGrid is a grid on real loopback sockets, on its own event loop, as `gridlab serve` runs it.
type testGrid struct {
	l    *realnet.Loop
	g    *realnet.Grid
	uri  string
	stop func()
}

func startGrid(t *testing.T, users int) *testGrid {
	t.Helper()
	var us []realnet.User
	for n := 1; n <= users; n++ {
		us = append(us, realnet.User{First: "Load", Last: fmt.Sprintf("Test%d", n), Password: "password"})
	}
	l := realnet.New()
	g, err := realnet.StartGrid(l, realnet.GridConfig{
		Login:   netip.AddrPortFrom(loopback, 0),
		Regions: nil,
		Users:   us,
		Resolve: func() (netip.Addr, error) { return loopback, nil },
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = l.Run(ctx); close(done) }()
	tg := &testGrid{l: l, g: g, uri: fmt.Sprintf("http://%s/", g.LoginAddr)}
	stopped := false
	tg.stop = func() {
		if stopped {
			return
		}
		stopped = true
		_ = l.Do(g.Close) // the grid vanishes: sockets closed, nobody logged out
		cancel()
		<-done
	}
	t.Cleanup(tg.stop)
	return tg
}

func accounts(n int, password string) []Account {
	out := make([]Account, n)
	for i := range out {
		out[i] = Account{First: "Load", Last: fmt.Sprintf("Test%d", i+1), Password: password}
	}
	return out
}

// fastProfile is the SL viewer with short timers, so that tests against a vanished grid do
// not wait 6 s for a LogoutReply or 20 s for a UseCircuitCode ack.
func fastProfile() viewer.Profile {
	p := viewer.SLViewer
	p.LogoutWait = 500 * time.Millisecond
	p.CircuitResend = 300 * time.Millisecond
	p.LoginTimeout = 5 * time.Second
	p.AgentWait = 3 * time.Second
	return p
}

func outcomes(r *reports.Run) map[string]int {
	m := map[string]int{}
	for _, v := range r.Viewers {
		m[v.Outcome]++
	}
	return m
}

func TestFiftyViewersLogInStayAndLogOutOverLoopback(t *testing.T) {
	tg := startGrid(t, 50)
	res, err := Run(context.Background(), Config{
		LoginURI: tg.uri, Accounts: accounts(50, "password"), Rate: 100, Stay: 300 * time.Millisecond,
		Profile: fastProfile(), Bind: loopback,
	})
	require.NoError(t, err)
	run := res.Run
	require.Len(t, run.Viewers, 50, "every viewer is reported")
	assert.Equal(t, map[string]int{"success": 50}, outcomes(run), "every viewer gets in world")
	for _, v := range run.Viewers {
		assert.GreaterOrEqual(t, v.Stages[reports.StageMovementComplete], v.Stages[reports.StageLoginReply],
			"viewer %d: in world after its login reply", v.ID)
		want := time.Duration(float64(v.ID-1) * float64(time.Second) / 100)
		assert.Equal(t, want, v.Start, "viewer %d's start is its intended start, k/rate", v.ID)
	}
	rep := reports.Build(run)
	assert.Equal(t, 50, rep.Stages[reports.StageMovementComplete].Count)
	assert.Equal(t, uint64(50), rep.Counters["load/viewers_logged_out"], "every viewer logged out after its stay")
	assert.False(t, res.Meta.Interrupted)
	// The region saw them all leave: nobody is left online.
	var online int
	require.NoError(t, tg.l.Do(func() { online = tg.g.Regions[0].Agents() }))
	assert.Zero(t, online, "no agent left in the region")

	dir := t.TempDir()
	_, err = reports.WriteRunFiles(dir, run)
	require.NoError(t, err)
	for _, f := range []string{reports.ReportFile, reports.ViewersFile, reports.SamplesFile, reports.IndexFile, reports.CDFFile} {
		_, err := os.Stat(filepath.Join(dir, f))
		assert.NoError(t, err, "%s is written", f)
	}
}

func TestAWrongPasswordGivesBadCredentials(t *testing.T) {
	tg := startGrid(t, 10)
	res, err := Run(context.Background(), Config{
		LoginURI: tg.uri, Accounts: accounts(10, "not-the-password"), Rate: 100, Stay: time.Second, Bind: loopback,
	})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{viewer.BadCredentials: 10}, outcomes(res.Run), "every viewer is refused")
	for _, v := range res.Run.Viewers {
		assert.Contains(t, v.Message, "Could not authenticate your avatar")
		assert.Negative(t, int64(v.Stages[reports.StageMovementComplete]), "a refused viewer never gets in world")
	}
}

func TestAGridThatVanishesMidRunGivesFailuresNotACrash(t *testing.T) {
	tg := startGrid(t, 40)
	go func() {
		time.Sleep(600 * time.Millisecond)
		tg.stop()
	}()
	res, err := Run(context.Background(), Config{
		LoginURI: tg.uri, Accounts: accounts(40, "password"), Rate: 20, Stay: 200 * time.Millisecond,
		Profile: fastProfile(), Bind: loopback,
	})
	require.NoError(t, err, "a vanished grid is a result, not an error")
	run := res.Run
	require.Len(t, run.Viewers, 40, "every viewer is reported")
	got := outcomes(run)
	assert.Greater(t, got["success"], 0, "viewers before the grid vanished got in: %v", got)
	assert.Greater(t, got[viewer.LoginPortClosed], 20, "viewers after it found the login port closed: %v", got)
	for _, v := range run.Viewers {
		if v.Outcome == viewer.LoginPortClosed {
			assert.Equal(t, "Unable to connect to grid", v.Message)
		}
	}
	_, err = reports.WriteRunFiles(t.TempDir(), run)
	assert.NoError(t, err, "the report of a broken run is written")
}

func TestStopLogsEveryoneOutAndReportsWhoStarted(t *testing.T) {
	tg := startGrid(t, 200)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(700 * time.Millisecond)
		cancel()
	}()
	start := time.Now()
	res, err := Run(ctx, Config{
		LoginURI: tg.uri, Accounts: accounts(200, "password"), Rate: 50, Stay: 0, // stay until stopped
		Profile: fastProfile(), Bind: loopback,
	})
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 5*time.Second, "stopping does not wait for the other viewers' arrivals")
	assert.True(t, res.Meta.Interrupted)
	n := len(res.Run.Viewers)
	assert.Greater(t, n, 10, "viewers started before the stop")
	assert.Less(t, n, 200, "no viewer starts after the stop")
	assert.Equal(t, n, res.Meta.Started)
	assert.Equal(t, map[string]int{"success": n}, outcomes(res.Run))
	rep := reports.Build(res.Run)
	assert.Equal(t, uint64(n), rep.Counters["load/viewers_logged_out"], "everyone in world logged out")
	var agents int
	require.NoError(t, tg.l.Do(func() { agents = tg.g.Regions[0].Agents() }))
	assert.Zero(t, agents, "the region has no agents left")
}

func TestParseExpect(t *testing.T) {
	for _, c := range []struct {
		in, stage, threshold, rate, outcome string
		count, min, max                     int // -1: not set
	}{
		{"p(99)<2s", "movement_complete", "p(99)<2s", "", "", -1, -1, -1},
		{"circuit_ack p(95) < 500ms", "circuit_ack", "p(95) < 500ms", "", "", -1, -1, -1},
		{"login_reply:max<=3s", "login_reply", "max<=3s", "", "", -1, -1, -1},
		{"avg < 1s", "movement_complete", "avg < 1s", "", "", -1, -1, -1},
		{"rate(success)>=99%", "", ">=99%", "success", "", -1, -1, -1},
		{"count(bad-credentials)==0", "", "", "", "bad-credentials", 0, -1, -1},
		{"count(success) > 10", "", "", "", "success", -1, 11, -1},
		{"count(login-timeout)<5", "", "", "", "login-timeout", -1, -1, 4},
	} {
		e, err := ParseExpect(c.in)
		require.NoError(t, err, c.in)
		assert.Equal(t, c.stage, e.Stage, c.in)
		assert.Equal(t, c.threshold, e.Threshold, c.in)
		assert.Equal(t, c.rate, e.Rate, c.in)
		if c.outcome != "" {
			assert.Equal(t, c.outcome, e.Outcome, c.in)
		}
		for _, p := range []struct {
			want int
			got  *int
		}{{c.count, e.Count}, {c.min, e.Min}, {c.max, e.Max}} {
			if p.want < 0 {
				assert.Nil(t, p.got, c.in)
			} else if assert.NotNil(t, p.got, c.in) {
				assert.Equal(t, p.want, *p.got, c.in)
			}
		}
	}
	for _, bad := range []string{"", "p(98)<2s", "p(99)", "handshake p(99)<1s", "rate(success)>2", "count(success)=1", "count(x)<0"} {
		_, err := ParseExpect(bad)
		assert.Error(t, err, "%q is rejected", bad)
	}
}
