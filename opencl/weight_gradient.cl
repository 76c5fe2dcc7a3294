// weight_gradient — dW = A^T dz summed over all pixels, for the three convolution kinds:
//   separable pointwise: dpw (CIN, COUT) = d^T dz            A_KIND 0, d = depthwise output
//   1x1 stride S:        dw  (CIN, COUT) = act(x)[strided]^T dz   A_KIND 1
//   3x3 valid:           dw  (9*CIN, COUT) = im2col(act(x))^T dz  A_KIND 2
// Each work-group takes a slice of SLICE pixels and writes partial sums (S, M, COUT); reduce_slices.cl
// adds the slices in a fixed order (deterministic, no atomics).

// partial[s, m, n] = sum_{p in slice s} A(p, m) * b[p, n]: the weight-gradient GEMM (K = pixels),
// an RM x VW register tile per work-item (RM rows of m, VW columns of n).
//   A_KIND 0: A = a (pixels, M) row-major                    (separable: a = depthwise output d)
//   A_KIND 1: A(p, m) = act(x)[n, oy*STRIDE, ox*STRIDE, m]    (1x1 conv, M = CIN)
//   A_KIND 2: A(p, m) = act(x)[n, oy*STRIDE+ky, ox*STRIDE+kx, c], m = (ky*3+kx)*CIN + c   (3x3 conv)
// Compile-time: M, NCOLS, A_KIND, H, W, CIN, OH, OW, STRIDE, RM, VW, PRE_RELU, SLICE.
// Launch: global (ceil(NCOLS/VW), ceil(M/RM), S), local (.., .., 1).
kernel void gemm_tn_partial(global const float* a, // A_KIND 0: (pixels, M); else x (N, H, W, CIN)
                            global const float* b, // (pixels, NCOLS) = dz
                            global float* partial, // (S, M, NCOLS)
                            int pixels)
{
    const int vec = get_global_id(0);
    const int m0 = get_global_id(1) * RM;
    const int s = get_global_id(2);
    if (vec * VW >= NCOLS || m0 >= M) return;
    const int col = vec_start(vec, VW, NCOLS);

    int off[RM]; // offset of A(p, m0 + r) from the row base of pixel p
#pragma unroll
    for (int r = 0; r < RM; r++) {
        const int m = min(m0 + r, M - 1);
#if A_KIND == 2
        const int tap = m / CIN, c = m - tap * CIN;
        off[r] = ((tap / 3) * W + tap % 3) * CIN + c;
#else
        off[r] = m;
#endif
    }
    floatV acc[RM];
#pragma unroll
    for (int r = 0; r < RM; r++) acc[r] = (floatV)(0.0f);

    const int p1 = min(pixels, (s + 1) * SLICE);
    for (int p = s * SLICE; p < p1; p++) {
#if A_KIND == 0
        const global float* row = a + (long)p * M;
#else
        const int ox = p % OW, oy = (p / OW) % OH, img = p / (OW * OH);
        const global float* row = a + ((long)(img * H + oy * STRIDE) * W + ox * STRIDE) * CIN;
#endif
        const floatV bv = VLOAD(b + (long)p * NCOLS + col);
#pragma unroll
        for (int r = 0; r < RM; r++) {
#if PRE_RELU
            acc[r] = fma((floatV)(RELU(row[off[r]])), bv, acc[r]);
#else
            acc[r] = fma((floatV)(row[off[r]]), bv, acc[r]);
#endif
        }
    }
#pragma unroll
    for (int r = 0; r < RM; r++) {
        if (m0 + r < M) store_tail(acc[r], partial + ((long)s * M + m0 + r) * NCOLS, vec, NCOLS);
    }
}

