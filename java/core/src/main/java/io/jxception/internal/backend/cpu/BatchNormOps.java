package io.jxception.internal.backend.cpu;

/**
 * Reference batch normalization in float64 over z (rows, c): NHWC activations flattened to
 * rows = n·h·w rows of c channels. Per-channel vectors (gamma, beta, mean, ...) are (c).
 *
 * <p>Keras 3 semantics: training normalizes with the batch mean and the biased batch variance
 * var = Σ(z − mean)²/rows, {@code invStd = 1/sqrt(var + eps)} (eps 1e-3 in Xception), and updates
 * {@code moving = moving·momentum + batch·(1 − momentum)} with that same biased variance.
 * Inference is the per-channel affine map {@code y = z·scale + shift} with
 * {@code scale = gamma/sqrt(movingVar + eps)}, {@code shift = beta − movingMean·scale}.
 */
public final class BatchNormOps {
    private BatchNormOps() {}

    /**
     * The conv epilogue and BN inference: y[r,ch] = relu?( z[r,ch]·scale[ch] + shift[ch] + residual[r,ch] ).
     * scale and shift null mean 1 and 0; residual null means none. y may be z (in place).
     */
    public static void affine(double[] z, int rows, int c, double[] scale, double[] shift, double[] residual,
                              boolean relu, double[] y) {
        for (int r = 0; r < rows; r++) {
            int off = r * c;
            for (int ch = 0; ch < c; ch++) {
                double v = z[off + ch];
                if (scale != null) v = v * scale[ch] + shift[ch];
                if (residual != null) v += residual[off + ch];
                y[off + ch] = relu ? Math.max(v, 0.0) : v;
            }
        }
    }

    /** Folds inference BN into scale = gamma/sqrt(movingVar + eps), shift = beta − movingMean·scale (all (c)). */
    public static void inferenceScaleShift(double[] gamma, double[] beta, double[] movingMean, double[] movingVar,
                                           int c, double eps, double[] scale, double[] shift) {
        for (int ch = 0; ch < c; ch++) {
            scale[ch] = gamma[ch] / Math.sqrt(movingVar[ch] + eps);
            shift[ch] = beta[ch] - movingMean[ch] * scale[ch];
        }
    }

    /** Batch mean and biased variance per channel (two passes): mean[ch] = Σ_r z/rows, var[ch] = Σ_r (z − mean)²/rows. */
    public static void moments(double[] z, int rows, int c, double[] mean, double[] var) {
        for (int ch = 0; ch < c; ch++) {
            mean[ch] = 0;
            var[ch] = 0;
        }
        for (int r = 0; r < rows; r++) for (int ch = 0; ch < c; ch++) mean[ch] += z[r * c + ch];
        for (int ch = 0; ch < c; ch++) mean[ch] /= rows;
        for (int r = 0; r < rows; r++) {
            for (int ch = 0; ch < c; ch++) {
                double d = z[r * c + ch] - mean[ch];
                var[ch] += d * d;
            }
        }
        for (int ch = 0; ch < c; ch++) var[ch] /= rows;
    }

    /** invStd[ch] = 1/sqrt(var[ch] + eps). */
    public static void invStd(double[] var, int c, double eps, double[] invStd) {
        for (int ch = 0; ch < c; ch++) invStd[ch] = 1.0 / Math.sqrt(var[ch] + eps);
    }

    /** Training forward: y = relu?( (z − mean)·invStd·gamma + beta + residual ); residual (rows,c) or null. */
    public static void trainForward(double[] z, int rows, int c, double[] mean, double[] invStd, double[] gamma, double[] beta,
                                    double[] residual, boolean relu, double[] y) {
        for (int r = 0; r < rows; r++) {
            int off = r * c;
            for (int ch = 0; ch < c; ch++) {
                double v = (z[off + ch] - mean[ch]) * invStd[ch] * gamma[ch] + beta[ch];
                if (residual != null) v += residual[off + ch];
                y[off + ch] = relu ? Math.max(v, 0.0) : v;
            }
        }
    }

    /** In place: moving[ch] = moving[ch]·momentum + batch[ch]·(1 − momentum). */
    public static void updateMoving(double[] moving, double[] batch, int c, double momentum) {
        for (int ch = 0; ch < c; ch++) moving[ch] = moving[ch] * momentum + batch[ch] * (1 - momentum);
    }

    /**
     * Training backward of {@link #trainForward}. With g = relu ? dy·[y &gt; 0] : dy (written to
     * {@code dyMasked} when non-null: it is also the residual's gradient) and x̂ = (z − mean)·invStd:
     * <pre>
     *   dBeta  = Σ_r g          dGamma = Σ_r g·x̂
     *   dz     = gamma·invStd/rows · (rows·g − dBeta − x̂·dGamma)
     * </pre>
     * dz, dGamma, dBeta are overwritten; the mean and variance are differentiated through (batch statistics).
     */
    public static void trainBackward(double[] z, double[] y, double[] dy, int rows, int c, double[] gamma, double[] mean,
                                     double[] invStd, boolean relu, double[] dz, double[] dyMasked, double[] dGamma, double[] dBeta) {
        double[] g = dyMasked != null ? dyMasked : new double[rows * c]; // (rows, c)
        for (int i = 0; i < rows * c; i++) g[i] = relu && !(y[i] > 0) ? 0.0 : dy[i];
        for (int ch = 0; ch < c; ch++) {
            dGamma[ch] = 0;
            dBeta[ch] = 0;
        }
        for (int r = 0; r < rows; r++) {
            int off = r * c;
            for (int ch = 0; ch < c; ch++) {
                double xhat = (z[off + ch] - mean[ch]) * invStd[ch];
                dBeta[ch] += g[off + ch];
                dGamma[ch] += g[off + ch] * xhat;
            }
        }
        for (int r = 0; r < rows; r++) {
            int off = r * c;
            for (int ch = 0; ch < c; ch++) {
                double xhat = (z[off + ch] - mean[ch]) * invStd[ch];
                dz[off + ch] = gamma[ch] * invStd[ch] / rows * (rows * g[off + ch] - dBeta[ch] - xhat * dGamma[ch]);
            }
        }
    }
    // ------------------------------------------------------------ split form (statistics over several processes)

    /**
     * The first pass of the two-pass moments over this process's rows, as sums that add across
     * processes: sums[ch] = Σ_r z[r,ch] when {@code mean} is null, else Σ_r (z[r,ch] − mean[ch])².
     * {@link #moments} is these sums divided by rows, in the same order of additions.
     */
    public static void channelSums(double[] z, int rows, int c, double[] mean, double[] sums) {
        for (int ch = 0; ch < c; ch++) sums[ch] = 0;
        if (mean == null) {
            for (int r = 0; r < rows; r++) for (int ch = 0; ch < c; ch++) sums[ch] += z[r * c + ch];
            return;
        }
        for (int r = 0; r < rows; r++) {
            for (int ch = 0; ch < c; ch++) {
                double d = z[r * c + ch] - mean[ch];
                sums[ch] += d * d;
            }
        }
    }

    /**
     * The sums of {@link #trainBackward} over this process's rows, which add across processes:
     * dBeta = Σ_r g, dGamma = Σ_r g·x̂ with g = relu ? dy·[y &gt; 0] : dy and x̂ = (z − mean)·invStd.
     */
    public static void backwardSums(double[] z, double[] y, double[] dy, int rows, int c, double[] mean, double[] invStd,
                                    boolean relu, double[] dGamma, double[] dBeta) {
        for (int ch = 0; ch < c; ch++) {
            dGamma[ch] = 0;
            dBeta[ch] = 0;
        }
        for (int r = 0; r < rows; r++) {
            int off = r * c;
            for (int ch = 0; ch < c; ch++) {
                double g = relu && !(y[off + ch] > 0) ? 0.0 : dy[off + ch];
                double xhat = (z[off + ch] - mean[ch]) * invStd[ch];
                dBeta[ch] += g;
                dGamma[ch] += g * xhat;
            }
        }
    }

    /**
     * dz of {@link #trainBackward} for this process's rows, given the sums dBeta, dGamma over all
     * {@code statisticsRows} rows of every process: dz = gamma·invStd/R · (R·g − dBeta − x̂·dGamma),
     * R = statisticsRows. Writes g to {@code dyMasked} when non-null.
     */
    public static void backwardApply(double[] z, double[] y, double[] dy, int rows, int c, long statisticsRows, double[] gamma,
                                     double[] mean, double[] invStd, boolean relu, double[] dGamma, double[] dBeta,
                                     double[] dz, double[] dyMasked) {
        double n = statisticsRows;
        for (int r = 0; r < rows; r++) {
            int off = r * c;
            for (int ch = 0; ch < c; ch++) {
                double g = relu && !(y[off + ch] > 0) ? 0.0 : dy[off + ch];
                if (dyMasked != null) dyMasked[off + ch] = g;
                double xhat = (z[off + ch] - mean[ch]) * invStd[ch];
                dz[off + ch] = gamma[ch] * invStd[ch] / n * (n * g - dBeta[ch] - xhat * dGamma[ch]);
            }
        }
    }
}
