// jx-arch: sm_90a
// The pointwise GEMM of the split separable convolution on Hopper's own path (issue #12): wgmma from
// shared memory, TMA loads into a multi-stage mbarrier pipeline, one producer warpgroup and two consumer
// warpgroups (setmaxnreg), a persistent tile scheduler and a TMA-store epilogue. Same contract as
// sepgemm.cu's sepgemm_gemm_<math> (the mma.sync GEMM it replaces on H100/H200), only B differs:
//
//   y[row0 + r, co] = postRelu?( (sum_k A[r, k] * W2[k, co]) * scale[co] + shift[co] + residual[row0 + r, co] )
//
//   A         (rows, kPad) of type T: chunk rows [row0, row0 + rows) of the depthwise output, as sepgemm_dw_<math>
//             writes it (kPad = cin rounded up to 32, columns >= cin zero); read through tmA
//   Bt        (cout, kPad) of type T = W2 transposed (K-major: the layout wgmma reads without a transpose),
//             columns >= cin zero; pwgemm_pack_bt_<math> makes it from W2 (cin, cout) fp32; read through tmB
//   scale, shift (cout) fp32 or null (identity); residual (M, cout) of type T or null; y (M, cout) of type T
//             through tmY
// T per <math>: bf16 -> __nv_bfloat16, fp16 -> __half, tf32 -> float (fp32 in memory, tf32 in the tensor cores).
// fp32 accumulation, the epilogue in sepgemm's order (fmaf(acc, scale, shift), + residual, relu); 16-bit y is
// rounded once at the store, tf32's y is the fp32 result unrounded. The 16-bit GEMMs differ from sepgemm_gemm
// only by the fp32 summation order inside the dot products.
//
// TF32 (T = float) numerics: Bt is rounded to tf32 by pwgemm_pack_bt_tf32 (cvt.rna: nearest, ties away). A is
// the depthwise's fp32 as is: wgmma reads only the tf32 bits (sign, exponent, top 10 mantissa bits) and drops
// the low 13, i.e. truncates toward zero, so each A element used differs from the stored one by less than
// 2^-10 of its magnitude. With exact tf32 x tf32 products and fp32 accumulation, per output
//   |y - y_exact| <= |scale[co]| * (2^-10 + K * 2^-23) * sum_k |A[r, k] * Bt[co, k]|  (+ the epilogue's fp32 roundings)
// against y_exact computed from the stored fp32 A and the tf32-rounded weights (the rounding of W2 itself, at
// most 2^-11 relative, is part of the model's tf32 weights, not of this GEMM). Typical error is ~2^-11 of the
// output's rms (the truncation errors of random-signed products cancel), e.g. ~3e-4 relative L2 on the middle
// flow. cuda/dev/pwgemm_v1.cu checks this bound per element on float64 CPU rows.
//
// Requirements (HopperPointwiseGemm checks them; other layers keep sepgemm_gemm):
//   16-bit: kPad >= 64 (cin > 32), cout % 8 == 0 and cout >= 64, M >= 64 (y's 64 x 64 store box inside the tensor).
//   tf32:   kPad >= 32 and kPad % 4 == 0 (16-byte row pitch of A and Bt; kPad = cin rounded up to 32 satisfies
//           both for every cin >= 1), cout % 4 == 0 (16-byte row pitch of y and residual; the epilogue's pairs need
//           cout even) and cout >= 32, M >= 64 (y's 64-row x 32-column store box inside the tensor).
//
// Tiles and roles (one CTA per SM, 384 threads, persistent):
//   tile       BM = 128 rows x BN = 256 (cout > 128) or 128 columns, BK = one 128-byte row of K per stage:
//                64 16-bit or 32 fp32 elements
//   warpgroup 0  producer, 40 registers: one thread waits for a free stage ("empty" mbarrier), arms the
//                stage's "full" mbarrier with the byte count and issues two TMA loads (A box BK x min(128, rows),
//                Bt box BK x min(BN, cout), 128-byte swizzle, zero fill outside the tensor: the K and N tails and
//                rows beyond the chunk come in as zeros, so the mainloop has no predicates)
//   warpgroups 1, 2  consumers, 232 registers: rows [64 (wg-1), +64) of the tile; per stage four wgmma.mma_async
//                m64nBNk16 (16-bit) or m64nBNk8 (tf32), each one 32-byte K step of the 128-byte rows, with both
//                operands read from shared memory through descriptors; one wgmma group kept in flight, each stage
//                released by the 8 consumer warps after the group that read it has completed
//   epilogue   per consumer warpgroup and chunk of EPI = 64 (16-bit) or 32 (fp32) columns: scale/shift, residual,
//                ReLU, (rounded once,) into a 64-row x 128-byte swizzled staging buffer (two per warpgroup, so a
//                chunk's TMA store overlaps the next chunk's math), one TMA store each (rows >= M and columns
//                >= cout clipped by the tensor map); tf32 has twice the chunks of half the width
//   scheduler  tile t = blockIdx.x + i * gridDim.x, t -> (m tile t / nTiles, n tile t % nTiles): the CTAs
//                sharing an A row tile run together, so A leaves DRAM once and Bt stays in L2
// Shared memory (bytes, the same for every type: stages, staging and boxes are counted in 128-byte rows):
// BN = 256: 4 stages x (16 KiB A + 32 KiB Bt) + 4 x 8 KiB staging + barriers + 1 KiB alignment = 230,464;
// BN = 128: 6 stages x (16 + 16 KiB) + 32 KiB + ... = 230,496. A tf32 stage holds half the K of a 16-bit one
// (32 instead of 64), so a tf32 tile runs twice the stages per K.
// A wait on an mbarrier longer than hangNs (a wrong byte count, a missed arrive) traps instead of hanging:
// the launch fails with an error. cuda/dev/pwgemm_v1.cu checks and times these kernels against sepgemm_gemm
// (16-bit) and a naive fp32 GPU reference (all); benchmarks/NOTES.md cuda-pwgemm-1 and cuda-pwgemm-tf32-1 have
// the design's numbers and predictions.
//
// extern "C" entry points (argument order = HopperPointwiseGemm's argument lists), <math> = bf16 | fp16 | tf32:
//   pwgemm_pack_bt_<math>(w2 (cin, cout) fp32, bt (cout, kPad) T, cin, cout, kPad)                     grid-stride
//   pwgemm_wgmma_<math>_n<BN>(tmA, tmB, tmY, scale, shift, residual (M, cout) T, rows, cout, kTiles, row0, postRelu,
//                             stageBytes, hang, hangNs)
//       grid min(tiles, SMs), 384 threads, Config<BN>::SMEM bytes of dynamic shared memory (above);
//       tensor maps, 2-D, row-major, 128-byte swizzle, zero OOB fill, element type T (BFLOAT16 / FLOAT16 / FLOAT32),
//       boxes given as (columns, rows):
//                      tmA: A (rows, kPad)   tmB: Bt (cout, kPad)         tmY: y (M, cout)
//         16-bit box   (64, min(128, rows))  (64, min(BN, cout))          (64, 64)
//         tf32 box     (32, min(128, rows))  (32, min(BN, cout))          (32, 64)
//       kTiles = ceil(kPad / 64) for 16-bit, ceil(kPad / 32) for tf32;
//       stageBytes = sizeof(T) * BK * (min(128, rows) + min(BN, cout)) = 128 * (min(128, rows) + min(BN, cout))
//       for every type (the two boxes of one stage: 2 * 64 16-bit or 4 * 32 fp32 bytes per box row).
// Included by hopper_sepconv.cu for consume_tiles (with PWGEMM_NO_ENTRIES: no kernels of this module there) and by
// the dev programs; the guard lets a program include both.
#ifndef JX_HOPPER_PWGEMM_CU
#define JX_HOPPER_PWGEMM_CU
#include "hopper.cuh"

namespace pwgemm {
using namespace hopper;

constexpr int BM = 128;          // tile rows: 2 consumer warpgroups x 64 (wgmma's M)
constexpr int ROW_BYTES = 128;   // one 128-byte swizzle row: K per stage, and the columns of one epilogue store
// Elements of T in one 128-byte row: K per stage (BK_OF: 64 16-bit, 32 fp32 = four 32-byte wgmma K steps either
// way) and columns per epilogue store (EPI_OF: 64 x 64 16-bit or 64 x 32 fp32 staging, one TMA store each).
template <typename T> constexpr int BK_OF = ROW_BYTES / (int)sizeof(T);
template <typename T> constexpr int EPI_OF = ROW_BYTES / (int)sizeof(T);
inline constexpr int BK = BK_OF<__nv_bfloat16>;    // the 16-bit K per stage (64), as the fused sepconv producers use it
inline constexpr int EPI = EPI_OF<__nv_bfloat16>;  // the 16-bit epilogue chunk width (64)
constexpr int K_STEPS = ROW_BYTES / 32;     // wgmma K steps per stage: 4 x k16 (16-bit) or 4 x k8 (tf32)
constexpr int THREADS = 384;     // warpgroup 0 produces, warpgroups 1 and 2 consume
constexpr int PRODUCER_REGS = 40, CONSUMER_REGS = 232;  // 128*40 + 256*232 = 64,512 <= 65,536

template <int BN> struct Config {
    static constexpr int STAGES = BN == 256 ? 4 : 6;
    // byte sizes, the same for every element type: rows of 128 bytes
    static constexpr int A_BYTES = BM * ROW_BYTES;   // (128, 64) 16-bit or (128, 32) fp32, swizzled
    static constexpr int B_BYTES = BN * ROW_BYTES;   // (BN, 64) 16-bit or (BN, 32) fp32, swizzled
    static constexpr int C_BYTES = 64 * ROW_BYTES;   // (64, 64) 16-bit or (64, 32) fp32 staging, swizzled
    static constexpr int TILE_BYTES = STAGES * (A_BYTES + B_BYTES) + 4 * C_BYTES;
    static constexpr int SMEM = 1024 + TILE_BYTES + 2 * STAGES * 8;  // + alignment slack + full/empty barriers
    static_assert(SMEM <= 232448, "over the 227 KiB a block may use");
};

// The consumer side of a tile loop, shared by every kernel whose A and Bt stages arrive in this layout
// (pwgemm_wgmma here, the fused separable conv in cuda/dev/sepconv_wgmma_v1.cu): consumer warpgroup wg (0 or 1)
// computes rows [64 wg, 64 wg + 64) of each tile t = blockIdx.x + i * gridDim.x: waits on full[stage], four
// wgmma per stage (m64nBNk16 for 16-bit T, m64nBNk8 tf32 for T = float), releases empty[stage] (one arrive per
// consumer warp: the barriers count 8), then the epilogue through sC's swizzled staging buffers and TMA stores
// (64 rows x EPI_OF<T> columns each) to tmY at rows row0 + (tile row).
// sA/sB: STAGES stages of (128, BK_OF<T>) / (BN, BK_OF<T>) elements, 128-byte rows, swizzled, 1024-byte
// aligned; rows = the chunk's rows; residual (T, like y) is indexed by row0 + (chunk row), like y.
template <typename T, int BN, int STAGES>
__device__ __forceinline__ void consume_tiles(const unsigned char* sA, const unsigned char* sB, unsigned char* sC, uint64_t* full, uint64_t* empty,
                                              const CUtensorMap* tmY, const float* __restrict__ scale, const float* __restrict__ shift,
                                              const T* __restrict__ residual, int rows, int cout, int kTiles, long long row0, int postRelu,
                                              HangInfo* hang, unsigned long long hangNs, int wg) {
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
            for (int ks = 0; ks < K_STEPS; ks++) wgmma_step<T, BN>(acc, da + 2 * ks, db + 2 * ks, (kb | ks) != 0);
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

        // ---- epilogue: EPI-column chunks (128-byte rows) through the swizzled staging buffers and TMA stores
        constexpr int EPI_T = EPI_OF<T>;
        const int r = 16 * warp + (lane >> 2);  // local row of acc[4j], acc[4j+1]; r + 8 for acc[4j+2], acc[4j+3]
        const int grow = m0 + 64 * wg + r;      // chunk row
#pragma unroll
        for (int c = 0; c < BN / EPI_T; c++) {
            unsigned char* buf = sC + (wg * 2 + (epiCount & 1)) * C::C_BYTES;
            if (wtid == 0) bulk_wait_read<1>();  // the store that used this buffer two chunks ago has read it
            warpgroup_barrier(1 + wg);
#pragma unroll
            for (int jj = 0; jj < EPI_T / 8; jj++) {
                const int j = c * (EPI_T / 8) + jj;
                const int col = n0 + c * EPI_T + jj * 8 + 2 * (lane & 3);
                float v0 = acc[4 * j], v1 = acc[4 * j + 1], v2 = acc[4 * j + 2], v3 = acc[4 * j + 3];
                if (col < cout) {  // col and cout even: col + 1 < cout too; columns beyond are clipped by the store
                    if (scale) {
                        const float2 s = __ldg(reinterpret_cast<const float2*>(scale + col));
                        const float2 h = __ldg(reinterpret_cast<const float2*>(shift + col));
                        v0 = fmaf(v0, s.x, h.x); v1 = fmaf(v1, s.y, h.y);
                        v2 = fmaf(v2, s.x, h.x); v3 = fmaf(v3, s.y, h.y);
                    }
                    if (residual) {
                        float r0, r1;
                        if (grow < rows) { load2(residual + (size_t)(row0 + grow) * cout + col, r0, r1); v0 += r0; v1 += r1; }
                        if (grow + 8 < rows) { load2(residual + (size_t)(row0 + grow + 8) * cout + col, r0, r1); v2 += r0; v3 += r1; }
                    }
                }
                if (postRelu) { v0 = relu(v0); v1 = relu(v1); v2 = relu(v2); v3 = relu(v3); }
                // 128-byte swizzle: 16-byte chunk q of row r lives at chunk q ^ (r % 8); (r + 8) % 8 == r % 8.
                // The pair's byte in the row: 16-bit: chunk jj, 4 (lane % 4); fp32: chunk 2 jj + (lane % 4) / 2, 8 (lane % 2)
                const int byte = (jj * 8 + 2 * (lane & 3)) * (int)sizeof(T);
                const int off = (((byte >> 4) ^ (lane >> 2)) << 4) + (byte & 15);
                store2<T>(buf + r * ROW_BYTES + off, v0, v1);
                store2<T>(buf + (r + 8) * ROW_BYTES + off, v2, v3);
            }
            fence_proxy_async_shared();
            warpgroup_barrier(1 + wg);
            if (wtid == 0 && m0 + 64 * wg < rows && n0 + c * EPI_T < cout) {  // a box wholly outside y stores nothing
                tma_store_2d(tmY, buf, n0 + c * EPI_T, (int)(row0 + m0 + 64 * wg));
                bulk_commit();
            }
            epiCount++;
        }
    }
    if (wtid == 0) bulk_wait<0>();  // stores done before the CTA's shared memory goes away
}

// tmA: A (rows, kPad), box (BK k, min(128, rows) rows); tmB: Bt (cout, kPad), box (BK k, min(BN, cout) rows);
// tmY: y (M, cout) (the whole output, not the chunk), box (EPI columns, 64 rows); all of element type T
// (BK = EPI = 64 for 16-bit, 32 for fp32), 128-byte swizzle. kTiles = ceil(kPad / BK), kPad >= BK.
// stageBytes = the two boxes' bytes (what one stage's TMA loads complete on its barrier). A box clamped to a
// tensor smaller than the tile leaves the tile's last rows stale: they feed only output rows >= rows or
// columns >= cout. Columns >= cout are clipped by tmY; rows >= rows are clipped only at y's end (M), so a chunk
// that is not y's last must be a whole number of 64-row store boxes, or its last box overwrites the first rows
// of the next chunk (SeparableGemmPath's chunks before the last are whole 128-row tiles; found by the host
// emulation, cuda/dev/hopper_host.cpp).
template <typename T, int BN>
__device__ __forceinline__ void gemm(const CUtensorMap* tmA, const CUtensorMap* tmB, const CUtensorMap* tmY, const float* __restrict__ scale,
                                     const float* __restrict__ shift, const T* __restrict__ residual, int rows, int cout, int kTiles, long long row0,
                                     int postRelu, uint32_t stageBytes, HangInfo* hang, unsigned long long hangNs) {
    using C = Config<BN>;
    constexpr int STAGES = C::STAGES;
    unsigned char* smem = dynamic_shared_1024();
    unsigned char* sA = smem;                                   // [STAGES] (128, BK) swizzled, 128-byte rows
    unsigned char* sB = sA + STAGES * C::A_BYTES;               // [STAGES] (BN, BK) swizzled
    unsigned char* sC = sB + STAGES * C::B_BYTES;               // [2 warpgroups][2 buffers] (64, EPI) swizzled
    uint64_t* full = reinterpret_cast<uint64_t*>(sC + 4 * C::C_BYTES);  // [STAGES] TMA landed
    uint64_t* empty = full + STAGES;                                    // [STAGES] consumers done reading

    const int mTiles = (rows + BM - 1) / BM, nTiles = (cout + BN - 1) / BN, tiles = mTiles * nTiles;
    const int warpgroup = threadIdx.x >> 7;

    init_stage_barriers(full, empty, STAGES, 1, 8);  // full: the producer's arrive.expect_tx; empty: lane 0 of each of the 8 consumer warps
    __syncthreads();

    if (warpgroup == 0) {
        // ---- producer: one thread streams (A, Bt) stages for every tile of this CTA, STAGES ahead
        setmaxnreg_dec<PRODUCER_REGS>();
        if (threadIdx.x == 0) {
            prefetch_tensormap(tmA);
            prefetch_tensormap(tmB);
            int stage = 0;
            uint32_t phase = 0;
            for (int tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
                const int m0 = (tile / nTiles) * BM, n0 = (tile % nTiles) * BN;
                for (int kb = 0; kb < kTiles; kb++) {
                    wait_parity(&empty[stage], phase ^ 1, hang, hangNs, 0, tile, kb, stage);  // first round passes at once
                    mbar_arrive_expect_tx(&full[stage], stageBytes);                    // whole boxes, zero-filled parts included
                    tma_load_2d(sA + stage * C::A_BYTES, tmA, kb * BK_OF<T>, m0, &full[stage]);
                    tma_load_2d(sB + stage * C::B_BYTES, tmB, kb * BK_OF<T>, n0, &full[stage]);
                    if (++stage == STAGES) { stage = 0; phase ^= 1; }
                }
            }
        }
    } else {
        // ---- consumers: warpgroup wg computes rows [64 wg, 64 wg + 64) of each tile
        setmaxnreg_inc<CONSUMER_REGS>();
        consume_tiles<T, BN, STAGES>(sA, sB, sC, full, empty, tmY, scale, shift, residual, rows, cout, kTiles, row0, postRelu, hang, hangNs,
                                     warpgroup - 1);
    }
}

// W2 (cin, cout) fp32 -> Bt (cout, kPad), Bt[n][k] = W2[k][n], zero for cin <= k < kPad: 16-bit rounded to
// nearest even, or (T = float, the tf32 GEMM) fp32 rounded to tf32 to nearest, ties away (cvt.rna.tf32.f32),
// so the tensor cores' truncation of the low 13 bits leaves the weights exact. Grid-stride over Bt (its writes
// coalesced); ~1-2 MiB for 728 x 728, so its strided reads cost microseconds.
template <typename T>
__device__ __forceinline__ void pack_bt(const float* __restrict__ w2, T* __restrict__ bt, int cin, int cout, int kPad) {
    const size_t total = (size_t)cout * kPad;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        const int n = (int)(i / kPad), k = (int)(i % kPad);
        const float w = k < cin ? __ldg(w2 + (size_t)k * cout + n) : 0.f;
        if constexpr (std::is_same<T, float>::value) bt[i] = round_tf32(w);
        else bt[i] = from_f32<T>(w);
    }
}

}  // namespace pwgemm

#define JX_PWGEMM_KERNELS(SUF, T)                                                                                                               \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) pwgemm_pack_bt_##SUF(const float* __restrict__ w2, T* __restrict__ bt, int cin,     \
                                                                                  int cout, int kPad) {                                          \
        pwgemm::pack_bt<T>(w2, bt, cin, cout, kPad);                                                                                           \
    }                                                                                                                                           \
    JX_PWGEMM_GEMM(SUF, T, 256)                                                                                                                 \
    JX_PWGEMM_GEMM(SUF, T, 128)
#define JX_PWGEMM_GEMM(SUF, T, BN)                                                                                                              \
    extern "C" __global__ void __launch_bounds__(pwgemm::THREADS, 1) pwgemm_wgmma_##SUF##_n##BN(                                              \
        const __grid_constant__ CUtensorMap tmA, const __grid_constant__ CUtensorMap tmB, const __grid_constant__ CUtensorMap tmY,             \
        const float* __restrict__ scale, const float* __restrict__ shift, const T* __restrict__ residual, int rows, int cout, int kTiles,        \
        long long row0, int postRelu, unsigned stageBytes, hopper::HangInfo* hang, unsigned long long hangNs) {                                 \
        pwgemm::gemm<T, BN>(&tmA, &tmB, &tmY, scale, shift, residual, rows, cout, kTiles, row0, postRelu, stageBytes, hang, hangNs);         \
    }

#ifndef PWGEMM_NO_ENTRIES
JX_PWGEMM_KERNELS(bf16, __nv_bfloat16)
JX_PWGEMM_KERNELS(fp16, __half)
JX_PWGEMM_KERNELS(tf32, float)  // fp32 A, Bt, residual and y; tf32 multiplies, fp32 accumulation
#endif
#endif  // JX_HOPPER_PWGEMM_CU
