/*
 * gather.h - contiguous row gather for CPU.
 *
 * Given a row-major matrix `src` of `nrows` rows, each `row_bytes` bytes
 * long, and an index list idx[0..n), the gather kernels write
 *
 *     dst[i*row_bytes .. (i+1)*row_bytes) = src[idx[i]*row_bytes .. +row_bytes)
 *
 * for every i in [0, n), so that dst holds the selected rows back to back.
 *
 * The gather copies whole rows as bytes; it does not care whether the
 * elements are float32, float16 or bfloat16, and the result is bit-exact by
 * construction.
 *
 * Contract shared by every ibmb_gather_* copy kernel:
 *   - every idx[i] is in [0, nrows): run ibmb_gather_check first, the copy
 *     kernels do not check (they would read out of bounds);
 *   - row_bytes > 0 and n >= 0 (n == 0 does nothing);
 *   - dst and src are valid for n*row_bytes and nrows*row_bytes bytes and do
 *     not overlap; idx may alias neither;
 *   - idx must be aligned for int64_t; dst and src need no alignment at
 *     all (byte-aligned is fine);
 *   - the kernels write only dst[0 .. n*row_bytes) and read only the rows
 *     that idx names (plus software prefetches, which never fault);
 *   - ibmb_gather_avx2 needs a CPU with AVX2, ibmb_gather_avx512 one with
 *     AVX-512F (and AVX2, which every AVX-512 CPU has); the caller must
 *     check (the Go package uses x/sys/cpu).
 *     ibmb_gather_scalar and ibmb_gather_memcpy run on any x86-64 CPU.
 *
 * The library is thread-safe: disjoint index ranges may be gathered from
 * several threads at once (each thread passing its own dst/idx offsets).
 */
#ifndef IBMB_GATHER_H
#define IBMB_GATHER_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * ibmb_gather_check returns -1 when every idx[i] (0 <= i < n) lies in
 * [0, nrows), and otherwise the position of the FIRST index that does not.
 * A negative nrows is treated as 0 (then any index is out of range).
 * It dispatches at run time to the AVX2 version when the CPU has AVX2.
 */
int64_t ibmb_gather_check(const int64_t *idx, int64_t n, int64_t nrows);

/* The two implementations behind ibmb_gather_check (same contract). */
int64_t ibmb_gather_check_scalar(const int64_t *idx, int64_t n, int64_t nrows);
int64_t ibmb_gather_check_avx2(const int64_t *idx, int64_t n, int64_t nrows);

/* Scalar reference: a plain byte loop, kept free of vectorisation. */
void ibmb_gather_scalar(void *dst, const void *src, const int64_t *idx,
                        int64_t n, int64_t row_bytes);

/* libc memcpy per row, with software prefetch of rows ahead. */
void ibmb_gather_memcpy(void *dst, const void *src, const int64_t *idx,
                        int64_t n, int64_t row_bytes);

/* 256-bit AVX2 kernel (CPU must have AVX2). Streaming stores are used
 * when this call writes at least IBMB_GATHER_STREAM_BYTES (see _ex). */
void ibmb_gather_avx2(void *dst, const void *src, const int64_t *idx,
                      int64_t n, int64_t row_bytes);

/* 512-bit AVX-512F kernel (CPU must have AVX-512F). Streaming stores as for
 * ibmb_gather_avx2. */
void ibmb_gather_avx512(void *dst, const void *src, const int64_t *idx,
                        int64_t n, int64_t row_bytes);

/*
 * Streaming (non-temporal) stores. They bypass the cache: a win when the
 * output is much larger than the last-level cache (no read-for-ownership of
 * dst, no eviction of useful lines), a loss when it would have fit. The _ex
 * variants take the decision from the caller, who may know the size of the
 * whole gather that this call is one chunk of:
 *   stream == 0: ordinary stores;
 *   stream  > 0: streaming stores where the layout allows them, i.e. when
 *                row_bytes is a multiple of 16 and dst is 16-byte aligned
 *                (so every row start is aligned); otherwise ordinary stores;
 *   stream  < 0: automatic, as the plain entry points: stream when this
 *                call writes n*row_bytes >= IBMB_GATHER_STREAM_BYTES.
 * The result is the same bytes either way. Measured on a 2-core AMD EPYC
 * (Zen 4, 32 MiB L3) VM with a cache-resident source: streaming lost ~30%
 * at 4 MiB of output, broke even at 8-16 MiB and won 1.5-1.9x at 64 MiB;
 * from a DRAM source with 128 MiB of output it won 1.0-1.4x.
 */
#define IBMB_GATHER_STREAM_BYTES ((int64_t)16 << 20)

void ibmb_gather_avx2_ex(void *dst, const void *src, const int64_t *idx,
                         int64_t n, int64_t row_bytes, int stream);
void ibmb_gather_avx512_ex(void *dst, const void *src, const int64_t *idx,
                           int64_t n, int64_t row_bytes, int stream);

/*
 * ibmb_gather_tier runs the kernel of one tier: 0 scalar, 1 memcpy, 2 AVX2,
 * 3 AVX-512 (the Tier constants of kernels/gather), passing stream to the
 * vector tiers' _ex entry points. It returns 0, or -1 (and copies nothing)
 * for another tier number. The caller checks the CPU as for the kernels.
 */
int ibmb_gather_tier(int tier, void *dst, const void *src, const int64_t *idx,
                     int64_t n, int64_t row_bytes, int stream);

#ifdef __cplusplus
}
#endif

#endif /* IBMB_GATHER_H */
