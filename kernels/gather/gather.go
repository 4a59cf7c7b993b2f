package gather

import (
	"fmt"
	"unsafe"

	"github.com/ibmb-dev/ibmb/gopkg/errs"
	"github.com/ibmb-dev/ibmb/kernels/internal/rowcopy"

	"golang.org/x/sys/cpu"
)

// Tier names one implementation of the gather kernel.
type Tier int

const (
	// TierScalar is the reference kernel: a plain byte loop, kept free of
	// vectorisation. Slow; meant for tests and as ground truth.
	TierScalar Tier = rowcopy.TierScalar
	// TierMemcpy calls libc memcpy once per row, with software prefetch of
	// the rows ahead. Runs on any CPU.
	TierMemcpy Tier = rowcopy.TierMemcpy
	// TierAVX2 uses 256-bit unaligned moves, overlapping tails, software
	// prefetch and, for large outputs, streaming stores. Needs AVX2.
	TierAVX2 Tier = rowcopy.TierAVX2
	// TierAVX512 is TierAVX2 with 512-bit moves. Needs AVX-512F.
	TierAVX512 Tier = rowcopy.TierAVX512
)

var tierNames = [...]string{"scalar", "memcpy", "avx2", "avx512"}

// String returns the tier's short name: "scalar", "memcpy", "avx2" or
// "avx512".
func (t Tier) String() string {
	if t >= 0 && int(t) < len(tierNames) {
		return tierNames[t]
	}
	return fmt.Sprintf("Tier(%d)", int(t))
}

// CPU features, read once at start-up.
var (
	hasAVX2   = cpu.X86.HasAVX2
	hasAVX512 = cpu.X86.HasAVX512F
)

// supported reports whether t can run on this CPU.
func (t Tier) supported() bool { return rowcopy.Supported(t, hasAVX2, hasAVX512) }

// Available returns the tiers this CPU can run, slowest-first in the order
// of the Tier constants. TierScalar and TierMemcpy are always present.
func Available() []Tier { return rowcopy.Available[Tier](hasAVX2, hasAVX512) }

// Best returns the fastest tier this CPU runs for most row sizes: TierAVX2
// where available, else TierMemcpy. Rows chooses per row size with TierFor,
// which may differ from Best for some sizes.
func Best() Tier { return TierFor(1) }

// ErrIndex is wrapped by the errors of an index outside [0, srcRows).
var ErrIndex = errs.New(errs.Index, "gather: index out of range")

// ErrValue is wrapped by the errors of invalid arguments: a non-positive
// row size, negative counts, nil or misaligned pointers, mismatched slice
// lengths, overlapping buffers, or a tier this CPU cannot run.
var ErrValue = errs.New(errs.Value, "gather: invalid argument")

// IndexError reports the first out-of-range index of a gather. It wraps
// ErrIndex, so errors.Is(err, ErrIndex) holds.
type IndexError struct {
	Pos   int64 // position in the index list
	Index int64 // the offending value
	Rows  int64 // number of source rows
}

// Error describes the bad index, e.g. "gather: index 5 at position 3 is out
// of range for 4 rows".
func (e *IndexError) Error() string {
	return fmt.Sprintf("gather: index %d at position %d is out of range for %d rows",
		e.Index, e.Pos, e.Rows)
}

// Unwrap returns ErrIndex.
func (e *IndexError) Unwrap() error { return ErrIndex }

func valueErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrValue}, args...)...)
}

// Rows writes n rows of rowBytes bytes to dst, row i being row idx[i] of
// src, a row-major matrix of srcRows rows:
//
//	dst[i*rowBytes : (i+1)*rowBytes] = src[idx[i]*rowBytes : (idx[i]+1)*rowBytes]
//
// dst must hold n*rowBytes bytes, src srcRows*rowBytes bytes, and idx n
// int64 values; idx must be 8-byte aligned, dst and src need no alignment.
// The three buffers must not overlap. dst and src may point to C memory or
// to pointer-free Go memory (byte, number slices), which the call does not
// retain.
//
// All indices are checked first: if any is outside [0, srcRows), Rows
// returns an *IndexError (wrapping ErrIndex) for the first one and does not
// touch dst. Invalid arguments give an error wrapping ErrValue: rowBytes <=
// 0, srcRows < 0, n < 0, sizes that overflow int64, and, when n > 0, a nil
// dst or idx, a nil src with srcRows > 0, a misaligned idx, or overlapping
// buffers. n == 0 does nothing and succeeds.
//
// The kernel tier is TierFor(rowBytes). Gathers touching 4 MiB or more
// (counting at least a 64-byte cache line per row) are split into
// contiguous index ranges of about 1 MiB, handed out in order to up to
// GOMAXPROCS goroutines, one C call each (the index check is split into
// one range per goroutine); smaller ones run in a single C call on the
// calling goroutine.
func Rows(dst, src unsafe.Pointer, srcRows int64, rowBytes int64, idx unsafe.Pointer, n int64) error {
	return gather(-1, dst, src, srcRows, rowBytes, idx, n, -1)
}

// RowsTier is Rows with the kernel tier forced, for tests and benchmarks.
// It returns an error wrapping ErrValue when t is not one of the Tier
// constants or this CPU cannot run it (see Available).
func RowsTier(t Tier, dst, src unsafe.Pointer, srcRows int64, rowBytes int64, idx unsafe.Pointer, n int64) error {
	if err := rowcopy.CheckTier(t, hasAVX2, hasAVX512, valueErr); err != nil {
		return err
	}
	return gather(t, dst, src, srcRows, rowBytes, idx, n, -1)
}

// Float32 gathers rows of width float32 values: src holds len(src)/width
// rows and dst receives len(idx) rows, so len(src) must be a multiple of
// width and len(dst) must equal len(idx)*width. Errors as for Rows.
func Float32(dst, src []float32, width int, idx []int64) error {
	return rowcopy.Slices(rowcopy.Gather, dst, src, width, 4, idx, valueErr, Rows)
}

// Bytes gathers rows of rowBytes bytes: src holds len(src)/rowBytes rows
// and dst receives len(idx) rows, so len(src) must be a multiple of
// rowBytes and len(dst) must equal len(idx)*rowBytes. Errors as for Rows.
func Bytes(dst, src []byte, rowBytes int, idx []int64) error {
	return rowcopy.Slices(rowcopy.Gather, dst, src, rowBytes, 1, idx, valueErr, Rows)
}

// gather validates and runs one gather. tier < 0 picks TierFor(rowBytes);
// stream < 0 decides streaming stores by output size, 0 forbids and > 0
// asks for them (tests).
func gather(tier Tier, dst, src unsafe.Pointer, srcRows, rowBytes int64, idx unsafe.Pointer, n int64, stream int) error {
	a := rowcopy.Args{Op: rowcopy.Gather, Dst: uintptr(dst), Src: uintptr(src), Idx: uintptr(idx),
		TableRows: srcRows, RowBytes: rowBytes, N: n}
	if err := a.Check(valueErr); err != nil || n == 0 {
		return err
	}
	if tier < 0 {
		tier = TierFor(rowBytes)
	}
	w := rowcopy.Workers(n, rowBytes)

	// Check every index before writing anything.
	if bad := checkIndices(idx, n, srcRows, w); bad >= 0 {
		v := *(*int64)(unsafe.Add(idx, bad*8))
		return &IndexError{Pos: bad, Index: v, Rows: srcRows}
	}

	st := rowcopy.Stream(stream, n*rowBytes, streamBytes)
	rowcopy.RunDynamic(w, n, rowcopy.ChunkRows(rowBytes), func(lo, hi int64) {
		cGather(tier, unsafe.Add(dst, lo*rowBytes), src, unsafe.Add(idx, lo*8), hi-lo, rowBytes, st)
	})
	return nil
}

// checkIndices returns the first position of idx[0:n] outside [0, rows),
// or -1, scanning w chunks in parallel.
func checkIndices(idx unsafe.Pointer, n, rows int64, w int) int64 {
	if w <= 1 {
		return cCheck(idx, n, rows, hasAVX2)
	}
	first := make([]int64, w)
	rowcopy.RunChunks(w, n, func(k int, lo, hi int64) {
		first[k] = -1
		if r := cCheck(unsafe.Add(idx, lo*8), hi-lo, rows, hasAVX2); r >= 0 {
			first[k] = lo + r
		}
	})
	for _, f := range first {
		if f >= 0 {
			return f
		}
	}
	return -1
}
