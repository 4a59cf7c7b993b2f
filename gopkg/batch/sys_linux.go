package batch

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// adviseHuge asks for transparent huge pages on mem (advisory: fine if the
// kernel says no). Batches are read at random offsets; with 4 KiB pages
// most such reads also miss the TLB.
func adviseHuge(mem []byte) { _ = unix.Madvise(mem, unix.MADV_HUGEPAGE) }

// writeback starts the writeback of f's bytes [off, end) and waits for the
// chunk before it (writeChunk bytes), so that a large save does not fill
// the page cache with dirty pages: best effort (filesystems without
// sync_file_range return an error, ignored).
func writeback(f *os.File, off, end int) {
	fd := int(f.Fd())
	_ = unix.SyncFileRange(fd, int64(off), int64(end-off), unix.SYNC_FILE_RANGE_WRITE)
	if off > 0 {
		_ = unix.SyncFileRange(fd, int64(off-writeChunk), int64(writeChunk),
			unix.SYNC_FILE_RANGE_WAIT_BEFORE|unix.SYNC_FILE_RANGE_WRITE|unix.SYNC_FILE_RANGE_WAIT_AFTER)
	}
}

// reserve gives f size bytes of allocated disk blocks (fallocate), so that
// writing them through a mapping cannot fail for lack of space; where the
// file system cannot allocate ahead, the file is only extended.
func reserve(f *os.File, size int64) error {
	if size == 0 {
		return nil
	}
	err := unix.Fallocate(int(f.Fd()), 0, 0, size)
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS) {
		return f.Truncate(size)
	}
	return err
}
