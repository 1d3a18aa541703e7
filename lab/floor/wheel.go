package floor

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// afterWheel puts e on the floor's wheel d nanoseconds from now; d is at least 1 ns and less
// than the wheel's span, and never lands in the tick being dispatched (the workload's shortest
// delay is the path's). A slot's events are in the order they were scheduled, which orders
// events due at the same nanosecond.
func (w *world) afterWheel(d int64, e event) {
	at := w.now + d
	t := at / tick
	e.ns = uint32(at - t*tick)
	w.slots[t%wheelSlots] = append(w.slots[t%wheelSlots], e)
}

// run dispatches the floor's wheel tick by tick: each tick's events sorted once, by time and
// then by scheduling order.
func (w *world) run() error {
	end := int64(w.cfg.Duration)
	for w.cur = 0; w.cur*tick < end; w.cur++ {
		if w.cfg.Second != nil && w.cur%1000 == 0 && w.cur > 0 {
			w.cfg.Second(time.Duration(w.cur*tick), w.events)
		}
		s := &w.slots[w.cur%wheelSlots]
		if len(*s) == 0 {
			continue
		}
		// Take the tick's events, leaving the slot an empty buffer for the tick a lap on.
		w.batch, *s = *s, w.batch[:0]
		w.order = w.order[:0]
		for i, e := range w.batch {
			w.order = append(w.order, uint64(e.ns)<<32|uint64(i))
		}
		slices.Sort(w.order)
		base := w.cur * tick
		for _, o := range w.order {
			e := w.batch[uint32(o)]
			w.now = base + int64(e.ns)
			if w.now >= end {
				return nil
			}
			w.events++
			w.mix(uint64(w.now))
			w.mix(uint64(e.kind))
			if err := w.fire(e, nil); err != nil {
				return fmt.Errorf("floor: at %v: %w", time.Duration(w.now), err)
			}
		}
	}
	return nil
}

// send copies datagram b into a packet from src and schedules its arrival, after the path's latency
// and no earlier than the datagram before it on the same path (*pathFree): the floor's network.
func (w *world) send(src netip.AddrPort, pathFree *int64, e event, b []byte) {
	p, fresh := w.free.Take()
	if fresh {
		w.pkts = append(w.pkts, packet{})
	}
	pk := &w.pkts[p]
	pk.src = src
	e.pkt, e.n = p, uint16(copy(pk.b[:], b))
	at := max(w.now+int64(pathLatency)+w.rng.Int64N(int64(pathJitter)), *pathFree)
	*pathFree = at
	w.after(at-w.now, e, nil)
}

// arrive hands a packet on the floor's network to its receiver, its bytes mixed into the trace
// hash, and returns the packet to the pool.
func (w *world) arrive(e event) error {
	pk := &w.pkts[e.pkt]
	b := pk.b[:e.n]
	defer w.free.Free(e.pkt)
	if w.s != nil {
		w.s.TraceBytes("udp", b)
	} else {
		w.mixBytes(b)
	}
	if e.kind == toRegion {
		return w.regionGot(int(e.who), pk.src, b)
	}
	return w.viewerGot(e.who, b)
}

func (w *world) mix(x uint64) { w.hash = (w.hash ^ x) * fnvPrime }

func (w *world) mixBytes(b []byte) {
	h := w.hash
	for ; len(b) >= 8; b = b[8:] {
		h = (h ^ binary.LittleEndian.Uint64(b)) * fnvPrime
	}
	for _, c := range b {
		h = (h ^ uint64(c)) * fnvPrime
	}
	w.hash = (h ^ 0xFF) * fnvPrime
}
