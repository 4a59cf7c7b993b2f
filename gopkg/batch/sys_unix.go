//go:build unix

package batch

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/ibmb-dev/ibmb/internal/memlimit"
	"golang.org/x/sys/unix"
)

// Flags for opening a file without following a final symbolic link, and
// without blocking on a FIFO.
const (
	openNoFollow = syscall.O_NOFOLLOW
	openNonblock = syscall.O_NONBLOCK
)

// mapAnon returns size zeroed bytes outside the Go heap (huge pages
// advised where the system has them) and the function that unmaps them.
func mapAnon(size int64) ([]byte, func() error, error) {
	mem, err := unix.Mmap(-1, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: arena: cannot map %d bytes: %v", memlimit.ErrMemory, size, err)
	}
	adviseHuge(mem)
	return mem, func() error { return unix.Munmap(mem) }, nil
}

// mapFile maps size bytes of f read-write, copy-on-write, and returns the
// function that unmaps them.
func mapFile(f *os.File, size int64) ([]byte, func() error, error) {
	mem, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE)
	if err != nil {
		return nil, nil, err
	}
	return mem, func() error { return unix.Munmap(mem) }, nil
}

// mapShared maps size bytes of f read-write and shared (writes reach the
// file) and returns the functions that unmap them and that write them back.
func mapShared(f *os.File, size int64) (mem []byte, unmap, flush func() error, err error) {
	mem, err = unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, nil, nil, err
	}
	return mem, func() error { return unix.Munmap(mem) }, func() error { return unix.Msync(mem, unix.MS_SYNC) }, nil
}

// lockFile takes an exclusive advisory lock on f without waiting.
func lockFile(f *os.File) error {
	return unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
}

// processAlive reports whether a process with this id exists (it may
// belong to another user).
func processAlive(pid int) bool {
	err := unix.Kill(pid, 0)
	return err == nil || errors.Is(err, unix.EPERM)
}
