// sepconv_bn v5 — v4 with a branch-free depthwise step for interior pixels (all 9 taps inside the
// image: unrolled loads at fixed offsets from the centre pixel); border pixels keep v4's guarded loop.

// sepconv_bn — Keras SeparableConv2D (depthwise 3x3 'same' stride 1, then pointwise 1x1, no bias)
// fused with its batch norm, residual add and ReLUs:
//
//   d[p, c]  = sum_{dy,dx in -1..1} act(x[n, y+dy, x+dx, c]) * dw[dy+1, dx+1, c]    (zero outside)
//   y[p, o]  = post_relu?( (sum_c d[p, c] * pw[c, o]) * scale[o] + shift[o] + residual[p, o] )
//   act      = PRE_RELU ? relu : identity
//
// The pointwise product is a GEMM with M = pixels, K = CIN, N = COUT (90% of Xception's MACs).
// A work-group owns TM consecutive pixels and TNV*VW output channels. For each chunk of KC input
// channels it first computes the depthwise outputs d of its TM pixels into local memory (never to
// global memory), then every work-item multiplies its RM rows of d by the pointwise weights into an
// RM x VW register tile (RM accumulators of floatV, weights loaded as one vector along COUT).
//
// Row groups are the FIRST work-group dimension: pocl runs a group's work-items in order, dim 0
// fastest, so the TM/RM work-items that share one column of weights (CIN x VW floats) run back to
// back and find it in cache; the d tile (TM x KC) stays in L2. Weights then come from memory once
// per work-group instead of once per row group (opencl/dev/sepconv_bn_v4.cl keeps the other order).
//
// Compile-time: H, W, CIN, COUT, TM (multiple of RM), KC, RM, VW (output vector), VWI (depthwise
// vector, VWI <= min chunk), PRE_RELU, HAS_BN, HAS_RES, POST_RELU.
// Launch: local (TM/RM, TNV), global (ceil(pixels/TM)*TM/RM, ceil(ceil(COUT/VW)/TNV)*TNV).

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

    const int vec = get_global_id(1);              // output channel vector of this work-item
    const int col = vec_start(vec, VW, COUT);
    const bool active_col = vec * VW < COUT;
    const int row0 = get_local_id(0) * RM;         // first of this work-item's RM rows within the tile
    const int p0 = get_group_id(0) * TM;           // first pixel of the group's tile
    const int lid = get_local_id(1) * get_local_size(0) + get_local_id(0);
    const int lsize = get_local_size(0) * get_local_size(1);
    const int dw_sharers = max(1, lsize / TM);        // work-items per pixel in the depthwise step
    const int dw_share = lid / TM;                     // this work-item's share (idle if >= dw_sharers)
    const int dw_stride = lsize < TM ? lsize : TM;     // pixel stride of one work-item

    floatV acc[RM];
#pragma unroll
    for (int r = 0; r < RM; r++) acc[r] = (floatV)(0.0f);

    for (int chunk = 0; chunk < CHUNKS; chunk++) {
        const int k0 = chunk * KC;
        const int kc = min(KC, CIN - k0);
        const int cvecs = (kc + VWI - 1) / VWI;

        // Depthwise: TM pixels x kc channels, VWI channels per step. Work-items take whole pixels
        // (the pixel's coordinates cost three divisions, paid once); when the group has more
        // work-items than pixels, several share a pixel and split its channel vectors.
        if (dw_share < dw_sharers) {
            for (int pl = lid % TM; pl < TM; pl += dw_stride) {
                const int p = p0 + pl;
                const int px = p % W, py = (p / W) % H, img = p / (W * H);
                const bool interior = p < pixels && py > 0 && py < H - 1 && px > 0 && px < W - 1;
                const global float* xc = x + (long)min(p, pixels - 1) * CIN + k0; // centre pixel
                for (int cv = dw_share; cv < cvecs; cv += dw_sharers) {
                    const int c = vec_start(cv, VWI, kc);
                    floatI s = (floatI)(0.0f);
                    if (interior) {
                        const global float* w = dw + k0 + c;
                        const global float* t = xc + c;
#if PRE_RELU
#define TAP(i, off) s = fma(RELU(ILOAD(t + (off))), ILOAD(w + (i) * CIN), s)
#else
#define TAP(i, off) s = fma(ILOAD(t + (off)), ILOAD(w + (i) * CIN), s)
#endif
                        TAP(0, -(W + 1) * CIN); TAP(1, -W * CIN); TAP(2, -(W - 1) * CIN);
                        TAP(3, -CIN);           TAP(4, 0);        TAP(5, CIN);
                        TAP(6, (W - 1) * CIN);  TAP(7, W * CIN);  TAP(8, (W + 1) * CIN);
#undef TAP
                    } else if (p < pixels) {
                        for (int dy = -1; dy <= 1; dy++) {
                            const int yy = py + dy;
                            if (yy < 0 || yy >= H) continue;
                            const global float* xrow = x + ((long)(img * H + yy) * W) * CIN + k0 + c;
                            const global float* wrow = dw + (dy + 1) * 3 * CIN + k0 + c;
                            for (int dx = -1; dx <= 1; dx++) {
                                const int xx = px + dx;
                                if (xx < 0 || xx >= W) continue;
                                floatI v = ILOAD(xrow + xx * CIN);
#if PRE_RELU
                                v = RELU(v);
#endif
                                s = fma(v, ILOAD(wrow + (dx + 1) * CIN), s);
                            }
                        }
                    }
                    ISTORE(s, d + pl * KC + c);
                }
            }
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
