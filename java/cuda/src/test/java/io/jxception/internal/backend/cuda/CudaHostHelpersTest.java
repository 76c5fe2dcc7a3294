package io.jxception.internal.backend.cuda;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Host-side pieces of the CUDA backend: 16-bit conversions and the device-memory arena. */
class CudaHostHelpersTest {
    @Test
    void bf16RoundsToNearestEven() {
        assertEquals((short) 0x3f80, HalfFloats.toBf16(1f));
        // 1 + 2^-8 is exactly between 1 and 1 + 2^-7: ties to even (1)
        assertEquals((short) 0x3f80, HalfFloats.toBf16(Float.intBitsToFloat(0x3f808000)));
        assertEquals((short) 0x3f82, HalfFloats.toBf16(Float.intBitsToFloat(0x3f818000)));
        assertEquals((short) 0x3f81, HalfFloats.toBf16(Float.intBitsToFloat(0x3f808001)));
        assertTrue(Float.isNaN(HalfFloats.fromBf16(HalfFloats.toBf16(Float.NaN))));
        assertEquals(Float.POSITIVE_INFINITY, HalfFloats.fromBf16(HalfFloats.toBf16(Float.POSITIVE_INFINITY)));
        Random r = new Random(1);
        for (int i = 0; i < 100_000; i++) {
            float f = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(10) - 5));
            float back = HalfFloats.fromBf16(HalfFloats.toBf16(f));
            assertTrue(Math.abs(back - f) <= Math.abs(f) * 0x1p-8f, f + " -> " + back);
        }
    }

    @Test
    void fp16RoundsToNearestEvenIncludingSubnormalsAndOverflow() {
        assertEquals((short) 0x3c00, HalfFloats.toF16(1f));
        assertEquals((short) 0x7bff, HalfFloats.toF16(65504f));
        assertEquals((short) 0x7c00, HalfFloats.toF16(65520f), "rounds to infinity");
        assertEquals((short) 0x7bff, HalfFloats.toF16(65519f));
        assertEquals((short) 0x0001, HalfFloats.toF16(0x1p-24f), "smallest subnormal");
        assertEquals((short) 0x0000, HalfFloats.toF16(0x1p-25f), "half of it ties to even zero");
        assertEquals((short) 0x0001, HalfFloats.toF16(0x1.8p-25f));
        assertEquals((short) 0x8000, HalfFloats.toF16(-0f));
        assertEquals((short) 0x3c00, HalfFloats.toF16(1f + 0x1p-11f), "tie to even");
        assertEquals((short) 0x3c02, HalfFloats.toF16(1f + 3 * 0x1p-11f), "tie to even, upwards");
        // every half value survives a round trip
        for (int h = 0; h < 0x10000; h++) {
            if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0) continue;  // NaNs
            float f = HalfFloats.fromF16((short) h);
            assertEquals((short) h, HalfFloats.toF16(f), "half 0x" + Integer.toHexString(h) + " = " + f);
        }
    }

    @Test
    void arenaAllocatesFirstFitAlignedAndMergesFreedNeighbours() {
        DeviceArena a = new DeviceArena(10_000);
        assertEquals(9984, a.capacity());
        long x = a.allocate(100), y = a.allocate(300), z = a.allocate(256);
        assertEquals(0, x);
        assertEquals(256, y);
        assertEquals(768, z);
        assertEquals(1024, a.usedBytes());
        a.free(y);
        assertEquals(256, a.allocate(200), "first fit reuses the hole");
        a.free(256);
        a.free(x);
        a.free(z);
        assertEquals(0, a.usedBytes());
        assertEquals(9984, a.largestFree(), "all blocks merged back");
        assertEquals(-1, a.allocate(20_000));
        assertThrows(IllegalArgumentException.class, () -> a.free(12345));
    }
}
