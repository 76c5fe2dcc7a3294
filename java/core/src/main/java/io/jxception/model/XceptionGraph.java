package io.jxception.model;

import io.jxception.tensor.Shape;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The Keras Xception network ({@code keras/src/applications/xception.py}) as a list of fused nodes
 * over NHWC values, plus its weights in Keras order and layouts.
 *
 * <p>ReLUs are attached where Keras applies them: blocks 2–13 are pre-activation (ReLU → SepConv → BN,
 * so {@code preRelu} on each separable conv except block2_sepconv1), the stem and block 14 apply ReLU
 * after BN ({@code postRelu}). Residual branches read the pre-ReLU tensor, as in Keras.
 *
 * <p>Immutable once built; safe to share between threads.
 */
public final class XceptionGraph {
    private final XceptionConfig config;
    private final List<Value> values = new ArrayList<>();
    private final List<Node> nodes = new ArrayList<>();
    private final List<ParamSpec> params = new ArrayList<>();
    private int generatedConvs, generatedBns;

    private XceptionGraph(XceptionConfig config) {
        this.config = config;
    }

    /** The graph of {@code config}: its values, fused nodes and weights, named as Keras names them. */
    public static XceptionGraph build(XceptionConfig config) {
        XceptionGraph g = new XceptionGraph(config);
        g.buildAll();
        return g;
    }

    /** The configuration the graph was built from. */
    public XceptionConfig config() { return config; }

    /** Every activation, input first and output last (unmodifiable). */
    public List<Value> values() { return Collections.unmodifiableList(values); }

    /** The fused nodes in execution order (unmodifiable). */
    public List<Node> nodes() { return Collections.unmodifiableList(nodes); }

    /** Weights in the order Keras stores them (topological layer order, then weight order within a layer). */
    public List<ParamSpec> params() { return Collections.unmodifiableList(params); }

    /** The input, (N, H, W, 3). */
    public Value input() { return values.get(0); }

    /** The output: probabilities, pooled features or the last feature map. */
    public Value output() { return values.get(values.size() - 1); }

    /** All weights' values, non-trainable ones (BN moving statistics) included: 22,910,480 for Keras' ImageNet network. */
    public long parameterCount() { return params.stream().mapToLong(ParamSpec::elements).sum(); }

    /** The trainable weights' values: 22,855,952 for Keras' ImageNet network. */
    public long trainableParameterCount() { return params.stream().filter(ParamSpec::trainable).mapToLong(ParamSpec::elements).sum(); }

    /**
     * The weight {@code key} ("layer/weight").
     *
     * @throws IllegalArgumentException when the graph has no such weight
     */
    public ParamSpec param(String key) {
        for (ParamSpec p : params) if (p.key().equals(key)) return p;
        throw new IllegalArgumentException("no weight named " + key + " in this Xception");
    }

    private void buildAll() {
        XceptionConfig c = config;
        Value x = value("input", c.inputHeight(), c.inputWidth(), 3);
        // Entry flow: stem.
        x = conv("block1_conv1", "block1_conv1_bn", ConvKind.CONV3X3_VALID, 2, false, true, x, c.channels(32), null);
        x = conv("block1_conv2", "block1_conv2_bn", ConvKind.CONV3X3_VALID, 1, false, true, x, c.channels(64), null);
        // Blocks 2–4: two separable convs, max pool, plus a strided 1×1 residual.
        x = downBlock(2, x, c.channels(128), c.channels(128), false);
        x = downBlock(3, x, c.channels(256), c.channels(256), true);
        x = downBlock(4, x, c.channels(728), c.channels(728), true);
        // Middle flow: blocks 5.. with identity residuals, the add fused into the third BN.
        for (int i = 0; i < c.middleRepeats(); i++) {
            String p = "block" + (i + 5);
            Value residual = x;
            x = conv(p + "_sepconv1", p + "_sepconv1_bn", ConvKind.SEPARABLE3X3_SAME, 1, true, false, x, c.channels(728), null);
            x = conv(p + "_sepconv2", p + "_sepconv2_bn", ConvKind.SEPARABLE3X3_SAME, 1, true, false, x, c.channels(728), null);
            x = conv(p + "_sepconv3", p + "_sepconv3_bn", ConvKind.SEPARABLE3X3_SAME, 1, true, false, x, c.channels(728), residual);
        }
        // Exit flow. Keras names this block 13 whatever middleRepeats is (it is block 13 at 8 repeats).
        x = downBlockNamed("block13", x, c.channels(728), c.channels(1024), true);
        x = conv("block14_sepconv1", "block14_sepconv1_bn", ConvKind.SEPARABLE3X3_SAME, 1, false, true, x, c.channels(1536), null);
        x = conv("block14_sepconv2", "block14_sepconv2_bn", ConvKind.SEPARABLE3X3_SAME, 1, false, true, x, c.featureChannels(), null);
        if (c.includeTop()) {
            Value y = value("predictions", 1, 1, c.classes());
            nodes.add(new Node.Head("predictions", Pooling.AVG, true, x.c(), c.classes(), x.id(), y.id()));
            params.add(new ParamSpec("predictions", "kernel", Shape.of(x.c(), c.classes()), true, false));
            params.add(new ParamSpec("predictions", "bias", Shape.of(c.classes()), true, false));
        } else if (c.pooling() != Pooling.NONE) {
            String name = c.pooling() == Pooling.AVG ? "avg_pool" : "max_pool";
            Value y = value(name, 1, 1, x.c());
            nodes.add(new Node.Head(name, c.pooling(), false, x.c(), 0, x.id(), y.id()));
        }
    }

    private Value downBlock(int block, Value x, int c1, int c2, boolean preRelu1) {
        return downBlockNamed("block" + block, x, c1, c2, preRelu1);
    }

    /** sepconv(c1) → BN → ReLU → sepconv(c2) → BN → maxpool 3×3/2 'same', + BN(conv1×1/2(x)). */
    private Value downBlockNamed(String p, Value x, int c1, int c2, boolean preRelu1) {
        Value a = conv(p + "_sepconv1", p + "_sepconv1_bn", ConvKind.SEPARABLE3X3_SAME, 1, preRelu1, false, x, c1, null);
        Value b = conv(p + "_sepconv2", p + "_sepconv2_bn", ConvKind.SEPARABLE3X3_SAME, 1, true, false, a, c2, null);
        // The residual conv comes after the separable convs in Keras' stored layer order.
        String rconv = generatedConvs == 0 ? "conv2d" : "conv2d_" + generatedConvs;
        String rbn = generatedBns == 0 ? "batch_normalization" : "batch_normalization_" + generatedBns;
        generatedConvs++;
        generatedBns++;
        Value r = conv(rconv, rbn, ConvKind.CONV1X1_SAME, 2, false, false, x, c2, null);
        Value y = value(p + "_add", r.h(), r.w(), c2);
        nodes.add(new Node.MaxPoolAdd(p + "_pool", b.id(), r.id(), y.id()));
        return y;
    }

    private Value conv(String layer, String bn, ConvKind kind, int stride, boolean preRelu, boolean postRelu,
                       Value x, int cout, Value residual) {
        int h, w;
        switch (kind) {
            case CONV3X3_VALID -> {
                h = (x.h() - 3) / stride + 1;
                w = (x.w() - 3) / stride + 1;
            }
            case CONV1X1_SAME -> {
                h = Padding.sameOutput(x.h(), stride);
                w = Padding.sameOutput(x.w(), stride);
            }
            default -> {
                h = x.h();
                w = x.w();
            }
        }
        boolean generated = layer.startsWith("conv2d");
        switch (kind) {
            case CONV3X3_VALID -> params.add(new ParamSpec(layer, "kernel", Shape.of(3, 3, x.c(), cout), true, false));
            case CONV1X1_SAME -> params.add(new ParamSpec(layer, "kernel", Shape.of(1, 1, x.c(), cout), true, generated));
            case SEPARABLE3X3_SAME -> {
                params.add(new ParamSpec(layer, "depthwise_kernel", Shape.of(3, 3, x.c(), 1), true, false));
                params.add(new ParamSpec(layer, "pointwise_kernel", Shape.of(1, 1, x.c(), cout), true, false));
            }
        }
        for (String wname : new String[]{"gamma", "beta", "moving_mean", "moving_variance"}) {
            params.add(new ParamSpec(bn, wname, Shape.of(cout), !wname.startsWith("moving"), generated));
        }
        Value y = value(layer, h, w, cout);
        nodes.add(new Node.Conv(layer, bn, kind, stride, preRelu, postRelu, x.c(), cout, x.id(),
                residual == null ? -1 : residual.id(), y.id()));
        return y;
    }

    private Value value(String name, int h, int w, int c) {
        Value v = new Value(values.size(), name, h, w, c);
        values.add(v);
        return v;
    }
}
