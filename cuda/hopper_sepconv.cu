// jx-arch: sm_90a
// The fused separable convolution on Hopper (issue #12 item 2): the depthwise 3x3 is computed by producer
// warps straight into the shared-memory A tile that wgmma reads, so the depthwise result never goes to HBM
// (the split path, cuda/sepgemm.cu + cuda/hopper_pwgemm.cu, writes it as A and reads it back). The consumers
// and the epilogue are hopper_pwgemm.cu's consume_tiles, unchanged. HopperSeparableConv.java plans it
// (backend options cuda.sepconv=fused with cuda.pointwise=wgmma); cuda/dev/sepconv_wgmma_v1.cu checks and
// times it (and a two-producer-warpgroup variant, PWG 2) against the split paths.
//
// What it computes: the function of cuda/sepgemm.cu (sepgemm_dw_<math> then sepgemm_gemm_<math>),
//   A[m, k] = round16( sum_{ky,kx} act(x[n, oy+ky-1, ox+kx-1, k]) * dw[ky, kx, k] )   (fp32, taps in ky, kx
//             order, zero outside the image: TF 'same' for stride 1 -- every Xception sepconv is stride 1)
//   y[m, co] = postRelu?( (sum_k A[m, k] * Bt[co, k]) * scale[co] + shift[co] + residual[m, co] )
// with act = preRelu ? relu : identity, m = (n*H + oy)*W + ox (NHWC), x (n, h, w, cin) 16-bit, dw (3, 3, cin)
// fp32, Bt (cout, kPad) 16-bit K-major (pwgemm_pack_bt_<math>, once per weight buffer), scale/shift fp32, residual
// and y (M, cout) 16-bit. A is the same fp32 FMA sequence with the same fp32 weights, rounded once to 16 bits,
// as sepgemm_dw_<math> computes it, so A's bits equal the split path's and the fused output equals the split
// path with pwgemm's wgmma GEMM (same tile, same wgmma order) bit for bit; cuda/dev/sepconv_wgmma_v1.cu checks that.
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
// extern "C" entry points (PWG 1; argument order = HopperSeparableConv's argument list):
//   sepconv_wgmma_<math>_n<BN>(tmB, tmY, x, dw, scale, shift, residual, rows, h, w, cin, cout, kTiles, preRelu, postRelu,
//                              bBytes, hang, hangNs)
//     tmB   Bt (cout, kPad) 16-bit (pwgemm_pack_bt_<math>), box (min(BN, cout) rows, 64), 128-byte swizzle
//     tmY   y (rows, cout) 16-bit, box (64, 64), 128-byte swizzle
//     x (rows = n h w, cin) NHWC 16-bit; dw (3, 3, cin) fp32; scale, shift (cout) fp32 or null; residual (rows, cout) or null
//     kTiles = ceil(kPad / 64); bBytes = 2 * 64 * min(BN, cout) (Bt's box)
//   grid min(tiles, SMs), 384 threads, Config<BN>::SMEM dynamic shared memory (BN 256: 181,296 bytes; BN 128: 164,928).
//   Requirements (HopperSeparableConv checks them): stride 1, cin % 8 == 0 and cin > 32 (kPad >= one 64-wide stage),
//   cout % 8 == 0 and cout >= 64, rows >= 64.
#define PWGEMM_NO_ENTRIES  // consume_tiles and the pack kernels' templates only: hopper_pwgemm's kernels are that module's
#include "hopper_pwgemm.cu"

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
// A producer's start of stage kb: every producer thread waits until the consumers have released the stage
// (the first round passes at once); thread 0 then arms full[stage] with Bt's transaction bytes and issues Bt's
// box by TMA. The producers' own A stores arrive on the same barrier afterwards.
template <int BN>
__device__ __forceinline__ void begin_stage(unsigned char* sB, uint64_t* full, uint64_t* empty, const CUtensorMap* tmB, int stage, uint32_t phase,
                                            int tile, int kb, int n0, int ptid, uint32_t bBytes, pwgemm::HangInfo* hang, unsigned long long hangNs) {
    pwgemm::wait_parity(&empty[stage], phase ^ 1, hang, hangNs, 0, tile, kb, stage);
    if (ptid == 0) {
        pwgemm::mbar_arrive_expect_tx(&full[stage], bBytes);
        pwgemm::tma_load_2d(sB + stage * Config<BN>::B_BYTES, tmB, kb * BK, n0, &full[stage]);
    }
}

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
            begin_stage<BN>(sB, full, empty, tmB, stage, phase, tile, kb, n0, ptid, bBytes, hang, hangNs);
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
__device__ __forceinline__ void sepconv(const CUtensorMap* tmB, const CUtensorMap* tmY, const T* __restrict__ x, const float* __restrict__ dw,
                                        const float* __restrict__ scale, const float* __restrict__ shift, const T* __restrict__ residual, int rows,
                                        int h, int w, int cin, int cout, int kTiles, int preRelu, int postRelu, uint32_t bBytes, pwgemm::HangInfo* hang,
                                        unsigned long long hangNs) {
    using C = Config<BN>;
    constexpr int STAGES = C::STAGES;
    // hopper::dynamic_shared_1024's expression written out: through the helper, ptxas 13.0 spills 4 bytes of this
    // kernel (bf16 n128, at the 168-register entry cap); inline it does not
    JX_DYNAMIC_SHARED(unsigned char, smem_raw);
    unsigned char* smem = smem_raw + ((1024 - (smem_addr(smem_raw) & 1023)) & 1023);
    unsigned char* sA = smem;                                   // [STAGES] (128, 64) swizzled
    unsigned char* sB = sA + STAGES * C::A_BYTES;               // [STAGES] (BN, 64) swizzled
    unsigned char* sC = sB + STAGES * C::B_BYTES;               // [2 consumer warpgroups][2 buffers] (64, 64) swizzled
    uint64_t* full = reinterpret_cast<uint64_t*>(sC + 4 * C::C_BYTES);  // [STAGES] A written + Bt landed
    uint64_t* empty = full + STAGES;                                    // [STAGES] consumers done reading
    const int warpgroup = threadIdx.x >> 7;

    // full: one arrive per producer warp + thread 0's arrive.expect_tx; empty: lane 0 of each of the 8 consumer warps
    pwgemm::init_stage_barriers(full, empty, STAGES, 4 * PWG + 1, 8);
    __syncthreads();

    static_assert(PWG == 1 || BN == 128, "512 threads: ptxas compiles every warp under the 128-register entry cap (see the header)");
    if (warpgroup < PWG) {
        produce_tiles<T, BN, PWG>(sA, sB, full, empty, tmB, x, dw, rows, h, w, cin, cout, kTiles, preRelu, bBytes, hang, hangNs);
    } else {
        pwgemm::consume_tiles<T, BN, STAGES>(sA, sB, sC, full, empty, tmY, scale, shift, residual, rows, cout, kTiles, 0, postRelu, hang, hangNs,
                                             warpgroup - PWG);
    }
}

// The kernel for any (T, BN, PWG); the library's extern "C" entry points below are PWG 1, the dev program
// (cuda/dev/sepconv_wgmma_v1.cu) instantiates PWG 2 as well.
template <typename T, int BN, int PWG>
__global__ void __launch_bounds__(Roles<PWG>::THREADS, 1)
sepconv_wgmma(const __grid_constant__ CUtensorMap tmB, const __grid_constant__ CUtensorMap tmY, const T* __restrict__ x, const float* __restrict__ dw,
              const float* __restrict__ scale, const float* __restrict__ shift, const T* __restrict__ residual, int rows, int h, int w, int cin,
              int cout, int kTiles, int preRelu, int postRelu, uint32_t bBytes, pwgemm::HangInfo* hang, unsigned long long hangNs) {
    sepconv<T, BN, PWG>(&tmB, &tmY, x, dw, scale, shift, residual, rows, h, w, cin, cout, kTiles, preRelu, postRelu, bBytes, hang, hangNs);
}

}  // namespace sepwgmma

#define JX_SEPWGMMA_KERNEL(SUF, T, BN)                                                                                                          \
    extern "C" __global__ void __launch_bounds__(sepwgmma::Roles<1>::THREADS, 1) sepconv_wgmma_##SUF##_n##BN(                                   \
        const __grid_constant__ CUtensorMap tmB, const __grid_constant__ CUtensorMap tmY, const T* __restrict__ x, const float* __restrict__ dw,  \
        const float* __restrict__ scale, const float* __restrict__ shift, const T* __restrict__ residual, int rows, int h, int w, int cin,        \
        int cout, int kTiles, int preRelu, int postRelu, unsigned bBytes, hopper::HangInfo* hang, unsigned long long hangNs) {                  \
        sepwgmma::sepconv<T, BN, 1>(&tmB, &tmY, x, dw, scale, shift, residual, rows, h, w, cin, cout, kTiles, preRelu, postRelu, bBytes, hang,   \
                                    hangNs);                                                                                                    \
    }

JX_SEPWGMMA_KERNEL(bf16, __nv_bfloat16, 256)
JX_SEPWGMMA_KERNEL(bf16, __nv_bfloat16, 128)
JX_SEPWGMMA_KERNEL(fp16, __half, 256)
JX_SEPWGMMA_KERNEL(fp16, __half, 128)
