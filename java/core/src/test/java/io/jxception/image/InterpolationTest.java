package io.jxception.image;

import io.jxception.internal.image.RgbImage;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class InterpolationTest {
    /** The synthetic image of the Pillow script below: r = (37x + 11y) % 256, g = (x² + 3y) % 256, b = 5(x ^ 7y) % 256. */
    static RgbImage synthetic(int h, int w) {
        float[] p = new float[h * w * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int o = (y * w + x) * 3;
                p[o] = (x * 37 + y * 11) % 256;
                p[o + 1] = (x * x + 3 * y) % 256;
                p[o + 2] = ((x ^ (y * 7)) * 5) % 256;
            }
        }
        return new RgbImage(h, w, p);
    }

    /**
     * Checksums of Pillow 9.4's {@code Image.fromarray(synthetic).resize((ow, oh), filter)} (Keras'
     * load_img path): sum of all values and Σ v·(i mod 7 + 1) over the flat HWC array. Made with
     * <pre>
     * a = np.asarray(img.resize((ow, oh), f)).astype(np.int64).ravel()
     * print(a.sum(), (a * (np.arange(a.size) % 7 + 1)).sum())
     * </pre>
     */
    @ParameterizedTest(name = "{0} {1}x{2} -> {3}x{4}")
    @CsvSource({
            "NEAREST, 13, 17, 5, 7, 11710, 50760",
            "BILINEAR, 13, 17, 5, 7, 11237, 47604",
            "NEAREST, 13, 17, 29, 31, 288530, 1153255",
            "BILINEAR, 13, 17, 29, 31, 288046, 1152704",
            "NEAREST, 13, 17, 13, 9, 36670, 147807",
            "BILINEAR, 13, 17, 13, 9, 37599, 150768",
            "NEAREST, 13, 17, 40, 17, 219376, 877537",
            "BILINEAR, 13, 17, 40, 17, 217762, 870833",
            "NEAREST, 480, 640, 299, 299, 34166783, 136700626",
            "BILINEAR, 480, 640, 299, 299, 34165921, 136667538",
            "NEAREST, 97, 300, 299, 299, 34012289, 136064725",
            "BILINEAR, 97, 300, 299, 299, 34016082, 136074583",
            "NEAREST, 300, 300, 299, 299, 34129574, 136532934",
            "BILINEAR, 300, 300, 299, 299, 34132134, 136544253",
    })
    void resizeMatchesPillowExactly(Interpolation interpolation, int h, int w, int outH, int outW, long sum, long weightedSum) {
        RgbImage out = synthetic(h, w).resize(outH, outW, interpolation);
        assertEquals(outH, out.height());
        assertEquals(outW, out.width());
        long s = 0, ws = 0;
        float[] p = out.pixels();
        for (int i = 0; i < p.length; i++) {
            assertEquals(Math.rint(p[i]), p[i], "value " + i + " is not an integer");
            s += (long) p[i];
            ws += (long) p[i] * (i % 7 + 1);
        }
        assertEquals(sum, s, "sum");
        assertEquals(weightedSum, ws, "weighted sum");
    }

    @Test
    void sameSizeIsReturnedUnchanged() {
        RgbImage im = synthetic(9, 11);
        assertSame(im, im.resize(9, 11, Interpolation.BILINEAR));
    }

    @Test
    void nearestDownscaleByTwoTakesOddPixels() {
        // floor((x + 0.5) · 2) = 2x + 1
        RgbImage im = synthetic(8, 8);
        RgbImage half = im.resize(4, 4, Interpolation.NEAREST);
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 4; x++) {
                for (int c = 0; c < 3; c++) assertEquals(im.get(2 * y + 1, 2 * x + 1, c), half.get(y, x, c));
            }
        }
    }

    @Test
    void parseNamesTheChoices() {
        assertEquals(Interpolation.BILINEAR, Interpolation.parse(" Bilinear "));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Interpolation.parse("bicubic"));
        assertTrue(e.getMessage().contains("nearest or bilinear"), e.getMessage());
    }
}
