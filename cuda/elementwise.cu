// Element-wise kernels: storage conversions, gradient accumulation, SGD, loss-scaling's unscale
// (per tensor and over every weight in one launch), ordered partial sums.
#include "common.cuh"

#define JX_GRID_STRIDE(i, count) \
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < (size_t)(count); i += (size_t)gridDim.x * blockDim.x)

// dst (count) in the activation type = src (count) fp32, rounded to nearest even.
#define JX_CONVERT(NAME, S, D)                                                                                              \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) NAME(const S* __restrict__ src, D* __restrict__ dst, long long count) { \
        JX_GRID_STRIDE(i, count) dst[i] = from_f32<D>(to_f32(src[i]));                                                     \
    }
JX_CONVERT(convert_f32_to_bf16, float, __nv_bfloat16)
JX_CONVERT(convert_f32_to_f16, float, __half)
JX_CONVERT(convert_bf16_to_f32, __nv_bfloat16, float)
JX_CONVERT(convert_f16_to_f32, __half, float)

// dst (count) in the activation type = Keras' preprocessing of src (count) uint8 raw pixels
// (keras_pixel): the uint8 input of a stem that stem_cin3_u8 does not cover, bit for bit what
// convert_f32_to_<D> makes of the host-preprocessed float input.
#define JX_PREPROCESS(NAME, D)                                                                                               \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) NAME(const uint8_t* __restrict__ src, D* __restrict__ dst, long long count) { \
        JX_GRID_STRIDE(i, count) dst[i] = from_f32<D>(keras_pixel<D>(src[i]));                                               \
    }
JX_PREPROCESS(convert_u8_to_f32, float)
JX_PREPROCESS(convert_u8_to_bf16, __nv_bfloat16)
JX_PREPROCESS(convert_u8_to_f16, __half)

// dst[i] += src[i] (same storage type). Thread per 8 elements (16-byte accesses at 16-bit storage; the
// buffers start on 256-byte boundaries), then the count % 8 tail one element per thread; each element
// is rounded once, as element by element. dst is read with a plain load: it is written in this kernel.
template <typename T>
__device__ __forceinline__ void load8_plain(const T* p, float (&v)[8]);
template <> __device__ __forceinline__ void load8_plain<float>(const float* p, float (&v)[8]) {
    const float4 a = reinterpret_cast<const float4*>(p)[0], b = reinterpret_cast<const float4*>(p)[1];
    v[0] = a.x; v[1] = a.y; v[2] = a.z; v[3] = a.w; v[4] = b.x; v[5] = b.y; v[6] = b.z; v[7] = b.w;
}
template <> __device__ __forceinline__ void load8_plain<__nv_bfloat16>(const __nv_bfloat16* p, float (&v)[8]) {
    unpack8<__nv_bfloat162>(*reinterpret_cast<const uint4*>(p), v);
}
template <> __device__ __forceinline__ void load8_plain<__half>(const __half* p, float (&v)[8]) {
    unpack8<__half2>(*reinterpret_cast<const uint4*>(p), v);
}
template <typename T>
__device__ __forceinline__ void add_in_place_impl(T* __restrict__ dst, const T* __restrict__ src, long long count) {
    const long long vectors = count / 8;
    JX_GRID_STRIDE(i, vectors) {
        float a[8], b[8];
        load8_plain(dst + i * 8, a);
        load8(src + i * 8, b);
#pragma unroll
        for (int j = 0; j < 8; j++) a[j] += b[j];
        store8(dst + i * 8, a);
    }
    const long long tail = vectors * 8;
    JX_GRID_STRIDE(i, count - tail) dst[tail + i] = from_f32<T>(to_f32(dst[tail + i]) + to_f32(src[tail + i]));
}
#define JX_ADD(SUF, T)                                                                                                     \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) add_in_place_##SUF(T* __restrict__ dst, const T* __restrict__ src,     \
                                                            long long count) {                                             \
        add_in_place_impl<T>(dst, src, count);                                                                             \
    }
JX_ADD(f32, float)
JX_ADD(bf16, __nv_bfloat16)
JX_ADD(f16, __half)

// One SGD step of element i: g = grad + wd*param; v = momentum*v + g; param -= lr*v. The per-tensor
// and the multi-tensor kernels share it, so both round alike, bit for bit.
__device__ __forceinline__ void sgd_element(float* __restrict__ param, const float* __restrict__ grad, float* __restrict__ velocity,
                                            size_t i, float lr, float momentum, float weightDecay) {
    const float g = fmaf(weightDecay, param[i], grad[i]);
    const float v = fmaf(momentum, velocity[i], g);
    velocity[i] = v;
    param[i] = fmaf(-lr, v, param[i]);
}

// Loss-scaling's unscale of element i: grad[i] *= factor; returns whether the result is Inf/NaN,
// tested on the exponent bits (immune to any fast-math flag).
__device__ __forceinline__ int unscale_element(float* __restrict__ grad, size_t i, float factor) {
    const float g = grad[i] * factor;
    grad[i] = g;
    return (__float_as_uint(g) & 0x7f800000u) == 0x7f800000u;
}

// param, grad, velocity (count) fp32: g = grad + wd*param; v = momentum*v + g; param -= lr*v.
extern "C" __global__ void __launch_bounds__(JX_THREADS) sgd_update_f32(float* __restrict__ param, const float* __restrict__ grad,
                                                    float* __restrict__ velocity, long long count, float lr, float momentum,
                                                    float weightDecay) {
    JX_GRID_STRIDE(i, count) sgd_element(param, grad, velocity, i, lr, momentum, weightDecay);
}

// grad (count) fp32 *= factor in place (loss-scaling's unscale); overflow (1) = 1 if any result is
// Inf/NaN, else untouched, so one flag zeroed per step collects every gradient's check and the host
// reads 4 bytes. One store per block that saw Inf/NaN (__syncthreads_or: every thread of the block
// reaches it after its loop).
extern "C" __global__ void __launch_bounds__(JX_THREADS) unscale_gradient_f32(float* __restrict__ grad, float* __restrict__ overflow,
                                                                                long long count, float factor) {
    int bad = 0;
    JX_GRID_STRIDE(i, count) bad |= unscale_element(grad, i, factor);
    if (__syncthreads_or(bad) && threadIdx.x == 0) *overflow = 1.f;
}

// ------------------------------------------------------------------ multi-tensor SGD and unscale
// The optimizer's step over every weight of a model in one launch each (MultiTensorPlan and
// CudaWeightUpdate on the Java side): Xception's 156 trainable tensors and 22.9M values in one launch
// instead of 156. Per element the arithmetic is sgd_element / unscale_element, so the results equal the
// per-tensor kernels' bit for bit.
//
// One device buffer, written once per plan, holds the weight table and two chunk lists, each section
// 256-byte aligned (MultiTensorPlan mirrors every offset):
//   weights  (weightCount) JxWeight, 40 bytes each, in the plan's weight order
//   chunks   (chunkCount)  JxChunk, 16 bytes each: one block per chunk (blockIdx.x), chunks of one
//            weight consecutive, in weight order; sgd's list names only stepped weights (non-null
//            velocity), unscale's names every weight. A launch gets the table and one list.

// A chunk holds JX_MT_CHUNK values of one weight (its last chunk fewer): 32 per thread of a
// 256-thread block. Xception's 22.86M trainable values in 156 tensors make 2,885 chunks (a partial
// one per tensor included: batch norm's γ/β and the bias are one small chunk each), ~2.7 waves of
// the 1,056 blocks an H100 holds at once (132 SMs x 8 blocks of 256 threads; ~3.3 waves of 864 on
// an A100): every SM is busy until the last wave, whose idle SMs cost a small part of the ~150 us
// step (458 MB at ~3 TB/s). 32768 would make ~700 blocks, under one wave: 5 or 6 blocks per SM,
// the SMs with 5 idle for a sixth of the step. The two table reads per block (56 bytes) are nothing
// against the 160 KB (20 bytes per value) a full sgd chunk moves.
#define JX_MT_CHUNK 8192

// One weight. Byte layout (little-endian, 8-byte aligned; MultiTensorPlan.WEIGHT_* mirror it):
//   offset  0  float*     param     (count) fp32, stepped in place by sgd
//   offset  8  float*     grad      (count) fp32, read by sgd, scaled in place by unscale
//   offset 16  float*     velocity  (count) fp32 momentum, updated by sgd; null: never stepped
//   offset 24  long long  count     values of the weight (>= 1)
//   offset 32  int        decays    1: weight decay applies (sgd uses weightDecay), 0: it uses 0
//   offset 36  int        (padding, 0)
//   40 bytes
struct JxWeight {
    float* param;
    float* grad;
    float* velocity;
    long long count;
    int decays;
    int pad;
};
// (MultiTensorPlanTest reads these asserts and compares them with the Java constants.)
static_assert(sizeof(JxWeight) == 40, "JxWeight layout: MultiTensorPlan.WEIGHT_BYTES");
static_assert(offsetof(JxWeight, param) == 0, "JxWeight layout: MultiTensorPlan.WEIGHT_PARAM");
static_assert(offsetof(JxWeight, grad) == 8, "JxWeight layout: MultiTensorPlan.WEIGHT_GRAD");
static_assert(offsetof(JxWeight, velocity) == 16, "JxWeight layout: MultiTensorPlan.WEIGHT_VELOCITY");
static_assert(offsetof(JxWeight, count) == 24, "JxWeight layout: MultiTensorPlan.WEIGHT_COUNT");
static_assert(offsetof(JxWeight, decays) == 32, "JxWeight layout: MultiTensorPlan.WEIGHT_DECAYS");

// One chunk: the values [start, min(start + JX_MT_CHUNK, count)) of weight `weight`. Byte layout:
//   offset  0  int        weight    index into the weight table
//   offset  4  int        (padding, 0)
//   offset  8  long long  start     first value, a multiple of JX_MT_CHUNK
//   16 bytes
struct JxChunk {
    int weight;
    int pad;
    long long start;
};
static_assert(sizeof(JxChunk) == 16, "JxChunk layout: MultiTensorPlan.CHUNK_BYTES");
static_assert(offsetof(JxChunk, weight) == 0, "JxChunk layout: MultiTensorPlan.CHUNK_WEIGHT");
static_assert(offsetof(JxChunk, start) == 8, "JxChunk layout: MultiTensorPlan.CHUNK_START");

// sgd_update_f32 over the stepped weights: block b steps chunk b of `chunks` with
// weightDecay if the weight decays, else 0 (sgdUpdate's wd = decays ? weightDecay : 0).
extern "C" __global__ void __launch_bounds__(JX_THREADS) sgd_update_multi_f32(const JxWeight* __restrict__ weights,
                                                                                const JxChunk* __restrict__ chunks, float lr,
                                                                                float momentum, float weightDecay) {
    const JxChunk c = chunks[blockIdx.x];
    const JxWeight w = weights[c.weight];
    const float wd = w.decays ? weightDecay : 0.f;
    const long long end = min(c.start + (long long)JX_MT_CHUNK, w.count);
    for (long long i = c.start + threadIdx.x; i < end; i += JX_THREADS) sgd_element(w.param, w.grad, w.velocity, i, lr, momentum, wd);
}

// unscale_gradient_f32 over every weight's gradient: block b scales chunk b of `chunks` by factor;
// overflow (1 fp32) = 1 if any result is Inf/NaN, else untouched: one store per block that saw one.
extern "C" __global__ void __launch_bounds__(JX_THREADS) unscale_gradient_multi_f32(const JxWeight* __restrict__ weights,
                                                                                      const JxChunk* __restrict__ chunks,
                                                                                      float* __restrict__ overflow, float factor) {
    const JxChunk c = chunks[blockIdx.x];
    const JxWeight w = weights[c.weight];
    const long long end = min(c.start + (long long)JX_MT_CHUNK, w.count);
    int bad = 0;
    for (long long i = c.start + threadIdx.x; i < end; i += JX_THREADS) bad |= unscale_element(w.grad, i, factor);
    if (__syncthreads_or(bad) && threadIdx.x == 0) *overflow = 1.f;
}

// out[i] = sum over k of partial[k*count + i], k in order (deterministic split-K reduction).
extern "C" __global__ void __launch_bounds__(JX_THREADS) reduce_partials(const float* __restrict__ partial, float* __restrict__ out,
                                                     int chunks, long long count) {
    JX_GRID_STRIDE(i, count) {
        float s = 0.f;
        for (int k = 0; k < chunks; k++) s += partial[(size_t)k * count + i];
        out[i] = s;
    }
}
