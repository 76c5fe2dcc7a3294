// Shared helpers for jxception's CUDA kernels: storage types, 8-wide loads and stores, reductions,
// and the tensor-core instructions (ldmatrix, mma.sync) as small inline-asm wrappers.
//
// Storage: activations are T = float, __nv_bfloat16 or __half (the backend's precision decides);
// parameters, batch statistics and weight gradients are always float. All arithmetic is float.
// Every kernel is an extern "C" wrapper with a suffix naming its storage (_f32, _bf16, _f16) or,
// for the convolution GEMMs, its arithmetic (_fp32 FFMA, _tf32/_bf16/_fp16 tensor cores).
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

#define JX_THREADS 256

// ------------------------------------------------------------------ scalar conversions
__device__ __forceinline__ float to_f32(float v) { return v; }
__device__ __forceinline__ float to_f32(__nv_bfloat16 v) { return __bfloat162float(v); }
__device__ __forceinline__ float to_f32(__half v) { return __half2float(v); }

template <typename T> __device__ __forceinline__ T from_f32(float v);
template <> __device__ __forceinline__ float from_f32<float>(float v) { return v; }
template <> __device__ __forceinline__ __nv_bfloat16 from_f32<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }
template <> __device__ __forceinline__ __half from_f32<__half>(float v) { return __float2half_rn(v); }

__device__ __forceinline__ float relu(float v) { return v > 0.f ? v : 0.f; }

// Keras' preprocess_input of one raw pixel v (0..255): v / 127.5f - 1f in IEEE fp32, correctly
// rounded division and no contraction whatever the compile flags (__fdiv_rn, __fsub_rn), so it is
// the very float the host computes for the float input (KerasPreprocessing.tf), then rounded to the
// activation type T as convert_f32_to_<T> rounds an uploaded float input: the uint8 path equals the
// float path bit for bit.
template <typename T> __device__ __forceinline__ float keras_pixel(uint8_t v) {
    return to_f32(from_f32<T>(__fsub_rn(__fdiv_rn((float)v, 127.5f), 1.0f)));
}

// Rounds a float to tf32 (10-bit mantissa, round to nearest, ties away) and keeps it in a float.
// (Under JX_HOST_THREADS, cuda/dev/host_threads.h gives this and every other inline-PTX helper below a
// host emulation, so the kernels built on them can run on host threads in the dev checks.)
#ifndef JX_HOST_THREADS
__device__ __forceinline__ float round_tf32(float v) {
    uint32_t r;
    asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(v));
    return __uint_as_float(r);
}
#endif

// ------------------------------------------------------------------ 8-wide loads and stores
// load8/store8 move 8 consecutive elements; p must be aligned to 8 elements (16 bytes for 16-bit
// types, 32 bytes for float). The _n variants take any count 0..8 and any alignment.
__device__ __forceinline__ void load8(const float* p, float (&v)[8]) {
    float4 a = __ldg(reinterpret_cast<const float4*>(p));
    float4 b = __ldg(reinterpret_cast<const float4*>(p) + 1);
    v[0] = a.x; v[1] = a.y; v[2] = a.z; v[3] = a.w; v[4] = b.x; v[5] = b.y; v[6] = b.z; v[7] = b.w;
}
template <typename H2>
__device__ __forceinline__ void unpack8(uint4 u, float (&v)[8]);
template <> __device__ __forceinline__ void unpack8<__nv_bfloat162>(uint4 u, float (&v)[8]) {
    const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&u);
#pragma unroll
    for (int i = 0; i < 4; i++) { float2 f = __bfloat1622float2(h[i]); v[2 * i] = f.x; v[2 * i + 1] = f.y; }
}
template <> __device__ __forceinline__ void unpack8<__half2>(uint4 u, float (&v)[8]) {
    const __half2* h = reinterpret_cast<const __half2*>(&u);
#pragma unroll
    for (int i = 0; i < 4; i++) { float2 f = __half22float2(h[i]); v[2 * i] = f.x; v[2 * i + 1] = f.y; }
}
__device__ __forceinline__ void load8(const __nv_bfloat16* p, float (&v)[8]) {
    unpack8<__nv_bfloat162>(__ldg(reinterpret_cast<const uint4*>(p)), v);
}
__device__ __forceinline__ void load8(const __half* p, float (&v)[8]) {
    unpack8<__half2>(__ldg(reinterpret_cast<const uint4*>(p)), v);
}
template <typename T>
__device__ __forceinline__ void load8_n(const T* p, int count, float (&v)[8]) {
#pragma unroll
    for (int i = 0; i < 8; i++) v[i] = i < count ? to_f32(p[i]) : 0.f;
}
// Loads 8 elements starting at p (count valid), choosing the vector path when it is allowed.
template <typename T>
__device__ __forceinline__ void load8_any(const T* p, int count, bool vec, float (&v)[8]) {
    if (vec && count == 8) load8(p, v); else load8_n(p, count, v);
}

__device__ __forceinline__ void store8(float* p, const float (&v)[8]) {
    reinterpret_cast<float4*>(p)[0] = make_float4(v[0], v[1], v[2], v[3]);
    reinterpret_cast<float4*>(p)[1] = make_float4(v[4], v[5], v[6], v[7]);
}
__device__ __forceinline__ void store8(__nv_bfloat16* p, const float (&v)[8]) {
    uint4 u;
    __nv_bfloat162* h = reinterpret_cast<__nv_bfloat162*>(&u);
#pragma unroll
    for (int i = 0; i < 4; i++) h[i] = __floats2bfloat162_rn(v[2 * i], v[2 * i + 1]);
    *reinterpret_cast<uint4*>(p) = u;
}
__device__ __forceinline__ void store8(__half* p, const float (&v)[8]) {
    uint4 u;
    __half2* h = reinterpret_cast<__half2*>(&u);
#pragma unroll
    for (int i = 0; i < 4; i++) h[i] = __floats2half2_rn(v[2 * i], v[2 * i + 1]);
    *reinterpret_cast<uint4*>(p) = u;
}
template <typename T>
__device__ __forceinline__ void store8_n(T* p, int count, const float (&v)[8]) {
#pragma unroll
    for (int i = 0; i < 8; i++) if (i < count) p[i] = from_f32<T>(v[i]);
}
template <typename T>
__device__ __forceinline__ void store8_any(T* p, int count, bool vec, const float (&v)[8]) {
    if (vec && count == 8) store8(p, v); else store8_n(p, count, v);
}

// Two consecutive elements (an even column pair of an mma accumulator).
__device__ __forceinline__ void store2(float* p, float a, float b) { *reinterpret_cast<float2*>(p) = make_float2(a, b); }
__device__ __forceinline__ void store2(__nv_bfloat16* p, float a, float b) { *reinterpret_cast<__nv_bfloat162*>(p) = __floats2bfloat162_rn(a, b); }
__device__ __forceinline__ void store2(__half* p, float a, float b) { *reinterpret_cast<__half2*>(p) = __floats2half2_rn(a, b); }
__device__ __forceinline__ void load2(const float* p, float& a, float& b) { float2 f = *reinterpret_cast<const float2*>(p); a = f.x; b = f.y; }
__device__ __forceinline__ void load2(const __nv_bfloat16* p, float& a, float& b) { float2 f = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(p)); a = f.x; b = f.y; }
__device__ __forceinline__ void load2(const __half* p, float& a, float& b) { float2 f = __half22float2(*reinterpret_cast<const __half2*>(p)); a = f.x; b = f.y; }

// ------------------------------------------------------------------ channel-group blocks
// The block layout of the 8-channels-per-thread ("_v8_") kernels (CudaLaunchPlan.channelGroupLaunch and
// ChannelSumChunks on the host): `lanes` groups of 8 channels x blockDim.x / lanes row lanes; blockIdx.x
// picks `lanes` groups. A thread's first channel ch0 (>= c for the idle lanes of the last block), its row
// lane and the row lanes' count (its stride over rows within the block).
struct ChannelGroupLane {
    int ch0, row, rows;
};
__device__ __forceinline__ ChannelGroupLane channel_group_lane(int lanes) {
    return ChannelGroupLane{(int)(blockIdx.x * lanes + threadIdx.x % lanes) * 8, (int)(threadIdx.x / lanes), (int)(blockDim.x / lanes)};
}

// The end of a channel-group reduction over a chunk of rows (blockIdx.y): every thread holds NSUM x 8
// partial sums for its 8 channels; partial[(blockIdx.y * NSUM + s) * c + ch] = the sum over the block's row
// lanes, in row-lane order, of sum s of channel ch (deterministic for a given layout). One sum at a time
// through 8 KiB of shared memory, so NSUM is not bounded by the static shared-memory limit (9 taps x 8
// channels x 256 threads would be 72 KiB). Every thread of the block must call it.
template <int NSUM>
__device__ __forceinline__ void channel_group_partials(const float (&acc)[NSUM][8], float* __restrict__ partial, int c, int lanes) {
    __shared__ float red[JX_THREADS][8];
    // thread t < lanes * 8 adds channel element (t / 8, t % 8) of sum s over the row lanes
    const int gt = threadIdx.x / 8, jt = threadIdx.x % 8, ch = (blockIdx.x * lanes + gt) * 8 + jt, rowLanes = blockDim.x / lanes;
#pragma unroll
    for (int s = 0; s < NSUM; s++) {
#pragma unroll
        for (int j = 0; j < 8; j++) red[threadIdx.x][j] = acc[s][j];
        __syncthreads();
        if ((int)threadIdx.x < lanes * 8 && ch < c) {
            float v = 0.f;
            for (int q = 0; q < rowLanes; q++) v += red[q * lanes + gt][jt];
            partial[((size_t)blockIdx.y * NSUM + s) * c + ch] = v;
        }
        __syncthreads();
    }
}

// The depthwise 3x3 'same' (stride 1) of one pixel (ni, oy, ox) for the 8 channels c0 .. c0+7 of x (n, h, w, c):
// v[j] = sum over the taps inside the image, in (ky, kx) order, of fmaf(act(x), wr[ky*3+kx][j], v) from v = 0,
// act = relu when preRelu. x 16-byte aligned per pixel (c % 8 == 0). Shared by the channel-group kernels that
// keep their 9 x 8 weights in registers (dw_forward_v8 in conv_bwd.cu, sepgemm_dw_v8 in sepgemm.cu), so both
// compute the same bits as the grid-stride kernels they replace.
template <typename T>
__device__ __forceinline__ void depthwise3x3_v8(const T* __restrict__ x, const float (&wr)[9][8], long long ni, int oy, int ox, int h, int w,
                                                int c, int c0, int preRelu, float (&v)[8]) {
#pragma unroll
    for (int j = 0; j < 8; j++) v[j] = 0.f;
#pragma unroll
    for (int ky = 0; ky < 3; ky++) {
        const int iy = oy + ky - 1;
        if (iy < 0 || iy >= h) continue;
#pragma unroll
        for (int kx = 0; kx < 3; kx++) {
            const int ix = ox + kx - 1;
            if (ix < 0 || ix >= w) continue;
            float xv[8];
            load8(x + (((size_t)ni * h + iy) * w + ix) * c + c0, xv);
#pragma unroll
            for (int j = 0; j < 8; j++) v[j] = fmaf(preRelu ? relu(xv[j]) : xv[j], wr[ky * 3 + kx][j], v[j]);
        }
    }
}

// ------------------------------------------------------------------ reductions
__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// ------------------------------------------------------------------ dynamic shared memory
// The kernel's dynamic shared memory as `type name[]`, 16-byte aligned.
#ifndef JX_HOST_THREADS
#define JX_DYNAMIC_SHARED(type, name) extern __shared__ __align__(16) type name[]
#endif

// ------------------------------------------------------------------ tensor cores (sm_80+)
__device__ __forceinline__ uint32_t smem_addr(const void* p) { return static_cast<uint32_t>(__cvta_generic_to_shared(p)); }

#ifndef JX_HOST_THREADS
// 16 bytes global -> shared, bypassing L1; srcBytes = 0 writes zeros (tails, rows beyond the range).
__device__ __forceinline__ void cp_async16(void* dst, const void* src, int srcBytes) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(smem_addr(dst)), "l"(src), "r"(srcBytes));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;"); }
template <int N> __device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;" ::"n"(N)); }

// Four 8x8 16-bit matrices; lane l gives the address of row (l % 8) of matrix (l / 8).
__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], const void* p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(smem_addr(p)));
}
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], const void* p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(smem_addr(p)));
}

#endif  // JX_HOST_THREADS

// The B fragments of one m16n8k16 step for a warp's 32 output columns: rows [k0, k0+16) and columns
// [col0, col0+32) of a row-major (k, n) 16-bit tile in shared memory with row stride ldb elements,
// as 4 n8 tiles x 2 registers (bf[j][0], bf[j][1]) for mma_*_16816. Two transposed x4 loads.
template <typename T>
__device__ __forceinline__ void ldmatrix_b_k16_n32(uint32_t (&bf)[4][2], const T* b, int ldb, int k0, int col0, int lane) {
#pragma unroll
    for (int np = 0; np < 2; np++) {
        uint32_t r[4];
        ldmatrix_x4_trans(r, b + (k0 + (lane & 7) + ((lane >> 3) & 1) * 8) * ldb + col0 + np * 16 + (lane >> 4) * 8);
        bf[2 * np][0] = r[0]; bf[2 * np][1] = r[1]; bf[2 * np + 1][0] = r[2]; bf[2 * np + 1][1] = r[3];
    }
}

#ifndef JX_HOST_THREADS
// D (16x8 fp32) += A (16x16) * B (16x8); A row-major fragment a[4], B column fragment b[2].
__device__ __forceinline__ void mma_bf16_16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
__device__ __forceinline__ void mma_f16_16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
// D (16x8 fp32) += A (16x8 tf32) * B (8x8 tf32).
__device__ __forceinline__ void mma_tf32_1688(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
#endif  // JX_HOST_THREADS
