package io.jxception.internal.backend.cpu;

/** Reference element-wise ops in float64 over the first {@code count} elements of flat arrays. */
public final class ElementwiseOps {
    private ElementwiseOps() {}

    /** y = max(x, 0). y may be x. */
    public static void relu(double[] x, int count, double[] y) {
        for (int i = 0; i < count; i++) y[i] = Math.max(x[i], 0.0);
    }

    /** dx = dy·[x &gt; 0] (the kink at 0 gets gradient 0). dx may be dy. */
    public static void reluBackward(double[] x, double[] dy, int count, double[] dx) {
        for (int i = 0; i < count; i++) dx[i] = x[i] > 0 ? dy[i] : 0.0;
    }

    /** y = a + b. y may be a or b. */
    public static void add(double[] a, double[] b, int count, double[] y) {
        for (int i = 0; i < count; i++) y[i] = a[i] + b[i];
    }

    /**
     * SGD with momentum and L2 weight decay, in place (PyTorch's SGD, dampening 0, no Nesterov):
     * g = grad + weightDecay·param; velocity = momentum·velocity + g; param −= lr·velocity.
     */
    public static void sgdMomentum(double[] param, double[] grad, double[] velocity, int count,
                                   double lr, double momentum, double weightDecay) {
        for (int i = 0; i < count; i++) {
            double g = grad[i] + weightDecay * param[i];
            velocity[i] = momentum * velocity[i] + g;
            param[i] -= lr * velocity[i];
        }
    }

    /**
     * x[i] *= factor in place (loss scaling's unscale); returns whether any x[i] was not finite as an
     * fp32 value before scaling. The reference holds float64, but the gradients it stands for are
     * fp32 on every device backend: a scaled gradient beyond fp32's range (3.4e38) is an overflow
     * there, so it is one here too.
     */
    public static boolean scaleAndCheckFinite(double[] x, int count, double factor) {
        boolean bad = false;
        for (int i = 0; i < count; i++) {
            bad |= !Float.isFinite((float) x[i]);
            x[i] *= factor;
        }
        return bad;
    }
}
