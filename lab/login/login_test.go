package login

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/kolo/xmlrpc"

	"gridlab/lab/grid"
	"gridlab/lab/vhttp"
	"gridlab/lab/vhttp/vhttptest"
)

var (
	viewerAddr = netip.MustParseAddrPort("192.0.2.10:50123")
	loginAddr  = netip.MustParseAddrPort("198.51.100.1:9000")
)

type testLog struct{ lines []string }

func (l *testLog) Logf(level, format string, args ...any) {
	l.lines = append(l.lines, level+" "+fmt.Sprintf(format, args...))
}

func (l *testLog) has(t *testing.T, want string) {
	t.Helper()
	for _, line := range l.lines {
		if strings.Contains(line, want) {
			return
		}
	}
	t.Errorf("log has no line containing %q:\n%s", want, strings.Join(l.lines, "\n"))
}

type fakeDest struct {
	got []AgentCircuit
	err error
}

func (d *fakeDest) LaunchAgent(c AgentCircuit, done func(error)) {
	if d.err != nil {
		done(d.err)
		return
	}
	d.got = append(d.got, c)
	done(nil)
}

type fixture struct {
	svc   *Service
	acc   *grid.Account
	log   *testLog
	dests []*fakeDest
}

func newFixture(t testing.TB, seed uint64, regions ...Region) *fixture {
	t.Helper()
	accounts := grid.NewAccounts()
	acc, err := accounts.Add("Test", "User", "secret", rand.New(rand.NewPCG(seed, 1)))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{acc: acc, log: &testLog{}}
	if regions == nil {
		regions = []Region{
			{Name: "Default Region", X: 1000, Y: 1000, SimPort: 9000},
			{Name: "Second Region", X: 1001, Y: 1000, SimPort: 9001},
		}
	}
	for i := range regions {
		r := &regions[i]
		if r.ID == uuid.Nil {
			r.ID = uuid.NewSHA1(uuid.Nil, []byte(r.Name))
		}
		if !r.SimIP.IsValid() {
			r.SimIP = loginAddr.Addr()
		}
		if r.ServerURI == "" {
			r.ServerURI = "http://198.51.100.1:9000"
		}
		if r.Dest == nil {
			d := &fakeDest{}
			f.dests = append(f.dests, d)
			r.Dest = d
		}
	}
	f.svc, err = New(Config{
		Accounts: accounts, Regions: regions, IDs: rand.New(rand.NewPCG(seed, 2)), Log: f.log,
		GridName: "gridlab test", GridNick: "lab", LoginURI: "http://198.51.100.1:9000/",
		Welcome: "Hello <USERNAME>!",
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// do sends one HTTP request through a ServerConn and a ClientConn over an in-memory pair.
func do(t testing.TB, h vhttp.Handler, method, path, ctype string, body []byte, chunk int) (*http.Response, []byte) {
	t.Helper()
	var n vhttptest.Net
	n.Chunk = chunk
	c, s := n.Pair(viewerAddr, loginAddr)
	s.Attach(vhttp.NewServerConn(s, h, MaxRequestBody))
	req, err := http.NewRequest(method, "http://198.51.100.1:9000"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	var resp *http.Response
	var rbody []byte
	calls := 0
	c.Attach(vhttp.NewClientConn(c, req, body, func(r *http.Response, b []byte, err error) {
		calls++
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		resp, rbody = r, b
	}))
	n.Connect(c, s)
	n.Run()
	if calls != 1 {
		t.Fatalf("done called %d times", calls)
	}
	return resp, rbody
}

func (f *fixture) login(t testing.TB, r Request, chunk int) (*Reply, []byte) {
	t.Helper()
	body, err := EncodeRequest(r)
	if err != nil {
		t.Fatal(err)
	}
	resp, rb := do(t, f.svc, "POST", "/", "text/xml", body, chunk)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/xml" {
		t.Fatalf("HTTP %d %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), rb)
	}
	reply, err := DecodeReply(rb)
	if err != nil {
		t.Fatalf("DecodeReply: %v\n%s", err, rb)
	}
	return reply, rb
}

func testRequest(pw string) Request {
	return Request{First: "Test", Last: "User", Passwd: pw, Start: "last", Channel: "gridlab", Version: "0.1.0",
		Platform: "Lnx", Mac: "00:11:22:33:44:55", ID0: "abcdef"}
}

func TestLoginRoundTrip(t *testing.T) {
	for _, chunk := range []int{0, 1} {
		f := newFixture(t, 7)
		reply, raw := f.login(t, testRequest(HashPassword("secret")), chunk)
		if !reply.OK() || reply.Reason != "" {
			t.Fatalf("not OK: %+v", reply)
		}
		d := f.dests[0]
		if len(d.got) != 1 || len(f.dests[1].got) != 0 {
			t.Fatalf("ExpectAgent calls: %d, %d", len(d.got), len(f.dests[1].got))
		}
		ac := d.got[0]
		want := Reply{
			Login: "true", Message: "Hello Test User!", FirstName: "Test", LastName: "User",
			AgentID: f.acc.ID, SessionID: ac.SessionID, SecureSessionID: ac.SecureSessionID,
			CircuitCode: ac.CircuitCode, SimIP: loginAddr.Addr(), SimPort: 9000,
			RegionX: 256000, RegionY: 256000,
			SeedCapability: "http://198.51.100.1:9000/CAPS/" + ac.CapsPath + "0000/",
			LookAt:         "[r0,r1,r0]", StartLocation: "safe",
			InventoryRoot: reply.InventoryRoot,
		}
		if *reply != want {
			t.Errorf("reply\n got %+v\nwant %+v", *reply, want)
		}
		if reply.InventoryRoot == uuid.Nil || ac.CircuitCode == 0 || ac.CircuitCode >= 1<<31 || ac.SessionID == ac.SecureSessionID {
			t.Errorf("ids: %+v", ac)
		}
		if ac.First != "Test" || ac.Last != "User" || ac.AgentID != f.acc.ID || !ac.ViaLogin ||
			ac.StartPos != [3]float32{128, 128, 0} || ac.LookAt != [3]float32{0, 1, 0} || ac.ClientIP != viewerAddr.Addr() {
			t.Errorf("agent circuit %+v", ac)
		}
		for _, s := range []string{"Current Outfit", "<name>type_default</name><value><i4>46</i4>", "<name>circuit_code</name><value><i4>",
			"<name>sim_port</name><value><i4>9000</i4>", "<name>inventory-skeleton</name>", "<name>buddy-list</name><value><array><data></data></array>",
			"<name>agent_access</name><value><string>M</string>", "<name>agent_access_max</name><value><string>A</string>",
			"{'region_handle':[r256000,r256000], 'position':[r0,r0,r0], 'look_at':[r0,r0,r0]}"} {
			if !bytes.Contains(raw, []byte(s)) {
				t.Errorf("reply lacks %q", s)
			}
		}
		f.log.has(t, "INFO [LLOGIN SERVICE]: Login request for Test User at last using viewer 0.1.0, channel gridlab, IP 192.0.2.10, Mac 00:11:22:33:44:55, Id0 abcdef ")
		f.log.has(t, "[LLOGIN SERVICE]: Found destination Default Region, endpoint 198.51.100.1:9000 for Test User")
		f.log.has(t, "[LLOGIN SERVICE]: All clear. Sending login response to Test User")
		all := strings.Join(f.log.lines, "\n")
		for _, secret := range []string{"secret", grid.MD5Hex("secret"), ac.SecureSessionID.String()} {
			if strings.Contains(all, secret) {
				t.Errorf("log contains a secret %q", secret)
			}
		}
		if st := f.svc.Stats(); st.Requests != 1 || st.Succeeded != 1 {
			t.Errorf("stats %+v", st)
		}
	}
}

func TestLoginDeterministic(t *testing.T) {
	_, a := newFixture(t, 3).login(t, testRequest(HashPassword("secret")), 0)
	_, b := newFixture(t, 3).login(t, testRequest(HashPassword("secret")), 0)
	_, c := newFixture(t, 4).login(t, testRequest(HashPassword("secret")), 0)
	if !bytes.Equal(a, b) {
		t.Fatal("same seed, different reply bytes")
	}
	if bytes.Equal(a, c) {
		t.Fatal("different seeds, same reply bytes")
	}
}

func TestLoginFailures(t *testing.T) {
	f := newFixture(t, 1)
	for _, tc := range []struct {
		name string
		req  Request
		log  string
	}{
		{"wrong password", testRequest(HashPassword("wrong")), "INFO [LLOGIN SERVICE]: Login failed for user Test User, reason: authentication failed"},
		{"wrong plaintext", testRequest("wrong"), "reason: authentication failed"},
		{"unknown user", Request{First: "No", Last: "Body", Passwd: HashPassword("secret")}, "INFO [LLOGIN SERVICE]: Login failed for user No Body, reason: user not found"},
	} {
		r, _ := f.login(t, tc.req, 0)
		if r.OK() || r.Login != "false" || r.Reason != "key" || r.Message != MsgUserProblem {
			t.Errorf("%s: %+v", tc.name, r)
		}
		f.log.has(t, tc.log)
	}
	if n := len(f.dests[0].got); n != 0 {
		t.Errorf("region told to expect %d agents after failed logins", n)
	}
}

func TestLoginPlaintextAndCase(t *testing.T) {
	f := newFixture(t, 1)
	req := testRequest("secret")
	req.First, req.Last = "test", "USER"
	r, _ := f.login(t, req, 0)
	if !r.OK() || r.FirstName != "Test" || r.LastName != "User" {
		t.Fatalf("%+v", r)
	}
}

func TestLoginIncomplete(t *testing.T) {
	f := newFixture(t, 1)
	for _, body := range []string{
		`<?xml version="1.0"?><methodCall><methodName>login_to_simulator</methodName><params><param><value><struct>` +
			`<member><name>first</name><value>Test</value></member><member><name>last</name><value>User</value></member>` +
			`</struct></value></param></params></methodCall>`,
		`<methodCall><methodName>login_to_simulator</methodName><params></params></methodCall>`,
		`<methodCall><methodName>login_to_simulator</methodName><params><param><value><string>x</string></value></param></params></methodCall>`,
	} {
		resp, rb := do(t, f.svc, "POST", "/", "text/xml", []byte(body), 0)
		r, err := DecodeReply(rb)
		if err != nil || resp.StatusCode != 200 || r.Reason != "key" || r.Message != MsgIncomplete {
			t.Errorf("%d %v %+v", resp.StatusCode, err, r)
		}
	}
	if f.svc.Stats().Incomplete != 3 {
		t.Errorf("stats %+v", f.svc.Stats())
	}
}

func TestLoginNoDestination(t *testing.T) {
	f := newFixture(t, 1, []Region{}...)
	r, _ := f.login(t, testRequest(HashPassword("secret")), 0)
	if r.OK() || r.Reason != "key" || r.Message != MsgGridProblem {
		t.Fatalf("%+v", r)
	}
	f.log.has(t, "Login failed for user Test User, reason: destination not found")
}

func TestLoginRefusedAndFallback(t *testing.T) {
	down := &fakeDest{err: errors.New("Logins to this region are disabled")}
	f := newFixture(t, 1, Region{Name: "Down", X: 1000, Y: 1000, SimPort: 9000, Dest: down, Default: true})
	r, _ := f.login(t, testRequest(HashPassword("secret")), 0)
	if r.OK() || r.Reason != "key" || r.Message != "Logins to this region are disabled" {
		t.Fatalf("%+v", r)
	}
	f.log.has(t, "Login failed for user Test User, reason: Logins to this region are disabled")

	// With fallback regions, the nearest one that accepts wins.
	far, near := &fakeDest{}, &fakeDest{}
	f = newFixture(t, 1,
		Region{Name: "Far", X: 1010, Y: 1000, SimPort: 9002, Dest: far, Fallback: true},
		Region{Name: "Down", X: 1000, Y: 1000, SimPort: 9000, Dest: down, Default: true},
		Region{Name: "Near", X: 1001, Y: 1000, SimPort: 9001, Dest: near, Fallback: true},
	)
	r, _ = f.login(t, testRequest(HashPassword("secret")), 0)
	if !r.OK() || r.SimPort != 9001 || r.RegionX != 1001*256 || r.StartLocation != "safe" || len(near.got) != 1 || len(far.got) != 0 {
		t.Fatalf("%+v near=%d far=%d", r, len(near.got), len(far.got))
	}
}

func TestLoginStartURI(t *testing.T) {
	f := newFixture(t, 1)
	req := testRequest(HashPassword("secret"))
	req.Start = "uri:second region&10&20.5&30"
	r, _ := f.login(t, req, 0)
	if !r.OK() || r.SimPort != 9001 || r.StartLocation != "url" {
		t.Fatalf("%+v", r)
	}
	if got := f.dests[1].got[0].StartPos; got != [3]float32{10, 20.5, 30} {
		t.Errorf("start pos %v", got)
	}
	req.Start = "uri:Nowhere&1&2&3"
	r, _ = f.login(t, req, 0)
	if !r.OK() || r.SimPort != 9000 || r.StartLocation != "safe" {
		t.Fatalf("%+v", r)
	}
	f.log.has(t, "[LLOGIN SERVICE]: Got Custom Login URI uri:Nowhere&1&2&3, can't locate region Nowhere. Trying defaults.")
	req.Start = "home"
	if r, _ = f.login(t, req, 0); !r.OK() || r.SimPort != 9000 {
		t.Fatalf("%+v", r)
	}
}

func readCapture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../../shared/protocol/captures/" + name)
	if err != nil {
		t.Skipf("capture not available: %v", err)
	}
	return b
}

func TestCapturedNodeMetaverseRequest(t *testing.T) {
	body := readCapture(t, "node-metaverse_login_request.xml")
	mc, err := decodeMethodCall(body)
	if err != nil {
		t.Fatal(err)
	}
	p := &mc.params[0]
	if v, _ := param(p, "agree_to_tos"); v != "" {
		t.Errorf("agree_to_tos %q", v)
	}
	if v, _ := param(p, "id0"); v != "a81bb4b88e1e3009558aa5b7a634806a" {
		t.Errorf("id0 after <value/> members: %q", v)
	}
	// The capture's passwd is "$1$" + md5("secret").
	f := newFixture(t, 1)
	resp, rb := do(t, f.svc, "POST", "/", "text/xml", body, 0)
	r, err := DecodeReply(rb)
	if err != nil || resp.StatusCode != 200 || !r.OK() {
		t.Fatalf("%d %v %+v", resp.StatusCode, err, r)
	}
	f.log.has(t, "[LLOGIN SERVICE]: Login request for Test User at last using viewer 0.8.16.816, channel libnmv, IP 192.0.2.10, Mac 61:fa:a8:9b:c5:de, Id0 a81bb4b88e1e3009558aa5b7a634806a ")
}

func TestCapturedOpenSimReply(t *testing.T) {
	body := readCapture(t, "opensim-0.9.2.2_login_response.xml")
	r, err := DecodeReply(body)
	if err != nil {
		t.Fatal(err)
	}
	want := Reply{
		Login: "true", Message: "Welcome, Avatar!", FirstName: "Test", LastName: "User",
		AgentID:         uuid.MustParse("1e4647ab-0763-493f-83bc-16ccc06adf5a"),
		SessionID:       uuid.MustParse("633bd09d-252f-40b9-a520-95ee1c2874b0"),
		SecureSessionID: uuid.MustParse("2287dc72-55b9-4cb1-9267-1ad526cb9362"),
		CircuitCode:     2050230432, SimIP: netip.MustParseAddr("127.0.0.1"), SimPort: 9000,
		RegionX: 256000, RegionY: 256000,
		SeedCapability: "http://127.0.0.1:9000/CAPS/2d136ae3-5ddc-44cb-9c4e-7b1ee3666a490000/",
		LookAt:         "[r0,r1,r0]", StartLocation: "safe",
		InventoryRoot: uuid.MustParse("b62d16ae-98e0-4f52-9a84-6acfb87182c6"),
	}
	if *r != want {
		t.Fatalf("got  %+v\nwant %+v", *r, want)
	}
	// Our decoder reads OpenSim's reply too (as a methodResponse it is not a methodCall, so
	// only check that the value grammar agrees by wrapping it).
	inner := bytes.TrimSuffix(bytes.TrimPrefix(body, []byte(`<?xml version="1.0" encoding="utf-8"?><methodResponse><params>`)), []byte(`</params></methodResponse>`))
	mc, err := decodeMethodCall(append(append([]byte(`<methodCall><methodName>x</methodName><params>`), inner...), `</params></methodCall>`...))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := param(&mc.params[0], "circuit_code"); v != "2050230432" {
		t.Errorf("circuit_code %q", v)
	}
}

func TestDecodeReplyValidation(t *testing.T) {
	wrap := func(members string) []byte {
		return []byte(`<?xml version="1.0"?><methodResponse><params><param><value><struct>` + members + `</struct></value></param></params></methodResponse>`)
	}
	m := func(n, v string) string { return "<member><name>" + n + "</name><value>" + v + "</value></member>" }
	good := m("login", "<string>true</string>") + m("agent_id", "<string>1e4647ab-0763-493f-83bc-16ccc06adf5a</string>") +
		m("session_id", "<string>633bd09d-252f-40b9-a520-95ee1c2874b0</string>") + m("circuit_code", "<i4>-5</i4>") +
		m("sim_ip", "<string>10.0.0.1</string>") + m("sim_port", "<i4>9000</i4>") +
		m("inventory-root", "<array><data><value><struct>"+m("folder_id", "<string>b62d16ae-98e0-4f52-9a84-6acfb87182c6</string>")+"</struct></value></data></array>")
	r, err := DecodeReply(wrap(good))
	if err != nil || r.CircuitCode != 1<<32-5 {
		t.Fatalf("%v %+v", err, r)
	}
	// kolo/xmlrpc dropped every member after an empty <value/> of a known field; we read it as
	// the empty value it is and go on.
	r, err = DecodeReply(wrap(m("login", "<string>true</string>") + "<member><name>message</name><value/></member>" + good[len(m("login", "<string>true</string>")):]))
	if err != nil || r.Message != "" || r.AgentID.String() != "1e4647ab-0763-493f-83bc-16ccc06adf5a" {
		t.Errorf("members after an empty <value/>: %v %+v", err, r)
	}
	// A reply without the IDs a viewer needs is rejected rather than accepted with zero IDs.
	_, err = DecodeReply(wrap(m("login", "<string>true</string>") + m("message", "<string>hi</string>")))
	if !errors.Is(err, ErrBadReply) || !strings.Contains(err.Error(), "agent_id") {
		t.Errorf("missing IDs not caught: %v", err)
	}
	for _, tc := range []struct{ body, want string }{
		{string(wrap(m("reason", "<string>key</string>"))), "no login member"},
		{"not xml", "cannot decode"},
		{`<?xml version="1.0"?><methodResponse><fault><value><struct>` + m("faultCode", "<int>4</int>") + m("faultString", "<string>Too many</string>") + `</struct></value></fault></methodResponse>`, "Too many"},
		{string(wrap(strings.Replace(good, "9000", "0", 1))), "sim_port 0"},
		{string(wrap(strings.Replace(good, "10.0.0.1", "example.org", 1))), "sim_ip"},
	} {
		_, err := DecodeReply([]byte(tc.body))
		if !errors.Is(err, ErrBadReply) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.body, err, tc.want)
		}
	}
	_, err = DecodeReply([]byte(`<?xml version="1.0"?><methodResponse><fault><value><struct>` + m("faultCode", "<int>4</int>") + m("faultString", "<string>x</string>") + `</struct></value></fault></methodResponse>`))
	var fe xmlrpc.FaultError
	if !errors.As(err, &fe) || fe.Code != 4 {
		t.Errorf("fault not typed: %v", err)
	}
}

func TestHTTPSurface(t *testing.T) {
	f := newFixture(t, 1)
	resp, b := do(t, f.svc, "GET", "/get_grid_info", "", nil, 0)
	if resp.StatusCode != 200 || string(b) != "<gridinfo><platform>OpenSim</platform><login>http://198.51.100.1:9000/</login><gridname>gridlab test</gridname><gridnick>lab</gridnick></gridinfo>" {
		t.Errorf("get_grid_info %d %s", resp.StatusCode, b)
	}
	resp, b = do(t, f.svc, "GET", "/json_grid_info", "", nil, 0)
	if resp.StatusCode != 200 || string(b) != `{"platform":"OpenSim","login":"http://198.51.100.1:9000/","gridname":"gridlab test","gridnick":"lab"}` {
		t.Errorf("json_grid_info %d %s", resp.StatusCode, b)
	}
	resp, b = do(t, f.svc, "GET", "/simstatus", "", nil, 0)
	if resp.StatusCode != 200 || string(b) != "OK" || !resp.Close {
		t.Errorf("simstatus %d %q close=%v", resp.StatusCode, b, resp.Close)
	}
	for _, p := range []string{"/", "/nope", "/CAPS/x"} {
		if resp, _ := do(t, f.svc, "GET", p, "", nil, 0); resp.StatusCode != 404 {
			t.Errorf("GET %s: %d", p, resp.StatusCode)
		}
	}
	if resp, _ := do(t, f.svc, "POST", "/other", "application/json", []byte("{}"), 0); resp.StatusCode != 404 {
		t.Errorf("POST /other: %d", resp.StatusCode)
	}
	if resp, _ := do(t, f.svc, "POST", "/", "application/llsd+xml", []byte("<llsd/>"), 0); resp.StatusCode != 400 {
		t.Errorf("LLSD login that is not a map: %d", resp.StatusCode)
	}
	// XML-RPC get_grid_info and an unknown method (a fault).
	call, _ := xmlrpc.EncodeMethodCall("get_grid_info")
	_, b = do(t, f.svc, "POST", "/", "text/xml", call, 0)
	var gi struct {
		GridNick string `xmlrpc:"gridnick"`
	}
	if err := xmlrpc.Response(b).Unmarshal(&gi); err != nil || gi.GridNick != "lab" {
		t.Errorf("get_grid_info XML-RPC: %v %q", err, b)
	}
	call, _ = xmlrpc.EncodeMethodCall("set_login_level", "x")
	_, b = do(t, f.svc, "POST", "/", "text/xml", call, 0)
	if _, err := DecodeReply(b); err == nil || !strings.Contains(err.Error(), "Requested method [set_login_level] not found") {
		t.Errorf("unknown method: %v", err)
	}
}

func TestMalformed(t *testing.T) {
	f := newFixture(t, 1)
	for _, body := range []string{"", "<methodCall>", "not xml at all", "<methodCall><methodName>login_to_simulator</methodName><params><param><value><i4>x</i4></value></param></params></methodCall>",
		"<methodCall><methodName>login_to_simulator</methodName></methodCall><extra/>",
		strings.Repeat("<value><array><data>", 100)} {
		resp, b := do(t, f.svc, "POST", "/", "text/xml", []byte(body), 0)
		if resp.StatusCode != 400 {
			t.Errorf("%q: %d %s", body, resp.StatusCode, b)
		}
	}
	// Malformed HTTP and an oversize body, straight into a ServerConn.
	for _, tc := range []struct {
		in     string
		status string
	}{
		{"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n", "400"},
		{"\x00\x01\x02\r\n\r\n", "400"},
		{fmt.Sprintf("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", MaxRequestBody+1), "413"},
	} {
		out, closed := raw(t, f.svc, tc.in, 0)
		if !strings.HasPrefix(out, "HTTP/1.1 "+tc.status) || !closed {
			t.Errorf("%q: closed=%v %q", tc.in, closed, out)
		}
	}
	// A handler given an oversize body directly refuses it too.
	var got int
	f.svc.ServeVHTTP(httpReq(t), make([]byte, MaxRequestBody+1), func(r vhttp.Response) { got = r.Status })
	if got != 413 {
		t.Errorf("direct oversize: %d", got)
	}
}

func httpReq(t *testing.T) *http.Request {
	r, err := http.NewRequest("POST", "http://x/", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "text/xml")
	return r
}

type sink struct {
	out    bytes.Buffer
	closed bool
}

func (s *sink) OnConnect()      {}
func (s *sink) OnData(b []byte) { s.out.Write(b) }
func (s *sink) OnClose(error)   { s.closed = true }

// raw writes bytes into a ServerConn serving h and returns what came back.
func raw(t *testing.T, h vhttp.Handler, in string, chunk int) (string, bool) {
	t.Helper()
	var n vhttptest.Net
	n.Chunk = chunk
	c, s := n.Pair(viewerAddr, loginAddr)
	s.Attach(vhttp.NewServerConn(s, h, MaxRequestBody))
	k := &sink{}
	c.Attach(k)
	n.Connect(c, s)
	n.Run()
	c.Write([]byte(in))
	n.Run()
	return k.out.String(), k.closed
}

func TestPipelinedLoginsByteByByte(t *testing.T) {
	f := newFixture(t, 1)
	var all bytes.Buffer
	for _, pw := range []string{HashPassword("secret"), "wrong", "secret"} {
		body, _ := EncodeRequest(testRequest(pw))
		req, _ := http.NewRequest("POST", "http://198.51.100.1:9000/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "text/xml")
		if err := req.Write(&all); err != nil {
			t.Fatal(err)
		}
	}
	out, closed := raw(t, f.svc, all.String(), 1)
	if closed || strings.Count(out, "HTTP/1.1 200 OK") != 3 {
		t.Fatalf("closed=%v, %d responses", closed, strings.Count(out, "HTTP/1.1 200 OK"))
	}
	if strings.Count(out, "<name>login</name><value><string>true</string>") != 2 || strings.Count(out, MsgUserProblem) != 1 {
		t.Fatalf("unexpected outcomes:\n%s", out)
	}
}

// decodeMethodCallBadBodies are methodCalls decodeMethodCall must reject.
var decodeMethodCallBadBodies = []string{
	`<methodCall><params/></methodCall>`,
	`<methodCall><methodName>x</methodName><params><param><value><foo>1</foo></value></param></params></methodCall>`,
	`<methodCall><methodName>x</methodName><params><param><value><boolean>2</boolean></value></param></params></methodCall>`,
	`<methodCall><methodName>x</methodName><params><param><value>text<string>s</string></value></param></params></methodCall>`,
	`<methodCall><methodName>x</methodName><params><param><value><struct><member><value/></member></struct></value></param></params></methodCall>`,
	`<methodCall><methodName>x</methodName><params><param><value><i4>99999999999</i4></value></param></params></methodCall>`,
	`<methodCall><methodName>x</methodName><params><param><value><string>a<b/></string></value></param></params></methodCall>`,
	`<methodCall><methodName>x</methodName></methodCall>trailing`,
	`<?xml version="1.0" encoding="ebcdic"?><methodCall><methodName>x</methodName></methodCall>`,
}

// decodeMethodCallTestBody exercises every leniency decodeMethodCall has.
var decodeMethodCallTestBody = `<?xml version="1.0" encoding="ISO-8859-1"?>
<!-- a comment -->
<methodCall>
  <methodName> login_to_simulator </methodName>
  <params>
    <param><value><struct>
      <member><name>untyped</name><value>  spaced  </value></member>
      <member><name>empty</name><value/></member>
      <member><name>emptystr</name><value><string/></value></member>
      <member><name>novalue</name></member>
      <member><name>i4</name><value><i4>-42</i4></value></member>
      <member><name>int</name><value><int> 7 </int></value></member>
      <member><name>i8</name><value><i8>5000000000</i8></value></member>
      <member><name>t</name><value><boolean>1</boolean></value></member>
      <member><name>d</name><value><double>1.5</double></value></member>
      <member><name>nil</name><value><nil/></value></member>
      <member><name>caf` + "\xe9" + `</name><value>x &amp; y</value></member>
      <member><name>arr</name><value><array><data><value>a</value><value><i4>1</i4></value><value><array><data/></array></value></data></array></value></member>
    </struct></value></param>
    <param><value><string>second</string></value></param>
  </params>
</methodCall>
`

func TestDecodeMethodCall(t *testing.T) {
	mc, err := decodeMethodCall([]byte(decodeMethodCallTestBody))
	if err != nil {
		t.Fatal(err)
	}
	if mc.method != "login_to_simulator" || len(mc.params) != 2 {
		t.Fatalf("%+v", mc)
	}
	p := &mc.params[0]
	for name, want := range map[string]string{
		"untyped": "  spaced  ", "empty": "", "emptystr": "", "novalue": "", "i4": "-42", "int": "7",
		"i8": "5000000000", "t": "True", "d": "1.5", "nil": "", "café": "x & y",
	} {
		if got, ok := param(p, name); !ok || got != want {
			t.Errorf("%s = %q, %v; want %q", name, got, ok, want)
		}
	}
	arr, _ := p.get("arr")
	if arr.kind != kindArray || len(arr.items) != 3 || arr.items[1].i != 1 || arr.items[2].kind != kindArray {
		t.Errorf("array %+v", arr)
	}
	if _, ok := param(p, "arr"); ok {
		t.Error("an array is not a scalar")
	}
	for _, bad := range decodeMethodCallBadBodies {
		if _, err := decodeMethodCall([]byte(bad)); !errors.Is(err, errSyntax) {
			t.Errorf("%q: err %v", bad, err)
		}
	}
}

func TestEncodeRequest(t *testing.T) {
	r := testRequest(HashPassword("secret"))
	a, err := EncodeRequest(r)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := EncodeRequest(r)
	if !bytes.Equal(a, b) {
		t.Fatal("EncodeRequest is not deterministic")
	}
	mc, err := decodeMethodCall(a)
	if err != nil || mc.method != "login_to_simulator" || len(mc.params) != 1 {
		t.Fatalf("%v %+v", err, mc)
	}
	p := &mc.params[0]
	var names []string
	for _, m := range p.members {
		names = append(names, m.name)
	}
	if got := strings.Join(names[:4], ","); got != "first,last,passwd,start" {
		t.Errorf("member order %s", got)
	}
	if v, _ := param(p, "passwd"); v != "$1$5ebe2294ecd0e0f08eab7690d2a6ee69" {
		t.Errorf("passwd %q", v)
	}
	opts, _ := p.get("options")
	if len(opts.items) != len(DefaultOptions) {
		t.Errorf("options %d", len(opts.items))
	}
	if _, err := EncodeRequest(Request{}); err == nil {
		t.Error("empty request encoded")
	}
}

func FuzzDecodeMethodCall(f *testing.F) {
	f.Add([]byte(`<methodCall><methodName>login_to_simulator</methodName><params><param><value><struct><member><name>first</name><value>Test</value></member><member><name>last</name><value><string>User</string></value></member><member><name>passwd</name><value>secret</value></member><member><name>start</name><value>uri:Default Region&amp;1&amp;2&amp;3</value></member></struct></value></param></params></methodCall>`))
	f.Add([]byte(`<methodCall><methodName>get_grid_info</methodName></methodCall>`))
	f.Add([]byte(`<methodCall><methodName>x</methodName><params><param><value><array><data><value><i4>1</i4></value><value/></data></array></value></param></params></methodCall>`))
	if b, err := os.ReadFile("../../../shared/protocol/captures/node-metaverse_login_request.xml"); err == nil {
		f.Add(b)
	}
	req, _ := EncodeRequest(testRequest("secret"))
	f.Add(req)
	fx := newFixture(f, 1)
	fx.svc.cfg.Log = nopLogger{} // keep memory flat over millions of runs
	f.Fuzz(func(t *testing.T, data []byte) {
		mc, err := decodeMethodCall(data)
		if err == nil && mc.method == "" {
			t.Fatal("decoded a call without a method name")
		}
		if err != nil && !errors.Is(err, errSyntax) {
			t.Fatalf("error does not wrap errSyntax: %v", err)
		}
		// The whole service must answer anything with a well-formed reply or a 400.
		var got *vhttp.Response
		fx.svc.ServeVHTTP(httpReq(t), data, func(r vhttp.Response) { got = &r })
		if got == nil {
			t.Fatal("no reply")
		}
		if got.Status == 200 {
			if _, err := decodeMethodResponseForTest(got.Body); err != nil {
				t.Fatalf("service wrote a malformed reply: %v\n%s", err, got.Body)
			}
		} else if got.Status != 400 {
			t.Fatalf("status %d", got.Status)
		}
	})
}

// decodeMethodResponseForTest checks a reply parses with our decoder (wrapped as a call).
func decodeMethodResponseForTest(b []byte) (*methodCall, error) {
	s := string(b)
	s = strings.TrimPrefix(s, `<?xml version="1.0" encoding="utf-8"?><methodResponse>`)
	s = strings.TrimSuffix(s, `</methodResponse>`)
	if strings.HasPrefix(s, "<fault>") {
		s = "<params><param>" + strings.TrimSuffix(strings.TrimPrefix(s, "<fault>"), "</fault>") + "</param></params>"
	}
	return decodeMethodCall([]byte("<methodCall><methodName>r</methodName>" + s + "</methodCall>"))
}

func BenchmarkLoginRoundTrip(b *testing.B) {
	f := newFixture(b, 1)
	body, err := EncodeRequest(testRequest(HashPassword("secret")))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		resp, rb := do(b, f.svc, "POST", "/", "text/xml", body, 0)
		if resp.StatusCode != 200 {
			b.Fatal(resp.StatusCode)
		}
		r, err := DecodeReply(rb)
		if err != nil || !r.OK() {
			b.Fatal(err)
		}
	}
}
