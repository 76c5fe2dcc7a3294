package io.jxception.bench;

import io.jxception.model.Pooling;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

class StageTest {
    private static long count(Stage[] s, Stage which) { return Arrays.stream(s).filter(x -> x == which).count(); }

    @Test
    void kerasXceptionSplitsIntoStemPlusBlocks2To4_Blocks5To12_Blocks13To14PlusHead() {
        XceptionGraph g = BenchSuite.graph(299);
        Stage[] s = Stage.of(g);
        assertEquals(45, s.length, "fused launches of the full network");
        assertEquals(2 + 3 * 4, count(s, Stage.ENTRY), "stem convs + 3 blocks of (2 sepconvs, 1x1 conv, pool)");
        assertEquals(8 * 3, count(s, Stage.MIDDLE));
        assertEquals(4 + 2 + 1, count(s, Stage.EXIT), "block 13, block 14, head");
        for (int i = 0; i < s.length; i++) {
            String name = g.nodes().get(i).name();
            if (name.startsWith("block4_pool")) assertEquals(Stage.ENTRY, s[i]);
            if (name.startsWith("block5_") || name.startsWith("block12_")) assertEquals(Stage.MIDDLE, s[i], name);
            if (name.equals("conv2d_3") || name.startsWith("block13_") || name.equals("predictions")) assertEquals(Stage.EXIT, s[i], name);
            if (name.equals("conv2d_2")) assertEquals(Stage.ENTRY, s[i], "block 4's residual conv");
        }
    }

    @Test
    void middleFlowFollowsTheRepeatCount() {
        XceptionGraph g = XceptionGraph.build(new XceptionConfig(71, 71, 10, false, Pooling.AVG, 1.0 / 16, 2));
        Stage[] s = Stage.of(g);
        assertEquals(6, count(s, Stage.MIDDLE));
        assertEquals(14, count(s, Stage.ENTRY));
        assertEquals(7, count(s, Stage.EXIT), "block 13, block 14 and the pooling head");
    }
}
