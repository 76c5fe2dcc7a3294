// sepconv_wgmma v2: the fused separable convolution on Hopper (sm_90a) with a sliding-window depthwise producer
// (issue #12 item 2, the next step of cuda/hopper_sepconv.cu's header and benchmarks/NOTES.md cuda-sepwgmma-1).
// Kernel contract, shared-memory layout, pipeline, consumers and epilogue are v1's (hopper_sepconv.cu's
// Config / Roles, pwgemm::consume_tiles unchanged); only the producer is new (sepwgmma2::produce_tiles2).
//
// The v1 producer computes each output pixel from its own 9 taps: per (row, 8 channels) 9 x loads, 36 HMNMX2
// (ReLU on packed pairs), 72 unpacks and 72 FFMA, ~340 SASS instructions in all (cuobjdump), about 2.7x the 72
// FFMA that are the work. v2: a producer thread owns CPT = 4 channels and SEG consecutive rows of the 128-row
// tile (16 at PWG 1, 8 at PWG 2), i.e. SEG consecutive NHWC pixels m .. m + SEG - 1. Their 3x3 windows, read as
// pixel COLUMNS (column c = the x lines of pixels c - W, c, c + W: the three ky taps of kx = c - m + 1), slide
// along the linear pixel index: pixel m uses columns m - 1, m, m + 1; pixel m + 1 uses m, m + 1, m + 2. So a
// segment loads SEG + 2 columns (3 x 8-byte loads each), ReLUs and unpacks each column once into a 3-column
// register window (3 columns x 3 ky x 4 channels = 36 floats), and each pixel needs only 1 new column: per
// (pixel, 4 channels) 3 loads (+ 2/SEG columns of halo), 6 HMNMX2, 12 unpacks, 36 FFMA.
//   Why the linear index slides correctly across image rows and images (rows of a tile cross them: W = 147, 74,
//   37, 19, 10): the tap (ky, kx) of pixel p is column c = p + kx - 1 at row offset ky - 1, and it lies inside
//   the image iff (a) c is in p's image row (kx = 0 and ox(p) = 0, or kx = 2 and ox(p) = W - 1, fail this), and
//   (b) 0 <= oy(c) + ky - 1 < H. (b) depends on the column alone, so it is folded into the column's data (a tap
//   outside is a predicated-off load of zeros, as v1); (a) depends on the pair, and only at an image-row wrap: the
//   first pixel of an image row skips its kx = 0 column (pixel m - 1, the previous row's last pixel), the last
//   pixel skips its kx = 2 column. Those FMAs are predicated off (@P FFMA, no extra instruction): v = v, which is
//   sepgemm_dw's skip and, bit for bit, v1's fmaf(+0, w, v) (v starts at +0 and never becomes -0: v1's note).
//   Columns outside [0, M) (m0 - 1 of the first tile, pixels >= M of the last) are all zeros, so rows >= M are
//   computed as zeros (+0, stored as v1 stores them) and no load leaves x.
//   So per channel the FMA sequence is v1's exactly: taps in ky, kx order, the same fp32 weights, the same
//   operands (relu on the packed pair, then unpack), the same +0 start; skipped taps only where v1 multiplies a
//   zero. A equals v1's (and sepgemm_dw's) bit for bit; main checks the output against split-wgmma bitwise.
//   Per tile a thread computes two words once (no division in the stage loop): colm, 3 bits per column (ky taps
//   inside the image and the column inside [0, M)), and edge, 2 bits per pixel (kx = 0 / kx = 2 column in the
//   pixel's image row); ox, oy advance incrementally from one division of the segment's first pixel.
//   Loads run LOOKAHEAD columns ahead of their unpack (the segment is fully unrolled: columns, window slots and
//   pixels are compile-time indices), so a thread has ~3 x LOOKAHEAD 8-byte loads in flight.
//   Mapping: 16 lanes per tile row (4 channels x 16 = the 64-wide k block; a warp load covers 2 whole 128-byte
//   pixel lines), 128 PWG / 16 segments of SEG = 16 / PWG rows. Weights: 9 float4 per stage (36 registers).
//   Stores: 1 STS.64 per pixel into wgmma's 128-byte-swizzled A (row r, 16-byte chunk c at r * 128 + ((c ^ r % 8)
//   << 4)); r % 8 = i % 8 is a compile-time index (SEG is a multiple of 8).
// Registers and SASS (nvcc 13.0, cuobjdump 13.1): see benchmarks/NOTES.md cuda-sepwgmma-2 (and the INFO line).
//
// What main does: every CHECK line of sepconv_wgmma_v1 (included with SEPWGMMA_V1_NO_MAIN: split-mma, split-wgmma,
// fused v1 P1 / P2 against a naive fp32 GPU reference on every element, float64 CPU rows, bitwise == split-wgmma,
// poisoned outputs, guard bytes, 7 / 5-CTA grids, bitwise repeat, every tail shape), and on the same buffers and
// references v2's: "v2 P1" and "v2 P2" against the naive reference on every element (poisoned y, guard bytes),
// "v2 P1 vs fp64 CPU" rows, "v2 vs split" (bitwise == split-wgmma at the same BN, == v1 P1 / P2), and v2 on 7- and
// 5-CTA grids and a repeat, bitwise equal to the first v2 run. Then TABLE lines for every Xception separable conv
// at each batch: split-wgmma, fused v1 P1, fused v2 P1, fused v2 P2, with v2's speedup over v1 P1 and split-wgmma,
// and an all-34 total. Exit status: 0 all checks passed, 2 a numerical check failed (timings still run), 1 a CUDA
// error (a trapped hang: an mbarrier wait > 2 s traps, and main prints which wait).
//
// Build (sm_90a for wgmma; no -lcuda, see pwgemm_v1.cu):
// device-build: -gencode arch=compute_90a,code=sm_90a
//   nvcc -std=c++17 -O3 --Werror all-warnings -Xptxas -Werror -gencode arch=compute_90a,code=sm_90a \
//        -o sepconv_wgmma_v2 cuda/dev/sepconv_wgmma_v2.cu
// Run: ./sepconv_wgmma_v2 [all | check | small | time] [batches, default 256,32];  ./sepconv_wgmma_v2 host: CPU emulation
// of the producer's index, wrap and border logic (below), no GPU needed
#define SEPWGMMA_V1_NO_MAIN
#include "sepconv_wgmma_v1.cu"  // v1's kernel (hopper_sepconv.cu), pwgemm_v1's and v1's buffers, launches, checks and timer

namespace sepwgmma2 {

using pwgemm::BK;
using pwgemm::BM;
using sepwgmma::Config;
using sepwgmma::Roles;

#ifndef LOOKAHEAD
#define LOOKAHEAD 2
#endif
constexpr int kAhead = LOOKAHEAD;  // columns loaded ahead of their unpack

template <int PWG> struct Map {
    static constexpr int CPT = 4;                 // channels per producer thread
    static constexpr int WORDS = CPT / 2;         // 16-bit pairs per column tap
    static constexpr int LPR = BK / CPT;          // producer lanes per tile row (16)
    static constexpr int SEGS = 128 * PWG / LPR;  // row segments per stage (8 / 16)
    static constexpr int SEG = BM / SEGS;         // consecutive tile rows (pixels) per thread (16 / 8)
    static constexpr int COLS = SEG + 2;          // x columns a segment reads (pixels m - 1 .. m + SEG)
    static_assert(SEG % 8 == 0 && SEG <= 16 && 3 * COLS <= 64, "segment: r % 8 compile-time, edge and colm words");
};

// the column's 3 ky bits: row above inside the image, the centre row (always), row below
__host__ __device__ __forceinline__ uint32_t col_bits(int oy, int h) { return (oy > 0 ? 1u : 0u) | 2u | (oy < h - 1 ? 4u : 0u); }

// A segment's two per-tile words (p0 = its first pixel; column j = pixel p0 + j - 1):
//   colm bit 3 j + ky: column j's tap ky lies inside the image and the column inside [0, rows)
//   edge bit i: pixel i's kx = 0 column is in its image row (ox > 0); bit 16 + i: its kx = 2 column is (ox < w - 1)
// ox, oy advance incrementally from one division. __host__ too: `sepconv_wgmma_v2 host` emulates the producer with it.
template <int SEG>
__host__ __device__ __forceinline__ void seg_masks(int p0, int rows, int h, int w, uint64_t& colm, uint32_t& edge) {
    constexpr int COLS = SEG + 2;
    int ox = p0 % w, oy = (p0 / w) % h;
    colm = p0 > 0 && p0 - 1 < rows ? col_bits(ox > 0 ? oy : (oy > 0 ? oy - 1 : h - 1), h) : 0u;
    edge = 0;
#pragma unroll
    for (int j = 1; j < COLS; j++) {  // column j = pixel p0 + j - 1 at (ox, oy)
        if (p0 + j - 1 < rows) colm |= (uint64_t)col_bits(oy, h) << (3 * j);
        if (j <= SEG) edge |= (ox > 0 ? 1u : 0u) << (j - 1) | (ox < w - 1 ? 1u : 0u) << (16 + j - 1);
        if (++ox == w) {
            ox = 0;
            if (++oy == h) oy = 0;
        }
    }
}

template <typename T, int BN, int PWG>
__device__ __forceinline__ void produce_tiles2(unsigned char* sA, unsigned char* sB, uint64_t* full, uint64_t* empty, const CUtensorMap* tmB,
                                               const T* __restrict__ x, const float* __restrict__ dw, int rows, int h, int w, int cin,
                                               int cout, int kTiles, int preRelu, uint32_t bBytes, pwgemm::HangInfo* hang,
                                               unsigned long long hangNs) {
    using C = Config<BN>;
    using Mp = Map<PWG>;
    constexpr int CPT = Mp::CPT, WORDS = Mp::WORDS, SEG = Mp::SEG, COLS = Mp::COLS;
    constexpr int AHEAD = kAhead + 2 < COLS ? kAhead + 2 : COLS;  // columns loaded before the first pixel
    const int ptid = threadIdx.x;  // 0 .. 128 PWG - 1
    const int g = ptid % Mp::LPR, seg = ptid / Mp::LPR;
    const int lane = ptid & 31;
    const uint32_t lo2 = preRelu ? 0u : sepwgmma::neg_inf2<T>();
    const int nTiles = (cout + BN - 1) / BN, tiles = ((rows + BM - 1) / BM) * nTiles;
    const int chunk = g * CPT / 8, inChunk = (g * CPT % 8) * 2;  // this thread's bytes in a swizzled A row
    const ptrdiff_t rowStride = (ptrdiff_t)w * cin;              // ky +- 1
    if (ptid == 0) pwgemm::prefetch_tensormap(tmB);
    int stage = 0;
    uint32_t phase = 0;
    for (int tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
        const int m0 = (tile / nTiles) * BM, n0 = (tile % nTiles) * BN;
        const int p0 = m0 + seg * SEG;  // the segment's first pixel; column j is pixel p0 + j - 1
        uint64_t colm;  // per column: ky taps inside the image (seg_masks)
        uint32_t edge;  // per pixel: kx = 0 / kx = 2 columns in its image row
        seg_masks<SEG>(p0, rows, h, w, colm, edge);
        for (int kb = 0; kb < kTiles; kb++) {
            sepwgmma::begin_stage<BN>(sB, full, empty, tmB, stage, phase, tile, kb, n0, ptid, bBytes, hang, hangNs);
            const int c0 = kb * BK + g * CPT;
            const bool valid = c0 < cin;  // cin % 8 == 0: the whole group is valid or not
            float wt[9][CPT];
#pragma unroll
            for (int t = 0; t < 9; t++) {
                const float4 q = valid ? __ldg(reinterpret_cast<const float4*>(dw + (size_t)t * cin + c0)) : make_float4(0.f, 0.f, 0.f, 0.f);
                wt[t][0] = q.x; wt[t][1] = q.y; wt[t][2] = q.z; wt[t][3] = q.w;
            }
            const uint64_t cm = valid ? colm : 0ull;
            // column j's lines: x + (p0 + j - 1 + (ky - 1) w) cin + c0, from three running pointers (one 64-bit add each per
            // column: 2 instructions per load; offsets from x cost ~5, the x parameter being re-read from the constant bank)
            const T* pk[3];
            pk[1] = x + ((ptrdiff_t)(p0 - 1) * cin + c0);  // formed for every column, dereferenced only where cm says
            pk[0] = pk[1] - rowStride;
            pk[2] = pk[1] + rowStride;
            uint32_t raw[COLS][3][WORDS];  // packed columns in flight
            float win[3][3][CPT];          // ReLU'd, unpacked columns: slot j % 3 holds column j
            auto load_col = [&](int j) {   // called for j = 0, 1, .. in order
#pragma unroll
                for (int ky = 0; ky < 3; ky++) {
                    if (cm >> (3 * j + ky) & 1)
                        sepwgmma::ldg_words<CPT>(pk[ky], raw[j][ky]);
                    else {
#pragma unroll
                        for (int q = 0; q < WORDS; q++) raw[j][ky][q] = 0u;
                    }
                    pk[ky] += cin;
                }
            };
            auto unpack_col = [&](int j) {
#pragma unroll
                for (int ky = 0; ky < 3; ky++)
#pragma unroll
                    for (int q = 0; q < WORDS; q++)
                        sepwgmma::unpack2<T>(sepwgmma::max2<T>(raw[j][ky][q], lo2), win[j % 3][ky][2 * q], win[j % 3][ky][2 * q + 1]);
            };
#pragma unroll
            for (int j = 0; j < AHEAD; j++) load_col(j);
            unpack_col(0);
            unpack_col(1);
            unsigned char* sAs = sA + stage * C::A_BYTES + seg * SEG * 128 + inChunk;
#pragma unroll
            for (int i = 0; i < SEG; i++) {
                if (i + AHEAD < COLS) load_col(i + AHEAD);
                unpack_col(i + 2);
                const bool okL = edge >> i & 1, okR = edge >> (16 + i) & 1;
                float v[CPT];
#pragma unroll
                for (int ch = 0; ch < CPT; ch++) v[ch] = 0.f;
#pragma unroll
                for (int ky = 0; ky < 3; ky++)
#pragma unroll
                    for (int ch = 0; ch < CPT; ch++) {
                        if (okL) v[ch] = fmaf(win[i % 3][ky][ch], wt[3 * ky][ch], v[ch]);
                        v[ch] = fmaf(win[(i + 1) % 3][ky][ch], wt[3 * ky + 1][ch], v[ch]);
                        if (okR) v[ch] = fmaf(win[(i + 2) % 3][ky][ch], wt[3 * ky + 2][ch], v[ch]);
                    }
                *reinterpret_cast<uint2*>(sAs + i * 128 + ((chunk ^ (i & 7)) << 4)) =
                    make_uint2(pwgemm::pack2<T>(v[0], v[1]), pwgemm::pack2<T>(v[2], v[3]));
            }
            pwgemm::fence_proxy_async_shared();  // this thread's A stores -> visible to the wgmma (async proxy) reads
            __syncwarp();
            if (lane == 0) pwgemm::mbar_arrive(&full[stage]);
            if (++stage == C::STAGES) { stage = 0; phase ^= 1; }
        }
    }
}

// hopper_sepconv.cu's sepwgmma::sepconv with produce_tiles2 as the producer: the same shared-memory carve-up,
// barriers (full counts 4 PWG producer-warp arrivals + 1 expect_tx), consumers and epilogue.
template <typename T, int BN, int PWG>
__global__ void __launch_bounds__(Roles<PWG>::THREADS, 1)
sepconv_wgmma2(const __grid_constant__ CUtensorMap tmB, const __grid_constant__ CUtensorMap tmY, const T* __restrict__ x, const float* __restrict__ dw,
               const float* __restrict__ scale, const float* __restrict__ shift, const T* __restrict__ residual, int rows, int h, int w, int cin,
               int cout, int kTiles, int preRelu, int postRelu, uint32_t bBytes, pwgemm::HangInfo* hang, unsigned long long hangNs) {
    using C = Config<BN>;
    constexpr int STAGES = C::STAGES;
    static_assert(PWG == 1 || BN == 128, "512 threads: ptxas compiles every warp under the 128-register entry cap (hopper_sepconv.cu)");
    extern __shared__ unsigned char smem_raw[];
    unsigned char* smem = smem_raw + ((1024 - (smem_addr(smem_raw) & 1023)) & 1023);
    unsigned char* sA = smem;                                   // [STAGES] (128, 64) swizzled
    unsigned char* sB = sA + STAGES * C::A_BYTES;               // [STAGES] (BN, 64) swizzled
    unsigned char* sC = sB + STAGES * C::B_BYTES;               // [2 consumer warpgroups][2 buffers] (64, 64) swizzled
    uint64_t* full = reinterpret_cast<uint64_t*>(sC + 4 * C::C_BYTES);
    uint64_t* empty = full + STAGES;
    const int warpgroup = threadIdx.x >> 7;
    if (threadIdx.x == 0) {
        for (int s = 0; s < STAGES; s++) {
            pwgemm::mbar_init(&full[s], 4 * PWG + 1);
            pwgemm::mbar_init(&empty[s], 8);
        }
        pwgemm::mbar_init_fence();
    }
    __syncthreads();
    if (warpgroup < PWG) {
        produce_tiles2<T, BN, PWG>(sA, sB, full, empty, &tmB, x, dw, rows, h, w, cin, cout, kTiles, preRelu, bBytes, hang, hangNs);
    } else {
        pwgemm::consume_tiles<T, BN, STAGES>(sA, sB, sC, full, empty, &tmY, scale, shift, residual, rows, cout, kTiles, 0, postRelu, hang, hangNs,
                                             warpgroup - PWG);
    }
}

}  // namespace sepwgmma2

// v2 at PWG 1 (BN 256 when cout > 128, as v1 P1 and split-wgmma) or PWG 2 (BN 128 always, as v1 P2)
template <typename T, int PWG>
static void launch_v2(const Sep<T>& s, int gridLimit = 0) {
    if (PWG == 1 && s.g.cout > 128) launch_sep_kernel<T, 256, 1>(sepwgmma2::sepconv_wgmma2<T, 256, 1>, s, gridLimit);
    else launch_sep_kernel<T, 128, PWG>(sepwgmma2::sepconv_wgmma2<T, 128, PWG>, s, gridLimit);
}

// v2's checks on check_sep's buffers and references (called after v1's lines of the same shape)
struct V2Checks {
    template <typename T>
    void operator()(const Sep<T>& s, const std::vector<float>& ref, const std::vector<float>& mma, const std::vector<float>& wg,
                    const std::vector<float>& f1, const std::vector<float>& f2, bool small) const {
        const Gemm<T>& g = s.g;
        const double bound = std::is_same<T, __nv_bfloat16>::value ? 4e-3 : 1e-3;
        std::vector<float> a = run_checked("fused v2 P1", g, ref, [&] { launch_v2<T, 1>(s); }, false);
        std::vector<float> b = run_checked("fused v2 P2", g, ref, [&] { launch_v2<T, 2>(s); }, false);
        {
            const Compare c = sep_cpu_sampled(s, a, small ? 16 : 48);
            verdict("fused v2 P1 vs fp64 CPU", s, "sampled rows", c, c.rel < bound && !c.nonFinite);
        }
        // v2 P1 runs P1's BN, so equals split-wgmma (wg, BN as P1) and v1 P1; v2 P2 runs BN 128 as v1 P2
        const bool eqWg = a == wg, eqV1 = a == f1, eqP2 = b == f2;
        const Compare cm = compare(a, std::vector<double>(mma.begin(), mma.end()), mma.size());
        char extra[160];
        snprintf(extra, sizeof extra, ", bitwise: v2 P1 == split-wgmma %s, == v1 P1 %s, v2 P2 == v1 P2 %s", eqWg ? "yes" : "NO", eqV1 ? "yes" : "NO",
                 eqP2 ? "yes" : "NO");
        verdict("fused v2 vs split", s, "v2 P1 vs split-mma.sync", cm, cm.rel < bound && !cm.nonFinite && eqWg && eqV1 && eqP2, extra);
        if (!small) {
            std::vector<float> a7 = run_checked("fused v2 P1 grid=7", g, ref, [&] { launch_v2<T, 1>(s, 7); }, false);
            std::vector<float> b5 = run_checked("fused v2 P2 grid=5", g, ref, [&] { launch_v2<T, 2>(s, 5); }, false);
            std::vector<float> again = run_checked("fused v2 P1 repeat", g, ref, [&] { launch_v2<T, 1>(s); }, false);
            const bool same = again == a && a7 == a && b5 == b;
            printf("CHECK  %-22s %s %dx%dx%d K=%-4d N=%-4d: repeat and grid 7 (P1) / 5 (P2) bitwise equal to the first v2 runs: %s  %s\n",
                   "fused v2 bitwise repeat", type_name<T>(), s.n, s.h, s.w, g.cin, g.cout, same ? "yes" : "NO", same ? "OK" : "FAIL");
            g_checks++;
            if (!same) g_failures++;
        }
    }
};

// ------------------------------------------------------------------ timing
struct V2Totals { double wg = 0, v1 = 0, v2 = 0, best = 0; };

template <typename T>
static void time_sep2(const Layer& l, bool preRelu, int batch, V2Totals& tot) {
    const int rows = batch * l.hw * l.hw;
    const int kPad = (l.cin + 31) / 32 * 32;
    const double setBytes = (double)rows * (l.cin + kPad + l.cout * (l.residual ? 2 : 1)) * sizeof(T);  // x + A (split) + y (+ residual)
    const int nsets = (int)std::min(8.0, std::max(1.0, std::ceil(2.0 * g_l2 / setBytes)));
    std::vector<Sep<T>> sets;
    for (int s = 0; s < nsets; s++) sets.push_back(make_sep<T>(batch, l.hw, l.hw, l.cin, l.cout, preRelu, l.residual, l.postRelu, g_seed += 16));
    const double flops = sets[0].flops(), bytes = sets[0].usefulBytes();
    const float tWg = time_sets(sets, [](const Sep<T>& s) { launch_split_wgmma(s); });
    const float tV1 = time_sets(sets, [](const Sep<T>& s) { launch_fused<T, 1>(s); });
    const float tA = time_sets(sets, [](const Sep<T>& s) { launch_v2<T, 1>(s); });
    const float tB = time_sets(sets, [](const Sep<T>& s) { launch_v2<T, 2>(s); });
    const float best = std::min(tA, tB);
    auto col = [&](const char* name, float ms) { printf("| %s %7.3f ms %5.0f GB/s %4.0f TF ", name, ms, bytes / (ms * 1e6), flops / (ms * 1e9)); };
    printf("TABLE  %s b=%-3d %-23s %3dx%-3d M=%-8d K=%-4d N=%-4d ", type_name<T>(), batch, l.name, l.hw, l.hw, rows, l.cin, l.cout);
    col("split-wgmma", tWg); col("v1 P1", tV1); col("v2 P1", tA); col("v2 P2", tB);
    printf("| best v2 P%d %4.2fx v1 P1 %4.2fx split-wgmma\n", tA <= tB ? 1 : 2, tV1 / best, tWg / best);
    tot.wg += l.count * tWg; tot.v1 += l.count * tV1; tot.v2 += l.count * tA; tot.best += l.count * best;
    for (auto& s : sets) free_sep(s);
}

// ------------------------------------------------------------------ host emulation (no GPU needed)
// `sepconv_wgmma_v2 host`: the v2 producer's algorithm on the CPU for every tile, segment, pixel and channel of a
// shape: seg_masks (the function the kernel calls), the sliding columns (column j = pixel p0 + j - 1, taps at
// +- w), the skipped kx = 0 / kx = 2 FMAs at image-row wraps, zeros where colm says, fmaf in ky, kx order; against a
// naive depthwise over the taps inside the image (sepgemm_dw's function, zeros for rows >= M), bit for bit, and
// every x index it would read inside [0, rows). It checks the index, wrap and border logic, not the CUDA code.
template <int PWG>
static bool host_emulate(int n, int h, int w, int cin, bool preRelu, unsigned seed) {
    using Mp = sepwgmma2::Map<PWG>;
    const int rows = n * h * w, tilesM = (rows + pwgemm::BM - 1) / pwgemm::BM;
    std::vector<float> x((size_t)rows * cin), dw(9 * (size_t)cin);
    unsigned long long r = 0x9E3779B97F4A7C15ull ^ seed;
    auto rnd = [&]() {  // a bf16 value in (-1, 1): 8 significant bits
        r ^= r << 13; r ^= r >> 7; r ^= r << 17;
        return (float)((int)(r % 511) - 255) / 256.f;
    };
    for (auto& v : x) v = rnd();
    for (auto& v : dw) v = rnd() * 0.37f;  // fp32 weights with more bits
    auto act = [&](float v) { return preRelu ? std::max(v, 0.f) : v; };
    size_t bad = 0, oob = 0, checked = 0;
    for (int t = 0; t < tilesM; t++)
        for (int seg = 0; seg < Mp::SEGS; seg++) {
            const int p0 = t * pwgemm::BM + seg * Mp::SEG;
            uint64_t colm;
            uint32_t edge;
            sepwgmma2::seg_masks<Mp::SEG>(p0, rows, h, w, colm, edge);
            auto colval = [&](int j, int ky, int c) -> float {  // what load_col + unpack_col put in the window
                if (!(colm >> (3 * j + ky) & 1)) return 0.f;
                const long long pix = (long long)p0 + j - 1 + (long long)(ky - 1) * w;
                if (pix < 0 || pix >= rows) { oob++; return 0.f; }
                return act(x[(size_t)pix * cin + c]);
            };
            for (int i = 0; i < Mp::SEG; i++) {
                const int m = p0 + i;
                for (int c = 0; c < cin; c++) {
                    float v = 0.f;
                    for (int ky = 0; ky < 3; ky++) {
                        if (edge >> i & 1) v = fmaf(colval(i, ky, c), dw[(3 * ky) * cin + c], v);
                        v = fmaf(colval(i + 1, ky, c), dw[(3 * ky + 1) * cin + c], v);
                        if (edge >> (16 + i) & 1) v = fmaf(colval(i + 2, ky, c), dw[(3 * ky + 2) * cin + c], v);
                    }
                    float ref = 0.f;
                    if (m < rows) {
                        const int ox = m % w, oy = (m / w) % h;
                        for (int ky = 0; ky < 3; ky++)
                            for (int kx = 0; kx < 3; kx++) {
                                const int iy = oy + ky - 1, ix = ox + kx - 1;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                                ref = fmaf(act(x[((size_t)m + (ky - 1) * w + (kx - 1)) * cin + c]), dw[(ky * 3 + kx) * cin + c], ref);
                            }
                    }
                    uint32_t a, b;
                    memcpy(&a, &v, 4); memcpy(&b, &ref, 4);
                    bad += a != b;
                    checked++;
                }
            }
        }
    const bool ok = !bad && !oob;
    printf("CHECK  %-22s P%d (%d rows/thread) %dx%dx%d cin %d%s: %zu values, %zu not bitwise equal to the naive depthwise, %zu reads "
           "outside x  %s\n", "v2 host emulation", PWG, Mp::SEG, n, h, w, cin, preRelu ? " prerelu" : "", checked, bad, oob, ok ? "OK" : "FAIL");
    g_checks++;
    if (!ok) g_failures++;
    return ok;
}

static int host_main() {
    const int shapes[][3] = {{3, 7, 5}, {2, 19, 19}, {4, 19, 19}, {1, 147, 147}, {2, 147, 147}, {2, 74, 74}, {2, 37, 37}, {3, 10, 10},
                             {5, 1, 1}, {3, 1, 7}, {2, 9, 1}, {1, 3, 130}, {1, 2, 200}, {7, 4, 16}, {1, 1, 129}};
    unsigned seed = 1;
    for (const auto& sh : shapes)
        for (int pre = 0; pre < 2; pre++) {
            host_emulate<1>(sh[0], sh[1], sh[2], 8, pre == 1, seed++);
            host_emulate<2>(sh[0], sh[1], sh[2], 8, pre == 1, seed++);
        }
    printf("RESULT sepconv_wgmma_v2 host %s: %d checks, %d failed\n", g_failures ? "FAILED" : "OK", g_checks, g_failures);
    return g_failures ? 2 : 0;
}

int main(int argc, char** argv) {
    g_program = "sepconv_wgmma_v2";
    if (argc > 1 && !strcmp(argv[1], "host")) return host_main();  // CPU only: no device is touched
    std::string mode;
    std::vector<int> batches;
    if (!dev_start(argc, argv, "SEPWGMMA_SEED", mode, batches)) return 1;
    printf("INFO   fused: BN=256 %d stages %d bytes, BN=128 %d stages %d bytes; v1 P1/P2 = hopper_sepconv.cu's producer (8 / 4 channels x 8 rows "
           "per thread), v2 P1/P2 = sliding-window producer (%d channels x %d / %d consecutive rows per thread, %d columns loaded ahead)\n",
           sepwgmma::Config<256>::STAGES, sepwgmma::Config<256>::SMEM, sepwgmma::Config<128>::STAGES, sepwgmma::Config<128>::SMEM,
           sepwgmma2::Map<1>::CPT, sepwgmma2::Map<1>::SEG, sepwgmma2::Map<2>::SEG, sepwgmma2::kAhead);
    init_tensor_map_encoder();
    CK(cudaHostAlloc(&g_hang, sizeof(pwgemm::HangInfo), cudaHostAllocMapped));
    memset(g_hang, 0, sizeof(pwgemm::HangInfo));
    CK(cudaHostGetDevicePointer(&g_hangDev, g_hang, 0));
    const int mmaSmem = sepgemm::STAGES * (sepgemm::A_STAGE + sepgemm::B_STAGE) * 2;
    CK(cudaFuncSetAttribute(sepgemm_gemm_bf16, cudaFuncAttributeMaxDynamicSharedMemorySize, mmaSmem));
    CK(cudaFuncSetAttribute(sepgemm_gemm_fp16, cudaFuncAttributeMaxDynamicSharedMemorySize, mmaSmem));

    check_shapes(mode, V2Checks());  // v1's CHECK lines per shape, then v2's on the same buffers
    if (mode == "all" || mode == "time") {
        for (int batch : batches) {
            V2Totals tot;
            for (const Layer& l : LAYERS) {
                const bool preRelu = strcmp(l.name, "block2_sepconv1") != 0 && strncmp(l.name, "block14", 7) != 0;  // as v1 (Keras Xception)
                time_sep2<__nv_bfloat16>(l, preRelu, batch, tot);
            }
            printf("TABLE  bf16 b=%-3d all 34 separable convs: split-wgmma %.2f ms | v1 P1 %.2f ms | v2 P1 %.2f ms | v2 best P per layer %.2f ms | "
                   "%.2fx v1 P1, %.2fx split-wgmma\n",
                   batch, tot.wg, tot.v1, tot.v2, tot.best, tot.v1 / tot.best, tot.wg / tot.best);
        }
    }
    printf("RESULT sepconv_wgmma_v2 %s: %d checks, %d failed\n", g_failures ? "FAILED" : "OK", g_checks, g_failures);
    return g_failures ? 2 : 0;
}
