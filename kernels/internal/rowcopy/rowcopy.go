// Package rowcopy holds what the row gather and the row scatter share, on
// the CPU (kernels/gather, kernels/scatter) and on CUDA (kernels/cuda): the
// validation of a call's arguments and the split of a CPU copy over
// goroutines.
//
// Both operations copy n rows of rowBytes bytes between a packed buffer of
// n rows and a table of tableRows rows, through n int64 row numbers idx:
//
//	gather   dst[i] = src[idx[i]]   (dst packed, src the table)
//	scatter  dst[idx[i]] = src[i]   (dst the table, src packed)
//
// The C kernels share csrc/rowcopy.h in the same way.
package rowcopy

import (
	"math"
	"runtime"
	"unsafe"

	"github.com/ibmb-dev/ibmb/internal/par"
)

// Op is the direction of a row copy.
type Op int

const (
	// Gather reads the table rows idx[i] into packed rows i.
	Gather Op = iota
	// Scatter writes packed rows i into the table rows idx[i].
	Scatter
)

// Args are one row copy's arguments, pointers as addresses (host or
// device).
type Args struct {
	Op            Op
	Dst, Src, Idx uintptr
	TableRows     int64 // rows of the table (src of a gather, dst of a scatter)
	RowBytes      int64
	N             int64 // rows copied, and int64 values at Idx
}

// names returns the names the messages give the packed and the table
// buffer and the table's row count.
func (a *Args) names() (packed, table, rows string) {
	if a.Op == Scatter {
		return "src", "dst", "dstRows"
	}
	return "dst", "src", "srcRows"
}

// Check validates a without touching memory and returns nil, or the error
// fail builds from a message describing the first problem (so that every
// package keeps its own error kinds). In order: RowBytes <= 0, TableRows <
// 0, N < 0, sizes that overflow int64; then, when N > 0, a zero packed
// buffer or Idx, a zero table with TableRows > 0, an Idx not 8-byte
// aligned, and a destination overlapping the source or Idx. N == 0 with
// valid counts is valid (nothing to copy).
func (a *Args) Check(fail func(format string, args ...any) error) error {
	packed, table, rows := a.names()
	switch {
	case a.RowBytes <= 0:
		return fail("rowBytes must be positive, got %d", a.RowBytes)
	case a.TableRows < 0:
		return fail("%s must be non-negative, got %d", rows, a.TableRows)
	case a.N < 0:
		return fail("n must be non-negative, got %d", a.N)
	case a.N > math.MaxInt64/a.RowBytes || a.TableRows > math.MaxInt64/a.RowBytes || a.N > math.MaxInt64/8:
		return fail("%d or %d rows of %d bytes overflow int64", a.N, a.TableRows, a.RowBytes)
	case a.N == 0:
		return nil
	}
	pp, tp := a.Dst, a.Src
	if a.Op == Scatter {
		pp, tp = a.Src, a.Dst
	}
	switch {
	case pp == 0:
		return fail("%s is nil", packed)
	case a.Idx == 0:
		return fail("idx is nil")
	case tp == 0 && a.TableRows > 0:
		return fail("%s is nil", table)
	case a.Idx%8 != 0:
		return fail("idx %#x is not 8-byte aligned", a.Idx)
	}
	dstLen, srcLen := a.N*a.RowBytes, a.TableRows*a.RowBytes
	if a.Op == Scatter {
		dstLen, srcLen = srcLen, dstLen
	}
	if Overlap(a.Dst, dstLen, a.Src, srcLen) {
		return fail("dst [%#x, +%d) overlaps src [%#x, +%d)", a.Dst, dstLen, a.Src, srcLen)
	}
	if Overlap(a.Dst, dstLen, a.Idx, a.N*8) {
		return fail("dst [%#x, +%d) overlaps idx [%#x, +%d)", a.Dst, dstLen, a.Idx, a.N*8)
	}
	return nil
}

// Overlap reports whether the byte ranges [a, a+na) and [b, b+nb)
// intersect; a zero address or length never overlaps.
func Overlap(a uintptr, na int64, b uintptr, nb int64) bool {
	if a == 0 || b == 0 || na <= 0 || nb <= 0 {
		return false
	}
	return uint64(a) < uint64(b)+uint64(nb) && uint64(b) < uint64(a)+uint64(na)
}

// Stream resolves a stream argument for a copy writing total bytes:
// stream < 0 decides by size (streaming from threshold bytes on), 0
// forbids and > 0 asks for streaming stores.
func Stream(stream int, total, threshold int64) bool {
	return stream > 0 || stream < 0 && total >= threshold
}

// ParMinWork is the least work, in bytes of cache lines touched, worth
// handing to one more goroutine: copies under 2*ParMinWork run inline, in
// one C call on the calling goroutine.
//
// On the (shared, 2-core) development machine a second goroutine never
// paid off for cache-resident sources up to 4 MiB of output: one goroutine
// gathered 512-byte rows at 31-38 GB/s, two at 7-27 GB/s (the goroutine
// hand-off costs a few microseconds, and the second core was often busy).
// From DRAM with 4 KiB pages the random row reads hit a machine-wide limit
// (7-10 GB/s whether one or two threads read), while with huge pages two
// threads read 1 KiB rows 1.2-1.5x faster than one. Hence the split starts
// at 4 MiB of work, where the hand-off is noise. The scatter uses the same
// value (not measured separately).
const ParMinWork = 2 << 20

// Workers returns how many goroutines should share a copy of n rows of
// rowBytes bytes: one per ParMinWork of work (a row costs at least a cache
// line), at most GOMAXPROCS and at most n, at least 1.
func Workers(n, rowBytes int64) int {
	w := int64(runtime.GOMAXPROCS(0))
	perRow := max(rowBytes, 64)
	if n <= math.MaxInt64/perRow {
		w = min(w, n*perRow/ParMinWork)
	}
	return int(max(min(w, n), 1))
}

// ChunkBytes is the work, in bytes of cache lines touched, of one chunk of
// a parallel copy (see RunDynamic).
const ChunkBytes = 1 << 20

// ChunkRows returns the rows of one chunk of a parallel copy of rows of
// rowBytes bytes: ChunkBytes of work, at least one row.
func ChunkRows(rowBytes int64) int64 {
	return max(ChunkBytes/max(rowBytes, 64), 1)
}

// RunDynamic calls fn on chunks [lo, hi) of at most chunk rows that cover
// [0, n), from w goroutines that each take the next chunk when done with
// their last (par.For), and returns when all are done; w <= 1 or a single
// chunk runs fn(0, n) on the caller.
//
// A static split into w equal parts (the gather's earlier scheme) finishes
// when the slowest part does: on the shared 2-core development machine,
// where other processes often hold one core, the median wall time of a
// 1e5 x 1 KiB gather from a 1 GiB source was up to 2x its CPU time. With
// 1 MiB chunks handed out in order, the goroutine that keeps its core
// takes over the rest; the C kernel restarts its prefetch pipeline at each
// chunk, which costs about 16 KiB of unprefetched rows per 1 MiB (about
// 1%).
func RunDynamic(w int, n, chunk int64, fn func(lo, hi int64)) {
	if w <= 1 || chunk >= n {
		fn(0, n)
		return
	}
	par.For(n, w, chunk, nil, func(_ int, lo, hi int64) bool { fn(lo, hi); return true })
}

// RunChunks calls fn(k, lo, hi) for k in [0, w) on contiguous chunks that
// cover [0, n) in order (par.Split), and returns when all are done.
func RunChunks(w int, n int64, fn func(k int, lo, hi int64)) { par.Split(n, w, fn) }

// Run is one package's copy on raw memory: a row copy with the table of
// tableRows rows (see Args), automatic tier and streaming.
type Run func(dst, src unsafe.Pointer, tableRows, rowBytes int64, idx unsafe.Pointer, n int64) error

// Slices runs a typed call (the Bytes and Float32 functions of the
// packages) on Go slices of rows of width elements of elemBytes bytes: the
// table slice must hold whole rows and the packed one exactly len(idx)
// rows, or fail builds the error. The slices stay alive until run returns.
func Slices[T any](op Op, dst, src []T, width int, elemBytes int64, idx []int64,
	fail func(format string, args ...any) error, run Run) error {
	if width <= 0 || int64(width) > math.MaxInt64/elemBytes {
		return fail("row width must be in [1, %d], got %d", math.MaxInt64/elemBytes, width)
	}
	a := Args{Op: op}
	packedName, tableName, _ := a.names()
	packedLen, tableLen := len(dst), len(src)
	if op == Scatter {
		packedLen, tableLen = tableLen, packedLen
	}
	n := len(idx)
	if tableLen%width != 0 {
		return fail("len(%s) = %d is not a multiple of the row width %d", tableName, tableLen, width)
	}
	if n > 0 && width > math.MaxInt/n || packedLen != n*width {
		return fail("len(%s) = %d, want len(idx)*width = %d*%d", packedName, packedLen, n, width)
	}
	err := run(unsafe.Pointer(unsafe.SliceData(dst)), unsafe.Pointer(unsafe.SliceData(src)), int64(tableLen/width),
		int64(width)*elemBytes, unsafe.Pointer(unsafe.SliceData(idx)), int64(n))
	runtime.KeepAlive(dst)
	runtime.KeepAlive(src)
	runtime.KeepAlive(idx)
	return err
}

// The kernel tiers, numbered as gather.Tier's constants (and as
// IBMB_TIER_* in csrc/rowcopy.h).
const (
	TierScalar = iota
	TierMemcpy
	TierAVX2
	TierAVX512
)

// Supported reports whether tier t runs on a CPU with the given features:
// the scalar and memcpy tiers everywhere, AVX2 with AVX2, AVX-512 with
// AVX-512F and AVX2 (its short-row paths use the AVX2 moves).
func Supported[T ~int](t T, avx2, avx512 bool) bool {
	switch t {
	case TierScalar, TierMemcpy:
		return true
	case TierAVX2:
		return avx2
	case TierAVX512:
		return avx512 && avx2
	}
	return false
}

// Available returns the tiers a CPU with the given features runs, in
// increasing order.
func Available[T ~int](avx2, avx512 bool) []T {
	var ts []T
	for t := T(TierScalar); t <= TierAVX512; t++ {
		if Supported(t, avx2, avx512) {
			ts = append(ts, t)
		}
	}
	return ts
}

// CheckTier returns nil when tier t runs on a CPU with the given features,
// else the error fail builds: an unknown tier, or one this CPU cannot run.
func CheckTier[T ~int](t T, avx2, avx512 bool, fail func(format string, args ...any) error) error {
	switch {
	case Supported(t, avx2, avx512):
		return nil
	case t < TierScalar || t > TierAVX512:
		return fail("unknown tier %v", t)
	}
	return fail("tier %v is not available on this CPU", t)
}
