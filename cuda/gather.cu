// gather.cu - row gather and row scatter kernels for ibmb, compiled at run
// time with NVRTC.  Both directions share one templated row loop
// (ibmb_copy_rows); the scatter's own contract is stated further down.
//
// Gather:  dst[i, :] = src[idx[i], :]  for i in [0, n)
//
//   src   srcRows x rowBytes bytes, row-major, contiguous (device memory)
//   idx   n int64 row numbers (device memory, 8-byte aligned)
//   dst   n x rowBytes bytes, row-major, contiguous (device memory)
//
// The copy is dtype-agnostic and bit-exact: rows are moved as opaque bytes
// in units of T (16, 8, 4 or 1 bytes), never converted.
//
// Invariants the host (kernels/cuda, Gather) establishes before launching:
//   * ibmb_gather_check ran first and found every idx[i] in [0, srcRows);
//     the gather kernels re-check each index anyway and skip a bad row
//     (its dst row is left untouched) so they can never read out of bounds.
//   * For ibmb_gather_<W>: rowBytes % W == 0 and both dst and src are W-byte
//     aligned, so every row start (base + row * rowBytes) is W-byte aligned
//     too; rowElems = rowBytes / W.
//   * dst does not overlap src or idx (the pointers are __restrict__).
//   * blockDim = (B, 1, 1) with B a multiple of 32 and a multiple of the
//     group size G = 1 << groupShift (1 <= G <= 32).
//   * Every kernel parameter is 8 bytes wide (pointer, long long or
//     unsigned long long): the host passes them through ibmb_launch_u64.
//
// The source is self-contained: no #include, no host headers, so NVRTC can
// compile it without any toolkit headers.  (The test suite also compiles it
// as C++ on the CPU, with a tiny emulation of the CUDA built-ins, to check
// the indexing logic without a GPU.)

typedef long long ibmb_i64;
typedef unsigned long long ibmb_u64;

// Thread layout of the row kernels (gather and scatter)
// -----------------------------------------------------
// A block of B threads is split into B / G groups of G consecutive lanes;
// each group copies one row at a time.  Groups stride over the rows with
// a grid-stride loop in x (row = group id + k * groups in the grid).  In y,
// the grid splits the columns of a row: block (x, y) handles the elements
// c = y * G + lane + k * (gridDim.y * G).  gridDim.y > 1 is only used when
// there are too few rows to fill the GPU.
//
// G is chosen by the host as the smallest power of two >= rowElems, capped
// at 32 (one warp per row for rows of >= 32 elements), so that small rows do
// not leave most lanes of a warp idle.
//
// Each lane issues up to four independent loads before its four stores, to
// keep more bytes in flight per thread (memory-level parallelism).  Loads go
// through the read-only / non-coherent path (__ldg -> ld.global.nc): src and
// idx are never written by these kernels.
//
// SCATTER selects the direction: false copies table row idx[row] to packed
// row `row` (gather: dst packed, src the table of tableRows rows), true
// copies packed row `row` to table row idx[row] (scatter: dst the table).
template <typename T, bool SCATTER>
__device__ __forceinline__ void ibmb_copy_rows(T *__restrict__ dst, const T *__restrict__ src,
                                               const ibmb_i64 *__restrict__ idx, ibmb_i64 n,
                                               ibmb_i64 tableRows, ibmb_i64 rowElems, int groupShift) {
    const int G = 1 << groupShift;
    const int lane = (int)threadIdx.x & (G - 1);
    const ibmb_i64 groupsPerBlock = (ibmb_i64)(blockDim.x >> groupShift);
    const ibmb_i64 rowStep = (ibmb_i64)gridDim.x * groupsPerBlock;
    const ibmb_i64 colStart = (ibmb_i64)blockIdx.y * G + lane;
    const ibmb_i64 colStep = (ibmb_i64)gridDim.y * G;

    for (ibmb_i64 row = (ibmb_i64)blockIdx.x * groupsPerBlock + (ibmb_i64)(threadIdx.x >> groupShift); row < n;
         row += rowStep) {
        const ibmb_i64 t = __ldg(idx + row);
        if (t < 0 || t >= tableRows) continue;  // unreachable after the check kernels
        const T *__restrict__ in = src + (SCATTER ? row : t) * rowElems;
        T *__restrict__ out = dst + (SCATTER ? t : row) * rowElems;

        ibmb_i64 c = colStart;
        // Main body: 4 independent elements per lane per iteration.
        for (; c + 3 * colStep < rowElems; c += 4 * colStep) {
            const T a = __ldg(in + c);
            const T b = __ldg(in + c + colStep);
            const T d = __ldg(in + c + 2 * colStep);
            const T e = __ldg(in + c + 3 * colStep);
            out[c] = a;
            out[c + colStep] = b;
            out[c + 2 * colStep] = d;
            out[c + 3 * colStep] = e;
        }
        // Tail: fewer than 4 elements left for this lane.
        for (; c < rowElems; c += colStep) {
            out[c] = __ldg(in + c);
        }
    }
}

// The extern "C" entry points ibmb_gather_<W> and ibmb_scatter_<W> for the
// copy unit T of W bytes (both take: dst, src, idx, n, the table's rows
// (srcRows of a gather, dstRows of a scatter), rowElems, groupShift).
#define IBMB_ROW_KERNELS(W, T)                                                                              \
    extern "C" __global__ void ibmb_gather_##W(T *__restrict__ dst, const T *__restrict__ src,             \
                                               const ibmb_i64 *__restrict__ idx, ibmb_i64 n,                \
                                               ibmb_i64 srcRows, ibmb_i64 rowElems, ibmb_i64 groupShift) {  \
        ibmb_copy_rows<T, false>(dst, src, idx, n, srcRows, rowElems, (int)groupShift);                     \
    }                                                                                                       \
    extern "C" __global__ void ibmb_scatter_##W(T *__restrict__ dst, const T *__restrict__ src,            \
                                                const ibmb_i64 *__restrict__ idx, ibmb_i64 n,               \
                                                ibmb_i64 dstRows, ibmb_i64 rowElems, ibmb_i64 groupShift) { \
        ibmb_copy_rows<T, true>(dst, src, idx, n, dstRows, rowElems, (int)groupShift);                      \
    }

// 16-byte path: rowBytes % 16 == 0, dst and src 16-byte aligned;
// rowElems = rowBytes / 16.  8- and 4-byte paths likewise.
IBMB_ROW_KERNELS(16, uint4)
IBMB_ROW_KERNELS(8, uint2)
IBMB_ROW_KERNELS(4, unsigned int)
// Generic byte path: any rowBytes, any alignment.
IBMB_ROW_KERNELS(1, unsigned char)

// Index check: finds the first position i with idx[i] outside [0, nrows).
//
// *firstBad must be set to ULLONG_MAX (all bits one) before the launch; after
// it, *firstBad is the smallest bad position, or still ULLONG_MAX when every
// index is valid.  Any 1-D grid / block shape works (grid-stride loop).
// Positions visited by one thread increase, so its first bad position is its
// smallest one: each thread does at most one atomicMin and then stops.
// Nothing but *firstBad is written, so the host can refuse a bad index
// vector before any output is touched.
extern "C" __global__ void ibmb_gather_check(const ibmb_i64 *__restrict__ idx, ibmb_i64 n, ibmb_i64 nrows,
                                             ibmb_u64 *firstBad) {
    const ibmb_i64 stride = (ibmb_i64)gridDim.x * blockDim.x;
    for (ibmb_i64 i = (ibmb_i64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        const ibmb_i64 v = __ldg(idx + i);
        if (v < 0 || v >= nrows) {
            atomicMin(firstBad, (ibmb_u64)i);
            break;
        }
    }
}

// ---------------------------------------------------------------------------
// Row scatter (the push of a history store), the inverse of the gather:
//
//   dst[idx[i], :] = src[i, :]  for i in [0, n)
//
//   dst   dstRows x rowBytes bytes, row-major (the store, device memory)
//   src   n x rowBytes bytes, packed rows (device memory)
//   idx   n int64 row numbers of dst (device memory, 8-byte aligned)
//
// The copy kernels ibmb_scatter_<W> are defined above with the gather's
// (IBMB_ROW_KERNELS).  Invariants the host (kernels/cuda, Scatter)
// establishes before launching:
//   * ibmb_scatter_mark and ibmb_scatter_find ran first and found every
//     idx[i] in [0, dstRows) and the idx[i] pairwise distinct, so no two
//     threads write the same dst row and the result does not depend on the
//     order of the writes; the scatter kernels re-check the range anyway and
//     skip a bad row, so they can never write out of bounds.
//   * Width, alignment, group size and block shape as for ibmb_gather_<W>:
//     rowBytes % W == 0, dst and src W-byte aligned, blockDim.x a multiple
//     of 32 and of G = 1 << groupShift.
//   * dst overlaps neither src nor idx.
//
// Unverified on a real GPU (tested on the CPU-emulated driver only).

// Scatter index check, pass 1 of 2: mark every in-range id in the bitmap
// `seen` and every id met a second time in the bitmap `dup` (both
// (nrows + 31) / 32 words, zero before the launch). After the pass, an id's
// dup bit is set exactly when it occurs at least twice, whatever the order
// in which threads ran. Any 1-D grid works (grid-stride loop).
extern "C" __global__ void ibmb_scatter_mark(const ibmb_i64 *__restrict__ idx, ibmb_i64 n, ibmb_i64 nrows,
                                             unsigned int *seen, unsigned int *dup) {
    const ibmb_i64 stride = (ibmb_i64)gridDim.x * blockDim.x;
    for (ibmb_i64 i = (ibmb_i64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        const ibmb_i64 v = __ldg(idx + i);
        if (v < 0 || v >= nrows) continue;
        const unsigned int bit = 1u << (unsigned int)(v & 31);
        if (atomicOr(seen + (v >> 5), bit) & bit) atomicOr(dup + (v >> 5), bit);
    }
}

// Pass 2: *firstBad (ULLONG_MAX before the launch) becomes the smallest
// position i whose id is out of range or has its dup bit set, i.e. the
// first position of the list that takes part in an error; it stays
// ULLONG_MAX when the list is valid. Deterministic: it depends on the
// bitmaps, which pass 1 leaves the same whatever the thread order. Nothing
// but *firstBad is written.
extern "C" __global__ void ibmb_scatter_find(const ibmb_i64 *__restrict__ idx, ibmb_i64 n, ibmb_i64 nrows,
                                             const unsigned int *dup, ibmb_u64 *firstBad) {
    const ibmb_i64 stride = (ibmb_i64)gridDim.x * blockDim.x;
    for (ibmb_i64 i = (ibmb_i64)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        const ibmb_i64 v = __ldg(idx + i);
        if (v < 0 || v >= nrows || (dup[v >> 5] & (1u << (unsigned int)(v & 31))) != 0) {
            atomicMin(firstBad, (ibmb_u64)i);
            break;
        }
    }
}
