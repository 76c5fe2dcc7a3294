// Kernels of the uint8 ingestion and of the one-launch optimizer step, added after the last GPU run,
// executed on host threads (host_threads.h) for the claims their comments make:
//   - stem_cin3_u8_<t> (Keras preprocessing fused into block1_conv1) equals stem_cin3_<t> over the
//     host-preprocessed input (v / 127.5f - 1, rounded to the activation type) bit for bit, and
//     convert_u8_to_<t> equals that preprocessing bit for bit;
//   - sgd_update_multi_f32 and unscale_gradient_multi_f32 (every weight in one launch, MultiTensorPlan's
//     table and chunk lists) equal the per-tensor sgd_update_f32 / unscale_gradient_f32 bit for bit, and
//     the overflow flag is set exactly when some unscaled value is Inf or NaN;
// and, as a control of the mma emulation on a kernel that ran correctly on an H100 (device run 5),
// stem_mma_<bf16|fp16|tf32> (block1_conv2 on tensor cores) against float64.
// host-build (CudaDevHostEmulationTest): g++ -std=c++20 -O1 -pthread -Wall -Werror -Wno-unknown-pragmas -Wno-sign-compare -I cuda
//     -I <CUDA>/include -o stem_and_optimizer_host cuda/dev/stem_and_optimizer_host.cpp
// Run: ./stem_and_optimizer_host host     (prints CHECK lines, then RESULT ... OK or FAIL)
#include "dev/host_checks.h"
#include "stem.cu"
#include "elementwise.cu"

#include <cstdio>
#include <string>

namespace {
using namespace host_checks;

template <typename T> struct Stem;
#define JX_HOST_STEM(SUF, MMA_SUF, TYPE)                              \
    template <> struct Stem<TYPE> {                                    \
        static constexpr const char* name = #SUF;                      \
        static constexpr auto cin3 = stem_cin3_##SUF;                  \
        static constexpr auto cin3_u8 = stem_cin3_u8_##SUF;            \
        static constexpr auto mma = stem_mma_##MMA_SUF;                \
        static constexpr auto u8 = convert_u8_to_##SUF;                \
    };
JX_HOST_STEM(f32, tf32, float)
JX_HOST_STEM(bf16, bf16, __nv_bfloat16)
JX_HOST_STEM(f16, fp16, __half)

// block1_conv1 over raw pixels: n 2, 13 x 11, stride 2 -> 6 x 5 outputs, cout 32 (+ BN scale/shift, ReLU).
template <typename T>
void uint8_stem() {
    using K = Stem<T>;
    const int n = 2, h = 13, w = 11, cout = 32, stride = 2, oh = (h - 3) / stride + 1, ow = (w - 3) / stride + 1;
    std::vector<uint8_t> pixels((size_t)n * h * w * 3);
    for (size_t i = 0; i < pixels.size(); i++) pixels[i] = (uint8_t)(i * 7 % 256);   // 858 values: every byte value, 7 coprime with 256
    std::vector<T> xf(pixels.size()), xk(pixels.size(), from_f32<T>(NAN));
    for (size_t i = 0; i < pixels.size(); i++) xf[i] = from_f32<T>(pixels[i] / 127.5f - 1.f);   // KerasPreprocessing.tf, then the upload's rounding
    host_launch(2, 1, JX_THREADS, [&] { K::u8(pixels.data(), xk.data(), (long long)pixels.size()); });
    check(same_bits(xf, xk), std::string("convert_u8_to_") + K::name + " == v / 127.5f - 1 rounded to the activation type, every byte value");

    std::vector<float> w1((size_t)27 * cout), scale(cout), shift(cout);
    for (float& v : w1) v = (float)(uniform() - 0.5);
    for (int c = 0; c < cout; c++) { scale[c] = (float)(0.5 + uniform()); shift[c] = (float)(uniform() - 0.5); }
    const size_t outCount = (size_t)n * oh * ow * cout;
    std::vector<T> y1(outCount, from_f32<T>(NAN)), y2(outCount, from_f32<T>(NAN));
    const unsigned blocks = ceil_div((long long)n * oh * ow * (cout / 8), JX_THREADS);
    host_launch(blocks, 1, JX_THREADS, [&] {
        K::cin3(xf.data(), w1.data(), scale.data(), shift.data(), nullptr, y1.data(), n, h, w, cout, stride, 0, 1);
    }, 29 * cout * 4);
    host_launch(blocks, 1, JX_THREADS, [&] {
        K::cin3_u8(pixels.data(), w1.data(), scale.data(), shift.data(), nullptr, y2.data(), n, h, w, cout, stride, 0, 1);
    }, 29 * cout * 4);
    check(all_finite(y2) && same_bits(y1, y2), std::string("stem_cin3_u8_") + K::name + " == stem_cin3_" + K::name + " over the preprocessed input");
}

// block1_conv2 on tensor cores: x (n, h, w, 32) -> y (n, h-2, w-2, 64), stride 1, BN scale/shift, residual, ReLU.
template <typename T>
void stem_mma_control() {
    using K = Stem<T>;
    const bool tf32 = std::is_same<T, float>::value;
    const int n = 2, h = 20, w = 18, cin = 32, cout = 64, oh = h - 2, ow = w - 2, M = n * oh * ow;
    std::vector<T> x = random_tensor<T>((size_t)n * h * w * cin, -1, 1), res = random_tensor<T>((size_t)M * cout, -1, 1);
    std::vector<float> w1((size_t)9 * cin * cout), scale(cout), shift(cout);
    for (float& v : w1) v = (float)((uniform() - 0.5) * 0.2);
    for (int c = 0; c < cout; c++) { scale[c] = (float)(0.5 + uniform()); shift[c] = (float)(uniform() - 0.5); }
    std::vector<T> y((size_t)M * cout, from_f32<T>(NAN));
    const size_t shared = tf32 ? (size_t)(9 * cin * 72 + 2 * 128 * (3 * cin + 4)) * 4 + 128 * 8
                               : (size_t)(9 * cin * 72 + 2 * 128 * (3 * cin + 8)) * 2 + 128 * 8;
    host_launch(2, 1, JX_THREADS, [&] {   // 2 persistent blocks over ceil(576 / 128) = 5 row tiles
        K::mma(x.data(), w1.data(), scale.data(), shift.data(), res.data(), y.data(), n, h, w, cin, cout, 1, 1);
    }, shared);
    double num = 0, den = 0;
    bool finite = true;
    for (int ni = 0; ni < n; ni++)
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
                for (int c = 0; c < cout; c++) {
                    double z = 0;
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++)
                            for (int ci = 0; ci < cin; ci++)
                                z += (double)to_f32(x[(((size_t)ni * h + oy + ky) * w + ox + kx) * cin + ci]) * w1[((size_t)(ky * 3 + kx) * cin + ci) * cout + c];
                    const size_t o = (((size_t)ni * oh + oy) * ow + ox) * cout + c;
                    double ref = z * scale[c] + shift[c] + to_f32(res[o]);
                    if (ref < 0) ref = 0;
                    const double got = to_f32(y[o]);
                    finite &= std::isfinite(got);
                    num += (got - ref) * (got - ref);
                    den += ref * ref;
                }
    const double err = std::sqrt(num / den), bound = std::is_same<T, __nv_bfloat16>::value ? 8e-3 : 3e-3;  // operands and output rounded once
    char line[160];
    snprintf(line, sizeof line, "control: stem_mma_%s (ran correctly on an H100) through the mma emulation, rel err %.2e < %.0e", tf32 ? "tf32" : K::name, err, bound);
    check(finite && err < bound, line);
}

// MultiTensorPlan's table: weights of 1, 5, 8,192, 8,193 and 20,000 values (chunk boundaries and tails);
// the second is never stepped (null velocity) and the third does not decay.
void multi_tensor() {
    const std::vector<long long> counts = {1, 5, 8192, 8193, 20000};
    std::vector<std::vector<float>> p1, g1, v1, p2, g2, v2;
    for (long long c : counts) {
        p1.push_back(random_tensor<float>(c, -1, 1));
        g1.push_back(random_tensor<float>(c, -1, 1));
        v1.push_back(random_tensor<float>(c, -0.1, 0.1));
    }
    p2 = p1; g2 = g1; v2 = v1;
    std::vector<JxWeight> table;
    std::vector<JxChunk> sgdChunks, allChunks;
    for (size_t i = 0; i < counts.size(); i++) {
        table.push_back(JxWeight{p2[i].data(), g2[i].data(), i == 1 ? nullptr : v2[i].data(), counts[i], i == 2 ? 0 : 1, 0});
        for (long long s = 0; s < counts[i]; s += JX_MT_CHUNK) {
            allChunks.push_back(JxChunk{(int)i, 0, s});
            if (i != 1) sgdChunks.push_back(JxChunk{(int)i, 0, s});
        }
    }
    const float lr = 0.1f, momentum = 0.9f, wd = 1e-4f;
    for (int step = 0; step < 3; step++) {
        for (size_t i = 0; i < counts.size(); i++) {
            if (i == 1) continue;
            host_launch(3, 1, JX_THREADS, [&] { sgd_update_f32(p1[i].data(), g1[i].data(), v1[i].data(), counts[i], lr, momentum, i == 2 ? 0.f : wd); });
        }
        host_launch((unsigned)sgdChunks.size(), 1, JX_THREADS, [&] { sgd_update_multi_f32(table.data(), sgdChunks.data(), lr, momentum, wd); });
    }
    check(p1 == p2 && v1 == v2, "sgd_update_multi_f32 == sgd_update_f32 per weight, 3 steps (a weight never stepped, one without decay)");

    float flag1 = 0, flag2 = 0;
    for (size_t i = 0; i < counts.size(); i++) host_launch(3, 1, JX_THREADS, [&] { unscale_gradient_f32(g1[i].data(), &flag1, counts[i], 0x1p-16f); });
    host_launch((unsigned)allChunks.size(), 1, JX_THREADS, [&] { unscale_gradient_multi_f32(table.data(), allChunks.data(), &flag2, 0x1p-16f); });
    check(g1 == g2 && flag1 == 0 && flag2 == 0, "unscale_gradient_multi_f32 == unscale_gradient_f32 per weight, overflow flag untouched");
    g2[3][8192] = INFINITY;   // the one value of weight 3's second chunk
    host_launch((unsigned)allChunks.size(), 1, JX_THREADS, [&] { unscale_gradient_multi_f32(table.data(), allChunks.data(), &flag2, 2.f); });
    check(flag2 == 1.f, "unscale_gradient_multi_f32 sets the overflow flag for one Inf in a one-value chunk");
}

}  // namespace

int main(int argc, char** argv) {
    return host_main(argc, argv, "stem_and_optimizer", [] {
        uint8_stem<float>();
        uint8_stem<__nv_bfloat16>();
        uint8_stem<__half>();
        stem_mma_control<__nv_bfloat16>();
        stem_mma_control<__half>();
        stem_mma_control<float>();
        multi_tensor();
    });
}
