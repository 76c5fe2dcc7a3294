// sepconv_bn v2: unfused fp32, shared-memory tiled. Kernel 1 writes the depthwise result d (M, Cin)
// to global memory; kernel 2 is a classic 64x64 shared-memory SGEMM (16-deep slices, 4x4 outputs per
// thread) y = d . PW with the BN epilogue. Changes from v1: the depthwise is computed once per
// element instead of Cout times, and the GEMM reuses tiles from shared memory; the price is d's
// round trip through global memory (2*M*Cin*4 extra bytes) that the fused kernel avoids.
// Bytes counted: x read once, y written once, weights once (d's traffic is overhead, not counted).
// Build: nvcc -O3 -arch=sm_90 -o sepconv_bn_v2 sepconv_bn_v2.cu      Run: ./sepconv_bn_v2
#include "dev_common.cuh"

__global__ void depthwise_v2(const float* x, const float* dw, float* d, int n, int h, int w, int c) {
    long long idx = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    long long total = (long long)n * h * w * c;
    if (idx >= total) return;
    int ch = idx % c;
    long long m = idx / c;
    int ox = m % w, oy = (m / w) % h, ni = m / ((long long)w * h);
    float s = 0.f;
    for (int ky = 0; ky < 3; ky++)
        for (int kx = 0; kx < 3; kx++) {
            int iy = oy + ky - 1, ix = ox + kx - 1;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            s += fmaxf(x[(((long long)ni * h + iy) * w + ix) * c + ch], 0.f) * dw[(ky * 3 + kx) * c + ch];
        }
    d[idx] = s;
}

// y (M, N) = A (M, K) . B (K, N), then y*scale + shift. Block 256 threads, tile 64x64, thread 4x4.
__global__ void sgemm_bn_v2(const float* A, const float* B, const float* scale, const float* shift, float* y, int M, int N, int K) {
    __shared__ float As[16][64 + 4], Bs[16][64 + 4];
    int m0 = blockIdx.x * 64, n0 = blockIdx.y * 64, ty = threadIdx.x / 16, tx = threadIdx.x % 16;
    float acc[4][4] = {};
    for (int k0 = 0; k0 < K; k0 += 16) {
        for (int i = threadIdx.x; i < 64 * 16; i += 256) {
            int r = i / 16, kk = i % 16;
            As[kk][r] = (m0 + r < M && k0 + kk < K) ? A[(long long)(m0 + r) * K + k0 + kk] : 0.f;
            int kb = i / 64, c = i % 64;
            Bs[kb][c] = (k0 + kb < K && n0 + c < N) ? B[(long long)(k0 + kb) * N + n0 + c] : 0.f;
        }
        __syncthreads();
#pragma unroll
        for (int k = 0; k < 16; k++) {
            float a[4], b[4];
            for (int i = 0; i < 4; i++) { a[i] = As[k][ty * 4 + i]; b[i] = Bs[k][tx * 4 + i]; }
            for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
        }
        __syncthreads();
    }
    for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) {
        int m = m0 + ty * 4 + i, c = n0 + tx * 4 + j;
        if (m < M && c < N) y[(long long)m * N + c] = acc[i][j] * scale[c] + shift[c];
    }
}

static void run(const Problem& p, bool check) {
    size_t xs = (size_t)p.pixels() * p.cin, ys = (size_t)p.pixels() * p.cout;
    auto x = randn(xs, 1), dw = randn(9 * p.cin, 1 / 3.f), pw = randn((size_t)p.cin * p.cout, sqrtf(2.f / p.cin));
    auto sc = randn(p.cout, 0.2f), sh = randn(p.cout, 0.1f);
    for (auto& s : sc) s += 1;
    float *dx, *ddw, *dpw, *dsc, *dsh, *dd, *dy;
    CK(cudaMalloc(&dx, xs * 4)); CK(cudaMalloc(&ddw, dw.size() * 4)); CK(cudaMalloc(&dpw, pw.size() * 4)); CK(cudaMalloc(&dd, xs * 4));
    CK(cudaMalloc(&dsc, p.cout * 4)); CK(cudaMalloc(&dsh, p.cout * 4)); CK(cudaMalloc(&dy, ys * 4));
    CK(cudaMemcpy(dx, x.data(), xs * 4, cudaMemcpyHostToDevice)); CK(cudaMemcpy(ddw, dw.data(), dw.size() * 4, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(dpw, pw.data(), pw.size() * 4, cudaMemcpyHostToDevice)); CK(cudaMemcpy(dsc, sc.data(), p.cout * 4, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(dsh, sh.data(), p.cout * 4, cudaMemcpyHostToDevice)); CK(cudaMemset(dy, 0xff, ys * 4));
    int M = (int)p.pixels();
    auto launch = [&] {
        depthwise_v2<<<(unsigned)((xs + 255) / 256), 256>>>(dx, ddw, dd, p.n, p.h, p.w, p.cin);
        sgemm_bn_v2<<<dim3((M + 63) / 64, (p.cout + 63) / 64), 256>>>(dd, dpw, dsc, dsh, dy, M, p.cout, p.cin);
    };
    if (check) {
        launch();
        CK_LAUNCH();
        std::vector<float> got(ys);
        CK(cudaMemcpy(got.data(), dy, ys * 4, cudaMemcpyDeviceToHost));
        std::vector<double> ref;
        sepconv_reference(p, x.data(), dw.data(), pw.data(), sc.data(), sh.data(), true, ref);
        size_t bad;
        double e = rel_error(got, ref, &bad);
        printf("CHECK  v2 fp32 tiled      n=%d %dx%d %d->%d rel.err %.2e non-finite %zu %s\n", p.n, p.h, p.w, p.cin, p.cout, e, bad, e < 1e-5 && !bad ? "OK" : "FAIL");
        if (!(e < 1e-5) || bad) exit(2);
    } else {
        report("v2 fp32 unfused tiled", p, time_median(launch), 4.0 * (xs + ys + pw.size()));
    }
    cudaFree(dx); cudaFree(ddw); cudaFree(dpw); cudaFree(dd); cudaFree(dsc); cudaFree(dsh); cudaFree(dy);
}

int main(int argc, char** argv) {
    int batch = argc > 1 ? atoi(argv[1]) : 256;
    run({2, 19, 19, 728, 728}, true);
    run({3, 7, 10, 46, 46}, true);
    run({batch, 19, 19, 728, 728}, false);
    run({batch / 4, 147, 147, 128, 128}, false);
    return 0;
}
