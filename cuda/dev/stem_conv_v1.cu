// stem_conv v1: the production stem kernels of cuda/stem.cu (included, not copied) against a CPU loop
// in double precision, and timed with CUDA events at batch 256 (launch parameters as StemConvPath picks).
// The generic conv_bn_relu they replace is timed per layer by CudaXceptionBenchmark (-Djxception.cuda.stem=old);
// conv_fwd.cu is not included here so that this builds in seconds on the device.
//   block1_conv1: 299x299x3 -> 149x149x32, stride 2   stem_cin3_{f32,bf16,f16}
//   block1_conv2: 149x149x32 -> 147x147x64, stride 1  stem_mma_{bf16,fp16}
// Epilogue y = relu(z*scale + shift) as in the network. Bytes counted (the floor): x read once, y written once.
// Build: nvcc -std=c++17 -O3 -arch=sm_90 -o stem_conv_v1 stem_conv_v1.cu      Run: ./stem_conv_v1 [batch]
#include "dev_common.cuh"
#include <cstring>
#include <functional>
#include <type_traits>
#include "../stem.cu"

struct Stem {
    int n, h, w, cin, cout, stride;
    int oh() const { return (h - 3) / stride + 1; }
    int ow() const { return (w - 3) / stride + 1; }
    long long pixels() const { return (long long)n * oh() * ow(); }
    double flops() const { return 2.0 * pixels() * 9.0 * cin * cout; }
};

template <typename T> static T to_t(float v);
template <> float to_t<float>(float v) { return v; }
template <> __nv_bfloat16 to_t<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }
template <> __half to_t<__half>(float v) { return __float2half_rn(v); }
static float from_t(float v) { return v; }
static float from_t(__nv_bfloat16 v) { return __bfloat162float(v); }
static float from_t(__half v) { return __half2float(v); }

static void stem_reference(const Stem& p, const std::vector<float>& x, const std::vector<float>& w1, const std::vector<float>& sc,
                           const std::vector<float>& sh, std::vector<double>& y) {
    y.assign((size_t)p.pixels() * p.cout, 0.0);
    std::vector<double> acc(p.cout);
    for (int ni = 0; ni < p.n; ni++)
        for (int oy = 0; oy < p.oh(); oy++)
            for (int ox = 0; ox < p.ow(); ox++) {
                std::fill(acc.begin(), acc.end(), 0.0);
                for (int ky = 0; ky < 3; ky++)
                    for (int kx = 0; kx < 3; kx++)
                        for (int ci = 0; ci < p.cin; ci++) {
                            double v = x[(((size_t)ni * p.h + oy * p.stride + ky) * p.w + ox * p.stride + kx) * p.cin + ci];
                            const float* wr = &w1[((size_t)(ky * 3 + kx) * p.cin + ci) * p.cout];
                            for (int c = 0; c < p.cout; c++) acc[c] += v * wr[c];
                        }
                double* yr = &y[(((size_t)ni * p.oh() + oy) * p.ow() + ox) * p.cout];
                for (int c = 0; c < p.cout; c++) yr[c] = std::max(0.0, acc[c] * sc[c] + sh[c]);
            }
}

static std::vector<float> uniform_fill(size_t n) {
    std::vector<float> v(n);
    uint32_t s = 12345u;
    for (auto& x : v) { s = s * 1664525u + 1013904223u; x = (float)(s >> 8) * (2.f / 16777216.f) - 1.f; }
    return v;
}

static int sms() { int d, s; CK(cudaGetDevice(&d)); CK(cudaDeviceGetAttribute(&s, cudaDevAttrMultiProcessorCount, d)); return s; }

// One kernel on one problem: checks it (check) or times it; `which` names the launch.
enum Which { CIN3, MMA };

template <typename T>
static void run(const char* name, Which which, const Stem& p, bool check) {
    size_t xs = (size_t)p.n * p.h * p.w * p.cin, ys = (size_t)p.pixels() * p.cout, ws = 9ull * p.cin * p.cout;
    // checks: normal inputs; timing at batch 256: a fast uniform fill (Box-Muller over 10^8 values takes seconds)
    auto x = check ? randn(xs, 1) : uniform_fill(xs);
    auto w1 = randn(ws, sqrtf(2.f / (9 * p.cin))), sc = randn(p.cout, 0.2f), sh = randn(p.cout, 0.1f);
    for (auto& s : sc) s += 1;
    std::vector<T> xt(xs);
    for (size_t i = 0; i < xs; i++) { xt[i] = to_t<T>(x[i]); x[i] = from_t(xt[i]); }  // the reference sees the stored values
    T *dx, *dy;
    float *dw, *dsc, *dsh;
    CK(cudaMalloc(&dx, xs * sizeof(T))); CK(cudaMalloc(&dy, ys * sizeof(T))); CK(cudaMalloc(&dw, ws * 4));
    CK(cudaMalloc(&dsc, p.cout * 4)); CK(cudaMalloc(&dsh, p.cout * 4));
    CK(cudaMemcpy(dx, xt.data(), xs * sizeof(T), cudaMemcpyHostToDevice)); CK(cudaMemcpy(dw, w1.data(), ws * 4, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(dsc, sc.data(), p.cout * 4, cudaMemcpyHostToDevice)); CK(cudaMemcpy(dsh, sh.data(), p.cout * 4, cudaMemcpyHostToDevice));
    CK(cudaMemset(dy, 0xff, ys * sizeof(T)));  // NaN in every storage type
    const int M = (int)p.pixels();
    std::function<void()> launch;
    if (which == CIN3) {
        long long items = (long long)M * (p.cout / 8);
        int grid = (int)std::min<long long>((items + 255) / 256, 32LL * sms());
        int smem = 29 * p.cout * 4;
        auto k = std::is_same<T, float>::value ? (void*)stem_cin3_f32 : std::is_same<T, __half>::value ? (void*)stem_cin3_f16 : (void*)stem_cin3_bf16;
        launch = [=] {
            void* args[] = {(void*)&dx, (void*)&dw, (void*)&dsc, (void*)&dsh, nullptr, (void*)&dy, (void*)&p.n, (void*)&p.h, (void*)&p.w,
                            (void*)&p.cout, (void*)&p.stride, nullptr, nullptr};
            const T* nores = nullptr; int zero = 0, one = 1;
            args[4] = (void*)&nores; args[11] = (void*)&zero; args[12] = (void*)&one;
            CK(cudaLaunchKernel(k, grid, 256, args, smem, 0));
        };
    } else if (which == MMA) {
        int smem = 2 * (9 * p.cin * 72 + 2 * 128 * (3 * p.cin + 8)) + 8 * 128;
        auto k = std::is_same<T, __half>::value ? (void*)stem_mma_fp16 : (void*)stem_mma_bf16;
        CK(cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
        int perSm = 0;
        CK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&perSm, k, 256, smem));
        int tiles = (M + 127) / 128;
        int grid = std::min(tiles, std::max(1, std::min(2, perSm)) * sms());
        if (check) printf("  stem_mma: %d resident blocks/SM, grid %d for %d tiles, %d B shared\n", perSm, grid, tiles, smem);
        launch = [=] {
            const T* nores = nullptr; int one = 1;
            void* args[] = {(void*)&dx, (void*)&dw, (void*)&dsc, (void*)&dsh, (void*)&nores, (void*)&dy, (void*)&p.n, (void*)&p.h, (void*)&p.w,
                            (void*)&p.cin, (void*)&p.cout, (void*)&p.stride, (void*)&one};
            CK(cudaLaunchKernel(k, grid, 256, args, smem, 0));
        };
    }
    if (check) {
        launch();
        CK_LAUNCH();
        std::vector<T> gt(ys);
        CK(cudaMemcpy(gt.data(), dy, ys * sizeof(T), cudaMemcpyDeviceToHost));
        std::vector<float> got(ys);
        for (size_t i = 0; i < ys; i++) got[i] = from_t(gt[i]);
        std::vector<double> ref;
        stem_reference(p, x, w1, sc, sh, ref);
        size_t bad;
        double e = rel_error(got, ref, &bad);
        double tol = sizeof(T) == 4 ? 1e-5 : 2e-2;
        // bitwise repeat
        launch();
        CK_LAUNCH();
        std::vector<T> g2(ys);
        CK(cudaMemcpy(g2.data(), dy, ys * sizeof(T), cudaMemcpyDeviceToHost));
        bool same = memcmp(gt.data(), g2.data(), ys * sizeof(T)) == 0;
        printf("CHECK  %-28s n=%d %dx%d %d->%d s%d rel.err %.2e non-finite %zu repeat %s %s\n", name, p.n, p.h, p.w, p.cin, p.cout, p.stride, e, bad,
               same ? "bitwise" : "DIFFERS", e < tol && !bad && same ? "OK" : "FAIL");
        if (!(e < tol) || bad || !same) exit(2);
    } else {
        float ms = time_median(launch, 3, 10);
        double bytes = (double)xs * sizeof(T) + (double)ys * sizeof(T);
        printf("RESULT %-28s n=%d %dx%d %d->%d s%d  %9.3f ms  %8.1f GB/s  %7.1f TFLOP/s\n", name, p.n, p.h, p.w, p.cin, p.cout, p.stride, ms,
               bytes / (ms * 1e6), p.flops() / (ms * 1e9));
    }
    cudaFree(dx); cudaFree(dy); cudaFree(dw); cudaFree(dsc); cudaFree(dsh);
}

int main(int argc, char** argv) {
    int batch = argc > 1 ? atoi(argv[1]) : 256;
    printf("copy bandwidth %.0f GB/s\n", copy_bandwidth_gbs());
    const Stem c1s{2, 299, 299, 3, 32, 2}, c1o{3, 31, 29, 3, 32, 2}, c2s{2, 149, 149, 32, 64, 1}, c2o{3, 31, 29, 32, 64, 1};
    run<__nv_bfloat16>("stem_cin3_bf16", CIN3, c1s, true);
    run<__nv_bfloat16>("stem_cin3_bf16", CIN3, c1o, true);
    run<float>("stem_cin3_f32", CIN3, c1s, true);
    run<__half>("stem_cin3_f16", CIN3, c1o, true);
    run<__nv_bfloat16>("stem_mma_bf16", MMA, c2s, true);
    run<__nv_bfloat16>("stem_mma_bf16", MMA, c2o, true);
    run<__half>("stem_mma_fp16", MMA, c2o, true);
    const Stem c1{batch, 299, 299, 3, 32, 2}, c2{batch, 149, 149, 32, 64, 1};
    run<__nv_bfloat16>("stem_cin3_bf16", CIN3, c1, false);
    run<float>("stem_cin3_f32", CIN3, c1, false);
    run<__half>("stem_cin3_f16", CIN3, c1, false);
    run<__nv_bfloat16>("stem_mma_bf16", MMA, c2, false);
    run<__half>("stem_mma_fp16", MMA, c2, false);
    return 0;
}
