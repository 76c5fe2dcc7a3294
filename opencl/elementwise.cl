// elementwise — flat float arrays of `count` elements, 16 per work-item (float16 loads); the last
// work-item finishes a count that is not a multiple of 16 element by element.
//
//   add_inplace:  dst[i] += src[i]                         (gradient accumulation at a residual fork)
//   sgd_update:   g = grad + wd * param; vel = mom * vel + g; param -= lr * vel   (Keras/PyTorch SGD)
//   fill:         dst[i] = value
// Launch: global (ceil(count/16)).

kernel void add_inplace(global float* dst,       // (count)
                        global const float* src, // (count)
                        long count) {
    const long i = (long)get_global_id(0) * 16;
    if (i + 16 <= count) {
        vstore16(vload16(0, dst + i) + vload16(0, src + i), 0, dst + i);
    } else {
        for (long j = i; j < count; j++) dst[j] += src[j];
    }
}

kernel void sgd_update(global float* param,      // (count) updated in place
                       global const float* grad, // (count)
                       global float* velocity,   // (count) updated in place
                       long count, float lr, float momentum, float weight_decay) {
    const long i = (long)get_global_id(0) * 16;
    if (i + 16 <= count) {
        const float16 p = vload16(0, param + i);
        const float16 g = fma((float16)(weight_decay), p, vload16(0, grad + i));
        const float16 v = fma((float16)(momentum), vload16(0, velocity + i), g);
        vstore16(v, 0, velocity + i);
        vstore16(p - lr * v, 0, param + i);
    } else {
        for (long j = i; j < count; j++) {
            const float g = fma(weight_decay, param[j], grad[j]);
            const float v = fma(momentum, velocity[j], g);
            velocity[j] = v;
            param[j] -= lr * v;
        }
    }
}

kernel void fill(global float* dst, // (count)
                 long count, float value) {
    const long i = (long)get_global_id(0) * 16;
    if (i + 16 <= count) {
        vstore16((float16)(value), 0, dst + i);
    } else {
        for (long j = i; j < count; j++) dst[j] = value;
    }
}
