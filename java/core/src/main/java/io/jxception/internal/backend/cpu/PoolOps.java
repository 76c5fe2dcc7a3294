package io.jxception.internal.backend.cpu;

import io.jxception.model.Padding;

/**
 * Reference pooling in float64 over NHWC arrays.
 *
 * <p>Max pool 3×3, stride 2, TensorFlow 'same': x (n,h,w,c) → y (n,ceil(h/2),ceil(w/2),c),
 * window rows {@code oy·2 − pt .. oy·2 − pt + 2} with pt = {@link Padding#sameBefore}(h,3,2);
 * padded taps are ignored (as if −∞). The backward routes each dy to the FIRST maximum of its
 * window in row-major (ky, then kx) order; overlapping windows accumulate into dx.
 *
 * <p>Global pools: x (n,h,w,c) → (n,c), average or max over the h·w pixels; the max backward
 * routes to the first maximal pixel in row-major order.
 */
public final class PoolOps {
    private PoolOps() {}

    private static final int K = 3, STRIDE = 2;

    /** y = maxpool3x3s2same(x) (+ residual when non-null); residual and y (n,ceil(h/2),ceil(w/2),c). */
    public static void maxPool3x3s2Same(double[] x, int n, int h, int w, int c, double[] residual, double[] y) {
        int outH = Padding.sameOutput(h, STRIDE), outW = Padding.sameOutput(w, STRIDE);
        int pt = Padding.sameBefore(h, K, STRIDE), pl = Padding.sameBefore(w, K, STRIDE);
        for (int b = 0; b < n; b++) {
            for (int oy = 0; oy < outH; oy++) {
                for (int ox = 0; ox < outW; ox++) {
                    int yOff = ((b * outH + oy) * outW + ox) * c;
                    boolean first = true;
                    for (int ky = 0; ky < K; ky++) {
                        int iy = oy * STRIDE - pt + ky;
                        if (iy < 0 || iy >= h) continue;
                        for (int kx = 0; kx < K; kx++) {
                            int ix = ox * STRIDE - pl + kx;
                            if (ix < 0 || ix >= w) continue;
                            int xOff = ((b * h + iy) * w + ix) * c;
                            if (first) {
                                System.arraycopy(x, xOff, y, yOff, c);
                                first = false;
                            } else {
                                for (int ch = 0; ch < c; ch++) if (x[xOff + ch] > y[yOff + ch]) y[yOff + ch] = x[xOff + ch];
                            }
                        }
                    }
                    if (residual != null) for (int ch = 0; ch < c; ch++) y[yOff + ch] += residual[yOff + ch];
                }
            }
        }
    }

    /** dx (n,h,w,c), overwritten: each dy[b,oy,ox,ch] is added at the first maximum of its window. */
    public static void maxPool3x3s2SameBackward(double[] x, int n, int h, int w, int c, double[] dy, double[] dx) {
        int outH = Padding.sameOutput(h, STRIDE), outW = Padding.sameOutput(w, STRIDE);
        int pt = Padding.sameBefore(h, K, STRIDE), pl = Padding.sameBefore(w, K, STRIDE);
        java.util.Arrays.fill(dx, 0, n * h * w * c, 0.0);
        for (int b = 0; b < n; b++) {
            for (int oy = 0; oy < outH; oy++) {
                for (int ox = 0; ox < outW; ox++) {
                    int yOff = ((b * outH + oy) * outW + ox) * c;
                    for (int ch = 0; ch < c; ch++) {
                        int best = -1; // x index of the first maximum
                        for (int ky = 0; ky < K; ky++) {
                            int iy = oy * STRIDE - pt + ky;
                            if (iy < 0 || iy >= h) continue;
                            for (int kx = 0; kx < K; kx++) {
                                int ix = ox * STRIDE - pl + kx;
                                if (ix < 0 || ix >= w) continue;
                                int xi = ((b * h + iy) * w + ix) * c + ch;
                                if (best < 0 || x[xi] > x[best]) best = xi;
                            }
                        }
                        dx[best] += dy[yOff + ch];
                    }
                }
            }
        }
    }

    /** y[b,ch] = Σ_pixels x[b,p,ch] / (h·w); x (n,h·w,c), y (n,c). */
    public static void globalAvgPool(double[] x, int n, int pixels, int c, double[] y) {
        for (int b = 0; b < n; b++) {
            int yOff = b * c;
            for (int ch = 0; ch < c; ch++) y[yOff + ch] = 0;
            for (int p = 0; p < pixels; p++) {
                int xOff = (b * pixels + p) * c;
                for (int ch = 0; ch < c; ch++) y[yOff + ch] += x[xOff + ch];
            }
            for (int ch = 0; ch < c; ch++) y[yOff + ch] /= pixels;
        }
    }

    /** dx[b,p,ch] = dy[b,ch] / (h·w). */
    public static void globalAvgPoolBackward(double[] dy, int n, int pixels, int c, double[] dx) {
        for (int b = 0; b < n; b++) {
            for (int p = 0; p < pixels; p++) {
                int xOff = (b * pixels + p) * c;
                for (int ch = 0; ch < c; ch++) dx[xOff + ch] = dy[b * c + ch] / pixels;
            }
        }
    }

    /** y[b,ch] = max_p x[b,p,ch]. */
    public static void globalMaxPool(double[] x, int n, int pixels, int c, double[] y) {
        for (int b = 0; b < n; b++) {
            int yOff = b * c;
            System.arraycopy(x, b * pixels * c, y, yOff, c);
            for (int p = 1; p < pixels; p++) {
                int xOff = (b * pixels + p) * c;
                for (int ch = 0; ch < c; ch++) if (x[xOff + ch] > y[yOff + ch]) y[yOff + ch] = x[xOff + ch];
            }
        }
    }

    /** dx (n,pixels,c), overwritten: dy[b,ch] goes to the first pixel holding the maximum, zeros elsewhere. */
    public static void globalMaxPoolBackward(double[] x, int n, int pixels, int c, double[] dy, double[] dx) {
        java.util.Arrays.fill(dx, 0, n * pixels * c, 0.0);
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                int best = b * pixels * c + ch;
                for (int p = 1; p < pixels; p++) {
                    int xi = (b * pixels + p) * c + ch;
                    if (x[xi] > x[best]) best = xi;
                }
                dx[best] = dy[b * c + ch];
            }
        }
    }
}
