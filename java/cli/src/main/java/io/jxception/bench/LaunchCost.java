package io.jxception.bench;

import io.jxception.internal.backend.ConvSpec;
import io.jxception.internal.backend.HeadSpec;
import io.jxception.internal.backend.PoolSpec;
import io.jxception.backend.Precision;
import io.jxception.internal.exec.NodeSpecs;
import io.jxception.model.ConvKind;
import io.jxception.model.Node;
import io.jxception.model.XceptionGraph;

/**
 * The least work one fused launch must do, counted from its shapes (never measured):
 * {@code flops} = 2 × the multiply-adds of its convolutions (depthwise + pointwise for separable
 * convs) or of the dense layer; pooling, batch-norm epilogues and softmax are not counted.
 * {@code bytes} = every input read once + every output written once + every weight read once
 * (conv kernels, the folded batch-norm scale and shift, the dense kernel and bias), at
 * {@link #elementBytes} per element. "Input" is what the launch needs: the 1×1 stride-2 residual
 * convs read only the pixels on their stride grid, (n, ceil(H/2), ceil(W/2), Cin) of the
 * (n, H, W, Cin) input, a quarter of it; in NHWC a pixel's Cin ≥ 64 channels are ≥ 128 contiguous
 * bytes, whole DRAM sectors, so the pixels in between need not be fetched at all.
 */
public record LaunchCost(long flops, long bytes) {
    public LaunchCost {
        if (flops < 0 || bytes <= 0) throw new IllegalArgumentException("bad launch cost: " + flops + " FLOPs, " + bytes + " bytes");
    }

    public static LaunchCost of(XceptionGraph graph, Node node, int batch, Precision precision) {
        long eb = elementBytes(precision);
        if (node instanceof Node.Conv c) {
            ConvSpec s = NodeSpecs.conv(graph, c, batch);
            long elements = inputElementsRead(s) + s.outputElements()
                    + (c.residual() >= 0 ? s.outputElements() : 0)
                    + s.w1Elements() + s.w2Elements() + 2L * c.cout(); // + scale, shift
            return new LaunchCost(2 * s.macs(), elements * eb);
        }
        if (node instanceof Node.MaxPoolAdd p) {
            PoolSpec s = NodeSpecs.pool(graph, p, batch);
            return new LaunchCost(0, (s.inputElements() + 2 * s.outputElements()) * eb); // x, residual, y
        }
        Node.Head h = (Node.Head) node;
        HeadSpec s = NodeSpecs.head(graph, h, batch);
        long input = (long) s.n() * s.h() * s.w() * s.channels();
        long weights = s.dense() ? (long) s.channels() * s.classes() + s.classes() : 0;
        long macs = s.dense() ? (long) s.n() * s.channels() * s.classes() : 0;
        return new LaunchCost(2 * macs, (input + weights + s.outputElements()) * eb);
    }

    /** Input elements a conv must read: all of x, except a 1×1 conv reads one pixel per output pixel. */
    static long inputElementsRead(ConvSpec s) {
        return s.kind() == ConvKind.CONV1X1_SAME ? (long) s.n() * s.outH() * s.outW() * s.cin() : s.inputElements();
    }

    /** Bytes a backend stores per activation or weight element in this precision. */
    public static int elementBytes(Precision p) {
        return switch (p) {
            case FP32, TF32 -> 4;
            case BF16, FP16 -> 2;
        };
    }

    /** FLOPs per byte: the x coordinate of the roofline. */
    public double intensity() { return (double) flops / bytes; }

    /** The launch's floor on a device: max(FLOPs / peak FLOP/s, bytes / peak bandwidth), in seconds. */
    public double floorSeconds(Peaks peaks) {
        return Math.max(flops / peaks.flopsPerSecond(), bytes / peaks.bytesPerSecond());
    }

    /** Which ceiling sets the floor: "compute" or "memory". */
    public String bound(Peaks peaks) {
        return flops / peaks.flopsPerSecond() >= bytes / peaks.bytesPerSecond() ? "compute" : "memory";
    }
}
