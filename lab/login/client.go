package login

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/google/uuid"
	"github.com/kolo/xmlrpc"

	"gridlab/lab/grid"
)

// Request is a viewer's login_to_simulator parameters (protocol.md §4.1).
type Request struct {
	First, Last      string
	Passwd           string // already "$1$" + md5hex(password): see HashPassword
	Start            string // "last" (default), "home" or "uri:Region&x&y&z"
	Channel, Version string
	Platform         string
	PlatformVersion  string
	PlatformString   string
	Mac, ID0         string
	HostID           string
	AddressSize      int // 64 unless set
	ExtendedErrors   bool
	AgreeToTOS       bool
	ReadCritical     bool
	LastExecEvent    int
	LastExecDuration int
	Token, MFAHash   string
	Options          []string // DefaultOptions unless set
}

// DefaultOptions is the options array an SL viewer sends.
var DefaultOptions = []string{
	"inventory-root", "inventory-skeleton", "inventory-lib-root", "inventory-lib-owner",
	"inventory-skel-lib", "initial-outfit", "gestures", "display_names", "event_categories",
	"event_notifications", "classified_categories", "adult_compliant", "buddy-list",
	"newuser-config", "ui-config", "advanced-mode", "max-agent-groups", "map-server-url",
	"voice-config", "tutorial_setting", "login-flags", "global-textures",
}

// HashPassword returns the password as a viewer sends it: "$1$" + md5hex(clear).
func HashPassword(clear string) string { return "$1$" + grid.MD5Hex(clear) }

// EncodeRequest returns the XML-RPC methodCall body for r. The bytes are those
// github.com/kolo/xmlrpc's EncodeMethodCall wrote for it (TestEncodeRequestMatchesKolo), as
// run traces hash them: members in this order, ints as <int>, booleans as 1/0, strings
// escaped as encoding/xml's EscapeText does.
func EncodeRequest(r Request) ([]byte, error) {
	if r.First == "" || r.Last == "" {
		return nil, errors.New("login request: first and last name are required")
	}
	if r.Start == "" {
		r.Start = "last"
	}
	if r.AddressSize == 0 {
		r.AddressSize = 64
	}
	if r.Options == nil {
		r.Options = DefaultOptions
	}
	n := 2048 + len(r.First) + len(r.Last) + len(r.Passwd) + len(r.Start) + len(r.Channel) +
		len(r.Version) + len(r.Platform) + len(r.PlatformVersion) + len(r.PlatformString) +
		len(r.Mac) + len(r.ID0) + len(r.HostID) + len(r.Token) + len(r.MFAHash)
	for _, o := range r.Options {
		n += 32 + len(o)
	}
	e := enc{b: make([]byte, 0, n)}
	e.raw(`<?xml version="1.0" encoding="UTF-8"?><methodCall><methodName>login_to_simulator</methodName><params><param><value><struct>`)
	e.reqString("first", r.First)
	e.reqString("last", r.Last)
	e.reqString("passwd", r.Passwd)
	e.reqString("start", r.Start)
	e.reqString("channel", r.Channel)
	e.reqString("version", r.Version)
	e.reqString("platform", r.Platform)
	e.reqString("platform_version", r.PlatformVersion)
	e.reqString("platform_string", r.PlatformString)
	e.reqInt("address_size", r.AddressSize)
	e.reqString("mac", r.Mac)
	e.reqString("id0", r.ID0)
	e.reqString("host_id", r.HostID)
	e.reqBool("extended_errors", r.ExtendedErrors)
	e.reqBool("agree_to_tos", r.AgreeToTOS)
	e.reqBool("read_critical", r.ReadCritical)
	e.reqInt("last_exec_event", r.LastExecEvent)
	e.reqInt("last_exec_duration", r.LastExecDuration)
	e.reqString("token", r.Token)
	e.reqString("mfa_hash", r.MFAHash)
	e.raw("<member><name>options</name><value><array><data>")
	for _, o := range r.Options {
		e.raw("<value><string>")
		e.escText(o)
		e.raw("</string></value>")
	}
	e.raw("</data></array></value></member>")
	e.raw("</struct></value></param></params></methodCall>")
	return e.b, nil
}

// Reply is the part of a login reply a viewer acts on.
type Reply struct {
	Login                               string // "true", "false" (or "indeterminate" from SL)
	Reason, Message                     string
	FirstName, LastName                 string
	AgentID, SessionID, SecureSessionID uuid.UUID
	CircuitCode                         uint32
	SimIP                               netip.Addr
	SimPort                             uint16
	RegionX, RegionY                    uint32 // metres (grid coordinates × 256)
	SeedCapability                      string
	LookAt                              string // LLSD notation, e.g. "[r0,r1,r0]"
	StartLocation                       string
	InventoryRoot                       uuid.UUID
}

// OK reports whether the login succeeded.
func (r *Reply) OK() bool { return r.Login == "true" }

// wireReply is what DecodeReply takes from a reply: the members a viewer acts on (the
// oracle in oracle_kolo_test.go decodes the same ones with kolo/xmlrpc).
type wireReply struct {
	Login, Reason, Message                string
	FirstName, LastName                   string
	AgentID, SessionID, SecureSessionID   string
	CircuitCode                           int64
	SimIP                                 string
	SimPort, RegionX, RegionY             int64
	SeedCapability, LookAt, StartLocation string
	InventoryRoots                        int    // items in the inventory-root array
	InventoryRoot                         string // the first one's folder_id
}

// ErrBadReply is wrapped by every DecodeReply error about the reply's content.
var ErrBadReply = errors.New("login reply")

// DecodeReply decodes an XML-RPC login reply. An XML-RPC fault is returned as an error that
// wraps xmlrpc.FaultError. A successful reply must carry what a viewer needs to go on
// (agent_id, session_id, circuit_code, sim_ip, sim_port, inventory-root).
//
// The reply is read by decodeReplyWire (replydec.go) on our XML scanner; a body holding
// "<fault>" is first given to kolo/xmlrpc's Response.Err, as before. The kolo/xmlrpc decoder
// DecodeReply used to be is kept in oracle_kolo_test.go, and FuzzDecodeReplyMatchesKolo holds
// the two together, except where kolo/xmlrpc was wrong: it silently dropped the members after
// an empty <value/>, which we read as the empty value it is.
func DecodeReply(body []byte) (*Reply, error) {
	if hasFaultTag(body) {
		if err := xmlrpc.Response(body).Err(); err != nil {
			return nil, fmt.Errorf("%w: XML-RPC fault: %w", ErrBadReply, err)
		}
	}
	var w wireReply
	if err := decodeReplyWire(body, &w); err != nil {
		return nil, fmt.Errorf("%w: cannot decode: %w", ErrBadReply, err)
	}
	return w.reply()
}

// hasFaultTag is bytes.Contains(b, "<fault>"), faster in a document full of '<'.
func hasFaultTag(b []byte) bool {
	for {
		i := bytes.Index(b, []byte("fault>"))
		if i < 0 {
			return false
		}
		if i > 0 && b[i-1] == '<' {
			return true
		}
		b = b[i+len("fault>"):]
	}
}

// reply checks the decoded members and makes the Reply.
func (w *wireReply) reply() (*Reply, error) {
	r := &Reply{
		Login: w.Login, Reason: w.Reason, Message: w.Message,
		FirstName: strings.Trim(w.FirstName, `"`), LastName: strings.Trim(w.LastName, `"`),
		SeedCapability: w.SeedCapability, LookAt: w.LookAt, StartLocation: w.StartLocation,
	}
	switch w.Login {
	case "":
		return nil, fmt.Errorf("%w: no login member", ErrBadReply)
	case "true":
	default:
		return r, nil
	}
	var problems []string
	uuidField := func(name, s string, required bool) uuid.UUID {
		if s == "" && !required {
			return uuid.Nil
		}
		id, err := uuid.Parse(s)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s %q is not a UUID", name, s))
		} else if required && id == uuid.Nil {
			problems = append(problems, name+" is null")
		}
		return id
	}
	r.AgentID = uuidField("agent_id", w.AgentID, true)
	r.SessionID = uuidField("session_id", w.SessionID, true)
	r.SecureSessionID = uuidField("secure_session_id", w.SecureSessionID, false)
	if w.CircuitCode == 0 || w.CircuitCode < -1<<31 || w.CircuitCode > 1<<32-1 {
		problems = append(problems, fmt.Sprintf("circuit_code %d is invalid", w.CircuitCode))
	}
	r.CircuitCode = uint32(w.CircuitCode) // an i4 carries codes ≥ 2^31 as negative numbers
	if ip, err := netip.ParseAddr(w.SimIP); err != nil {
		problems = append(problems, fmt.Sprintf("sim_ip %q is not an IP address", w.SimIP))
	} else {
		r.SimIP = ip.Unmap()
	}
	if w.SimPort <= 0 || w.SimPort > 65535 {
		problems = append(problems, fmt.Sprintf("sim_port %d is not a port", w.SimPort))
	}
	r.SimPort = uint16(w.SimPort)
	if w.RegionX < 0 || w.RegionY < 0 || w.RegionX > 1<<32-1 || w.RegionY > 1<<32-1 {
		problems = append(problems, fmt.Sprintf("region_x/region_y %d,%d are out of range", w.RegionX, w.RegionY))
	}
	r.RegionX, r.RegionY = uint32(w.RegionX), uint32(w.RegionY)
	if w.InventoryRoots == 0 {
		problems = append(problems, "inventory-root is missing")
	} else {
		r.InventoryRoot = uuidField("inventory-root folder_id", w.InventoryRoot, true)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrBadReply, strings.Join(problems, "; "))
	}
	return r, nil
}
