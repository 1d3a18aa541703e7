package login

import (
	"bytes"
	"compress/gzip"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/uuid"
)

var (
	simAgent  = uuid.MustParse("11111111-2222-4333-8444-555555555555")
	simRegion = uuid.MustParse("6f3c2a1e-0d4b-4c5e-9a7f-1b2c3d4e5f60")
)

func simCircuit() AgentCircuit {
	return AgentCircuit{AgentID: simAgent, SessionID: uuid.MustParse("aaaaaaaa-2222-4333-8444-555555555555"),
		SecureSessionID: uuid.MustParse("bbbbbbbb-2222-4333-8444-555555555555"), CircuitCode: 123456789,
		First: "Test", Last: "User", StartPos: [3]float32{128, 128.5, 21}, LookAt: [3]float32{0, 1, 0},
		CapsPath: "cccccccc-2222-4333-8444-555555555555", ClientIP: netip.MustParseAddr("203.0.113.5"), ViaLogin: true}
}

// The agent POST written by the login service reads back as the same circuit at the region.
func TestAgentPostRoundTrip(t *testing.T) {
	want := AgentPost{Circuit: simCircuit(), DestX: 256000, DestY: 256000, DestName: "Welcome", DestID: simRegion,
		TeleportFlags: TeleportViaLogin | TeleportViaRegionID}
	b := EncodeAgentPost(want)
	for _, key := range []string{`"circuit_code":"123456789"`, `"start_pos":"\u003c128, 128.5, 21\u003e"`, `"destination_uuid":"6f3c2a1e-0d4b-4c5e-9a7f-1b2c3d4e5f60"`, `"teleport_flags":"4224"`} {
		if !bytes.Contains(b, []byte(key)) {
			t.Errorf("the body lacks %s as OpenSim writes it: %s", key, b)
		}
	}
	got, err := DecodeAgentPost(b, simAgent)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
	}
}

func TestDecodeAgentPostRefusesBadBodies(t *testing.T) {
	good := string(EncodeAgentPost(AgentPost{Circuit: simCircuit(), DestID: simRegion}))
	tests := []struct {
		name, body, want string
	}{
		{"not JSON", "<llsd/>", "not a JSON object"},
		{"a JSON array", "[1,2]", "not a JSON object"},
		{"null", "null", "not a JSON object (null)"},
		{"no agent id", strings.Replace(good, `"agent_id"`, `"agent_idx"`, 1), "agent_id is missing"},
		{"another agent than the URL's", strings.Replace(good, simAgent.String(), "99999999-2222-4333-8444-555555555555", 1), "does not match the URL's"},
		{"circuit code too big", strings.Replace(good, `"123456789"`, `"99999999999"`, 1), "circuit_code \"99999999999\" is not an unsigned 32-bit number"},
		{"circuit code negative", strings.Replace(good, `"123456789"`, `-5`, 1), "is not an unsigned 32-bit number"},
		{"bad start position", strings.Replace(good, `\u003c128, 128.5, 21\u003e`, `<1,2>`, 1), "start_pos"},
		{"NaN start position", strings.Replace(good, `\u003c128, 128.5, 21\u003e`, `<NaN, 1, 2>`, 1), "component 1 is not a number"},
		{"caps path not a UUID", strings.Replace(good, `cccccccc-2222-4333-8444-555555555555`, `../../etc`, 1), "caps_path"},
		{"oversize", `{"x":"` + strings.Repeat("a", MaxAgentBody) + `"}`, "longer than"},
	}
	for _, tt := range tests {
		_, err := DecodeAgentPost([]byte(tt.body), simAgent)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}

func TestQueryAccessNegotiation(t *testing.T) {
	q, err := DecodeQueryAccess(EncodeQueryAccess([3]float32{128, 128, 0}))
	if err != nil || !q.ViaTeleport || q.Position != [3]float32{128, 128, 0} || q.MyVersion != "SIMULATION/0.3" {
		t.Fatalf("%+v %v", q, err)
	}
	tests := []struct {
		name string
		q    QueryAccess
		want float64
		err  string
	}{
		{"our own range: the highest both speak", q, SimVersionMax, ""},
		{"a newer sender", QueryAccess{Min: 0.3, Max: 2.0}, SimVersionMax, ""},
		{"an older sender naming one version", QueryAccess{MyVersion: "SIMULATION/0.5"}, 0.5, ""},
		{"a sender too new for us", QueryAccess{Min: 1.0, Max: 2.0}, 0, "no common simulation version"},
		{"a version string we cannot read", QueryAccess{MyVersion: "HTTP/1.1"}, 0, "unknown simulation version"},
	}
	for _, tt := range tests {
		v, err := tt.q.Negotiate()
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: got %v, %v; want an error containing %q", tt.name, v, err, tt.err)
			}
			continue
		}
		if err != nil || v != tt.want {
			t.Errorf("%s: got %v, %v; want %v", tt.name, v, err, tt.want)
		}
	}
	r, err := DecodeAccessReply(EncodeAccessReply(true, "", 0.8))
	if err != nil || !r.Success || r.Inbound != 0.8 || r.Outbound != 0.8 || r.Version != "SIMULATION/0.8" {
		t.Fatalf("access reply %+v %v", r, err)
	}
	// An older region answers only "version": the connector takes the number from it.
	r, _ = DecodeAccessReply([]byte(`{"success":true,"reason":"","version":"SIMULATION/0.3"}`))
	if r.Inbound != 0.3 || r.Outbound != 0.3 {
		t.Fatalf("legacy version %+v", r)
	}
}

func TestGunzipBounded(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(bytes.Repeat([]byte{'a'}, MaxAgentBody+10))
	zw.Close()
	if _, err := Gunzip(buf.Bytes()); err == nil || !strings.Contains(err.Error(), "expands beyond") {
		t.Fatalf("a gzip bomb was expanded: %v", err)
	}
	if _, err := Gunzip([]byte("not gzip")); err == nil {
		t.Fatal("not gzip accepted")
	}
}

// FuzzSimulationBodies feeds outside input to every parser of the simulation service's agent
// messages: none may panic, and an accepted agent POST must re-encode to an equal one.
func FuzzSimulationBodies(f *testing.F) {
	f.Add(EncodeAgentPost(AgentPost{Circuit: simCircuit(), DestID: simRegion}))
	f.Add(EncodeQueryAccess([3]float32{1, 2, 3}))
	f.Add(EncodeAccessReply(false, "Destination not found", 0.3))
	f.Add(EncodeAgentReply(true, "", "203.0.113.5"))
	f.Add([]byte(`{"circuit_code":1e30,"agent_id":"11111111-2222-4333-8444-555555555555","session_id":"11111111-2222-4333-8444-555555555555"}`))
	f.Add([]byte(`{"start_pos":"<1e39, -0, 2>","position":"<,,>"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = DecodeQueryAccess(b)
		if q, err := DecodeQueryAccess(b); err == nil {
			_, _ = q.Negotiate()
		}
		_, _ = DecodeAccessReply(b)
		_, _ = DecodeAgentReply(b)
		_, _ = Gunzip(b)
		p, err := DecodeAgentPost(b, simAgent)
		if err != nil {
			return
		}
		again, err := DecodeAgentPost(EncodeAgentPost(p), simAgent)
		if err != nil {
			t.Fatalf("an accepted post does not re-encode: %v", err)
		}
		if again.Circuit.CircuitCode != p.Circuit.CircuitCode || again.Circuit.AgentID != p.Circuit.AgentID || again.DestID != p.DestID {
			t.Fatalf("re-encoded post differs: %+v vs %+v", again, p)
		}
	})
}
