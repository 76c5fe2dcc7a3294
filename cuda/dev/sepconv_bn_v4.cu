// sepconv_bn v4: the "split" path (cuda/sepgemm.cu) beside the fused v3 kernel (cuda/conv_fwd.cu),
// bf16, at Xception's separable-conv shapes. Split = depthwise into a 16-bit A (rows, kPad) in
// global memory, then a dense 128x128x32 tensor-core GEMM (4-stage cp.async, ldmatrix, mma.sync)
// with the BN/residual/ReLU epilogue; pointwise weights packed to bf16 (kPad, nPad) once per call.
// Changes from v3: the GEMM no longer waits on the depthwise producer inside each block (v3's
// A-resident block computes 128 pixels x all of K before its first MMA, with one block per SM),
// at the price of A's round trip through memory (2 * M * kPad * 2 bytes, partly in L2 when a chunk
// of A fits in it). M is processed in chunks of `chunkMiB` of A (the library's bound, 96 MiB by
// default): this file sweeps the chunk size to choose it.
// Bytes counted (GB/s column): x read once, y written once, (residual read once), bf16; A's traffic
// is overhead, not counted, so split and fused GB/s compare the same useful work.
// Build: nvcc -O3 -std=c++17 -arch=sm_90 -o sepconv_bn_v4 sepconv_bn_v4.cu      Run: ./sepconv_bn_v4 [batch]
#include "../conv_fwd.cu"
#include "../sepgemm.cu"
#include "dev_common.cuh"
#include <cstring>

typedef void (*FusedKernel)(const void*, const float*, const float*, const float*, const float*, const void*, void*, int, int, int, int, int,
                            int, int, int, int, int);

static int g_sms = 0, g_smem = 0;

// Device-side fill (no host randn for the 1.4 GB batch-256 tensors): uniform [-a, a] from a hash.
__global__ void fill_uniform_bf16(__nv_bfloat16* p, size_t n, float a, unsigned seed) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        unsigned h = (unsigned)i * 2654435761u ^ seed;
        h ^= h >> 15; h *= 2246822519u; h ^= h >> 13; h *= 3266489917u; h ^= h >> 16;
        p[i] = __float2bfloat16_rn(a * ((h >> 8) * (2.f / 16777216.f) - 1.f));
    }
}
__global__ void fill_uniform_f32(float* p, size_t n, float a, float bias, unsigned seed) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        unsigned h = (unsigned)i * 2654435761u ^ seed;
        h ^= h >> 15; h *= 2246822519u; h ^= h >> 13; h *= 3266489917u; h ^= h >> 16;
        p[i] = bias + a * ((h >> 8) * (2.f / 16777216.f) - 1.f);
    }
}

// A producer candidate (not in the library yet): each thread makes 8 columns of PX consecutive rows
// of A, keeping the 9x8 fp32 depthwise weights of its column group in registers across the rows
// (the library's sepgemm_dw_* reloads them from L1 per row: 288 of the 432 bytes it reads per 16
// bytes written). Same per-output FMA order as the library kernel, so the results are bit-identical.
template <int PX>
__global__ void __launch_bounds__(256) depthwise_px_bf16(const __nv_bfloat16* __restrict__ x, const float* __restrict__ dw,
                                                         __nv_bfloat16* __restrict__ a, int h, int w, int cin, int kPad, long long row0,
                                                         int rows, int preRelu) {
    const int groups = kPad >> 3;
    const bool vec = (cin & 7) == 0;
    const size_t total = (size_t)((rows + PX - 1) / PX) * groups;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        const int c0 = (int)(i % groups) * 8;
        const size_t r0 = (i / groups) * PX;
        const int cnt = cin - c0;
        float wv[9][8];
#pragma unroll
        for (int t = 0; t < 9; t++) {
            if (cnt > 0) load8_any(dw + (size_t)t * cin + c0, min(8, cnt), vec, wv[t]);
            else {
#pragma unroll
                for (int j = 0; j < 8; j++) wv[t][j] = 0.f;
            }
        }
        for (int q = 0; q < PX; q++) {
            const size_t r = r0 + q;
            if (r >= (size_t)rows) break;
            float v[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
            if (cnt > 0) {
                long long pix = row0 + (long long)r;
                const int ox = (int)(pix % w);
                pix /= w;
                const int oy = (int)(pix % h);
                const long long ni = pix / h;
#pragma unroll
                for (int ky = 0; ky < 3; ky++) {
                    const int iy = oy + ky - 1;
                    if (iy < 0 || iy >= h) continue;
#pragma unroll
                    for (int kx = 0; kx < 3; kx++) {
                        const int ix = ox + kx - 1;
                        if (ix < 0 || ix >= w) continue;
                        float xv[8];
                        load8_any(x + (((size_t)ni * h + iy) * w + ix) * cin + c0, min(8, cnt), vec, xv);
#pragma unroll
                        for (int j = 0; j < 8; j++) v[j] = fmaf(preRelu ? relu(xv[j]) : xv[j], wv[ky * 3 + kx][j], v[j]);
                    }
                }
            }
            store8(a + r * kPad + c0, v);
        }
    }
}

// Device buffers of one problem.
struct Bufs {
    Problem p;
    __nv_bfloat16 *x, *y, *res, *a, *b;
    float *dw, *pw, *sc, *sh;
    long long rowsPerChunk;
    int kPad, nPad;
};

static long long rows_per_chunk(const Problem& p, int kPad, double chunkMiB) {  // SeparableGemmPath.tiling
    long long m = p.pixels();
    long long byBytes = std::max(128LL, (long long)(chunkMiB * 1048576.0) / (2LL * kPad) / 128 * 128);
    return std::min(std::min(byBytes, 65535LL * 128), m);
}

static Bufs alloc(const Problem& p, bool residual) {
    Bufs b{};
    b.p = p;
    b.kPad = (p.cin + 31) / 32 * 32;
    b.nPad = (p.cout + 127) / 128 * 128;
    size_t xs = (size_t)p.pixels() * p.cin, ys = (size_t)p.pixels() * p.cout;
    CK(cudaMalloc(&b.x, xs * 2)); CK(cudaMalloc(&b.y, ys * 2));
    b.res = nullptr;
    if (residual) CK(cudaMalloc(&b.res, ys * 2));
    CK(cudaMalloc(&b.dw, 9 * p.cin * 4)); CK(cudaMalloc(&b.pw, (size_t)p.cin * p.cout * 4));
    CK(cudaMalloc(&b.sc, p.cout * 4)); CK(cudaMalloc(&b.sh, p.cout * 4));
    CK(cudaMalloc(&b.b, (size_t)b.kPad * b.nPad * 2));
    b.a = nullptr;
    return b;
}
static void free_bufs(Bufs& b) {
    cudaFree(b.x); cudaFree(b.y); if (b.res) cudaFree(b.res); cudaFree(b.dw); cudaFree(b.pw); cudaFree(b.sc); cudaFree(b.sh); cudaFree(b.b);
    if (b.a) cudaFree(b.a);
}
static void set_chunk(Bufs& b, double chunkMiB) {
    if (b.a) CK(cudaFree(b.a));
    b.rowsPerChunk = rows_per_chunk(b.p, b.kPad, chunkMiB);
    CK(cudaMalloc(&b.a, (size_t)b.rowsPerChunk * b.kPad * 2));
}

static int grid_for(long long threads) { return (int)std::max(1LL, std::min((threads + 255) / 256, 32LL * g_sms)); }

// The split path's launches, as SeparableGemmPath.plan orders them. Returns nothing; times are taken around it.
static void run_split(const Bufs& b, bool preRelu, bool postRelu, float* msDw = nullptr, float* msGemm = nullptr) {
    const Problem& p = b.p;
    sepgemm_pack_b_bf16<<<grid_for((long long)b.kPad * b.nPad), 256>>>(b.pw, b.b, p.cin, p.cout, b.kPad, b.nPad);
    cudaEvent_t e[3];
    if (msDw) for (auto& ev : e) CK(cudaEventCreate(&ev));
    if (msDw) { *msDw = 0; *msGemm = 0; }
    for (long long row0 = 0; row0 < p.pixels(); row0 += b.rowsPerChunk) {
        int rows = (int)std::min(b.rowsPerChunk, p.pixels() - row0);
        if (msDw) CK(cudaEventRecord(e[0]));
        sepgemm_dw_bf16<<<grid_for((long long)rows * (b.kPad / 8)), 256>>>(b.x, b.dw, b.a, p.h, p.w, p.cin, b.kPad, row0, rows, preRelu);
        if (msDw) CK(cudaEventRecord(e[1]));
        dim3 grid(b.nPad / 128, (rows + 127) / 128);
        sepgemm_gemm_bf16<<<grid, 256, sepgemm::STAGES * (sepgemm::A_STAGE + sepgemm::B_STAGE) * 2>>>(b.a, b.b, b.sc, b.sh, b.res, b.y, rows, p.cout,
                                                                                                  b.kPad, b.nPad, row0, postRelu);
        if (msDw) {
            CK(cudaEventRecord(e[2]));
            CK(cudaEventSynchronize(e[2]));
            float t1, t2;
            CK(cudaEventElapsedTime(&t1, e[0], e[1]));
            CK(cudaEventElapsedTime(&t2, e[1], e[2]));
            *msDw += t1; *msGemm += t2;
        }
    }
    if (msDw) for (auto& ev : e) CK(cudaEventDestroy(ev));
}

// The fused v3 launch with CudaLaunchPlan.convTiling's bf16 choice.
static void run_fused(const Bufs& b, bool preRelu, bool postRelu) {
    const Problem& p = b.p;
    int kPad = b.kPad, smemB = 2 * 32 * 136 * 2;
    int cands[3] = {128, 64, 32};
    const void* ks[3] = {(const void*)sepconv_bn_bf16_m128, (const void*)sepconv_bn_bf16_m64, (const void*)sepconv_bn_bf16_m32};
    auto maxK = [&](int bm) { int c = (g_smem - smemB) / (bm * 2) - 8; return c < 0 ? 0 : c / 32 * 32; };
    long long m = p.pixels();
    int chosen = -1;
    for (int i = 0; i < 3 && chosen < 0; i++) if (maxK(cands[i]) >= kPad && (m + cands[i] - 1) / cands[i] >= g_sms) chosen = i;
    for (int i = 2; i >= 0 && chosen < 0; i--) if (maxK(cands[i]) >= kPad) chosen = i;
    if (chosen < 0) chosen = 2;
    int bm = cands[chosen];
    int kChunk = std::min(kPad, maxK(bm));
    int mTiles = (int)((m + bm - 1) / bm), nTiles = (p.cout + 127) / 128;
    int tpb;
    if (kChunk < kPad) tpb = 1;
    else { int groups = mTiles >= 2 * g_sms ? 1 : std::min(nTiles, (2 * g_sms + mTiles - 1) / mTiles); tpb = (nTiles + groups - 1) / groups; }
    int smem = bm * (kChunk + 8) * 2 + smemB;
    CK(cudaFuncSetAttribute(ks[chosen], cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
    dim3 grid(mTiles, (nTiles + tpb - 1) / tpb);
    ((FusedKernel)ks[chosen])<<<grid, 256, smem>>>(b.x, b.dw, b.pw, b.sc, b.sh, b.res, b.y, p.n, p.h, p.w, p.cin, p.cout, 1, preRelu, postRelu,
                                                   kChunk, tpb);
}

static void fill(Bufs& b) {
    const Problem& p = b.p;
    size_t xs = (size_t)p.pixels() * p.cin, ys = (size_t)p.pixels() * p.cout;
    fill_uniform_bf16<<<grid_for(xs), 256>>>(b.x, xs, 1.7f, 1);
    if (b.res) fill_uniform_bf16<<<grid_for(ys), 256>>>(b.res, ys, 1.7f, 2);
    fill_uniform_f32<<<grid_for(9 * p.cin), 256>>>(b.dw, 9 * p.cin, 0.6f, 0.f, 3);
    fill_uniform_f32<<<grid_for((size_t)p.cin * p.cout), 256>>>(b.pw, (size_t)p.cin * p.cout, sqrtf(6.f / p.cin), 0.f, 4);
    fill_uniform_f32<<<grid_for(p.cout), 256>>>(b.sc, p.cout, 0.5f, 1.f, 5);
    fill_uniform_f32<<<grid_for(p.cout), 256>>>(b.sh, p.cout, 0.1f, 0.f, 6);
    CK_LAUNCH();
}

static std::vector<float> download(const __nv_bfloat16* d, size_t n) {
    std::vector<__nv_bfloat16> h(n);
    CK(cudaMemcpy(h.data(), d, n * 2, cudaMemcpyDeviceToHost));
    std::vector<float> f(n);
    for (size_t i = 0; i < n; i++) f[i] = __bfloat162float(h[i]);
    return f;
}

// Split against the float64 reference (no residual: dev_common's reference has none) and against the
// fused kernel with residual + ReLU, in small chunks so that chunk boundaries are exercised.
static void check(const Problem& p, double chunkMiB) {
    Bufs b = alloc(p, true);
    fill(b);
    set_chunk(b, chunkMiB);
    size_t xs = (size_t)p.pixels() * p.cin, ys = (size_t)p.pixels() * p.cout;
    std::vector<float> x = download(b.x, xs), dw(9 * p.cin), pw((size_t)p.cin * p.cout), sc(p.cout), sh(p.cout);
    CK(cudaMemcpy(dw.data(), b.dw, dw.size() * 4, cudaMemcpyDeviceToHost)); CK(cudaMemcpy(pw.data(), b.pw, pw.size() * 4, cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(sc.data(), b.sc, sc.size() * 4, cudaMemcpyDeviceToHost)); CK(cudaMemcpy(sh.data(), b.sh, sh.size() * 4, cudaMemcpyDeviceToHost));
    __nv_bfloat16* res = b.res;
    b.res = nullptr;
    CK(cudaMemset(b.y, 0xff, ys * 2));
    run_split(b, true, false);
    CK_LAUNCH();
    std::vector<float> got = download(b.y, ys);
    std::vector<double> ref;
    sepconv_reference(p, x.data(), dw.data(), pw.data(), sc.data(), sh.data(), true, ref);
    size_t bad;
    double e = rel_error(got, ref, &bad);
    // with residual + ReLU: split vs fused (both bf16, same inputs)
    b.res = res;
    CK(cudaMemset(b.y, 0xff, ys * 2));
    run_split(b, true, true);
    CK_LAUNCH();
    std::vector<float> s1 = download(b.y, ys);
    CK(cudaMemset(b.y, 0xff, ys * 2));
    run_split(b, true, true);
    CK_LAUNCH();
    bool deterministic = download(b.y, ys) == s1;
    run_fused(b, true, true);
    CK_LAUNCH();
    std::vector<float> f = download(b.y, ys);
    std::vector<double> fd(f.begin(), f.end());
    size_t bad2;
    double e2 = rel_error(s1, fd, &bad2);
    bool ok = e < 2e-2 && !bad && e2 < 2e-2 && !bad2 && deterministic;
    printf("CHECK  split bf16 n=%d %dx%d %d->%d rows/chunk=%lld kPad=%d nPad=%d: vs reference %.2e, vs fused (+res, relu) %.2e, non-finite %zu/%zu, "
           "bitwise repeat %s %s\n", p.n, p.h, p.w, p.cin, p.cout, b.rowsPerChunk, b.kPad, b.nPad, e, e2, bad, bad2, deterministic ? "yes" : "NO",
           ok ? "OK" : "FAIL");
    free_bufs(b);
    if (!ok) exit(2);
}

// Times fused and split (several chunk sizes) on one shape; prints RESULT lines and one TABLE line.
static void bench(const Problem& p, bool preRelu, bool residual, const std::vector<double>& chunksMiB) {
    Bufs b = alloc(p, residual);
    fill(b);
    double bytes = 2.0 * ((double)p.pixels() * p.cin + (double)p.pixels() * p.cout * (residual ? 2 : 1));
    float fused = time_median([&] { run_fused(b, preRelu, false); });
    char label[64];
    snprintf(label, sizeof label, "v4 fused (v3) bf16%s", residual ? " +res" : "");
    report(label, p, fused, bytes);
    float best = 1e30f;
    double bestChunk = 0;
    float bestDw = 0, bestGemm = 0;
    for (double c : chunksMiB) {
        set_chunk(b, c);
        float ms = time_median([&] { run_split(b, preRelu, false); });
        float dwMs, gemmMs;
        run_split(b, preRelu, false, &dwMs, &gemmMs);
        snprintf(label, sizeof label, "v4 split %gMiB%s", c, residual ? " +res" : "");
        report(label, p, ms, bytes);
        printf("       (dw %.3f ms + gemm %.3f ms summed over %lld chunks)\n", dwMs, gemmMs, (p.pixels() + b.rowsPerChunk - 1) / b.rowsPerChunk);
        if (ms < best) { best = ms; bestChunk = c; bestDw = dwMs; bestGemm = gemmMs; }
    }
    printf("TABLE  %3dx%-3d %4d->%-4d fused %7.3f ms | split %7.3f ms (dw %.3f gemm %.3f, chunk %g MiB) | %.2fx\n", p.h, p.w, p.cin, p.cout, fused, best,
           bestDw, bestGemm, bestChunk, fused / best);
    free_bufs(b);
}

// The library producer against depthwise_px_bf16<4> over one chunk of A (bit-identical, then timed).
static void bench_dw(const Problem& p) {
    Bufs b = alloc(p, false);
    fill(b);
    set_chunk(b, 96);
    int rows = (int)b.rowsPerChunk;
    size_t an = (size_t)rows * b.kPad;
    __nv_bfloat16* a2;
    CK(cudaMalloc(&a2, an * 2));
    auto lib = [&] { sepgemm_dw_bf16<<<grid_for((long long)rows * (b.kPad / 8)), 256>>>(b.x, b.dw, b.a, p.h, p.w, p.cin, b.kPad, 0, rows, 1); };
    auto px4 = [&] { depthwise_px_bf16<4><<<grid_for((long long)(rows + 3) / 4 * (b.kPad / 8)), 256>>>(b.x, b.dw, a2, p.h, p.w, p.cin, b.kPad, 0, rows, 1); };
    lib(); px4();
    CK_LAUNCH();
    bool same = download(b.a, an) == download(a2, an);
    float t1 = time_median(lib), t2 = time_median(px4);
    double bytes = 2.0 * rows * ((double)p.cin + b.kPad);  // x rows read once, A written
    printf("TABLE  dw %3dx%-3d %4d ch, %d rows: library %.3f ms %.0f GB/s | px4 %.3f ms %.0f GB/s | bit-identical %s\n", p.h, p.w, p.cin, rows, t1,
           bytes / (t1 * 1e6), t2, bytes / (t2 * 1e6), same ? "yes" : "NO");
    cudaFree(a2);
    free_bufs(b);
}

int main(int argc, char** argv) {
    int batch = argc > 1 ? atoi(argv[1]) : 256;
    CK(cudaDeviceGetAttribute(&g_smem, cudaDevAttrMaxSharedMemoryPerBlockOptin, 0));
    CK(cudaDeviceGetAttribute(&g_sms, cudaDevAttrMultiProcessorCount, 0));
    CK(cudaFuncSetAttribute((const void*)sepgemm_gemm_bf16, cudaFuncAttributeMaxDynamicSharedMemorySize,
                            sepgemm::STAGES * (sepgemm::A_STAGE + sepgemm::B_STAGE) * 2));
    printf("INFO   %d SMs, %d bytes shared memory per block, copy bandwidth %.0f GB/s (read+write)\n", g_sms, g_smem, copy_bandwidth_gbs());
    check({3, 7, 7, 17, 33}, 0.01);      // odd K and N, 128-row chunks
    check({2, 19, 19, 728, 728}, 1);     // 2 chunks, partial last row tile
    check({2, 37, 37, 64, 128}, 96);
    check({1, 10, 10, 1536, 2048}, 96);
    std::vector<double> chunks = {24, 96, 100000};  // ~L2-sized, the library default, all of A at once
    bench({batch, 19, 19, 728, 728}, true, true, chunks);    // middle flow (sepconv3: + residual)
    bench({batch, 147, 147, 64, 128}, false, false, chunks); // block2_sepconv1
    bench({batch, 147, 147, 128, 128}, true, false, chunks); // block2_sepconv2
    bench({batch, 74, 74, 128, 256}, true, false, {96});
    bench({batch, 74, 74, 256, 256}, true, false, {96});
    bench({batch, 37, 37, 256, 728}, true, false, {96});
    bench({batch, 37, 37, 728, 728}, true, false, {96});
    bench({batch, 10, 10, 728, 1024}, true, false, {96});
    bench({batch, 10, 10, 1024, 1536}, false, false, {96});
    bench({batch, 10, 10, 1536, 2048}, false, false, {96});
    bench_dw({batch, 19, 19, 728, 728});
    bench_dw({batch, 147, 147, 128, 128});
    return 0;
}
