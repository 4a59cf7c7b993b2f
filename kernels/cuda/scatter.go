package cuda

/*
#include "cuda_shim.h"
*/
import "C"

import (
	"fmt"

	"github.com/ibmb-dev/ibmb/kernels/internal/rowcopy"
)

// Scatter writes rows on device dev: dst[idx[i]] = src[i] for i in [0, n),
// each row rowBytes bytes, bit-exact and dtype-agnostic; the inverse of
// Gather, and the push of a device-resident history store.
//
//	dst     device pointer to dstRows*rowBytes bytes (the store)
//	src     device pointer to n*rowBytes bytes of packed rows
//	idx     device pointer to n int64 row numbers of dst, 8-byte aligned
//	stream  CUstream handle to run on; 0 = legacy default stream
//
// Ids must lie in [0, dstRows) and be distinct (the rule of package
// kernels/scatter). Scatter first checks them on stream in two passes over
// two bitmaps of dstRows bits (allocated for the call) and waits for the
// result, which synchronizes the stream. When some position is wrong it
// returns an error naming the smallest position that is out of range or
// holds a repeated id (ErrIndex, or ErrDuplicate with ErrValue for a
// repeat) and dst is not
// written. Otherwise it queues the copy on stream and returns without
// waiting. Copy widths and launch geometry are Gather's.
//
// Unverified on a real GPU: tested on the CPU-emulated driver only.
func Scatter(dev int, dst uintptr, dstRows, rowBytes int64, src, idx uintptr, n int64, stream uintptr) error {
	a := rowcopy.Args{Op: rowcopy.Scatter, Dst: dst, Src: src, Idx: idx, TableRows: dstRows, RowBytes: rowBytes, N: n}
	return copyRows(dev, &a, stream, func(d *deviceState, m *kernelModule, cs C.uintptr_t) error {
		return checkScatterIDs(d, m, dstRows, idx, n, cs)
	})
}

// checkScatterIDs runs the two check passes on stream and waits: nil when
// every id is in range and distinct. Caller: inside withDevice.
func checkScatterIDs(d *deviceState, m *kernelModule, dstRows int64, idx uintptr, n int64, cs C.uintptr_t) error {
	words := (max(dstRows, 0) + 31) / 32
	bitmapBytes := max(2*words*4, 8)
	var bm C.ibmb_CUdeviceptr
	if err := cuCheck("cuMemAlloc", C.ibmb_cuMemAlloc(&bm, C.size_t(bitmapBytes))); err != nil {
		return err
	}
	defer C.ibmb_cuMemFree(bm) // after firstBad's synchronization
	seen, dup := bm, bm+C.ibmb_CUdeviceptr(words*4)
	if err := cuCheck("cuMemsetD8Async", C.ibmb_cuMemsetD8Async(bm, 0, C.size_t(bitmapBytes), cs)); err != nil {
		return err
	}
	grid := checkGrid(n, d.info.SMs)
	pos, v, err := firstBad(d, idx, cs, func(word C.ibmb_CUdeviceptr) error {
		err := m.launch("ibmb_scatter_mark", grid, 1, checkBlock, cs,
			C.ulonglong(idx), C.ulonglong(n), C.ulonglong(dstRows), C.ulonglong(seen), C.ulonglong(dup))
		if err != nil {
			return err
		}
		return m.launch("ibmb_scatter_find", grid, 1, checkBlock, cs,
			C.ulonglong(idx), C.ulonglong(n), C.ulonglong(dstRows), C.ulonglong(dup), C.ulonglong(word))
	})
	switch {
	case err != nil || pos < 0:
		return err
	case v < 0 || v >= dstRows:
		return newErr(ErrIndex, "cuda: scatter: idx[%d] = %d is out of range [0, %d); store not written", pos, v, dstRows)
	}
	return &multiWrapped{bases: []error{ErrDuplicate, ErrValue},
		msg: fmt.Sprintf("cuda: scatter: idx[%d] = %d occurs more than once (ids must be distinct); store not written", pos, v)}
}
