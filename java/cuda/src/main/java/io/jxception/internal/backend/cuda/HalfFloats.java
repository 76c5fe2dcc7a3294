package io.jxception.internal.backend.cuda;

import io.jxception.internal.tensor.Float16;

/**
 * Host-side conversions between float and the 16-bit storage formats, rounding to nearest even
 * exactly as the device's __float2bfloat16_rn / __float2half_rn do, so that uploads and downloads
 * of 16-bit activations agree bit for bit with values the kernels store.
 */
public final class HalfFloats {
    private HalfFloats() {}

    public static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) return (short) ((bits >>> 16) | 0x0040);  // NaN stays a quiet NaN
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    public static float fromBf16(short h) { return Float.intBitsToFloat((h & 0xffff) << 16); }

    /** float → binary16, round to nearest even ({@link Float16#fromFloat}, shared with the .npy reader). */
    public static short toF16(float f) { return Float16.fromFloat(f); }

    /** binary16 → float, exact ({@link Float16#toFloat}). */
    public static float fromF16(short h) { return Float16.toFloat(h); }
}
