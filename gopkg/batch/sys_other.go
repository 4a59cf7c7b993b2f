//go:build !linux

package batch

import "os"

// adviseHuge does nothing: transparent huge pages are Linux's.
func adviseHuge([]byte) {}

// writeback does nothing: sync_file_range is Linux's; the final Sync of a
// save writes everything.
func writeback(*os.File, int, int) {}

// reserve extends f to size bytes (without allocating ahead: on these
// systems a full disk shows when the pages are written back).
func reserve(f *os.File, size int64) error { return f.Truncate(size) }
