/*
 * scatter.c - row scatter for CPU (see scatter.h for the contract).
 *
 * Build: plain C11 with gcc/clang, -O2 or -O3 and -fno-fast-math (nothing
 * here does arithmetic on the data, but the flag keeps the reference honest).
 * No global ISA flags: AVX2 and AVX-512 code lives only in functions that
 * carry __attribute__((target(...))), so the object runs on any x86-64 CPU as
 * long as the caller picks the scalar or memcpy kernel on CPUs without AVX2.
 * On other architectures the vector entry points fall back to memcpy.
 *
 * Access pattern (the opposite of a gather): src is read front to back, so
 * the hardware prefetcher streams it; dst rows are written at random. With
 * ordinary stores each written cache line is first read from memory
 * (read-for-ownership), so the kernels prefetch the dst rows of idx[i+d]
 * for writing while row i is copied. With streaming stores the lines are
 * written without being read, which halves the memory traffic of a scatter
 * into a store much larger than the cache.
 */
#include "scatter.h"
#include "rowcopy.h"

/* Scatter row loop: table row idx[i] (dst) = packed row i (src); see
 * IBMB_ROWS in rowcopy.h, which also holds the tunables and the copies. */
#define IBMB_SCATTER_ROWS(COPY, PREFETCH) IBMB_ROWS(1, COPY, PREFETCH)

/* ------------------------------------------------------------------------ */
/* Index check.                                                             */

int64_t ibmb_scatter_check(const int64_t *idx, int64_t n, int64_t nrows,
                           uint64_t *seen, int64_t *prev)
{
    /* Invariant: at the top of iteration i, idx[0..i) are in range and
     * pairwise distinct, and `seen` has exactly their bits set. A negative
     * id converts to a huge unsigned value, so one comparison covers both
     * ends of the range. */
    const uint64_t lim = nrows < 0 ? 0 : (uint64_t)nrows;
    const int64_t words = ibmb_scatter_words(nrows);
    const int dense = ibmb_scatter_dense(n, nrows);
    int64_t i = 0, bad = -1;
    *prev = -1;
    /* A dense list touches most words of the bitmap at random; storing the
     * zeros it already holds brings it into the cache front to back first
     * (a bitmap evicted between calls otherwise costs one miss per id). */
    if (dense)
        memset(seen, 0, (size_t)words * 8);
    for (; i < n; i++) {
        const uint64_t v = (uint64_t)idx[i];
        if (v >= lim) {
            bad = i;
            break;
        }
        const uint64_t bit = (uint64_t)1 << (v & 63);
        const uint64_t w = seen[v >> 6];
        if (w & bit) {
            bad = i;
            for (int64_t j = 0; j < i; j++) /* error path only */
                if ((uint64_t)idx[j] == v) {
                    *prev = j;
                    break;
                }
            break;
        }
        seen[v >> 6] = w | bit;
    }
    /* Restore the all-zero bitmap: only the words of idx[0..i) were set;
     * for a dense list one sequential clear of every word is cheaper. */
    if (dense)
        memset(seen, 0, (size_t)words * 8);
    else
        for (int64_t j = 0; j < i; j++)
            seen[(uint64_t)idx[j] >> 6] = 0;
    return bad;
}

/* Invariant (mark): every bit set by this call belongs to an id of
 * idx[0..i) that is in range; a 1 is returned as soon as a position fails,
 * so some in-range ids may stay unmarked (unmark clears their words anyway,
 * which is harmless: zeroing a word only loses bits that unmark clears
 * too). Atomic ORs make concurrent marks of the same word safe, and the
 * fetched old value tells whether any thread set the bit first. */
int ibmb_scatter_mark(const int64_t *idx, int64_t n, int64_t nrows, uint64_t *seen)
{
    const uint64_t lim = nrows < 0 ? 0 : (uint64_t)nrows;
    for (int64_t i = 0; i < n; i++) {
        const uint64_t v = (uint64_t)idx[i];
        if (v >= lim)
            return 1;
        const uint64_t bit = (uint64_t)1 << (v & 63);
        if (__atomic_fetch_or(&seen[v >> 6], bit, __ATOMIC_RELAXED) & bit)
            return 1;
    }
    return 0;
}

/* Invariant: after the call, every word of `seen` that an in-range id of
 * idx[0..n) maps to is zero (relaxed atomic stores: other threads may zero
 * the same words at the same time). */
void ibmb_scatter_unmark(const int64_t *idx, int64_t n, int64_t nrows, uint64_t *seen)
{
    const uint64_t lim = nrows < 0 ? 0 : (uint64_t)nrows;
    for (int64_t i = 0; i < n; i++) {
        const uint64_t v = (uint64_t)idx[i];
        if (v < lim)
            __atomic_store_n(&seen[v >> 6], 0, __ATOMIC_RELAXED);
    }
}

/* ------------------------------------------------------------------------ */
/* Portable kernels (rowcopy.h): the scalar reference and memcpy per row.   */

IBMB_DEF_SCALAR_KERNEL(ibmb_scatter_scalar, 1)
IBMB_DEF_MEMCPY_KERNEL(ibmb_scatter_memcpy, 1, prefetch_row_w)

#if IBMB_ROWS_X86
/* ------------------------------------------------------------------------ */
/* AVX2 and AVX-512F (the row copies are in rowcopy.h).                     */

/* Streaming stores are legal when every dst row start is 16-byte aligned;
 * they need no prefetch (they do not read dst). */
#define IBMB_SCATTER_STREAM(stream)                                          \
    (want_stream(stream, n, row_bytes, IBMB_SCATTER_STREAM_BYTES) &&         \
     stream_ok(dst, row_bytes, 16))

/* Invariant: that of IBMB_ROWS, with the row copy picked once per call.
 * After streaming stores the sfence orders them before anything the
 * caller does next (another thread may read dst once told it is done). */
__attribute__((target("avx2")))
void ibmb_scatter_avx2(void *dst, const void *src, const int64_t *idx,
                       int64_t n, int64_t row_bytes, int stream)
{
    IBMB_BYTES_OF_ARGS;
    if (IBMB_SCATTER_STREAM(stream))
        IBMB_ROWS_STREAM(1, copy_nt16_avx2, prefetch_none);
    else if (row_bytes >= 32)
        IBMB_SCATTER_ROWS(copy_ge32_avx2, prefetch_row_w);
    else
        IBMB_ROWS_SHORT(1, prefetch_row_w);
}

/* Invariant: as ibmb_scatter_avx2, with 64-byte moves for rows of 64 bytes
 * and more; shorter rows use the AVX2 moves. */
__attribute__((target("avx512f,avx2")))
void ibmb_scatter_avx512(void *dst, const void *src, const int64_t *idx,
                         int64_t n, int64_t row_bytes, int stream)
{
    IBMB_BYTES_OF_ARGS;
    if (IBMB_SCATTER_STREAM(stream))
        IBMB_ROWS_STREAM(1, copy_nt16_avx512, prefetch_none);
    else if (row_bytes >= 64)
        IBMB_SCATTER_ROWS(copy_ge64_avx512, prefetch_row_w);
    else if (row_bytes >= 32)
        IBMB_SCATTER_ROWS(copy_ge32_avx2, prefetch_row_w);
    else
        IBMB_ROWS_SHORT(1, prefetch_row_w);
}

#else /* !IBMB_ROWS_X86: the vector entry points fall back to memcpy */

IBMB_VECTOR_FALLBACK(ibmb_scatter_avx2, ibmb_scatter_memcpy)
IBMB_VECTOR_FALLBACK(ibmb_scatter_avx512, ibmb_scatter_memcpy)

#endif

int ibmb_scatter_tier(int tier, void *dst, const void *src, const int64_t *idx,
                      int64_t n, int64_t row_bytes, int stream)
{
    IBMB_TIER_SWITCH(tier, ibmb_scatter_scalar, ibmb_scatter_memcpy,
                     ibmb_scatter_avx2, ibmb_scatter_avx512);
}
