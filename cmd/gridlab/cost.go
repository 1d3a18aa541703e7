package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"gridlab/reports"
)

// runCost is what a simulated run cost this machine: wall time, throughput and memory. It is
// printed after the run (never written into the report, which must not depend on the machine).
type runCost struct {
	wall      time.Duration
	events    uint64
	datagrams uint64 // UDP datagrams handed to the network
	connected int    // the most circuits open at once
	peakRSS   uint64 // bytes; 0 when the system does not say
}

func costOf(run *reports.Run, wall time.Duration) runCost {
	c := runCost{wall: wall, events: run.Events}
	for _, s := range run.Samples {
		c.connected = max(c.connected, s.Circuits)
		c.datagrams = max(c.datagrams, s.UDPSent)
	}
	c.peakRSS = peakRSS()
	return c
}

// String reads e.g. "16.15 M events in 24.6s (0.66 M/s), 8.79 M datagrams (0.36 M/s), peak
// RSS 474 MB for 8,012 connected viewers (59 KB each)".
func (c runCost) String() string {
	secs := max(c.wall.Seconds(), 1e-9)
	s := fmt.Sprintf("%.2f M events in %s (%.2f M/s), %.2f M datagrams (%.2f M/s)",
		float64(c.events)/1e6, c.wall.Round(time.Millisecond), float64(c.events)/secs/1e6,
		float64(c.datagrams)/1e6, float64(c.datagrams)/secs/1e6)
	if c.peakRSS > 0 {
		s += fmt.Sprintf(", peak RSS %d MB", c.peakRSS>>20)
		if c.connected > 0 {
			s += fmt.Sprintf(" for %d connected viewers (%d KB each)", c.connected, c.peakRSS/uint64(c.connected)>>10)
		}
	}
	return s
}

// peakRSS returns the process's peak resident set size from /proc/self/status (VmHWM), or 0
// where there is no such file.
func peakRSS() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
