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

#include <stddef.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define IBMB_SCATTER_X86 1
#include <immintrin.h>
#else
#define IBMB_SCATTER_X86 0
#endif

#if defined(__GNUC__) || defined(__clang__)
#define IBMB_SC_INLINE static inline __attribute__((always_inline))
#else
#define IBMB_SC_INLINE static inline
#endif

/* Prefetch distance: the dst row idx[i+d] is prefetched while row i is
 * copied, d = IBMB_SC_AHEAD_BYTES / row_bytes clamped to [4, 64] rows. */
#ifndef IBMB_SC_AHEAD_BYTES
#define IBMB_SC_AHEAD_BYTES 8192
#endif
/* At most this many bytes of a dst row are prefetched. */
#ifndef IBMB_SC_PF_ROW_BYTES
#define IBMB_SC_PF_ROW_BYTES 4096
#endif

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
    int64_t i = 0, bad = -1;
    *prev = -1;
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
    /* Restore the all-zero bitmap: only the words of idx[0..i) were set. */
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
/* Shared helpers.                                                          */

IBMB_SC_INLINE int64_t sc_dist(int64_t row_bytes)
{
    int64_t d = IBMB_SC_AHEAD_BYTES / row_bytes;
    return d < 4 ? 4 : d > 64 ? 64 : d;
}

/* Prefetch for writing the lines of one dst row (at most
 * IBMB_SC_PF_ROW_BYTES of it). A fixed trip count per row size, touching
 * the row's last byte too, covers every line the row spans whatever its
 * alignment. Prefetches never fault. */
IBMB_SC_INLINE void sc_prefetch_w(unsigned char *p, int64_t row_bytes)
{
    int64_t len = row_bytes < IBMB_SC_PF_ROW_BYTES ? row_bytes : IBMB_SC_PF_ROW_BYTES;
    for (int64_t o = 0; o < len; o += 64)
        __builtin_prefetch(p + o, 1, 3);
    __builtin_prefetch(p + len - 1, 1, 3);
}

IBMB_SC_INLINE void sc_no_prefetch(unsigned char *p, int64_t row_bytes)
{
    (void)p;
    (void)row_bytes;
}

/* The row loop shared by the kernels. Invariant: after iteration i, the dst
 * rows idx[0..i] hold src rows 0..i and no other byte of dst was written;
 * the dst row idx[i+dist] has been prefetched with PREFETCH (when it
 * exists). COPY(d, s, len) must write exactly d[0..len). Expects d, s, idx,
 * n, row_bytes in scope. Each kernel instantiates the loop once per
 * row-size class, so the class test is out of the loop. */
#define IBMB_SCATTER_ROWS(COPY, PREFETCH)                                    \
    do {                                                                     \
        const int64_t dist_ = sc_dist(row_bytes);                            \
        int64_t i_ = 0;                                                      \
        for (int64_t j_ = 0; j_ < dist_ && j_ < n; j_++)                     \
            PREFETCH(d + idx[j_] * row_bytes, row_bytes);                    \
        for (; i_ < n - dist_; i_++) {                                       \
            PREFETCH(d + idx[i_ + dist_] * row_bytes, row_bytes);            \
            COPY(d + idx[i_] * row_bytes, s + i_ * row_bytes, row_bytes);    \
        }                                                                    \
        for (; i_ < n; i_++)                                                 \
            COPY(d + idx[i_] * row_bytes, s + i_ * row_bytes, row_bytes);    \
    } while (0)

/* Short rows: the first and the last W bytes (W the class width), which
 * overlap in the middle; harmless since src and dst are disjoint. memcpy of
 * a constant size compiles to one unaligned load or store. */
IBMB_SC_INLINE void sc_copy_1(unsigned char *d, const unsigned char *s, int64_t len)
{
    (void)len;
    d[0] = s[0];
}

IBMB_SC_INLINE void sc_copy_2_3(unsigned char *d, const unsigned char *s, int64_t len)
{
    uint16_t a, b;
    memcpy(&a, s, 2);
    memcpy(&b, s + len - 2, 2);
    memcpy(d, &a, 2);
    memcpy(d + len - 2, &b, 2);
}

IBMB_SC_INLINE void sc_copy_4_7(unsigned char *d, const unsigned char *s, int64_t len)
{
    uint32_t a, b;
    memcpy(&a, s, 4);
    memcpy(&b, s + len - 4, 4);
    memcpy(d, &a, 4);
    memcpy(d + len - 4, &b, 4);
}

IBMB_SC_INLINE void sc_copy_8_15(unsigned char *d, const unsigned char *s, int64_t len)
{
    uint64_t a, b;
    memcpy(&a, s, 8);
    memcpy(&b, s + len - 8, 8);
    memcpy(d, &a, 8);
    memcpy(d + len - 8, &b, 8);
}

IBMB_SC_INLINE void sc_copy_libc(unsigned char *d, const unsigned char *s, int64_t len)
{
    memcpy(d, s, (size_t)len);
}

/* ------------------------------------------------------------------------ */
/* Portable kernels.                                                        */

/* Invariant: after iteration i, dst rows idx[0..i] hold src rows 0..i,
 * copied one byte at a time. The optimize attribute keeps gcc from turning
 * the byte loop into memcpy calls or vector code, so this stays an
 * independent reference for the other kernels. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-loop-distribute-patterns", "no-tree-vectorize")))
#endif
void ibmb_scatter_scalar(void *dst, const void *src, const int64_t *idx,
                         int64_t n, int64_t row_bytes)
{
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    for (int64_t i = 0; i < n; i++) {
        unsigned char *out = d + idx[i] * row_bytes;
        const unsigned char *row = s + i * row_bytes;
        for (int64_t b = 0; b < row_bytes; b++)
            out[b] = row[b];
    }
}

/* Invariant: that of IBMB_SCATTER_ROWS; one libc memcpy per row. */
void ibmb_scatter_memcpy(void *dst, const void *src, const int64_t *idx,
                         int64_t n, int64_t row_bytes)
{
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    IBMB_SCATTER_ROWS(sc_copy_libc, sc_prefetch_w);
}

/* Resolve the stream argument (see scatter.h): 1 to stream, 0 not. The
 * layout condition (16-byte aligned row starts) is checked separately. */
IBMB_SC_INLINE int sc_want_stream(int stream, int64_t n, int64_t row_bytes)
{
    if (stream < 0)
        return n >= IBMB_SCATTER_STREAM_BYTES / row_bytes;
    return stream > 0;
}

/* Every dst row start is 16-byte aligned: streaming stores are legal. */
IBMB_SC_INLINE int sc_stream_ok(const void *dst, int64_t row_bytes)
{
    return row_bytes % 16 == 0 && ((uintptr_t)dst & 15) == 0;
}

#if IBMB_SCATTER_X86
/* ------------------------------------------------------------------------ */
/* AVX2.                                                                    */

/* Rows of 16..31 bytes: two overlapping 16-byte moves. */
__attribute__((target("avx2"))) IBMB_SC_INLINE void
sc_copy_16_31(unsigned char *d, const unsigned char *s, int64_t len)
{
    __m128i a = _mm_loadu_si128((const __m128i *)s);
    __m128i b = _mm_loadu_si128((const __m128i *)(s + len - 16));
    _mm_storeu_si128((__m128i *)d, a);
    _mm_storeu_si128((__m128i *)(d + len - 16), b);
}

/* Rows of 32 bytes or more: 4x-unrolled 32-byte moves, single 32-byte
 * moves while more than 32 bytes remain, then one 32-byte move ending
 * exactly at d+len (overlapping what was written). Never writes past the
 * row. */
__attribute__((target("avx2"))) IBMB_SC_INLINE void
sc_copy_ge32_avx2(unsigned char *d, const unsigned char *s, int64_t len)
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
        _mm256_storeu_si256((__m256i *)(d + o), _mm256_loadu_si256((const __m256i *)(s + o)));
    if (o < len)
        _mm256_storeu_si256((__m256i *)(d + len - 32),
                            _mm256_loadu_si256((const __m256i *)(s + len - 32)));
}

/* Streaming row copy; d 16-byte aligned and len a multiple of 16. 16-byte
 * streaming stores up to d's first 32-byte boundary, 32-byte ones while
 * whole chunks remain, 16-byte ones for the tail, in address order (so the
 * write-combining buffers fill whole lines). */
__attribute__((target("avx2"))) IBMB_SC_INLINE void
sc_copy_nt_avx2(unsigned char *d, const unsigned char *s, int64_t len)
{
    int64_t o = 0;
    for (; o < len && ((uintptr_t)(d + o) & 31) != 0; o += 16)
        _mm_stream_si128((__m128i *)(d + o), _mm_loadu_si128((const __m128i *)(s + o)));
    for (; o + 64 <= len; o += 64) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(s + o));
        __m256i b = _mm256_loadu_si256((const __m256i *)(s + o + 32));
        _mm256_stream_si256((__m256i *)(d + o), a);
        _mm256_stream_si256((__m256i *)(d + o + 32), b);
    }
    for (; o + 32 <= len; o += 32)
        _mm256_stream_si256((__m256i *)(d + o), _mm256_loadu_si256((const __m256i *)(s + o)));
    for (; o < len; o += 16)
        _mm_stream_si128((__m128i *)(d + o), _mm_loadu_si128((const __m128i *)(s + o)));
}

/* Rows shorter than 32 bytes, one loop per class (shared by both tiers). */
#define IBMB_SCATTER_SHORT_ROWS()                                            \
    do {                                                                     \
        if (row_bytes >= 16)                                                 \
            IBMB_SCATTER_ROWS(sc_copy_16_31, sc_prefetch_w);                 \
        else if (row_bytes >= 8)                                             \
            IBMB_SCATTER_ROWS(sc_copy_8_15, sc_prefetch_w);                  \
        else if (row_bytes >= 4)                                             \
            IBMB_SCATTER_ROWS(sc_copy_4_7, sc_prefetch_w);                   \
        else if (row_bytes >= 2)                                             \
            IBMB_SCATTER_ROWS(sc_copy_2_3, sc_prefetch_w);                   \
        else                                                                 \
            IBMB_SCATTER_ROWS(sc_copy_1, sc_prefetch_w);                     \
    } while (0)

/* Invariant: that of IBMB_SCATTER_ROWS, with the row copy picked once per
 * call. After streaming stores the sfence orders them before anything the
 * caller does next (another thread may read dst once told it is done). */
__attribute__((target("avx2")))
void ibmb_scatter_avx2(void *dst, const void *src, const int64_t *idx,
                       int64_t n, int64_t row_bytes, int stream)
{
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    if (sc_want_stream(stream, n, row_bytes) && sc_stream_ok(dst, row_bytes)) {
        IBMB_SCATTER_ROWS(sc_copy_nt_avx2, sc_no_prefetch);
        _mm_sfence();
    } else if (row_bytes >= 32) {
        IBMB_SCATTER_ROWS(sc_copy_ge32_avx2, sc_prefetch_w);
    } else {
        IBMB_SCATTER_SHORT_ROWS();
    }
}

/* ------------------------------------------------------------------------ */
/* AVX-512F (no byte masks without AVX-512BW: tails overlap instead).       */

/* Rows of 64 bytes or more: as sc_copy_ge32_avx2 with 64-byte moves. */
__attribute__((target("avx512f"))) IBMB_SC_INLINE void
sc_copy_ge64_avx512(unsigned char *d, const unsigned char *s, int64_t len)
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
        _mm512_storeu_si512((void *)(d + o), _mm512_loadu_si512((const void *)(s + o)));
    if (o < len)
        _mm512_storeu_si512((void *)(d + len - 64), _mm512_loadu_si512((const void *)(s + len - 64)));
}

/* Streaming row copy as sc_copy_nt_avx2, with 64-byte stores in the body
 * (each one a whole aligned cache line). */
__attribute__((target("avx512f"))) IBMB_SC_INLINE void
sc_copy_nt_avx512(unsigned char *d, const unsigned char *s, int64_t len)
{
    int64_t o = 0;
    for (; o < len && ((uintptr_t)(d + o) & 63) != 0; o += 16)
        _mm_stream_si128((__m128i *)(d + o), _mm_loadu_si128((const __m128i *)(s + o)));
    for (; o + 64 <= len; o += 64)
        _mm512_stream_si512((void *)(d + o), _mm512_loadu_si512((const void *)(s + o)));
    for (; o < len; o += 16)
        _mm_stream_si128((__m128i *)(d + o), _mm_loadu_si128((const __m128i *)(s + o)));
}

/* Invariant: as ibmb_scatter_avx2, with 64-byte moves for rows of 64 bytes
 * and more; shorter rows use the AVX2 moves. */
__attribute__((target("avx512f,avx2")))
void ibmb_scatter_avx512(void *dst, const void *src, const int64_t *idx,
                         int64_t n, int64_t row_bytes, int stream)
{
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    if (sc_want_stream(stream, n, row_bytes) && sc_stream_ok(dst, row_bytes)) {
        IBMB_SCATTER_ROWS(sc_copy_nt_avx512, sc_no_prefetch);
        _mm_sfence();
    } else if (row_bytes >= 64) {
        IBMB_SCATTER_ROWS(sc_copy_ge64_avx512, sc_prefetch_w);
    } else if (row_bytes >= 32) {
        IBMB_SCATTER_ROWS(sc_copy_ge32_avx2, sc_prefetch_w);
    } else {
        IBMB_SCATTER_SHORT_ROWS();
    }
}

#else /* !IBMB_SCATTER_X86: the vector entry points fall back to memcpy */

void ibmb_scatter_avx2(void *dst, const void *src, const int64_t *idx,
                       int64_t n, int64_t row_bytes, int stream)
{
    (void)stream;
    ibmb_scatter_memcpy(dst, src, idx, n, row_bytes);
}

void ibmb_scatter_avx512(void *dst, const void *src, const int64_t *idx,
                         int64_t n, int64_t row_bytes, int stream)
{
    (void)stream;
    ibmb_scatter_memcpy(dst, src, idx, n, row_bytes);
}

#endif
