package lab

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"time"

	"gridlab/lab/vhttp"
	"gridlab/reports"
	"gridlab/scenarios"
	"gridlab/sim"
)

// The capacity model (scenario grid.capacity): the grid's machines take time to do their work.
// The login service has a fixed number of workers, each busy for a login's service time; further
// requests wait in line, as HTTP requests wait for a server's worker threads. A region spends a
// fixed time on each inbound datagram and queues at most a receive buffer's worth; beyond that
// the datagram is lost, as a full socket buffer loses it.

// Defaults for the keys a capacity block leaves out (nil; a value given is never replaced:
// the scenario's checks refuse 0 workers or a 0-datagram buffer, and a 0 % spread is a fixed
// service time).
const (
	defaultLoginWorkers = 8
	defaultLoginSpread  = 0.5
	defaultUDPBuffer    = 1024
)

// loginWorkers is k's login_workers, or the default.
func loginWorkers(k scenarios.Capacity) int {
	if k.LoginWorkers == nil {
		return defaultLoginWorkers
	}
	return *k.LoginWorkers
}

// loginSpread is k's login_time_spread, or the default.
func loginSpread(k scenarios.Capacity) float64 {
	if k.LoginTimeSpread == nil {
		return defaultLoginSpread
	}
	return float64(*k.LoginTimeSpread)
}

// udpBuffer is k's region_udp_buffer, or the default.
func udpBuffer(k scenarios.Capacity) int {
	if k.RegionUDPBuffer == nil {
		return defaultUDPBuffer
	}
	return *k.RegionUDPBuffer
}

// loginQueue puts a login service's requests through its workers.
type loginQueue struct {
	s       *sim.Sim
	inner   vhttp.Handler
	workers int
	busy    int
	mean    time.Duration
	spread  float64
	rnd     *rand.Rand
	waiting []queuedLogin
	head    int
	stats   loginQueueStats
}

type queuedLogin struct {
	req   *http.Request
	body  []byte
	reply func(vhttp.Response)
	since sim.Time
}

// loginQueueStats is what the diagnosis and the counters report of the login queue.
type loginQueueStats struct {
	requests, queued uint64
	maxLen           int
	maxWait          time.Duration
	waitOf           map[netip.Addr]time.Duration // by client address: the longest wait
}

// capLogin wraps the login service's handler in the capacity model, if the scenario has one.
func (w *world) capLogin(h vhttp.Handler) vhttp.Handler {
	k := w.sc.Grid.Capacity
	if k.LoginTime <= 0 {
		return h
	}
	q := &loginQueue{s: w.s, inner: h, workers: loginWorkers(k), mean: k.LoginTime, spread: loginSpread(k),
		rnd: w.s.Rand("grid/login-capacity")}
	q.stats.waitOf = map[netip.Addr]time.Duration{}
	w.loginQ = q
	return q
}

// ServeVHTTP queues the request for a worker. Only the login itself queues: grid info and the
// like are cheap and answered at once.
func (q *loginQueue) ServeVHTTP(req *http.Request, body []byte, reply func(vhttp.Response)) {
	if req.Method != http.MethodPost {
		q.inner.ServeVHTTP(req, body, reply)
		return
	}
	q.stats.requests++
	if q.busy < q.workers {
		q.start(queuedLogin{req: req, body: body, reply: reply, since: q.s.Now()})
		return
	}
	q.stats.queued++
	q.waiting = append(q.waiting, queuedLogin{req: req, body: body, reply: reply, since: q.s.Now()})
	if n := len(q.waiting) - q.head; n > q.stats.maxLen {
		q.stats.maxLen = n
	}
}

func (q *loginQueue) start(l queuedLogin) {
	q.busy++
	wait := q.s.Now().Sub(l.since)
	q.stats.maxWait = max(q.stats.maxWait, wait)
	if ap, err := netip.ParseAddrPort(l.req.RemoteAddr); err == nil && wait > q.stats.waitOf[ap.Addr()] {
		q.stats.waitOf[ap.Addr()] = wait
	}
	d := q.mean
	if q.spread > 0 {
		d = time.Duration(float64(q.mean) * (1 - q.spread + 2*q.spread*q.rnd.Float64()))
	}
	q.s.After(d, "grid/login-worker", func() {
		q.inner.ServeVHTTP(l.req, l.body, l.reply)
		q.busy--
		if q.head < len(q.waiting) {
			next := q.waiting[q.head]
			q.waiting[q.head] = queuedLogin{}
			q.head++
			if q.head == len(q.waiting) {
				q.waiting, q.head = q.waiting[:0], 0
			}
			q.start(next)
		}
	})
}

// crash forgets the logins waiting for a worker (the process died); those being served finish
// into connections that are gone. It returns how many were waiting.
func (q *loginQueue) crash() int {
	n := len(q.waiting) - q.head
	clear(q.waiting)
	q.waiting, q.head = q.waiting[:0], 0
	return n
}

// regionInbox is a region's UDP receive buffer under the capacity model: datagrams wait their
// turn, the region spends a fixed time on each, and a full buffer loses new arrivals.
type regionInbox struct {
	s       *sim.Sim
	deliver func(from netip.AddrPort, b []byte)
	cost    time.Duration
	limit   int
	queue   []inboxItem
	head    int
	running bool
	drops   uint64
	maxLen  int
	dropped func(from netip.AddrPort, b []byte) // told of each datagram the full buffer loses (the observer's evidence)
}

type inboxItem struct {
	from netip.AddrPort
	b    []byte
}

// capRegion wraps a region's receive function in the capacity model, if the scenario has one.
func (w *world) capRegion(name string, deliver func(netip.AddrPort, []byte)) func(netip.AddrPort, []byte) {
	k := w.sc.Grid.Capacity
	if k.RegionPacketTime <= 0 {
		return deliver
	}
	in := &regionInbox{s: w.s, deliver: deliver, cost: k.RegionPacketTime, limit: udpBuffer(k),
		dropped: func(from netip.AddrPort, b []byte) { w.obs.bufferDrop(name, from, b) }}
	w.inboxes = append(w.inboxes, namedInbox{name, in})
	return in.push
}

type namedInbox struct {
	region string
	in     *regionInbox
}

func (in *regionInbox) push(from netip.AddrPort, b []byte) {
	if len(in.queue)-in.head >= in.limit {
		in.drops++
		if in.dropped != nil {
			in.dropped(from, b)
		}
		return
	}
	in.queue = append(in.queue, inboxItem{from, append([]byte(nil), b...)})
	if n := len(in.queue) - in.head; n > in.maxLen {
		in.maxLen = n
	}
	if !in.running {
		in.running = true
		in.s.After(in.cost, "grid/region-rx", in.next)
	}
}

func (in *regionInbox) next() {
	it := in.queue[in.head]
	in.queue[in.head] = inboxItem{}
	in.head++
	if in.head == len(in.queue) {
		in.queue, in.head = in.queue[:0], 0
	}
	in.deliver(it.from, it.b)
	if in.head < len(in.queue) {
		in.s.After(in.cost, "grid/region-rx", in.next)
	} else {
		in.running = false
	}
}

// capacityCounters adds the capacity model's counters to a run's.
func (w *world) capacityCounters(counters map[string]uint64) {
	if q := w.loginQ; q != nil {
		counters["capacity/login/requests"] = q.stats.requests
		counters["capacity/login/queued"] = q.stats.queued
		counters["capacity/login/max_queue"] = uint64(q.stats.maxLen)
		counters["capacity/login/max_wait_ms"] = uint64(q.stats.maxWait / time.Millisecond)
	}
	for _, n := range w.inboxes {
		counters["capacity/region/"+n.region+"/udp_buffer_drops"] = n.in.drops
		counters["capacity/region/"+n.region+"/max_queue"] = uint64(n.in.maxLen)
	}
}

// stormEvidence explains a login that timed out while the login service's workers were
// overwhelmed: the queue the viewer's request waited in. ok is false when the model is off or
// nothing queued.
func (w *world) stormEvidence(client netip.Addr, timeout time.Duration) (diagnosis, bool) {
	q := w.loginQ
	if q == nil || q.stats.queued == 0 {
		return diagnosis{}, false
	}
	k := w.sc.Grid.Capacity
	mine := ""
	if wait, ok := q.stats.waitOf[client]; ok {
		mine = fmt.Sprintf(" This viewer's request waited %s for a worker.", secs(wait))
	} else if client.IsValid() {
		mine = " This viewer's request was still waiting for a worker when it gave up."
	}
	return diagnosis{Mode: "login-storm",
		Evidence: fmt.Sprintf("The login service has %s and a login takes each about %s, so it completes about %.1f logins/s; %d of %d requests had to queue, up to %d at once, and the longest wait was %s — more than the viewer's %s login timeout.%s",
			plural(q.workers, "worker"), secs(k.LoginTime), float64(q.workers)/k.LoginTime.Seconds(), q.stats.queued, q.stats.requests, q.stats.maxLen, secs(q.stats.maxWait), secs(timeout), mine),
		Fix: "Spread the arrivals (stagger bot logins, a login queue with back-off), or give the login service more workers or faster logins: arrivals above its rate only lengthen the queue."}, true
}

// regionFindings reports regions whose receive buffer overflowed.
func (w *world) regionFindings() []reports.Finding {
	var out []reports.Finding
	for _, n := range w.inboxes {
		if n.in.drops == 0 {
			continue
		}
		out = append(out, reports.Finding{Mode: "login-storm", Count: int(n.in.drops),
			Evidence: fmt.Sprintf("Region %s's UDP receive buffer (%d datagrams, each taking %s to handle) overflowed: %d datagrams were lost, up to %d waited at once.",
				n.region, n.in.limit, secs(w.sc.Grid.Capacity.RegionPacketTime), n.in.drops, n.in.maxLen),
			Fix: "Spread the arrivals, or give the region more receive buffer (net.core.rmem_max) or a faster machine."})
	}
	return out
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
