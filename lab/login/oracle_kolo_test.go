package login

import (
	"fmt"

	"github.com/kolo/xmlrpc"
)

// The kolo/xmlrpc-based request encoder and reply decoder that EncodeRequest and DecodeReply
// replaced, kept as the oracles of TestEncodeRequestMatchesKolo, FuzzDecodeReplyMatchesKolo
// and the before/after benchmarks.

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

// oracleEncodeRequest is EncodeRequest as it was: kolo/xmlrpc's EncodeMethodCall.
func oracleEncodeRequest(r Request) ([]byte, error) {
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

type koloWireFolderID struct {
	FolderID string `xmlrpc:"folder_id"`
}

type koloWireReply struct {
	Login           string             `xmlrpc:"login"`
	Reason          string             `xmlrpc:"reason"`
	Message         string             `xmlrpc:"message"`
	FirstName       string             `xmlrpc:"first_name"`
	LastName        string             `xmlrpc:"last_name"`
	AgentID         string             `xmlrpc:"agent_id"`
	SessionID       string             `xmlrpc:"session_id"`
	SecureSessionID string             `xmlrpc:"secure_session_id"`
	CircuitCode     int64              `xmlrpc:"circuit_code"`
	SimIP           string             `xmlrpc:"sim_ip"`
	SimPort         int64              `xmlrpc:"sim_port"`
	RegionX         int64              `xmlrpc:"region_x"`
	RegionY         int64              `xmlrpc:"region_y"`
	SeedCapability  string             `xmlrpc:"seed_capability"`
	LookAt          string             `xmlrpc:"look_at"`
	StartLocation   string             `xmlrpc:"start_location"`
	InventoryRoot   []koloWireFolderID `xmlrpc:"inventory-root"`
}

// oracleDecodeReplyWire is how DecodeReply read a reply before: kolo/xmlrpc into a typed
// struct (its fault check included).
func oracleDecodeReplyWire(body []byte) (*wireReply, error) {
	resp := xmlrpc.Response(body)
	if err := resp.Err(); err != nil {
		return nil, fmt.Errorf("%w: XML-RPC fault: %w", ErrBadReply, err)
	}
	var k koloWireReply
	if err := resp.Unmarshal(&k); err != nil {
		return nil, fmt.Errorf("%w: cannot decode: %w", ErrBadReply, err)
	}
	w := &wireReply{
		Login: k.Login, Reason: k.Reason, Message: k.Message, FirstName: k.FirstName, LastName: k.LastName,
		AgentID: k.AgentID, SessionID: k.SessionID, SecureSessionID: k.SecureSessionID,
		CircuitCode: k.CircuitCode, SimIP: k.SimIP, SimPort: k.SimPort, RegionX: k.RegionX, RegionY: k.RegionY,
		SeedCapability: k.SeedCapability, LookAt: k.LookAt, StartLocation: k.StartLocation,
		InventoryRoots: len(k.InventoryRoot),
	}
	if len(k.InventoryRoot) > 0 {
		w.InventoryRoot = k.InventoryRoot[0].FolderID
	}
	return w, nil
}

// oracleDecodeReply is DecodeReply as it was.
func oracleDecodeReply(body []byte) (*Reply, error) {
	w, err := oracleDecodeReplyWire(body)
	if err != nil {
		return nil, err
	}
	return w.reply()
}
