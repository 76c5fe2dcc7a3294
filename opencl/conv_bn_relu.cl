// conv_bn_relu — the stem: full 3x3 'valid' convolution with stride STRIDE, fused with its batch norm
// and ReLU (Keras block1_conv1/2 + _bn + _act):
//
//   y[n, oy, ox, o] = post_relu?( (sum_{ky,kx,c} act(x[n, oy*STRIDE+ky, ox*STRIDE+kx, c]) * w[ky, kx, c, o])
//                                 * scale[o] + shift[o] + residual ),   act = PRE_RELU ? relu : identity
//
// An implicit GEMM: M = output pixels, K = 9*CIN in the weight's (ky, kx, c) order, N = COUT. The
// A element of row r at k is x[base_r + (ky*W + kx)*CIN + c]: one offset for all rows, so each
// work-item walks K once with RM row pointers, loading one weight vector per k (RM x VW tile).
//
// X_UINT8 = 1 (the network's first conv over raw 8-bit images): x holds uchar pixels and each is read
// as pixel_value[v], the table of Keras' preprocessing v/127.5f - 1f computed on the host by the same
// code as the float input (KerasPreprocessing.tf): bit for bit the float path's values, whatever the
// device's division accuracy or contraction, at a quarter of the input bytes.
//
// Compile-time: H, W, CIN, COUT, STRIDE, OH, OW, RM, VW, PRE_RELU, HAS_BN, HAS_RES, POST_RELU, X_UINT8.
// Launch: local (TMR, TNV), global (ceil(pixels/RM) rounded to TMR, ceil(COUT/VW) rounded to TNV): row tiles
// are the fastest dimension, so the TMR work-items that share a column of weights run back to back
// on one pocl thread and find it in cache (as in sepconv_bn.cl).

#ifndef X_UINT8
#define X_UINT8 0
#endif
#if X_UINT8
typedef uchar x_t;
#define LOAD_X(v) pixel_value[(v)]
#else
typedef float x_t;
#define LOAD_X(v) (v)
#endif

kernel void conv_bn_relu(global const x_t* x,          // (N, H, W, CIN) NHWC, float or (X_UINT8) uchar
                         global const float* w,        // (3, 3, CIN, COUT)
                         global const float* scale,    // (COUT) or NULL when !HAS_BN
                         global const float* shift,    // (COUT) or NULL when !HAS_BN
                         global const float* residual, // (N, OH, OW, COUT) or NULL when !HAS_RES
                         global float* y,              // (N, OH, OW, COUT) NHWC
                         int pixels,                   // N * OH * OW
                         global const float* pixel_value) // (256) preprocessed value of each byte, or NULL unless X_UINT8
{
    const int vec = get_global_id(1);
    if (vec * VW >= COUT) return;
    const int col = vec_start(vec, VW, COUT);
    const int p0 = get_global_id(0) * RM;
    if (p0 >= pixels) return;

    const global x_t* rows[RM]; // x at the top-left tap of each output pixel
#pragma unroll
    for (int r = 0; r < RM; r++) {
        const int p = min(p0 + r, pixels - 1);
        const int ox = p % OW, oy = (p / OW) % OH, img = p / (OW * OH);
        rows[r] = x + ((long)(img * H + oy * STRIDE) * W + ox * STRIDE) * CIN;
    }
    floatV acc[RM];
#pragma unroll
    for (int r = 0; r < RM; r++) acc[r] = (floatV)(0.0f);

    const global float* b = w + col;
    for (int ky = 0; ky < 3; ky++) {
        for (int kx = 0; kx < 3; kx++) {
            const int off = (ky * W + kx) * CIN;
            for (int c = 0; c < CIN; c++) {
                const floatV bv = VLOAD(b);
                b += COUT;
#pragma unroll
                for (int r = 0; r < RM; r++) {
#if PRE_RELU
                    acc[r] = fma((floatV)(RELU(LOAD_X(rows[r][off + c]))), bv, acc[r]);
#else
                    acc[r] = fma((floatV)(LOAD_X(rows[r][off + c])), bv, acc[r]);
#endif
                }
            }
        }
    }

#pragma unroll
    for (int r = 0; r < RM; r++) {
        const int p = p0 + r;
        if (p < pixels) store_tail(epilogue(acc[r], scale, shift, residual + (long)p * COUT, col), y + (long)p * COUT, vec, COUT);
    }
}
