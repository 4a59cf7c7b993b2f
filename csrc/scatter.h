/*
 * scatter.h - row scatter for CPU, the inverse of gather.h.
 *
 * Given a row-major matrix `dst` of `nrows` rows, each `row_bytes` bytes
 * long, n rows packed back to back in `src` and an index list idx[0..n),
 * the scatter kernels write
 *
 *     dst[idx[i]*row_bytes .. +row_bytes) = src[i*row_bytes .. (i+1)*row_bytes)
 *
 * for every i in [0, n). This is the "push" of a history store: a batch's
 * fresh rows are written back into the [N, d] store at their node ids.
 *
 * Rows are copied as bytes, so any element type (float32, float16,
 * bfloat16, float64, ...) is reproduced bit for bit.
 *
 * Repeated ids: the kernels are only defined for DISTINCT ids. Run
 * ibmb_scatter_check first; it rejects an index list in which an id occurs
 * twice (as well as ids outside [0, nrows)). With distinct ids every row
 * of dst is written at most once, so the result does not depend on the
 * order of the writes, and a scatter may be split into index ranges that
 * run on several threads at once.
 *
 * Contract shared by every ibmb_scatter_* copy kernel:
 *   - every idx[i] is in [0, nrows) and the idx[i] are pairwise distinct
 *     (ibmb_scatter_check returned -1);
 *   - row_bytes > 0 and n >= 0 (n == 0 does nothing);
 *   - dst and src are valid for nrows*row_bytes and n*row_bytes bytes and do
 *     not overlap; idx overlaps neither;
 *   - idx is aligned for int64_t; dst and src need no alignment;
 *   - the kernels write only the rows of dst that idx names and read only
 *     src[0 .. n*row_bytes) and idx[0 .. n) (plus software prefetches,
 *     which never fault);
 *   - ibmb_scatter_avx2* need AVX2, ibmb_scatter_avx512* AVX-512F and AVX2;
 *     the caller checks the CPU (the Go package uses x/sys/cpu).
 */
#ifndef IBMB_SCATTER_H
#define IBMB_SCATTER_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * ibmb_scatter_check validates an index list for a scatter into nrows rows.
 * It returns -1 when every idx[i] lies in [0, nrows) and no id occurs twice.
 * Otherwise it returns the FIRST position p at which the list goes wrong,
 * scanning in order, and sets *prev:
 *   *prev == -1: idx[p] is outside [0, nrows) (negative or too large);
 *   *prev >= 0:  idx[p] == idx[*prev] with *prev < p (the id's first
 *                occurrence): a repeated id.
 * `seen` is a bitmap of (nrows + 63) / 64 words that must be all zero on
 * entry and that no other thread uses during the call; it is all zero again
 * on return (the function writes only those words: it clears the words it
 * set, or all of them for a dense list, see ibmb_scatter_dense), so a
 * caller may keep one bitmap for many calls. A negative nrows is treated
 * as 0.
 */
int64_t ibmb_scatter_check(const int64_t *idx, int64_t n, int64_t nrows,
                           uint64_t *seen, int64_t *prev);

/*
 * Words of the check's bitmap for nrows rows, (nrows + 63) / 64 (0 for
 * nrows <= 0), and whether a list of n ids is dense for that bitmap:
 * n >= words / 2, i.e. at least one id per 128 rows on average. The check
 * then clears the whole bitmap with one sequential store of zeros (and
 * first brings it into the cache the same way) instead of clearing the
 * word of each id: measured on the development VM (bitmap evicted between
 * calls, one thread), 1e5 ids into 4M rows were checked in 0.31 ms instead
 * of 0.65, 1e6 ids in 3.3 ms instead of 5.6. The Go package uses the same
 * rule to clear after its parallel check.
 */
static inline int64_t ibmb_scatter_words(int64_t nrows)
{
    return nrows <= 0 ? 0 : nrows / 64 + (nrows % 64 != 0);
}

static inline int ibmb_scatter_dense(int64_t n, int64_t nrows)
{
    const int64_t w = ibmb_scatter_words(nrows);
    return w > 0 && n >= w / 2;
}

/*
 * Parallel form of the check, for index lists split across threads.
 * ibmb_scatter_mark sets the bits of idx[0..n) in `seen` with atomic ORs
 * and returns 1 as soon as it meets an id outside [0, nrows) or a bit that
 * was already set (by this call or by another thread's), else 0. Once every
 * thread's mark has returned, ibmb_scatter_unmark, called by each thread
 * on the SAME range it marked (whether its mark returned early or not),
 * zeroes every word an in-range id of the range maps to, so that the
 * bitmap is all zero again when all unmarks have returned. A 1 from any
 * mark means the list is invalid; ibmb_scatter_check then finds the exact
 * first error (the parallel pass cannot tell which position is first).
 */
int ibmb_scatter_mark(const int64_t *idx, int64_t n, int64_t nrows, uint64_t *seen);
void ibmb_scatter_unmark(const int64_t *idx, int64_t n, int64_t nrows, uint64_t *seen);

/* Scalar reference: a plain byte loop, kept free of vectorisation. */
void ibmb_scatter_scalar(void *dst, const void *src, const int64_t *idx,
                         int64_t n, int64_t row_bytes);

/* libc memcpy per row, with prefetch-for-write of the rows ahead. */
void ibmb_scatter_memcpy(void *dst, const void *src, const int64_t *idx,
                         int64_t n, int64_t row_bytes);

/*
 * Vector kernels. stream selects streaming (non-temporal) stores, which
 * write whole lines without reading them first (no read-for-ownership):
 *   stream == 0: ordinary stores, with prefetch-for-write of the dst rows
 *                ahead;
 *   stream  > 0: streaming stores where the layout allows them, i.e. when
 *                row_bytes is a multiple of 16 and dst is 16-byte aligned
 *                (so every row start is 16-byte aligned); otherwise
 *                ordinary stores;
 *   stream  < 0: automatic: stream when the call writes at least
 *                IBMB_SCATTER_STREAM_BYTES.
 * The bytes written are the same either way.
 */
#define IBMB_SCATTER_STREAM_BYTES ((int64_t)4 << 20)

void ibmb_scatter_avx2(void *dst, const void *src, const int64_t *idx,
                       int64_t n, int64_t row_bytes, int stream);
void ibmb_scatter_avx512(void *dst, const void *src, const int64_t *idx,
                         int64_t n, int64_t row_bytes, int stream);

/* ibmb_scatter_tier runs the kernel of one tier (numbered as for
 * ibmb_gather_tier in gather.h): 0, or -1 for another tier number. */
int ibmb_scatter_tier(int tier, void *dst, const void *src, const int64_t *idx,
                      int64_t n, int64_t row_bytes, int stream);

#ifdef __cplusplus
}
#endif

#endif /* IBMB_SCATTER_H */
