// The Hopper wgmma kernels, never run on a GPU yet, executed on host threads: warp-specialised producer and
// consumer warpgroups, mbarrier pipelines, TMA loads and stores with the 128-byte swizzle and wgmma from
// shared-memory descriptors, all emulated by host_threads.h + host_hopper.h, against float64.
//   pwgemm_wgmma_<bf16|fp16|tf32>_n<256|128>  (cuda/hopper_pwgemm.cu: the split sepconv's pointwise GEMM)
//   sepconv_wgmma_<bf16|fp16>_n<256|128>       (cuda/hopper_sepconv.cu: depthwise producers + the same consumers),
//       and the dev program's two-producer-warpgroup variant (PWG 2): bit for bit the split path (sepgemm_dw_<t>
//       then pwgemm's wgmma GEMM), as its header promises, and against float64
//   pwbwd_wgrad_wgmma_<bf16|f16>_n<256|128>    (cuda/hopper_pwbwd.cu: dW2 = d^T . dz with both operands MN-major,
//       split over the pixels): every split's partial against float64
// Launch geometry as HopperPointwiseGemm plans it: 384 threads, Config<BN>::SMEM bytes of dynamic shared memory,
// tensor maps (A box (BK, min(128, rows)), Bt box (BK, min(BN, cout)), y box (EPI, 64)), stageBytes of both boxes;
// grids smaller than the tile count, so the persistent scheduler walks several tiles per CTA; partial tiles in
// rows, columns and (through zero-padded Bt) K.
// host-build (CudaDevHostEmulationTest): g++ -std=c++20 -O1 -pthread -Wall -Werror -Wno-unknown-pragmas -Wno-sign-compare
//     -I cuda -I <CUDA>/include -o hopper_host cuda/dev/hopper_host.cpp
// Run: ./hopper_host host     (prints CHECK lines, then RESULT ... OK or FAIL)
#include "dev/host_checks.h"
#include "hopper_pwgemm.cu"
#include "hopper_sepconv.cu"
#include "sepgemm.cu"
#include "hopper_pwbwd.cu"

#include <cstdio>
#include <string>

namespace {
using namespace host_checks;

template <typename T, int BN> struct Gemm;
#define JX_HOST_PWGEMM(SUF, TYPE)                                                        \
    template <> struct Gemm<TYPE, 256> { static constexpr auto run = pwgemm_wgmma_##SUF##_n256; }; \
    template <> struct Gemm<TYPE, 128> { static constexpr auto run = pwgemm_wgmma_##SUF##_n128; };
JX_HOST_PWGEMM(bf16, __nv_bfloat16)
JX_HOST_PWGEMM(fp16, __half)
JX_HOST_PWGEMM(tf32, float)
template <typename T> const char* type_name() {
    return std::is_same<T, __nv_bfloat16>::value ? "bf16" : std::is_same<T, __half>::value ? "fp16" : "tf32";
}
template <typename T> constexpr auto pack_bt_kernel() {
    if constexpr (std::is_same<T, __nv_bfloat16>::value) return pwgemm_pack_bt_bf16;
    else if constexpr (std::is_same<T, __half>::value) return pwgemm_pack_bt_fp16;
    else return pwgemm_pack_bt_tf32;
}

// y[row0 + r, co] = relu?((A . W2)[r, co] * scale + shift + residual) over a chunk of `rows` rows of an M-row y.
template <typename T, int BN>
void pointwise_gemm(int rows, int cin, int cout, long long row0, int grid, bool epilogue) {
    constexpr int BK = pwgemm::BK_OF<T>, EPI = pwgemm::EPI_OF<T>, E = (int)sizeof(T);
    const int kPad = (cin + 31) / 32 * 32, kTiles = ceil_div(kPad, BK);
    // y's rows after the chunk (a later chunk's) must stay untouched; the library's chunks before the last are whole
    // 128-row tiles (SeparableGemmPath), the only case in which the 64-row store boxes cannot reach past them
    const long long M = row0 + rows + (rows % 64 == 0 ? 70 : 0);
    const std::string tag = std::string("pwgemm_wgmma_") + type_name<T>() + "_n" + std::to_string(BN) + " rows " + std::to_string(rows) +
                            " cin " + std::to_string(cin) + " cout " + std::to_string(cout) + " row0 " + std::to_string(row0) + " grid " +
                            std::to_string(grid) + (epilogue ? " scale/shift/residual/relu" : "");
    std::vector<T> a = random_tensor<T>((size_t)rows * kPad, -1, 1);
    for (int r = 0; r < rows; r++) for (int k = cin; k < kPad; k++) a[(size_t)r * kPad + k] = from_f32<T>(0.f);  // as sepgemm_dw writes the padding
    std::vector<float> w2((size_t)cin * cout), scale(cout), shift(cout);
    for (float& v : w2) v = (float)((uniform() - 0.5) * 0.3);
    for (int c = 0; c < cout; c++) { scale[c] = (float)(0.5 + uniform()); shift[c] = (float)(uniform() - 0.5); }
    std::vector<T> bt((size_t)cout * kPad, from_f32<T>(NAN));
    host_launch(4, 1, JX_THREADS, [&] { pack_bt_kernel<T>()(w2.data(), bt.data(), cin, cout, kPad); });
    std::vector<T> residual = random_tensor<T>((size_t)M * cout, -1, 1);
    const T poison = from_f32<T>(12345.f);
    std::vector<T> y((size_t)M * cout, poison);

    CUtensorMap tmA, tmB, tmY;
    hopper::host_encode_tensor_map(&tmA, a.data(), E, kPad, rows, (long long)kPad * E, BK, std::min(128, rows));
    hopper::host_encode_tensor_map(&tmB, bt.data(), E, kPad, cout, (long long)kPad * E, BK, std::min(BN, cout));
    hopper::host_encode_tensor_map(&tmY, y.data(), E, cout, M, (long long)cout * E, EPI, 64);
    const unsigned stageBytes = 128u * (unsigned)(std::min(128, rows) + std::min(BN, cout));
    host_launch(grid, 1, pwgemm::THREADS, [&] {
        Gemm<T, BN>::run(tmA, tmB, tmY, epilogue ? scale.data() : nullptr, epilogue ? shift.data() : nullptr, epilogue ? residual.data() : nullptr,
                         rows, cout, kTiles, row0, epilogue ? 1 : 0, stageBytes, nullptr, 20'000'000'000ull);
    }, pwgemm::Config<BN>::SMEM);

    double num = 0, den = 0;
    bool outside = true, finite = true;
    for (long long m = 0; m < M; m++) {
        for (int c = 0; c < cout; c++) {
            const T got = y[(size_t)m * cout + c];
            if (m < row0 || m >= row0 + rows) { outside &= memcmp(&got, &poison, sizeof(T)) == 0; continue; }
            const long long r = m - row0;
            double z = 0;
            for (int k = 0; k < kPad; k++) z += (double)to_f32(a[(size_t)r * kPad + k]) * to_f32(bt[(size_t)c * kPad + k]);
            double ref = z;
            if (epilogue) {
                ref = z * scale[c] + shift[c] + to_f32(residual[(size_t)m * cout + c]);
                if (ref < 0) ref = 0;
            }
            const double g = to_f32(got);
            finite &= std::isfinite(g) && g != 12345.0;
            num += (g - ref) * (g - ref);
            den += ref * ref;
        }
    }
    const double err = std::sqrt(num / den);
    // 16-bit: one rounding of the output; tf32: A truncated to 10 mantissa bits (relative 2^-10 per product, ~2^-11 rms)
    const double bound = std::is_same<T, __nv_bfloat16>::value ? 8e-3 : std::is_same<T, __half>::value ? 1.5e-3 : 2e-3;
    char line[220];
    snprintf(line, sizeof line, "%s: rel err %.2e < %.0e, every row in the chunk written, none outside", tag.c_str(), err, bound);
    check(finite && outside && err < bound, line);
}

template <typename T, int BN, int PWG> struct Fused;
template <int BN, int PWG> struct Fused<__nv_bfloat16, BN, PWG> {
    static void run(const CUtensorMap& tmB, const CUtensorMap& tmY, const __nv_bfloat16* x, const float* dw, const float* scale, const float* shift,
                    const __nv_bfloat16* residual, int rows, int h, int w, int cin, int cout, int kTiles, int preRelu, int postRelu, unsigned bBytes) {
        if constexpr (PWG == 1 && BN == 256) sepconv_wgmma_bf16_n256(tmB, tmY, x, dw, scale, shift, residual, rows, h, w, cin, cout, kTiles, preRelu, postRelu, bBytes, nullptr, 20'000'000'000ull);
        else if constexpr (PWG == 1) sepconv_wgmma_bf16_n128(tmB, tmY, x, dw, scale, shift, residual, rows, h, w, cin, cout, kTiles, preRelu, postRelu, bBytes, nullptr, 20'000'000'000ull);
        else sepwgmma::sepconv_wgmma<__nv_bfloat16, BN, PWG>(tmB, tmY, x, dw, scale, shift, residual, rows, h, w, cin, cout, kTiles, preRelu, postRelu, bBytes, nullptr, 20'000'000'000ull);
    }
};
template <int BN, int PWG> struct Fused<__half, BN, PWG> {
    static void run(const CUtensorMap& tmB, const CUtensorMap& tmY, const __half* x, const float* dw, const float* scale, const float* shift,
                    const __half* residual, int rows, int h, int w, int cin, int cout, int kTiles, int preRelu, int postRelu, unsigned bBytes) {
        if constexpr (PWG == 1 && BN == 256) sepconv_wgmma_fp16_n256(tmB, tmY, x, dw, scale, shift, residual, rows, h, w, cin, cout, kTiles, preRelu, postRelu, bBytes, nullptr, 20'000'000'000ull);
        else if constexpr (PWG == 1) sepconv_wgmma_fp16_n128(tmB, tmY, x, dw, scale, shift, residual, rows, h, w, cin, cout, kTiles, preRelu, postRelu, bBytes, nullptr, 20'000'000'000ull);
        else sepwgmma::sepconv_wgmma<__half, BN, PWG>(tmB, tmY, x, dw, scale, shift, residual, rows, h, w, cin, cout, kTiles, preRelu, postRelu, bBytes, nullptr, 20'000'000'000ull);
    }
};
template <typename T> constexpr auto split_dw_kernel() {
    if constexpr (std::is_same<T, __nv_bfloat16>::value) return sepgemm_dw_bf16;
    else return sepgemm_dw_fp16;
}

// The fused separable conv against the split path it must equal bit for bit (A = sepgemm_dw, then pwgemm's GEMM),
// and against float64 (depthwise in float64 on the 16-bit x, pointwise on the 16-bit-rounded A).
template <typename T, int BN, int PWG>
void fused_separable(int n, int h, int w, int cin, int cout, int grid) {
    constexpr int E = (int)sizeof(T);
    const int rows = n * h * w, kPad = (cin + 31) / 32 * 32, kTiles = ceil_div(kPad, pwgemm::BK);
    const std::string tag = std::string("sepconv_wgmma_") + type_name<T>() + "_n" + std::to_string(BN) + (PWG == 2 ? " (PWG 2)" : "") + " " +
                            std::to_string(n) + "x" + std::to_string(h) + "x" + std::to_string(w) + " cin " + std::to_string(cin) + " cout " +
                            std::to_string(cout) + " grid " + std::to_string(grid);
    std::vector<T> x = random_tensor<T>((size_t)rows * cin, -1, 1), residual = random_tensor<T>((size_t)rows * cout, -1, 1);
    std::vector<float> dw((size_t)9 * cin), w2((size_t)cin * cout), scale(cout), shift(cout);
    for (float& v : dw) v = (float)(uniform() - 0.5);
    for (float& v : w2) v = (float)((uniform() - 0.5) * 0.3);
    for (int c = 0; c < cout; c++) { scale[c] = (float)(0.5 + uniform()); shift[c] = (float)(uniform() - 0.5); }
    std::vector<T> bt((size_t)cout * kPad, from_f32<T>(NAN));
    host_launch(4, 1, JX_THREADS, [&] { pack_bt_kernel<T>()(w2.data(), bt.data(), cin, cout, kPad); });

    // split: A (rows, kPad) by sepgemm_dw, then the wgmma GEMM
    std::vector<T> a((size_t)rows * kPad, from_f32<T>(NAN)), ySplit((size_t)rows * cout, from_f32<T>(NAN)), yFused = ySplit;
    host_launch(8, 1, JX_THREADS, [&] { split_dw_kernel<T>()(x.data(), dw.data(), a.data(), h, w, cin, kPad, 0, rows, 1); });
    CUtensorMap tmA, tmB, tmYs, tmYf;
    hopper::host_encode_tensor_map(&tmA, a.data(), E, kPad, rows, (long long)kPad * E, 64, std::min(128, rows));
    hopper::host_encode_tensor_map(&tmB, bt.data(), E, kPad, cout, (long long)kPad * E, 64, std::min(BN, cout));
    hopper::host_encode_tensor_map(&tmYs, ySplit.data(), E, cout, rows, (long long)cout * E, 64, 64);
    hopper::host_encode_tensor_map(&tmYf, yFused.data(), E, cout, rows, (long long)cout * E, 64, 64);
    const unsigned stageBytes = 128u * (unsigned)(std::min(128, rows) + std::min(BN, cout));
    host_launch(grid, 1, pwgemm::THREADS, [&] {
        pwgemm::gemm<T, BN>(&tmA, &tmB, &tmYs, scale.data(), shift.data(), residual.data(), rows, cout, kTiles, 0, 1, stageBytes, nullptr, 20'000'000'000ull);
    }, pwgemm::Config<BN>::SMEM);
    const unsigned bBytes = 2u * 64u * (unsigned)std::min(BN, cout);
    host_launch(grid, 1, sepwgmma::Roles<PWG>::THREADS, [&] {
        Fused<T, BN, PWG>::run(tmB, tmYf, x.data(), dw.data(), scale.data(), shift.data(), residual.data(), rows, h, w, cin, cout, kTiles, 1, 1, bBytes);
    }, sepwgmma::Config<BN>::SMEM);

    double num = 0, den = 0;
    bool finite = true;
    for (int m = 0; m < rows; m++) {
        const int ox = m % w, oy = (m / w) % h, ni = m / (w * h);
        std::vector<double> arow(kPad, 0.0);
        for (int k = 0; k < cin; k++) {
            double s = 0;
            for (int t = 0; t < 9; t++) {
                const int iy = oy + t / 3 - 1, ix = ox + t % 3 - 1;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                s += std::max(0.0, (double)to_f32(x[(((size_t)ni * h + iy) * w + ix) * cin + k])) * dw[(size_t)t * cin + k];
            }
            arow[k] = to_f32(from_f32<T>((float)s));
        }
        for (int c = 0; c < cout; c++) {
            double z = 0;
            for (int k = 0; k < kPad; k++) z += arow[k] * to_f32(bt[(size_t)c * kPad + k]);
            double ref = z * scale[c] + shift[c] + to_f32(residual[(size_t)m * cout + c]);
            if (ref < 0) ref = 0;
            const double g = to_f32(yFused[(size_t)m * cout + c]);
            finite &= std::isfinite(g);
            num += (g - ref) * (g - ref);
            den += ref * ref;
        }
    }
    const double err = std::sqrt(num / den), bound = std::is_same<T, __nv_bfloat16>::value ? 1e-2 : 2e-3;
    char line[240];
    snprintf(line, sizeof line, "%s: == split (sepgemm_dw + wgmma GEMM) bit for bit, rel err %.2e < %.0e", tag.c_str(), err, bound);
    check(finite && memcmp(ySplit.data(), yFused.data(), ySplit.size() * sizeof(T)) == 0 && err < bound, line);
}

template <typename T, int BN> constexpr auto wgrad_kernel() {
    if constexpr (std::is_same<T, __nv_bfloat16>::value) { if constexpr (BN == 256) return pwbwd_wgrad_wgmma_bf16_n256; else return pwbwd_wgrad_wgmma_bf16_n128; }
    else { if constexpr (BN == 256) return pwbwd_wgrad_wgmma_f16_n256; else return pwbwd_wgrad_wgmma_f16_n128; }
}

// partial[s] (cin, cout) = d^T . dz over the rows of split s; both operands pixel-major, read MN-major by wgmma.
template <typename T, int BN>
void weight_gradient(int M, int cin, int cout, int rowsPerSplit, int grid) {
    constexpr int E = (int)sizeof(T);
    const int splits = ceil_div(M, rowsPerSplit);
    const std::string tag = std::string("pwbwd_wgrad_wgmma_") + (std::is_same<T, __half>::value ? "f16" : "bf16") + "_n" + std::to_string(BN) + " M " +
                            std::to_string(M) + " cin " + std::to_string(cin) + " cout " + std::to_string(cout) + ", " + std::to_string(splits) +
                            " splits of " + std::to_string(rowsPerSplit) + ", grid " + std::to_string(grid);
    std::vector<T> d = random_tensor<T>((size_t)M * cin, -1, 1), dz = random_tensor<T>((size_t)M * cout, -1, 1);
    std::vector<float> partial((size_t)splits * cin * cout, NAN);
    CUtensorMap tmD, tmDz;
    hopper::host_encode_tensor_map(&tmD, d.data(), E, cin, M, (long long)cin * E, 64, 64);
    hopper::host_encode_tensor_map(&tmDz, dz.data(), E, cout, M, (long long)cout * E, 64, 64);
    host_launch(grid, 1, pwbwdh::THREADS, [&] {
        wgrad_kernel<T, BN>()(tmD, tmDz, partial.data(), M, cin, cout, rowsPerSplit, splits, nullptr, 20'000'000'000ull);
    }, pwbwdh::Config<BN>::SMEM);
    double num = 0, den = 0;
    bool finite = true;
    for (int sp = 0; sp < splits; sp++)
        for (int c = 0; c < cin; c++)
            for (int k = 0; k < cout; k++) {
                double ref = 0;
                for (int m = sp * rowsPerSplit; m < std::min(M, (sp + 1) * rowsPerSplit); m++)
                    ref += (double)to_f32(d[(size_t)m * cin + c]) * to_f32(dz[(size_t)m * cout + k]);
                const double g = partial[((size_t)sp * cin + c) * cout + k];
                finite &= std::isfinite(g);
                num += (g - ref) * (g - ref);
                den += ref * ref;
            }
    const double err = std::sqrt(num / den);
    char line[240];
    snprintf(line, sizeof line, "%s: every split's partial, rel err %.2e < 1e-05", tag.c_str(), err);
    check(finite && err < 1e-5, line);
}

}  // namespace

int main(int argc, char** argv) {
    return host_main(argc, argv, "hopper", [] {
        // BN 256: 2 x 2 tiles on 3 CTAs (the first walks tiles 0 and 3), cout 264 (a 8-column second tile), K 2 stages
        pointwise_gemm<__nv_bfloat16, 256>(200, 100, 264, 0, 3, true);
        pointwise_gemm<__half, 256>(200, 100, 264, 0, 3, true);
        // BN 128: a chunk at row0 64 of y, 2 x 2 tiles on 2 CTAs, no epilogue; K 3 stages with a zero-padded tail
        pointwise_gemm<__nv_bfloat16, 128>(130, 160, 136, 64, 2, false);
        pointwise_gemm<__half, 128>(130, 160, 136, 64, 2, true);
        pointwise_gemm<__nv_bfloat16, 128>(256, 72, 64, 128, 3, true);   // a chunk that is not y's last: 70 rows after it stay untouched
        // tf32: 32-wide K stages (3 here) and 32-column epilogue chunks
        pointwise_gemm<float, 256>(150, 90, 72, 0, 1, true);
        pointwise_gemm<float, 128>(100, 40, 200, 8, 2, true);
        // the fused separable conv: PWG 1 at both widths (the library's), PWG 2 (the dev variant)
        fused_separable<__nv_bfloat16, 128, 1>(2, 9, 7, 72, 136, 2);    // 126 rows (one partial m tile), 2 n tiles, K 96 (a zero tail)
        fused_separable<__half, 256, 1>(1, 12, 11, 64, 264, 2);         // 132 rows (2 m tiles), 2 n tiles of 256
        fused_separable<__nv_bfloat16, 128, 2>(1, 10, 13, 48, 64, 1);   // 130 rows on one CTA, 512 threads
        // Xception's middle flow at batch 1 (19 x 19 x 728 -> 728): 12 K stages per tile, so the 3- and 4-stage rings
        // wrap several times within a tile, 3 x 3 tiles of 256 columns (the last 216 wide) on 4 CTAs
        pointwise_gemm<__nv_bfloat16, 256>(361, 728, 728, 0, 4, true);
        fused_separable<__nv_bfloat16, 256, 1>(1, 19, 19, 728, 728, 4);
        weight_gradient<__nv_bfloat16, 256>(361, 728, 728, 128, 5);
        // the weight gradient on wgmma: partial boxes past cin / cout / M, several splits per CTA
        weight_gradient<__nv_bfloat16, 128>(300, 136, 72, 128, 2);   // 2 cin tiles (the second 8 wide), 3 splits (the last 44 rows)
        weight_gradient<__half, 256>(200, 64, 264, 64, 3);           // 2 cout tiles (256 + 8), 4 splits
    });
}
