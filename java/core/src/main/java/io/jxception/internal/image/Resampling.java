package io.jxception.internal.image;

import io.jxception.image.Interpolation;

import java.util.Arrays;

/** The resizing behind {@link Interpolation}: Pillow's {@code Image.resize} with NEAREST and BILINEAR, value for value. */
final class Resampling {
    private Resampling() {}

    static RgbImage resize(RgbImage src, int outH, int outW, Interpolation interpolation) {
        return switch (interpolation) {
            case NEAREST -> nearest(src, outH, outW);
            case BILINEAR -> outH == src.height() && outW == src.width() ? src : PillowFilter.resize(new FloatRows(src), outH, outW);
        };
    }

    /** The BILINEAR resize of {@code src} to outH x outW (a size other than its own), read through {@link RgbRows}. */
    static RgbImage bilinear(RgbRows src, int outH, int outW) {
        if (outH == src.height() && outW == src.width()) throw new IllegalArgumentException("bilinear resize to the source's own size " + outW + "x" + outH);
        return PillowFilter.resize(src, outH, outW);
    }

    /**
     * Source pixels of the bilinear resize, (height, width, 3), whole numbers 0..255, read a block of
     * rows at a time: a decoded image (float RGB) or a decoder's raster in place ({@link SrgbRaster}).
     */
    interface RgbRows {
        int height();

        int width();

        /** Rows y0 .. y0 + rows - 1 transposed into {@code cols[x]}: cols[x][3 k + c] = channel c of pixel (y0 + k, x). */
        void transposeBlock(int y0, int rows, int[][] cols);

        /** Row y: out[3 x + c] = channel c of pixel (y, x). */
        void row(int y, int[] out);
    }

    /** An {@link RgbImage}'s floats as {@link RgbRows}. */
    private record FloatRows(RgbImage image) implements RgbRows {
        @Override public int height() { return image.height(); }

        @Override public int width() { return image.width(); }

        /**
         * Four rows per sweep: each column array is fetched once for twelve values instead of three,
         * which made this copy a third faster (0.33 to 0.22 ms for a 500x375 image).
         */
        @Override public void transposeBlock(int y0, int rows, int[][] cols) {
            float[] in = image.pixels();
            int stride = image.width() * 3, r = 0;
            for (; r + 4 <= rows; r += 4) {
                for (int x = 0, p = (y0 + r) * stride, d = r * 3; x < image.width(); x++, p += 3) {
                    int[] col = cols[x];
                    pixel(in, p, col, d);
                    pixel(in, p + stride, col, d + 3);
                    pixel(in, p + 2 * stride, col, d + 6);
                    pixel(in, p + 3 * stride, col, d + 9);
                }
            }
            for (; r < rows; r++) {
                for (int x = 0, p = (y0 + r) * stride; x < image.width(); x++, p += 3) pixel(in, p, cols[x], r * 3);
            }
        }

        private static void pixel(float[] in, int p, int[] out, int d) {
            out[d] = (int) in[p];
            out[d + 1] = (int) in[p + 1];
            out[d + 2] = (int) in[p + 2];
        }

        @Override public void row(int y, int[] out) {
            float[] in = image.pixels();
            for (int j = 0, p = y * out.length; j < out.length; j++) out[j] = (int) in[p + j];
        }
    }

    private static RgbImage nearest(RgbImage src, int outH, int outW) {
        int[] cols = nearestSources(src.width(), outW);
        int[] rows = nearestSources(src.height(), outH);
        float[] out = new float[outH * outW * 3];
        for (int y = 0; y < outH; y++) {
            for (int x = 0; x < outW; x++) {
                System.arraycopy(src.pixels(), (rows[y] * src.width() + cols[x]) * 3, out, (y * outW + x) * 3, 3);
            }
        }
        return new RgbImage(outH, outW, out);
    }

    /** Source index of each output index: Pillow's affine nearest, x_in = (int)(0.5·a + x·a) accumulated. */
    static int[] nearestSources(int in, int out) {
        double step = (double) in / out;
        double coord = step * 0.5;
        int[] src = new int[out];
        for (int i = 0; i < out; i++) {
            src[i] = Math.min((int) coord, in - 1);
            coord += step;
        }
        return src;
    }

    /**
     * Pillow's separable resampling ({@code libImaging/Resample.c}) with the bilinear (triangle) filter:
     * a horizontal pass, then a vertical pass, each rounding and clamping to 0..255 like Pillow.
     *
     * <p>Both passes accumulate in int, as Pillow does. That is exact: the triangle filter's weights are
     * non-negative and sum to 1, so the fixed-point weights sum to at most 2^22 + count/2 (each rounds by
     * at most 1/2), and with pixels 0..255 an accumulator stays below
     * 2^21 + 255·(2^22 + count) = 1,071,644,672 + 255·count, under 2^31 = 2,147,483,648 for any
     * count (taps per output) below 4 million: more than any image's width or height here.
     */
    private static final class PillowFilter {
        private static final int PRECISION_BITS = 32 - 8 - 2;
        /** Pillow's rounding term: half of one unit of the result. */
        private static final int HALF = 1 << (PRECISION_BITS - 1);

        /**
         * For each output index o: the first source index {@code first[o]}, the number of taps
         * {@code count[o]}, and their fixed-point weights {@code weights[o * stride + i]}, i < count[o]
         * (the rest of each stride-long block is zero).
         */
        private record Coefficients(int[] first, int[] count, int stride, int[] weights) {}

        /** Pillow's {@code precompute_coeffs} for the triangle filter; only the weights' layout differs. */
        private static Coefficients coefficients(int inSize, int outSize) {
            double scale = (double) inSize / outSize;
            double filterScale = Math.max(scale, 1.0);
            double support = 1.0 * filterScale; // the triangle filter has support 1
            // Pillow's bound on taps per output; the weights are laid out with this stride.
            int stride = (int) Math.ceil(support) * 2 + 1;
            int[] first = new int[outSize], count = new int[outSize];
            int[] weights = new int[outSize * stride];
            double[] k = new double[stride];
            for (int o = 0; o < outSize; o++) {
                double center = (o + 0.5) * scale;
                int min = Math.max((int) (center - support + 0.5), 0);
                int max = Math.min((int) (center + support + 0.5), inSize) - min;
                double sum = 0;
                for (int i = 0; i < max; i++) {
                    double t = Math.abs((i + min - center + 0.5) / filterScale);
                    k[i] = t < 1.0 ? 1.0 - t : 0.0;
                    sum += k[i];
                }
                for (int i = 0; i < max; i++) {
                    double w = sum != 0.0 ? k[i] / sum : k[i];
                    weights[o * stride + i] = (int) (w < 0 ? -0.5 + w * (1 << PRECISION_BITS) : 0.5 + w * (1 << PRECISION_BITS));
                }
                first[o] = min;
                count[o] = max;
            }
            return new Coefficients(first, count, stride, weights);
        }

        /**
         * Pillow's {@code clip8}: the accumulator's integer part clamped to 0..255, with shifts and masks
         * instead of comparisons so that C2 vectorises the loop in {@link #clip8(int[], int)}.
         */
        private static int clip8(int acc) {
            int v = acc >> PRECISION_BITS;
            v &= ~(v >> 31);                      // below 0: 0
            return (v | ((255 - v) >> 31)) & 255; // above 255: all ones, masked to 255
        }

        private static void clip8(int[] acc, int n) {
            for (int j = 0; j < n; j++) acc[j] = clip8(acc[j]);
        }

        /**
         * The horizontal pass takes this many rows at a time, transposed so that each source column is
         * one contiguous array: 64 rows make arrays of 192 values, long enough for the vector loops, and
         * a block of a 500-wide image is 500 x 192 ints, a few hundred KB (32 and 128 measured no better).
         */
        private static final int BLOCK_ROWS = 64;

        /**
         * The horizontal pass (skipped when the width stays), then the vertical pass (skipped when the
         * height stays), in Pillow's order. Between them the image is kept as ints, one array per row:
         * (h) x (outW·3).
         */
        static RgbImage resize(RgbRows src, int outH, int outW) {
            int h = src.height(), w = src.width();
            if (outH == h) { // horizontal only: straight into the float output
                float[] out = new float[h * outW * 3];
                horizontal(src, outW, (outCols, y0, rows) -> untransposeBlock(outCols, y0, rows, out));
                return new RgbImage(h, outW, out);
            }
            int[][] rows = outW == w ? intRows(src) : horizontalRows(src, outW);
            return new RgbImage(outH, outW, vertical(rows, outH));
        }

        /** The horizontal pass's output as rows (h) x (outW·3), the vertical pass's input. */
        private static int[][] horizontalRows(RgbRows src, int outW) {
            int[][] out = new int[src.height()][outW * 3];
            horizontal(src, outW, (outCols, y0, rows) -> untransposeBlock(outCols, y0, rows, out));
            return out;
        }

        /**
         * {@code acc[0..n) = HALF + sum of weight · src[first + i][0..n)} over output {@code o}'s taps.
         * Every array is indexed alike (j): C2 in JDK 17 vectorises such loops, but not ones that index
         * one int array with an offset ({@code src[base + j]}), which is why rows and columns are kept
         * as separate arrays.
         */
        private static void accumulate(int[] acc, int n, int[][] src, Coefficients co, int o) {
            int first = co.first[o], count = co.count[o], base = o * co.stride;
            Arrays.fill(acc, 0, n, HALF);
            int i = 0;
            for (; i + 1 < count; i += 2) { // two taps per pass over acc: half the loads and stores of acc
                int[] s0 = src[first + i], s1 = src[first + i + 1];
                int w0 = co.weights[base + i], w1 = co.weights[base + i + 1];
                for (int j = 0; j < n; j++) acc[j] += s0[j] * w0 + s1[j] * w1;
            }
            if (i < count) {
                int[] s = src[first + i];
                int weight = co.weights[base + i];
                for (int j = 0; j < n; j++) acc[j] += s[j] * weight;
            }
        }

        /** Receives the horizontal pass's output a block at a time: {@code outCols[x]} = (rows, 3) for image rows y0.. */
        private interface BlockSink {
            void accept(int[][] outCols, int y0, int rows);
        }

        /**
         * {@code src} (h, inW, 3) to (h, outW, 3), a block of rows at a time: the block is transposed into
         * one array per source column, {@code cols[x]} = (rows, 3), so that an output column is a
         * weighted sum of whole source columns; the output columns go to {@code sink}.
         */
        private static void horizontal(RgbRows src, int outW, BlockSink sink) {
            int h = src.height(), inW = src.width();
            Coefficients co = coefficients(inW, outW);
            int block = Math.min(BLOCK_ROWS, h);
            int[][] cols = new int[inW][block * 3], outCols = new int[outW][block * 3];
            for (int y0 = 0; y0 < h; y0 += block) {
                int rows = Math.min(block, h - y0), n = rows * 3;
                src.transposeBlock(y0, rows, cols);
                for (int x = 0; x < outW; x++) {
                    accumulate(outCols[x], n, cols, co, x);
                    clip8(outCols[x], n);
                }
                sink.accept(outCols, y0, rows);
            }
        }

        private static void pixel(int[] in, int p, int[] out, int d) {
            out[d] = in[p];
            out[d + 1] = in[p + 1];
            out[d + 2] = in[p + 2];
        }

        private static void pixel(int[] in, int p, float[] out, int d) {
            out[d] = in[p];
            out[d + 1] = in[p + 1];
            out[d + 2] = in[p + 2];
        }

        /** {@code outCols[x]} = (rows, 3) back into rows y0.. of {@code out}, (h) x (outW·3); four rows per sweep as in FloatRows.transposeBlock. */
        private static void untransposeBlock(int[][] outCols, int y0, int rows, int[][] out) {
            int r = 0;
            for (; r + 4 <= rows; r += 4) {
                int[] row0 = out[y0 + r], row1 = out[y0 + r + 1], row2 = out[y0 + r + 2], row3 = out[y0 + r + 3];
                for (int x = 0, s = r * 3, d = 0; x < outCols.length; x++, d += 3) {
                    int[] col = outCols[x];
                    pixel(col, s, row0, d);
                    pixel(col, s + 3, row1, d);
                    pixel(col, s + 6, row2, d);
                    pixel(col, s + 9, row3, d);
                }
            }
            for (; r < rows; r++) {
                int[] row = out[y0 + r];
                for (int x = 0, d = 0; x < outCols.length; x++, d += 3) pixel(outCols[x], r * 3, row, d);
            }
        }

        /** {@code outCols[x]} = (rows, 3) back into rows y0.. of {@code out}, (h, outW, 3) floats. */
        private static void untransposeBlock(int[][] outCols, int y0, int rows, float[] out) {
            int len = outCols.length * 3, r = 0;
            for (; r + 4 <= rows; r += 4) {
                for (int x = 0, s = r * 3, d = (y0 + r) * len; x < outCols.length; x++, d += 3) {
                    int[] col = outCols[x];
                    pixel(col, s, out, d);
                    pixel(col, s + 3, out, d + len);
                    pixel(col, s + 6, out, d + 2 * len);
                    pixel(col, s + 9, out, d + 3 * len);
                }
            }
            for (; r < rows; r++) {
                for (int x = 0, d = (y0 + r) * len; x < outCols.length; x++, d += 3) pixel(outCols[x], r * 3, out, d);
            }
        }

        /** Rows (inH) x (w·3) to (outH, w, 3) floats: each output row a weighted sum of whole source rows. */
        private static float[] vertical(int[][] rows, int outH) {
            Coefficients co = coefficients(rows.length, outH);
            int len = rows[0].length;
            int[] acc = new int[len];
            float[] out = new float[outH * len];
            for (int y = 0; y < outH; y++) {
                accumulate(acc, len, rows, co, y);
                clip8(acc, len);
                for (int j = 0, o = y * len; j < len; j++) out[o + j] = acc[j];
            }
            return out;
        }

        /** {@code src} (h, w, 3) as one int array per row. */
        private static int[][] intRows(RgbRows src) {
            int[][] rows = new int[src.height()][src.width() * 3];
            for (int y = 0; y < rows.length; y++) src.row(y, rows[y]);
            return rows;
        }
    }
}
