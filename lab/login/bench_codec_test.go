package login

import "testing"

// Before/after benchmarks of the viewer's and the service's XML-RPC codecs: "old" is the
// kolo/xmlrpc or encoding/xml implementation kept as the oracle, "new" the scanner-based one.
//
//	go test ./lab/login -run '^$' -bench 'DecodeReply|DecodeMethodCall|EncodeRequest' -count 3

func BenchmarkDecodeReply(b *testing.B) {
	body := serviceReply(b, newFixture(b, 1), HashPassword("secret"))
	for _, impl := range []struct {
		name   string
		decode func([]byte) (*Reply, error)
	}{{"old", oracleDecodeReply}, {"new", DecodeReply}} {
		b.Run(impl.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if r, err := impl.decode(body); err != nil || !r.OK() {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecodeMethodCall(b *testing.B) {
	body, err := EncodeRequest(testRequest(HashPassword("secret")))
	if err != nil {
		b.Fatal(err)
	}
	for _, impl := range []struct {
		name   string
		decode func([]byte) (*methodCall, error)
	}{{"old", oracleDecodeMethodCall}, {"new", decodeMethodCall}} {
		b.Run(impl.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if mc, err := impl.decode(body); err != nil || len(mc.params) != 1 {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncodeRequest(b *testing.B) {
	r := testRequest(HashPassword("secret"))
	for _, impl := range []struct {
		name   string
		encode func(Request) ([]byte, error)
	}{{"old", oracleEncodeRequest}, {"new", EncodeRequest}} {
		b.Run(impl.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := impl.encode(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEncodeReply measures the service writing a successful login reply.
func BenchmarkEncodeReply(b *testing.B) {
	fx := newFixture(b, 1)
	acc, _ := fx.svc.cfg.Accounts.Lookup("Test", "User")
	dest, _ := fx.svc.findDestination("last")
	e := &enc{}
	b.ReportAllocs()
	for b.Loop() {
		e.b = e.b[:0]
		fx.svc.success(e, acc, AgentCircuit{}, &dest)
	}
	b.SetBytes(int64(len(e.b)))
}
