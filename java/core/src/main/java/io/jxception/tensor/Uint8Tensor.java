package io.jxception.tensor;

import java.util.Objects;

/**
 * A host uint8 tensor: shape plus row-major (C-order) bytes, each read as an unsigned value 0..255.
 * Its use is raw 8-bit images, (N, H, W, 3) NHWC RGB, before Keras' preprocessing: an
 * {@link io.jxception.exec.InferenceSession} uploads them as bytes (a quarter of the float32 traffic)
 * and applies x / 127.5 − 1 in the network's first kernel.
 *
 * <p>Like {@link Tensor}, the record holds its array without copying: do not change the bytes while
 * a call that was given the tensor runs. Immutable otherwise; safe to share between threads that
 * only read it.
 */
public record Uint8Tensor(Shape shape, byte[] data) {
    /**
     * @throws IllegalArgumentException when {@code data} does not hold exactly {@code shape.elements()} bytes
     */
    public Uint8Tensor {
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(data, "data");
        if (data.length != shape.elements()) {
            throw new IllegalArgumentException("uint8 tensor of shape " + shape + " needs " + shape.elements() + " bytes, got " + data.length);
        }
    }

    /** Number of values (bytes). */
    public int size() { return data.length; }

    /** Value {@code i} (flat, C order) as 0..255. */
    public int get(int i) { return data[i] & 0xff; }
}
