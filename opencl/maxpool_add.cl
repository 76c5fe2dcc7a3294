// maxpool_add — MaxPooling2D(3, strides=2, padding='same') plus the residual branch (blocks 2-4, 13):
//
//   y[n, oy, ox, c] = max_{ky,kx in 0..2, tap inside x} x[n, 2*oy - PT + ky, 2*ox - PL + kx, c] + residual[n, oy, ox, c]
//
// TensorFlow 'same' padding: PT, PL = the smaller half of the total padding (padded taps never win).
// One work-item per (output pixel, VWI-channel vector); memory-bound (9 reads, 1-2 writes per vector).
//
// Compile-time: H, W, C, OH, OW, PT, PL, VWI, HAS_RES.
// Launch: global (ceil(C/VWI), pixels).

kernel void maxpool_add(global const float* x,        // (N, H, W, C) NHWC
                        global const float* residual, // (N, OH, OW, C) or NULL when !HAS_RES
                        global float* y,              // (N, OH, OW, C)
                        int pixels)                   // N * OH * OW
{
    const int vec = get_global_id(0);
    const int p = get_global_id(1);
    if (vec * VWI >= C || p >= pixels) return;
    const int c = vec_start(vec, VWI, C);
    const int ox = p % OW, oy = (p / OW) % OH, img = p / (OW * OH);
    floatI m = (floatI)(-INFINITY);
    for (int ky = 0; ky < 3; ky++) {
        const int iy = oy * 2 - PT + ky;
        if (iy < 0 || iy >= H) continue;
        for (int kx = 0; kx < 3; kx++) {
            const int ix = ox * 2 - PL + kx;
            if (ix < 0 || ix >= W) continue;
            m = fmax(m, ILOAD(x + ((long)(img * H + iy) * W + ix) * C + c));
        }
    }
#if HAS_RES
    m += ILOAD(residual + (long)p * C + c);
#endif
    store_tail_i(m, y + (long)p * C, vec, C);
}

// maxpool_backward — routes each dy to the FIRST maximum (row-major ky, kx order, strict >) of its
// window, accumulating where windows overlap; dx is fully overwritten. Written as a gather: each
// input pixel visits the (at most 2x2) windows that contain it, finds each window's first maximum
// and adds that window's dy if the maximum is this pixel. No atomics, deterministic.
//
// Launch: global (ceil(C/VWI), N*H*W).
kernel void maxpool_backward(global const float* x,  // (N, H, W, C) NHWC, the forward input
                             global const float* dy, // (N, OH, OW, C)
                             global float* dx,       // (N, H, W, C)
                             int in_pixels)          // N * H * W
{
    const int vec = get_global_id(0);
    const int p = get_global_id(1);
    if (vec * VWI >= C || p >= in_pixels) return;
    const int c = vec_start(vec, VWI, C);
    const int ix = p % W, iy = (p / W) % H, img = p / (W * H);
    floatI g = (floatI)(0.0f);
    // windows oy with 2*oy - PT <= iy <= 2*oy - PT + 2
    const int oy_lo = max(0, (iy + PT - 1) / 2), oy_hi = min(OH - 1, (iy + PT) / 2);
    const int ox_lo = max(0, (ix + PL - 1) / 2), ox_hi = min(OW - 1, (ix + PL) / 2);
    for (int oy = oy_lo; oy <= oy_hi; oy++) {
        for (int ox = ox_lo; ox <= ox_hi; ox++) {
            const int ky_me = iy - (oy * 2 - PT), kx_me = ix - (ox * 2 - PL);
            if (ky_me < 0 || ky_me > 2 || kx_me < 0 || kx_me > 2) continue;
            floatI best = (floatI)(-INFINITY);
            intI best_tap = (intI)(-1);
            for (int ky = 0; ky < 3; ky++) {
                const int yy = oy * 2 - PT + ky;
                if (yy < 0 || yy >= H) continue;
                for (int kx = 0; kx < 3; kx++) {
                    const int xx = ox * 2 - PL + kx;
                    if (xx < 0 || xx >= W) continue;
                    const floatI v = ILOAD(x + ((long)(img * H + yy) * W + xx) * C + c);
                    const intI gt = isgreater(v, best) | (best_tap < (intI)(0));
                    best = select(best, v, gt);
                    best_tap = select(best_tap, (intI)(ky * 3 + kx), gt);
                }
            }
            const intI mine = best_tap == (intI)(ky_me * 3 + kx_me);
            g += select((floatI)(0.0f), ILOAD(dy + ((long)(img * OH + oy) * OW + ox) * C + c), mine);
        }
    }
    store_tail_i(g, dx + (long)p * C, vec, C);
}
