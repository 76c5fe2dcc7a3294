// The Hopper wgmma kernels, never run on a GPU yet, executed on host threads: warp-specialised producer and
// consumer warpgroups, mbarrier pipelines, TMA loads and stores with the 128-byte swizzle and wgmma from
// shared-memory descriptors, all emulated by host_threads.h + host_hopper.h, against float64.
//   pwgemm_wgmma_<bf16|fp16|tf32>_n<256|128>  (cuda/hopper_pwgemm.cu: the split sepconv's pointwise GEMM)
// Launch geometry as HopperPointwiseGemm plans it: 384 threads, Config<BN>::SMEM bytes of dynamic shared memory,
// tensor maps (A box (BK, min(128, rows)), Bt box (BK, min(BN, cout)), y box (EPI, 64)), stageBytes of both boxes;
// grids smaller than the tile count, so the persistent scheduler walks several tiles per CTA; partial tiles in
// rows, columns and (through zero-padded Bt) K.
// host-build (CudaDevHostEmulationTest): g++ -std=c++20 -O1 -pthread -Wall -Werror -Wno-unknown-pragmas -Wno-sign-compare
//     -I cuda -I <CUDA>/include -o hopper_host cuda/dev/hopper_host.cpp
// Run: ./hopper_host host     (prints CHECK lines, then RESULT ... OK or FAIL)
#include "dev/host_threads.h"
#include "hopper_pwgemm.cu"

#include <cstdio>
#include <string>

namespace {

int failures = 0;
void check(bool ok, const std::string& what) {
    printf("CHECK %-100s %s\n", what.c_str(), ok ? "OK" : "FAIL");
    if (!ok) failures++;
}

unsigned long long rng = 0x6A09E667F3BCC909ull;
double uniform() {
    rng ^= rng >> 12; rng ^= rng << 25; rng ^= rng >> 27;
    return (double)((rng * 0x2545F4914F6CDD1Dull) >> 11) * 0x1.0p-53;
}
template <typename T> std::vector<T> random_tensor(size_t count, double lo, double hi) {
    std::vector<T> v(count);
    for (T& e : v) e = from_f32<T>((float)(lo + (hi - lo) * uniform()));
    return v;
}
int ceil_div(long long a, long long b) { return (int)((a + b - 1) / b); }

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

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || std::string(argv[1]) != "host") {
        fprintf(stderr, "usage: %s host\n", argv[0]);
        return 2;
    }
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
    printf("RESULT hopper host %s (%d failed)\n", failures ? "FAIL" : "OK", failures);
    return failures ? 1 : 0;
}
