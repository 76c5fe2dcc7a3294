// conv3x3_backward_data — the input gradient of the stem's 3x3 'valid' conv with stride STRIDE.
// mask(x) = PRE_RELU ? (x > 0) : 1.

// dx[n, iy, ix, c] = mask * sum_{ky,kx valid} sum_o dz[n, oy, ox, o] * wt[ky, kx, o, c],
// oy = (iy - ky) / STRIDE when that divides and lands inside the output. A GEMM over K = 9*COUT with
// an RM x VW tile (RM input pixels, VW input channels); an invalid tap contributes through a 0 factor.
// Compile-time: H, W, CIN, COUT, OH, OW, STRIDE, RM, VW, PRE_RELU.
// Launch: local (TMR, TNV), global (ceil(N*H*W/RM) rounded to TMR, ceil(CIN/VW) rounded to TNV).
kernel void conv3x3_backward_data(global const float* x,  // (N, H, W, CIN) forward input (for the mask)
                                  global const float* dz, // (N, OH, OW, COUT)
                                  global const float* wt, // (3, 3, COUT, CIN): w with the last two axes swapped
                                  global float* dx,       // (N, H, W, CIN)
                                  int in_pixels)
{
    const int vec = get_global_id(1);
    if (vec * VW >= CIN) return;
    const int col = vec_start(vec, VW, CIN);
    const int p0 = get_global_id(0) * RM;
    if (p0 >= in_pixels) return;
    int iy[RM], ix[RM], img[RM];
#pragma unroll
    for (int r = 0; r < RM; r++) {
        const int p = min(p0 + r, in_pixels - 1);
        ix[r] = p % W;
        iy[r] = (p / W) % H;
        img[r] = p / (W * H);
    }
    floatV acc[RM];
#pragma unroll
    for (int r = 0; r < RM; r++) acc[r] = (floatV)(0.0f);

    for (int t = 0; t < 9; t++) {
        const int ky = t / 3, kx = t % 3;
        const global float* rows[RM];
        float valid[RM];
#pragma unroll
        for (int r = 0; r < RM; r++) {
            const int ty = iy[r] - ky, tx = ix[r] - kx;
            const int oy = ty / STRIDE, ox = tx / STRIDE;
            const bool ok = ty >= 0 && tx >= 0 && ty % STRIDE == 0 && tx % STRIDE == 0 && oy < OH && ox < OW;
            valid[r] = ok ? 1.0f : 0.0f;
            rows[r] = dz + (ok ? ((long)(img[r] * OH + oy) * OW + ox) * COUT : 0);
        }
        const global float* b = wt + (long)t * COUT * CIN + col;
        for (int o = 0; o < COUT; o++) {
            const floatV bv = VLOAD(b + (long)o * CIN);
#pragma unroll
            for (int r = 0; r < RM; r++) acc[r] = fma((floatV)(rows[r][o] * valid[r]), bv, acc[r]);
        }
    }
#pragma unroll
    for (int r = 0; r < RM; r++) {
        const int p = p0 + r;
        if (p < in_pixels) {
            floatV v = acc[r];
#if PRE_RELU
            v = select((floatV)(0.0f), v, isgreater(VLOAD(x + (long)p * CIN + col), (floatV)(0.0f)));
#endif
            store_tail(v, dx + (long)p * CIN, vec, CIN);
        }
    }
}
