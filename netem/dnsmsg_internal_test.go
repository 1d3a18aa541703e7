package netem

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A query and an answer as dig would show them, written by hand from RFC 1035 4.1.
const (
	// id 0x1234, RD, one question grid.example.org A IN.
	hexQuery = "1234 0100 0001 0000 0000 0000 0467726964076578616d706c65036f726700 0001 0001"
	// id 0x1234, QR RD RA, the question, one answer with a pointer to offset 12, TTL 300, 203.0.113.7.
	hexAnswer = "1234 8180 0001 0001 0000 0000 0467726964076578616d706c65036f726700 0001 0001" +
		" c00c 0001 0001 0000012c 0004 cb007107"
)

func unhex(t testing.TB, s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	require.NoError(t, err)
	return b
}

func TestDNSWireFormat(t *testing.T) {
	q := dnsMsg{id: 0x1234, flags: dnsRD, questions: []dnsQuestion{{"grid.example.org", dnsTypeA, dnsClassINET}}}
	b, err := appendDNS(nil, &q)
	require.NoError(t, err)
	assert.Equal(t, unhex(t, hexQuery), b, "a query encodes as RFC 1035 lays it out")
	a := q
	a.flags = dnsQR | dnsRD | dnsRA
	a.answers = []dnsRR{{"grid.example.org", dnsTypeA, dnsClassINET, 300, []byte{203, 0, 113, 7}}}
	b, err = appendDNS(nil, &a)
	require.NoError(t, err)
	assert.Equal(t, unhex(t, hexAnswer), b, "the answer's name is a pointer to the question's")
	m, err := parseDNS(b)
	require.NoError(t, err)
	assert.Equal(t, &a, m, "parsing the answer gives back the message")

	for _, tc := range []struct {
		what string
		msg  string
		err  string
	}{
		{"shorter than a header", "1234 0100 0001", "too short"},
		{"a count larger than the message can hold", "1234 0100 ffff 0000 0000 0000", "exceed"},
		{"a name running off the end", "1234 0100 0001 0000 0000 0000 0467726964", "too short"},
		{"a pointer to itself", "1234 0100 0001 0000 0000 0000 c00c 0001 0001", "backwards"},
		{"a pointer forwards", "1234 0100 0001 0000 0000 0000 c010 0001 0001 00", "backwards"},
		{"a reserved label type", "1234 0100 0001 0000 0000 0000 40 0001 0001", "label type"},
		{"trailing bytes", hexQuery + " 00", "after the last record"},
		{"an A record of 5 bytes", "1234 8180 0000 0001 0000 0000 00 0001 0001 0000012c 0005 cb00710701", "A record of 5 bytes"},
		{"record data past the end", "1234 8180 0000 0001 0000 0000 00 0001 0001 0000012c 0009 cb007107", "too short"},
		{"a label with a dot", "1234 0100 0001 0000 0000 0000 03612e6200 0001 0001", "dot"},
	} {
		_, err := parseDNS(unhex(t, tc.msg))
		require.Error(t, err, tc.what)
		assert.Contains(t, err.Error(), tc.err, tc.what)
	}

	long := strings.Repeat("a", 64) + ".example"
	_, err = appendDNS(nil, &dnsMsg{questions: []dnsQuestion{{long, dnsTypeA, dnsClassINET}}})
	assert.Error(t, err, "a label over 63 octets cannot be encoded")
	_, err = appendDNS(nil, &dnsMsg{questions: []dnsQuestion{{strings.Repeat("abcdefgh.", 30), dnsTypeA, dnsClassINET}}})
	assert.Error(t, err, "a name over 255 octets cannot be encoded")
}

// FuzzParseDNS: the parser never panics, and what it accepts encodes back to a message that
// parses to the same thing.
func FuzzParseDNS(f *testing.F) {
	f.Add(unhex(f, hexQuery))
	f.Add(unhex(f, hexAnswer))
	f.Add(unhex(f, "1234 0100 0001 0000 0000 0000 c00c 0001 0001"))
	f.Add(unhex(f, "abcd 8183 0001 0000 0001 0000 046e6f706507657861 6d706c6500 0001 0001 c011 0006 0001 00000e10 0004 01020304"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseDNS(b)
		if err != nil {
			return
		}
		out, err := appendDNS(nil, m)
		if err != nil {
			return // e.g. a parsed label the encoder refuses (empty label from "a..b" cannot occur; over-long names can)
		}
		m2, err := parseDNS(out)
		if err != nil {
			t.Fatalf("re-encoded message does not parse: %v\n% x", err, out)
		}
		assert.Equal(t, m, m2)
	})
}
