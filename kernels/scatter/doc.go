// Package scatter writes packed rows into selected rows of a row-major
// matrix on the CPU, the inverse of package gather:
//
//	dst[idx[i]*rowBytes : (idx[i]+1)*rowBytes] = src[i*rowBytes : (i+1)*rowBytes]
//
// for every i in [0, n). It is the "push" of a history store (GNNAutoScale):
// a mini-batch's fresh embeddings are written back into the [N, d] store at
// their node ids.
//
// # Invariants
//
//   - Rows are moved as bytes: float32, float16, bfloat16, float64 or any
//     other element type, any positive row width (odd ones included) and any
//     alignment of dst and src; the result is bit-exact by construction.
//   - Ids must be distinct. A repeated id is rejected (a *DuplicateError
//     naming both positions), not resolved by a "last write wins" rule: with
//     distinct ids every dst row is written at most once, so the result does
//     not depend on the order of the writes, a scatter can be split across
//     goroutines (and CUDA threads) freely, and the CPU and GPU kernels agree.
//     A mini-batch's own nodes, the rows a history push writes, are distinct.
//   - Every id is checked before anything is written: on an out-of-range or
//     repeated id the call returns an error and dst is byte-identical to what
//     it was.
//
// # Errors
//
// Out-of-range ids give an *IndexError (wrapping ErrIndex), repeated ids a
// *DuplicateError (wrapping ErrDuplicate and ErrValue), and invalid
// arguments (non-positive row size, negative counts, nil or misaligned
// pointers, overlapping buffers, a tier this CPU cannot run) errors wrapping
// ErrValue. The check needs a bitmap of one bit per dst row; when that
// cannot be allocated the error wraps memlimit.ErrMemory.
//
// # Kernels
//
// The copy runs in C (csrc/scatter.c, sharing csrc/rowcopy.h with the
// gather) through cgo in one of the tiers of package gather: a scalar
// byte-loop reference, libc memcpy per row, and AVX2 and AVX-512 kernels
// with prefetch-for-write of the rows ahead and, for large scatters,
// streaming stores that write whole lines without reading them first. The
// CPU is checked once with golang.org/x/sys/cpu. Large scatters are split
// into chunks handed to up to GOMAXPROCS goroutines, one C call each.
//
// # Determinism
//
// The bytes written depend only on the arguments (ids are distinct), never
// on the tier, the thread count or the scheduling.
package scatter
