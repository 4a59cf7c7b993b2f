/*
 * rowcopy.h - what the row gather (gather.c) and the row scatter (scatter.c)
 * share: the prefetch tunables and prefetches, the row loop, the row copies
 * of every width class and tier, and the streaming-store decision. Private
 * to csrc/: it defines static inline functions and macros only, and each of
 * gather.c and scatter.c includes it once.
 *
 * Both operations copy n rows of row_bytes bytes between a packed buffer
 * (n rows back to back) and a table indexed by idx:
 *
 *     gather   packed[i] = table[idx[i]]    (d packed, s the table)
 *     scatter  table[idx[i]] = packed[i]    (d the table, s packed)
 *
 * The table side is accessed at random and is the one prefetched: for
 * reading in a gather, for writing in a scatter (so that the
 * read-for-ownership of its lines is under way before the copy).
 *
 * Build rules as for the two .c files: no global ISA flags; every AVX2 or
 * AVX-512 function carries __attribute__((target(...))); -fno-fast-math.
 */
#ifndef IBMB_ROWCOPY_H
#define IBMB_ROWCOPY_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define IBMB_ROWS_X86 1
#include <immintrin.h>
#else
#define IBMB_ROWS_X86 0
#endif

#if defined(__GNUC__) || defined(__clang__)
#define IBMB_INLINE static inline __attribute__((always_inline))
#else
#define IBMB_INLINE static inline
#endif

/* ------------------------------------------------------------------------ */
/* Tunables, chosen by measurement on the development machine (2-core AMD   */
/* EPYC Zen 4 VM, 1 MiB L2 per core, 32 MiB L3), gathering random rows of a */
/* source too large for the cache, one thread; kernels/gather/dispatch.go   */
/* has the per-tier table. Each can be overridden with -D for experiments.  */
/* The scatter uses the same distances (not measured separately).          */

/* Software prefetch runs this many bytes ahead of the copy: the table row
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

/* Locality hint of the gather's read prefetch: 3 = prefetcht0 (into L1),
 * 2 = t1, 1 = t2 (into L2 and below), 0 = nta. t0 and nta thrash the
 * 32 KiB L1 when many long rows are in flight; t2 ran 1.3-1.6x faster than
 * t0 on 256-byte to 4 KiB rows and no slower on short ones. The scatter's
 * prefetch for writing uses hint 3 (prefetchw brings the line in owned). */
#ifndef IBMB_PF_HINT
#define IBMB_PF_HINT 1
#endif

/* ------------------------------------------------------------------------ */
/* Prefetch.                                                                */

/* Rows of prefetch distance for a row size (see IBMB_PF_AHEAD_BYTES). */
IBMB_INLINE int64_t rows_pf_dist(int64_t row_bytes)
{
    int64_t d = IBMB_PF_AHEAD_BYTES / row_bytes;
    if (d < IBMB_PF_MIN_DIST)
        d = IBMB_PF_MIN_DIST;
    if (d > IBMB_PF_MAX_DIST)
        d = IBMB_PF_MAX_DIST;
    return d;
}

#define IBMB_PF_READ(p) __builtin_prefetch((const void *)(p), 0, IBMB_PF_HINT)
#define IBMB_PF_WRITE(p) __builtin_prefetch((const void *)(p), 1, 3)

/* Prefetch with PF the cache lines of one row at p (at most
 * IBMB_PF_ROW_BYTES of it). Prefetches never fault, and the row is in
 * bounds anyway. The trip count depends on the row size only, never on
 * where the row starts within a cache line: a loop over "the lines the row
 * touches" has a data-dependent trip count whose mispredictions cost up to
 * 3x on short odd rows (measured: 48-byte rows ran at 6 GB/s, 32- and
 * 96-byte rows at 15-27 GB/s). Stepping 64 bytes from p and touching the
 * last byte covers every line of [p, p+len) with a fixed count. */
#define IBMB_PF_SPAN(PF, p, row_bytes)                                       \
    do {                                                                     \
        const int64_t len_ = (row_bytes) < IBMB_PF_ROW_BYTES ? (row_bytes)   \
                                                             : IBMB_PF_ROW_BYTES; \
        for (int64_t o_ = 0; o_ < len_; o_ += 64)                            \
            PF((p) + o_);                                                    \
        PF((p) + len_ - 1);                                                  \
    } while (0)

/* Prefetch a table row for reading (gather) or for writing (scatter). */
IBMB_INLINE void prefetch_row(const unsigned char *p, int64_t row_bytes)
{
    IBMB_PF_SPAN(IBMB_PF_READ, p, row_bytes);
}

IBMB_INLINE void prefetch_row_w(const unsigned char *p, int64_t row_bytes)
{
    IBMB_PF_SPAN(IBMB_PF_WRITE, p, row_bytes);
}

/* Prefetch a row of at most 64 bytes for reading: it touches at most two
 * lines, the ones holding its first and its last byte. */
IBMB_INLINE void prefetch_short(const unsigned char *p, int64_t row_bytes)
{
    IBMB_PF_READ(p);
    IBMB_PF_READ(p + row_bytes - 1);
}

/* No prefetch (the scatter's streaming stores do not read dst). */
IBMB_INLINE void prefetch_none(const unsigned char *p, int64_t row_bytes)
{
    (void)p;
    (void)row_bytes;
}

/* ------------------------------------------------------------------------ */
/* The row loop.                                                            */

/* Where row i goes to and comes from; SCATTER is the constant 0 (gather)
 * or 1 (scatter), so the compiler keeps one side of each conditional. */
#define IBMB_ROW_DST(SCATTER, i) (d + ((SCATTER) ? idx[i] : (i)) * row_bytes)
#define IBMB_ROW_SRC(SCATTER, i) (s + ((SCATTER) ? (i) : idx[i]) * row_bytes)
/* The table row of position i: the one prefetched. */
#define IBMB_ROW_TABLE(SCATTER, i)                                           \
    ((SCATTER) ? (const unsigned char *)IBMB_ROW_DST(SCATTER, i) : IBMB_ROW_SRC(SCATTER, i))

/* The row loop shared by the kernels. Invariant: after iteration i, the
 * destination rows of positions 0..i hold their source rows and no other
 * byte of the destination was written; the table row of position i+dist
 * has been prefetched with PREFETCH (when it exists). The table rows of
 * positions [0, dist) are prefetched before the loop, so that a call does
 * not start with dist unprefetched rows: the Go packages hand a parallel
 * copy out in 1 MiB chunks, one call each. COPY(d, s, len) must write
 * exactly d[0..len). Expects d, s, idx, n, row_bytes in scope. Each kernel
 * instantiates the loop once per row-size class, so that the class test is
 * hoisted out of the loop and the per-row work is a handful of
 * instructions. */
#define IBMB_ROWS(SCATTER, COPY, PREFETCH)                                   \
    do {                                                                     \
        const int64_t dist_ = rows_pf_dist(row_bytes);                       \
        int64_t i_ = 0;                                                      \
        for (int64_t j_ = 0; j_ < dist_ && j_ < n; j_++)                     \
            PREFETCH(IBMB_ROW_TABLE(SCATTER, j_), row_bytes);                \
        for (; i_ < n - dist_; i_++) {                                       \
            PREFETCH(IBMB_ROW_TABLE(SCATTER, i_ + dist_), row_bytes);        \
            COPY(IBMB_ROW_DST(SCATTER, i_), IBMB_ROW_SRC(SCATTER, i_), row_bytes); \
        }                                                                    \
        for (; i_ < n; i_++)                                                 \
            COPY(IBMB_ROW_DST(SCATTER, i_), IBMB_ROW_SRC(SCATTER, i_), row_bytes); \
    } while (0)

/* The portable kernels of an operation (SCATTER 0 or 1), with the
 * signature of ibmb_gather_scalar (gather.h).
 *
 * IBMB_DEF_SCALAR_KERNEL: the scalar reference. Invariant: after iteration
 * i, the destination rows of positions 0..i hold their source rows, copied
 * one byte at a time. The optimize attribute keeps gcc from turning the
 * byte loop into memcpy calls or vector code, so this stays an independent
 * reference for the other kernels (which the Go tests also check against a
 * plain Go copy).
 *
 * IBMB_DEF_MEMCPY_KERNEL: one libc memcpy per row, in the row loop
 * (invariant: that of IBMB_ROWS) with the table rows prefetched ahead. */
#if defined(__GNUC__) && !defined(__clang__)
#define IBMB_NO_VECTORIZE                                                    \
    __attribute__((optimize("no-tree-loop-distribute-patterns", "no-tree-vectorize")))
#else
#define IBMB_NO_VECTORIZE
#endif
#define IBMB_KERNEL_HEAD(NAME)                                               \
    void NAME(void *dst, const void *src, const int64_t *idx, int64_t n,     \
              int64_t row_bytes)
#define IBMB_BYTES_OF_ARGS                                                   \
    unsigned char *d = (unsigned char *)dst;                                 \
    const unsigned char *s = (const unsigned char *)src
#define IBMB_DEF_SCALAR_KERNEL(NAME, SCATTER)                                \
    IBMB_NO_VECTORIZE IBMB_KERNEL_HEAD(NAME)                                 \
    {                                                                        \
        IBMB_BYTES_OF_ARGS;                                                  \
        for (int64_t i = 0; i < n; i++) {                                    \
            unsigned char *out = IBMB_ROW_DST(SCATTER, i);                   \
            const unsigned char *row = IBMB_ROW_SRC(SCATTER, i);             \
            for (int64_t b = 0; b < row_bytes; b++)                          \
                out[b] = row[b];                                             \
        }                                                                    \
    }
#define IBMB_DEF_MEMCPY_KERNEL(NAME, SCATTER, PREFETCH)                      \
    IBMB_KERNEL_HEAD(NAME)                                                   \
    {                                                                        \
        IBMB_BYTES_OF_ARGS;                                                  \
        IBMB_ROWS(SCATTER, copy_libc, PREFETCH);                             \
    }

/* ------------------------------------------------------------------------ */
/* Row copies. Each copies exactly d[0..len) for len in its class; src and  */
/* dst are disjoint, so overlapping moves in the middle are harmless.       */
/* The copies are built from the vector-width-generic bodies below, with    */
/* LD(p) an unaligned load, ST(p, v) an unaligned store and NT(p, v) a      */
/* streaming store of W bytes.                                              */

/* W <= len <= 2W: the first and the last W bytes. */
#define IBMB_COPY_2(VT, LD, ST, W)                                           \
    do {                                                                     \
        const VT a_ = LD(s);                                                 \
        const VT b_ = LD(s + len - (W));                                     \
        ST(d, a_);                                                           \
        ST(d + len - (W), b_);                                               \
    } while (0)

/* 2W <= len <= 4W: two W moves from each end. */
#define IBMB_COPY_4(VT, LD, ST, W)                                           \
    do {                                                                     \
        const VT a_ = LD(s);                                                 \
        const VT b_ = LD(s + (W));                                           \
        const VT c_ = LD(s + len - 2 * (W));                                 \
        const VT e_ = LD(s + len - (W));                                     \
        ST(d, a_);                                                           \
        ST(d + (W), b_);                                                     \
        ST(d + len - 2 * (W), c_);                                           \
        ST(d + len - (W), e_);                                               \
    } while (0)

/* Blocks of four W-byte moves from offset o while 4W bytes remain (four
 * independent loads before the four stores). */
#define IBMB_COPY_X4(VT, LD, ST, W)                                          \
    for (; o + 4 * (W) <= len; o += 4 * (W)) {                               \
        const VT a_ = LD(s + o);                                             \
        const VT b_ = LD(s + o + (W));                                       \
        const VT c_ = LD(s + o + 2 * (W));                                   \
        const VT e_ = LD(s + o + 3 * (W));                                   \
        ST(d + o, a_);                                                       \
        ST(d + o + (W), b_);                                                 \
        ST(d + o + 2 * (W), c_);                                             \
        ST(d + o + 3 * (W), e_);                                             \
    }

/* len >= W: 4x blocks, single moves while more than W bytes remain, then
 * one W move ending exactly at d+len. Never writes past the row. */
#define IBMB_COPY_GE(VT, LD, ST, W)                                          \
    do {                                                                     \
        int64_t o = 0;                                                       \
        IBMB_COPY_X4(VT, LD, ST, W)                                          \
        for (; o + (W) < len; o += (W))                                      \
            ST(d + o, LD(s + o));                                            \
        if (o < len)                                                         \
            ST(d + len - (W), LD(s + len - (W)));                            \
    } while (0)

/* Streaming stores; len a multiple of W and d W-byte aligned, so every
 * store is a whole aligned W-byte chunk of the row. */
#define IBMB_COPY_NT(VT, LD, NT, W)                                          \
    do {                                                                     \
        int64_t o = 0;                                                       \
        IBMB_COPY_X4(VT, LD, NT, W)                                          \
        for (; o < len; o += (W))                                            \
            NT(d + o, LD(s + o));                                            \
    } while (0)

/* Streaming stores for a destination that is only 16-byte aligned (len a
 * multiple of 16, d 16-byte aligned), e.g. numpy and malloc buffers, whose
 * data start 16 bytes past a 64-byte boundary: 16-byte streaming stores up
 * to the first W-byte boundary of d, W-byte ones while whole chunks
 * remain, and 16-byte ones for the tail. The rows are written in address
 * order, so the partial lines at the end of one row and the start of the
 * next are completed back to back in the write-combining buffers. Before
 * this path existed such gather outputs fell back to ordinary stores: from
 * numpy (benchmarks/bench_gather.py), 4 KiB rows ran at 9-12 GB/s against
 * 20 GB/s for the same gather into a 64-byte aligned buffer (2 threads). */
#define IBMB_COPY_NT16(VT, LD, NT, W)                                        \
    do {                                                                     \
        int64_t o = 0;                                                       \
        for (; o < len && ((uintptr_t)(d + o) & ((W) - 1)) != 0; o += 16)    \
            NT_16(d + o, LD_16(s + o));                                      \
        IBMB_COPY_X4(VT, LD, NT, W)                                          \
        for (; o + (W) <= len; o += (W))                                     \
            NT(d + o, LD(s + o));                                            \
        for (; o < len; o += 16)                                             \
            NT_16(d + o, LD_16(s + o));                                      \
    } while (0)

/* Portable loads and stores of 1 to 8 bytes at any alignment: memcpy with
 * a constant size compiles to one plain load or store. */
#define IBMB_DEF_LDST(T)                                                     \
    IBMB_INLINE T ld_##T(const unsigned char *p)                             \
    {                                                                        \
        T v;                                                                 \
        memcpy(&v, p, sizeof v);                                             \
        return v;                                                            \
    }                                                                        \
    IBMB_INLINE void st_##T(unsigned char *p, T v) { memcpy(p, &v, sizeof v); }
IBMB_DEF_LDST(uint16_t)
IBMB_DEF_LDST(uint32_t)
IBMB_DEF_LDST(uint64_t)

/* Fixed-class row copies with a fixed, branch-free set of moves. */
IBMB_INLINE void copy_1(unsigned char *d, const unsigned char *s, int64_t len)
{
    (void)len;
    d[0] = s[0];
}

IBMB_INLINE void copy_2_3(unsigned char *d, const unsigned char *s, int64_t len)
{
    IBMB_COPY_2(uint16_t, ld_uint16_t, st_uint16_t, 2);
}

IBMB_INLINE void copy_4_7(unsigned char *d, const unsigned char *s, int64_t len)
{
    IBMB_COPY_2(uint32_t, ld_uint32_t, st_uint32_t, 4);
}

IBMB_INLINE void copy_8_15(unsigned char *d, const unsigned char *s, int64_t len)
{
    IBMB_COPY_2(uint64_t, ld_uint64_t, st_uint64_t, 8);
}

/* libc memcpy per row. */
IBMB_INLINE void copy_libc(unsigned char *d, const unsigned char *s, int64_t len)
{
    memcpy(d, s, (size_t)len);
}

/* ------------------------------------------------------------------------ */
/* Streaming-store decision.                                                */

/* Resolve a kernel's stream argument: < 0 streams when the call writes at
 * least threshold bytes, 0 never, > 0 always (where the layout allows). */
IBMB_INLINE int want_stream(int stream, int64_t n, int64_t row_bytes, int64_t threshold)
{
    if (stream < 0)
        return n >= threshold / row_bytes;
    return stream > 0;
}

/* Whether a call may use streaming stores of vec bytes: every destination
 * row start must be vec-aligned (the streaming moves fault otherwise). */
IBMB_INLINE int stream_ok(const void *dst, int64_t row_bytes, int64_t vec)
{
    return row_bytes % vec == 0 && ((uintptr_t)dst & (uintptr_t)(vec - 1)) == 0;
}

#if IBMB_ROWS_X86
/* ------------------------------------------------------------------------ */
/* Vector row copies: AVX2 (16- and 32-byte moves) and AVX-512F (64-byte    */
/* moves). AVX-512F alone has no byte-masked moves (they need AVX-512BW),   */
/* so the tails overlap instead of masking, as in the AVX2 copies.          */

#define LD_16(p) _mm_loadu_si128((const __m128i *)(p))
#define ST_16(p, v) _mm_storeu_si128((__m128i *)(p), (v))
#define NT_16(p, v) _mm_stream_si128((__m128i *)(p), (v))
#define LD_32(p) _mm256_loadu_si256((const __m256i *)(p))
#define ST_32(p, v) _mm256_storeu_si256((__m256i *)(p), (v))
#define NT_32(p, v) _mm256_stream_si256((__m256i *)(p), (v))
#define LD_64(p) _mm512_loadu_si512((const void *)(p))
#define ST_64(p, v) _mm512_storeu_si512((void *)(p), (v))
#define NT_64(p, v) _mm512_stream_si512((void *)(p), (v))

#define IBMB_AVX2 __attribute__((target("avx2"))) IBMB_INLINE void
#define IBMB_AVX512 __attribute__((target("avx512f"))) IBMB_INLINE void
#define IBMB_COPY_ARGS unsigned char *d, const unsigned char *s, int64_t len

/* Rows of 16..31 bytes: two overlapping 16-byte moves. */
IBMB_AVX2 copy_16_31_avx2(IBMB_COPY_ARGS) { IBMB_COPY_2(__m128i, LD_16, ST_16, 16); }
/* Rows of 32..63 bytes: two overlapping 32-byte moves. */
IBMB_AVX2 copy_32_63_avx2(IBMB_COPY_ARGS) { IBMB_COPY_2(__m256i, LD_32, ST_32, 32); }
/* Rows of 64..127 bytes: two 32-byte moves from each end. */
IBMB_AVX2 copy_64_127_avx2(IBMB_COPY_ARGS) { IBMB_COPY_4(__m256i, LD_32, ST_32, 32); }
/* Rows of 32 bytes or more (the gather uses it from 128 bytes). */
IBMB_AVX2 copy_ge32_avx2(IBMB_COPY_ARGS) { IBMB_COPY_GE(__m256i, LD_32, ST_32, 32); }
/* Streaming: len a multiple of 32, d 32-byte aligned. */
IBMB_AVX2 copy_nt_avx2(IBMB_COPY_ARGS) { IBMB_COPY_NT(__m256i, LD_32, NT_32, 32); }
/* Streaming: len a multiple of 16, d 16-byte aligned. */
IBMB_AVX2 copy_nt16_avx2(IBMB_COPY_ARGS) { IBMB_COPY_NT16(__m256i, LD_32, NT_32, 32); }

/* Rows of 64..127 bytes: two overlapping 64-byte moves. */
IBMB_AVX512 copy_64_127_avx512(IBMB_COPY_ARGS) { IBMB_COPY_2(__m512i, LD_64, ST_64, 64); }
/* Rows of 128..255 bytes: two 64-byte moves from each end. */
IBMB_AVX512 copy_128_255_avx512(IBMB_COPY_ARGS) { IBMB_COPY_4(__m512i, LD_64, ST_64, 64); }
/* Rows of 64 bytes or more (the gather uses it from 256 bytes). */
IBMB_AVX512 copy_ge64_avx512(IBMB_COPY_ARGS) { IBMB_COPY_GE(__m512i, LD_64, ST_64, 64); }
/* Streaming: len a multiple of 64, d 64-byte aligned. */
IBMB_AVX512 copy_nt_avx512(IBMB_COPY_ARGS) { IBMB_COPY_NT(__m512i, LD_64, NT_64, 64); }
/* Streaming: len a multiple of 16, d 16-byte aligned. */
IBMB_AVX512 copy_nt16_avx512(IBMB_COPY_ARGS) { IBMB_COPY_NT16(__m512i, LD_64, NT_64, 64); }

/* Rows shorter than 32 bytes, one loop per class; shared by both vector
 * tiers of both operations (the narrow moves are the same). */
#define IBMB_ROWS_SHORT(SCATTER, PREFETCH)                                   \
    do {                                                                     \
        if (row_bytes >= 16)                                                 \
            IBMB_ROWS(SCATTER, copy_16_31_avx2, PREFETCH);                   \
        else if (row_bytes >= 8)                                             \
            IBMB_ROWS(SCATTER, copy_8_15, PREFETCH);                         \
        else if (row_bytes >= 4)                                             \
            IBMB_ROWS(SCATTER, copy_4_7, PREFETCH);                          \
        else if (row_bytes >= 2)                                             \
            IBMB_ROWS(SCATTER, copy_2_3, PREFETCH);                          \
        else                                                                 \
            IBMB_ROWS(SCATTER, copy_1, PREFETCH);                            \
    } while (0)

/* Streaming stores through a copy, then the sfence that orders them before
 * anything the caller does next (e.g. signalling another thread that dst
 * is ready). */
#define IBMB_ROWS_STREAM(SCATTER, COPY, PREFETCH)                            \
    do {                                                                     \
        IBMB_ROWS(SCATTER, COPY, PREFETCH);                                  \
        _mm_sfence();                                                        \
    } while (0)
#endif /* IBMB_ROWS_X86 */

/* Without x86 vector code, a vector entry point NAME(dst, src, idx, n,
 * row_bytes, stream) is the memcpy kernel MEMCPY. */
#define IBMB_VECTOR_FALLBACK(NAME, MEMCPY)                                   \
    void NAME(void *dst, const void *src, const int64_t *idx, int64_t n,     \
              int64_t row_bytes, int stream)                                 \
    {                                                                        \
        (void)stream;                                                        \
        MEMCPY(dst, src, idx, n, row_bytes);                                 \
    }

/* ------------------------------------------------------------------------ */
/* Tier dispatch.                                                           */

/* Kernel tiers, numbered as the Tier constants of kernels/gather. */
enum { IBMB_TIER_SCALAR = 0, IBMB_TIER_MEMCPY = 1, IBMB_TIER_AVX2 = 2, IBMB_TIER_AVX512 = 3 };

/* Body of a per-operation tier dispatcher: runs one of the four kernels
 * (the scalar and memcpy ones take no stream argument) on the arguments
 * dst, src, idx, n, row_bytes, stream in scope and returns 0, or -1 for an
 * unknown tier. */
#define IBMB_TIER_SWITCH(tier, SCALAR, MEMCPY, AVX2, AVX512)                 \
    switch (tier) {                                                          \
    case IBMB_TIER_SCALAR:                                                   \
        SCALAR(dst, src, idx, n, row_bytes);                                 \
        return 0;                                                            \
    case IBMB_TIER_MEMCPY:                                                   \
        MEMCPY(dst, src, idx, n, row_bytes);                                 \
        return 0;                                                            \
    case IBMB_TIER_AVX2:                                                     \
        AVX2(dst, src, idx, n, row_bytes, stream);                           \
        return 0;                                                            \
    case IBMB_TIER_AVX512:                                                   \
        AVX512(dst, src, idx, n, row_bytes, stream);                         \
        return 0;                                                            \
    }                                                                        \
    return -1

#endif /* IBMB_ROWCOPY_H */
