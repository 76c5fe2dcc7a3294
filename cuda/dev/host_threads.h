// Runs the library's CUDA kernels that use no Hopper features (no wgmma, TMA or mbarriers; no warp
// shuffles or atomics; mma.sync, ldmatrix and cp.async are emulated below) on the host,
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

#include <atomic>
#include <barrier>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <type_traits>
#include <unordered_map>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#define JX_HOST_THREADS 1  // common.cuh then leaves its inline-PTX helpers to the emulations below

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
// A shared address is the byte offset into the launch's dynamic shared memory (the "window", 1024-byte aligned
// as the Hopper kernels align their tiles), as on the device: the 128-byte swizzle sees the same address bits.
inline std::vector<unsigned char> host_dynamic_shared_bytes;
inline unsigned char* host_dynamic_shared_window() {
    const uintptr_t p = reinterpret_cast<uintptr_t>(host_dynamic_shared_bytes.data());
    return reinterpret_cast<unsigned char*>((p + 1023) & ~(uintptr_t)1023);
}
inline size_t host_shared_window_bytes = 0;
inline size_t __cvta_generic_to_shared(const void* p) {
    const unsigned char* c = static_cast<const unsigned char*>(p);
    if (c < host_dynamic_shared_window() || c >= host_dynamic_shared_window() + host_shared_window_bytes) {
        fprintf(stderr, "smem_addr of a pointer outside the dynamic shared memory\n");
        abort();
    }
    return (size_t)(c - host_dynamic_shared_window());
}
#undef __grid_constant__
#define __grid_constant__
#undef __noinline__
#define __noinline__
inline void __threadfence_system() { std::atomic_thread_fence(std::memory_order_seq_cst); }
// Warp shuffles have no host meaning here; a kernel that reaches one stops the program.
inline float __shfl_xor_sync(unsigned, float, int) { abort(); }

// ------------------------------------------------------------------ dynamic shared memory
// One buffer for the launch: blocks run one after another, so they can share it.
#define JX_DYNAMIC_SHARED(type, name) type* name = reinterpret_cast<type*>(host_dynamic_shared_window())

// ------------------------------------------------------------------ warp-collective instructions
// ldmatrix and mma.sync exchange registers between the 32 lanes of a warp: each lane publishes its
// operands in a per-warp table, the warp meets at a barrier, each lane reads what the PTX ISA's
// fragment layouts give it, and the warp meets again before the table is reused.
inline std::vector<std::unique_ptr<std::barrier<>>> host_warp_barriers;
inline void host_warp_sync() { host_warp_barriers[threadIdx.x / 32]->arrive_and_wait(); }
inline void __syncwarp() { host_warp_sync(); }
// The 128 threads of a warpgroup (4 warps): where a .sync.aligned warpgroup instruction (wgmma's wait) makes
// the hardware's warps converge, the emulation's independently running lanes meet here.
inline std::vector<std::unique_ptr<std::barrier<>>> host_warpgroup_barriers;
inline void host_warpgroup_sync() { host_warpgroup_barriers[threadIdx.x / 128]->arrive_and_wait(); }
// bar.sync id, count (ids 1..15; 0 is __syncthreads): one barrier per id, made on first use with its count.
inline std::mutex host_named_mutex;
inline std::unique_ptr<std::barrier<>> host_named_barriers[16];
inline void host_named_barrier(int id, int count) {
    std::barrier<>* b;
    {
        std::lock_guard<std::mutex> g(host_named_mutex);
        if (!host_named_barriers[id]) host_named_barriers[id] = std::make_unique<std::barrier<>>(count);
        b = host_named_barriers[id].get();
    }
    b->arrive_and_wait();
}
inline const void* host_warp_addresses[32][32];
inline uint32_t host_warp_a[32][32][4], host_warp_b[32][32][2];

inline uint16_t host_half_word(uint32_t r, int half) { return (uint16_t)(half ? r >> 16 : r & 0xFFFF); }
inline float host_bf16_bits(uint16_t v) { return __uint_as_float((uint32_t)v << 16); }
inline float host_f16_bits(uint16_t v) { __half_raw r; r.x = v; return __half2float(__half(r)); }

// Four 8x8 16-bit matrices; lane l gives the address of row (l % 8) of matrix (l / 8); r[i] of lane l
// holds matrix i's row l / 4, columns 2 (l % 4) and 2 (l % 4) + 1 (low half first); .trans: column
// l / 4 of rows 2 (l % 4) and 2 (l % 4) + 1.
inline void host_ldmatrix_x4(uint32_t (&r)[4], const void* p, bool trans) {
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    host_warp_addresses[warp][lane] = p;
    host_warp_sync();
    for (int i = 0; i < 4; i++) {
        uint16_t lo, hi;
        if (!trans) {
            const uint16_t* row = static_cast<const uint16_t*>(host_warp_addresses[warp][i * 8 + lane / 4]);
            lo = row[2 * (lane % 4)];
            hi = row[2 * (lane % 4) + 1];
        } else {
            lo = static_cast<const uint16_t*>(host_warp_addresses[warp][i * 8 + 2 * (lane % 4)])[lane / 4];
            hi = static_cast<const uint16_t*>(host_warp_addresses[warp][i * 8 + 2 * (lane % 4) + 1])[lane / 4];
        }
        r[i] = (uint32_t)lo | ((uint32_t)hi << 16);
    }
    host_warp_sync();
}
inline void ldmatrix_x4(uint32_t (&r)[4], const void* p) { host_ldmatrix_x4(r, p, false); }
inline void ldmatrix_x4_trans(uint32_t (&r)[4], const void* p) { host_ldmatrix_x4(r, p, true); }

// mma.sync m16n8k16 row.col, fp32 accumulate. Lane l = 4 g + t. A (16x16): a[0] = (g, 2t..2t+1),
// a[1] = (g+8, 2t..), a[2] = (g, 8+2t..), a[3] = (g+8, 8+2t..); B (16x8): b0 = (k 2t..2t+1, n g),
// b1 = (k 8+2t.., n g); D: d0, d1 = (g, 2t..2t+1), d2, d3 = (g+8, 2t..2t+1). Products are exact in
// float; they are added in k order in float (the hardware's internal order and rounding differ).
inline void host_mma_16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1, bool bf16) {
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    for (int i = 0; i < 4; i++) host_warp_a[warp][lane][i] = a[i];
    host_warp_b[warp][lane][0] = b0;
    host_warp_b[warp][lane][1] = b1;
    host_warp_sync();
    auto value = [bf16](uint32_t r, int half) { return bf16 ? host_bf16_bits(host_half_word(r, half)) : host_f16_bits(host_half_word(r, half)); };
    auto A = [&](int row, int k) { return value(host_warp_a[warp][(row % 8) * 4 + (k % 8) / 2][(row >= 8) + 2 * (k >= 8)], k % 2); };
    auto B = [&](int k, int n) { return value(host_warp_b[warp][n * 4 + (k % 8) / 2][k >= 8], k % 2); };
    const int g = lane / 4, t = lane % 4;
    for (int i = 0; i < 4; i++) {
        const int row = g + (i >= 2 ? 8 : 0), col = 2 * t + (i % 2);
        float s = d[i];
        for (int k = 0; k < 16; k++) s += A(row, k) * B(k, col);
        d[i] = s;
    }
    host_warp_sync();
}
inline void mma_bf16_16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) { host_mma_16816(d, a, b0, b1, true); }
inline void mma_f16_16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) { host_mma_16816(d, a, b0, b1, false); }
// m16n8k8 tf32: a[0] = (g, t), a[1] = (g+8, t), a[2] = (g, t+4), a[3] = (g+8, t+4); b0 = (k t, n g), b1 = (k t+4, n g).
inline void mma_tf32_1688(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    for (int i = 0; i < 4; i++) host_warp_a[warp][lane][i] = a[i];
    host_warp_b[warp][lane][0] = b0;
    host_warp_b[warp][lane][1] = b1;
    host_warp_sync();
    auto A = [&](int row, int k) { return __uint_as_float(host_warp_a[warp][(row % 8) * 4 + k % 4][(row >= 8) + 2 * (k >= 4)]); };
    auto B = [&](int k, int n) { return __uint_as_float(host_warp_b[warp][n * 4 + k % 4][k >= 4]); };
    const int g = lane / 4, t = lane % 4;
    for (int i = 0; i < 4; i++) {
        const int row = g + (i >= 2 ? 8 : 0), col = 2 * t + (i % 2);
        float s = d[i];
        for (int k = 0; k < 8; k++) s += A(row, k) * B(k, col);
        d[i] = s;
    }
    host_warp_sync();
}
// cvt.rna.tf32.f32: 10 mantissa bits, round to nearest, ties away from zero.
inline float round_tf32(float v) {
    const uint32_t u = __float_as_uint(v);
    if ((u & 0x7F800000u) == 0x7F800000u) return v;
    return __uint_as_float((u + 0x1000u) & ~0x1FFFu);
}

// cp.async: the copy happens at once (zeros past srcBytes), so commit and wait have nothing to do.
inline void cp_async16(void* dst, const void* src, int srcBytes) {
    unsigned char tmp[16] = {};
    memcpy(tmp, src, (size_t)srcBytes);
    memcpy(dst, tmp, 16);
}
inline void cp_async16(void* dst, const void* src, bool valid) { cp_async16(dst, src, valid ? 16 : 0); }  // stem.cu's form
inline void cp_async_commit() {}
template <int N> inline void cp_async_wait() {}

// Runs kernel() as a (gx, gy) grid of `threads`-thread blocks with `sharedBytes` of dynamic shared
// memory: the block's threads are created once and walk the blocks in order, meeting at a barrier
// after each.
template <typename Kernel>
void host_launch(unsigned gx, unsigned gy, unsigned threads, Kernel kernel, size_t sharedBytes = 0) {
    gridDim = {gx, gy, 1};
    blockDim = {threads, 1, 1};
    host_dynamic_shared_bytes.assign(sharedBytes + 1024, 0xA5);  // not zeros: a kernel that reads before it writes shows it
    host_shared_window_bytes = sharedBytes;
    for (auto& nb : host_named_barriers) nb.reset();
    host_warp_barriers.clear();
    for (unsigned w = 0; w < (threads + 31) / 32; w++) host_warp_barriers.push_back(std::make_unique<std::barrier<>>(32));
    host_warpgroup_barriers.clear();
    for (unsigned g = 0; g < threads / 128; g++) host_warpgroup_barriers.push_back(std::make_unique<std::barrier<>>(128));
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
