// fakecuda.cpp - a fake libcuda.so.1 for the tests of kernels/cuda.
//
// It exports the driver API entry points the shim resolves (same names,
// same ABI) and implements them on the CPU: "device memory" is host memory,
// streams are no-ops and the kernels of cuda/gather.cu and cuda/ppr.cu
// (compiled into this library as C++ with cuda_emu.h) run on the calling
// thread.  The tests load it with IBMB_LIBCUDA=<path> in a child process,
// which lets the whole Go host path (argument packing, launch geometry,
// context handling, error paths, kernel cache, module loading, result
// assembly) and the kernels' logic run without a GPU.
//
// Gather kernels run thread after thread.  PPR kernels are warp-synchronous
// (shuffles, ballots, __syncwarp), so every CUDA thread of up to
// kResidentThreads threads' worth of blocks runs as a coroutine ("fiber"):
// a collective waits until all 32 lanes of the warp arrived, and lanes are
// preempted at random at atomics and __ldcg loads (see cuda_emu.h).
//
// It also checks what a real driver would reject or what would be a bug on
// a GPU: no current context on the calling thread, bad launch geometry,
// misaligned vector access, reads outside an allocation, kernel arguments
// that do not fit their buffers, modules that are neither PTX nor CUBIN or
// lack the kernels, divergent or partial warp collectives, deadlocks.
//
// Environment:
//   IBMB_FAKE_CC=<major*10+minor>   compute capability to report (default 90)
//   IBMB_FAKE_NODEV=1               cuInit fails with CUDA_ERROR_NO_DEVICE
//   IBMB_FAKE_REJECT_CUBIN=1        CUBIN modules fail with NO_BINARY_FOR_GPU
//   IBMB_FAKE_SEED=<n>              seed of the preemption schedule (default 1)
//   IBMB_FAKE_PREEMPT=<n>           preempt at about 1 in n preemption points
//                                   (default 4; 0 = only at collectives)
//   IBMB_FAKE_MEM_MB=<n>            device memory to report (default 1024)
//   IBMB_FAKE_LOG=<path>            append one line per allocation, free,
//                                   kernel launch, asynchronous copy and
//                                   stream/event call to <path>, naming the
//                                   stream (tests check ordering and leaks)
//
// Streams and events exist as handles (created, checked, destroyed, logged)
// but work queued on a stream runs at once, in call order: an event is
// complete as soon as it is recorded.
//
// Build: g++ -std=c++17 -shared -fPIC -Wl,-Bsymbolic -U_FORTIFY_SOURCE -I<dir with the .cu files> fakecuda.cpp
// (-Bsymbolic: the kernels' extern "C" names, e.g. ibmb_gather_check, also
// name CPU functions of csrc/ that a test binary exports; without it the
// library's calls would bind to those.)

// The fibers switch stacks with _setjmp/_longjmp, which the fortified
// longjmp would take for stack smashing.
#ifdef _FORTIFY_SOURCE
#undef _FORTIFY_SOURCE
#endif

#include "cuda_emu.h"

#include <algorithm>
#include <mutex>
#include <set>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>
#include <vector>

#include "gather.cu"
#include "ppr.cu"

typedef int CUresult;
enum {
    OK = 0,
    INVALID_VALUE = 1,
    OUT_OF_MEMORY = 2,
    NOT_INITIALIZED = 3,
    NO_DEVICE = 100,
    INVALID_DEVICE = 101,
    INVALID_IMAGE = 200,
    INVALID_CONTEXT = 201,
    NO_BINARY_FOR_GPU = 209,
    INVALID_PTX = 218,
    NOT_FOUND = 500,
    INVALID_HANDLE = 400,
};

namespace {

std::mutex mu;  // serializes everything; the Go tests are sequential anyway
bool initialized = false;
int primary_refs = 0;
char primary_ctx_storage;
void *const primary_ctx = &primary_ctx_storage;
thread_local void *current_ctx = nullptr;

struct Alloc {
    uintptr_t p;
    size_t n;
};
std::vector<Alloc> allocs;
size_t allocated = 0;

// Live streams and events (handles are heap addresses).
std::set<void *> streams;
struct Event {
    bool recorded = false;
    void *stream = nullptr;
};
std::set<Event *> events;

FILE *log_file() {
    static FILE *f = nullptr;
    static bool opened = false;
    if (!opened) {
        opened = true;
        const char *p = getenv("IBMB_FAKE_LOG");
        if (p && *p) f = fopen(p, "a");
    }
    return f;
}

__attribute__((format(printf, 1, 2))) void flog(const char *fmt, ...) {
    FILE *f = log_file();
    if (!f) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
    fflush(f);
}

// A stream handle a call may use: the legacy (0 or 1) or per-thread (2)
// default stream, or one made by cuStreamCreate and not yet destroyed.
bool valid_stream(void *s) { return (uintptr_t)s <= 2 || streams.count(s) > 0; }

int env_int(const char *name, int def) {
    const char *v = getenv(name);
    return (v && *v) ? atoi(v) : def;
}

size_t total_mem() { return (size_t)env_int("IBMB_FAKE_MEM_MB", 1024) << 20; }

bool have_ctx() { return current_ctx == primary_ctx; }

// ---- kernels ----------------------------------------------------------------

enum { MOD_GATHER = 0, MOD_PPR = 1, NMODULES = 2 };
const char *const module_names[NMODULES] = {"gather", "ppr"};

struct Kernel {
    const char *name;
    int module;
    int nparams;
    bool fibers;  // warp-synchronous: run every thread as a fiber
    void (*run)(void **params);
};

#define P(i, T) (*(T *)params[i])

void check_aligned(const void *p, size_t w, const char *what) {
    if ((uintptr_t)p % w != 0) {
        fprintf(stderr, "fakecuda: %s %p not %zu-byte aligned\n", what, p, w);
        abort();
    }
}

void check_range(const void *p, size_t n, const char *what) {
    if (n > 0 && !ibmb_emu_in_alloc(p, n)) {
        fprintf(stderr, "fakecuda: %s [%p, +%zu) is not inside one allocation\n", what, p, n);
        abort();
    }
}

// The row kernels ibmb_gather_<W> and ibmb_scatter_<W> (SCATTER): dst, src,
// idx, n, the table's rows, rowElems, groupShift.  The packed side holds n
// rows, the table (src of a gather, dst of a scatter) tableRows rows.
template <typename T, bool SCATTER,
          void (*K)(T *, const T *, const long long *, long long, long long, long long, long long)>
void run_rows(void **params) {
    const char *what = SCATTER ? "scatter" : "gather";
    T *dst = P(0, T *);
    const T *src = P(1, const T *);
    const long long *idx = P(2, const long long *);
    long long n = P(3, long long), tableRows = P(4, long long), rowElems = P(5, long long),
              shift = P(6, long long);
    if (shift < 0 || shift > 5 || (blockDim.x % (1u << shift)) != 0) {
        fprintf(stderr, "fakecuda: bad groupShift %lld for block %u\n", shift, blockDim.x);
        abort();
    }
    check_aligned(dst, sizeof(T), what);
    check_aligned(src, sizeof(T), what);
    const void *packed = SCATTER ? (const void *)src : (const void *)dst;
    const void *table = SCATTER ? (const void *)dst : (const void *)src;
    check_range(packed, (size_t)(n * rowElems) * sizeof(T), SCATTER ? "scatter src" : "gather dst");
    check_range(table, (size_t)(tableRows * rowElems) * sizeof(T), SCATTER ? "scatter dst" : "gather src");
    check_range(idx, (size_t)n * 8, SCATTER ? "scatter idx" : "gather idx");
    // The host promises in-range ids (the check kernels ran): checked once
    // per launch, by its first thread.
    bool first = threadIdx.x == 0 && threadIdx.y == 0 && threadIdx.z == 0 && blockIdx.x == 0 &&
                 blockIdx.y == 0 && blockIdx.z == 0;
    for (long long i = 0; first && i < n; i++) {
        if (idx[i] < 0 || idx[i] >= tableRows) {
            fprintf(stderr, "fakecuda: %s launched with idx[%lld] = %lld outside [0, %lld)\n", what, i, idx[i],
                    tableRows);
            abort();
        }
    }
    K(dst, src, idx, n, tableRows, rowElems, shift);
}

void run_check(void **params) {
    const long long *idx = P(0, const long long *);
    long long n = P(1, long long);
    unsigned long long *firstBad = P(3, unsigned long long *);
    check_range(idx, (size_t)n * 8, "check idx");
    check_range(firstBad, 8, "check firstBad");
    ibmb_gather_check(idx, n, P(2, long long), firstBad);
}

void run_scatter_mark(void **params) {
    const long long *idx = P(0, const long long *);
    long long n = P(1, long long), nrows = P(2, long long);
    size_t words = (size_t)((nrows > 0 ? nrows : 0) + 31) / 32;
    check_range(idx, (size_t)n * 8, "scatter_mark idx");
    check_range(P(3, unsigned *), words * 4, "scatter_mark seen");
    check_range(P(4, unsigned *), words * 4, "scatter_mark dup");
    ibmb_scatter_mark(idx, n, nrows, P(3, unsigned *), P(4, unsigned *));
}

void run_scatter_find(void **params) {
    const long long *idx = P(0, const long long *);
    long long n = P(1, long long), nrows = P(2, long long);
    size_t words = (size_t)((nrows > 0 ? nrows : 0) + 31) / 32;
    check_range(idx, (size_t)n * 8, "scatter_find idx");
    check_range(P(3, const unsigned *), words * 4, "scatter_find dup");
    check_range(P(4, unsigned long long *), 8, "scatter_find firstBad");
    ibmb_scatter_find(idx, n, nrows, P(3, const unsigned *), P(4, unsigned long long *));
}

typedef void (*PPRKernel)(IBMB_PPR_PARAMS);

void ppr_fail(const char *msg) {
    fprintf(stderr, "fakecuda: ppr kernel: %s\n", msg);
    abort();
}

// Checks the host contract of ppr.cu (its header comment) and that every
// buffer argument is large enough, then runs the kernel body of one thread.
template <PPRKernel K, int R>
void run_ppr(void **params) {
    const long long *indptr = P(0, const long long *);
    const int *indices = P(1, const int *);
    const int *deg = P(2, const int *);
    const long long *setPtr = P(3, const long long *), *setNodes = P(4, const long long *);
    const int *tasks = P(5, const int *);
    long long numTasks = P(6, long long);
    double alpha = P(7, double), eps = P(8, double);
    int *wsKeys = P(9, int *);
    double *wsR = P(10, double *), *wsP = P(11, double *);
    int *wsLists = P(12, int *);
    long long cap = P(13, long long), logCap = P(14, long long), limit = P(15, long long),
              numWarps = P(16, long long);
    unsigned long long *ctrl = P(17, unsigned long long *);
    int *status = P(18, int *), *outCount = P(19, int *), *outNodes = P(20, int *);
    float *outScores = P(21, float *);
    long long k = P(22, long long);
    long long *rowOff = P(23, long long *);
    long long poolCap = P(24, long long);

    if (threadIdx.x == 0 && blockIdx.x == 0) {  // once per launch
        if (blockDim.x != IBMB_PPR_BLOCK || blockDim.y != 1 || blockDim.z != 1 || gridDim.y != 1 || gridDim.z != 1)
            ppr_fail("launch geometry is not (grid, 1, 1) x (IBMB_PPR_BLOCK, 1, 1)");
        if ((long long)gridDim.x * blockDim.x < numWarps * 32) ppr_fail("grid has fewer warps than numWarps");
        if (numTasks < 1 || numWarps < 1) ppr_fail("numTasks or numWarps < 1");
        if (!(alpha > 0 && alpha < 1) || !(eps > 0)) ppr_fail("alpha or eps out of range");
        if (cap < 256 || (cap & (cap - 1)) != 0 || (1LL << logCap) != cap) ppr_fail("cap is not 2^logCap >= 256");
        if (limit != cap / 4 * 3 || limit + 32 >= cap) ppr_fail("limit != 3*cap/4");
        check_range(wsKeys, (size_t)(numWarps * cap) * 4, "ppr wsKeys");
        check_range(wsR, (size_t)(numWarps * cap) * 8, "ppr wsR");
        check_range(wsP, (size_t)(numWarps * cap) * 8, "ppr wsP");
        check_range(wsLists, (size_t)(numWarps * 3 * (limit + 32)) * 4, "ppr wsLists");
        check_range(ctrl, IBMB_PPR_CTRL_WORDS * 8, "ppr ctrl");
        check_range(tasks, (size_t)numTasks * 4, "ppr tasks");
        check_range(status, (size_t)numTasks * 4, "ppr status");
        check_range(outCount, (size_t)numTasks * 4, "ppr outCount");
        check_range(indptr, 8, "ppr indptr");
        check_range(deg, 4, "ppr deg");
        check_range(setNodes, 8, "ppr setNodes");
        (void)indices, (void)setPtr;
        if (R > 0) {
            if (k < 1 || k > 32 * R) ppr_fail("k outside [1, 32*R]");
            check_range(outNodes, (size_t)(numTasks * k) * 4, "ppr outNodes");
            check_range(outScores, (size_t)(numTasks * k) * 4, "ppr outScores");
        } else {
            if (poolCap < limit + 32) ppr_fail("poolCap < limit + 32");
            check_range(outNodes, (size_t)poolCap * 4, "ppr pool nodes");
            check_range(outScores, (size_t)poolCap * 4, "ppr pool scores");
            check_range(rowOff, (size_t)numTasks * 8, "ppr rowOff");
        }
    }
    K(indptr, indices, deg, setPtr, setNodes, tasks, numTasks, alpha, eps, wsKeys, wsR, wsP, wsLists, cap, logCap,
      limit, numWarps, ctrl, status, outCount, outNodes, outScores, k, rowOff, poolCap);
}

const Kernel kernels[] = {
    {"ibmb_gather_check", MOD_GATHER, 4, false, run_check},
    {"ibmb_gather_16", MOD_GATHER, 7, false, run_rows<uint4, false, ibmb_gather_16>},
    {"ibmb_gather_8", MOD_GATHER, 7, false, run_rows<uint2, false, ibmb_gather_8>},
    {"ibmb_gather_4", MOD_GATHER, 7, false, run_rows<unsigned int, false, ibmb_gather_4>},
    {"ibmb_gather_1", MOD_GATHER, 7, false, run_rows<unsigned char, false, ibmb_gather_1>},
    {"ibmb_scatter_mark", MOD_GATHER, 5, false, run_scatter_mark},
    {"ibmb_scatter_find", MOD_GATHER, 5, false, run_scatter_find},
    {"ibmb_scatter_16", MOD_GATHER, 7, false, run_rows<uint4, true, ibmb_scatter_16>},
    {"ibmb_scatter_8", MOD_GATHER, 7, false, run_rows<uint2, true, ibmb_scatter_8>},
    {"ibmb_scatter_4", MOD_GATHER, 7, false, run_rows<unsigned int, true, ibmb_scatter_4>},
    {"ibmb_scatter_1", MOD_GATHER, 7, false, run_rows<unsigned char, true, ibmb_scatter_1>},
    {"ibmb_ppr_topk_1", MOD_PPR, 25, true, run_ppr<ibmb_ppr_topk_1, 1>},
    {"ibmb_ppr_topk_2", MOD_PPR, 25, true, run_ppr<ibmb_ppr_topk_2, 2>},
    {"ibmb_ppr_topk_4", MOD_PPR, 25, true, run_ppr<ibmb_ppr_topk_4, 4>},
    {"ibmb_ppr_all", MOD_PPR, 25, true, run_ppr<ibmb_ppr_all, 0>},
};
const int nkernels = sizeof kernels / sizeof kernels[0];

struct Module {
    int which;
    bool cubin;
};
Module modules[NMODULES][2] = {{{MOD_GATHER, false}, {MOD_GATHER, true}}, {{MOD_PPR, false}, {MOD_PPR, true}}};

const Module *as_module(void *mod) {
    for (auto &pair : modules)
        for (Module &m : pair)
            if (mod == &m) return &m;
    return nullptr;
}

// ---- fibers -------------------------------------------------------------------

// Threads of at most this many threads' worth of blocks are resident at once
// (about one SM); further blocks start when all resident ones finished.
const unsigned kResidentThreads = 1024;
const size_t kStackBytes = 256 << 10;

struct Fiber {
    jmp_buf jb;
    ucontext_t uc;
    char *stack;
    bool started;
    bool busy;     // runs a CUDA thread that has not finished
    bool waiting;  // blocked in a collective of generation wait_gen
    unsigned wait_gen;
    int warp;
    unsigned lane;
    ibmb_emu_dim3 tid, bid;
};

struct Warp {
    unsigned gen, arrived, live, size;
    int op;
    uint64_t vals[2][32];
};

std::vector<Fiber *> fiber_pool;
std::vector<Warp> warps;
Fiber *cur_fiber = nullptr;
jmp_buf sched_jb;
const Kernel *cur_kernel = nullptr;
void **cur_params = nullptr;
bool fiber_mode = false;
unsigned preempt_every = 4;
uint64_t rng_state = 1;

uint64_t rng_next() {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

void fiber_yield() {
    Fiber *f = cur_fiber;
    if (_setjmp(f->jb) == 0) _longjmp(sched_jb, 1);
}

// Body of every fiber: run the assigned thread, report it finished, wait for
// the next assignment.
void fiber_entry() {
    for (;;) {
        cur_kernel->run(cur_params);
        Fiber *f = cur_fiber;
        f->busy = false;
        warps[f->warp].live--;
        fiber_yield();
    }
}

Fiber *new_fiber() {
    long page = sysconf(_SC_PAGESIZE);
    void *mem = mmap(nullptr, kStackBytes + (size_t)page, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) {
        fprintf(stderr, "fakecuda: cannot map a fiber stack\n");
        abort();
    }
    mprotect(mem, (size_t)page, PROT_NONE);  // guard page: a stack overflow faults
    Fiber *f = new Fiber();
    f->stack = (char *)mem + page;
    if (getcontext(&f->uc) != 0) abort();
    f->uc.uc_stack.ss_sp = f->stack;
    f->uc.uc_stack.ss_size = kStackBytes;
    f->uc.uc_link = nullptr;
    makecontext(&f->uc, fiber_entry, 0);
    return f;
}

void switch_to(Fiber *f) {
    cur_fiber = f;
    threadIdx = f->tid;
    blockIdx = f->bid;
    if (_setjmp(sched_jb) == 0) {
        if (!f->started) {
            f->started = true;
            setcontext(&f->uc);
            abort();  // setcontext does not return
        }
        _longjmp(f->jb, 1);
    }
}

void report_deadlock(unsigned nwarps) {
    fprintf(stderr, "fakecuda: deadlock in kernel %s: every unfinished thread waits in a warp collective\n",
            cur_kernel->name);
    for (unsigned w = 0; w < nwarps; w++) {
        const Warp &wp = warps[w];
        if (wp.arrived > 0)
            fprintf(stderr, "  warp %u: %u of %u lanes wait in collective op %d, %u lanes still running\n", w,
                    wp.arrived, wp.size, wp.op, wp.live);
    }
    abort();
}

void run_fibers(const Kernel *k, void **params, unsigned gx, unsigned gy, unsigned gz, unsigned tpb) {
    const unsigned wpb = (tpb + 31) / 32;
    const unsigned resident = tpb >= kResidentThreads ? 1 : kResidentThreads / tpb;
    const unsigned long long nblocks = (unsigned long long)gx * gy * gz;
    cur_kernel = k;
    cur_params = params;
    fiber_mode = true;
    for (unsigned long long b0 = 0; b0 < nblocks; b0 += resident) {
        const unsigned nb = (unsigned)(nblocks - b0 < resident ? nblocks - b0 : resident);
        const unsigned nthreads = nb * tpb;
        while (fiber_pool.size() < nthreads) fiber_pool.push_back(new_fiber());
        warps.assign((size_t)nb * wpb, Warp{});
        for (unsigned lb = 0; lb < nb; lb++) {
            const unsigned long long b = b0 + lb;
            const ibmb_emu_dim3 bid = {(unsigned)(b % gx), (unsigned)(b / gx % gy), (unsigned)(b / gx / gy)};
            for (unsigned i = 0; i < tpb; i++) {
                Fiber *f = fiber_pool[lb * tpb + i];
                f->tid = {i % blockDim.x, i / blockDim.x % blockDim.y, i / blockDim.x / blockDim.y};
                f->bid = bid;
                f->warp = (int)(lb * wpb + i / 32);
                f->lane = i % 32;
                f->busy = true;
                f->waiting = false;
                warps[f->warp].live++;
                warps[f->warp].size++;
            }
        }
        for (;;) {
            bool busy = false, progress = false;
            for (unsigned i = 0; i < nthreads; i++) {
                Fiber *f = fiber_pool[i];
                if (!f->busy) continue;
                busy = true;
                if (f->waiting && warps[f->warp].gen == f->wait_gen) continue;
                switch_to(f);
                progress = true;
            }
            if (!busy) break;
            if (!progress) report_deadlock(nb * wpb);
        }
    }
    fiber_mode = false;
    cur_fiber = nullptr;
}

void run_sequential(const Kernel *k, void **params, unsigned gx, unsigned gy, unsigned gz) {
    for (unsigned z = 0; z < gz; z++)
        for (unsigned y = 0; y < gy; y++)
            for (unsigned x = 0; x < gx; x++) {
                blockIdx = {x, y, z};
                for (unsigned tz = 0; tz < blockDim.z; tz++)
                    for (unsigned ty = 0; ty < blockDim.y; ty++)
                        for (unsigned tx = 0; tx < blockDim.x; tx++) {
                            threadIdx = {tx, ty, tz};
                            k->run(params);
                        }
            }
}

const char *error_name(CUresult r) {
    switch (r) {
    case OK: return "CUDA_SUCCESS";
    case INVALID_VALUE: return "CUDA_ERROR_INVALID_VALUE";
    case OUT_OF_MEMORY: return "CUDA_ERROR_OUT_OF_MEMORY";
    case NOT_INITIALIZED: return "CUDA_ERROR_NOT_INITIALIZED";
    case NO_DEVICE: return "CUDA_ERROR_NO_DEVICE";
    case INVALID_DEVICE: return "CUDA_ERROR_INVALID_DEVICE";
    case INVALID_IMAGE: return "CUDA_ERROR_INVALID_IMAGE";
    case INVALID_CONTEXT: return "CUDA_ERROR_INVALID_CONTEXT";
    case NO_BINARY_FOR_GPU: return "CUDA_ERROR_NO_BINARY_FOR_GPU";
    case INVALID_PTX: return "CUDA_ERROR_INVALID_PTX";
    case INVALID_HANDLE: return "CUDA_ERROR_INVALID_HANDLE";
    case NOT_FOUND: return "CUDA_ERROR_NOT_FOUND";
    default: return nullptr;
    }
}

// Size of an ELF64 image: the end of its last section or header table.
size_t elf_size(const unsigned char *img) {
    auto u16 = [&](size_t o) { uint16_t v; memcpy(&v, img + o, 2); return (size_t)v; };
    auto u32 = [&](size_t o) { uint32_t v; memcpy(&v, img + o, 4); return (size_t)v; };
    auto u64 = [&](size_t o) { uint64_t v; memcpy(&v, img + o, 8); return (size_t)v; };
    if (img[4] != 2) return 0;  // not ELFCLASS64
    size_t phoff = u64(0x20), shoff = u64(0x28), phentsize = u16(0x36), phnum = u16(0x38),
           shentsize = u16(0x3a), shnum = u16(0x3c);
    size_t end = 64;
    if (phoff + phnum * phentsize > end) end = phoff + phnum * phentsize;
    if (shoff + shnum * shentsize > end) end = shoff + shnum * shentsize;
    for (size_t i = 0; i < shnum; i++) {
        size_t h = shoff + i * shentsize;
        if (u32(h + 4) == 8) continue;  // SHT_NOBITS
        if (u64(h + 0x18) + u64(h + 0x20) > end) end = u64(h + 0x18) + u64(h + 0x20);
    }
    return end;
}

// Does the image (PTX text or CUBIN) define every kernel of module m?
bool image_has_module(const char *img, bool cubin, size_t size, int m) {
    for (int i = 0; i < nkernels; i++) {
        if (kernels[i].module != m) continue;
        if (cubin) {
            if (memmem(img, size, kernels[i].name, strlen(kernels[i].name) + 1) == nullptr) return false;
        } else {
            char entry[128];
            snprintf(entry, sizeof entry, ".entry %s(", kernels[i].name);
            if (strstr(img, entry) == nullptr) return false;
        }
    }
    return true;
}

}  // namespace

static bool ibmb_emu_in_alloc(const void *p, size_t n) {
    uintptr_t a = (uintptr_t)p;
    for (const Alloc &al : allocs) {
        if (a >= al.p && a + n <= al.p + al.n) return true;
    }
    return false;
}

static void ibmb_emu_preempt(void) {
    if (!fiber_mode || preempt_every == 0) return;
    if (rng_next() % preempt_every == 0) fiber_yield();
}

static unsigned ibmb_emu_lane(void) { return cur_fiber->lane; }

static const uint64_t *ibmb_emu_warp_exchange(int op, unsigned mask, uint64_t v) {
    if (!fiber_mode) {
        fprintf(stderr, "fakecuda: warp collective in kernel %s, which the fake driver runs sequentially\n",
                cur_kernel ? cur_kernel->name : "?");
        abort();
    }
    Fiber *f = cur_fiber;
    Warp &w = warps[f->warp];
    if (mask != 0xffffffffu || w.size != 32) {
        fprintf(stderr, "fakecuda: %s: collective op %d with mask %#x in a warp of %u threads: only full warps are emulated\n",
                cur_kernel->name, op, mask, w.size);
        abort();
    }
    if (w.live != 32) {
        fprintf(stderr, "fakecuda: %s: collective op %d after %u lanes of the warp exited\n", cur_kernel->name, op,
                32 - w.live);
        abort();
    }
    if (w.arrived == 0) {
        w.op = op;
    } else if (w.op != op) {
        fprintf(stderr, "fakecuda: %s: lanes of a warp reached different collectives (ops %d and %d): divergence\n",
                cur_kernel->name, w.op, op);
        abort();
    }
    const unsigned g = w.gen;
    uint64_t *buf = w.vals[g & 1];
    buf[f->lane] = v;
    if (++w.arrived == 32) {
        w.arrived = 0;
        w.gen++;
    } else {
        f->waiting = true;
        f->wait_gen = g;
        fiber_yield();  // resumed once the last lane arrived
        f->waiting = false;
    }
    return buf;
}

#define NEED_INIT() \
    if (!initialized) return NOT_INITIALIZED
#define NEED_CTX()                   \
    NEED_INIT();                     \
    if (!have_ctx()) return INVALID_CONTEXT

extern "C" {

CUresult cuInit(unsigned int flags) {
    std::lock_guard<std::mutex> g(mu);
    if (flags != 0) return INVALID_VALUE;
    if (env_int("IBMB_FAKE_NODEV", 0)) return NO_DEVICE;
    initialized = true;
    rng_state = (uint64_t)env_int("IBMB_FAKE_SEED", 1) * 0x9E3779B97F4A7C15ull + 1;
    preempt_every = (unsigned)env_int("IBMB_FAKE_PREEMPT", 4);
    return OK;
}

CUresult cuDriverGetVersion(int *v) {
    *v = 12090;
    return OK;
}

CUresult cuGetErrorName(CUresult r, const char **s) {
    *s = error_name(r);
    return *s ? OK : INVALID_VALUE;
}

CUresult cuGetErrorString(CUresult r, const char **s) {
    const char *n = error_name(r);
    *s = n ? "fake driver error" : nullptr;
    return n ? OK : INVALID_VALUE;
}

CUresult cuDeviceGetCount(int *n) {
    NEED_INIT();
    *n = 1;
    return OK;
}

CUresult cuDeviceGet(int *dev, int ordinal) {
    NEED_INIT();
    if (ordinal != 0) return INVALID_DEVICE;
    *dev = 0;
    return OK;
}

CUresult cuDeviceGetAttribute(int *v, int attr, int dev) {
    NEED_INIT();
    if (dev != 0) return INVALID_DEVICE;
    int cc = env_int("IBMB_FAKE_CC", 90);
    switch (attr) {
    case 16: *v = 4; return OK;        // multiprocessors: small grids keep emulation fast
    case 75: *v = cc / 10; return OK;  // compute capability major
    case 76: *v = cc % 10; return OK;  // compute capability minor
    default: return INVALID_VALUE;
    }
}

CUresult cuDeviceGetName(char *name, int len, int dev) {
    NEED_INIT();
    if (dev != 0) return INVALID_DEVICE;
    snprintf(name, (size_t)len, "ibmb fake CUDA device (CPU emulation)");
    return OK;
}

CUresult cuDeviceTotalMem_v2(size_t *bytes, int dev) {
    NEED_INIT();
    if (dev != 0) return INVALID_DEVICE;
    *bytes = total_mem();
    return OK;
}

CUresult cuDevicePrimaryCtxRetain(void **ctx, int dev) {
    std::lock_guard<std::mutex> g(mu);
    NEED_INIT();
    if (dev != 0) return INVALID_DEVICE;
    primary_refs++;
    *ctx = primary_ctx;
    return OK;
}

CUresult cuDevicePrimaryCtxRelease_v2(int dev) {
    std::lock_guard<std::mutex> g(mu);
    NEED_INIT();
    if (dev != 0 || primary_refs == 0) return INVALID_VALUE;
    primary_refs--;
    return OK;
}

CUresult cuCtxSetCurrent(void *ctx) {
    NEED_INIT();
    if (ctx != nullptr && ctx != primary_ctx) return INVALID_CONTEXT;
    current_ctx = ctx;
    return OK;
}

CUresult cuCtxGetCurrent(void **ctx) {
    NEED_INIT();
    *ctx = current_ctx;
    return OK;
}

CUresult cuCtxSynchronize(void) {
    NEED_CTX();
    return OK;
}

CUresult cuModuleLoadDataEx(void **mod, const void *image, unsigned int nopts, int *opts, void **vals) {
    std::lock_guard<std::mutex> g(mu);
    NEED_CTX();
    (void)nopts, (void)opts, (void)vals;
    const char *img = (const char *)image;
    bool cubin = memcmp(img, "\x7f" "ELF", 4) == 0;
    size_t size = 0;
    if (cubin) {
        if (env_int("IBMB_FAKE_REJECT_CUBIN", 0)) return NO_BINARY_FOR_GPU;
        if ((size = elf_size((const unsigned char *)img)) == 0) return INVALID_IMAGE;
    } else if (strstr(img, ".version") == nullptr || strstr(img, ".target") == nullptr) {
        return INVALID_PTX;
    }
    for (int m = 0; m < NMODULES; m++) {
        if (image_has_module(img, cubin, size, m)) {
            *mod = &modules[m][cubin ? 1 : 0];
            return OK;
        }
    }
    return cubin ? INVALID_IMAGE : INVALID_PTX;
}

CUresult cuModuleUnload(void *mod) {
    NEED_CTX();
    return as_module(mod) ? OK : INVALID_HANDLE;
}

CUresult cuModuleGetFunction(void **fn, void *mod, const char *name) {
    NEED_CTX();
    const Module *m = as_module(mod);
    if (m == nullptr) return INVALID_HANDLE;
    for (int i = 0; i < nkernels; i++) {
        if (kernels[i].module == m->which && strcmp(kernels[i].name, name) == 0) {
            *fn = (void *)&kernels[i];
            return OK;
        }
    }
    return NOT_FOUND;
}

CUresult cuLaunchKernel(void *fn, unsigned int gx, unsigned int gy, unsigned int gz, unsigned int bx,
                        unsigned int by, unsigned int bz, unsigned int shmem, void *stream, void **params,
                        void **extra) {
    std::lock_guard<std::mutex> g(mu);
    NEED_CTX();
    const Kernel *k = (const Kernel *)fn;
    if (k < kernels || k >= kernels + nkernels) return INVALID_HANDLE;
    if (!valid_stream(stream)) return INVALID_HANDLE;
    flog("launch %s stream=%p", k->name, stream);
    if (gx < 1 || gy < 1 || gz < 1 || gy > 65535 || gz > 65535 || bx < 1 || by < 1 || bz < 1 ||
        (unsigned long long)bx * by * bz > 1024 || shmem != 0 || extra != nullptr || params == nullptr) {
        return INVALID_VALUE;
    }
    gridDim = {gx, gy, gz};
    blockDim = {bx, by, bz};
    if (k->fibers) {
        run_fibers(k, params, gx, gy, gz, bx * by * bz);
    } else {
        cur_kernel = k;
        run_sequential(k, params, gx, gy, gz);
    }
    return OK;
}

CUresult cuMemGetInfo_v2(size_t *free_bytes, size_t *total_bytes) {
    std::lock_guard<std::mutex> g(mu);
    NEED_CTX();
    size_t total = total_mem();
    *total_bytes = total;
    *free_bytes = allocated < total ? total - allocated : 0;
    return OK;
}

CUresult cuMemAlloc_v2(unsigned long long *p, size_t n) {
    std::lock_guard<std::mutex> g(mu);
    NEED_CTX();
    if (n == 0) return INVALID_VALUE;
    if (n > total_mem() - (allocated < total_mem() ? allocated : total_mem())) return OUT_OF_MEMORY;
    void *m = aligned_alloc(256, (n + 255) / 256 * 256);
    if (m == nullptr) return OUT_OF_MEMORY;
    allocs.push_back({(uintptr_t)m, n});
    allocated += n;
    *p = (unsigned long long)(uintptr_t)m;
    flog("alloc %p bytes=%zu", m, n);
    return OK;
}

CUresult cuMemFree_v2(unsigned long long p) {
    std::lock_guard<std::mutex> g(mu);
    NEED_CTX();
    for (size_t i = 0; i < allocs.size(); i++) {
        if (allocs[i].p == (uintptr_t)p) {
            flog("free %p", (void *)allocs[i].p);
            free((void *)allocs[i].p);
            allocated -= allocs[i].n;
            allocs.erase(allocs.begin() + (long)i);
            return OK;
        }
    }
    return INVALID_VALUE;
}

std::set<void *> host_allocs;

CUresult cuMemAllocHost_v2(void **p, size_t n) {
    std::lock_guard<std::mutex> g(mu);
    NEED_CTX();
    if (n == 0) return INVALID_VALUE;
    *p = malloc(n);
    if (!*p) return OUT_OF_MEMORY;
    host_allocs.insert(*p);
    flog("allochost %p bytes=%zu", *p, n);
    return OK;
}

CUresult cuMemFreeHost(void *p) {
    std::lock_guard<std::mutex> g(mu);
    NEED_CTX();
    if (host_allocs.erase(p) == 0) return INVALID_VALUE;
    flog("freehost %p", p);
    free(p);
    return OK;
}

static CUresult dev_range(unsigned long long p, size_t n) {
    std::lock_guard<std::mutex> g(mu);
    return ibmb_emu_in_alloc((const void *)(uintptr_t)p, n) ? OK : INVALID_VALUE;
}

#define DEV_RANGE(p, n)                       \
    do {                                      \
        CUresult r_ = dev_range((p), (n));    \
        if (r_ != OK) return r_;              \
    } while (0)

CUresult cuMemcpyHtoD_v2(unsigned long long dst, const void *src, size_t n) {
    NEED_CTX();
    DEV_RANGE(dst, n);
    memcpy((void *)(uintptr_t)dst, src, n);
    return OK;
}

CUresult cuMemcpyDtoH_v2(void *dst, unsigned long long src, size_t n) {
    NEED_CTX();
    DEV_RANGE(src, n);
    memcpy(dst, (const void *)(uintptr_t)src, n);
    return OK;
}

CUresult cuMemcpyDtoD_v2(unsigned long long dst, unsigned long long src, size_t n) {
    NEED_CTX();
    DEV_RANGE(dst, n);
    DEV_RANGE(src, n);
    memmove((void *)(uintptr_t)dst, (const void *)(uintptr_t)src, n);
    return OK;
}

static CUresult stream_ok(void *s) {
    std::lock_guard<std::mutex> g(mu);
    return valid_stream(s) ? OK : INVALID_HANDLE;
}

#define STREAM_OK(s)                          \
    do {                                      \
        CUresult r_ = stream_ok(s);           \
        if (r_ != OK) return r_;              \
    } while (0)

CUresult cuMemcpyHtoDAsync_v2(unsigned long long dst, const void *src, size_t n, void *s) {
    NEED_CTX();
    STREAM_OK(s);
    flog("htod_async dst=%p bytes=%zu stream=%p", (void *)(uintptr_t)dst, n, s);
    return cuMemcpyHtoD_v2(dst, src, n);
}

CUresult cuMemcpyDtoHAsync_v2(void *dst, unsigned long long src, size_t n, void *s) {
    NEED_CTX();
    STREAM_OK(s);
    return cuMemcpyDtoH_v2(dst, src, n);
}

CUresult cuMemcpyDtoDAsync_v2(unsigned long long dst, unsigned long long src, size_t n, void *s) {
    NEED_CTX();
    STREAM_OK(s);
    return cuMemcpyDtoD_v2(dst, src, n);
}

CUresult cuMemsetD8_v2(unsigned long long dst, unsigned char v, size_t n) {
    NEED_CTX();
    DEV_RANGE(dst, n);
    memset((void *)(uintptr_t)dst, v, n);
    return OK;
}

CUresult cuMemsetD8Async(unsigned long long dst, unsigned char v, size_t n, void *s) {
    NEED_CTX();
    STREAM_OK(s);
    return cuMemsetD8_v2(dst, v, n);
}

CUresult cuStreamSynchronize(void *s) {
    NEED_CTX();
    STREAM_OK(s);
    return OK;
}

CUresult cuStreamCreate(void **s, unsigned int flags) {
    std::lock_guard<std::mutex> g(mu);
    NEED_CTX();
    if (flags > 1) return INVALID_VALUE;  // CU_STREAM_DEFAULT or CU_STREAM_NON_BLOCKING
    *s = new char;
    streams.insert(*s);
    flog("stream_create %p flags=%u", *s, flags);
    return OK;
}

CUresult cuStreamDestroy_v2(void *s) {
    std::lock_guard<std::mutex> g(mu);
    NEED_CTX();
    if (streams.erase(s) == 0) return INVALID_HANDLE;
    flog("stream_destroy %p", s);
    delete (char *)s;
    return OK;
}

CUresult cuEventCreate(void **e, unsigned int flags) {
    std::lock_guard<std::mutex> g(mu);
    NEED_CTX();
    if (flags > 7) return INVALID_VALUE;
    Event *ev = new Event();
    events.insert(ev);
    *e = ev;
    flog("event_create %p", (void *)ev);
    return OK;
}

CUresult cuEventDestroy_v2(void *e) {
    std::lock_guard<std::mutex> g(mu);
    NEED_CTX();
    if (events.erase((Event *)e) == 0) return INVALID_HANDLE;
    flog("event_destroy %p", e);
    delete (Event *)e;
    return OK;
}

CUresult cuEventRecord(void *e, void *s) {
    std::lock_guard<std::mutex> g(mu);
    NEED_CTX();
    if (events.count((Event *)e) == 0 || !valid_stream(s)) return INVALID_HANDLE;
    ((Event *)e)->recorded = true;
    ((Event *)e)->stream = s;
    flog("event_record %p stream=%p", e, s);
    return OK;
}

CUresult cuStreamWaitEvent(void *s, void *e, unsigned int flags) {
    std::lock_guard<std::mutex> g(mu);
    NEED_CTX();
    if (flags != 0) return INVALID_VALUE;
    if (events.count((Event *)e) == 0 || !valid_stream(s)) return INVALID_HANDLE;
    flog("stream_wait_event stream=%p event=%p", s, e);
    return OK;
}

CUresult cuEventSynchronize(void *e) {
    std::lock_guard<std::mutex> g(mu);
    NEED_CTX();
    if (events.count((Event *)e) == 0) return INVALID_HANDLE;
    flog("event_sync %p", e);
    return OK;
}

CUresult cuEventQuery(void *e) {
    std::lock_guard<std::mutex> g(mu);
    NEED_CTX();
    return events.count((Event *)e) ? OK : INVALID_HANDLE;
}

}  // extern "C"
