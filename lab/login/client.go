package login

import (
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

// wireRequest fixes the member order: kolo/xmlrpc encodes struct fields in declaration order
// (a map would come out in random order).
type wireRequest struct {
	First            string   `xmlrpc:"first"`
	Last             string   `xmlrpc:"last"`
	Passwd           string   `xmlrpc:"passwd"`
	Start            string   `xmlrpc:"start"`
	Channel          string   `xmlrpc:"channel"`
	Version          string   `xmlrpc:"version"`
	Platform         string   `xmlrpc:"platform"`
	PlatformVersion  string   `xmlrpc:"platform_version"`
	PlatformString   string   `xmlrpc:"platform_string"`
	AddressSize      int      `xmlrpc:"address_size"`
	Mac              string   `xmlrpc:"mac"`
	ID0              string   `xmlrpc:"id0"`
	HostID           string   `xmlrpc:"host_id"`
	ExtendedErrors   bool     `xmlrpc:"extended_errors"`
	AgreeToTOS       bool     `xmlrpc:"agree_to_tos"`
	ReadCritical     bool     `xmlrpc:"read_critical"`
	LastExecEvent    int      `xmlrpc:"last_exec_event"`
	LastExecDuration int      `xmlrpc:"last_exec_duration"`
	Token            string   `xmlrpc:"token"`
	MFAHash          string   `xmlrpc:"mfa_hash"`
	Options          []string `xmlrpc:"options"`
}

// HashPassword returns the password as a viewer sends it: "$1$" + md5hex(clear).
func HashPassword(clear string) string { return "$1$" + grid.MD5Hex(clear) }

// EncodeRequest returns the XML-RPC methodCall body for r.
func EncodeRequest(r Request) ([]byte, error) {
	if r.First == "" || r.Last == "" {
		return nil, errors.New("login request: first and last name are required")
	}
	w := wireRequest{
		First: r.First, Last: r.Last, Passwd: r.Passwd, Start: r.Start,
		Channel: r.Channel, Version: r.Version, Platform: r.Platform,
		PlatformVersion: r.PlatformVersion, PlatformString: r.PlatformString,
		AddressSize: r.AddressSize, Mac: r.Mac, ID0: r.ID0, HostID: r.HostID,
		ExtendedErrors: r.ExtendedErrors, AgreeToTOS: r.AgreeToTOS, ReadCritical: r.ReadCritical,
		LastExecEvent: r.LastExecEvent, LastExecDuration: r.LastExecDuration,
		Token: r.Token, MFAHash: r.MFAHash, Options: r.Options,
	}
	if w.Start == "" {
		w.Start = "last"
	}
	if w.AddressSize == 0 {
		w.AddressSize = 64
	}
	if w.Options == nil {
		w.Options = DefaultOptions
	}
	return xmlrpc.EncodeMethodCall("login_to_simulator", w)
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

type wireFolderID struct {
	FolderID string `xmlrpc:"folder_id"`
}

type wireReply struct {
	Login           string         `xmlrpc:"login"`
	Reason          string         `xmlrpc:"reason"`
	Message         string         `xmlrpc:"message"`
	FirstName       string         `xmlrpc:"first_name"`
	LastName        string         `xmlrpc:"last_name"`
	AgentID         string         `xmlrpc:"agent_id"`
	SessionID       string         `xmlrpc:"session_id"`
	SecureSessionID string         `xmlrpc:"secure_session_id"`
	CircuitCode     int64          `xmlrpc:"circuit_code"`
	SimIP           string         `xmlrpc:"sim_ip"`
	SimPort         int64          `xmlrpc:"sim_port"`
	RegionX         int64          `xmlrpc:"region_x"`
	RegionY         int64          `xmlrpc:"region_y"`
	SeedCapability  string         `xmlrpc:"seed_capability"`
	LookAt          string         `xmlrpc:"look_at"`
	StartLocation   string         `xmlrpc:"start_location"`
	InventoryRoot   []wireFolderID `xmlrpc:"inventory-root"`
}

// ErrBadReply is wrapped by every DecodeReply error about the reply's content.
var ErrBadReply = errors.New("login reply")

// DecodeReply decodes an XML-RPC login reply. An XML-RPC fault is returned as an error that
// wraps xmlrpc.FaultError. A successful reply must carry what a viewer needs to go on
// (agent_id, session_id, circuit_code, sim_ip, sim_port, inventory-root) — checked after
// decoding, because kolo/xmlrpc silently drops the members after an empty <value/>.
func DecodeReply(body []byte) (*Reply, error) {
	resp := xmlrpc.Response(body)
	if err := resp.Err(); err != nil {
		return nil, fmt.Errorf("%w: XML-RPC fault: %w", ErrBadReply, err)
	}
	var w wireReply
	if err := resp.Unmarshal(&w); err != nil {
		return nil, fmt.Errorf("%w: cannot decode: %w", ErrBadReply, err)
	}
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
	if len(w.InventoryRoot) == 0 {
		problems = append(problems, "inventory-root is missing")
	} else {
		r.InventoryRoot = uuidField("inventory-root folder_id", w.InventoryRoot[0].FolderID, true)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrBadReply, strings.Join(problems, "; "))
	}
	return r, nil
}
