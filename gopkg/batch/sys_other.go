//go:build !linux

package batch

import "os"

// adviseHuge does nothing: transparent huge pages are Linux's.
func adviseHuge([]byte) {}

// writeback does nothing: sync_file_range is Linux's; the final Sync of a
// save writes everything.
func writeback(*os.File, int, int) {}
