package scatter

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"unsafe"

	"github.com/ibmb-dev/ibmb/gopkg/errs"
	"github.com/ibmb-dev/ibmb/internal/memlimit"
	"github.com/ibmb-dev/ibmb/kernels/gather"
	"github.com/ibmb-dev/ibmb/kernels/internal/rowcopy"
	"golang.org/x/sys/cpu"
)

// Tier names one implementation of the kernel; the tiers are those of
// package gather (TierScalar, TierMemcpy, TierAVX2, TierAVX512).
type Tier = gather.Tier

// CPU features, read once at start-up (tests switch them off).
var (
	hasAVX2   = cpu.X86.HasAVX2
	hasAVX512 = cpu.X86.HasAVX512F
)

func supported(t Tier) bool { return rowcopy.Supported(t, hasAVX2, hasAVX512) }

// Available returns the tiers this CPU can run, in the order of the Tier
// constants. TierScalar and TierMemcpy are always present.
func Available() []Tier { return rowcopy.Available[Tier](hasAVX2, hasAVX512) }

// TierFor returns the tier Rows uses for rows of rowBytes bytes: TierAVX2
// when the CPU has AVX2, else TierMemcpy. TierAVX512 is never chosen
// automatically: it has not been measured on a CPU with AVX-512 (the
// development machine's CPU, a 2-vCPU AMD EPYC VM, reports none), so
// RowsTier is the way to use it. TierScalar, the reference, is never chosen.
//
// Measured on that VM (shared, load 10 on 2 vCPUs, so CPU time of one
// thread, 25 interleaved rounds), 1e5 rows into a 512 MiB store on huge
// pages, src evicted from the caches: streaming AVX2 stores ran at 4.4-7.0
// GB/s for 256-byte rows and 7.7-7.9 for 1 KiB rows, ordinary AVX2 stores
// (with prefetch-for-write) at 3.4-3.6 and 3.9-4.7, libc memcpy per row at
// 2.8-3.0 and 3.6-4.1, against 6.8-9.2 GB/s for one contiguous copy of the
// same bytes. Writing the same rows in ascending id order ran about twice
// as fast as random order for 256-byte rows (4.8 against 2.3-2.6 GB/s into
// a 0.5-1 GiB store, through the bindings): the random destinations, not the copy,
// bound short rows.
//
// There is no destination-ordered tier: writing the rows in ascending id
// order needs the source rows read in that order, i.e. at random, and on
// that VM random reads of 256 B to 1 KiB rows cost as much as random
// writes. Sorting (id, position) pairs with a native radix sort and then
// copying in destination order, sorting blocks of 16-64 Ki source rows, and
// bucketing through a staging buffer by 2 MiB destination region all ran
// at 53-94% of this kernel's speed (benchmarks/scatter_order.c, CPU time of
// one thread, 1e5 and 1e6 rows of 256 B to 1 KiB; benchmarks/RESULTS.md).
// Prefetching the destination rows ahead of streaming stores (nta, t2 or
// for writing, 8 to 128 rows ahead) changed nothing beyond ±5%; prefetching
// source rows read out of order between them slowed them down up to 2.4x.
func TierFor(rowBytes int64) Tier {
	_ = rowBytes
	if hasAVX2 {
		return gather.TierAVX2
	}
	return gather.TierMemcpy
}

// ErrIndex is wrapped by the errors of an id outside [0, dstRows).
var ErrIndex = errs.New(errs.Index, "scatter: index out of range")

// ErrDuplicate is wrapped by the errors of an id that occurs twice.
var ErrDuplicate = errs.New(errs.Value, "scatter: repeated index")

// ErrValue is wrapped by the errors of invalid arguments, repeated ids
// included.
var ErrValue = errs.New(errs.Value, "scatter: invalid argument")

// IndexError reports the first id outside [0, Rows).
type IndexError struct {
	Pos   int64 // position in idx
	Index int64 // the offending id
	Rows  int64 // rows of dst
}

// Error returns "scatter: index <v> at position <p> is out of range for <r> rows".
func (e *IndexError) Error() string {
	return fmt.Sprintf("scatter: index %d at position %d is out of range for %d rows", e.Index, e.Pos, e.Rows)
}

// Unwrap returns ErrIndex.
func (e *IndexError) Unwrap() error { return ErrIndex }

// DuplicateError reports the first id that occurs a second time.
type DuplicateError struct {
	Pos   int64 // position of the second occurrence
	Prev  int64 // position of the first occurrence (< Pos)
	Index int64 // the repeated id
}

// Error returns "scatter: index <v> occurs at positions <q> and <p>; ...".
func (e *DuplicateError) Error() string {
	return fmt.Sprintf("scatter: index %d occurs at positions %d and %d; ids must be distinct", e.Index, e.Prev, e.Pos)
}

// Unwrap returns ErrDuplicate and ErrValue.
func (e *DuplicateError) Unwrap() []error { return []error{ErrDuplicate, ErrValue} }

func valueErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrValue}, args...)...)
}

// Rows writes row i of src (n packed rows of rowBytes bytes) to row idx[i]
// of dst, a row-major matrix of dstRows rows:
//
//	dst[idx[i]*rowBytes : (idx[i]+1)*rowBytes] = src[i*rowBytes : (i+1)*rowBytes]
//
// dst must hold dstRows*rowBytes bytes, src n*rowBytes bytes and idx n
// int64 values; idx must be 8-byte aligned, dst and src need no alignment.
// dst must not overlap src or idx. The buffers may be C memory or
// pointer-free Go memory, which the call does not retain.
//
// All ids are checked first: an id outside [0, dstRows) gives an
// *IndexError and a repeated id a *DuplicateError, for the first position
// where the list goes wrong, and dst is not touched. Invalid arguments give
// errors wrapping ErrValue. n == 0 does nothing and succeeds.
//
// Lists of 65536 ids or more are checked by up to GOMAXPROCS goroutines
// (atomic marks in a shared bitmap); the exact first error is then found
// by the sequential scan, so the error does not depend on the split. The
// speed-up of the parallel check has not been measured (the development
// machine has 2 shared cores); it exists so that the check does not stay
// serial while the copy scales over many cores.
//
// The tier is TierFor(rowBytes). Scatters touching 4 MiB or more are split
// into chunks of about 1 MiB handed out in order to up to GOMAXPROCS
// goroutines; smaller ones run in one C call on the calling goroutine.
// Scatters writing 4 MiB or more use streaming stores where dst is 16-byte
// aligned and rowBytes a multiple of 16 (IBMB_SCATTER_STREAM_BYTES; the
// threshold follows the gather's finding that streaming loses on outputs
// that fit the cache and was not measured separately for the scatter).
func Rows(dst unsafe.Pointer, dstRows, rowBytes int64, src, idx unsafe.Pointer, n int64) error {
	return scatter(-1, dst, dstRows, rowBytes, src, idx, n, -1)
}

// RowsTier is Rows with the kernel tier forced, for tests and benchmarks.
// It returns an error wrapping ErrValue when t is not a tier or this CPU
// cannot run it.
func RowsTier(t Tier, dst unsafe.Pointer, dstRows, rowBytes int64, src, idx unsafe.Pointer, n int64) error {
	if err := rowcopy.CheckTier(t, hasAVX2, hasAVX512, valueErr); err != nil {
		return err
	}
	return scatter(t, dst, dstRows, rowBytes, src, idx, n, -1)
}

// Bytes scatters rows of rowBytes bytes: dst holds len(dst)/rowBytes rows
// and src len(idx) rows, so len(dst) must be a multiple of rowBytes and
// len(src) must equal len(idx)*rowBytes. Errors as for Rows.
func Bytes(dst, src []byte, rowBytes int, idx []int64) error {
	return rowcopy.Slices(rowcopy.Scatter, dst, src, rowBytes, 1, idx, valueErr, rows)
}

// Float32 scatters rows of width float32 values: dst holds len(dst)/width
// rows and src len(idx) rows. Errors as for Rows.
func Float32(dst, src []float32, width int, idx []int64) error {
	return rowcopy.Slices(rowcopy.Scatter, dst, src, width, 4, idx, valueErr, rows)
}

// rows is Rows in the argument order of a rowcopy.Run.
func rows(dst, src unsafe.Pointer, dstRows, rowBytes int64, idx unsafe.Pointer, n int64) error {
	return scatter(-1, dst, dstRows, rowBytes, src, idx, n, -1)
}

// seenPool holds zeroed id bitmaps for the duplicate check (the check
// leaves them zero), so repeated scatters into the same store allocate
// nothing.
var seenPool sync.Pool

// getSeen returns a zeroed bitmap of at least words words.
func getSeen(words int64) (*[]uint64, error) {
	if p, ok := seenPool.Get().(*[]uint64); ok && int64(len(*p)) >= words {
		return p, nil
	}
	if err := memlimit.CheckN("scatter: id bitmap", words, 8); err != nil {
		return nil, err
	}
	s := make([]uint64, words)
	return &s, nil
}

// Check validates ids for a scatter into dstRows rows without writing
// anything: nil, or the *IndexError or *DuplicateError Rows would return.
// idx must hold n 8-byte aligned int64 values.
func Check(idx unsafe.Pointer, n, dstRows int64) error {
	if n < 0 || dstRows < 0 {
		return valueErr("n = %d and dstRows = %d must be non-negative", n, dstRows)
	}
	if n == 0 {
		return nil
	}
	if idx == nil || uintptr(idx)%8 != 0 {
		return valueErr("idx %p is nil or not 8-byte aligned", idx)
	}
	return checkIDs(idx, n, dstRows)
}

// parCheckMin is the least number of ids checked in parallel (the parallel
// check's atomics cost about twice the sequential check's plain stores per
// id, so it pays only when split over several threads and long enough for
// the goroutine hand-off to be noise).
const parCheckMin = 1 << 16

// bitmapWords is the length of the check's bitmap for rows rows, one bit
// per row (ibmb_scatter_words in csrc/scatter.h), computed without
// overflow: (rows+63)/64 wrapped negative for rows near math.MaxInt64,
// which gave a one-word bitmap that the C check then wrote past.
func bitmapWords(rows int64) int64 {
	if rows <= 0 {
		return 0
	}
	return rows/64 + min(rows%64, 1)
}

// dense reports whether n ids are many for a bitmap of rows rows, at least
// one per 128 rows (ibmb_scatter_dense): the check then clears the whole
// bitmap in one sequential pass instead of the word of each id, which
// costs a cache miss per id once the bitmap is out of the cache.
func dense(n, rows int64) bool {
	w := bitmapWords(rows)
	return w > 0 && n >= w/2
}

// checkIDs returns nil when ids are in range and distinct, else the error
// of the first bad position. Long lists are checked in parallel (w
// goroutines marking a shared bitmap with atomic ORs, then clearing it:
// the words of each id, or every word for a dense list);
// when that finds a problem, or for short lists, the sequential scan gives
// the exact first position.
func checkIDs(idx unsafe.Pointer, n, dstRows int64) error {
	seen, err := getSeen(max(bitmapWords(dstRows), 1))
	if err != nil {
		return err
	}
	w := int64(runtime.GOMAXPROCS(0))
	if n >= parCheckMin && w > 1 {
		w = min(w, n/(parCheckMin/4))
		bad := make([]bool, w)
		rowcopy.RunChunks(int(w), n, func(k int, lo, hi int64) {
			bad[k] = cMark(unsafe.Add(idx, lo*8), hi-lo, dstRows, *seen)
		})
		if words := bitmapWords(dstRows); dense(n, dstRows) {
			clear((*seen)[:words])
		} else {
			rowcopy.RunChunks(int(w), n, func(k int, lo, hi int64) {
				cUnmark(unsafe.Add(idx, lo*8), hi-lo, dstRows, *seen)
			})
		}
		if !slices.Contains(bad, true) {
			seenPool.Put(seen)
			return nil
		}
	}
	pos, prev := cCheck(idx, n, dstRows, *seen)
	seenPool.Put(seen)
	if pos < 0 {
		return nil
	}
	v := *(*int64)(unsafe.Add(idx, pos*8))
	if prev < 0 {
		return &IndexError{Pos: pos, Index: v, Rows: dstRows}
	}
	return &DuplicateError{Pos: pos, Prev: prev, Index: v}
}

// scatter validates and runs one scatter. tier < 0 picks TierFor(rowBytes);
// stream < 0 decides streaming stores by output size, 0 forbids and > 0
// asks for them (tests).
func scatter(tier Tier, dst unsafe.Pointer, dstRows, rowBytes int64, src, idx unsafe.Pointer, n int64, stream int) error {
	a := rowcopy.Args{Op: rowcopy.Scatter, Dst: uintptr(dst), Src: uintptr(src), Idx: uintptr(idx),
		TableRows: dstRows, RowBytes: rowBytes, N: n}
	if err := a.Check(valueErr); err != nil || n == 0 {
		return err
	}
	if tier < 0 {
		tier = TierFor(rowBytes)
	}
	if err := checkIDs(idx, n, dstRows); err != nil {
		return err
	}
	st := rowcopy.Stream(stream, n*rowBytes, streamBytes)
	rowcopy.RunDynamic(rowcopy.Workers(n, rowBytes), n, rowcopy.ChunkRows(rowBytes), func(lo, hi int64) {
		cScatter(tier, dst, unsafe.Add(src, lo*rowBytes), unsafe.Add(idx, lo*8), hi-lo, rowBytes, st)
	})
	return nil
}
