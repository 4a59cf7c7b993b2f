package cuda

/*
#include "cuda_shim.h"
*/
import "C"

import (
	"fmt"
	"math"
	"unsafe"
)

// validateScatter checks Scatter's arguments (everything that can be
// checked without touching the GPU).
func validateScatter(dev int, dst uintptr, dstRows, rowBytes int64, src, idx uintptr, n int64) error {
	bad := func(format string, args ...any) error {
		return newErr(ErrValue, "cuda: scatter: "+format, args...)
	}
	switch {
	case dev < 0:
		return bad("device ordinal %d is negative", dev)
	case rowBytes <= 0:
		return bad("rowBytes = %d, want > 0", rowBytes)
	case dstRows < 0:
		return bad("dstRows = %d, want >= 0", dstRows)
	case n < 0:
		return bad("n = %d, want >= 0", n)
	}
	if n == 0 {
		return nil
	}
	switch {
	case dstRows > math.MaxInt64/rowBytes:
		return bad("store size %d rows x %d bytes overflows", dstRows, rowBytes)
	case n > math.MaxInt64/rowBytes || n > math.MaxInt64/8:
		return bad("input size %d rows x %d bytes overflows", n, rowBytes)
	case src == 0:
		return bad("src is a null pointer")
	case idx == 0:
		return bad("idx is a null pointer")
	case dst == 0 && dstRows > 0:
		return bad("dst is a null pointer")
	case idx%8 != 0:
		return bad("idx %#x is not 8-byte aligned (int64 indices)", idx)
	case overlaps(dst, dstRows*rowBytes, src, n*rowBytes):
		return bad("dst [%#x, +%d) overlaps src [%#x, +%d)", dst, dstRows*rowBytes, src, n*rowBytes)
	case overlaps(dst, dstRows*rowBytes, idx, n*8):
		return bad("dst [%#x, +%d) overlaps idx [%#x, +%d)", dst, dstRows*rowBytes, idx, n*8)
	}
	return nil
}

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
// holds a repeated id (ErrIndex, or ErrValue for a repeat) and dst is not
// written. Otherwise it queues the copy on stream and returns without
// waiting. Copy widths and launch geometry are Gather's.
//
// Unverified on a real GPU: tested on the CPU-emulated driver only.
func Scatter(dev int, dst uintptr, dstRows, rowBytes int64, src, idx uintptr, n int64, stream uintptr) error {
	if err := validateScatter(dev, dst, dstRows, rowBytes, src, idx, n); err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	return withDevice(dev, func(d *deviceState) error {
		fns, err := d.kernels()
		if err != nil {
			return err
		}
		mark, find := fns.all["ibmb_scatter_mark"], fns.all["ibmb_scatter_find"]
		if mark == 0 || find == 0 {
			return newErr(ErrCUDA, "cuda: the gather module lacks the scatter check kernels")
		}
		if err := checkScatterIDs(d, mark, find, dstRows, idx, n, C.uintptr_t(stream)); err != nil {
			return err
		}
		p := planGather(dst, src, rowBytes, n, d.info.SMs)
		fn := fns.all[fmt.Sprintf("ibmb_scatter_%d", p.width)]
		if fn == 0 {
			return newErr(ErrCUDA, "cuda: the gather module lacks the %d-byte scatter kernel", p.width)
		}
		args := [7]C.ulonglong{C.ulonglong(dst), C.ulonglong(src), C.ulonglong(idx), C.ulonglong(n),
			C.ulonglong(dstRows), C.ulonglong(p.rowElems), C.ulonglong(p.groupShift)}
		return cuCheck(fmt.Sprintf("cuLaunchKernel(ibmb_scatter_%d)", p.width), C.ibmb_launch_u64(C.uintptr_t(fn),
			C.uint(p.gridX), C.uint(p.gridY), 1, C.uint(p.block), 1, 1, 0, C.uintptr_t(stream), &args[0], C.int(len(args))))
	})
}

// checkScatterIDs runs the two check passes on stream and waits: nil when
// every id is in range and distinct. Caller: inside withDevice.
func checkScatterIDs(d *deviceState, mark, find uintptr, dstRows int64, idx uintptr, n int64, cs C.uintptr_t) error {
	words := (max(dstRows, 0) + 31) / 32
	bitmapBytes := max(2*words*4, 8)
	var bm C.ibmb_CUdeviceptr
	if err := cuCheck("cuMemAlloc", C.ibmb_cuMemAlloc(&bm, C.size_t(bitmapBytes))); err != nil {
		return err
	}
	defer C.ibmb_cuMemFree(bm) // after the synchronization below
	seen, dup := bm, bm+C.ibmb_CUdeviceptr(words*4)
	s, err := d.getScratch()
	if err != nil {
		return err
	}
	if err := cuCheck("cuMemsetD8Async", C.ibmb_cuMemsetD8Async(bm, 0, C.size_t(bitmapBytes), cs)); err != nil {
		return err
	}
	if err := cuCheck("cuMemsetD8Async", C.ibmb_cuMemsetD8Async(s.dev, 0xff, 8, cs)); err != nil {
		return err
	}
	grid := C.uint(checkGrid(n, d.info.SMs))
	markArgs := [5]C.ulonglong{C.ulonglong(idx), C.ulonglong(n), C.ulonglong(dstRows), C.ulonglong(seen), C.ulonglong(dup)}
	if err := cuCheck("cuLaunchKernel(ibmb_scatter_mark)", C.ibmb_launch_u64(C.uintptr_t(mark),
		grid, 1, 1, checkBlock, 1, 1, 0, cs, &markArgs[0], C.int(len(markArgs)))); err != nil {
		return err
	}
	findArgs := [5]C.ulonglong{C.ulonglong(idx), C.ulonglong(n), C.ulonglong(dstRows), C.ulonglong(dup), C.ulonglong(s.dev)}
	if err := cuCheck("cuLaunchKernel(ibmb_scatter_find)", C.ibmb_launch_u64(C.uintptr_t(find),
		grid, 1, 1, checkBlock, 1, 1, 0, cs, &findArgs[0], C.int(len(findArgs)))); err != nil {
		return err
	}
	words2 := (*[2]uint64)(s.host)
	if err := cuCheck("cuMemcpyDtoHAsync", C.ibmb_cuMemcpyDtoHAsync(s.host, s.dev, 8, cs)); err != nil {
		return err
	}
	if err := cuCheck("cuStreamSynchronize", C.ibmb_cuStreamSynchronize(cs)); err != nil {
		return err
	}
	first := words2[0]
	if first == math.MaxUint64 {
		d.putScratch(s)
		return nil
	}
	pos := int64(first)
	valPtr := unsafe.Add(s.host, 8)
	err = cuCheck("cuMemcpyDtoHAsync", C.ibmb_cuMemcpyDtoHAsync(valPtr, C.ibmb_CUdeviceptr(uint64(idx)+8*first), 8, cs))
	if err == nil {
		err = cuCheck("cuStreamSynchronize", C.ibmb_cuStreamSynchronize(cs))
	}
	if err != nil {
		return err
	}
	v := int64(words2[1])
	d.putScratch(s)
	if v < 0 || v >= dstRows {
		return newErr(ErrIndex, "cuda: scatter: idx[%d] = %d is out of range [0, %d); store not written", pos, v, dstRows)
	}
	return newErr(ErrValue, "cuda: scatter: idx[%d] = %d occurs more than once (ids must be distinct); store not written", pos, v)
}
