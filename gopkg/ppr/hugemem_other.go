//go:build !linux

package ppr

// hugeAlloc returns make([]T, n) and a no-op release on systems without
// Linux's transparent huge pages.
func hugeAlloc[T any](n int) ([]T, func()) { return make([]T, n), func() {} }
