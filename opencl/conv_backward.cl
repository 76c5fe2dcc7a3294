// conv_backward — gradients of the three convolutions (no epilogue; batch norm has its own backward).
// act(x) = PRE_RELU ? relu(x) : x, and mask(x) = PRE_RELU ? (x > 0) : 1.
//
// Separable (depthwise dw (3,3,CIN), pointwise pw (CIN,COUT)), with d = DW(act(x)) recomputed:
//   dpw  = d^T dz                       gemm_tn_partial (A_KIND 0) + reduce_slices
//   dd   = dz pw^T                      transpose(pw) then conv1x1s2_bn.cl with STRIDE 1
//   ddw[t, c] = sum_p act(x)[p + t, c] dd[p, c]       depthwise_filter_partial + reduce_slices
//   dx[p, c]  = mask * sum_t dd[p - t, c] dw[t, c]    depthwise_backward_data
// 1x1 stride STRIDE (w (CIN,COUT)):
//   dw = act(x)[strided]^T dz           gemm_tn_partial (A_KIND 1) + reduce_slices
//   dx = scatter(dz w^T) * mask         transpose, conv1x1s2_bn.cl with STRIDE 1, scatter_strided
// 3x3 valid stride STRIDE (w (3,3,CIN,COUT)):
//   dw = im2col(act(x))^T dz            gemm_tn_partial (A_KIND 2) + reduce_slices
//   dx[n,iy,ix,c] = mask * sum_{ky,kx} sum_o dz[n,(iy-ky)/S,(ix-kx)/S,o] w[ky,kx,c,o]   conv3x3_backward_data
//
// Weight gradients sum over all pixels: each work-group takes a slice of SLICE pixels and writes
// its partial sums; reduce_slices adds the slices in a fixed order (deterministic, no atomics).

// d[p, c] = sum_t act(x)[p + t, c] * dw[t, c]: the depthwise half of sepconv_bn, stored.
// Compile-time: H, W, CIN, VWI, PRE_RELU.   Launch: global (ceil(CIN/VWI), pixels).
kernel void depthwise(global const float* x,  // (N, H, W, CIN) NHWC
                      global const float* dw, // (3, 3, CIN)
                      global float* d,        // (N, H, W, CIN)
                      int pixels)
{
    const int vec = get_global_id(0), p = get_global_id(1);
    if (vec * VWI >= CIN || p >= pixels) return;
    const int c = vec_start(vec, VWI, CIN);
    const int px = p % W, py = (p / W) % H, img = p / (W * H);
    floatI s = (floatI)(0.0f);
    for (int dy = -1; dy <= 1; dy++) {
        const int yy = py + dy;
        if (yy < 0 || yy >= H) continue;
        for (int dx = -1; dx <= 1; dx++) {
            const int xx = px + dx;
            if (xx < 0 || xx >= W) continue;
            floatI v = ILOAD(x + ((long)(img * H + yy) * W + xx) * CIN + c);
#if PRE_RELU
            v = RELU(v);
#endif
            s = fma(v, ILOAD(dw + ((dy + 1) * 3 + dx + 1) * CIN + c), s);
        }
    }
    store_tail_i(s, d + (long)p * CIN, vec, CIN);
}

// dx[p, c] = mask(x[p, c]) * sum_{dy,dx} dd[p - (dy,dx), c] * dw[dy+1, dx+1, c].
// Compile-time: H, W, CIN, VWI, PRE_RELU.   Launch: global (ceil(CIN/VWI), pixels).
kernel void depthwise_backward_data(global const float* x,  // (N, H, W, CIN) forward input
                                    global const float* dd, // (N, H, W, CIN) gradient of the depthwise output
                                    global const float* dw, // (3, 3, CIN)
                                    global float* dx,       // (N, H, W, CIN)
                                    int pixels)
{
    const int vec = get_global_id(0), p = get_global_id(1);
    if (vec * VWI >= CIN || p >= pixels) return;
    const int c = vec_start(vec, VWI, CIN);
    const int px = p % W, py = (p / W) % H, img = p / (W * H);
    floatI s = (floatI)(0.0f);
    for (int dy = -1; dy <= 1; dy++) {
        const int yy = py - dy;
        if (yy < 0 || yy >= H) continue;
        for (int dx = -1; dx <= 1; dx++) {
            const int xx = px - dx;
            if (xx < 0 || xx >= W) continue;
            s = fma(ILOAD(dd + ((long)(img * H + yy) * W + xx) * CIN + c), ILOAD(dw + ((dy + 1) * 3 + dx + 1) * CIN + c), s);
        }
    }
#if PRE_RELU
    s = select((floatI)(0.0f), s, isgreater(ILOAD(x + (long)p * CIN + c), (floatI)(0.0f)));
#endif
    store_tail_i(s, dx + (long)p * CIN, vec, CIN);
}

// partial[s, t, c] = sum_{p in slice s} act(x)[p + t, c] * dd[p, c] for the 9 taps t = (dy+1)*3 + dx+1.
// Compile-time: H, W, CIN, VWI, PRE_RELU, SLICE.   Launch: global (ceil(CIN/VWI), S).
kernel void depthwise_filter_partial(global const float* x,  // (N, H, W, CIN)
                                     global const float* dd, // (N, H, W, CIN)
                                     global float* partial,  // (S, 9, CIN)
                                     int pixels)
{
    const int vec = get_global_id(0), s = get_global_id(1);
    if (vec * VWI >= CIN) return;
    const int c = vec_start(vec, VWI, CIN);
    floatI acc[9];
#pragma unroll
    for (int t = 0; t < 9; t++) acc[t] = (floatI)(0.0f);
    const int p1 = min(pixels, (s + 1) * SLICE);
    for (int p = s * SLICE; p < p1; p++) {
        const int px = p % W, py = (p / W) % H, img = p / (W * H);
        const floatI g = ILOAD(dd + (long)p * CIN + c);
#pragma unroll
        for (int t = 0; t < 9; t++) {
            const int yy = py + t / 3 - 1, xx = px + t % 3 - 1;
            if (yy >= 0 && yy < H && xx >= 0 && xx < W) {
                floatI v = ILOAD(x + ((long)(img * H + yy) * W + xx) * CIN + c);
#if PRE_RELU
                v = RELU(v);
#endif
                acc[t] = fma(v, g, acc[t]);
            }
        }
    }
#pragma unroll
    for (int t = 0; t < 9; t++) store_tail_i(acc[t], partial + ((long)s * 9 + t) * CIN, vec, CIN);
}

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

// out[i] = sum_s partial[s, i] for i < len, Kahan-compensated, in slice order.   Launch: global (len).
kernel void reduce_slices(global const float* partial, // (S, len)
                          global float* out,           // (len)
                          int slices, int len)
{
    const int i = get_global_id(0);
    if (i >= len) return;
    float sum = 0.0f, comp = 0.0f;
    for (int s = 0; s < slices; s++) {
        const float y_ = partial[(long)s * len + i] - comp;
        const float t_ = sum + y_;
        comp = (t_ - sum) - y_;
        sum = t_;
    }
    out[i] = sum;
}

// out[b, c, r] = in[b, r, c]: weights to the layout a backward GEMM streams along.
// Launch: global (cols, rows, batches).
kernel void transpose(global const float* in, // (B, rows, cols)
                      global float* out,      // (B, cols, rows)
                      int rows, int cols)
{
    const int c = get_global_id(0), r = get_global_id(1), bt = get_global_id(2);
    if (c >= cols || r >= rows) return;
    out[((long)bt * cols + c) * rows + r] = in[((long)bt * rows + r) * cols + c];
}

// dx (N, H, W, CIN) of a 1x1 stride-STRIDE conv: g (the gradient of its sampled pixels) where
// (iy, ix) is a sampled position, 0 elsewhere; times mask(x).
// Compile-time: H, W, CIN, OH, OW, STRIDE, VWI, PRE_RELU.   Launch: global (ceil(CIN/VWI), N*H*W).
kernel void scatter_strided(global const float* x, // (N, H, W, CIN) forward input
                            global const float* g, // (N, OH, OW, CIN)
                            global float* dx,      // (N, H, W, CIN)
                            int in_pixels)
{
    const int vec = get_global_id(0), p = get_global_id(1);
    if (vec * VWI >= CIN || p >= in_pixels) return;
    const int c = vec_start(vec, VWI, CIN);
    const int ix = p % W, iy = (p / W) % H, img = p / (W * H);
    floatI v = (floatI)(0.0f);
    if (iy % STRIDE == 0 && ix % STRIDE == 0 && iy / STRIDE < OH && ix / STRIDE < OW) {
        v = ILOAD(g + ((long)(img * OH + iy / STRIDE) * OW + ix / STRIDE) * CIN + c);
#if PRE_RELU
        v = select((floatI)(0.0f), v, isgreater(ILOAD(x + (long)p * CIN + c), (floatI)(0.0f)));
#endif
    }
    store_tail_i(v, dx + (long)p * CIN, vec, CIN);
}

// dx[n, iy, ix, c] = mask * sum_{ky,kx valid} sum_o dz[n, oy, ox, o] * wt[ky, kx, o, c],
// oy = (iy - ky) / STRIDE when that divides and lands inside the output. A GEMM over K = 9*COUT with
// an RM x VW tile (RM input pixels, VW input channels); an invalid tap contributes through a 0 factor.
// Compile-time: H, W, CIN, COUT, OH, OW, STRIDE, RM, VW, PRE_RELU.
// Launch: global (ceil(CIN/VW), ceil(N*H*W/RM)).
kernel void conv3x3_backward_data(global const float* x,  // (N, H, W, CIN) forward input (for the mask)
                                  global const float* dz, // (N, OH, OW, COUT)
                                  global const float* wt, // (3, 3, COUT, CIN): w with the last two axes swapped
                                  global float* dx,       // (N, H, W, CIN)
                                  int in_pixels)
{
    const int vec = get_global_id(0);
    if (vec * VW >= CIN) return;
    const int col = vec_start(vec, VW, CIN);
    const int p0 = get_global_id(1) * RM;
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
