/*
 * cuda_shim.c - see cuda_shim.h.
 *
 * The driver and NVRTC are opened with dlopen() and their entry points are
 * looked up with dlsym() into the tables `drv` and `rtc` below.  The tables
 * are filled exactly once (pthread_once); afterwards they are read-only, so
 * the wrappers need no locking.  A wrapper whose entry point is missing
 * returns IBMB_SHIM_NOT_LOADED instead of calling through NULL.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* dladdr */
#endif

#include "cuda_shim.h"

#include <dirent.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- small helpers ------------------------------------------------------ */

static void ibmb_copy_msg(char *dst, size_t dstlen, const char *src) {
    if (dst == NULL || dstlen == 0) return;
    if (src == NULL) src = "";
    size_t n = strlen(src);
    if (n >= dstlen) n = dstlen - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Appends to a bounded, always NUL-terminated buffer. */
static void ibmb_appendf(char *buf, size_t buflen, const char *fmt, const char *arg) {
    size_t used = strlen(buf);
    if (used + 1 >= buflen) return;
    snprintf(buf + used, buflen - used, fmt, arg);
}

/* ---- driver table -------------------------------------------------------- */

typedef struct {
    void *handle;
    char path[1024];
    ibmb_CUresult (*cuInit)(unsigned int);
    ibmb_CUresult (*cuDriverGetVersion)(int *);
    ibmb_CUresult (*cuGetErrorName)(ibmb_CUresult, const char **);
    ibmb_CUresult (*cuGetErrorString)(ibmb_CUresult, const char **);
    ibmb_CUresult (*cuDeviceGetCount)(int *);
    ibmb_CUresult (*cuDeviceGet)(ibmb_CUdevice *, int);
    ibmb_CUresult (*cuDeviceGetAttribute)(int *, int, ibmb_CUdevice);
    ibmb_CUresult (*cuDeviceGetName)(char *, int, ibmb_CUdevice);
    ibmb_CUresult (*cuDeviceTotalMem)(size_t *, ibmb_CUdevice);
    ibmb_CUresult (*cuDevicePrimaryCtxRetain)(ibmb_CUcontext *, ibmb_CUdevice);
    ibmb_CUresult (*cuDevicePrimaryCtxRelease)(ibmb_CUdevice);
    ibmb_CUresult (*cuCtxSetCurrent)(ibmb_CUcontext);
    ibmb_CUresult (*cuCtxGetCurrent)(ibmb_CUcontext *);
    ibmb_CUresult (*cuCtxSynchronize)(void);
    ibmb_CUresult (*cuModuleLoadDataEx)(ibmb_CUmodule *, const void *, unsigned int, int *, void **);
    ibmb_CUresult (*cuModuleUnload)(ibmb_CUmodule);
    ibmb_CUresult (*cuModuleGetFunction)(ibmb_CUfunction *, ibmb_CUmodule, const char *);
    ibmb_CUresult (*cuLaunchKernel)(ibmb_CUfunction, unsigned int, unsigned int, unsigned int,
                                    unsigned int, unsigned int, unsigned int, unsigned int,
                                    ibmb_CUstream, void **, void **);
    ibmb_CUresult (*cuMemGetInfo)(size_t *, size_t *);
    ibmb_CUresult (*cuMemAlloc)(ibmb_CUdeviceptr *, size_t);
    ibmb_CUresult (*cuMemFree)(ibmb_CUdeviceptr);
    ibmb_CUresult (*cuMemAllocHost)(void **, size_t);
    ibmb_CUresult (*cuMemFreeHost)(void *);
    ibmb_CUresult (*cuMemcpyHtoD)(ibmb_CUdeviceptr, const void *, size_t);
    ibmb_CUresult (*cuMemcpyDtoH)(void *, ibmb_CUdeviceptr, size_t);
    ibmb_CUresult (*cuMemcpyDtoD)(ibmb_CUdeviceptr, ibmb_CUdeviceptr, size_t);
    ibmb_CUresult (*cuMemcpyHtoDAsync)(ibmb_CUdeviceptr, const void *, size_t, ibmb_CUstream);
    ibmb_CUresult (*cuMemcpyDtoHAsync)(void *, ibmb_CUdeviceptr, size_t, ibmb_CUstream);
    ibmb_CUresult (*cuMemcpyDtoDAsync)(ibmb_CUdeviceptr, ibmb_CUdeviceptr, size_t, ibmb_CUstream);
    ibmb_CUresult (*cuMemsetD8)(ibmb_CUdeviceptr, unsigned char, size_t);
    ibmb_CUresult (*cuMemsetD8Async)(ibmb_CUdeviceptr, unsigned char, size_t, ibmb_CUstream);
    ibmb_CUresult (*cuStreamSynchronize)(ibmb_CUstream);
    /* optional */
    ibmb_CUresult (*cuStreamCreate)(ibmb_CUstream *, unsigned int);
    ibmb_CUresult (*cuStreamDestroy)(ibmb_CUstream);
    ibmb_CUresult (*cuStreamWaitEvent)(ibmb_CUstream, void *, unsigned int);
    ibmb_CUresult (*cuEventCreate)(void **, unsigned int);
    ibmb_CUresult (*cuEventRecord)(void *, ibmb_CUstream);
    ibmb_CUresult (*cuEventSynchronize)(void *);
    ibmb_CUresult (*cuEventQuery)(void *);
    ibmb_CUresult (*cuEventDestroy)(void *);
} ibmb_driver_table;

static ibmb_driver_table drv;
static pthread_once_t drv_once = PTHREAD_ONCE_INIT;
static int drv_status = IBMB_LOAD_NOT_FOUND;
static int drv_init_result = 0;
static char drv_msg[2048];

/* Resolves `name`, or else `fallback` (a same-signature older spelling;
 * may be NULL).  Returns NULL when neither exists. */
static void *ibmb_sym(void *h, const char *name, const char *fallback) {
    void *p = dlsym(h, name);
    if (p == NULL && fallback != NULL) p = dlsym(h, fallback);
    return p;
}

/* Driver entry points: field, symbol (the _v2 spelling where cuda.h maps the
 * API name to one), same-signature fallback. */
#define IBMB_DRV_SYMBOLS(X)                                                   \
    X(cuInit, "cuInit", NULL)                                                 \
    X(cuDriverGetVersion, "cuDriverGetVersion", NULL)                         \
    X(cuGetErrorName, "cuGetErrorName", NULL)                                 \
    X(cuGetErrorString, "cuGetErrorString", NULL)                             \
    X(cuDeviceGetCount, "cuDeviceGetCount", NULL)                             \
    X(cuDeviceGet, "cuDeviceGet", NULL)                                       \
    X(cuDeviceGetAttribute, "cuDeviceGetAttribute", NULL)                     \
    X(cuDeviceGetName, "cuDeviceGetName", NULL)                               \
    X(cuDeviceTotalMem, "cuDeviceTotalMem_v2", NULL)                          \
    X(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain", NULL)             \
    X(cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2",              \
      "cuDevicePrimaryCtxRelease")                                            \
    X(cuCtxSetCurrent, "cuCtxSetCurrent", NULL)                               \
    X(cuCtxGetCurrent, "cuCtxGetCurrent", NULL)                               \
    X(cuCtxSynchronize, "cuCtxSynchronize", NULL)                             \
    X(cuModuleLoadDataEx, "cuModuleLoadDataEx", NULL)                         \
    X(cuModuleUnload, "cuModuleUnload", NULL)                                 \
    X(cuModuleGetFunction, "cuModuleGetFunction", NULL)                       \
    X(cuLaunchKernel, "cuLaunchKernel", NULL)                                 \
    X(cuMemGetInfo, "cuMemGetInfo_v2", NULL)                                  \
    X(cuMemAlloc, "cuMemAlloc_v2", NULL)                                      \
    X(cuMemFree, "cuMemFree_v2", NULL)                                        \
    X(cuMemAllocHost, "cuMemAllocHost_v2", NULL)                              \
    X(cuMemFreeHost, "cuMemFreeHost", NULL)                                   \
    X(cuMemcpyHtoD, "cuMemcpyHtoD_v2", NULL)                                  \
    X(cuMemcpyDtoH, "cuMemcpyDtoH_v2", NULL)                                  \
    X(cuMemcpyDtoD, "cuMemcpyDtoD_v2", NULL)                                  \
    X(cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2", NULL)                        \
    X(cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2", NULL)                        \
    X(cuMemcpyDtoDAsync, "cuMemcpyDtoDAsync_v2", NULL)                        \
    X(cuMemsetD8, "cuMemsetD8_v2", NULL)                                      \
    X(cuMemsetD8Async, "cuMemsetD8Async", NULL)                               \
    X(cuStreamSynchronize, "cuStreamSynchronize", NULL)

/* Optional entry points: a driver without them still loads; their wrappers
 * then return IBMB_SHIM_NOT_LOADED. */
#define IBMB_DRV_OPTIONAL(X)                                                  \
    X(cuStreamCreate, "cuStreamCreate", NULL)                                 \
    X(cuStreamDestroy, "cuStreamDestroy_v2", "cuStreamDestroy")               \
    X(cuStreamWaitEvent, "cuStreamWaitEvent", NULL)                           \
    X(cuEventCreate, "cuEventCreate", NULL)                                   \
    X(cuEventRecord, "cuEventRecord", NULL)                                   \
    X(cuEventSynchronize, "cuEventSynchronize", NULL)                         \
    X(cuEventQuery, "cuEventQuery", NULL)                                     \
    X(cuEventDestroy, "cuEventDestroy_v2", "cuEventDestroy")

static void ibmb_cuda_load_once(void) {
    const char *override = getenv("IBMB_LIBCUDA");
    const char *name = (override != NULL && override[0] != '\0') ? override : "libcuda.so.1";

    dlerror();
    void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        const char *e = dlerror();
        drv_status = IBMB_LOAD_NOT_FOUND;
        if (name == override) {
            snprintf(drv_msg, sizeof drv_msg, "cannot load IBMB_LIBCUDA=%s: %s", name, e ? e : "dlopen failed");
        } else if (e == NULL || strstr(e, "No such file") != NULL) {
            snprintf(drv_msg, sizeof drv_msg, "libcuda.so.1 not found (no NVIDIA driver)");
        } else {
            snprintf(drv_msg, sizeof drv_msg, "cannot load libcuda.so.1: %s", e);
        }
        return;
    }

    ibmb_driver_table t;
    memset(&t, 0, sizeof t);
    t.handle = h;
    ibmb_copy_msg(t.path, sizeof t.path, name);

    char missing[1024] = "";
#define IBMB_DRV_RESOLVE(field, sym, fb)                                      \
    *(void **)(&t.field) = ibmb_sym(h, sym, fb);                              \
    if (t.field == NULL) ibmb_appendf(missing, sizeof missing, " %s", sym);
    IBMB_DRV_SYMBOLS(IBMB_DRV_RESOLVE)
#undef IBMB_DRV_RESOLVE
#define IBMB_DRV_RESOLVE_OPT(field, sym, fb) *(void **)(&t.field) = ibmb_sym(h, sym, fb);
    IBMB_DRV_OPTIONAL(IBMB_DRV_RESOLVE_OPT)
#undef IBMB_DRV_RESOLVE_OPT

    if (missing[0] != '\0') {
        drv_status = IBMB_LOAD_BAD_LIBRARY;
        snprintf(drv_msg, sizeof drv_msg, "%s lacks driver API symbols (driver too old?):%s", name, missing);
        dlclose(h);
        return;
    }

    drv = t;
    ibmb_CUresult r = drv.cuInit(0);
    drv_init_result = r;
    if (r != IBMB_CUDA_SUCCESS) {
        const char *en = NULL, *es = NULL;
        if (drv.cuGetErrorName(r, &en) != IBMB_CUDA_SUCCESS) en = NULL;
        if (drv.cuGetErrorString(r, &es) != IBMB_CUDA_SUCCESS) es = NULL;
        drv_status = IBMB_LOAD_INIT_FAILED;
        if (en != NULL && es != NULL) {
            snprintf(drv_msg, sizeof drv_msg, "cuInit failed: %s (%s)", en, es);
        } else {
            snprintf(drv_msg, sizeof drv_msg, "cuInit failed: CUresult %d", r);
        }
        /* Keep the table: cuGetErrorName etc. stay usable, but every other
         * caller checks the load status first. */
        return;
    }
    drv_status = IBMB_LOAD_OK;
    drv_msg[0] = '\0';
}

int ibmb_cuda_load(char *err, size_t errlen) {
    pthread_once(&drv_once, ibmb_cuda_load_once);
    ibmb_copy_msg(err, errlen, drv_msg);
    return drv_status;
}

int ibmb_cuda_init_result(void) {
    pthread_once(&drv_once, ibmb_cuda_load_once);
    return drv_init_result;
}

const char *ibmb_cuda_library(void) {
    return drv_status == IBMB_LOAD_OK ? drv.path : "";
}

/* ---- NVRTC table ------------------------------------------------------- */

typedef struct {
    void *handle;
    char path[4096];
    ibmb_nvrtcResult (*nvrtcVersion)(int *, int *);
    const char *(*nvrtcGetErrorString)(ibmb_nvrtcResult);
    ibmb_nvrtcResult (*nvrtcCreateProgram)(ibmb_nvrtcProgram *, const char *, const char *, int,
                                           const char *const *, const char *const *);
    ibmb_nvrtcResult (*nvrtcCompileProgram)(ibmb_nvrtcProgram, int, const char *const *);
    ibmb_nvrtcResult (*nvrtcGetProgramLogSize)(ibmb_nvrtcProgram, size_t *);
    ibmb_nvrtcResult (*nvrtcGetProgramLog)(ibmb_nvrtcProgram, char *);
    ibmb_nvrtcResult (*nvrtcGetPTXSize)(ibmb_nvrtcProgram, size_t *);
    ibmb_nvrtcResult (*nvrtcGetPTX)(ibmb_nvrtcProgram, char *);
    ibmb_nvrtcResult (*nvrtcDestroyProgram)(ibmb_nvrtcProgram *);
    /* optional (absent before CUDA 11.1 / 11.2) */
    ibmb_nvrtcResult (*nvrtcGetNumSupportedArchs)(int *);
    ibmb_nvrtcResult (*nvrtcGetSupportedArchs)(int *);
    ibmb_nvrtcResult (*nvrtcGetCUBINSize)(ibmb_nvrtcProgram, size_t *);
    ibmb_nvrtcResult (*nvrtcGetCUBIN)(ibmb_nvrtcProgram, char *);
} ibmb_nvrtc_table;

static ibmb_nvrtc_table rtc;
static pthread_once_t rtc_once = PTHREAD_ONCE_INIT;
static int rtc_status = IBMB_LOAD_NOT_FOUND;
static char rtc_msg[4096];

#define IBMB_RTC_REQUIRED(X)                                                  \
    X(nvrtcVersion)                                                           \
    X(nvrtcGetErrorString)                                                    \
    X(nvrtcCreateProgram)                                                     \
    X(nvrtcCompileProgram)                                                    \
    X(nvrtcGetProgramLogSize)                                                 \
    X(nvrtcGetProgramLog)                                                     \
    X(nvrtcGetPTXSize)                                                        \
    X(nvrtcGetPTX)                                                            \
    X(nvrtcDestroyProgram)

#define IBMB_RTC_OPTIONAL(X)                                                  \
    X(nvrtcGetNumSupportedArchs)                                              \
    X(nvrtcGetSupportedArchs)                                                 \
    X(nvrtcGetCUBINSize)                                                      \
    X(nvrtcGetCUBIN)

/* libnvrtc dlopen()s its builtins library (libnvrtc-builtins.so.MAJOR.MINOR)
 * lazily.  The pip wheels and the toolkit keep it next to libnvrtc and give
 * libnvrtc an $ORIGIN run path, so that normally just works; loading the
 * builtins ourselves, RTLD_GLOBAL, from the directory libnvrtc came from
 * makes it work even when the run path does not apply.  Best effort. */
static void ibmb_preload_builtins(void) {
    Dl_info info;
    int major = 0, minor = 0;
    if (rtc.nvrtcVersion(&major, &minor) != 0) return;
    if (dladdr(*(void **)(&rtc.nvrtcVersion), &info) == 0 || info.dli_fname == NULL) return;
    char dir[4096];
    ibmb_copy_msg(dir, sizeof dir, info.dli_fname);
    char *slash = strrchr(dir, '/');
    if (slash == NULL) return;
    *slash = '\0';
    char path[4200];
    snprintf(path, sizeof path, "%s/libnvrtc-builtins.so.%d.%d", dir, major, minor);
    if (access(path, R_OK) == 0) {
        void *b = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
        (void)b; /* kept loaded for the life of the process */
    }
}

/* Tries one candidate; on success fills rtc and returns 1.  On failure
 * appends a note about it to `notes`. */
static int ibmb_try_nvrtc(const char *name, char *notes, size_t noteslen) {
    dlerror();
    void *h = dlopen(name, RTLD_NOW | RTLD_GLOBAL);
    if (h == NULL) {
        const char *e = dlerror();
        /* Plain "not found" for a bare name is the common case: no note. */
        if (strchr(name, '/') != NULL || (e != NULL && strstr(e, "No such file") == NULL)) {
            ibmb_appendf(notes, noteslen, "; %s", e ? e : name);
        }
        return 0;
    }
    ibmb_nvrtc_table t;
    memset(&t, 0, sizeof t);
    t.handle = h;
    char missing[512] = "";
#define IBMB_RTC_RESOLVE(sym)                                                 \
    *(void **)(&t.sym) = dlsym(h, #sym);                                      \
    if (t.sym == NULL) ibmb_appendf(missing, sizeof missing, " %s", #sym);
    IBMB_RTC_REQUIRED(IBMB_RTC_RESOLVE)
#undef IBMB_RTC_RESOLVE
    if (missing[0] != '\0') {
        ibmb_appendf(notes, noteslen, "; %s", name);
        ibmb_appendf(notes, noteslen, " lacks%s", missing);
        dlclose(h);
        return 0;
    }
#define IBMB_RTC_RESOLVE_OPT(sym) *(void **)(&t.sym) = dlsym(h, #sym);
    IBMB_RTC_OPTIONAL(IBMB_RTC_RESOLVE_OPT)
#undef IBMB_RTC_RESOLVE_OPT

    /* Record where it really came from (a bare name resolves somewhere). */
    Dl_info info;
    if (dladdr(*(void **)(&t.nvrtcVersion), &info) != 0 && info.dli_fname != NULL) {
        ibmb_copy_msg(t.path, sizeof t.path, info.dli_fname);
    } else {
        ibmb_copy_msg(t.path, sizeof t.path, name);
    }
    rtc = t;
    ibmb_preload_builtins();
    return 1;
}

/* Version-aware ordering of "libnvrtc.so[.A[.B[.C]]]" names: higher first. */
static int ibmb_cmp_nvrtc_names(const void *pa, const void *pb) {
    const char *a = *(const char *const *)pa;
    const char *b = *(const char *const *)pb;
    const size_t base = strlen("libnvrtc.so");
    a += base;
    b += base;
    for (;;) {
        long va = -1, vb = -1;
        if (*a == '.') va = strtol(a + 1, (char **)&a, 10);
        if (*b == '.') vb = strtol(b + 1, (char **)&b, 10);
        if (va != vb) return va > vb ? -1 : 1;
        if (va < 0) return 0;
    }
}

static int ibmb_is_nvrtc_name(const char *n) {
    const char *base = "libnvrtc.so";
    size_t bl = strlen(base);
    if (strncmp(n, base, bl) != 0) return 0;
    for (const char *p = n + bl; *p; p++) {
        if (*p != '.' && (*p < '0' || *p > '9')) return 0;
    }
    return 1;
}

/* Searches one directory for libnvrtc.so*, newest version first. */
static int ibmb_try_nvrtc_dir(const char *dir, char *notes, size_t noteslen) {
    DIR *d = opendir(dir);
    if (d == NULL) {
        ibmb_appendf(notes, noteslen, "; cannot read directory %s", dir);
        return 0;
    }
    char *names[64];
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && count < 64) {
        if (ibmb_is_nvrtc_name(e->d_name)) names[count++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)count, sizeof names[0], ibmb_cmp_nvrtc_names);
    int ok = 0;
    for (int i = 0; i < count; i++) {
        if (!ok && names[i] != NULL) {
            char path[4200];
            snprintf(path, sizeof path, "%s/%s", dir, names[i]);
            ok = ibmb_try_nvrtc(path, notes, noteslen);
        }
        free(names[i]);
    }
    if (count == 0) ibmb_appendf(notes, noteslen, "; no libnvrtc.so* in %s", dir);
    return ok;
}

static void ibmb_nvrtc_load_once(void) {
    char notes[3072] = "";
    const char *explicit_path = getenv("IBMB_NVRTC");
    if (explicit_path != NULL && explicit_path[0] != '\0') {
        if (ibmb_try_nvrtc(explicit_path, notes, sizeof notes)) {
            rtc_status = IBMB_LOAD_OK;
            return;
        }
        rtc_status = IBMB_LOAD_NOT_FOUND;
        snprintf(rtc_msg, sizeof rtc_msg, "cannot load IBMB_NVRTC=%s%s", explicit_path, notes);
        return;
    }

    static const char *const names[] = {"libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (ibmb_try_nvrtc(names[i], notes, sizeof notes)) {
            rtc_status = IBMB_LOAD_OK;
            return;
        }
    }

    const char *dirs = getenv("IBMB_NVRTC_DIRS");
    if (dirs != NULL && dirs[0] != '\0') {
        char *copy = strdup(dirs);
        char *save = NULL;
        for (char *dir = strtok_r(copy, ":", &save); dir != NULL; dir = strtok_r(NULL, ":", &save)) {
            if (dir[0] == '\0') continue;
            if (ibmb_try_nvrtc_dir(dir, notes, sizeof notes)) {
                free(copy);
                rtc_status = IBMB_LOAD_OK;
                return;
            }
        }
        free(copy);
    }

    rtc_status = IBMB_LOAD_NOT_FOUND;
    snprintf(rtc_msg, sizeof rtc_msg,
             "no libnvrtc found (set IBMB_NVRTC or pip install nvidia-cuda-nvrtc-cu12); "
             "tried libnvrtc.so, libnvrtc.so.13, libnvrtc.so.12, libnvrtc.so.11.2%s%s%s",
             (dirs != NULL && dirs[0] != '\0') ? " and IBMB_NVRTC_DIRS=" : " (IBMB_NVRTC_DIRS unset)",
             (dirs != NULL && dirs[0] != '\0') ? dirs : "", notes);
}

int ibmb_nvrtc_load(char *err, size_t errlen) {
    pthread_once(&rtc_once, ibmb_nvrtc_load_once);
    ibmb_copy_msg(err, errlen, rtc_status == IBMB_LOAD_OK ? "" : rtc_msg);
    return rtc_status;
}

const char *ibmb_nvrtc_library(void) {
    return rtc_status == IBMB_LOAD_OK ? rtc.path : "";
}

int ibmb_nvrtc_has_supported_archs(void) {
    return rtc.nvrtcGetNumSupportedArchs != NULL && rtc.nvrtcGetSupportedArchs != NULL;
}

int ibmb_nvrtc_has_cubin(void) {
    return rtc.nvrtcGetCUBINSize != NULL && rtc.nvrtcGetCUBIN != NULL;
}

/* ---- driver wrappers ----------------------------------------------------- */

/* Calls a driver entry point, or returns IBMB_SHIM_NOT_LOADED when missing. */
#define IBMB_DCALL(fn, ...) (drv.fn != NULL ? drv.fn(__VA_ARGS__) : IBMB_SHIM_NOT_LOADED)

ibmb_CUresult ibmb_cuInit(unsigned int flags) { return IBMB_DCALL(cuInit, flags); }
ibmb_CUresult ibmb_cuDriverGetVersion(int *v) { return IBMB_DCALL(cuDriverGetVersion, v); }

const char *ibmb_cuGetErrorName(ibmb_CUresult r) {
    const char *s = NULL;
    if (drv.cuGetErrorName == NULL || drv.cuGetErrorName(r, &s) != 0) return NULL;
    return s;
}

const char *ibmb_cuGetErrorString(ibmb_CUresult r) {
    const char *s = NULL;
    if (drv.cuGetErrorString == NULL || drv.cuGetErrorString(r, &s) != 0) return NULL;
    return s;
}

ibmb_CUresult ibmb_cuDeviceGetCount(int *count) { return IBMB_DCALL(cuDeviceGetCount, count); }
ibmb_CUresult ibmb_cuDeviceGet(ibmb_CUdevice *dev, int ordinal) { return IBMB_DCALL(cuDeviceGet, dev, ordinal); }
ibmb_CUresult ibmb_cuDeviceGetAttribute(int *value, int attrib, ibmb_CUdevice dev) {
    return IBMB_DCALL(cuDeviceGetAttribute, value, attrib, dev);
}
ibmb_CUresult ibmb_cuDeviceGetName(char *name, int len, ibmb_CUdevice dev) {
    return IBMB_DCALL(cuDeviceGetName, name, len, dev);
}
ibmb_CUresult ibmb_cuDeviceTotalMem(size_t *bytes, ibmb_CUdevice dev) {
    return IBMB_DCALL(cuDeviceTotalMem, bytes, dev);
}

ibmb_CUresult ibmb_cuDevicePrimaryCtxRetain(uintptr_t *ctx, ibmb_CUdevice dev) {
    ibmb_CUcontext c = NULL;
    ibmb_CUresult r = IBMB_DCALL(cuDevicePrimaryCtxRetain, &c, dev);
    *ctx = (uintptr_t)c;
    return r;
}
ibmb_CUresult ibmb_cuDevicePrimaryCtxRelease(ibmb_CUdevice dev) { return IBMB_DCALL(cuDevicePrimaryCtxRelease, dev); }
ibmb_CUresult ibmb_cuCtxSetCurrent(uintptr_t ctx) { return IBMB_DCALL(cuCtxSetCurrent, (ibmb_CUcontext)ctx); }
ibmb_CUresult ibmb_cuCtxGetCurrent(uintptr_t *ctx) {
    ibmb_CUcontext c = NULL;
    ibmb_CUresult r = IBMB_DCALL(cuCtxGetCurrent, &c);
    *ctx = (uintptr_t)c;
    return r;
}
ibmb_CUresult ibmb_cuCtxSynchronize(void) {
    return drv.cuCtxSynchronize != NULL ? drv.cuCtxSynchronize() : IBMB_SHIM_NOT_LOADED;
}

#define IBMB_CU_JIT_ERROR_LOG_BUFFER 5
#define IBMB_CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES 6

ibmb_CUresult ibmb_cuModuleLoadData(uintptr_t *mod, const void *image, char *log, size_t loglen) {
    ibmb_CUmodule m = NULL;
    ibmb_CUresult r;
    if (log != NULL && loglen > 1) {
        log[0] = '\0';
        int opts[2] = {IBMB_CU_JIT_ERROR_LOG_BUFFER, IBMB_CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
        void *vals[2] = {log, (void *)(uintptr_t)(unsigned int)(loglen > 0xffffffffu ? 0xffffffffu : loglen)};
        r = IBMB_DCALL(cuModuleLoadDataEx, &m, image, 2u, opts, vals);
    } else {
        r = IBMB_DCALL(cuModuleLoadDataEx, &m, image, 0u, NULL, NULL);
    }
    *mod = (uintptr_t)m;
    return r;
}
ibmb_CUresult ibmb_cuModuleUnload(uintptr_t mod) { return IBMB_DCALL(cuModuleUnload, (ibmb_CUmodule)mod); }
ibmb_CUresult ibmb_cuModuleGetFunction(uintptr_t *fn, uintptr_t mod, const char *name) {
    ibmb_CUfunction f = NULL;
    ibmb_CUresult r = IBMB_DCALL(cuModuleGetFunction, &f, (ibmb_CUmodule)mod, name);
    *fn = (uintptr_t)f;
    return r;
}

ibmb_CUresult ibmb_cuLaunchKernel(uintptr_t fn, unsigned int gx, unsigned int gy, unsigned int gz,
                                  unsigned int bx, unsigned int by, unsigned int bz,
                                  unsigned int shmem, uintptr_t stream, void **params) {
    return IBMB_DCALL(cuLaunchKernel, (ibmb_CUfunction)fn, gx, gy, gz, bx, by, bz, shmem,
                      (ibmb_CUstream)stream, params, NULL);
}

#define IBMB_MAX_KERNEL_ARGS 32

ibmb_CUresult ibmb_launch_u64(uintptr_t fn, unsigned int gx, unsigned int gy, unsigned int gz,
                              unsigned int bx, unsigned int by, unsigned int bz,
                              unsigned int shmem, uintptr_t stream,
                              const unsigned long long *args, int nargs) {
    if (nargs < 0 || nargs > IBMB_MAX_KERNEL_ARGS) return 1; /* CUDA_ERROR_INVALID_VALUE */
    /* cuLaunchKernel copies the parameter values before returning, so
     * pointing into the caller's array is fine. */
    void *params[IBMB_MAX_KERNEL_ARGS];
    for (int i = 0; i < nargs; i++) params[i] = (void *)&args[i];
    return ibmb_cuLaunchKernel(fn, gx, gy, gz, bx, by, bz, shmem, stream, params);
}

ibmb_CUresult ibmb_cuMemGetInfo(size_t *free_bytes, size_t *total_bytes) {
    return IBMB_DCALL(cuMemGetInfo, free_bytes, total_bytes);
}
ibmb_CUresult ibmb_cuMemAlloc(ibmb_CUdeviceptr *dptr, size_t bytes) { return IBMB_DCALL(cuMemAlloc, dptr, bytes); }
ibmb_CUresult ibmb_cuMemFree(ibmb_CUdeviceptr dptr) { return IBMB_DCALL(cuMemFree, dptr); }
ibmb_CUresult ibmb_cuMemAllocHost(void **p, size_t bytes) { return IBMB_DCALL(cuMemAllocHost, p, bytes); }
ibmb_CUresult ibmb_cuMemFreeHost(void *p) { return IBMB_DCALL(cuMemFreeHost, p); }
ibmb_CUresult ibmb_cuMemcpyHtoD(ibmb_CUdeviceptr dst, const void *src, size_t bytes) {
    return IBMB_DCALL(cuMemcpyHtoD, dst, src, bytes);
}
ibmb_CUresult ibmb_cuMemcpyDtoH(void *dst, ibmb_CUdeviceptr src, size_t bytes) {
    return IBMB_DCALL(cuMemcpyDtoH, dst, src, bytes);
}
ibmb_CUresult ibmb_cuMemcpyDtoD(ibmb_CUdeviceptr dst, ibmb_CUdeviceptr src, size_t bytes) {
    return IBMB_DCALL(cuMemcpyDtoD, dst, src, bytes);
}
ibmb_CUresult ibmb_cuMemcpyHtoDAsync(ibmb_CUdeviceptr dst, const void *src, size_t bytes, uintptr_t stream) {
    return IBMB_DCALL(cuMemcpyHtoDAsync, dst, src, bytes, (ibmb_CUstream)stream);
}
ibmb_CUresult ibmb_cuMemcpyDtoHAsync(void *dst, ibmb_CUdeviceptr src, size_t bytes, uintptr_t stream) {
    return IBMB_DCALL(cuMemcpyDtoHAsync, dst, src, bytes, (ibmb_CUstream)stream);
}
ibmb_CUresult ibmb_cuMemcpyDtoDAsync(ibmb_CUdeviceptr dst, ibmb_CUdeviceptr src, size_t bytes, uintptr_t stream) {
    return IBMB_DCALL(cuMemcpyDtoDAsync, dst, src, bytes, (ibmb_CUstream)stream);
}
ibmb_CUresult ibmb_cuMemsetD8(ibmb_CUdeviceptr dst, unsigned char v, size_t n) { return IBMB_DCALL(cuMemsetD8, dst, v, n); }
ibmb_CUresult ibmb_cuMemsetD8Async(ibmb_CUdeviceptr dst, unsigned char v, size_t n, uintptr_t stream) {
    return IBMB_DCALL(cuMemsetD8Async, dst, v, n, (ibmb_CUstream)stream);
}
ibmb_CUresult ibmb_cuStreamSynchronize(uintptr_t stream) {
    return IBMB_DCALL(cuStreamSynchronize, (ibmb_CUstream)stream);
}

int ibmb_cuda_has_streams(void) {
    return drv.cuStreamCreate != NULL && drv.cuStreamDestroy != NULL && drv.cuStreamWaitEvent != NULL &&
           drv.cuEventCreate != NULL && drv.cuEventRecord != NULL && drv.cuEventSynchronize != NULL &&
           drv.cuEventQuery != NULL && drv.cuEventDestroy != NULL;
}
ibmb_CUresult ibmb_cuStreamCreate(uintptr_t *stream, unsigned int flags) {
    ibmb_CUstream s = NULL;
    ibmb_CUresult r = IBMB_DCALL(cuStreamCreate, &s, flags);
    *stream = (uintptr_t)s;
    return r;
}
ibmb_CUresult ibmb_cuStreamDestroy(uintptr_t stream) { return IBMB_DCALL(cuStreamDestroy, (ibmb_CUstream)stream); }
ibmb_CUresult ibmb_cuStreamWaitEvent(uintptr_t stream, uintptr_t event, unsigned int flags) {
    return IBMB_DCALL(cuStreamWaitEvent, (ibmb_CUstream)stream, (void *)event, flags);
}
ibmb_CUresult ibmb_cuEventCreate(uintptr_t *event, unsigned int flags) {
    void *e = NULL;
    ibmb_CUresult r = IBMB_DCALL(cuEventCreate, &e, flags);
    *event = (uintptr_t)e;
    return r;
}
ibmb_CUresult ibmb_cuEventRecord(uintptr_t event, uintptr_t stream) {
    return IBMB_DCALL(cuEventRecord, (void *)event, (ibmb_CUstream)stream);
}
ibmb_CUresult ibmb_cuEventSynchronize(uintptr_t event) { return IBMB_DCALL(cuEventSynchronize, (void *)event); }
ibmb_CUresult ibmb_cuEventQuery(uintptr_t event) { return IBMB_DCALL(cuEventQuery, (void *)event); }
ibmb_CUresult ibmb_cuEventDestroy(uintptr_t event) { return IBMB_DCALL(cuEventDestroy, (void *)event); }

/* ---- NVRTC wrappers ------------------------------------------------------ */

#define IBMB_RCALL(fn, ...) (rtc.fn != NULL ? rtc.fn(__VA_ARGS__) : IBMB_SHIM_NOT_LOADED)

ibmb_nvrtcResult ibmb_nvrtcVersion(int *major, int *minor) { return IBMB_RCALL(nvrtcVersion, major, minor); }

const char *ibmb_nvrtcGetErrorString(ibmb_nvrtcResult r) {
    return rtc.nvrtcGetErrorString != NULL ? rtc.nvrtcGetErrorString(r) : NULL;
}

ibmb_nvrtcResult ibmb_nvrtcGetNumSupportedArchs(int *n) { return IBMB_RCALL(nvrtcGetNumSupportedArchs, n); }
ibmb_nvrtcResult ibmb_nvrtcGetSupportedArchs(int *archs) { return IBMB_RCALL(nvrtcGetSupportedArchs, archs); }

ibmb_nvrtcResult ibmb_nvrtcCreateProgram(uintptr_t *prog, const char *src, const char *name) {
    ibmb_nvrtcProgram p = NULL;
    ibmb_nvrtcResult r = IBMB_RCALL(nvrtcCreateProgram, &p, src, name, 0, NULL, NULL);
    *prog = (uintptr_t)p;
    return r;
}
ibmb_nvrtcResult ibmb_nvrtcCompileProgram(uintptr_t prog, int nopts, const char *const *opts) {
    return IBMB_RCALL(nvrtcCompileProgram, (ibmb_nvrtcProgram)prog, nopts, opts);
}
ibmb_nvrtcResult ibmb_nvrtcGetProgramLogSize(uintptr_t prog, size_t *n) {
    return IBMB_RCALL(nvrtcGetProgramLogSize, (ibmb_nvrtcProgram)prog, n);
}
ibmb_nvrtcResult ibmb_nvrtcGetProgramLog(uintptr_t prog, char *log) {
    return IBMB_RCALL(nvrtcGetProgramLog, (ibmb_nvrtcProgram)prog, log);
}
ibmb_nvrtcResult ibmb_nvrtcGetPTXSize(uintptr_t prog, size_t *n) {
    return IBMB_RCALL(nvrtcGetPTXSize, (ibmb_nvrtcProgram)prog, n);
}
ibmb_nvrtcResult ibmb_nvrtcGetPTX(uintptr_t prog, char *ptx) { return IBMB_RCALL(nvrtcGetPTX, (ibmb_nvrtcProgram)prog, ptx); }
ibmb_nvrtcResult ibmb_nvrtcGetCUBINSize(uintptr_t prog, size_t *n) {
    return IBMB_RCALL(nvrtcGetCUBINSize, (ibmb_nvrtcProgram)prog, n);
}
ibmb_nvrtcResult ibmb_nvrtcGetCUBIN(uintptr_t prog, char *cubin) {
    return IBMB_RCALL(nvrtcGetCUBIN, (ibmb_nvrtcProgram)prog, cubin);
}
ibmb_nvrtcResult ibmb_nvrtcDestroyProgram(uintptr_t *prog) {
    ibmb_nvrtcProgram p = (ibmb_nvrtcProgram)*prog;
    ibmb_nvrtcResult r = IBMB_RCALL(nvrtcDestroyProgram, &p);
    *prog = (uintptr_t)p;
    return r;
}
