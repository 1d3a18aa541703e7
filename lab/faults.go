package lab

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"gridlab/lab/vhttp"
	"gridlab/netem"
	"gridlab/scenarios"
	"gridlab/sim"
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
	case e.RestartLogin != nil:
		return w.restartLoginAction(*e.RestartLogin)
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

// loginProcess is the login service's process as the network sees it: its listening socket and
// the connections it has accepted, so that a crash (restart_login) can drop them all.
type loginProcess struct {
	host    *netem.Host
	port    uint16
	accept  func(c *netem.TCPConn) netem.StreamHandler
	l       *netem.TCPListener
	conns   []*netem.TCPConn // in the order accepted; closed ones are pruned at a crash
	crashed int
	downs   [][2]sim.Time // when it was down: crash, back (0 while still down)
}

// downAt reports whether the login service was down at t, and the interval.
func (lp *loginProcess) downAt(t sim.Time) ([2]sim.Time, bool) {
	if lp == nil {
		return [2]sim.Time{}, false
	}
	for _, d := range lp.downs {
		if t >= d[0] && (d[1] == 0 || t < d[1]) {
			return d, true
		}
	}
	return [2]sim.Time{}, false
}

// listenLogin starts the login service's HTTP listener on host:port with handler h.
func (w *world) listenLogin(host *netem.Host, port uint16, h vhttp.Handler) error {
	lp := &loginProcess{host: host, port: port}
	lp.accept = func(c *netem.TCPConn) netem.StreamHandler {
		lp.conns = append(lp.conns, c)
		return vhttp.NewServerConn(c, h, 1<<20)
	}
	l, err := host.ListenTCP(port, lp.accept)
	if err != nil {
		return fmt.Errorf("login service: TCP port %d: %w", port, err)
	}
	lp.l = l
	w.loginProc = lp
	return nil
}

// restartLoginAction crashes the login service's process and starts it again after down: its
// connections are reset (logins in flight fail), connections meanwhile are refused, and what it
// kept only in memory (logins waiting for a worker) is lost. What a real grid keeps in its
// database — accounts, presence — survives.
func (w *world) restartLoginAction(down time.Duration) (func() string, string, bool, error) {
	what := fmt.Sprintf("login service crashes, back after %v", down)
	return func() string {
		lp := w.loginProc
		if lp == nil || lp.l == nil {
			return "no login service"
		}
		lp.l.Close()
		lp.l = nil
		lp.crashed++
		lp.downs = append(lp.downs, [2]sim.Time{w.s.Now(), 0})
		k := len(lp.downs) - 1
		n := 0
		for _, c := range lp.conns {
			if !c.Closed() {
				c.Abort()
				n++
			}
		}
		lp.conns = lp.conns[:0]
		dropped := 0
		if w.loginQ != nil {
			dropped = w.loginQ.crash()
		}
		w.log.Logf("WARN", "[GRIDLAB]: Login service process died: %d connections reset, %d queued logins lost", n, dropped)
		w.s.After(down, "lab/login-restart", func() {
			l, err := lp.host.ListenTCP(lp.port, lp.accept)
			if err != nil {
				w.log.Logf("ERROR", "[GRIDLAB]: Login service could not listen again on %d: %v", lp.port, err)
				return
			}
			lp.l = l
			lp.downs[k][1] = w.s.Now()
			w.log.Logf("INFO", "[LLOGIN SERVICE]: Starting...")
		})
		return ""
	}, what, true, nil
}
