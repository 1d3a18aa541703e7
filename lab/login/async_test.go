package login

import (
	"bytes"
	"errors"
	"net/http"
	"testing"

	"gridlab/lab/vhttp"
)

// laterDest answers LaunchAgent only when the test says so, as a region over HTTP does.
type laterDest struct {
	pending []func()
	err     error
	got     int
}

func (d *laterDest) LaunchAgent(c AgentCircuit, done func(error)) {
	d.got++
	d.pending = append(d.pending, func() { done(d.err) })
}

func (d *laterDest) answer() {
	p := d.pending
	d.pending = nil
	for _, f := range p {
		f()
	}
}

// The login reply waits for the region: nothing is written until the destination answers, and
// a failing destination's fallback is asked only after it has failed.
func TestLoginWaitsForAnAsynchronousDestination(t *testing.T) {
	down := &laterDest{err: errors.New("Service request failed: [499] Connection refused (10.0.1.20:9000)")}
	fb := &laterDest{}
	f := newFixture(t, 1,
		Region{Name: "Welcome", X: 1000, Y: 1000, SimPort: 9000, Dest: down, Default: true},
		Region{Name: "Sandbox", X: 1001, Y: 1000, SimPort: 9001, Dest: fb, Fallback: true},
	)
	body, err := EncodeRequest(testRequest(HashPassword("secret")))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", "http://198.51.100.1:9000/", nil)
	req.Header.Set("Content-Type", "text/xml")
	var replies [][]byte
	serve := func() {
		f.svc.ServeVHTTP(req, body, func(r vhttp.Response) { replies = append(replies, r.Body) })
	}
	serve()
	if len(replies) != 0 || down.got != 1 || fb.got != 0 {
		t.Fatalf("before the region answered: %d replies, Welcome asked %d times, Sandbox %d; want 0, 1, 0", len(replies), down.got, fb.got)
	}
	down.answer()
	if len(replies) != 0 || fb.got != 1 {
		t.Fatalf("after Welcome failed: %d replies, Sandbox asked %d times; want 0 and 1", len(replies), fb.got)
	}
	fb.answer()
	if len(replies) != 1 {
		t.Fatalf("after Sandbox accepted: %d replies, want 1", len(replies))
	}
	r, err := DecodeReply(replies[0])
	if err != nil || !r.OK() || r.SimPort != 9001 || r.StartLocation != "safe" {
		t.Fatalf("reply %+v, %v; want a login into Sandbox (port 9001, start_location safe)", r, err)
	}
	f.log.has(t, "[LLOGIN SERVICE]: Region Welcome refused agent Test User: Service request failed: [499] Connection refused (10.0.1.20:9000)")
	f.log.has(t, "[LLOGIN SERVICE]: Using fallback region Sandbox for Test User")

	// Every region failing: the last reason is the login message.
	fb.err = errors.New("The region is full")
	serve()
	down.answer()
	fb.answer()
	if len(replies) != 2 {
		t.Fatalf("%d replies, want 2", len(replies))
	}
	if r, _ := DecodeReply(replies[1]); r == nil || r.OK() || r.Reason != "key" || r.Message != "The region is full" {
		t.Fatalf("reply %+v; want login=false, reason key, the fallback's reason", r)
	}
}

// A destination that calls done twice is answered once.
func TestLoginIgnoresASecondAnswer(t *testing.T) {
	twice := destFunc(func(c AgentCircuit, done func(error)) { done(nil); done(errors.New("late")) })
	f := newFixture(t, 1, Region{Name: "Welcome", X: 1000, Y: 1000, SimPort: 9000, Dest: twice, Default: true})
	if r, _ := f.login(t, testRequest(HashPassword("secret")), 0); !r.OK() {
		t.Fatalf("%+v", r)
	}
}

type destFunc func(c AgentCircuit, done func(error))

func (f destFunc) LaunchAgent(c AgentCircuit, done func(error)) { f(c, done) }

// A login's reply buffer serves the next login once its reply has been written out (a vhttp
// reply has sent the body when it returns): both replies, copied when given, are whole and
// different (their sessions), and the second was written into the first one's bytes.
func TestLoginReusesAReplyBufferOnceItIsWrittenOut(t *testing.T) {
	f := newFixture(t, 1)
	body, err := EncodeRequest(testRequest(HashPassword("secret")))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", "http://198.51.100.1:9000/", nil)
	req.Header.Set("Content-Type", "text/xml")
	var given, copies [][]byte
	for range 2 {
		f.svc.ServeVHTTP(req, body, func(r vhttp.Response) {
			given, copies = append(given, r.Body), append(copies, bytes.Clone(r.Body))
		})
	}
	if len(copies) != 2 {
		t.Fatalf("%d replies, want 2", len(copies))
	}
	var sessions [2]string
	for i, c := range copies {
		reply, err := DecodeReply(c)
		if err != nil || !reply.OK() {
			t.Fatalf("reply %d: %v, %+v", i+1, err, reply)
		}
		sessions[i] = reply.SessionID.String()
	}
	if sessions[0] == sessions[1] {
		t.Errorf("both logins got session %s", sessions[0])
	}
	if &given[0][:1][0] != &given[1][:1][0] {
		t.Errorf("the second reply was written into a new buffer, not the first one's")
	}
}
