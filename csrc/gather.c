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

#include <stddef.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define IBMB_GATHER_X86 1
#include <immintrin.h>
#else
#define IBMB_GATHER_X86 0
#endif

/* ------------------------------------------------------------------------ */
/* Tunables, chosen by measurement on the development machine (2-core AMD   */
/* EPYC Zen 4 VM, 1 MiB L2 per core, 32 MiB L3), gathering random rows of a */
/* source too large for the cache, one thread; kernels/gather/dispatch.go   */
/* has the per-tier table. Each can be overridden with -D for experiments.  */

/* Software prefetch runs this many output bytes ahead of the copy: the row
 * idx[i+d] is prefetched while row idx[i] is copied, d = AHEAD / row_bytes
 * clamped to [MIN_DIST, MAX_DIST]. Without prefetch, 64-byte rows from DRAM
 * ran at 3 GB/s on one core; with it at 7-9. Of the settings tried (2-64 KiB
 * ahead, 2-256 rows), 16 KiB / 4..64 rows was best or tied at every row
 * size from 16 bytes to 4 KiB; 4 KiB ahead was up to 15% slower on rows of
 * 256 bytes and more. Re-measured from a 1 GiB source on transparent huge
 * pages whose rows start 16 bytes past a line (numpy's layout), one core,
 * CPU time, median of 7-9: 512-byte rows ran at 9.0 GB/s 16 rows ahead
 * (8 KiB) against 8.5 at 32 rows (16 KiB) and 8.0 at 48, reproduced; rows
 * of 256 bytes were flat from 16 to 64 rows ahead, rows of 1-2 KiB from 4
 * to 16; 4 rows ahead lost 20% on 512-byte rows. Hence 8 KiB, which only
 * changes rows of 256 bytes and more (shorter ones stay at MAX_DIST). */
#ifndef IBMB_PF_AHEAD_BYTES
#define IBMB_PF_AHEAD_BYTES 8192
#endif
#ifndef IBMB_PF_MIN_DIST
#define IBMB_PF_MIN_DIST 4
#endif
#ifndef IBMB_PF_MAX_DIST
#define IBMB_PF_MAX_DIST 64
#endif
/* At most this many bytes of each row ahead are prefetched; the hardware
 * prefetcher picks up the rest of a longer row once the copy walks it.
 * With a 1 KiB cap (the earlier setting, measured with 4 KiB pages), 2 KiB
 * rows from a 1 GiB source on transparent huge pages ran at 9.6-9.8 GB/s
 * on one core (CPU time, median of 9); prefetching the whole row ran at
 * 12.7-13.1 (+30%), and 4 KiB rows gained 0-2%; shorter rows are not
 * affected (they were prefetched whole already). 256 bytes was 20% slower
 * than 1 KiB on 1 KiB rows. */
#ifndef IBMB_PF_ROW_BYTES
#define IBMB_PF_ROW_BYTES 4096
#endif

/* Locality hint of __builtin_prefetch: 3 = prefetcht0 (into L1), 2 = t1,
 * 1 = t2 (into L2 and below), 0 = nta. t0 and nta thrash the 32 KiB L1
 * when many long rows are in flight; t2 ran 1.3-1.6x faster than t0 on
 * 256-byte to 4 KiB rows and no slower on short ones. */
#ifndef IBMB_PF_HINT
#define IBMB_PF_HINT 1
#endif

#if defined(__GNUC__) || defined(__clang__)
#define IBMB_INLINE static inline __attribute__((always_inline))
#else
#define IBMB_INLINE static inline
#endif

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

#if IBMB_GATHER_X86
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
#if IBMB_GATHER_X86
    if (__builtin_cpu_supports("avx2"))
        return ibmb_gather_check_avx2(idx, n, nrows);
#endif
    return ibmb_gather_check_scalar(idx, n, nrows);
}

/* ------------------------------------------------------------------------ */
/* Shared helpers.                                                          */

/* Rows of prefetch distance for a row size (see IBMB_PF_AHEAD_BYTES). */
IBMB_INLINE int64_t pf_dist(int64_t row_bytes)
{
    int64_t d = IBMB_PF_AHEAD_BYTES / row_bytes;
    if (d < IBMB_PF_MIN_DIST)
        d = IBMB_PF_MIN_DIST;
    if (d > IBMB_PF_MAX_DIST)
        d = IBMB_PF_MAX_DIST;
    return d;
}

#define IBMB_PF(p) __builtin_prefetch((const void *)(p), 0, IBMB_PF_HINT)

/* Prefetch the cache lines of one source row (at most IBMB_PF_ROW_BYTES of
 * it). Prefetches never fault, and the row is in bounds anyway.
 * The trip count depends on the row size only, never on where the row
 * starts within a cache line: a loop over "the lines the row touches" has a
 * data-dependent trip count whose mispredictions cost up to 3x on short odd
 * rows (measured: 48-byte rows ran at 6 GB/s, 32- and 96-byte rows at
 * 15-27 GB/s). Stepping 64 bytes from p and touching the last byte covers
 * every line of [p, p+len) with a fixed count. */
IBMB_INLINE void prefetch_row(const unsigned char *p, int64_t row_bytes)
{
    int64_t len = row_bytes < IBMB_PF_ROW_BYTES ? row_bytes : IBMB_PF_ROW_BYTES;
    for (int64_t o = 0; o < len; o += 64)
        IBMB_PF(p + o);
    IBMB_PF(p + len - 1);
}

/* Prefetch a row of at most 64 bytes: it touches at most two lines, the
 * ones holding its first and its last byte. */
IBMB_INLINE void prefetch_short(const unsigned char *p, int64_t row_bytes)
{
    IBMB_PF(p);
    IBMB_PF(p + row_bytes - 1);
}

/* The row loop shared by the kernels. Invariant: after iteration i,
 * dst[0 .. (i+1)*row_bytes) holds rows idx[0..i] and no byte past it has
 * been written; the source row idx[i+dist] has been prefetched with
 * PREFETCH (when it exists). Rows idx[0..dist) are prefetched before the
 * loop, so that a call does not start with dist unprefetched rows: the Go
 * package hands a parallel gather out in 1 MiB chunks, one call each. COPY(d, s, len) must write exactly d[0..len).
 * Expects d, s, idx, n, row_bytes in scope. Each kernel instantiates the
 * loop once per row-size class, so that the class test is hoisted out of
 * the loop and the per-row work is a handful of instructions. */
#define IBMB_GATHER_ROWS(COPY, PREFETCH)                                     \
    do {                                                                     \
        const int64_t dist_ = pf_dist(row_bytes);                            \
        int64_t i_ = 0;                                                      \
        for (int64_t j_ = 0; j_ < dist_ && j_ < n; j_++)                     \
            PREFETCH(s + idx[j_] * row_bytes, row_bytes);                    \
        for (; i_ < n - dist_; i_++) {                                       \
            PREFETCH(s + idx[i_ + dist_] * row_bytes, row_bytes);            \
            COPY(d + i_ * row_bytes, s + idx[i_] * row_bytes, row_bytes);    \
        }                                                                    \
        for (; i_ < n; i_++)                                                 \
            COPY(d + i_ * row_bytes, s + idx[i_] * row_bytes, row_bytes);    \
    } while (0)

/* Fixed-class row copies. Each copies exactly d[0..len) for len in its
 * class with a fixed, branch-free set of unaligned moves: the first and the
 * last W bytes (W the class's width), overlapping in the middle, which is
 * harmless because src and dst are disjoint. memcpy with a constant size
 * compiles to one plain load or store, legal at any alignment. */
IBMB_INLINE void copy_1(unsigned char *d, const unsigned char *s, int64_t len)
{
    (void)len;
    d[0] = s[0];
}

IBMB_INLINE void copy_2_3(unsigned char *d, const unsigned char *s, int64_t len)
{
    uint16_t a, b;
    memcpy(&a, s, 2);
    memcpy(&b, s + len - 2, 2);
    memcpy(d, &a, 2);
    memcpy(d + len - 2, &b, 2);
}

IBMB_INLINE void copy_4_7(unsigned char *d, const unsigned char *s, int64_t len)
{
    uint32_t a, b;
    memcpy(&a, s, 4);
    memcpy(&b, s + len - 4, 4);
    memcpy(d, &a, 4);
    memcpy(d + len - 4, &b, 4);
}

IBMB_INLINE void copy_8_15(unsigned char *d, const unsigned char *s, int64_t len)
{
    uint64_t a, b;
    memcpy(&a, s, 8);
    memcpy(&b, s + len - 8, 8);
    memcpy(d, &a, 8);
    memcpy(d + len - 8, &b, 8);
}

/* ------------------------------------------------------------------------ */
/* Scalar reference.                                                        */

/* Invariant: after iteration i, dst[0 .. (i+1)*row_bytes) holds rows
 * idx[0..i], copied one byte at a time. The optimize attribute keeps gcc
 * from turning the byte loop into a memcpy call or vector code, so this
 * stays an independent reference for the other kernels. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-loop-distribute-patterns", "no-tree-vectorize")))
#endif
void ibmb_gather_scalar(void *dst, const void *src, const int64_t *idx,
                        int64_t n, int64_t row_bytes)
{
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    for (int64_t i = 0; i < n; i++) {
        const unsigned char *row = s + idx[i] * row_bytes;
        unsigned char *out = d + i * row_bytes;
        for (int64_t b = 0; b < row_bytes; b++)
            out[b] = row[b];
    }
}

/* ------------------------------------------------------------------------ */
/* libc memcpy per row.                                                     */

IBMB_INLINE void copy_libc(unsigned char *d, const unsigned char *s, int64_t len)
{
    memcpy(d, s, (size_t)len);
}

/* Invariant: that of IBMB_GATHER_ROWS; each row is one libc memcpy call. */
void ibmb_gather_memcpy(void *dst, const void *src, const int64_t *idx,
                        int64_t n, int64_t row_bytes)
{
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    IBMB_GATHER_ROWS(copy_libc, prefetch_row);
}

#if IBMB_GATHER_X86
/* ------------------------------------------------------------------------ */
/* AVX2.                                                                    */

/* Rows of 16..31 bytes: two overlapping 16-byte moves. */
__attribute__((target("avx2"))) IBMB_INLINE void
copy_16_31_avx2(unsigned char *d, const unsigned char *s, int64_t len)
{
    __m128i a = _mm_loadu_si128((const __m128i *)s);
    __m128i b = _mm_loadu_si128((const __m128i *)(s + len - 16));
    _mm_storeu_si128((__m128i *)d, a);
    _mm_storeu_si128((__m128i *)(d + len - 16), b);
}

/* Rows of 32..63 bytes: two overlapping 32-byte moves. */
__attribute__((target("avx2"))) IBMB_INLINE void
copy_32_63_avx2(unsigned char *d, const unsigned char *s, int64_t len)
{
    __m256i a = _mm256_loadu_si256((const __m256i *)s);
    __m256i b = _mm256_loadu_si256((const __m256i *)(s + len - 32));
    _mm256_storeu_si256((__m256i *)d, a);
    _mm256_storeu_si256((__m256i *)(d + len - 32), b);
}

/* Rows of 64..127 bytes: two 32-byte moves from each end. */
__attribute__((target("avx2"))) IBMB_INLINE void
copy_64_127_avx2(unsigned char *d, const unsigned char *s, int64_t len)
{
    __m256i a = _mm256_loadu_si256((const __m256i *)s);
    __m256i b = _mm256_loadu_si256((const __m256i *)(s + 32));
    __m256i c = _mm256_loadu_si256((const __m256i *)(s + len - 64));
    __m256i e = _mm256_loadu_si256((const __m256i *)(s + len - 32));
    _mm256_storeu_si256((__m256i *)d, a);
    _mm256_storeu_si256((__m256i *)(d + 32), b);
    _mm256_storeu_si256((__m256i *)(d + len - 64), c);
    _mm256_storeu_si256((__m256i *)(d + len - 32), e);
}

/* Rows of 128 bytes or more: a 4x-unrolled loop of 32-byte moves, then
 * single moves while more than 32 bytes remain, then one overlapping
 * 32-byte move ending exactly at d+len. Never writes past the row. */
__attribute__((target("avx2"))) IBMB_INLINE void
copy_ge128_avx2(unsigned char *d, const unsigned char *s, int64_t len)
{
    int64_t o = 0;
    for (; o + 128 <= len; o += 128) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(s + o));
        __m256i b = _mm256_loadu_si256((const __m256i *)(s + o + 32));
        __m256i c = _mm256_loadu_si256((const __m256i *)(s + o + 64));
        __m256i e = _mm256_loadu_si256((const __m256i *)(s + o + 96));
        _mm256_storeu_si256((__m256i *)(d + o), a);
        _mm256_storeu_si256((__m256i *)(d + o + 32), b);
        _mm256_storeu_si256((__m256i *)(d + o + 64), c);
        _mm256_storeu_si256((__m256i *)(d + o + 96), e);
    }
    for (; o + 32 < len; o += 32)
        _mm256_storeu_si256((__m256i *)(d + o),
                            _mm256_loadu_si256((const __m256i *)(s + o)));
    if (o < len)
        _mm256_storeu_si256((__m256i *)(d + len - 32),
                            _mm256_loadu_si256((const __m256i *)(s + len - 32)));
}

/* Streaming-store row copy: len a multiple of 32 and d 32-byte aligned, so
 * every store is a whole aligned 32-byte chunk of the row. */
__attribute__((target("avx2"))) IBMB_INLINE void
copy_nt_avx2(unsigned char *d, const unsigned char *s, int64_t len)
{
    int64_t o = 0;
    for (; o + 128 <= len; o += 128) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(s + o));
        __m256i b = _mm256_loadu_si256((const __m256i *)(s + o + 32));
        __m256i c = _mm256_loadu_si256((const __m256i *)(s + o + 64));
        __m256i e = _mm256_loadu_si256((const __m256i *)(s + o + 96));
        _mm256_stream_si256((__m256i *)(d + o), a);
        _mm256_stream_si256((__m256i *)(d + o + 32), b);
        _mm256_stream_si256((__m256i *)(d + o + 64), c);
        _mm256_stream_si256((__m256i *)(d + o + 96), e);
    }
    for (; o < len; o += 32)
        _mm256_stream_si256((__m256i *)(d + o),
                            _mm256_loadu_si256((const __m256i *)(s + o)));
}

/* Streaming-store row copy for a destination that is only 16-byte aligned
 * (len a multiple of 16, d 16-byte aligned), e.g. numpy and malloc buffers,
 * whose data start 16 bytes past a 64-byte boundary: 16-byte streaming
 * stores up to the first 32-byte boundary of d, 32-byte ones while whole
 * chunks remain, and 16-byte ones for the tail. The rows are written in
 * address order, so the partial lines at the end of one row and the start
 * of the next are completed back to back in the write-combining buffers.
 * Before this path existed such outputs fell back to ordinary stores: from
 * numpy (benchmarks/bench_gather.py), 4 KiB rows ran at 9-12 GB/s against
 * 20 GB/s for the same gather into a 64-byte aligned buffer (2 threads). */
__attribute__((target("avx2"))) IBMB_INLINE void
copy_nt16_avx2(unsigned char *d, const unsigned char *s, int64_t len)
{
    int64_t o = 0;
    for (; o < len && ((uintptr_t)(d + o) & 31) != 0; o += 16)
        _mm_stream_si128((__m128i *)(d + o),
                         _mm_loadu_si128((const __m128i *)(s + o)));
    for (; o + 128 <= len; o += 128) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(s + o));
        __m256i b = _mm256_loadu_si256((const __m256i *)(s + o + 32));
        __m256i c = _mm256_loadu_si256((const __m256i *)(s + o + 64));
        __m256i e = _mm256_loadu_si256((const __m256i *)(s + o + 96));
        _mm256_stream_si256((__m256i *)(d + o), a);
        _mm256_stream_si256((__m256i *)(d + o + 32), b);
        _mm256_stream_si256((__m256i *)(d + o + 64), c);
        _mm256_stream_si256((__m256i *)(d + o + 96), e);
    }
    for (; o + 32 <= len; o += 32)
        _mm256_stream_si256((__m256i *)(d + o),
                            _mm256_loadu_si256((const __m256i *)(s + o)));
    for (; o < len; o += 16)
        _mm_stream_si128((__m128i *)(d + o),
                         _mm_loadu_si128((const __m128i *)(s + o)));
}

/* Rows shorter than 32 bytes, one loop per class; shared by both vector
 * tiers (the narrow moves are the same). */
#define IBMB_GATHER_SHORT_ROWS()                                             \
    do {                                                                     \
        if (row_bytes >= 16)                                                 \
            IBMB_GATHER_ROWS(copy_16_31_avx2, prefetch_short);               \
        else if (row_bytes >= 8)                                             \
            IBMB_GATHER_ROWS(copy_8_15, prefetch_short);                     \
        else if (row_bytes >= 4)                                             \
            IBMB_GATHER_ROWS(copy_4_7, prefetch_short);                      \
        else if (row_bytes >= 2)                                             \
            IBMB_GATHER_ROWS(copy_2_3, prefetch_short);                      \
        else                                                                 \
            IBMB_GATHER_ROWS(copy_1, prefetch_short);                        \
    } while (0)

/* Whether a call may use streaming stores of vec bytes: every destination
 * row start must be vec-aligned (the streaming moves fault otherwise). */
IBMB_INLINE int stream_ok(const void *dst, int64_t row_bytes, int64_t vec)
{
    return row_bytes % vec == 0 && ((uintptr_t)dst & (uintptr_t)(vec - 1)) == 0;
}

/* Resolve the stream argument of the _ex entry points (see gather.h). */
IBMB_INLINE int want_stream(int stream, int64_t n, int64_t row_bytes)
{
    if (stream < 0)
        return n >= IBMB_GATHER_STREAM_BYTES / row_bytes;
    return stream > 0;
}

/* Invariant: that of IBMB_GATHER_ROWS, with the copy picked once per call
 * by row-size class. With streaming stores the sfence before returning
 * orders them before anything the caller does next (e.g. signalling
 * another thread that dst is ready). */
__attribute__((target("avx2")))
void ibmb_gather_avx2_ex(void *dst, const void *src, const int64_t *idx,
                         int64_t n, int64_t row_bytes, int stream)
{
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    int st = want_stream(stream, n, row_bytes);
    if (st && stream_ok(dst, row_bytes, 32)) {
        IBMB_GATHER_ROWS(copy_nt_avx2, prefetch_row);
        _mm_sfence();
    } else if (st && stream_ok(dst, row_bytes, 16)) {
        IBMB_GATHER_ROWS(copy_nt16_avx2, prefetch_row);
        _mm_sfence();
    } else if (row_bytes >= 128) {
        IBMB_GATHER_ROWS(copy_ge128_avx2, prefetch_row);
    } else if (row_bytes >= 64) {
        IBMB_GATHER_ROWS(copy_64_127_avx2, prefetch_row);
    } else if (row_bytes >= 32) {
        IBMB_GATHER_ROWS(copy_32_63_avx2, prefetch_short);
    } else {
        IBMB_GATHER_SHORT_ROWS();
    }
}

__attribute__((target("avx2")))
void ibmb_gather_avx2(void *dst, const void *src, const int64_t *idx,
                      int64_t n, int64_t row_bytes)
{
    ibmb_gather_avx2_ex(dst, src, idx, n, row_bytes, -1);
}

/* ------------------------------------------------------------------------ */
/* AVX-512F.                                                                */
/* AVX-512F alone has no byte-masked moves (they need AVX-512BW), so the    */
/* tails overlap instead of masking, as in the AVX2 kernel.                 */

/* Rows of 64..127 bytes: two overlapping 64-byte moves. */
__attribute__((target("avx512f"))) IBMB_INLINE void
copy_64_127_avx512(unsigned char *d, const unsigned char *s, int64_t len)
{
    __m512i a = _mm512_loadu_si512((const void *)s);
    __m512i b = _mm512_loadu_si512((const void *)(s + len - 64));
    _mm512_storeu_si512((void *)d, a);
    _mm512_storeu_si512((void *)(d + len - 64), b);
}

/* Rows of 128..255 bytes: two 64-byte moves from each end. */
__attribute__((target("avx512f"))) IBMB_INLINE void
copy_128_255_avx512(unsigned char *d, const unsigned char *s, int64_t len)
{
    __m512i a = _mm512_loadu_si512((const void *)s);
    __m512i b = _mm512_loadu_si512((const void *)(s + 64));
    __m512i c = _mm512_loadu_si512((const void *)(s + len - 128));
    __m512i e = _mm512_loadu_si512((const void *)(s + len - 64));
    _mm512_storeu_si512((void *)d, a);
    _mm512_storeu_si512((void *)(d + 64), b);
    _mm512_storeu_si512((void *)(d + len - 128), c);
    _mm512_storeu_si512((void *)(d + len - 64), e);
}

/* Rows of 256 bytes or more: as copy_ge128_avx2 with 64-byte moves. */
__attribute__((target("avx512f"))) IBMB_INLINE void
copy_ge256_avx512(unsigned char *d, const unsigned char *s, int64_t len)
{
    int64_t o = 0;
    for (; o + 256 <= len; o += 256) {
        __m512i a = _mm512_loadu_si512((const void *)(s + o));
        __m512i b = _mm512_loadu_si512((const void *)(s + o + 64));
        __m512i c = _mm512_loadu_si512((const void *)(s + o + 128));
        __m512i e = _mm512_loadu_si512((const void *)(s + o + 192));
        _mm512_storeu_si512((void *)(d + o), a);
        _mm512_storeu_si512((void *)(d + o + 64), b);
        _mm512_storeu_si512((void *)(d + o + 128), c);
        _mm512_storeu_si512((void *)(d + o + 192), e);
    }
    for (; o + 64 < len; o += 64)
        _mm512_storeu_si512((void *)(d + o),
                            _mm512_loadu_si512((const void *)(s + o)));
    if (o < len)
        _mm512_storeu_si512((void *)(d + len - 64),
                            _mm512_loadu_si512((const void *)(s + len - 64)));
}

/* Streaming-store row copy: len a multiple of 64, d 64-byte aligned. */
__attribute__((target("avx512f"))) IBMB_INLINE void
copy_nt_avx512(unsigned char *d, const unsigned char *s, int64_t len)
{
    int64_t o = 0;
    for (; o + 256 <= len; o += 256) {
        __m512i a = _mm512_loadu_si512((const void *)(s + o));
        __m512i b = _mm512_loadu_si512((const void *)(s + o + 64));
        __m512i c = _mm512_loadu_si512((const void *)(s + o + 128));
        __m512i e = _mm512_loadu_si512((const void *)(s + o + 192));
        _mm512_stream_si512((void *)(d + o), a);
        _mm512_stream_si512((void *)(d + o + 64), b);
        _mm512_stream_si512((void *)(d + o + 128), c);
        _mm512_stream_si512((void *)(d + o + 192), e);
    }
    for (; o < len; o += 64)
        _mm512_stream_si512((void *)(d + o),
                            _mm512_loadu_si512((const void *)(s + o)));
}

/* As copy_nt16_avx2 with 64-byte streaming stores in the body (len a
 * multiple of 16, d 16-byte aligned). */
__attribute__((target("avx512f"))) IBMB_INLINE void
copy_nt16_avx512(unsigned char *d, const unsigned char *s, int64_t len)
{
    int64_t o = 0;
    for (; o < len && ((uintptr_t)(d + o) & 63) != 0; o += 16)
        _mm_stream_si128((__m128i *)(d + o),
                         _mm_loadu_si128((const __m128i *)(s + o)));
    for (; o + 256 <= len; o += 256) {
        __m512i a = _mm512_loadu_si512((const void *)(s + o));
        __m512i b = _mm512_loadu_si512((const void *)(s + o + 64));
        __m512i c = _mm512_loadu_si512((const void *)(s + o + 128));
        __m512i e = _mm512_loadu_si512((const void *)(s + o + 192));
        _mm512_stream_si512((void *)(d + o), a);
        _mm512_stream_si512((void *)(d + o + 64), b);
        _mm512_stream_si512((void *)(d + o + 128), c);
        _mm512_stream_si512((void *)(d + o + 192), e);
    }
    for (; o + 64 <= len; o += 64)
        _mm512_stream_si512((void *)(d + o),
                            _mm512_loadu_si512((const void *)(s + o)));
    for (; o < len; o += 16)
        _mm_stream_si128((__m128i *)(d + o),
                         _mm_loadu_si128((const __m128i *)(s + o)));
}

/* Invariant: that of IBMB_GATHER_ROWS, as ibmb_gather_avx2_ex with 64-byte
 * moves. Rows that are a multiple of 32 but not of 64 bytes stream with the
 * 32-byte loop (a 64-byte streaming store needs 64-byte alignment); other
 * multiples of 16 bytes, and 16-byte aligned destinations, stream with
 * copy_nt16_avx512. */
__attribute__((target("avx512f")))
void ibmb_gather_avx512_ex(void *dst, const void *src, const int64_t *idx,
                           int64_t n, int64_t row_bytes, int stream)
{
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    int st = want_stream(stream, n, row_bytes);
    if (st && stream_ok(dst, row_bytes, 64)) {
        IBMB_GATHER_ROWS(copy_nt_avx512, prefetch_row);
        _mm_sfence();
    } else if (st && stream_ok(dst, row_bytes, 32)) {
        IBMB_GATHER_ROWS(copy_nt_avx2, prefetch_row);
        _mm_sfence();
    } else if (st && stream_ok(dst, row_bytes, 16)) {
        IBMB_GATHER_ROWS(copy_nt16_avx512, prefetch_row);
        _mm_sfence();
    } else if (row_bytes >= 256) {
        IBMB_GATHER_ROWS(copy_ge256_avx512, prefetch_row);
    } else if (row_bytes >= 128) {
        IBMB_GATHER_ROWS(copy_128_255_avx512, prefetch_row);
    } else if (row_bytes >= 64) {
        IBMB_GATHER_ROWS(copy_64_127_avx512, prefetch_row);
    } else if (row_bytes >= 32) {
        IBMB_GATHER_ROWS(copy_32_63_avx2, prefetch_short);
    } else {
        IBMB_GATHER_SHORT_ROWS();
    }
}

__attribute__((target("avx512f")))
void ibmb_gather_avx512(void *dst, const void *src, const int64_t *idx,
                        int64_t n, int64_t row_bytes)
{
    ibmb_gather_avx512_ex(dst, src, idx, n, row_bytes, -1);
}

#else /* !IBMB_GATHER_X86: the vector entry points fall back to memcpy */

void ibmb_gather_avx2_ex(void *dst, const void *src, const int64_t *idx,
                         int64_t n, int64_t row_bytes, int stream)
{
    (void)stream;
    ibmb_gather_memcpy(dst, src, idx, n, row_bytes);
}

void ibmb_gather_avx512_ex(void *dst, const void *src, const int64_t *idx,
                           int64_t n, int64_t row_bytes, int stream)
{
    (void)stream;
    ibmb_gather_memcpy(dst, src, idx, n, row_bytes);
}

void ibmb_gather_avx2(void *dst, const void *src, const int64_t *idx,
                      int64_t n, int64_t row_bytes)
{
    ibmb_gather_memcpy(dst, src, idx, n, row_bytes);
}

void ibmb_gather_avx512(void *dst, const void *src, const int64_t *idx,
                        int64_t n, int64_t row_bytes)
{
    ibmb_gather_memcpy(dst, src, idx, n, row_bytes);
}

#endif
