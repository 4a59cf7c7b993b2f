// ppr.cu - approximate personalized PageRank (PPR) for many seeds at once,
// with the local push of Andersen, Chung and Lang; compiled at run time with
// NVRTC (see kernels/cuda/ppr.go for the host side).
//
// Problem
// -------
// The graph is a CSR (indptr, indices) of n nodes, read as unweighted: a push
// of node u with residual res moves alpha*res into p[u] and adds
// (1-alpha)*res/deg(u) to r[v] for every stored edge u->v.  One task is one
// teleport set S (a single seed for node-wise PPR): r starts uniform 1/|S|
// over the distinct nodes of S, p = 0, every node of S is pushed once
// unconditionally, and afterwards u is pushed while r[u] >= eps*deg(u)
// (r[u] > 0 when deg(u) = 0).  At termination r[u] < eps*deg(u) everywhere,
// which on a symmetric graph bounds 0 <= p(v) - p^(v) <= eps*deg(v).
// This is exactly the rule of the CPU push (gopkg/ppr); only the order of
// the pushes differs (rounds instead of a FIFO), which the bound does not
// depend on.
//
// Design (why it should be fast on H100 / H200)
// ----------------------------------------------
// * One warp per task, persistent warps.  A PPR vector needs hundreds to a
//   few ten thousands of edge updates, too little for a block but plenty for
//   32 lanes; within a warp all coordination is register shuffles and ballots
//   (no shared memory, no __syncthreads, no atomics on counters).  The grid
//   holds as many warps as the host could give workspace to (up to 32 per SM:
//   __launch_bounds__(128, 8)), and each warp takes the next task from a
//   global counter, so a few expensive seeds (hubs) do not stall the rest.
// * Sparse per-task state.  Each warp owns an open-addressing hash table in
//   global memory: keys (int32 node ids, linear probing, Fibonacci hashing),
//   residuals r (float64) and estimates p (float64), plus three lists of
//   slots: "touched" (every occupied slot, for output and cleanup) and two
//   frontiers.  Work and cleanup per task are O(touched), never O(n), and a
//   table is reused for the next task after its touched slots are reset.
//   Linear probing on 4-byte keys keeps a probe sequence within one or two
//   32-byte sectors.  Most tables stay resident in L2 (50 MB on H100).
// * Rounds of parallel pushes.  A round pushes every node of the current
//   frontier; the lanes share the round's edges evenly: a warp-wide prefix
//   sum over the degrees of up to 32 frontier nodes, then each lane takes
//   edge e = base + lane and finds its node by a 5-step shuffle binary
//   search.  Consecutive edges of a node go to consecutive lanes, so the
//   reads of `indices` are coalesced, and low-degree nodes do not leave
//   lanes idle.  Residuals are updated with atomicAdd (float64, native in
//   L2 on sm_60+); the value returned tells whether this update made r[v]
//   cross its threshold, in which case v joins the next frontier (appended
//   with ballot + popc, no atomics).  A node crosses at most once per round
//   (the teleport nodes' initial shares are pushed without going through r,
//   so no residual decreases before it is pushed), hence a frontier holds
//   distinct nodes, is bounded by the table, and a node is pushed by one
//   lane at a time.  p is updated with a fire-and-forget atomic add (RED):
//   no load, no latency.
// * Termination check.  When the frontier is empty the warp sweeps the
//   touched list once and re-queues any slot still at or above its
//   threshold, so the guarantee rests on the stored values themselves, not
//   on the crossing detection being exact (it is exact for IEEE fp64
//   atomics, the sweep is cheap insurance).
// * Precision.  r and p are float64, like the CPU push: float32 residuals
//   would make the threshold test and the accumulated p drift by ~1e-7
//   relative, which breaks the eps*deg bound for small eps.  fp64 atomics
//   cost one 8-byte L2 atomic per edge update; the scores are rounded to
//   float32 only for the output, as on the CPU.
// * Overflow.  A table holds at most `limit` (3/4 of its capacity) nodes.
//   When a task touches more, the warp gives up on it, marks it OVERFLOW
//   (the host recomputes exactly those tasks on the CPU, so results are
//   always correct), clears its whole table and moves on.
// * Output.  Top-k (k <= 128): a warp-distributed sorted buffer of 32*R
//   64-bit keys (score bits << 32 | ~node: larger = better, so ties go to
//   the smaller id, the CPU order) in registers; one pass over the touched
//   list with one ballot per 32 candidates against the current k-th key,
//   and a shuffle insertion for the rare candidates that beat it.  Rows come
//   out sorted.  All entries (and k > 128): each task reserves room in an
//   output pool (CAS on a global offset, once per task) and writes its
//   positive entries unsorted; the host sorts.  When the pool is full the
//   task is marked DEFERRED, warps stop taking tasks, and the host runs the
//   deferred and untaken tasks again with an empty pool.
//
// Expected bottleneck: the dependent chain of random memory accesses per
// edge update (index -> hash probe / CAS -> fp64 atomicAdd with return),
// i.e. memory latency and L2 atomic throughput; it is hidden by the number
// of warps in flight (up to 32 per SM, 4224 on a 132-SM H100), which is why
// the workspace per warp is kept small.  deg(v), needed for the threshold
// test, is loaded independently of the probe so the two latencies overlap.
//
// Host contract (kernels/cuda/ppr.go)
// -----------------------------------
//   * indptr (n+1 int64), indices (int32 in [0, n)), deg (n int32,
//     deg[u] = indptr[u+1]-indptr[u]) were validated on the host.
//   * Task t (0 <= t < numTasks) is teleport set tasks[t]: its nodes are
//     setNodes[setPtr[s]:setPtr[s+1]] (s = tasks[t]), or setNodes[s] alone
//     when setPtr is null; every node is in [0, n), every set non-empty.
//   * Workspace: numWarps tables of cap slots (cap a power of two >= 256,
//     logCap = log2(cap), limit = 3*cap/4 so that limit + 32 < cap): wsKeys
//     [numWarps*cap] int32 all -1, wsR and wsP [numWarps*cap] float64 all 0
//     (the kernels leave them so), wsLists [numWarps*3*(limit+32)] int32.
//   * ctrl [IBMB_PPR_CTRL_WORDS] u64 zeroed; status [numTasks] int32 zeroed.
//   * Top-k kernels (ibmb_ppr_topk_R, R = 1, 2, 4: k <= 32*R): outNodes,
//     outScores [numTasks*k]; row t is outNodes[t*k : t*k+outCount[t]],
//     sorted.  All-entries kernel (ibmb_ppr_all): outNodes, outScores are a
//     pool of poolCap entries (poolCap >= limit + 32), row t is
//     [rowOff[t], rowOff[t]+outCount[t]) unsorted.
//   * blockDim = (IBMB_PPR_BLOCK, 1, 1); warps with id >= numWarps return.
//   * Every parameter is 8 bytes wide (launch through ibmb_launch_u64).
//
// The source is self-contained (no #include) so NVRTC needs no headers.  The
// tests also compile it as C++ and run it on the CPU with an emulation of the
// warp intrinsics (kernels/cuda/testdata/fakecuda).

typedef long long ibmb_i64;
typedef unsigned long long ibmb_u64;
typedef unsigned int ibmb_u32;

#define IBMB_PPR_FULL 0xffffffffu
#define IBMB_PPR_EMPTY (-1)
#define IBMB_PPR_BLOCK 128

// Task status.
#define IBMB_PPR_PENDING 0   // not taken (all-entries kernel stopped early)
#define IBMB_PPR_DONE 1      // row written
#define IBMB_PPR_OVERFLOW 2  // table too small: recompute on the CPU
#define IBMB_PPR_DEFERRED 3  // output pool full: run again

// ctrl words.
#define IBMB_PPR_NEXT_TASK 0  // task counter
#define IBMB_PPR_POOL_USED 1  // entries of the output pool handed out
#define IBMB_PPR_STOP 2       // nonzero: pool full, take no more tasks
#define IBMB_PPR_PUSHES 3     // statistics: node pushes
#define IBMB_PPR_EDGES 4      // statistics: edge (residual) updates
#define IBMB_PPR_CTRL_WORDS 8

// fp64 atomic add; native from sm_60 on, a CAS loop before.
__device__ __forceinline__ double ibmb_ppr_atomic_add(double *a, double v) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 600
    ibmb_u64 *w = (ibmb_u64 *)a;
    ibmb_u64 old = *w, assumed;
    do {
        assumed = old;
        old = atomicCAS(w, assumed, (ibmb_u64)__double_as_longlong(__longlong_as_double((ibmb_i64)assumed) + v));
    } while (old != assumed);
    return __longlong_as_double((ibmb_i64)old);
#else
    return atomicAdd(a, v);
#endif
}

// Push threshold of a node of degree d: eps*d, or the smallest positive
// double for d = 0 so that "r >= thr" reads "r > 0" (as on the CPU).
__device__ __forceinline__ double ibmb_ppr_thr(int d, double eps) {
    return d > 0 ? eps * (double)d : __longlong_as_double(1LL);
}

__device__ __forceinline__ ibmb_u32 ibmb_ppr_hash(int v, int logCap) {
    return ((ibmb_u32)v * 2654435769u) >> (32 - logCap);
}

// Finds v in the table or claims an empty slot for it (CAS). Keys are read
// with ld.global.cg: other lanes claim slots concurrently. The table always
// has an empty slot (the caller keeps at most limit + 32 < cap keys), so the
// loop ends.
__device__ __forceinline__ int ibmb_ppr_find_or_insert(int *keys, ibmb_u32 mask, int logCap, int v, bool *isNew) {
    ibmb_u32 s = ibmb_ppr_hash(v, logCap);
    for (;;) {
        int k = __ldcg(keys + s);
        if (k == v) {
            *isNew = false;
            return (int)s;
        }
        if (k == IBMB_PPR_EMPTY) {
            int prev = atomicCAS(keys + s, IBMB_PPR_EMPTY, v);
            if (prev == IBMB_PPR_EMPTY) {
                *isNew = true;
                return (int)s;
            }
            if (prev == v) {
                *isNew = false;
                return (int)s;
            }
        }
        s = (s + 1) & mask;
    }
}

__device__ __forceinline__ ibmb_i64 ibmb_ppr_warp_incl_scan(ibmb_i64 x, int lane) {
#pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
        ibmb_i64 y = __shfl_up_sync(IBMB_PPR_FULL, x, o);
        if (lane >= o) x += y;
    }
    return x;
}

// Index of the first lane whose inclusive prefix exceeds e (the lane owning
// edge e of the batch); incl is non-decreasing over the lanes.
__device__ __forceinline__ int ibmb_ppr_owner(ibmb_i64 incl, ibmb_i64 e) {
    int lo = 0;
#pragma unroll
    for (int step = 16; step >= 1; step >>= 1) {
        ibmb_i64 x = __shfl_sync(IBMB_PPR_FULL, incl, lo + step - 1);
        if (x <= e) lo += step;
    }
    return lo;
}

// Output key: larger is better; score bits first (positive floats order like
// their bit patterns), then the complemented node id (smaller id wins ties).
__device__ __forceinline__ ibmb_u64 ibmb_ppr_key(float score, int node) {
    return ((ibmb_u64)__float_as_uint(score) << 32) | (ibmb_u64)(~(ibmb_u32)node);
}

// Warp-distributed sorted buffer of 32*R keys, best first: entry j lives in
// lane j / R, register j % R. Empty entries are 0 (below every real key).
template <int R>
__device__ __forceinline__ void ibmb_ppr_topk_insert(ibmb_u64 (&best)[R], ibmb_u64 c, int lane) {
    int pos = 0;
#pragma unroll
    for (int q = 0; q < R; q++) pos += __popc(__ballot_sync(IBMB_PPR_FULL, best[q] > c));
    ibmb_u64 prevLast = __shfl_up_sync(IBMB_PPR_FULL, best[R - 1], 1);
#pragma unroll
    for (int q = R - 1; q >= 0; q--) {
        const int j = lane * R + q;
        const ibmb_u64 below = q > 0 ? best[q > 0 ? q - 1 : 0] : prevLast;  // old entry j-1
        if (j > pos) {
            best[q] = below;
        } else if (j == pos) {
            best[q] = c;
        }
    }
}

template <int R>
__device__ __forceinline__ ibmb_u64 ibmb_ppr_topk_get(const ibmb_u64 (&best)[R], int j) {
    // Select register j % R with masks rather than an index, so that the
    // buffer stays in registers (an indexed read would move it to local
    // memory).
    const int jr = j % R;
    ibmb_u64 x = 0;
#pragma unroll
    for (int q = 0; q < R; q++) x |= best[q] & (0ULL - (ibmb_u64)(q == jr));
    return __shfl_sync(IBMB_PPR_FULL, x, j / R);
}

// The whole computation for one warp. R > 0: top-k with k <= 32*R; R == 0:
// every positive entry into the output pool.
template <int R>
__device__ __forceinline__ void ibmb_ppr_run(
    const ibmb_i64 *__restrict__ indptr, const int *__restrict__ indices, const int *__restrict__ deg,
    const ibmb_i64 *__restrict__ setPtr, const ibmb_i64 *__restrict__ setNodes, const int *__restrict__ tasks,
    ibmb_i64 numTasks, double alpha, double eps, int *wsKeys, double *wsR, double *wsP, int *wsLists, ibmb_i64 cap,
    ibmb_i64 logCap, ibmb_i64 limit, ibmb_i64 numWarps, ibmb_u64 *ctrl, int *status, int *outCount, int *outNodes,
    float *outScores, ibmb_i64 k, ibmb_i64 *rowOff, ibmb_i64 poolCap) {
    const int lane = (int)(threadIdx.x & 31);
    const ibmb_u32 lt = (1u << lane) - 1u;  // lanes below this one
    const ibmb_i64 warp = ((ibmb_i64)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    if (warp >= numWarps) return;  // uniform per warp

    int *keys = wsKeys + warp * cap;
    double *r = wsR + warp * cap;
    double *p = wsP + warp * cap;
    const ibmb_i64 listLen = limit + 32;
    int *touched = wsLists + warp * 3 * listLen;
    int *cur = touched + listLen;
    int *nxt = cur + listLen;
    const ibmb_u32 mask = (ibmb_u32)(cap - 1);
    const int lg = (int)logCap;
    const int lim = (int)limit;
    const double scale1 = 1.0 - alpha;
    constexpr int RR = R > 0 ? R : 1;  // registers of the top-k buffer (unused when R == 0)

    for (;;) {
        // ---- take a task ------------------------------------------------
        ibmb_i64 t = 0;
        if (lane == 0) {
            if (R == 0 && __ldcg(ctrl + IBMB_PPR_STOP) != 0) {
                t = numTasks;
            } else {
                t = (ibmb_i64)atomicAdd(ctrl + IBMB_PPR_NEXT_TASK, 1ULL);
            }
        }
        t = __shfl_sync(IBMB_PPR_FULL, t, 0);
        if (t >= numTasks) return;
        const ibmb_i64 set = __ldg(tasks + t);
        ibmb_i64 lo = set, hi = set + 1;
        if (setPtr != 0) {
            lo = __ldg(setPtr + set);
            hi = __ldg(setPtr + set + 1);
        }

        // ---- teleport nodes: insert the distinct ones, uniform share -----
        int count = 0;  // occupied slots = entries of touched (uniform)
        int nCur = 0;   // frontier length (uniform)
        bool overflow = false;
        for (ibmb_i64 base = lo; base < hi; base += 32) {
            const ibmb_i64 i = base + lane;
            bool isNew = false;
            int slot = 0;
            if (i < hi) slot = ibmb_ppr_find_or_insert(keys, mask, lg, (int)__ldg(setNodes + i), &isNew);
            const ibmb_u32 m = __ballot_sync(IBMB_PPR_FULL, isNew);
            if (isNew) {
                const int at = count + __popc(m & lt);
                __stcg(touched + at, slot);
                __stcg(cur + at, slot);
            }
            count += __popc(m);
            if (count > lim) {
                overflow = true;
                break;
            }
        }
        nCur = count;
        __syncwarp();  // the lists were written by other lanes
        // The teleport nodes' residuals stay 0: round 0 pushes each one's
        // share directly (a push of part of a residual keeps the invariant
        // p = p^ + ppr(r)), and what they receive in round 0 waits in r like
        // any other residual. So no residual decreases during round 0, no
        // node crosses its threshold twice in a round, and every frontier
        // holds distinct nodes.
        const double share = 1.0 / (double)count;

        // ---- rounds of pushes ------------------------------------------
        ibmb_i64 pushes = 0, edges = 0;
        bool initial = true;  // the teleport nodes are pushed unconditionally
        while (!overflow) {
            if (nCur == 0) {
                // Termination check over the stored values.
                for (int base = 0; base < count; base += 32) {
                    const int i = base + lane;
                    bool want = false;
                    int slot = 0;
                    if (i < count) {
                        slot = __ldcg(touched + i);
                        const int u = __ldcg(keys + slot);
                        want = __ldcg(r + slot) >= ibmb_ppr_thr(__ldg(deg + u), eps);
                    }
                    const ibmb_u32 m = __ballot_sync(IBMB_PPR_FULL, want);
                    if (want) __stcg(cur + nCur + __popc(m & lt), slot);
                    nCur += __popc(m);
                }
                __syncwarp();
                if (nCur == 0) break;
            }
            int nNext = 0;
            for (int base = 0; base < nCur && !overflow; base += 32) {
                // Phase 1: each lane claims one frontier node.
                const int i = base + lane;
                ibmb_i64 d = 0, start = 0;
                double val = 0.0;
                bool pushing = false;
                if (i < nCur) {
                    const int slot = __ldcg(cur + i);
                    const int u = __ldcg(keys + slot);
                    const int du = __ldg(deg + u);
                    double res = 0.0;
                    if (initial) {
                        res = share;
                        pushing = true;
                    } else if (__ldcg(r + slot) >= ibmb_ppr_thr(du, eps)) {
                        // (Always true: a frontier node's residual only grows
                        // until it is pushed. Kept as a guard.)
                        res = __longlong_as_double((ibmb_i64)atomicExch((ibmb_u64 *)(r + slot), 0ULL));
                        pushing = true;
                    }
                    if (pushing) {
                        // Fire-and-forget (RED) rather than load + store: no
                        // latency, and safe even if a node were pushed twice.
                        ibmb_ppr_atomic_add(p + slot, alpha * res);
                        if (du > 0) {
                            const double vv = res * (scale1 / (double)du);
                            // vv == 0 (underflow) would change nothing: skip, as the CPU does.
                            if (vv != 0.0) {
                                d = du;
                                start = __ldg(indptr + u);
                                val = vv;
                            }
                        }
                    }
                }
                pushes += __popc(__ballot_sync(IBMB_PPR_FULL, pushing));
                // Phase 2: the lanes share the edges of the claimed nodes.
                const ibmb_i64 incl = ibmb_ppr_warp_incl_scan(d, lane);
                const ibmb_i64 excl = incl - d;
                const ibmb_i64 total = __shfl_sync(IBMB_PPR_FULL, incl, 31);
                edges += total;
                for (ibmb_i64 eb = 0; eb < total; eb += 32) {
                    const ibmb_i64 e = eb + lane;
                    const int owner = ibmb_ppr_owner(incl, e);
                    const ibmb_i64 oex = __shfl_sync(IBMB_PPR_FULL, excl, owner);
                    const ibmb_i64 ost = __shfl_sync(IBMB_PPR_FULL, start, owner);
                    const double oval = __shfl_sync(IBMB_PPR_FULL, val, owner);
                    bool isNew = false, want = false;
                    int slot = 0;
                    if (e < total) {
                        const int v = __ldg(indices + ost + (e - oex));
                        const int dv = __ldg(deg + v);  // independent of the probe: latencies overlap
                        slot = ibmb_ppr_find_or_insert(keys, mask, lg, v, &isNew);
                        const double old = ibmb_ppr_atomic_add(r + slot, oval);
                        const double th = ibmb_ppr_thr(dv, eps);
                        want = old < th && old + oval >= th;
                    }
                    const ibmb_u32 mn = __ballot_sync(IBMB_PPR_FULL, isNew);
                    if (isNew) __stcg(touched + count + __popc(mn & lt), slot);
                    count += __popc(mn);
                    const ibmb_u32 mw = __ballot_sync(IBMB_PPR_FULL, want);
                    // nNext + 32 <= listLen holds since the frontier nodes are
                    // distinct and occupy the table; checked anyway so that a
                    // broken invariant can only fail the task, never write
                    // past the list.
                    if (count > lim || nNext > lim) {  // uniform
                        overflow = true;
                        break;
                    }
                    if (want) __stcg(nxt + nNext + __popc(mw & lt), slot);
                    nNext += __popc(mw);
                }
            }
            __syncwarp();
            int *tmp = cur;
            cur = nxt;
            nxt = tmp;
            nCur = nNext;
            initial = false;
        }

        if (lane == 0) {
            atomicAdd(ctrl + IBMB_PPR_PUSHES, (ibmb_u64)pushes);
            atomicAdd(ctrl + IBMB_PPR_EDGES, (ibmb_u64)edges);
        }

        if (overflow) {
            // Give up on this task and clear the whole table (the touched
            // list may not name every claimed slot).
            for (ibmb_i64 s = lane; s < cap; s += 32) {
                __stcg(keys + s, IBMB_PPR_EMPTY);
                __stcg(r + s, 0.0);
                __stcg(p + s, 0.0);
            }
            if (lane == 0) {
                outCount[t] = 0;
                status[t] = IBMB_PPR_OVERFLOW;
            }
            __syncwarp();
            continue;
        }

        // ---- output ------------------------------------------------------
        if (R > 0) {
            ibmb_u64 best[RR];
#pragma unroll
            for (int q = 0; q < RR; q++) best[q] = 0;
            const int kk = (int)k;
            int filled = 0;
            ibmb_u64 kth = 0;  // key of entry kk-1 once filled >= kk, else 0
            for (int base = 0; base < count; base += 32) {
                const int i = base + lane;
                ibmb_u64 key = 0;
                if (i < count) {
                    const int slot = __ldcg(touched + i);
                    const float s = (float)__ldcg(p + slot);
                    if (s > 0.0f) key = ibmb_ppr_key(s, __ldcg(keys + slot));
                }
                ibmb_u32 m = __ballot_sync(IBMB_PPR_FULL, key > kth);
                while (m != 0) {  // uniform
                    const int src = __ffs((int)m) - 1;
                    m &= m - 1;
                    const ibmb_u64 c = __shfl_sync(IBMB_PPR_FULL, key, src);
                    if (c > kth) {
                        ibmb_ppr_topk_insert<RR>(best, c, lane);
                        if (filled < 32 * RR) filled++;
                        if (filled >= kk) kth = ibmb_ppr_topk_get<RR>(best, kk - 1);
                    }
                }
            }
            const int n = filled < kk ? filled : kk;
#pragma unroll
            for (int q = 0; q < RR; q++) {
                const int j = lane * RR + q;
                if (j < n) {
                    outNodes[t * k + j] = (int)~(ibmb_u32)(best[q] & 0xffffffffULL);
                    outScores[t * k + j] = __uint_as_float((ibmb_u32)(best[q] >> 32));
                }
            }
            if (lane == 0) {
                outCount[t] = n;
                status[t] = IBMB_PPR_DONE;
            }
        } else {
            int n = 0;
            for (int base = 0; base < count; base += 32) {
                const int i = base + lane;
                bool valid = false;
                if (i < count) valid = (float)__ldcg(p + __ldcg(touched + i)) > 0.0f;
                n += __popc(__ballot_sync(IBMB_PPR_FULL, valid));
            }
            ibmb_i64 off = -1;
            if (lane == 0) {
                // Reserve n entries unless they do not fit (no over-reservation,
                // so the pool fills up completely).
                ibmb_u64 used = __ldcg(ctrl + IBMB_PPR_POOL_USED);
                for (;;) {
                    if (used + (ibmb_u64)n > (ibmb_u64)poolCap) break;
                    const ibmb_u64 prev = atomicCAS(ctrl + IBMB_PPR_POOL_USED, used, used + (ibmb_u64)n);
                    if (prev == used) {
                        off = (ibmb_i64)used;
                        break;
                    }
                    used = prev;
                }
                if (off < 0) atomicExch(ctrl + IBMB_PPR_STOP, 1ULL);
            }
            off = __shfl_sync(IBMB_PPR_FULL, off, 0);
            if (off >= 0) {
                int at = 0;
                for (int base = 0; base < count; base += 32) {
                    const int i = base + lane;
                    bool valid = false;
                    int slot = 0;
                    float s = 0.0f;
                    if (i < count) {
                        slot = __ldcg(touched + i);
                        s = (float)__ldcg(p + slot);
                        valid = s > 0.0f;
                    }
                    const ibmb_u32 m = __ballot_sync(IBMB_PPR_FULL, valid);
                    if (valid) {
                        const ibmb_i64 o = off + at + __popc(m & lt);
                        outNodes[o] = __ldcg(keys + slot);
                        outScores[o] = s;
                    }
                    at += __popc(m);
                }
            }
            if (lane == 0) {
                rowOff[t] = off < 0 ? 0 : off;
                outCount[t] = off < 0 ? 0 : n;
                status[t] = off < 0 ? IBMB_PPR_DEFERRED : IBMB_PPR_DONE;
            }
        }

        // ---- reset the touched slots for the next task ---------------------
        __syncwarp();
        for (int i = lane; i < count; i += 32) {
            const int slot = __ldcg(touched + i);
            __stcg(keys + slot, IBMB_PPR_EMPTY);
            __stcg(r + slot, 0.0);
            __stcg(p + slot, 0.0);
        }
        __syncwarp();
    }
}

#define IBMB_PPR_PARAMS                                                                                           \
    const ibmb_i64 *__restrict__ indptr, const int *__restrict__ indices, const int *__restrict__ deg,            \
        const ibmb_i64 *__restrict__ setPtr, const ibmb_i64 *__restrict__ setNodes,                               \
        const int *__restrict__ tasks, ibmb_i64 numTasks, double alpha, double eps, int *wsKeys, double *wsR,     \
        double *wsP, int *wsLists, ibmb_i64 cap, ibmb_i64 logCap, ibmb_i64 limit, ibmb_i64 numWarps,              \
        ibmb_u64 *ctrl, int *status, int *outCount, int *outNodes, float *outScores, ibmb_i64 k, ibmb_i64 *rowOff, \
        ibmb_i64 poolCap
#define IBMB_PPR_ARGS                                                                                            \
    indptr, indices, deg, setPtr, setNodes, tasks, numTasks, alpha, eps, wsKeys, wsR, wsP, wsLists, cap, logCap, \
        limit, numWarps, ctrl, status, outCount, outNodes, outScores, k, rowOff, poolCap

// Top-k rows, k <= 32.
extern "C" __global__ void __launch_bounds__(IBMB_PPR_BLOCK, 8) ibmb_ppr_topk_1(IBMB_PPR_PARAMS) {
    ibmb_ppr_run<1>(IBMB_PPR_ARGS);
}

// Top-k rows, k <= 64.
extern "C" __global__ void __launch_bounds__(IBMB_PPR_BLOCK, 8) ibmb_ppr_topk_2(IBMB_PPR_PARAMS) {
    ibmb_ppr_run<2>(IBMB_PPR_ARGS);
}

// Top-k rows, k <= 128.
extern "C" __global__ void __launch_bounds__(IBMB_PPR_BLOCK, 8) ibmb_ppr_topk_4(IBMB_PPR_PARAMS) {
    ibmb_ppr_run<4>(IBMB_PPR_ARGS);
}

// Every positive entry, into the output pool.
extern "C" __global__ void __launch_bounds__(IBMB_PPR_BLOCK, 8) ibmb_ppr_all(IBMB_PPR_PARAMS) {
    ibmb_ppr_run<0>(IBMB_PPR_ARGS);
}
