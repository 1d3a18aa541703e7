package login

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// The simulation service's agent messages as OpenSim's SimulationServiceConnector sends them
// and AgentHandlers reads them (protocol.md §3.6), in JSON: QUERYACCESS to
// {ServerURI}agent/{agent}/{region}/ and POST of the agent circuit data to
// {ServerURI}agent/{agent}/. The login service writes them (connector.go) and the region reads
// them (lab/region), so both ends and their parsers live here.

// Simulation service versions gridlab offers and accepts (OpenSim's VersionInfo:
// SimulationServiceVersionSupportedMin/Max, AcceptedMin/Max).
const (
	SimVersionMin = 0.3
	SimVersionMax = 0.8
)

// MaxAgentBody bounds a QUERYACCESS or agent POST body, compressed or not; a region answers a
// longer one with 413.
const MaxAgentBody = 256 << 10

// Teleport flags a login sets (OpenSim's Constants.TeleportFlags).
const (
	TeleportViaLogin    = 1 << 7
	TeleportViaRegionID = 1 << 12
)

// QueryAccess is a QUERYACCESS request body.
type QueryAccess struct {
	ViaTeleport bool
	Position    [3]float32
	MyVersion   string  // "SIMULATION/0.3"
	Min, Max    float64 // simulation_service_supported_min/max (0 when the sender is older)
}

// AccessReply is the region's answer to QUERYACCESS.
type AccessReply struct {
	Success             bool
	Reason              string
	Version             string  // "SIMULATION/0.x"
	Inbound, Outbound   float64 // negotiated versions; 0 when not given
	HasNegotiatedFields bool
}

// AgentPost is the body of the POST that creates the agent: the circuit data plus where it goes.
type AgentPost struct {
	Circuit       AgentCircuit
	DestX, DestY  uint32 // region location in metres, as OpenSim sends it
	DestName      string
	DestID        uuid.UUID
	TeleportFlags uint32
}

// AgentReply is the region's answer to the agent POST.
type AgentReply struct {
	Success bool
	Reason  string
	YourIP  string
}

// vec3 is OpenSim's Vector3.ToString(): "<x, y, z>".
func vec3(v [3]float32) string {
	f := func(x float32) string { return strconv.FormatFloat(float64(x), 'g', -1, 32) }
	return "<" + f(v[0]) + ", " + f(v[1]) + ", " + f(v[2]) + ">"
}

// parseVec3 reads "<x, y, z>" (Vector3.Parse also takes it without brackets).
func parseVec3(s string) ([3]float32, error) {
	var v [3]float32
	t := strings.TrimSpace(s)
	t = strings.TrimSuffix(strings.TrimPrefix(t, "<"), ">")
	parts := strings.Split(t, ",")
	if len(parts) != 3 {
		return v, fmt.Errorf("vector %q: want <x, y, z>", clean(s))
	}
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 32)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return v, fmt.Errorf("vector %q: component %d is not a number", clean(s), i+1)
		}
		v[i] = float32(f)
	}
	return v, nil
}

// EncodeQueryAccess writes a QUERYACCESS body with gridlab's version range.
func EncodeQueryAccess(pos [3]float32) []byte {
	m := map[string]any{
		"viaTeleport":                      true,
		"position":                         vec3(pos),
		"my_version":                       fmt.Sprintf("SIMULATION/%g", SimVersionMin),
		"simulation_service_supported_min": SimVersionMin,
		"simulation_service_supported_max": SimVersionMax,
		"simulation_service_accepted_min":  SimVersionMin,
		"simulation_service_accepted_max":  SimVersionMax,
		"context":                          map[string]any{},
		"features":                         []string{},
	}
	b, _ := json.Marshal(m) // encoding/json sorts map keys: the bytes are reproducible
	return b
}

// jsonBool reads an OSD boolean as JSON carries it: true/false, or the strings and numbers
// OSD.AsBoolean also takes.
func jsonBool(raw json.RawMessage) bool {
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strings.EqualFold(s, "true") || s == "1"
	}
	var f float64
	if json.Unmarshal(raw, &f) == nil {
		return f != 0
	}
	return false
}

func jsonString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var f float64
	if json.Unmarshal(raw, &f) == nil {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return strconv.FormatBool(b)
	}
	return ""
}

func jsonNumber(raw json.RawMessage) (float64, bool) {
	var f float64
	if json.Unmarshal(raw, &f) == nil {
		return f, true
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
			return f, true
		}
	}
	return 0, false
}

// jsonObject decodes a JSON object into its members, refusing anything else.
func jsonObject(b []byte, what string) (map[string]json.RawMessage, error) {
	if len(b) > MaxAgentBody {
		return nil, fmt.Errorf("%s: body of %d bytes is longer than %d", what, len(b), MaxAgentBody)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: not a JSON object: %w", what, err)
	}
	if m == nil {
		return nil, fmt.Errorf("%s: not a JSON object (null)", what)
	}
	return m, nil
}

// DecodeQueryAccess reads a QUERYACCESS body.
func DecodeQueryAccess(b []byte) (QueryAccess, error) {
	var q QueryAccess
	m, err := jsonObject(b, "QUERYACCESS")
	if err != nil {
		return q, err
	}
	q.ViaTeleport = jsonBool(m["viaTeleport"])
	if raw, ok := m["position"]; ok {
		if q.Position, err = parseVec3(jsonString(raw)); err != nil {
			return q, fmt.Errorf("QUERYACCESS: position: %w", err)
		}
	}
	q.MyVersion = jsonString(m["my_version"])
	q.Min, _ = jsonNumber(m["simulation_service_supported_min"])
	q.Max, _ = jsonNumber(m["simulation_service_supported_max"])
	return q, nil
}

// Negotiate picks the version a region speaks with a sender, as AgentHandlers does: the
// highest both support, or (an older sender without a range) the version it names.
func (q QueryAccess) Negotiate() (float64, error) {
	if q.Min == 0 && q.Max == 0 {
		v, ok := strings.CutPrefix(q.MyVersion, "SIMULATION/")
		f, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil {
			return 0, fmt.Errorf("unknown simulation version %q", clean(q.MyVersion))
		}
		if f < SimVersionMin || f > SimVersionMax {
			return 0, fmt.Errorf("simulation version %g is not supported (%g to %g are)", f, float64(SimVersionMin), float64(SimVersionMax))
		}
		return f, nil
	}
	hi := math.Min(q.Max, SimVersionMax)
	lo := math.Max(q.Min, SimVersionMin)
	if hi < lo {
		return 0, fmt.Errorf("no common simulation version: sender %g to %g, region %g to %g", q.Min, q.Max, float64(SimVersionMin), float64(SimVersionMax))
	}
	return hi, nil
}

// EncodeAccessReply writes the region's QUERYACCESS answer.
func EncodeAccessReply(ok bool, reason string, version float64) []byte {
	b, _ := json.Marshal(map[string]any{
		"success":                     ok,
		"reason":                      reason,
		"version":                     fmt.Sprintf("SIMULATION/%g", version),
		"negotiated_inbound_version":  version,
		"negotiated_outbound_version": version,
		"features":                    []string{},
	})
	return b
}

// DecodeAccessReply reads a QUERYACCESS answer.
func DecodeAccessReply(b []byte) (AccessReply, error) {
	var r AccessReply
	m, err := jsonObject(b, "QUERYACCESS reply")
	if err != nil {
		return r, err
	}
	r.Success = jsonBool(m["success"])
	r.Reason = jsonString(m["reason"])
	r.Version = jsonString(m["version"])
	if raw, ok := m["negotiated_inbound_version"]; ok {
		r.HasNegotiatedFields = true
		r.Inbound, _ = jsonNumber(raw)
		r.Outbound, _ = jsonNumber(m["negotiated_outbound_version"])
	} else if v, ok := strings.CutPrefix(r.Version, "SIMULATION/"); ok {
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			r.Inbound, r.Outbound = f, f
		}
	}
	return r, nil
}

// EncodeAgentPost writes the agent POST body: PackAgentCircuitData's keys plus destination_*,
// teleport_flags and context.
func EncodeAgentPost(p AgentPost) []byte {
	c := p.Circuit
	ip := ""
	if c.ClientIP.IsValid() {
		ip = c.ClientIP.String()
	}
	b, _ := json.Marshal(map[string]any{
		"agent_id":          c.AgentID.String(),
		"base_folder":       uuid.Nil.String(),
		"caps_path":         c.CapsPath,
		"child":             false,
		"circuit_code":      strconv.FormatUint(uint64(c.CircuitCode), 10),
		"first_name":        c.First,
		"last_name":         c.Last,
		"inventory_folder":  uuid.Nil.String(),
		"secure_session_id": c.SecureSessionID.String(),
		"session_id":        c.SessionID.String(),
		"start_pos":         vec3(c.StartPos),
		"look_at":           vec3(c.LookAt),
		"client_ip":         ip,
		"destination_x":     strconv.FormatUint(uint64(p.DestX), 10),
		"destination_y":     strconv.FormatUint(uint64(p.DestY), 10),
		"destination_name":  p.DestName,
		"destination_uuid":  p.DestID.String(),
		"teleport_flags":    strconv.FormatUint(uint64(p.TeleportFlags), 10),
		"context":           map[string]any{},
	})
	return b
}

func jsonUUID(m map[string]json.RawMessage, key string, required bool) (uuid.UUID, error) {
	raw, ok := m[key]
	if !ok {
		if required {
			return uuid.Nil, fmt.Errorf("%s is missing", key)
		}
		return uuid.Nil, nil
	}
	s := jsonString(raw)
	id, err := uuid.Parse(s)
	if err != nil || len(s) != 36 {
		return uuid.Nil, fmt.Errorf("%s %q is not a UUID", key, clean(s))
	}
	return id, nil
}

func jsonUint32(m map[string]json.RawMessage, key string) (uint32, error) {
	raw, ok := m[key]
	if !ok {
		return 0, nil
	}
	f, ok := jsonNumber(raw)
	if !ok || f < 0 || f > math.MaxUint32 || f != math.Trunc(f) {
		return 0, fmt.Errorf("%s %s is not an unsigned 32-bit number", key, clean(string(raw)))
	}
	return uint32(f), nil
}

// DecodeAgentPost reads an agent POST body. agent is the ID from the URL, which the body must
// repeat. A region that cannot read the body refuses the agent with the error's text.
func DecodeAgentPost(b []byte, agent uuid.UUID) (AgentPost, error) {
	var p AgentPost
	m, err := jsonObject(b, "agent POST")
	if err != nil {
		return p, err
	}
	c := &p.Circuit
	var errs []error
	get := func(key string, required bool) uuid.UUID {
		id, err := jsonUUID(m, key, required)
		if err != nil {
			errs = append(errs, err)
		}
		return id
	}
	c.AgentID = get("agent_id", true)
	c.SessionID = get("session_id", true)
	c.SecureSessionID = get("secure_session_id", false)
	p.DestID = get("destination_uuid", false)
	if c.AgentID != agent && c.AgentID != uuid.Nil {
		errs = append(errs, fmt.Errorf("agent_id %s does not match the URL's %s", c.AgentID, agent))
	}
	if _, ok := m["circuit_code"]; !ok {
		errs = append(errs, errors.New("circuit_code is missing"))
	} else if c.CircuitCode, err = jsonUint32(m, "circuit_code"); err != nil {
		errs = append(errs, err)
	}
	c.First = jsonString(m["first_name"])
	c.Last = jsonString(m["last_name"])
	if len(c.First) > 64 || len(c.Last) > 64 {
		errs = append(errs, errors.New("first_name or last_name is longer than 64 bytes"))
	}
	c.CapsPath = jsonString(m["caps_path"])
	if c.CapsPath != "" {
		if _, err := uuid.Parse(c.CapsPath); err != nil || len(c.CapsPath) != 36 {
			errs = append(errs, fmt.Errorf("caps_path %q is not a UUID", clean(c.CapsPath)))
		}
	}
	c.StartPos = [3]float32{128, 128, 0}
	if raw, ok := m["start_pos"]; ok {
		if c.StartPos, err = parseVec3(jsonString(raw)); err != nil {
			errs = append(errs, fmt.Errorf("start_pos: %w", err))
		}
	}
	c.LookAt = [3]float32{0, 1, 0}
	if raw, ok := m["look_at"]; ok {
		if v, err := parseVec3(jsonString(raw)); err == nil {
			c.LookAt = v
		}
	}
	if s := jsonString(m["client_ip"]); s != "" {
		if a, err := netip.ParseAddr(s); err == nil {
			c.ClientIP = a.Unmap()
		}
	}
	if p.DestX, err = jsonUint32(m, "destination_x"); err != nil {
		errs = append(errs, err)
	}
	if p.DestY, err = jsonUint32(m, "destination_y"); err != nil {
		errs = append(errs, err)
	}
	p.DestName = jsonString(m["destination_name"])
	if p.TeleportFlags, err = jsonUint32(m, "teleport_flags"); err != nil {
		errs = append(errs, err)
	}
	c.ViaLogin = p.TeleportFlags&TeleportViaLogin != 0
	if len(errs) > 0 {
		return p, fmt.Errorf("agent POST: %w", errors.Join(errs...))
	}
	return p, nil
}

// EncodeAgentReply writes the region's answer to the agent POST.
func EncodeAgentReply(ok bool, reason, yourIP string) []byte {
	b, _ := json.Marshal(map[string]any{"success": ok, "reason": reason, "your_ip": yourIP})
	return b
}

// DecodeAgentReply reads the region's answer to the agent POST.
func DecodeAgentReply(b []byte) (AgentReply, error) {
	var r AgentReply
	m, err := jsonObject(b, "agent POST reply")
	if err != nil {
		return r, err
	}
	r.Success = jsonBool(m["success"])
	r.Reason = jsonString(m["reason"])
	r.YourIP = jsonString(m["your_ip"])
	return r, nil
}

// Gunzip expands a gzip body (OpenSim's compressed agent POST) up to MaxAgentBody bytes.
func Gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("gzip body: %w", err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, MaxAgentBody+1))
	if err != nil {
		return nil, fmt.Errorf("gzip body: %w", err)
	}
	if len(out) > MaxAgentBody {
		return nil, fmt.Errorf("gzip body expands beyond %d bytes", MaxAgentBody)
	}
	return out, nil
}
