package lab

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"gridlab/scenarios"
)

// gridAction resolves the timeline entries aimed at the grid rather than the network: a host
// sending datagrams (send_udp) and a region process restarting (restart_region). ok is false
// for every other kind of entry.
func (w *world) gridAction(e scenarios.Event) (act func() string, what string, ok bool, err error) {
	switch {
	case e.SendUDP != nil:
		u := e.SendUDP
		h := w.hosts[u.From]
		if h == nil {
			return nil, "", true, fmt.Errorf("send_udp.from: no host %q", u.From)
		}
		to, err := netip.ParseAddrPort(u.To)
		if err != nil {
			return nil, "", true, fmt.Errorf("send_udp.to: %w", err)
		}
		count, gap := max(u.Count, 1), u.Interval
		if gap == 0 {
			gap = time.Second
		}
		data := []byte(u.Data)
		what = fmt.Sprintf("%s sends %d × %d-byte datagram %s to %s, %v apart", u.From, count, len(data), quoteShort(u.Data), to, gap)
		return func() string {
			sock, err := h.ListenUDP(0, func(netip.AddrPort, []byte) {})
			if err != nil {
				return "could not open a socket: " + err.Error()
			}
			sent := 0
			var next func()
			next = func() {
				sock.WriteTo(data, to)
				if sent++; sent < count {
					w.s.After(gap, "lab/send-udp", next)
				} else {
					sock.Close()
				}
			}
			next()
			return ""
		}, what, true, nil
	case e.Restart != "":
		return w.restartAction(e.Restart)
	}
	return nil, "", false, nil
}

// quoteShort quotes a payload for the timeline, shortened when long.
func quoteShort(s string) string {
	if len(s) > 24 {
		s = s[:24] + "…"
	}
	return strconv.Quote(s)
}

// regionByName finds a region of the grid by its Regions.ini section name (case-insensitively).
func (w *world) regionIndex(name string) int {
	for i, rg := range w.regions {
		if strings.EqualFold(rg.Name(), name) {
			return i
		}
	}
	return -1
}
