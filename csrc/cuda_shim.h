/*
 * cuda_shim.h - run-time loader for the CUDA driver API and NVRTC.
 *
 * Nothing here includes cuda.h or links libcuda / libcudart / libnvrtc: the
 * libraries are dlopen()ed on first use and the few entry points we need are
 * resolved with dlsym() into private function tables.  A build made on a
 * machine without any CUDA toolkit therefore runs everywhere; on a machine
 * without a driver or without NVRTC the loaders simply report why.
 *
 * Conventions
 *   - Every wrapper returns the library's own status (CUresult / nvrtcResult,
 *     0 = success) or IBMB_SHIM_NOT_LOADED (< 0) when the library or the
 *     symbol is missing; wrappers never crash on a missing symbol.
 *   - Opaque handles (contexts, modules, functions, streams, NVRTC programs)
 *     cross the interface as uintptr_t so that callers in other languages
 *     (Go through cgo) never hold typed C pointers.
 *   - ibmb_cuda_load / ibmb_nvrtc_load are idempotent and thread-safe
 *     (pthread_once); they return 0 or an IBMB_LOAD_* code and copy a
 *     human-readable reason into the caller's buffer.
 *
 * Environment
 *   IBMB_LIBCUDA     path of the driver library to load instead of
 *                    libcuda.so.1 (tests use it to inject a fake driver).
 *   IBMB_NVRTC       full path of a libnvrtc shared object; when set, only
 *                    this file is tried.
 *   IBMB_NVRTC_DIRS  colon-separated directories searched for libnvrtc.so*
 *                    after the standard names libnvrtc.so, libnvrtc.so.13,
 *                    libnvrtc.so.12 and libnvrtc.so.11.2.
 */
#ifndef IBMB_CUDA_SHIM_H
#define IBMB_CUDA_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Our own minimal spellings of the driver / NVRTC types (ABI-identical to
 * the real ones on LP64 Linux). */
typedef int ibmb_CUresult;
typedef int ibmb_CUdevice;
typedef void *ibmb_CUcontext;
typedef void *ibmb_CUmodule;
typedef void *ibmb_CUfunction;
typedef void *ibmb_CUstream;
typedef unsigned long long ibmb_CUdeviceptr;
typedef int ibmb_nvrtcResult;
typedef void *ibmb_nvrtcProgram;

/* Returned by a wrapper whose library is not loaded or lacks the symbol. */
#define IBMB_SHIM_NOT_LOADED (-1)

/* Loader results. */
#define IBMB_LOAD_OK 0
#define IBMB_LOAD_NOT_FOUND 1    /* no library could be opened */
#define IBMB_LOAD_BAD_LIBRARY 2  /* opened, but a required symbol is missing */
#define IBMB_LOAD_INIT_FAILED 3  /* cuInit failed (driver only) */

/* Device attributes we query (values of CUdevice_attribute). */
#define IBMB_CU_ATTR_MULTIPROCESSOR_COUNT 16
#define IBMB_CU_ATTR_COMPUTE_CAPABILITY_MAJOR 75
#define IBMB_CU_ATTR_COMPUTE_CAPABILITY_MINOR 76

/* Selected CUresult values the callers interpret. */
#define IBMB_CUDA_SUCCESS 0
#define IBMB_CUDA_ERROR_NO_DEVICE 100
#define IBMB_CUDA_ERROR_NO_BINARY_FOR_GPU 209
#define IBMB_CUDA_ERROR_UNSUPPORTED_PTX_VERSION 222

/* ---- loading ----------------------------------------------------------- */

/* Loads the driver and calls cuInit(0) once.  On failure writes the reason
 * (without any "cuda unavailable" prefix) into err. */
int ibmb_cuda_load(char *err, size_t errlen);
/* The CUresult of cuInit (valid after ibmb_cuda_load reported
 * IBMB_LOAD_INIT_FAILED). */
int ibmb_cuda_init_result(void);
/* Path or name the driver was loaded from ("" when not loaded). */
const char *ibmb_cuda_library(void);

/* Loads NVRTC once (search order in the header comment). */
int ibmb_nvrtc_load(char *err, size_t errlen);
/* Path of the loaded NVRTC library ("" when not loaded). */
const char *ibmb_nvrtc_library(void);
/* 1 when the optional NVRTC symbols are present. */
int ibmb_nvrtc_has_supported_archs(void);
int ibmb_nvrtc_has_cubin(void);

/* ---- driver API wrappers ----------------------------------------------- */

ibmb_CUresult ibmb_cuInit(unsigned int flags);
ibmb_CUresult ibmb_cuDriverGetVersion(int *version);
/* Names for a CUresult; NULL when unknown or the driver is not loaded. */
const char *ibmb_cuGetErrorName(ibmb_CUresult r);
const char *ibmb_cuGetErrorString(ibmb_CUresult r);

ibmb_CUresult ibmb_cuDeviceGetCount(int *count);
ibmb_CUresult ibmb_cuDeviceGet(ibmb_CUdevice *dev, int ordinal);
ibmb_CUresult ibmb_cuDeviceGetAttribute(int *value, int attrib, ibmb_CUdevice dev);
ibmb_CUresult ibmb_cuDeviceGetName(char *name, int len, ibmb_CUdevice dev);
ibmb_CUresult ibmb_cuDeviceTotalMem(size_t *bytes, ibmb_CUdevice dev);

ibmb_CUresult ibmb_cuDevicePrimaryCtxRetain(uintptr_t *ctx, ibmb_CUdevice dev);
ibmb_CUresult ibmb_cuDevicePrimaryCtxRelease(ibmb_CUdevice dev);
ibmb_CUresult ibmb_cuCtxSetCurrent(uintptr_t ctx);
ibmb_CUresult ibmb_cuCtxGetCurrent(uintptr_t *ctx);
ibmb_CUresult ibmb_cuCtxSynchronize(void);

/* cuModuleLoadDataEx with an error-log buffer (log may be NULL). */
ibmb_CUresult ibmb_cuModuleLoadData(uintptr_t *mod, const void *image, char *log, size_t loglen);
ibmb_CUresult ibmb_cuModuleUnload(uintptr_t mod);
ibmb_CUresult ibmb_cuModuleGetFunction(uintptr_t *fn, uintptr_t mod, const char *name);

ibmb_CUresult ibmb_cuLaunchKernel(uintptr_t fn, unsigned int gx, unsigned int gy, unsigned int gz,
                                  unsigned int bx, unsigned int by, unsigned int bz,
                                  unsigned int shmem, uintptr_t stream, void **params);
/* cuLaunchKernel for kernels whose parameters are all 8 bytes wide
 * (pointers, long long, unsigned long long): args[i] is parameter i. */
ibmb_CUresult ibmb_launch_u64(uintptr_t fn, unsigned int gx, unsigned int gy, unsigned int gz,
                              unsigned int bx, unsigned int by, unsigned int bz,
                              unsigned int shmem, uintptr_t stream,
                              const unsigned long long *args, int nargs);

ibmb_CUresult ibmb_cuMemGetInfo(size_t *free_bytes, size_t *total_bytes);
ibmb_CUresult ibmb_cuMemAlloc(ibmb_CUdeviceptr *dptr, size_t bytes);
ibmb_CUresult ibmb_cuMemFree(ibmb_CUdeviceptr dptr);
ibmb_CUresult ibmb_cuMemAllocHost(void **p, size_t bytes);
ibmb_CUresult ibmb_cuMemFreeHost(void *p);
ibmb_CUresult ibmb_cuMemcpyHtoD(ibmb_CUdeviceptr dst, const void *src, size_t bytes);
ibmb_CUresult ibmb_cuMemcpyDtoH(void *dst, ibmb_CUdeviceptr src, size_t bytes);
ibmb_CUresult ibmb_cuMemcpyDtoD(ibmb_CUdeviceptr dst, ibmb_CUdeviceptr src, size_t bytes);
ibmb_CUresult ibmb_cuMemcpyHtoDAsync(ibmb_CUdeviceptr dst, const void *src, size_t bytes, uintptr_t stream);
ibmb_CUresult ibmb_cuMemcpyDtoHAsync(void *dst, ibmb_CUdeviceptr src, size_t bytes, uintptr_t stream);
ibmb_CUresult ibmb_cuMemcpyDtoDAsync(ibmb_CUdeviceptr dst, ibmb_CUdeviceptr src, size_t bytes, uintptr_t stream);
ibmb_CUresult ibmb_cuMemsetD8(ibmb_CUdeviceptr dst, unsigned char v, size_t n);
ibmb_CUresult ibmb_cuMemsetD8Async(ibmb_CUdeviceptr dst, unsigned char v, size_t n, uintptr_t stream);
ibmb_CUresult ibmb_cuStreamSynchronize(uintptr_t stream);

/* Optional entry points (streams, events): resolved when the driver has
 * them, IBMB_SHIM_NOT_LOADED otherwise; their absence does not fail
 * ibmb_cuda_load.  ibmb_cuda_has_streams() is 1 when all are present. */
int ibmb_cuda_has_streams(void);
ibmb_CUresult ibmb_cuStreamCreate(uintptr_t *stream, unsigned int flags);
ibmb_CUresult ibmb_cuStreamDestroy(uintptr_t stream);
ibmb_CUresult ibmb_cuStreamWaitEvent(uintptr_t stream, uintptr_t event, unsigned int flags);
ibmb_CUresult ibmb_cuEventCreate(uintptr_t *event, unsigned int flags);
ibmb_CUresult ibmb_cuEventRecord(uintptr_t event, uintptr_t stream);
ibmb_CUresult ibmb_cuEventSynchronize(uintptr_t event);
ibmb_CUresult ibmb_cuEventQuery(uintptr_t event);
ibmb_CUresult ibmb_cuEventDestroy(uintptr_t event);

/* ---- NVRTC wrappers ----------------------------------------------------- */

ibmb_nvrtcResult ibmb_nvrtcVersion(int *major, int *minor);
const char *ibmb_nvrtcGetErrorString(ibmb_nvrtcResult r);
ibmb_nvrtcResult ibmb_nvrtcGetNumSupportedArchs(int *n);
ibmb_nvrtcResult ibmb_nvrtcGetSupportedArchs(int *archs);
ibmb_nvrtcResult ibmb_nvrtcCreateProgram(uintptr_t *prog, const char *src, const char *name);
ibmb_nvrtcResult ibmb_nvrtcCompileProgram(uintptr_t prog, int nopts, const char *const *opts);
ibmb_nvrtcResult ibmb_nvrtcGetProgramLogSize(uintptr_t prog, size_t *n);
ibmb_nvrtcResult ibmb_nvrtcGetProgramLog(uintptr_t prog, char *log);
ibmb_nvrtcResult ibmb_nvrtcGetPTXSize(uintptr_t prog, size_t *n);
ibmb_nvrtcResult ibmb_nvrtcGetPTX(uintptr_t prog, char *ptx);
ibmb_nvrtcResult ibmb_nvrtcGetCUBINSize(uintptr_t prog, size_t *n);
ibmb_nvrtcResult ibmb_nvrtcGetCUBIN(uintptr_t prog, char *cubin);
ibmb_nvrtcResult ibmb_nvrtcDestroyProgram(uintptr_t *prog);

#ifdef __cplusplus
}
#endif

#endif /* IBMB_CUDA_SHIM_H */
