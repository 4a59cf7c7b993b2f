package bindings

import (
	"github.com/ibmb-dev/ibmb/kernels/cuda"
	"github.com/ibmb-dev/ibmb/kernels/gather"
)

// Gather copies rows of a row-major host matrix into a contiguous output:
// row i of dst (rowBytes bytes at dst + i·rowBytes) becomes row idx[i] of
// src, which has srcRows rows. idx points to n int64 values. Every index is
// checked first: on an out-of-range or negative index nothing is written and
// an index error is returned.
func Gather(dst, src uintptr, srcRows, rowBytes int, idx uintptr, n int) (err error) {
	defer guard(&err)
	return gather.Rows(ptr(dst), ptr(src), int64(srcRows), int64(rowBytes), ptr(idx), int64(n))
}

// GatherCUDA is Gather for device memory on CUDA device dev: dst, src and idx
// are device pointers and the copy is queued on stream (0: the legacy
// default stream). The index check synchronizes the stream; the copy itself
// is asynchronous.
func GatherCUDA(dev int, dst, src uintptr, srcRows, rowBytes int, idx uintptr, n int, stream uintptr) (err error) {
	defer guard(&err)
	return cuda.Gather(dev, dst, src, int64(srcRows), int64(rowBytes), idx, int64(n), stream)
}

// CUDAStatus returns "" when a CUDA device can be used, else the reason why
// not (no driver, no device, ...).
func CUDAStatus() (s string) {
	defer func() {
		if r := recover(); r != nil {
			s = "cuda unavailable: panic while probing the driver"
		}
	}()
	if err := cuda.Available(); err != nil {
		return err.Error()
	}
	return ""
}
