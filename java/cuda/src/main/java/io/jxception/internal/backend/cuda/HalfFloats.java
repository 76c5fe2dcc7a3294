package io.jxception.internal.backend.cuda;

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

    public static short toF16(float f) {
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

    public static float fromF16(short h) {
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
}
