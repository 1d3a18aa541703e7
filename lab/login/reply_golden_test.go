package login

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/login_reply.golden from the current encoder")

// TestLoginReplyBytesAreFixed pins every byte of a successful login reply. The encoder is
// written for speed (precomputed runs, UUIDs appended in place), and the bytes it puts on the
// wire feed every trace hash, so a faster encoder must still write exactly these bytes.
func TestLoginReplyBytesAreFixed(t *testing.T) {
	got := serviceReply(t, newFixture(t, 1), HashPassword("secret"))
	golden := filepath.Join("testdata", "login_reply.golden")
	if *updateGolden {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Fatalf("the login reply differs from %s from byte %d on:\n got %q\nwant %q",
			golden, i, excerpt(got, i), excerpt(want, i))
	}
}

// excerpt returns up to 80 bytes of b from i.
func excerpt(b []byte, i int) []byte {
	return b[i:min(len(b), i+80)]
}

// TestNameUUIDIsNewSHA1 checks the allocation-free folder IDs against the uuid package's.
func TestNameUUIDIsNewSHA1(t *testing.T) {
	spaces := []uuid.UUID{uuid.Nil, uuid.MustParse("b84fb46b-9fe3-4aff-8b5a-111c601e3d1a"), uuid.Max}
	for _, space := range spaces {
		for _, name := range append(skeletonIDNames[:], nil, []byte("x")) {
			if got, want := nameUUID(space, name), uuid.NewSHA1(space, name); got != want {
				t.Errorf("nameUUID(%s, %q) = %s, uuid.NewSHA1 gives %s", space, name, got, want)
			}
		}
	}
}

// TestPutUUIDIsString checks the UUID text the reply encoder writes against uuid's String.
func TestPutUUIDIsString(t *testing.T) {
	for _, id := range []uuid.UUID{uuid.Nil, uuid.Max, uuid.MustParse("0123456789abcdef0123456789ABCDEF")} {
		var b [uuidText]byte
		putUUID(b[:], id)
		if string(b[:]) != id.String() {
			t.Errorf("putUUID wrote %q for %s", b[:], id)
		}
	}
}

// TestEncodingAReplyAllocatesOnlyItsStrings bounds a successful reply's allocations: the
// buffer is the caller's, and what is left are a few short strings (the seed capability, the
// look-at vector, the welcome message, the sim IP).
func TestEncodingAReplyAllocatesOnlyItsStrings(t *testing.T) {
	fx := newFixture(t, 1)
	body := serviceReply(t, fx, HashPassword("secret"))
	acc, _ := fx.svc.cfg.Accounts.Lookup("Test", "User")
	dest, _ := fx.svc.findDestination("last")
	e := &enc{b: make([]byte, 0, 2*len(body))}
	allocs := testing.AllocsPerRun(50, func() {
		e.b = e.b[:0]
		fx.svc.success(e, acc, AgentCircuit{}, &dest)
	})
	if allocs > 10 {
		t.Errorf("encoding a login reply allocates %.0f times, want at most 10", allocs)
	}
}
