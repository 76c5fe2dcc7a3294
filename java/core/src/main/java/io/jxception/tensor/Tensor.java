package io.jxception.tensor;

import java.util.Objects;

/** A host float32 tensor: shape plus row-major (C-order) data. Activations are NHWC. */
public record Tensor(Shape shape, float[] data) {
    public Tensor {
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(data, "data");
        if (data.length != shape.elements()) {
            throw new IllegalArgumentException("tensor of shape " + shape + " needs " + shape.elements() + " values, got " + data.length);
        }
    }

    public static Tensor zeros(Shape shape) { return new Tensor(shape, new float[shape.size()]); }

    public int size() { return data.length; }

    /** Tensors at least this large are scanned by several threads (a 299x299 batch of 256 is 68.7 M values). */
    static final int PARALLEL_SCAN = 1 << 22;
    private static final int SCAN_CHUNK = 1 << 20;

    /**
     * Index of the first NaN or Inf value, or -1 if all are finite. Every input is checked before it
     * reaches a device, so large tensors are scanned in 1 M-value chunks in parallel (the common
     * fork-join pool): one thread reads ~1 value per cycle, 30 ms for a 299x299 batch of 256.
     */
    public int firstNonFinite() {
        if (data.length < PARALLEL_SCAN) return firstNonFinite(0, data.length);
        int chunks = (data.length + SCAN_CHUNK - 1) / SCAN_CHUNK;
        return java.util.stream.IntStream.range(0, chunks).parallel()
                .map(c -> firstNonFinite(c * SCAN_CHUNK, Math.min(data.length, (c + 1) * SCAN_CHUNK)))
                .filter(i -> i >= 0).min().orElse(-1);
    }

    private int firstNonFinite(int from, int to) {
        for (int i = from; i < to; i++) if (!Float.isFinite(data[i])) return i;
        return -1;
    }

    public Tensor copy() { return new Tensor(shape, data.clone()); }
}
