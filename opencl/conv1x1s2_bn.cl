// conv1x1s2_bn — the residual branch of blocks 2-4 and 13: 1x1 convolution, stride STRIDE, TensorFlow
// 'same' padding (which is zero for a 1x1 kernel at any stride), fused with its batch norm:
//
//   y[n, oy, ox, o] = post_relu?( (sum_c act(x[n, oy*STRIDE, ox*STRIDE, c]) * w[c, o]) * scale[o] + shift[o] + residual )
//
// A GEMM over strided pixel rows: M = output pixels, K = CIN, N = COUT; RM x VW register tile per
// work-item, A read straight from x (each row is CIN contiguous floats), one weight vector per k.
// With STRIDE = 1, H = W = 1 it is a plain row-major GEMM (pixels, CIN) x (CIN, COUT), which the
// backward passes use for dz x W^T.
//
// Compile-time: H, W, CIN, COUT, STRIDE, OH, OW, RM, VW, PRE_RELU, HAS_BN, HAS_RES, POST_RELU.
// Launch: local (TMR, TNV), global (ceil(pixels/RM) rounded to TMR, ceil(COUT/VW) rounded to TNV): row tiles
// are the fastest dimension, so the TMR work-items that share a column of weights run back to back
// on one pocl thread and find it in cache (as in sepconv_bn.cl).

kernel void conv1x1s2_bn(global const float* x,        // (N, H, W, CIN) NHWC
                         global const float* w,        // (CIN, COUT)
                         global const float* scale,    // (COUT) or NULL when !HAS_BN
                         global const float* shift,    // (COUT) or NULL when !HAS_BN
                         global const float* residual, // (N, OH, OW, COUT) or NULL when !HAS_RES
                         global float* y,              // (N, OH, OW, COUT) NHWC
                         int pixels)                   // N * OH * OW
{
    const int vec = get_global_id(1);
    if (vec * VW >= COUT) return;
    const int col = vec_start(vec, VW, COUT);
    const int p0 = get_global_id(0) * RM;
    if (p0 >= pixels) return;

    const global float* rows[RM];
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
    for (int c = 0; c < CIN; c++) {
        const floatV bv = VLOAD(b);
        b += COUT;
#pragma unroll
        for (int r = 0; r < RM; r++) {
#if PRE_RELU
            acc[r] = fma((floatV)(RELU(rows[r][c])), bv, acc[r]);
#else
            acc[r] = fma((floatV)(rows[r][c]), bv, acc[r]);
#endif
        }
    }

#pragma unroll
    for (int r = 0; r < RM; r++) {
        const int p = p0 + r;
        if (p < pixels) store_tail(epilogue(acc[r], scale, shift, residual + (long)p * COUT, col), y + (long)p * COUT, vec, COUT);
    }
}
