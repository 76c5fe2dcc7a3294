package io.jxception.internal.backend.cpu;

import io.jxception.model.Padding;

/**
 * Reference convolutions in float64 over NHWC arrays, forward and backward.
 *
 * <p>Layouts (row-major, last index fastest):
 * <pre>
 *   x      (n, h, w, cin)              x[((b*h + iy)*w + ix)*cin + ci]
 *   y, dz  (n, outH, outW, cout)
 *   kernel (k, k, cin, cout)  Keras     kernel[((ky*k + kx)*cin + ci)*cout + co]
 *   dw     (3, 3, c)          Keras depthwise (3,3,c,1) without the trailing 1
 *   pw     (cin, cout)        Keras pointwise (1,1,cin,cout) without the leading 1s
 * </pre>
 * A k×k convolution with stride s and top/left padding (pt, pl) computes
 * {@code y[b,oy,ox,co] = Σ_{ky,kx,ci} x[b, oy·s − pt + ky, ox·s − pl + kx, ci] · kernel[ky,kx,ci,co]},
 * where taps outside the image read zero. 'valid' is pt = pl = 0 with out = (in − k)/s + 1;
 * TensorFlow 'same' is out = ceil(in/s) and pt = {@link Padding#sameBefore}.
 *
 * <p>Every function overwrites its output (never accumulates into it). Loops keep the channel index
 * innermost over contiguous memory; {@link Parallel} splits an outer loop whose iterations write
 * disjoint outputs.
 */
public final class ConvOps {
    private ConvOps() {}

    // ------------------------------------------------------------------ named Xception convolutions

    /** Stem conv: 3×3 'valid', stride s. x (n,h,w,cin), kernel (3,3,cin,cout) → y (n,(h−3)/s+1,(w−3)/s+1,cout). */
    public static void conv3x3Valid(Parallel par, double[] x, int n, int h, int w, int cin,
                                    double[] kernel, int cout, int stride, double[] y) {
        conv(par, x, n, h, w, cin, kernel, 3, stride, 0, 0, y, (h - 3) / stride + 1, (w - 3) / stride + 1, cout);
    }

    public static void conv3x3ValidBackwardInput(Parallel par, double[] dz, int n, int h, int w, int cin,
                                                 double[] kernel, int cout, int stride, double[] dx) {
        convBackwardInput(par, dz, n, h, w, cin, kernel, 3, stride, 0, 0, dx, (h - 3) / stride + 1, (w - 3) / stride + 1, cout);
    }

    public static void conv3x3ValidBackwardKernel(Parallel par, double[] x, int n, int h, int w, int cin,
                                                  double[] dz, int cout, int stride, double[] dKernel) {
        convBackwardKernel(par, x, n, h, w, cin, dz, 3, stride, 0, 0, dKernel, (h - 3) / stride + 1, (w - 3) / stride + 1, cout);
    }

    /** Residual conv: 1×1 'same', stride s. x (n,h,w,cin), kernel (1,1,cin,cout) → y (n,ceil(h/s),ceil(w/s),cout). */
    public static void conv1x1Same(Parallel par, double[] x, int n, int h, int w, int cin,
                                   double[] kernel, int cout, int stride, double[] y) {
        conv(par, x, n, h, w, cin, kernel, 1, stride, Padding.sameBefore(h, 1, stride), Padding.sameBefore(w, 1, stride),
                y, Padding.sameOutput(h, stride), Padding.sameOutput(w, stride), cout);
    }

    public static void conv1x1SameBackwardInput(Parallel par, double[] dz, int n, int h, int w, int cin,
                                                double[] kernel, int cout, int stride, double[] dx) {
        convBackwardInput(par, dz, n, h, w, cin, kernel, 1, stride, Padding.sameBefore(h, 1, stride), Padding.sameBefore(w, 1, stride),
                dx, Padding.sameOutput(h, stride), Padding.sameOutput(w, stride), cout);
    }

    public static void conv1x1SameBackwardKernel(Parallel par, double[] x, int n, int h, int w, int cin,
                                                 double[] dz, int cout, int stride, double[] dKernel) {
        convBackwardKernel(par, x, n, h, w, cin, dz, 1, stride, Padding.sameBefore(h, 1, stride), Padding.sameBefore(w, 1, stride),
                dKernel, Padding.sameOutput(h, stride), Padding.sameOutput(w, stride), cout);
    }

    // ------------------------------------------------------------------ general k×k convolution

    /** y (n,outH,outW,cout) = conv(x (n,h,w,cin), kernel (k,k,cin,cout)); see the class comment. */
    public static void conv(Parallel par, double[] x, int n, int h, int w, int cin,
                            double[] kernel, int k, int stride, int padTop, int padLeft,
                            double[] y, int outH, int outW, int cout) {
        par.forRange(n * outH, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int b = r / outH, oy = r % outH;
                for (int ox = 0; ox < outW; ox++) {
                    int yOff = ((b * outH + oy) * outW + ox) * cout;
                    for (int co = 0; co < cout; co++) y[yOff + co] = 0;
                    for (int ky = 0; ky < k; ky++) {
                        int iy = oy * stride - padTop + ky;
                        if (iy < 0 || iy >= h) continue;
                        for (int kx = 0; kx < k; kx++) {
                            int ix = ox * stride - padLeft + kx;
                            if (ix < 0 || ix >= w) continue;
                            int xOff = ((b * h + iy) * w + ix) * cin;
                            int wOff = (ky * k + kx) * cin * cout;
                            for (int ci = 0; ci < cin; ci++) {
                                double a = x[xOff + ci];
                                int wRow = wOff + ci * cout;
                                for (int co = 0; co < cout; co++) y[yOff + co] += a * kernel[wRow + co];
                            }
                        }
                    }
                }
            }
        });
    }

    /**
     * dx (n,h,w,cin) = ∂/∂x of Σ dz·conv(x): dx[b,iy,ix,ci] = Σ dz[b,oy,ox,co]·kernel[ky,kx,ci,co] over
     * the (oy,ox,ky,kx) with oy·s − pt + ky = iy and ox·s − pl + kx = ix. Gathered per input pixel.
     */
    public static void convBackwardInput(Parallel par, double[] dz, int n, int h, int w, int cin,
                                         double[] kernel, int k, int stride, int padTop, int padLeft,
                                         double[] dx, int outH, int outW, int cout) {
        par.forRange(n * h, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int b = r / h, iy = r % h;
                for (int ix = 0; ix < w; ix++) {
                    int xOff = ((b * h + iy) * w + ix) * cin;
                    for (int ci = 0; ci < cin; ci++) dx[xOff + ci] = 0;
                    for (int ky = 0; ky < k; ky++) {
                        int ny = iy + padTop - ky; // = oy·stride
                        if (ny < 0 || ny % stride != 0 || ny / stride >= outH) continue;
                        int oy = ny / stride;
                        for (int kx = 0; kx < k; kx++) {
                            int nx = ix + padLeft - kx;
                            if (nx < 0 || nx % stride != 0 || nx / stride >= outW) continue;
                            int ox = nx / stride;
                            int zOff = ((b * outH + oy) * outW + ox) * cout;
                            int wOff = (ky * k + kx) * cin * cout;
                            for (int ci = 0; ci < cin; ci++) {
                                int wRow = wOff + ci * cout;
                                double s = 0;
                                for (int co = 0; co < cout; co++) s += dz[zOff + co] * kernel[wRow + co];
                                dx[xOff + ci] += s;
                            }
                        }
                    }
                }
            }
        });
    }

    /**
     * dKernel (k,k,cin,cout) = Σ_{b,oy,ox} x[b, oy·s−pt+ky, ox·s−pl+kx, ci] · dz[b,oy,ox,co].
     * Parallel over input channels: each task owns the rows dKernel[:, :, ci0..ci1, :].
     */
    public static void convBackwardKernel(Parallel par, double[] x, int n, int h, int w, int cin,
                                          double[] dz, int k, int stride, int padTop, int padLeft,
                                          double[] dKernel, int outH, int outW, int cout) {
        par.forRange(cin, (c0, c1) -> {
            for (int tap = 0; tap < k * k; tap++) {
                for (int ci = c0; ci < c1; ci++) {
                    int wRow = (tap * cin + ci) * cout;
                    for (int co = 0; co < cout; co++) dKernel[wRow + co] = 0;
                }
            }
            for (int b = 0; b < n; b++) {
                for (int oy = 0; oy < outH; oy++) {
                    for (int ox = 0; ox < outW; ox++) {
                        int zOff = ((b * outH + oy) * outW + ox) * cout;
                        for (int ky = 0; ky < k; ky++) {
                            int iy = oy * stride - padTop + ky;
                            if (iy < 0 || iy >= h) continue;
                            for (int kx = 0; kx < k; kx++) {
                                int ix = ox * stride - padLeft + kx;
                                if (ix < 0 || ix >= w) continue;
                                int xOff = ((b * h + iy) * w + ix) * cin;
                                int wOff = (ky * k + kx) * cin * cout;
                                for (int ci = c0; ci < c1; ci++) {
                                    double a = x[xOff + ci];
                                    int wRow = wOff + ci * cout;
                                    for (int co = 0; co < cout; co++) dKernel[wRow + co] += a * dz[zOff + co];
                                }
                            }
                        }
                    }
                }
            }
        });
    }

    // ------------------------------------------------------------------ depthwise 3×3 'same', stride 1

    /** Padding before the first row/column of a 3×3 stride-1 'same' conv (always 1). */
    private static final int DW_PAD = Padding.sameBefore(3, 3, 1);

    /** y[b,y,x,c] = Σ_{ky,kx} x[b, y−1+ky, x−1+kx, c] · dw[ky,kx,c]; x, y (n,h,w,c), dw (3,3,c). */
    public static void depthwise3x3Same(Parallel par, double[] x, int n, int h, int w, int c, double[] dw, double[] y) {
        par.forRange(n * h, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int b = r / h, oy = r % h;
                for (int ox = 0; ox < w; ox++) {
                    int yOff = ((b * h + oy) * w + ox) * c;
                    for (int ch = 0; ch < c; ch++) y[yOff + ch] = 0;
                    for (int ky = 0; ky < 3; ky++) {
                        int iy = oy - DW_PAD + ky;
                        if (iy < 0 || iy >= h) continue;
                        for (int kx = 0; kx < 3; kx++) {
                            int ix = ox - DW_PAD + kx;
                            if (ix < 0 || ix >= w) continue;
                            int xOff = ((b * h + iy) * w + ix) * c;
                            int wOff = (ky * 3 + kx) * c;
                            for (int ch = 0; ch < c; ch++) y[yOff + ch] += x[xOff + ch] * dw[wOff + ch];
                        }
                    }
                }
            }
        });
    }

    /** dx[b,iy,ix,c] = Σ_{ky,kx} dy[b, iy+1−ky, ix+1−kx, c] · dw[ky,kx,c] (taps inside the image). */
    public static void depthwise3x3SameBackwardInput(Parallel par, double[] dy, int n, int h, int w, int c, double[] dw, double[] dx) {
        par.forRange(n * h, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int b = r / h, iy = r % h;
                for (int ix = 0; ix < w; ix++) {
                    int xOff = ((b * h + iy) * w + ix) * c;
                    for (int ch = 0; ch < c; ch++) dx[xOff + ch] = 0;
                    for (int ky = 0; ky < 3; ky++) {
                        int oy = iy + DW_PAD - ky;
                        if (oy < 0 || oy >= h) continue;
                        for (int kx = 0; kx < 3; kx++) {
                            int ox = ix + DW_PAD - kx;
                            if (ox < 0 || ox >= w) continue;
                            int yOff = ((b * h + oy) * w + ox) * c;
                            int wOff = (ky * 3 + kx) * c;
                            for (int ch = 0; ch < c; ch++) dx[xOff + ch] += dy[yOff + ch] * dw[wOff + ch];
                        }
                    }
                }
            }
        });
    }

    /** dDw[ky,kx,c] = Σ_{b,y,x} x[b, y−1+ky, x−1+kx, c] · dy[b,y,x,c]. Parallel over the 9 taps. */
    public static void depthwise3x3SameBackwardKernel(Parallel par, double[] x, int n, int h, int w, int c, double[] dy, double[] dDw) {
        par.forRange(9, (t0, t1) -> {
            for (int tap = t0; tap < t1; tap++) {
                int ky = tap / 3, kx = tap % 3, wOff = tap * c;
                for (int ch = 0; ch < c; ch++) dDw[wOff + ch] = 0;
                for (int b = 0; b < n; b++) {
                    for (int oy = 0; oy < h; oy++) {
                        int iy = oy - DW_PAD + ky;
                        if (iy < 0 || iy >= h) continue;
                        for (int ox = 0; ox < w; ox++) {
                            int ix = ox - DW_PAD + kx;
                            if (ix < 0 || ix >= w) continue;
                            int xOff = ((b * h + iy) * w + ix) * c;
                            int yOff = ((b * h + oy) * w + ox) * c;
                            for (int ch = 0; ch < c; ch++) dDw[wOff + ch] += x[xOff + ch] * dy[yOff + ch];
                        }
                    }
                }
            }
        });
    }

    // ------------------------------------------------------------------ pointwise (1×1, stride 1): a GEMM over pixels

    /** Pixels per tile in {@link #pointwise}: each kernel row is read once per tile instead of once per pixel. */
    private static final int PIXEL_TILE = 8;

    /** y[p,co] = Σ_ci x[p,ci] · pw[ci,co] for p &lt; pixels; x (pixels,cin), pw (cin,cout), y (pixels,cout). */
    public static void pointwise(Parallel par, double[] x, int pixels, int cin, double[] pw, int cout, double[] y) {
        int tiles = (pixels + PIXEL_TILE - 1) / PIXEL_TILE;
        par.forRange(tiles, (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                int p0 = t * PIXEL_TILE, p1 = Math.min(p0 + PIXEL_TILE, pixels);
                for (int p = p0; p < p1; p++) for (int co = 0; co < cout; co++) y[p * cout + co] = 0;
                for (int ci = 0; ci < cin; ci++) {
                    int wRow = ci * cout;
                    for (int p = p0; p < p1; p++) {
                        double a = x[p * cin + ci];
                        int yOff = p * cout;
                        for (int co = 0; co < cout; co++) y[yOff + co] += a * pw[wRow + co];
                    }
                }
            }
        });
    }

    /** dx[p,ci] = Σ_co dy[p,co] · pw[ci,co]. */
    public static void pointwiseBackwardInput(Parallel par, double[] dy, int pixels, int cin, double[] pw, int cout, double[] dx) {
        par.forRange(pixels, (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                int yOff = p * cout;
                for (int ci = 0; ci < cin; ci++) {
                    int wRow = ci * cout;
                    double s = 0;
                    for (int co = 0; co < cout; co++) s += dy[yOff + co] * pw[wRow + co];
                    dx[p * cin + ci] = s;
                }
            }
        });
    }

    /** dPw[ci,co] = Σ_p x[p,ci] · dy[p,co]. Parallel over input channels (rows of dPw). */
    public static void pointwiseBackwardKernel(Parallel par, double[] x, int pixels, int cin, double[] dy, int cout, double[] dPw) {
        par.forRange(cin, (c0, c1) -> {
            for (int ci = c0; ci < c1; ci++) for (int co = 0; co < cout; co++) dPw[ci * cout + co] = 0;
            for (int p = 0; p < pixels; p++) {
                int yOff = p * cout;
                for (int ci = c0; ci < c1; ci++) {
                    double a = x[p * cin + ci];
                    int wRow = ci * cout;
                    for (int co = 0; co < cout; co++) dPw[wRow + co] += a * dy[yOff + co];
                }
            }
        });
    }
}
