// pwgemm v1: the pointwise-convolution GEMM on Hopper's own path (sm_90a): wgmma from shared memory,
// TMA loads into a multi-stage mbarrier pipeline, one producer warpgroup and two consumer
// warpgroups (setmaxnreg), a persistent tile scheduler and a TMA-store epilogue. Issue #12, step 1.
//
// What it computes: the GEMM of cuda/sepgemm.cu's sepgemm_gemm_<math> (the "split" separable conv),
//   y[r, co] = postRelu?( (sum_k A[r, k] * W2[k, co]) * scale[co] + shift[co] + residual[r, co] )
// with fp32 accumulation and one rounding to 16 bits at the store, in the same order of operations
// (fmaf(acc, scale, shift), + residual, relu, round) so the two kernels may differ only by the fp32
// summation order inside the dot products.
//   A         (rows, kPad) 16-bit row-major: the depthwise output, exactly as sepgemm_dw_<math> writes it
//             (kPad = cin rounded up to 32, columns >= cin zero)
//   Bt        (cout, kPad) 16-bit row-major = W2 transposed (K-major, the layout wgmma reads without
//             a transpose), columns >= cin zero; packed once per weight buffer by pwgemm_pack_bt_<math>
//             from W2 (cin, cout) fp32 -- the only layout that differs from sepgemm (B there is (kPad, nPad))
//   scale, shift (cout) fp32 or null (identity); residual (rows, cout) 16-bit or null; y (rows, cout) 16-bit.
// The host offsets residual and y by row0 * cout when A is a chunk of M (SeparableGemmPath's chunks):
// the kernel sees a chunk as a whole problem, and y's tensor map clips the chunk's last tile.
//
// Tiles and roles (one CTA per SM, 384 threads, persistent):
//   tile       BM = 128 rows x BN = 256 (cout > 128) or 128 (cout <= 128) columns, BK = 64 per stage
//   warpgroup 0  producer, 40 registers: one thread waits for a free stage ("empty" mbarrier), arms the
//                stage's "full" mbarrier with the byte count and issues two TMA loads (A box 64 x 128,
//                Bt box 64 x BN, 128-byte swizzle, zero fill outside the tensor: the K and N tails and
//                rows beyond M come in as zeros, so the mainloop has no predicates; a box is clamped to a
//                tensor smaller than it, e.g. Bt of cout = 128 under BN = 256)
//   warpgroups 1, 2  consumers, 232 registers: rows [64 (wg-1), +64) of the tile; per stage four
//                wgmma.mma_async m64nBNk16 (bf16 or f16 in, fp32 accumulate: BN/2 registers per thread)
//                with both operands read from shared memory through descriptors; one wgmma group kept
//                in flight, each stage released by the 8 consumer warps (one arrive each) after the
//                group that read it has completed
//   epilogue   per consumer warpgroup and 64-column chunk: scale/shift, residual (4-byte loads in the
//                accumulator layout), ReLU, rounded once, written into a 64 x 64 swizzled staging buffer
//                (two per warpgroup, so a chunk's TMA store overlaps the next chunk's math) and stored by
//                one TMA store (rows >= `rows` and columns >= cout are clipped by the tensor map)
//   scheduler  tile t = blockIdx.x + i * gridDim.x, t -> (m tile t / nTiles, n tile t % nTiles): the CTAs
//                that share an A row tile run at the same time, so A leaves DRAM once and Bt stays in L2
// Shared memory, BN = 256: 4 stages x (16 KiB A + 32 KiB Bt) + 4 x 8 KiB staging + barriers = 225 KiB;
// BN = 128: 6 stages x (16 + 16 KiB) + 32 KiB = 224 KiB. Every tile is 1024-byte aligned (the 128-byte
// swizzle repeats every 8 rows of 128 bytes; TMA and the wgmma descriptors both address it that way).
//
// Changes from sepgemm_gemm (cp.async + ldmatrix + mma.sync m16n8k16, 128x128x32, 8 warps, 4 stages):
// the tensor cores read both operands straight from shared memory (no ldmatrix, no register
// fragments for A/B), a 64-deep K step per barrier instead of 32, TMA instead of per-thread cp.async,
// loads and MMA in different warps (the producer runs up to STAGES stages ahead, across tiles), 2x the
// tile, and 16-byte-row TMA stores instead of 4-byte pair stores.
//
// What main does: CHECK lines (fresh random inputs, never zeros; poisoned (NaN) outputs and a sentinel
// region after y; every variant against a naive fp32 GPU reference on every element and against a
// float64 CPU reference on sampled rows; wgmma against the mma.sync baseline; a bitwise repeat; a
// 7-CTA grid so each CTA walks many tiles and the pipeline phases wrap), then TABLE lines: every
// pointwise GEMM of Xception (34 separable convs, 11 distinct shapes) at batch 256 and 32, timed with
// CUDA events (3 warm-up rounds, median of 15; buffer sets rotated so the working set is >= 2x L2),
// for sepgemm_gemm (mma.sync, the in-run baseline), wgmma BN = 256 and BN = 128, each with ms, TFLOP/s
// (useful 2*M*N*K) and % of the 989 TFLOP/s dense bf16 datasheet peak of an H100/H200 SXM, and the speedup
// of the better wgmma over mma.sync.
// Exit status: 0 all checks passed, 2 a numerical check failed (timings still run), 1 a CUDA error
// (e.g. a trapped hang: the kernel traps after 2 s in one mbarrier wait and main prints which wait).
//
// Build (sm_90a: wgmma and setmaxnreg do not exist on plain sm_90; no -lcuda: cuTensorMapEncodeTiled
// comes from the driver through cudaGetDriverEntryPointByVersion):
// device-build: -gencode arch=compute_90a,code=sm_90a
//   nvcc -std=c++17 -O3 --Werror all-warnings -Xptxas -Werror -gencode arch=compute_90a,code=sm_90a \
//        -o pwgemm_v1 cuda/dev/pwgemm_v1.cu
// Run: ./pwgemm_v1 [all | check | small | time] [batches, default 256,32]
//   small: one small check per variant (for compute-sanitizer); time: tables only.
#include "../sepgemm.cu"
#include "dev_common.cuh"
#include <cuda.h>
#include <cudaTypedefs.h>
#include <cstring>
#include <ctime>
#include <string>
#include <type_traits>

namespace pwgemm {

constexpr int BM = 128;          // tile rows: 2 consumer warpgroups x 64 (wgmma's M)
constexpr int BK = 64;           // K per stage: 64 x 2 bytes = one 128-byte swizzle row
constexpr int THREADS = 384;     // warpgroup 0 produces, warpgroups 1 and 2 consume
constexpr int EPI = 64;          // epilogue chunk: 64 rows x 64 columns (128-byte rows), one TMA store
constexpr int PRODUCER_REGS = 40, CONSUMER_REGS = 232;  // 128*40 + 256*232 = 64,512 <= 65,536

template <int BN> struct Config {
    static constexpr int STAGES = BN == 256 ? 4 : 6;
    static constexpr int A_BYTES = BM * BK * 2;      // (128, 64) 16-bit, swizzled
    static constexpr int B_BYTES = BN * BK * 2;      // (BN, 64) 16-bit, swizzled
    static constexpr int C_BYTES = 64 * EPI * 2;     // (64, 64) 16-bit staging, swizzled
    static constexpr int TILE_BYTES = STAGES * (A_BYTES + B_BYTES) + 4 * C_BYTES;
    static constexpr int SMEM = 1024 + TILE_BYTES + 2 * STAGES * 8;  // + alignment slack + full/empty barriers
    static_assert(SMEM <= 232448, "over the 227 KiB a block may use");
};

// Where a wait timed out: written to host-mapped memory just before the trap, read by main.
struct HangInfo {
    int hung, role, block, tile, kb, stage, parity, pad;
};

// ------------------------------------------------------------------ PTX wrappers (sm_90 / sm_90a)
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

// Waits for the phase of `bar` with the given parity. A wait longer than hangNs is a deadlock (a
// wrong byte count, a missed arrive): record where, make it visible to the host and trap, so the
// launch fails with an error instead of hanging the device step.
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

// wgmma shared-memory descriptor for a K-major tile with 128-byte swizzle: rows of 64 16-bit elements
// (128 bytes), 8-row groups 1024 bytes apart (stride byte offset), the leading byte offset unused by
// this layout (1 by convention). Bits: 0-13 start address >> 4, 16-29 LBO >> 4, 32-45 SBO >> 4,
// 49-51 base offset (0: the tile is 1024-byte aligned), 62-63 swizzle (1 = 128 bytes).
// Step k16 of a 64-wide stage starts 32 bytes further along the row: descriptor + 2 * k16.
__device__ __forceinline__ uint64_t desc_k_major_sw128(uint32_t smemAddr) {
    return (uint64_t)((smemAddr & 0x3FFFF) >> 4) | ((uint64_t)1 << 16) | ((uint64_t)(1024 >> 4) << 32) | ((uint64_t)1 << 62);
}

// D (64 x N fp32, N/2 registers per thread) = (accumulate ? D : 0) + A (64 x 16) * B (16 x N); A and B
// K-major in shared memory (no transpose), scale factors 1. Accumulator layout (PTX "wgmma D fragment"):
// warp w of the warpgroup holds rows 16w + lane/4 (d[4j], d[4j+1]) and 16w + lane/4 + 8 (d[4j+2], d[4j+3]),
// columns 8j + 2*(lane%4) + {0, 1}, for j = 0 .. N/8 - 1.
#define JX_WGMMA_N256(TY) \
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %130, 0;\n" \
        "wgmma.mma_async.sync.aligned.m64n256k16.f32." TY "." TY " {" \
        "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15," \
        "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31," \
        "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47," \
        "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63," \
        "%64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79," \
        "%80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95," \
        "%96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111," \
        "%112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127" \
        "}, %128, %129, p, 1, 1, 0, 0;\n}\n" \
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
#define JX_WGMMA_N128(TY) \
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n" \
        "wgmma.mma_async.sync.aligned.m64n128k16.f32." TY "." TY " {" \
        "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15," \
        "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31," \
        "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47," \
        "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63" \
        "}, %64, %65, p, 1, 1, 0, 0;\n}\n" \
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), \
          "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), \
          "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), \
          "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), \
          "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), \
          "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), \
          "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), \
          "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]) \
        : "l"(descA), "l"(descB), "r"(accumulate))

template <typename T, int BN>
__device__ __forceinline__ void wgmma_m64k16(float (&d)[BN / 2], uint64_t descA, uint64_t descB, int accumulate) {
    constexpr bool bf16 = std::is_same<T, __nv_bfloat16>::value;
    if constexpr (BN == 256) {
        if constexpr (bf16) JX_WGMMA_N256("bf16"); else JX_WGMMA_N256("f16");
    } else {
        static_assert(BN == 128, "BN is 128 or 256");
        if constexpr (bf16) JX_WGMMA_N128("bf16"); else JX_WGMMA_N128("f16");
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

// The consumer side of a tile loop, shared by every kernel whose A and Bt stages arrive in this layout
// (pwgemm_wgmma here, the fused separable conv in sepconv_wgmma_v1.cu): consumer warpgroup wg (0 or 1, its
// threads' index in the warpgroup wtid) computes rows [64 wg, 64 wg + 64) of each tile t = blockIdx.x +
// i * gridDim.x: waits on full[stage], four wgmma m64nBNk16 per stage, releases empty[stage] (one arrive per
// consumer warp: the barriers count 8), then the epilogue through sC's swizzled staging buffers and TMA
// stores to tmY. sA/sB: STAGES stages of (128, 64) / (BN, 64) 16-bit, 128-byte swizzled, 1024-byte aligned.
template <typename T, int BN, int STAGES>
__device__ __forceinline__ void consume_tiles(const unsigned char* sA, const unsigned char* sB, unsigned char* sC, uint64_t* full, uint64_t* empty,
                                              const CUtensorMap* tmY, const float* __restrict__ scale, const float* __restrict__ shift,
                                              const T* __restrict__ residual, int rows, int cout, int kTiles, int postRelu, HangInfo* hang,
                                              unsigned long long hangNs, int wg) {
    using C = Config<BN>;
    const int nTiles = (cout + BN - 1) / BN, tiles = ((rows + BM - 1) / BM) * nTiles;
    const int wtid = threadIdx.x & 127, warp = wtid >> 5, lane = threadIdx.x & 31;
    const uint32_t aAddr = smem_addr(sA) + wg * 64 * 128, bAddr = smem_addr(sB);
    float acc[BN / 2];
#pragma unroll
    for (int i = 0; i < BN / 2; i++) acc[i] = 0.f;
    int stage = 0;
    uint32_t phase = 0;
    int epiCount = 0;  // staging buffer = epiCount & 1
    for (int tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
        const int m0 = (tile / nTiles) * BM, n0 = (tile % nTiles) * BN;
        int prev = 0;
        for (int kb = 0; kb < kTiles; kb++) {
            wait_parity(&full[stage], phase, hang, hangNs, 1 + wg, tile, kb, stage);
            const uint64_t da = desc_k_major_sw128(aAddr + stage * C::A_BYTES);
            const uint64_t db = desc_k_major_sw128(bAddr + stage * C::B_BYTES);
            wgmma_fence();
#pragma unroll
            for (int k16 = 0; k16 < BK / 16; k16++) wgmma_m64k16<T, BN>(acc, da + 2 * k16, db + 2 * k16, (kb | k16) != 0);
            wgmma_commit();
            if (kb > 0) {  // the group of stage kb-1 has completed: its shared memory may be refilled
                wgmma_wait<1>();
                if (lane == 0) mbar_arrive(&empty[prev]);
            }
            prev = stage;
            if (++stage == STAGES) { stage = 0; phase ^= 1; }
        }
        wgmma_wait<0>();
        fence_accumulators(acc);
        if (lane == 0) mbar_arrive(&empty[prev]);

        // ---- epilogue: 64-column chunks through the swizzled staging buffers and TMA stores
        const int r = 16 * warp + (lane >> 2);  // local row of acc[4j], acc[4j+1]; r + 8 for acc[4j+2], acc[4j+3]
        const int grow = m0 + 64 * wg + r;
#pragma unroll
        for (int c = 0; c < BN / EPI; c++) {
            unsigned char* buf = sC + (wg * 2 + (epiCount & 1)) * C::C_BYTES;
            if (wtid == 0) bulk_wait_read<1>();  // the store that used this buffer two chunks ago has read it
            warpgroup_barrier(1 + wg);
#pragma unroll
            for (int jj = 0; jj < EPI / 8; jj++) {
                const int j = c * (EPI / 8) + jj;
                const int col = n0 + c * EPI + jj * 8 + 2 * (lane & 3);
                float v0 = acc[4 * j], v1 = acc[4 * j + 1], v2 = acc[4 * j + 2], v3 = acc[4 * j + 3];
                if (col < cout) {  // cout % 8 == 0: col + 1 < cout too; columns beyond are clipped by the store
                    if (scale) {
                        const float2 s = __ldg(reinterpret_cast<const float2*>(scale + col));
                        const float2 h = __ldg(reinterpret_cast<const float2*>(shift + col));
                        v0 = fmaf(v0, s.x, h.x); v1 = fmaf(v1, s.y, h.y);
                        v2 = fmaf(v2, s.x, h.x); v3 = fmaf(v3, s.y, h.y);
                    }
                    if (residual) {
                        float r0, r1;
                        if (grow < rows) { load2(residual + (size_t)grow * cout + col, r0, r1); v0 += r0; v1 += r1; }
                        if (grow + 8 < rows) { load2(residual + (size_t)(grow + 8) * cout + col, r0, r1); v2 += r0; v3 += r1; }
                    }
                }
                if (postRelu) { v0 = relu(v0); v1 = relu(v1); v2 = relu(v2); v3 = relu(v3); }
                // 128-byte swizzle: 16-byte chunk jj of row r lives at chunk jj ^ (r % 8); (r + 8) % 8 == r % 8
                const int off = ((jj ^ (lane >> 2)) << 4) + 4 * (lane & 3);
                *reinterpret_cast<uint32_t*>(buf + r * 128 + off) = pack2<T>(v0, v1);
                *reinterpret_cast<uint32_t*>(buf + (r + 8) * 128 + off) = pack2<T>(v2, v3);
            }
            fence_proxy_async_shared();
            warpgroup_barrier(1 + wg);
            if (wtid == 0 && m0 + 64 * wg < rows && n0 + c * EPI < cout) {  // a box wholly outside y stores nothing
                tma_store_2d(tmY, buf, n0 + c * EPI, m0 + 64 * wg);
                bulk_commit();
            }
            epiCount++;
        }
    }
    if (wtid == 0) bulk_wait<0>();  // stores done before the CTA's shared memory goes away
}

// ------------------------------------------------------------------ the kernel
// tmA: A (rows, kPad), box (64 k, min(128, rows) rows); tmB: Bt (cout, kPad), box (64 k, min(BN, cout) rows);
// tmY: y (rows, cout), box (64 columns, 64 rows); all 16-bit, 128-byte swizzle. kTiles = ceil(kPad / 64), kPad >= 64.
// stageBytes = the two boxes' bytes (what one stage's TMA loads complete on its barrier). A box clamped to a
// tensor smaller than the tile leaves the tile's last rows stale: they feed only output rows >= rows or
// columns >= cout, which are never stored.
template <typename T, int BN>
__global__ void __launch_bounds__(THREADS, 1)
pwgemm_wgmma(const __grid_constant__ CUtensorMap tmA, const __grid_constant__ CUtensorMap tmB, const __grid_constant__ CUtensorMap tmY,
             const float* __restrict__ scale, const float* __restrict__ shift, const T* __restrict__ residual, int rows, int cout, int kTiles,
             int postRelu, uint32_t stageBytes, HangInfo* hang, unsigned long long hangNs) {
    using C = Config<BN>;
    constexpr int STAGES = C::STAGES;
    extern __shared__ unsigned char smem_raw[];
    unsigned char* smem = smem_raw + ((1024 - (smem_addr(smem_raw) & 1023)) & 1023);
    unsigned char* sA = smem;                                   // [STAGES] (128, 64) swizzled
    unsigned char* sB = sA + STAGES * C::A_BYTES;               // [STAGES] (BN, 64) swizzled
    unsigned char* sC = sB + STAGES * C::B_BYTES;               // [2 warpgroups][2 buffers] (64, 64) swizzled
    uint64_t* full = reinterpret_cast<uint64_t*>(sC + 4 * C::C_BYTES);  // [STAGES] TMA landed
    uint64_t* empty = full + STAGES;                                    // [STAGES] consumers done reading

    const int mTiles = (rows + BM - 1) / BM, nTiles = (cout + BN - 1) / BN, tiles = mTiles * nTiles;
    const int warpgroup = threadIdx.x >> 7;

    if (threadIdx.x == 0) {
        for (int s = 0; s < STAGES; s++) {
            mbar_init(&full[s], 1);   // the producer's arrive.expect_tx
            mbar_init(&empty[s], 8);  // lane 0 of each of the 8 consumer warps
        }
        mbar_init_fence();
    }
    __syncthreads();

    if (warpgroup == 0) {
        // ---- producer: one thread streams (A, Bt) stages for every tile of this CTA, STAGES ahead
        setmaxnreg_dec<PRODUCER_REGS>();
        if (threadIdx.x == 0) {
            prefetch_tensormap(&tmA);
            prefetch_tensormap(&tmB);
            int stage = 0;
            uint32_t phase = 0;
            for (int tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
                const int m0 = (tile / nTiles) * BM, n0 = (tile % nTiles) * BN;
                for (int kb = 0; kb < kTiles; kb++) {
                    wait_parity(&empty[stage], phase ^ 1, hang, hangNs, 0, tile, kb, stage);  // first round passes at once
                    mbar_arrive_expect_tx(&full[stage], stageBytes);                    // whole boxes, zero-filled parts included
                    tma_load_2d(sA + stage * C::A_BYTES, &tmA, kb * BK, m0, &full[stage]);
                    tma_load_2d(sB + stage * C::B_BYTES, &tmB, kb * BK, n0, &full[stage]);
                    if (++stage == STAGES) { stage = 0; phase ^= 1; }
                }
            }
        }
    } else {
        // ---- consumers: warpgroup wg computes rows [64 wg, 64 wg + 64) of each tile
        setmaxnreg_inc<CONSUMER_REGS>();
        consume_tiles<T, BN, STAGES>(sA, sB, sC, full, empty, &tmY, scale, shift, residual, rows, cout, kTiles, postRelu, hang, hangNs, warpgroup - 1);
    }
}

// W2 (cin, cout) fp32 -> Bt (cout, kPad) 16-bit, Bt[n][k] = W2[k][n], zero for cin <= k < kPad. Grid-stride
// over Bt (its writes coalesced); once per weight buffer in the library, so its strided reads do not matter.
template <typename T>
__global__ void pack_bt(const float* __restrict__ w2, T* __restrict__ bt, int cin, int cout, int kPad) {
    const size_t total = (size_t)cout * kPad;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        const int n = (int)(i / kPad), k = (int)(i % kPad);
        bt[i] = from_f32<T>(k < cin ? __ldg(w2 + (size_t)k * cout + n) : 0.f);
    }
}

}  // namespace pwgemm

// ------------------------------------------------------------------ references and fills
// Naive GPU reference: one thread per output column, rows by grid-stride; fp32 sums in k order over the
// same 16-bit operands (B in sepgemm's (kPad, nPad) layout, coalesced across the warp), the same
// epilogue, stored as fp32 (no final rounding): yref (rows, cout) fp32.
template <typename T>
__global__ void gemm_reference(const T* __restrict__ a, const T* __restrict__ b, const float* __restrict__ scale, const float* __restrict__ shift,
                               const T* __restrict__ residual, float* __restrict__ yref, int rows, int cout, int kPad, int nPad, int postRelu) {
    const int col = blockIdx.x * blockDim.x + threadIdx.x;
    if (col >= cout) return;
    for (int r = blockIdx.y; r < rows; r += gridDim.y) {
        float s = 0.f;
        for (int k = 0; k < kPad; k++) s = fmaf(to_f32(a[(size_t)r * kPad + k]), to_f32(b[(size_t)k * nPad + col]), s);
        if (scale) s = fmaf(s, scale[col], shift[col]);
        if (residual) s += to_f32(residual[(size_t)r * cout + col]);
        yref[(size_t)r * cout + col] = postRelu ? relu(s) : s;
    }
}

// offset + uniform [-amp, amp] from a hash of (index, seed); columns >= validCols of a (rows, ld) matrix are 0
// (A's padding, as sepgemm_dw writes it). Never zeros elsewhere in practice (probability 2^-24 each).
__device__ __forceinline__ float hash_uniform(size_t i, unsigned seed) {
    unsigned h = (unsigned)i * 2654435761u ^ (unsigned)(i >> 32) * 40503u ^ seed * 2246822519u;
    h ^= h >> 15; h *= 2246822519u; h ^= h >> 13; h *= 3266489917u; h ^= h >> 16;
    return (h >> 8) * (2.f / 16777216.f) - 1.f;
}
template <typename T>
__global__ void fill_matrix(T* p, size_t rows, int ld, int validCols, float offset, float amp, unsigned seed) {
    const size_t n = rows * ld;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        p[i] = from_f32<T>((int)(i % ld) < validCols ? offset + amp * hash_uniform(i, seed) : 0.f);
}

static int g_sms = 0;
static size_t g_l2 = 0;
static const double PEAK_TFLOPS = 989.4;  // dense bf16/fp16, H100/H200 SXM datasheet
static int grid_for(size_t n) { return (int)std::max<size_t>(1, std::min<size_t>((n + 255) / 256, 32 * (size_t)g_sms)); }

// ------------------------------------------------------------------ tensor maps (driver entry point, no -lcuda)
static PFN_cuTensorMapEncodeTiled_v12000 g_encode = nullptr;
static void init_tensor_map_encoder() {
    cudaDriverEntryPointQueryResult q;
    CK(cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", reinterpret_cast<void**>(&g_encode), 12000, cudaEnableDefault, &q));
    if (q != cudaDriverEntryPointSuccess || !g_encode) {
        fprintf(stderr, "cuTensorMapEncodeTiled not found in the driver (query result %d): a CUDA 12+ driver is needed\n", (int)q);
        exit(1);
    }
}
// A 2-D (rows, cols) row-major 16-bit matrix with a (boxRows, boxCols) box, 128-byte swizzle, zero fill.
template <typename T>
static CUtensorMap tensor_map(const T* base, uint64_t rows, uint64_t cols, uint32_t boxRows, uint32_t boxCols) {
    CUtensorMap m;
    cuuint64_t dims[2] = {cols, rows};
    cuuint64_t strides[1] = {cols * sizeof(T)};
    cuuint32_t box[2] = {boxCols, boxRows};
    cuuint32_t elementStrides[2] = {1, 1};
    const CUtensorMapDataType type = std::is_same<T, __nv_bfloat16>::value ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16 : CU_TENSOR_MAP_DATA_TYPE_FLOAT16;
    CUresult r = g_encode(&m, type, 2, const_cast<T*>(base), dims, strides, box, elementStrides, CU_TENSOR_MAP_INTERLEAVE_NONE,
                          CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
    if (r != CUDA_SUCCESS) {
        fprintf(stderr, "cuTensorMapEncodeTiled failed (%d) for a (%llu, %llu) matrix at %p, box (%u, %u)\n", (int)r, (unsigned long long)rows,
                (unsigned long long)cols, (const void*)base, boxRows, boxCols);
        exit(1);
    }
    return m;
}

// ------------------------------------------------------------------ one problem's device buffers
template <typename T>
struct Gemm {
    int rows, cin, cout, kPad, nPad;
    bool residual, postRelu;
    T *a, *bt, *b, *res, *y;  // a (rows, kPad); bt (cout, kPad); b (kPad, nPad); res, y (rows, cout) (+ guard rows after y)
    float *w2, *scale, *shift;  // w2 (cin, cout); scale, shift (cout)
    CUtensorMap mapA, mapB, mapY, mapB128;
    size_t yElems() const { return (size_t)rows * cout; }
    double flops() const { return 2.0 * rows * (double)cin * cout; }
};
constexpr int GUARD_ROWS = 64;  // sentinel rows after y: a store beyond `rows` shows here

template <typename T>
static Gemm<T> make_gemm(int rows, int cin, int cout, bool residual, bool postRelu, unsigned seed) {
    Gemm<T> g{};
    g.rows = rows; g.cin = cin; g.cout = cout; g.residual = residual; g.postRelu = postRelu;
    g.kPad = (cin + 31) / 32 * 32;
    g.nPad = (cout + 127) / 128 * 128;
    if (cout % 8 || cin <= 32) {
        fprintf(stderr, "pwgemm v1 needs cout %% 8 == 0 (y's rows 16-byte aligned for TMA) and cin > 32 (kPad >= one 64-wide stage); got %d -> %d\n",
                cin, cout);
        exit(1);
    }
    CK(cudaMalloc(&g.y, ((size_t)rows + GUARD_ROWS) * cout * sizeof(T)));
    g.res = nullptr;
    if (residual) {
        CK(cudaMalloc(&g.res, g.yElems() * sizeof(T)));
        fill_matrix<<<grid_for(g.yElems()), 256>>>(g.res, rows, cout, cout, 0.f, 1.f, seed + 1);
    }
    CK(cudaMalloc(&g.a, (size_t)rows * g.kPad * sizeof(T)));
    CK(cudaMalloc(&g.w2, (size_t)cin * cout * 4));
    CK(cudaMalloc(&g.bt, (size_t)cout * g.kPad * sizeof(T)));
    CK(cudaMalloc(&g.b, (size_t)g.kPad * g.nPad * sizeof(T)));
    CK(cudaMalloc(&g.scale, 2 * (size_t)cout * 4));
    g.shift = g.scale + cout;
    fill_matrix<<<grid_for((size_t)rows * g.kPad), 256>>>(g.a, rows, g.kPad, cin, 0.f, 1.f, seed + 2);
    fill_matrix<<<grid_for((size_t)cin * cout), 256>>>(g.w2, cin, cout, cout, 0.f, sqrtf(3.f / cin), seed + 3);
    fill_matrix<<<grid_for(cout), 256>>>(g.scale, 1, cout, cout, 1.f, 0.5f, seed + 4);  // [0.5, 1.5]: BN-like, never 0
    fill_matrix<<<grid_for(cout), 256>>>(g.shift, 1, cout, cout, 0.f, 0.2f, seed + 5);
    pwgemm::pack_bt<T><<<grid_for((size_t)cout * g.kPad), 256>>>(g.w2, g.bt, cin, cout, g.kPad);
    // sepgemm's own packer makes the baseline's (kPad, nPad) B: the same rounded values as Bt
    if (std::is_same<T, __nv_bfloat16>::value)
        sepgemm_pack_b_bf16<<<grid_for((size_t)g.kPad * g.nPad), 256>>>(g.w2, (__nv_bfloat16*)g.b, cin, cout, g.kPad, g.nPad);
    else sepgemm_pack_b_fp16<<<grid_for((size_t)g.kPad * g.nPad), 256>>>(g.w2, (__half*)g.b, cin, cout, g.kPad, g.nPad);
    CK_LAUNCH();
    // boxes no larger than the tensor (a partial box at the tensor's end is zero-filled as usual)
    g.mapA = tensor_map(g.a, rows, g.kPad, std::min(pwgemm::BM, rows), pwgemm::BK);
    g.mapB = tensor_map(g.bt, cout, g.kPad, std::min(256, cout), pwgemm::BK);
    g.mapB128 = tensor_map(g.bt, cout, g.kPad, std::min(128, cout), pwgemm::BK);
    g.mapY = tensor_map(g.y, rows, cout, 64, pwgemm::EPI);
    return g;
}
template <typename T>
static void free_gemm(Gemm<T>& g) {
    CK(cudaFree(g.y));
    if (g.res) CK(cudaFree(g.res));
    CK(cudaFree(g.a)); CK(cudaFree(g.w2)); CK(cudaFree(g.bt)); CK(cudaFree(g.b)); CK(cudaFree(g.scale));
}

// ------------------------------------------------------------------ launches
static pwgemm::HangInfo* g_hang = nullptr;      // host-mapped: survives a trapped kernel
static pwgemm::HangInfo* g_hangDev = nullptr;
static unsigned long long g_hangNs = 2000000000ull;
static const char* g_program = "pwgemm_v1";     // the RESULT line's name (a program that includes this file sets its own)

template <typename T, int BN>
static void launch_wgmma(const Gemm<T>& g, int gridLimit = 0) {
    using C = pwgemm::Config<BN>;
    static bool attr = false;
    if (!attr) { CK(cudaFuncSetAttribute(pwgemm::pwgemm_wgmma<T, BN>, cudaFuncAttributeMaxDynamicSharedMemorySize, C::SMEM)); attr = true; }
    const int tiles = ((g.rows + pwgemm::BM - 1) / pwgemm::BM) * ((g.cout + BN - 1) / BN);
    int grid = std::min(tiles, g_sms);
    if (gridLimit > 0) grid = std::min(grid, gridLimit);
    const uint32_t stageBytes = 2u * pwgemm::BK * (std::min(pwgemm::BM, g.rows) + std::min(BN, g.cout));  // the two TMA boxes
    pwgemm::pwgemm_wgmma<T, BN><<<grid, pwgemm::THREADS, C::SMEM>>>(g.mapA, BN == 256 ? g.mapB : g.mapB128, g.mapY, g.scale, g.shift, g.res, g.rows,
                                                                     g.cout, (g.kPad + pwgemm::BK - 1) / pwgemm::BK, g.postRelu ? 1 : 0, stageBytes,
                                                                     g_hangDev, g_hangNs);
}
template <typename T>
static void launch_mma_sync(const Gemm<T>& g) {  // sepgemm_gemm_<math>, one chunk of all rows (row0 = 0)
    dim3 grid(g.nPad / 128, (g.rows + 127) / 128);
    const int smem = sepgemm::STAGES * (sepgemm::A_STAGE + sepgemm::B_STAGE) * 2;
    if (std::is_same<T, __nv_bfloat16>::value)
        sepgemm_gemm_bf16<<<grid, 256, smem>>>((const __nv_bfloat16*)g.a, (const __nv_bfloat16*)g.b, g.scale, g.shift, (const __nv_bfloat16*)g.res,
                                                (__nv_bfloat16*)g.y, g.rows, g.cout, g.kPad, g.nPad, 0, g.postRelu ? 1 : 0);
    else
        sepgemm_gemm_fp16<<<grid, 256, smem>>>((const __half*)g.a, (const __half*)g.b, g.scale, g.shift, (const __half*)g.res, (__half*)g.y, g.rows,
                                               g.cout, g.kPad, g.nPad, 0, g.postRelu ? 1 : 0);
}

// Synchronises; on a failed launch prints the CUDA error and, for a trapped wait, where it hung; exits 1.
static void sync_or_die(const char* what) {
    cudaError_t e = cudaGetLastError();
    if (e == cudaSuccess) e = cudaDeviceSynchronize();
    if (e == cudaSuccess) return;
    fprintf(stderr, "ERROR  %s: %s\n", what, cudaGetErrorString(e));
    if (g_hang && g_hang->hung)
        fprintf(stderr, "ERROR  mbarrier wait timed out: %s, block %d, tile %d, k block %d, stage %d, parity %d\n",
                g_hang->role == 0 ? "producer waiting for an empty stage" : g_hang->role == 1 ? "consumer 0 waiting for a full stage"
                                                                                                : "consumer 1 waiting for a full stage",
                g_hang->block, g_hang->tile, g_hang->kb, g_hang->stage, g_hang->parity);
    printf("RESULT %s FAILED: %s: %s\n", g_program, what, cudaGetErrorString(e));
    exit(1);
}

template <typename T> static float host_f32(T v);
template <> float host_f32<__nv_bfloat16>(__nv_bfloat16 v) { return __bfloat162float(v); }
template <> float host_f32<__half>(__half v) { return __half2float(v); }
template <typename T>
static std::vector<float> download(const T* d, size_t n) {
    std::vector<T> h(n);
    CK(cudaMemcpy(h.data(), d, n * sizeof(T), cudaMemcpyDeviceToHost));
    std::vector<float> f(n);
    for (size_t i = 0; i < n; i++) f[i] = host_f32(h[i]);
    return f;
}

// ------------------------------------------------------------------ checks
// Bounds (bf16 / fp16 outputs): the operands are exact 16-bit values, so the error is the final rounding
// (<= 2^-9 relative for bf16, 2^-12 for fp16) plus fp32 summation (~1e-6 at K <= 2048). The relative
// L2 norm ||got - ref|| / ||ref|| must stay under 4e-3 (bf16) / 1e-3 (fp16); max |got - ref| / max |ref|
// under 8e-3 / 2e-3 (one ulp of the largest value, twice). NaN never passes.
struct Compare {
    double rel = 0, maxRel = 0;
    size_t nonFinite = 0;
};
template <typename R>
static Compare compare(const std::vector<float>& got, const std::vector<R>& ref, size_t n) {
    Compare c;
    double num = 0, den = 0, maxd = 0, maxr = 0;
    for (size_t i = 0; i < n; i++) {
        if (!std::isfinite(got[i])) { c.nonFinite++; continue; }
        const double d = (double)got[i] - (double)ref[i];
        num += d * d; den += (double)ref[i] * ref[i];
        maxd = std::max(maxd, std::fabs(d)); maxr = std::max(maxr, std::fabs((double)ref[i]));
    }
    c.rel = sqrt(num / std::max(den, 1e-300));
    c.maxRel = maxd / std::max(maxr, 1e-300);
    return c;
}

static int g_checks = 0, g_failures = 0;
static unsigned g_seed = 0;

template <typename T> static const char* type_name() { return std::is_same<T, __nv_bfloat16>::value ? "bf16" : "fp16"; }

// float64 on the CPU for sampled rows (first, last, random) from the device's own 16-bit inputs.
template <typename T>
static Compare cpu_sampled(const Gemm<T>& g, const std::vector<float>& got, int samples) {
    std::vector<float> a = download(g.a, (size_t)g.rows * g.kPad), bt = download(g.bt, (size_t)g.cout * g.kPad);
    std::vector<float> sc(g.cout), sh(g.cout), res;
    CK(cudaMemcpy(sc.data(), g.scale, g.cout * 4, cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(sh.data(), g.shift, g.cout * 4, cudaMemcpyDeviceToHost));
    if (g.res) res = download(g.res, g.yElems());
    std::vector<int> rowsPicked;
    for (int i = 0; i < std::min(3, g.rows); i++) { rowsPicked.push_back(i); rowsPicked.push_back(g.rows - 1 - i); }
    unsigned long long s = 0x9E3779B97F4A7C15ull ^ g_seed;
    for (int i = 0; i < samples; i++) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; rowsPicked.push_back((int)(s % (unsigned long long)g.rows)); }
    std::vector<double> ref;
    std::vector<float> gotRows;
    for (int r : rowsPicked)
        for (int n = 0; n < g.cout; n++) {
            double acc = 0;
            for (int k = 0; k < g.kPad; k++) acc += (double)a[(size_t)r * g.kPad + k] * bt[(size_t)n * g.kPad + k];
            double v = acc * sc[n] + sh[n];
            if (g.res) v += res[(size_t)r * g.cout + n];
            if (g.postRelu && v < 0) v = 0;
            ref.push_back(v);
            gotRows.push_back(got[(size_t)r * g.cout + n]);
        }
    return compare(gotRows, ref, ref.size());
}

// Runs `launch` on poisoned y with an intact guard region, checks it against yref (all elements), the
// guard, and (optionally) the float64 CPU rows; returns y for further comparisons.
template <typename T, typename L>
static std::vector<float> run_checked(const char* label, const Gemm<T>& g, const std::vector<float>& yref, L launch, bool cpuRows) {
    const double bound = std::is_same<T, __nv_bfloat16>::value ? 4e-3 : 1e-3, maxBound = 2 * bound;
    const size_t guardBytes = (size_t)GUARD_ROWS * g.cout * sizeof(T);
    CK(cudaMemset(g.y, 0xff, g.yElems() * sizeof(T)));  // 0xffff: NaN in bf16 and fp16
    CK(cudaMemset(g.y + g.yElems(), 0x5a, guardBytes));
    launch();
    sync_or_die(label);
    std::vector<float> got = download(g.y, g.yElems());
    std::vector<unsigned char> guard(guardBytes);
    CK(cudaMemcpy(guard.data(), g.y + g.yElems(), guardBytes, cudaMemcpyDeviceToHost));
    size_t guardHit = 0;
    for (unsigned char b : guard) guardHit += b != 0x5a;
    Compare c = compare(got, yref, got.size());
    Compare cpu;
    if (cpuRows) cpu = cpu_sampled(g, got, 64);
    const bool ok = c.rel < bound && c.maxRel < maxBound && !c.nonFinite && !guardHit && (!cpuRows || (cpu.rel < bound && !cpu.nonFinite));
    printf("CHECK  %-22s %s M=%-6d K=%-4d N=%-4d%s%s: vs fp32 GPU ref rel %.2e max %.2e, unwritten/NaN %zu, guard bytes hit %zu", label,
           type_name<T>(), g.rows, g.cin, g.cout, g.residual ? " +res" : "", g.postRelu ? " relu" : "", c.rel, c.maxRel, c.nonFinite, guardHit);
    if (cpuRows) printf(", vs fp64 CPU rows rel %.2e", cpu.rel);
    printf("  %s\n", ok ? "OK" : "FAIL");
    g_checks++;
    if (!ok) g_failures++;
    return got;
}

template <typename T>
static void check_shape(int rows, int cin, int cout, bool residual, bool postRelu, bool small = false) {
    Gemm<T> g = make_gemm<T>(rows, cin, cout, residual, postRelu, g_seed += 16);
    float* yref;
    CK(cudaMalloc(&yref, g.yElems() * 4));
    gemm_reference<T><<<dim3((cout + 255) / 256, std::min(rows, 8192)), 256>>>(g.a, g.b, g.scale, g.shift, g.res, yref, rows, cout, g.kPad, g.nPad,
                                                                             postRelu ? 1 : 0);
    sync_or_die("gemm_reference");
    std::vector<float> ref(g.yElems());
    CK(cudaMemcpy(ref.data(), yref, g.yElems() * 4, cudaMemcpyDeviceToHost));
    CK(cudaFree(yref));

    std::vector<float> base = run_checked("mma.sync (sepgemm)", g, ref, [&] { launch_mma_sync(g); }, false);
    std::vector<float> w256 = run_checked("wgmma BN=256", g, ref, [&] { launch_wgmma<T, 256>(g); }, true);
    if (!small) {
        run_checked("wgmma BN=128", g, ref, [&] { launch_wgmma<T, 128>(g); }, false);
        // few CTAs: each walks many tiles, so stages and phases wrap across tiles many times
        run_checked("wgmma BN=256 grid=7", g, ref, [&] { launch_wgmma<T, 256>(g, 7); }, false);
        run_checked("wgmma BN=128 grid=5", g, ref, [&] { launch_wgmma<T, 128>(g, 5); }, false);
        // wgmma vs the mma.sync kernel: same operands, only the fp32 summation order differs
        Compare c = compare(w256, std::vector<double>(base.begin(), base.end()), base.size());
        std::vector<float> again = run_checked("wgmma BN=256 repeat", g, ref, [&] { launch_wgmma<T, 256>(g); }, false);
        const bool same = again == w256, ok = c.rel < (std::is_same<T, __nv_bfloat16>::value ? 4e-3 : 1e-3) && same;
        printf("CHECK  %-22s %s M=%-6d K=%-4d N=%-4d: wgmma vs mma.sync rel %.2e max %.2e, bitwise repeat %s  %s\n", "wgmma vs mma.sync",
               type_name<T>(), rows, cin, cout, c.rel, c.maxRel, same ? "yes" : "NO", ok ? "OK" : "FAIL");
        g_checks++;
        if (!ok) g_failures++;
    }
    free_gemm(g);
}

// ------------------------------------------------------------------ timing
struct Layer {
    const char* name;
    int hw, cin, cout, count;  // count: how many of Xception's 34 separable convs have this GEMM
    bool residual, postRelu;
};
// Every pointwise GEMM of Xception's separable convs (Keras xception.py), M = batch * hw * hw.
static const Layer LAYERS[] = {
    {"block2_sepconv1", 147, 64, 128, 1, false, false},
    {"block2_sepconv2", 147, 128, 128, 1, false, false},
    {"block3_sepconv1", 74, 128, 256, 1, false, false},
    {"block3_sepconv2", 74, 256, 256, 1, false, false},
    {"block4_sepconv1", 37, 256, 728, 1, false, false},
    {"block4_sepconv2", 37, 728, 728, 1, false, false},
    {"middle sepconv1/2 b13_1", 19, 728, 728, 17, false, false},  // blocks 5-12 sepconv1, 2 and block13_sepconv1
    {"middle sepconv3 (+res)", 19, 728, 728, 8, true, false},      // blocks 5-12 sepconv3: + residual in the epilogue
    {"block13_sepconv2", 19, 728, 1024, 1, false, false},
    {"block14_sepconv1", 10, 1024, 1536, 1, false, true},
    {"block14_sepconv2", 10, 1536, 2048, 1, false, true},
};

// Median ms of one launch: each timed round launches once per buffer set (sets rotate so the working
// set is >= 2x L2 and no launch finds its inputs in L2 from the previous one), divided by the sets.
template <typename S, typename L>
static float time_sets(std::vector<S>& sets, L launch, int warmup = 3, int reps = 15) {
    for (int i = 0; i < warmup; i++) for (auto& g : sets) launch(g);
    sync_or_die("timing warm-up");
    cudaEvent_t e0, e1;
    CK(cudaEventCreate(&e0)); CK(cudaEventCreate(&e1));
    std::vector<float> ms(reps);
    for (int i = 0; i < reps; i++) {
        CK(cudaEventRecord(e0));
        for (auto& g : sets) launch(g);
        CK(cudaEventRecord(e1));
        CK(cudaEventSynchronize(e1));
        CK(cudaEventElapsedTime(&ms[i], e0, e1));
        ms[i] /= sets.size();
    }
    sync_or_die("timing");
    CK(cudaEventDestroy(e0)); CK(cudaEventDestroy(e1));
    std::sort(ms.begin(), ms.end());
    return ms[reps / 2];
}

struct Totals { double mma = 0, wgmma = 0, best = 0; };

template <typename T>
static void time_layer(const Layer& l, int batch, Totals& tot) {
    const int rows = batch * l.hw * l.hw;
    const int kPad = (l.cin + 31) / 32 * 32;
    const double setBytes = (double)rows * (kPad + l.cout * (l.residual ? 2 : 1)) * sizeof(T);
    const int nsets = (int)std::min(8.0, std::max(1.0, std::ceil(2.0 * g_l2 / setBytes)));
    std::vector<Gemm<T>> sets;
    for (int s = 0; s < nsets; s++) sets.push_back(make_gemm<T>(rows, l.cin, l.cout, l.residual, l.postRelu, g_seed += 16));
    const double flops = sets[0].flops();
    auto tf = [&](float ms) { return flops / (ms * 1e9); };
    float tMma = time_sets(sets, [](const Gemm<T>& g) { launch_mma_sync(g); });
    float t256 = time_sets(sets, [](const Gemm<T>& g) { launch_wgmma<T, 256>(g); });
    float t128 = time_sets(sets, [](const Gemm<T>& g) { launch_wgmma<T, 128>(g); });
    const float best = std::min(t256, t128);
    printf("TABLE  %s b=%-3d %-23s M=%-7d K=%-4d N=%-4d | mma.sync %7.3f ms %5.0f TF %3.0f%% | wgmma256 %7.3f ms %5.0f TF %3.0f%% | wgmma128 %7.3f ms "
           "%5.0f TF %3.0f%% | %4.2fx\n",
           type_name<T>(), batch, l.name, rows, l.cin, l.cout, tMma, tf(tMma), 100 * tf(tMma) / PEAK_TFLOPS, t256, tf(t256), 100 * tf(t256) / PEAK_TFLOPS,
           t128, tf(t128), 100 * tf(t128) / PEAK_TFLOPS, tMma / best);
    tot.mma += l.count * tMma; tot.wgmma += l.count * t256; tot.best += l.count * best;
    for (auto& g : sets) free_gemm(g);
}

// PWGEMM_NO_MAIN: everything above is reused by a program that includes this file (sepconv_wgmma_v1.cu).
#ifndef PWGEMM_NO_MAIN
int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "all";
    std::vector<int> batches;
    {
        std::string list = argc > 2 ? argv[2] : "256,32";
        for (size_t p = 0; p < list.size();) {
            size_t q = list.find(',', p);
            batches.push_back(atoi(list.substr(p, q - p).c_str()));
            p = q == std::string::npos ? list.size() : q + 1;
        }
    }
    if (mode != "all" && mode != "check" && mode != "small" && mode != "time") {
        fprintf(stderr, "usage: pwgemm_v1 [all | check | small | time] [batches, e.g. 256,32]\n");
        return 1;
    }
    const char* seedEnv = getenv("PWGEMM_SEED");
    g_seed = seedEnv ? (unsigned)strtoul(seedEnv, nullptr, 10) : (unsigned)time(nullptr);
    int major = 0, minor = 0, l2 = 0, smemOptin = 0;
    CK(cudaDeviceGetAttribute(&g_sms, cudaDevAttrMultiProcessorCount, 0));
    CK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, 0));
    CK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, 0));
    CK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, 0));
    CK(cudaDeviceGetAttribute(&smemOptin, cudaDevAttrMaxSharedMemoryPerBlockOptin, 0));
    g_l2 = (size_t)l2;
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    printf("INFO   %s, sm_%d%d, %d SMs, L2 %.0f MB, %d bytes shared memory per block; seed %u (PWGEMM_SEED to repeat)\n", prop.name, major, minor, g_sms,
           l2 / 1e6, smemOptin, g_seed);
    if (major != 9 || minor != 0) {
        printf("RESULT pwgemm_v1 FAILED: needs an sm_90 GPU (H100/H200) for wgmma/TMA; this is sm_%d%d\n", major, minor);
        return 1;
    }
    printf("INFO   shared memory: wgmma BN=256 %d bytes (%d stages), BN=128 %d bytes (%d stages), mma.sync %d bytes\n", pwgemm::Config<256>::SMEM,
           pwgemm::Config<256>::STAGES, pwgemm::Config<128>::SMEM, pwgemm::Config<128>::STAGES,
           sepgemm::STAGES * (sepgemm::A_STAGE + sepgemm::B_STAGE) * 2);
    init_tensor_map_encoder();
    CK(cudaHostAlloc(&g_hang, sizeof(pwgemm::HangInfo), cudaHostAllocMapped));
    memset(g_hang, 0, sizeof(pwgemm::HangInfo));
    CK(cudaHostGetDevicePointer(&g_hangDev, g_hang, 0));
    const int mmaSmem = sepgemm::STAGES * (sepgemm::A_STAGE + sepgemm::B_STAGE) * 2;
    CK(cudaFuncSetAttribute(sepgemm_gemm_bf16, cudaFuncAttributeMaxDynamicSharedMemorySize, mmaSmem));
    CK(cudaFuncSetAttribute(sepgemm_gemm_fp16, cudaFuncAttributeMaxDynamicSharedMemorySize, mmaSmem));

    if (mode == "small") {  // for compute-sanitizer: small shapes, long hang timeout (instrumented code is slow)
        g_hangNs = 60000000000ull;
        check_shape<__nv_bfloat16>(300, 40, 72, true, true, true);
        check_shape<__nv_bfloat16>(200, 200, 264, false, false, true);
    }
    if (mode == "all" || mode == "check") {
        check_shape<__nv_bfloat16>(1000, 40, 72, true, true);       // every tail: M % 128, K < 64, N < 64
        check_shape<__nv_bfloat16>(3000, 728, 728, true, true);     // K 728 (kPad 736 = 11.5 stages), N 728 = 2.84 x 256
        check_shape<__nv_bfloat16>(11552, 728, 728, false, false);  // middle flow at batch 32: 273 tiles > SMs
        check_shape<__nv_bfloat16>(21609, 64, 128, false, false);   // block2_sepconv1 at batch 1: one stage per tile
        check_shape<__nv_bfloat16>(5476, 256, 728, false, false);   // block4_sepconv1 at batch 4
        check_shape<__nv_bfloat16>(3200, 1536, 2048, false, true);  // block14_sepconv2 at batch 32
        check_shape<__nv_bfloat16>(100, 1024, 1536, false, true);   // block14_sepconv1 at batch 1: M < one tile (clamped A box)
        check_shape<__half>(3000, 728, 728, true, true);
        check_shape<__half>(21609, 128, 128, false, false);
        printf("CHECK  summary: %d checks, %d failed\n", g_checks, g_failures);
    }
    if (mode == "all" || mode == "time") {
        for (int batch : batches) {
            Totals tot;
            for (const Layer& l : LAYERS) time_layer<__nv_bfloat16>(l, batch, tot);
            printf("TABLE  bf16 b=%-3d all 34 pointwise GEMMs: mma.sync %.2f ms | wgmma BN=256 %.2f ms | best BN per layer %.2f ms | %.2fx\n", batch,
                   tot.mma, tot.wgmma, tot.best, tot.mma / tot.best);
        }
        Totals t16;
        time_layer<__half>(LAYERS[6], batches[0], t16);  // fp16, middle flow
    }
    printf("RESULT pwgemm_v1 %s: %d checks, %d failed\n", g_failures ? "FAILED" : "OK", g_checks, g_failures);
    return g_failures ? 2 : 0;
}
#endif  // PWGEMM_NO_MAIN
