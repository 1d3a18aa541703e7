package realnet

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"gridlab/lab/login"
	"gridlab/lab/viewer"
)

var loopback = netip.MustParseAddr("127.0.0.1")

// syncBuf is a log sink the test can read while the loop writes.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// startGrid runs a grid on a free loopback port until the test ends.
func startGrid(t *testing.T, users ...User) (*Loop, *Grid, *syncBuf) {
	t.Helper()
	l := New()
	logs := &syncBuf{}
	g, err := StartGrid(l, GridConfig{
		Login:   netip.AddrPortFrom(loopback, 0),
		Regions: []gridRegion{DefaultRegion(netip.AddrPortFrom(loopback, 0))},
		Users:   users, Log: logs, Debug: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = l.Run(ctx); close(done) }()
	t.Cleanup(func() {
		_ = l.Do(g.Shutdown)
		cancel()
		<-done
	})
	return l, g, logs
}

func TestSyntheticViewerLogsInOverRealSockets(t *testing.T) {
	l, g, logs := startGrid(t, User{"Test", "User", "secret"}, User{"Other", "User", "secret"})
	type outcome struct {
		res viewer.Result
	}
	run := func(id int, first, pw string) chan viewer.Result {
		ch := make(chan viewer.Result, 1)
		_ = l.Do(func() {
			prof, err := viewer.ProfileByName("sl-viewer")
			if err != nil {
				panic(err)
			}
			var v *viewer.Viewer
			v = viewer.New(viewer.Config{
				ID: id, First: first, Last: "User", Password: pw,
				LoginURI: fmt.Sprintf("http://%s/", g.LoginAddr), LoginAddr: g.LoginAddr,
				Start: "last", Stay: 1500 * time.Millisecond, Profile: prof,
				Clock: l.Sim, Net: ViewerNet{L: l, Addr: loopback}, Rand: CryptoRand(),
				Done: func(*viewer.Viewer) { ch <- *v.Result() },
			})
			v.Start()
		})
		return ch
	}
	good := run(1, "Test", "secret")
	bad := run(2, "Other", "wrong")
	timeout := time.After(20 * time.Second)
	for i, ch := range []chan viewer.Result{good, bad} {
		select {
		case r := <-ch:
			if i == 0 {
				if r.Outcome != viewer.Success || !r.LoggedOut {
					t.Fatalf("viewer 1: outcome %q (%s), logged out %v\n%s", r.Outcome, r.Message, r.LoggedOut, logs)
				}
				if !strings.HasPrefix(r.Sim.String(), "127.0.0.1:") {
					t.Fatalf("sim address %s", r.Sim)
				}
			} else if r.Outcome != viewer.BadCredentials || !strings.Contains(r.Message, "Could not authenticate your avatar") {
				t.Fatalf("viewer 2: outcome %q (%s)", r.Outcome, r.Message)
			}
		case <-timeout:
			t.Fatalf("viewers did not finish\n%s", logs)
		}
	}
	for _, want := range []string{"[LLOGIN SERVICE]: All clear. Sending login response to Test User", "[CLIENT]: Got a logout request for Test User", "User "} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q", want)
		}
	}
	// Presence was cleared by the logout.
	var online bool
	_ = l.Do(func() { acc, _ := g.Accounts.Lookup("Test", "User"); online = g.Login.Online(acc.ID) })
	if online {
		t.Error("Test User still online after logout")
	}
	if s := logs.String(); strings.Contains(s, "secret") {
		t.Error("a password reached the log")
	}
	_ = outcome{}
}

func TestGridInfoAndOversizeBody(t *testing.T) {
	_, g, _ := startGrid(t)
	base := fmt.Sprintf("http://%s", g.LoginAddr)
	c := &http.Client{Timeout: 5 * time.Second}
	for _, p := range []string{"/get_grid_info", "/json_grid_info", "/simstatus"} {
		resp, err := c.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || len(b) == 0 {
			t.Fatalf("%s: %d %q", p, resp.StatusCode, b)
		}
	}
	resp, err := c.Post(base+"/", "text/xml", bytes.NewReader(make([]byte, login.MaxRequestBody+1)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversize body: %d", resp.StatusCode)
	}
}

// TestDialRefused checks the error mapping the viewer relies on (errors.Is netem.ErrRefused).
func TestDialRefused(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.MustParseAddrPort(ln.Addr().String())
	ln.Close()
	l := New()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go l.Run(ctx)
	got := make(chan error, 1)
	_ = l.Do(func() { l.DialTCP(addr, closeOnly(func(err error) { got <- err })) })
	select {
	case err := <-got:
		if !isRefused(err) {
			t.Fatalf("got %v, want netem.ErrRefused", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no OnClose")
	}
}
