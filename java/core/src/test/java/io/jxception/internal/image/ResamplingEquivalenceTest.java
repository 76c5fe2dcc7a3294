package io.jxception.internal.image;

import io.jxception.image.Interpolation;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link Resampling} gives, value for value, what {@link PillowBilinearReference} (the implementation
 * before the int-accumulating, block-transposing rewrite) gives: fresh random images of many shapes,
 * each resized down, up, along one dimension only, to itself and to fixed sizes, with BILINEAR; and
 * images that drive the clamping to its edges (all 255, a 0/255 checkerboard). NEAREST is checked
 * against Pillow's outputs in InterpolationTest.
 */
class ResamplingEquivalenceTest {
    private final long seed = new Random().nextLong();
    private final Random rnd = new Random(seed);

    /** (height, width) of the source images: single pixels, single rows and columns, odd primes, the usual photo sizes. */
    private static final int[][] SIZES = {
            {1, 1}, {1, 17}, {1, 500}, {17, 1}, {500, 1}, {3, 7}, {7, 3},
            {375, 500}, {500, 375}, {80, 100}, {299, 299}, {13, 1000}, {1000, 13},
            {97, 89}, {131, 257}, {5, 263}, {67, 2},
    };

    /** Random whole numbers 0..255, never all zeros: (h, w, 3). */
    private RgbImage random(int h, int w) {
        float[] p = new float[h * w * 3];
        for (int i = 0; i < p.length; i++) p[i] = rnd.nextInt(256);
        p[rnd.nextInt(p.length)] = 1 + rnd.nextInt(255);
        return new RgbImage(h, w, p);
    }

    /** Target (height, width) pairs for an h x w source: scaled down and up, one side kept, both kept, fixed sizes. */
    private static List<int[]> targets(int h, int w) {
        List<int[]> t = new ArrayList<>();
        t.add(new int[]{h, w});
        t.add(new int[]{Math.max(1, h / 2), Math.max(1, w / 3)});
        t.add(new int[]{2 * h + 1, 3 * w});
        t.add(new int[]{Math.max(1, h * 2 / 3), 2 * w + 3});
        t.add(new int[]{h, Math.max(1, w * 3 / 5)});
        t.add(new int[]{h, w + 7});
        t.add(new int[]{Math.max(1, h * 3 / 5), w});
        t.add(new int[]{h + 5, w});
        t.add(new int[]{299, 299});
        t.add(new int[]{71, 71});
        t.add(new int[]{1, 1});
        t.add(new int[]{480, 640});
        t.add(new int[]{1, 31});
        t.add(new int[]{31, 1});
        return t;
    }

    private void assertSameAsReference(RgbImage src, int outH, int outW, String what) {
        Interpolation interpolation = Interpolation.BILINEAR;
        RgbImage expected = PillowBilinearReference.resize(src, outH, outW);
        RgbImage actual = Resampling.resize(src, outH, outW, interpolation);
        String message = what + " " + src.height() + "x" + src.width() + " -> " + outH + "x" + outW + " " + interpolation + " (seed " + seed + ")";
        assertEquals(outH, actual.height(), message);
        assertEquals(outW, actual.width(), message);
        assertArrayEquals(expected.pixels(), actual.pixels(), message);
    }

    @Test
    void randomImagesResizeAsTheReference() {
        for (int[] size : SIZES) {
            RgbImage src = random(size[0], size[1]);
            for (int[] target : targets(size[0], size[1])) {
                assertSameAsReference(src, target[0], target[1], "random");
            }
        }
    }

    @Test
    void randomSizesResizeAsTheReference() {
        for (int i = 0; i < 60; i++) {
            int h = 1 + rnd.nextInt(i < 30 ? 40 : 400), w = 1 + rnd.nextInt(i < 30 ? 40 : 400);
            int outH = 1 + rnd.nextInt(2 * h + 2), outW = 1 + rnd.nextInt(2 * w + 2);
            assertSameAsReference(random(h, w), outH, outW, "random size");
        }
    }

    /** All 255: every accumulator ends at or just above 255·2^22 (the weights round up), where the clamp to 255 must hold. */
    @Test
    void saturatedImagesClampAsTheReference() {
        for (int[] size : SIZES) {
            float[] p = new float[size[0] * size[1] * 3];
            Arrays.fill(p, 255);
            RgbImage src = new RgbImage(size[0], size[1], p);
            for (int[] target : targets(size[0], size[1])) {
                assertSameAsReference(src, target[0], target[1], "all 255");
            }
        }
    }

    /** A 0/255 checkerboard (pixel by pixel, and in 3x3 cells): results span 0..255, edges included. */
    @Test
    void checkerboardsResizeAsTheReference() {
        for (int cell : new int[]{1, 3}) {
            for (int[] size : SIZES) {
                int h = size[0], w = size[1];
                float[] p = new float[h * w * 3];
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        float v = ((y / cell + x / cell) & 1) == 0 ? 0 : 255;
                        for (int c = 0; c < 3; c++) p[(y * w + x) * 3 + c] = v;
                    }
                }
                RgbImage src = new RgbImage(h, w, p);
                for (int[] target : targets(h, w)) {
                    assertSameAsReference(src, target[0], target[1], "checkerboard " + cell);
                }
            }
        }
    }
}
