package io.jxception.tensor;

/** Storage types a backend may use for activations and weights. Host tensors are always F32. */
public enum DType {
    F32(4), F16(2), BF16(2);

    public final int bytes;

    DType(int bytes) { this.bytes = bytes; }
}
