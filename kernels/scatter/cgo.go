//go:build cgo

package scatter

/*
#cgo CFLAGS: -O3 -fno-fast-math -I${SRCDIR}/../../csrc
#include "scatter.h"
*/
import "C"

import "unsafe"

// streamBytes is the output size from which Rows uses streaming stores,
// IBMB_SCATTER_STREAM_BYTES of csrc/scatter.h.
const streamBytes = int64(C.IBMB_SCATTER_STREAM_BYTES)

// cCheck runs ibmb_scatter_check: the first bad position of idx[0:n] (or
// -1) and, for a repeated id, the position of its first occurrence (else
// -1). seen must hold (rows+63)/64 zero words; it is zero again on return.
func cCheck(idx unsafe.Pointer, n, rows int64, seen []uint64) (pos, prev int64) {
	var cp C.int64_t
	var s *C.uint64_t
	if len(seen) > 0 {
		s = (*C.uint64_t)(unsafe.Pointer(&seen[0]))
	}
	r := C.ibmb_scatter_check((*C.int64_t)(idx), C.int64_t(n), C.int64_t(rows), s, &cp)
	return int64(r), int64(cp)
}

// cMark and cUnmark are the two halves of the parallel check (see
// ibmb_scatter_mark in csrc/scatter.h): mark reports whether the range holds
// a bad or repeated id; unmark, run on every marked range after all marks
// returned, leaves seen zero.
func cMark(idx unsafe.Pointer, n, rows int64, seen []uint64) bool {
	return C.ibmb_scatter_mark((*C.int64_t)(idx), C.int64_t(n), C.int64_t(rows), (*C.uint64_t)(unsafe.Pointer(&seen[0]))) != 0
}

func cUnmark(idx unsafe.Pointer, n, rows int64, seen []uint64) {
	C.ibmb_scatter_unmark((*C.int64_t)(idx), C.int64_t(n), C.int64_t(rows), (*C.uint64_t)(unsafe.Pointer(&seen[0])))
}

// cScatter runs one kernel call of tier t over idx[0:n] and src rows
// [0, n). The indices must have been checked and t must run on this CPU.
func cScatter(t Tier, dst, src, idx unsafe.Pointer, n, rowBytes int64, stream bool) {
	cs := C.int(0)
	if stream {
		cs = 1
	}
	if C.ibmb_scatter_tier(C.int(t), dst, src, (*C.int64_t)(idx), C.int64_t(n), C.int64_t(rowBytes), cs) != 0 {
		panic("scatter: unknown tier")
	}
}
