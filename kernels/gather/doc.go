// Package gather copies selected rows of a row-major matrix into a
// contiguous buffer on the CPU:
//
//	dst[i*rowBytes : (i+1)*rowBytes] = src[idx[i]*rowBytes : (idx[i]+1)*rowBytes]
//
// for every i in [0, n). It is the CPU "contiguous gather" behind
// mini-batch assembly: the caller names rows by int64 index and gets them
// back to back.
//
// The gather moves whole rows as bytes. It works the same for float32,
// float16, bfloat16 or any other element type, any positive row width
// (odd widths such as three float16 elements, 6 bytes, included), and any
// alignment of dst and src; the result is bit-exact by construction.
//
// Every index is checked before anything is written: when one is out of
// range, Rows returns an error wrapping ErrIndex (an *IndexError naming the
// first bad position) and leaves dst untouched.
//
// The copy itself runs in C (csrc/gather.c, with the row loop and row
// copies it shares with the scatter in csrc/rowcopy.h) through cgo, in one
// of four tiers: a scalar byte-loop reference, libc memcpy per row, and
// AVX2 and AVX-512 kernels with software prefetch and, for large outputs,
// streaming stores. The package picks the fastest tier available on the CPU for the
// row size at hand (see TierFor), checks the CPU once at start-up with
// golang.org/x/sys/cpu and runs on any x86-64 (and, through the portable
// tiers, any other) CPU. Large gathers are split across GOMAXPROCS
// goroutines, one C call each.
//
// Rows and RowsTier take raw pointers, as the bindings pass them;
// Float32 and Bytes are the slice conveniences for Go callers.
package gather
