package lab

import (
	"fmt"
	"net/netip"

	"gridlab/lab/viewer"
	"gridlab/netem"
	"gridlab/reports"
	"gridlab/sim"
)

// maxLogLines bounds the grid log a run keeps, so that a flood of bad packets (each of which
// OpenSim logs) cannot grow memory without bound; the rest are counted.
const maxLogLines = 100_000

// gridLog collects the grid's log lines with virtual timestamps, as an operator would read them.
type gridLog struct {
	s       *sim.Sim
	lines   []reports.LogLine
	dropped int
}

func (l *gridLog) Logf(level, format string, args ...any) {
	if level == "DEBUG" {
		return
	}
	if len(l.lines) >= maxLogLines {
		l.dropped++
		return
	}
	if len(l.lines) == cap(l.lines) {
		l.grow()
	}
	l.lines = append(l.lines, reports.LogLine{At: l.s.Now().Duration(), Level: level, Text: fmt.Sprintf(format, args...)})
}

// grow doubles the lines' capacity, up to maxLogLines. append alone grows a slice this large
// by a quarter at a time, copying and discarding five times what it finally keeps: at 100,000
// lines (4 MB), that was the largest allocation of a login storm outside the login codec.
func (l *gridLog) grow() {
	c := min(max(2*cap(l.lines), 256), maxLogLines) // Logf grows only below maxLogLines
	l.lines = append(make([]reports.LogLine, 0, c), l.lines...)
}

// all returns the kept lines, with a last line saying how many were not kept.
func (l *gridLog) all() []reports.LogLine {
	if l.dropped == 0 {
		return l.lines
	}
	return append(l.lines, reports.LogLine{At: l.s.Now().Duration(), Level: "WARN",
		Text: fmt.Sprintf("[GRIDLAB]: %d more log lines were not kept (the first %d are above)", l.dropped, maxLogLines)})
}

// hostNet gives a viewer its host's network stack.
type hostNet struct{ h *netem.Host }

func (n hostNet) DialTCP(to netip.AddrPort, h viewer.StreamHandler) viewer.Conn {
	return n.h.DialTCP(to, h)
}

func (n hostNet) Resolve(name string, cb func([]netip.Addr, error)) { n.h.Resolve(name, cb) }

func (n hostNet) ListenUDP(recv func(from netip.AddrPort, b []byte)) (viewer.UDPSocket, error) {
	c, err := n.h.ListenUDP(0, recv)
	if err != nil {
		return nil, err
	}
	return c, nil
}
