// gap_dense_softmax — the head. Keras: GlobalAveragePooling2D -> Dense(classes) -> softmax
// ("predictions"), or, without the top, GlobalAveragePooling2D / GlobalMaxPooling2D alone.
//
//   pooled[n, c] = mean_{p} x[n, p, c]            (POOL_MAX: max_p)
//   logits[n, j] = bias[j] + sum_c pooled[n, c] * kernel[c, j]
//   y[n, j]      = exp(logits[n, j] - max_j logits) / sum_j exp(...)
//   loss[n]      = log(sum_j exp(logits[n, j] - max)) + max - logits[n, label[n]]   (training, LOSS)
//
// global_pool: one work-item per (image, VWI-channel vector).   Compile-time: HW, C, VWI, POOL_MAX.
// dense_softmax: one work-group per image; its work-items first compute VW classes at a time
// (weights loaded as vectors along classes), then reduce max and sum in local memory.
//                                                   Compile-time: C, CLASSES, VW, HAS_BIAS, WG, LOSS.

#define DENSE_BLOCK 64  // channels summed from zero before joining the running total (dense_softmax)

kernel void global_pool(global const float* x,  // (N, HW, C) NHWC
                        global float* pooled,   // (N, C)
                        int n)
{
    const int vec = get_global_id(0);
    const int img = get_global_id(1);
    if (vec * VWI >= C || img >= n) return;
    const int c = vec_start(vec, VWI, C);
    const global float* src = x + (long)img * HW * C + c;
#if POOL_MAX
    floatI acc = ILOAD(src);
    for (int p = 1; p < HW; p++) acc = fmax(acc, ILOAD(src + (long)p * C));
#else
    floatI acc = (floatI)(0.0f);
    for (int p = 0; p < HW; p++) acc += ILOAD(src + (long)p * C);
    acc *= (1.0f / HW);
#endif
    store_tail_i(acc, pooled + (long)img * C, vec, C);
}

kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void dense_softmax(global const float* pooled, // (N, C)
                   global const float* kernel_, // (C, CLASSES)
                   global const float* bias,    // (CLASSES) or NULL when !HAS_BIAS
                   global float* y,             // (N, CLASSES): logits, then probabilities in place
                   global const float* labels,  // (N) class indices as floats, or NULL when !LOSS
                   global float* loss)          // (N) cross-entropy log-sum-exp - logit[label], or NULL when !LOSS
{
    local float red[WG];
    const int img = get_group_id(0);
    const int lid = get_local_id(0);
    const global float* a = pooled + (long)img * C;
    global float* out = y + (long)img * CLASSES;

    // logits, VW classes per step
    const int vecs = (CLASSES + VW - 1) / VW;
    for (int v = lid; v < vecs; v += WG) {
        const int j = vec_start(v, VW, CLASSES);
#if HAS_BIAS
        floatV acc = VLOAD(bias + j);
#else
        floatV acc = (floatV)(0.0f);
#endif
        const global float* b = kernel_ + j;
        // Blocked sum: each run of DENSE_BLOCK channels is accumulated from zero and then added, so
        // a product is rounded against a partial of ~1/sqrt(C/DENSE_BLOCK) the size of the total.
        // At C = 2048 this cut the probabilities' relative error about 5x (median 2.5e-6 -> 5e-7
        // in a float simulation of this loop), at one extra add per block.
        for (int c0 = 0; c0 < C; c0 += DENSE_BLOCK) {
            const int c1 = min(C, c0 + DENSE_BLOCK);
            floatV part = (floatV)(0.0f);
            for (int c = c0; c < c1; c++) part = fma((floatV)(a[c]), VLOAD(b + (long)c * CLASSES), part);
            acc += part;
        }
        store_tail(acc, out, v, CLASSES);
    }
    barrier(CLK_GLOBAL_MEM_FENCE);

    float m = -INFINITY;
    for (int j = lid; j < CLASSES; j += WG) m = fmax(m, out[j]);
    red[lid] = m;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = WG / 2; s > 0; s >>= 1) {
        if (lid < s) red[lid] = fmax(red[lid], red[lid + s]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float mx = red[0];
#if LOSS
    const int label = (int)labels[img];
    // an out-of-range label poisons the loss rather than reading outside the row
    const float label_logit = label >= 0 && label < CLASSES ? out[label] : NAN;
#endif
    barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);

    float sum = 0.0f;
    for (int j = lid; j < CLASSES; j += WG) {
        const float e = exp(out[j] - mx);
        out[j] = e;
        sum += e;
    }
    red[lid] = sum;
    barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);
    for (int s = WG / 2; s > 0; s >>= 1) {
        if (lid < s) red[lid] += red[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float total = red[0];
#if LOSS
    if (lid == 0) loss[img] = log(total) + mx - label_logit;
#endif
    const float inv = 1.0f / total;
    for (int j = lid; j < CLASSES; j += WG) out[j] *= inv;
}
