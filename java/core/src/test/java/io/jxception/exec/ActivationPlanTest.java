package io.jxception.exec;

import io.jxception.internal.exec.ActivationPlan;
import io.jxception.model.Node;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ActivationPlanTest {
    @Test
    void valuesSharingASlotNeverLiveAtTheSameTime() {
        XceptionGraph g = XceptionGraph.build(XceptionConfig.imagenet());
        ActivationPlan plan = ActivationPlan.of(g);
        List<Node> nodes = g.nodes();
        int nv = g.values().size();
        int[] born = new int[nv], dies = new int[nv];
        born[0] = -1;
        for (int i = 0; i < nodes.size(); i++) {
            born[nodes.get(i).output()] = i;
            for (int v : ActivationPlan.inputsOf(nodes.get(i))) dies[v] = Math.max(dies[v], i);
        }
        dies[g.output().id()] = Integer.MAX_VALUE;
        dies[0] = Integer.MAX_VALUE;
        for (int a = 0; a < nv; a++) {
            assertTrue(plan.slotElementsPerImage(plan.slotOf(a)) >= g.values().get(a).elementsPerImage(), "slot too small for value " + a);
            for (int b = a + 1; b < nv; b++) {
                if (plan.slotOf(a) != plan.slotOf(b)) continue;
                // lifetimes [born, dies]: b is produced by a node; it may reuse a's slot only after a's last read
                boolean overlap = born[b] <= dies[a] && born[a] <= dies[b];
                assertFalse(overlap, "values " + g.values().get(a).name() + " and " + g.values().get(b).name() + " share slot " + plan.slotOf(a) + " while both live");
            }
        }
    }

    @Test
    void theInputSlotIsNeverReusedSoAForwardCanBeReplayed() {
        XceptionGraph g = XceptionGraph.build(XceptionConfig.imagenet());
        ActivationPlan plan = ActivationPlan.of(g);
        for (int v = 1; v < g.values().size(); v++) assertNotEquals(plan.slotOf(0), plan.slotOf(v), g.values().get(v).name());
    }

    @Test
    void reuseShrinksMemoryWellBelowOneBufferPerValue() {
        XceptionGraph g = XceptionGraph.build(XceptionConfig.imagenet());
        long all = g.values().stream().mapToLong(v -> v.elementsPerImage()).sum();
        ActivationPlan plan = ActivationPlan.of(g);
        assertTrue(plan.totalElementsPerImage() * 3 < all, plan.totalElementsPerImage() + " vs " + all);
        assertTrue(plan.slots() <= 5, "slots: " + plan.slots());
    }
}
