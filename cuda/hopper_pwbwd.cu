// jx-arch: sm_90a
// The weight gradient of the separable conv's pointwise GEMM on Hopper's own path (issue 13): wgmma from
// shared memory with BOTH operands MN-major, TMA loads into a multi-stage mbarrier pipeline, one producer
// warpgroup and two consumer warpgroups, a persistent scheduler over (tile, split) work items. The same
// contract as cuda/pwbwd.cu's pwbwd_wgrad_<t> (mma.sync), so pwbwd_reduce finishes it the same way:
//
//   partial[s][c, k] = sum over the rows m of split s of d[m, c] * dz[m, k]     (splits, cin, cout) fp32
//   d (M, cin) 16-bit: DW(a), the depthwise output;  dz (M, cout) 16-bit: the gradient at z = d . W2;
//   split s covers rows [s * rowsPerSplit, min(M, (s + 1) * rowsPerSplit)), rowsPerSplit a multiple of 64;
//   with one split, partial is dW2 itself (pwbwd_wgrad's convention).
//
// Why MN-major: dW2 = d^T . dz is a GEMM whose reduction runs over the pixels, and both operands are stored
// pixel-major: A = d^T (cin x M) has its M' dimension (cin) contiguous, B = dz (M x cout) its N dimension
// (cout) contiguous. wgmma reads 16-bit operands in either order from shared memory (the transpose
// immediates), so the TMA boxes are plain (64 pixels) x (64 channels = 128 bytes) boxes of d and dz, landed
// with the 128-byte swizzle: each pixel is one 128-byte row, which is the canonical MN-major atom
// (hopper.cuh's desc_mn_major_sw128): no transpose anywhere, no register traffic for the operands.
//
// Tiles and roles (one CTA per SM, 384 threads, persistent):
//   work item  w in [0, tiles * splits): split w / tiles, tile w % tiles -> (cin tile, cout tile); tiles run
//              fastest, so the CTAs in flight read the same pixel range and d, dz leave DRAM about once
//   tile       BM = 128 cin x BN = 256 (cout > 128) or 128 cout; BK = 64 pixels per stage
//   stage      A: 2 boxes (64 px x 64 cin) = 16 KiB, one per consumer warpgroup (its 64 rows of D);
//              B: BN / 64 boxes (64 px x 64 cout) = 32 or 16 KiB; boxes 8 KiB apart (the descriptors' LBO).
//              A box starting at or past cin (cout) is not loaded (its rows, columns of D are never stored);
//              a box partly past it, or past M, is zero-filled by TMA; the byte count armed on the stage's
//              "full" barrier counts the loaded boxes only
//   warpgroup 0  producer, 40 registers: one thread, STAGES ahead, "empty" -> arm "full" -> up to 2 + BN/64 TMA loads
//   warpgroups 1, 2  consumers, 232 registers: four m64nBNk16 per stage (k16 = 16 pixel rows = 2048 bytes),
//              one group in flight, the stage released after the group that read it completed
//   epilogue   straight from the accumulators: each thread stores float2 pairs (a quad of lanes writes 32
//              contiguous bytes of one dW2 row); rows >= cin and columns >= cout are skipped
// Shared memory: BN = 256: 4 stages x 48 KiB + barriers + 1 KiB alignment = 197,696 bytes; BN = 128: 6 x 32 KiB.
// Requirements (the host checks them; other shapes keep pwbwd_wgrad_<t>): cin % 8 == 0, cout % 8 == 0 (16-byte
// row pitch for the tensor maps), cin >= 64, cout >= 64, M >= 64 (no box larger than its tensor), 16-byte
// aligned d and dz, rowsPerSplit % 64 == 0.
// Numerics: the products of 16-bit values are exact in fp32 and accumulate in fp32 (the tensor cores truncate),
// like pwbwd_wgrad_<t>; only the summation order differs, so the results differ in the last bits, and for a
// given split count the result is bitwise repeatable.
//
// extern "C" entry points, <t> = bf16 | f16 (pwbwd.cu's suffixes):
//   pwbwd_wgrad_wgmma_<t>_n<BN>(tmD, tmDz, partial (splits, cin, cout) fp32, M, cin, cout, rowsPerSplit, splits, hang, hangNs)
//       grid min(tiles * splits, SMs), 384 threads, Config<BN>::SMEM bytes of dynamic shared memory;
//       tmD: d (M, cin), tmDz: dz (M, cout): 2-D row-major maps of the 16-bit type, box (64 columns, 64 rows),
//       128-byte swizzle, zero OOB fill; tiles = ceil(cin / 128) * ceil(cout / BN).
// cuda/dev/pwbwd_wgmma_v1.cu checks these kernels against a float64 reference and pwbwd_wgrad_<t>, emulates the
// descriptor addressing on the CPU (`host`), and times them; benchmarks/NOTES.md pwbwd-4 has the numbers.
#ifndef JX_HOPPER_PWBWD_CU
#define JX_HOPPER_PWBWD_CU
#include "hopper.cuh"

namespace pwbwdh {
using namespace hopper;

constexpr int BM = 128;                  // cin per tile: 2 consumer warpgroups x 64 (wgmma's M)
constexpr int BK = 64;                   // pixels per stage: 64 rows of each box
constexpr int BOX_CH = 64;               // channels per box: one 128-byte row of 16-bit values
constexpr int BOX_BYTES = BK * 128;      // 8 KiB: (64 px, 64 ch) 16-bit, swizzled
constexpr int K_STEPS = BK / 16;         // wgmma k16 steps per stage
constexpr int STEP_BYTES = 16 * 128;     // one k16 step: 16 pixel rows
constexpr int THREADS = 384;
constexpr int PRODUCER_REGS = 40, CONSUMER_REGS = 232;

template <int BN> struct Config {
    static constexpr int STAGES = BN == 256 ? 4 : 6;
    static constexpr int A_BYTES = (BM / BOX_CH) * BOX_BYTES;  // 16 KiB
    static constexpr int B_BYTES = (BN / BOX_CH) * BOX_BYTES;  // 32 or 16 KiB
    static constexpr int SMEM = 1024 + STAGES * (A_BYTES + B_BYTES) + 2 * STAGES * 8;
    static_assert(SMEM <= 232448, "over the 227 KiB a block may use");
};

// Shared-memory byte offset, within a stage's operand, of element (mn, k) as the TMA box placed it: box mn / 64,
// row k (the pixel), byte 2 (mn % 64) of the row, 16-byte chunk XOR (row % 8) (the 128-byte swizzle of a
// 1024-byte-aligned box). __host__ too: `pwbwd_wgmma_v1 host` compares it with the descriptor's addressing.
__host__ __device__ __forceinline__ uint32_t tma_offset(int mn, int k) {
    const uint32_t byte = 2u * (uint32_t)(mn % BOX_CH);
    return (uint32_t)(mn / BOX_CH) * BOX_BYTES + (uint32_t)k * 128u + ((((byte >> 4) ^ ((uint32_t)k & 7u)) << 4) | (byte & 15u));
}

// Work item w of tiles x splits: split w / tiles, tile w % tiles -> cin rows [m0, m0 + BM), cout columns
// [n0, n0 + BN), pixels [p0, p1). The producer and the consumers decode it alike.
struct WorkItem {
    int split, m0, n0, p0, p1;
};
template <int BN>
__device__ __forceinline__ WorkItem work_item(int w, int cin, int cout, int M, int rowsPerSplit) {
    const int nTiles = (cout + BN - 1) / BN, tiles = ((cin + BM - 1) / BM) * nTiles;
    const int split = w / tiles, tile = w % tiles;
    const int p0 = split * rowsPerSplit;
    return WorkItem{split, (tile / nTiles) * BM, (tile % nTiles) * BN, p0, min(M, p0 + rowsPerSplit)};
}

// The consumers: warpgroup wg computes D rows (cin) [64 wg, 64 wg + 64) of each work item's tile.
template <typename T, int BN>
__device__ __forceinline__ void consume(const unsigned char* sA, const unsigned char* sB, uint64_t* full, uint64_t* empty, float* __restrict__ partial,
                                        int M, int cin, int cout, int rowsPerSplit, int splits, HangInfo* hang, unsigned long long hangNs, int wg) {
    using C = Config<BN>;
    const int tiles = ((cin + BM - 1) / BM) * ((cout + BN - 1) / BN);
    const int wtid = threadIdx.x & 127, warp = wtid >> 5, lane = threadIdx.x & 31;
    const uint32_t aAddr = smem_addr(sA) + wg * BOX_BYTES, bAddr = smem_addr(sB);
    float acc[BN / 2];
#pragma unroll
    for (int i = 0; i < BN / 2; i++) acc[i] = 0.f;  // each work item's first wgmma overwrites (scale-d = 0); this only defines the registers
    int stage = 0;
    uint32_t phase = 0;
    for (int w = blockIdx.x; w < tiles * splits; w += gridDim.x) {
        const WorkItem it = work_item<BN>(w, cin, cout, M, rowsPerSplit);
        const int kTiles = (it.p1 - it.p0 + BK - 1) / BK;
        int prev = 0;
        for (int kb = 0; kb < kTiles; kb++) {
            wait_parity(&full[stage], phase, hang, hangNs, 1 + wg, w, kb, stage);
            const uint64_t da = desc_mn_major_sw128(aAddr + stage * C::A_BYTES, BOX_BYTES);
            const uint64_t db = desc_mn_major_sw128(bAddr + stage * C::B_BYTES, BOX_BYTES);
            wgmma_fence();
#pragma unroll
            for (int ks = 0; ks < K_STEPS; ks++)
                wgmma_step_mn_major<T, BN>(acc, da + (STEP_BYTES >> 4) * ks, db + (STEP_BYTES >> 4) * ks, (kb | ks) != 0);
            wgmma_commit();
            if (kb > 0) {  // the group of stage kb-1 has completed: its shared memory may be refilled
                wgmma_wait<1>();
                if (lane == 0) mbar_arrive(&empty[prev]);
            }
            prev = stage;
            if (++stage == C::STAGES) { stage = 0; phase ^= 1; }
        }
        wgmma_wait<0>();
        fence_accumulators(acc);
        if (lane == 0) mbar_arrive(&empty[prev]);

        // ---- epilogue: row c = m0 + 64 wg + 16 warp + lane / 4 (+ 8), columns n0 + 8 j + 2 (lane % 4) + {0, 1}
        const int c = it.m0 + 64 * wg + 16 * warp + (lane >> 2);
        float* out = partial + (size_t)it.split * cin * cout;
#pragma unroll
        for (int j = 0; j < BN / 8; j++) {
            const int k = it.n0 + 8 * j + 2 * (lane & 3);
            if (k < cout) {  // k and cout even: k + 1 < cout too
                if (c < cin) *reinterpret_cast<float2*>(out + (size_t)c * cout + k) = make_float2(acc[4 * j], acc[4 * j + 1]);
                if (c + 8 < cin) *reinterpret_cast<float2*>(out + (size_t)(c + 8) * cout + k) = make_float2(acc[4 * j + 2], acc[4 * j + 3]);
            }
        }
    }
}

template <typename T, int BN>
__device__ __forceinline__ void wgrad(const CUtensorMap* tmD, const CUtensorMap* tmDz, float* __restrict__ partial, int M, int cin, int cout,
                                      int rowsPerSplit, int splits, HangInfo* hang, unsigned long long hangNs) {
    using C = Config<BN>;
    constexpr int STAGES = C::STAGES;
    unsigned char* smem = dynamic_shared_1024();
    unsigned char* sA = smem;                                            // [STAGES] 2 boxes (64 px, 64 cin)
    unsigned char* sB = sA + STAGES * C::A_BYTES;                        // [STAGES] BN/64 boxes (64 px, 64 cout)
    uint64_t* full = reinterpret_cast<uint64_t*>(sB + STAGES * C::B_BYTES);  // [STAGES] TMA landed
    uint64_t* empty = full + STAGES;                                         // [STAGES] consumers done reading
    const int warpgroup = threadIdx.x >> 7;

    init_stage_barriers(full, empty, STAGES, 1, 8);  // full: the producer's arrive.expect_tx; empty: lane 0 of each of the 8 consumer warps
    __syncthreads();

    if (warpgroup == 0) {
        setmaxnreg_dec<PRODUCER_REGS>();
        if (threadIdx.x == 0) {
            prefetch_tensormap(tmD);
            prefetch_tensormap(tmDz);
            const int tiles = ((cin + BM - 1) / BM) * ((cout + BN - 1) / BN);
            int stage = 0;
            uint32_t phase = 0;
            for (int w = blockIdx.x; w < tiles * splits; w += gridDim.x) {
                const WorkItem it = work_item<BN>(w, cin, cout, M, rowsPerSplit);
                const int aBoxes = min(BM / BOX_CH, (cin - it.m0 + BOX_CH - 1) / BOX_CH);
                const int bBoxes = min(BN / BOX_CH, (cout - it.n0 + BOX_CH - 1) / BOX_CH);
                const uint32_t bytes = (uint32_t)(aBoxes + bBoxes) * BOX_BYTES;
                for (int p = it.p0, kb = 0; p < it.p1; p += BK, kb++) {
                    wait_parity(&empty[stage], phase ^ 1, hang, hangNs, 0, w, kb, stage);  // the first round passes at once
                    mbar_arrive_expect_tx(&full[stage], bytes);
                    for (int b = 0; b < aBoxes; b++) tma_load_2d(sA + stage * C::A_BYTES + b * BOX_BYTES, tmD, it.m0 + b * BOX_CH, p, &full[stage]);
                    for (int b = 0; b < bBoxes; b++) tma_load_2d(sB + stage * C::B_BYTES + b * BOX_BYTES, tmDz, it.n0 + b * BOX_CH, p, &full[stage]);
                    if (++stage == STAGES) { stage = 0; phase ^= 1; }
                }
            }
        }
    } else {
        setmaxnreg_inc<CONSUMER_REGS>();
        consume<T, BN>(sA, sB, full, empty, partial, M, cin, cout, rowsPerSplit, splits, hang, hangNs, warpgroup - 1);
    }
}

}  // namespace pwbwdh

#define JX_PWBWDH_WGRAD(SUF, T, BN)                                                                                                           \
    extern "C" __global__ void __launch_bounds__(pwbwdh::THREADS, 1) pwbwd_wgrad_wgmma_##SUF##_n##BN(                                        \
        const __grid_constant__ CUtensorMap tmD, const __grid_constant__ CUtensorMap tmDz, float* __restrict__ partial, int M, int cin,        \
        int cout, int rowsPerSplit, int splits, hopper::HangInfo* hang, unsigned long long hangNs) {                                          \
        pwbwdh::wgrad<T, BN>(&tmD, &tmDz, partial, M, cin, cout, rowsPerSplit, splits, hang, hangNs);                                        \
    }
JX_PWBWDH_WGRAD(bf16, __nv_bfloat16, 256)
JX_PWBWDH_WGRAD(bf16, __nv_bfloat16, 128)
JX_PWBWDH_WGRAD(f16, __half, 256)
JX_PWBWDH_WGRAD(f16, __half, 128)
#endif  // JX_HOPPER_PWBWD_CU
