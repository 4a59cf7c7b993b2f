//go:build !cgo

package gather

import "unsafe"

// Without cgo the C kernels are not built: the package falls back to a
// plain Go copy per row for every tier, and reports only the portable
// tiers as available.

// streamBytes mirrors IBMB_GATHER_STREAM_BYTES; unused without cgo.
const streamBytes = int64(16 << 20)

func init() {
	hasAVX2, hasAVX512 = false, false
}

func cCheck(idx unsafe.Pointer, n, rows int64, _ bool) int64 {
	for i, v := range unsafe.Slice((*int64)(idx), n) {
		if uint64(v) >= uint64(max(rows, 0)) {
			return int64(i)
		}
	}
	return -1
}

func cGather(_ Tier, dst, src, idx unsafe.Pointer, n, rowBytes int64, _ bool) {
	d := unsafe.Slice((*byte)(dst), n*rowBytes)
	for i, v := range unsafe.Slice((*int64)(idx), n) {
		copy(d[int64(i)*rowBytes:], unsafe.Slice((*byte)(unsafe.Add(src, v*rowBytes)), rowBytes))
	}
}
