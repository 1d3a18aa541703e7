package main

import (
	"slices"

	"gridlab/lab"
)

// hugePages asks the OS to back the process's large heap mappings with transparent huge pages
// (2 MiB on x86-64), where it can (hugepages_linux.go; elsewhere it does nothing).
//
// A large run is bound by memory latency: every datagram touches the state of one viewer out of
// tens of thousands, and with 4 KiB pages nearly every such touch also misses the TLB and walks
// the page tables, itself a cache miss. Linux gives huge pages to anonymous memory either always
// or, the default of many distributions, only to ranges that ask (madvise); the Go runtime does
// not ask for its heap. With huge pages the 16,000-viewer shape of scale-100k takes 9-20 %
// fewer cycles and the full 100,000 viewers run 1.4-1.7x faster (docs/BENCHMARKS.md, session
// 4). It changes nothing a run computes, only how fast.
type hugePages struct {
	done   ranges // address ranges already advised
	failed bool   // the OS said no once: stop asking
}

// withHugePages wraps a run's progress callback (nil for none) so that the heap's new
// mappings are advised every virtual second, as the heap grows.
func withHugePages(opt *lab.Options, enabled bool) {
	if !enabled {
		return
	}
	h := &hugePages{}
	h.advise()
	next := opt.Progress
	opt.Progress = func(p lab.Progress) {
		h.advise()
		if next != nil {
			next(p)
		}
	}
}

// ranges is a set of addresses as sorted, disjoint, non-adjacent [start, end) intervals.
type ranges [][2]uintptr

// missing returns the parts of r not in the set, in order.
func (s ranges) missing(r [2]uintptr) [][2]uintptr {
	var out [][2]uintptr
	at := r[0]
	for _, x := range s {
		if x[1] <= at {
			continue
		}
		if x[0] >= r[1] {
			break
		}
		if x[0] > at {
			out = append(out, [2]uintptr{at, x[0]})
		}
		at = x[1]
		if at >= r[1] {
			return out
		}
	}
	if at < r[1] {
		out = append(out, [2]uintptr{at, r[1]})
	}
	return out
}

// add puts r into the set, merging it with the intervals it overlaps or touches.
func (s *ranges) add(r [2]uintptr) {
	i, _ := slices.BinarySearchFunc(*s, r[0], func(x [2]uintptr, a uintptr) int {
		switch {
		case x[1] < a:
			return -1
		case x[0] > a:
			return 1
		}
		return 0
	})
	j := i
	for j < len(*s) && (*s)[j][0] <= r[1] {
		r[0], r[1] = min(r[0], (*s)[j][0]), max(r[1], (*s)[j][1])
		j++
	}
	*s = slices.Replace(*s, i, j, r)
}
