// sepconv_bn v3: the library kernel (cuda/conv_fwd.cu), fused and A-resident: a block keeps the
// depthwise result of its BM pixels for all of K in shared memory (it never reaches global memory)
// and streams the pointwise weights through a two-stage buffer into mma.sync tensor-core products
// (bf16/fp16 m16n8k16, tf32 m16n8k8) or FFMA (fp32), with BN scale/shift in the epilogue.
// Changes from v2: no d round trip, tensor cores, 16-bit activations (half the bytes).
// This file times each arithmetic and tile height the planner can choose; tile parameters follow
// CudaLaunchPlan.convTiling for a 227 KiB-shared-memory device.
// Bytes counted: x read once, y written once (activation type), fp32 weights once.
// Build: nvcc -O3 -arch=sm_90 -o sepconv_bn_v3 sepconv_bn_v3.cu      Run: ./sepconv_bn_v3
#include "../conv_fwd.cu"
#include "dev_common.cuh"

typedef void (*ConvKernel)(const void*, const float*, const float*, const float*, const float*, const void*, void*, int, int, int,
                           int, int, int, int, int, int, int);

struct Variant {
    const char* name;
    const void* kernel;
    int bm, bytes;   // rows per block, bytes per activation/smem element
    double tol;
};

// Host values to the kernel's activation storage (fp32, bf16 or fp16) and back (the reference's input).
static void to_storage(const std::vector<float>& v, int bytes, bool fp16, std::vector<unsigned char>& out, std::vector<float>& rounded) {
    out.resize(v.size() * bytes);
    rounded.resize(v.size());
    for (size_t i = 0; i < v.size(); i++) {
        if (bytes == 4) { memcpy(&out[i * 4], &v[i], 4); rounded[i] = v[i]; }
        else if (fp16) { __half h = __float2half_rn(v[i]); memcpy(&out[i * 2], &h, 2); rounded[i] = __half2float(h); }
        else { __nv_bfloat16 b = __float2bfloat16_rn(v[i]); memcpy(&out[i * 2], &b, 2); rounded[i] = __bfloat162float(b); }
    }
}

static void run(const Variant& var, const Problem& p, bool check, int smemMax, int sms) {
    int eA = var.bytes, aPad = eA == 2 ? 8 : 4;
    int kPad = (p.cin + 31) / 32 * 32;
    int smemB = 2 * 32 * 136 * eA;
    int kChunk = std::min(kPad, ((smemMax - smemB) / (var.bm * eA) - aPad) / 32 * 32);
    if (kChunk < 32) { printf("SKIP   %s: tile does not fit\n", var.name); return; }
    int smem = var.bm * (kChunk + aPad) * eA + smemB;
    long long M = p.pixels();
    int mTiles = (int)((M + var.bm - 1) / var.bm), nTiles = (p.cout + 127) / 128;
    int tpb = kChunk < kPad ? 1 : (mTiles >= 2 * sms ? nTiles : (nTiles + std::min(nTiles, (2 * sms + mTiles - 1) / mTiles) - 1) / std::min(nTiles, (2 * sms + mTiles - 1) / mTiles));
    dim3 grid(mTiles, (nTiles + tpb - 1) / tpb);

    size_t xs = (size_t)M * p.cin, ys = (size_t)M * p.cout;
    auto x = randn(xs, 1), dw = randn(9 * p.cin, 1 / 3.f), pw = randn((size_t)p.cin * p.cout, sqrtf(2.f / p.cin));
    auto sc = randn(p.cout, 0.2f), sh = randn(p.cout, 0.1f);
    for (auto& s : sc) s += 1;
    std::vector<unsigned char> xb;
    std::vector<float> xr;
    int storage = var.bytes == 2 ? 2 : 4;  // 16-bit or fp32 activations
    bool fp16 = strstr(var.name, "fp16") != nullptr;
    to_storage(x, storage, fp16, xb, xr);
    void *dx, *dy;
    float *ddw, *dpw, *dsc, *dsh;
    CK(cudaMalloc(&dx, xb.size())); CK(cudaMalloc(&dy, ys * storage));
    CK(cudaMalloc(&ddw, dw.size() * 4)); CK(cudaMalloc(&dpw, pw.size() * 4)); CK(cudaMalloc(&dsc, p.cout * 4)); CK(cudaMalloc(&dsh, p.cout * 4));
    CK(cudaMemcpy(dx, xb.data(), xb.size(), cudaMemcpyHostToDevice)); CK(cudaMemcpy(ddw, dw.data(), dw.size() * 4, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(dpw, pw.data(), pw.size() * 4, cudaMemcpyHostToDevice)); CK(cudaMemcpy(dsc, sc.data(), p.cout * 4, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(dsh, sh.data(), p.cout * 4, cudaMemcpyHostToDevice)); CK(cudaMemset(dy, 0xff, ys * storage));
    CK(cudaFuncSetAttribute(var.kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
    ConvKernel k = (ConvKernel)var.kernel;
    auto launch = [&] { k<<<grid, 256, smem>>>(dx, ddw, dpw, dsc, dsh, nullptr, dy, p.n, p.h, p.w, p.cin, p.cout, 1, 1, 0, kChunk, tpb); };
    if (check) {
        launch();
        CK_LAUNCH();
        std::vector<unsigned char> raw(ys * storage);
        CK(cudaMemcpy(raw.data(), dy, raw.size(), cudaMemcpyDeviceToHost));
        std::vector<float> got(ys);
        for (size_t i = 0; i < ys; i++) {
            if (storage == 4) memcpy(&got[i], &raw[i * 4], 4);
            else if (fp16) { __half h; memcpy(&h, &raw[i * 2], 2); got[i] = __half2float(h); }
            else { __nv_bfloat16 b; memcpy(&b, &raw[i * 2], 2); got[i] = __bfloat162float(b); }
        }
        std::vector<double> ref;
        sepconv_reference(p, xr.data(), dw.data(), pw.data(), sc.data(), sh.data(), true, ref);
        size_t bad;
        double e = rel_error(got, ref, &bad);
        bool ok = e < var.tol && !bad;
        printf("CHECK  %-20s n=%d %dx%d %d->%d bm=%d kChunk=%d tiles/block=%d smem=%d rel.err %.2e non-finite %zu %s\n", var.name, p.n, p.h, p.w, p.cin,
               p.cout, var.bm, kChunk, tpb, smem, e, bad, ok ? "OK" : "FAIL");
        if (!ok) exit(2);
    } else {
        float ms = time_median(launch);
        char label[64];
        snprintf(label, sizeof label, "v3 %s", var.name);
        report(label, p, ms, (double)storage * (xs + ys) + 4.0 * pw.size());
    }
    cudaFree(dx); cudaFree(dy); cudaFree(ddw); cudaFree(dpw); cudaFree(dsc); cudaFree(dsh);
}

int main(int argc, char** argv) {
    int batch = argc > 1 ? atoi(argv[1]) : 256;
    int dev = 0, smemMax = 0, sms = 0;
    CK(cudaDeviceGetAttribute(&smemMax, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
    CK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
    printf("INFO   %d SMs, %d bytes shared memory per block, copy bandwidth %.0f GB/s (read+write)\n", sms, smemMax, copy_bandwidth_gbs());
    Variant vars[] = {
        {"bf16 mma m128", (const void*)sepconv_bn_bf16_m128, 128, 2, 2e-2}, {"bf16 mma m64", (const void*)sepconv_bn_bf16_m64, 64, 2, 2e-2},
        {"bf16 mma m32", (const void*)sepconv_bn_bf16_m32, 32, 2, 2e-2},    {"fp16 mma m128", (const void*)sepconv_bn_fp16_m128, 128, 2, 2e-2},
        {"tf32 mma m64", (const void*)sepconv_bn_tf32_m64, 64, 4, 5e-3},    {"fp32 ffma m64", (const void*)sepconv_bn_fp32_m64, 64, 4, 1e-5},
    };
    for (const Variant& v : vars) {
        run(v, {2, 19, 19, 728, 728}, true, smemMax, sms);
        run(v, {3, 7, 10, 46, 46}, true, smemMax, sms);
    }
    for (const Variant& v : vars) run(v, {batch, 19, 19, 728, 728}, false, smemMax, sms);
    for (const Variant& v : vars) if (v.bm != 32) run(v, {batch / 4, 147, 147, 128, 128}, false, smemMax, sms);
    run(vars[0], {batch, 10, 10, 1536, 2048}, false, smemMax, sms);
    return 0;
}
