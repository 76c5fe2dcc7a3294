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

    /** Index of the first NaN or Inf value, or -1 if all are finite. */
    public int firstNonFinite() {
        for (int i = 0; i < data.length; i++) if (!Float.isFinite(data[i])) return i;
        return -1;
    }

    public Tensor copy() { return new Tensor(shape, data.clone()); }
}
