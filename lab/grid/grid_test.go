package grid

import (
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestAccounts(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	a := NewAccounts()
	acc, err := a.Add("Test", "User", "secret", r)
	if err != nil {
		t.Fatal(err)
	}
	if acc.ID == uuid.Nil || acc.ID.Version() != 4 || len(acc.Salt) != 32 || len(acc.Hash) != 32 {
		t.Fatalf("account %+v", acc)
	}
	if acc.Hash != MD5Hex(MD5Hex("secret")+":"+acc.Salt) || strings.Contains(acc.Hash+acc.Salt, "secret") {
		t.Fatalf("hash is not OpenSim's md5(md5(pw):salt)")
	}
	if _, err := a.Add("test", "USER", "x", r); err == nil {
		t.Fatal("duplicate name (other case) accepted")
	}
	if _, err := a.Add("", "User", "x", r); err == nil {
		t.Fatal("empty first name accepted")
	}
	got, ok := a.Lookup("TEST", "user")
	if !ok || got != acc {
		t.Fatal("case-insensitive lookup failed")
	}
	if _, ok := a.Lookup("Test", "Nobody"); ok {
		t.Fatal("lookup of an unknown name succeeded")
	}
	if byID, ok := a.ByID(acc.ID); !ok || byID != acc {
		t.Fatal("ByID")
	}
	for _, pw := range []string{"$1$5ebe2294ecd0e0f08eab7690d2a6ee69", "secret"} {
		if !a.Authenticate(acc, pw) {
			t.Errorf("Authenticate(%q) = false", pw)
		}
	}
	for _, pw := range []string{"", "$1$", "Secret", "$1$" + MD5Hex("Secret"), "5ebe2294ecd0e0f08eab7690d2a6ee69"} {
		if a.Authenticate(acc, pw) {
			t.Errorf("Authenticate(%q) = true", pw)
		}
	}
	if a.Authenticate(nil, "secret") {
		t.Error("nil account authenticated")
	}
	// Same seed, same accounts.
	b := NewAccounts()
	acc2, _ := b.Add("Test", "User", "secret", rand.New(rand.NewPCG(1, 2)))
	if *acc2 != *acc {
		t.Fatalf("not deterministic: %+v vs %+v", acc2, acc)
	}
	if a.Len() != 1 || len(a.All()) != 1 {
		t.Fatal("Len/All")
	}
}

const exampleINI = `[My Region]
RegionUUID = 11111111-2222-3333-4444-555555555555
Location = 1000,1000
InternalAddress = 0.0.0.0
InternalPort = 9000
AllowAlternatePorts = False
ExternalHostName = SYSTEMIP
`

func TestParseRegionsINIExample(t *testing.T) {
	rs, err := ParseRegionsINI("Regions.ini", []byte(exampleINI))
	if err != nil {
		t.Fatal(err)
	}
	want := RegionConfig{
		Name: "My Region", ID: uuid.MustParse("11111111-2222-3333-4444-555555555555"),
		X: 1000, Y: 1000, InternalAddress: netip.MustParseAddr("0.0.0.0"), InternalPort: 9000,
		ExternalHostName: "SYSTEMIP", MaxAgents: 100, SizeX: 256, SizeY: 256,
	}
	if len(rs) != 1 || rs[0] != want {
		t.Fatalf("got %+v\nwant %+v", rs, want)
	}
}

func TestParseRegionsINIMany(t *testing.T) {
	src := `; comment line
# another
[Zeta Region]
regionuuid = aaaaaaaa-2222-3333-4444-555555555555
Location = 1000, 1001 ; trailing comment
InternalPort = 9001
ExternalHostName = grid.example#1
SizeX = 512
SizeY = 512
MaxAgents = 40
AllowAlternatePorts = true

[alpha]
RegionUUID = bbbbbbbb-2222-3333-4444-555555555555
Location = 1002,1001
InternalAddress = 10.1.2.3
InternalPort = 9002
ExternalHostName = 203.0.113.5 # the public address
`
	rs, err := ParseRegionsINI("Regions.ini", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].Name != "Zeta Region" || rs[1].Name != "alpha" {
		t.Fatalf("order/case: %+v", rs)
	}
	z, a := rs[0], rs[1]
	if z.X != 1000 || z.Y != 1001 || z.SizeX != 512 || z.MaxAgents != 40 || !z.AllowAlternatePorts || z.ExternalHostName != "grid.example#1" {
		t.Errorf("zeta: %+v", z)
	}
	if a.InternalAddress != netip.MustParseAddr("10.1.2.3") || a.ExternalHostName != "203.0.113.5" || a.SizeX != 256 {
		t.Errorf("alpha: %+v", a)
	}
}

func TestParseRegionsINIErrors(t *testing.T) {
	base := "[My Region]\nRegionUUID = 11111111-2222-3333-4444-555555555555\nLocation = 1000,1000\nInternalPort = 9000\n"
	cases := []struct{ src, want string }{
		{strings.Replace(base, "9000", "90x0", 1), `Regions.ini: [My Region] InternalPort: "90x0" is not a port number`},
		{strings.Replace(base, "9000", "70000", 1), `Regions.ini: [My Region] InternalPort: "70000" is not a port number`},
		{strings.Replace(base, "InternalPort = 9000\n", "", 1), `Regions.ini: [My Region] InternalPort: missing (required)`},
		{strings.Replace(base, "Location = 1000,1000\n", "", 1), `Regions.ini: [My Region] Location: missing (required)`},
		{strings.Replace(base, "RegionUUID = 11111111-2222-3333-4444-555555555555\n", "", 1), `Regions.ini: [My Region] RegionUUID: missing (required)`},
		{strings.Replace(base, "11111111-2222", "zz", 1), `Regions.ini: [My Region] RegionUUID: "zz-3333-4444-555555555555" is not a UUID`},
		{strings.Replace(base, "1000,1000", "1000", 1), `Regions.ini: [My Region] Location: "1000" is not x,y grid coordinates`},
		{base + "InternalAddress = nowhere\n", `Regions.ini: [My Region] InternalAddress: "nowhere" is not an IP address`},
		{base + "AllowAlternatePorts = maybe\n", `Regions.ini: [My Region] AllowAlternatePorts: "maybe" is not True or False`},
		{base + "SizeX = 300\n", `Regions.ini: [My Region] SizeX: "300" is not a region size`},
		{base + "\n[my region]\nRegionUUID = 21111111-2222-3333-4444-555555555555\nLocation = 1,1\nInternalPort = 9001\n", `Regions.ini: [my region]: region name is used twice`},
		{base + "\n[Other]\nRegionUUID = 11111111-2222-3333-4444-555555555555\nLocation = 1,1\nInternalPort = 9001\n", `Regions.ini: [Other] RegionUUID: 11111111-2222-3333-4444-555555555555 is already used by [My Region]`},
		{strings.Replace(base, "Location = 1000,1000", "Location = 1000,1000\nSizeX = 512", 1) + "\n[Other]\nRegionUUID = 21111111-2222-3333-4444-555555555555\nLocation = 1001,1000\nInternalPort = 9001\n", `Regions.ini: [Other] Location: 1001,1000 overlaps [My Region] at 1000,1000`},
		{"Stray = 1\n" + base, `Regions.ini: key "Stray" is outside any [Region] section`},
		{"", `Regions.ini: no regions defined`},
	}
	for _, tc := range cases {
		_, err := ParseRegionsINI("Regions.ini", []byte(tc.src))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("src:\n%s\ngot  %v\nwant %s", tc.src, err, tc.want)
		}
	}
}

func FuzzParseRegionsINI(f *testing.F) {
	f.Add([]byte(exampleINI))
	f.Add([]byte("[My Region]\nRegionUUID = 11111111-2222-3333-4444-555555555555\nLocation = 1000,1000\nInternalAddress = 0.0.0.0\nInternalPort = 9000\nAllowAlternatePorts = False\nExternalHostName = SYSTEMIP"))
	f.Add([]byte("[A]\nRegionUUID=aaaaaaaa-2222-3333-4444-555555555555\nLocation=1,2\nInternalPort=9000\nSizeX=512\n[B]\nRegionUUID=bbbbbbbb-2222-3333-4444-555555555555\nLocation=3,2\nInternalPort=9001 ; c\n"))
	f.Add([]byte("; only a comment\n"))
	f.Add([]byte("[x]\nk = \"quoted # value\"\nRegionUUID = `raw`\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := ParseRegionsINI("Regions.ini", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "Regions.ini: ") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		if len(rs) == 0 {
			t.Fatal("no regions and no error")
		}
		for i, r := range rs {
			if r.ID == uuid.Nil || r.InternalPort == 0 || r.SizeX%256 != 0 || r.SizeX == 0 || r.SizeY == 0 || !r.InternalAddress.IsValid() || r.ExternalHostName == "" {
				t.Fatalf("invalid region accepted: %+v", r)
			}
			for _, o := range rs[:i] {
				if strings.EqualFold(o.Name, r.Name) || o.ID == r.ID || overlaps(o, r) {
					t.Fatalf("conflicting regions accepted: %+v %+v", o, r)
				}
			}
		}
	})
}
