//go:build !cgo

package scatter

import (
	"sync/atomic"
	"unsafe"
)

// Without cgo the C kernels are not built: every tier falls back to a plain
// Go copy per row, and only the portable tiers are reported as available.

// streamBytes mirrors IBMB_SCATTER_STREAM_BYTES; unused without cgo.
const streamBytes = int64(4 << 20)

func init() {
	hasAVX2, hasAVX512 = false, false
}

func cCheck(idx unsafe.Pointer, n, rows int64, seen []uint64) (pos, prev int64) {
	ids := unsafe.Slice((*int64)(idx), n)
	pos, prev = -1, -1
	i := 0
	for ; i < len(ids); i++ {
		v := uint64(ids[i])
		if v >= uint64(max(rows, 0)) {
			pos = int64(i)
			break
		}
		if seen[v>>6]&(1<<(v&63)) != 0 {
			pos = int64(i)
			for j := range i {
				if ids[j] == ids[i] {
					prev = int64(j)
					break
				}
			}
			break
		}
		seen[v>>6] |= 1 << (v & 63)
	}
	if dense(n, rows) {
		clear(seen[:bitmapWords(rows)])
	} else {
		for _, v := range ids[:i] {
			seen[uint64(v)>>6] = 0
		}
	}
	return pos, prev
}

func cMark(idx unsafe.Pointer, n, rows int64, seen []uint64) bool {
	for _, v := range unsafe.Slice((*int64)(idx), n) {
		u := uint64(v)
		if u >= uint64(max(rows, 0)) {
			return true
		}
		w := (*uint64)(unsafe.Pointer(&seen[u>>6]))
		if atomic.OrUint64(w, 1<<(u&63))&(1<<(u&63)) != 0 {
			return true
		}
	}
	return false
}

func cUnmark(idx unsafe.Pointer, n, rows int64, seen []uint64) {
	for _, v := range unsafe.Slice((*int64)(idx), n) {
		if u := uint64(v); u < uint64(max(rows, 0)) {
			atomic.StoreUint64(&seen[u>>6], 0)
		}
	}
}

func cScatter(_ Tier, dst, src, idx unsafe.Pointer, n, rowBytes int64, _ bool) {
	s := unsafe.Slice((*byte)(src), n*rowBytes)
	for i, v := range unsafe.Slice((*int64)(idx), n) {
		copy(unsafe.Slice((*byte)(unsafe.Add(dst, v*rowBytes)), rowBytes), s[int64(i)*rowBytes:])
	}
}
