// Hopper (sm_90a) building blocks shared by the wgmma kernels: mbarrier waits with a hang detector,
// TMA loads and stores (cp.async.bulk.tensor), warpgroup MMA (wgmma.mma_async) from shared-memory
// descriptors with the 128-byte swizzle (bf16, fp16 and tf32 operands), setmaxnreg, and 16-bit packing. Only for modules compiled to an
// sm_90a cubin (the first line of such a module says "jx-arch: sm_90a"; cuda/build.sh reads it): wgmma and
// setmaxnreg do not exist on plain sm_90 nor on any other architecture.
#pragma once
#include "common.cuh"
#include <cuda.h>  // CUtensorMap (the 128-byte opaque descriptor; kernels take it as a __grid_constant__ parameter)
#include <type_traits>

namespace hopper {
// Where a wait timed out: written just before the trap when the kernel was given a (host-mapped) HangInfo;
// the dev programs print it, the library passes null and reports the failed launch.
struct HangInfo {
    int hung, role, block, tile, kb, stage, parity, pad;
};

// wgmma shared-memory descriptor for a K-major tile with 128-byte swizzle: rows of 128 bytes (64 16-bit or
// 32 fp32 elements), 8-row groups 1024 bytes apart (stride byte offset), the leading byte offset unused by
// this layout (1 by convention). Bits: 0-13 start address >> 4, 16-29 LBO >> 4, 32-45 SBO >> 4,
// 49-51 base offset (0: the tile is 1024-byte aligned), 62-63 swizzle (1 = 128 bytes).
// One wgmma K step (k16 of 16-bit, k8 of tf32) is 32 bytes of each row: step s of a stage starts at
// descriptor + 2 * s (the address field counts 16-byte units), four steps per 128-byte row.
__device__ __forceinline__ uint64_t desc_k_major_sw128(uint32_t smemAddr) {
    return (uint64_t)((smemAddr & 0x3FFFF) >> 4) | ((uint64_t)1 << 16) | ((uint64_t)(1024 >> 4) << 32) | ((uint64_t)1 << 62);
}

// wgmma shared-memory descriptor for an MN-major tile (16-bit only: the transpose bits exist for f16/bf16) with
// 128-byte swizzle, as a TMA box of (K rows) x (64 MN elements = 128 bytes) with 128-byte swizzle lands: each
// K row is one 128-byte row holding 64 consecutive M (or N) elements. The canonical MN-major layout
// (CuTe's, in 16-byte units) ((8, n), (8, k)) : ((1, LBO), (8, SBO)): 64 MN elements per 128-byte row, the 8 K
// rows of a group 128 bytes apart, K groups SBO bytes apart (1024: rows are consecutive), 64-element MN
// atoms LBO bytes apart (where the next box along M or N starts). One wgmma K step (k16) is 16 K rows = 2048
// bytes: step s starts at descriptor + 128 * s (16-byte units), a multiple of the 1024-byte swizzle period.
__host__ __device__ __forceinline__ uint64_t desc_mn_major_sw128(uint32_t smemAddr, uint32_t lboBytes) {
    return (uint64_t)((smemAddr & 0x3FFFF) >> 4) | ((uint64_t)((lboBytes & 0x3FFFF) >> 4) << 16) | ((uint64_t)(1024 >> 4) << 32) |
           ((uint64_t)1 << 62);
}

// ------------------------------------------------------------------ PTX wrappers (sm_90 / sm_90a)
// (With JX_HOST_THREADS, the dev checks' host build, cuda/dev/host_hopper.h emulates every wrapper of this
// section on host threads instead.)
#ifndef JX_HOST_THREADS
__device__ __forceinline__ void mbar_init(uint64_t* bar, uint32_t count) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(smem_addr(bar)), "r"(count) : "memory");
}
// Makes the initialised barriers visible to the TMA unit (async proxy) and the other threads.
__device__ __forceinline__ void mbar_init_fence() { asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory"); }
__device__ __forceinline__ void mbar_arrive(uint64_t* bar) {
    asm volatile("{\n.reg .b64 st;\nmbarrier.arrive.shared::cta.b64 st, [%0];\n}" ::"r"(smem_addr(bar)) : "memory");
}
// One arrival plus `bytes` of expected transactions: the phase completes when the TMA loads have landed.
__device__ __forceinline__ void mbar_arrive_expect_tx(uint64_t* bar, uint32_t bytes) {
    asm volatile("{\n.reg .b64 st;\nmbarrier.arrive.expect_tx.shared::cta.b64 st, [%0], %1;\n}" ::"r"(smem_addr(bar)), "r"(bytes)
                 : "memory");
}
__device__ __forceinline__ bool mbar_try_wait(uint32_t bar, uint32_t parity) {
    uint32_t done;
    asm volatile("{\n.reg .pred p;\nmbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\nselp.b32 %0, 1, 0, p;\n}"
                 : "=r"(done)
                 : "r"(bar), "r"(parity)
                 : "memory");
    return done != 0;
}
__device__ __forceinline__ uint64_t globaltimer_ns() {
    uint64_t t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    return t;
}

// TMA: box of the 2-D tensor map at element coordinates (c0 = column, c1 = row) -> shared memory,
// completing `bytes` transactions on `bar` (a CTA's own shared address is valid in the cluster window).
__device__ __forceinline__ void tma_load_2d(void* dst, const CUtensorMap* map, int c0, int c1, uint64_t* bar) {
    asm volatile("cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], [%4];"
                 ::"r"(smem_addr(dst)), "l"(reinterpret_cast<uint64_t>(map)), "r"(c0), "r"(c1), "r"(smem_addr(bar))
                 : "memory");
}
// TMA store: shared memory -> the box at (c0, c1); elements outside the tensor are not written.
__device__ __forceinline__ void tma_store_2d(const CUtensorMap* map, const void* src, int c0, int c1) {
    asm volatile("cp.async.bulk.tensor.2d.global.shared::cta.tile.bulk_group [%0, {%1, %2}], [%3];"
                 ::"l"(reinterpret_cast<uint64_t>(map)), "r"(c0), "r"(c1), "r"(smem_addr(src))
                 : "memory");
}
__device__ __forceinline__ void bulk_commit() { asm volatile("cp.async.bulk.commit_group;" ::: "memory"); }
template <int N> __device__ __forceinline__ void bulk_wait_read() { asm volatile("cp.async.bulk.wait_group.read %0;" ::"n"(N) : "memory"); }
template <int N> __device__ __forceinline__ void bulk_wait() { asm volatile("cp.async.bulk.wait_group %0;" ::"n"(N) : "memory"); }
__device__ __forceinline__ void prefetch_tensormap(const CUtensorMap* map) {
    asm volatile("prefetch.tensormap [%0];" ::"l"(reinterpret_cast<uint64_t>(map)) : "memory");
}
// Ordinary shared-memory stores -> visible to the async proxy (the TMA store that reads them next).
__device__ __forceinline__ void fence_proxy_async_shared() { asm volatile("fence.proxy.async.shared::cta;" ::: "memory"); }
// Barrier among the 128 threads of one consumer warpgroup (ids 1, 2; 0 is __syncthreads).
__device__ __forceinline__ void warpgroup_barrier(int id) { asm volatile("bar.sync %0, 128;" ::"r"(id) : "memory"); }

template <int REGS> __device__ __forceinline__ void setmaxnreg_inc() { asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;" ::"n"(REGS)); }
template <int REGS> __device__ __forceinline__ void setmaxnreg_dec() { asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;" ::"n"(REGS)); }

__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;" ::: "memory"); }
__device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory"); }
template <int N> __device__ __forceinline__ void wgmma_wait() { asm volatile("wgmma.wait_group.sync.aligned %0;" ::"n"(N) : "memory"); }
// Keeps the compiler from moving accumulator reads or writes across a wgmma wait (the registers are
// written asynchronously by the tensor cores; only the wait orders them).
template <int R> __device__ __forceinline__ void fence_accumulators(float (&d)[R]) {
#pragma unroll
    for (int i = 0; i < R; i++) asm volatile("" : "+f"(d[i])::"memory");
}

// A wait that timed out: record where, make it visible to the host and trap (the launch fails).
__device__ __noinline__ void report_hang(HangInfo* hang, int role, int tile, int kb, int stage, uint32_t parity) {
    volatile HangInfo* h = hang;
    if (h) {
        h->role = role; h->block = blockIdx.x; h->tile = tile; h->kb = kb; h->stage = stage; h->parity = (int)parity;
        __threadfence_system();
        h->hung = 1;
        __threadfence_system();
    }
    asm volatile("trap;");
}

// D (64 x N fp32, N/2 registers per thread) = (accumulate ? D : 0) + A (64 x K) * B (K x N), K = 16 for
// 16-bit operands and 8 for tf32 (32 bytes of a row either way); A and B K-major in shared memory, scale
// factors 1. OP is the instruction's shape-k and types ("k16.f32.bf16.bf16", "k8.f32.tf32.tf32"), TAIL the
// transpose immediates: ", 0, 0" (no transpose) for 16-bit; tf32 has none (the PTX ISA allows tf32 operands
// from shared memory only K-major, so the instruction takes no transpose operands).
// Accumulator layout (PTX "wgmma D fragment"): warp w of the warpgroup holds rows 16w + lane/4 (d[4j], d[4j+1])
// and 16w + lane/4 + 8 (d[4j+2], d[4j+3]), columns 8j + 2*(lane%4) + {0, 1}, for j = 0 .. N/8 - 1 (the same
// for every operand type).
#define JX_WGMMA_N256(OP, TAIL) \
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %130, 0;\n" \
        "wgmma.mma_async.sync.aligned.m64n256" OP " {" \
        "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15," \
        "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31," \
        "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47," \
        "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63," \
        "%64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79," \
        "%80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95," \
        "%96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111," \
        "%112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127" \
        "}, %128, %129, p, 1, 1" TAIL ";\n}\n" \
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), \
          "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), \
          "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), \
          "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), \
          "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), \
          "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), \
          "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), \
          "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]), \
          "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]), "+f"(d[70]), "+f"(d[71]), \
          "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]), "+f"(d[77]), "+f"(d[78]), "+f"(d[79]), \
          "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]), "+f"(d[84]), "+f"(d[85]), "+f"(d[86]), "+f"(d[87]), \
          "+f"(d[88]), "+f"(d[89]), "+f"(d[90]), "+f"(d[91]), "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95]), \
          "+f"(d[96]), "+f"(d[97]), "+f"(d[98]), "+f"(d[99]), "+f"(d[100]), "+f"(d[101]), "+f"(d[102]), "+f"(d[103]), \
          "+f"(d[104]), "+f"(d[105]), "+f"(d[106]), "+f"(d[107]), "+f"(d[108]), "+f"(d[109]), "+f"(d[110]), "+f"(d[111]), \
          "+f"(d[112]), "+f"(d[113]), "+f"(d[114]), "+f"(d[115]), "+f"(d[116]), "+f"(d[117]), "+f"(d[118]), "+f"(d[119]), \
          "+f"(d[120]), "+f"(d[121]), "+f"(d[122]), "+f"(d[123]), "+f"(d[124]), "+f"(d[125]), "+f"(d[126]), "+f"(d[127]) \
        : "l"(descA), "l"(descB), "r"(accumulate))
#define JX_WGMMA_N128(OP, TAIL) \
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n" \
        "wgmma.mma_async.sync.aligned.m64n128" OP " {" \
        "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15," \
        "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31," \
        "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47," \
        "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63" \
        "}, %64, %65, p, 1, 1" TAIL ";\n}\n" \
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), \
          "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), \
          "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), \
          "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), \
          "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), \
          "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), \
          "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), \
          "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]) \
        : "l"(descA), "l"(descB), "r"(accumulate))

// One 32-byte K step of both operands (descriptors from desc_k_major_sw128): m64nBNk16 for T = bf16 / fp16,
// m64nBNk8 tf32 for T = float (the tensor cores read the fp32 words and use only their tf32 bits: sign,
// exponent and the top 10 mantissa bits; the low 13 bits are dropped, i.e. truncation toward zero).
// Both operands MN-major (desc_mn_major_sw128): the 16-bit instruction with both transpose immediates set.
template <typename T, int BN>
__device__ __forceinline__ void wgmma_step_mn_major(float (&d)[BN / 2], uint64_t descA, uint64_t descB, int accumulate) {
    static_assert(BN == 256 || BN == 128, "BN is 128 or 256");
    if constexpr (std::is_same<T, __nv_bfloat16>::value) {
        if constexpr (BN == 256) JX_WGMMA_N256("k16.f32.bf16.bf16", ", 1, 1"); else JX_WGMMA_N128("k16.f32.bf16.bf16", ", 1, 1");
    } else {
        static_assert(std::is_same<T, __half>::value, "MN-major operands are 16-bit (tf32 reads K-major only)");
        if constexpr (BN == 256) JX_WGMMA_N256("k16.f32.f16.f16", ", 1, 1"); else JX_WGMMA_N128("k16.f32.f16.f16", ", 1, 1");
    }
}

template <typename T, int BN>
__device__ __forceinline__ void wgmma_step(float (&d)[BN / 2], uint64_t descA, uint64_t descB, int accumulate) {
    static_assert(BN == 256 || BN == 128, "BN is 128 or 256");
    if constexpr (std::is_same<T, __nv_bfloat16>::value) {
        if constexpr (BN == 256) JX_WGMMA_N256("k16.f32.bf16.bf16", ", 0, 0"); else JX_WGMMA_N128("k16.f32.bf16.bf16", ", 0, 0");
    } else if constexpr (std::is_same<T, __half>::value) {
        if constexpr (BN == 256) JX_WGMMA_N256("k16.f32.f16.f16", ", 0, 0"); else JX_WGMMA_N128("k16.f32.f16.f16", ", 0, 0");
    } else {
        static_assert(std::is_same<T, float>::value, "operands are bf16, fp16 or fp32 read as tf32");
        if constexpr (BN == 256) JX_WGMMA_N256("k8.f32.tf32.tf32", ""); else JX_WGMMA_N128("k8.f32.tf32.tf32", "");
    }
}

#else
#include "dev/host_hopper.h"
#endif  // JX_HOST_THREADS

// The kernel's dynamic shared memory from its first 1024-byte boundary (the 128-byte swizzle's period: TMA
// boxes and wgmma descriptors of the tiles assume it); the kernels ask for 1 KiB more than they use.
__device__ __forceinline__ unsigned char* dynamic_shared_1024() {
    JX_DYNAMIC_SHARED(unsigned char, smem_raw);
    return smem_raw + ((1024 - (smem_addr(smem_raw) & 1023)) & 1023);
}

// A multi-stage pipeline's barriers, by thread 0 before the CTA's first __syncthreads: full[s] completes when
// fullArrivals arrive (with their expected TMA bytes), empty[s] when emptyArrivals consumers release the stage.
__device__ __forceinline__ void init_stage_barriers(uint64_t* full, uint64_t* empty, int stages, uint32_t fullArrivals, uint32_t emptyArrivals) {
    if (threadIdx.x != 0) return;
    for (int s = 0; s < stages; s++) {
        mbar_init(&full[s], fullArrivals);
        mbar_init(&empty[s], emptyArrivals);
    }
    mbar_init_fence();
}
// Waits for the phase of `bar` with the given parity. A wait longer than hangNs is a deadlock (a
// wrong byte count, a missed arrive): record where, make it visible to the host and trap, so the
// launch fails with an error instead of hanging the device step.
__device__ __forceinline__ void wait_parity(uint64_t* bar, uint32_t parity, HangInfo* hang, unsigned long long hangNs, int role, int tile,
                                            int kb, int stage) {
    const uint32_t a = smem_addr(bar);
    if (mbar_try_wait(a, parity)) return;
    const uint64_t t0 = globaltimer_ns();
    for (uint32_t spins = 1;; spins++) {
        if (mbar_try_wait(a, parity)) return;
        if ((spins & 1023) == 0 && globaltimer_ns() - t0 > hangNs) report_hang(hang, role, tile, kb, stage, parity);
    }
}

template <typename T> __device__ __forceinline__ uint32_t pack2(float a, float b);
template <> __device__ __forceinline__ uint32_t pack2<__nv_bfloat16>(float a, float b) {
    __nv_bfloat162 h = __floats2bfloat162_rn(a, b);
    return *reinterpret_cast<uint32_t*>(&h);
}
template <> __device__ __forceinline__ uint32_t pack2<__half>(float a, float b) {
    __half2 h = __floats2half2_rn(a, b);
    return *reinterpret_cast<uint32_t*>(&h);
}

// Two adjacent output elements of type T into shared memory at p (aligned to 2 * sizeof(T)): 16-bit rounded
// to nearest, fp32 stored as is.
template <typename T> __device__ __forceinline__ void store2(unsigned char* p, float a, float b) {
    if constexpr (std::is_same<T, float>::value) *reinterpret_cast<float2*>(p) = make_float2(a, b);
    else *reinterpret_cast<uint32_t*>(p) = pack2<T>(a, b);
}

}  // namespace hopper
