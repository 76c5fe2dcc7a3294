package io.jxception.internal.exec;

import io.jxception.model.Node;
import io.jxception.model.Value;
import io.jxception.model.XceptionGraph;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Liveness-based buffer reuse for inference: every value of the graph is assigned a slot, and two
 * values share a slot only when their lifetimes [producer, last consumer] do not overlap. A node's
 * output never shares a slot with one of its inputs (kernels do not run in place). The input's slot
 * is never reused.
 *
 * <p>Slots are sized in elements per image; the session multiplies by its batch. At 299×299 the plan
 * needs about 4.6 M elements per image instead of 20 M for one buffer per value.
 */
public final class ActivationPlan {
    private final int[] slotOfValue;        // value id -> slot
    private final long[] slotElements;      // slot -> elements per image

    private ActivationPlan(int[] slotOfValue, long[] slotElements) {
        this.slotOfValue = slotOfValue;
        this.slotElements = slotElements;
    }

    public static ActivationPlan of(XceptionGraph graph) {
        List<Value> values = graph.values();
        List<Node> nodes = graph.nodes();
        int[] lastUse = new int[values.size()];
        Arrays.fill(lastUse, -1);
        for (int i = 0; i < nodes.size(); i++) {
            for (int v : inputsOf(nodes.get(i))) lastUse[v] = i;
        }
        lastUse[graph.output().id()] = Integer.MAX_VALUE; // the output is read by the caller
        // The input keeps its slot for the whole pass (it is small: 0.27 M elements per image at 299),
        // so one upload serves repeated forwards, e.g. a captured CUDA graph replayed many times.
        lastUse[0] = Integer.MAX_VALUE;

        int[] slotOf = new int[values.size()];
        Arrays.fill(slotOf, -1);
        List<Long> sizes = new ArrayList<>();
        List<Boolean> busy = new ArrayList<>();
        // the input gets slot 0
        slotOf[0] = 0;
        sizes.add(values.get(0).elementsPerImage());
        busy.add(true);
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            Value out = values.get(n.output());
            // best fit among free slots: the smallest that is large enough, else the largest free one (grown)
            int pick = -1;
            for (int s = 0; s < sizes.size(); s++) {
                if (busy.get(s)) continue;
                if (pick < 0) { pick = s; continue; }
                long need = out.elementsPerImage();
                long a = sizes.get(s), b = sizes.get(pick);
                boolean sFits = a >= need, pickFits = b >= need;
                if (sFits && (!pickFits || a < b)) pick = s;
                else if (!sFits && !pickFits && a > b) pick = s;
            }
            if (pick < 0) {
                pick = sizes.size();
                sizes.add(0L);
                busy.add(false);
            }
            sizes.set(pick, Math.max(sizes.get(pick), out.elementsPerImage()));
            busy.set(pick, true);
            slotOf[out.id()] = pick;
            for (int v : inputsOf(n)) {
                if (lastUse[v] == i) busy.set(slotOf[v], false);
            }
        }
        return new ActivationPlan(slotOf, sizes.stream().mapToLong(Long::longValue).toArray());
    }

    public static int[] inputsOf(Node n) {
        if (n instanceof Node.Conv c) return c.residual() >= 0 ? new int[]{c.input(), c.residual()} : new int[]{c.input()};
        if (n instanceof Node.MaxPoolAdd p) return new int[]{p.input(), p.residual()};
        return new int[]{n.input()};
    }

    public int slots() { return slotElements.length; }

    public int slotOf(int valueId) { return slotOfValue[valueId]; }

    public long slotElementsPerImage(int slot) { return slotElements[slot]; }

    public long totalElementsPerImage() { return Arrays.stream(slotElements).sum(); }
}
