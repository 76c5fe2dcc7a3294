// The 8-channels-per-thread ("_v8_") kernels of bn_train.cu, conv_bwd.cu and pool_head.cu, and
// add_in_place, executed on host threads (host_threads.h) against their channel-per-thread twins and a
// float64 reference, for fp32, bf16 and fp16 storage:
//   - partial sums (bn_stats / bn_backward / bn_sums / dw_backward_weight): every chunk's partial of
//     every channel against a float64 sum over the chunk's rows (channel mapping, chunk bounds, tails),
//     then the final kernels against the float64 statistics;
//   - element-wise passes (bn_apply, bn_backward_apply, dw_forward, dw_backward_data, maxpool_backward,
//     add_in_place): bit for bit the old kernel's output, outputs poisoned with NaN first.
// Grids follow the planner's rules (CudaLaunchPlan, ChannelSumChunks) and, for the striding kernels,
// are cut short so that every thread walks several rows.
// host-build (CudaDevHostEmulationTest): g++ -std=c++20 -O1 -pthread -Wall -Werror -Wno-unknown-pragmas -Wno-sign-compare -I cuda
//     -I <CUDA>/include -o channel_group_kernels_host cuda/dev/channel_group_kernels_host.cpp
// Run: ./channel_group_kernels_host host     (prints CHECK lines, then RESULT ... OK or FAIL)
#include "dev/host_checks.h"
#include "bn_train.cu"
#include "conv_bwd.cu"
#include "pool_head.cu"
#include "elementwise.cu"
#include "sepgemm.cu"

#include <cstdio>
#include <string>

namespace {
using namespace host_checks;
int round_up(int a, int b) { return ceil_div(a, b) * b; }

// ChannelSumChunks.of (the Java planner's rule, restated): lanes, rows per chunk, chunks.
struct Chunks { bool vector; int lanes, rowsPerChunk, chunks; };
Chunks chunks_for(int rows, int c) {
    if (c % 8 != 0) {
        const int rpc = round_up(std::max(256, ceil_div(rows, 512)), 8);
        return {false, 32, rpc, ceil_div(rows, rpc)};
    }
    int lanes = 1;
    while (lanes < c / 8 && lanes < 32) lanes *= 2;
    const int rpc = round_up(std::max(64, ceil_div(rows, 512)), 8);
    return {true, lanes, rpc, ceil_div(rows, rpc)};
}
Chunks scalar_chunks(int rows) {
    const int rpc = round_up(std::max(256, ceil_div(rows, 512)), 8);
    return {false, 32, rpc, ceil_div(rows, rpc)};
}

// |got - ref| within tol of the sum of the terms' magnitudes (fp32 accumulation of n terms).
bool close(double got, double ref, double magnitude, double tol) { return std::fabs(got - ref) <= tol * magnitude + 1e-30; }

template <typename T> struct Kernels;
#define JX_HOST_KERNELS(SUF, MATH, TYPE)                                                          \
    template <> struct Kernels<TYPE> {                                                       \
        static constexpr const char* name = #SUF;                                            \
        static constexpr auto stats_partial = bn_stats_partial_##SUF;                        \
        static constexpr auto stats_partial_v8 = bn_stats_partial_v8_##SUF;                  \
        static constexpr auto stats_final = bn_stats_final_##SUF;                            \
        static constexpr auto apply = bn_apply_##SUF;                                        \
        static constexpr auto apply_v8 = bn_apply_v8_##SUF;                                  \
        static constexpr auto backward_partial = bn_backward_partial_##SUF;                  \
        static constexpr auto backward_partial_v8 = bn_backward_partial_v8_##SUF;            \
        static constexpr auto backward_apply = bn_backward_apply_##SUF;                      \
        static constexpr auto backward_apply_v8 = bn_backward_apply_v8_##SUF;                \
        static constexpr auto sums_partial = bn_sums_partial_##SUF;                          \
        static constexpr auto sums_partial_v8 = bn_sums_partial_v8_##SUF;                    \
        static constexpr auto dw_fwd = dw_forward_##SUF;                                     \
        static constexpr auto dw_fwd_v8 = dw_forward_v8_##SUF;                               \
        static constexpr auto dw_data = dw_backward_data_##SUF;                              \
        static constexpr auto dw_data_v8 = dw_backward_data_v8_##SUF;                        \
        static constexpr auto dw_weight = dw_backward_weight_##SUF;                          \
        static constexpr auto dw_weight_v8 = dw_backward_weight_v8_##SUF;                    \
        static constexpr auto pool_bwd = maxpool_backward_##SUF;                             \
        static constexpr auto pool_argmax_v8 = maxpool_argmax_v8_##SUF;                      \
        static constexpr auto pool_bwd_v8 = maxpool_backward_v8_##SUF;                       \
        static constexpr auto add = add_in_place_##SUF;                                      \
        static constexpr auto split_dw = sepgemm_dw_##MATH;                                  \
        static constexpr auto split_dw_v8 = sepgemm_dw_v8_##MATH;                            \
    };
JX_HOST_KERNELS(f32, tf32, float)
JX_HOST_KERNELS(bf16, bf16, __nv_bfloat16)
JX_HOST_KERNELS(f16, fp16, __half)

// ------------------------------------------------------------------ batch norm

template <typename T>
void batch_norm(int rows, int c) {
    using K = Kernels<T>;
    const std::string tag = std::string(K::name) + " rows " + std::to_string(rows) + " c " + std::to_string(c);
    const Chunks ch = chunks_for(rows, c);
    const unsigned gx = (unsigned)ceil_div(c / 8, ch.lanes);
    std::vector<T> z = random_tensor<T>((size_t)rows * c, 0.5, 2.5);  // mean far from 0: the shift matters

    // forward statistics: partials (chunks, 2, c) of z - z[0, ch]
    std::vector<float> part((size_t)ch.chunks * 2 * c, NAN);
    host_launch(gx, ch.chunks, JX_THREADS, [&] { K::stats_partial_v8(z.data(), part.data(), rows, c, ch.rowsPerChunk, ch.lanes); });
    bool ok = true;
    for (int k = 0; k < ch.chunks; k++) {
        for (int j = 0; j < c; j++) {
            double s1 = 0, s2 = 0, mag1 = 0, mag2 = 0;
            const double shift = to_f32(z[j]);
            for (int r = k * ch.rowsPerChunk; r < std::min(rows, (k + 1) * ch.rowsPerChunk); r++) {
                const double d = (double)to_f32(z[(size_t)r * c + j]) - shift;
                s1 += d; s2 += d * d; mag1 += std::fabs(d); mag2 += d * d;
            }
            ok &= close(part[((size_t)k * 2) * c + j], s1, mag1, 1e-5) && close(part[((size_t)k * 2 + 1) * c + j], s2, mag2, 1e-5);
        }
    }
    check(ok, "bn_stats_partial_v8 every chunk " + tag);

    std::vector<float> mean(c, NAN), invStd(c, NAN), mm(c, 0.25f), mv(c, 2.f);
    host_launch(ceil_div(c, JX_THREADS), 1, JX_THREADS, [&] {
        K::stats_final(part.data(), z.data(), ch.chunks, rows, c, 1e-3f, 0.99f, mean.data(), invStd.data(), mm.data(), mv.data());
    });
    ok = true;
    std::vector<double> refMean(c), refVar(c);
    for (int j = 0; j < c; j++) {
        double s = 0, ss = 0;
        for (int r = 0; r < rows; r++) s += to_f32(z[(size_t)r * c + j]);
        refMean[j] = s / rows;
        for (int r = 0; r < rows; r++) { const double d = to_f32(z[(size_t)r * c + j]) - refMean[j]; ss += d * d; }
        refVar[j] = ss / rows;
        ok &= close(mean[j], refMean[j], std::fabs(refMean[j]), 1e-5) && close(invStd[j], 1 / std::sqrt(refVar[j] + 1e-3), 1 / std::sqrt(refVar[j] + 1e-3), 1e-4);
    }
    check(ok, "bn_stats_final over the _v8_ partials vs float64 " + tag);

    // forward apply, with and without residual / relu: bit for bit the grid-stride kernel
    std::vector<float> gamma = random_floats(c, 0.5, 1.5), beta = random_floats(c, -0.5, 0.5);
    std::vector<T> res = random_tensor<T>((size_t)rows * c, -1, 1);
    for (int variant = 0; variant < 2; variant++) {
        const T* residual = variant ? res.data() : nullptr;
        const int relu = variant;
        std::vector<T> y1 = poisoned<T>((size_t)rows * c), y2 = poisoned<T>((size_t)rows * c);
        host_launch(ceil_div((long long)rows * ceil_div(c, 8), JX_THREADS) / 3 + 1, 1, JX_THREADS, [&] {
            K::apply(z.data(), mean.data(), invStd.data(), gamma.data(), beta.data(), residual, y1.data(), rows, c, relu);
        });
        const unsigned rowBlocks = (unsigned)std::max(1, std::min(ceil_div(rows, JX_THREADS / ch.lanes), 5));  // short: rows strided
        host_launch(gx, rowBlocks, JX_THREADS, [&] {
            K::apply_v8(z.data(), mean.data(), invStd.data(), gamma.data(), beta.data(), residual, y2.data(), rows, c, relu, ch.lanes);
        });
        check(all_finite(y2) && same_bits(y1, y2), std::string("bn_apply_v8 == bn_apply") + (variant ? " (residual, relu) " : " ") + tag);
    }

    // backward sums: g = dy masked by y > 0, sums of g and g * xhat
    std::vector<T> y = poisoned<T>((size_t)rows * c);
    host_launch(64, 1, JX_THREADS, [&] { K::apply(z.data(), mean.data(), invStd.data(), gamma.data(), beta.data(), nullptr, y.data(), rows, c, 1); });
    std::vector<T> dy = random_tensor<T>((size_t)rows * c, -1, 1);
    for (int relu = 0; relu < 2; relu++) {
        std::vector<float> bp((size_t)ch.chunks * 2 * c, NAN);
        host_launch(gx, ch.chunks, JX_THREADS, [&] {
            K::backward_partial_v8(z.data(), y.data(), dy.data(), mean.data(), invStd.data(), bp.data(), rows, c, ch.rowsPerChunk, relu, ch.lanes);
        });
        ok = true;
        for (int k = 0; k < ch.chunks; k++) {
            for (int j = 0; j < c; j++) {
                double s1 = 0, s2 = 0, m1 = 0, m2 = 0;
                for (int r = k * ch.rowsPerChunk; r < std::min(rows, (k + 1) * ch.rowsPerChunk); r++) {
                    const size_t o = (size_t)r * c + j;
                    double g = to_f32(dy[o]);
                    if (relu && !(to_f32(y[o]) > 0.f)) g = 0;
                    const double xhat = ((double)to_f32(z[o]) - mean[j]) * invStd[j];
                    s1 += g; s2 += g * xhat; m1 += std::fabs(g); m2 += std::fabs(g * xhat);
                }
                ok &= close(bp[((size_t)k * 2) * c + j], s1, m1, 1e-5) && close(bp[((size_t)k * 2 + 1) * c + j], s2, m2, 1e-5);
            }
        }
        check(ok, std::string("bn_backward_partial_v8 every chunk") + (relu ? " (relu) " : " ") + tag);

        std::vector<float> dGamma(c, NAN), dBeta(c, NAN);
        host_launch(ceil_div(c, JX_THREADS), 1, JX_THREADS, [&] { bn_backward_final(bp.data(), ch.chunks, c, dGamma.data(), dBeta.data()); });
        std::vector<T> dz1 = poisoned<T>((size_t)rows * c), dz2 = poisoned<T>((size_t)rows * c);
        std::vector<T> dm1 = poisoned<T>((size_t)rows * c), dm2 = poisoned<T>((size_t)rows * c);
        host_launch(ceil_div((long long)rows * ceil_div(c, 8), JX_THREADS) / 3 + 1, 1, JX_THREADS, [&] {
            K::backward_apply(z.data(), y.data(), dy.data(), gamma.data(), mean.data(), invStd.data(), dGamma.data(), dBeta.data(),
                              dz1.data(), dm1.data(), rows, rows, c, relu);
        });
        const unsigned rowBlocks = (unsigned)std::max(1, std::min(ceil_div(rows, JX_THREADS / ch.lanes), 5));
        host_launch(gx, rowBlocks, JX_THREADS, [&] {
            K::backward_apply_v8(z.data(), y.data(), dy.data(), gamma.data(), mean.data(), invStd.data(), dGamma.data(), dBeta.data(),
                                 dz2.data(), dm2.data(), rows, rows, c, relu, ch.lanes);
        });
        check(all_finite(dz2) && same_bits(dz1, dz2) && all_finite(dm2) && same_bits(dm1, dm2),
              std::string("bn_backward_apply_v8 == bn_backward_apply, dz and dyMasked") + (relu ? " (relu) " : " ") + tag);
    }

    // synchronised batch norm's sums: sum z, then sum (z - mean)^2
    for (int squared = 0; squared < 2; squared++) {
        std::vector<float> sp((size_t)ch.chunks * c, NAN);
        host_launch(gx, ch.chunks, JX_THREADS, [&] {
            K::sums_partial_v8(z.data(), squared ? mean.data() : nullptr, sp.data(), rows, c, ch.rowsPerChunk, ch.lanes);
        });
        ok = true;
        for (int k = 0; k < ch.chunks; k++) {
            for (int j = 0; j < c; j++) {
                double s = 0, m = 0;
                for (int r = k * ch.rowsPerChunk; r < std::min(rows, (k + 1) * ch.rowsPerChunk); r++) {
                    double v = to_f32(z[(size_t)r * c + j]);
                    if (squared) v = (v - mean[j]) * (v - mean[j]);
                    s += v; m += std::fabs(v);
                }
                ok &= close(sp[(size_t)k * c + j], s, m, 1e-5);
            }
        }
        check(ok, std::string("bn_sums_partial_v8 every chunk") + (squared ? " (squared deviations) " : " ") + tag);
    }
}

// ------------------------------------------------------------------ depthwise

template <typename T>
void depthwise(int n, int h, int w, int c) {
    using K = Kernels<T>;
    const std::string tag = std::string(K::name) + " " + std::to_string(n) + "x" + std::to_string(h) + "x" + std::to_string(w) + "x" + std::to_string(c);
    const int M = n * h * w;
    const Chunks ch = chunks_for(M, c);
    const unsigned gx = (unsigned)ceil_div(c / 8, ch.lanes);
    const unsigned pixelBlocks = (unsigned)std::max(1, std::min(ceil_div(M, JX_THREADS / ch.lanes), 7));
    std::vector<T> x = random_tensor<T>((size_t)M * c, -1, 1), dd = random_tensor<T>((size_t)M * c, -1, 1);
    std::vector<float> dw = random_floats((size_t)9 * c, -0.5, 0.5);
    const unsigned scalarBlocks = ceil_div((long long)M * ceil_div(c, 8), JX_THREADS) / 2 + 1;
    for (int preRelu = 0; preRelu < 2; preRelu++) {
        const std::string pr = preRelu ? " (preRelu) " : " ";
        std::vector<T> d1 = poisoned<T>((size_t)M * c), d2 = poisoned<T>((size_t)M * c);
        host_launch(scalarBlocks, 1, JX_THREADS, [&] { K::dw_fwd(x.data(), dw.data(), d1.data(), n, h, w, c, preRelu); });
        host_launch(gx, pixelBlocks, JX_THREADS, [&] { K::dw_fwd_v8(x.data(), dw.data(), d2.data(), n, h, w, c, preRelu, ch.lanes); });
        check(all_finite(d2) && same_bits(d1, d2), "dw_forward_v8 == dw_forward" + pr + tag);

        std::vector<T> dx1 = poisoned<T>((size_t)M * c), dx2 = poisoned<T>((size_t)M * c);
        host_launch(scalarBlocks, 1, JX_THREADS, [&] { K::dw_data(dd.data(), dw.data(), x.data(), dx1.data(), n, h, w, c, preRelu); });
        host_launch(gx, pixelBlocks, JX_THREADS, [&] { K::dw_data_v8(dd.data(), dw.data(), x.data(), dx2.data(), n, h, w, c, preRelu, ch.lanes); });
        check(all_finite(dx2) && same_bits(dx1, dx2), "dw_backward_data_v8 == dw_backward_data" + pr + tag);

        // weight gradient: partials (chunks, 9, c) against float64, then reduce_partials against the scalar kernel's
        std::vector<float> part((size_t)ch.chunks * 9 * c, NAN);
        host_launch(gx, ch.chunks, JX_THREADS, [&] {
            K::dw_weight_v8(x.data(), dd.data(), part.data(), n, h, w, c, preRelu, ch.rowsPerChunk, ch.lanes);
        });
        bool ok = true;
        for (int k = 0; k < ch.chunks; k++) {
            for (int t = 0; t < 9; t++) {
                for (int j = 0; j < c; j++) {
                    double s = 0, m = 0;
                    for (int p = k * ch.rowsPerChunk; p < std::min(M, (k + 1) * ch.rowsPerChunk); p++) {
                        const int ox = p % w, oy = (p / w) % h, ni = p / (w * h);
                        const int iy = oy + t / 3 - 1, ix = ox + t % 3 - 1;
                        if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                        double a = to_f32(x[(((size_t)ni * h + iy) * w + ix) * c + j]);
                        if (preRelu && a < 0) a = 0;
                        const double term = (double)to_f32(dd[(size_t)p * c + j]) * a;
                        s += term; m += std::fabs(term);
                    }
                    ok &= close(part[((size_t)k * 9 + t) * c + j], s, m, 1e-5);
                }
            }
        }
        check(ok, "dw_backward_weight_v8 every chunk and tap" + pr + tag);
        std::vector<float> w8(9 * (size_t)c, NAN), w1(9 * (size_t)c, NAN);
        host_launch(ceil_div(9LL * c, JX_THREADS), 1, JX_THREADS, [&] { reduce_partials(part.data(), w8.data(), ch.chunks, 9LL * c); });
        const Chunks sc = scalar_chunks(M);
        std::vector<float> part1((size_t)sc.chunks * 9 * c, NAN);
        host_launch(ceil_div(c, 32), sc.chunks, JX_THREADS, [&] { K::dw_weight(x.data(), dd.data(), part1.data(), n, h, w, c, preRelu, sc.rowsPerChunk); });
        host_launch(ceil_div(9LL * c, JX_THREADS), 1, JX_THREADS, [&] { reduce_partials(part1.data(), w1.data(), sc.chunks, 9LL * c); });
        ok = true;
        for (size_t i = 0; i < w8.size(); i++) ok &= std::isfinite(w8[i]) && close(w8[i], w1[i], std::fabs(w1[i]) + 1e-3 * M, 1e-5);
        check(ok, "dw_backward_weight_v8 summed == dw_backward_weight summed (fp32 order only)" + pr + tag);
    }
}

// ------------------------------------------------------------------ the split sepconv's depthwise (inference)

// sepgemm_dw_v8 == sepgemm_dw: A (rows, kPad) of a chunk [row0, row0 + rows) of the pixels, zero padding columns.
template <typename T>
void split_depthwise(int n, int h, int w, int cin, long long row0, int rows) {
    using K = Kernels<T>;
    const int kPad = (cin + 31) / 32 * 32, lanes = chunks_for(rows, kPad).lanes;
    const std::string tag = std::string(K::name) + " " + std::to_string(n) + "x" + std::to_string(h) + "x" + std::to_string(w) + "x" +
                            std::to_string(cin) + " kPad " + std::to_string(kPad) + " rows " + std::to_string(row0) + ".." + std::to_string(row0 + rows);
    std::vector<T> x = random_tensor<T>((size_t)n * h * w * cin, -1, 1);
    std::vector<float> dw = random_floats((size_t)9 * cin, -0.5, 0.5);
    std::vector<T> a1 = poisoned<T>((size_t)rows * kPad), a2 = poisoned<T>((size_t)rows * kPad);
    host_launch(ceil_div((long long)rows * (kPad / 8), JX_THREADS) / 2 + 1, 1, JX_THREADS, [&] {
        K::split_dw(x.data(), dw.data(), a1.data(), h, w, cin, kPad, row0, rows, 1);
    });
    const unsigned rowBlocks = (unsigned)std::max(1, std::min(ceil_div(rows, JX_THREADS / lanes), 5));
    host_launch(ceil_div(kPad / 8, lanes), rowBlocks, JX_THREADS, [&] {
        K::split_dw_v8(x.data(), dw.data(), a2.data(), h, w, cin, kPad, row0, rows, 1, lanes);
    });
    check(all_finite(a2) && same_bits(a1, a2), "sepgemm_dw_v8 == sepgemm_dw (preRelu, zero padding columns) " + tag);
}

// ------------------------------------------------------------------ max pool, add

template <typename T>
void max_pool(int n, int h, int w, int c) {
    using K = Kernels<T>;
    const std::string tag = std::string(K::name) + " " + std::to_string(n) + "x" + std::to_string(h) + "x" + std::to_string(w) + "x" + std::to_string(c);
    const int oh = (h + 1) / 2, ow = (w + 1) / 2;
    // few distinct values: ties everywhere, so the first-maximum rule decides
    std::vector<T> x((size_t)n * h * w * c);
    for (T& e : x) e = from_f32<T>((float)(int)(uniform() * 4) - 1.f);
    std::vector<T> dy = random_tensor<T>((size_t)n * oh * ow * c, -1, 1);
    std::vector<T> dx1 = poisoned<T>(x.size()), dx2 = poisoned<T>(x.size());
    host_launch(ceil_div((long long)x.size(), JX_THREADS) / 2 + 1, 1, JX_THREADS, [&] { K::pool_bwd(x.data(), dy.data(), dx1.data(), n, h, w, c); });
    std::vector<uint8_t> argmax((size_t)n * oh * ow * c, 0xEE);   // not a tap: an unwritten byte routes nothing
    host_launch(ceil_div((long long)argmax.size() / 8, JX_THREADS) / 2 + 1, 1, JX_THREADS, [&] { K::pool_argmax_v8(x.data(), argmax.data(), n, h, w, c); });
    host_launch(ceil_div((long long)x.size() / 8, JX_THREADS) / 2 + 1, 1, JX_THREADS, [&] { K::pool_bwd_v8(argmax.data(), dy.data(), dx2.data(), n, h, w, c); });
    size_t routed = 0;
    for (const T& e : dx2) routed += to_f32(e) != 0.f;
    check(all_finite(dx2) && same_bits(dx1, dx2) && routed > x.size() / 20, "maxpool_argmax_v8 + maxpool_backward_v8 == maxpool_backward (ties) " + tag);
}

template <typename T>
void add_in_place(long long count) {
    using K = Kernels<T>;
    std::vector<T> a = random_tensor<T>(count, -1, 1), b = random_tensor<T>(count, -1, 1), want(count);
    for (long long i = 0; i < count; i++) want[i] = from_f32<T>(to_f32(a[i]) + to_f32(b[i]));
    host_launch(3, 1, JX_THREADS, [&] { K::add(a.data(), b.data(), count); });
    check(same_bits(a, want), std::string("add_in_place (8 per thread, tail) ") + K::name + " count " + std::to_string(count));
}

template <typename T>
void all_for_type() {
    batch_norm<T>(1000, 728);  // 91 groups -> 32 lanes, 3 blocks across; 16 chunks of 64, the last 40 rows
    batch_norm<T>(495, 32);    // 4 lanes x 64 row lanes
    batch_norm<T>(300, 40);    // 5 groups in 8 lanes: 3 lanes idle
    depthwise<T>(2, 7, 5, 40);
    depthwise<T>(1, 9, 11, 256);
    max_pool<T>(2, 9, 9, 16);
    max_pool<T>(1, 10, 7, 24);
    add_in_place<T>(1003);
    split_depthwise<T>(2, 7, 5, 40, 0, 70);      // kPad 64: 3 padding groups; the whole tensor
    split_depthwise<T>(2, 9, 11, 256, 37, 150);  // a chunk starting inside an image row
}

}  // namespace

int main(int argc, char** argv) {
    return host_main(argc, argv, "channel_group_kernels", [] {
        all_for_type<float>();
        all_for_type<__nv_bfloat16>();
        all_for_type<__half>();
    });
}
