// conv1x1_backward_data — the input gradient of the strided 1x1 residual conv: dz w^T (computed by
// conv1x1s2_bn.cl with STRIDE 1 into g) lands on the sampled pixels, zeros elsewhere.
// act(x) = PRE_RELU ? relu(x) : x, mask(x) = PRE_RELU ? (x > 0) : 1.

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

