// cuda_emu.h - just enough of the CUDA device built-ins to compile
// cuda/gather.cu as ordinary C++ and run its kernels on the CPU, one thread
// after another (test use only; see fakecuda.cpp).
//
// Sequential execution is a valid schedule for the gather kernels: they use
// no shared memory, no barriers and no inter-thread communication besides
// atomicMin.
//
// Every load through __ldg is checked to be aligned to its size and to lie
// inside a live fake allocation, so the emulation catches a wrong fast-path
// choice or an out-of-bounds read that real hardware might silently allow.
#ifndef IBMB_CUDA_EMU_H
#define IBMB_CUDA_EMU_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define __global__
#define __device__
#define __forceinline__ inline

struct uint4 {
    unsigned int x, y, z, w;
};
struct uint2 {
    unsigned int x, y;
};
struct ibmb_emu_dim3 {
    unsigned int x, y, z;
};

static ibmb_emu_dim3 threadIdx, blockIdx, blockDim, gridDim;

// Implemented in fakecuda.cpp: is [p, p+n) inside a live allocation?
static bool ibmb_emu_in_alloc(const void *p, size_t n);

template <typename T>
static inline T __ldg(const T *p) {
    if ((uintptr_t)p % sizeof(T) != 0) {
        fprintf(stderr, "fakecuda: misaligned %zu-byte load at %p\n", sizeof(T), (const void *)p);
        abort();
    }
    if (!ibmb_emu_in_alloc(p, sizeof(T))) {
        fprintf(stderr, "fakecuda: out-of-bounds %zu-byte load at %p\n", sizeof(T), (const void *)p);
        abort();
    }
    return *p;
}

static inline unsigned long long atomicMin(unsigned long long *a, unsigned long long v) {
    unsigned long long old = *a;
    if (v < old) *a = v;
    return old;
}

#endif
