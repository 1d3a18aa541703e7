package login

import (
	"bufio"
	"context"
	"encoding/json"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"gridlab/lab/grid"
	"gridlab/lab/nodepeer"
	"gridlab/lab/vhttp"
)

// tcpStream adapts a real TCP connection to vhttp.Stream for the interop test. Writes happen on
// the single event-loop goroutine, as the real-socket driver will do.
type tcpStream struct{ c net.Conn }

func (s tcpStream) Write(b []byte) { s.c.Write(b) }
func (s tcpStream) Close()         { s.c.Close() }
func (s tcpStream) RemoteAddr() netip.AddrPort {
	if a, ok := s.c.RemoteAddr().(*net.TCPAddr); ok {
		return a.AddrPort()
	}
	return netip.AddrPort{}
}

// serveTCP runs h on ln: reader goroutines hand bytes to one event loop.
func serveTCP(t *testing.T, ln net.Listener, h vhttp.Handler) {
	events := make(chan func(), 64)
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); close(done) })
	go func() {
		for {
			select {
			case f := <-events:
				f()
			case <-done:
				return
			}
		}
	}()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			sc := vhttp.NewServerConn(tcpStream{c}, h, MaxRequestBody)
			events <- sc.OnConnect
			go func() {
				buf := make([]byte, 32<<10)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						b := append([]byte(nil), buf[:n]...)
						events <- func() { sc.OnData(b) }
					}
					if err != nil {
						events <- func() { sc.OnClose(err) }
						return
					}
				}
			}()
		}
	}()
}

// TestNodeMetaverseLogin logs the independent node-metaverse client into the login service over
// real TCP and checks that it accepts the reply (its login_ok line). It needs an installed copy
// of shared/peers/node-metaverse: set NODE_METAVERSE_DIR to a folder with login.js and
// node_modules (npm ci).
func TestNodeMetaverseLogin(t *testing.T) {
	dir, node := nodepeer.Require(t)
	accounts := grid.NewAccounts()
	acc, _ := accounts.Add("Test", "User", "secret", rand.New(rand.NewPCG(1, 1)))
	dest := &syncDest{}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr).AddrPort()
	svc, err := New(Config{
		Accounts: accounts, IDs: rand.New(rand.NewPCG(1, 2)), Log: &testLog{},
		Regions: []Region{{Name: "Default Region", X: 1000, Y: 1000, SimIP: netip.MustParseAddr("127.0.0.1"),
			SimPort: 9, ServerURI: "http://" + addr.String() + "/", Dest: dest}},
	})
	if err != nil {
		t.Fatal(err)
	}
	serveTCP(t, ln, svc)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "login.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LOGIN_URI=http://"+addr.String()+"/", "FIRST=Test", "LAST=User",
		"PASSWORD=secret", "MODE=circuit", "TIMEOUT_MS=20000")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Skipf("node: %v", err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		switch line["stage"] {
		case "login_ok":
			t.Logf("node-metaverse: %s", sc.Text())
			if line["agent_id"] != acc.ID.String() || line["sim_ip"] != "127.0.0.1" || line["sim_port"] != float64(9) ||
				line["inventory_skeleton_folders"] != float64(len(skeletonFolders)) {
				t.Errorf("unexpected login_ok: %s", sc.Text())
			}
			if got := dest.codes(); len(got) != 1 || strconv.Itoa(int(got[0])) != jsonNum(line["circuit_code"]) {
				t.Errorf("circuit code mismatch: %v vs %v", line["circuit_code"], got)
			}
			return
		case "error", "fatal":
			t.Fatalf("node-metaverse failed: %s", sc.Text())
		}
	}
	t.Fatal("node-metaverse ended without login_ok")
}

// syncDest records circuit codes from the event-loop goroutine for the test goroutine.
type syncDest struct {
	mu  sync.Mutex
	got []uint32
}

func (d *syncDest) LaunchAgent(c AgentCircuit, done func(error)) {
	d.mu.Lock()
	d.got = append(d.got, c.CircuitCode)
	d.mu.Unlock()
	done(nil)
}

func (d *syncDest) codes() []uint32 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]uint32(nil), d.got...)
}

func jsonNum(v any) string {
	if f, ok := v.(float64); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return ""
}
