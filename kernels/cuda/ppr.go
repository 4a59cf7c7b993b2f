package cuda

/*
#include <stdlib.h>
#include "cuda_shim.h"
*/
import "C"

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"runtime"
	"slices"
	"time"
	"unsafe"

	"github.com/ibmb-dev/ibmb/internal/par"

	cudasrc "github.com/ibmb-dev/ibmb/cuda"
)

// PPROptions controls PPRPush.
type PPROptions struct {
	// Alpha is the teleport probability, in (0, 1).
	Alpha float64
	// Eps is the push threshold: u is pushed while r[u] >= Eps·deg(u). It
	// must be positive and finite.
	Eps float64
	// TopK > 0 keeps the TopK largest entries of every vector; TopK <= 0
	// keeps every positive entry. Up to 128 the selection runs on the GPU;
	// above, every entry is downloaded and the host selects.
	TopK int
	// TableCap is the number of slots of each warp's hash table, a power of
	// two in [256, 2^30]; a vector that touches more than 3/4·TableCap nodes
	// overflows and is reported in PPRResult.Overflowed. 0 chooses it from
	// the bound on the touched nodes, 1/(Alpha·Eps) + Σ deg(teleport nodes)
	// + |set| (capped by the number of nodes), shrunk if device memory is
	// short.
	TableCap int
	// MemBudget is the device memory in bytes PPRPush may use for its
	// workspace and output buffers, on top of the cached graph. 0 means half
	// of the device memory free after the graph is uploaded. The seeds are
	// processed in as many kernel launches ("waves") as the output buffers
	// require.
	MemBudget int64
	// MaxWarps caps the number of concurrent warps (one vector each); 0
	// means 32 per multiprocessor, the most that can be resident.
	MaxWarps int
}

// PPRStats describes the work of one PPRPush call.
type PPRStats struct {
	// Pushes and EdgePushes count node pushes and residual updates over all
	// vectors, overflowed ones included as far as they got.
	Pushes, EdgePushes int64
	// TableCap is the hash table size used, Warps the number of
	// concurrent warps (one table each), Launches the number of kernel
	// launches.
	TableCap, Warps, Launches int
	// GraphUploaded reports whether the graph was copied to the device by
	// this call (false: it came from the graph cache).
	GraphUploaded bool
}

// PPRResult is the output of PPRPush, in the CSR layout of gopkg/ppr.Result:
// row i belongs to set i and holds Nodes[Indptr[i]:Indptr[i+1]] with Scores
// likewise, sorted by descending score, ties by ascending node id.
type PPRResult struct {
	Indptr []int64
	Nodes  []int32
	Scores []float32
	// Overflowed lists, ascending, the sets whose vector did not fit in the
	// hash table. Their rows are empty: recompute them on the CPU and put
	// them in (gopkg/ppr does, with ppr.Result.ReplaceRows).
	Overflowed []int
	Stats      PPRStats
}

// NumRows returns the number of rows (sets).
func (r *PPRResult) NumRows() int { return len(r.Indptr) - 1 }

// Constants shared with cuda/ppr.cu.
const (
	pprBlock         = 128 // IBMB_PPR_BLOCK
	pprWarpsPerBlock = pprBlock / 32
	pprWarpsPerSM    = 32 // __launch_bounds__(128, 8)
	pprCtrlWords     = 8  // IBMB_PPR_CTRL_WORDS
	pprMinCap        = 256
	pprMaxCap        = 1 << 30
	pprMaxAutoCap    = 1 << 22
	pprShrinkFloor   = 4096 // automatic tables shrink to fit memory down to this size
	pprMaxWave       = 1 << 22
	pprTopKOnGPU     = 128

	pprPending  = 0
	pprDone     = 1
	pprOverflow = 2
	pprDeferred = 3

	ctrlPoolUsed = 1
	ctrlPushes   = 3
	ctrlEdges    = 4
)

// pprLimit is the number of nodes a table of cap slots may hold.
func pprLimit(cap int64) int64 { return cap / 4 * 3 }

// pprWorkspaceBytes is the device memory of one warp's table and lists.
func pprWorkspaceBytes(cap int64) int64 { return cap*(4+8+8) + 3*(pprLimit(cap)+32)*4 }

// validatePPR checks what can be checked without the GPU and returns the
// number of sets and the number of nodes.
func validatePPR(dev int, indptr []int64, indices []int32, setPtr, setNodes []int64, opt *PPROptions) (numSets, n int, err error) {
	bad := func(format string, args ...any) error {
		return newErr(ErrValue, "cuda: ppr: "+format, args...)
	}
	switch {
	case dev < 0:
		return 0, 0, bad("device ordinal %d is negative", dev)
	case !(opt.Alpha > 0 && opt.Alpha < 1):
		return 0, 0, bad("alpha must lie in (0, 1), got %v", opt.Alpha)
	case !(opt.Eps > 0) || math.IsInf(opt.Eps, 0):
		return 0, 0, bad("eps must be positive and finite, got %v", opt.Eps)
	case opt.TableCap != 0 && (opt.TableCap < pprMinCap || opt.TableCap > pprMaxCap || opt.TableCap&(opt.TableCap-1) != 0):
		return 0, 0, bad("TableCap %d is not a power of two in [%d, %d]", opt.TableCap, pprMinCap, pprMaxCap)
	case opt.MemBudget < 0:
		return 0, 0, bad("MemBudget %d is negative", opt.MemBudget)
	case opt.MaxWarps < 0:
		return 0, 0, bad("MaxWarps %d is negative", opt.MaxWarps)
	case len(indptr) < 2:
		return 0, 0, bad("graph has no nodes (indptr has %d entries)", len(indptr))
	case len(indptr)-1 > math.MaxInt32:
		return 0, 0, bad("graph has %d nodes, more than int32 ids allow", len(indptr)-1)
	case indptr[0] != 0 || indptr[len(indptr)-1] != int64(len(indices)):
		return 0, 0, bad("indptr runs from %d to %d, want 0 to len(indices) = %d", indptr[0], indptr[len(indptr)-1], len(indices))
	}
	n = len(indptr) - 1
	if setPtr == nil {
		numSets = len(setNodes)
		if numSets == 0 {
			return 0, 0, bad("no seed nodes")
		}
	} else {
		numSets = len(setPtr) - 1
		switch {
		case numSets < 1:
			return 0, 0, bad("no seed sets (set pointer has length %d)", len(setPtr))
		case setPtr[0] != 0:
			return 0, 0, bad("set pointer starts at %d, want 0", setPtr[0])
		case setPtr[numSets] != int64(len(setNodes)):
			return 0, 0, bad("set pointer ends at %d but there are %d set nodes", setPtr[numSets], len(setNodes))
		}
		for i := range numSets {
			if setPtr[i+1] <= setPtr[i] {
				if setPtr[i+1] == setPtr[i] {
					return 0, 0, bad("seed set %d is empty", i)
				}
				return 0, 0, bad("set pointer decreases at set %d", i)
			}
		}
	}
	if numSets > math.MaxInt32 {
		return 0, 0, bad("%d seed sets, more than int32 task ids allow", numSets)
	}
	for j, s := range setNodes {
		if s < 0 || s >= int64(n) {
			return 0, 0, newErr(ErrIndex, "cuda: ppr: seed node %d (at position %d) is out of range for %d nodes", s, j, n)
		}
	}
	return numSets, n, nil
}

// PPRPush computes approximate personalized PageRank vectors with the push
// algorithm of Andersen, Chung and Lang on GPU dev, the same rule as
// gopkg/ppr: for every seed set, r starts uniform over its distinct nodes,
// every one of them is pushed once, then u is pushed while
// r[u] >= opt.Eps·deg(u) (r[u] > 0 when deg(u) = 0); a push moves
// opt.Alpha·r[u] into p[u] and spreads (1−opt.Alpha)·r[u] evenly over the
// out-edges of u. On a symmetric graph the result satisfies
// 0 <= p(v) − p̂(v) <= opt.Eps·deg(v) for every v. The computation is in
// float64; the scores are rounded to float32.
//
//	indptr, indices  the graph in CSR form, host memory (edge weights are
//	                 ignored); copied to the device once and cached, see
//	                 FreeGraphCache
//	setPtr, setNodes the seed sets: set i is setNodes[setPtr[i]:setPtr[i+1]];
//	                 setPtr == nil means one set per entry of setNodes
//	                 (node-wise PPR). Repeated nodes in a set count once.
//
// Rows come back in the layout of gopkg/ppr.Result: row i holds the
// opt.TopK largest entries of set i's vector (every positive one when
// opt.TopK <= 0), sorted by descending float32 score and then ascending
// node id. Sets whose vector touched more nodes than the hash table holds
// are listed in Overflowed, with empty rows: the caller recomputes them on
// the CPU (gopkg/ppr splices them in), so results are always complete.
// Push order differs from the CPU's FIFO and float64 atomics make the
// rounding order vary from run to run, so scores agree with the CPU push
// within the error bound, not bit for bit.
//
// Errors wrap ErrUnavailable (no driver, no device, no NVRTC: use the CPU),
// ErrValue (invalid options, graph or sets), ErrIndex (a seed node out of
// range) or ErrCUDA (a failing driver call, with the driver's error name,
// e.g. CUDA_ERROR_OUT_OF_MEMORY). It is safe for concurrent use.
func PPRPush(dev int, indptr []int64, indices []int32, setPtr, setNodes []int64, opt PPROptions) (*PPRResult, error) {
	return PPRPushContext(context.Background(), dev, indptr, indices, setPtr, setNodes, opt)
}

// PPRPushContext is PPRPush stopping early when ctx is cancelled: the
// context is checked before every kernel launch, and when it can be
// cancelled the sets are launched in waves sized to about pprWaveTime of
// GPU time each (the first one small), so a cancellation is seen within
// about that time. It then returns an error wrapping ctx.Err() after freeing
// the call's device memory.
func PPRPushContext(ctx context.Context, dev int, indptr []int64, indices []int32, setPtr, setNodes []int64, opt PPROptions) (*PPRResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("cuda: ppr: %w", err)
	}
	numSets, n, err := validatePPR(dev, indptr, indices, setPtr, setNodes, &opt)
	if err != nil {
		return nil, err
	}
	var res *PPRResult
	err = withDevice(dev, func(d *deviceState) error {
		mod, err := d.pprKernels()
		if err != nil {
			return err
		}
		g, uploaded, err := acquireGraph(d, indptr, indices)
		if err != nil {
			return err
		}
		defer releaseGraph(g)
		run := &pprRun{d: d, mod: mod, g: g, indptr: indptr, setPtr: setPtr, setNodes: setNodes,
			numSets: numSets, n: n, opt: opt, ctx: ctx}
		res, err = run.do()
		if err == nil {
			res.Stats.GraphUploaded = uploaded
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// PreparePPR compiles (or fetches from the on-disk cache) and loads the PPR
// kernels on device dev, so that the first PPRPush does not pay for it.
func PreparePPR(dev int) error { return prepare(dev, (*deviceState).pprKernels) }

// pprKernels loads the PPR module once (caller: inside withDevice).
func (d *deviceState) pprKernels() (*kernelModule, error) {
	return d.module(&d.ppr, cudasrc.PPR, "ppr.cu", cudasrc.PPRKernels)
}

// ---- device memory helpers (caller: inside withDevice) ----------------------

// devArena owns the device buffers of one call.
type devArena struct {
	ptrs []C.ibmb_CUdeviceptr
}

func (a *devArena) alloc(what string, bytes int64) (C.ibmb_CUdeviceptr, error) {
	var p C.ibmb_CUdeviceptr
	if err := cuCheck(fmt.Sprintf("cuMemAlloc(%s, %d bytes)", what, bytes), C.ibmb_cuMemAlloc(&p, C.size_t(max(bytes, 8)))); err != nil {
		return 0, err
	}
	a.ptrs = append(a.ptrs, p)
	return p, nil
}

func (a *devArena) free() {
	for _, p := range a.ptrs {
		C.ibmb_cuMemFree(p)
	}
	a.ptrs = nil
}

func htod[T any](what string, dst C.ibmb_CUdeviceptr, src []T) error {
	if len(src) == 0 {
		return nil
	}
	bytes := uintptr(len(src)) * unsafe.Sizeof(src[0])
	return cuCheck("cuMemcpyHtoD("+what+")", C.ibmb_cuMemcpyHtoD(dst, unsafe.Pointer(&src[0]), C.size_t(bytes)))
}

func dtoh[T any](what string, dst []T, src C.ibmb_CUdeviceptr) error {
	if len(dst) == 0 {
		return nil
	}
	bytes := uintptr(len(dst)) * unsafe.Sizeof(dst[0])
	return cuCheck("cuMemcpyDtoH("+what+")", C.ibmb_cuMemcpyDtoH(unsafe.Pointer(&dst[0]), src, C.size_t(bytes)))
}

// downloads is a sequence of dtoh copies that stops at the first error
// (then in err).
type downloads struct{ err error }

// download runs dtoh(what, dst, src) unless an earlier copy of dl failed.
func download[T any](dl *downloads, what string, dst []T, src C.ibmb_CUdeviceptr) {
	if dl.err == nil {
		dl.err = dtoh(what, dst, src)
	}
}

func memset(what string, dst C.ibmb_CUdeviceptr, v byte, bytes int64) error {
	return cuCheck("cuMemsetD8("+what+")", C.ibmb_cuMemsetD8(dst, C.uchar(v), C.size_t(bytes)))
}

func memInfo() (free, total int64, err error) {
	var f, t C.size_t
	if err := cuCheck("cuMemGetInfo", C.ibmb_cuMemGetInfo(&f, &t)); err != nil {
		return 0, 0, err
	}
	return int64(f), int64(t), nil
}

// ---- one call -------------------------------------------------------------------

type pprRun struct {
	d        *deviceState
	mod      *kernelModule
	g        *devGraph
	indptr   []int64
	setPtr   []int64
	setNodes []int64
	numSets  int
	n        int
	opt      PPROptions
	ctx      context.Context

	// plan
	kernel    string
	gpuK      int64 // k passed to a top-k kernel; 0 for the all-entries kernel
	cap       int64
	warps     int64
	waveTasks int64
	poolCap   int64

	// device buffers
	arena                          devArena
	setPtrDev, setNodesDev         C.ibmb_CUdeviceptr // setPtrDev is 0 for node-wise
	keys, r, p, lists              C.ibmb_CUdeviceptr
	ctrl, tasks, status, count     C.ibmb_CUdeviceptr
	outNodes, outScores, rowOffDev C.ibmb_CUdeviceptr

	// accumulated rows: row of set i is accNodes/accScores[rowAt[i] : rowAt[i]+rowLen[i]]
	accNodes  []int32
	accScores []float32
	rowAt     []int64
	rowLen    []int32
	overflow  []int
	stats     PPRStats
}

// autoCap is the table size that holds the largest possible vector of any
// set: every push after the initial ones moves at least alpha·eps·deg(u) of
// the total mass 1 into p, so the pushed nodes' degrees sum to at most
// 1/(alpha·eps), plus the teleport nodes' degrees; every touched node is
// the end of one of those edges or a teleport node.
func (pr *pprRun) autoCap() int64 {
	var worst int64
	for i := range pr.numSets {
		lo, hi := int64(i), int64(i+1)
		if pr.setPtr != nil {
			lo, hi = pr.setPtr[i], pr.setPtr[i+1]
		}
		var s int64
		for _, v := range pr.setNodes[lo:hi] {
			s += pr.indptr[v+1] - pr.indptr[v] + 1
		}
		worst = max(worst, s)
	}
	need := 1/(pr.opt.Alpha*pr.opt.Eps) + float64(worst)
	need = min(need, float64(pr.n))
	c := int64(pprMinCap)
	for c < pprMaxAutoCap && float64(pprLimit(c)) < need {
		c *= 2
	}
	return c
}

// plan chooses the kernel, the table size, the number of warps and the wave
// size from the options and the memory budget.
func (pr *pprRun) plan() error {
	k := pr.opt.TopK
	switch {
	case k <= 0 || k > pprTopKOnGPU:
		pr.kernel = "ibmb_ppr_all"
	case k <= 32:
		pr.kernel, pr.gpuK = "ibmb_ppr_topk_1", int64(k)
	case k <= 64:
		pr.kernel, pr.gpuK = "ibmb_ppr_topk_2", int64(k)
	default:
		pr.kernel, pr.gpuK = "ibmb_ppr_topk_4", int64(k)
	}

	budget := pr.opt.MemBudget
	if budget == 0 {
		free, _, err := memInfo()
		if err != nil {
			return err
		}
		budget = free / 2
	}
	sms := int64(max(pr.d.info.SMs, 1))
	warps := sms * pprWarpsPerSM
	if pr.opt.MaxWarps > 0 {
		warps = min(warps, int64(pr.opt.MaxWarps))
	}
	warps = min(warps, int64(pr.numSets))

	// The smallest output buffers one launch needs.
	outMin := func(cap int64) int64 {
		if pr.gpuK > 0 {
			return 8*pr.gpuK + 16
		}
		return (pprLimit(cap)+32)*8 + 24
	}
	cap := int64(pr.opt.TableCap)
	if cap == 0 {
		cap = pr.autoCap()
		for cap > pprShrinkFloor {
			ws := budget - outMin(cap)
			fit := ws / pprWorkspaceBytes(cap)
			if fit >= warps || fit >= min(warps, sms*8) {
				break
			}
			cap /= 2
		}
	}
	wsBudget := budget - outMin(cap)
	warps = min(warps, wsBudget/pprWorkspaceBytes(cap))
	if warps < 1 {
		if pr.opt.MemBudget == 0 {
			return newErr(ErrCUDA, "cuda: ppr: out of device memory: half of the free memory, %d bytes, cannot hold one hash table of %d slots (%d bytes) and its output",
				budget, cap, pprWorkspaceBytes(cap)+outMin(cap))
		}
		return newErr(ErrValue, "cuda: ppr: a memory budget of %d bytes cannot hold one hash table of %d slots (%d bytes) and its output",
			budget, cap, pprWorkspaceBytes(cap)+outMin(cap))
	}
	pr.cap, pr.warps = cap, warps
	outBudget := budget - warps*pprWorkspaceBytes(cap)

	if pr.gpuK > 0 {
		perTask := 8*pr.gpuK + 12
		pr.waveTasks = min(int64(pr.numSets), max(1, outBudget/perTask), pprMaxWave)
	} else {
		const perTask = 4 + 4 + 4 + 8 // task, status, count, row offset
		pr.waveTasks = min(int64(pr.numSets), max(1, outBudget/2/perTask), pprMaxWave)
		maxRow := pprLimit(cap) + 32
		pr.poolCap = max(maxRow, min((outBudget-pr.waveTasks*perTask)/8, pr.waveTasks*maxRow))
	}
	pr.stats.TableCap, pr.stats.Warps = int(cap), int(warps)
	return nil
}

func (pr *pprRun) allocate() error {
	a := &pr.arena
	slots := pr.warps * pr.cap
	lists := pr.warps * 3 * (pprLimit(pr.cap) + 32)
	var err error
	alloc := func(dst *C.ibmb_CUdeviceptr, what string, bytes int64) {
		if err == nil {
			*dst, err = a.alloc(what, bytes)
		}
	}
	if pr.setPtr != nil {
		alloc(&pr.setPtrDev, "set pointer", int64(len(pr.setPtr))*8)
	}
	alloc(&pr.setNodesDev, "set nodes", int64(len(pr.setNodes))*8)
	alloc(&pr.keys, "table keys", slots*4)
	alloc(&pr.r, "table residuals", slots*8)
	alloc(&pr.p, "table estimates", slots*8)
	alloc(&pr.lists, "slot lists", lists*4)
	alloc(&pr.ctrl, "control words", pprCtrlWords*8)
	alloc(&pr.tasks, "task list", pr.waveTasks*4)
	alloc(&pr.status, "task status", pr.waveTasks*4)
	alloc(&pr.count, "row lengths", pr.waveTasks*4)
	if pr.gpuK > 0 {
		alloc(&pr.outNodes, "top-k nodes", pr.waveTasks*pr.gpuK*4)
		alloc(&pr.outScores, "top-k scores", pr.waveTasks*pr.gpuK*4)
	} else {
		alloc(&pr.outNodes, "output pool nodes", pr.poolCap*4)
		alloc(&pr.outScores, "output pool scores", pr.poolCap*4)
		alloc(&pr.rowOffDev, "row offsets", pr.waveTasks*8)
	}
	if err != nil {
		return err
	}
	if pr.setPtr != nil {
		if err := htod("set pointer", pr.setPtrDev, pr.setPtr); err != nil {
			return err
		}
	}
	if err := htod("set nodes", pr.setNodesDev, pr.setNodes); err != nil {
		return err
	}
	// Empty tables; the kernels leave them empty again.
	if err := memset("table keys", pr.keys, 0xff, slots*4); err != nil {
		return err
	}
	if err := memset("table residuals", pr.r, 0, slots*8); err != nil {
		return err
	}
	return memset("table estimates", pr.p, 0, slots*8)
}

// launch runs the kernel once over the sets in wave.
func (pr *pprRun) launch(wave []int32) error {
	nt := int64(len(wave))
	if err := htod("task list", pr.tasks, wave); err != nil {
		return err
	}
	if err := memset("control words", pr.ctrl, 0, pprCtrlWords*8); err != nil {
		return err
	}
	if err := memset("task status", pr.status, 0, nt*4); err != nil {
		return err
	}
	warps := min(pr.warps, nt)
	blocks := (warps + pprWarpsPerBlock - 1) / pprWarpsPerBlock
	args := [25]C.ulonglong{
		C.ulonglong(pr.g.indptr), C.ulonglong(pr.g.indices), C.ulonglong(pr.g.deg),
		C.ulonglong(pr.setPtrDev), C.ulonglong(pr.setNodesDev), C.ulonglong(pr.tasks), C.ulonglong(nt),
		C.ulonglong(math.Float64bits(pr.opt.Alpha)), C.ulonglong(math.Float64bits(pr.opt.Eps)),
		C.ulonglong(pr.keys), C.ulonglong(pr.r), C.ulonglong(pr.p), C.ulonglong(pr.lists),
		C.ulonglong(pr.cap), C.ulonglong(bits.TrailingZeros64(uint64(pr.cap))), C.ulonglong(pprLimit(pr.cap)),
		C.ulonglong(warps), C.ulonglong(pr.ctrl), C.ulonglong(pr.status), C.ulonglong(pr.count),
		C.ulonglong(pr.outNodes), C.ulonglong(pr.outScores), C.ulonglong(pr.gpuK),
		C.ulonglong(pr.rowOffDev), C.ulonglong(pr.poolCap),
	}
	if err := pr.mod.launch(pr.kernel, uint32(blocks), 1, pprBlock, 0, args[:]...); err != nil {
		return err
	}
	if err := cuCheck(pr.kernel+" (cuStreamSynchronize)", C.ibmb_cuStreamSynchronize(0)); err != nil {
		return err
	}
	pr.stats.Launches++
	return nil
}

// collect downloads one launch's results, stores the finished rows and
// returns the sets to run again (deferred or not taken).
func (pr *pprRun) collect(wave []int32) (again []int32, err error) {
	nt := len(wave)
	status := make([]int32, nt)
	count := make([]int32, nt)
	ctrl := make([]uint64, pprCtrlWords)
	var dl downloads
	download(&dl, "task status", status, pr.status)
	download(&dl, "row lengths", count, pr.count)
	download(&dl, "control words", ctrl, pr.ctrl)
	if dl.err != nil {
		return nil, dl.err
	}
	pr.stats.Pushes += int64(ctrl[ctrlPushes])
	pr.stats.EdgePushes += int64(ctrl[ctrlEdges])

	var nodes []int32
	var scores []float32
	var rowOff []int64
	if pr.gpuK > 0 {
		nodes = make([]int32, int64(nt)*pr.gpuK)
		scores = make([]float32, int64(nt)*pr.gpuK)
	} else {
		used := int64(ctrl[ctrlPoolUsed])
		if used > pr.poolCap {
			return nil, newErr(ErrCUDA, "cuda: ppr: output pool overrun (%d > %d entries)", used, pr.poolCap)
		}
		nodes = make([]int32, used)
		scores = make([]float32, used)
		rowOff = make([]int64, nt)
		download(&dl, "row offsets", rowOff, pr.rowOffDev)
	}
	download(&dl, "output nodes", nodes, pr.outNodes)
	download(&dl, "output scores", scores, pr.outScores)
	if dl.err != nil {
		return nil, dl.err
	}

	progress := false
	for i, set := range wave {
		switch status[i] {
		case pprDone:
			lo := int64(i) * pr.gpuK
			if pr.gpuK == 0 {
				lo = rowOff[i]
			}
			c := int64(count[i])
			if c < 0 || lo < 0 || lo+c > int64(len(nodes)) || (pr.gpuK > 0 && c > pr.gpuK) {
				return nil, newErr(ErrCUDA, "cuda: ppr: set %d: invalid output row [%d, +%d)", set, lo, c)
			}
			pr.rowAt[set] = int64(len(pr.accNodes))
			pr.rowLen[set] = int32(c)
			pr.accNodes = append(pr.accNodes, nodes[lo:lo+c]...)
			pr.accScores = append(pr.accScores, scores[lo:lo+c]...)
			progress = true
		case pprOverflow:
			pr.overflow = append(pr.overflow, int(set))
			progress = true
		case pprDeferred, pprPending:
			if pr.gpuK > 0 {
				return nil, newErr(ErrCUDA, "cuda: ppr: set %d left unfinished by a top-k launch (status %d)", set, status[i])
			}
			again = append(again, set)
		default:
			return nil, newErr(ErrCUDA, "cuda: ppr: set %d: invalid status %d", set, status[i])
		}
	}
	if !progress {
		return nil, newErr(ErrCUDA, "cuda: ppr: a launch over %d sets finished none of them", nt)
	}
	return again, nil
}

func (pr *pprRun) do() (*PPRResult, error) {
	if err := pr.plan(); err != nil {
		return nil, err
	}
	defer pr.arena.free()
	if err := pr.allocate(); err != nil {
		return nil, err
	}
	pr.rowAt = make([]int64, pr.numSets)
	pr.rowLen = make([]int32, pr.numSets)
	pending := make([]int32, pr.numSets)
	for i := range pending {
		pending[i] = int32(i)
	}
	// A cancellable call launches waves of about pprWaveTime each, starting
	// with a few tasks per warp; otherwise every wave is as large as the
	// output buffers allow.
	cancellable := pr.ctx.Done() != nil
	size := pr.waveTasks
	if cancellable {
		size = min(size, 4*pr.warps)
	}
	for len(pending) > 0 {
		if err := pr.ctx.Err(); err != nil {
			return nil, fmt.Errorf("cuda: ppr: %w", err)
		}
		wave := pending[:min(int64(len(pending)), size)]
		start := time.Now()
		if err := pr.launch(wave); err != nil {
			return nil, err
		}
		again, err := pr.collect(wave)
		if err != nil {
			return nil, err
		}
		pending = append(again, pending[len(wave):]...)
		if cancellable {
			switch took := time.Since(start); {
			case took < pprWaveTime/2:
				size = min(pr.waveTasks, 2*size)
			case took > 2*pprWaveTime:
				size = max(pr.warps, size/2)
			}
		}
	}
	return pr.assemble(), nil
}

// pprWaveTime is the GPU time a wave of a cancellable PPRPushContext aims
// at: how long a cancellation may wait for the running kernel.
const pprWaveTime = 100 * time.Millisecond

// assemble builds the CSR result in set order; rows of the all-entries
// kernel are sorted here (and cut to TopK when TopK > 128).
func (pr *pprRun) assemble() *PPRResult {
	k := int64(pr.opt.TopK)
	sortRows := pr.gpuK == 0
	res := &PPRResult{Indptr: make([]int64, pr.numSets+1), Stats: pr.stats}
	if sortRows {
		pprParallel(pr.numSets, func(lo, hi int) {
			var keys []uint64
			for set := lo; set < hi; set++ {
				at, n := pr.rowAt[set], int64(pr.rowLen[set])
				keys = sortRow(keys[:0], pr.accNodes[at:at+n], pr.accScores[at:at+n])
				if k > 0 {
					pr.rowLen[set] = int32(min(n, k))
				}
			}
		})
	}
	for set := range pr.numSets {
		res.Indptr[set+1] = res.Indptr[set] + int64(pr.rowLen[set])
	}
	total := res.Indptr[pr.numSets]
	res.Nodes = make([]int32, total)
	res.Scores = make([]float32, total)
	pprParallel(pr.numSets, func(lo, hi int) {
		for set := lo; set < hi; set++ {
			at, a, b := pr.rowAt[set], res.Indptr[set], res.Indptr[set+1]
			copy(res.Nodes[a:b], pr.accNodes[at:at+b-a])
			copy(res.Scores[a:b], pr.accScores[at:at+b-a])
		}
	})
	slices.Sort(pr.overflow)
	res.Overflowed = pr.overflow
	return res
}

// sortRow sorts one row by descending score, ties by ascending node id,
// through 64-bit keys (score bits, complemented node id), like the GPU.
func sortRow(keys []uint64, nodes []int32, scores []float32) []uint64 {
	for i := range nodes {
		keys = append(keys, uint64(math.Float32bits(scores[i]))<<32|uint64(^uint32(nodes[i])))
	}
	slices.Sort(keys)
	n := len(keys)
	for i, key := range keys {
		nodes[n-1-i] = int32(^uint32(key))
		scores[n-1-i] = math.Float32frombits(uint32(key >> 32))
	}
	return keys
}

// pprParallel splits [0, n) into chunks run on GOMAXPROCS goroutines.
func pprParallel(n int, fn func(lo, hi int)) {
	par.Split(n, min(runtime.GOMAXPROCS(0), max(1, n/256)), func(_, lo, hi int) { fn(lo, hi) })
}
