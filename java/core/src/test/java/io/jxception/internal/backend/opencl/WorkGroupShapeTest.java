package io.jxception.internal.backend.opencl;

import io.jxception.model.ConvKind;
import io.jxception.model.Node;
import io.jxception.model.Value;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Work-group shapes that do not change with the batch size (no OpenCL needed). pocl compiles a kernel
 * for each work-group shape it is enqueued with, and sepconv_bn's tile height is compiled in: shapes
 * taken from the whole launch made every new batch size compile the network again (5 to 8 s per size at
 * 71x71 without pocl's disk cache; benchmarks/NOTES.md opencl-batch-1), in the middle of a dynamic
 * batcher's serving. Now the default group shape depends on the launch's first dimension (channels or
 * weights) only, and tile heights take at most four values per layer.
 */
class WorkGroupShapeTest {
    /** The default shape for a kernel that allows pocl's 4,096 work-items per group. */
    private static long[] local(long[] global) { return ClLaunch.defaultLocal(global, 4096); }

    @Test
    void kernelsAllowingFewerThan64WorkItemsGetGroupsWithinTheirLimit() {
        assertArrayEquals(new long[]{32}, ClLaunch.defaultLocal(new long[]{1000}, 48));
        assertArrayEquals(new long[]{8, 4}, ClLaunch.defaultLocal(new long[]{8, 1000}, 32));
        assertArrayEquals(new long[]{64, 1}, ClLaunch.defaultLocal(new long[]{1000, 1000}, 1024));
    }

    @Test
    void defaultGroupsAre64WorkItemsShapedByTheFirstDimensionOnly() {
        assertArrayEquals(new long[]{64}, local(new long[]{1_000_000}));
        assertArrayEquals(new long[]{64}, local(new long[]{65}));
        assertArrayEquals(new long[]{64}, local(new long[]{64}));
        assertArrayEquals(new long[]{4}, local(new long[]{3}));
        assertArrayEquals(new long[]{1}, local(new long[]{1}));
        assertArrayEquals(new long[]{64, 1}, local(new long[]{182, 722}), "728 channels / 4: one row of 64");
        assertArrayEquals(new long[]{16, 4}, local(new long[]{16, 10_952}), "64 channels / 4: 16 x 4");
        assertArrayEquals(new long[]{1, 64}, local(new long[]{1, 5}));
        assertArrayEquals(new long[]{8, 8, 1}, local(new long[]{8, 100, 3}), "dimension 2 (unguarded in transpose) stays 1");
        for (long g0 = 1; g0 <= 4096; g0++) {
            long[] l = local(new long[]{g0, 7});
            assertEquals(ClLaunch.DEFAULT_GROUP, l[0] * l[1], "64 work-items for " + g0);
            assertTrue(l[0] >= Math.min(g0, 64) && l[0] < 2 * Math.max(g0, 1), "dimension 0 covers " + g0 + " with under 2x padding: " + l[0]);
        }
    }

    @Test
    void everyLaunchShapeOfTheForwardKeepsItsGroupWhateverTheBatch() {
        XceptionGraph g = XceptionGraph.build(XceptionConfig.imagenet());
        for (Node node : g.nodes()) {
            if (!(node instanceof Node.Conv c)) continue;
            Value out = g.values().get(c.output());
            int vwi = Tiles.vectorWidth(c.cout());
            Set<String> shapes = new TreeSet<>();
            for (int n = 1; n <= 300; n++) {
                long pixels = (long) n * out.h() * out.w();
                // the element-wise launches over an activation (ceil(C/VWI), pixels) and 1-D ones over it (count/16)
                shapes.add(java.util.Arrays.toString(local(new long[]{Tiles.ceilDiv(c.cout(), vwi), pixels})));
                shapes.add(java.util.Arrays.toString(local(new long[]{Tiles.ceilDiv(pixels * c.cout(), 16)})));
            }
            assertEquals(2, shapes.size(), c.name() + ": " + shapes);
        }
    }

    @Test
    void tileHeightsAndRowGroupsTakeAtMostFourValuesPerLayer() {
        assertEquals(8, Tiles.rowTile(1));
        assertEquals(8, Tiles.rowTile(8));
        assertEquals(16, Tiles.rowTile(9));
        assertEquals(32, Tiles.rowTile(24));
        assertEquals(64, Tiles.rowTile(56));
        assertEquals(64, Tiles.rowTile(64));
        assertEquals(1, Tiles.rowTilesPerGroup(1));
        assertEquals(4, Tiles.rowTilesPerGroup(3));
        assertEquals(8, Tiles.rowTilesPerGroup(8));
        assertEquals(8, Tiles.rowTilesPerGroup(100_000));
        ClDevice cpu = new ClDevice(0, 0, 0, "pocl", "cpu", "OpenCL 3.0", false, 2, 16L << 30, 4L << 30, 256 << 10, 4096);
        ClDevice gpu = new ClDevice(1, 0, 0, "NVIDIA CUDA", "H200", "OpenCL 3.0 CUDA", true, 132, 140L << 30, 35L << 30, 48 << 10, 1024);
        for (XceptionConfig cfg : new XceptionConfig[]{XceptionConfig.imagenet(), XceptionConfig.tiny(71, 10)}) {
            XceptionGraph g = XceptionGraph.build(cfg);
            for (Node node : g.nodes()) {
                if (!(node instanceof Node.Conv c) || c.kind() != ConvKind.SEPARABLE3X3_SAME) continue;
                Value in = g.values().get(c.input());
                for (ClDevice d : new ClDevice[]{cpu, gpu}) {
                    Set<Integer> tms = new TreeSet<>();
                    for (int n = 1; n <= 256; n++) {
                        Tiles.Sepconv t = Tiles.sepconv(n * in.h() * in.w(), c.cin(), c.cout(), d);
                        assertTrue(t.tm() % Tiles.RM == 0 && t.tm() <= Tiles.SEPCONV_MAX_TM, c.name() + " tm " + t.tm());
                        tms.add(t.tm());
                    }
                    assertTrue(tms.size() <= 4 && Set.of(8, 16, 32, 64).containsAll(tms), c.name() + " on " + d.name() + ": " + tms);
                }
            }
        }
        // on the 2-core CPU the full-size network uses 64-pixel tiles at every batch: one program per layer
        XceptionGraph full = XceptionGraph.build(XceptionConfig.imagenet());
        for (Node node : full.nodes()) {
            if (!(node instanceof Node.Conv c) || c.kind() != ConvKind.SEPARABLE3X3_SAME) continue;
            Value in = full.values().get(c.input());
            for (int n = 1; n <= 64; n++) assertEquals(64, Tiles.sepconv(n * in.h() * in.w(), c.cin(), c.cout(), cpu).tm(), c.name() + " batch " + n);
        }
    }
}
