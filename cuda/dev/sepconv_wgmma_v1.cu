// sepconv_wgmma v1: the fused separable convolution on Hopper (sm_90a), issue #12 item 2. The depthwise
// 3x3 is computed by producer warps straight into the shared-memory A tile that wgmma reads; the
// depthwise result never goes to HBM (the split path, cuda/sepgemm.cu, writes it as A and reads it back).
//
// What it computes: the function of cuda/sepgemm.cu (sepgemm_dw_<math> then sepgemm_gemm_<math>),
//   A[m, k] = round16( sum_{ky,kx} act(x[n, oy+ky-1, ox+kx-1, k]) * dw[ky, kx, k] )   (fp32, taps in ky, kx
//             order, zero outside the image: TF 'same' for stride 1 -- every Xception sepconv is stride 1)
//   y[m, co] = postRelu?( (sum_k A[m, k] * Bt[co, k]) * scale[co] + shift[co] + residual[m, co] )
// with act = preRelu ? relu : identity, m = (n*H + oy)*W + ox (NHWC), x (n, h, w, cin) 16-bit, dw (3, 3, cin)
// fp32, Bt (cout, kPad) 16-bit K-major (pwgemm_pack_bt_<math>, once per weight buffer), scale/shift fp32, residual
// and y (M, cout) 16-bit. A is the same fp32 FMA sequence with the same fp32 weights, rounded once to 16 bits,
// as sepgemm_dw_<math> computes it, so A's bits equal the split path's and the fused output equals the split
// path with pwgemm's wgmma GEMM (same tile, same wgmma order) bit for bit; main checks that.
//
// Kernel (persistent, one CTA per SM, grid = min(tiles, SMs), tile t -> (m tile t / nTiles, n tile t % nTiles)
// as pwgemm_v1): PWG producer warpgroups, then 2 consumer warpgroups.
//   consumers    pwgemm::consume_tiles (cuda/hopper_pwgemm.cu, unchanged): per stage four wgmma m64nBNk16 from
//                128-byte-swizzled K-major descriptors, one group in flight, empty[stage] released by the 8
//                consumer warps; epilogue scale/shift, residual, ReLU, one rounding, swizzled staging, TMA store
//   producers    every producer thread waits on empty[stage]; thread 0 then arms full[stage] with Bt's bytes
//                (arrive.expect_tx) and issues the Bt box (64 k x min(BN, cout) rows) by TMA (pwgemm's tensor
//                map, 128-byte swizzle, zero fill of the K and N tails); all producer threads compute the
//                stage's 128 x 64 A block and store it in wgmma's layout (row r, 16-byte chunk c at
//                r * 128 + ((c ^ (r % 8)) << 4): the swizzle TMA writes and desc_k_major_sw128 reads), then
//                fence.proxy.async.shared::cta (their generic stores -> visible to wgmma's async proxy),
//                __syncwarp, and lane 0 of each producer warp arrives on full[stage]:
//                full counts 4 * PWG warp arrivals + 1 expect_tx arrival (+ the Bt transaction bytes).
//   A tile       row r of the tile is pixel m0 + r (NHWC order: a 128-row tile spans parts of several image
//                rows; each row computes its own 3x3 window, the neighbours are pixels m +- 1, m +- W,
//                m +- W +- 1, read with 16-byte (PWG 1) or 8-byte (PWG 2) __ldg loads of CPT = 8 / PWG
//                channels through L1); a thread owns channel group g (CPT channels of the 64-wide k block)
//                and rows rsub + 16 i, i = 0..7 (LPR = 64 / CPT lanes per row, 16 rows per pass): one warp
//                load covers 4 (PWG 1) or 2 (PWG 2) whole 128-byte pixel lines. Per tile a thread computes,
//                once, a 9-bit "tap inside the image" mask for each of its 8 rows (0 for rows >= M): a tap
//                outside is a predicated-off load of zeros, and fmaf(0, w, v) == v bit for bit (v starts at
//                +0, so it never becomes -0), so there is no divergence at the borders and A still equals the
//                split path's, which skips those taps. Channels >= cin (cin % 8 == 0, so a whole group) and
//                rows >= M are stored as zeros (a NaN there would reach no stored output, but zeros are free).
//   weights      the 9 x CPT fp32 depthwise weights of the thread's channel group live in registers, loaded
//                once per stage (18 / 9 float4 loads, L1 hits) and used for 8 rows: per stage 128 x 64 x 9 x 4
//                / 8 = 36 KiB of L1 weight traffic against 147 KiB of x loads (sepgemm_dw reloads them per pixel)
//   preRelu      applied on the packed 16-bit pairs (__hmax2 with 0, or with -inf when off: one instruction per
//                two channels, the same value as relu after the conversion)
//
// Design arithmetic (H100 SXM: 132 SMs, ~1.83 GHz boost; per SM per clock 4,096 dense 16-bit tensor FLOP,
// 128 FP32 FMA lanes = 4 SMSPs x 1 warp instruction):
//   wgmma per stage, 128 x BN x 64:      BN 256: 4.19 MFLOP = 1,024 clocks at the 989 TFLOP/s datasheet rate,
//                                        ~1,690 clocks at 600 TFLOP/s; BN 128: half that
//   depthwise per stage, 128 x 64 x 9:   73,728 FMA = 576 clocks of the SM's 128 FP32 lanes if FFMA were all;
//                                        per (row, 8 channels): 9 loads, 72 FFMA, 72 unpacks (bf16 -> fp32
//                                        is one shift or mask each), 36 HMNMX2, 4 packs, 1 STS.128, ~15
//                                        address/predicate ops: ~210 instructions, x 1,024 items / 32 lanes
//                                        = ~6,700 warp instructions per stage = ~1,700 issue clocks per
//                                        SMSP if the producer warps issue every clock
//                                        SASS (cuobjdump 13.1) of the built row loop, bf16 P1, per 2 rows x 8
//                                        channels: 680 instructions = 144 FFMA + 144 unpacks (IMAD.U32 / LOP3) +
//                                        72 HMNMX2 + 18 LDG.128 + 36 CS2R (zeros of predicated-off taps) + 36
//                                        LDC + 36 LEA + 2 STS.128 + ~50 others: 340 per (row, 8 channels), not
//                                        ~210 -> 10,880 warp instructions = 2,720 issue clocks per SMSP per stage
//                                        (P2: 484 per 2 rows x 4 channels = 3,870 clocks per 128 x 128 stage)
//   => the producer, not the tensor core, bounds the fused kernel: 2,720+ clocks per stage vs 1,024 at peak,
//      i.e. at best ~38% of the datasheet rate (~370 TFLOP/s) with every producer issue slot used, and only
//      with enough producer warps per SMSP to hide the L1/L2 latency of the x loads. The next step (v2): a
//      thread computes several horizontally adjacent pixels and reuses the unpacked/ReLU'd x columns (3
//      new columns per pixel instead of 9 taps: ~-45% of the loads, unpacks and HMNMX2). BN = 256 whenever cout > 128: the depthwise of a stage is
//      recomputed once per n tile (3x for cout 728) and its cost per useful FLOP halves with BN.
//      How many producer warps? Both are compiled, checked and timed, PWG = 1 and 2 (TABLE "fused P1/P2"):
//   PWG 1: 384 threads, 4 producer warps (1 per SMSP), 8 channels per thread, 72 weight registers; no
//          setmaxnreg: the entry cap of __launch_bounds__(384, 1) is 168 registers for every warp (128 x 168
//          + 256 x 168 = 64,512 <= 65,536), the consumers need 168 (pwgemm: R167 at BN 256) and the
//          producer ~140 (72 weights + 8 masks + 8 sums + 2 x 4 x 4 loads in flight + addresses).
//   PWG 2: 512 threads, 8 producer warps (2 per SMSP: one can issue while the other waits on a load),
//          4 channels per thread (8-byte loads, 36 weight registers), and BN = 128 always. Planned as BN 256
//          with setmaxnreg.dec 88 / .inc 168 (256 x 88 + 256 x 168 = 65,536), but ptxas (13.0) compiles every
//          warp of the kernel under the entry cap of __launch_bounds__(512, 1), 128 registers, and setmaxnreg
//          does not raise it: "Insufficient registers (128) to compile instruction ... register target of 154"
//          at the first m64n256k16 (its 128 accumulators). At BN 128 (64 accumulators) the whole kernel fits in
//          128 (ptxas: 126), so no setmaxnreg is used in either variant; P2 pays the depthwise twice as often
//          per useful FLOP when cout > 128 (once per 128 columns instead of 256) for twice the producer warps.
//   Row loop: ROW_UNROLL = 2 rows per trip (18 loads in flight per thread); 1 also compiles without spills.
//   x traffic: each 128-byte pixel line of a k block is read by up to 9 rows of the tile; unique lines per
//   stage 128 + 2W + 2 (21 KiB at W = 19, 54 KiB at W = 147) + Bt 32 KiB, if L1 keeps the reuse (else up to
//   147 KiB per stage from L2: ~24 TB/s across the chip, impossible). That is why BN 256 runs 3 stages, not
//   pwgemm's 4: 3 x 48 KiB + 32 KiB staging = 177 KiB of shared memory leaves ~50 KiB of L1 (4 stages leave
//   ~28 KiB); BN 128: 4 x 32 KiB + 32 KiB = 160 KiB.
//   A GPU decides between PWG 1 and 2 (and whether the L1 reuse holds); the TABLE shows both and names the
//   faster per layer ("best P1/P2"); the all-34 total takes the better one per layer.
// ptxas (nvcc 13.0, sm_90a, 0 bytes stack, 0 spills each): P1 BN 256 168 registers, P1 BN 128 168, P2 BN 128
// 126 (bf16; fp16 124); shared memory P1 BN 256 181,296 bytes, BN 128 164,928 bytes.
//
// What main does: CHECK lines (fresh random x, dw, W2, scale, shift, residual per shape, never zeros;
// NaN-poisoned y and a 0x5a guard region after it): every variant (split = sepgemm_dw + mma.sync
// sepgemm_gemm, split = sepgemm_dw + pwgemm wgmma, fused PWG 1 and 2, fused on 7- and 5-CTA grids so each
// CTA walks many tiles and the stage phases wrap) against a naive fp32 GPU reference on every element (a
// naive depthwise, rounded to 16 bits as the split path rounds A, then pwgemm_v1's gemm_reference), fused
// against a float64 CPU reference of the exact function (unrounded A) on sampled rows, fused bitwise equal to
// split-wgmma, fused vs split-mma.sync within the bound, a bitwise repeat; shapes with every tail (19x19,
// 10x10, 147x147, 7x5 images, cin 64..1536 and 72, cout 72..2048, residual / postRelu / preRelu on and off).
// Then TABLE lines: every separable conv of Xception (11 distinct shapes, 34 convs) at batch 256 and 32, for
// split (mma.sync), split (wgmma), fused PWG 1 and fused PWG 2: ms (CUDA events, 3 warm-up rounds, median of
// 15, buffer sets rotated so the working set is >= 2x L2), GB/s of the useful bytes (x read once + y written
// once (+ residual)) and TFLOP/s of the useful 2 M (9 K + K N), and the fused speedup over both splits.
// Exit status: 0 all checks passed, 2 a numerical check failed (timings still run), 1 a CUDA error (a
// trapped hang: an mbarrier wait > 2 s traps, and main prints which wait).
//
// Build (sm_90a for wgmma/setmaxnreg; no -lcuda, see pwgemm_v1.cu):
// device-build: -gencode arch=compute_90a,code=sm_90a
//   nvcc -std=c++17 -O3 --Werror all-warnings -Xptxas -Werror -gencode arch=compute_90a,code=sm_90a \
//        -o sepconv_wgmma_v1 cuda/dev/sepconv_wgmma_v1.cu
// Run: ./sepconv_wgmma_v1 [all | check | small | time] [batches, default 256,32]
#define PWGEMM_NO_MAIN
#include "pwgemm_v1.cu"

namespace sepwgmma {

#ifndef ROW_UNROLL
#define ROW_UNROLL 2
#endif
constexpr int kRowUnroll = ROW_UNROLL;  // rows a producer thread computes per loop trip (their loads in flight together)

using pwgemm::BM;
using pwgemm::BK;

template <int BN> struct Config {
    static constexpr int STAGES = BN == 256 ? 3 : 4;  // leaves L1 room for the x reuse (header)
    static constexpr int A_BYTES = pwgemm::Config<BN>::A_BYTES, B_BYTES = pwgemm::Config<BN>::B_BYTES;
    static constexpr int C_BYTES = pwgemm::Config<BN>::C_BYTES;
    static constexpr int SMEM = 1024 + STAGES * (A_BYTES + B_BYTES) + 4 * C_BYTES + 2 * STAGES * 8;
    static_assert(SMEM <= 232448, "over the 227 KiB a block may use");
};
template <int PWG> struct Roles {
    static constexpr int THREADS = 128 * (PWG + 2);
    static constexpr int CPT = 8 / PWG;           // channels per producer thread
    static constexpr int LPR = BK / CPT;          // producer lanes per tile row (8 or 16)
    static constexpr int RPP = 128 * PWG / LPR;   // rows per pass of all producer threads (16)
    static constexpr int ROWS = BM / RPP;         // rows per thread per stage (8)
    static_assert(RPP * ROWS == BM, "rows");
};

// ---- 16-bit pair helpers (one 32-bit word = two channels)
template <typename T> __device__ __forceinline__ uint32_t max2(uint32_t a, uint32_t b);
template <> __device__ __forceinline__ uint32_t max2<__nv_bfloat16>(uint32_t a, uint32_t b) {
    __nv_bfloat162 r = __hmax2(*reinterpret_cast<__nv_bfloat162*>(&a), *reinterpret_cast<__nv_bfloat162*>(&b));
    return *reinterpret_cast<uint32_t*>(&r);
}
template <> __device__ __forceinline__ uint32_t max2<__half>(uint32_t a, uint32_t b) {
    __half2 r = __hmax2(*reinterpret_cast<__half2*>(&a), *reinterpret_cast<__half2*>(&b));
    return *reinterpret_cast<uint32_t*>(&r);
}
template <typename T> __device__ __forceinline__ void unpack2(uint32_t w, float& lo, float& hi);
template <> __device__ __forceinline__ void unpack2<__nv_bfloat16>(uint32_t w, float& lo, float& hi) {
    lo = __uint_as_float(w << 16);
    hi = __uint_as_float(w & 0xffff0000u);
}
template <> __device__ __forceinline__ void unpack2<__half>(uint32_t w, float& lo, float& hi) {
    const float2 f = __half22float2(*reinterpret_cast<__half2*>(&w));
    lo = f.x; hi = f.y;
}
// relu's lower bound as a 16-bit pair: 0 (preRelu) or -inf (identity)
template <typename T> __host__ __device__ constexpr uint32_t neg_inf2() { return std::is_same<T, __nv_bfloat16>::value ? 0xff80ff80u : 0xfc00fc00u; }

template <int CPT> __device__ __forceinline__ void ldg_words(const void* p, uint32_t (&u)[CPT / 2]);
template <> __device__ __forceinline__ void ldg_words<8>(const void* p, uint32_t (&u)[4]) {
    const uint4 q = __ldg(reinterpret_cast<const uint4*>(p));
    u[0] = q.x; u[1] = q.y; u[2] = q.z; u[3] = q.w;
}
template <> __device__ __forceinline__ void ldg_words<4>(const void* p, uint32_t (&u)[2]) {
    const uint2 q = __ldg(reinterpret_cast<const uint2*>(p));
    u[0] = q.x; u[1] = q.y;
}

// ------------------------------------------------------------------ the producer warpgroups
template <typename T, int BN, int PWG>
__device__ __forceinline__ void produce_tiles(unsigned char* sA, unsigned char* sB, uint64_t* full, uint64_t* empty, const CUtensorMap* tmB,
                                              const T* __restrict__ x, const float* __restrict__ dw, int rows, int h, int w, int cin,
                                              int cout, int kTiles, int preRelu, uint32_t bBytes, pwgemm::HangInfo* hang,
                                              unsigned long long hangNs) {
    using C = Config<BN>;
    using R = Roles<PWG>;
    constexpr int CPT = R::CPT, WORDS = CPT / 2;
    const int ptid = threadIdx.x;  // 0 .. 128 PWG - 1
    const int g = ptid % R::LPR, rsub = ptid / R::LPR;
    const int lane = ptid & 31;
    const uint32_t lo2 = preRelu ? 0u : neg_inf2<T>();
    const int nTiles = (cout + BN - 1) / BN, tiles = ((rows + BM - 1) / BM) * nTiles;
    // byte offset of this thread's CPT channels in row r of a swizzled A stage: chunk (g CPT / 8) ^ (r % 8)
    const int chunk = g * CPT / 8, inChunk = (g * CPT % 8) * 2;
    if (ptid == 0) pwgemm::prefetch_tensormap(tmB);
    int stage = 0;
    uint32_t phase = 0;
    for (int tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
        const int m0 = (tile / nTiles) * BM, n0 = (tile % nTiles) * BN;
        // byte i: the 8 neighbour taps of row rsub + 16 i (bit t, t < 4, or t - 1, t > 4, for tap t = ky * 3 + kx)
        // that lie inside the image; the centre tap always does. One 64-bit word, so a rolled row loop indexes
        // it with a shift (an array would go to local memory).
        uint64_t masks = 0;
#pragma unroll
        for (int i = 0; i < R::ROWS; i++) {
            const int row = m0 + rsub + R::RPP * i;
            const int ox = row % w, oy = (row / w) % h;
            const uint32_t cols = (ox > 0 ? 1u : 0u) | 2u | (ox < w - 1 ? 4u : 0u);
            const uint32_t m9 = (oy > 0 ? cols : 0u) | (cols << 3) | (oy < h - 1 ? cols << 6 : 0u);
            masks |= (uint64_t)((m9 & 15u) | ((m9 >> 1) & 0xf0u)) << (8 * i);
        }
        for (int kb = 0; kb < kTiles; kb++) {
            pwgemm::wait_parity(&empty[stage], phase ^ 1, hang, hangNs, 0, tile, kb, stage);  // the first round passes at once
            if (ptid == 0) {
                pwgemm::mbar_arrive_expect_tx(&full[stage], bBytes);
                pwgemm::tma_load_2d(sB + stage * C::B_BYTES, tmB, kb * BK, n0, &full[stage]);
            }
            const int c0 = kb * BK + g * CPT;
            const bool valid = c0 < cin;  // cin % 8 == 0: the whole group is valid or not
            float wt[9][CPT];
#pragma unroll
            for (int t = 0; t < 9; t++)
#pragma unroll
                for (int j = 0; j < CPT; j += 4) {
                    const float4 q = valid ? __ldg(reinterpret_cast<const float4*>(dw + (size_t)t * cin + c0 + j)) : make_float4(0.f, 0.f, 0.f, 0.f);
                    wt[t][j] = q.x; wt[t][j + 1] = q.y; wt[t][j + 2] = q.z; wt[t][j + 3] = q.w;
                }
            unsigned char* sAs = sA + stage * C::A_BYTES;
#pragma unroll kRowUnroll
            for (int i = 0; i < R::ROWS; i++) {
                const int r = rsub + R::RPP * i;
                float v[CPT];
#pragma unroll
                for (int j = 0; j < CPT; j++) v[j] = 0.f;
                const uint32_t m8 = (uint32_t)(masks >> (8 * i)) & 0xffu;
                const uint32_t mk = valid && m0 + r < rows ? (m8 & 15u) | 16u | ((m8 & 0xf0u) << 1) : 0u;  // 9 bits, bit t = tap t
                const T* px = x + (size_t)(m0 + r) * cin + c0;  // dereferenced only where mk says the tap exists
#pragma unroll
                for (int t = 0; t < 9; t++) {
                    const int ky = t / 3, kx = t % 3;
                    uint32_t u[WORDS];
                    if (mk >> t & 1) ldg_words<CPT>(px + (ptrdiff_t)((ky - 1) * w + (kx - 1)) * cin, u);
                    else {
#pragma unroll
                        for (int q = 0; q < WORDS; q++) u[q] = 0u;
                    }
#pragma unroll
                    for (int q = 0; q < WORDS; q++) {
                        float a0, a1;
                        unpack2<T>(max2<T>(u[q], lo2), a0, a1);
                        v[2 * q] = fmaf(a0, wt[t][2 * q], v[2 * q]);
                        v[2 * q + 1] = fmaf(a1, wt[t][2 * q + 1], v[2 * q + 1]);
                    }
                }
                unsigned char* dst = sAs + r * 128 + ((chunk ^ (r & 7)) << 4) + inChunk;
                if constexpr (CPT == 8)
                    *reinterpret_cast<uint4*>(dst) = make_uint4(pwgemm::pack2<T>(v[0], v[1]), pwgemm::pack2<T>(v[2], v[3]),
                                                                pwgemm::pack2<T>(v[4], v[5]), pwgemm::pack2<T>(v[6], v[7]));
                else
                    *reinterpret_cast<uint2*>(dst) = make_uint2(pwgemm::pack2<T>(v[0], v[1]), pwgemm::pack2<T>(v[2], v[3]));
            }
            pwgemm::fence_proxy_async_shared();  // this thread's A stores -> visible to the wgmma (async proxy) reads
            __syncwarp();
            if (lane == 0) pwgemm::mbar_arrive(&full[stage]);
            if (++stage == C::STAGES) { stage = 0; phase ^= 1; }
        }
    }
}

// tmB: Bt (cout, kPad), box (64 k, min(BN, cout) rows); tmY: y (rows, cout), box (64, 64); both 128-byte swizzle.
// bBytes = Bt's box bytes. x (rows = n h w, cin) NHWC, cin % 8 == 0; kTiles = ceil(kPad / 64).
template <typename T, int BN, int PWG>
__global__ void __launch_bounds__(Roles<PWG>::THREADS, 1)
sepconv_wgmma(const __grid_constant__ CUtensorMap tmB, const __grid_constant__ CUtensorMap tmY, const T* __restrict__ x, const float* __restrict__ dw,
              const float* __restrict__ scale, const float* __restrict__ shift, const T* __restrict__ residual, int rows, int h, int w, int cin,
              int cout, int kTiles, int preRelu, int postRelu, uint32_t bBytes, pwgemm::HangInfo* hang, unsigned long long hangNs) {
    using C = Config<BN>;
    constexpr int STAGES = C::STAGES;
    extern __shared__ unsigned char smem_raw[];
    unsigned char* smem = smem_raw + ((1024 - (smem_addr(smem_raw) & 1023)) & 1023);
    unsigned char* sA = smem;                                   // [STAGES] (128, 64) swizzled
    unsigned char* sB = sA + STAGES * C::A_BYTES;               // [STAGES] (BN, 64) swizzled
    unsigned char* sC = sB + STAGES * C::B_BYTES;               // [2 consumer warpgroups][2 buffers] (64, 64) swizzled
    uint64_t* full = reinterpret_cast<uint64_t*>(sC + 4 * C::C_BYTES);  // [STAGES] A written + Bt landed
    uint64_t* empty = full + STAGES;                                    // [STAGES] consumers done reading
    const int warpgroup = threadIdx.x >> 7;

    if (threadIdx.x == 0) {
        for (int s = 0; s < STAGES; s++) {
            pwgemm::mbar_init(&full[s], 4 * PWG + 1);  // one arrive per producer warp + thread 0's arrive.expect_tx
            pwgemm::mbar_init(&empty[s], 8);           // lane 0 of each of the 8 consumer warps
        }
        pwgemm::mbar_init_fence();
    }
    __syncthreads();

    static_assert(PWG == 1 || BN == 128, "512 threads: ptxas compiles every warp under the 128-register entry cap (see the header)");
    if (warpgroup < PWG) {
        produce_tiles<T, BN, PWG>(sA, sB, full, empty, &tmB, x, dw, rows, h, w, cin, cout, kTiles, preRelu, bBytes, hang, hangNs);
    } else {
        pwgemm::consume_tiles<T, BN, STAGES>(sA, sB, sC, full, empty, &tmY, scale, shift, residual, rows, cout, kTiles, 0, postRelu, hang, hangNs,
                                             warpgroup - PWG);
    }
}

}  // namespace sepwgmma

// ------------------------------------------------------------------ references
// Naive depthwise: one thread per (row, channel), fp32 FMAs in ky, kx order over the taps inside the image
// (sepgemm_dw's order), rounded to 16 bits: A (rows, kPad) with zero columns >= cin.
template <typename T>
__global__ void dw_reference(const T* __restrict__ x, const float* __restrict__ dw, T* __restrict__ a, int rows, int h, int w, int cin, int kPad,
                             int preRelu) {
    const size_t total = (size_t)rows * kPad;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        const int c = (int)(i % kPad), m = (int)(i / kPad);
        float s = 0.f;
        if (c < cin) {
            const int ox = m % w, oy = (m / w) % h;
            for (int ky = 0; ky < 3; ky++)
                for (int kx = 0; kx < 3; kx++) {
                    const int iy = oy + ky - 1, ix = ox + kx - 1;
                    if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                    const float v = to_f32(x[((size_t)m + (ky - 1) * w + (kx - 1)) * cin + c]);
                    s = fmaf(preRelu ? relu(v) : v, dw[(ky * 3 + kx) * cin + c], s);
                }
        }
        a[i] = from_f32<T>(s);
    }
}

// ------------------------------------------------------------------ one separable conv's buffers
// g: pwgemm_v1's Gemm (W2, Bt, sepgemm's B, scale, shift, residual, y + guard rows, tensor maps); g.a is the
// split path's A scratch (written by sepgemm_dw before each split run; the fused kernel does not use it).
template <typename T>
struct Sep {
    Gemm<T> g;
    int n, h, w;
    bool preRelu;
    T* x;       // (n, h, w, cin)
    float* dw;  // (3, 3, cin)
    double flops() const { return 2.0 * g.rows * (9.0 * g.cin + (double)g.cin * g.cout); }
    double usefulBytes() const { return (double)g.rows * (g.cin + g.cout * (g.residual ? 2 : 1)) * sizeof(T); }
};

template <typename T>
static Sep<T> make_sep(int n, int h, int w, int cin, int cout, bool preRelu, bool residual, bool postRelu, unsigned seed) {
    if (cin % 8) {
        fprintf(stderr, "sepconv_wgmma v1 needs cin %% 8 == 0 (16-byte x loads); got %d\n", cin);
        exit(1);
    }
    Sep<T> s;
    s.g = make_gemm<T>(n * h * w, cin, cout, residual, postRelu, seed);
    s.n = n; s.h = h; s.w = w; s.preRelu = preRelu;
    const size_t xElems = (size_t)s.g.rows * cin;
    CK(cudaMalloc(&s.x, xElems * sizeof(T)));
    CK(cudaMalloc(&s.dw, 9 * (size_t)cin * 4));
    fill_matrix<<<grid_for(xElems), 256>>>(s.x, (size_t)s.g.rows, cin, cin, 0.f, 1.f, seed + 7);  // signed: preRelu matters
    fill_matrix<<<grid_for(9 * (size_t)cin), 256>>>(s.dw, 9, cin, cin, 0.f, 0.5f, seed + 8);
    CK_LAUNCH();
    return s;
}
template <typename T>
static void free_sep(Sep<T>& s) {
    free_gemm(s.g);
    CK(cudaFree(s.x)); CK(cudaFree(s.dw));
}

// ------------------------------------------------------------------ launches
template <typename T>
static void launch_dw(const Sep<T>& s) {  // sepgemm_dw_<math> over all rows (row0 = 0) -> g.a
    const Gemm<T>& g = s.g;
    const int grid = grid_for((size_t)g.rows * (g.kPad / 8));
    if (std::is_same<T, __nv_bfloat16>::value)
        sepgemm_dw_bf16<<<grid, JX_THREADS>>>((const __nv_bfloat16*)s.x, s.dw, (__nv_bfloat16*)g.a, s.h, s.w, g.cin, g.kPad, 0, g.rows, s.preRelu ? 1 : 0);
    else
        sepgemm_dw_fp16<<<grid, JX_THREADS>>>((const __half*)s.x, s.dw, (__half*)g.a, s.h, s.w, g.cin, g.kPad, 0, g.rows, s.preRelu ? 1 : 0);
}
template <typename T> static void launch_split_mma(const Sep<T>& s) { launch_dw(s); launch_mma_sync(s.g); }
template <typename T> static void launch_split_wgmma(const Sep<T>& s) {
    launch_dw(s);
    if (s.g.cout > 128) launch_wgmma<T, 256>(s.g); else launch_wgmma<T, 128>(s.g);
}
template <typename T, int BN, int PWG>
static void launch_fused_bn(const Sep<T>& s, int gridLimit) {
    using C = sepwgmma::Config<BN>;
    const Gemm<T>& g = s.g;
    static bool attr = false;
    if (!attr) { CK(cudaFuncSetAttribute(sepwgmma::sepconv_wgmma<T, BN, PWG>, cudaFuncAttributeMaxDynamicSharedMemorySize, C::SMEM)); attr = true; }
    const int tiles = ((g.rows + pwgemm::BM - 1) / pwgemm::BM) * ((g.cout + BN - 1) / BN);
    int grid = std::min(tiles, g_sms);
    if (gridLimit > 0) grid = std::min(grid, gridLimit);
    const uint32_t bBytes = 2u * pwgemm::BK * std::min(BN, g.cout);
    sepwgmma::sepconv_wgmma<T, BN, PWG><<<grid, sepwgmma::Roles<PWG>::THREADS, C::SMEM>>>(
        BN == 256 ? g.mapB : g.mapB128, g.mapY, s.x, s.dw, g.scale, g.shift, g.res, g.rows, s.h, s.w, g.cin, g.cout,
        (g.kPad + pwgemm::BK - 1) / pwgemm::BK, s.preRelu ? 1 : 0, g.postRelu ? 1 : 0, bBytes, g_hangDev, g_hangNs);
}
template <typename T, int PWG>
static void launch_fused(const Sep<T>& s, int gridLimit = 0) {
    if (PWG == 1 && s.g.cout > 128) launch_fused_bn<T, 256, 1>(s, gridLimit); else launch_fused_bn<T, 128, PWG>(s, gridLimit);
}

// ------------------------------------------------------------------ checks
// float64 on the CPU for sampled rows (first, last, random): the exact function from the device's 16-bit x and
// weights, A not rounded (so the bound covers A's rounding too: ~2^-9 relative per element for bf16, which
// averages down over K; the final rounding dominates, the same 4e-3 / 1e-3 bounds as pwgemm_v1).
template <typename T>
static Compare sep_cpu_sampled(const Sep<T>& s, const std::vector<float>& got, int samples) {
    const Gemm<T>& g = s.g;
    std::vector<float> x = download(s.x, (size_t)g.rows * g.cin), bt = download(g.bt, (size_t)g.cout * g.kPad);
    std::vector<float> dw(9 * (size_t)g.cin), sc(g.cout), sh(g.cout), res;
    CK(cudaMemcpy(dw.data(), s.dw, dw.size() * 4, cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(sc.data(), g.scale, g.cout * 4, cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(sh.data(), g.shift, g.cout * 4, cudaMemcpyDeviceToHost));
    if (g.res) res = download(g.res, g.yElems());
    std::vector<int> rowsPicked;
    for (int i = 0; i < std::min(3, g.rows); i++) { rowsPicked.push_back(i); rowsPicked.push_back(g.rows - 1 - i); }
    unsigned long long r = 0xD1B54A32D192ED03ull ^ g_seed;
    for (int i = 0; i < samples; i++) { r ^= r << 13; r ^= r >> 7; r ^= r << 17; rowsPicked.push_back((int)(r % (unsigned long long)g.rows)); }
    std::vector<double> ref, a(g.cin);
    std::vector<float> gotRows;
    for (int m : rowsPicked) {
        const int ox = m % s.w, oy = (m / s.w) % s.h;
        for (int c = 0; c < g.cin; c++) {
            double acc = 0;
            for (int ky = 0; ky < 3; ky++)
                for (int kx = 0; kx < 3; kx++) {
                    const int iy = oy + ky - 1, ix = ox + kx - 1;
                    if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) continue;
                    double v = x[((size_t)m + (ky - 1) * s.w + (kx - 1)) * g.cin + c];
                    if (s.preRelu && v < 0) v = 0;
                    acc += v * dw[(ky * 3 + kx) * g.cin + c];
                }
            a[c] = acc;
        }
        for (int co = 0; co < g.cout; co++) {
            double acc = 0;
            for (int c = 0; c < g.cin; c++) acc += a[c] * bt[(size_t)co * g.kPad + c];
            double v = acc * sc[co] + sh[co];
            if (g.res) v += res[(size_t)m * g.cout + co];
            if (g.postRelu && v < 0) v = 0;
            ref.push_back(v);
            gotRows.push_back(got[(size_t)m * g.cout + co]);
        }
    }
    return compare(gotRows, ref, ref.size());
}

template <typename T>
static bool verdict(const char* label, const Sep<T>& s, const char* what, const Compare& c, bool ok, const char* extra = "") {
    printf("CHECK  %-22s %s %dx%dx%d K=%-4d N=%-4d%s%s%s: %s rel %.2e max %.2e, non-finite %zu%s  %s\n", label, type_name<T>(), s.n, s.h, s.w, s.g.cin,
           s.g.cout, s.preRelu ? " prerelu" : "", s.g.residual ? " +res" : "", s.g.postRelu ? " relu" : "", what, c.rel, c.maxRel, c.nonFinite, extra,
           ok ? "OK" : "FAIL");
    g_checks++;
    if (!ok) g_failures++;
    return ok;
}

template <typename T>
static void check_sep(int n, int h, int w, int cin, int cout, bool preRelu, bool residual, bool postRelu, bool small = false) {
    Sep<T> s = make_sep<T>(n, h, w, cin, cout, preRelu, residual, postRelu, g_seed += 16);
    const Gemm<T>& g = s.g;
    const double bound = std::is_same<T, __nv_bfloat16>::value ? 4e-3 : 1e-3;
    printf("INFO   shape n=%d %dx%d cin %d cout %d: M=%d, %d m tiles x %d n tiles (BN %d)\n", n, h, w, cin, cout, g.rows, (g.rows + 127) / 128,
           (cout + (cout > 128 ? 255 : 127)) / (cout > 128 ? 256 : 128), cout > 128 ? 256 : 128);
    // reference: naive depthwise (rounded as the split path rounds A) into g.a, then pwgemm_v1's naive GEMM
    dw_reference<T><<<grid_for((size_t)g.rows * g.kPad), 256>>>(s.x, s.dw, g.a, g.rows, h, w, cin, g.kPad, preRelu ? 1 : 0);
    float* yref;
    CK(cudaMalloc(&yref, g.yElems() * 4));
    gemm_reference<T><<<dim3((cout + 255) / 256, std::min(g.rows, 8192)), 256>>>(g.a, g.b, g.scale, g.shift, g.res, yref, g.rows, cout, g.kPad, g.nPad,
                                                                               postRelu ? 1 : 0);
    sync_or_die("references");
    std::vector<float> ref(g.yElems());
    CK(cudaMemcpy(ref.data(), yref, g.yElems() * 4, cudaMemcpyDeviceToHost));
    CK(cudaFree(yref));
    std::vector<T> aRef((size_t)g.rows * g.kPad), aSplit(aRef.size());
    CK(cudaMemcpy(aRef.data(), g.a, aRef.size() * sizeof(T), cudaMemcpyDeviceToHost));

    std::vector<float> mma = run_checked("split dw+mma.sync", g, ref, [&] { launch_split_mma(s); }, false);
    // the split path's A (sepgemm_dw) against the naive depthwise: expected bit for bit (same FMA order)
    CK(cudaMemcpy(aSplit.data(), g.a, aSplit.size() * sizeof(T), cudaMemcpyDeviceToHost));
    const bool aSame = memcmp(aRef.data(), aSplit.data(), aRef.size() * sizeof(T)) == 0;
    std::vector<float> wg = run_checked("split dw+wgmma", g, ref, [&] { launch_split_wgmma(s); }, false);
    std::vector<float> f1 = run_checked("fused P1", g, ref, [&] { launch_fused<T, 1>(s); }, false);
    std::vector<float> f2 = run_checked("fused P2", g, ref, [&] { launch_fused<T, 2>(s); }, false);
    {
        const Compare c = sep_cpu_sampled(s, f1, small ? 16 : 48);
        verdict("fused P1 vs fp64 CPU", s, "sampled rows", c, c.rel < bound && !c.nonFinite);
    }
    // fused vs split: the same A bits and, against split-wgmma with the same BN, the same wgmma tile and order
    // -> bitwise (P2 runs BN 128 always: for cout > 128 it is compared with a BN 128 split run)
    std::vector<float> wg128 = g.cout > 128 ? run_checked("split dw+wgmma BN=128", g, ref, [&] { launch_dw(s); launch_wgmma<T, 128>(g); }, false) : wg;
    const bool eqWg1 = f1 == wg, eqWg2 = f2 == wg128;
    Compare cm = compare(f1, std::vector<double>(mma.begin(), mma.end()), mma.size());
    char extra[160];
    snprintf(extra, sizeof extra, ", bitwise == split-wgmma: P1 %s P2 %s, split A == naive A %s", eqWg1 ? "yes" : "NO", eqWg2 ? "yes" : "NO",
             aSame ? "yes" : "NO");
    verdict("fused vs split", s, "fused P1 vs split-mma.sync", cm, cm.rel < bound && !cm.nonFinite && eqWg1 && eqWg2 && aSame, extra);
    if (!small) {
        // few CTAs: each walks many tiles, the stage phases wrap across tiles many times
        std::vector<float> f7 = run_checked("fused P1 grid=7", g, ref, [&] { launch_fused<T, 1>(s, 7); }, false);
        std::vector<float> f5 = run_checked("fused P2 grid=5", g, ref, [&] { launch_fused<T, 2>(s, 5); }, false);
        std::vector<float> again = run_checked("fused P1 repeat", g, ref, [&] { launch_fused<T, 1>(s); }, false);
        const bool same = again == f1 && f7 == f1 && f5 == f1;
        printf("CHECK  %-22s %s %dx%dx%d K=%-4d N=%-4d: repeat and grid 7 / 5 bitwise equal to the first fused run: %s  %s\n", "fused bitwise repeat",
               type_name<T>(), n, h, w, cin, cout, same ? "yes" : "NO", same ? "OK" : "FAIL");
        g_checks++;
        if (!same) g_failures++;
    }
    free_sep(s);
}

// ------------------------------------------------------------------ timing
struct SepTotals { double mma = 0, wg = 0, fused = 0; };

template <typename T>
static void time_sep(const Layer& l, bool preRelu, int batch, SepTotals& tot) {
    const int rows = batch * l.hw * l.hw;
    const int kPad = (l.cin + 31) / 32 * 32;
    // per set: x + A (the split path's scratch) + y (+ residual)
    const double setBytes = (double)rows * (l.cin + kPad + l.cout * (l.residual ? 2 : 1)) * sizeof(T);
    const int nsets = (int)std::min(8.0, std::max(1.0, std::ceil(2.0 * g_l2 / setBytes)));
    std::vector<Sep<T>> sets;
    for (int s = 0; s < nsets; s++) sets.push_back(make_sep<T>(batch, l.hw, l.hw, l.cin, l.cout, preRelu, l.residual, l.postRelu, g_seed += 16));
    const double flops = sets[0].flops(), bytes = sets[0].usefulBytes();
    float tMma = time_sets(sets, [](const Sep<T>& s) { launch_split_mma(s); });
    float tWg = time_sets(sets, [](const Sep<T>& s) { launch_split_wgmma(s); });
    float tF1 = time_sets(sets, [](const Sep<T>& s) { launch_fused<T, 1>(s); });
    float tF2 = time_sets(sets, [](const Sep<T>& s) { launch_fused<T, 2>(s); });
    const float best = std::min(tF1, tF2);
    auto col = [&](const char* name, float ms) {
        printf("| %s %7.3f ms %5.0f GB/s %4.0f TF ", name, ms, bytes / (ms * 1e6), flops / (ms * 1e9));
    };
    printf("TABLE  %s b=%-3d %-23s %3dx%-3d M=%-8d K=%-4d N=%-4d ", type_name<T>(), batch, l.name, l.hw, l.hw, rows, l.cin, l.cout);
    col("split-mma", tMma); col("split-wgmma", tWg); col("fused P1", tF1); col("fused P2", tF2);
    printf("| best P%d %4.2fx split-mma %4.2fx split-wgmma\n", tF1 <= tF2 ? 1 : 2, tMma / best, tWg / best);
    tot.mma += l.count * tMma; tot.wg += l.count * tWg; tot.fused += l.count * best;
    for (auto& s : sets) free_sep(s);
}

int main(int argc, char** argv) {
    g_program = "sepconv_wgmma_v1";
    std::string mode;
    std::vector<int> batches;
    if (!dev_start(argc, argv, "SEPWGMMA_SEED", mode, batches)) return 1;
    printf("INFO   fused: BN=256 %d stages %d bytes, BN=128 %d stages %d bytes; P1 = 1 producer warpgroup (384 threads, 8 channels/thread, no "
           "setmaxnreg), P2 = 2 producer warpgroups (512 threads, 4 channels/thread, BN=128 always, no setmaxnreg)\n",
           sepwgmma::Config<256>::STAGES, sepwgmma::Config<256>::SMEM, sepwgmma::Config<128>::STAGES, sepwgmma::Config<128>::SMEM);
    init_tensor_map_encoder();
    CK(cudaHostAlloc(&g_hang, sizeof(pwgemm::HangInfo), cudaHostAllocMapped));
    memset(g_hang, 0, sizeof(pwgemm::HangInfo));
    CK(cudaHostGetDevicePointer(&g_hangDev, g_hang, 0));
    const int mmaSmem = sepgemm::STAGES * (sepgemm::A_STAGE + sepgemm::B_STAGE) * 2;
    CK(cudaFuncSetAttribute(sepgemm_gemm_bf16, cudaFuncAttributeMaxDynamicSharedMemorySize, mmaSmem));
    CK(cudaFuncSetAttribute(sepgemm_gemm_fp16, cudaFuncAttributeMaxDynamicSharedMemorySize, mmaSmem));

    if (mode == "small") {  // for compute-sanitizer: small shapes, long hang timeout (instrumented code is slow)
        g_hangNs = 60000000000ull;
        check_sep<__nv_bfloat16>(3, 7, 5, 72, 72, true, true, true, true);       // M = 105 < one tile, K tail 72 = 64 + 8
        check_sep<__nv_bfloat16>(1, 19, 19, 728, 264, true, false, false, true);  // K 728 (12 stages), N 264 = 256 + 8
    }
    if (mode == "all" || mode == "check") {
        check_sep<__nv_bfloat16>(3, 7, 5, 72, 72, true, true, true);        // every tail: M 105 < 128, K 72, N 72 < 128, images of 7x5
        check_sep<__nv_bfloat16>(2, 19, 19, 728, 728, true, true, false);   // middle flow sepconv3: preRelu, + residual
        check_sep<__nv_bfloat16>(4, 19, 19, 728, 728, false, false, true);  // no preRelu, postRelu; 1444 rows
        check_sep<__nv_bfloat16>(1, 147, 147, 64, 128, false, false, false);  // block2_sepconv1 at batch 1 (BN 128, one stage per tile)
        check_sep<__nv_bfloat16>(1, 147, 147, 128, 128, true, false, false);  // block2_sepconv2
        check_sep<__nv_bfloat16>(1, 74, 74, 128, 256, true, false, false);    // block3_sepconv1
        check_sep<__nv_bfloat16>(2, 37, 37, 256, 728, true, false, false);    // block4_sepconv1
        check_sep<__nv_bfloat16>(3, 19, 19, 728, 1024, true, false, false);   // block13_sepconv2
        check_sep<__nv_bfloat16>(3, 10, 10, 1024, 1536, false, false, true);  // block14_sepconv1 (M 300: 3 m tiles)
        check_sep<__nv_bfloat16>(2, 10, 10, 1536, 2048, false, true, true);   // block14_sepconv2 shape, + residual too
        check_sep<__half>(2, 19, 19, 728, 728, true, true, true);
        printf("CHECK  summary: %d checks, %d failed\n", g_checks, g_failures);
    }
    if (mode == "all" || mode == "time") {
        for (int batch : batches) {
            SepTotals tot;
            for (const Layer& l : LAYERS) {
                // Keras Xception: block2_sepconv1 follows block1_conv2_act (no ReLU of its own), block14 convs
                // have their ReLU after BN; every other sepconv starts with a ReLU
                const bool preRelu = strcmp(l.name, "block2_sepconv1") != 0 && strncmp(l.name, "block14", 7) != 0;
                time_sep<__nv_bfloat16>(l, preRelu, batch, tot);
            }
            printf("TABLE  bf16 b=%-3d all 34 separable convs: split-mma %.2f ms | split-wgmma %.2f ms | fused (best P per layer) %.2f ms | %.2fx / %.2fx\n",
                   batch, tot.mma, tot.wg, tot.fused, tot.mma / tot.fused, tot.wg / tot.fused);
        }
    }
    printf("RESULT sepconv_wgmma_v1 %s: %d checks, %d failed\n", g_failures ? "FAILED" : "OK", g_checks, g_failures);
    return g_failures ? 2 : 0;
}
