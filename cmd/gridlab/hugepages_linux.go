package main

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"syscall"
)

// minHugeRange is the smallest mapping worth advising: one that holds a whole 2 MiB page
// whatever its alignment. Go's heap grows in 4 MiB mappings or more; thread stacks and small
// runtime mappings are smaller.
const minHugeRange = 4 << 20

const (
	madvHugePage = 14 // MADV_HUGEPAGE
	madvCollapse = 25 // MADV_COLLAPSE (Linux 6.1)
)

// advise reads the process's mappings and advises the parts of each large private anonymous
// read-write one it has not advised yet.
//
// Advice alone comes too late: the runtime maps the heap 4 MiB at a time and fills the new
// mapping at once, in small pages, before the next call here. So each new range is also
// collapsed into huge pages, once (MADV_COLLAPSE copies the small pages into huge ones). Only
// once: collapsing again would re-back with zeros the pages the runtime has since returned to
// the OS.
func (h *hugePages) advise() {
	if h.failed {
		return
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		h.failed = true
		return
	}
	for _, m := range largeAnonRanges(maps) {
		for _, r := range h.done.missing(m) {
			if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, r[0], r[1]-r[0], madvHugePage); errno != 0 {
				h.failed = true // no THP in this kernel, or it is off: nothing to gain
				return
			}
			syscall.Syscall(syscall.SYS_MADVISE, r[0], r[1]-r[0], madvCollapse) // best effort
			h.done.add(r)
		}
	}
}

// largeAnonRanges returns the [start, end) of each private anonymous read-write mapping of at
// least minHugeRange bytes in a /proc/PID/maps listing ("start-end perms offset dev inode
// [path]"). Lines it cannot read are skipped: the listing is the kernel's, and advice is only
// an optimisation.
func largeAnonRanges(maps []byte) [][2]uintptr {
	var out [][2]uintptr
	sc := bufio.NewScanner(bytes.NewReader(maps))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) != 5 || string(f[1]) != "rw-p" || string(f[4]) != "0" {
			continue // a file, a named region ([stack], [heap]) or not writable
		}
		lo, hi, ok := bytes.Cut(f[0], []byte("-"))
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(string(lo), 16, 64)
		end, err2 := strconv.ParseUint(string(hi), 16, 64)
		if err1 != nil || err2 != nil || end < start+minHugeRange {
			continue
		}
		out = append(out, [2]uintptr{uintptr(start), uintptr(end)})
	}
	return out
}
