package io.jxception.internal.backend;

import io.jxception.model.Padding;

/** Max pool 3×3, stride 2, TensorFlow 'same' padding over (n, h, w, c) → (n, ceil(h/2), ceil(w/2), c). */
public record PoolSpec(int n, int h, int w, int c) {
    public int outH() { return Padding.sameOutput(h, 2); }

    public int outW() { return Padding.sameOutput(w, 2); }

    public long inputElements() { return (long) n * h * w * c; }

    public long outputElements() { return (long) n * outH() * outW() * c; }
}
