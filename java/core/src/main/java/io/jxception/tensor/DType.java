package io.jxception.tensor;

/** Storage types a backend may use for activations and weights. Host tensors are always F32. Immutable. */
public enum DType {
    /** IEEE binary32. */
    F32(4),
    /** IEEE binary16 (half). */
    F16(2),
    /** bfloat16: binary32's exponent with a 7-bit fraction. */
    BF16(2);

    /** Bytes per value. */
    public final int bytes;

    DType(int bytes) { this.bytes = bytes; }
}
