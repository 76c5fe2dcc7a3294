// Forward convolutions of Xception as one implicit-GEMM kernel with three A producers:
//
//   sepconv_bn   : y = epi( PW( DW3x3_same( preRelu? relu(x) : x ) ) )      (SeparableConv2D + BN)
//   conv_bn_relu : y = epi( conv3x3_valid_stride_s( x ) )                    (stem)
//   conv1x1s2_bn : y = epi( conv1x1_same_stride_s( x ) )                     (residual branch)
//   epi(z)[m,n]  = postRelu?( z*scale[n] + shift[n] + residual[m,n] )        (scale/shift/residual optional)
//
// GEMM view: rows m = output pixels (n, oy, ox) flattened, M = N*OH*OW; columns = output channels;
// K = Cin (separable, 1x1) or 9*Cin (stem, k = (ky*3+kx)*Cin + ci). B is the weight matrix as Keras
// stores it: pointwise (Cin, Cout) or (3,3,Cin,Cout) viewed as (9*Cin, Cout), row-major fp32.
//
// A block owns BM rows and keeps their A tile -- the depthwise result for separable convs, the
// gathered pixels otherwise -- in shared memory for kChunk columns of K at once ("A-resident"): the
// depthwise output never touches global memory and, when all of K fits (kChunk >= K), it is
// computed once per block and reused for every 128-wide output-channel tile the block computes.
// B streams through a two-stage shared-memory buffer, 32 rows of K at a time, converted from fp32 to
// the arithmetic type on the way. Arithmetic by suffix:
//   _bf16/_fp16 : mma.sync m16n8k16, 16-bit A and B, fp32 accumulation
//   _tf32       : mma.sync m16n8k8, A and B rounded to tf32, fp32 accumulation
//   _fp32       : FFMA, IEEE fp32 throughout
// 256 threads = 8 warps; MMA kernels arrange them 2 (M) x 4 (N), each warp 16*MT x 32 of the tile;
// the FFMA kernel gives each warp BM/8 rows and each lane 4 columns.
// Shared memory (dynamic): A [BM][kChunk + APAD] then B [2][32][BN + 8], in the arithmetic type.
#include "common.cuh"

namespace {

constexpr int BK = 32;   // rows of B per pipeline stage
constexpr int BPAD = 8;  // B row padding (elements): conflict-free ldmatrix / fragment loads

// Output-channel tile BN = 128 (the default) or 64 (MMA kernels only, for cout <= 64: the stem).
// The 8 warps of an MMA kernel form WM (M) x WN (N), each warp 32 columns wide and BM/WM rows tall
// (WMT m16 tiles): 2 x 4 for BN = 128, 4 x 2 for BN = 64.
template <int BN> struct NTile {
    static_assert(BN == 128 || BN == 64, "BN is 128 or 64");
    static constexpr int LDB = BN + BPAD;  // B row stride in shared memory (elements)
    static constexpr int WN = BN / 32;
    static constexpr int WM = 8 / WN;
    static constexpr int BQ = BN / 4;      // float4 columns per B row
    static constexpr int BQ_SHIFT = BN == 128 ? 5 : 4;  // log2(BQ)
    static constexpr int WN_SHIFT = BN == 128 ? 2 : 1;  // log2(WN)
};

enum Producer { SEP = 0, STEM = 1, PW = 2 };
enum Math { FP32 = 0, TF32 = 1, BF16 = 2, FP16 = 3 };

template <int MATH> struct Types;
template <> struct Types<FP32> { using T = float; using S = float; static constexpr int APAD = 4; };
template <> struct Types<TF32> { using T = float; using S = float; static constexpr int APAD = 4; };
template <> struct Types<BF16> { using T = __nv_bfloat16; using S = __nv_bfloat16; static constexpr int APAD = 8; };
template <> struct Types<FP16> { using T = __half; using S = __half; static constexpr int APAD = 8; };

template <int MATH> __device__ __forceinline__ void store_s8(float* p, const float (&v)[8]) {
    if (MATH == TF32) {
        float r[8];
#pragma unroll
        for (int i = 0; i < 8; i++) r[i] = round_tf32(v[i]);
        store8(p, r);
    } else {
        store8(p, v);
    }
}
template <int MATH> __device__ __forceinline__ void store_s8(__nv_bfloat16* p, const float (&v)[8]) { store8(p, v); }
template <int MATH> __device__ __forceinline__ void store_s8(__half* p, const float (&v)[8]) { store8(p, v); }

template <int MATH> __device__ __forceinline__ void store_s4(float* p, float4 v) {
    if (MATH == TF32) v = make_float4(round_tf32(v.x), round_tf32(v.y), round_tf32(v.z), round_tf32(v.w));
    *reinterpret_cast<float4*>(p) = v;
}
template <int MATH> __device__ __forceinline__ void store_s4(__nv_bfloat16* p, float4 v) {
    __nv_bfloat162 h[2] = {__floats2bfloat162_rn(v.x, v.y), __floats2bfloat162_rn(v.z, v.w)};
    *reinterpret_cast<uint2*>(p) = *reinterpret_cast<uint2*>(h);
}
template <int MATH> __device__ __forceinline__ void store_s4(__half* p, float4 v) {
    __half2 h[2] = {__floats2half2_rn(v.x, v.y), __floats2half2_rn(v.z, v.w)};
    *reinterpret_cast<uint2*>(p) = *reinterpret_cast<uint2*>(h);
}

struct Geometry {
    int n, h, w, cin, cout, stride, oh, ow;
    int M, K, Kpad;
};

template <int PROD>
__device__ __forceinline__ Geometry geometry(int n, int h, int w, int cin, int cout, int stride) {
    Geometry g;
    g.n = n; g.h = h; g.w = w; g.cin = cin; g.cout = cout; g.stride = stride;
    if (PROD == SEP) { g.oh = h; g.ow = w; }
    else if (PROD == STEM) { g.oh = (h - 3) / stride + 1; g.ow = (w - 3) / stride + 1; }
    else { g.oh = (h + stride - 1) / stride; g.ow = (w + stride - 1) / stride; }
    g.M = n * g.oh * g.ow;
    g.K = PROD == STEM ? 9 * cin : cin;
    g.Kpad = (g.K + 31) & ~31;
    return g;
}

// Fills A[m][0 .. kl) (shared, row stride lda) with columns [ks, ks+kl) of the A matrix for rows
// m0 .. m0+BM. Each thread makes 8 consecutive columns of one row at a time; lanes run along the
// column groups so that a warp reads consecutive channels of a pixel (coalesced), and the separable
// producer keeps the 9x8 depthwise weights of its column group in registers across pixels.
template <int MATH, int PROD, int BM>
__device__ __forceinline__ void produce_a(typename Types<MATH>::S* As, int lda, int m0, int ks, int kl,
                                          const typename Types<MATH>::T* __restrict__ x,
                                          const float* __restrict__ dw, const Geometry& g, bool preRelu) {
    using T = typename Types<MATH>::T;
    const int G = kl >> 3;
    const int TCG = G >= 32 ? 32 : G >= 16 ? 16 : G >= 8 ? 8 : 4;
    const int laneCg = threadIdx.x % TCG;
    const int lanePx = threadIdx.x / TCG;
    const int PXL = JX_THREADS / TCG;
    const bool vec = (g.cin & 7) == 0;
    const int ohw = g.oh * g.ow;
    for (int cg = laneCg; cg < G; cg += TCG) {
        const int kg = ks + cg * 8;
        const int kvalid = min(8, g.K - kg);
        float wv[9][8];
        if (PROD == SEP) {
#pragma unroll
            for (int t = 0; t < 9; t++) {
                if (kvalid > 0) load8_any(dw + (size_t)t * g.cin + kg, kvalid, vec, wv[t]);
                else {
#pragma unroll
                    for (int j = 0; j < 8; j++) wv[t][j] = 0.f;
                }
            }
        }
        for (int m = lanePx; m < BM; m += PXL) {
            const int p = m0 + m;
            float v[8];
#pragma unroll
            for (int j = 0; j < 8; j++) v[j] = 0.f;
            if (p < g.M && kvalid > 0) {
                const int ni = p / ohw;
                const int r = p - ni * ohw;
                const int oy = r / g.ow;
                const int ox = r - oy * g.ow;
                if (PROD == SEP) {
#pragma unroll
                    for (int ky = 0; ky < 3; ky++) {
                        const int iy = oy + ky - 1;
                        if (iy < 0 || iy >= g.h) continue;
#pragma unroll
                        for (int kx = 0; kx < 3; kx++) {
                            const int ix = ox + kx - 1;
                            if (ix < 0 || ix >= g.w) continue;
                            float xv[8];
                            load8_any(x + (((size_t)ni * g.h + iy) * g.w + ix) * g.cin + kg, kvalid, vec, xv);
#pragma unroll
                            for (int j = 0; j < 8; j++) v[j] = fmaf(preRelu ? relu(xv[j]) : xv[j], wv[ky * 3 + kx][j], v[j]);
                        }
                    }
                } else if (PROD == STEM) {
                    const int iy0 = oy * g.stride, ix0 = ox * g.stride;
                    if (vec) {  // 8 columns share one tap when Cin % 8 == 0
                        const int tap = kg / g.cin, ci = kg - tap * g.cin;
                        const int ky = tap / 3, kx = tap - ky * 3;
                        load8(x + (((size_t)ni * g.h + iy0 + ky) * g.w + ix0 + kx) * g.cin + ci, v);
                    } else {
#pragma unroll
                        for (int j = 0; j < 8; j++) {
                            if (j < kvalid) {
                                const int k = kg + j, tap = k / g.cin, ci = k - tap * g.cin;
                                const int ky = tap / 3, kx = tap - ky * 3;
                                v[j] = to_f32(x[(((size_t)ni * g.h + iy0 + ky) * g.w + ix0 + kx) * g.cin + ci]);
                            }
                        }
                    }
                    if (preRelu) {
#pragma unroll
                        for (int j = 0; j < 8; j++) v[j] = relu(v[j]);
                    }
                } else {
                    const int iy = oy * g.stride, ix = ox * g.stride;
                    load8_any(x + (((size_t)ni * g.h + iy) * g.w + ix) * g.cin + kg, kvalid, vec, v);
                    if (preRelu) {
#pragma unroll
                        for (int j = 0; j < 8; j++) v[j] = relu(v[j]);
                    }
                }
            }
            store_s8<MATH>(As + (size_t)m * lda + cg * 8, v);
        }
    }
}

// Rows [k, k+32) x columns [n0, n0+BN) of B (fp32 in global, row stride cout) into registers.
template <int BN>
__device__ __forceinline__ void load_b(float4 (&r)[BK * BN / 4 / JX_THREADS], const float* __restrict__ B, int k, int n0, const Geometry& g,
                                       bool bvec) {
    constexpr int BQ = NTile<BN>::BQ;
#pragma unroll
    for (int i = 0; i < BK * BN / 4 / JX_THREADS; i++) {
        const int idx = threadIdx.x + i * JX_THREADS;
        const int row = idx >> NTile<BN>::BQ_SHIFT, col = n0 + (idx & (BQ - 1)) * 4;
        const int kk = k + row;
        float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
        if (kk < g.K) {
            const float* src = B + (size_t)kk * g.cout + col;
            if (bvec && col + 4 <= g.cout) v = __ldg(reinterpret_cast<const float4*>(src));
            else {
                if (col < g.cout) v.x = __ldg(src);
                if (col + 1 < g.cout) v.y = __ldg(src + 1);
                if (col + 2 < g.cout) v.z = __ldg(src + 2);
                if (col + 3 < g.cout) v.w = __ldg(src + 3);
            }
        }
        r[i] = v;
    }
}

template <int MATH, int BN, typename S>
__device__ __forceinline__ void store_b(S* Bs, const float4 (&r)[BK * BN / 4 / JX_THREADS]) {
    constexpr int BQ = NTile<BN>::BQ;
#pragma unroll
    for (int i = 0; i < BK * BN / 4 / JX_THREADS; i++) {
        const int idx = threadIdx.x + i * JX_THREADS;
        store_s4<MATH>(Bs + (idx >> NTile<BN>::BQ_SHIFT) * NTile<BN>::LDB + (idx & (BQ - 1)) * 4, r[i]);
    }
}

// One 32-deep slice of the tile product on tensor cores: acc += A[:, acol .. acol+32) * Bs.
// MT = m16 tiles per warp; warp (wm, wn) owns rows wm*16*MT .. and columns wn*32 .. of the tile.
template <int MATH, int MT, int BN, typename S>
__device__ __forceinline__ void mma_chunk(float (&acc)[MT][4][4], const S* As, int lda, int acol, const S* Bs) {
    constexpr int LDB = NTile<BN>::LDB;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int wm = warp >> NTile<BN>::WN_SHIFT, wn = warp & (NTile<BN>::WN - 1);
    if (MATH == TF32) {
        const float* Af = reinterpret_cast<const float*>(As);
        const float* Bf = reinterpret_cast<const float*>(Bs);
        const int g = lane >> 2, t = lane & 3;
#pragma unroll
        for (int k8 = 0; k8 < 4; k8++) {
            uint32_t af[MT][4];
#pragma unroll
            for (int mt = 0; mt < MT; mt++) {
                const float* a = Af + (size_t)(wm * 16 * MT + mt * 16 + g) * lda + acol + k8 * 8 + t;
                af[mt][0] = __float_as_uint(a[0]);
                af[mt][1] = __float_as_uint(a[8 * lda]);
                af[mt][2] = __float_as_uint(a[4]);
                af[mt][3] = __float_as_uint(a[8 * lda + 4]);
            }
#pragma unroll
            for (int j = 0; j < 4; j++) {
                const float* b = Bf + (k8 * 8 + t) * LDB + wn * 32 + j * 8 + g;
                const uint32_t b0 = __float_as_uint(b[0]), b1 = __float_as_uint(b[4 * LDB]);
#pragma unroll
                for (int mt = 0; mt < MT; mt++) mma_tf32_1688(acc[mt][j], af[mt], b0, b1);
            }
        }
    } else {
#pragma unroll
        for (int k16 = 0; k16 < 2; k16++) {
            uint32_t af[MT][4];
#pragma unroll
            for (int mt = 0; mt < MT; mt++)
                ldmatrix_x4(af[mt], As + (size_t)(wm * 16 * MT + mt * 16 + (lane & 15)) * lda + acol + k16 * 16 + (lane >> 4) * 8);
            uint32_t bf[4][2];
            ldmatrix_b_k16_n32(bf, Bs, LDB, k16 * 16, wn * 32, lane);
#pragma unroll
            for (int mt = 0; mt < MT; mt++)
#pragma unroll
                for (int j = 0; j < 4; j++) {
                    if (MATH == BF16) mma_bf16_16816(acc[mt][j], af[mt], bf[j][0], bf[j][1]);
                    else mma_f16_16816(acc[mt][j], af[mt], bf[j][0], bf[j][1]);
                }
        }
    }
}

// One 32-deep slice with FFMA: warp w owns rows [w*TM, w*TM+TM), lane l columns [4l, 4l+4).
template <int TM>
__device__ __forceinline__ void ffma_chunk(float (&acc)[TM][4], const float* As, int lda, int acol, const float* Bs) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
#pragma unroll
    for (int kk = 0; kk < BK; kk += 4) {
        float4 a[TM], b[4];
#pragma unroll
        for (int i = 0; i < TM; i++) a[i] = *reinterpret_cast<const float4*>(As + (size_t)(warp * TM + i) * lda + acol + kk);
#pragma unroll
        for (int q = 0; q < 4; q++) b[q] = *reinterpret_cast<const float4*>(Bs + (kk + q) * NTile<128>::LDB + lane * 4);
#pragma unroll
        for (int i = 0; i < TM; i++) {
            const float av[4] = {a[i].x, a[i].y, a[i].z, a[i].w};
#pragma unroll
            for (int q = 0; q < 4; q++) {
                acc[i][0] = fmaf(av[q], b[q].x, acc[i][0]);
                acc[i][1] = fmaf(av[q], b[q].y, acc[i][1]);
                acc[i][2] = fmaf(av[q], b[q].z, acc[i][2]);
                acc[i][3] = fmaf(av[q], b[q].w, acc[i][3]);
            }
        }
    }
}

// y[row, col] = postRelu?( v*scale[col] + shift[col] + residual[row, col] ) for one value.
template <typename T>
__device__ __forceinline__ float epilogue_value(float v, int col, const float* __restrict__ scale, const float* __restrict__ shift) {
    return scale ? fmaf(v, __ldg(scale + col), __ldg(shift + col)) : v;
}

template <typename T>
__device__ __forceinline__ void store_pair(T* __restrict__ y, const T* __restrict__ residual, int row, int col, float v0, float v1,
                                           const Geometry& g, const float* __restrict__ scale, const float* __restrict__ shift,
                                           bool postRelu) {
    if (row >= g.M || col >= g.cout) return;
    const size_t o = (size_t)row * g.cout + col;
    v0 = epilogue_value<T>(v0, col, scale, shift);
    if (col + 1 < g.cout && (g.cout & 1) == 0) {
        v1 = epilogue_value<T>(v1, col + 1, scale, shift);
        if (residual) { float r0, r1; load2(residual + o, r0, r1); v0 += r0; v1 += r1; }
        if (postRelu) { v0 = relu(v0); v1 = relu(v1); }
        store2(y + o, v0, v1);
    } else {
        if (residual) v0 += to_f32(residual[o]);
        y[o] = from_f32<T>(postRelu ? relu(v0) : v0);
        if (col + 1 < g.cout) {
            v1 = epilogue_value<T>(v1, col + 1, scale, shift);
            if (residual) v1 += to_f32(residual[o + 1]);
            y[o + 1] = from_f32<T>(postRelu ? relu(v1) : v1);
        }
    }
}

template <int MATH, int PROD, int MT, int BN>
__device__ __forceinline__ void conv_igemm(const typename Types<MATH>::T* __restrict__ x, const float* __restrict__ w1,
                                           const float* __restrict__ w2, const float* __restrict__ scale,
                                           const float* __restrict__ shift, const typename Types<MATH>::T* __restrict__ residual,
                                           typename Types<MATH>::T* __restrict__ y, int n, int h, int w, int cin, int cout,
                                           int stride, int preRelu, int postRelu, int kChunk, int tilesPerBlock) {
    using S = typename Types<MATH>::S;
    constexpr int BM = 32 * MT;
    constexpr int APAD = Types<MATH>::APAD;
    constexpr int LDB = NTile<BN>::LDB;
    constexpr int WMT = BM / (16 * NTile<BN>::WM);  // m16 tiles per warp (MMA); MT when BN = 128
    static_assert(WMT >= 1 && (MATH != FP32 || BN == 128), "BN = 64 needs an MMA kernel with BM >= 64");
    extern __shared__ __align__(16) unsigned char smem_raw[];
    S* As = reinterpret_cast<S*>(smem_raw);                 // [BM][kChunk + APAD]
    const int lda = kChunk + APAD;
    S* Bs = As + (size_t)BM * lda;                         // [2][BK][LDB]

    const Geometry g = geometry<PROD>(n, h, w, cin, cout, stride);
    const float* B = PROD == SEP ? w2 : w1;
    const float* dw = PROD == SEP ? w1 : nullptr;
    const bool bvec = (cout & 3) == 0;
    const int m0 = blockIdx.x * BM;
    const int nTiles = (cout + BN - 1) / BN;
    const int t0 = blockIdx.y * tilesPerBlock;
    const int t1 = min(nTiles, t0 + tilesPerBlock);
    const int numKs = (g.Kpad + kChunk - 1) / kChunk;

    if (numKs == 1) {
        produce_a<MATH, PROD, BM>(As, lda, m0, 0, g.Kpad, x, dw, g, preRelu != 0);
        __syncthreads();
    }
    constexpr int TM = BM / 8;  // FFMA rows per warp
    for (int nt = t0; nt < t1; nt++) {
        const int n0 = nt * BN;
        float acc[MATH == FP32 ? 1 : WMT][4][4];
        float facc[MATH == FP32 ? TM : 1][4];
#pragma unroll
        for (int a = 0; a < (MATH == FP32 ? 1 : WMT); a++)
#pragma unroll
            for (int b = 0; b < 4; b++)
#pragma unroll
                for (int c = 0; c < 4; c++) acc[a][b][c] = 0.f;
#pragma unroll
        for (int a = 0; a < (MATH == FP32 ? TM : 1); a++)
#pragma unroll
            for (int c = 0; c < 4; c++) facc[a][c] = 0.f;

        for (int sc = 0; sc < numKs; sc++) {
            const int ks = sc * kChunk;
            const int kl = min(kChunk, g.Kpad - ks);
            if (numKs > 1) {
                __syncthreads();
                produce_a<MATH, PROD, BM>(As, lda, m0, ks, kl, x, dw, g, preRelu != 0);
                __syncthreads();
            }
            const int nk = kl / BK;
            float4 breg[BK * BN / 4 / JX_THREADS];
            load_b<BN>(breg, B, ks, n0, g, bvec);
            store_b<MATH, BN>(Bs, breg);
            __syncthreads();
            for (int kc = 0; kc < nk; kc++) {
                if (kc + 1 < nk) load_b<BN>(breg, B, ks + (kc + 1) * BK, n0, g, bvec);
                const S* stage = Bs + (kc & 1) * BK * LDB;
                if (MATH == FP32) ffma_chunk<TM>(reinterpret_cast<float(&)[TM][4]>(facc), reinterpret_cast<const float*>(As), lda, kc * BK,
                                                 reinterpret_cast<const float*>(stage));
                else mma_chunk<MATH, WMT, BN>(reinterpret_cast<float(&)[WMT][4][4]>(acc), As, lda, kc * BK, stage);
                if (kc + 1 < nk) store_b<MATH, BN>(Bs + ((kc + 1) & 1) * BK * LDB, breg);
                __syncthreads();
            }
        }

        const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
        if (MATH == FP32) {
#pragma unroll
            for (int i = 0; i < TM; i++) {
                const int row = m0 + warp * TM + i;
                const int col = n0 + lane * 4;
                store_pair(y, residual, row, col, facc[i][0], facc[i][1], g, scale, shift, postRelu != 0);
                store_pair(y, residual, row, col + 2, facc[i][2], facc[i][3], g, scale, shift, postRelu != 0);
            }
        } else {
            const int wm = warp >> NTile<BN>::WN_SHIFT, wn = warp & (NTile<BN>::WN - 1), gq = lane >> 2, tq = lane & 3;
#pragma unroll
            for (int mt = 0; mt < WMT; mt++)
#pragma unroll
                for (int j = 0; j < 4; j++) {
                    const int row = m0 + wm * 16 * WMT + mt * 16 + gq;
                    const int col = n0 + wn * 32 + j * 8 + 2 * tq;
                    store_pair(y, residual, row, col, acc[mt][j][0], acc[mt][j][1], g, scale, shift, postRelu != 0);
                    store_pair(y, residual, row + 8, col, acc[mt][j][2], acc[mt][j][3], g, scale, shift, postRelu != 0);
                }
        }
    }
}

}  // namespace

// extern "C" entry points: <op>_<math>_m<BM>. Arguments (same order for every op and for the
// OpenCL kernels of the same name):
//   x        (n, h, w, cin) NHWC activations
//   w1       sepconv: depthwise (3,3,cin); conv_bn_relu: (3,3,cin,cout); conv1x1s2: (cin,cout)   fp32
//   w2       sepconv: pointwise (cin,cout); others: unused (may be null)                        fp32
//   scale, shift (cout) fp32 or both null; residual (n, oh, ow, cout) or null; y (n, oh, ow, cout)
//   kChunk   columns of K kept in shared memory at a time (multiple of 32, see CudaLaunchPlan)
//   tilesPerBlock  BN-wide output-channel tiles per block (BN = 128, or 64 for _n64); grid = (ceil(M/BM), ceil(ceil(cout/BN)/tilesPerBlock))
#define JX_CONV_KERNEL_N(NAME, MATH, TYPE, PROD, MT, BN)                                                                       \
    extern "C" __global__ void __launch_bounds__(JX_THREADS, 1)                                                          \
    NAME(const TYPE* __restrict__ x, const float* __restrict__ w1, const float* __restrict__ w2,                          \
         const float* __restrict__ scale, const float* __restrict__ shift, const TYPE* __restrict__ residual,             \
         TYPE* __restrict__ y, int n, int h, int w, int cin, int cout, int stride, int preRelu, int postRelu, int kChunk, \
         int tilesPerBlock) {                                                                                            \
        conv_igemm<MATH, PROD, MT, BN>(x, w1, w2, scale, shift, residual, y, n, h, w, cin, cout, stride, preRelu, postRelu,  \
                                   kChunk, tilesPerBlock);                                                               \
    }
#define JX_CONV_KERNEL(NAME, MATH, TYPE, PROD, MT) JX_CONV_KERNEL_N(NAME, MATH, TYPE, PROD, MT, 128)

#define JX_CONV_FAMILY(PREFIX, PROD)                                  \
    JX_CONV_KERNEL(PREFIX##_bf16_m128, BF16, __nv_bfloat16, PROD, 4)   \
    JX_CONV_KERNEL(PREFIX##_bf16_m64, BF16, __nv_bfloat16, PROD, 2)    \
    JX_CONV_KERNEL(PREFIX##_bf16_m32, BF16, __nv_bfloat16, PROD, 1)    \
    JX_CONV_KERNEL(PREFIX##_fp16_m128, FP16, __half, PROD, 4)          \
    JX_CONV_KERNEL(PREFIX##_fp16_m64, FP16, __half, PROD, 2)           \
    JX_CONV_KERNEL(PREFIX##_fp16_m32, FP16, __half, PROD, 1)           \
    JX_CONV_KERNEL(PREFIX##_tf32_m64, TF32, float, PROD, 2)            \
    JX_CONV_KERNEL(PREFIX##_tf32_m32, TF32, float, PROD, 1)            \
    JX_CONV_KERNEL(PREFIX##_fp32_m64, FP32, float, PROD, 2)            \
    JX_CONV_KERNEL(PREFIX##_fp32_m32, FP32, float, PROD, 1)

JX_CONV_FAMILY(sepconv_bn, SEP)
JX_CONV_FAMILY(conv_bn_relu, STEM)
JX_CONV_FAMILY(conv1x1s2_bn, PW)

// 64-wide output-channel tiles for the stem (cout 32 and 64): no MMA on empty columns, half the
// accumulators. Named <op>_<math>_m<BM>_n64; the planner picks them when cout <= 64 and BM >= 64.
JX_CONV_KERNEL_N(conv_bn_relu_bf16_m128_n64, BF16, __nv_bfloat16, STEM, 4, 64)
JX_CONV_KERNEL_N(conv_bn_relu_bf16_m64_n64, BF16, __nv_bfloat16, STEM, 2, 64)
JX_CONV_KERNEL_N(conv_bn_relu_fp16_m128_n64, FP16, __half, STEM, 4, 64)
JX_CONV_KERNEL_N(conv_bn_relu_fp16_m64_n64, FP16, __half, STEM, 2, 64)
JX_CONV_KERNEL_N(conv_bn_relu_tf32_m64_n64, TF32, float, STEM, 2, 64)
