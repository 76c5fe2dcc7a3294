// sepconv_bn v3 — register-tiled: v2's local depthwise tile, and each work-item an RM x VW tile
// (RM = 8 rows of d times one float16 of weights per k: 8 vector FMAs per 9 loads), loops unrolled
// so the accumulators stay in registers. Work-group dims (column vectors, row groups): pocl runs
// dim 0 fastest, so each row group sweeps all the weights before the next one starts.
// Launch: local (TNV, TM/RM), global (ceil(ceil(COUT/VW)/TNV)*TNV, ceil(pixels/TM)*TM/RM).
// Compile-time: H, W, CIN, COUT, TM, KC, RM, VW, VWI, PRE_RELU, HAS_BN, HAS_RES, POST_RELU.

#define CHUNKS ((CIN + KC - 1) / KC)

kernel void sepconv_bn(global const float* x,        // (N, H, W, CIN) NHWC
                       global const float* dw,       // (3, 3, CIN) depthwise kernel
                       global const float* pw,       // (CIN, COUT) pointwise kernel
                       global const float* scale,    // (COUT) folded BN scale, or NULL when !HAS_BN
                       global const float* shift,    // (COUT) folded BN shift, or NULL when !HAS_BN
                       global const float* residual, // (N, H, W, COUT) or NULL when !HAS_RES
                       global float* y,              // (N, H, W, COUT) NHWC
                       int pixels)                   // N * H * W
{
    local float d[TM * KC]; // (TM, KC) depthwise outputs of this group's pixels, one channel chunk

    const int vec = get_global_id(0);              // output channel vector of this work-item
    const int col = vec_start(vec, VW, COUT);
    const bool active_col = vec * VW < COUT;
    const int row0 = get_local_id(1) * RM;         // first of this work-item's RM rows within the tile
    const int p0 = get_group_id(1) * TM;           // first pixel of the group's tile
    const int lid = get_local_id(1) * get_local_size(0) + get_local_id(0);
    const int lsize = get_local_size(0) * get_local_size(1);

    floatV acc[RM];
#pragma unroll
    for (int r = 0; r < RM; r++) acc[r] = (floatV)(0.0f);

    for (int chunk = 0; chunk < CHUNKS; chunk++) {
        const int k0 = chunk * KC;
        const int kc = min(KC, CIN - k0);
        const int cvecs = (kc + VWI - 1) / VWI;

        // Depthwise: TM pixels x kc channels, VWI channels per step, shared by all work-items.
        for (int u = lid; u < TM * cvecs; u += lsize) {
            const int pl = u / cvecs;
            const int c = vec_start(u - pl * cvecs, VWI, kc);
            const int p = p0 + pl;
            floatI s = (floatI)(0.0f);
            if (p < pixels) {
                const int px = p % W;
                const int py = (p / W) % H;
                const int img = p / (W * H);
                for (int dy = -1; dy <= 1; dy++) {
                    const int yy = py + dy;
                    if (yy < 0 || yy >= H) continue;
                    for (int dx = -1; dx <= 1; dx++) {
                        const int xx = px + dx;
                        if (xx < 0 || xx >= W) continue;
                        floatI v = ILOAD(x + ((long)(img * H + yy) * W + xx) * CIN + k0 + c);
#if PRE_RELU
                        v = RELU(v);
#endif
                        s = fma(v, ILOAD(dw + ((dy + 1) * 3 + dx + 1) * CIN + k0 + c), s);
                    }
                }
            }
            ISTORE(s, d + pl * KC + c);
        }
        barrier(CLK_LOCAL_MEM_FENCE);

        // Pointwise: acc[r] += d[row0 + r, k] * pw[k0 + k, col .. col + VW).
        if (active_col) {
            const local float* a = d + row0 * KC;
            const global float* b = pw + (long)k0 * COUT + col;
            for (int k = 0; k < kc; k++) {
                const floatV bv = VLOAD(b + k * COUT);
#pragma unroll
                for (int r = 0; r < RM; r++) acc[r] = fma((floatV)(a[r * KC + k]), bv, acc[r]);
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    if (!active_col) return;
#pragma unroll
    for (int r = 0; r < RM; r++) {
        const int p = p0 + row0 + r;
        if (p < pixels) {
            const floatV out = epilogue(acc[r], scale, shift, residual + (long)p * COUT, col);
            store_tail(out, y + (long)p * COUT, vec, COUT);
        }
    }
}
