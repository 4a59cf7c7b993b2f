//go:build !unix

package batch

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/ibmb-dev/ibmb/internal/memlimit"
)

// Systems without mmap (Windows, wasm) keep arenas on the Go heap and read
// saved files whole. The bindings' zero-copy views need memory outside the
// Go heap, so the bindings support Unix systems only; these
// fallbacks keep the Go packages usable everywhere.

const (
	openNoFollow = 0
	openNonblock = 0
)

// mapAnon returns size zeroed bytes from the Go heap.
func mapAnon(size int64) (mem []byte, release func() error, err error) {
	defer func() {
		if recover() != nil {
			err = fmt.Errorf("%w: arena: cannot allocate %d bytes", memlimit.ErrMemory, size)
		}
	}()
	return make([]byte, size), func() error { return nil }, nil
}

// mapFile reads size bytes of f into memory.
func mapFile(f *os.File, size int64) ([]byte, func() error, error) {
	mem, _, err := mapAnon(size)
	if err != nil {
		return nil, nil, err
	}
	if _, err := io.ReadFull(f, mem); err != nil {
		return nil, nil, err
	}
	return mem, func() error { return nil }, nil
}

// mapShared returns size bytes of memory whose flush writes them to f.
func mapShared(f *os.File, size int64) (mem []byte, unmap, flush func() error, err error) {
	if mem, _, err = mapAnon(size); err != nil {
		return nil, nil, nil, err
	}
	flush = func() error {
		_, err := f.WriteAt(mem, 0)
		return err
	}
	return mem, func() error { return nil }, flush, nil
}

// lockFile fails: without advisory locks a stale temporary file cannot be
// told from a live writer's, so none is removed.
func lockFile(*os.File) error { return errors.ErrUnsupported }

// processAlive reports true: liveness is not checked here.
func processAlive(int) bool { return true }
