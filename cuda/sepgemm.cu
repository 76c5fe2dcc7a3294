// The "split" separable convolution for 16-bit activations (BF16/FP16): the same function as
// sepconv_bn in conv_fwd.cu,
//
//   y[m, co] = postRelu?( (sum_k A[m, k] * W2[k, co]) * scale[co] + shift[co] + residual[m, co] )
//   A[m, k]  = round16( sum_{ky,kx} act(x[n, oy+ky-1, ox+kx-1, k]) * dw[ky, kx, k] )   (zero outside, TF 'same')
//   act      = preRelu ? relu : identity;  m = (n*H + oy)*W + ox
//
// in three kernels instead of one, so the pointwise GEMM runs as a plain dense tensor-core GEMM:
//   sepgemm_pack_b_<math>  W2 (cin, cout) fp32            -> B (kPad, nPad) 16-bit, zero padded
//   sepgemm_dw_<math>      x (n, h, w, cin) 16-bit, dw     -> A (rows, kPad) 16-bit, rows [row0, row0+rows) of M (sepgemm_dw_tf32: fp32)
//   sepgemm_gemm_<math>    A (rows, kPad) x B (kPad, nPad) -> y rows [row0, row0+rows) (n, h, w, cout), BN/residual/ReLU fused
// kPad = Cin rounded up to 32 (BK) and nPad = Cout rounded up to 128 (BN): the padding is written
// as zeros, so the GEMM's K loop and B loads need no predicates; only rows beyond M (zero-filled
// by cp.async) and columns beyond cout (not stored) are masked. A is fp32-accumulated and rounded to
// 16 bits once, exactly as the fused kernel stores its depthwise tile in shared memory.
// The host (SeparableGemmPath) processes M in chunks of rows so that A's scratch stays bounded.
//
// GEMM: block tile 128 x 128 x 32, 256 threads = 8 warps as 2 (M) x 4 (N), each warp 64 x 32
// (4 x 4 mma.sync m16n8k16 tiles, fp32 accumulators); a 4-stage cp.async pipeline of A [128][40]
// and B [32][136] tiles (16-byte row padding: conflict-free ldmatrix); ldmatrix for A, ldmatrix.trans
// for B. Blocks run along N first (blockIdx.x = output-channel tile) so the blocks that share an A
// row tile are resident together and A comes from DRAM once.
#include "common.cuh"

namespace sepgemm {

constexpr int BM = 128, BN = 128, BK = 32, STAGES = 4;
constexpr int LDA = BK + 8;   // A stage row stride (elements)
constexpr int LDB = BN + 8;   // B stage row stride (elements)
constexpr int A_STAGE = BM * LDA, B_STAGE = BK * LDB;  // elements per stage
// dynamic shared memory: STAGES * (A_STAGE + B_STAGE) * 2 bytes = 75,776 (SeparableGemmPath.GEMM_SHARED_BYTES)

enum Math { BF16 = 2, FP16 = 3 };
template <int MATH> struct Types;
template <> struct Types<BF16> { using T = __nv_bfloat16; };
template <> struct Types<FP16> { using T = __half; };

// ------------------------------------------------------------------ B: W2 packed once per call
template <typename T>
__device__ __forceinline__ void pack_b(const float* __restrict__ w2, T* __restrict__ b, int cin, int cout, int kPad, int nPad) {
    const size_t total = (size_t)kPad * nPad;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        const int k = (int)(i / nPad), c = (int)(i % nPad);
        b[i] = from_f32<T>(k < cin && c < cout ? __ldg(w2 + (size_t)k * cout + c) : 0.f);
    }
}

// ------------------------------------------------------------------ A: the depthwise producer
// One thread per (row, 8 consecutive columns of kPad); lanes run along the columns of a row, so a
// warp reads consecutive channels of one pixel (16-byte loads when cin % 8 == 0). Columns >= cin
// are written as zeros.
template <typename T>
__device__ __forceinline__ void depthwise_rows(const T* __restrict__ x, const float* __restrict__ dw, T* __restrict__ a, int h, int w,
                                               int cin, int kPad, long long row0, int rows, int preRelu) {
    const int groups = kPad >> 3;
    const bool vec = (cin & 7) == 0;
    const size_t total = (size_t)rows * groups;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        const int c0 = (int)(i % groups) * 8;
        const size_t r = i / groups;
        const int cnt = cin - c0;  // valid columns of this group (<= 0: padding)
        float v[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
        if (cnt > 0) {
            long long pix = row0 + (long long)r;
            const int ox = (int)(pix % w);
            pix /= w;
            const int oy = (int)(pix % h);
            const long long ni = pix / h;
            const int c8 = min(8, cnt);
#pragma unroll
            for (int ky = 0; ky < 3; ky++) {
                const int iy = oy + ky - 1;
                if (iy < 0 || iy >= h) continue;
#pragma unroll
                for (int kx = 0; kx < 3; kx++) {
                    const int ix = ox + kx - 1;
                    if (ix < 0 || ix >= w) continue;
                    float xv[8], wv[8];
                    load8_any(x + (((size_t)ni * h + iy) * w + ix) * cin + c0, c8, vec, xv);
                    load8_any(dw + (size_t)(ky * 3 + kx) * cin + c0, c8, vec, wv);
#pragma unroll
                    for (int j = 0; j < 8; j++) v[j] = fmaf(preRelu ? relu(xv[j]) : xv[j], wv[j], v[j]);
                }
            }
        }
        store8(a + r * kPad + c0, v);  // kPad % 32 == 0: 16-byte aligned
    }
}

// The same A with the 3x3 weights in registers (cin % 8 == 0, every Xception sepconv): depthwise_rows gives
// consecutive threads consecutive channel groups and loads each tap's 8 fp32 weights per pixel (2 float4
// loads of 4 L1 wavefronts each per tap, twice the wavefronts of the 16-bit x tap) and does three 64-bit
// divisions per pixel. Here a thread owns one group of 8 columns of kPad for the whole launch (the layout of
// channel_group_lane: `lanes` groups x 256 / lanes row lanes; grid (ceil(kPad / 8 / lanes), rowBlocks)),
// keeps its 72 weights in registers and strides over the chunk's rows; a group at or past cin writes zeros.
// Same taps, order and fmaf: A equals depthwise_rows' bit for bit (so the fused Hopper kernel still equals
// the split path bit for bit).
template <typename T>
__device__ __forceinline__ void depthwise_rows_v8(const T* __restrict__ x, const float* __restrict__ dw, T* __restrict__ a, int h, int w,
                                                  int cin, int kPad, long long row0, int rows, int preRelu, int lanes) {
    const ChannelGroupLane lane = channel_group_lane(lanes);
    const int c0 = lane.ch0;
    if (c0 >= kPad) return;
    const bool inside = c0 < cin;  // cin % 8 == 0: a group is all channels or all padding
    float wr[9][8];
#pragma unroll
    for (int t = 0; t < 9; t++) {
#pragma unroll
        for (int j = 0; j < 8; j++) wr[t][j] = inside ? __ldg(dw + (size_t)t * cin + c0 + j) : 0.f;
    }
    for (int r = blockIdx.y * lane.rows + lane.row; r < rows; r += gridDim.y * lane.rows) {
        float v[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
        if (inside) {
            const long long pix = row0 + r;
            depthwise3x3_v8(x, wr, pix / ((long long)w * h), (int)((pix / w) % h), (int)(pix % w), h, w, cin, c0, preRelu, v);
        }
        store8(a + (size_t)r * kPad + c0, v);
    }
}

// ------------------------------------------------------------------ the GEMM
template <typename T>
__device__ __forceinline__ void load_stage(T* As, T* Bs, const T* __restrict__ a, const T* __restrict__ b, int m0, int n0, int kt,
                                           int rows, int kPad, int nPad) {
    const int tid = threadIdx.x;
#pragma unroll
    for (int i = 0; i < BM * BK / 8 / JX_THREADS; i++) {  // A: 128 rows x 4 chunks of 8
        const int idx = tid + i * JX_THREADS;
        const int r = idx >> 2, c = (idx & 3) * 8;
        const int row = m0 + r;
        const bool ok = row < rows;
        cp_async16(As + r * LDA + c, a + (size_t)(ok ? row : 0) * kPad + kt * BK + c, ok ? 16 : 0);
    }
#pragma unroll
    for (int i = 0; i < BK * BN / 8 / JX_THREADS; i++) {  // B: 32 rows x 16 chunks of 8
        const int idx = tid + i * JX_THREADS;
        const int r = idx >> 4, c = (idx & 15) * 8;
        cp_async16(Bs + r * LDB + c, b + (size_t)(kt * BK + r) * nPad + n0 + c, 16);
    }
}

template <int MATH>
__device__ __forceinline__ void mma_stage(float (&acc)[4][4][4], const typename Types<MATH>::T* As, const typename Types<MATH>::T* Bs, int wm,
                                          int wn, int lane) {
#pragma unroll
    for (int k16 = 0; k16 < BK / 16; k16++) {
        uint32_t af[4][4];
#pragma unroll
        for (int mt = 0; mt < 4; mt++) ldmatrix_x4(af[mt], As + (wm * 64 + mt * 16 + (lane & 15)) * LDA + k16 * 16 + (lane >> 4) * 8);
        uint32_t bf[4][2];
        ldmatrix_b_k16_n32(bf, Bs, LDB, k16 * 16, wn * 32, lane);
#pragma unroll
        for (int mt = 0; mt < 4; mt++)
#pragma unroll
            for (int j = 0; j < 4; j++) {
                if (MATH == BF16) mma_bf16_16816(acc[mt][j], af[mt], bf[j][0], bf[j][1]);
                else mma_f16_16816(acc[mt][j], af[mt], bf[j][0], bf[j][1]);
            }
    }
}

// Two horizontally adjacent outputs (col, col+1) of global row `row`; col + 1 may be beyond cout.
template <typename T>
__device__ __forceinline__ void store_pair(T* __restrict__ y, const T* __restrict__ residual, size_t row, int col, int cout, float v0, float v1,
                                           const float* __restrict__ scale, const float* __restrict__ shift, bool postRelu) {
    if (col >= cout) return;
    const size_t o = row * cout + col;
    const bool two = col + 1 < cout;
    if (scale) {
        v0 = fmaf(v0, __ldg(scale + col), __ldg(shift + col));
        if (two) v1 = fmaf(v1, __ldg(scale + col + 1), __ldg(shift + col + 1));
    }
    if (two && (cout & 1) == 0) {  // o even: a 4-byte pair store
        if (residual) { float r0, r1; load2(residual + o, r0, r1); v0 += r0; v1 += r1; }
        if (postRelu) { v0 = relu(v0); v1 = relu(v1); }
        store2(y + o, v0, v1);
    } else {
        if (residual) v0 += to_f32(residual[o]);
        y[o] = from_f32<T>(postRelu ? relu(v0) : v0);
        if (two) {
            if (residual) v1 += to_f32(residual[o + 1]);
            y[o + 1] = from_f32<T>(postRelu ? relu(v1) : v1);
        }
    }
}

template <int MATH>
__device__ __forceinline__ void gemm(const typename Types<MATH>::T* __restrict__ a, const typename Types<MATH>::T* __restrict__ b,
                                     const float* __restrict__ scale, const float* __restrict__ shift,
                                     const typename Types<MATH>::T* __restrict__ residual, typename Types<MATH>::T* __restrict__ y, int rows,
                                     int cout, int kPad, int nPad, long long row0, int postRelu) {
    using T = typename Types<MATH>::T;
    JX_DYNAMIC_SHARED(unsigned char, smem_raw);
    T* As = reinterpret_cast<T*>(smem_raw);   // [STAGES][BM][LDA]
    T* Bs = As + STAGES * A_STAGE;            // [STAGES][BK][LDB]
    const int n0 = blockIdx.x * BN, m0 = blockIdx.y * BM;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int wm = warp >> 2, wn = warp & 3;
    const int numK = kPad / BK;

    float acc[4][4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++)
#pragma unroll
            for (int c = 0; c < 4; c++) acc[i][j][c] = 0.f;

#pragma unroll
    for (int s = 0; s < STAGES - 1; s++) {
        if (s < numK) load_stage(As + s * A_STAGE, Bs + s * B_STAGE, a, b, m0, n0, s, rows, kPad, nPad);
        cp_async_commit();  // one group per stage, empty or not, so wait_group counts stages
    }
    for (int kt = 0; kt < numK; kt++) {
        cp_async_wait<STAGES - 2>();  // stage kt has landed (for this thread) ...
        __syncthreads();              // ... for every thread, and stage kt-1 is no longer read
        const int next = kt + STAGES - 1;
        if (next < numK) load_stage(As + (next % STAGES) * A_STAGE, Bs + (next % STAGES) * B_STAGE, a, b, m0, n0, next, rows, kPad, nPad);
        cp_async_commit();
        const int s = kt % STAGES;
        mma_stage<MATH>(acc, As + s * A_STAGE, Bs + s * B_STAGE, wm, wn, lane);
    }
    cp_async_wait<0>();

    const int gq = lane >> 2, tq = lane & 3;
#pragma unroll
    for (int mt = 0; mt < 4; mt++) {
        const int r = m0 + wm * 64 + mt * 16 + gq;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const int col = n0 + wn * 32 + j * 8 + 2 * tq;
            if (r < rows) store_pair(y, residual, (size_t)(row0 + r), col, cout, acc[mt][j][0], acc[mt][j][1], scale, shift, postRelu != 0);
            if (r + 8 < rows) store_pair(y, residual, (size_t)(row0 + r + 8), col, cout, acc[mt][j][2], acc[mt][j][3], scale, shift, postRelu != 0);
        }
    }
}

}  // namespace sepgemm

// extern "C" entry points (argument order = SeparableGemmPath's argument lists):
//   sepgemm_pack_b_<math>(w2 (cin,cout) fp32, b (kPad,nPad), cin, cout, kPad, nPad)                  grid-stride
//   sepgemm_dw_<math>(x (n,h,w,cin), dw (3,3,cin) fp32, a (rows,kPad), h, w, cin, kPad, row0, rows, preRelu)   grid-stride
//   sepgemm_gemm_<math>(a (rows,kPad), b (kPad,nPad), scale, shift (cout) fp32 or null, residual (M,cout) or null,
//                       y (M,cout), rows, cout, kPad, nPad, row0, postRelu)
//       grid (nPad/128, ceil(rows/128)), 256 threads, 75,776 bytes of dynamic shared memory;
//       residual and y are indexed by the global row row0 + r, a by the chunk row r.
#define JX_SEPGEMM_KERNELS(SUF, MATH, T)                                                                                                   \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) sepgemm_pack_b_##SUF(const float* __restrict__ w2, T* __restrict__ b, int cin, \
                                                                                  int cout, int kPad, int nPad) {                             \
        sepgemm::pack_b<T>(w2, b, cin, cout, kPad, nPad);                                                                                   \
    }                                                                                                                                        \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) sepgemm_dw_##SUF(const T* __restrict__ x, const float* __restrict__ dw,         \
                                                                              T* __restrict__ a, int h, int w, int cin, int kPad,            \
                                                                              long long row0, int rows, int preRelu) {                       \
        sepgemm::depthwise_rows<T>(x, dw, a, h, w, cin, kPad, row0, rows, preRelu);                                                         \
    }                                                                                                                                        \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) sepgemm_dw_v8_##SUF(const T* __restrict__ x, const float* __restrict__ dw,      \
                                                                                 T* __restrict__ a, int h, int w, int cin, int kPad,         \
                                                                                 long long row0, int rows, int preRelu, int lanes) {         \
        sepgemm::depthwise_rows_v8<T>(x, dw, a, h, w, cin, kPad, row0, rows, preRelu, lanes);                                               \
    }                                                                                                                                        \
    extern "C" __global__ void __launch_bounds__(JX_THREADS, 2)                                                                              \
    sepgemm_gemm_##SUF(const T* __restrict__ a, const T* __restrict__ b, const float* __restrict__ scale, const float* __restrict__ shift,    \
                       const T* __restrict__ residual, T* __restrict__ y, int rows, int cout, int kPad, int nPad, long long row0,            \
                       int postRelu) {                                                                                                       \
        sepgemm::gemm<sepgemm::MATH>(a, b, scale, shift, residual, y, rows, cout, kPad, nPad, row0, postRelu);                             \
    }

JX_SEPGEMM_KERNELS(bf16, BF16, __nv_bfloat16)
JX_SEPGEMM_KERNELS(fp16, FP16, __half)
// The TF32 split path's depthwise (cuda.pointwise=wgmma): A (rows, kPad) in fp32, which pwgemm_wgmma_tf32 reads
// (its tensor cores use A's tf32 bits); same taps, order and zero padding as the 16-bit kernels, no rounding.
extern "C" __global__ void __launch_bounds__(JX_THREADS) sepgemm_dw_tf32(const float* __restrict__ x, const float* __restrict__ dw,
                                                                         float* __restrict__ a, int h, int w, int cin, int kPad, long long row0,
                                                                         int rows, int preRelu) {
    sepgemm::depthwise_rows<float>(x, dw, a, h, w, cin, kPad, row0, rows, preRelu);
}
extern "C" __global__ void __launch_bounds__(JX_THREADS) sepgemm_dw_v8_tf32(const float* __restrict__ x, const float* __restrict__ dw,
                                                                            float* __restrict__ a, int h, int w, int cin, int kPad, long long row0,
                                                                            int rows, int preRelu, int lanes) {
    sepgemm::depthwise_rows_v8<float>(x, dw, a, h, w, cin, kPad, row0, rows, preRelu, lanes);
}
