package history

import (
	"fmt"

	"github.com/ibmb-dev/ibmb/internal/memlimit"
	"golang.org/x/sys/unix"
)

// mapAnon returns size zeroed bytes outside the Go heap (transparent huge
// pages advised) and the function that unmaps them.
func mapAnon(size int64) ([]byte, func() error, error) {
	mem, err := unix.Mmap(-1, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: history: cannot map %d bytes: %v", memlimit.ErrMemory, size, err)
	}
	_ = unix.Madvise(mem, unix.MADV_HUGEPAGE) // advisory
	return mem, func() error { return unix.Munmap(mem) }, nil
}
