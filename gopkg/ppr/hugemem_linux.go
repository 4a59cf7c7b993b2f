package ppr

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugeMinBytes is the size from which per-worker arrays are mapped with
// transparent huge pages: the push reads them at random, and with 4 KiB
// pages most such reads also miss the TLB.
const hugeMinBytes = 4 << 20

// hugeAlloc returns a zeroed slice of n T backed by an anonymous mapping
// advised for transparent huge pages (MADV_HUGEPAGE), and the function that
// unmaps it; the slice must not be used after that. T must hold no Go
// pointers (the garbage collector does not scan the mapping). Small sizes,
// and any failure to map, fall back to an ordinary Go allocation with a
// no-op release.
func hugeAlloc[T any](n int) ([]T, func()) {
	var zero T
	size := n * int(unsafe.Sizeof(zero))
	if size < hugeMinBytes {
		return make([]T, n), func() {}
	}
	b, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return make([]T, n), func() {}
	}
	_ = unix.Madvise(b, unix.MADV_HUGEPAGE) // advisory: fine if the kernel says no
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), n), func() { _ = unix.Munmap(b) }
}
