package io.jxception.internal.weights;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The dtypes of the safetensors format with their sizes. All are recognised so that the file's
 * layout can be validated whole; F32, F16, BF16 and F64 convert to float32 weights (the others,
 * e.g. PyTorch's int64 num_batches_tracked, are skipped or refused by name).
 */
public enum SafetensorsDType {
    BOOL(1), U8(1), I8(1), F8_E5M2(1), F8_E4M3(1), I16(2), U16(2), F16(2), BF16(2),
    I32(4), U32(4), F32(4), F64(8), I64(8), U64(8);

    final int bytes;

    SafetensorsDType(int bytes) { this.bytes = bytes; }

    /** The dtype named in a header, or null. */
    static SafetensorsDType parse(String name) {
        for (SafetensorsDType d : values()) if (d.name().equals(name)) return d;
        return null;
    }

    boolean isFloatingPoint() { return this == F32 || this == F16 || this == BF16 || this == F64; }

    /** Little-endian values of this dtype → float32 (F64 rounds; out-of-range values become ±Inf). */
    float[] toFloats(ByteBuffer data, int count) {
        ByteBuffer b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[count];
        switch (this) {
            case F32 -> b.asFloatBuffer().get(out);
            case F64 -> { for (int i = 0; i < count; i++) out[i] = (float) b.getDouble(); }
            case BF16 -> { for (int i = 0; i < count; i++) out[i] = Float.intBitsToFloat((b.getShort() & 0xffff) << 16); }
            case F16 -> { for (int i = 0; i < count; i++) out[i] = halfToFloat(b.getShort()); }
            default -> throw new IllegalArgumentException(this + " is not a floating-point dtype");
        }
        return out;
    }

    /** IEEE 754 binary16 → binary32, exact (subnormals, infinities and NaN included). */
    public static float halfToFloat(short h) {
        int sign = (h >>> 15) & 1;
        int exponent = (h >>> 10) & 0x1f;
        int mantissa = h & 0x3ff;
        float magnitude;
        if (exponent == 0) magnitude = mantissa * 0x1p-24f; // zero or subnormal: m × 2^-24
        else if (exponent == 31) magnitude = mantissa == 0 ? Float.POSITIVE_INFINITY : Float.NaN;
        else magnitude = Float.intBitsToFloat((exponent + 112) << 23 | mantissa << 13); // rebias 15 → 127
        return sign == 1 ? -magnitude : magnitude;
    }
}
