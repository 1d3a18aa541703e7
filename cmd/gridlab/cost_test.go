package main

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"gridlab/reports"
)

func TestRunCostNamesThroughputAndMemoryPerConnectedViewer(t *testing.T) {
	run := &reports.Run{Events: 3_000_000, Samples: []reports.Sample{
		{Circuits: 10, UDPSent: 100}, {Circuits: 1000, UDPSent: 500_000}, {Circuits: 20, UDPSent: 1_000_000},
	}}
	c := costOf(run, 2*time.Second)
	assert.Equal(t, 1000, c.connected, "the most circuits open at once")
	assert.Equal(t, uint64(1_000_000), c.datagrams, "the last cumulative count")
	c.peakRSS = 100 << 20
	assert.Equal(t, "3.00 M events in 2s (1.50 M/s), 1.00 M datagrams (0.50 M/s), peak RSS 100 MB for 1000 connected viewers (102 KB each)", c.String())
	c.peakRSS = 0
	assert.Equal(t, "3.00 M events in 2s (1.50 M/s), 1.00 M datagrams (0.50 M/s)", c.String(), "no memory figure where the system gives none")
}

func TestPeakRSSIsReadOnLinux(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("VmHWM is Linux's")
	}
	assert.Greater(t, peakRSS(), uint64(1<<20), "a Go test process has more than 1 MB resident")
}
