package lab

import (
	"fmt"
	"net/netip"

	"gridlab/lab/viewer"
	"gridlab/netem"
	"gridlab/reports"
	"gridlab/sim"
)

// gridLog collects the grid's log lines with virtual timestamps, as an operator would read them.
type gridLog struct {
	s     *sim.Sim
	lines []reports.LogLine
}

func (l *gridLog) Logf(level, format string, args ...any) {
	if level == "DEBUG" {
		return
	}
	l.lines = append(l.lines, reports.LogLine{At: l.s.Now().Duration(), Level: level, Text: fmt.Sprintf(format, args...)})
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
