package io.jxception.internal.train;

import io.jxception.model.ParamSpec;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Tensor;
import io.jxception.weights.XceptionWeights;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A freshly built Keras Xception's weights: every kernel (conv, depthwise, pointwise, dense)
 * glorot_uniform, U(±√(6/(fanIn+fanOut))) with Keras' fans for shape (kh,kw,cin,cout):
 * fanIn = kh·kw·cin, fanOut = kh·kw·cout (a depthwise (3,3,C,1) kernel thus gets fanOut = 9);
 * dense bias 0; batch norm γ=1, β=0, moving mean 0, moving variance 1.
 */
public final class KerasInit {
    private KerasInit() {}

    public static XceptionWeights fresh(XceptionGraph graph, long seed) {
        Rng rng = new Rng(seed);
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (ParamSpec p : graph.params()) m.put(p.key(), init(p, rng));
        return new XceptionWeights(graph, m);
    }

    /** The Keras initial value of one weight, drawn from {@code rng}. */
    public static Tensor init(ParamSpec p, Rng rng) {
        float[] d = new float[p.shape().size()];
        switch (p.weight()) {
            case "kernel", "depthwise_kernel", "pointwise_kernel" -> {
                int[] s = p.shape().dims();
                long receptive = 1;
                for (int i = 0; i < s.length - 2; i++) receptive *= s[i];
                double fanIn = receptive * s[s.length - 2], fanOut = receptive * s[s.length - 1];
                double limit = Math.sqrt(6.0 / (fanIn + fanOut));
                for (int i = 0; i < d.length; i++) d[i] = (float) ((2 * rng.nextDouble() - 1) * limit);
            }
            case "gamma", "moving_variance" -> java.util.Arrays.fill(d, 1f);
            case "beta", "moving_mean", "bias" -> { /* zeros */ }
            default -> throw new IllegalStateException("no Keras initializer known for " + p.key());
        }
        return new Tensor(p.shape(), d);
    }
}
