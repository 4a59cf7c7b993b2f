//go:build linux

package gather

import (
	"bytes"
	"os"

	"golang.org/x/sys/unix"
)

// adviseHugePages asks the kernel to back b with transparent huge pages
// (as numpy does for its large arrays); best effort.
func adviseHugePages(b []byte) {
	_ = unix.Madvise(b, unix.MADV_HUGEPAGE)
}

// anonHugeKiB reports how much of this process's memory is on
// transparent huge pages, or -1 if unknown.
func anonHugeKiB() int64 {
	data, err := os.ReadFile("/proc/self/smaps_rollup")
	if err != nil {
		return -1
	}
	for _, line := range bytes.Split(data, []byte("\n")) {
		if f := bytes.Fields(line); len(f) >= 2 && string(f[0]) == "AnonHugePages:" {
			var v int64
			for _, c := range f[1] {
				v = v*10 + int64(c-'0')
			}
			return v
		}
	}
	return -1
}
