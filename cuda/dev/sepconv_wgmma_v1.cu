// sepconv_wgmma v1: checks and times the fused separable convolution on Hopper (sm_90a), issue #12 item 2:
// the library's cuda/hopper_sepconv.cu (its header has the kernel's design, arithmetic and ptxas numbers), whose
// template this program also instantiates with two producer warpgroups (PWG 2) to compare against PWG 1.
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

#include "../hopper_sepconv.cu"  // the kernel under test: the library's own module
#include <set>

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
// Any fused kernel of sepconv_wgmma's signature (v1's, or an includer's variant) at tile width BN with PWG producer
// warpgroups on the buffers of s (grid min(tiles, SMs, gridLimit when > 0)).
template <typename T, int BN, int PWG, typename K>
static void launch_sep_kernel(K kernel, const Sep<T>& s, int gridLimit) {
    using C = sepwgmma::Config<BN>;
    const Gemm<T>& g = s.g;
    static std::set<const void*> attr;  // kernels whose shared-memory limit is raised
    if (!attr.count((const void*)kernel)) {
        CK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, C::SMEM));
        attr.insert((const void*)kernel);
    }
    const int tiles = ((g.rows + pwgemm::BM - 1) / pwgemm::BM) * ((g.cout + BN - 1) / BN);
    int grid = std::min(tiles, g_sms);
    if (gridLimit > 0) grid = std::min(grid, gridLimit);
    const uint32_t bBytes = 2u * pwgemm::BK * std::min(BN, g.cout);
    kernel<<<grid, sepwgmma::Roles<PWG>::THREADS, C::SMEM>>>(BN == 256 ? g.mapB : g.mapB128, g.mapY, s.x, s.dw, g.scale, g.shift, g.res, g.rows, s.h,
                                                            s.w, g.cin, g.cout, (g.kPad + pwgemm::BK - 1) / pwgemm::BK, s.preRelu ? 1 : 0,
                                                            g.postRelu ? 1 : 0, bBytes, g_hangDev, g_hangNs);
}
template <typename T, int BN, int PWG>
static void launch_fused_bn(const Sep<T>& s, int gridLimit) {
    launch_sep_kernel<T, BN, PWG>(sepwgmma::sepconv_wgmma<T, BN, PWG>, s, gridLimit);
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

// more: a program that includes this file (sepconv_wgmma_v2.cu) checks its own variants on the same buffers and
// references after these checks: more(s, ref, mma, wg, f1, f2, small) with the naive reference y, the split-mma.sync,
// split-wgmma (BN as P1), fused P1 and fused P2 outputs. v1 passes NoExtraCheck (nothing).
struct NoExtraCheck {
    template <typename S, typename V> void operator()(const S&, const V&, const V&, const V&, const V&, const V&, bool) const {}
};
template <typename T, typename X = NoExtraCheck>
static void check_sep(int n, int h, int w, int cin, int cout, bool preRelu, bool residual, bool postRelu, bool small = false, X more = X()) {
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
    more(s, ref, mma, wg, f1, f2, small);
    free_sep(s);
}

// The shapes of the CHECK lines ("small": two small shapes for compute-sanitizer; "all" / "check": every tail),
// each through check_sep with the includer's extra checks.
template <typename X = NoExtraCheck>
static void check_shapes(const std::string& mode, X more = X()) {
    if (mode == "small") {  // for compute-sanitizer: small shapes, long hang timeout (instrumented code is slow)
        g_hangNs = 60000000000ull;
        check_sep<__nv_bfloat16>(3, 7, 5, 72, 72, true, true, true, true, more);       // M = 105 < one tile, K tail 72 = 64 + 8
        check_sep<__nv_bfloat16>(1, 19, 19, 728, 264, true, false, false, true, more);  // K 728 (12 stages), N 264 = 256 + 8
    }
    if (mode == "all" || mode == "check") {
        check_sep<__nv_bfloat16>(3, 7, 5, 72, 72, true, true, true, false, more);        // every tail: M 105 < 128, K 72, N 72 < 128, images of 7x5
        check_sep<__nv_bfloat16>(2, 19, 19, 728, 728, true, true, false, false, more);   // middle flow sepconv3: preRelu, + residual
        check_sep<__nv_bfloat16>(4, 19, 19, 728, 728, false, false, true, false, more);  // no preRelu, postRelu; 1444 rows
        check_sep<__nv_bfloat16>(1, 147, 147, 64, 128, false, false, false, false, more);  // block2_sepconv1 at batch 1 (BN 128, one stage per tile)
        check_sep<__nv_bfloat16>(1, 147, 147, 128, 128, true, false, false, false, more);  // block2_sepconv2
        check_sep<__nv_bfloat16>(1, 74, 74, 128, 256, true, false, false, false, more);    // block3_sepconv1
        check_sep<__nv_bfloat16>(2, 37, 37, 256, 728, true, false, false, false, more);    // block4_sepconv1
        check_sep<__nv_bfloat16>(3, 19, 19, 728, 1024, true, false, false, false, more);   // block13_sepconv2
        check_sep<__nv_bfloat16>(3, 10, 10, 1024, 1536, false, false, true, false, more);  // block14_sepconv1 (M 300: 3 m tiles)
        check_sep<__nv_bfloat16>(2, 10, 10, 1536, 2048, false, true, true, false, more);   // block14_sepconv2 shape, + residual too
        check_sep<__half>(2, 19, 19, 728, 728, true, true, true, false, more);
        printf("CHECK  summary: %d checks, %d failed\n", g_checks, g_failures);
    }
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

// SEPWGMMA_V1_NO_MAIN: everything above is reused by a program that includes this file (sepconv_wgmma_v2.cu).
#ifndef SEPWGMMA_V1_NO_MAIN
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

    check_shapes(mode);
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
#endif  // SEPWGMMA_V1_NO_MAIN
