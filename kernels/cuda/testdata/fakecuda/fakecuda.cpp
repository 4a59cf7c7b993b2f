// fakecuda.cpp - a fake libcuda.so.1 for the tests of kernels/cuda.
//
// It exports the driver API entry points the shim resolves (same names,
// same ABI) and implements them on the CPU: "device memory" is host memory,
// streams are no-ops and kernels from cuda/gather.cu (compiled into this
// library as C++ with cuda_emu.h) run thread by thread.  The tests load it
// with IBMB_LIBCUDA=<path> in a child process, which lets the whole Go host
// path of Gather (argument packing, launch geometry, context handling,
// index check, error paths, kernel cache, module loading) and the kernels'
// indexing logic run without a GPU.
//
// It also checks what a real driver would reject or what would be a bug on
// a GPU: no current context on the calling thread, bad launch geometry,
// misaligned vector access, reads outside an allocation, modules that are
// neither PTX nor CUBIN or lack the kernels.
//
// Environment:
//   IBMB_FAKE_CC=<major*10+minor>   compute capability to report (default 90)
//   IBMB_FAKE_NODEV=1               cuInit fails with CUDA_ERROR_NO_DEVICE
//   IBMB_FAKE_REJECT_CUBIN=1        CUBIN modules fail with NO_BINARY_FOR_GPU
//
// Build: g++ -std=c++17 -shared -fPIC -I<dir with gather.cu> fakecuda.cpp

#include "cuda_emu.h"

#include <mutex>
#include <pthread.h>
#include <string.h>
#include <vector>

#include "gather.cu"

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

int env_int(const char *name, int def) {
    const char *v = getenv(name);
    return (v && *v) ? atoi(v) : def;
}

bool have_ctx() { return current_ctx == primary_ctx; }

struct ModuleImage {
    bool cubin;
};
char module_storage[16];

struct Kernel {
    const char *name;
    int nparams;
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

template <typename T, void (*K)(T *, const T *, const long long *, long long, long long, long long, long long)>
void run_gather(void **params) {
    T *dst = P(0, T *);
    const T *src = P(1, const T *);
    const long long *idx = P(2, const long long *);
    long long n = P(3, long long), srcRows = P(4, long long), rowElems = P(5, long long),
              shift = P(6, long long);
    if (shift < 0 || shift > 5 || (blockDim.x % (1u << shift)) != 0) {
        fprintf(stderr, "fakecuda: bad groupShift %lld for block %u\n", shift, blockDim.x);
        abort();
    }
    check_aligned(dst, sizeof(T), "gather dst");
    check_aligned(src, sizeof(T), "gather src");
    check_range(dst, (size_t)(n * rowElems) * sizeof(T), "gather dst");
    check_range(idx, (size_t)n * 8, "gather idx");
    (void)srcRows;
    K(dst, src, idx, n, srcRows, rowElems, shift);
}

void run_check(void **params) {
    const long long *idx = P(0, const long long *);
    long long n = P(1, long long);
    unsigned long long *firstBad = P(3, unsigned long long *);
    check_range(idx, (size_t)n * 8, "check idx");
    check_range(firstBad, 8, "check firstBad");
    ibmb_gather_check(idx, n, P(2, long long), firstBad);
}

const Kernel kernels[] = {
    {"ibmb_gather_check", 4, run_check},
    {"ibmb_gather_16", 7, run_gather<uint4, ibmb_gather_16>},
    {"ibmb_gather_8", 7, run_gather<uint2, ibmb_gather_8>},
    {"ibmb_gather_4", 7, run_gather<unsigned int, ibmb_gather_4>},
    {"ibmb_gather_1", 7, run_gather<unsigned char, ibmb_gather_1>},
};
const int nkernels = sizeof kernels / sizeof kernels[0];

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

}  // namespace

static bool ibmb_emu_in_alloc(const void *p, size_t n) {
    uintptr_t a = (uintptr_t)p;
    for (const Alloc &al : allocs) {
        if (a >= al.p && a + n <= al.p + al.n) return true;
    }
    return false;
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
    *bytes = (size_t)1 << 30;
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
    if (cubin) {
        if (env_int("IBMB_FAKE_REJECT_CUBIN", 0)) return NO_BINARY_FOR_GPU;
        // The ELF's string table holds the kernel names: a cheap sanity check.
        // (We do not know the image size; the names sit well inside 64 KiB.)
    } else {
        if (strstr(img, ".version") == nullptr || strstr(img, ".target") == nullptr) return INVALID_PTX;
        for (int i = 0; i < nkernels; i++) {
            char entry[128];
            snprintf(entry, sizeof entry, ".entry %s(", kernels[i].name);
            if (strstr(img, entry) == nullptr) return INVALID_PTX;
        }
    }
    *mod = module_storage + (cubin ? 1 : 0);
    return OK;
}

CUresult cuModuleUnload(void *mod) {
    NEED_CTX();
    return (mod == module_storage || mod == module_storage + 1) ? OK : INVALID_HANDLE;
}

CUresult cuModuleGetFunction(void **fn, void *mod, const char *name) {
    NEED_CTX();
    if (mod != module_storage && mod != module_storage + 1) return INVALID_HANDLE;
    for (int i = 0; i < nkernels; i++) {
        if (strcmp(kernels[i].name, name) == 0) {
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
    (void)stream;
    const Kernel *k = (const Kernel *)fn;
    if (k < kernels || k >= kernels + nkernels) return INVALID_HANDLE;
    if (gx < 1 || gy < 1 || gz < 1 || gy > 65535 || gz > 65535 || bx < 1 || by < 1 || bz < 1 ||
        (unsigned long long)bx * by * bz > 1024 || shmem != 0 || extra != nullptr || params == nullptr) {
        return INVALID_VALUE;
    }
    gridDim = {gx, gy, gz};
    blockDim = {bx, by, bz};
    for (unsigned z = 0; z < gz; z++)
        for (unsigned y = 0; y < gy; y++)
            for (unsigned x = 0; x < gx; x++) {
                blockIdx = {x, y, z};
                for (unsigned tz = 0; tz < bz; tz++)
                    for (unsigned ty = 0; ty < by; ty++)
                        for (unsigned tx = 0; tx < bx; tx++) {
                            threadIdx = {tx, ty, tz};
                            k->run(params);
                        }
            }
    return OK;
}

CUresult cuMemAlloc_v2(unsigned long long *p, size_t n) {
    std::lock_guard<std::mutex> g(mu);
    NEED_CTX();
    if (n == 0) return INVALID_VALUE;
    void *m = aligned_alloc(256, (n + 255) / 256 * 256);
    if (m == nullptr) return OUT_OF_MEMORY;
    allocs.push_back({(uintptr_t)m, n});
    *p = (unsigned long long)(uintptr_t)m;
    return OK;
}

CUresult cuMemFree_v2(unsigned long long p) {
    std::lock_guard<std::mutex> g(mu);
    NEED_CTX();
    for (size_t i = 0; i < allocs.size(); i++) {
        if (allocs[i].p == (uintptr_t)p) {
            free((void *)allocs[i].p);
            allocs.erase(allocs.begin() + (long)i);
            return OK;
        }
    }
    return INVALID_VALUE;
}

CUresult cuMemAllocHost_v2(void **p, size_t n) {
    NEED_CTX();
    *p = malloc(n);
    return *p ? OK : OUT_OF_MEMORY;
}

CUresult cuMemFreeHost(void *p) {
    NEED_CTX();
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

CUresult cuMemcpyHtoDAsync_v2(unsigned long long dst, const void *src, size_t n, void *) {
    return cuMemcpyHtoD_v2(dst, src, n);
}

CUresult cuMemcpyDtoHAsync_v2(void *dst, unsigned long long src, size_t n, void *) {
    return cuMemcpyDtoH_v2(dst, src, n);
}

CUresult cuMemcpyDtoDAsync_v2(unsigned long long dst, unsigned long long src, size_t n, void *) {
    return cuMemcpyDtoD_v2(dst, src, n);
}

CUresult cuMemsetD8_v2(unsigned long long dst, unsigned char v, size_t n) {
    NEED_CTX();
    DEV_RANGE(dst, n);
    memset((void *)(uintptr_t)dst, v, n);
    return OK;
}

CUresult cuMemsetD8Async(unsigned long long dst, unsigned char v, size_t n, void *) {
    return cuMemsetD8_v2(dst, v, n);
}

CUresult cuStreamSynchronize(void *) {
    NEED_CTX();
    return OK;
}

}  // extern "C"
