package login

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"gridlab/lab/llsd"
)

func TestLLSDLogin(t *testing.T) {
	f := newFixture(t, 1)
	body := `<?xml version="1.0"?><llsd><map><key>first</key><string>Test</string><key>last</key><string>User</string>` +
		`<key>passwd</key><string>` + HashPassword("secret") + `</string><key>start</key><string>last</string>` +
		`<key>channel</key><string>LibreMetaverse</string><key>agree_to_tos</key><boolean>true</boolean>` +
		`<key>options</key><array><string>inventory-root</string></array></map></llsd>`
	resp, out := do(t, f.svc, "POST", "/", "application/llsd+xml", []byte(body), 0)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/llsd+xml" {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	v, err := llsd.Decode(out)
	if err != nil {
		t.Fatal(err)
	}
	get := func(k string) llsd.Value { x, _ := v.Get(k); return x }
	if get("login").AsString() != "true" || get("agent_id").AsUUID() != f.acc.ID {
		t.Fatalf("reply %s", out)
	}
	if cc := get("circuit_code"); cc.Kind != llsd.Integer || cc.AsInt() <= 0 {
		t.Fatalf("circuit_code %v", cc)
	}
	if sk := get("inventory-skeleton"); sk.Kind != llsd.Array || len(sk.Items) == 0 {
		t.Fatal("inventory-skeleton")
	}
	// A wrong password gets the same failure as over XML-RPC.
	bad := strings.Replace(body, HashPassword("secret"), HashPassword("nope"), 1)
	_, out = do(t, f.svc, "POST", "/", "application/llsd+xml", []byte(bad), 0)
	v, _ = llsd.Decode(out)
	if m, _ := v.Get("message"); !strings.Contains(m.AsString(), "Could not authenticate your avatar") {
		t.Fatalf("reply %s", out)
	}
}

func TestPresenceAlreadyLoggedIn(t *testing.T) {
	f := newFixture(t, 1)
	f.svc.cfg.CheckPresence = true
	var kicked []uuid.UUID
	f.svc.cfg.Kick = func(a uuid.UUID) { kicked = append(kicked, a) }
	r1, _ := f.login(t, testRequest("secret"), 0)
	if !r1.OK() || !f.svc.Online(f.acc.ID) {
		t.Fatal("first login")
	}
	r2, _ := f.login(t, testRequest("secret"), 0)
	if r2.OK() || r2.Reason != "presence" || r2.Message != MsgAlreadyLoggedIn {
		t.Fatalf("second login: %+v", r2)
	}
	if len(kicked) != 1 || kicked[0] != f.acc.ID || f.svc.Online(f.acc.ID) {
		t.Fatal("the old session is kicked and presence cleared")
	}
	r3, _ := f.login(t, testRequest("secret"), 0)
	if !r3.OK() {
		t.Fatal("third login")
	}
	if f.svc.LogoutAgent(f.acc.ID, r1.SessionID) {
		t.Fatal("a stale session's logout must not clear presence")
	}
	if !f.svc.LogoutAgent(f.acc.ID, r3.SessionID) || f.svc.Online(f.acc.ID) {
		t.Fatal("logout")
	}
	f.log.has(t, "[GRID USER SERVICE]: User "+f.acc.ID.String()+" is offline")
}

func FuzzLLSDLogin(f *testing.F) {
	f.Add([]byte(`<llsd><map><key>first</key><string>Test</string><key>last</key><string>User</string><key>passwd</key><string>x</string></map></llsd>`))
	f.Add([]byte(`<llsd><map><key>options</key><array><map/></array></map></llsd>`))
	fx := newFixture(f, 1)
	f.Fuzz(func(t *testing.T, b []byte) {
		resp, _ := do(t, fx.svc, "POST", "/", "application/llsd+xml", b, 0)
		if resp.StatusCode != 200 && resp.StatusCode != 400 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
}
