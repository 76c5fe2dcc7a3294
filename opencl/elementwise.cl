// elementwise — flat float arrays of `count` elements, 16 per work-item (float16 loads); the last
// work-item finishes a count that is not a multiple of 16 element by element.
//
//   add_inplace:  dst[i] += src[i]                         (gradient accumulation at a residual fork)
//   sgd_update:   g = grad + wd * param; vel = mom * vel + g; param -= lr * vel   (Keras/PyTorch SGD)
//   fill:         dst[i] = value
//   unscale_gradient: grad[i] *= factor; overflow[0] = 1 if any result is Inf/NaN (else untouched)
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

// Inf and NaN have all exponent bits set; tested on the bits so no math option can fold it away.
#define NOT_FINITE(v) ((as_uint(v) & 0x7f800000u) == 0x7f800000u)

// Loss-scaling's unscale of one weight gradient. Every work-item that sees a non-finite result
// stores the same 1.0f: a benign race, and the flag is read once after all gradients of the step.
kernel void unscale_gradient(global float* grad,     // (count) fp32, scaled in place
                             global float* overflow, // (1) set to 1 on Inf/NaN, never cleared here
                             long count, float factor) {
    const long i = (long)get_global_id(0) * 16;
    int bad = 0;
    if (i + 16 <= count) {
        const float16 g = vload16(0, grad + i) * factor;
        vstore16(g, 0, grad + i);
        const uint16 e = as_uint16(g) & (uint16)(0x7f800000u);
        bad = any(e == (uint16)(0x7f800000u));
    } else {
        for (long j = i; j < count; j++) {
            const float g = grad[j] * factor;
            grad[j] = g;
            bad |= NOT_FINITE(g);
        }
    }
    if (bad) overflow[0] = 1.0f;
}
