//go:build cgo

package gather

/*
#cgo CFLAGS: -O3 -fno-fast-math -I${SRCDIR}/../../csrc
#include "gather.h"
*/
import "C"

import "unsafe"

// streamBytes is the output size from which Rows uses streaming stores,
// IBMB_GATHER_STREAM_BYTES of csrc/gather.h.
const streamBytes = int64(C.IBMB_GATHER_STREAM_BYTES)

// cCheck returns the position of the first index of idx[0:n] outside
// [0, rows), or -1. useAVX2 picks the AVX2 scan (only when the CPU has it).
// idx must be 8-byte aligned and hold no Go pointers.
func cCheck(idx unsafe.Pointer, n, rows int64, useAVX2 bool) int64 {
	p := (*C.int64_t)(idx)
	if useAVX2 {
		return int64(C.ibmb_gather_check_avx2(p, C.int64_t(n), C.int64_t(rows)))
	}
	return int64(C.ibmb_gather_check_scalar(p, C.int64_t(n), C.int64_t(rows)))
}

// cGather runs one kernel call of tier t over idx[0:n]. The indices must
// have been checked and t must be available on this CPU. stream asks the
// vector tiers for streaming stores (used only when dst and rowBytes allow).
func cGather(t Tier, dst, src, idx unsafe.Pointer, n, rowBytes int64, stream bool) {
	if C.ibmb_gather_tier(C.int(t), dst, src, (*C.int64_t)(idx), C.int64_t(n), C.int64_t(rowBytes), cBool(stream)) != 0 {
		panic("gather: unknown tier")
	}
}

func cBool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}
