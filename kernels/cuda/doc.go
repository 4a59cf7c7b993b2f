// Package cuda is ibmb's GPU layer: a row gather (dst[i] = src[idx[i]]) and
// a many-seed personalized PageRank push on NVIDIA GPUs, plus the small
// amount of CUDA plumbing they need, built so that one binary works with
// and without a GPU and needs no CUDA toolkit to build.
//
// # How it loads CUDA
//
// Nothing links against libcuda, libcudart or libnvrtc, and no CUDA header
// is included. A C shim (csrc/cuda_shim.c) dlopen()s the driver,
// libcuda.so.1, and NVRTC at run time and resolves the few entry points it
// uses (the _v2 driver symbols where the API has them). Only the driver API
// is used: a static cudart cannot be loaded inside a Go c-shared library.
// Kernels (cuda/gather.cu and cuda/ppr.cu, embedded by package
// github.com/ibmb-dev/ibmb/cuda) are compiled at run time with NVRTC, for
// the largest architecture NVRTC supports that is <= the device's compute
// capability: a CUBIN when that architecture has the device's major version
// (no JIT, works with drivers older than NVRTC within one CUDA major
// version), else PTX that the driver JIT-compiles.
//
// When something is missing the functions return an error wrapping
// ErrUnavailable that says what, for example
//
//	cuda unavailable: libcuda.so.1 not found (no NVIDIA driver)
//	cuda unavailable: cuInit failed: CUDA_ERROR_NO_DEVICE (no CUDA-capable device is detected)
//	nvrtc unavailable: no libnvrtc found (set IBMB_NVRTC or pip install nvidia-cuda-nvrtc-cu12); tried ...
//
// Nothing panics, and a missing library or device is reported at once.
// Loading happens once per process; the answer is then cached.
//
// # Finding NVRTC
//
// CompilePTX and CompileCUBIN need NVRTC but no GPU and no driver. The
// library is searched in this order:
//
//  1. $IBMB_NVRTC, the full path of a libnvrtc shared object (only it is
//     tried when set);
//  2. the names libnvrtc.so, libnvrtc.so.13, libnvrtc.so.12 and
//     libnvrtc.so.11.2 through the dynamic loader (LD_LIBRARY_PATH,
//     ldconfig cache);
//  3. libnvrtc.so* files, newest version first, in each directory of
//     $IBMB_NVRTC_DIRS (colon-separated).
//
// pip's NVRTC wheels install the library at (relative to site-packages)
//
//	nvidia/cuda_nvrtc/lib/libnvrtc.so.12   pip install nvidia-cuda-nvrtc-cu12  (CUDA 12)
//	nvidia/cu13/lib/libnvrtc.so.13         pip install nvidia-cuda-nvrtc       (CUDA 13)
//
// next to its libnvrtc-builtins.so.MAJOR.MINOR, which libnvrtc finds through
// its $ORIGIN run path (the shim also preloads it from the same directory).
//
// # Gather
//
// Gather works on raw device pointers, e.g. from PyTorch's
// tensor.data_ptr(), on a caller-given stream (PyTorch's
// torch.cuda.current_stream().cuda_stream, or 0 for the legacy default
// stream). It runs in the device's primary context, which is the context
// the CUDA runtime and therefore PyTorch use, so their pointers and streams
// are valid; the context is retained once per device and made current on
// the calling OS thread for the duration of each call (the goroutine is
// locked to its thread meanwhile, and the thread's previous context is
// restored afterwards). Indices are validated on the GPU first: a bad index
// returns an error wrapping ErrIndex and leaves the output untouched.
//
// # Personalized PageRank
//
// PPRPush computes approximate personalized PageRank vectors for many seeds
// (or seed sets) at once with the push algorithm of Andersen, Chung and
// Lang, the rule of the CPU package gopkg/ppr, on a graph that fits in
// device memory; it returns the rows in gopkg/ppr's CSR Result layout
// (top-k or every entry, sorted by descending score, ties by ascending
// node id). The graph is copied to the device once and cached (see
// FreeGraphCache). The kernels (cuda/ppr.cu) give each warp one seed at a
// time with a private open-addressing hash table in global memory holding
// the float64 residuals and estimates, push in rounds with the lanes
// sharing the frontier's edges, and select the top k (k <= 128) in
// registers. A seed whose vector outgrows its table is reported in
// PPRResult.Overflowed with an empty row for the caller to recompute on the
// CPU (gopkg/ppr, through gopkg/ppr/pprcuda, does so and splices the rows
// in with ppr.Result.ReplaceRows), so its results are always complete. Seeds are processed in as many launches as the output buffers
// within PPROptions.MemBudget require.
//
// # Caches
//
// Compiled kernels are cached on disk in CacheDir() ($IBMB_CACHE_DIR, else
// os.UserCacheDir()/ibmb/kernels), keyed by source hash, architecture,
// NVRTC version and options, written atomically and checksummed (a damaged
// entry is recompiled). Loaded modules and functions are cached in memory
// per device, so a Gather call never loads a module after the first one.
//
// # Environment
//
//	IBMB_NVRTC       path of the NVRTC library to use
//	IBMB_NVRTC_DIRS  directories to search for libnvrtc.so*
//	IBMB_CACHE_DIR   kernel cache directory
//	IBMB_LIBCUDA     driver library to load instead of libcuda.so.1 (tests)
//
// The tests additionally honour IBMB_REQUIRE_NVRTC=1 (fail instead of skip
// when NVRTC is missing). Without a GPU they run the GPU tests against a
// CPU-emulated fake driver (testdata/fakecuda) that executes the real
// kernels of cuda/gather.cu and cuda/ppr.cu (the latter with every CUDA
// thread as a coroutine, so that warp shuffles, ballots and __syncwarp
// work, and with randomized interleavings at atomics).
package cuda
