// Max pooling (3x3, stride 2, TensorFlow 'same') with the residual add, and the network head.
//
//   maxpool_add       y = maxpool(x) + residual                      forward of blocks 2, 3, 4, 13
//   maxpool_backward  dx = route dy to the first maximum of each window (row-major within it); c % 8 == 0: two passes,
//                     maxpool_argmax_v8 (each window's argmax once, as bytes) then maxpool_backward_v8, 8 channels per thread
//   global_pool       y (n, c) fp32 = avg or max over h*w of x (n, h*w, c)
//   head_dense        logits (n, classes) = pooled (n, c) . kernel + bias (tiled over images x classes)
//   head_softmax      softmax of each logits row in place (the dense head: global_pool, head_dense, head_softmax)
//   head_softmax_xent training: softmax in place, per-example cross-entropy, dlogits
//   head_train_*      the head's gradients (dKernel, dBias, dX)
// Suffix = activation storage (_f32, _bf16, _f16); pooled values, logits, probabilities, losses and
// weight gradients are fp32.
#include "common.cuh"

namespace {

// TensorFlow 'same' for k=3, s=2: out = ceil(in/2), pad before = max((out-1)*2 + 3 - in, 0) / 2.
__device__ __forceinline__ int pool_pad(int in) {
    const int out = (in + 1) / 2;
    return max((out - 1) * 2 + 3 - in, 0) / 2;
}

// One thread per (n, oy, ox, 8 channels). Padding takes no part in the max (TF semantics).
template <typename T>
__device__ void maxpool_add_impl(const T* __restrict__ x, const T* __restrict__ residual, T* __restrict__ y, int n, int h,
                                 int w, int c) {
    const int oh = (h + 1) / 2, ow = (w + 1) / 2, groups = (c + 7) / 8;
    const size_t total = (size_t)n * oh * ow * groups;
    const bool vec = (c & 7) == 0;
    const int py = pool_pad(h), px = pool_pad(w);
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        const int cg = (int)(i % groups);
        size_t pix = i / groups;
        const int ox = (int)(pix % ow); pix /= ow;
        const int oy = (int)(pix % oh);
        const int ni = (int)(pix / oh);
        const int c0 = cg * 8, cnt = min(8, c - c0);
        float m[8];
#pragma unroll
        for (int j = 0; j < 8; j++) m[j] = -INFINITY;
        for (int ky = 0; ky < 3; ky++) {
            const int iy = oy * 2 - py + ky;
            if (iy < 0 || iy >= h) continue;
            for (int kx = 0; kx < 3; kx++) {
                const int ix = ox * 2 - px + kx;
                if (ix < 0 || ix >= w) continue;
                float v[8];
                load8_any(x + (((size_t)ni * h + iy) * w + ix) * c + c0, cnt, vec, v);
#pragma unroll
                for (int j = 0; j < 8; j++) m[j] = fmaxf(m[j], v[j]);
            }
        }
        const size_t o = (((size_t)ni * oh + oy) * ow + ox) * c + c0;
        if (residual) {
            float r[8];
            load8_any(residual + o, cnt, vec, r);
#pragma unroll
            for (int j = 0; j < 8; j++) m[j] += r[j];
        }
        store8_any(y + o, cnt, vec, m);
    }
}

// dx[n, iy, ix, ch] = sum of dy over the (at most 2x2) windows whose first maximum is (iy, ix).
// One thread per input element: deterministic, no atomics; each window's argmax is recomputed.
template <typename T>
__device__ void maxpool_backward_impl(const T* __restrict__ x, const T* __restrict__ dy, T* __restrict__ dx, int n, int h,
                                      int w, int c) {
    const int oh = (h + 1) / 2, ow = (w + 1) / 2;
    const int py = pool_pad(h), px = pool_pad(w);
    const size_t total = (size_t)n * h * w * c;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        const int ch = (int)(i % c);
        size_t pix = i / c;
        const int ix = (int)(pix % w); pix /= w;
        const int iy = (int)(pix % h);
        const int ni = (int)(pix / h);
        float g = 0.f;
        // windows containing iy: oy*2 - py <= iy <= oy*2 - py + 2
        const int oyLo = max(0, (iy + py - 2 + 1) / 2), oyHi = min(oh - 1, (iy + py) / 2);
        const int oxLo = max(0, (ix + px - 2 + 1) / 2), oxHi = min(ow - 1, (ix + px) / 2);
        for (int oy = oyLo; oy <= oyHi; oy++) {
            for (int ox = oxLo; ox <= oxHi; ox++) {
                // argmax (first in row-major order) of window (oy, ox)
                float best = -INFINITY;
                int by = -1, bx = -1;
                for (int ky = 0; ky < 3; ky++) {
                    const int yy = oy * 2 - py + ky;
                    if (yy < 0 || yy >= h) continue;
                    for (int kx = 0; kx < 3; kx++) {
                        const int xx = ox * 2 - px + kx;
                        if (xx < 0 || xx >= w) continue;
                        const float v = to_f32(x[(((size_t)ni * h + yy) * w + xx) * c + ch]);
                        if (v > best || by < 0) { best = v; by = yy; bx = xx; }
                    }
                }
                if (by == iy && bx == ix) g += to_f32(dy[(((size_t)ni * oh + oy) * ow + ox) * c + ch]);
            }
        }
        dx[i] = from_f32<T>(g);
    }
}

// The same result in two passes with 8 channels per thread (c % 8 == 0; every Xception pool). The scalar
// kernel above does, per element, three 64-bit divisions and re-derives the argmax of each of its (up to
// 2 x 2) windows: every window's argmax is computed by each of its 9 pixels. Here:
//   pass 1 (maxpool_argmax_v8_<t>): thread per (output pixel, 8 channels): the window's argmax once, by the
//          scalar kernel's rule (the first valid tap, replaced only by a strictly greater value), as 8 tap
//          bytes (ky * 3 + kx) into argmax (n, oh, ow, c) uint8: one 8-byte store;
//   pass 2 (maxpool_backward_v8_<t>): thread per (input pixel, 8 channels): for each window holding the pixel,
//          in (oy, ox) order, one 8-byte load of its taps, and dy (16 bytes) only when the pixel wins the window
//          for some channel. So dx is bit for bit the scalar kernel's; x is read once, by pass 1.
template <typename T>
__device__ void maxpool_argmax_v8_impl(const T* __restrict__ x, uint8_t* __restrict__ argmax, int n, int h, int w, int c) {
    const int oh = (h + 1) / 2, ow = (w + 1) / 2, groups = c / 8;
    const int py = pool_pad(h), px = pool_pad(w);
    const size_t total = (size_t)n * oh * ow * groups;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        const int c0 = (int)(i % groups) * 8;
        const size_t opix = i / groups;
        const int ox = (int)(opix % ow), oy = (int)((opix / ow) % oh), ni = (int)(opix / ((size_t)ow * oh));
        float best[8];
        int tap[8];  // -1 before the first valid tap
#pragma unroll
        for (int j = 0; j < 8; j++) { best[j] = -INFINITY; tap[j] = -1; }
#pragma unroll
        for (int ky = 0; ky < 3; ky++) {
            const int yy = oy * 2 - py + ky;
            if (yy < 0 || yy >= h) continue;
#pragma unroll
            for (int kx = 0; kx < 3; kx++) {
                const int xx = ox * 2 - px + kx;
                if (xx < 0 || xx >= w) continue;
                float v[8];
                load8(x + (((size_t)ni * h + yy) * w + xx) * c + c0, v);
#pragma unroll
                for (int j = 0; j < 8; j++) {
                    if (v[j] > best[j] || tap[j] < 0) { best[j] = v[j]; tap[j] = ky * 3 + kx; }
                }
            }
        }
        uint2 packed = make_uint2(0u, 0u);
#pragma unroll
        for (int j = 0; j < 4; j++) {
            packed.x |= (uint32_t)tap[j] << (8 * j);
            packed.y |= (uint32_t)tap[j + 4] << (8 * j);
        }
        *reinterpret_cast<uint2*>(argmax + opix * c + c0) = packed;
    }
}

template <typename T>
__device__ void maxpool_backward_v8_impl(const uint8_t* __restrict__ argmax, const T* __restrict__ dy, T* __restrict__ dx, int n, int h,
                                         int w, int c) {
    const int oh = (h + 1) / 2, ow = (w + 1) / 2, groups = c / 8;
    const int py = pool_pad(h), px = pool_pad(w);
    const size_t total = (size_t)n * h * w * groups;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        const int c0 = (int)(i % groups) * 8;
        const size_t pixel = i / groups;
        const int ix = (int)(pixel % w), iy = (int)((pixel / w) % h), ni = (int)(pixel / ((size_t)w * h));
        float g[8];
#pragma unroll
        for (int j = 0; j < 8; j++) g[j] = 0.f;
        const int oyLo = max(0, (iy + py - 2 + 1) / 2), oyHi = min(oh - 1, (iy + py) / 2);
        const int oxLo = max(0, (ix + px - 2 + 1) / 2), oxHi = min(ow - 1, (ix + px) / 2);
        for (int oy = oyLo; oy <= oyHi; oy++) {
            for (int ox = oxLo; ox <= oxHi; ox++) {
                const size_t o = (((size_t)ni * oh + oy) * ow + ox) * c + c0;
                const uint2 packed = __ldg(reinterpret_cast<const uint2*>(argmax + o));
                const uint32_t mine = (uint32_t)((iy - (oy * 2 - py)) * 3 + (ix - (ox * 2 - px)));
                bool wins = false;
#pragma unroll
                for (int j = 0; j < 8; j++) wins |= ((j < 4 ? packed.x >> (8 * j) : packed.y >> (8 * (j - 4))) & 0xFFu) == mine;
                if (wins) {
                    float d[8];
                    load8(dy + o, d);
#pragma unroll
                    for (int j = 0; j < 8; j++) {
                        if (((j < 4 ? packed.x >> (8 * j) : packed.y >> (8 * (j - 4))) & 0xFFu) == mine) g[j] += d[j];
                    }
                }
            }
        }
        store8(dx + pixel * c + c0, g);
    }
}

// y (n, c) = mean or max over hw of x (n, hw, c). One thread per (image, 8 channels), grid-stride;
// each channel is summed (or maxed) in spatial order, then the mean divides by hw.
template <bool MAX, bool VEC, typename T>
__device__ __forceinline__ void pool_column(const T* __restrict__ p, int hw, int c, int cnt, float (&acc)[8]) {
#pragma unroll
    for (int j = 0; j < 8; j++) acc[j] = MAX ? -INFINITY : 0.f;
    if (VEC) {
#pragma unroll 4
        for (int i = 0; i < hw; i++) {
            float v[8];
            load8(p + (size_t)i * c, v);
#pragma unroll
            for (int j = 0; j < 8; j++) acc[j] = MAX ? fmaxf(acc[j], v[j]) : acc[j] + v[j];
        }
    } else {
#pragma unroll 1
        for (int i = 0; i < hw; i++) {
            float v[8];
            load8_n(p + (size_t)i * c, cnt, v);
#pragma unroll
            for (int j = 0; j < 8; j++) acc[j] = MAX ? fmaxf(acc[j], v[j]) : acc[j] + v[j];
        }
    }
}

template <typename T>
__device__ void global_pool_impl(const T* __restrict__ x, float* __restrict__ y, int n, int hw, int c, int isMax) {
    const int groups = (c + 7) / 8;
    const bool vec = (c & 7) == 0;
    const size_t total = (size_t)n * groups;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        const int cg = (int)(i % groups), ni = (int)(i / groups);
        const int c0 = cg * 8, cnt = min(8, c - c0);
        const T* p = x + (size_t)ni * hw * c + c0;
        float acc[8];
        if (isMax) {
            if (vec) pool_column<true, true>(p, hw, c, cnt, acc); else pool_column<true, false>(p, hw, c, cnt, acc);
        } else {
            if (vec) pool_column<false, true>(p, hw, c, cnt, acc); else pool_column<false, false>(p, hw, c, cnt, acc);
#pragma unroll
            for (int j = 0; j < 8; j++) acc[j] = acc[j] / (float)hw;
        }
        store8_any(y + (size_t)ni * c + c0, cnt, vec, acc);
    }
}

// dX[i, s, ch] = (sum_j kernel[ch][j] * dlogits[i][j]) / hw for every spatial s. grid (ceil(c/256), n).
template <typename T>
__device__ void head_train_dx_impl(const float* __restrict__ kernel, const float* __restrict__ dlogits, T* __restrict__ dX, int n,
                                   int hw, int c, int classes) {
    const int ch = blockIdx.x * blockDim.x + threadIdx.x, ni = blockIdx.y;
    if (ch >= c) return;
    const float* dl = dlogits + (size_t)ni * classes;
    const float* k = kernel + (size_t)ch * classes;
    float acc = 0.f;
    for (int j = 0; j < classes; j++) acc = fmaf(__ldg(k + j), dl[j], acc);
    const T v = from_f32<T>(acc / (float)hw);
    T* out = dX + (size_t)ni * hw * c + ch;
    for (int s = 0; s < hw; s++) out[(size_t)s * c] = v;
}

}  // namespace

// ------------------------------------------------------------------ head: dense and softmax
// The head runs as global_pool_* (pooled (n, c) fp32 in scratch), head_dense (logits, many blocks)
// and head_softmax / head_softmax_xent (one warp per row, in place on the logits).

constexpr int DENSE_TI = 32;  // images per block tile
constexpr int DENSE_TJ = 64;  // classes per block tile
constexpr int DENSE_TK = 32;  // channels per shared-memory step

// y (n, classes) = bias + pooled (n, c) . kernel (c, classes); every sum starts at the bias and adds
// the channels in order with fmaf. grid (ceil(classes/64), ceil(n/32)); thread (ty, tx) = (tid/16,
// tid%16) computes images ty*2 .. +1 by classes tx*4 .. +3.
extern "C" __global__ void __launch_bounds__(JX_THREADS) head_dense(const float* __restrict__ pooled, const float* __restrict__ kernel,
                                                                      const float* __restrict__ bias, float* __restrict__ y, int n, int c,
                                                                      int classes) {
    __shared__ __align__(16) float As[DENSE_TK][DENSE_TI + 2];  // As[k][i] = pooled[i0 + i][k0 + k]
    __shared__ __align__(16) float Bs[DENSE_TK][DENSE_TJ];      // Bs[k][j] = kernel[k0 + k][j0 + j]
    const int tid = threadIdx.x, tx = tid & 15, ty = tid >> 4;
    const int i0 = blockIdx.y * DENSE_TI, j0 = blockIdx.x * DENSE_TJ;
    float acc[2][4];
#pragma unroll
    for (int q = 0; q < 4; q++) {
        const int j = j0 + tx * 4 + q;
        const float b0 = (bias && j < classes) ? __ldg(bias + j) : 0.f;
        acc[0][q] = b0;
        acc[1][q] = b0;
    }
    for (int k0 = 0; k0 < c; k0 += DENSE_TK) {
#pragma unroll
        for (int r = 0; r < DENSE_TI * DENSE_TK / JX_THREADS; r++) {
            const int idx = tid + r * JX_THREADS, i = idx / DENSE_TK, k = idx % DENSE_TK;
            As[k][i] = (i0 + i < n && k0 + k < c) ? __ldg(pooled + (size_t)(i0 + i) * c + k0 + k) : 0.f;
        }
#pragma unroll
        for (int r = 0; r < DENSE_TK * DENSE_TJ / JX_THREADS; r++) {
            const int idx = tid + r * JX_THREADS, k = idx / DENSE_TJ, j = idx % DENSE_TJ;
            Bs[k][j] = (k0 + k < c && j0 + j < classes) ? __ldg(kernel + (size_t)(k0 + k) * classes + j0 + j) : 0.f;
        }
        __syncthreads();
#pragma unroll 8
        for (int k = 0; k < DENSE_TK; k++) {
            const float2 a = *reinterpret_cast<const float2*>(&As[k][ty * 2]);
            const float4 b = *reinterpret_cast<const float4*>(&Bs[k][tx * 4]);
            acc[0][0] = fmaf(a.x, b.x, acc[0][0]); acc[0][1] = fmaf(a.x, b.y, acc[0][1]);
            acc[0][2] = fmaf(a.x, b.z, acc[0][2]); acc[0][3] = fmaf(a.x, b.w, acc[0][3]);
            acc[1][0] = fmaf(a.y, b.x, acc[1][0]); acc[1][1] = fmaf(a.y, b.y, acc[1][1]);
            acc[1][2] = fmaf(a.y, b.z, acc[1][2]); acc[1][3] = fmaf(a.y, b.w, acc[1][3]);
        }
        __syncthreads();
    }
#pragma unroll
    for (int r = 0; r < 2; r++) {
        const int i = i0 + ty * 2 + r;
        if (i >= n) continue;
#pragma unroll
        for (int q = 0; q < 4; q++) {
            const int j = j0 + tx * 4 + q;
            if (j < classes) y[(size_t)i * classes + j] = acc[r][q];
        }
    }
}

namespace {
// Softmax of one row in place, by one warp: max, exp(l - max), sum, scale. Returns 1/sum.
__device__ __forceinline__ void softmax_row(float* l, int classes, int lane) {
    float mx = -INFINITY;
    for (int j = lane; j < classes; j += 32) mx = fmaxf(mx, l[j]);
    mx = warp_max(mx);
    float s = 0.f;
    for (int j = lane; j < classes; j += 32) { const float e = __expf(l[j] - mx); l[j] = e; s += e; }
    s = warp_sum(s);
    const float inv = 1.f / s;
    for (int j = lane; j < classes; j += 32) l[j] *= inv;
}
}  // namespace

// y (n, classes) = softmax of each row of y, in place. One warp per row, grid ceil(n/8).
extern "C" __global__ void __launch_bounds__(JX_THREADS) head_softmax(float* __restrict__ y, int n, int classes) {
    const int lane = threadIdx.x & 31;
    const int row = blockIdx.x * (JX_THREADS / 32) + (threadIdx.x >> 5);
    if (row >= n) return;
    softmax_row(y + (size_t)row * classes, classes, lane);
}

// Training: probs (n, classes) holds the logits and becomes the softmax, in place; loss (n) =
// -log p[label] (unscaled); dlogits (n, classes) = (p - onehot(label)) / n * lossScale, the gradient
// of lossScale * mean loss (mixed-precision loss scaling: every gradient below derives from dlogits,
// so the fp16/bf16 dX and all that follows carry the scale; 1 for none). A label outside
// [0, classes), or not an integer, gives loss NaN. One warp per row, grid ceil(n/8).
extern "C" __global__ void __launch_bounds__(JX_THREADS) head_softmax_xent(float* __restrict__ probs, const float* __restrict__ labels,
                                                                             float* __restrict__ loss, float* __restrict__ dlogits, int n,
                                                                             int classes, float lossScale) {
    const int lane = threadIdx.x & 31;
    const int row = blockIdx.x * (JX_THREADS / 32) + (threadIdx.x >> 5);
    if (row >= n) return;
    float* l = probs + (size_t)row * classes;
    softmax_row(l, classes, lane);
    const float lab = labels[row];
    const int label = (int)lab;
    const bool ok = lab == (float)label && label >= 0 && label < classes;
    const float invN = 1.f / (float)n;
    float* d = dlogits + (size_t)row * classes;
    // each lane reads back only the probabilities it wrote itself
    for (int j = lane; j < classes; j += 32) {
        const float p = l[j];
        d[j] = (p - (j == label ? 1.f : 0.f)) * invN * lossScale;
        if (ok && j == label) loss[row] = -logf(fmaxf(p, 1e-30f));
    }
    if (!ok && lane == 0) loss[row] = __int_as_float(0x7fc00000);
}

// dKernel (c, classes) = pooled^T (c, n) . dlogits (n, classes); dBias (classes) = column sums of dlogits.
// One thread per (ch, j) with j fastest; a final row ch == c computes dBias. grid (ceil(classes/256), c + 1).
extern "C" __global__ void __launch_bounds__(JX_THREADS) head_train_dweights(const float* __restrict__ pooled, const float* __restrict__ dlogits,
                                                         float* __restrict__ dKernel, float* __restrict__ dBias, int n, int c,
                                                         int classes) {
    const int j = blockIdx.x * blockDim.x + threadIdx.x, ch = blockIdx.y;
    if (j >= classes) return;
    float acc = 0.f;
    if (ch < c) {
        for (int i = 0; i < n; i++) acc = fmaf(pooled[(size_t)i * c + ch], dlogits[(size_t)i * classes + j], acc);
        dKernel[(size_t)ch * classes + j] = acc;
    } else if (dBias) {
        for (int i = 0; i < n; i++) acc += dlogits[(size_t)i * classes + j];
        dBias[j] = acc;
    }
}

#define JX_POOL_KERNELS(SUF, T)                                                                                              \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) maxpool_add_##SUF(const T* __restrict__ x, const T* __restrict__ residual, \
                                                           T* __restrict__ y, int n, int h, int w, int c) {                   \
        maxpool_add_impl<T>(x, residual, y, n, h, w, c);                                                                     \
    }                                                                                                                        \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) maxpool_backward_##SUF(const T* __restrict__ x, const T* __restrict__ dy, \
                                                                T* __restrict__ dx, int n, int h, int w, int c) {             \
        maxpool_backward_impl<T>(x, dy, dx, n, h, w, c);                                                                     \
    }                                                                                                                        \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) maxpool_argmax_v8_##SUF(const T* __restrict__ x, uint8_t* __restrict__ argmax, \
                                                                 int n, int h, int w, int c) {                                \
        maxpool_argmax_v8_impl<T>(x, argmax, n, h, w, c);                                                                    \
    }                                                                                                                        \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) maxpool_backward_v8_##SUF(const uint8_t* __restrict__ argmax,             \
                                                                   const T* __restrict__ dy, T* __restrict__ dx, int n, int h, \
                                                                   int w, int c) {                                            \
        maxpool_backward_v8_impl<T>(argmax, dy, dx, n, h, w, c);                                                             \
    }                                                                                                                        \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) global_pool_##SUF(const T* __restrict__ x, float* __restrict__ y, int n,   \
                                                           int hw, int c, int isMax) {                                       \
        global_pool_impl<T>(x, y, n, hw, c, isMax);                                                                          \
    }                                                                                                                        \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) head_train_dx_##SUF(const float* __restrict__ kernel,                    \
                                                             const float* __restrict__ dlogits, T* __restrict__ dX, int n,    \
                                                             int hw, int c, int classes) {                                   \
        head_train_dx_impl<T>(kernel, dlogits, dX, n, hw, c, classes);                                                       \
    }

JX_POOL_KERNELS(f32, float)
JX_POOL_KERNELS(bf16, __nv_bfloat16)
JX_POOL_KERNELS(f16, __half)
