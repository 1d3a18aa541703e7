package login

import (
	"crypto/sha1"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"gridlab/lab/grid"
)

// folder is one inventory-skeleton entry.
type folder struct {
	name        string
	id, parent  uuid.UUID
	typeDefault int32
	version     int32
}

// skeletonFolders are the system folders of a new OpenSim inventory: name and asset type
// (type_default). The first is the root.
var skeletonFolders = [...]struct {
	name string
	typ  int32
}{
	{"My Inventory", 8},
	{"Animations", 20},
	{"Body Parts", 13},
	{"Calling Cards", 2},
	{"Clothing", 5},
	{"Current Outfit", 46},
	{"Favorites", 23},
	{"Gestures", 21},
	{"Landmarks", 3},
	{"Lost And Found", 16},
	{"Notecards", 7},
	{"Objects", 6},
	{"Photo Album", 15},
	{"Scripts", 10},
	{"Sounds", 1},
	{"Textures", 0},
	{"Trash", 14},
	{"Settings", 56},
}

// Library and texture IDs every OpenSim grid sends (from the 0.9.2.2 capture).
const (
	libRootFolder = "00000112-000f-0000-0000-000100bba000"
	libOwner      = "11111111-1111-0000-0000-000100bba000"
	sunTexture    = "cce0f112-878f-4586-a2e2-a8f104bba271"
	cloudTexture  = "dc4b9f0b-d008-45c6-96a4-01dd947ac621"
	moonTexture   = "ec4b9f0b-d008-45c6-96a4-01dd947ac621"
)

var classifiedCategories = []string{
	"Shopping", "Land Rental", "Property Rental", "Special Attraction", "New Products",
	"Employment", "Wanted", "Service", "Personal",
}

// skeletonIDNames are what skeletonFolders' IDs are made from: "inventory/" + name.
var skeletonIDNames = func() (n [len(skeletonFolders)][]byte) {
	for i, f := range skeletonFolders {
		n[i] = []byte("inventory/" + f.name)
	}
	return n
}()

// skeletonVersion is every skeleton folder's version: a new inventory's folders are unchanged.
const skeletonVersion = 1

// inventory returns the agent's skeleton. Folder IDs are name-based UUIDs under the agent ID,
// so they are stable across logins and runs without an inventory store; they are computed for
// each reply rather than kept for every agent that ever logged in.
func inventory(agent uuid.UUID) (fs [len(skeletonFolders)]folder) {
	for i, sf := range skeletonFolders {
		fs[i] = folder{name: sf.name, id: nameUUID(agent, skeletonIDNames[i]), typeDefault: sf.typ, version: skeletonVersion}
		if i > 0 {
			fs[i].parent = fs[0].id
		}
	}
	return fs
}

// nameUUID is uuid.NewSHA1(space, name), the version 5 UUID of RFC 4122 §4.3, without the
// hash object and the sum NewSHA1 allocates: a reply needs eighteen of them.
func nameUUID(space uuid.UUID, name []byte) uuid.UUID {
	var buf [128]byte // space and the longest skeleton name: the hash input stays on the stack
	sum := sha1.Sum(append(append(buf[:0], space[:]...), name...))
	var id uuid.UUID
	copy(id[:], sum[:])
	id[6] = id[6]&0x0f | 5<<4 // version 5: name-based, SHA-1
	id[8] = id[8]&0x3f | 0x80 // the RFC 4122 variant
	return id
}

// notationReal formats a float the way LLSD notation strings in the login reply carry it.
func notationReal(f float32) string {
	return "r" + strconv.FormatFloat(float64(f), 'g', -1, 32)
}

func notationVec(v [3]float32) string {
	return "[" + notationReal(v[0]) + "," + notationReal(v[1]) + "," + notationReal(v[2]) + "]"
}

// success writes the login reply (LLLoginResponse.ToHashtable's fields, in a fixed order).
// Everything from the inventory skeleton on is the same for every agent but for the skeleton's
// folder IDs, so it is copied from bytes written once (skeletonTemplate, replyTail) instead of
// being encoded element by element for each of 100,000 logins.
func (s *Service) success(e *enc, acc *grid.Account, ac AgentCircuit, d *destination) {
	r := d.r
	inv := inventory(acc.ID)
	var epoch int64
	if s.cfg.Epoch != nil {
		epoch = s.cfg.Epoch()
	}
	// With no home location stored, OpenSim reports region (1000,1000).
	const homeHandle = "[r256000,r256000]"

	e.beginResponse()
	e.beginStruct()
	e.ms("login", "true")
	e.ms("first_name", acc.First)
	e.ms("last_name", acc.Last)
	e.mu("agent_id", acc.ID)
	e.mu("session_id", ac.SessionID)
	e.mu("secure_session_id", ac.SecureSessionID)
	e.mu("real_id", uuid.Nil)
	e.mi("circuit_code", int32(ac.CircuitCode))
	e.ms("sim_ip", r.SimIP.Unmap().String())
	e.mi("sim_port", int32(r.SimPort))
	e.mi("http_port", 0)
	e.mi("region_x", int32(r.X*256))
	e.mi("region_y", int32(r.Y*256))
	e.mi("region_size_x", int32(r.SizeX))
	e.mi("region_size_y", int32(r.SizeY))
	e.ms("seed_capability", r.ServerURI+"CAPS/"+ac.CapsPath+"0000/")
	e.ms("look_at", notationVec(ac.LookAt))
	e.ms("home", "{'region_handle':"+homeHandle+", 'position':[r0,r0,r0], 'look_at':[r0,r0,r0]}")
	e.ms("start_location", d.where)
	e.ms("message", strings.ReplaceAll(s.cfg.Welcome, "<USERNAME>", acc.First+" "+acc.Last))
	e.ms("agent_access", "M")
	e.ms("agent_access_max", "A")
	e.mi("seconds_since_epoch", int32(epoch))
	e.mi("max-agent-groups", s.cfg.MaxAgentGroups)
	if r.ServerURI != "" {
		e.ms("map-server-url", r.ServerURI)
	}

	e.beginMember("inventory-root")
	e.beginArray()
	e.beginStruct()
	e.mu("folder_id", inv[0].id)
	e.endStruct()
	e.endArray()
	e.endMember()

	e.skeleton(&inv)
	e.b = append(e.b, replyTail...)
}

// skeletonMember writes the inventory-skeleton member with every folder's parent_id and
// folder_id the nil UUID, and returns where the text of each of those starts.
func skeletonMember(e *enc) (at [len(skeletonFolders)]struct{ parent, id int }) {
	e.beginMember("inventory-skeleton")
	e.beginArray()
	for i, sf := range skeletonFolders {
		e.beginStruct()
		e.ms("name", sf.name)
		at[i].parent = e.mu("parent_id", uuid.Nil)
		e.mi("version", skeletonVersion)
		e.mi("type_default", sf.typ)
		at[i].id = e.mu("folder_id", uuid.Nil)
		e.endStruct()
	}
	e.endArray()
	e.endMember()
	return at
}

// skeletonTemplate is skeletonMember's output and slots: an agent's skeleton is that with its
// folder IDs written over the nil ones (a UUID's text is always 36 bytes, so nothing moves).
var skeletonTemplate = func() (t struct {
	b     []byte
	slots [len(skeletonFolders)]struct{ parent, id int }
}) {
	var e enc
	t.slots = skeletonMember(&e)
	t.b = e.b
	return t
}()

// skeleton writes the inventory-skeleton member for inv.
func (e *enc) skeleton(inv *[len(skeletonFolders)]folder) {
	base := len(e.b)
	e.b = append(e.b, skeletonTemplate.b...)
	for i := range inv {
		at := skeletonTemplate.slots[i]
		putUUID(e.b[base+at.parent:], inv[i].parent)
		putUUID(e.b[base+at.id:], inv[i].id)
	}
}

// replyTail is the rest of a login reply after the inventory skeleton.
var replyTail = func() []byte {
	var e enc
	writeReplyTail(&e)
	return e.b
}()

// writeReplyTail writes the members after the inventory skeleton, the same in every reply, and
// closes the reply.
func writeReplyTail(e *enc) {
	e.beginMember("inventory-lib-root")
	e.beginArray()
	e.beginStruct()
	e.ms("folder_id", libRootFolder)
	e.endStruct()
	e.endArray()
	e.endMember()

	e.beginMember("inventory-lib-owner")
	e.beginArray()
	e.beginStruct()
	e.ms("agent_id", libOwner)
	e.endStruct()
	e.endArray()
	e.endMember()

	e.beginMember("inventory-skel-lib")
	e.beginArray()
	e.beginStruct()
	e.ms("name", "OpenSim Library")
	e.ms("parent_id", uuid.Nil.String())
	e.mi("version", 1)
	e.mi("type_default", 8)
	e.ms("folder_id", libRootFolder)
	e.endStruct()
	e.endArray()
	e.endMember()

	e.beginMember("gestures")
	e.beginArray()
	e.endArray()
	e.endMember()

	e.beginMember("initial-outfit")
	e.beginArray()
	e.beginStruct()
	e.ms("folder_name", "Nightclub Female")
	e.ms("gender", "female")
	e.endStruct()
	e.endArray()
	e.endMember()

	e.beginMember("buddy-list")
	e.beginArray()
	e.endArray()
	e.endMember()

	e.beginMember("event_categories")
	e.beginArray()
	e.endArray()
	e.endMember()

	e.beginMember("event_notifications")
	e.beginArray()
	e.endArray()
	e.endMember()

	e.beginMember("classified_categories")
	e.beginArray()
	for i, name := range classifiedCategories {
		e.beginStruct()
		e.mi("category_id", int32(i+1))
		e.ms("category_name", name)
		e.endStruct()
	}
	e.endArray()
	e.endMember()

	e.beginMember("ui-config")
	e.beginArray()
	e.beginStruct()
	e.ms("allow_first_life", "Y")
	e.endStruct()
	e.endArray()
	e.endMember()

	e.beginMember("login-flags")
	e.beginArray()
	e.beginStruct()
	e.ms("daylight_savings", "N")
	e.ms("stipend_since_login", "N")
	e.ms("gendered", "Y")
	e.ms("ever_logged_in", "Y")
	e.endStruct()
	e.endArray()
	e.endMember()

	e.beginMember("global-textures")
	e.beginArray()
	e.beginStruct()
	e.ms("sun_texture_id", sunTexture)
	e.ms("cloud_texture_id", cloudTexture)
	e.ms("moon_texture_id", moonTexture)
	e.endStruct()
	e.endArray()
	e.endMember()

	e.endStruct()
	e.endResponse()
}

// uuidText is the length of a UUID's text.
const uuidText = 36

// putUUID writes id's text into b[:36] as uuid.UUID.String spells it (lower-case hex, hyphens
// after the 4th, 6th, 8th and 10th byte), without the string String allocates.
func putUUID(b []byte, id uuid.UUID) {
	_ = b[uuidText-1]
	hex.Encode(b[0:8], id[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], id[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], id[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], id[8:10])
	b[23] = '-'
	hex.Encode(b[24:36], id[10:16])
}

// mu writes a UUID member (its text needs no escaping) and returns where the text starts.
func (e *enc) mu(n string, id uuid.UUID) int {
	e.name(n)
	e.raw("<value><string>")
	at := len(e.b)
	e.b = append(e.b, make([]byte, uuidText)...)
	putUUID(e.b[at:], id)
	e.raw("</string></value></member>")
	return at
}
