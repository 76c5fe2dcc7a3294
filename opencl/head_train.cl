// head_train — gradients of the head for softmax cross-entropy averaged over the batch of N:
//
//   dlogits[n, j] = (probs[n, j] - [j == label[n]]) / N * loss_scale   (mixed-precision loss scaling; 1: none)
//   dkernel[c, j] = sum_n pooled[n, c] * dlogits[n, j]          dbias[j] = sum_n dlogits[n, j]
//   dx[n, p, c]   = (sum_j dlogits[n, j] * kernel[c, j]) / HW   (average pool spreads it evenly)
//
// The forward part (pooled, probs, loss) is gap_dense_softmax.cl. All small: N*C*CLASSES MACs.
// Compile-time: C, CLASSES, HW, VW.

// Launch: global (CLASSES, N).
kernel void softmax_xent_backward(global const float* probs,  // (N, CLASSES)
                                  global const float* labels, // (N) class indices as floats
                                  global float* dlogits,      // (N, CLASSES)
                                  int n, float loss_scale)
{
    const int j = get_global_id(0), img = get_global_id(1);
    if (j >= CLASSES || img >= n) return;
    const float onehot = (int)labels[img] == j ? 1.0f : 0.0f;
    dlogits[(long)img * CLASSES + j] = (probs[(long)img * CLASSES + j] - onehot) / n * loss_scale;
}

// dkernel[c, j..] over VW classes per work-item.   Launch: global (ceil(CLASSES/VW), C).
kernel void dense_backward_kernel(global const float* pooled,  // (N, C)
                                  global const float* dlogits, // (N, CLASSES)
                                  global float* dkernel,       // (C, CLASSES)
                                  int n)
{
    const int vec = get_global_id(0), c = get_global_id(1);
    if (vec * VW >= CLASSES || c >= C) return;
    const int j = vec_start(vec, VW, CLASSES);
    floatV acc = (floatV)(0.0f);
    for (int img = 0; img < n; img++) acc = fma((floatV)(pooled[(long)img * C + c]), VLOAD(dlogits + (long)img * CLASSES + j), acc);
    store_tail(acc, dkernel + (long)c * CLASSES, vec, CLASSES);
}

// Launch: global (CLASSES).
kernel void dense_backward_bias(global const float* dlogits, // (N, CLASSES)
                                global float* dbias,         // (CLASSES)
                                int n)
{
    const int j = get_global_id(0);
    if (j >= CLASSES) return;
    float acc = 0.0f;
    for (int img = 0; img < n; img++) acc += dlogits[(long)img * CLASSES + j];
    dbias[j] = acc;
}

// dpooled[n, c] / HW broadcast over the HW pixels of image n.   Launch: global (C, N).
kernel void dense_backward_input(global const float* dlogits, // (N, CLASSES)
                                 global const float* kernel_, // (C, CLASSES)
                                 global float* dx,            // (N, HW, C)
                                 int n)
{
    const int c = get_global_id(0), img = get_global_id(1);
    if (c >= C || img >= n) return;
    const global float* g = dlogits + (long)img * CLASSES;
    const global float* k = kernel_ + (long)c * CLASSES;
    floatV part = (floatV)(0.0f);
    int j = 0;
    for (; j + VW <= CLASSES; j += VW) part = fma(VLOAD(g + j), VLOAD(k + j), part);
    float lanes[VW];
    VSTORE(part, lanes);
    float acc = 0.0f;
    for (int l = 0; l < VW; l++) acc += lanes[l];
    for (; j < CLASSES; j++) acc = fma(g[j], k[j], acc);
    acc *= 1.0f / HW;
    global float* out = dx + (long)img * HW * C + c;
    for (int p = 0; p < HW; p++) out[(long)p * C] = acc;
}
