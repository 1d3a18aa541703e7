package main

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gridlab/lab/nodepeer"
	"gridlab/lab/realnet"
	"gridlab/lab/viewer"
)

// startRole runs `gridlab serve` with o in process until the test ends and returns its grid.
func startRole(t *testing.T, o serveOptions) (*realnet.Grid, *lockedBuf) {
	t.Helper()
	logs := &lockedBuf{}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan *realnet.Grid, 1)
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, o, logs, func(g *realnet.Grid) { ready <- g }) }()
	var g *realnet.Grid
	select {
	case g = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("serve --role %s: %v", o.role, err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("serve did not start")
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return g, logs
}

// startGridRoles starts `serve --role region` (one region on a free loopback UDP port, from a
// Regions.ini) and `serve --role login` pointed at it, with the account Test User / secret.
func startGridRoles(t *testing.T) (rg *realnet.Grid, regionLogs *lockedBuf, lg *realnet.Grid, loginLogs *lockedBuf) {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	udpPort := pc.LocalAddr().(*net.UDPAddr).Port
	pc.Close()
	ini := filepath.Join(t.TempDir(), "Regions.ini")
	text := fmt.Sprintf("[Grid Mode Region]\nRegionUUID = 2b9e2f4c-1d3a-4e5b-8c7d-6f5e4d3c2b1a\nLocation = 1000,1000\nInternalAddress = 127.0.0.1\nInternalPort = %d\nExternalHostName = 127.0.0.1\n", udpPort)
	if err := os.WriteFile(ini, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	rg, regionLogs = startRole(t, serveOptions{role: "region", regions: ini, regionHTTP: "127.0.0.1:0", login: "127.0.0.1:0", userPattern: "x{n}:y"})
	lg, loginLogs = startRole(t, serveOptions{role: "login", regions: ini, login: "127.0.0.1:0", userPattern: "x{n}:y",
		regionsURL: "http://" + rg.RegionHTTP.String() + "/", users: []string{"Test User:secret"}})
	return rg, regionLogs, lg, loginLogs
}

// TestServeGridModeRoles starts `gridlab serve --role region` and `--role login` in this test
// process on loopback, with one Regions.ini, and logs a synthetic viewer in through them.
func TestServeGridModeRoles(t *testing.T) {
	_, regionLogs, lg, loginLogs := startGridRoles(t)

	// The viewer runs on its own loop, as a separate program would.
	l := realnet.New()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = l.Run(ctx) }()
	ch := make(chan viewer.Result, 1)
	_ = l.Do(func() {
		prof, _ := viewer.ProfileByName("sl-viewer")
		var v *viewer.Viewer
		v = viewer.New(viewer.Config{ID: 1, First: "Test", Last: "User", Password: "secret",
			LoginURI: "http://" + lg.LoginAddr.String() + "/", LoginAddr: lg.LoginAddr, Start: "last",
			Stay: time.Second, Profile: prof, Clock: l.Sim,
			Net: realnet.ViewerNet{L: l, Addr: netip.MustParseAddr("127.0.0.1")}, Rand: realnet.CryptoRand(),
			Done: func(*viewer.Viewer) { ch <- *v.Result() }})
		v.Start()
	})
	select {
	case r := <-ch:
		if r.Outcome != viewer.Success || !r.LoggedOut || r.SimName != "Grid Mode Region" {
			t.Fatalf("outcome %q (%s), logged out %v, region %q\nlogin:\n%s\nregion:\n%s", r.Outcome, r.Message, r.LoggedOut, r.SimName, loginLogs, regionLogs)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("viewer did not finish\nlogin:\n%s\nregion:\n%s", loginLogs, regionLogs)
	}
	if !strings.Contains(regionLogs.String(), "told of incoming root agent Test User") {
		t.Errorf("the region process was not told of the agent:\n%s", regionLogs)
	}
}

func TestServeRoleFlags(t *testing.T) {
	for _, tc := range []struct {
		o    serveOptions
		want string
	}{
		{serveOptions{role: "robust"}, `--role "robust": want all, login or region`},
		{serveOptions{role: "login"}, "--role login needs --regions-url"},
		{serveOptions{role: "all", regionsURL: "http://127.0.0.1:9000/"}, "--regions-url is for --role login"},
		{serveOptions{role: "region", regionHTTP: "nine-thousand"}, `--region-http "nine-thousand": want IP:port`},
	} {
		tc.o.login = "127.0.0.1:0"
		err := runServe(context.Background(), tc.o, &lockedBuf{}, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want an error containing %q", tc.o, err, tc.want)
		}
	}
}

// TestNodeMetaverseInteropGridMode runs node-metaverse's login.js in full mode (seed
// capability and event queue on the region process) against the two roles of grid mode.
func TestNodeMetaverseInteropGridMode(t *testing.T) {
	dir, node := nodepeer.Require(t)
	_, regionLogs, lg, loginLogs := startGridRoles(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "login.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LOGIN_URI=http://"+lg.LoginAddr.String()+"/", "FIRST=Test", "LAST=User", "PASSWORD=secret",
		"MODE=full", "STAY_MS=1500", "TIMEOUT_MS=60000", "REQUIRE_EQ=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("login.js: %v\n%s\nlogin:\n%s\nregion:\n%s", err, out, loginLogs, regionLogs)
	}
	for _, want := range []string{`"login_ok"`, `"connected"`, `"logout_ok"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("login.js output lacks %s:\n%s", want, out)
		}
	}
	if !strings.Contains(regionLogs.String(), "[CAPS]: Received SEED caps request in Grid Mode Region") {
		t.Errorf("the seed capability was not fetched from the region process:\n%s", regionLogs)
	}
}
