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
	"github.com/ibmb-dev/ibmb/kernels/internal/rowcopy"
)

// deviceState is what we keep per device for the life of the process: the
// retained primary context, the loaded gather module (compiled once) and a
// pool of small scratch buffers for the index check.
type deviceState struct {
	ordinal int
	dev     C.ibmb_CUdevice
	ctx     uintptr // primary context, retained once, never released
	info    DeviceInfo

	modMu  sync.Mutex
	gather *kernelModule // nil until the gather module loaded
	ppr    *kernelModule // nil until the PPR module loaded

	scratchMu sync.Mutex
	scratch   []*scratchBuf
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

// module returns the module in *slot, compiling and loading src (named
// file, defining the kernels names) into the device's context on first use
// (caller: inside withDevice); see loadKernelModule for how it is built.
func (d *deviceState) module(slot **kernelModule, src, file string, names []string) (*kernelModule, error) {
	d.modMu.Lock()
	defer d.modMu.Unlock()
	if *slot == nil {
		m, err := d.loadKernelModule(src, file, names)
		if err != nil {
			return nil, err
		}
		*slot = m
	}
	return *slot, nil
}

// kernels returns the gather module (gather and scatter kernels).
func (d *deviceState) kernels() (*kernelModule, error) {
	return d.module(&d.gather, cudasrc.Gather, "gather.cu", cudasrc.GatherKernels)
}

// launch runs the kernel name of m on a grid of gx x gy blocks of block
// threads on stream cs, passing args (every parameter 8 bytes wide).
func (m *kernelModule) launch(name string, gx, gy, block uint32, cs C.uintptr_t, args ...C.ulonglong) error {
	fn, ok := m.fns[name]
	if !ok {
		return newErr(ErrCUDA, "cuda: the loaded module lacks the kernel %s", name)
	}
	return cuCheck("cuLaunchKernel("+name+")", C.ibmb_launch_u64(C.uintptr_t(fn),
		C.uint(gx), C.uint(gy), 1, C.uint(block), 1, 1, 0, cs, &args[0], C.int(len(args))))
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
func Prepare(dev int) error { return prepare(dev, (*deviceState).kernels) }

// prepare loads a module on device dev ahead of time (Prepare, PreparePPR).
func prepare(dev int, load func(*deviceState) (*kernelModule, error)) error {
	if dev < 0 {
		return newErr(ErrValue, "cuda: device ordinal %d is negative", dev)
	}
	return withDevice(dev, func(d *deviceState) error {
		_, err := load(d)
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
	a := rowcopy.Args{Op: rowcopy.Gather, Dst: dst, Src: src, Idx: idx, TableRows: srcRows, RowBytes: rowBytes, N: n}
	return copyRows(dev, &a, stream, func(d *deviceState, m *kernelModule, cs C.uintptr_t) error {
		pos, v, err := firstBad(d, idx, cs, func(word C.ibmb_CUdeviceptr) error {
			return m.launch("ibmb_gather_check", checkGrid(n, d.info.SMs), 1, checkBlock, cs,
				C.ulonglong(idx), C.ulonglong(n), C.ulonglong(srcRows), C.ulonglong(word))
		})
		if err == nil && pos >= 0 {
			err = newErr(ErrIndex, "cuda: gather: idx[%d] = %d is out of range [0, %d); output not written", pos, v, srcRows)
		}
		return err
	})
}

// copyRows runs a gather or a scatter (a) on device dev: it validates the
// arguments, runs check (the operation's index check on stream cs: nil
// when every index is valid, else the error to return, with dst not
// written), then queues the copy kernel ibmb_<op>_<width> on the stream
// and returns without waiting.
func copyRows(dev int, a *rowcopy.Args, stream uintptr, check func(d *deviceState, m *kernelModule, cs C.uintptr_t) error) error {
	op := "gather"
	if a.Op == rowcopy.Scatter {
		op = "scatter"
	}
	if dev < 0 {
		return newErr(ErrValue, "cuda: %s: device ordinal %d is negative", op, dev)
	}
	err := a.Check(func(format string, args ...any) error {
		return newErr(ErrValue, "cuda: "+op+": "+format, args...)
	})
	if err != nil || a.N == 0 {
		return err
	}
	return withDevice(dev, func(d *deviceState) error {
		m, err := d.kernels()
		if err != nil {
			return err
		}
		cs := C.uintptr_t(stream)
		if err := check(d, m, cs); err != nil {
			return err
		}
		p := planGather(a.Dst, a.Src, a.RowBytes, a.N, d.info.SMs)
		return m.launch(fmt.Sprintf("ibmb_%s_%d", op, p.width), p.gridX, p.gridY, p.block, cs,
			C.ulonglong(a.Dst), C.ulonglong(a.Src), C.ulonglong(a.Idx), C.ulonglong(a.N),
			C.ulonglong(a.TableRows), C.ulonglong(p.rowElems), C.ulonglong(p.groupShift))
	})
}

// firstBad runs an index check on stream cs and waits for it: it sets the
// device word of a scratch buffer to all ones, calls launch(word) to queue
// the check kernels (which atomicMin the first bad position into it), and
// returns that position and idx's value there, or pos -1 when the word
// stayed all ones. Caller: inside withDevice.
func firstBad(d *deviceState, idx uintptr, cs C.uintptr_t, launch func(word C.ibmb_CUdeviceptr) error) (pos, v int64, err error) {
	s, err := d.getScratch()
	if err != nil {
		return 0, 0, err
	}
	if err := cuCheck("cuMemsetD8Async", C.ibmb_cuMemsetD8Async(s.dev, 0xff, 8, cs)); err != nil {
		return 0, 0, err
	}
	if err := launch(s.dev); err != nil {
		return 0, 0, err
	}
	words := (*[2]uint64)(s.host)
	if err := d2hSync(s.host, s.dev, cs); err != nil {
		return 0, 0, err
	}
	first := words[0]
	if first != math.MaxUint64 {
		if err := d2hSync(unsafe.Add(s.host, 8), C.ibmb_CUdeviceptr(uint64(idx)+8*first), cs); err != nil {
			return 0, 0, err
		}
	}
	pos, v = int64(first), int64(words[1])
	d.putScratch(s) // the stream is idle: the buffer is free again
	if first == math.MaxUint64 {
		return -1, 0, nil
	}
	return pos, v, nil
}

// d2hSync copies the 8-byte word at src to host memory dst on stream cs
// and waits for it.
func d2hSync(dst unsafe.Pointer, src C.ibmb_CUdeviceptr, cs C.uintptr_t) error {
	if err := cuCheck("cuMemcpyDtoHAsync", C.ibmb_cuMemcpyDtoHAsync(dst, src, 8, cs)); err != nil {
		return err
	}
	return cuCheck("cuStreamSynchronize", C.ibmb_cuStreamSynchronize(cs))
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
		m, err := d.kernels()
		if err == nil {
			arch, kind = m.arch, m.kind
		}
		return err
	})
	return arch, kind, err
}
