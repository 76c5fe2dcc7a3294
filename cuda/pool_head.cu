// Max pooling (3x3, stride 2, TensorFlow 'same') with the residual add, and the network head.
//
//   maxpool_add       y = maxpool(x) + residual                      forward of blocks 2, 3, 4, 13
//   maxpool_backward  dx = route dy to the first maximum of each window (row-major within it)
//   global_pool       y (n, c) fp32 = avg or max over h*w of x (n, h*w, c)
//   gap_dense_softmax y (n, classes) fp32 = softmax(avgpool(x) . kernel + bias)
//   head_train_*      the same forward, the per-example cross-entropy, and its gradients
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

// y (n, c) = mean or max over hw of x (n, hw, c). grid (ceil(c/256), n).
template <typename T>
__device__ void global_pool_impl(const T* __restrict__ x, float* __restrict__ y, int n, int hw, int c, int isMax) {
    const int ch = blockIdx.x * blockDim.x + threadIdx.x, ni = blockIdx.y;
    if (ch >= c || ni >= n) return;
    const T* p = x + (size_t)ni * hw * c + ch;
    float acc = isMax ? -INFINITY : 0.f;
    for (int i = 0; i < hw; i++) {
        const float v = to_f32(p[(size_t)i * c]);
        acc = isMax ? fmaxf(acc, v) : acc + v;
    }
    y[(size_t)ni * c + ch] = isMax ? acc : acc / (float)hw;
}

// Average-pools images [i0, i0+ipb) of x (n, hw, c) into pooled (ipb, c) in shared memory.
template <typename T>
__device__ __forceinline__ void pool_images(const T* __restrict__ x, float* pooled, int i0, int ipb, int n, int hw, int c) {
    for (int idx = threadIdx.x; idx < ipb * c; idx += blockDim.x) {
        const int ii = idx / c, ch = idx - ii * c;
        float acc = 0.f;
        if (i0 + ii < n) {
            const T* p = x + (size_t)(i0 + ii) * hw * c + ch;
            for (int i = 0; i < hw; i++) acc += to_f32(p[(size_t)i * c]);
        }
        pooled[idx] = acc / (float)hw;
    }
}

// logits[ii][j] = bias[j] + sum_ch pooled[ii][ch] * kernel[ch][j] for the block's images, then
// softmax in place over j. Dynamic shared memory: pooled (ipb, c) then logits (ipb, classes).
template <int IPB>
__device__ __forceinline__ void dense_softmax(const float* pooled, float* logits, const float* __restrict__ kernel,
                                              const float* __restrict__ bias, int ipb, int c, int classes) {
    for (int j = threadIdx.x; j < classes; j += blockDim.x) {
        float acc[IPB];
#pragma unroll
        for (int ii = 0; ii < IPB; ii++) acc[ii] = bias ? __ldg(bias + j) : 0.f;
        for (int ch = 0; ch < c; ch++) {
            const float kv = __ldg(kernel + (size_t)ch * classes + j);
#pragma unroll
            for (int ii = 0; ii < IPB; ii++) acc[ii] = fmaf(ii < ipb ? pooled[ii * c + ch] : 0.f, kv, acc[ii]);  // pooled holds ipb rows
        }
#pragma unroll
        for (int ii = 0; ii < IPB; ii++) if (ii < ipb) logits[ii * classes + j] = acc[ii];
    }
    __syncthreads();
    // softmax per image: one warp per image
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, warps = blockDim.x >> 5;
    for (int ii = warp; ii < ipb; ii += warps) {
        float* l = logits + ii * classes;
        float mx = -INFINITY;
        for (int j = lane; j < classes; j += 32) mx = fmaxf(mx, l[j]);
        mx = warp_max(mx);
        float s = 0.f;
        for (int j = lane; j < classes; j += 32) { const float e = __expf(l[j] - mx); l[j] = e; s += e; }
        s = warp_sum(s);
        const float inv = 1.f / s;
        for (int j = lane; j < classes; j += 32) l[j] *= inv;
    }
    __syncthreads();
}

constexpr int HEAD_IPB = 8;  // images per block in the head kernels (plan passes ipb <= HEAD_IPB)

// grid ceil(n/ipb); dynamic smem (ipb*c + ipb*classes) floats.
template <typename T>
__device__ void gap_dense_softmax_impl(const T* __restrict__ x, const float* __restrict__ kernel, const float* __restrict__ bias,
                                       float* __restrict__ y, int n, int hw, int c, int classes, int ipb) {
    extern __shared__ float head_smem[];
    float* pooled = head_smem;
    float* logits = head_smem + ipb * c;
    const int i0 = blockIdx.x * ipb;
    pool_images(x, pooled, i0, ipb, n, hw, c);
    __syncthreads();
    dense_softmax<HEAD_IPB>(pooled, logits, kernel, bias, ipb, c, classes);
    for (int idx = threadIdx.x; idx < ipb * classes; idx += blockDim.x) {
        const int ii = idx / classes;
        if (i0 + ii < n) y[(size_t)i0 * classes + idx] = logits[idx];
    }
}

// Training head forward: pooled (n, c), probs (n, classes), loss (n) = -log p[label], and
// dlogits (n, classes) = (p - onehot(label)) / n. A label outside [0, classes) gives loss NaN.
template <typename T>
__device__ void head_train_forward_impl(const T* __restrict__ x, const float* __restrict__ kernel, const float* __restrict__ bias,
                                        const float* __restrict__ labels, float* __restrict__ pooledOut, float* __restrict__ probs,
                                        float* __restrict__ loss, float* __restrict__ dlogits, int n, int hw, int c, int classes,
                                        int ipb) {
    extern __shared__ float head_smem[];
    float* pooled = head_smem;
    float* logits = head_smem + ipb * c;
    const int i0 = blockIdx.x * ipb;
    pool_images(x, pooled, i0, ipb, n, hw, c);
    __syncthreads();
    for (int idx = threadIdx.x; idx < ipb * c; idx += blockDim.x)
        if (i0 + idx / c < n) pooledOut[(size_t)i0 * c + idx] = pooled[idx];
    dense_softmax<HEAD_IPB>(pooled, logits, kernel, bias, ipb, c, classes);
    const float invN = 1.f / (float)n;
    for (int idx = threadIdx.x; idx < ipb * classes; idx += blockDim.x) {
        const int ii = idx / classes, j = idx - ii * classes;
        if (i0 + ii >= n) continue;
        const float lab = labels[i0 + ii];
        const int label = (int)lab;
        const float p = logits[idx];
        probs[(size_t)i0 * classes + idx] = p;
        dlogits[(size_t)i0 * classes + idx] = (p - (j == label ? 1.f : 0.f)) * invN;
        if (j == 0) {
            const bool ok = lab == (float)label && label >= 0 && label < classes;
            loss[i0 + ii] = ok ? -logf(fmaxf(logits[ii * classes + label], 1e-30f)) : __int_as_float(0x7fc00000);
        }
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
    extern "C" __global__ void __launch_bounds__(JX_THREADS) global_pool_##SUF(const T* __restrict__ x, float* __restrict__ y, int n,   \
                                                           int hw, int c, int isMax) {                                       \
        global_pool_impl<T>(x, y, n, hw, c, isMax);                                                                          \
    }                                                                                                                        \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) gap_dense_softmax_##SUF(                                                 \
        const T* __restrict__ x, const float* __restrict__ kernel, const float* __restrict__ bias, float* __restrict__ y, int n, \
        int hw, int c, int classes, int ipb) {                                                                               \
        gap_dense_softmax_impl<T>(x, kernel, bias, y, n, hw, c, classes, ipb);                                               \
    }                                                                                                                        \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) head_train_forward_##SUF(                                                \
        const T* __restrict__ x, const float* __restrict__ kernel, const float* __restrict__ bias,                           \
        const float* __restrict__ labels, float* __restrict__ pooled, float* __restrict__ probs, float* __restrict__ loss,   \
        float* __restrict__ dlogits, int n, int hw, int c, int classes, int ipb) {                                           \
        head_train_forward_impl<T>(x, kernel, bias, labels, pooled, probs, loss, dlogits, n, hw, c, classes, ipb);           \
    }                                                                                                                        \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) head_train_dx_##SUF(const float* __restrict__ kernel,                    \
                                                             const float* __restrict__ dlogits, T* __restrict__ dX, int n,    \
                                                             int hw, int c, int classes) {                                   \
        head_train_dx_impl<T>(kernel, dlogits, dX, n, hw, c, classes);                                                       \
    }

JX_POOL_KERNELS(f32, float)
JX_POOL_KERNELS(bf16, __nv_bfloat16)
JX_POOL_KERNELS(f16, __half)
