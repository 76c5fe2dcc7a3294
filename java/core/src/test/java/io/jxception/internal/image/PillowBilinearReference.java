package io.jxception.internal.image;

/**
 * The reference for {@link Resampling}'s BILINEAR: its implementation before the int-accumulating
 * rewrite, kept verbatim (only renamed) so {@code ResamplingEquivalenceTest} can check the rewrite value
 * for value: Pillow's {@code Image.resize} with BILINEAR. (NEAREST was not rewritten, and a copy of it
 * could not disagree with it: InterpolationTest checks it against Pillow's own outputs.)
 */
final class PillowBilinearReference {
    private PillowBilinearReference() {}

    static RgbImage resize(RgbImage src, int outH, int outW) {
        RgbImage horizontal = outW == src.width() ? src : PillowFilter.horizontal(src, outW);
        return outH == src.height() ? horizontal : PillowFilter.vertical(horizontal, outH);
    }

    /** Pillow's separable resampling ({@code libImaging/Resample.c}) with the bilinear (triangle) filter. */
    private static final class PillowFilter {
        private static final int PRECISION_BITS = 32 - 8 - 2;

        /** For each output index: first source index, count, and fixed-point weights (count of them). */
        private record Coefficients(int[] first, int[] count, int[][] weights) {}

        private static Coefficients coefficients(int inSize, int outSize) {
            double scale = (double) inSize / outSize;
            double filterScale = Math.max(scale, 1.0);
            double support = 1.0 * filterScale; // the triangle filter has support 1
            int[] first = new int[outSize], count = new int[outSize];
            int[][] weights = new int[outSize][];
            for (int o = 0; o < outSize; o++) {
                double center = (o + 0.5) * scale;
                int min = Math.max((int) (center - support + 0.5), 0);
                int max = Math.min((int) (center + support + 0.5), inSize) - min;
                double[] k = new double[max];
                double sum = 0;
                for (int i = 0; i < max; i++) {
                    double t = Math.abs((i + min - center + 0.5) / filterScale);
                    k[i] = t < 1.0 ? 1.0 - t : 0.0;
                    sum += k[i];
                }
                int[] fixed = new int[max];
                for (int i = 0; i < max; i++) {
                    double w = sum != 0.0 ? k[i] / sum : k[i];
                    fixed[i] = (int) (w < 0 ? -0.5 + w * (1 << PRECISION_BITS) : 0.5 + w * (1 << PRECISION_BITS));
                }
                first[o] = min;
                count[o] = max;
                weights[o] = fixed;
            }
            return new Coefficients(first, count, weights);
        }

        private static float clip8(long acc) {
            if (acc >= (255L + 1) << PRECISION_BITS) return 255;
            if (acc <= 0) return 0;
            return (float) (acc >> PRECISION_BITS);
        }

        static RgbImage horizontal(RgbImage src, int outW) {
            Coefficients co = coefficients(src.width(), outW);
            int h = src.height(), inW = src.width();
            float[] in = src.pixels(), out = new float[h * outW * 3];
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < outW; x++) {
                    for (int c = 0; c < 3; c++) {
                        long acc = 1L << (PRECISION_BITS - 1);
                        for (int i = 0; i < co.count[x]; i++) acc += (long) in[(y * inW + co.first[x] + i) * 3 + c] * co.weights[x][i];
                        out[(y * outW + x) * 3 + c] = clip8(acc);
                    }
                }
            }
            return new RgbImage(h, outW, out);
        }

        static RgbImage vertical(RgbImage src, int outH) {
            Coefficients co = coefficients(src.height(), outH);
            int w = src.width();
            float[] in = src.pixels(), out = new float[outH * w * 3];
            for (int y = 0; y < outH; y++) {
                for (int x = 0; x < w; x++) {
                    for (int c = 0; c < 3; c++) {
                        long acc = 1L << (PRECISION_BITS - 1);
                        for (int i = 0; i < co.count[y]; i++) acc += (long) in[((co.first[y] + i) * w + x) * 3 + c] * co.weights[y][i];
                        out[(y * w + x) * 3 + c] = clip8(acc);
                    }
                }
            }
            return new RgbImage(outH, w, out);
        }
    }
}
