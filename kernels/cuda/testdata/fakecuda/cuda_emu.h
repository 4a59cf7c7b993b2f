// cuda_emu.h - just enough of the CUDA device built-ins to compile
// cuda/gather.cu and cuda/ppr.cu as ordinary C++ and run their kernels on
// the CPU (test use only; see fakecuda.cpp).
//
// Two execution modes, chosen per kernel by fakecuda.cpp:
//
//   * sequential: threads run one after another to completion.  Valid for
//     the gather kernels, which use no barriers and no inter-thread
//     communication besides atomicMin.
//   * fibers: every CUDA thread of the resident blocks is a user-space
//     coroutine on the calling OS thread, so warp-synchronous code works:
//     the warp intrinsics below (__shfl*_sync, __ballot_sync, __syncwarp)
//     are collectives in which every lane of the warp deposits its value and
//     waits for the others.  Lanes also give up the CPU at random at atomics
//     and __ldcg loads (the reads of shared state), so races between lanes
//     and between warps are exercised in many interleavings.  The emulation
//     aborts with a message when a collective is reached by only some lanes
//     (divergence), with a partial mask, after lanes exited, or when the
//     lanes of a warp reach different kinds of collectives.
//
// Every load through __ldg / __ldcg, store through __stcg and atomic is
// checked to be aligned to its size and to lie inside a live fake
// allocation, so the emulation catches a wrong fast-path choice or an
// out-of-bounds access that real hardware might silently allow.
#ifndef IBMB_CUDA_EMU_H
#define IBMB_CUDA_EMU_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(...)

struct uint4 {
    unsigned int x, y, z, w;
};
struct uint2 {
    unsigned int x, y;
};
struct ibmb_emu_dim3 {
    unsigned int x, y, z;
};

// The scheduler sets threadIdx and blockIdx before it resumes a thread.
static ibmb_emu_dim3 threadIdx, blockIdx, blockDim, gridDim;

// Implemented in fakecuda.cpp.
static bool ibmb_emu_in_alloc(const void *p, size_t n);  // [p, p+n) inside a live allocation?
static void ibmb_emu_preempt(void);                       // maybe switch to another thread
// Warp collective: deposits v for the calling lane, waits for all 32 lanes
// and returns the 32 deposited values (valid until the next collective).
static const uint64_t *ibmb_emu_warp_exchange(int op, unsigned mask, uint64_t v);
static unsigned ibmb_emu_lane(void);

enum {
    IBMB_EMU_SHFL = 1,
    IBMB_EMU_SHFL_UP,
    IBMB_EMU_SHFL_DOWN,
    IBMB_EMU_SHFL_XOR,
    IBMB_EMU_BALLOT,
    IBMB_EMU_SYNCWARP,
};

static inline void ibmb_emu_check(const void *p, size_t n, const char *what) {
    if ((uintptr_t)p % n != 0) {
        fprintf(stderr, "fakecuda: misaligned %zu-byte %s at %p\n", n, what, p);
        abort();
    }
    if (!ibmb_emu_in_alloc(p, n)) {
        fprintf(stderr, "fakecuda: out-of-bounds %zu-byte %s at %p\n", n, what, p);
        abort();
    }
}

template <typename T>
static inline T __ldg(const T *p) {
    ibmb_emu_check(p, sizeof(T), "load");
    return *p;
}

// Loads of data other threads write (ld.global.cg on the GPU).
template <typename T>
static inline T __ldcg(const T *p) {
    ibmb_emu_check(p, sizeof(T), "load");
    ibmb_emu_preempt();
    return *(const volatile T *)p;
}

template <typename T>
static inline void __stcg(T *p, T v) {
    ibmb_emu_check(p, sizeof(T), "store");
    *(volatile T *)p = v;
}

// ---- atomics (the fibers share one OS thread: a plain read-modify-write
// between two preemption points is atomic) ----------------------------------

// One atomic read-modify-write at a preemption point: *a = f(old); returns
// old.  Each CUDA atomic below is one overload per type CUDA defines.
template <typename T, typename F>
static inline T ibmb_emu_rmw(T *a, F f) {
    ibmb_emu_check(a, sizeof(T), "atomic");
    ibmb_emu_preempt();
    const T old = *a;
    *a = f(old);
    return old;
}

#define IBMB_EMU_ATOMIC2(NAME, T, EXPR) \
    static inline T NAME(T *a, T v) { return ibmb_emu_rmw(a, [=](T old) { return (T)(EXPR); }); }

IBMB_EMU_ATOMIC2(atomicMin, unsigned long long, v < old ? v : old)
IBMB_EMU_ATOMIC2(atomicOr, unsigned, old | v)
IBMB_EMU_ATOMIC2(atomicAdd, int, old + v)
IBMB_EMU_ATOMIC2(atomicAdd, unsigned, old + v)
IBMB_EMU_ATOMIC2(atomicAdd, unsigned long long, old + v)
IBMB_EMU_ATOMIC2(atomicAdd, float, old + v)
IBMB_EMU_ATOMIC2(atomicAdd, double, old + v)
IBMB_EMU_ATOMIC2(atomicExch, int, v)
IBMB_EMU_ATOMIC2(atomicExch, unsigned, v)
IBMB_EMU_ATOMIC2(atomicExch, unsigned long long, v)

#define IBMB_EMU_CAS(T) \
    static inline T atomicCAS(T *a, T c, T v) { return ibmb_emu_rmw(a, [=](T old) { return old == c ? v : old; }); }
IBMB_EMU_CAS(int)
IBMB_EMU_CAS(unsigned)
IBMB_EMU_CAS(unsigned long long)

// ---- bit casts and bit counts ----------------------------------------------

template <typename To, typename From>
static inline To ibmb_emu_bitcast(From v) {
    static_assert(sizeof(To) == sizeof(From), "size mismatch");
    To t;
    memcpy(&t, &v, sizeof t);
    return t;
}
static inline long long __double_as_longlong(double v) { return ibmb_emu_bitcast<long long>(v); }
static inline double __longlong_as_double(long long v) { return ibmb_emu_bitcast<double>(v); }
static inline unsigned __float_as_uint(float v) { return ibmb_emu_bitcast<unsigned>(v); }
static inline float __uint_as_float(unsigned v) { return ibmb_emu_bitcast<float>(v); }
static inline int __float_as_int(float v) { return ibmb_emu_bitcast<int>(v); }
static inline float __int_as_float(int v) { return ibmb_emu_bitcast<float>(v); }

static inline int __popc(unsigned v) { return __builtin_popcount(v); }
static inline int __popcll(unsigned long long v) { return __builtin_popcountll(v); }
static inline int __ffs(int v) { return __builtin_ffs(v); }
static inline int __ffsll(long long v) { return __builtin_ffsll(v); }
static inline int __clz(int v) { return v == 0 ? 32 : __builtin_clz((unsigned)v); }
static inline int __clzll(long long v) { return v == 0 ? 64 : __builtin_clzll((unsigned long long)v); }

// ---- warp collectives ------------------------------------------------------

template <typename T>
static inline uint64_t ibmb_emu_to_bits(T v) {
    static_assert(sizeof(T) <= 8, "shuffle of a type wider than 8 bytes");
    uint64_t b = 0;
    memcpy(&b, &v, sizeof v);
    return b;
}
template <typename T>
static inline T ibmb_emu_from_bits(uint64_t b) {
    T v;
    memcpy(&v, &b, sizeof v);
    return v;
}

static inline void ibmb_emu_width(int width) {
    if (width != 32) {
        fprintf(stderr, "fakecuda: shuffle width %d is not emulated (only 32)\n", width);
        abort();
    }
}

template <typename T>
static inline T __shfl_sync(unsigned mask, T v, int src, int width = 32) {
    ibmb_emu_width(width);
    const uint64_t *all = ibmb_emu_warp_exchange(IBMB_EMU_SHFL, mask, ibmb_emu_to_bits(v));
    return ibmb_emu_from_bits<T>(all[src & 31]);
}

template <typename T>
static inline T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32) {
    ibmb_emu_width(width);
    const uint64_t *all = ibmb_emu_warp_exchange(IBMB_EMU_SHFL_UP, mask, ibmb_emu_to_bits(v));
    const unsigned lane = ibmb_emu_lane();
    return lane >= delta ? ibmb_emu_from_bits<T>(all[lane - delta]) : v;
}

template <typename T>
static inline T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
    ibmb_emu_width(width);
    const uint64_t *all = ibmb_emu_warp_exchange(IBMB_EMU_SHFL_DOWN, mask, ibmb_emu_to_bits(v));
    const unsigned lane = ibmb_emu_lane();
    return lane + delta < 32 ? ibmb_emu_from_bits<T>(all[lane + delta]) : v;
}

template <typename T>
static inline T __shfl_xor_sync(unsigned mask, T v, int laneMask, int width = 32) {
    ibmb_emu_width(width);
    const uint64_t *all = ibmb_emu_warp_exchange(IBMB_EMU_SHFL_XOR, mask, ibmb_emu_to_bits(v));
    return ibmb_emu_from_bits<T>(all[(ibmb_emu_lane() ^ (unsigned)laneMask) & 31]);
}

static inline unsigned __ballot_sync(unsigned mask, int pred) {
    const uint64_t *all = ibmb_emu_warp_exchange(IBMB_EMU_BALLOT, mask, pred != 0);
    unsigned m = 0;
    for (int i = 0; i < 32; i++) m |= (unsigned)(all[i] != 0) << i;
    return m;
}
static inline int __any_sync(unsigned mask, int pred) { return __ballot_sync(mask, pred) != 0; }
static inline int __all_sync(unsigned mask, int pred) { return __ballot_sync(mask, pred) == 0xffffffffu; }

static inline void __syncwarp(unsigned mask = 0xffffffffu) { ibmb_emu_warp_exchange(IBMB_EMU_SYNCWARP, mask, 0); }

#endif
