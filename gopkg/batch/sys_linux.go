package batch

import (
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
