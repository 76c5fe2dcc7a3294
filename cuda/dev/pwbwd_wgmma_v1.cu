// pwbwd_wgmma v1: the pointwise convolution's weight gradient dW2 = d^T . dz on Hopper's wgmma with both
// operands MN-major (issue 13: "pointwise backward on tensor cores ... Hopper wgmma where available").
//
// The kernels are the library module cuda/hopper_pwbwd.cu (its header has the contract, tiles, roles and
// requirements): pwbwd_wgrad_wgmma_<t>_n<BN>, finished by cuda/pwbwd.cu's pwbwd_reduce like the mma.sync
// pwbwd_wgrad_<t>. This program includes pwbwd_v1.cu (PWBWD_NO_MAIN) for its problem buffers, references
// (the fp64 GPU reference of every element, float64 CPU rows), poisoned-output checks with guard regions, the
// mma.sync and FFMA launches, the layer list and the timer, so the wgmma rows sit beside exactly pwbwd-1's.
//
// The new part that no GPU-less build can check is the MN-major shared-memory addressing: TMA lands each
// (64 pixels x 64 channels) box with the 128-byte swizzle, wgmma reads it through desc_mn_major_sw128 with the
// transpose immediates set. `pwbwd_wgmma_v1 host` checks on the CPU, for every stage, k16 step, warpgroup and
// element of both operands and both BN, that the address the descriptor's canonical MN-major layout
// ((8, n), (8, k)) : ((1, LBO), (8, SBO)) in 16-byte units, then the Swizzle<3,4,3> of the address bits,
// names is the address where the TMA box put that element (pwbwdh::tma_offset); it also checks the producer's
// box counts and armed byte counts against the boxes it issues, for every tile of the check and table shapes.
//
// What main does on the GPU (CHECK lines; NaN-poisoned dW2 and partials, guard regions after both):
//   every check shape: wgmma with its own split rule, one split (dW2 written directly), 64-row splits (the
//   smallest), a bitwise repeat; each against the fp64 GPU reference on every element and float64 CPU rows,
//   bounds as pwbwd_v1's wgrad (1e-3 relative L2, 4e-3 max: only the fp32 summation order differs from the
//   reference's; a lost or doubled 64-row box changes a sum of M random-sign terms by >= 1/sqrt(M) ~ 7e-3);
//   and the mma.sync kernel on the same buffers for comparison.
// Shapes: cin 64 (the second warpgroup's A box is never loaded), cout 72 (a B box 8/64 valid), cin/cout 728
// (the last boxes 24/64 valid), M = 100 (one stage, rows 100..127 zero-filled), M % 64 != 0, 1536 x 2048
// (BN 256, 6 x 8 tiles), fp16 and bf16.
// TABLE lines: every pointwise GEMM of Xception's separable convs at batch 128 and 32 (pwbwd_v1's LAYERS),
// bf16: mma.sync wgrad (+ reduce) vs wgmma wgrad (+ reduce), ms, TFLOP/s, % of the 989 TFLOP/s dense peak,
// speedup, splits; a RESULT line with the count-weighted wgrad time per training step, old vs new.
// Exit status: 0 all checks passed, 2 a numerical check failed (timings still run), 1 a CUDA error (a trapped
// mbarrier wait prints which wait hung).
//
// device-build: -gencode arch=compute_90a,code=sm_90a
//   nvcc -std=c++17 -O3 --Werror all-warnings -Xptxas -Werror -gencode arch=compute_90a,code=sm_90a \
//        -o pwbwd_wgmma_v1 cuda/dev/pwbwd_wgmma_v1.cu
// Run: ./pwbwd_wgmma_v1 [all | check | small | time] [batches, default 128,32];  ./pwbwd_wgmma_v1 host: CPU only
#define PWBWD_NO_MAIN
#include "pwbwd_v1.cu"
#include "../hopper_pwbwd.cu"
#include "dev_tensor_map.cuh"
#include <map>
#include <tuple>

static hopper::HangInfo* g_hang = nullptr;  // host-mapped: survives a trapped kernel
static hopper::HangInfo* g_hangDev = nullptr;
static const unsigned long long HANG_NS = 2000000000ull;

// ------------------------------------------------------------------ host rules (the library's copy goes with the integration)
static int bn_for(int cout) { return cout > 128 ? 256 : 128; }
static bool wgmma_supported(int M, int cin, int cout) { return cin % 8 == 0 && cout % 8 == 0 && cin >= 64 && cout >= 64 && M >= 64; }
// One CTA per SM, rows per split a multiple of 64 (no box crosses a split): pwbwd_v1's split_search
// (HopperWeightGradient.splits is the library's copy).
static int wgmma_rows_per_split(int M, int cin, int cout) {
    const int bn = bn_for(cout);
    const long long tiles = (long long)((cin + pwbwdh::BM - 1) / pwbwdh::BM) * ((cout + bn - 1) / bn);
    return split_search(M, tiles, cin, cout, g_sms, pwbwdh::BK);
}

// ------------------------------------------------------------------ host emulation (no GPU needed)
static int g_hostChecks = 0, g_hostFailures = 0;
// The shared-memory address wgmma reads for element (mn, k) of one k16 operand (16-bit), from the descriptor:
// the canonical MN-major layout with 128-byte swizzle, ((8, n), (8, k)) : ((1, LBO), (8, SBO)) in 16-byte units
// (8 elements each), then Swizzle<3,4,3>: address bits [4, 7) ^= bits [7, 10).
static uint32_t descriptor_address(uint64_t desc, int mn, int k) {
    const uint32_t start = (uint32_t)(desc & 0x3FFF) << 4, lbo = (uint32_t)((desc >> 16) & 0x3FFF) << 4, sbo = (uint32_t)((desc >> 32) & 0x3FFF) << 4;
    const int layout = (int)(desc >> 62);
    if (layout != 1) return 0xFFFFFFFFu;  // not the 128-byte swizzle
    const uint32_t unit = (uint32_t)mn / 8, chunk = unit % 8, atom = unit / 8, row = (uint32_t)k % 8, group = (uint32_t)k / 8;
    const uint32_t a = start + atom * lbo + group * sbo + row * 128u + chunk * 16u + ((uint32_t)mn % 8) * 2u;
    return a ^ (((a >> 7) & 7u) << 4);
}
template <int BN>
static void host_check_addressing(uint32_t smemBase) {
    using C = pwbwdh::Config<BN>;
    long long checked = 0, bad = 0;
    const uint32_t sA = smemBase, sB = sA + C::STAGES * C::A_BYTES;
    for (int stage = 0; stage < C::STAGES; stage++) {
        for (int ks = 0; ks < pwbwdh::K_STEPS; ks++) {
            // A: each consumer warpgroup's 64 rows of D are cin [64 wg, 64 wg + 64): box wg of the stage
            for (int wg = 0; wg < 2; wg++) {
                const uint64_t da = hopper::desc_mn_major_sw128(sA + stage * C::A_BYTES + wg * pwbwdh::BOX_BYTES, pwbwdh::BOX_BYTES) +
                                    (pwbwdh::STEP_BYTES >> 4) * ks;
                for (int m = 0; m < 64; m++)
                    for (int k = 0; k < 16; k++, checked++)
                        bad += descriptor_address(da, m, k) != sA + stage * C::A_BYTES + pwbwdh::tma_offset(64 * wg + m, 16 * ks + k);
            }
            const uint64_t db = hopper::desc_mn_major_sw128(sB + stage * C::B_BYTES, pwbwdh::BOX_BYTES) + (pwbwdh::STEP_BYTES >> 4) * ks;
            for (int n = 0; n < BN; n++)
                for (int k = 0; k < 16; k++, checked++) bad += descriptor_address(db, n, k) != sB + stage * C::B_BYTES + pwbwdh::tma_offset(n, 16 * ks + k);
        }
    }
    // every address of a stage is read exactly once per k16 step: the map is a bijection onto the stage's bytes
    std::vector<int> hits(C::B_BYTES / 2, 0);
    const uint64_t db0 = hopper::desc_mn_major_sw128(sB, pwbwdh::BOX_BYTES);
    for (int ks = 0; ks < pwbwdh::K_STEPS; ks++)
        for (int n = 0; n < BN; n++)
            for (int k = 0; k < 16; k++) {
                const uint32_t a = descriptor_address(db0 + (pwbwdh::STEP_BYTES >> 4) * ks, n, k) - sB;
                if (a < (uint32_t)C::B_BYTES) hits[a / 2]++;
            }
    long long notOnce = 0;
    for (int h : hits) notOnce += h != 1;
    const bool ok = bad == 0 && notOnce == 0 && checked > 0;
    printf("CHECK  host addressing BN=%-3d smem base 0x%05x: %lld elements (stages x k16 steps x A, B), descriptor != TMA placement %lld,"
           " B stage bytes not read exactly once %lld  %s\n", BN, smemBase, checked, bad, notOnce, ok ? "OK" : "FAIL");
    g_hostChecks++;
    if (!ok) g_hostFailures++;
}
// The producer's boxes per tile against the tile's channels: every channel < cin (cout) of the tile is in a loaded
// box, no loaded box starts at or past cin (cout), and the armed byte count equals the loaded boxes' bytes.
static void host_check_boxes(int cin, int cout) {
    const int bn = bn_for(cout);
    long long tiles = 0, bad = 0;
    for (int m0 = 0; m0 < cin; m0 += pwbwdh::BM)
        for (int n0 = 0; n0 < cout; n0 += bn, tiles++) {
            const int aBoxes = std::min(pwbwdh::BM / pwbwdh::BOX_CH, (cin - m0 + pwbwdh::BOX_CH - 1) / pwbwdh::BOX_CH);
            const int bBoxes = std::min(bn / pwbwdh::BOX_CH, (cout - n0 + pwbwdh::BOX_CH - 1) / pwbwdh::BOX_CH);
            bad += m0 + aBoxes * pwbwdh::BOX_CH < std::min(cin, m0 + pwbwdh::BM);  // a channel of the tile not loaded
            bad += n0 + bBoxes * pwbwdh::BOX_CH < std::min(cout, n0 + bn);
            bad += m0 + (aBoxes - 1) * pwbwdh::BOX_CH >= cin || n0 + (bBoxes - 1) * pwbwdh::BOX_CH >= cout;  // a box wholly outside
            bad += aBoxes < 1 || bBoxes < 1;
        }
    const bool ok = bad == 0;
    printf("CHECK  host boxes cin=%-4d cout=%-4d BN=%d: %lld tiles, wrong box counts %lld  %s\n", cin, cout, bn, tiles, bad, ok ? "OK" : "FAIL");
    g_hostChecks++;
    if (!ok) g_hostFailures++;
}
static int host_main() {
    for (uint32_t base : {0x00000u, 0x00400u, 0x01c00u}) {  // the dynamic shared memory, 1024-byte aligned by the kernel
        host_check_addressing<256>(base);
        host_check_addressing<128>(base);
    }
    const int shapes[][2] = {{64, 72}, {64, 128}, {128, 128}, {128, 256}, {256, 256}, {256, 728}, {728, 728}, {728, 1024}, {1024, 1536}, {1536, 2048}, {72, 64}};
    for (const auto& s : shapes) host_check_boxes(s[0], s[1]);
    printf("RESULT pwbwd_wgmma_v1 host %s: %d checks, %d failed\n", g_hostFailures ? "FAILED" : "OK", g_hostChecks, g_hostFailures);
    return g_hostFailures ? 2 : 0;
}

// ------------------------------------------------------------------ launches
template <typename T, int BN> static auto wgmma_wgrad_kernel() {
    if constexpr (std::is_same<T, __nv_bfloat16>::value) return BN == 256 ? pwbwd_wgrad_wgmma_bf16_n256 : pwbwd_wgrad_wgmma_bf16_n128;
    else return BN == 256 ? pwbwd_wgrad_wgmma_f16_n256 : pwbwd_wgrad_wgmma_f16_n128;
}
// Tensor maps of one problem's d and dz, made once per (buffers, shape): the same key gives the same map.
struct Maps { CUtensorMap d, dz; };
static std::map<std::tuple<const void*, const void*, int, int, int>, Maps> g_maps;
template <typename T>
static const Maps& maps_for(const Bwd<T>& b) {
    auto key = std::make_tuple((const void*)b.d, (const void*)b.dz, b.M, b.cin, b.cout);
    auto it = g_maps.find(key);
    if (it == g_maps.end())
        it = g_maps.emplace(key, Maps{tensor_map<T>(b.d, b.M, b.cin, pwbwdh::BK, pwbwdh::BOX_CH), tensor_map<T>(b.dz, b.M, b.cout, pwbwdh::BK, pwbwdh::BOX_CH)}).first;
    return it->second;
}
template <typename T, int BN>
static void launch_wgmma_bn(const Bwd<T>& b, int rps) {
    static bool attr = false;
    if (!attr) { CK(cudaFuncSetAttribute(wgmma_wgrad_kernel<T, BN>(), cudaFuncAttributeMaxDynamicSharedMemorySize, pwbwdh::Config<BN>::SMEM)); attr = true; }
    const int splits = splits_of(b.M, rps);
    const int tiles = ((b.cin + pwbwdh::BM - 1) / pwbwdh::BM) * ((b.cout + BN - 1) / BN);
    const Maps& m = maps_for(b);
    wgmma_wgrad_kernel<T, BN>()<<<std::min(tiles * splits, g_sms), pwbwdh::THREADS, pwbwdh::Config<BN>::SMEM>>>(
        m.d, m.dz, splits == 1 ? b.dw2 : b.partial, b.M, b.cin, b.cout, rps, splits, g_hangDev, HANG_NS);
}
// rowsPerSplit <= 0: this file's split rule. One split writes dW2 directly.
template <typename T>
static void launch_wgmma_wgrad(const Bwd<T>& b, int rowsPerSplit = 0) {
    if (!wgmma_supported(b.M, b.cin, b.cout)) { fprintf(stderr, "ERROR  wgmma wgrad does not take M=%d cin=%d cout=%d\n", b.M, b.cin, b.cout); exit(1); }
    const int rps = rowsPerSplit > 0 ? rowsPerSplit : wgmma_rows_per_split(b.M, b.cin, b.cout);
    if (rps % pwbwdh::BK != 0) { fprintf(stderr, "ERROR  rowsPerSplit %d is not a multiple of %d\n", rps, pwbwdh::BK); exit(1); }
    const int splits = splits_of(b.M, rps);
    if ((size_t)splits * b.wElems() > b.partialElems) { fprintf(stderr, "ERROR  %d splits: partial buffer too small\n", splits); exit(1); }
    if (bn_for(b.cout) == 256) launch_wgmma_bn<T, 256>(b, rps); else launch_wgmma_bn<T, 128>(b, rps);
    if (splits > 1) pwbwd_reduce<<<grid_for(b.wElems() / 4), 256>>>(b.partial, b.dw2, splits, (long long)b.wElems());
}
// After a failed launch: where an mbarrier wait hung (the kernel traps after HANG_NS in one wait).
static void report_hang_if_any() {
    if (g_hang && g_hang->hung)
        fprintf(stderr, "ERROR  mbarrier wait timed out: %s, block %d, work item %d, k block %d, stage %d, parity %d\n",
                g_hang->role == 0 ? "producer waiting for an empty stage" : g_hang->role == 1 ? "consumer 0 waiting for a full stage"
                                                                                                : "consumer 1 waiting for a full stage",
                g_hang->block, g_hang->tile, g_hang->kb, g_hang->stage, g_hang->parity);
}
// Launch and synchronise here, so that a trapped wait is reported before pwbwd_v1's sync_or_die exits.
template <typename T>
static void launch_wgmma_checked(const Bwd<T>& b, int rowsPerSplit = 0) {
    launch_wgmma_wgrad(b, rowsPerSplit);
    cudaError_t e = cudaGetLastError();
    if (e == cudaSuccess) e = cudaDeviceSynchronize();
    if (e != cudaSuccess) {
        report_hang_if_any();
        fprintf(stderr, "ERROR  wgmma wgrad M=%d cin=%d cout=%d: %s\n", b.M, b.cin, b.cout, cudaGetErrorString(e));
        printf("RESULT pwbwd_wgmma_v1 FAILED: %s\n", cudaGetErrorString(e));
        exit(1);
    }
}

// ------------------------------------------------------------------ checks
template <typename T>
static void check_wgmma_shape(int M, int cin, int cout, bool small = false) {
    const int maxS = std::max({max_splits<T>(M, cin, cout), splits_of(M, wgmma_rows_per_split(M, cin, cout)), splits_of(M, pwbwdh::BK)});
    Bwd<T> b = make_bwd<T>(M, cin, cout, false, maxS);
    float* refDev;
    CK(cudaMalloc(&refDev, b.wElems() * 4));
    wgrad_reference<T><<<dim3((cout + 255) / 256, cin), 256>>>(b.d, b.dz, refDev, M, cin, cout);
    sync_or_die("wgrad_reference");
    std::vector<float> ref = download(refDev, b.wElems());
    CK(cudaFree(refDev));
    const int splits = splits_of(M, wgmma_rows_per_split(M, cin, cout));
    std::vector<float> w1 = check_wgrad("wgmma", b, ref, [&] { launch_wgmma_checked(b); }, true, splits);
    if (!small) {
        check_wgrad("wgmma 1 split", b, ref, [&] { launch_wgmma_checked(b, (M + pwbwdh::BK - 1) / pwbwdh::BK * pwbwdh::BK); }, true, 1);
        check_wgrad("wgmma 64 rows", b, ref, [&] { launch_wgmma_checked(b, pwbwdh::BK); }, false, splits_of(M, pwbwdh::BK));
        check_wgrad("mma.sync", b, ref, [&] { launch_new_wgrad(b); }, false, splits_of(M, wgrad_rows_per_split(M, cin, cout)));
        std::vector<float> w2 = check_wgrad("wgmma again", b, ref, [&] { launch_wgmma_checked(b); }, false, splits);
        check_bitwise("wgmma wgrad repeat", type_name<T>(), M, cin, cout, w1, w2);
    }
    free_bwd(b);
}

// ------------------------------------------------------------------ timing
struct WTotals { double mma = 0, wgmma = 0; };
template <typename T>
static void time_wgmma_layer(const Layer& l, int batch, WTotals& tot) {
    const int M = batch * l.hw * l.hw;
    if (!wgmma_supported(M, l.cin, l.cout)) { printf("TABLE  %s b=%-3d %-22s: not taken by the wgmma wgrad\n", type_name<T>(), batch, l.name); return; }
    const double setBytes = (double)M * (l.cin + l.cout) * sizeof(T);  // d, dz
    const int nsets = (int)std::min(8.0, std::max(1.0, std::ceil(2.0 * g_l2 / setBytes)));
    const int maxS = std::max(max_splits<T>(M, l.cin, l.cout), splits_of(M, wgmma_rows_per_split(M, l.cin, l.cout)));
    std::vector<Bwd<T>> sets;
    for (int s = 0; s < nsets; s++) sets.push_back(make_bwd<T>(M, l.cin, l.cout, false, maxS));
    const double flops = sets[0].flops();
    auto tf = [&](float ms) { return flops / (ms * 1e9); };
    const float mmaMs = time_sets(sets, [](const Bwd<T>& b) { launch_new_wgrad(b); });
    const float wgMs = time_sets(sets, [](const Bwd<T>& b) { launch_wgmma_wgrad(b); });
    const int sM = splits_of(M, wgrad_rows_per_split(M, l.cin, l.cout)), sW = splits_of(M, wgmma_rows_per_split(M, l.cin, l.cout));
    printf("TABLE  %s b=%-3d %-22s M=%-7d cin=%-4d cout=%-4d | wgrad mma.sync %7.3f ms %5.1f TF %3.0f%% (%3d splits) | wgmma BN %d %7.3f ms %5.1f TF %3.0f%%"
           " (%3d splits) | %5.2fx\n",
           type_name<T>(), batch, l.name, M, l.cin, l.cout, mmaMs, tf(mmaMs), 100 * tf(mmaMs) / PEAK_TFLOPS, sM, bn_for(l.cout), wgMs, tf(wgMs),
           100 * tf(wgMs) / PEAK_TFLOPS, sW, mmaMs / wgMs);
    tot.mma += l.count * mmaMs;
    tot.wgmma += l.count * wgMs;
    for (auto& b : sets) free_bwd(b);
    g_maps.clear();  // the freed buffers' maps
}

int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "all";
    if (mode == "host") return host_main();  // CPU only: no device is touched
    const std::vector<int> batches = parse_int_list(argc > 2 ? argv[2] : "128,32");
    if ((mode != "all" && mode != "check" && mode != "small" && mode != "time") || batches.empty()) {
        fprintf(stderr, "usage: pwbwd_wgmma_v1 [all | check | small | time | host] [batches, e.g. 128,32]\n");
        return 1;
    }
    if (device_init() != 9) {
        printf("RESULT pwbwd_wgmma_v1 FAILED: wgmma needs a compute capability 9.0 device\n");
        return 1;
    }
    CK(cudaHostAlloc(&g_hang, sizeof(hopper::HangInfo), cudaHostAllocMapped));
    memset(g_hang, 0, sizeof(hopper::HangInfo));
    CK(cudaHostGetDevicePointer(&g_hangDev, g_hang, 0));
    init_tensor_map_encoder();
    CK(cudaFuncSetAttribute(pwbwd_wgrad_bf16, cudaFuncAttributeMaxDynamicSharedMemorySize, pwbwd::WGRAD_SMEM));
    CK(cudaFuncSetAttribute(pwbwd_wgrad_f16, cudaFuncAttributeMaxDynamicSharedMemorySize, pwbwd::WGRAD_SMEM));
    CK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&g_wgradBlocksPerSm, pwbwd_wgrad_bf16, JX_THREADS, pwbwd::WGRAD_SMEM));
    printf("INFO   wgmma wgrad: %d threads, shared memory BN 256 %d bytes, BN 128 %d bytes; mma.sync wgrad %d blocks per SM\n", pwbwdh::THREADS,
           pwbwdh::Config<256>::SMEM, pwbwdh::Config<128>::SMEM, g_wgradBlocksPerSm);

    if (mode == "small") {  // for compute-sanitizer: small shapes, once each
        check_wgmma_shape<__nv_bfloat16>(300, 64, 72, true);
        check_wgmma_shape<__half>(200, 136, 264, true);
    }
    if (mode == "all" || mode == "check") {
        check_wgmma_shape<__nv_bfloat16>(1000, 64, 72);       // M % 64 != 0, cin 64 (warpgroup 1's box never loaded), cout 72 (a box 8/64 valid)
        check_wgmma_shape<__nv_bfloat16>(3000, 728, 728);     // the last boxes 24/64 valid, BN 256 with a 2.84-tile N
        check_wgmma_shape<__nv_bfloat16>(11552, 728, 728);    // middle flow at batch 32: several splits
        check_wgmma_shape<__nv_bfloat16>(21609, 64, 128);     // block2_sepconv1 at batch 1: BN 128, many splits
        check_wgmma_shape<__nv_bfloat16>(3200, 1536, 2048);   // block14_sepconv2 at batch 32: 12 x 8 tiles
        check_wgmma_shape<__nv_bfloat16>(100, 1024, 1536);    // M < 2 boxes: one stage, rows 100..127 zero-filled
        check_wgmma_shape<__half>(3000, 728, 728);
        check_wgmma_shape<__half>(21609, 128, 128);
        printf("CHECK  summary: %d checks, %d failed\n", g_checks, g_failures);
    }
    if (mode == "all" || mode == "time") {
        for (int batch : batches) {
            WTotals t;
            for (const Layer& l : LAYERS) time_wgmma_layer<__nv_bfloat16>(l, batch, t);
            printf("RESULT pwbwd_wgmma_v1 bf16 b=%d pointwise wgrad of the 34 sepconvs per training step: mma.sync %.2f ms -> wgmma %.2f ms = %.2fx\n",
                   batch, t.mma, t.wgmma, t.mma / t.wgmma);
        }
    }
    printf("RESULT pwbwd_wgmma_v1 %s: %d checks, %d failed\n", g_failures ? "FAILED" : "OK", g_checks, g_failures);
    return g_failures ? 2 : 0;
}
