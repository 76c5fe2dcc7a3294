package io.jxception.bench;

import io.jxception.internal.backend.ConvSpec;
import io.jxception.internal.backend.HeadSpec;
import io.jxception.internal.backend.PoolSpec;
import io.jxception.internal.exec.NodeSpecs;
import io.jxception.model.Node;
import io.jxception.model.XceptionGraph;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * One fused launch's work as cuDNN's legacy API runs it: the buffers to allocate and the calls to
 * make, in order, with their shapes and paddings (pure Java; {@link JavaCppCudnnLayers} executes it).
 * Built from the same graph nodes and {@link NodeSpecs} as the geometry {@link LayerPeerRunner}
 * sends to cudnn_layers.py, and doing the same work:
 * <pre>
 * conv_bn_relu       conv 3x3 'valid' stride s -> batch norm -> relu
 * sepconv_bn         [relu x -> t] -> conv 3x3 'same' groups = C (depthwise) -> conv 1x1 -> batch norm -> [add residual] -> [relu]
 * conv1x1s2_bn       conv 1x1 stride 2 (Keras 'same': no padding) -> batch norm
 * maxpool_add        max pool 3x3/2 TensorFlow 'same' -> add residual
 * gap_dense_softmax  average pool over the whole H x W -> conv 1x1 on (N, C, 1, 1) (the dense layer) -> add bias -> softmax
 * </pre>
 * Every tensor is (N, C, H, W) logical in NHWC memory; filters are (K, C / groups, R, S), NHWC
 * (K, R, S, C / groups in memory); batch-norm parameters (1, C, 1, 1) fp32.
 * <p>
 * cuDNN pads symmetrically. TensorFlow's 'same' pads total = max((ceil(H / s) - 1) · s + k - H, 0),
 * left = total / 2 and the rest on the far side: for the pools' 3x3/2 that is 1 + 1 on odd sizes and
 * 0 + 1 on even ones (74 at 299). A pool with uneven padding gets cuDNN padding = left and its input
 * is allocated with the extra (total - 2 · left) rows and columns at the far end (the tensor
 * descriptor's sizes then count them, strides stay NHWC): the windows cover exactly TensorFlow's.
 *
 * @param index    the launch's index in graph order (the per-layer rows' index)
 * @param geometry what identifies the work: launches with equal geometry (the middle flow's) are timed once
 */
public record CudnnPlan(int index, String node, Kernel kernel, String geometry, List<Buffer> buffers, List<Step> steps) {

    /** What a buffer holds: an activation tensor, a filter, or batch-norm's per-channel scale, bias, mean and variance. */
    public enum Role { TENSOR, FILTER, BN_PARAMS }

    /**
     * One device buffer, (n, c, h, w) logical: a filter's (K, C / groups, R, S); BN_PARAMS (1, C, 1, 1)
     * four times. Random values in [-scale, scale] when {@code random}, else left unset (outputs).
     */
    public record Buffer(String name, Role role, int n, int c, int h, int w, boolean random, double scale) {
        public long elements() { return (long) n * c * h * w; }
    }

    /** One cuDNN call; {@code elementsMoved}: every operand read once and the result written once (parameters not counted). */
    public sealed interface Step {
        /** What it is, as a row's "ops" lists it. */
        String op();

        long flops();

        long elementsMoved();
    }

    /** cudnnActivationForward, ReLU: out = max(in, 0) (out may be in). */
    public record Relu(Buffer in, Buffer out) implements Step {
        public String op() { return "relu"; }
        public long flops() { return in.elements(); }
        public long elementsMoved() { return 2 * in.elements(); }
    }

    /** cudnnConvolutionForward, cross-correlation, padding symmetric, the algorithm found in the warm-up. */
    public record Convolution(Buffer in, Buffer filter, Buffer out, int pad, int stride, int groups, String label) implements Step {
        public String op() { return label; }
        public long flops() { return 2 * out.elements() * filter.c() * filter.h() * filter.w(); }
        public long elementsMoved() { return in.elements() + filter.elements() + out.elements(); }
    }

    /**
     * cudnnBatchNormalizationForwardInference, spatial, out of place (as F.batch_norm; cuDNN does not
     * promise in place here): out = gamma (in - mean) / sqrt(var + 1e-3) + beta.
     */
    public record BatchNorm(Buffer in, Buffer out, Buffer params) implements Step {
        public String op() { return "batch_norm"; }
        public long flops() { return 2 * in.elements(); }
        public long elementsMoved() { return 2 * in.elements(); }
    }

    /** cudnnAddTensor: into += from, {@code from} the same shape or (1, C, 1, 1) (a bias). */
    public record Add(Buffer from, Buffer into, String label) implements Step {
        public String op() { return label; }
        public long flops() { return into.elements(); }
        public long elementsMoved() { return 2 * into.elements() + from.elements(); }
    }

    /** cudnnPoolingForward, max or average (padding counted), window (wh, ww), symmetric padding, stride. */
    public record Pooling(boolean max, Buffer in, Buffer out, int windowH, int windowW, int pad, int stride, String label) implements Step {
        public String op() { return label; }
        public long flops() { return out.elements() * windowH * windowW; }
        public long elementsMoved() { return in.elements() + out.elements(); }
    }

    /** cudnnSoftmaxForward, accurate, over the channels of each (n, 1, 1), in place. */
    public record Softmax(Buffer tensor) implements Step {
        public String op() { return "softmax"; }
        public long flops() { return 3 * tensor.elements(); }
        public long elementsMoved() { return 2 * tensor.elements(); }
    }

    /** "relu, conv 3x3 depthwise 'same', conv 1x1, batch_norm, add, relu". */
    public String ops() { return steps.stream().map(Step::op).collect(Collectors.joining(", ")); }

    public long flops() { return steps.stream().mapToLong(Step::flops).sum(); }

    public long elementsMoved() { return steps.stream().mapToLong(Step::elementsMoved).sum(); }

    /** TensorFlow 'same' padding of one spatial side: {before, after}, total = max((ceil(size / stride) - 1) · stride + window - size, 0). */
    static int[] samePadding(int size, int window, int stride) {
        int out = (size + stride - 1) / stride;
        int total = Math.max((out - 1) * stride + window - size, 0);
        return new int[]{total / 2, total - total / 2};
    }

    /** cuDNN's output size: (size + 2 · pad - window) / stride + 1. */
    static int outputSize(int size, int window, int pad, int stride) {
        return (size + 2 * pad - window) / stride + 1;
    }

    /** The plan of every launch of one forward at {@code batch}, in graph order. */
    public static List<CudnnPlan> of(XceptionGraph graph, int batch) {
        List<CudnnPlan> out = new ArrayList<>();
        for (int i = 0; i < graph.nodes().size(); i++) {
            Node node = graph.nodes().get(i);
            Kernel kernel = Kernel.of(node);
            if (node instanceof Node.Conv c) out.add(conv(i, c.name(), kernel, NodeSpecs.conv(graph, c, batch), c.postRelu(), c.residual() >= 0));
            else if (node instanceof Node.MaxPoolAdd p) out.add(pool(i, p.name(), NodeSpecs.pool(graph, p, batch)));
            else if (node instanceof Node.Head h) out.add(head(i, h.name(), NodeSpecs.head(graph, h, batch)));
        }
        return out;
    }

    static CudnnPlan conv(int index, String node, Kernel kernel, ConvSpec s, boolean postRelu, boolean residual) {
        List<Buffer> buffers = new ArrayList<>();
        List<Step> steps = new ArrayList<>();
        Buffer x = add(buffers, new Buffer("x", Role.TENSOR, s.n(), s.cin(), s.h(), s.w(), true, 1.0));
        Buffer z; // the convolution's output, (N, Cout, OH, OW)
        switch (kernel) {
            case CONV_BN_RELU -> {
                int oh = outputSize(s.h(), 3, 0, s.stride()), ow = outputSize(s.w(), 3, 0, s.stride());
                Buffer f = add(buffers, new Buffer("w", Role.FILTER, s.cout(), s.cin(), 3, 3, true, 1 / Math.sqrt(9.0 * s.cin())));
                z = add(buffers, new Buffer("z", Role.TENSOR, s.n(), s.cout(), oh, ow, false, 0));
                steps.add(new Convolution(x, f, z, 0, s.stride(), 1, "conv 3x3/" + s.stride() + " 'valid'"));
            }
            case CONV1X1S2_BN -> {
                // Keras 1x1 'same' at stride 2 pads nothing: total = max((ceil(H/2) - 1) * 2 + 1 - H, 0) = 0
                int pad = samePadding(s.h(), 1, s.stride())[0];
                Buffer f = add(buffers, new Buffer("w", Role.FILTER, s.cout(), s.cin(), 1, 1, true, 1 / Math.sqrt(s.cin())));
                z = add(buffers, new Buffer("z", Role.TENSOR, s.n(), s.cout(), outputSize(s.h(), 1, pad, s.stride()),
                        outputSize(s.w(), 1, pad, s.stride()), false, 0));
                steps.add(new Convolution(x, f, z, pad, s.stride(), 1, "conv 1x1/" + s.stride()));
            }
            case SEPCONV_BN -> {
                // 'same' 3x3 at stride 1 (ConvSpec allows no other for separable convs): 1 + 1, which cuDNN's symmetric padding is
                int[] pad = samePadding(s.h(), 3, s.stride());
                Buffer in = x;
                if (s.preRelu()) { // out of place: x is the next iteration's input too, as in torch.relu(x)
                    in = add(buffers, new Buffer("t", Role.TENSOR, s.n(), s.cin(), s.h(), s.w(), false, 0));
                    steps.add(new Relu(x, in));
                }
                int oh = outputSize(s.h(), 3, pad[0], s.stride()), ow = outputSize(s.w(), 3, pad[0], s.stride());
                Buffer dw = add(buffers, new Buffer("dw", Role.FILTER, s.cin(), 1, 3, 3, true, 1 / 3.0));
                Buffer d = add(buffers, new Buffer("d", Role.TENSOR, s.n(), s.cin(), oh, ow, false, 0));
                steps.add(new Convolution(in, dw, d, pad[0], s.stride(), s.cin(), "conv 3x3 depthwise 'same'"));
                Buffer pw = add(buffers, new Buffer("pw", Role.FILTER, s.cout(), s.cin(), 1, 1, true, 1 / Math.sqrt(s.cin())));
                z = add(buffers, new Buffer("z", Role.TENSOR, s.n(), s.cout(), oh, ow, false, 0));
                steps.add(new Convolution(d, pw, z, 0, 1, 1, "conv 1x1"));
            }
            default -> throw new IllegalArgumentException(node + ": " + kernel + " is not a convolution");
        }
        Buffer bn = add(buffers, new Buffer("bn", Role.BN_PARAMS, 1, z.c(), 1, 1, true, 0.1));
        Buffer y = add(buffers, new Buffer("y", Role.TENSOR, z.n(), z.c(), z.h(), z.w(), false, 0));
        steps.add(new BatchNorm(z, y, bn));
        if (residual) {
            Buffer r = add(buffers, new Buffer("r", Role.TENSOR, y.n(), y.c(), y.h(), y.w(), true, 1.0));
            steps.add(new Add(r, y, "add"));
        }
        if (postRelu) steps.add(new Relu(y, y));
        String geometry = kernel.kernelName() + " n=" + s.n() + " h=" + s.h() + " w=" + s.w() + " cin=" + s.cin() + " cout=" + s.cout()
                + " stride=" + s.stride() + " pre_relu=" + s.preRelu() + " post_relu=" + postRelu + " residual=" + residual;
        return new CudnnPlan(index, node, kernel, geometry, buffers, steps);
    }

    static CudnnPlan pool(int index, String node, PoolSpec s) {
        int[] padH = samePadding(s.h(), 3, 2), padW = samePadding(s.w(), 3, 2);
        int extraH = padH[1] - padH[0], extraW = padW[1] - padW[0];
        if (padH[0] != padW[0]) throw new IllegalArgumentException(node + ": pool padding " + padH[0] + " rows but " + padW[0] + " columns");
        List<Buffer> buffers = new ArrayList<>();
        // (N, C, H + extraH, W + extraW): the far-side padding TensorFlow adds and cuDNN cannot
        Buffer x = add(buffers, new Buffer("x", Role.TENSOR, s.n(), s.c(), s.h() + extraH, s.w() + extraW, true, 1.0));
        int oh = outputSize(x.h(), 3, padH[0], 2), ow = outputSize(x.w(), 3, padW[0], 2);
        Buffer y = add(buffers, new Buffer("y", Role.TENSOR, s.n(), s.c(), oh, ow, false, 0));
        Buffer r = add(buffers, new Buffer("r", Role.TENSOR, s.n(), s.c(), oh, ow, true, 1.0));
        List<Step> steps = List.of(new Pooling(true, x, y, 3, 3, padH[0], 2, "max pool 3x3/2 'same'"), new Add(r, y, "add"));
        return new CudnnPlan(index, node, Kernel.MAXPOOL_ADD, "maxpool_add n=" + s.n() + " h=" + s.h() + " w=" + s.w() + " c=" + s.c(), buffers, steps);
    }

    static CudnnPlan head(int index, String node, HeadSpec s) {
        List<Buffer> buffers = new ArrayList<>();
        List<Step> steps = new ArrayList<>();
        boolean max = !s.dense() && s.pooling().name().equalsIgnoreCase("max");
        Buffer x = add(buffers, new Buffer("x", Role.TENSOR, s.n(), s.channels(), s.h(), s.w(), true, 1.0));
        Buffer p = add(buffers, new Buffer("p", Role.TENSOR, s.n(), s.channels(), 1, 1, false, 0));
        steps.add(new Pooling(max, x, p, s.h(), s.w(), 0, 1, (max ? "max" : "average") + " pool " + s.h() + "x" + s.w()));
        if (s.dense()) {
            Buffer f = add(buffers, new Buffer("w", Role.FILTER, s.classes(), s.channels(), 1, 1, true, 1 / Math.sqrt(s.channels())));
            Buffer logits = add(buffers, new Buffer("y", Role.TENSOR, s.n(), s.classes(), 1, 1, false, 0));
            Buffer bias = add(buffers, new Buffer("b", Role.TENSOR, 1, s.classes(), 1, 1, true, 0.1));
            steps.add(new Convolution(p, f, logits, 0, 1, 1, "conv 1x1 (dense)"));
            steps.add(new Add(bias, logits, "add bias"));
            steps.add(new Softmax(logits));
        }
        String geometry = "gap_dense_softmax n=" + s.n() + " h=" + s.h() + " w=" + s.w() + " channels=" + s.channels() + " dense=" + s.dense()
                + " pooling=" + s.pooling() + " classes=" + s.classes();
        return new CudnnPlan(index, node, Kernel.HEAD, geometry, buffers, steps);
    }

    private static Buffer add(List<Buffer> buffers, Buffer b) {
        buffers.add(b);
        return b;
    }
}
