// gather.cu - row gather kernels for ibmb, compiled at run time with NVRTC.
//
// Operation:  dst[i, :] = src[idx[i], :]  for i in [0, n)
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

// Thread layout of the gather kernels
// ------------------------------------
// A block of B threads is split into B / G groups of G consecutive lanes;
// each group copies one dst row at a time.  Groups stride over the rows with
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
// idx are never written by this kernel.
template <typename T>
__device__ __forceinline__ void ibmb_gather_rows(T *__restrict__ dst, const T *__restrict__ src,
                                                 const ibmb_i64 *__restrict__ idx, ibmb_i64 n,
                                                 ibmb_i64 srcRows, ibmb_i64 rowElems, int groupShift) {
    const int G = 1 << groupShift;
    const int lane = (int)threadIdx.x & (G - 1);
    const ibmb_i64 groupsPerBlock = (ibmb_i64)(blockDim.x >> groupShift);
    const ibmb_i64 rowStep = (ibmb_i64)gridDim.x * groupsPerBlock;
    const ibmb_i64 colStart = (ibmb_i64)blockIdx.y * G + lane;
    const ibmb_i64 colStep = (ibmb_i64)gridDim.y * G;

    for (ibmb_i64 row = (ibmb_i64)blockIdx.x * groupsPerBlock + (ibmb_i64)(threadIdx.x >> groupShift); row < n;
         row += rowStep) {
        const ibmb_i64 s = __ldg(idx + row);
        if (s < 0 || s >= srcRows) continue;  // unreachable after the check kernel
        const T *__restrict__ in = src + s * rowElems;
        T *__restrict__ out = dst + row * rowElems;

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

// 16-byte path: rowBytes % 16 == 0, dst and src 16-byte aligned.
// rowElems = rowBytes / 16.
extern "C" __global__ void ibmb_gather_16(uint4 *__restrict__ dst, const uint4 *__restrict__ src,
                                          const ibmb_i64 *__restrict__ idx, ibmb_i64 n, ibmb_i64 srcRows,
                                          ibmb_i64 rowElems, ibmb_i64 groupShift) {
    ibmb_gather_rows<uint4>(dst, src, idx, n, srcRows, rowElems, (int)groupShift);
}

// 8-byte path: rowBytes % 8 == 0, dst and src 8-byte aligned.
extern "C" __global__ void ibmb_gather_8(uint2 *__restrict__ dst, const uint2 *__restrict__ src,
                                         const ibmb_i64 *__restrict__ idx, ibmb_i64 n, ibmb_i64 srcRows,
                                         ibmb_i64 rowElems, ibmb_i64 groupShift) {
    ibmb_gather_rows<uint2>(dst, src, idx, n, srcRows, rowElems, (int)groupShift);
}

// 4-byte path: rowBytes % 4 == 0, dst and src 4-byte aligned.
extern "C" __global__ void ibmb_gather_4(unsigned int *__restrict__ dst, const unsigned int *__restrict__ src,
                                         const ibmb_i64 *__restrict__ idx, ibmb_i64 n, ibmb_i64 srcRows,
                                         ibmb_i64 rowElems, ibmb_i64 groupShift) {
    ibmb_gather_rows<unsigned int>(dst, src, idx, n, srcRows, rowElems, (int)groupShift);
}

// Generic byte path: any rowBytes, any alignment.
extern "C" __global__ void ibmb_gather_1(unsigned char *__restrict__ dst, const unsigned char *__restrict__ src,
                                         const ibmb_i64 *__restrict__ idx, ibmb_i64 n, ibmb_i64 srcRows,
                                         ibmb_i64 rowElems, ibmb_i64 groupShift) {
    ibmb_gather_rows<unsigned char>(dst, src, idx, n, srcRows, rowElems, (int)groupShift);
}

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
