package io.jxception.model;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class XceptionGraphTest {
    @Test
    void imagenetHasKerasParameterCounts() {
        XceptionGraph g = XceptionGraph.build(XceptionConfig.imagenet());
        assertEquals(22_910_480L, g.parameterCount());
        assertEquals(22_855_952L, g.trainableParameterCount());
    }

    @Test
    void imagenetShapesFollowKeras() {
        XceptionGraph g = XceptionGraph.build(XceptionConfig.imagenet());
        assertEquals(149, g.values().get(1).h());
        assertEquals(147, g.values().get(2).h());
        Value last = g.values().get(g.values().size() - 2);
        assertEquals(10, last.h());
        assertEquals(2048, last.c());
        assertEquals(1000, g.output().c());
        // 4 residual 1x1 convs carry generated Keras names, in order
        assertEquals("conv2d_3/kernel", g.param("conv2d_3/kernel").key());
        assertTrue(g.param("batch_normalization_3/gamma").generated());
        assertThrows(IllegalArgumentException.class, () -> g.param("conv2d_4/kernel"));
    }

    @Test
    void notopHasNoDenseAndPoolsFeatures() {
        XceptionGraph g = XceptionGraph.build(XceptionConfig.imagenet().withoutTop(Pooling.AVG));
        assertEquals(22_910_480L - 2048L * 1000 - 1000, g.parameterCount());
        assertEquals(2048, g.output().c());
        assertEquals(1, g.output().h());
    }

    @Test
    void rejectsInputBelow71() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new XceptionConfig(70, 80, 10, true, Pooling.NONE, 1, 8));
        assertTrue(e.getMessage().contains("71"));
    }
}
