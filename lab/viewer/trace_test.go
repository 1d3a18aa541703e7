package viewer_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gridlab/lab/lludp"
	"gridlab/lab/viewer"
)

func TestPeekHeaderAgreesWithTheDecoder(t *testing.T) {
	// PeekHeader reads flags, sequence number, message ID and appended acks
	// the way lludp's full decoder does, zero-coded message numbers included.
	msgs := []lludp.Message{
		&lludp.UseCircuitCode{Code: 7, SessionID: uuid.New(), AgentID: uuid.New()},
		&lludp.CompleteAgentMovement{},
		&lludp.StartPingCheck{PingID: 1},
		&lludp.AgentUpdate{Far: 64},
	}
	for _, m := range msgs {
		for _, flags := range []lludp.Flags{0, lludp.FlagReliable, lludp.FlagReliable | lludp.FlagResent, lludp.FlagZerocoded} {
			for _, acks := range [][]uint32{nil, {1, 2, 3}} {
				b := lludp.Encode(nil, flags, 4242, m, acks)
				var d lludp.Decoder
				p, err := d.Decode(b)
				require.NoError(t, err)
				f, seq, id, n := viewer.PeekHeader(b)
				assert.Equal(t, p.ID, id, "%s flags %x", m.ID(), flags)
				assert.Equal(t, p.Seq, seq)
				assert.Equal(t, p.Flags, f)
				assert.Equal(t, len(p.Acks), n)
			}
		}
	}
	_, _, id, _ := viewer.PeekHeader([]byte{1, 2})
	assert.Equal(t, lludp.MsgID(0), id, "a runt datagram has no message")
}

// FuzzPeekHeader checks PeekHeader against lludp's decoder on any bytes: it never panics, and
// on every datagram the decoder accepts it reads the same flags, sequence number, message ID
// and count of appended acks.
func FuzzPeekHeader(f *testing.F) {
	for _, m := range []lludp.Message{&lludp.AgentUpdate{Far: 64}, &lludp.StartPingCheck{PingID: 1},
		&lludp.UseCircuitCode{Code: 7}, &lludp.CompleteAgentMovement{}} {
		f.Add(lludp.Encode(nil, lludp.FlagReliable, 9, m, []uint32{5}))
		f.Add(lludp.Encode(nil, 0, 1, m, nil))
	}
	f.Add([]byte{0x80, 0, 0, 0, 1, 0, 0, 2, 0xFF, 0xFF, 0, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		flags, seq, id, acks := viewer.PeekHeader(b)
		var d lludp.Decoder
		p, err := d.Decode(b)
		if err != nil {
			return
		}
		if flags != p.Flags || seq != p.Seq || id != p.ID || acks != len(p.Acks) {
			t.Fatalf("PeekHeader read (%x, %d, %s, %d acks), the decoder (%x, %d, %s, %d acks)",
				flags, seq, id, acks, p.Flags, p.Seq, p.ID, len(p.Acks))
		}
	})
}
