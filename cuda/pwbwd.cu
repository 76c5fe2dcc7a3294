// The pointwise (1x1) convolution backward of the separable conv on tensor cores (issue 13): mma.sync
// m16n8k16, bf16/fp16 in, fp32 accumulate, sm_80+. The BF16/FP16 training backward runs these instead of
// conv_bwd.cu's FFMA dgrad_sep_<t> / wgrad_sep_<t> when the backend option cuda.pwbwd=mma is set
// (PointwiseBackwardPath plans the launches); cuda/dev/pwbwd_v1.cu checks and times exactly these kernels
// (it includes this file) against conv_bwd.cu's and a float64 reference.
//
// For the pointwise GEMM of a separable conv z = d . W2 (conv_bwd.cu's "separable" case):
//   dgrad  dd[m, c]  = mask(x[m, c]) * sum_k dz[m, k] * W2[c, k]         dd (M, cin) 16-bit, rounded once
//   wgrad  dW2[c, k] = sum_m d[m, c] * dz[m, k]                          dW2 (cin, cout) fp32
//   dz (M, cout) 16-bit: the gradient at z (after the BN backward);  d (M, cin) 16-bit: DW(a), recomputed by
//   dw_forward_<t>;  W2 (cin, cout) fp32, Keras' pointwise kernel (1, 1, cin, cout) without the leading ones;
//   mask(v) = v > 0 when x is given (a stride-1 1x1 conv of a ReLU'd input), else 1 (the separable case,
//   which the library runs: dd goes on to the depthwise backward, which applies the mask). M = batch * H * W.
// Both GEMMs read their operands where the forward left them, without a transpose:
//   dgrad  A = dz (M, cout) row-major: the mma "row" operand, K = cout contiguous -> ldmatrix
//          B = W2h (cin, cout) 16-bit = W2 rounded once per call by pwbwd_pack_w2 (same layout as W2):
//              the mma "col" operand (B^T row-major, K contiguous) -> ldmatrix (no .trans)
//   wgrad  A = d^T: d (M, cin) row-major is A (cin x M) stored M-major -> ldmatrix.trans
//          B = dz (M, cout) row-major, (K x N) with N contiguous -> ldmatrix.trans (as sepgemm's B)
// so every global load is a 16-byte cp.async of 8 consecutive channels of one pixel. Requirements:
// cin % 8 == 0 and cout % 8 == 0 (every Xception pointwise conv), 16-byte aligned operands, M <= 65,535 * 128
// (dgrad's grid.y); other shapes keep the FFMA kernels.
//
// Kernels (256 threads = 8 warps as 2 (M) x 4 (N), warp tile 64 x 32 = 4 x 4 mma tiles, block tile
// 128 x 128 x 32, a 4-stage cp.async pipeline: the mainloop of sepgemm.cu's sepgemm_gemm):
//   pwbwd_pack_w2_<t>   W2 (cin, cout) fp32 -> W2h (cin, cout) 16-bit                          grid-stride
//   pwbwd_dgrad_<t>     grid (ceil(cin/128), ceil(M/128)): column tiles fastest, so the blocks that read
//                       one row tile of dz run together and dz leaves DRAM once; K = cout in 32-deep
//                       slices, the K tail (cout % 32) and rows >= M zero-filled by cp.async
//                       smem per stage A [128][40] + B [128][40] 16-bit (80-byte rows: conflict-free ldmatrix)
//   pwbwd_wgrad_<t>     grid (ceil(cin/128) * ceil(cout/128), splits): reduction over M split into `splits`
//                       ranges of rowsPerSplit rows (a multiple of 32); block (tile, s) writes its fp32 tile
//                       to partial[s] (plain stores, no atomics); tiles fastest, so the blocks that read one
//                       M range run together (d and dz leave DRAM once, re-read from L2 by the other tiles)
//                       smem per stage A [32][136] + B [32][136] 16-bit (272-byte rows: conflict-free)
//   pwbwd_reduce        dW2[i] = sum_{s = 0..splits-1} partial[s][i], in that fixed order (float4, grid-stride)
//                       -> bitwise repeatable for a given split count; with one split wgrad writes dW2 directly.
// The split count (PointwiseBackwardPath.wgradSplits; the dev program's wgrad_rows_per_split) comes from M,
// the tile count and the resident blocks of the card (occupancy x SMs), so dW2 is bitwise repeatable on one
// card, not across SM counts.
#include "common.cuh"
#include <type_traits>

namespace pwbwd {

constexpr int BM = 128, BN = 128, BK = 32, STAGES = 4;

// Which convolution's backward the GEMMs run (conv_bwd.cu's cases, gathered by the stage loaders):
//   SEP   the separable conv's pointwise GEMM: dd = dz . W2^T over its M pixels, dW2 = d^T . dz
//   PW    the 1x1 stride-s conv: dx[n, s oy, s ox] = dz[n, oy, ox] . W^T (GEMM rows over the output pixels,
//         stored at their strided input pixels; pwbwd_zero_unstrided writes the other pixels' zeros);
//         dW = a_strided^T . dz (rows over the outputs)
//   STEM  the 3x3 valid stride-s conv: dx = col2im(dz . W^T) as a gather over K = 9 cout (tap t = ky 3 + kx,
//         dz at ((iy - ky) / s, (ix - kx) / s) where that output exists); dW (9 cin, cout) = im2col(a)^T . dz
// a = relu(x) when preRelu (the wgrad's A fragments are relu'd in registers; cp.async cannot), and dx is
// masked by x > 0. A 16-byte chunk is 8 channels of one pixel and one tap: cin % 8 == 0 and cout % 8 == 0.
enum Mode { SEP = 0, PW = 1, STEM = 2 };

// Geometry of a PW or STEM convolution (SEP needs none): input (n, h, w, cin), output (n, oh, ow, cout).
struct ConvGeo {
    int n, h, w, cin, cout, stride, oh, ow;
};
template <int MODE>
__device__ __forceinline__ ConvGeo conv_geo(int n, int h, int w, int cin, int cout, int stride) {
    if (MODE == STEM) return ConvGeo{n, h, w, cin, cout, stride, (h - 3) / stride + 1, (w - 3) / stride + 1};
    return ConvGeo{n, h, w, cin, cout, stride, (h + stride - 1) / stride, (w + stride - 1) / stride};
}

// relu on the two 16-bit values of a packed pair, bf16 or fp16 alike: a half with its sign bit set becomes +0.
__device__ __forceinline__ uint32_t relu_pair(uint32_t v) {
    const uint32_t sign = (v & 0x80008000u) >> 15;  // 1 at bit 0 and/or bit 16
    return v & ~(sign * 0xFFFFu);
}
// dgrad: A [BM][BK + 8] (rows of dz), B [BN][BK + 8] (rows of W2h); 80-byte rows
constexpr int LDK = BK + 8;
constexpr int DGRAD_A = BM * LDK, DGRAD_B = BN * LDK;
constexpr int DGRAD_SMEM = STAGES * (DGRAD_A + DGRAD_B) * 2;  // 81,920 bytes
// wgrad: A [BK][BM + 8] (rows of d), B [BK][BN + 8] (rows of dz); 272-byte rows
constexpr int LDM = BM + 8, LDN = BN + 8;
constexpr int WGRAD_A = BK * LDM, WGRAD_B = BK * LDN;
constexpr int WGRAD_SMEM = STAGES * (WGRAD_A + WGRAD_B) * 2;  // 69,632 bytes
// the host launches with these byte counts (PointwiseBackwardPath.DGRAD_SHARED_BYTES, WGRAD_SHARED_BYTES)
static_assert(DGRAD_SMEM == 81920 && WGRAD_SMEM == 69632, "PointwiseBackwardPath's shared-memory sizes");
static_assert(BM * BK / 8 == 2 * JX_THREADS && BK * BM / 8 == 2 * JX_THREADS, "two 16-byte chunks per thread and operand");

template <typename T>
__device__ __forceinline__ void mma16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    if (std::is_same<T, __nv_bfloat16>::value) mma_bf16_16816(d, a, b0, b1);
    else mma_f16_16816(d, a, b0, b1);
}

// ------------------------------------------------------------------ W2 -> 16 bits, once per step
template <typename T>
__device__ __forceinline__ void pack_w2(const float* __restrict__ w2, T* __restrict__ w2h, long long count) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < (size_t)count; i += (size_t)gridDim.x * blockDim.x)
        w2h[i] = from_f32<T>(__ldg(w2 + i));
}

// ------------------------------------------------------------------ dgrad: dd = mask * (dz . W2h^T)
// The dz chunk at GEMM row m, k .. k + 7, or null for a zero chunk (STEM's gather: row m is an input pixel of the
// conv; for SEP and PW row m is a row of dz itself).
template <int MODE, typename T>
__device__ __forceinline__ const T* dgrad_a_chunk(const T* __restrict__ dz, int m, int k, int cout, const ConvGeo& g) {
    if (MODE == SEP || MODE == PW) return dz + (size_t)m * cout + k;   // PW: rows are the output pixels
    const int ix = m % g.w, rest = m / g.w, iy = rest % g.h, ni = rest / g.h;
    int yy = iy, xx = ix, co = k;
    if (MODE == STEM) {
        const int t = k / cout, ky = t / 3, kx = t - ky * 3;
        co = k - t * cout;
        yy = iy - ky;
        xx = ix - kx;
        if (yy < 0 || xx < 0) return nullptr;
    }
    if (yy % g.stride != 0 || xx % g.stride != 0) return nullptr;
    yy /= g.stride;
    xx /= g.stride;
    if (yy >= g.oh || xx >= g.ow) return nullptr;
    return dz + (((size_t)ni * g.oh + yy) * g.ow + xx) * cout + co;
}

// Stage of dgrad: A (BM rows of the gathered dz) and B (BN rows of the 16-bit weights, output channels c of dx,
// K contiguous: W2h/Wh (cin, cout) for SEP and PW; for STEM Wh (3, 3, cin, cout), element (t, c, co) at k = t cout + co).
// K = cout (SEP, PW) or 9 cout (STEM); cout % 8 == 0, so a chunk is all in or all out of K and of one tap.
template <int MODE, typename T>
__device__ __forceinline__ void dgrad_load_stage(T* As, T* Bs, const T* __restrict__ dz, const T* __restrict__ w2h, int m0, int n0, int k0,
                                                 int M, int cin, int cout, const ConvGeo& g) {
    const int tid = threadIdx.x, K = MODE == STEM ? 9 * cout : cout;
#pragma unroll
    for (int i = 0; i < 2; i++) {  // A: 128 rows of dz x 4 chunks of 8 k
        const int idx = tid + i * JX_THREADS;
        const int r = idx >> 2, c = (idx & 3) * 8;
        const T* src = m0 + r < M && k0 + c < K ? dgrad_a_chunk<MODE>(dz, m0 + r, k0 + c, cout, g) : nullptr;
        cp_async16(As + r * LDK + c, src ? src : dz, src ? 16 : 0);
    }
#pragma unroll
    for (int i = 0; i < 2; i++) {  // B: 128 rows of W2h (output channels c) x 4 chunks of 8 k
        const int idx = tid + i * JX_THREADS;
        const int r = idx >> 2, c = (idx & 3) * 8;
        const int k = k0 + c;
        const bool ok = n0 + r < cin && k < K;
        size_t o = (size_t)(n0 + r) * cout + k;
        if (MODE == STEM) {
            const int t = k / cout;
            o = ((size_t)t * cin + n0 + r) * cout + (k - t * cout);
        }
        cp_async16(Bs + r * LDK + c, ok ? w2h + o : w2h, ok ? 16 : 0);
    }
}

template <typename T>
__device__ __forceinline__ void dgrad_mma_stage(float (&acc)[4][4][4], const T* As, const T* Bs, int wm, int wn, int lane) {
#pragma unroll
    for (int k16 = 0; k16 < BK / 16; k16++) {
        uint32_t af[4][4];
#pragma unroll
        for (int mt = 0; mt < 4; mt++) ldmatrix_x4(af[mt], As + (wm * 64 + mt * 16 + (lane & 15)) * LDK + k16 * 16 + (lane >> 4) * 8);
        // B stored (n, k): matrix i = lane / 8 of an x4 is (n + (i / 2) * 8, k + (i % 2) * 8), so r = {b0, b1} of
        // n tile 2np and {b0, b1} of n tile 2np + 1 (thread t gets n = t / 4, k = 2 (t % 4) + {0, 1}: the col operand)
        uint32_t bf[4][2];
#pragma unroll
        for (int np = 0; np < 2; np++) {
            uint32_t r[4];
            ldmatrix_x4(r, Bs + (wn * 32 + np * 16 + ((lane >> 4) << 3) + (lane & 7)) * LDK + k16 * 16 + ((lane >> 3) & 1) * 8);
            bf[2 * np][0] = r[0]; bf[2 * np][1] = r[1]; bf[2 * np + 1][0] = r[2]; bf[2 * np + 1][1] = r[3];
        }
#pragma unroll
        for (int mt = 0; mt < 4; mt++)
#pragma unroll
            for (int j = 0; j < 4; j++) mma16816<T>(acc[mt][j], af[mt], bf[j][0], bf[j][1]);
    }
}

// The row of dd (dx) that GEMM row m fills: m itself, or for PW the strided input pixel of output pixel m.
template <int MODE>
__device__ __forceinline__ int dgrad_row(int m, const ConvGeo& g) {
    if (MODE != PW) return m;
    const int ox = m % g.ow, rest = m / g.ow, oy = rest % g.oh, ni = rest / g.oh;
    return (ni * g.h + oy * g.stride) * g.w + ox * g.stride;
}

// dx = 0 at the input pixels a 1x1 stride-s conv does not read (s does not divide iy or ix): 8 channels per
// thread, grid-stride over (n h w) x cin / 8; the PW dgrad writes the others.
template <typename T>
__device__ __forceinline__ void zero_unstrided(T* __restrict__ dx, int n, int h, int w, int cin, int stride) {
    const int groups = cin / 8;
    const size_t total = (size_t)n * h * w * groups;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        const size_t pix = i / groups;
        const int ix = (int)(pix % w), iy = (int)((pix / w) % h);
        if (iy % stride == 0 && ix % stride == 0) continue;
        *reinterpret_cast<uint4*>(dx + pix * cin + (i % groups) * 8) = make_uint4(0, 0, 0, 0);
    }
}

// (row, col) and (row, col + 1) of dd; cin % 8 == 0 and col even, so both exist when col < cin.
template <typename T>
__device__ __forceinline__ void dgrad_store(T* __restrict__ dd, const T* __restrict__ x, int row, int col, int cin, float v0, float v1) {
    const size_t o = (size_t)row * cin + col;
    if (x) {
        float x0, x1;
        load2(x + o, x0, x1);
        if (!(x0 > 0.f)) v0 = 0.f;
        if (!(x1 > 0.f)) v1 = 0.f;
    }
    store2(dd + o, v0, v1);
}

template <int MODE, typename T>
__device__ __forceinline__ void dgrad(const T* __restrict__ dz, const T* __restrict__ w2h, const T* __restrict__ x, T* __restrict__ dd, int M,
                                      int cin, int cout, const ConvGeo& g) {
    JX_DYNAMIC_SHARED(unsigned char, smem_raw);
    T* As = reinterpret_cast<T*>(smem_raw);  // [STAGES][BM][LDK]
    T* Bs = As + STAGES * DGRAD_A;           // [STAGES][BN][LDK]
    const int n0 = blockIdx.x * BN, m0 = blockIdx.y * BM;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int wm = warp >> 2, wn = warp & 3;
    const int numK = ((MODE == STEM ? 9 * cout : cout) + BK - 1) / BK;

    float acc[4][4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++)
#pragma unroll
            for (int c = 0; c < 4; c++) acc[i][j][c] = 0.f;

#pragma unroll
    for (int s = 0; s < STAGES - 1; s++) {
        if (s < numK) dgrad_load_stage<MODE>(As + s * DGRAD_A, Bs + s * DGRAD_B, dz, w2h, m0, n0, s * BK, M, cin, cout, g);
        cp_async_commit();  // one group per stage, empty or not, so wait_group counts stages
    }
    for (int kt = 0; kt < numK; kt++) {
        cp_async_wait<STAGES - 2>();  // stage kt has landed (for this thread) ...
        __syncthreads();              // ... for every thread, and stage kt-1 is no longer read
        const int next = kt + STAGES - 1;
        if (next < numK) dgrad_load_stage<MODE>(As + (next % STAGES) * DGRAD_A, Bs + (next % STAGES) * DGRAD_B, dz, w2h, m0, n0, next * BK, M, cin, cout, g);
        cp_async_commit();
        const int s = kt % STAGES;
        dgrad_mma_stage<T>(acc, As + s * DGRAD_A, Bs + s * DGRAD_B, wm, wn, lane);
    }
    cp_async_wait<0>();

    const int gq = lane >> 2, tq = lane & 3;
#pragma unroll
    for (int mt = 0; mt < 4; mt++) {
        const int r = m0 + wm * 64 + mt * 16 + gq;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const int col = n0 + wn * 32 + j * 8 + 2 * tq;
            if (col >= cin) continue;
            if (r < M) dgrad_store(dd, x, dgrad_row<MODE>(r, g), col, cin, acc[mt][j][0], acc[mt][j][1]);
            if (r + 8 < M) dgrad_store(dd, x, dgrad_row<MODE>(r + 8, g), col, cin, acc[mt][j][2], acc[mt][j][3]);
        }
    }
}

// ------------------------------------------------------------------ wgrad: partial[s] = d^T . dz over split s
// The A chunk at GEMM reduction row m (a pixel of dz: an output pixel of the conv), columns p .. p + 7 of P:
// SEP d[m, p]; PW x at the strided input pixel; STEM x at tap t = p / cin of the output pixel's window.
template <int MODE, typename T>
__device__ __forceinline__ const T* wgrad_a_chunk(const T* __restrict__ a, int m, int p, int cin, const ConvGeo& g) {
    if (MODE == SEP) return a + (size_t)m * cin + p;
    const int ox = m % g.ow, rest = m / g.ow, oy = rest % g.oh, ni = rest / g.oh;
    int iy = oy * g.stride, ix = ox * g.stride, ci = p;
    if (MODE == STEM) {
        const int t = p / cin, ky = t / 3;
        ci = p - t * cin;
        iy += ky;
        ix += t - ky * 3;
    }
    return a + (((size_t)ni * g.h + iy) * g.w + ix) * cin + ci;
}

template <int MODE, typename T>
__device__ __forceinline__ void wgrad_load_stage(T* As, T* Bs, const T* __restrict__ d, const T* __restrict__ dz, int p0, int q0, int mk,
                                                 int mEnd, int cin, int cout, const ConvGeo& g) {
    const int tid = threadIdx.x, P = MODE == STEM ? 9 * cin : cin;
#pragma unroll
    for (int i = 0; i < 2; i++) {  // 32 rows of M x 16 chunks of 8 channels, for A (d, or the gathered x) and B (dz)
        const int idx = tid + i * JX_THREADS;
        const int kk = idx >> 4, c = (idx & 15) * 8;
        const int m = mk + kk;
        const bool okA = m < mEnd && p0 + c < P, okB = m < mEnd && q0 + c < cout;
        cp_async16(As + kk * LDM + c, okA ? wgrad_a_chunk<MODE>(d, m, p0 + c, cin, g) : d, okA ? 16 : 0);
        cp_async16(Bs + kk * LDN + c, okB ? dz + (size_t)m * cout + q0 + c : dz, okB ? 16 : 0);
    }
}

template <typename T>
__device__ __forceinline__ void wgrad_mma_stage(float (&acc)[4][4][4], const T* As, const T* Bs, int wm, int wn, int lane, bool reluA) {
#pragma unroll
    for (int k16 = 0; k16 < BK / 16; k16++) {
        // A stored (k, m): .trans turns matrix i = lane / 8 at (k + (i / 2) * 8, m + (i % 2) * 8) into thread t's
        // (m = t / 4, k = 2 (t % 4) + {0, 1}): a0 (m 0-7, k 0-7), a1 (m 8-15, k 0-7), a2 (m 0-7, k 8-15), a3 (m 8-15, k 8-15)
        uint32_t af[4][4];
#pragma unroll
        for (int mt = 0; mt < 4; mt++)
            ldmatrix_x4_trans(af[mt], As + (k16 * 16 + ((lane >> 4) << 3) + (lane & 7)) * LDM + wm * 64 + mt * 16 + ((lane >> 3) & 1) * 8);
        if (reluA) {  // a = relu(x) of a pre-activated conv input (PW, STEM): exact on the stored 16-bit values
#pragma unroll
            for (int mt = 0; mt < 4; mt++)
#pragma unroll
                for (int r = 0; r < 4; r++) af[mt][r] = relu_pair(af[mt][r]);
        }
        uint32_t bf[4][2];
        ldmatrix_b_k16_n32(bf, Bs, LDN, k16 * 16, wn * 32, lane);
#pragma unroll
        for (int mt = 0; mt < 4; mt++)
#pragma unroll
            for (int j = 0; j < 4; j++) mma16816<T>(acc[mt][j], af[mt], bf[j][0], bf[j][1]);
    }
}

// partial[split] (P, cout) = A^T . dz over the split's rows; P = cin (SEP, PW) or 9 cin (STEM). M = the rows of dz.
template <int MODE, typename T>
__device__ __forceinline__ void wgrad(const T* __restrict__ d, const T* __restrict__ dz, float* __restrict__ partial, int M, int cin, int cout,
                                      int rowsPerSplit, const ConvGeo& g, bool reluA) {
    const int P = MODE == STEM ? 9 * cin : cin;
    JX_DYNAMIC_SHARED(unsigned char, smem_raw);
    T* As = reinterpret_cast<T*>(smem_raw);  // [STAGES][BK][LDM]
    T* Bs = As + STAGES * WGRAD_A;           // [STAGES][BK][LDN]
    const int qTiles = (cout + BN - 1) / BN;
    const int p0 = (blockIdx.x / qTiles) * BM, q0 = (blockIdx.x % qTiles) * BN;  // blockIdx.x over ceil(P / BM) x qTiles
    const int mBegin = blockIdx.y * rowsPerSplit, mEnd = min(M, mBegin + rowsPerSplit);
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int wm = warp >> 2, wn = warp & 3;
    const int numK = (mEnd - mBegin + BK - 1) / BK;

    float acc[4][4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++)
#pragma unroll
            for (int c = 0; c < 4; c++) acc[i][j][c] = 0.f;

#pragma unroll
    for (int s = 0; s < STAGES - 1; s++) {
        if (s < numK) wgrad_load_stage<MODE>(As + s * WGRAD_A, Bs + s * WGRAD_B, d, dz, p0, q0, mBegin + s * BK, mEnd, cin, cout, g);
        cp_async_commit();
    }
    for (int kt = 0; kt < numK; kt++) {
        cp_async_wait<STAGES - 2>();
        __syncthreads();
        const int next = kt + STAGES - 1;
        if (next < numK)
            wgrad_load_stage<MODE>(As + (next % STAGES) * WGRAD_A, Bs + (next % STAGES) * WGRAD_B, d, dz, p0, q0, mBegin + next * BK, mEnd, cin, cout, g);
        cp_async_commit();
        const int s = kt % STAGES;
        wgrad_mma_stage<T>(acc, As + s * WGRAD_A, Bs + s * WGRAD_B, wm, wn, lane, reluA);
    }
    cp_async_wait<0>();

    // rows p of the tile are the P rows of dW, columns q output channels; cout % 8 == 0 and q even: pairs
    float* out = partial + (size_t)blockIdx.y * P * cout;
    const int gq = lane >> 2, tq = lane & 3;
#pragma unroll
    for (int mt = 0; mt < 4; mt++) {
        const int p = p0 + wm * 64 + mt * 16 + gq;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const int q = q0 + wn * 32 + j * 8 + 2 * tq;
            if (q >= cout) continue;
            if (p < P) store2(out + (size_t)p * cout + q, acc[mt][j][0], acc[mt][j][1]);
            if (p + 8 < P) store2(out + (size_t)(p + 8) * cout + q, acc[mt][j][2], acc[mt][j][3]);
        }
    }
}

// out[i] = sum_{s < splits} partial[s][i], s ascending; count % 4 == 0 (cin, cout % 8 == 0).
__device__ __forceinline__ void reduce_splits(const float* __restrict__ partial, float* __restrict__ out, int splits, long long count) {
    const size_t quads = (size_t)count / 4;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < quads; i += (size_t)gridDim.x * blockDim.x) {
        float4 s = __ldg(reinterpret_cast<const float4*>(partial) + i);
        for (int k = 1; k < splits; k++) {
            const float4 v = __ldg(reinterpret_cast<const float4*>(partial + (size_t)k * count) + i);
            s.x += v.x; s.y += v.y; s.z += v.z; s.w += v.w;
        }
        reinterpret_cast<float4*>(out)[i] = s;
    }
}

}  // namespace pwbwd

// Entry points (argument order as PointwiseBackwardPath binds them):
//   pwbwd_pack_w2_<t>(w2 (cin,cout) fp32, w2h (cin,cout) 16-bit, count = cin*cout)            grid-stride, 256 threads
//   pwbwd_dgrad_<t>(dz (M,cout), w2h (cin,cout), x (M,cin) or null, dd (M,cin), M, cin, cout)
//       grid (ceil(cin/128), ceil(M/128)), 256 threads, 81,920 bytes of dynamic shared memory
//   pwbwd_wgrad_<t>(d (M,cin), dz (M,cout), partial (splits,cin,cout) fp32, M, cin, cout, rowsPerSplit)
//       grid (ceil(cin/128) * ceil(cout/128), splits = ceil(M/rowsPerSplit)), 256 threads, 69,632 bytes
//   pwbwd_reduce(partial (splits, count) fp32, dW2 (count) fp32, splits, count)                grid-stride
//   pwbwd_dgrad_{pw,stem}_<t>(dz (n,oh,ow,cout), wh (cin,cout) or (3,3,cin,cout) 16-bit, x (n,h,w,cin) or null,
//       dx (n,h,w,cin), n, h, w, cin, cout, stride)     grid (ceil(cin/128), ceil(rows/128)), dgrad's shared memory;
//       rows = n oh ow (pw: after pwbwd_zero_unstrided(dx, n, h, w, cin, stride), grid-stride) or n h w (stem)
//   pwbwd_wgrad_{pw,stem}_<t>(x (n,h,w,cin), dz, partial (splits,P,cout) fp32, n, h, w, cin, cout, stride, preRelu,
//       rowsPerSplit)   P = cin or 9 cin; grid (ceil(P/128) * ceil(cout/128), ceil(n oh ow / rowsPerSplit)), wgrad's
#define JX_PWBWD_KERNELS(SUF, T)                                                                                                            \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) pwbwd_pack_w2_##SUF(const float* __restrict__ w2, T* __restrict__ w2h,        \
                                                                                 long long count) {                                          \
        pwbwd::pack_w2<T>(w2, w2h, count);                                                                                                  \
    }                                                                                                                                        \
    extern "C" __global__ void __launch_bounds__(JX_THREADS, 2) pwbwd_dgrad_##SUF(const T* __restrict__ dz, const T* __restrict__ w2h,     \
                                                                                  const T* __restrict__ x, T* __restrict__ dd, int M,        \
                                                                                  int cin, int cout) {                                       \
        pwbwd::dgrad<pwbwd::SEP, T>(dz, w2h, x, dd, M, cin, cout, pwbwd::ConvGeo{});                                                        \
    }                                                                                                                                        \
    extern "C" __global__ void __launch_bounds__(JX_THREADS, 2) pwbwd_wgrad_##SUF(const T* __restrict__ d, const T* __restrict__ dz,       \
                                                                                  float* __restrict__ partial, int M, int cin, int cout,     \
                                                                                  int rowsPerSplit) {                                        \
        pwbwd::wgrad<pwbwd::SEP, T>(d, dz, partial, M, cin, cout, rowsPerSplit, pwbwd::ConvGeo{}, false);                                    \
    }                                                                                                                                        \
    JX_PWBWD_CONV_KERNELS(SUF, T, pw, pwbwd::PW)                                                                                            \
    JX_PWBWD_CONV_KERNELS(SUF, T, stem, pwbwd::STEM)
// The 1x1 stride-s ("pw") and 3x3 valid ("stem") convolutions: dgrad over the n h w input pixels (x masks dx
// when preRelu, else null), wgrad over the n oh ow output pixels in splits (A = relu?(x) gathered).
#define JX_PWBWD_CONV_KERNELS(SUF, T, KIND, MODE)                                                                                             \
    extern "C" __global__ void __launch_bounds__(JX_THREADS, 2) pwbwd_dgrad_##KIND##_##SUF(                                                   \
        const T* __restrict__ dz, const T* __restrict__ wh, const T* __restrict__ x, T* __restrict__ dx, int n, int h, int w, int cin,         \
        int cout, int stride) {                                                                                                               \
        const pwbwd::ConvGeo g = pwbwd::conv_geo<MODE>(n, h, w, cin, cout, stride);                                                           \
        pwbwd::dgrad<MODE, T>(dz, wh, x, dx, MODE == pwbwd::PW ? n * g.oh * g.ow : n * h * w, cin, cout, g);                                   \
    }                                                                                                                                          \
    extern "C" __global__ void __launch_bounds__(JX_THREADS, 2) pwbwd_wgrad_##KIND##_##SUF(                                                   \
        const T* __restrict__ x, const T* __restrict__ dz, float* __restrict__ partial, int n, int h, int w, int cin, int cout, int stride,    \
        int preRelu, int rowsPerSplit) {                                                                                                      \
        const pwbwd::ConvGeo g = pwbwd::conv_geo<MODE>(n, h, w, cin, cout, stride);                                                           \
        pwbwd::wgrad<MODE, T>(x, dz, partial, n * g.oh * g.ow, cin, cout, rowsPerSplit, g, preRelu != 0);                                     \
    }
JX_PWBWD_KERNELS(bf16, __nv_bfloat16)
JX_PWBWD_KERNELS(f16, __half)
// Both 16-bit types store zeros as all-zero bits: one kernel for both.
extern "C" __global__ void __launch_bounds__(JX_THREADS) pwbwd_zero_unstrided(unsigned short* __restrict__ dx, int n, int h, int w, int cin,
                                                                            int stride) {
    pwbwd::zero_unstrided(dx, n, h, w, cin, stride);
}
extern "C" __global__ void __launch_bounds__(JX_THREADS) pwbwd_reduce(const float* __restrict__ partial, float* __restrict__ out, int splits,
                                                                    long long count) {
    pwbwd::reduce_splits(partial, out, splits, count);
}
