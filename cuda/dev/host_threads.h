// Runs the library's simple CUDA kernels (no tensor cores, no warp shuffles, no atomics) on the host,
// compiled by a C++20 host compiler, so that a machine without a GPU can execute them: a block is
// blockDim.x std::threads, __syncthreads() is a std::barrier, __shared__ arrays are function statics
// (the blocks of a launch run one after another, so one copy serves them all), threadIdx / blockIdx
// are thread_local. Include it before the kernels' .cu files; it includes the CUDA headers the
// kernels need first and then replaces CUDA's execution-space keywords.
//
// What it checks: indexing, tails, the block's thread layout, barriers and shared-memory use, and the
// arithmetic as written (float is float on both). What it cannot: the GPU's scheduling, memory model
// and timing, PTX-level contraction choices. It is the test that a kernel computes the right values,
// not a substitute for the gpu tests.
#pragma once
#include <vector_types.h>
#include <vector_functions.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#undef __device__
#undef __global__
#undef __host__
#undef __forceinline__
#undef __launch_bounds__
#undef __shared__
#define __device__
#define __global__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static

struct HostDim { unsigned x = 1, y = 1, z = 1; };
inline thread_local HostDim threadIdx, blockIdx;
inline HostDim blockDim, gridDim;
inline std::barrier<>* host_block_barrier = nullptr;

inline void __syncthreads() { host_block_barrier->arrive_and_wait(); }
// Every thread of the block gets whether any thread passed a non-zero value.
inline int host_or_flag;
inline int __syncthreads_or(int v) {
    __syncthreads();
    if (threadIdx.x == 0) __atomic_store_n(&host_or_flag, 0, __ATOMIC_SEQ_CST);
    __syncthreads();
    if (v) __atomic_store_n(&host_or_flag, 1, __ATOMIC_SEQ_CST);
    __syncthreads();
    const int r = __atomic_load_n(&host_or_flag, __ATOMIC_SEQ_CST);
    __syncthreads();
    return r;
}

template <typename T> inline T __ldg(const T* p) { return *p; }
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __expf(float a) { return expf(a); }
inline unsigned __float_as_uint(float f) { unsigned u; memcpy(&u, &f, 4); return u; }
inline float __uint_as_float(unsigned u) { float f; memcpy(&f, &u, 4); return f; }
inline float __int_as_float(int u) { float f; memcpy(&f, &u, 4); return f; }
inline size_t __cvta_generic_to_shared(const void* p) { return (size_t)p; }
// Warp shuffles have no host meaning here; a kernel that reaches one stops the program.
inline float __shfl_xor_sync(unsigned, float, int) { abort(); }

// Runs kernel() as a (gx, gy) grid of `threads`-thread blocks: the block's threads are created once
// and walk the blocks in order, meeting at a barrier after each.
template <typename Kernel>
void host_launch(unsigned gx, unsigned gy, unsigned threads, Kernel kernel) {
    gridDim = {gx, gy, 1};
    blockDim = {threads, 1, 1};
    std::barrier<> bar((std::ptrdiff_t)threads);
    host_block_barrier = &bar;
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; t++) {
        pool.emplace_back([&, t] {
            threadIdx = {t, 0, 0};
            for (unsigned by = 0; by < gy; by++) {
                for (unsigned bx = 0; bx < gx; bx++) {
                    blockIdx = {bx, by, 0};
                    kernel();
                    bar.arrive_and_wait();
                }
            }
        });
    }
    for (std::thread& th : pool) th.join();
    host_block_barrier = nullptr;
}
