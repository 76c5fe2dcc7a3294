// Element-wise kernels: storage conversions, gradient accumulation, SGD, loss-scaling's unscale,
// ordered partial sums.
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

// dst[i] += src[i] (same storage type).
#define JX_ADD(SUF, T)                                                                                                     \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) add_in_place_##SUF(T* __restrict__ dst, const T* __restrict__ src,     \
                                                            long long count) {                                             \
        JX_GRID_STRIDE(i, count) dst[i] = from_f32<T>(to_f32(dst[i]) + to_f32(src[i]));                                    \
    }
JX_ADD(f32, float)
JX_ADD(bf16, __nv_bfloat16)
JX_ADD(f16, __half)

// param, grad, velocity (count) fp32: g = grad + wd*param; v = momentum*v + g; param -= lr*v.
extern "C" __global__ void __launch_bounds__(JX_THREADS) sgd_update_f32(float* __restrict__ param, const float* __restrict__ grad,
                                                    float* __restrict__ velocity, long long count, float lr, float momentum,
                                                    float weightDecay) {
    JX_GRID_STRIDE(i, count) {
        const float g = fmaf(weightDecay, param[i], grad[i]);
        const float v = fmaf(momentum, velocity[i], g);
        velocity[i] = v;
        param[i] = fmaf(-lr, v, param[i]);
    }
}

// grad (count) fp32 *= factor in place (loss-scaling's unscale); overflow (1) = 1 if any result is
// Inf/NaN, else untouched, so one flag zeroed per step collects every gradient's check and the host
// reads 4 bytes. Inf/NaN is tested on the exponent bits (immune to any fast-math flag); one store per
// block that saw one (__syncthreads_or: every thread of the block reaches it after its loop).
extern "C" __global__ void __launch_bounds__(JX_THREADS) unscale_gradient_f32(float* __restrict__ grad, float* __restrict__ overflow,
                                                                                long long count, float factor) {
    int bad = 0;
    JX_GRID_STRIDE(i, count) {
        const float g = grad[i] * factor;
        grad[i] = g;
        bad |= (__float_as_uint(g) & 0x7f800000u) == 0x7f800000u;
    }
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
