// sepconv_bn v2 — local-memory tiled: a work-group of TM pixels x TN output channels first computes
// the depthwise tile d (TM x KC) once into local memory, then each work-item computes ONE output
// from it (scalar loads of d and of the weights). Removes v1's 9*CIN-fold depthwise recomputation;
// the product is still one multiply-add per two loads.
// Launch: local (TN, TM), global (ceil(COUT/TN)*TN, ceil(pixels/TM)*TM).
// Compile-time: H, W, CIN, COUT, TM, TN, KC, PRE_RELU, HAS_BN, HAS_RES, POST_RELU.

kernel void sepconv_bn(global const float* x, global const float* dw, global const float* pw,
                       global const float* scale, global const float* shift, global const float* residual,
                       global float* y, int pixels)
{
    local float d[TM * KC]; // (TM, KC)
    const int o = get_global_id(0);
    const int pl_me = get_local_id(1);
    const int p0 = get_group_id(1) * TM;
    const int lid = get_local_id(1) * TN + get_local_id(0);
    float acc = 0.0f;
    for (int k0 = 0; k0 < CIN; k0 += KC) {
        const int kc = min(KC, CIN - k0);
        for (int u = lid; u < TM * kc; u += TM * TN) {
            const int pl = u / kc, c = u - pl * kc;
            const int p = p0 + pl;
            float s = 0.0f;
            if (p < pixels) {
                const int px = p % W, py = (p / W) % H, img = p / (W * H);
                for (int dy = -1; dy <= 1; dy++) {
                    for (int dx = -1; dx <= 1; dx++) {
                        const int yy = py + dy, xx = px + dx;
                        if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
                        float v = x[((long)(img * H + yy) * W + xx) * CIN + k0 + c];
#if PRE_RELU
                        v = fmax(v, 0.0f);
#endif
                        s = fma(v, dw[((dy + 1) * 3 + dx + 1) * CIN + k0 + c], s);
                    }
                }
            }
            d[pl * KC + c] = s;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        if (o < COUT) for (int k = 0; k < kc; k++) acc = fma(d[pl_me * KC + k], pw[(long)(k0 + k) * COUT + o], acc);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const int p = p0 + pl_me;
    if (o >= COUT || p >= pixels) return;
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
