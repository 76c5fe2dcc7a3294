package io.jxception.weights;

import io.jxception.model.Pooling;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** The configuration a weights file fits, from its names and shapes, for a given input size. */
class ConfigInferenceTest {
    @Test
    void tinyFileWithTop() throws IOException {
        assertEquals(XceptionConfig.tiny(71, 10), WeightsFiles.inferConfig(Fixtures.h5("xception_tiny_top.h5"), 71, 71));
    }

    @Test
    void tinyFileWithoutTopAtAnotherInputSize() throws IOException {
        XceptionConfig expected = new XceptionConfig(299, 150, 1000, false, Pooling.NONE, 1.0 / 16, 8);
        assertEquals(expected, WeightsFiles.inferConfig(Fixtures.h5("xception_tiny_notop.h5"), 299, 150));
    }

    @Test
    void widthAndMiddleBlocksOffTheDefaults() throws IOException {
        // block1_conv1 has a single filter at width 1/64, which alone would say 1/32: the 2048-channel end decides.
        XceptionConfig expected = new XceptionConfig(80, 80, 7, true, Pooling.NONE, 1.0 / 64, 1);
        assertEquals(expected, WeightsFiles.inferConfig(Fixtures.h5("xception_micro_top.h5"), 80, 80));
        assertEquals(expected, WeightsFiles.inferConfig(Fixtures.h5("xception_micro_timm.safetensors"), 80, 80));
    }

    @Test
    void inferredConfigurationAlwaysLoads() throws IOException {
        for (String name : new String[]{"xception_tiny_top.h5", "xception_tiny_notop.h5", "xception_micro_top.h5", "xception_micro_timm.safetensors"}) {
            Path file = Fixtures.h5(name);
            XceptionGraph graph = XceptionGraph.build(WeightsFiles.inferConfig(file, 71, 71));
            assertEquals(graph.params().size(), WeightsFiles.load(file, graph).asMap().size(), name);
        }
    }

    @Test
    void inputBelow71IsTheCallersError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WeightsFiles.inferConfig(Fixtures.h5("xception_tiny_top.h5"), 64, 299));
        assertTrue(e.getMessage().contains("at least 71x71"), e.getMessage());
    }

    @Test
    void anotherArchitectureHasNoConfiguration() {
        WeightsFileException e = assertThrows(WeightsFileException.class, () -> WeightsFiles.inferConfig(Fixtures.h5("resnet_like.h5"), 224, 224));
        assertTrue(e.getMessage().contains("does not look like an Xception weights file"), e.getMessage());
    }

    @Test
    void misplacedTensorsFitNoConfiguration() {
        WeightsFileException e = assertThrows(WeightsFileException.class,
                () -> WeightsFiles.inferConfig(Fixtures.h5("xception_micro_transposed.h5"), 71, 71));
        assertTrue(e.getMessage().startsWith("xception_micro_transposed.h5: no Xception configuration fits this file (tried width multipliers [0.015625, 0.03125]"),
                e.getMessage());
        assertTrue(e.getMessage().contains("with the closest: weight block3_sepconv1/pointwise_kernel"), e.getMessage());
    }
}
