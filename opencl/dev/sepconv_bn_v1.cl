// sepconv_bn v1 — naive: one output y[p, o] per work-item, the depthwise values recomputed from
// global memory for every output channel (9*CIN extra MACs per output, no reuse of anything).
// The baseline the tiled versions are measured against. Launch: global (COUT, pixels), local any.
// Compile-time: H, W, CIN, COUT, PRE_RELU, HAS_BN, HAS_RES, POST_RELU.

kernel void sepconv_bn(global const float* x,        // (N, H, W, CIN)
                       global const float* dw,       // (3, 3, CIN)
                       global const float* pw,       // (CIN, COUT)
                       global const float* scale,    // (COUT) or NULL
                       global const float* shift,    // (COUT) or NULL
                       global const float* residual, // (N, H, W, COUT) or NULL
                       global float* y,              // (N, H, W, COUT)
                       int pixels)
{
    const int o = get_global_id(0), p = get_global_id(1);
    if (o >= COUT || p >= pixels) return;
    const int px = p % W, py = (p / W) % H, img = p / (W * H);
    float acc = 0.0f;
    for (int c = 0; c < CIN; c++) {
        float d = 0.0f;
        for (int dy = -1; dy <= 1; dy++) {
            for (int dx = -1; dx <= 1; dx++) {
                const int yy = py + dy, xx = px + dx;
                if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
                float v = x[((long)(img * H + yy) * W + xx) * CIN + c];
#if PRE_RELU
                v = fmax(v, 0.0f);
#endif
                d = fma(v, dw[((dy + 1) * 3 + dx + 1) * CIN + c], d);
            }
        }
        acc = fma(d, pw[(long)c * COUT + o], acc);
    }
#if HAS_BN
    acc = fma(acc, scale[o], shift[o]);
#endif
#if HAS_RES
    acc += residual[(long)p * COUT + o];
#endif
#if POST_RELU
    acc = fmax(acc, 0.0f);
#endif
    y[(long)p * COUT + o] = acc;
}
