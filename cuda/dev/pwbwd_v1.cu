// pwbwd v1: the pointwise (1x1) convolution backward of the separable conv on tensor cores
// (mma.sync m16n8k16, bf16/fp16 in, fp32 accumulate; sm_80+, built for sm_90). Issue 13.
//
// What it computes, for the pointwise GEMM of a separable conv z = d . W2 (conv_bwd.cu's "separable" case):
//   dgrad  dd[m, c]  = mask(x[m, c]) * sum_k dz[m, k] * W2[c, k]         dd (M, cin) 16-bit, rounded once
//   wgrad  dW2[c, k] = sum_m d[m, c] * dz[m, k]                          dW2 (cin, cout) fp32
//   dz (M, cout) 16-bit: the gradient at z (after the BN backward);  d (M, cin) 16-bit: DW(a), recomputed by
//   dw_forward_<t> as in conv_bwd.cu;  W2 (cin, cout) fp32, Keras' pointwise kernel (1, 1, cin, cout) without
//   the leading ones;  mask(v) = v > 0 when x is given (the stride-1 "pw" case and any ReLU'd input), else 1
//   (the separable case: dd goes on to the depthwise backward, which applies the mask). M = batch * H * W.
// Both GEMMs read their operands where the forward left them, without a transpose:
//   dgrad  A = dz (M, cout) row-major: the mma "row" operand, K = cout contiguous -> ldmatrix
//          B = W2h (cin, cout) 16-bit = W2 rounded once per step by pwbwd_pack_w2 (same layout as W2):
//              the mma "col" operand (B^T row-major, K contiguous) -> ldmatrix (no .trans)
//   wgrad  A = d^T: d (M, cin) row-major is A (cin x M) stored M-major -> ldmatrix.trans
//          B = dz (M, cout) row-major, (K x N) with N contiguous -> ldmatrix.trans (as sepgemm's B)
// so every global load is a 16-byte cp.async of 8 consecutive channels of one pixel. Requirements:
// cin % 8 == 0 and cout % 8 == 0 (every Xception pointwise conv; the FFMA kernels stay the fallback).
//
// The kernels are the library's: cuda/pwbwd.cu, included below (pwbwd-2 moved them there from this file),
// so these checks and timings are of exactly what the backend launches with cuda.pwbwd=mma; this file keeps
// the references, the FFMA baseline launches, the split rule's host copy (wgrad_rows_per_split, the same
// rule as PointwiseBackwardPath.wgradSplits) and main.
//
// Kernels (256 threads = 8 warps as 2 (M) x 4 (N), warp tile 64 x 32 = 4 x 4 mma tiles, block tile
// 128 x 128 x 32, a 4-stage cp.async pipeline: the mainloop of cuda/sepgemm.cu's sepgemm_gemm):
//   pwbwd_pack_w2_<t>   W2 (cin, cout) fp32 -> W2h (cin, cout) 16-bit                          grid-stride
//   pwbwd_dgrad_<t>     grid (ceil(cin/128), ceil(M/128)): column tiles fastest, so the blocks that read
//                       one row tile of dz run together and dz leaves DRAM once; K = cout in 32-deep
//                       slices, the K tail (cout % 32) and rows >= M zero-filled by cp.async
//                       smem per stage A [128][40] + B [128][40] 16-bit (80-byte rows: conflict-free ldmatrix)
//   pwbwd_wgrad_<t>     grid (ceil(cin/128) * ceil(cout/128), splits): reduction over M split into `splits`
//                       ranges of rowsPerSplit rows (a multiple of 32); block (tile, s) writes its fp32 tile
//                       to partial[s] (plain stores, no atomics); tiles fastest, so the blocks that read one
//                       M range run together (d and dz leave DRAM once, re-read from L2 by the other tiles)
//                       smem per stage A [32][136] + B [32][136] 16-bit (272-byte rows: conflict-free)
//   pwbwd_reduce        dW2[i] = sum_{s = 0..splits-1} partial[s][i], in that fixed order (float4, grid-stride)
//                       -> bitwise repeatable for a given split count; with one split wgrad writes dW2 directly.
// The split count comes from M, the tile count and the resident blocks of the card (occupancy x SMs):
// the smallest count whose grid fills >= 90% of its last wave (else the best fill), with >= 512 rows per
// split and fp32 partials of at most the GEMM's input bytes (written once, read once by the reduce, mostly
// in L2). Batch 128: 7 splits for the middle flow (252 blocks), 238 for block2 (one 128 x 128 tile). It depends on
// the SM count, so dW2 is bitwise repeatable on one card (and on H100 vs H200, both 132 SMs), not across
// SM counts.
//
// BN-backward fusion (sum(dz) and sum(dz * xhat) per channel in the wgrad pass over dz): left out on
// purpose. BN's backward needs S1 = sum(dy) and S2 = sum(dy * xhat) of the gradient dy at BN's OUTPUT,
// and dz = gamma * invstd / M * (M dy - S1 - xhat S2) exists only after those sums; over dz itself both
// sums vanish identically (sum(dz) = -k S2 sum(xhat) = 0, sum(dz xhat) = k (M S2 - S2 sum(xhat^2)) = 0 with
// the biased variance), so the wgrad pass has nothing to contribute. The fusion that does exist: the
// previous layer's BN sums over this layer's dx (after the depthwise backward and the mask), i.e. in
// dw_backward_data's epilogue, or forming dz from dy and z on the fly in both GEMMs' prologues (two input
// tensors instead of one). Neither is in this file.
//
// Changes from conv_bwd.cu's dgrad_sep_<t> / wgrad_sep_<t> (FFMA, 64 x 64 tiles, 16-deep slices through
// fp32 shared memory, 4 x 4 outputs per thread, scalar 2-byte loads): tensor cores, 4x the tile (half the
// operand traffic per FLOP), 16-byte cp.async loads in a 4-stage pipeline, W2 as 16-bit (dgrad) instead
// of fp32 read per 16-deep slice, and a split count that fills the card instead of ~2 blocks per SM.
//
// What main does: CHECK lines (fresh random inputs, never zeros; NaN-poisoned outputs and partials; a
// sentinel region after dd, dW2 and the partials; every kernel, the FFMA baseline included, against a
// naive GPU reference with fp64 accumulation on every element (dgrad's from the fp32 W2, so W2's rounding
// to 16 bits is part of the measured error) and a float64 CPU reference on sampled rows of dd and dW2;
// dgrad with and without the mask; wgrad with its own split count, one split and 32-row splits; a bitwise
// repeat of dgrad and wgrad; odd shapes: M % 128 != 0, M < 128, cin 40 / 728 / 1024 / 1536, cout 72 (a
// K tail of 8 in dgrad, an N tail in wgrad)), then TABLE lines: every pointwise GEMM of Xception's
// separable convs (34 convs, 10 distinct shapes: the forward's 11 less the residual, which the
// backward GEMMs do not see) at batch 128 and 32, bf16, dgrad and wgrad separately,
// timed with CUDA events (3 warm-up rounds, median of 11; buffer sets rotated so the working set is
// >= 2x L2): FFMA baseline (conv_bwd.cu's kernels + reduce_partials with CudaLaunchPlan's split rule) vs
// cuda/pwbwd.cu's kernels (pack + dgrad; wgrad + reduce), ms, TFLOP/s (useful 2 M cin cout), speedup; a
// RESULT line per batch with the pointwise backward per training step, old vs new.
// Exit status: 0 all checks passed, 2 a numerical check failed (timings still run), 1 a CUDA error.
//
// Bounds (relative L2 ||got - ref|| / ||ref||, and max |got - ref| / max |ref|):
//   dgrad bf16 1e-2 / 2e-2, fp16 2.5e-3 / 5e-3: the reference uses the fp32 W2, so the error is W2's
//     rounding to 16 bits plus dd's final rounding, two independent roundings of relative rms
//     ~u/sqrt(3) each (u = 2^-8 bf16, 2^-11 fp16): ~1.9e-3 bf16 / 2.3e-4 fp16 for the pair, plus fp32
//     summation (~1e-6 at K <= 2048); the bound leaves 4-10x. Layout or fragment errors give ~1.
//   wgrad (fp32 output, both types) 1e-3 / 4e-3: the operands are the same 16-bit values in the
//     reference and products are exact in fp32, so only the summation differs. The tensor cores' fp32
//     accumulation truncates (round toward zero, Fasi et al. 2021 for V100/A100; H100 behaves alike), a
//     bias of up to ~1 ulp per accumulation step: ~1e-4 after the ~1,350 steps of the one-split check at
//     M = 21,609; the bound leaves 10x. It still catches a row of M lost or counted twice at a split
//     boundary: that changes a sum of M random-sign terms by ~1/sqrt(M) relative, >= 6.8e-3 in every check
//     shape (M <= 21,609).
//
// device-build: -gencode arch=compute_90,code=sm_90
//   nvcc -std=c++17 -O3 --Werror all-warnings -Xptxas -Werror -gencode arch=compute_90,code=sm_90 \
//        -o pwbwd_v1 cuda/dev/pwbwd_v1.cu
// Run: ./pwbwd_v1 [all | check | small | time] [batches, default 128,32]
//   small: two small shapes, the pwbwd kernels and the references once (for compute-sanitizer); time: tables only.
#include "../conv_bwd.cu"
#include "../pwbwd.cu"
#include "../elementwise.cu"
#include "dev_common.cuh"
#include <cstring>
#include <ctime>
#include <string>
#include <type_traits>

// ================================================================== references and test data (device)
// Fills p (n) with values whose magnitude is uniform in [scale/64, scale] and whose sign is random: never
// zero (not even after rounding to fp16), different for every seed.
template <typename T>
__global__ void fill_random(T* __restrict__ p, size_t n, unsigned long long seed, float scale) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        unsigned long long z = seed + 0x9E3779B97F4A7C15ull * (i + 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        const float mag = (float)((z >> 40) + 1) * (1.0f / 16777216.0f);  // (0, 1]
        const float v = scale * (1.0f / 64 + (63.0f / 64) * mag);
        p[i] = from_f32<T>((z & 1) ? -v : v);
    }
}

// ref[m, c] = mask * sum_k dz[m, k] * W2[c, k] with the fp32 W2, accumulated in fp64. Thread per (m, c).
template <typename T>
__global__ void dgrad_reference(const T* __restrict__ dz, const float* __restrict__ w2, const T* __restrict__ x, float* __restrict__ ref, int M,
                                int cin, int cout) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= cin) return;
    for (int m = blockIdx.y; m < M; m += gridDim.y) {
        double s = 0;
        for (int k = 0; k < cout; k++) s += (double)to_f32(dz[(size_t)m * cout + k]) * w2[(size_t)c * cout + k];
        if (x && !(to_f32(x[(size_t)m * cin + c]) > 0.f)) s = 0;
        ref[(size_t)m * cin + c] = (float)s;
    }
}
// ref[p, q] = sum_m d[m, p] * dz[m, q], fp64 accumulation. Thread per (p, q), q fastest (coalesced dz).
template <typename T>
__global__ void wgrad_reference(const T* __restrict__ d, const T* __restrict__ dz, float* __restrict__ ref, int M, int cin, int cout) {
    const int q = blockIdx.x * blockDim.x + threadIdx.x, p = blockIdx.y;
    if (q >= cout) return;
    double s = 0;
    for (int m = 0; m < M; m++) s += (double)to_f32(d[(size_t)m * cin + p]) * to_f32(dz[(size_t)m * cout + q]);
    ref[(size_t)p * cout + q] = (float)s;
}

// ================================================================== host
static int g_sms = 0;
static size_t g_l2 = 0;
static int g_dgradBlocksPerSm = 0, g_wgradBlocksPerSm = 0;
static int g_checks = 0, g_failures = 0;
static unsigned g_seed = 0;
static const double PEAK_TFLOPS = 989.4;  // dense bf16/fp16, H100/H200 SXM datasheet
constexpr size_t GUARD_BYTES = 4096;      // sentinel after dd, dW2 and the partials: a store beyond the end shows here

static void sync_or_die(const char* what) {
    cudaError_t e = cudaGetLastError();
    if (e == cudaSuccess) e = cudaDeviceSynchronize();
    if (e == cudaSuccess) return;
    fprintf(stderr, "ERROR  %s: %s\n", what, cudaGetErrorString(e));
    printf("RESULT pwbwd_v1 FAILED: %s: %s\n", what, cudaGetErrorString(e));
    exit(1);
}
static int grid_for(size_t n) { return (int)std::max<size_t>(1, std::min<size_t>((n + 255) / 256, 32 * (size_t)g_sms)); }
template <typename T> static const char* type_name() { return std::is_same<T, __nv_bfloat16>::value ? "bf16" : "fp16"; }
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
static std::vector<float> download(const float* d, size_t n) {
    std::vector<float> f(n);
    CK(cudaMemcpy(f.data(), d, n * sizeof(float), cudaMemcpyDeviceToHost));
    return f;
}

// The split search of the pwbwd wgrad kernels (PointwiseBackwardPath.splitSearch is the library's copy): the
// smallest split count whose tiles x splits blocks fill >= 90% of their last wave of `slots` resident blocks
// (else the best fill), with >= 512 rows per split and fp32 partials of at most the input bytes
// (splits * cin * cout * 4 <= M * (cin + cout) * 2); returns rowsPerSplit, a multiple of rowMultiple.
static int split_search(int M, long long tiles, int cin, int cout, long long slots, int rowMultiple) {
    const long long byBytes = (long long)M * (cin + cout) / (2LL * cin * cout);
    const int maxSplits = (int)std::max(1LL, std::min({(long long)M / 512, byBytes, 4096LL}));
    int best = 1;
    double bestFill = 0;
    for (int s = 1; s <= maxSplits; s++) {
        const long long blocks = tiles * s;
        const double fill = (double)blocks / (double)(((blocks + slots - 1) / slots) * slots);
        if (fill > bestFill + 1e-9) { bestFill = fill; best = s; }
        if (fill >= 0.9) { best = s; break; }
    }
    const int rows = (M + best - 1) / best;
    return (rows + rowMultiple - 1) / rowMultiple * rowMultiple;
}
// The mma.sync wgrad's rule (PointwiseBackwardPath.wgradSplits): 128 x 128 tiles, the card's resident blocks, rows of BK.
static int wgrad_rows_per_split(int M, int cin, int cout) {
    const long long tiles = (long long)((cin + pwbwd::BM - 1) / pwbwd::BM) * ((cout + pwbwd::BN - 1) / pwbwd::BN);
    return split_search(M, tiles, cin, cout, (long long)std::max(1, g_wgradBlocksPerSm) * g_sms, pwbwd::BK);
}
// CudaLaunchPlan.wgradRowsPerSplit (the FFMA kernels' rule): about two 64 x 64 blocks per SM, >= 256 rows.
static int ffma_rows_per_split(int M, int cin, int cout) {
    const long long tiles = (long long)((cin + 63) / 64) * ((cout + 63) / 64);
    long long splits = std::max(1LL, std::min((2LL * g_sms + tiles - 1) / tiles, (M + 255LL) / 256));
    splits = std::min(splits, 65535LL);
    const long long rows = (M + splits - 1) / splits;
    return (int)((rows + 15) / 16 * 16);
}
static int splits_of(int M, int rowsPerSplit) { return (M + rowsPerSplit - 1) / rowsPerSplit; }

// One pointwise backward problem and its buffers. Shapes in the comments; the outputs carry a guard.
template <typename T>
struct Bwd {
    int M = 0, cin = 0, cout = 0;
    bool masked = false;
    T* dz = nullptr;        // (M, cout)   gradient at z = d . W2
    T* d = nullptr;         // (M, cin)    the depthwise output (forward activation of the pointwise conv)
    T* x = nullptr;         // (M, cin)    the mask's input (only when masked)
    float* w2 = nullptr;    // (cin, cout) fp32 weights
    T* w2h = nullptr;       // (cin, cout) 16-bit, pwbwd_pack_w2
    T* dd = nullptr;        // (M, cin) + guard
    float* dw2 = nullptr;   // (cin, cout) + guard
    float* partial = nullptr;      // (maxSplits, cin, cout) + guard, shared by the new and the FFMA kernels
    size_t partialElems = 0;
    size_t ddElems() const { return (size_t)M * cin; }
    size_t wElems() const { return (size_t)cin * cout; }
    double flops() const { return 2.0 * M * cin * (double)cout; }
};

template <typename T>
static void fill(T* p, size_t n, float scale) {
    fill_random<T><<<grid_for(n), 256>>>(p, n, ((unsigned long long)(g_seed += 16) << 32) ^ 0x5DEECE66Dull, scale);
    sync_or_die("fill_random");
}

template <typename T>
static Bwd<T> make_bwd(int M, int cin, int cout, bool masked, int maxSplits) {
    Bwd<T> b;
    b.M = M; b.cin = cin; b.cout = cout; b.masked = masked;
    CK(cudaMalloc(&b.dz, (size_t)M * cout * sizeof(T)));
    CK(cudaMalloc(&b.d, (size_t)M * cin * sizeof(T)));
    if (masked) CK(cudaMalloc(&b.x, (size_t)M * cin * sizeof(T)));
    CK(cudaMalloc(&b.w2, b.wElems() * 4));
    CK(cudaMalloc(&b.w2h, b.wElems() * sizeof(T)));
    CK(cudaMalloc(&b.dd, b.ddElems() * sizeof(T) + GUARD_BYTES));
    CK(cudaMalloc(&b.dw2, b.wElems() * 4 + GUARD_BYTES));
    b.partialElems = (size_t)std::max(1, maxSplits) * b.wElems();
    CK(cudaMalloc(&b.partial, b.partialElems * 4 + GUARD_BYTES));
    fill(b.dz, (size_t)M * cout, 1.0f);
    fill(b.d, (size_t)M * cin, 1.0f);
    if (masked) fill(b.x, (size_t)M * cin, 1.0f);
    fill(b.w2, b.wElems(), 1.0f / sqrtf((float)cout));  // dd ~ unit scale
    return b;
}
template <typename T>
static void free_bwd(Bwd<T>& b) {
    for (void* p : {(void*)b.dz, (void*)b.d, (void*)b.x, (void*)b.w2, (void*)b.w2h, (void*)b.dd, (void*)b.dw2, (void*)b.partial})
        if (p) CK(cudaFree(p));
    b = Bwd<T>();
}

// ------------------------------------------------------------------ launches
template <typename T> struct K;
template <> struct K<__nv_bfloat16> {
    static constexpr auto pack = pwbwd_pack_w2_bf16; static constexpr auto dgrad = pwbwd_dgrad_bf16; static constexpr auto wgrad = pwbwd_wgrad_bf16;
    static constexpr auto ffmaDgrad = dgrad_sep_bf16; static constexpr auto ffmaDgradMasked = dgrad_pw_bf16; static constexpr auto ffmaWgrad = wgrad_sep_bf16;
};
template <> struct K<__half> {
    static constexpr auto pack = pwbwd_pack_w2_f16; static constexpr auto dgrad = pwbwd_dgrad_f16; static constexpr auto wgrad = pwbwd_wgrad_f16;
    static constexpr auto ffmaDgrad = dgrad_sep_f16; static constexpr auto ffmaDgradMasked = dgrad_pw_f16; static constexpr auto ffmaWgrad = wgrad_sep_f16;
};

template <typename T>
static void launch_new_dgrad(const Bwd<T>& b) {
    if ((b.M + pwbwd::BM - 1) / pwbwd::BM > 65535) {  // grid.y: M <= 8,388,480 (batch 388 at 147 x 147); chunk M beyond
        fprintf(stderr, "ERROR  dgrad M = %d: more than 65,535 row tiles, launch it in chunks of rows\n", b.M);
        exit(1);
    }
    K<T>::pack<<<grid_for(b.wElems()), 256>>>(b.w2, b.w2h, (long long)b.wElems());
    K<T>::dgrad<<<dim3((b.cin + pwbwd::BN - 1) / pwbwd::BN, (b.M + pwbwd::BM - 1) / pwbwd::BM), JX_THREADS, pwbwd::DGRAD_SMEM>>>(
        b.dz, b.w2h, b.masked ? b.x : nullptr, b.dd, b.M, b.cin, b.cout);
}
// rowsPerSplit <= 0: this file's split rule. One split writes dW2 directly.
template <typename T>
static void launch_new_wgrad(const Bwd<T>& b, int rowsPerSplit = 0) {
    const int rps = rowsPerSplit > 0 ? rowsPerSplit : wgrad_rows_per_split(b.M, b.cin, b.cout);
    const int splits = splits_of(b.M, rps);
    const int tiles = ((b.cin + pwbwd::BM - 1) / pwbwd::BM) * ((b.cout + pwbwd::BN - 1) / pwbwd::BN);
    if ((size_t)splits * b.wElems() > b.partialElems) { fprintf(stderr, "ERROR  %d splits: partial buffer too small\n", splits); exit(1); }
    K<T>::wgrad<<<dim3(tiles, splits), JX_THREADS, pwbwd::WGRAD_SMEM>>>(b.d, b.dz, splits == 1 ? b.dw2 : b.partial, b.M, b.cin, b.cout, rps);
    if (splits > 1) pwbwd_reduce<<<grid_for(b.wElems() / 4), 256>>>(b.partial, b.dw2, splits, (long long)b.wElems());
}
// conv_bwd.cu's separable-case kernels at M = n*h*w (n = 1, h = 1, w = M: the kernels flatten the pixels the same way).
// With the mask: the "pw" case at stride 1 with preRelu (the same GEMM, masked by x > 0 in its epilogue).
template <typename T>
static void launch_ffma_dgrad(const Bwd<T>& b) {
    const dim3 grid((b.M + 63) / 64, (b.cin + 63) / 64);
    if (b.masked) K<T>::ffmaDgradMasked<<<grid, JX_THREADS>>>(b.dz, b.w2, b.x, b.dd, 1, 1, b.M, b.cin, b.cout, 1, 1);
    else K<T>::ffmaDgrad<<<grid, JX_THREADS>>>(b.dz, b.w2, nullptr, b.dd, 1, 1, b.M, b.cin, b.cout, 1, 0);
}
template <typename T>
static void launch_ffma_wgrad(const Bwd<T>& b) {
    const int rps = ffma_rows_per_split(b.M, b.cin, b.cout), splits = splits_of(b.M, rps);
    if ((size_t)splits * b.wElems() > b.partialElems) { fprintf(stderr, "ERROR  %d FFMA splits: partial buffer too small\n", splits); exit(1); }
    K<T>::ffmaWgrad<<<dim3((b.cout + 63) / 64, (b.cin + 63) / 64, splits), JX_THREADS>>>(b.d, b.dz, b.partial, 1, 1, b.M, b.cin, b.cout, 1, 0, rps);
    reduce_partials<<<grid_for(b.wElems()), JX_THREADS>>>(b.partial, b.dw2, splits, (long long)b.wElems());
}
template <typename T>
static int max_splits(int M, int cin, int cout) {
    return std::max(splits_of(M, wgrad_rows_per_split(M, cin, cout)), std::max(splits_of(M, ffma_rows_per_split(M, cin, cout)), 1));
}

// ------------------------------------------------------------------ checks
struct Compare {
    double rel = 0, maxRel = 0;
    size_t nonFinite = 0;
};
static Compare compare(const float* got, const double* ref, size_t n) {
    Compare c;
    double num = 0, den = 0, maxd = 0, maxr = 0;
    for (size_t i = 0; i < n; i++) {
        if (!std::isfinite(got[i])) { c.nonFinite++; continue; }
        const double e = (double)got[i] - ref[i];
        num += e * e; den += ref[i] * ref[i];
        maxd = std::max(maxd, std::fabs(e)); maxr = std::max(maxr, std::fabs(ref[i]));
    }
    c.rel = sqrt(num / std::max(den, 1e-300));
    c.maxRel = maxd / std::max(maxr, 1e-300);
    return c;
}
static Compare compare(const std::vector<float>& got, const std::vector<float>& ref) {
    std::vector<double> r(ref.begin(), ref.end());
    return compare(got.data(), r.data(), got.size());
}
// first, last and `samples` random indices in [0, n)
static std::vector<int> sample_indices(int n, int samples) {
    std::vector<int> v;
    for (int i = 0; i < std::min(3, n); i++) { v.push_back(i); v.push_back(n - 1 - i); }
    unsigned long long s = 0x9E3779B97F4A7C15ull ^ g_seed;
    for (int i = 0; i < samples; i++) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; v.push_back((int)(s % (unsigned long long)n)); }
    return v;
}
// float64 on the CPU from the device's own inputs: dd on sampled rows m (all cin columns), dW2 on sampled rows p (all cout).
template <typename T>
static Compare cpu_dgrad_rows(const Bwd<T>& b, const std::vector<float>& got) {
    std::vector<float> dz = download(b.dz, (size_t)b.M * b.cout), w2 = download(b.w2, b.wElems()), x;
    if (b.masked) x = download(b.x, b.ddElems());
    std::vector<double> ref;
    std::vector<float> g;
    for (int m : sample_indices(b.M, 24))
        for (int c = 0; c < b.cin; c++) {
            double s = 0;
            for (int k = 0; k < b.cout; k++) s += (double)dz[(size_t)m * b.cout + k] * w2[(size_t)c * b.cout + k];
            if (b.masked && !(x[(size_t)m * b.cin + c] > 0.f)) s = 0;
            ref.push_back(s);
            g.push_back(got[(size_t)m * b.cin + c]);
        }
    return compare(g.data(), ref.data(), ref.size());
}
template <typename T>
static Compare cpu_wgrad_rows(const Bwd<T>& b, const std::vector<float>& got) {
    std::vector<float> d = download(b.d, b.ddElems()), dz = download(b.dz, (size_t)b.M * b.cout);
    std::vector<double> ref;
    std::vector<float> g;
    for (int p : sample_indices(b.cin, 4)) {
        std::vector<double> row(b.cout, 0.0);
        for (int m = 0; m < b.M; m++) {
            const double a = d[(size_t)m * b.cin + p];
            const float* zr = &dz[(size_t)m * b.cout];
            for (int q = 0; q < b.cout; q++) row[q] += a * zr[q];
        }
        for (int q = 0; q < b.cout; q++) { ref.push_back(row[q]); g.push_back(got[(size_t)p * b.cout + q]); }
    }
    return compare(g.data(), ref.data(), ref.size());
}

static size_t guard_hits(const void* devEnd) {
    std::vector<unsigned char> guard(GUARD_BYTES);
    CK(cudaMemcpy(guard.data(), devEnd, GUARD_BYTES, cudaMemcpyDeviceToHost));
    size_t hit = 0;
    for (unsigned char c : guard) hit += c != 0x5a;
    return hit;
}
static void verdict(bool ok) {
    printf("  %s\n", ok ? "OK" : "FAIL");
    g_checks++;
    if (!ok) g_failures++;
}

// Poisons dd (NaN) and its guard, runs `launch`, checks dd against the GPU reference (every element), the guard
// and optionally the float64 CPU rows. Returns dd.
template <typename T, typename L>
static std::vector<float> check_dgrad(const char* label, const Bwd<T>& b, const std::vector<float>& ref, L launch, bool cpuRows) {
    const bool bf = std::is_same<T, __nv_bfloat16>::value;
    const double bound = bf ? 1e-2 : 2.5e-3, maxBound = 2 * bound;
    CK(cudaMemset(b.dd, 0xff, b.ddElems() * sizeof(T)));  // 0xffff: NaN in bf16 and fp16
    CK(cudaMemset(b.dd + b.ddElems(), 0x5a, GUARD_BYTES));
    launch();
    sync_or_die(label);
    std::vector<float> got = download(b.dd, b.ddElems());
    const size_t guard = guard_hits(b.dd + b.ddElems());
    const Compare c = compare(got, ref);
    Compare cpu;
    if (cpuRows) cpu = cpu_dgrad_rows(b, got);
    const bool ok = c.rel < bound && c.maxRel < maxBound && !c.nonFinite && !guard && (!cpuRows || (cpu.rel < bound && !cpu.nonFinite));
    printf("CHECK  dgrad %-16s %s M=%-6d cin=%-4d cout=%-4d%s: vs GPU ref rel %.2e max %.2e (bound %.1e), NaN/unwritten %zu, guard bytes hit %zu",
           label, type_name<T>(), b.M, b.cin, b.cout, b.masked ? " mask" : "", c.rel, c.maxRel, bound, c.nonFinite, guard);
    if (cpuRows) printf(", vs fp64 CPU rows rel %.2e", cpu.rel);
    verdict(ok);
    return got;
}
// Poisons dW2 and the partials (NaN) and their guards, runs `launch`, checks dW2 like check_dgrad.
template <typename T, typename L>
static std::vector<float> check_wgrad(const char* label, const Bwd<T>& b, const std::vector<float>& ref, L launch, bool cpuRows, int splits) {
    const double bound = 1e-3, maxBound = 4e-3;
    CK(cudaMemset(b.dw2, 0xff, b.wElems() * 4));  // 0xffffffff: NaN
    CK(cudaMemset(b.partial, 0xff, b.partialElems * 4));
    CK(cudaMemset(reinterpret_cast<unsigned char*>(b.dw2 + b.wElems()), 0x5a, GUARD_BYTES));
    CK(cudaMemset(reinterpret_cast<unsigned char*>(b.partial + b.partialElems), 0x5a, GUARD_BYTES));
    launch();
    sync_or_die(label);
    std::vector<float> got = download(b.dw2, b.wElems());
    const size_t guard = guard_hits(b.dw2 + b.wElems()) + guard_hits(b.partial + b.partialElems);
    const Compare c = compare(got, ref);
    Compare cpu;
    if (cpuRows) cpu = cpu_wgrad_rows(b, got);
    const bool ok = c.rel < bound && c.maxRel < maxBound && !c.nonFinite && !guard && (!cpuRows || (cpu.rel < bound && !cpu.nonFinite));
    printf("CHECK  wgrad %-16s %s M=%-6d cin=%-4d cout=%-4d splits=%-3d: vs GPU ref rel %.2e max %.2e (bound %.1e), NaN/unwritten %zu, guard bytes hit %zu",
           label, type_name<T>(), b.M, b.cin, b.cout, splits, c.rel, c.maxRel, bound, c.nonFinite, guard);
    if (cpuRows) printf(", vs fp64 CPU rows rel %.2e", cpu.rel);
    verdict(ok);
    return got;
}
static void check_bitwise(const char* what, const char* type, int M, int cin, int cout, const std::vector<float>& a, const std::vector<float>& b) {
    const bool same = a.size() == b.size() && memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
    printf("CHECK  %-22s %s M=%-6d cin=%-4d cout=%-4d: bitwise repeat %s", what, type, M, cin, cout, same ? "yes" : "NO");
    verdict(same);
}

template <typename T>
static void check_shape(int M, int cin, int cout, bool masked, bool small = false) {
    Bwd<T> b = make_bwd<T>(M, cin, cout, masked, std::max(max_splits<T>(M, cin, cout), splits_of(M, 32)));
    float* refDev;
    CK(cudaMalloc(&refDev, std::max(b.ddElems(), b.wElems()) * 4));
    dgrad_reference<T><<<dim3((cin + 255) / 256, std::min(M, 16384)), 256>>>(b.dz, b.w2, masked ? b.x : nullptr, refDev, M, cin, cout);
    sync_or_die("dgrad_reference");
    std::vector<float> ddRef = download(refDev, b.ddElems());
    wgrad_reference<T><<<dim3((cout + 255) / 256, cin), 256>>>(b.d, b.dz, refDev, M, cin, cout);
    sync_or_die("wgrad_reference");
    std::vector<float> dwRef = download(refDev, b.wElems());
    CK(cudaFree(refDev));

    const int splits = splits_of(M, wgrad_rows_per_split(M, cin, cout));
    std::vector<float> dd1 = check_dgrad("mma.sync", b, ddRef, [&] { launch_new_dgrad(b); }, true);
    std::vector<float> dw1 = check_wgrad("mma.sync", b, dwRef, [&] { launch_new_wgrad(b); }, true, splits);
    if (!small) {
        check_dgrad("FFMA (conv_bwd)", b, ddRef, [&] { launch_ffma_dgrad(b); }, false);
        check_wgrad("FFMA (conv_bwd)", b, dwRef, [&] { launch_ffma_wgrad(b); }, false, splits_of(M, ffma_rows_per_split(M, cin, cout)));
        // split boundaries: one split (dW2 written directly) and 32-row splits (many boundaries, partial tiles of one k step)
        check_wgrad("mma.sync 1 split", b, dwRef, [&] { launch_new_wgrad(b, (M + 31) / 32 * 32); }, false, 1);
        check_wgrad("mma.sync 32 rows", b, dwRef, [&] { launch_new_wgrad(b, 32); }, false, splits_of(M, 32));
        std::vector<float> dd2 = check_dgrad("mma.sync again", b, ddRef, [&] { launch_new_dgrad(b); }, false);
        std::vector<float> dw2 = check_wgrad("mma.sync again", b, dwRef, [&] { launch_new_wgrad(b); }, false, splits);
        check_bitwise("dgrad repeat", type_name<T>(), M, cin, cout, dd1, dd2);
        check_bitwise("wgrad repeat", type_name<T>(), M, cin, cout, dw1, dw2);
    }
    free_bwd(b);
}

// ------------------------------------------------------------------ timing
struct Layer {
    const char* name;
    int hw, cin, cout, count;  // count: how many of Xception's 34 separable convs have this pointwise GEMM
};
// Every pointwise GEMM of Xception's separable convs (Keras xception.py), M = batch * hw * hw.
static const Layer LAYERS[] = {
    {"block2_sepconv1", 147, 64, 128, 1},
    {"block2_sepconv2", 147, 128, 128, 1},
    {"block3_sepconv1", 74, 128, 256, 1},
    {"block3_sepconv2", 74, 256, 256, 1},
    {"block4_sepconv1", 37, 256, 728, 1},
    {"block4_sepconv2", 37, 728, 728, 1},
    {"middle b5-12 x3, b13_1", 19, 728, 728, 25},  // blocks 5-12 sepconv1-3 and block13_sepconv1
    {"block13_sepconv2", 19, 728, 1024, 1},
    {"block14_sepconv1", 10, 1024, 1536, 1},
    {"block14_sepconv2", 10, 1536, 2048, 1},
};

// Median ms of one launch sequence: each timed round runs it once per buffer set (sets rotate so the working set
// is >= 2x L2 and no round finds its inputs in L2 from the previous one), divided by the sets.
template <typename T, typename L>
static float time_sets(std::vector<Bwd<T>>& sets, L launch, int warmup = 3, int reps = 11) {
    for (int i = 0; i < warmup; i++) for (auto& b : sets) launch(b);
    sync_or_die("timing warm-up");
    cudaEvent_t e0, e1;
    CK(cudaEventCreate(&e0)); CK(cudaEventCreate(&e1));
    std::vector<float> ms(reps);
    for (int i = 0; i < reps; i++) {
        CK(cudaEventRecord(e0));
        for (auto& b : sets) launch(b);
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

struct Totals { double ffmaD = 0, ffmaW = 0, newD = 0, newW = 0; };

template <typename T>
static void time_layer(const Layer& l, int batch, Totals& tot) {
    const int M = batch * l.hw * l.hw;
    const double setBytes = (double)M * (2.0 * l.cin + l.cout) * sizeof(T);  // dz, d, dd
    const int nsets = (int)std::min(8.0, std::max(1.0, std::ceil(2.0 * g_l2 / setBytes)));
    std::vector<Bwd<T>> sets;
    for (int s = 0; s < nsets; s++) sets.push_back(make_bwd<T>(M, l.cin, l.cout, false, max_splits<T>(M, l.cin, l.cout)));
    const double flops = sets[0].flops();
    auto tf = [&](float ms) { return flops / (ms * 1e9); };
    const float fD = time_sets(sets, [](const Bwd<T>& b) { launch_ffma_dgrad(b); });
    const float nD = time_sets(sets, [](const Bwd<T>& b) { launch_new_dgrad(b); });
    const float fW = time_sets(sets, [](const Bwd<T>& b) { launch_ffma_wgrad(b); });
    const float nW = time_sets(sets, [](const Bwd<T>& b) { launch_new_wgrad(b); });
    const int sF = splits_of(M, ffma_rows_per_split(M, l.cin, l.cout)), sN = splits_of(M, wgrad_rows_per_split(M, l.cin, l.cout));
    printf("TABLE  %s b=%-3d %-22s M=%-7d cin=%-4d cout=%-4d | dgrad FFMA %7.3f ms %5.1f TF | mma %7.3f ms %5.1f TF %3.0f%% | %5.2fx"
           " | wgrad FFMA %7.3f ms %5.1f TF (%3d splits) | mma %7.3f ms %5.1f TF %3.0f%% (%2d splits) | %5.2fx\n",
           type_name<T>(), batch, l.name, M, l.cin, l.cout, fD, tf(fD), nD, tf(nD), 100 * tf(nD) / PEAK_TFLOPS, fD / nD, fW, tf(fW), sF, nW, tf(nW),
           100 * tf(nW) / PEAK_TFLOPS, sN, fW / nW);
    tot.ffmaD += l.count * fD; tot.ffmaW += l.count * fW; tot.newD += l.count * nD; tot.newW += l.count * nW;
    for (auto& b : sets) free_bwd(b);
}

// The seed (PWBWD_SEED or the clock), the device's SM count and L2 size into g_sms and g_l2, and the INFO line.
// Returns the compute capability's major version.
static int device_init() {
    const char* seedEnv = getenv("PWBWD_SEED");
    g_seed = seedEnv ? (unsigned)strtoul(seedEnv, nullptr, 10) : (unsigned)time(nullptr);
    int major = 0, minor = 0, l2 = 0;
    CK(cudaDeviceGetAttribute(&g_sms, cudaDevAttrMultiProcessorCount, 0));
    CK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, 0));
    CK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, 0));
    CK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, 0));
    g_l2 = (size_t)l2;
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    printf("INFO   %s, sm_%d%d, %d SMs, L2 %.0f MB; seed %u (PWBWD_SEED to repeat)\n", prop.name, major, minor, g_sms, l2 / 1e6, g_seed);
    return major;
}

#ifndef PWBWD_NO_MAIN  // cuda/dev/pwbwd_wgmma_v1.cu includes this file for its references, checks and timer
int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "all";
    const std::vector<int> batches = parse_int_list(argc > 2 ? argv[2] : "128,32");
    if ((mode != "all" && mode != "check" && mode != "small" && mode != "time") || batches.empty()) {
        fprintf(stderr, "usage: pwbwd_v1 [all | check | small | time] [batches, e.g. 128,32]\n");
        return 1;
    }
    device_init();
    CK(cudaFuncSetAttribute(pwbwd_dgrad_bf16, cudaFuncAttributeMaxDynamicSharedMemorySize, pwbwd::DGRAD_SMEM));
    CK(cudaFuncSetAttribute(pwbwd_dgrad_f16, cudaFuncAttributeMaxDynamicSharedMemorySize, pwbwd::DGRAD_SMEM));
    CK(cudaFuncSetAttribute(pwbwd_wgrad_bf16, cudaFuncAttributeMaxDynamicSharedMemorySize, pwbwd::WGRAD_SMEM));
    CK(cudaFuncSetAttribute(pwbwd_wgrad_f16, cudaFuncAttributeMaxDynamicSharedMemorySize, pwbwd::WGRAD_SMEM));
    CK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&g_dgradBlocksPerSm, pwbwd_dgrad_bf16, JX_THREADS, pwbwd::DGRAD_SMEM));
    CK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&g_wgradBlocksPerSm, pwbwd_wgrad_bf16, JX_THREADS, pwbwd::WGRAD_SMEM));
    printf("INFO   resident blocks per SM: dgrad %d (%d bytes shared), wgrad %d (%d bytes shared); wgrad splits for 132 SMs from M (table)\n",
           g_dgradBlocksPerSm, pwbwd::DGRAD_SMEM, g_wgradBlocksPerSm, pwbwd::WGRAD_SMEM);

    if (mode == "small") {  // for compute-sanitizer: small shapes, every kernel once
        check_shape<__nv_bfloat16>(300, 40, 72, true, true);
        check_shape<__half>(200, 136, 264, false, true);
    }
    if (mode == "all" || mode == "check") {
        check_shape<__nv_bfloat16>(1000, 40, 72, true);       // every tail: M % 128, cin < 128, cout 72 (K tail 8, N tail)
        check_shape<__nv_bfloat16>(3000, 728, 728, true);     // cin/cout 728 = 5.7 tiles, K tail 24, masked
        check_shape<__nv_bfloat16>(11552, 728, 728, false);   // middle flow at batch 32: several splits
        check_shape<__nv_bfloat16>(21609, 64, 128, false);    // block2_sepconv1 at batch 1: many splits, half a tile of cin
        check_shape<__nv_bfloat16>(3200, 1536, 2048, false);  // block14_sepconv2 at batch 32
        check_shape<__nv_bfloat16>(100, 1024, 1536, false);   // block14_sepconv1 at batch 1: M < one tile, one split
        check_shape<__half>(3000, 728, 728, true);
        check_shape<__half>(21609, 128, 128, false);
        printf("CHECK  summary: %d checks, %d failed\n", g_checks, g_failures);
    }
    if (mode == "all" || mode == "time") {
        for (int batch : batches) {
            Totals t;
            for (const Layer& l : LAYERS) time_layer<__nv_bfloat16>(l, batch, t);
            const double oldMs = t.ffmaD + t.ffmaW, newMs = t.newD + t.newW;
            printf("RESULT pwbwd_v1 bf16 b=%d pointwise backward of the 34 sepconvs per training step: FFMA %.2f ms (dgrad %.2f + wgrad %.2f) -> "
                   "mma.sync %.2f ms (dgrad %.2f + wgrad %.2f) = %.2fx\n",
                   batch, oldMs, t.ffmaD, t.ffmaW, newMs, t.newD, t.newW, oldMs / newMs);
        }
    }
    printf("RESULT pwbwd_v1 %s: %d checks, %d failed\n", g_failures ? "FAILED" : "OK", g_checks, g_failures);
    return g_failures ? 2 : 0;
}
#endif  // PWBWD_NO_MAIN
