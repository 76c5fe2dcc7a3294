// Batch norm in training mode over z (rows, c), rows = N*H*W (NHWC flattened), Keras semantics:
//   mean = sum(z)/rows, var = sum((z-mean)^2)/rows (biased), invStd = 1/sqrt(var + eps)
//   y = relu?( (z - mean)*invStd*gamma + beta + residual )
//   moving = moving*momentum + batch*(1 - momentum)    (mean, and the biased variance)
// Backward with g = dy * (relu ? y > 0 : 1), xhat = (z - mean)*invStd:
//   dBeta = sum g, dGamma = sum g*xhat, dz = gamma*invStd/rows * (rows*g - dBeta - xhat*dGamma)
// Reductions are two-level and deterministic: fixed-size row chunks give fp32 partial sums
// (shifted by z[0, ch] so that sum of squares does not cancel), a final kernel adds the chunks in
// order in double precision.
#include "common.cuh"

namespace {

// Block = 32 channel lanes x 8 row lanes; grid (ceil(c/32), chunks).
template <typename T>
__device__ void bn_stats_partial_impl(const T* __restrict__ z, float* __restrict__ partial, int rows, int c, int rowsPerChunk) {
    __shared__ float s1[8][33], s2[8][33];
    const int lane = threadIdx.x & 31, rl = threadIdx.x >> 5;
    const int ch = blockIdx.x * 32 + lane;
    const int r0 = blockIdx.y * rowsPerChunk, r1 = min(rows, r0 + rowsPerChunk);
    float a = 0.f, b = 0.f;
    if (ch < c) {
        const float shift = to_f32(z[ch]);
        for (int r = r0 + rl; r < r1; r += 8) {
            const float v = to_f32(z[(size_t)r * c + ch]) - shift;
            a += v;
            b = fmaf(v, v, b);
        }
    }
    s1[rl][lane] = a;
    s2[rl][lane] = b;
    __syncthreads();
    if (rl == 0 && ch < c) {
        float sa = 0.f, sb = 0.f;
#pragma unroll
        for (int i = 0; i < 8; i++) { sa += s1[i][lane]; sb += s2[i][lane]; }
        partial[((size_t)blockIdx.y * 2 + 0) * c + ch] = sa;
        partial[((size_t)blockIdx.y * 2 + 1) * c + ch] = sb;
    }
}

// Thread per 8 elements of one row.
template <typename T>
__device__ void bn_apply_impl(const T* __restrict__ z, const float* __restrict__ mean, const float* __restrict__ invStd,
                              const float* __restrict__ gamma, const float* __restrict__ beta, const T* __restrict__ residual,
                              T* __restrict__ y, int rows, int c, int reluOut) {
    const int groups = (c + 7) / 8;
    const bool vec = (c & 7) == 0;
    const size_t total = (size_t)rows * groups;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        const int c0 = (int)(i % groups) * 8, cnt = min(8, c - c0);
        const size_t o = (i / groups) * c + c0;
        float v[8], r[8];
        load8_any(z + o, cnt, vec, v);
        if (residual) load8_any(residual + o, cnt, vec, r);
#pragma unroll
        for (int j = 0; j < 8; j++) {
            if (j < cnt) {
                const int ch = c0 + j;
                float t = (v[j] - mean[ch]) * invStd[ch] * gamma[ch] + beta[ch];
                if (residual) t += r[j];
                v[j] = reluOut ? relu(t) : t;
            }
        }
        store8_any(y + o, cnt, vec, v);
    }
}

template <typename T>
__device__ void bn_backward_partial_impl(const T* __restrict__ z, const T* __restrict__ y, const T* __restrict__ dy,
                                         const float* __restrict__ mean, const float* __restrict__ invStd,
                                         float* __restrict__ partial, int rows, int c, int rowsPerChunk, int reluOut) {
    __shared__ float s1[8][33], s2[8][33];
    const int lane = threadIdx.x & 31, rl = threadIdx.x >> 5;
    const int ch = blockIdx.x * 32 + lane;
    const int r0 = blockIdx.y * rowsPerChunk, r1 = min(rows, r0 + rowsPerChunk);
    float a = 0.f, b = 0.f;
    if (ch < c) {
        const float mu = mean[ch], is = invStd[ch];
        for (int r = r0 + rl; r < r1; r += 8) {
            const size_t o = (size_t)r * c + ch;
            float g = to_f32(dy[o]);
            if (reluOut && !(to_f32(y[o]) > 0.f)) g = 0.f;
            a += g;
            b = fmaf(g, (to_f32(z[o]) - mu) * is, b);
        }
    }
    s1[rl][lane] = a;
    s2[rl][lane] = b;
    __syncthreads();
    if (rl == 0 && ch < c) {
        float sa = 0.f, sb = 0.f;
#pragma unroll
        for (int i = 0; i < 8; i++) { sa += s1[i][lane]; sb += s2[i][lane]; }
        partial[((size_t)blockIdx.y * 2 + 0) * c + ch] = sa;
        partial[((size_t)blockIdx.y * 2 + 1) * c + ch] = sb;
    }
}

template <typename T>
__device__ void bn_backward_apply_impl(const T* __restrict__ z, const T* __restrict__ y, const T* __restrict__ dy,
                                       const float* __restrict__ gamma, const float* __restrict__ mean,
                                       const float* __restrict__ invStd, const float* __restrict__ dGamma,
                                       const float* __restrict__ dBeta, T* __restrict__ dz, T* __restrict__ dyMasked, int rows,
                                       int statRows, int c, int reluOut) {
    const int groups = (c + 7) / 8;
    const bool vec = (c & 7) == 0;
    const size_t total = (size_t)rows * groups;
    const float invRows = 1.f / (float)statRows;  // statRows = rows, or the rows of every process (sync BN)
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        const int c0 = (int)(i % groups) * 8, cnt = min(8, c - c0);
        const size_t o = (i / groups) * c + c0;
        float zv[8], yv[8], g[8], out[8];
        load8_any(z + o, cnt, vec, zv);
        load8_any(dy + o, cnt, vec, g);
        if (reluOut) {
            load8_any(y + o, cnt, vec, yv);
#pragma unroll
            for (int j = 0; j < 8; j++) if (!(yv[j] > 0.f)) g[j] = 0.f;
        }
#pragma unroll
        for (int j = 0; j < 8; j++) {
            out[j] = 0.f;
            if (j < cnt) {
                const int ch = c0 + j;
                const float is = invStd[ch];
                const float xhat = (zv[j] - mean[ch]) * is;
                out[j] = gamma[ch] * is * (g[j] - (dBeta[ch] + xhat * dGamma[ch]) * invRows);
            }
        }
        store8_any(dz + o, cnt, vec, out);
        if (dyMasked) store8_any(dyMasked + o, cnt, vec, g);
    }
}

// ---- the same partial sums with 8 channels per thread (c % 8 == 0; every Xception batch norm) ----
// The scalar kernels above give each thread one channel: a warp reads 32 x 2 bytes of a row and a
// thread has ~4 loads of 2 bytes in flight (nvcc unrolls by 4), ~8 KB per SM at full occupancy where
// HBM3 wants ~15-20 KB in flight per SM to run at its rate. Here a thread owns 8 consecutive channels
// (one 16-byte load per tensor for 16-bit storage) and keeps BN_ROWS_IN_FLIGHT rows of loads
// outstanding before it adds any: a warp reads lanes x 16 contiguous bytes of a row.
// Block = lanes channel groups x (256 / lanes) row lanes, lanes = the plan's power of two <= 32
// (c / 8 rounded up, capped at 32) so that narrow layers (c = 32, 64) still fill the block with rows.
// Grid (ceil(c / 8 / lanes), chunks). Output layout and chunking as the scalar kernels: partial
// (chunks, NSUM, c) for the same final kernels. Within a chunk a thread adds its rows in increasing
// order, then the row lanes are added in order: deterministic for a given plan.
constexpr int BN_ROWS_IN_FLIGHT = 4;

// One row's contribution: Sums::init(ch0) keeps the thread's per-channel constants in registers,
// Sums::load(o, regs) issues the loads of the row at element offset o, Sums::add(regs, acc) adds them
// to the NSUM x 8 accumulators. Loads of BN_ROWS_IN_FLIGHT rows are issued before the first add.
template <typename Sums>
__device__ void bn_chunk_sums_v8(Sums sums, float* __restrict__ partial, int rows, int c, int rowsPerChunk, int lanes) {
    constexpr int NSUM = Sums::NSUM;
    const ChannelGroupLane lane = channel_group_lane(lanes);
    const int ch0 = lane.ch0, rl = lane.row, rowLanes = lane.rows;
    const int r0 = blockIdx.y * rowsPerChunk, r1 = min(rows, r0 + rowsPerChunk);
    float acc[NSUM][8];
#pragma unroll
    for (int s = 0; s < NSUM; s++)
#pragma unroll
        for (int j = 0; j < 8; j++) acc[s][j] = 0.f;
    if (ch0 < c) {
        sums.init(ch0);
        for (int r = r0 + rl; r < r1; r += BN_ROWS_IN_FLIGHT * rowLanes) {
            typename Sums::Regs regs[BN_ROWS_IN_FLIGHT];
#pragma unroll
            for (int u = 0; u < BN_ROWS_IN_FLIGHT; u++) {
                const int rr = r + u * rowLanes;
                if (rr < r1) sums.load((size_t)rr * c + ch0, regs[u]);
            }
#pragma unroll
            for (int u = 0; u < BN_ROWS_IN_FLIGHT; u++) {
                if (r + u * rowLanes < r1) sums.add(regs[u], acc);
            }
        }
    }
    channel_group_partials(acc, partial, c, lanes);
}

// The row's 8 values as raw storage: one uint4 for 16-bit types, two float4 for fp32.
template <typename T> struct Row8 { uint4 u; };
template <> struct Row8<float> { float4 a, b; };
__device__ __forceinline__ void load_row8(const __nv_bfloat16* p, Row8<__nv_bfloat16>& r) { r.u = __ldg(reinterpret_cast<const uint4*>(p)); }
__device__ __forceinline__ void load_row8(const __half* p, Row8<__half>& r) { r.u = __ldg(reinterpret_cast<const uint4*>(p)); }
__device__ __forceinline__ void load_row8(const float* p, Row8<float>& r) {
    r.a = __ldg(reinterpret_cast<const float4*>(p));
    r.b = __ldg(reinterpret_cast<const float4*>(p) + 1);
}
__device__ __forceinline__ void unpack_row8(const Row8<__nv_bfloat16>& r, float (&v)[8]) { unpack8<__nv_bfloat162>(r.u, v); }
__device__ __forceinline__ void unpack_row8(const Row8<__half>& r, float (&v)[8]) { unpack8<__half2>(r.u, v); }
__device__ __forceinline__ void unpack_row8(const Row8<float>& r, float (&v)[8]) {
    v[0] = r.a.x; v[1] = r.a.y; v[2] = r.a.z; v[3] = r.a.w; v[4] = r.b.x; v[5] = r.b.y; v[6] = r.b.z; v[7] = r.b.w;
}

// Forward statistics: sum of (z - z[0, ch]) and of its square (the scalar kernel's shifted sums).
template <typename T>
struct StatsSums {
    static constexpr int NSUM = 2;
    using Regs = Row8<T>;
    const T* z;
    float shift[8];  // z[0, ch0 .. ch0+7]
    __device__ void init(int ch0) { load8_n(z + ch0, 8, shift); }
    __device__ void load(size_t o, Regs& r) const { load_row8(z + o, r); }
    __device__ void add(const Regs& r, float (&acc)[2][8]) const {
        float v[8];
        unpack_row8(r, v);
#pragma unroll
        for (int j = 0; j < 8; j++) {
            const float d = v[j] - shift[j];
            acc[0][j] += d;
            acc[1][j] = fmaf(d, d, acc[1][j]);
        }
    }
};

// Backward sums: g = dy masked by y > 0 (when relu), sum g and sum g * xhat.
template <typename T>
struct BackwardSums {
    static constexpr int NSUM = 2;
    struct Regs { Row8<T> z, y, dy; };
    const T *z, *y, *dy;
    const float *mean, *invStd;
    int relu;
    float mu[8], is[8];  // mean, invStd of the thread's channels
    __device__ void init(int ch0) {
        load8_n(mean + ch0, 8, mu);  // once per thread: scalar loads, no alignment asked of the statistics
        load8_n(invStd + ch0, 8, is);
    }
    __device__ void load(size_t o, Regs& r) const {
        load_row8(z + o, r.z);
        load_row8(dy + o, r.dy);
        if (relu) load_row8(y + o, r.y);
    }
    __device__ void add(const Regs& r, float (&acc)[2][8]) const {
        float zv[8], yv[8], g[8];
        unpack_row8(r.z, zv);
        unpack_row8(r.dy, g);
        if (relu) {
            unpack_row8(r.y, yv);
#pragma unroll
            for (int j = 0; j < 8; j++) if (!(yv[j] > 0.f)) g[j] = 0.f;
        }
#pragma unroll
        for (int j = 0; j < 8; j++) {
            acc[0][j] += g[j];
            acc[1][j] = fmaf(g[j], (zv[j] - mu[j]) * is[j], acc[1][j]);
        }
    }
};

// Synchronised batch norm's sums: sum z (mean == nullptr) or sum (z - mean)^2.
template <typename T>
struct ProcessSums {
    static constexpr int NSUM = 1;
    using Regs = Row8<T>;
    const T* z;
    const float* mean;
    float mu[8];  // the thread's channels of mean (when given)
    __device__ void init(int ch0) {
        if (mean != nullptr) load8_n(mean + ch0, 8, mu);
    }
    __device__ void load(size_t o, Regs& r) const { load_row8(z + o, r); }
    __device__ void add(const Regs& r, float (&acc)[1][8]) const {
        float v[8];
        unpack_row8(r, v);
#pragma unroll
        for (int j = 0; j < 8; j++) {
            if (mean == nullptr) {
                acc[0][j] += v[j];
            } else {
                const float d = v[j] - mu[j];
                acc[0][j] = fmaf(d, d, acc[0][j]);
            }
        }
    }
};

// ---- the element-wise passes with the channel parameters in registers (c % 8 == 0) ----
// bn_apply / bn_backward_apply above give consecutive threads consecutive groups of 8 channels and load
// the per-channel parameters for every element: lane l reads mean[8 l + j], 32 addresses 32 bytes apart,
// 8 L1 wavefronts per load instruction, 32 such loads per row (forward; 40 backward) against the 4
// wavefronts of the 512 bytes of z the warp needs: the pass is bound by L1, not by HBM.
// Here a thread owns one group of 8 channels for the whole launch (same block layout as the partials:
// lanes channel groups x 256 / lanes row lanes; grid (ceil(c / 8 / lanes), rowBlocks)), loads its
// parameters once and strides over rows by gridDim.y x rowLanes. Same arithmetic, element by element.
template <typename T>
__device__ void bn_apply_v8_impl(const T* __restrict__ z, const float* __restrict__ mean, const float* __restrict__ invStd,
                                 const float* __restrict__ gamma, const float* __restrict__ beta, const T* __restrict__ residual,
                                 T* __restrict__ y, int rows, int c, int reluOut, int lanes) {
    const ChannelGroupLane lane = channel_group_lane(lanes);
    const int ch0 = lane.ch0, rl = lane.row, rowLanes = lane.rows;
    if (ch0 >= c) return;
    float mu[8], is[8], ga[8], be[8];
    load8_n(mean + ch0, 8, mu);
    load8_n(invStd + ch0, 8, is);
    load8_n(gamma + ch0, 8, ga);
    load8_n(beta + ch0, 8, be);
    for (int r = blockIdx.y * rowLanes + rl; r < rows; r += gridDim.y * rowLanes) {
        const size_t o = (size_t)r * c + ch0;
        float v[8], res[8];
        load8(z + o, v);
        if (residual) load8(residual + o, res);
#pragma unroll
        for (int j = 0; j < 8; j++) {
            float t = (v[j] - mu[j]) * is[j] * ga[j] + be[j];
            if (residual) t += res[j];
            v[j] = reluOut ? relu(t) : t;
        }
        store8(y + o, v);
    }
}

template <typename T>
__device__ void bn_backward_apply_v8_impl(const T* __restrict__ z, const T* __restrict__ y, const T* __restrict__ dy,
                                          const float* __restrict__ gamma, const float* __restrict__ mean,
                                          const float* __restrict__ invStd, const float* __restrict__ dGamma,
                                          const float* __restrict__ dBeta, T* __restrict__ dz, T* __restrict__ dyMasked, int rows,
                                          int statRows, int c, int reluOut, int lanes) {
    const ChannelGroupLane lane = channel_group_lane(lanes);
    const int ch0 = lane.ch0, rl = lane.row, rowLanes = lane.rows;
    if (ch0 >= c) return;
    const float invRows = 1.f / (float)statRows;
    float ga[8], mu[8], is[8], dga[8], dbe[8];
    load8_n(gamma + ch0, 8, ga);
    load8_n(mean + ch0, 8, mu);
    load8_n(invStd + ch0, 8, is);
    load8_n(dGamma + ch0, 8, dga);
    load8_n(dBeta + ch0, 8, dbe);
    for (int r = blockIdx.y * rowLanes + rl; r < rows; r += gridDim.y * rowLanes) {
        const size_t o = (size_t)r * c + ch0;
        float zv[8], yv[8], gv[8], out[8];
        load8(z + o, zv);
        load8(dy + o, gv);
        if (reluOut) {
            load8(y + o, yv);
#pragma unroll
            for (int j = 0; j < 8; j++) if (!(yv[j] > 0.f)) gv[j] = 0.f;
        }
#pragma unroll
        for (int j = 0; j < 8; j++) {
            const float xhat = (zv[j] - mu[j]) * is[j];
            out[j] = ga[j] * is[j] * (gv[j] - (dbe[j] + xhat * dga[j]) * invRows);
        }
        store8(dz + o, out);
        if (dyMasked) store8(dyMasked + o, gv);
    }
}

}  // namespace

// mean, invStd (c) from the partial sums (chunks, 2, c) of z - z[0, ch]; updates the moving stats.
// shiftSource is z itself (its first row holds the shift). Thread per channel.
template <typename T>
__device__ void bn_stats_final_impl(const float* __restrict__ partial, const T* __restrict__ shiftSource, int chunks, int rows, int c,
                                    float eps, float momentum, float* __restrict__ mean, float* __restrict__ invStd,
                                    float* __restrict__ movingMean, float* __restrict__ movingVar) {
    const int ch = blockIdx.x * blockDim.x + threadIdx.x;
    if (ch >= c) return;
    double s = 0.0, ss = 0.0;
    for (int k = 0; k < chunks; k++) {
        s += partial[((size_t)k * 2 + 0) * c + ch];
        ss += partial[((size_t)k * 2 + 1) * c + ch];
    }
    const double m = s / rows;
    const double var = fmax(ss / rows - m * m, 0.0);
    const double mu = (double)to_f32(shiftSource[ch]) + m;
    mean[ch] = (float)mu;
    invStd[ch] = (float)(1.0 / sqrt(var + (double)eps));
    movingMean[ch] = (float)(movingMean[ch] * (double)momentum + mu * (1.0 - momentum));
    movingVar[ch] = (float)(movingVar[ch] * (double)momentum + var * (1.0 - momentum));
}

// dGamma, dBeta (c) = ordered sums of the backward partials (chunks, 2, c).
extern "C" __global__ void __launch_bounds__(JX_THREADS) bn_backward_final(const float* __restrict__ partial, int chunks, int c,
                                                       float* __restrict__ dGamma, float* __restrict__ dBeta) {
    const int ch = blockIdx.x * blockDim.x + threadIdx.x;
    if (ch >= c) return;
    double s1 = 0.0, s2 = 0.0;
    for (int k = 0; k < chunks; k++) {
        s1 += partial[((size_t)k * 2 + 0) * c + ch];
        s2 += partial[((size_t)k * 2 + 1) * c + ch];
    }
    dBeta[ch] = (float)s1;
    dGamma[ch] = (float)s2;
}

// ---- split form for statistics over several processes (synchronised batch norm) ----
// The per-channel sums go to the host (bn_sums_partial + bn_sums_final; bn_backward_partial +
// bn_backward_final), are added over the processes there, and come back as the mean, the variance
// (bn_update_moving, bn_apply) and dGamma, dBeta (bn_backward_apply with statRows = every process's rows).

// partial (chunks, c): sum of z (mean == nullptr) or of (z - mean)^2 over each chunk's rows.
// Block = 32 channel lanes x 8 row lanes; grid (ceil(c/32), chunks).
template <typename T>
__device__ void bn_sums_partial_impl(const T* __restrict__ z, const float* __restrict__ mean, float* __restrict__ partial, int rows, int c,
                                     int rowsPerChunk) {
    __shared__ float s1[8][33];
    const int lane = threadIdx.x & 31, rl = threadIdx.x >> 5;
    const int ch = blockIdx.x * 32 + lane;
    const int r0 = blockIdx.y * rowsPerChunk, r1 = min(rows, r0 + rowsPerChunk);
    float a = 0.f;
    if (ch < c) {
        if (mean == nullptr) {
            for (int r = r0 + rl; r < r1; r += 8) a += to_f32(z[(size_t)r * c + ch]);
        } else {
            const float mu = mean[ch];
            for (int r = r0 + rl; r < r1; r += 8) {
                const float d = to_f32(z[(size_t)r * c + ch]) - mu;
                a = fmaf(d, d, a);
            }
        }
    }
    s1[rl][lane] = a;
    __syncthreads();
    if (rl == 0 && ch < c) {
        float sa = 0.f;
#pragma unroll
        for (int i = 0; i < 8; i++) sa += s1[i][lane];
        partial[(size_t)blockIdx.y * c + ch] = sa;
    }
}

// sums (c) = the chunks of partial (chunks, c) added in order in double precision. Thread per channel.
extern "C" __global__ void __launch_bounds__(JX_THREADS) bn_sums_final(const float* __restrict__ partial, int chunks, int c,
                                                   float* __restrict__ sums) {
    const int ch = blockIdx.x * blockDim.x + threadIdx.x;
    if (ch >= c) return;
    double s = 0.0;
    for (int k = 0; k < chunks; k++) s += partial[(size_t)k * c + ch];
    sums[ch] = (float)s;
}

// moving = moving*momentum + batch*(1 - momentum) with the mean and biased variance of every process. Thread per channel.
extern "C" __global__ void __launch_bounds__(JX_THREADS) bn_update_moving(const float* __restrict__ mean, const float* __restrict__ var,
                                                      float* __restrict__ movingMean, float* __restrict__ movingVar, int c,
                                                      float momentum) {
    const int ch = blockIdx.x * blockDim.x + threadIdx.x;
    if (ch >= c) return;
    movingMean[ch] = (float)(movingMean[ch] * (double)momentum + (double)mean[ch] * (1.0 - momentum));
    movingVar[ch] = (float)(movingVar[ch] * (double)momentum + (double)var[ch] * (1.0 - momentum));
}

// Arguments follow Backend.batchNormTrain / batchNormTrainBackward; partial is backend scratch.
#define JX_BN_KERNELS(SUF, T)                                                                                             \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) bn_stats_partial_##SUF(const T* __restrict__ z, float* __restrict__ partial, \
                                                                int rows, int c, int rowsPerChunk) {                       \
        bn_stats_partial_impl<T>(z, partial, rows, c, rowsPerChunk);                                                      \
    }                                                                                                                     \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) bn_stats_final_##SUF(                                                 \
        const float* __restrict__ partial, const T* __restrict__ z, int chunks, int rows, int c, float eps, float momentum,  \
        float* __restrict__ mean, float* __restrict__ invStd, float* __restrict__ movingMean, float* __restrict__ movingVar) { \
        bn_stats_final_impl<T>(partial, z, chunks, rows, c, eps, momentum, mean, invStd, movingMean, movingVar);          \
    }                                                                                                                     \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) bn_apply_##SUF(                                                       \
        const T* __restrict__ z, const float* __restrict__ mean, const float* __restrict__ invStd,                         \
        const float* __restrict__ gamma, const float* __restrict__ beta, const T* __restrict__ residual, T* __restrict__ y, \
        int rows, int c, int relu) {                                                                                      \
        bn_apply_impl<T>(z, mean, invStd, gamma, beta, residual, y, rows, c, relu);                                       \
    }                                                                                                                     \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) bn_backward_partial_##SUF(                                            \
        const T* __restrict__ z, const T* __restrict__ y, const T* __restrict__ dy, const float* __restrict__ mean,       \
        const float* __restrict__ invStd, float* __restrict__ partial, int rows, int c, int rowsPerChunk, int relu) {      \
        bn_backward_partial_impl<T>(z, y, dy, mean, invStd, partial, rows, c, rowsPerChunk, relu);                        \
    }                                                                                                                     \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) bn_backward_apply_##SUF(                                              \
        const T* __restrict__ z, const T* __restrict__ y, const T* __restrict__ dy, const float* __restrict__ gamma,      \
        const float* __restrict__ mean, const float* __restrict__ invStd, const float* __restrict__ dGamma,                \
        const float* __restrict__ dBeta, T* __restrict__ dz, T* __restrict__ dyMasked, int rows, int statRows, int c,       \
        int relu) {                                                                                                       \
        bn_backward_apply_impl<T>(z, y, dy, gamma, mean, invStd, dGamma, dBeta, dz, dyMasked, rows, statRows, c, relu);   \
    }                                                                                                                     \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) bn_sums_partial_##SUF(                                               \
        const T* __restrict__ z, const float* __restrict__ mean, float* __restrict__ partial, int rows, int c,              \
        int rowsPerChunk) {                                                                                               \
        bn_sums_partial_impl<T>(z, mean, partial, rows, c, rowsPerChunk);                                                 \
    }                                                                                                                     \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) bn_stats_partial_v8_##SUF(const T* __restrict__ z, float* __restrict__ partial, \
                                                                int rows, int c, int rowsPerChunk, int lanes) {            \
        bn_chunk_sums_v8(StatsSums<T>{z}, partial, rows, c, rowsPerChunk, lanes);                                         \
    }                                                                                                                     \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) bn_backward_partial_v8_##SUF(                                         \
        const T* __restrict__ z, const T* __restrict__ y, const T* __restrict__ dy, const float* __restrict__ mean,       \
        const float* __restrict__ invStd, float* __restrict__ partial, int rows, int c, int rowsPerChunk, int relu, int lanes) { \
        bn_chunk_sums_v8(BackwardSums<T>{z, y, dy, mean, invStd, relu}, partial, rows, c, rowsPerChunk, lanes);           \
    }                                                                                                                     \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) bn_sums_partial_v8_##SUF(                                            \
        const T* __restrict__ z, const float* __restrict__ mean, float* __restrict__ partial, int rows, int c,              \
        int rowsPerChunk, int lanes) {                                                                                    \
        bn_chunk_sums_v8(ProcessSums<T>{z, mean}, partial, rows, c, rowsPerChunk, lanes);                                 \
    }                                                                                                                     \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) bn_apply_v8_##SUF(                                                    \
        const T* __restrict__ z, const float* __restrict__ mean, const float* __restrict__ invStd,                         \
        const float* __restrict__ gamma, const float* __restrict__ beta, const T* __restrict__ residual, T* __restrict__ y, \
        int rows, int c, int relu, int lanes) {                                                                           \
        bn_apply_v8_impl<T>(z, mean, invStd, gamma, beta, residual, y, rows, c, relu, lanes);                             \
    }                                                                                                                     \
    extern "C" __global__ void __launch_bounds__(JX_THREADS) bn_backward_apply_v8_##SUF(                                           \
        const T* __restrict__ z, const T* __restrict__ y, const T* __restrict__ dy, const float* __restrict__ gamma,      \
        const float* __restrict__ mean, const float* __restrict__ invStd, const float* __restrict__ dGamma,                \
        const float* __restrict__ dBeta, T* __restrict__ dz, T* __restrict__ dyMasked, int rows, int statRows, int c,       \
        int relu, int lanes) {                                                                                            \
        bn_backward_apply_v8_impl<T>(z, y, dy, gamma, mean, invStd, dGamma, dBeta, dz, dyMasked, rows, statRows, c, relu, lanes); \
    }

JX_BN_KERNELS(f32, float)
JX_BN_KERNELS(bf16, __nv_bfloat16)
JX_BN_KERNELS(f16, __half)
