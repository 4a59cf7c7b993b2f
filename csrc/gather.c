/*
 * gather.c - contiguous row gather for CPU (see gather.h for the contract).
 *
 * Build: plain C11 with gcc/clang, e.g. -O2 -fno-fast-math. The file uses no
 * global ISA flags: AVX2 and AVX-512 code lives only in functions carrying a
 * __attribute__((target(...))), so the object runs on any x86-64 CPU as long
 * as the caller picks ibmb_gather_scalar/ibmb_gather_memcpy on CPUs without
 * AVX2. On other architectures only the portable kernels are compiled and the
 * vector entry points fall back to them.
 */
#include "gather.h"
#include "rowcopy.h"

/* Gather row loop: packed row i (dst) = table row idx[i] (src); see
 * IBMB_ROWS in rowcopy.h, which also holds the tunables and the copies. */
#define IBMB_GATHER_ROWS(COPY, PREFETCH) IBMB_ROWS(0, COPY, PREFETCH)

/* ------------------------------------------------------------------------ */
/* Index check.                                                             */

int64_t ibmb_gather_check_scalar(const int64_t *idx, int64_t n, int64_t nrows)
{
    /* Invariant: on return, positions [0, i) hold valid indices; a bad index
     * makes the block's OR non-zero and the block is rescanned in order,
     * so the position returned is the first bad one. */
    const uint64_t lim = nrows < 0 ? 0 : (uint64_t)nrows;
    int64_t i = 0;
    while (i < n) {
        int64_t end = n - i > 256 ? i + 256 : n;
        uint64_t bad = 0;
        for (int64_t j = i; j < end; j++)
            bad |= (uint64_t)((uint64_t)idx[j] >= lim); /* negative -> huge */
        if (bad) {
            for (int64_t j = i; j < end; j++)
                if ((uint64_t)idx[j] >= lim)
                    return j;
        }
        i = end;
    }
    return -1;
}

#if IBMB_ROWS_X86
__attribute__((target("avx2")))
int64_t ibmb_gather_check_avx2(const int64_t *idx, int64_t n, int64_t nrows)
{
    /* Invariant: as in the scalar version, blocks of 64 indices are OR-reduced
     * without branches; a block with a bad index is rescanned in order. */
    if (nrows < 0)
        nrows = 0;
    const __m256i zero = _mm256_setzero_si256();
    const __m256i maxv = _mm256_set1_epi64x(nrows - 1); /* -1 when nrows==0 */
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m256i acc = zero;
        for (int k = 0; k < 64; k += 8) {
            __m256i a = _mm256_loadu_si256((const __m256i *)(idx + i + k));
            __m256i b = _mm256_loadu_si256((const __m256i *)(idx + i + k + 4));
            acc = _mm256_or_si256(acc, _mm256_cmpgt_epi64(zero, a));
            acc = _mm256_or_si256(acc, _mm256_cmpgt_epi64(a, maxv));
            acc = _mm256_or_si256(acc, _mm256_cmpgt_epi64(zero, b));
            acc = _mm256_or_si256(acc, _mm256_cmpgt_epi64(b, maxv));
        }
        if (!_mm256_testz_si256(acc, acc))
            break; /* the scalar pass below finds the exact position */
    }
    int64_t r = ibmb_gather_check_scalar(idx + i, n - i, nrows);
    return r < 0 ? -1 : i + r;
}
#else
int64_t ibmb_gather_check_avx2(const int64_t *idx, int64_t n, int64_t nrows)
{
    return ibmb_gather_check_scalar(idx, n, nrows);
}
#endif

int64_t ibmb_gather_check(const int64_t *idx, int64_t n, int64_t nrows)
{
#if IBMB_ROWS_X86
    if (__builtin_cpu_supports("avx2"))
        return ibmb_gather_check_avx2(idx, n, nrows);
#endif
    return ibmb_gather_check_scalar(idx, n, nrows);
}

/* ------------------------------------------------------------------------ */
/* Portable kernels (rowcopy.h): the scalar reference and memcpy per row.   */

IBMB_DEF_SCALAR_KERNEL(ibmb_gather_scalar, 0)
IBMB_DEF_MEMCPY_KERNEL(ibmb_gather_memcpy, 0, prefetch_row)

#if IBMB_ROWS_X86
/* ------------------------------------------------------------------------ */
/* AVX2 and AVX-512F (the row copies are in rowcopy.h).                     */

/* Invariant: that of IBMB_ROWS, with the copy picked once per call by
 * row-size class. Streaming stores (IBMB_ROWS_STREAM) end with an sfence. */
__attribute__((target("avx2")))
void ibmb_gather_avx2_ex(void *dst, const void *src, const int64_t *idx,
                         int64_t n, int64_t row_bytes, int stream)
{
    IBMB_BYTES_OF_ARGS;
    int st = want_stream(stream, n, row_bytes, IBMB_GATHER_STREAM_BYTES);
    if (st && stream_ok(dst, row_bytes, 32))
        IBMB_ROWS_STREAM(0, copy_nt_avx2, prefetch_row);
    else if (st && stream_ok(dst, row_bytes, 16))
        IBMB_ROWS_STREAM(0, copy_nt16_avx2, prefetch_row);
    else if (row_bytes >= 128)
        IBMB_GATHER_ROWS(copy_ge32_avx2, prefetch_row);
    else if (row_bytes >= 64)
        IBMB_GATHER_ROWS(copy_64_127_avx2, prefetch_row);
    else if (row_bytes >= 32)
        IBMB_GATHER_ROWS(copy_32_63_avx2, prefetch_short);
    else
        IBMB_ROWS_SHORT(0, prefetch_short);
}

/* Invariant: as ibmb_gather_avx2_ex with 64-byte moves. Rows that are a
 * multiple of 32 but not of 64 bytes stream with the 32-byte loop (a
 * 64-byte streaming store needs 64-byte alignment); other multiples of 16
 * bytes, and 16-byte aligned destinations, stream with copy_nt16_avx512. */
__attribute__((target("avx512f")))
void ibmb_gather_avx512_ex(void *dst, const void *src, const int64_t *idx,
                           int64_t n, int64_t row_bytes, int stream)
{
    IBMB_BYTES_OF_ARGS;
    int st = want_stream(stream, n, row_bytes, IBMB_GATHER_STREAM_BYTES);
    if (st && stream_ok(dst, row_bytes, 64))
        IBMB_ROWS_STREAM(0, copy_nt_avx512, prefetch_row);
    else if (st && stream_ok(dst, row_bytes, 32))
        IBMB_ROWS_STREAM(0, copy_nt_avx2, prefetch_row);
    else if (st && stream_ok(dst, row_bytes, 16))
        IBMB_ROWS_STREAM(0, copy_nt16_avx512, prefetch_row);
    else if (row_bytes >= 256)
        IBMB_GATHER_ROWS(copy_ge64_avx512, prefetch_row);
    else if (row_bytes >= 128)
        IBMB_GATHER_ROWS(copy_128_255_avx512, prefetch_row);
    else if (row_bytes >= 64)
        IBMB_GATHER_ROWS(copy_64_127_avx512, prefetch_row);
    else if (row_bytes >= 32)
        IBMB_GATHER_ROWS(copy_32_63_avx2, prefetch_short);
    else
        IBMB_ROWS_SHORT(0, prefetch_short);
}

#else /* !IBMB_ROWS_X86: the vector entry points fall back to memcpy */

IBMB_VECTOR_FALLBACK(ibmb_gather_avx2_ex, ibmb_gather_memcpy)
IBMB_VECTOR_FALLBACK(ibmb_gather_avx512_ex, ibmb_gather_memcpy)

#endif

/* The plain entry points: automatic streaming. */
void ibmb_gather_avx2(void *dst, const void *src, const int64_t *idx,
                      int64_t n, int64_t row_bytes)
{
    ibmb_gather_avx2_ex(dst, src, idx, n, row_bytes, -1);
}

void ibmb_gather_avx512(void *dst, const void *src, const int64_t *idx,
                        int64_t n, int64_t row_bytes)
{
    ibmb_gather_avx512_ex(dst, src, idx, n, row_bytes, -1);
}

int ibmb_gather_tier(int tier, void *dst, const void *src, const int64_t *idx,
                     int64_t n, int64_t row_bytes, int stream)
{
    IBMB_TIER_SWITCH(tier, ibmb_gather_scalar, ibmb_gather_memcpy,
                     ibmb_gather_avx2_ex, ibmb_gather_avx512_ex);
}
