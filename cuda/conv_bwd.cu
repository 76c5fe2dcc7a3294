// Backward of the three convolutions (Backend.convBackward). With a = preRelu ? relu(x) : x:
//
//   separable: d = DW(a) (recomputed into scratch), dd = dz . W2^T, dW2 = d^T . dz,
//              dW1[t, c] = sum_p dd[p, c] * a[p + off(t), c], dx = mask * DWtranspose(dd)
//   1x1 s:     dW = a_strided^T . dz,  dx[n, s*oy, s*ox, :] = dz[n, oy, ox, :] . W^T (else 0), masked
//   stem 3x3:  dW = im2col(a)^T . dz,  dx = col2im(dz . W^T) as a gather, masked
// mask = (x > 0) when preRelu. Weight gradients are fp32, data gradients the activation type.
// The GEMMs are FFMA tiles of 64x64 with 16-deep slices (4x4 per thread); weight gradients are
// split over the pixel dimension into fp32 partials that reduce_partials adds in order.
#include "common.cuh"

namespace {

enum Mode { SEP = 0, PW = 1, STEM = 2 };

struct Dims {
    int n, h, w, cin, cout, stride, oh, ow;
};

template <int MODE>
__device__ __forceinline__ Dims dims(int n, int h, int w, int cin, int cout, int stride) {
    Dims d{n, h, w, cin, cout, stride, h, w};
    if (MODE == PW) { d.oh = (h + stride - 1) / stride; d.ow = (w + stride - 1) / stride; }
    if (MODE == STEM) { d.oh = (h - 3) / stride + 1; d.ow = (w - 3) / stride + 1; }
    return d;
}

constexpr int TILE = 64, DEPTH = 16;

// out (64x64 tile at r0, c0) += Ak^T Bk over one 16-deep slice; thread (ty, tx) owns 4x4.
__device__ __forceinline__ void tile_fma(float (&acc)[4][4], const float (*Ak)[TILE + 4], const float (*Bk)[TILE + 4]) {
    const int ty = threadIdx.x >> 4, tx = threadIdx.x & 15;
#pragma unroll
    for (int k = 0; k < DEPTH; k++) {
        const float4 a = *reinterpret_cast<const float4*>(&Ak[k][ty * 4]);
        const float4 b = *reinterpret_cast<const float4*>(&Bk[k][tx * 4]);
        const float av[4] = {a.x, a.y, a.z, a.w}, bv[4] = {b.x, b.y, b.z, b.w};
#pragma unroll
        for (int i = 0; i < 4; i++)
#pragma unroll
            for (int j = 0; j < 4; j++) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
    }
}

// Data gradient: out (M = n*h*w input pixels, N = cin) = A (M, K) . B (K, N), then the ReLU mask.
//   SEP : A = dz (M, cout), K = cout, B[k][c] = W2[c][k]      (out = dd, no mask)
//   PW  : A[m][k] = dz[n, iy/s, ix/s, k] when s divides iy and ix, else 0; K = cout; B[k][c] = W[c][k]
//   STEM: A[m][t*cout + co] = dz[n, (iy-ky)/s, (ix-kx)/s, co] when that output exists; K = 9*cout;
//         B[t*cout + co][c] = W[t][c][co]
template <int MODE, typename T>
__device__ void dgrad_impl(const T* __restrict__ dz, const float* __restrict__ wt, const T* __restrict__ x, T* __restrict__ out,
                           int n, int h, int w, int cin, int cout, int stride, int preRelu) {
    __shared__ __align__(16) float Ak[DEPTH][TILE + 4];
    __shared__ __align__(16) float Bk[DEPTH][TILE + 4];
    const Dims d = dims<MODE>(n, h, w, cin, cout, stride);
    const int M = n * h * w, N = cin, K = MODE == STEM ? 9 * cout : cout;
    const int m0 = blockIdx.x * TILE, n0 = blockIdx.y * TILE;
    float acc[4][4] = {};
    for (int k0 = 0; k0 < K; k0 += DEPTH) {
        // 64 rows x 16 k of A and 16 k x 64 columns of B, k fastest in global memory
        for (int idx = threadIdx.x; idx < TILE * DEPTH; idx += JX_THREADS) {
            const int r = idx / DEPTH, kk = idx % DEPTH;
            const int m = m0 + r, k = k0 + kk;
            float av = 0.f;
            if (m < M && k < K) {
                const int ix = m % w, rest = m / w, iy = rest % h, ni = rest / h;
                if (MODE == SEP) av = to_f32(dz[(size_t)m * cout + k]);
                else if (MODE == PW) {
                    if (iy % stride == 0 && ix % stride == 0)
                        av = to_f32(dz[(((size_t)ni * d.oh + iy / stride) * d.ow + ix / stride) * cout + k]);
                } else {
                    const int t = k / cout, co = k - t * cout, ky = t / 3, kx = t - ky * 3;
                    const int yy = iy - ky, xx = ix - kx;
                    if (yy >= 0 && xx >= 0 && yy % stride == 0 && xx % stride == 0 && yy / stride < d.oh && xx / stride < d.ow)
                        av = to_f32(dz[(((size_t)ni * d.oh + yy / stride) * d.ow + xx / stride) * cout + co]);
                }
            }
            Ak[kk][r] = av;
            const int c = n0 + r;
            float bv = 0.f;
            if (c < N && k < K) {
                if (MODE == STEM) {
                    const int t = k / cout, co = k - t * cout;
                    bv = wt[((size_t)t * cin + c) * cout + co];
                } else {
                    bv = wt[(size_t)c * cout + k];
                }
            }
            Bk[kk][r] = bv;
        }
        __syncthreads();
        tile_fma(acc, Ak, Bk);
        __syncthreads();
    }
    const int ty = threadIdx.x >> 4, tx = threadIdx.x & 15;
#pragma unroll
    for (int i = 0; i < 4; i++) {
        const int m = m0 + ty * 4 + i;
        if (m >= M) continue;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const int c = n0 + tx * 4 + j;
            if (c >= N) continue;
            const size_t o = (size_t)m * N + c;
            float v = acc[i][j];
            if (MODE != SEP && preRelu && !(to_f32(x[o]) > 0.f)) v = 0.f;
            out[o] = from_f32<T>(v);
        }
    }
}

// Weight gradient partials: partial[split][p][q] = sum over rows m of the split of A[m][p] * dz[m][q].
//   SEP : A = d (n*h*w, cin), P = cin (d already holds DW(a))
//   PW  : A[m][p] = a[n, s*oy, s*ox, p], m over output pixels, P = cin
//   STEM: A[m][t*cin + ci] = a[n, s*oy + ky, s*ox + kx, ci], P = 9*cin
// grid (ceil(Q/64), ceil(P/64), splits).
template <int MODE, typename T>
__device__ void wgrad_impl(const T* __restrict__ a, const T* __restrict__ dz, float* __restrict__ partial, int n, int h, int w,
                           int cin, int cout, int stride, int preRelu, int rowsPerSplit) {
    __shared__ __align__(16) float Ak[DEPTH][TILE + 4];
    __shared__ __align__(16) float Bk[DEPTH][TILE + 4];
    const Dims d = dims<MODE>(n, h, w, cin, cout, stride);
    const int M = n * d.oh * d.ow, P = MODE == STEM ? 9 * cin : cin, Q = cout;
    const int p0 = blockIdx.y * TILE, q0 = blockIdx.x * TILE;
    const int mBegin = blockIdx.z * rowsPerSplit, mEnd = min(M, mBegin + rowsPerSplit);
    float acc[4][4] = {};
    for (int k0 = mBegin; k0 < mEnd; k0 += DEPTH) {
        for (int idx = threadIdx.x; idx < TILE * DEPTH; idx += JX_THREADS) {
            const int kk = idx / TILE, r = idx % TILE;  // r fastest: p or q contiguous in memory
            const int m = k0 + kk;
            float av = 0.f, bv = 0.f;
            if (m < mEnd) {
                const int p = p0 + r;
                if (p < P) {
                    if (MODE == SEP) av = to_f32(a[(size_t)m * cin + p]);
                    else {
                        const int ox = m % d.ow, rest = m / d.ow, oy = rest % d.oh, ni = rest / d.oh;
                        if (MODE == PW) av = to_f32(a[(((size_t)ni * h + oy * stride) * w + ox * stride) * cin + p]);
                        else {
                            const int t = p / cin, ci = p - t * cin, ky = t / 3, kx = t - ky * 3;
                            av = to_f32(a[(((size_t)ni * h + oy * stride + ky) * w + ox * stride + kx) * cin + ci]);
                        }
                        if (preRelu) av = relu(av);
                    }
                }
                const int q = q0 + r;
                if (q < Q) bv = to_f32(dz[(size_t)m * cout + q]);
            }
            Ak[kk][r] = av;
            Bk[kk][r] = bv;
        }
        __syncthreads();
        tile_fma(acc, Ak, Bk);
        __syncthreads();
    }
    const int ty = threadIdx.x >> 4, tx = threadIdx.x & 15;
    float* out = partial + (size_t)blockIdx.z * P * Q;
#pragma unroll
    for (int i = 0; i < 4; i++) {
        const int p = p0 + ty * 4 + i;
        if (p >= P) continue;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const int q = q0 + tx * 4 + j;
            if (q < Q) out[(size_t)p * Q + q] = acc[i][j];
        }
    }
}

// d (n,h,w,c) = DW3x3_same(a), a = preRelu ? relu(x) : x. Thread per (pixel, 8 channels).
template <typename T>
__device__ void dw_forward_impl(const T* __restrict__ x, const float* __restrict__ dw, T* __restrict__ out, int n, int h, int w, int c,
                                int preRelu) {
    const int groups = (c + 7) / 8;
    const bool vec = (c & 7) == 0;
    const size_t total = (size_t)n * h * w * groups;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        const int c0 = (int)(i % groups) * 8, cnt = min(8, c - c0);
        size_t pix = i / groups;
        const int ox = (int)(pix % w); pix /= w;
        const int oy = (int)(pix % h);
        const int ni = (int)(pix / h);
        float v[8] = {};
        for (int ky = 0; ky < 3; ky++) {
            const int iy = oy + ky - 1;
            if (iy < 0 || iy >= h) continue;
            for (int kx = 0; kx < 3; kx++) {
                const int ix = ox + kx - 1;
                if (ix < 0 || ix >= w) continue;
                float xv[8], wv[8];
                load8_any(x + (((size_t)ni * h + iy) * w + ix) * c + c0, cnt, vec, xv);
                load8_any(dw + (size_t)(ky * 3 + kx) * c + c0, cnt, vec, wv);
#pragma unroll
                for (int j = 0; j < 8; j++) v[j] = fmaf(preRelu ? relu(xv[j]) : xv[j], wv[j], v[j]);
            }
        }
        store8_any(out + (((size_t)ni * h + oy) * w + ox) * c + c0, cnt, vec, v);
    }
}

// dx[q] = mask(x[q]) * sum_t dd[q - off(t)] * dw[t], off(t) = (ky-1, kx-1).
template <typename T>
__device__ void dw_backward_data_impl(const T* __restrict__ dd, const float* __restrict__ dw, const T* __restrict__ x, T* __restrict__ dx,
                                      int n, int h, int w, int c, int preRelu) {
    const int groups = (c + 7) / 8;
    const bool vec = (c & 7) == 0;
    const size_t total = (size_t)n * h * w * groups;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        const int c0 = (int)(i % groups) * 8, cnt = min(8, c - c0);
        size_t pix = i / groups;
        const int qx = (int)(pix % w); pix /= w;
        const int qy = (int)(pix % h);
        const int ni = (int)(pix / h);
        float v[8] = {};
        for (int ky = 0; ky < 3; ky++) {
            const int py = qy - ky + 1;
            if (py < 0 || py >= h) continue;
            for (int kx = 0; kx < 3; kx++) {
                const int px = qx - kx + 1;
                if (px < 0 || px >= w) continue;
                float gv[8], wv[8];
                load8_any(dd + (((size_t)ni * h + py) * w + px) * c + c0, cnt, vec, gv);
                load8_any(dw + (size_t)(ky * 3 + kx) * c + c0, cnt, vec, wv);
#pragma unroll
                for (int j = 0; j < 8; j++) v[j] = fmaf(gv[j], wv[j], v[j]);
            }
        }
        const size_t o = (((size_t)ni * h + qy) * w + qx) * c + c0;
        if (preRelu) {
            float xv[8];
            load8_any(x + o, cnt, vec, xv);
#pragma unroll
            for (int j = 0; j < 8; j++) if (!(xv[j] > 0.f)) v[j] = 0.f;
        }
        store8_any(dx + o, cnt, vec, v);
    }
}

// ---- the depthwise passes with the 3x3 weights in registers (c % 8 == 0) ----
// dw_forward / dw_backward_data above give consecutive threads consecutive groups of 8 channels and
// load each tap's 8 fp32 weights per pixel: 2 float4 loads of 4 L1 wavefronts each per tap, twice the
// wavefronts of the (16-bit) activation tap itself, plus three 64-bit divisions per pixel. Here a thread
// owns one group of 8 channels for the whole launch (the layout of ChannelSumChunks.vectorLanes: lanes
// channel groups x 256 / lanes pixel lanes; grid (ceil(c / 8 / lanes), pixelBlocks)), keeps its 72
// weights in registers and strides over pixels with 32-bit index arithmetic. Same taps in the same
// (ky, kx) order with the same fmaf: the results equal the kernels above bit for bit.
__device__ __forceinline__ void dw_weights_v8(const float* __restrict__ dw, int c, int ch0, float (&wr)[9][8]) {
#pragma unroll
    for (int t = 0; t < 9; t++) load8_n(dw + (size_t)t * c + ch0, 8, wr[t]);  // once per thread: no alignment asked
}

template <typename T>
__device__ void dw_forward_v8_impl(const T* __restrict__ x, const float* __restrict__ dw, T* __restrict__ out, int n, int h, int w, int c,
                                   int preRelu, int lanes) {
    const ChannelGroupLane lane = channel_group_lane(lanes);
    const int ch0 = lane.ch0, pl = lane.row, pixelLanes = lane.rows;
    if (ch0 >= c) return;
    float wr[9][8];
    dw_weights_v8(dw, c, ch0, wr);
    const int M = n * h * w;
    for (int p = blockIdx.y * pixelLanes + pl; p < M; p += gridDim.y * pixelLanes) {
        const int ox = p % w, rest = p / w, oy = rest % h, ni = rest / h;
        float v[8];
        depthwise3x3_v8(x, wr, ni, oy, ox, h, w, c, ch0, preRelu, v);
        store8(out + (size_t)p * c + ch0, v);
    }
}

template <typename T>
__device__ void dw_backward_data_v8_impl(const T* __restrict__ dd, const float* __restrict__ dw, const T* __restrict__ x, T* __restrict__ dx,
                                         int n, int h, int w, int c, int preRelu, int lanes) {
    const ChannelGroupLane lane = channel_group_lane(lanes);
    const int ch0 = lane.ch0, pl = lane.row, pixelLanes = lane.rows;
    if (ch0 >= c) return;
    float wr[9][8];
    dw_weights_v8(dw, c, ch0, wr);
    const int M = n * h * w;
    for (int q = blockIdx.y * pixelLanes + pl; q < M; q += gridDim.y * pixelLanes) {
        const int qx = q % w, rest = q / w, qy = rest % h, ni = rest / h;
        float v[8] = {};
#pragma unroll
        for (int ky = 0; ky < 3; ky++) {
            const int py = qy - ky + 1;
            if (py < 0 || py >= h) continue;
#pragma unroll
            for (int kx = 0; kx < 3; kx++) {
                const int px = qx - kx + 1;
                if (px < 0 || px >= w) continue;
                float gv[8];
                load8(dd + (((size_t)ni * h + py) * w + px) * c + ch0, gv);
#pragma unroll
                for (int j = 0; j < 8; j++) v[j] = fmaf(gv[j], wr[ky * 3 + kx][j], v[j]);
            }
        }
        const size_t o = (size_t)q * c + ch0;
        if (preRelu) {
            float xv[8];
            load8(x + o, xv);
#pragma unroll
            for (int j = 0; j < 8; j++) if (!(xv[j] > 0.f)) v[j] = 0.f;
        }
        store8(dx + o, v);
    }
}

// partial[chunk][t][ch] = sum over the chunk's pixels p of dd[p, ch] * a[p + off(t), ch].
// Block = 32 channel lanes x 8 pixel lanes; grid (ceil(c/32), chunks).
template <typename T>
__device__ void dw_backward_weight_impl(const T* __restrict__ x, const T* __restrict__ dd, float* __restrict__ partial, int n, int h,
                                        int w, int c, int preRelu, int pixelsPerChunk) {
    __shared__ float red[8][9][33];
    const int lane = threadIdx.x & 31, pl = threadIdx.x >> 5;
    const int ch = blockIdx.x * 32 + lane;
    const int M = n * h * w;
    const int p0 = blockIdx.y * pixelsPerChunk, p1 = min(M, p0 + pixelsPerChunk);
    float acc[9] = {};
    if (ch < c) {
        for (int p = p0 + pl; p < p1; p += 8) {
            const int ox = p % w, rest = p / w, oy = rest % h, ni = rest / h;
            const float g = to_f32(dd[(size_t)p * c + ch]);
#pragma unroll
            for (int ky = 0; ky < 3; ky++) {
                const int iy = oy + ky - 1;
                if (iy < 0 || iy >= h) continue;
#pragma unroll
                for (int kx = 0; kx < 3; kx++) {
                    const int ix = ox + kx - 1;
                    if (ix < 0 || ix >= w) continue;
                    float av = to_f32(x[(((size_t)ni * h + iy) * w + ix) * c + ch]);
                    if (preRelu) av = relu(av);
                    acc[ky * 3 + kx] = fmaf(g, av, acc[ky * 3 + kx]);
                }
            }
        }
    }
#pragma unroll
    for (int t = 0; t < 9; t++) red[pl][t][lane] = acc[t];
    __syncthreads();
    if (pl == 0 && ch < c) {
#pragma unroll
        for (int t = 0; t < 9; t++) {
            float s = 0.f;
#pragma unroll
            for (int i = 0; i < 8; i++) s += red[i][t][lane];
            partial[((size_t)blockIdx.y * 9 + t) * c + ch] = s;
        }
    }
}

// The same partials with 8 channels per thread (c % 8 == 0; every Xception sepconv): the scalar kernel
// above issues 10 two-byte loads (dd and 9 taps of x) and the pixel's index arithmetic per channel;
// here one thread does them once for 8 channels with 16-byte loads, so the load instructions and the
// index math fall 8x and each thread has 10 x 16 bytes in flight per pixel. Block = lanes channel groups
// x (256 / lanes) pixel lanes (ChannelSumChunks in the planner); grid (ceil(c / 8 / lanes), chunks).
// Each thread adds its pixels in increasing order, then the pixel lanes are added in order, one tap at
// a time through 8 KiB of shared memory: deterministic for a given plan.
template <typename T>
__device__ void dw_backward_weight_v8_impl(const T* __restrict__ x, const T* __restrict__ dd, float* __restrict__ partial, int n, int h,
                                           int w, int c, int preRelu, int pixelsPerChunk, int lanes) {
    const ChannelGroupLane lane = channel_group_lane(lanes);
    const int ch0 = lane.ch0, pl = lane.row, pixelLanes = lane.rows;
    const int M = n * h * w;
    const int p0 = blockIdx.y * pixelsPerChunk, p1 = min(M, p0 + pixelsPerChunk);
    float acc[9][8];
#pragma unroll
    for (int t = 0; t < 9; t++)
#pragma unroll
        for (int j = 0; j < 8; j++) acc[t][j] = 0.f;
    if (ch0 < c) {
        for (int p = p0 + pl; p < p1; p += pixelLanes) {
            const int ox = p % w, rest = p / w, oy = rest % h, ni = rest / h;
            float gv[8];
            load8(dd + (size_t)p * c + ch0, gv);
#pragma unroll
            for (int ky = 0; ky < 3; ky++) {
                const int iy = oy + ky - 1;
                if (iy < 0 || iy >= h) continue;
#pragma unroll
                for (int kx = 0; kx < 3; kx++) {
                    const int ix = ox + kx - 1;
                    if (ix < 0 || ix >= w) continue;
                    float av[8];
                    load8(x + (((size_t)ni * h + iy) * w + ix) * c + ch0, av);
#pragma unroll
                    for (int j = 0; j < 8; j++) {
                        const float a = preRelu ? relu(av[j]) : av[j];
                        acc[ky * 3 + kx][j] = fmaf(gv[j], a, acc[ky * 3 + kx][j]);
                    }
                }
            }
        }
    }
    channel_group_partials(acc, partial, c, lanes);
}

}  // namespace

// Data-gradient GEMMs: grid (ceil(n*h*w/64), ceil(cin/64)). Arguments: dz (n,oh,ow,cout); w = W2
// (cin,cout) for sep, W (cin,cout) for pw, W (3,3,cin,cout) for stem; x (n,h,w,cin) for the mask
// (may be null without preRelu); out (n,h,w,cin). Weight-gradient GEMMs: grid (ceil(cout/64),
// ceil(P/64), splits); a = d (n,h,w,cin) for sep, x for pw and stem; partial (splits, P, cout).
#define JX_BWD_KERNELS(SUF, T)                                                                                              \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) dgrad_sep_##SUF(const T* __restrict__ dz, const float* __restrict__ wt,       \
                                                         const T* __restrict__ x, T* __restrict__ out, int n, int h, int w,    \
                                                         int cin, int cout, int stride, int preRelu) {                         \
        dgrad_impl<SEP, T>(dz, wt, x, out, n, h, w, cin, cout, stride, preRelu);                                              \
    }                                                                                                                       \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) dgrad_pw_##SUF(const T* __restrict__ dz, const float* __restrict__ wt,        \
                                                        const T* __restrict__ x, T* __restrict__ out, int n, int h, int w,     \
                                                        int cin, int cout, int stride, int preRelu) {                          \
        dgrad_impl<PW, T>(dz, wt, x, out, n, h, w, cin, cout, stride, preRelu);                                               \
    }                                                                                                                       \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) dgrad_stem_##SUF(const T* __restrict__ dz, const float* __restrict__ wt,      \
                                                          const T* __restrict__ x, T* __restrict__ out, int n, int h, int w,   \
                                                          int cin, int cout, int stride, int preRelu) {                        \
        dgrad_impl<STEM, T>(dz, wt, x, out, n, h, w, cin, cout, stride, preRelu);                                             \
    }                                                                                                                       \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) wgrad_sep_##SUF(const T* __restrict__ a, const T* __restrict__ dz,           \
                                                         float* __restrict__ partial, int n, int h, int w, int cin, int cout,  \
                                                         int stride, int preRelu, int rowsPerSplit) {                          \
        wgrad_impl<SEP, T>(a, dz, partial, n, h, w, cin, cout, stride, preRelu, rowsPerSplit);                                \
    }                                                                                                                       \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) wgrad_pw_##SUF(const T* __restrict__ a, const T* __restrict__ dz,            \
                                                        float* __restrict__ partial, int n, int h, int w, int cin, int cout,   \
                                                        int stride, int preRelu, int rowsPerSplit) {                           \
        wgrad_impl<PW, T>(a, dz, partial, n, h, w, cin, cout, stride, preRelu, rowsPerSplit);                                 \
    }                                                                                                                       \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) wgrad_stem_##SUF(const T* __restrict__ a, const T* __restrict__ dz,          \
                                                          float* __restrict__ partial, int n, int h, int w, int cin, int cout, \
                                                          int stride, int preRelu, int rowsPerSplit) {                         \
        wgrad_impl<STEM, T>(a, dz, partial, n, h, w, cin, cout, stride, preRelu, rowsPerSplit);                               \
    }                                                                                                                       \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) dw_forward_##SUF(const T* __restrict__ x, const float* __restrict__ dw,      \
                                                          T* __restrict__ out, int n, int h, int w, int c, int preRelu) {      \
        dw_forward_impl<T>(x, dw, out, n, h, w, c, preRelu);                                                                  \
    }                                                                                                                       \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) dw_backward_data_##SUF(const T* __restrict__ dd, const float* __restrict__ dw, \
                                                                const T* __restrict__ x, T* __restrict__ dx, int n, int h,     \
                                                                int w, int c, int preRelu) {                                   \
        dw_backward_data_impl<T>(dd, dw, x, dx, n, h, w, c, preRelu);                                                         \
    }                                                                                                                       \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) dw_backward_weight_##SUF(const T* __restrict__ x, const T* __restrict__ dd,  \
                                                                  float* __restrict__ partial, int n, int h, int w, int c,     \
                                                                  int preRelu, int pixelsPerChunk) {                           \
        dw_backward_weight_impl<T>(x, dd, partial, n, h, w, c, preRelu, pixelsPerChunk);                                      \
    }                                                                                                                       \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) dw_backward_weight_v8_##SUF(                                                \
        const T* __restrict__ x, const T* __restrict__ dd, float* __restrict__ partial, int n, int h, int w, int c, int preRelu, \
        int pixelsPerChunk, int lanes) {                                                                                    \
        dw_backward_weight_v8_impl<T>(x, dd, partial, n, h, w, c, preRelu, pixelsPerChunk, lanes);                            \
    }                                                                                                                       \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) dw_forward_v8_##SUF(const T* __restrict__ x, const float* __restrict__ dw, \
                                                             T* __restrict__ out, int n, int h, int w, int c, int preRelu,     \
                                                             int lanes) {                                                     \
        dw_forward_v8_impl<T>(x, dw, out, n, h, w, c, preRelu, lanes);                                                        \
    }                                                                                                                       \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) dw_backward_data_v8_##SUF(const T* __restrict__ dd,                        \
                                                                   const float* __restrict__ dw, const T* __restrict__ x,     \
                                                                   T* __restrict__ dx, int n, int h, int w, int c,            \
                                                                   int preRelu, int lanes) {                                  \
        dw_backward_data_v8_impl<T>(dd, dw, x, dx, n, h, w, c, preRelu, lanes);                                               \
    }

JX_BWD_KERNELS(f32, float)
JX_BWD_KERNELS(bf16, __nv_bfloat16)
JX_BWD_KERNELS(f16, __half)
