// The tensor-core pointwise backward of cuda/pwbwd.cu (pwbwd-1/2/5: dgrad and wgrad in SEP, PW and STEM
// modes, pwbwd_zero_unstrided, pwbwd_reduce, pwbwd_pack_w2), never run on a GPU yet, executed on host threads
// with mma.sync, ldmatrix and cp.async emulated by host_threads.h, for bf16 and fp16, against float64.
// Control first: sepgemm_gemm (the same mainloop design, measured correct on an H100 in device run 5) through
// the same emulation must match float64, so a failure below is the kernel's, not the emulation's.
// Launch geometry as PointwiseBackwardPath plans it: 256 threads, grid and dynamic shared memory per kernel
// (81,920 bytes dgrad, 69,632 wgrad), wgrad rowsPerSplit a multiple of 32 with several splits and a tail.
// host-build (CudaDevHostEmulationTest): g++ -std=c++20 -O1 -pthread -Wall -Werror -Wno-unknown-pragmas -Wno-sign-compare -I cuda
//     -I <CUDA>/include -o pwbwd_host cuda/dev/pwbwd_host.cpp
// Run: ./pwbwd_host host     (prints CHECK lines, then RESULT ... OK or FAIL)
#include "dev/host_checks.h"
#include "sepgemm.cu"
#include "pwbwd.cu"

#include <cstdio>
#include <string>

namespace {
using namespace host_checks;
// A check with its relative error and bound in the line.
void check(bool ok, const std::string& what, double err, double bound) {
    char line[200];
    snprintf(line, sizeof line, "%s: rel err %.2e (bound %.0e)", what.c_str(), err, bound);
    host_checks::check(ok, line);
}
template <typename T> bool same_value(T a, T b) { return memcmp(&a, &b, sizeof(T)) == 0; }


constexpr int DGRAD_SHARED = 81920, WGRAD_SHARED = 69632, GEMM_SHARED = 75776;

template <typename T> struct Kernels;
#define JX_HOST_PWBWD(SUF, GEMM_SUF, TYPE)                                             \
    template <> struct Kernels<TYPE> {                                                  \
        static constexpr const char* name = #SUF;                                       \
        static constexpr auto pack = pwbwd_pack_w2_##SUF;                               \
        static constexpr auto dgrad = pwbwd_dgrad_##SUF;                                \
        static constexpr auto wgrad = pwbwd_wgrad_##SUF;                                \
        static constexpr auto dgrad_pw = pwbwd_dgrad_pw_##SUF;                          \
        static constexpr auto wgrad_pw = pwbwd_wgrad_pw_##SUF;                          \
        static constexpr auto dgrad_stem = pwbwd_dgrad_stem_##SUF;                      \
        static constexpr auto wgrad_stem = pwbwd_wgrad_stem_##SUF;                      \
        static constexpr auto gemm = sepgemm_gemm_##GEMM_SUF;                           \
    };
JX_HOST_PWBWD(bf16, bf16, __nv_bfloat16)
JX_HOST_PWBWD(f16, fp16, __half)

// 16-bit storage rounds every output once: about 2^-9 (bf16) or 2^-12 (fp16) relative per element.
template <typename T> double output_bound() { return std::is_same<T, __nv_bfloat16>::value ? 8e-3 : 1.5e-3; }
constexpr double FP32_BOUND = 1e-5;  // fp32 sums of exact products of 16-bit values

// The control: y = A . B through sepgemm_gemm (no epilogue), rows 300, K 64 (kPad), cout 72 (nPad 128).
template <typename T>
void control_sepgemm() {
    const int rows = 300, kPad = 64, cout = 72, nPad = 128;
    std::vector<T> a = random_tensor<T>((size_t)rows * kPad, -1, 1), b = random_tensor<T>((size_t)kPad * nPad, -1, 1);
    std::vector<T> y((size_t)rows * cout, from_f32<T>(NAN));
    host_launch(nPad / 128, ceil_div(rows, 128), JX_THREADS, [&] {
        Kernels<T>::gemm(a.data(), b.data(), nullptr, nullptr, nullptr, y.data(), rows, cout, kPad, nPad, 0, 0);
    }, GEMM_SHARED);
    std::vector<double> ref((size_t)rows * cout);
    for (int m = 0; m < rows; m++)
        for (int n = 0; n < cout; n++) {
            double s = 0;
            for (int k = 0; k < kPad; k++) s += (double)to_f32(a[(size_t)m * kPad + k]) * to_f32(b[(size_t)k * nPad + n]);
            ref[(size_t)m * cout + n] = s;
        }
    const double e = rel_err(y, ref);
    check(e < output_bound<T>(), std::string("control: sepgemm_gemm (ran correctly on an H100) through the emulation ") + Kernels<T>::name, e,
          output_bound<T>());
}

// SEP: dd (M, cin) = mask(x) * dz . W2h^T;  dW2 (cin, cout) = d^T . dz in splits, then pwbwd_reduce.
template <typename T>
void separable(int M, int cin, int cout, int rowsPerSplit) {
    using K = Kernels<T>;
    const std::string tag = std::string(K::name) + " M " + std::to_string(M) + " cin " + std::to_string(cin) + " cout " + std::to_string(cout);
    std::vector<float> w2((size_t)cin * cout);
    for (float& v : w2) v = (float)(uniform() - 0.5);
    std::vector<T> w2h((size_t)cin * cout, from_f32<T>(NAN));
    host_launch(2, 1, JX_THREADS, [&] { K::pack(w2.data(), w2h.data(), (long long)cin * cout); });
    bool packed = true;
    for (size_t i = 0; i < w2.size(); i++) packed &= same_value(w2h[i], from_f32<T>(w2[i]));
    check(packed, "pwbwd_pack_w2 rounds every weight once " + tag, 0, 0);

    std::vector<T> dz = random_tensor<T>((size_t)M * cout, -1, 1), x = random_tensor<T>((size_t)M * cin, -1, 1);
    for (int masked = 0; masked < 2; masked++) {
        std::vector<T> dd((size_t)M * cin, from_f32<T>(NAN));
        host_launch(ceil_div(cin, 128), ceil_div(M, 128), JX_THREADS, [&] {
            K::dgrad(dz.data(), w2h.data(), masked ? x.data() : nullptr, dd.data(), M, cin, cout);
        }, DGRAD_SHARED);
        std::vector<double> ref((size_t)M * cin);
        for (int m = 0; m < M; m++)
            for (int c = 0; c < cin; c++) {
                double s = 0;
                for (int k = 0; k < cout; k++) s += (double)to_f32(dz[(size_t)m * cout + k]) * to_f32(w2h[(size_t)c * cout + k]);
                ref[(size_t)m * cin + c] = masked && !(to_f32(x[(size_t)m * cin + c]) > 0.f) ? 0 : s;
            }
        const double e = rel_err(dd, ref);
        check(e < output_bound<T>(), std::string("pwbwd_dgrad (SEP)") + (masked ? " masked by x > 0 " : " ") + tag, e, output_bound<T>());
    }

    const std::vector<T>& d = x;  // any (M, cin) activation serves as the depthwise result
    const int splits = ceil_div(M, rowsPerSplit);
    std::vector<float> partial((size_t)splits * cin * cout, NAN), dw2((size_t)cin * cout, NAN);
    host_launch(ceil_div(cin, 128) * ceil_div(cout, 128), splits, JX_THREADS, [&] {
        K::wgrad(d.data(), dz.data(), partial.data(), M, cin, cout, rowsPerSplit);
    }, WGRAD_SHARED);
    host_launch(2, 1, JX_THREADS, [&] { pwbwd_reduce(partial.data(), dw2.data(), splits, (long long)cin * cout); });
    std::vector<double> ref((size_t)cin * cout);
    for (int c = 0; c < cin; c++)
        for (int k = 0; k < cout; k++) {
            double s = 0;
            for (int m = 0; m < M; m++) s += (double)to_f32(d[(size_t)m * cin + c]) * to_f32(dz[(size_t)m * cout + k]);
            ref[(size_t)c * cout + k] = s;
        }
    const double e = rel_err(dw2, ref);
    check(e < FP32_BOUND, "pwbwd_wgrad (SEP) in " + std::to_string(splits) + " splits + pwbwd_reduce " + tag, e, FP32_BOUND);
}

// PW (1x1, stride s) and STEM (3x3 valid, stride s): dx = mask(x) * (dz . W^T gathered), dW = relu?(x)^T . dz.
template <typename T>
void convolution(bool stem, int n, int h, int w, int cin, int cout, int stride, bool preRelu, int rowsPerSplit) {
    using K = Kernels<T>;
    const int oh = stem ? (h - 3) / stride + 1 : (h + stride - 1) / stride, ow = stem ? (w - 3) / stride + 1 : (w + stride - 1) / stride;
    const int taps = stem ? 9 : 1, P = taps * cin;
    const std::string tag = std::string(K::name) + (stem ? " stem " : " pw ") + std::to_string(n) + "x" + std::to_string(h) + "x" + std::to_string(w) +
                            " cin " + std::to_string(cin) + " cout " + std::to_string(cout) + " stride " + std::to_string(stride) +
                            (preRelu ? " preRelu" : "");
    std::vector<T> x = random_tensor<T>((size_t)n * h * w * cin, -1, 1), dz = random_tensor<T>((size_t)n * oh * ow * cout, -1, 1);
    std::vector<T> wh = random_tensor<T>((size_t)P * cout, -0.5, 0.5);   // (taps, cin, cout)
    auto tap_of = [&](int t) { return std::pair<int, int>(stem ? t / 3 : 0, stem ? t % 3 : 0); };

    // dgrad
    std::vector<T> dx((size_t)n * h * w * cin, from_f32<T>(NAN));
    if (!stem) host_launch(3, 1, JX_THREADS, [&] { pwbwd_zero_unstrided(reinterpret_cast<unsigned short*>(dx.data()), n, h, w, cin, stride); });
    const int rows = stem ? n * h * w : n * oh * ow;
    host_launch(ceil_div(cin, 128), ceil_div(rows, 128), JX_THREADS, [&] {
        (stem ? K::dgrad_stem : K::dgrad_pw)(dz.data(), wh.data(), preRelu ? x.data() : nullptr, dx.data(), n, h, w, cin, cout, stride);
    }, DGRAD_SHARED);
    std::vector<double> ref(dx.size(), 0.0);
    for (int ni = 0; ni < n; ni++)
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
                for (int t = 0; t < taps; t++) {
                    const auto [ky, kx] = tap_of(t);
                    const int iy = oy * stride + ky, ix = ox * stride + kx;
                    for (int c = 0; c < cin; c++) {
                        double s = 0;
                        for (int k = 0; k < cout; k++)
                            s += (double)to_f32(dz[(((size_t)ni * oh + oy) * ow + ox) * cout + k]) * to_f32(wh[((size_t)t * cin + c) * cout + k]);
                        ref[(((size_t)ni * h + iy) * w + ix) * cin + c] += s;
                    }
                }
    if (preRelu)
        for (size_t i = 0; i < ref.size(); i++) if (!(to_f32(x[i]) > 0.f)) ref[i] = 0;
    const double e = rel_err(dx, ref);
    check(e < output_bound<T>(), std::string(stem ? "pwbwd_dgrad_stem " : "pwbwd_zero_unstrided + pwbwd_dgrad_pw ") + tag, e, output_bound<T>());

    // wgrad
    const int outRows = n * oh * ow, splits = ceil_div(outRows, rowsPerSplit);
    std::vector<float> partial((size_t)splits * P * cout, NAN), dw((size_t)P * cout, NAN);
    host_launch(ceil_div(P, 128) * ceil_div(cout, 128), splits, JX_THREADS, [&] {
        (stem ? K::wgrad_stem : K::wgrad_pw)(x.data(), dz.data(), partial.data(), n, h, w, cin, cout, stride, preRelu ? 1 : 0, rowsPerSplit);
    }, WGRAD_SHARED);
    host_launch(2, 1, JX_THREADS, [&] { pwbwd_reduce(partial.data(), dw.data(), splits, (long long)P * cout); });
    std::vector<double> wref((size_t)P * cout, 0.0);
    for (int ni = 0; ni < n; ni++)
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
                for (int t = 0; t < taps; t++) {
                    const auto [ky, kx] = tap_of(t);
                    const int iy = oy * stride + ky, ix = ox * stride + kx;
                    for (int c = 0; c < cin; c++) {
                        double a = to_f32(x[(((size_t)ni * h + iy) * w + ix) * cin + c]);
                        if (preRelu && a < 0) a = 0;
                        for (int k = 0; k < cout; k++) wref[((size_t)t * cin + c) * cout + k] += a * to_f32(dz[(((size_t)ni * oh + oy) * ow + ox) * cout + k]);
                    }
                }
    const double we = rel_err(dw, wref);
    check(we < FP32_BOUND, std::string(stem ? "pwbwd_wgrad_stem" : "pwbwd_wgrad_pw") + " in " + std::to_string(splits) + " splits + pwbwd_reduce " + tag,
          we, FP32_BOUND);
}

template <typename T>
void all_for_type() {
    control_sepgemm<T>();
    separable<T>(300, 40, 72, 96);     // 3 row tiles (the last of 44 rows), K = 72 (a tail of 8), 4 splits (the last of 12 rows)
    separable<T>(200, 136, 264, 64);  // 2 column tiles of dd, 2 x 3 tiles of dW2, K = 264 (9 slices)
    convolution<T>(false, 2, 9, 7, 24, 40, 2, true, 32);   // 1x1 stride 2: 5 x 4 outputs, odd input sizes
    convolution<T>(false, 1, 8, 8, 16, 136, 2, false, 32);
    convolution<T>(true, 2, 11, 9, 16, 24, 1, true, 64);   // stem stride 1: P = 144 (2 row tiles of dW)
    convolution<T>(true, 1, 13, 12, 8, 32, 2, false, 32);  // stem stride 2 (Xception's block1_conv1 geometry, smaller)
}

}  // namespace

int main(int argc, char** argv) {
    return host_main(argc, argv, "pwbwd", [] {
        all_for_type<__nv_bfloat16>();
        all_for_type<__half>();
    });
}
