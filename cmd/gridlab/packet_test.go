package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func runPacket(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(append([]string{"packet"}, args...))
	err := root.Execute()
	return out.String(), err
}

// A zero-coded reliable RegionHandshake with one appended ack, from the node-metaverse vectors.
const regionHandshakeHex = "d00000001e00ffff00019400040d0c5465737420526567696f6e000111111111222233334444555555555555010002a0410002803f99999999888877776666555555555555008220410002204100022041000220410002704200027042000270420002704299999999888877776666555555555555000401000507476f2053696d00010100080100070000000001"

func TestPacketDecodeText(t *testing.T) {
	out, err := runPacket(t, "", "decode", regionHandshakeHex)
	require.NoError(t, err)
	for _, want := range []string{
		"0xD0 ZEROCODED|RELIABLE|ACK", "sequence", "30",
		"RegionHandshake (Low 148, id 0xFFFF0094, Trusted, Zerocoded)",
		`"Test Region"`, "RegionInfo4 (Variable, 1 entry)", "RegionInfo4[0].RegionProtocols", "acks", "[0]",
	} {
		require.Contains(t, out, want)
	}
}

func TestPacketDecodeSpacesAndArgs(t *testing.T) {
	a, err := runPacket(t, "", "decode", "--json", "000000000500fffffffb0102000000")
	require.NoError(t, err)
	b, err := runPacket(t, "", "decode", "--json", "00 00000005 00", "ff ff ff fb\n01 02000000")
	require.NoError(t, err)
	require.Equal(t, a, b)
	c, err := runPacket(t, "00 00 00 00 05 00 ff ff ff fb 01 02 00 00 00\n", "decode", "--json")
	require.NoError(t, err)
	require.Equal(t, a, c)
	require.Contains(t, a, `"message": "PacketAck"`)
	require.Contains(t, a, `"ID": 2`)
}

func TestPacketDecodeErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"decode", "40 00 zz"}, `character 'z' at offset 6 (byte 2 of the datagram): expected a hex digit`},
		{[]string{"decode", "400"}, "byte 1 has one digit, expected two"},
		{[]string{"decode", "4000"}, "offset 0"},
		{[]string{"decode", "400000000100ffff000315cd5b07aaaa"}, "CircuitCode.SessionID at body offset 4: LLUUID needs 16 bytes, have 2 (packet offset 14)"},
		{[]string{"encode", `{"message":"Nope"}`}, "not in the template"},
	} {
		_, err := runPacket(t, "", c.args...)
		require.Error(t, err, c.args)
		require.Contains(t, err.Error(), c.want)
	}
}

// TestPacketRoundTrip: decode --json, then encode, gives the original bytes.
func TestPacketRoundTrip(t *testing.T) {
	for _, h := range []string{
		regionHandshakeHex,
		"1000000014000201000000000000000102",
		"400000000000ffff000315cd5b07aaaaaaaabbbbccccddddeeeeeeeeeeee11111111222233334444555555555555",
		"c00000000300ffff00019511111111222233334444555555555555aaaaaaaabbbbccccddddeeeeeeeeeeee050003",
	} {
		js, err := runPacket(t, "", "decode", "--json", h)
		require.NoError(t, err)
		require.True(t, json.Valid([]byte(js)))
		out, err := runPacket(t, js, "encode")
		require.NoError(t, err)
		require.Equal(t, h, strings.TrimSpace(out))
	}
	out, err := runPacket(t, "", "encode", `{"message":"CompletePingCheck","sequence":9,"fields":{"PingID":{"PingID":7}}}`)
	require.NoError(t, err)
	require.Equal(t, "00000000090002"+"07", strings.TrimSpace(out))
}
