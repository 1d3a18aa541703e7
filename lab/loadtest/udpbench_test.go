package loadtest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBenchNetemIsExactAndRepeatable(t *testing.T) {
	cfg := BenchConfig{Circuits: 50, Rate: 10, Duration: 2 * time.Second, AckDelay: 10 * time.Millisecond}
	a, err := BenchNetem(cfg)
	require.NoError(t, err)
	b, err := BenchNetem(cfg)
	require.NoError(t, err)
	assert.Equal(t, 50, a.Connected)
	assert.Equal(t, uint64(50*10*2), a.AgentUpdates, "every circuit's AgentUpdates reach the region: 50 x 10/s x 2 s")
	assert.Equal(t, a.AgentUpdates, a.Acked, "each is acked")
	assert.Zero(t, a.Lost, "a lossless in-memory network loses nothing")
	assert.Equal(t, a.RegionReceived, b.RegionReceived, "the same workload gives the same counts")
	assert.Equal(t, a.AckLatency.ValueAtPercentile(99), b.AckLatency.ValueAtPercentile(99))
	assert.GreaterOrEqual(t, a.AckLatency.ValueAtPercentile(50), int64(10000), "acks wait for the region's 10 ms ack timer")
}

func TestBenchLoopbackAcksEveryAgentUpdate(t *testing.T) {
	r, err := BenchLoopback(context.Background(), BenchConfig{Circuits: 30, Rate: 20, Duration: time.Second})
	require.NoError(t, err)
	assert.Equal(t, 30, r.Connected)
	assert.InDelta(t, 30*20, float64(r.AgentUpdates), 60, "about 30 circuits x 20/s x 1 s reach the region")
	assert.Equal(t, r.AgentUpdates, r.Acked, "every AgentUpdate's ack comes back over loopback")
	assert.Positive(t, r.PacketsPerSecond())
	assert.Less(t, r.AckLatency.ValueAtPercentile(50), int64(time.Second/time.Microsecond), "acks come back within a second")
}
