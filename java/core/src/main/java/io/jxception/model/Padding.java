package io.jxception.model;

/**
 * TensorFlow's 'same' padding: out = ceil(in / stride), total pad = max((out-1)*stride + k - in, 0),
 * split with the smaller half before (top/left) and the extra pixel after (bottom/right).
 *
 * <p>Stateless: every method may be called from any thread.
 */
public final class Padding {
    private Padding() {}

    /** Output size of a 'same' convolution or pool: ceil(in / stride). */
    public static int sameOutput(int in, int stride) { return (in + stride - 1) / stride; }

    /** Total padding of a 'same' window of size {@code k}: max((out−1)·stride + k − in, 0). */
    public static int sameTotal(int in, int k, int stride) {
        return Math.max((sameOutput(in, stride) - 1) * stride + k - in, 0);
    }

    /** Padding before the first row/column (top or left). */
    public static int sameBefore(int in, int k, int stride) { return sameTotal(in, k, stride) / 2; }
}
