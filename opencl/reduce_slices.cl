// reduce_slices — adds per-slice partial sums (weight gradients, depthwise kernel gradients):
//
//   out[i] = sum_s partial[s, i]    for i < len, in slice order, Kahan-compensated (deterministic)
//
// 16 consecutive elements per work-item as one float16 (a scalar work-item per element left pocl
// with one scalar load and four flops per slice and element: 11% of a training step); the last
// work-item finishes a len that is not a multiple of 16 element by element.
// No compile-time options.   Launch: global (ceil(len/16)).

kernel void reduce_slices(global const float* partial, // (S, len)
                          global float* out,           // (len)
                          int slices, int len)
{
    const int i = get_global_id(0) * 16;
    if (i + 16 <= len) {
        float16 sum = (float16)(0.0f), comp = (float16)(0.0f);
        for (int s = 0; s < slices; s++) {
            const float16 y_ = vload16(0, partial + (long)s * len + i) - comp;
            const float16 t_ = sum + y_;
            comp = (t_ - sum) - y_;
            sum = t_;
        }
        vstore16(sum, 0, out + i);
    } else {
        for (int j = i; j < len; j++) {
            float sum = 0.0f, comp = 0.0f;
            for (int s = 0; s < slices; s++) {
                const float y_ = partial[(long)s * len + j] - comp;
                const float t_ = sum + y_;
                comp = (t_ - sum) - y_;
                sum = t_;
            }
            out[j] = sum;
        }
    }
}
