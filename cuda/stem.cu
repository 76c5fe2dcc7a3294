// Fast paths for Xception's two stem convolutions (3x3 'valid', kind CONV3X3_VALID), chosen by
// StemConvPath (-Djxception.cuda.stem=new) in place of the generic conv_bn_relu GEMM of conv_fwd.cu.
// Same operands and epilogue as conv_bn_relu:
//   y[m, c] = postRelu?( z[m, c]*scale[c] + shift[c] + residual[m, c] )   (scale/shift, residual optional)
//   z[m, c] = sum_{ky,kx,ci} pre(x[ni, oy*s+ky, ox*s+kx, ci]) * w1[ky, kx, ci, c],   pre = relu if preRelu
// x (n, h, w, cin) and y, residual (n, oh, ow, cout) NHWC in the activation type T (stem_cin3_u8_*: x uint8
// raw pixels, each read as keras_pixel<T>(v) = the float path's preprocessed input); w1 (3,3,cin,cout),
// scale, shift (cout) fp32; oh = (h-3)/s + 1, ow = (w-3)/s + 1; rows m = (ni*oh + oy)*ow + ox.
//
// stem_cin3_<f32|bf16|f16>  block1_conv1 (cin 3): direct convolution in fp32 FFMA, memory bound.
//   Work item = (output pixel m, group of 8 output channels), channel group fastest, so a warp writes
//   consecutive 16-byte (bf16) or 32-byte (fp32) pieces of y. The 27*cout weights sit in shared memory
//   with scale and shift (read as float4, broadcast to the threads of one channel group); each item reads its 27 inputs
//   through L1 (the 4 items of a pixel share them) and sums k = (ky*3+kx)*3+ci in order, as the
//   FP32 conv_bn_relu does. Needs cin == 3, cout % 8 == 0, cout <= 256. Grid-stride loop.
//
// stem_mma_<bf16|fp16|tf32>  block1_conv2 (cin 32 -> cout 64, stride 1): implicit GEMM on tensor cores,
//   mma.sync m16n8k16 (bf16/fp16) or m16n8k8 (tf32: fp32 storage, operands rounded to tf32) with fp32
//   accumulation. M = output pixels, N = cout (one 64-wide tile, columns
//   >= cout are zero), K = 9*cin ordered k = ky*3*cin + (kx*cin + ci). For one ky the 3*cin values of
//   a row are 3 adjacent input pixels, i.e. one contiguous 3*cin run of x: the A tile of a K stage
//   (128 rows x 3*cin) is 128 contiguous runs, copied with 16-byte cp.async into a two-deep ring.
//   The whole B = w1 (9*cin x 64, converted to 16 bits) stays in shared memory; blocks are
//   persistent over 128-row M tiles, so B is read once per block. 8 warps = 4 (M) x 2 (N), each
//   32 rows x 32 columns. Needs cin % 16 == 0, cout % 8 == 0, cout <= 64, no preRelu.
//   Shared memory (dynamic): B [9*cin][72] then A [2][128][3*cin + 8] in the storage type (tf32: fp32,
//   A rows 3*cin + 4), then the tile's 128 row offsets (int64): 95,744 B (16-bit) / 186,368 B (tf32) for cin 32.
#include "common.cuh"

namespace {

// ------------------------------------------------------------------ stem_cin3

// A stem input as the float the convolution multiplies: an activation as stored (TX = T), or a raw
// uint8 pixel preprocessed on load (TX = uint8_t, the uint8 ingestion path: keras_pixel).
template <typename TX, typename T> struct StemInput {
    __device__ __forceinline__ static float load(TX v) { return to_f32(v); }
};
template <typename T> struct StemInput<uint8_t, T> {
    __device__ __forceinline__ static float load(uint8_t v) { return keras_pixel<T>(v); }
};

template <typename TX, typename T>
__device__ __forceinline__ void stem_cin3(const TX* __restrict__ x, const float* __restrict__ w1, const float* __restrict__ scale,
                                          const float* __restrict__ shift, const T* __restrict__ residual, T* __restrict__ y, int n,
                                          int h, int w, int cout, int stride, int preRelu, int postRelu) {
    JX_DYNAMIC_SHARED(float, wsm);  // [27][cout] weights, then scale [cout], shift [cout] (when given)
    const bool hasScale = scale != nullptr;
    for (int i = threadIdx.x; i < 27 * cout; i += JX_THREADS) wsm[i] = __ldg(w1 + i);
    if (hasScale) {
        for (int i = threadIdx.x; i < cout; i += JX_THREADS) {
            wsm[27 * cout + i] = __ldg(scale + i);
            wsm[28 * cout + i] = __ldg(shift + i);
        }
    }
    __syncthreads();
    const int oh = (h - 3) / stride + 1, ow = (w - 3) / stride + 1;
    const int ohw = oh * ow;
    const int G = cout >> 3;
    const long long total = (long long)n * ohw * G;  // < 2^31 (StemConvPath checks): items index in int
    for (long long it = (long long)blockIdx.x * JX_THREADS + threadIdx.x; it < total; it += (long long)gridDim.x * JX_THREADS) {
        const int item = (int)it;
        const int m = item / G;
        const int cg = item - m * G;
        const int ni = m / ohw;
        const int r = m - ni * ohw;
        const int oy = r / ow;
        const int ox = r - oy * ow;
        const TX* xp = x + (((size_t)ni * h + (size_t)oy * stride) * w + (size_t)ox * stride) * 3;
        const float* wp = wsm + cg * 8;
        float acc[8];
#pragma unroll
        for (int j = 0; j < 8; j++) acc[j] = 0.f;
#pragma unroll
        for (int ky = 0; ky < 3; ky++)
#pragma unroll
            for (int t = 0; t < 9; t++) {  // t = kx*3 + ci: 9 consecutive elements of one input row
                float v = StemInput<TX, T>::load(xp[(size_t)ky * w * 3 + t]);
                if (preRelu) v = relu(v);
                const float4 a = *reinterpret_cast<const float4*>(wp + (ky * 9 + t) * cout);
                const float4 b = *reinterpret_cast<const float4*>(wp + (ky * 9 + t) * cout + 4);
                acc[0] = fmaf(v, a.x, acc[0]); acc[1] = fmaf(v, a.y, acc[1]);
                acc[2] = fmaf(v, a.z, acc[2]); acc[3] = fmaf(v, a.w, acc[3]);
                acc[4] = fmaf(v, b.x, acc[4]); acc[5] = fmaf(v, b.y, acc[5]);
                acc[6] = fmaf(v, b.z, acc[6]); acc[7] = fmaf(v, b.w, acc[7]);
            }
        const size_t o = (size_t)m * cout + cg * 8;
        const int c0 = cg * 8;
        if (hasScale) {
            const float* sc = wsm + 27 * cout + c0;
            const float* sh = wsm + 28 * cout + c0;
#pragma unroll
            for (int j = 0; j < 8; j++) acc[j] = fmaf(acc[j], sc[j], sh[j]);
        }
        if (residual) {
            float rv[8];
            load8(residual + o, rv);
#pragma unroll
            for (int j = 0; j < 8; j++) acc[j] += rv[j];
        }
        if (postRelu) {
#pragma unroll
            for (int j = 0; j < 8; j++) acc[j] = relu(acc[j]);
        }
        store8(y + o, acc);
    }
}

// ------------------------------------------------------------------ stem_mma

constexpr int MMA_BM = 128;     // output pixels per tile
constexpr int MMA_BN = 64;      // output channels (one tile; columns >= cout are zero)
constexpr int MMA_LDB = MMA_BN + 8;  // B row stride (elements): conflict-free ldmatrix.trans
constexpr int MMA_APAD = 8;     // A row padding (elements): row stride 3*cin+8 is conflict-free for ldmatrix
constexpr int MMA_APAD_TF32 = 4;  // fp32 A (tf32): row stride 3*cin+4 words, conflict-free scalar fragment loads

enum MmaMath { MMA_BF16 = 0, MMA_FP16 = 1, MMA_TF32 = 2 };
template <int MATH> struct MmaTypes { using T = __nv_bfloat16; static constexpr int APAD = MMA_APAD; };
template <> struct MmaTypes<MMA_FP16> { using T = __half; static constexpr int APAD = MMA_APAD; };
template <> struct MmaTypes<MMA_TF32> { using T = float; static constexpr int APAD = MMA_APAD_TF32; };

#ifndef JX_HOST_THREADS  // (host_threads.h emulates these for the dev checks)
// cp.async through L1 (.ca: the stem re-reads neighbouring pixels), with "memory" clobbers; common.cuh's is .cg.
__device__ __forceinline__ void cp_async16(void* smem, const void* gmem, bool valid) {
    // src-size 0 fills the 16 bytes with zeros (rows past M)
    asm volatile("cp.async.ca.shared.global [%0], [%1], 16, %2;" ::"r"(smem_addr(smem)), "l"(gmem), "r"(valid ? 16 : 0) : "memory");
}
__device__ __forceinline__ void stem_cp_async_commit() { asm volatile("cp.async.commit_group;" ::: "memory"); }
template <int N> __device__ __forceinline__ void stem_cp_async_wait() { asm volatile("cp.async.wait_group %0;" ::"n"(N) : "memory"); }
#else
__device__ __forceinline__ void stem_cp_async_commit() {}
template <int N> __device__ __forceinline__ void stem_cp_async_wait() {}
#endif

// rowBase[r] = element offset in x of input pixel (ni, oy*s, ox*s) for row r of M tile `tile`, -1 past M.
__device__ __forceinline__ void stem_mma_rows(long long* rowBase, int tile, int M, int h, int w, int cin, int stride, int ow, int ohw) {
    if (threadIdx.x < MMA_BM) {
        const int m = tile * MMA_BM + threadIdx.x;
        long long b = -1;
        if (m < M) {
            const int ni = m / ohw;
            const int r = m - ni * ohw;
            const int oy = r / ow;
            const int ox = r - oy * ow;
            b = (((long long)ni * h + (long long)oy * stride) * w + (long long)ox * stride) * cin;
        }
        rowBase[threadIdx.x] = b;
    }
}

// Issues the copies of one K stage: A[row][0 .. 3*cin) = x[rowBase[row] + kyOff ..] (kyOff = ky*w*cin: the
// 3 adjacent pixels ox*s .. ox*s+2 of input row oy*s+ky). Thread t copies 16-byte chunks t, t+256, ..;
// (row, chunk) advance by increments, no division per chunk.
template <typename T>
__device__ __forceinline__ void stem_mma_load_a(T* As, int lda, const T* __restrict__ x, const long long* rowBase, long long kyOff, int cin) {
    constexpr int EPC = 16 / sizeof(T);  // elements per 16-byte chunk
    const int cpr = 3 * cin / EPC;       // chunks per row
    const int dRow = JX_THREADS / cpr, dC = JX_THREADS - dRow * cpr;
    int row = threadIdx.x / cpr, c = threadIdx.x - row * cpr;
    while (row < MMA_BM) {
        const long long b = rowBase[row];
        cp_async16(As + row * lda + c * EPC, b >= 0 ? x + b + kyOff + c * EPC : x, b >= 0);
        row += dRow;
        c += dC;
        if (c >= cpr) { c -= cpr; row++; }
    }
}

template <int MATH, typename T = typename MmaTypes<MATH>::T>
__device__ __forceinline__ void stem_mma(const T* __restrict__ x, const float* __restrict__ w1, const float* __restrict__ scale,
                                         const float* __restrict__ shift, const T* __restrict__ residual, T* __restrict__ y, int n, int h,
                                         int w, int cin, int cout, int stride, int postRelu) {
    JX_DYNAMIC_SHARED(unsigned char, smem_raw);
    const int K = 9 * cin;
    const int lda = 3 * cin + MmaTypes<MATH>::APAD;
    T* Bs = reinterpret_cast<T*>(smem_raw);  // [K][MMA_LDB]
    T* As = Bs + (size_t)K * MMA_LDB;         // [2][MMA_BM][lda]
    long long* rowBase = reinterpret_cast<long long*>(As + 2 * MMA_BM * lda);  // [MMA_BM], the rows of the tile being loaded
    const int oh = (h - 3) / stride + 1, ow = (w - 3) / stride + 1;
    const int ohw = oh * ow;
    const int M = n * ohw;
    const int mTiles = (M + MMA_BM - 1) / MMA_BM;
    const int myTiles = blockIdx.x < mTiles ? (mTiles - 1 - (int)blockIdx.x) / (int)gridDim.x + 1 : 0;
    const int stages = 3 * myTiles;  // K stages (ky) over all of this block's tiles
    if (stages == 0) return;

    // stage 0 in flight while B is converted
    const long long rowStep = (long long)w * cin;  // kyOff per ky
    stem_mma_rows(rowBase, blockIdx.x, M, h, w, cin, stride, ow, ohw);
    __syncthreads();
    stem_mma_load_a(As, lda, x, rowBase, 0, cin);
    stem_cp_async_commit();
    for (int i = threadIdx.x; i < K * (MMA_BN / 4); i += JX_THREADS) {
        const int k = i / (MMA_BN / 4), c = (i % (MMA_BN / 4)) * 4;
        float v[4];
#pragma unroll
        for (int j = 0; j < 4; j++) v[j] = c + j < cout ? __ldg(w1 + (size_t)k * cout + c + j) : 0.f;
        T* d = Bs + k * MMA_LDB + c;
#pragma unroll
        for (int j = 0; j < 4; j++) d[j] = from_f32<T>(MATH == MMA_TF32 ? round_tf32(v[j]) : v[j]);
    }

    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int wm = warp >> 1, wn = warp & 1;  // 4 (M) x 2 (N) warps
    const int nk16 = (3 * cin) >> 4;
    float acc[2][4][4];
#pragma unroll
    for (int a = 0; a < 2; a++)
#pragma unroll
        for (int b = 0; b < 4; b++)
#pragma unroll
            for (int c = 0; c < 4; c++) acc[a][b][c] = 0.f;

    for (int st = 0; st < stages; st++) {
        const int tileIdx = st / 3, ky = st - tileIdx * 3;
        const int tile = blockIdx.x + tileIdx * gridDim.x;
        if (st + 1 < stages) {
            const int nt = (st + 1) / 3, nky = st + 1 - nt * 3;
            if (nky == 0) {  // next tile: its rows (every read of the previous rows ended before the last barrier)
                stem_mma_rows(rowBase, blockIdx.x + nt * gridDim.x, M, h, w, cin, stride, ow, ohw);
                __syncthreads();
            }
            stem_mma_load_a(As + ((st + 1) & 1) * MMA_BM * lda, lda, x, rowBase, nky * rowStep, cin);
            stem_cp_async_commit();
            stem_cp_async_wait<1>();
        } else {
            stem_cp_async_wait<0>();
        }
        __syncthreads();  // stage st (and, at st = 0, B) visible to every warp
        const T* A = As + (st & 1) * MMA_BM * lda;
        const T* B = Bs + (size_t)ky * 3 * cin * MMA_LDB;
        if (MATH == MMA_TF32) {
            // m16n8k8: A rounded to tf32 (rna) as it is loaded, as conv_bn_relu_tf32 rounds it into shared memory
            const float* Af = reinterpret_cast<const float*>(A);
            const float* Bf = reinterpret_cast<const float*>(B);
            const int g = lane >> 2, t = lane & 3;
            for (int k8 = 0; k8 < nk16 * 2; k8++) {
                uint32_t af[2][4];
#pragma unroll
                for (int mt = 0; mt < 2; mt++) {
                    const float* a = Af + (wm * 32 + mt * 16 + g) * lda + k8 * 8 + t;
                    af[mt][0] = __float_as_uint(round_tf32(a[0]));
                    af[mt][1] = __float_as_uint(round_tf32(a[8 * lda]));
                    af[mt][2] = __float_as_uint(round_tf32(a[4]));
                    af[mt][3] = __float_as_uint(round_tf32(a[8 * lda + 4]));
                }
#pragma unroll
                for (int j = 0; j < 4; j++) {
                    const float* b = Bf + (k8 * 8 + t) * MMA_LDB + wn * 32 + j * 8 + g;
                    const uint32_t b0 = __float_as_uint(b[0]), b1 = __float_as_uint(b[4 * MMA_LDB]);
#pragma unroll
                    for (int mt = 0; mt < 2; mt++) mma_tf32_1688(acc[mt][j], af[mt], b0, b1);
                }
            }
        } else {
            for (int k16 = 0; k16 < nk16; k16++) {
                uint32_t af[2][4];
#pragma unroll
                for (int mt = 0; mt < 2; mt++) ldmatrix_x4(af[mt], A + (wm * 32 + mt * 16 + (lane & 15)) * lda + k16 * 16 + (lane >> 4) * 8);
                uint32_t bf[4][2];
                ldmatrix_b_k16_n32(bf, B, MMA_LDB, k16 * 16, wn * 32, lane);
#pragma unroll
                for (int mt = 0; mt < 2; mt++)
#pragma unroll
                    for (int j = 0; j < 4; j++) {
                        if (MATH == MMA_BF16) mma_bf16_16816(acc[mt][j], af[mt], bf[j][0], bf[j][1]);
                        else mma_f16_16816(acc[mt][j], af[mt], bf[j][0], bf[j][1]);
                    }
            }
        }
        if (ky == 2) {  // tile done: epilogue straight from the accumulators, then reset
            const int gq = lane >> 2, tq = lane & 3;
#pragma unroll
            for (int mt = 0; mt < 2; mt++)
#pragma unroll
                for (int j = 0; j < 4; j++) {
                    const int col = wn * 32 + j * 8 + 2 * tq;  // even; cout % 8 == 0, so col+1 < cout when col < cout
                    if (col >= cout) continue;
                    float s0 = 1.f, s1 = 1.f, h0 = 0.f, h1 = 0.f;
                    if (scale) { s0 = __ldg(scale + col); s1 = __ldg(scale + col + 1); h0 = __ldg(shift + col); h1 = __ldg(shift + col + 1); }
#pragma unroll
                    for (int half = 0; half < 2; half++) {
                        const int row = tile * MMA_BM + wm * 32 + mt * 16 + gq + half * 8;
                        if (row >= M) continue;
                        float v0 = acc[mt][j][2 * half], v1 = acc[mt][j][2 * half + 1];
                        if (scale) { v0 = fmaf(v0, s0, h0); v1 = fmaf(v1, s1, h1); }
                        const size_t o = (size_t)row * cout + col;
                        if (residual) { float r0, r1; load2(residual + o, r0, r1); v0 += r0; v1 += r1; }
                        if (postRelu) { v0 = relu(v0); v1 = relu(v1); }
                        store2(y + o, v0, v1);
                    }
                }
#pragma unroll
            for (int a = 0; a < 2; a++)
#pragma unroll
                for (int b = 0; b < 4; b++)
#pragma unroll
                    for (int c = 0; c < 4; c++) acc[a][b][c] = 0.f;
        }
        __syncthreads();  // every warp is done with buffer st & 1 before stage st + 2 overwrites it
    }
}

}  // namespace

// Entry points. stem_cin3: grid-stride over n*oh*ow*(cout/8) items; dynamic shared 29*cout*4 bytes.
// stem_cin3_u8_<T>: x (n, h, w, 3) NHWC uint8 raw pixels, preprocessed on load (uint8 ingestion).
#define JX_STEM_CIN3(NAME, TX, T)                                                                                          \
    extern "C" __global__ void __launch_bounds__(JX_THREADS)                                                           \
    NAME(const TX* __restrict__ x, const float* __restrict__ w1, const float* __restrict__ scale, const float* __restrict__ shift, \
         const T* __restrict__ residual, T* __restrict__ y, int n, int h, int w, int cout, int stride, int preRelu, int postRelu) { \
        stem_cin3<TX, T>(x, w1, scale, shift, residual, y, n, h, w, cout, stride, preRelu, postRelu);                      \
    }
JX_STEM_CIN3(stem_cin3_f32, float, float)
JX_STEM_CIN3(stem_cin3_bf16, __nv_bfloat16, __nv_bfloat16)
JX_STEM_CIN3(stem_cin3_f16, __half, __half)
JX_STEM_CIN3(stem_cin3_u8_f32, uint8_t, float)
JX_STEM_CIN3(stem_cin3_u8_bf16, uint8_t, __nv_bfloat16)
JX_STEM_CIN3(stem_cin3_u8_f16, uint8_t, __half)

// stem_mma: grid = min(M tiles, resident blocks), persistent over 128-row tiles; dynamic shared
// (9*cin*72 + 2*128*(3*cin+8)) * 2 + 128*8 bytes (16-bit), (9*cin*72 + 2*128*(3*cin+4)) * 4 + 128*8 (tf32).
// Two 16-bit blocks per SM at cin 32 on H100, one tf32 block (<= 128 registers either way).
#define JX_STEM_MMA(NAME, T, MATH)                                                                                          \
    extern "C" __global__ void __launch_bounds__(JX_THREADS, 2)                                                        \
    NAME(const T* __restrict__ x, const float* __restrict__ w1, const float* __restrict__ scale, const float* __restrict__ shift, \
         const T* __restrict__ residual, T* __restrict__ y, int n, int h, int w, int cin, int cout, int stride, int postRelu) { \
        stem_mma<MATH>(x, w1, scale, shift, residual, y, n, h, w, cin, cout, stride, postRelu);                             \
    }
JX_STEM_MMA(stem_mma_bf16, __nv_bfloat16, MMA_BF16)
JX_STEM_MMA(stem_mma_fp16, __half, MMA_FP16)
JX_STEM_MMA(stem_mma_tf32, float, MMA_TF32)
