// Shared by the cuda/dev variants: error checks, random data, the CPU reference of sepconv_bn,
// relative-error checks, CUDA-event timing with warm-up and medians, and a copy-bandwidth probe.
#pragma once
#include <cuda_runtime.h>
#include <cuda_bf16.h>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#define CK(call)                                                                                              \
    do {                                                                                                      \
        cudaError_t e_ = (call);                                                                              \
        if (e_ != cudaSuccess) { fprintf(stderr, "%s:%d %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(e_)); exit(1); } \
    } while (0)
#define CK_LAUNCH() do { CK(cudaGetLastError()); CK(cudaDeviceSynchronize()); } while (0)

// "256,32" -> {256, 32}: the batch lists the dev programs take as their second argument.
static std::vector<int> parse_int_list(const std::string& list) {
    std::vector<int> out;
    for (size_t p = 0; p < list.size();) {
        const size_t q = list.find(',', p);
        out.push_back(atoi(list.substr(p, q - p).c_str()));
        p = q == std::string::npos ? list.size() : q + 1;
    }
    return out;
}

// One sepconv_bn problem: x (n,h,w,cin) NHWC, dw (3,3,cin), pw (cin,cout), scale/shift (cout), y (n,h,w,cout).
struct Problem {
    int n, h, w, cin, cout;
    long long pixels() const { return (long long)n * h * w; }
    double flops() const { return 2.0 * pixels() * (9.0 * cin + (double)cin * cout); }
};

static unsigned long long rng_state = 0x9E3779B97F4A7C15ull;
static float frand_normal() {  // Box-Muller on a xorshift generator
    auto u = []() { rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;
                    return ((rng_state >> 11) + 0.5) * (1.0 / 9007199254740992.0); };
    double a = u(), b = u();
    return (float)(sqrt(-2.0 * log(a)) * cos(6.283185307179586 * b));
}
static std::vector<float> randn(size_t n, float scale) {
    std::vector<float> v(n);
    for (auto& x : v) x = frand_normal() * scale;
    return v;
}

// y = (PW(DW_same(relu(x))))*scale + shift in double precision: the reference every variant meets.
static void sepconv_reference(const Problem& p, const float* x, const float* dw, const float* pw, const float* scale,
                              const float* shift, bool preRelu, std::vector<double>& y) {
    std::vector<double> d((size_t)p.pixels() * p.cin);
    for (int ni = 0; ni < p.n; ni++)
        for (int oy = 0; oy < p.h; oy++)
            for (int ox = 0; ox < p.w; ox++)
                for (int c = 0; c < p.cin; c++) {
                    double s = 0;
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++) {
                            int iy = oy + ky - 1, ix = ox + kx - 1;
                            if (iy < 0 || iy >= p.h || ix < 0 || ix >= p.w) continue;
                            double v = x[(((size_t)ni * p.h + iy) * p.w + ix) * p.cin + c];
                            if (preRelu && v < 0) v = 0;
                            s += v * dw[(ky * 3 + kx) * p.cin + c];
                        }
                    d[(((size_t)ni * p.h + oy) * p.w + ox) * p.cin + c] = s;
                }
    y.assign((size_t)p.pixels() * p.cout, 0.0);
    for (long long m = 0; m < p.pixels(); m++) {
        double* yr = &y[(size_t)m * p.cout];
        for (int k = 0; k < p.cin; k++) {
            double a = d[(size_t)m * p.cin + k];
            const float* wr = pw + (size_t)k * p.cout;
            for (int c = 0; c < p.cout; c++) yr[c] += a * wr[c];
        }
        for (int c = 0; c < p.cout; c++) yr[c] = yr[c] * scale[c] + shift[c];
    }
}

static double rel_error(const std::vector<float>& got, const std::vector<double>& ref, size_t* bad) {
    double num = 0, den = 0;
    *bad = 0;
    for (size_t i = 0; i < ref.size(); i++) {
        if (!std::isfinite(got[i])) { (*bad)++; continue; }
        double d = got[i] - ref[i];
        num += d * d;
        den += ref[i] * ref[i];
    }
    return sqrt(num / std::max(den, 1e-300));
}

// Median milliseconds of `reps` timed runs after `warmup` untimed ones.
template <typename F>
static float time_median(F run, int warmup = 3, int reps = 10) {
    for (int i = 0; i < warmup; i++) run();
    CK(cudaDeviceSynchronize());
    cudaEvent_t a, b;
    CK(cudaEventCreate(&a));
    CK(cudaEventCreate(&b));
    std::vector<float> ms(reps);
    for (int i = 0; i < reps; i++) {
        CK(cudaEventRecord(a));
        run();
        CK(cudaEventRecord(b));
        CK(cudaEventSynchronize(b));
        CK(cudaEventElapsedTime(&ms[i], a, b));
    }
    CK(cudaGetLastError());
    CK(cudaEventDestroy(a));
    CK(cudaEventDestroy(b));
    std::sort(ms.begin(), ms.end());
    return ms[reps / 2];
}

// Device-to-device copy bandwidth (bytes read + written), the memory ceiling of this card.
static double copy_bandwidth_gbs() {
    size_t bytes = (size_t)1 << 30;
    void *a, *b;
    CK(cudaMalloc(&a, bytes));
    CK(cudaMalloc(&b, bytes));
    CK(cudaMemset(a, 1, bytes));
    float ms = time_median([&] { CK(cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice)); });
    CK(cudaFree(a));
    CK(cudaFree(b));
    return 2.0 * bytes / (ms * 1e6);
}

// One line per run; the check.sh summary greps "RESULT".
static void report(const char* variant, const Problem& p, float ms, double bytes) {
    printf("RESULT %-28s n=%d %dx%d %d->%d  %9.3f ms  %8.1f GB/s  %7.1f TFLOP/s  %8.0f img/s-equiv\n", variant, p.n, p.h, p.w, p.cin, p.cout, ms,
           bytes / (ms * 1e6), p.flops() / (ms * 1e9), p.n / (ms / 1e3));
}
