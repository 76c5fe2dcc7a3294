// depthwise_backward — the depthwise half of a separable conv, for the backward pass. The forward
// (sepconv_bn.cl) never stores the depthwise output d; the backward recomputes it here, and gets the
// gradients of the depthwise kernel and of the input from dd, the gradient of d (dd = dz pw^T).
// act(x) = PRE_RELU ? relu(x) : x, mask(x) = PRE_RELU ? (x > 0) : 1. The whole backward chain of a
// separable conv is listed in OpenClBackend.convBackward.
// Compile-time (all kernels): H, W, CIN, VWI, PRE_RELU, SLICE.

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
    if (vec * VWI >= CIN || s * SLICE >= pixels) return;  // padded work-items (groups are launch-sized)
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

