package io.jxception.bench;

import io.jxception.internal.backend.ConvSpec;
import io.jxception.internal.exec.NodeSpecs;
import io.jxception.model.ConvKind;
import io.jxception.model.Node;
import io.jxception.model.XceptionGraph;

import java.util.ArrayList;
import java.util.List;

/**
 * The pointwise GEMM inside one fused launch, as a vendor BLAS would run it alone:
 * C (m × n) = A (m × k) · B (k × n), A the NHWC activations (row-major, k contiguous), B the
 * (Cin, Cout) 1×1 kernel. m = batch × outH × outW output pixels, n = Cout, k = Cin. Every separable
 * conv (its pointwise half, over 98% of its FLOPs) and every 1×1 stride-2 residual conv (A then holds
 * only the pixels on the stride grid) has one; the stem convs, pools and the head have none.
 *
 * @param index the launch's index in graph order (the per-layer rows' {@code index})
 * @param node  its Keras layer name
 */
public record PointwiseGemm(int index, String node, long m, int n, int k) {
    /** The GEMMs of one forward pass at {@code batch}, in graph order, from the same nodes the per-layer suite times. */
    public static List<PointwiseGemm> of(XceptionGraph graph, int batch) {
        List<PointwiseGemm> out = new ArrayList<>();
        for (int i = 0; i < graph.nodes().size(); i++) {
            if (!(graph.nodes().get(i) instanceof Node.Conv c)) continue;
            if (c.kind() != ConvKind.SEPARABLE3X3_SAME && c.kind() != ConvKind.CONV1X1_SAME) continue;
            ConvSpec s = NodeSpecs.conv(graph, c, batch);
            out.add(new PointwiseGemm(i, c.name(), (long) s.n() * s.outH() * s.outW(), s.cout(), s.cin()));
        }
        return out;
    }

    /** 2 · m · n · k. */
    public long flops() { return 2L * m * n * k; }
}
