package io.jxception.internal.backend.cpu;

/**
 * Reference classifier head in float64: dense layer, softmax and softmax cross-entropy.
 * x (n, cin) pooled features; kernel (cin, classes) Keras layout; bias (classes); logits, probs (n, classes).
 */
public final class HeadOps {
    private HeadOps() {}

    /** y[b,k] = Σ_ci x[b,ci]·kernel[ci,k] + bias[k]; bias null means 0. */
    public static void dense(double[] x, int n, int cin, double[] kernel, double[] bias, int classes, double[] y) {
        for (int b = 0; b < n; b++) {
            int yOff = b * classes;
            for (int k = 0; k < classes; k++) y[yOff + k] = bias == null ? 0.0 : bias[k];
            for (int ci = 0; ci < cin; ci++) {
                double a = x[b * cin + ci];
                int wRow = ci * classes;
                for (int k = 0; k < classes; k++) y[yOff + k] += a * kernel[wRow + k];
            }
        }
    }

    /**
     * Backward of {@link #dense} from dy (n, classes): dx[b,ci] = Σ_k dy[b,k]·kernel[ci,k] (skipped when dx
     * is null), dKernel[ci,k] = Σ_b x[b,ci]·dy[b,k], dBias[k] = Σ_b dy[b,k] (skipped when null). All overwritten.
     */
    public static void denseBackward(double[] x, int n, int cin, double[] kernel, int classes, double[] dy,
                                     double[] dx, double[] dKernel, double[] dBias) {
        if (dx != null) {
            for (int b = 0; b < n; b++) {
                for (int ci = 0; ci < cin; ci++) {
                    double s = 0;
                    for (int k = 0; k < classes; k++) s += dy[b * classes + k] * kernel[ci * classes + k];
                    dx[b * cin + ci] = s;
                }
            }
        }
        java.util.Arrays.fill(dKernel, 0, cin * classes, 0.0);
        for (int b = 0; b < n; b++) {
            for (int ci = 0; ci < cin; ci++) {
                double a = x[b * cin + ci];
                for (int k = 0; k < classes; k++) dKernel[ci * classes + k] += a * dy[b * classes + k];
            }
        }
        if (dBias != null) {
            java.util.Arrays.fill(dBias, 0, classes, 0.0);
            for (int b = 0; b < n; b++) for (int k = 0; k < classes; k++) dBias[k] += dy[b * classes + k];
        }
    }

    /** probs[b,k] = exp(logits[b,k] − m_b) / Σ_j exp(logits[b,j] − m_b), m_b = max_j logits[b,j]. */
    public static void softmax(double[] logits, int n, int classes, double[] probs) {
        for (int b = 0; b < n; b++) {
            int off = b * classes;
            double m = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < classes; k++) m = Math.max(m, logits[off + k]);
            double sum = 0;
            for (int k = 0; k < classes; k++) {
                probs[off + k] = Math.exp(logits[off + k] - m);
                sum += probs[off + k];
            }
            for (int k = 0; k < classes; k++) probs[off + k] /= sum;
        }
    }

    /**
     * Softmax cross-entropy averaged over the batch. Writes probs (n,classes), the per-example loss
     * loss[b] = logsumexp(logits[b]) − logits[b, label[b]] (n), and the gradient of the MEAN loss
     * dLogits[b,k] = (probs[b,k] − [k == label[b]]) / n. Returns the mean loss.
     */
    public static double softmaxCrossEntropy(double[] logits, int[] labels, int n, int classes,
                                             double[] probs, double[] loss, double[] dLogits) {
        softmax(logits, n, classes, probs);
        double total = 0;
        for (int b = 0; b < n; b++) {
            int off = b * classes;
            int label = labels[b];
            if (label < 0 || label >= classes) throw new IllegalArgumentException("label " + label + " of example " + b + " is outside [0, " + classes + ")");
            double m = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < classes; k++) m = Math.max(m, logits[off + k]);
            double sum = 0;
            for (int k = 0; k < classes; k++) sum += Math.exp(logits[off + k] - m);
            loss[b] = m + Math.log(sum) - logits[off + label];
            total += loss[b];
            for (int k = 0; k < classes; k++) dLogits[off + k] = (probs[off + k] - (k == label ? 1.0 : 0.0)) / n;
        }
        return total / n;
    }
}
