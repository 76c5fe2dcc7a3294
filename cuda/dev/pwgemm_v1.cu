// pwgemm v1: the pointwise-convolution GEMM on Hopper's own path (sm_90a): wgmma from shared memory,
// TMA loads into a multi-stage mbarrier pipeline, one producer warpgroup and two consumer
// warpgroups (setmaxnreg), a persistent tile scheduler and a TMA-store epilogue. Issue #12, step 1.
//
// The kernels live in the library module cuda/hopper_pwgemm.cu (its header has the contract, tiles, roles,
// shared memory and requirements); this program includes it, so what it checks and times is exactly what
// the CUDA backend launches with the option cuda.pointwise=wgmma. Here the whole matrix is one chunk (row0 = 0).
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
// TF32 (pwgemm_wgmma_tf32_*: fp32 A, Bt, residual and y, issue #12 item 3): the same checks without the
// mma.sync rows (sepgemm has no tf32 GEMM; the library's TF32 sepconv is the fused sepconv_bn_tf32), against
// the naive fp32 GPU reference (fp32 A as stored, the tf32-rounded Bt) and float64 CPU rows with the per-element
// tf32 bound of hopper_pwgemm.cu's header; TABLE lines "TABLE  tf32 ..." with wgmma256 and wgmma128 only and % of
// the 495 TFLOP/s dense tf32 peak (half of bf16's).
// Exit status: 0 all checks passed, 2 a numerical check failed (timings still run), 1 a CUDA error
// (e.g. a trapped hang: the kernel traps after 2 s in one mbarrier wait and main prints which wait).
//
// Build (sm_90a: wgmma and setmaxnreg do not exist on plain sm_90; no -lcuda: cuTensorMapEncodeTiled
// comes from the driver through cudaGetDriverEntryPointByVersion):
// device-build: -gencode arch=compute_90a,code=sm_90a
//   nvcc -std=c++17 -O3 --Werror all-warnings -Xptxas -Werror -gencode arch=compute_90a,code=sm_90a \
//        -o pwgemm_v1 cuda/dev/pwgemm_v1.cu
// Run: ./pwgemm_v1 [all | check | small | time] [batches, default 256,32]
//   small: small checks, bf16 and tf32 (for compute-sanitizer); time: tables only (bf16, then tf32).
#include "../sepgemm.cu"
#include "../hopper_pwgemm.cu"  // the kernels under test: the library's own module
#include "dev_common.cuh"
#include "dev_tensor_map.cuh"
#include <cstring>
#include <ctime>
#include <map>
#include <string>
#include <type_traits>


// ------------------------------------------------------------------ references and fills
// Naive GPU reference: one thread per output column, rows by grid-stride; fp32 sums in k order over the
// same stored operands (B in sepgemm's (kPad, nPad) layout, coalesced across the warp; for tf32 the A
// elements are the stored fp32, not truncated to tf32), the same epilogue, stored as fp32 (no final
// rounding): yref (rows, cout) fp32.
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
// Bt (cout, kPad) -> B (kPad, nPad), zero for columns >= cout: the reference's B for the tf32 GEMM (no
// sepgemm packer exists for it), the same tf32-rounded values the kernel reads.
__global__ void transpose_bt(const float* __restrict__ bt, float* __restrict__ b, int cout, int kPad, int nPad) {
    const size_t n = (size_t)kPad * nPad;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        const int k = (int)(i / nPad), col = (int)(i % nPad);
        b[i] = col < cout ? bt[(size_t)col * kPad + k] : 0.f;
    }
}

template <typename T>
__global__ void fill_matrix(T* p, size_t rows, int ld, int validCols, float offset, float amp, unsigned seed) {
    const size_t n = rows * ld;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        p[i] = from_f32<T>((int)(i % ld) < validCols ? offset + amp * hash_uniform(i, seed) : 0.f);
}

static int g_sms = 0;
static size_t g_l2 = 0;
static const double PEAK_TFLOPS = 989.4;       // dense bf16/fp16, H100/H200 SXM datasheet
static const double PEAK_TF32_TFLOPS = 494.7;  // dense tf32, the same datasheet (half of bf16)
template <typename T> constexpr bool IS_TF32 = std::is_same<T, float>::value;  // Gemm<float>: the tf32 GEMM
static int grid_for(size_t n) { return (int)std::max<size_t>(1, std::min<size_t>((n + 255) / 256, 32 * (size_t)g_sms)); }

// ------------------------------------------------------------------ one problem's device buffers
template <typename T>
struct Gemm {
    int rows, cin, cout, kPad, nPad;
    bool residual, postRelu;
    T *a, *bt, *b, *res, *y;  // a (rows, kPad); bt (cout, kPad); b (kPad, nPad); res, y (rows, cout) (+ guard rows after y); fp32 for tf32
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
    if (IS_TF32<T> && (cout % 4 || cout < 32 || rows < 64)) {
        fprintf(stderr, "pwgemm v1 tf32 needs cout %% 4 == 0 (y's fp32 rows 16-byte aligned for TMA), cout >= 32 and M >= 64 (y's 64 x 32 "
                "store box); got M=%d, %d -> %d\n", rows, cin, cout);
        exit(1);
    }
    if (!IS_TF32<T> && (cout % 8 || cin <= 32)) {
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
    if constexpr (std::is_same<T, __nv_bfloat16>::value) pwgemm_pack_bt_bf16<<<grid_for((size_t)cout * g.kPad), 256>>>(g.w2, g.bt, cin, cout, g.kPad);
    else if constexpr (std::is_same<T, __half>::value) pwgemm_pack_bt_fp16<<<grid_for((size_t)cout * g.kPad), 256>>>(g.w2, g.bt, cin, cout, g.kPad);
    else pwgemm_pack_bt_tf32<<<grid_for((size_t)cout * g.kPad), 256>>>(g.w2, g.bt, cin, cout, g.kPad);
    // sepgemm's own packer makes the baseline's (kPad, nPad) B: the same rounded values as Bt; tf32: Bt transposed
    if constexpr (std::is_same<T, __nv_bfloat16>::value)
        sepgemm_pack_b_bf16<<<grid_for((size_t)g.kPad * g.nPad), 256>>>(g.w2, g.b, cin, cout, g.kPad, g.nPad);
    else if constexpr (std::is_same<T, __half>::value)
        sepgemm_pack_b_fp16<<<grid_for((size_t)g.kPad * g.nPad), 256>>>(g.w2, g.b, cin, cout, g.kPad, g.nPad);
    else transpose_bt<<<grid_for((size_t)g.kPad * g.nPad), 256>>>(g.bt, g.b, cout, g.kPad, g.nPad);
    CK_LAUNCH();
    // boxes no larger than the tensor (a partial box at the tensor's end is zero-filled as usual); K and y's
    // columns per box: one 128-byte row (64 16-bit or 32 fp32 elements)
    constexpr int bk = pwgemm::BK_OF<T>;
    g.mapA = tensor_map(g.a, rows, g.kPad, std::min(pwgemm::BM, rows), bk);
    g.mapB = tensor_map(g.bt, cout, g.kPad, std::min(256, cout), bk);
    g.mapB128 = tensor_map(g.bt, cout, g.kPad, std::min(128, cout), bk);
    g.mapY = tensor_map(g.y, rows, cout, 64, pwgemm::EPI_OF<T>);
    return g;
}
template <typename T>
static void free_gemm(Gemm<T>& g) {
    CK(cudaFree(g.y));
    if (g.res) CK(cudaFree(g.res));
    CK(cudaFree(g.a)); CK(cudaFree(g.w2)); CK(cudaFree(g.bt)); CK(cudaFree(g.b)); CK(cudaFree(g.scale));
}

// ------------------------------------------------------------------ launches
static hopper::HangInfo* g_hang = nullptr;      // host-mapped: survives a trapped kernel
static hopper::HangInfo* g_hangDev = nullptr;
static unsigned long long g_hangNs = 2000000000ull;
static const char* g_program = "pwgemm_v1";     // the RESULT line's name (a program that includes this file sets its own)

// The library's extern "C" entry point for (T, BN).
template <typename T, int BN>
static auto wgmma_kernel() {
    if constexpr (std::is_same<T, __nv_bfloat16>::value) return BN == 256 ? pwgemm_wgmma_bf16_n256 : pwgemm_wgmma_bf16_n128;
    else if constexpr (std::is_same<T, __half>::value) return BN == 256 ? pwgemm_wgmma_fp16_n256 : pwgemm_wgmma_fp16_n128;
    else return BN == 256 ? pwgemm_wgmma_tf32_n256 : pwgemm_wgmma_tf32_n128;
}
template <typename T, int BN>
static void launch_wgmma(const Gemm<T>& g, int gridLimit = 0) {
    using C = pwgemm::Config<BN>;
    static bool attr = false;
    if (!attr) { CK(cudaFuncSetAttribute(wgmma_kernel<T, BN>(), cudaFuncAttributeMaxDynamicSharedMemorySize, C::SMEM)); attr = true; }
    const int tiles = ((g.rows + pwgemm::BM - 1) / pwgemm::BM) * ((g.cout + BN - 1) / BN);
    int grid = std::min(tiles, g_sms);
    if (gridLimit > 0) grid = std::min(grid, gridLimit);
    constexpr int bk = pwgemm::BK_OF<T>;  // 64 16-bit or 32 fp32: one 128-byte row per box row
    const uint32_t stageBytes = (uint32_t)sizeof(T) * bk * (std::min(pwgemm::BM, g.rows) + std::min(BN, g.cout));  // the two TMA boxes
    wgmma_kernel<T, BN>()<<<grid, pwgemm::THREADS, C::SMEM>>>(g.mapA, BN == 256 ? g.mapB : g.mapB128, g.mapY, g.scale, g.shift, g.res, g.rows,
                                                               g.cout, (g.kPad + bk - 1) / bk, 0, g.postRelu ? 1 : 0, stageBytes,
                                                               g_hangDev, g_hangNs);
}
template <typename T>
static void launch_mma_sync(const Gemm<T>& g) {  // sepgemm_gemm_<math>, one chunk of all rows (row0 = 0)
    static_assert(!IS_TF32<T>, "sepgemm has no tf32 GEMM");
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
template <> float host_f32<float>(float v) { return v; }
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
// tf32 (fp32 output, no final rounding): the references use the stored fp32 A, the kernel A truncated to tf32
// (< 2^-10 relative per element; random-signed products average it to ~2^-11 of the output's rms, ~3e-4).
// Relative L2 under 2e-3 (~2^-9), max |got - ref| / max |ref| under 4e-3; on the float64 CPU rows additionally
// every element within hopper_pwgemm.cu's bound |scale| * (2^-10 + K * 2^-23) * sum_k |A Bt| + 2^-22 (|shift| +
// |residual| + |ref|) (the last term: the epilogue's fp32 fma and residual add; K * 2^-23, twice fp32's unit
// roundoff per term, covers the tensor cores' fp32 accumulation whatever its internal rounding order). A wrong descriptor or swizzle gives errors ~1, far above every bound.
template <typename T> static double rel_bound() { return std::is_same<T, __nv_bfloat16>::value ? 4e-3 : std::is_same<T, __half>::value ? 1e-3 : 2e-3; }
struct Compare {
    double rel = 0, maxRel = 0;
    size_t nonFinite = 0;
    size_t overBound = 0;  // tf32 CPU rows: elements beyond the per-element bound (0 elsewhere)
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

template <typename T> static const char* type_name() { return std::is_same<T, __nv_bfloat16>::value ? "bf16" : std::is_same<T, __half>::value ? "fp16" : "tf32"; }

// float64 on the CPU for sampled rows (first, last, random) from the device's own inputs (16-bit, or fp32 A and
// tf32-rounded Bt); for tf32 also the per-element bound (see above) on every sampled element.
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
    size_t overBound = 0;
    const double tf32Rel = std::ldexp(1.0, -10) + g.kPad * std::ldexp(1.0, -23);
    for (int r : rowsPicked)
        for (int n = 0; n < g.cout; n++) {
            double acc = 0, absSum = 0;
            for (int k = 0; k < g.kPad; k++) {
                const double p = (double)a[(size_t)r * g.kPad + k] * bt[(size_t)n * g.kPad + k];
                acc += p; absSum += std::fabs(p);
            }
            const double rv = g.res ? res[(size_t)r * g.cout + n] : 0.0;
            double v = acc * sc[n] + sh[n] + rv;
            // the epilogue's two fp32 roundings, relative to the magnitudes they round (|acc * scale| is in the first term)
            const double bound = std::fabs((double)sc[n]) * tf32Rel * absSum + std::ldexp(std::fabs((double)sh[n]) + std::fabs(rv) + std::fabs(v), -22);
            if (g.postRelu && v < 0) v = 0;
            const float y = got[(size_t)r * g.cout + n];
            if (IS_TF32<T> && !(std::fabs((double)y - v) <= bound)) overBound++;  // relu only shrinks the difference
            ref.push_back(v);
            gotRows.push_back(y);
        }
    Compare c = compare(gotRows, ref, ref.size());
    c.overBound = overBound;
    return c;
}

// Runs `launch` on poisoned y with an intact guard region, checks it against yref (all elements), the
// guard, and (optionally) the float64 CPU rows; returns y for further comparisons.
template <typename T, typename L>
static std::vector<float> run_checked(const char* label, const Gemm<T>& g, const std::vector<float>& yref, L launch, bool cpuRows) {
    const double bound = rel_bound<T>(), maxBound = 2 * bound;
    const size_t guardBytes = (size_t)GUARD_ROWS * g.cout * sizeof(T);
    CK(cudaMemset(g.y, 0xff, g.yElems() * sizeof(T)));  // 0xffff / 0xffffffff: NaN in bf16, fp16 and fp32
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
    const bool ok = c.rel < bound && c.maxRel < maxBound && !c.nonFinite && !guardHit &&
                    (!cpuRows || (cpu.rel < bound && !cpu.nonFinite && !cpu.overBound));
    printf("CHECK  %-22s %s M=%-6d K=%-4d N=%-4d%s%s: vs fp32 GPU ref rel %.2e max %.2e, unwritten/NaN %zu, guard bytes hit %zu", label,
           type_name<T>(), g.rows, g.cin, g.cout, g.residual ? " +res" : "", g.postRelu ? " relu" : "", c.rel, c.maxRel, c.nonFinite, guardHit);
    if (cpuRows) printf(", vs fp64 CPU rows rel %.2e", cpu.rel);
    if (cpuRows && IS_TF32<T>) printf(" (%zu over the tf32 bound)", cpu.overBound);
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

    std::vector<float> base;
    if constexpr (!IS_TF32<T>) base = run_checked("mma.sync (sepgemm)", g, ref, [&] { launch_mma_sync(g); }, false);
    std::vector<float> w256 = run_checked("wgmma BN=256", g, ref, [&] { launch_wgmma<T, 256>(g); }, true);
    if (small && IS_TF32<T>) run_checked("wgmma BN=128", g, ref, [&] { launch_wgmma<T, 128>(g); }, false);  // both tf32 kernels under memcheck
    if (!small) {
        run_checked("wgmma BN=128", g, ref, [&] { launch_wgmma<T, 128>(g); }, false);
        // few CTAs: each walks many tiles, so stages and phases wrap across tiles many times
        run_checked("wgmma BN=256 grid=7", g, ref, [&] { launch_wgmma<T, 256>(g, 7); }, false);
        run_checked("wgmma BN=128 grid=5", g, ref, [&] { launch_wgmma<T, 128>(g, 5); }, false);
        std::vector<float> again = run_checked("wgmma BN=256 repeat", g, ref, [&] { launch_wgmma<T, 256>(g); }, false);
        const bool same = again == w256;
        if constexpr (!IS_TF32<T>) {
            // wgmma vs the mma.sync kernel: same operands, only the fp32 summation order differs
            Compare c = compare(w256, std::vector<double>(base.begin(), base.end()), base.size());
            const bool ok = c.rel < rel_bound<T>() && same;
            printf("CHECK  %-22s %s M=%-6d K=%-4d N=%-4d: wgmma vs mma.sync rel %.2e max %.2e, bitwise repeat %s  %s\n", "wgmma vs mma.sync",
                   type_name<T>(), rows, cin, cout, c.rel, c.maxRel, same ? "yes" : "NO", ok ? "OK" : "FAIL");
            g_checks++;
            if (!ok) g_failures++;
        } else {
            printf("CHECK  %-22s %s M=%-6d K=%-4d N=%-4d: bitwise repeat %s  %s\n", "wgmma repeat", type_name<T>(), rows, cin, cout,
                   same ? "yes" : "NO", same ? "OK" : "FAIL");
            g_checks++;
            if (!same) g_failures++;
        }
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
static std::map<std::pair<int, int>, float> g_bf16Best;  // (batch, layer index) -> bf16 best wgmma ms, for the tf32 lines' ratio

template <typename T>
static void time_layer(const Layer& l, int batch, Totals& tot) {
    const int rows = batch * l.hw * l.hw;
    const int kPad = (l.cin + 31) / 32 * 32;
    const double setBytes = (double)rows * (kPad + l.cout * (l.residual ? 2 : 1)) * sizeof(T);
    const int nsets = (int)std::min(8.0, std::max(1.0, std::ceil(2.0 * g_l2 / setBytes)));
    std::vector<Gemm<T>> sets;
    for (int s = 0; s < nsets; s++) sets.push_back(make_gemm<T>(rows, l.cin, l.cout, l.residual, l.postRelu, g_seed += 16));
    const double flops = sets[0].flops(), peak = IS_TF32<T> ? PEAK_TF32_TFLOPS : PEAK_TFLOPS;
    auto tf = [&](float ms) { return flops / (ms * 1e9); };
    float tMma = 0;
    if constexpr (!IS_TF32<T>) tMma = time_sets(sets, [](const Gemm<T>& g) { launch_mma_sync(g); });
    float t256 = time_sets(sets, [](const Gemm<T>& g) { launch_wgmma<T, 256>(g); });
    float t128 = time_sets(sets, [](const Gemm<T>& g) { launch_wgmma<T, 128>(g); });
    const float best = std::min(t256, t128);
    const std::pair<int, int> key(batch, (int)(&l - LAYERS));
    if constexpr (!IS_TF32<T>) {
        printf("TABLE  %s b=%-3d %-23s M=%-7d K=%-4d N=%-4d | mma.sync %7.3f ms %5.0f TF %3.0f%% | wgmma256 %7.3f ms %5.0f TF %3.0f%% | wgmma128 %7.3f ms "
               "%5.0f TF %3.0f%% | %4.2fx\n",
               type_name<T>(), batch, l.name, rows, l.cin, l.cout, tMma, tf(tMma), 100 * tf(tMma) / peak, t256, tf(t256), 100 * tf(t256) / peak,
               t128, tf(t128), 100 * tf(t128) / peak, tMma / best);
        if (std::is_same<T, __nv_bfloat16>::value) g_bf16Best[key] = best;
    } else {
        // no mma.sync column (sepgemm has no tf32 GEMM); % of the tf32 peak; last: the bf16 best's time / ours (0.5 = half as fast)
        printf("TABLE  %s b=%-3d %-23s M=%-7d K=%-4d N=%-4d | wgmma256 %7.3f ms %5.0f TF %3.0f%% | wgmma128 %7.3f ms %5.0f TF %3.0f%% | ",
               type_name<T>(), batch, l.name, rows, l.cin, l.cout, t256, tf(t256), 100 * tf(t256) / peak, t128, tf(t128), 100 * tf(t128) / peak);
        if (g_bf16Best.count(key)) printf("%4.2fx of bf16 speed\n", g_bf16Best[key] / best); else printf("bf16 not timed\n");
    }
    tot.mma += l.count * tMma; tot.wgmma += l.count * t256; tot.best += l.count * best;
    for (auto& g : sets) free_gemm(g);
}

// The start of both dev programs' main (this one and sepconv_wgmma_v1.cu, which includes this file): mode and
// batch list from argv, the seed from the environment variable seedVar (else the clock), the device's SMs and L2
// into g_sms / g_l2, an INFO line; false (after a usage or RESULT FAILED line) when the arguments are bad or the
// device is not sm_90 (wgmma/TMA).
static bool dev_start(int argc, char** argv, const char* seedVar, std::string& mode, std::vector<int>& batches) {
    mode = argc > 1 ? argv[1] : "all";
    batches = parse_int_list(argc > 2 ? argv[2] : "256,32");
    if (mode != "all" && mode != "check" && mode != "small" && mode != "time") {
        fprintf(stderr, "usage: %s [all | check | small | time] [batches, e.g. 256,32]\n", g_program);
        return false;
    }
    const char* seedEnv = getenv(seedVar);
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
    printf("INFO   %s, sm_%d%d, %d SMs, L2 %.0f MB, %d bytes shared memory per block; seed %u (%s to repeat)\n", prop.name, major, minor, g_sms,
           l2 / 1e6, smemOptin, g_seed, seedVar);
    if (major != 9 || minor != 0) {
        printf("RESULT %s FAILED: needs an sm_90 GPU (H100/H200) for wgmma/TMA; this is sm_%d%d\n", g_program, major, minor);
        return false;
    }
    return true;
}

// PWGEMM_NO_MAIN: everything above is reused by a program that includes this file (sepconv_wgmma_v1.cu).
#ifndef PWGEMM_NO_MAIN
int main(int argc, char** argv) {
    setvbuf(stdout, nullptr, _IOLBF, 0);  // line-buffered: a step's timeout keeps the lines printed so far
    std::string mode;
    std::vector<int> batches;
    if (!dev_start(argc, argv, "PWGEMM_SEED", mode, batches)) return 1;
    printf("INFO   shared memory: wgmma BN=256 %d bytes (%d stages), BN=128 %d bytes (%d stages) for every type (K per stage: 64 16-bit, 32 tf32), "
           "mma.sync %d bytes\n", pwgemm::Config<256>::SMEM,
           pwgemm::Config<256>::STAGES, pwgemm::Config<128>::SMEM, pwgemm::Config<128>::STAGES,
           sepgemm::STAGES * (sepgemm::A_STAGE + sepgemm::B_STAGE) * 2);
    init_tensor_map_encoder();
    CK(cudaHostAlloc(&g_hang, sizeof(hopper::HangInfo), cudaHostAllocMapped));
    memset(g_hang, 0, sizeof(hopper::HangInfo));
    CK(cudaHostGetDevicePointer(&g_hangDev, g_hang, 0));
    const int mmaSmem = sepgemm::STAGES * (sepgemm::A_STAGE + sepgemm::B_STAGE) * 2;
    CK(cudaFuncSetAttribute(sepgemm_gemm_bf16, cudaFuncAttributeMaxDynamicSharedMemorySize, mmaSmem));
    CK(cudaFuncSetAttribute(sepgemm_gemm_fp16, cudaFuncAttributeMaxDynamicSharedMemorySize, mmaSmem));

    if (mode == "small") {  // for compute-sanitizer: small shapes, long hang timeout (instrumented code is slow)
        g_hangNs = 60000000000ull;
        check_shape<__nv_bfloat16>(300, 40, 72, true, true, true);
        check_shape<__nv_bfloat16>(200, 200, 264, false, false, true);
        check_shape<float>(300, 40, 72, true, true, true);  // tf32, BN = 256 and 128: every tail, two 32-wide K stages
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
        // tf32 (fp32 operands, 32 K per stage: twice the stages of the 16-bit shapes above)
        check_shape<float>(1000, 40, 72, true, true);       // every tail: M % 128, K 40 of kPad 64 (two stages), N < one 32-column store
        check_shape<float>(3000, 728, 728, true, true);     // K 728 (kPad 736 = 23 stages), N 728 = 2.84 x 256, 22.75 x 32
        check_shape<float>(11552, 728, 728, false, false);  // middle flow at batch 32: 273 tiles > SMs
        check_shape<float>(21609, 32, 128, false, false);   // kPad 32: one stage per tile (the smallest tf32 K)
        check_shape<float>(3200, 1536, 2048, false, true);  // block14_sepconv2 at batch 32: K 1536 = 48 stages
        check_shape<float>(100, 1024, 1536, false, true);   // M < one tile (clamped A box)
        check_shape<float>(64, 64, 36, true, false);        // the smallest y: M = 64 (one store box of rows), cout 36 (% 4, not % 8)
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
        for (int batch : batches) {
            Totals tot;
            for (const Layer& l : LAYERS) time_layer<float>(l, batch, tot);
            printf("TABLE  tf32 b=%-3d all 34 pointwise GEMMs: wgmma BN=256 %.2f ms | best BN per layer %.2f ms\n", batch, tot.wgmma, tot.best);
        }
    }
    printf("RESULT pwgemm_v1 %s: %d checks, %d failed\n", g_failures ? "FAILED" : "OK", g_checks, g_failures);
    return g_failures ? 2 : 0;
}
#endif  // PWGEMM_NO_MAIN
