package main

import (
	"bufio"
	"bytes"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLargeAnonRangesPicksTheHeapMappings(t *testing.T) {
	// Only private anonymous read-write mappings of at least 4 MiB: not files, not named
	// regions, not read-only or reserved (---p) ones, not small ones; odd lines are skipped.
	maps := `00400000-00a8f000 r-xp 00000000 fe:00 10158484                           /tmp/gl
01152000-016c8000 rw-p 00d52000 fe:00 10158484                           /tmp/gl
016c8000-0370d000 rw-p 00000000 00:00 0
37364000-37385000 rw-p 00000000 00:00 0                                  [heap]
32e470000000-32e472000000 ---p 00000000 00:00 0
32e472000000-32e477400000 rw-p 00000000 00:00 0
7f7334000000-7f7334021000 rw-p 00000000 00:00 0
not a mapping line
zz-32 rw-p 00000000 00:00 0
`
	assert.Equal(t, [][2]uintptr{{0x016c8000, 0x0370d000}, {0x32e472000000, 0x32e477400000}}, largeAnonRanges([]byte(maps)))
}

func TestHeapMappingsAreAdvisedForHugePages(t *testing.T) {
	// After advise, the mapping holding a freshly allocated 64 MiB block is advised for
	// transparent huge pages (smaps lists the "hg" flag, which only madvise sets) — when the
	// kernel has them at all.
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || bytes.Contains(mode, []byte("[never]")) {
		t.Skip("transparent huge pages are not available here")
	}
	block := make([]byte, 64<<20)
	block[0] = 1
	var h hugePages
	h.advise()
	require.False(t, h.failed, "the kernel took the advice")
	addr := uintptr(unsafe.Pointer(&block[len(block)/2]))
	advised, found := smapsAdvised(t, addr)
	require.True(t, found, "the block's mapping is listed")
	assert.True(t, advised, "the block's mapping is advised for huge pages")
}

// smapsAdvised reports whether the mapping holding addr has the VmFlags "hg" (MADV_HUGEPAGE).
func smapsAdvised(t *testing.T, addr uintptr) (advised, found bool) {
	t.Helper()
	data, err := os.ReadFile("/proc/self/smaps")
	require.NoError(t, err)
	sc := bufio.NewScanner(bytes.NewReader(data))
	in := false
	for sc.Scan() {
		line := sc.Text()
		if lo, rest, ok := strings.Cut(line, "-"); ok && !strings.Contains(lo, ":") && !strings.Contains(lo, " ") {
			hi, _, _ := strings.Cut(rest, " ")
			a, err1 := strconv.ParseUint(lo, 16, 64)
			b, err2 := strconv.ParseUint(hi, 16, 64)
			in = err1 == nil && err2 == nil && uint64(addr) >= a && uint64(addr) < b
			continue
		}
		if in && strings.HasPrefix(line, "VmFlags:") {
			return slices.Contains(strings.Fields(line), "hg"), true
		}
	}
	return false, false
}
