package io.jxception.bench;

import io.jxception.model.Node;
import io.jxception.model.XceptionGraph;

import java.util.List;

/** Xception's three flows, as the per-layer charts group launches. */
public enum Stage {
    /** Stem (block 1) and blocks 2–4, up to and including block4_pool. */
    ENTRY,
    /** The repeated middle blocks (5–12 in Keras). */
    MIDDLE,
    /** Blocks 13–14 and the head. */
    EXIT;

    public String label() { return name().toLowerCase(java.util.Locale.ROOT); }

    /**
     * The stage of every node, by position: the entry flow ends with the third max-pool (block 4);
     * the middle flow is the next 3 × middleRepeats separable convs; the rest is the exit flow.
     * (Names cannot decide it: the residual convs carry generated names like conv2d_3.)
     */
    public static Stage[] of(XceptionGraph graph) {
        List<Node> nodes = graph.nodes();
        Stage[] out = new Stage[nodes.size()];
        int pools = 0;
        int entryEnd = -1;
        for (int i = 0; i < nodes.size() && entryEnd < 0; i++) {
            if (nodes.get(i) instanceof Node.MaxPoolAdd && ++pools == 3) entryEnd = i;
        }
        if (entryEnd < 0) throw new IllegalStateException("graph has " + pools + " max-pools, an Xception has 4");
        int middleEnd = entryEnd + 3 * graph.config().middleRepeats();
        for (int i = 0; i < out.length; i++) out[i] = i <= entryEnd ? ENTRY : i <= middleEnd ? MIDDLE : EXIT;
        return out;
    }
}
