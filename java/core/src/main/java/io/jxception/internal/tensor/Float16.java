package io.jxception.internal.tensor;

/**
 * IEEE 754 binary16 (numpy's float16, CUDA's __half) to and from float32: widening is exact,
 * narrowing rounds to nearest even as __float2half_rn does. Java 17 has no Float.float16ToFloat.
 */
public final class Float16 {
    private Float16() {}

    /** The float32 value of the binary16 {@code h} (exact; NaN payloads kept, subnormals included). */
    public static float toFloat(short h) {
        int v = h & 0xffff;
        int sign = (v & 0x8000) << 16;
        int exp = (v >>> 10) & 0x1f;
        int mant = v & 0x3ff;
        if (exp == 0) {
            if (mant == 0) return Float.intBitsToFloat(sign);
            return (sign != 0 ? -1f : 1f) * mant * 0x1p-24f;
        }
        if (exp == 31) return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /** {@code f} rounded to the nearest binary16 (ties to even; overflow to ±Inf; NaN stays NaN). */
    public static short fromFloat(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int abs = bits & 0x7fffffff;
        if (abs > 0x7f800000) return (short) (sign | 0x7e00);         // NaN
        if (abs >= 0x477ff000) return (short) (sign | 0x7c00);        // rounds to >= 65520: Inf
        if (abs < 0x38800000) {                                       // subnormal half (or zero)
            int exp = abs >>> 23;
            if (exp < 102) return (short) sign;                      // below half of the smallest subnormal
            int mant = (abs & 0x7fffff) | 0x800000;
            int shift = 126 - exp;                                    // 14 .. 24
            int half = mant >>> shift;
            int rem = mant & ((1 << shift) - 1);
            int mid = 1 << (shift - 1);
            if (rem > mid || (rem == mid && (half & 1) == 1)) half++;
            return (short) (sign | half);
        }
        int e = (abs >>> 23) - 112;                                   // rebias 127 -> 15
        int mant = abs & 0x7fffff;
        int half = (e << 10) | (mant >>> 13);
        int rem = mant & 0x1fff;
        if (rem > 0x1000 || (rem == 0x1000 && (half & 1) == 1)) half++;  // may carry into the exponent: still correct
        return (short) (sign | half);
    }
}
