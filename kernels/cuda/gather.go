package cuda

/*
#include <stdlib.h>
#include "cuda_shim.h"
*/
import "C"

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"time"
	"unsafe"

	cudasrc "github.com/ibmb-dev/ibmb/cuda"
)

// deviceState is what we keep per device for the life of the process: the
// retained primary context, the loaded gather module (compiled once) and a
// pool of small scratch buffers for the index check.
type deviceState struct {
	ordinal int
	dev     C.ibmb_CUdevice
	ctx     uintptr // primary context, retained once, never released
	info    DeviceInfo

	modMu sync.Mutex
	fns   *gatherFuncs  // nil until the gather module loaded
	ppr   *kernelModule // nil until the PPR module loaded

	scratchMu sync.Mutex
	scratch   []*scratchBuf
}

// gatherFuncs are the kernels of cudasrc.Gather loaded in one context.
type gatherFuncs struct {
	module uintptr
	arch   int    // architecture compiled for
	kind   string // "cubin" or "ptx"
	check  uintptr
	byW    map[int64]uintptr  // width in bytes (16, 8, 4, 1) -> gather kernel
	all    map[string]uintptr // every kernel of the module by name (scatter.go)
}

// scratchBuf is 16 bytes of device memory plus 16 bytes of pinned host
// memory: word 0 receives the check kernel's first bad position, word 1 the
// offending index value.
type scratchBuf struct {
	dev  C.ibmb_CUdeviceptr
	host unsafe.Pointer // C memory from cuMemAllocHost
}

var (
	devMu sync.Mutex
	devs  = map[int]*deviceState{}
)

// getDevice returns the state of device ordinal, retaining its primary
// context on first use (the same context PyTorch's runtime uses, so device
// pointers and streams from PyTorch are valid in it).
func getDevice(ordinal int) (*deviceState, error) {
	devMu.Lock()
	defer devMu.Unlock()
	if d, ok := devs[ordinal]; ok {
		return d, nil
	}
	dev, err := cuDevice(ordinal)
	if err != nil {
		return nil, err
	}
	info, err := deviceInfo(dev)
	if err != nil {
		return nil, err
	}
	var ctx C.uintptr_t
	if err := cuCheck("cuDevicePrimaryCtxRetain", C.ibmb_cuDevicePrimaryCtxRetain(&ctx, dev)); err != nil {
		return nil, err
	}
	d := &deviceState{ordinal: ordinal, dev: dev, ctx: uintptr(ctx), info: info}
	devs[ordinal] = d
	return d, nil
}

// withDevice runs f on a locked OS thread with the device's primary context
// current, restoring the thread's previous context afterwards. Go moves
// goroutines between OS threads while CUDA's current context is per OS
// thread, hence the lock for the whole sequence of driver calls.
func withDevice(ordinal int, f func(d *deviceState) error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	d, err := getDevice(ordinal)
	if err != nil {
		return err
	}
	restore, err := makeCurrent(d.ctx)
	if err != nil {
		return err
	}
	defer restore()
	return f(d)
}

// chooseArch returns the largest architecture in archs that is <= cc, or 0.
func chooseArch(archs []int, cc int) int {
	best := 0
	for _, a := range archs {
		if a <= cc && a > best {
			best = a
		}
	}
	return best
}

// kernels loads the gather module into the device's context (caller: inside
// withDevice), once; see loadKernelModule for how it is built.
func (d *deviceState) kernels() (*gatherFuncs, error) {
	d.modMu.Lock()
	defer d.modMu.Unlock()
	if d.fns != nil {
		return d.fns, nil
	}
	m, err := d.loadKernelModule(cudasrc.Gather, "gather.cu", cudasrc.GatherKernels)
	if err != nil {
		return nil, err
	}
	fns := &gatherFuncs{module: m.module, arch: m.arch, kind: m.kind, check: m.fns["ibmb_gather_check"], byW: map[int64]uintptr{},
		all: m.fns}
	for _, w := range gatherWidths {
		fn, ok := m.fns[fmt.Sprintf("ibmb_gather_%d", w)]
		if !ok {
			return nil, newErr(ErrCUDA, "cuda: gather module lacks the %d-byte kernel", w)
		}
		fns.byW[w] = fn
	}
	d.fns = fns
	return fns, nil
}

// getScratch takes a scratch buffer from the device's pool (allocating one
// when empty); the caller gives it back with putScratch once the stream it
// used has been synchronized. Caller: inside withDevice.
func (d *deviceState) getScratch() (*scratchBuf, error) {
	d.scratchMu.Lock()
	if n := len(d.scratch); n > 0 {
		s := d.scratch[n-1]
		d.scratch = d.scratch[:n-1]
		d.scratchMu.Unlock()
		return s, nil
	}
	d.scratchMu.Unlock()
	s := &scratchBuf{}
	if err := cuCheck("cuMemAlloc", C.ibmb_cuMemAlloc(&s.dev, 16)); err != nil {
		return nil, err
	}
	if err := cuCheck("cuMemAllocHost", C.ibmb_cuMemAllocHost(&s.host, 16)); err != nil {
		C.ibmb_cuMemFree(s.dev)
		return nil, err
	}
	return s, nil
}

func (d *deviceState) putScratch(s *scratchBuf) {
	d.scratchMu.Lock()
	d.scratch = append(d.scratch, s)
	d.scratchMu.Unlock()
}

// Prepare initializes device dev for Gather ahead of time: it retains the
// primary context and compiles (or fetches from the on-disk cache) and loads
// the gather kernels, so that the first Gather call does not pay for it. It
// reports the same errors the first Gather would.
func Prepare(dev int) error {
	if dev < 0 {
		return newErr(ErrValue, "cuda: device ordinal %d is negative", dev)
	}
	return withDevice(dev, func(d *deviceState) error {
		_, err := d.kernels()
		return err
	})
}

// Launch geometry. gatherWidths are the copy units of the gather kernels,
// widest first.
var gatherWidths = []int64{16, 8, 4, 1}

const (
	gatherBlock   = 256 // threads per block (multiple of 32 and of every group size)
	checkBlock    = 256
	maxGroupShift = 5 // groups of at most 32 lanes: one warp per row for long rows
)

// gatherPlan is how one Gather call is launched.
type gatherPlan struct {
	width        int64 // bytes per element: 16, 8, 4 or 1
	rowElems     int64 // rowBytes / width
	groupShift   int64 // lanes per row = 1 << groupShift
	gridX, gridY uint32
	block        uint32
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

// planGather picks the widest element width that divides rowBytes and
// aligns both base pointers (so every row start is aligned too), the group
// size, and a grid that fills the GPU: grid-stride over rows in x, and when
// there are too few rows, a split of each row's columns in y.
func planGather(dst, src uintptr, rowBytes, n int64, sms int) gatherPlan {
	p := gatherPlan{width: 1, block: gatherBlock}
	for _, w := range gatherWidths {
		if rowBytes%w == 0 && uint64(dst)%uint64(w) == 0 && uint64(src)%uint64(w) == 0 {
			p.width = w
			break
		}
	}
	p.rowElems = rowBytes / p.width
	for (int64(1)<<p.groupShift) < p.rowElems && p.groupShift < maxGroupShift {
		p.groupShift++
	}
	group := int64(1) << p.groupShift
	groupsPerBlock := int64(gatherBlock) / group
	if sms < 1 {
		sms = 1
	}
	gx := min(ceilDiv(n, groupsPerBlock), int64(sms)*16)
	gy := int64(1)
	if target := int64(sms) * 8; gx < target {
		// Few rows: also split each row's columns over blockIdx.y, keeping
		// at least 4 elements per lane per chunk.
		gy = min(ceilDiv(target, gx), ceilDiv(p.rowElems, 4*group), 65535)
	}
	p.gridX, p.gridY = uint32(max(gx, 1)), uint32(max(gy, 1))
	return p
}

// checkGrid is the grid of the index check kernel.
func checkGrid(n int64, sms int) uint32 {
	return uint32(max(min(ceilDiv(n, checkBlock), int64(max(sms, 1))*8), 1))
}

// overlaps reports whether [a, a+alen) and [b, b+blen) intersect.
func overlaps(a uintptr, alen int64, b uintptr, blen int64) bool {
	if alen <= 0 || blen <= 0 {
		return false
	}
	return uint64(a) < uint64(b)+uint64(blen) && uint64(b) < uint64(a)+uint64(alen)
}

// validateGather checks Gather's arguments (everything that can be checked
// without touching the GPU).
func validateGather(dev int, dst, src uintptr, srcRows, rowBytes int64, idx uintptr, n int64) error {
	bad := func(format string, args ...any) error {
		return newErr(ErrValue, "cuda: gather: "+format, args...)
	}
	switch {
	case dev < 0:
		return bad("device ordinal %d is negative", dev)
	case rowBytes <= 0:
		return bad("rowBytes = %d, want > 0", rowBytes)
	case srcRows < 0:
		return bad("srcRows = %d, want >= 0", srcRows)
	case n < 0:
		return bad("n = %d, want >= 0", n)
	}
	if n == 0 {
		return nil
	}
	switch {
	case srcRows > 0 && srcRows > math.MaxInt64/rowBytes:
		return bad("source size %d rows x %d bytes overflows", srcRows, rowBytes)
	case n > math.MaxInt64/rowBytes:
		return bad("output size %d rows x %d bytes overflows", n, rowBytes)
	case n > math.MaxInt64/8:
		return bad("n = %d indices overflow", n)
	case dst == 0:
		return bad("dst is a null pointer")
	case idx == 0:
		return bad("idx is a null pointer")
	case src == 0 && srcRows > 0:
		return bad("src is a null pointer")
	case idx%8 != 0:
		return bad("idx %#x is not 8-byte aligned (int64 indices)", idx)
	case overlaps(dst, n*rowBytes, src, srcRows*rowBytes):
		return bad("dst [%#x, +%d) overlaps src [%#x, +%d)", dst, n*rowBytes, src, srcRows*rowBytes)
	case overlaps(dst, n*rowBytes, idx, n*8):
		return bad("dst [%#x, +%d) overlaps idx [%#x, +%d)", dst, n*rowBytes, idx, n*8)
	}
	return nil
}

// Gather copies rows on device dev: dst[i] = src[idx[i]] for i in [0, n),
// each row rowBytes bytes, bit-exact and dtype-agnostic.
//
//	dst     device pointer to n*rowBytes bytes (e.g. tensor.data_ptr())
//	src     device pointer to srcRows*rowBytes bytes, row-major, contiguous
//	idx     device pointer to n int64 row numbers, 8-byte aligned
//	stream  CUstream / cudaStream_t handle to run on (PyTorch:
//	        torch.cuda.current_stream().cuda_stream); 0 = legacy default stream
//
// All three buffers must be on device dev and dst must not overlap src or
// idx. The work runs in dev's primary context, the one PyTorch uses.
//
// Gather first runs an index check on stream and waits for it (this
// synchronizes the stream). If some index is outside [0, srcRows) it
// returns an error wrapping ErrIndex naming the first bad position and its
// value, and dst is not written. Otherwise it queues the copy on stream and
// returns without waiting: the caller synchronizes (or keeps using the same
// stream) before reading dst. The copy uses 16-byte loads and stores when
// rowBytes is a multiple of 16 and dst and src are 16-byte aligned (8- and
// 4-byte paths likewise, else bytes).
//
// n == 0 is a no-op. Invalid arguments give errors wrapping ErrValue; no
// driver, no device or no NVRTC gives ErrUnavailable; driver call failures
// (e.g. a pointer that is not device memory) give ErrCUDA.
func Gather(dev int, dst, src uintptr, srcRows, rowBytes int64, idx uintptr, n int64, stream uintptr) error {
	if err := validateGather(dev, dst, src, srcRows, rowBytes, idx, n); err != nil {
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
		s, err := d.getScratch()
		if err != nil {
			return err
		}
		cs := C.uintptr_t(stream)

		// 1. Index check into the scratch word, then wait for its result.
		if err := cuCheck("cuMemsetD8Async", C.ibmb_cuMemsetD8Async(s.dev, 0xff, 8, cs)); err != nil {
			return err
		}
		checkArgs := [4]C.ulonglong{C.ulonglong(idx), C.ulonglong(n), C.ulonglong(srcRows), C.ulonglong(s.dev)}
		if err := cuCheck("cuLaunchKernel(ibmb_gather_check)", C.ibmb_launch_u64(C.uintptr_t(fns.check),
			C.uint(checkGrid(n, d.info.SMs)), 1, 1, checkBlock, 1, 1, 0, cs, &checkArgs[0], C.int(len(checkArgs)))); err != nil {
			return err
		}
		words := (*[2]uint64)(s.host)
		if err := cuCheck("cuMemcpyDtoHAsync", C.ibmb_cuMemcpyDtoHAsync(s.host, s.dev, 8, cs)); err != nil {
			return err
		}
		if err := cuCheck("cuStreamSynchronize", C.ibmb_cuStreamSynchronize(cs)); err != nil {
			return err
		}
		if first := words[0]; first != math.MaxUint64 {
			pos := int64(first)
			valPtr := unsafe.Add(s.host, 8)
			err := cuCheck("cuMemcpyDtoHAsync", C.ibmb_cuMemcpyDtoHAsync(valPtr, C.ibmb_CUdeviceptr(uint64(idx)+8*first), 8, cs))
			if err == nil {
				err = cuCheck("cuStreamSynchronize", C.ibmb_cuStreamSynchronize(cs))
			}
			if err != nil {
				return err
			}
			d.putScratch(s)
			return newErr(ErrIndex, "cuda: gather: idx[%d] = %d is out of range [0, %d); output not written",
				pos, int64(words[1]), srcRows)
		}
		d.putScratch(s) // the stream is idle: the buffer is free again

		// 2. The copy, queued on the caller's stream.
		p := planGather(dst, src, rowBytes, n, d.info.SMs)
		args := [7]C.ulonglong{C.ulonglong(dst), C.ulonglong(src), C.ulonglong(idx), C.ulonglong(n),
			C.ulonglong(srcRows), C.ulonglong(p.rowElems), C.ulonglong(p.groupShift)}
		return cuCheck(fmt.Sprintf("cuLaunchKernel(ibmb_gather_%d)", p.width), C.ibmb_launch_u64(C.uintptr_t(fns.byW[p.width]),
			C.uint(p.gridX), C.uint(p.gridY), 1, C.uint(p.block), 1, 1, 0, cs, &args[0], C.int(len(args))))
	})
}

// MemcpyBandwidth measures device-to-device copy bandwidth on device dev:
// it allocates two buffers of bytes bytes, copies one into the other with
// cuMemcpyDtoDAsync on the default stream and returns the best of a few
// timed rounds (host clock around synchronized copies) in GB/s (1e9 bytes
// per second), counting each copied byte once (bus traffic is about twice
// that: every byte is read and written). It is the reference a gather of
// the same number of bytes is compared with. Use at least a few hundred MB
// so launch overhead does not matter.
func MemcpyBandwidth(dev int, bytes int64) (gbps float64, err error) {
	if dev < 0 {
		return 0, newErr(ErrValue, "cuda: device ordinal %d is negative", dev)
	}
	if bytes <= 0 {
		return 0, newErr(ErrValue, "cuda: MemcpyBandwidth: bytes = %d, want > 0", bytes)
	}
	err = withDevice(dev, func(d *deviceState) error {
		var a, b C.ibmb_CUdeviceptr
		if err := cuCheck("cuMemAlloc", C.ibmb_cuMemAlloc(&a, C.size_t(bytes))); err != nil {
			return err
		}
		defer C.ibmb_cuMemFree(a)
		if err := cuCheck("cuMemAlloc", C.ibmb_cuMemAlloc(&b, C.size_t(bytes))); err != nil {
			return err
		}
		defer C.ibmb_cuMemFree(b)
		if err := cuCheck("cuMemsetD8", C.ibmb_cuMemsetD8(a, 0x5a, C.size_t(bytes))); err != nil {
			return err
		}
		round := func(copies int) (time.Duration, error) {
			start := time.Now()
			for i := 0; i < copies; i++ {
				if err := cuCheck("cuMemcpyDtoDAsync", C.ibmb_cuMemcpyDtoDAsync(b, a, C.size_t(bytes), 0)); err != nil {
					return 0, err
				}
			}
			if err := cuCheck("cuStreamSynchronize", C.ibmb_cuStreamSynchronize(0)); err != nil {
				return 0, err
			}
			return time.Since(start) / time.Duration(copies), nil
		}
		if _, err := round(1); err != nil { // warm-up
			return err
		}
		best := time.Duration(math.MaxInt64)
		for trial := 0; trial < 5; trial++ {
			t, err := round(3)
			if err != nil {
				return err
			}
			best = min(best, t)
		}
		gbps = float64(bytes) / max(best.Seconds(), 1e-12) / 1e9
		return nil
	})
	return gbps, err
}

// Small helpers for tests (cgo cannot be used in _test.go files).

func devAlloc(dev int, bytes int64) (ptr uintptr, err error) {
	err = withDevice(dev, func(*deviceState) error {
		var p C.ibmb_CUdeviceptr
		if err := cuCheck("cuMemAlloc", C.ibmb_cuMemAlloc(&p, C.size_t(bytes))); err != nil {
			return err
		}
		ptr = uintptr(p)
		return nil
	})
	return ptr, err
}

func devFree(dev int, ptr uintptr) error {
	return withDevice(dev, func(*deviceState) error {
		return cuCheck("cuMemFree", C.ibmb_cuMemFree(C.ibmb_CUdeviceptr(ptr)))
	})
}

func copyToDevice(dev int, dst uintptr, src []byte) error {
	if len(src) == 0 {
		return nil
	}
	return withDevice(dev, func(*deviceState) error {
		return cuCheck("cuMemcpyHtoD", C.ibmb_cuMemcpyHtoD(C.ibmb_CUdeviceptr(dst), unsafe.Pointer(&src[0]), C.size_t(len(src))))
	})
}

func copyFromDevice(dev int, dst []byte, src uintptr) error {
	if len(dst) == 0 {
		return nil
	}
	return withDevice(dev, func(*deviceState) error {
		return cuCheck("cuMemcpyDtoH", C.ibmb_cuMemcpyDtoH(unsafe.Pointer(&dst[0]), C.ibmb_CUdeviceptr(src), C.size_t(len(dst))))
	})
}

func devSynchronize(dev int) error {
	return withDevice(dev, func(*deviceState) error {
		return cuCheck("cuCtxSynchronize", C.ibmb_cuCtxSynchronize())
	})
}

// moduleInfo reports how the gather module of dev was built (tests).
func moduleInfo(dev int) (arch int, kind string, err error) {
	err = withDevice(dev, func(d *deviceState) error {
		fns, err := d.kernels()
		if err == nil {
			arch, kind = fns.arch, fns.kind
		}
		return err
	})
	return arch, kind, err
}
