package floor

import (
	"fmt"
	"net/netip"
	"time"

	"gridlab/lab/circuit"
	"gridlab/lab/lludp"
	"gridlab/netem"
	"gridlab/sim"
)

// task is an event as a sim.Handler (Layers.Kernel): each timer keeps its own, as the lab's
// viewers and regions do; a datagram on the floor's network takes an idle one.
type task struct {
	w *world
	e event
}

func (t *task) Fire() {
	w := t.w
	w.now = int64(w.s.Now())
	e := t.e
	if e.kind == toRegion || e.kind == toViewer {
		w.tasks = append(w.tasks, t) // idle again: fire may send, and take it
		t = nil
	}
	if err := w.fire(e, t); err != nil {
		w.fail(err)
	}
}

func (w *world) afterKernel(d int64, e event, t *task) {
	if t == nil {
		if n := len(w.tasks); n > 0 {
			t = w.tasks[n-1]
			w.tasks = w.tasks[:n-1]
		} else {
			t = &task{w: w}
		}
	}
	t.e = e
	w.s.AtH(sim.Time(w.now+d), labels[e.kind], t)
}

// runKernel runs the kernel a virtual second at a time, so that Second adds no events.
func (w *world) runKernel() error {
	for at := time.Second; ; at += time.Second {
		end := min(at, w.cfg.Duration)
		if err := w.s.RunUntil(sim.Time(end)); err != nil && w.err == nil {
			return fmt.Errorf("floor: %w", err)
		}
		if w.err != nil {
			return w.err
		}
		if end == w.cfg.Duration {
			return nil
		}
		if w.cfg.Second != nil {
			w.cfg.Second(at, w.s.Events())
		}
	}
}

// fail keeps the first error of a handler and stops the kernel.
func (w *world) fail(err error) {
	if w.err == nil {
		w.err = fmt.Errorf("floor: at %v: %w", time.Duration(w.now), err)
		w.s.Stop()
	}
}

// buildNetwork puts the viewers and the grid on netem: one segment with the workload's path,
// a host and socket per viewer, the grid host with a socket per region.
func (w *world) buildNetwork() error {
	w.net = netem.New(w.s)
	seg := w.net.AddSegment("internet", netip.MustParsePrefix("0.0.0.0/0"),
		netem.LinkParams{Latency: pathLatency + pathJitter/2, Jitter: pathJitter / 2})
	grid, err := w.net.AddHost("grid", seg, w.regions[0].ep.Addr())
	if err != nil {
		return fmt.Errorf("floor: grid host: %w", err)
	}
	for r := range w.regions {
		w.rsock[r], err = grid.ListenUDP(w.regions[r].ep.Port(), func(from netip.AddrPort, b []byte) {
			w.now = int64(w.s.Now())
			if err := w.regionGot(r, from, b); err != nil {
				w.fail(err)
			}
		})
		if err != nil {
			return fmt.Errorf("floor: region %d socket: %w", r, err)
		}
	}
	w.vsock = make([]*netem.UDPConn, len(w.viewers))
	for i := range w.viewers {
		ep := w.viewers[i].ep
		h, err := w.net.AddHost(fmt.Sprintf("viewer-%d", i), seg, ep.Addr())
		if err != nil {
			return fmt.Errorf("floor: viewer %d host: %w", i, err)
		}
		who := uint32(i)
		w.vsock[i], err = h.ListenUDP(ep.Port(), func(_ netip.AddrPort, b []byte) {
			w.now = int64(w.s.Now())
			if err := w.viewerGot(who, b); err != nil {
				w.fail(err)
			}
		})
		if err != nil {
			return fmt.Errorf("floor: viewer %d socket: %w", i, err)
		}
	}
	return nil
}

// buildCircuits gives every viewer and every region client a circuit: the viewer's acks ride
// on its packets, as the SL viewer's do; the region's do not, as OpenSim's do not.
func (w *world) buildCircuits() {
	for i := range w.viewers {
		v := &w.viewers[i]
		v.link = endLink{w: w, viewer: int32(i)}
		v.c = circuit.New(circuit.Config{Clock: w.s, Link: &v.link, Piggyback: true,
			Malformed: func(_ []byte, err error) { w.fail(fmt.Errorf("viewer %d: %w", i, err)) }})
	}
	for r := range w.regions {
		for c := range w.regions[r].clients {
			cl := &w.regions[r].clients[c]
			cl.link = endLink{w: w, viewer: -1, region: int32(r), client: int32(c)}
			cl.c = circuit.New(circuit.Config{Clock: w.s, AckDelay: 500 * time.Millisecond, Link: &cl.link,
				Malformed: func(_ []byte, err error) { w.fail(fmt.Errorf("region %d: client %d: %w", r, c, err)) }})
		}
	}
}

// endLink is a circuit's Link: a viewer's (viewer ≥ 0) or a region client's.
type endLink struct {
	w              *world
	viewer         int32
	region, client int32
}

func (l *endLink) SendDatagram(b []byte) {
	w := l.w
	if l.viewer >= 0 {
		w.viewerTransmit(uint32(l.viewer), b)
		return
	}
	w.regionTransmit(int(l.region), &w.regions[l.region].clients[l.client], b)
}

func (l *endLink) DeliverPacket(p *lludp.Packet) {
	w := l.w
	var err error
	if l.viewer >= 0 {
		err = w.viewerHandle(uint32(l.viewer), p)
	} else {
		err = w.regionHandle(int(l.region), &w.regions[l.region].clients[l.client], p)
	}
	if err != nil {
		w.fail(err)
	}
}
