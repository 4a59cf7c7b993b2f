package batch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// fileSink is the file an arena is built into (ArenaOptions.Path): a
// temporary file next to the target, sized and mapped shared, so the
// batches' rows go to the file as they are written instead of into memory
// that a later save would copy out. finish renames it over the target.
type fileSink struct {
	f           *os.File
	tmp, target string
	mem         []byte
	unmap       func() error
	flush       func() error
}

// newFileSink creates the temporary file for path (resolved and refused as
// WriteFileContext does), reserves size bytes on disk for it (so a full
// disk is an error now, not a fault while batches are written) and maps it.
func newFileSink(path string, size int64) (s *fileSink, err error) {
	if path == "" {
		return nil, &fs.PathError{Op: "build", Path: path, Err: syscall.ENOENT}
	}
	if size != int64(int(size)) {
		return nil, fmt.Errorf("arena: %d bytes cannot be mapped", size)
	}
	f, tmp, target, err := openTemp(path)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = reserve(f, size); err != nil {
		return nil, &fs.PathError{Op: "build", Path: path, Err: err}
	}
	mem, unmap, flush, err := mapShared(f, size)
	if err != nil {
		return nil, fmt.Errorf("arena: cannot map %s: %w", tmp, err)
	}
	return &fileSink{f: f, tmp: tmp, target: target, mem: mem, unmap: unmap, flush: flush}, nil
}

// abort unmaps and removes the temporary file (the target is untouched).
func (s *fileSink) abort() {
	_ = s.unmap()
	s.f.Close()
	os.Remove(s.tmp)
}

// finish writes the mapped bytes back, syncs and renames the file over the
// target, and then gives a the file mapped copy-on-write, as OpenFile
// would (writes through views never reach the file).
func (s *fileSink) finish(a *Arena) (err error) {
	defer func() {
		if err != nil {
			s.abort()
		}
	}()
	if err = s.flush(); err != nil {
		return err
	}
	if err = s.f.Sync(); err != nil {
		return err
	}
	if err = os.Rename(s.tmp, s.target); err != nil {
		return err
	}
	syncDir(filepath.Dir(s.target))
	mem, release, err := mapFile(s.f, int64(len(s.mem)))
	if err != nil {
		return errors.Join(fmt.Errorf("arena: built %s but cannot map it", s.target), err)
	}
	_ = s.unmap()
	s.f.Close()
	a.mem, a.release = mem, release
	return nil
}
