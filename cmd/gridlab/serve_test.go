package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gridlab/lab/nodepeer"
)

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuf) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// startServe runs `gridlab serve` in process until the test ends and returns its login URI.
func startServe(t *testing.T, o serveOptions) (string, *lockedBuf) {
	t.Helper()
	g, logs := startRole(t, o)
	return "http://" + g.LoginAddr.String() + "/", logs
}

func TestServeUsersFlags(t *testing.T) {
	dir := t.TempDir()
	acc := filepath.Join(dir, "accounts.txt")
	if err := os.WriteFile(acc, []byte("# test\nFile User:pw1\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	o := serveOptions{users: []string{"Test User:secret"}, nUsers: 3, userPattern: "Load Test{n}:pw", accounts: acc}
	us, err := o.usersList()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range us {
		names = append(names, u.First+" "+u.Last)
	}
	if got := strings.Join(names, ","); got != "Test User,Load Test1,Load Test2,Load Test3,File User" {
		t.Fatalf("accounts %s", got)
	}
	for _, bad := range []string{"NoPassword User", "Single:pw", "A B:"} {
		if _, err := (&serveOptions{users: []string{bad}}).usersList(); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestServeShutdownLogs(t *testing.T) {
	_, logs := startServe(t, serveOptions{login: "127.0.0.1:0", users: []string{"Test User:secret"}, userPattern: "x{n}:y"})
	if !strings.Contains(logs.String(), "[LLOGIN SERVICE]: Login service listening on http://127.0.0.1:") {
		t.Fatalf("no start-up line:\n%s", logs)
	}
}

// TestNodeMetaverseInterop runs the independent node-metaverse client (login.js) against
// `gridlab serve`: circuit mode, full mode (seed capability, event queue, inventory, wearables,
// region info, map block) and a wrong password. It needs NODE_METAVERSE_DIR: a copy of
// shared/peers/node-metaverse with node_modules installed (.ci/run prepares one).
func TestNodeMetaverseInterop(t *testing.T) {
	dir, node := nodepeer.Require(t)
	uri, logs := startServe(t, serveOptions{login: "127.0.0.1:0", users: []string{"Test User:secret"}, userPattern: "x{n}:y"})

	run := func(t *testing.T, mode, password string) (int, []map[string]any) {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, node, "login.js")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "LOGIN_URI="+uri, "FIRST=Test", "LAST=User", "PASSWORD="+password,
			"MODE="+mode, "STAY_MS=1500", "TIMEOUT_MS=60000", "REQUIRE_EQ=1")
		out, err := cmd.Output()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		var lines []map[string]any
		sc := bufio.NewScanner(bytes.NewReader(out))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				lines = append(lines, m)
			}
		}
		t.Logf("login.js MODE=%s exit %d\n%s", mode, code, out)
		return code, lines
	}
	stages := func(lines []map[string]any) string {
		var s []string
		for _, l := range lines {
			s = append(s, l["stage"].(string))
		}
		return strings.Join(s, " ")
	}
	for _, mode := range []string{"circuit", "full"} {
		t.Run(mode, func(t *testing.T) {
			code, lines := run(t, mode, "secret")
			if code != 0 {
				t.Fatalf("exit %d; server log:\n%s", code, logs)
			}
			st := stages(lines)
			for _, want := range []string{"login_ok", "connected", "logout_ok", "done"} {
				if !strings.Contains(st, want) {
					t.Errorf("no %s stage in %s", want, st)
				}
			}
		})
	}
	t.Run("wrong-password", func(t *testing.T) {
		code, lines := run(t, "full", "not-it")
		if code != 2 {
			t.Fatalf("exit %d, want 2", code)
		}
		last := lines[len(lines)-1]
		if msg, _ := last["error"].(string); !strings.Contains(msg, "Could not authenticate your avatar") {
			t.Fatalf("error %q", msg)
		}
	})
	if strings.Contains(logs.String(), "secret") {
		t.Error("the password reached the log")
	}
}
