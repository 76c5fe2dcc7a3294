// sepconv_bn v1: naive fp32. One thread per output (pixel, cout): recomputes the 3x3 depthwise of
// every input channel it needs (9*Cin loads and FMAs) and the pointwise dot product. The depthwise
// is recomputed Cout times: the baseline every later version must beat.
// Bytes counted (the floor): x read once (M*Cin*4), y written once (M*Cout*4), weights once.
// Build: nvcc -O3 -arch=sm_90 -o sepconv_bn_v1 sepconv_bn_v1.cu      Run: ./sepconv_bn_v1
#include "dev_common.cuh"

__global__ void sepconv_v1(const float* x, const float* dw, const float* pw, const float* scale, const float* shift, float* y,
                           int n, int h, int w, int cin, int cout) {
    long long idx = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    long long total = (long long)n * h * w * cout;
    if (idx >= total) return;
    int co = idx % cout;
    long long m = idx / cout;
    int ox = m % w, oy = (m / w) % h, ni = m / ((long long)w * h);
    float acc = 0.f;
    for (int k = 0; k < cin; k++) {
        float d = 0.f;
        for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++) {
                int iy = oy + ky - 1, ix = ox + kx - 1;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                float v = x[(((long long)ni * h + iy) * w + ix) * cin + k];
                d += fmaxf(v, 0.f) * dw[(ky * 3 + kx) * cin + k];
            }
        acc += d * pw[(long long)k * cout + co];
    }
    y[idx] = acc * scale[co] + shift[co];
}

static float run(const Problem& p, bool check) {
    size_t xs = (size_t)p.pixels() * p.cin, ys = (size_t)p.pixels() * p.cout;
    auto x = randn(xs, 1), dw = randn(9 * p.cin, 1 / 3.f), pw = randn((size_t)p.cin * p.cout, sqrtf(2.f / p.cin));
    auto sc = randn(p.cout, 0.2f), sh = randn(p.cout, 0.1f);
    for (auto& s : sc) s += 1;
    float *dx, *ddw, *dpw, *dsc, *dsh, *dy;
    CK(cudaMalloc(&dx, xs * 4)); CK(cudaMalloc(&ddw, dw.size() * 4)); CK(cudaMalloc(&dpw, pw.size() * 4));
    CK(cudaMalloc(&dsc, p.cout * 4)); CK(cudaMalloc(&dsh, p.cout * 4)); CK(cudaMalloc(&dy, ys * 4));
    CK(cudaMemcpy(dx, x.data(), xs * 4, cudaMemcpyHostToDevice)); CK(cudaMemcpy(ddw, dw.data(), dw.size() * 4, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(dpw, pw.data(), pw.size() * 4, cudaMemcpyHostToDevice)); CK(cudaMemcpy(dsc, sc.data(), p.cout * 4, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(dsh, sh.data(), p.cout * 4, cudaMemcpyHostToDevice)); CK(cudaMemset(dy, 0xff, ys * 4));
    long long total = (long long)ys;
    auto launch = [&] { sepconv_v1<<<(unsigned)((total + 255) / 256), 256>>>(dx, ddw, dpw, dsc, dsh, dy, p.n, p.h, p.w, p.cin, p.cout); };
    float ms = 0;
    if (check) {
        launch();
        CK_LAUNCH();
        std::vector<float> got(ys);
        CK(cudaMemcpy(got.data(), dy, ys * 4, cudaMemcpyDeviceToHost));
        std::vector<double> ref;
        sepconv_reference(p, x.data(), dw.data(), pw.data(), sc.data(), sh.data(), true, ref);
        size_t bad;
        double e = rel_error(got, ref, &bad);
        printf("CHECK  v1 fp32 naive      n=%d %dx%d %d->%d rel.err %.2e non-finite %zu %s\n", p.n, p.h, p.w, p.cin, p.cout, e, bad, e < 1e-5 && !bad ? "OK" : "FAIL");
        if (!(e < 1e-5) || bad) exit(2);
    } else {
        ms = time_median(launch, 1, 3);
        report("v1 fp32 naive", p, ms, 4.0 * (xs + ys + pw.size()));
    }
    cudaFree(dx); cudaFree(ddw); cudaFree(dpw); cudaFree(dsc); cudaFree(dsh); cudaFree(dy);
    return ms;
}

int main(int argc, char** argv) {
    int batch = argc > 1 ? atoi(argv[1]) : 256;
    run({2, 19, 19, 728, 728}, true);
    run({3, 7, 10, 46, 46}, true);
    run({batch, 19, 19, 728, 728}, false);
    return 0;
}
