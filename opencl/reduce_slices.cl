// reduce_slices — adds per-slice partial sums (weight gradients, depthwise kernel gradients).
// No compile-time options.

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

