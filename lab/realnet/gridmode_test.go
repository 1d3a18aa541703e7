package realnet

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"gridlab/lab/grid"
	"gridlab/lab/viewer"
)

// runLoop runs a loop until the test ends; stop is called on the loop first.
func runLoop(t *testing.T, l *Loop, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = l.Run(ctx); close(done) }()
	t.Cleanup(func() {
		if stop != nil {
			_ = l.Do(stop)
		}
		cancel()
		<-done
	})
}

// loginViewer logs one synthetic viewer in through the login service at addr and waits.
func loginViewer(t *testing.T, l *Loop, addr netip.AddrPort, first, pw string, stay time.Duration) viewer.Result {
	t.Helper()
	ch := make(chan viewer.Result, 1)
	_ = l.Do(func() {
		prof, err := viewer.ProfileByName("sl-viewer")
		if err != nil {
			t.Error(err)
			return
		}
		var v *viewer.Viewer
		v = viewer.New(viewer.Config{
			ID: 1, First: first, Last: "User", Password: pw,
			LoginURI: fmt.Sprintf("http://%s/", addr), LoginAddr: addr,
			Start: "last", Stay: stay, Profile: prof,
			Clock: l.Sim, Net: ViewerNet{L: l, Addr: loopback}, Rand: CryptoRand(),
			Done: func(*viewer.Viewer) { ch <- *v.Result() },
		})
		v.Start()
	})
	select {
	case r := <-ch:
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("viewer did not finish")
	}
	return viewer.Result{}
}

func freeUDPPort(t *testing.T) uint16 {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return uint16(c.LocalAddr().(*net.UDPAddr).Port)
}

func testRegion(port uint16) grid.RegionConfig {
	rc := DefaultRegion(netip.AddrPortFrom(loopback, port))
	rc.Name = "Grid Region"
	return rc
}

// TestGridModeOverRealSockets runs the region role and the login role as two event loops (as
// two processes would) on loopback; a synthetic viewer logs in through them and out again.
func TestGridModeOverRealSockets(t *testing.T) {
	rc := testRegion(freeUDPPort(t))
	regionLogs, loginLogs := &syncBuf{}, &syncBuf{}

	rl := New()
	rg, err := StartGrid(rl, GridConfig{Role: RoleRegion, RegionHTTP: netip.AddrPortFrom(loopback, 0),
		Regions: []grid.RegionConfig{rc}, Log: regionLogs, Debug: true})
	if err != nil {
		t.Fatal(err)
	}
	runLoop(t, rl, rg.Shutdown)

	ll := New()
	lg, err := StartGrid(ll, GridConfig{Role: RoleLogin, Login: netip.AddrPortFrom(loopback, 0),
		RegionsURL: fmt.Sprintf("http://%s/", rg.RegionHTTP), Regions: []grid.RegionConfig{rc},
		Users: []User{{"Test", "User", "secret"}}, Log: loginLogs, Debug: true})
	if err != nil {
		t.Fatal(err)
	}
	runLoop(t, ll, lg.Shutdown)

	r := loginViewer(t, ll, lg.LoginAddr, "Test", "secret", 1500*time.Millisecond)
	if r.Outcome != viewer.Success || !r.LoggedOut || r.SimName != "Grid Region" {
		t.Fatalf("outcome %q (%s), logged out %v, region %q\nlogin log:\n%s\nregion log:\n%s", r.Outcome, r.Message, r.LoggedOut, r.SimName, loginLogs, regionLogs)
	}
	for _, want := range []string{"[SCENE]: Region Grid Region told of incoming root agent Test User", "[SCENE Grid Region]: authorized child agent Test User",
		"[AGENT HANDLER]: QueryAccess returned true", "[CLIENT]: Got a logout request for Test User"} {
		if !strings.Contains(regionLogs.String(), want) {
			t.Errorf("region log lacks %q", want)
		}
	}
	if !strings.Contains(loginLogs.String(), "[LLOGIN SERVICE]: All clear. Sending login response to Test User") {
		t.Errorf("login log lacks the all-clear line:\n%s", loginLogs)
	}
}

// TestGridModeRegionNotRunning: the login role alone, its regions' process not running. The
// viewer gets the login service's failure message at once (connection refused) and the login
// service logs the failed request and the failed login.
func TestGridModeRegionNotRunning(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	logs := &syncBuf{}
	l := New()
	g, err := StartGrid(l, GridConfig{Role: RoleLogin, Login: netip.AddrPortFrom(loopback, 0),
		RegionsURL: "http://" + dead + "/", Regions: []grid.RegionConfig{testRegion(freeUDPPort(t))},
		Users: []User{{"Test", "User", "secret"}}, Log: logs, Debug: true})
	if err != nil {
		t.Fatal(err)
	}
	runLoop(t, l, g.Shutdown)
	start := time.Now()
	r := loginViewer(t, l, g.LoginAddr, "Test", "secret", 0)
	want := "Service request failed: [499] Connection refused (" + dead + ")"
	if r.Outcome != viewer.LoginFailed || r.Message != want {
		t.Fatalf("outcome %q, message %q; want %q, %q\n%s", r.Outcome, r.Message, viewer.LoginFailed, want, logs)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("a refused connection took %s to fail the login", took)
	}
	for _, want := range []string{"[LOGHTTP]: request 1 QUERYACCESS to http://" + dead + "/agent/", "FAILED: [499] Connection refused",
		"[LLOGIN SERVICE]: Login failed for user Test User, reason: Service request failed: [499] Connection refused"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("login log lacks %q:\n%s", want, logs)
		}
	}
}

func TestStartGridRejectsBadRoleSettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  GridConfig
		want string
	}{
		{"unknown role", GridConfig{Role: "robust"}, `role "robust": want all, login or region`},
		{"login without regions URL", GridConfig{Role: RoleLogin}, "the regions' URL is missing"},
		{"regions URL with a name", GridConfig{Role: RoleLogin, RegionsURL: "http://regions.example.org:9000/"}, "the host must be an IP address"},
		{"regions URL not http", GridConfig{Role: RoleLogin, RegionsURL: "ftp://127.0.0.1/"}, "want http://IP:port/"},
	} {
		_, err := StartGrid(New(), tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}
