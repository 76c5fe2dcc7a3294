package io.jxception.weights;

import io.jxception.model.ParamSpec;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * Every weight of one Xception, by Keras key ("block2_sepconv1/pointwise_kernel"), in Keras layouts.
 * Construction checks that each key of the graph is present with the right shape and finite values.
 *
 * <p>Safe to share between threads for reading (sessions only read it); the tensors' arrays are held, not copied, so nobody may write them while the weights are in use.
 */
public final class XceptionWeights {
    private final XceptionGraph graph;
    private final Map<String, Tensor> tensors;

    /**
     * Checks {@code tensors} against {@code graph}: every weight present, in its shape, finite, variances non-negative.
     *
     * @throws IllegalArgumentException naming the first weight that is missing, extra, misshapen or non-finite
     */
    public XceptionWeights(XceptionGraph graph, Map<String, Tensor> tensors) {
        this.graph = graph;
        this.tensors = new LinkedHashMap<>();
        for (ParamSpec p : graph.params()) {
            Tensor t = tensors.get(p.key());
            if (t == null) throw new IllegalArgumentException("missing weight " + p.key() + " " + p.shape());
            if (!t.shape().equals(p.shape())) {
                throw new IllegalArgumentException("weight " + p.key() + " has shape " + t.shape() + ", expected " + p.shape()
                        + ": is this a weights file for the same Xception configuration?");
            }
            int bad = t.firstNonFinite();
            if (bad >= 0) throw new IllegalArgumentException("weight " + p.key() + " holds a non-finite value (" + t.data()[bad] + ") at index " + bad);
            if (p.weight().equals("moving_variance")) {
                for (float v : t.data()) if (v < 0) throw new IllegalArgumentException("weight " + p.key() + " has a negative variance " + v);
            }
            this.tensors.put(p.key(), t);
        }
        if (tensors.size() != graph.params().size()) {
            for (String k : tensors.keySet()) {
                if (!this.tensors.containsKey(k)) throw new IllegalArgumentException("unexpected weight " + k + " for this Xception configuration");
            }
        }
    }

    /** The network these weights belong to. */
    public XceptionGraph graph() { return graph; }

    /**
     * The weight {@code key} ("layer/weight"), in its Keras layout.
     *
     * @throws IllegalArgumentException when there is no such weight
     */
    public Tensor get(String key) {
        Tensor t = tensors.get(key);
        if (t == null) throw new IllegalArgumentException("no weight " + key);
        return t;
    }

    /** The weight {@code weight} of layer {@code layer}, in its Keras layout. */
    public Tensor get(String layer, String weight) { return get(layer + "/" + weight); }

    /** In Keras order. */
    public Map<String, Tensor> asMap() { return java.util.Collections.unmodifiableMap(tensors); }

    /**
     * Random weights for benchmarks and tests: He-normal kernels, BN gamma near 1, beta and moving
     * mean small, moving variance near 1, so activations stay in a sane range through the network.
     */
    public static XceptionWeights random(XceptionGraph graph, long seed) {
        Random rnd = new Random(seed);
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (ParamSpec p : graph.params()) {
            float[] d = new float[p.shape().size()];
            int[] s = p.shape().dims();
            switch (p.weight()) {
                case "kernel", "depthwise_kernel", "pointwise_kernel" -> {
                    // Variance-preserving: He (2/fan-in) where a ReLU precedes the product, 1/fan-in for
                    // the depthwise kernel (no ReLU between it and the pointwise one) and the dense layer,
                    // so a random network keeps activations near unit scale and its softmax is not one-hot.
                    long fanIn = p.weight().equals("depthwise_kernel") ? 9 : p.shape().elements() / s[s.length - 1];
                    double gain = p.weight().equals("depthwise_kernel") || p.layer().equals("predictions") ? 1.0 : 2.0;
                    double std = Math.sqrt(gain / fanIn);
                    for (int i = 0; i < d.length; i++) d[i] = (float) (rnd.nextGaussian() * std);
                }
                case "gamma" -> {
                    // Moving statistics do not follow the data in a random network, so nothing renormalises
                    // the residual stream: shrink the BNs that feed an add (≈ variance-preserving sums).
                    double g = p.layer().endsWith("_sepconv3_bn") ? 0.3
                            : p.layer().matches("block(2|3|4|13)_sepconv2_bn|batch_normalization(_\\d+)?") ? 0.7 : 1.0;
                    for (int i = 0; i < d.length; i++) d[i] = (float) (g * (1 + 0.1 * rnd.nextGaussian()));
                }
                case "beta", "moving_mean", "bias" -> { for (int i = 0; i < d.length; i++) d[i] = (float) (0.1 * rnd.nextGaussian()); }
                case "moving_variance" -> { for (int i = 0; i < d.length; i++) d[i] = (float) (0.5 + rnd.nextDouble()); }
                default -> throw new IllegalStateException("unknown weight kind " + p.key());
            }
            m.put(p.key(), new Tensor(p.shape(), d));
        }
        return new XceptionWeights(graph, m);
    }
}
