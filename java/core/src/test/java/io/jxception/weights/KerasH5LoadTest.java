package io.jxception.weights;

import io.jxception.internal.weights.StoredLayer;
import io.jxception.internal.weights.StoredWeights;
import io.jxception.model.Pooling;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.*;

/** Keras .h5 files in keras.applications' layout: every tensor in its place, generated names by order. */
class KerasH5LoadTest {
    static final XceptionGraph TINY = XceptionGraph.build(XceptionConfig.tiny(71, 10));
    static final XceptionGraph TINY_NOTOP = XceptionGraph.build(XceptionConfig.tiny(71, 10).withoutTop(Pooling.NONE));
    static final XceptionGraph MICRO = XceptionGraph.build(new XceptionConfig(71, 71, 7, true, Pooling.NONE, 1.0 / 64, 1));

    @TempDir Path tmp;

    @Test
    void tinyTopPutsEveryTensorWhereKerasDoes() throws IOException {
        XceptionWeights w = WeightsFiles.load(Fixtures.h5("xception_tiny_top.h5"), TINY);
        Map<String, Tensor> expected = Fixtures.expectedTiny();
        assertEquals(TINY.params().size(), expected.size(), "one .npy per weight");
        assertEquals(List.of(), Fixtures.mismatches(w.asMap(), expected));
    }

    @Test
    void generatedResidualLayersMatchByOrderNotByNumber() throws IOException {
        // The file names them conv2d_4 .. conv2d_7 (a second model in the saving session).
        try (StoredWeights stored = WeightsFiles.open(Fixtures.h5("xception_tiny_top.h5"))) {
            List<String> generated = stored.layers().stream().map(StoredLayer::name).filter(n -> n.startsWith("conv2d")).toList();
            assertEquals(List.of("conv2d_4", "conv2d_5", "conv2d_6", "conv2d_7"), generated);
        }
        XceptionWeights w = WeightsFiles.load(Fixtures.h5("xception_tiny_top.h5"), TINY);
        Map<String, Tensor> expected = Fixtures.expectedTiny();
        for (String key : List.of("conv2d/kernel", "conv2d_3/kernel", "batch_normalization_2/moving_variance")) {
            assertArrayEquals(expected.get(key).data(), w.get(key).data(), key);
        }
    }

    @Test
    void notopWithNumbersPastTenFollowsLayerOrderNotAlphabeticalOrder() throws IOException {
        // conv2d_8 .. conv2d_11: sorted as strings, conv2d_10 would come first.
        try (StoredWeights stored = WeightsFiles.open(Fixtures.h5("xception_tiny_notop.h5"))) {
            List<String> generated = stored.layers().stream().map(StoredLayer::name).filter(n -> n.startsWith("batch_normalization")).toList();
            assertEquals(List.of("batch_normalization_8", "batch_normalization_9", "batch_normalization_10", "batch_normalization_11"), generated);
        }
        XceptionWeights w = WeightsFiles.load(Fixtures.h5("xception_tiny_notop.h5"), TINY_NOTOP);
        Map<String, Tensor> expected = new TreeMap<>(Fixtures.expectedTiny());
        expected.remove("predictions/kernel");
        expected.remove("predictions/bias");
        assertEquals(List.of(), Fixtures.mismatches(w.asMap(), expected));
    }

    @Test
    void fileWithTopLoadsIntoFeatureExtractorWithoutTheClassifier() throws IOException {
        XceptionWeights w = WeightsFiles.load(Fixtures.h5("xception_tiny_top.h5"), TINY_NOTOP);
        assertFalse(w.asMap().containsKey("predictions/kernel"));
        assertEquals(TINY_NOTOP.params().size(), w.asMap().size());
    }

    @Test
    void notopFileCannotFillTheClassifier() {
        WeightsFileException e = assertThrows(WeightsFileException.class, () -> WeightsFiles.load(Fixtures.h5("xception_tiny_notop.h5"), TINY));
        assertTrue(e.getMessage().contains("missing: predictions"), e.getMessage());
        assertTrue(e.getMessage().startsWith("xception_tiny_notop.h5: weights file has 80 layers with weights, expected 81"), e.getMessage());
    }

    @Test
    void comparisonCatchesATensorInTheWrongPlace() throws IOException {
        // The check above must be able to fail: swap two tensors of equal shape and it reports both.
        XceptionWeights w = WeightsFiles.load(Fixtures.h5("xception_tiny_top.h5"), TINY);
        Map<String, Tensor> swapped = new LinkedHashMap<>(w.asMap());
        swapped.put("block1_conv1_bn/gamma", w.get("block1_conv1_bn/beta"));
        swapped.put("block1_conv1_bn/beta", w.get("block1_conv1_bn/gamma"));
        assertEquals(List.of("block1_conv1_bn/beta values differ", "block1_conv1_bn/gamma values differ"),
                Fixtures.mismatches(swapped, Fixtures.expectedTiny()));
    }

    @Test
    void residualLayersInSwappedOrderFailWithAShapeError() {
        WeightsFileException e = assertThrows(WeightsFileException.class,
                () -> WeightsFiles.load(Fixtures.h5("xception_micro_residuals_swapped.h5"), MICRO));
        assertTrue(e.getMessage().contains("weight conv2d/kernel (conv2d_1/conv2d_1/kernel:0, matched by order to conv2d) has shape (1,1,2,4), expected (1,1,1,2)"),
                e.getMessage());
    }

    @Test
    void transposedKernelFailsWithAShapeError() {
        WeightsFileException e = assertThrows(WeightsFileException.class,
                () -> WeightsFiles.load(Fixtures.h5("xception_micro_transposed.h5"), MICRO));
        assertTrue(e.getMessage().contains("weight block3_sepconv1/pointwise_kernel (block3_sepconv1/block3_sepconv1/pointwise_kernel:0) has shape (1,1,4,2), expected (1,1,2,4)"),
                e.getMessage());
        assertTrue(e.getMessage().contains("misplaced or transposed"), e.getMessage());
    }

    @Test
    void anotherConfigurationReportsTheLayerCountAndWhatIsMissing() {
        WeightsFileException e = assertThrows(WeightsFileException.class, () -> WeightsFiles.load(Fixtures.h5("xception_micro_top.h5"), TINY));
        assertTrue(e.getMessage().contains("weights file has 39 layers with weights, expected 81 for Xception width 0.0625, 8 middle blocks, top with 10 classes"), e.getMessage());
        assertTrue(e.getMessage().contains("missing: block6_sepconv1"), e.getMessage());
        assertTrue(e.getMessage().contains("inferConfig"), e.getMessage());
    }

    @Test
    void otherArchitectureIsNamedAsSuch() {
        WeightsFileException e = assertThrows(WeightsFileException.class, () -> WeightsFiles.load(Fixtures.h5("resnet_like.h5"), TINY));
        assertTrue(e.getMessage().startsWith("resnet_like.h5: does not look like an Xception weights file: its layers with weights are conv1_conv, conv1_bn"), e.getMessage());
    }

    @Test
    void missingFileSaysSo() {
        WeightsFileException e = assertThrows(WeightsFileException.class, () -> WeightsFiles.load(tmp.resolve("absent.h5"), TINY));
        assertTrue(e.getMessage().startsWith("absent.h5: no such file"), e.getMessage());
    }

    @Test
    void nanAndInfInAnH5FileAreRejectedWithTheirPlace() throws IOException {
        Map<String, Tensor> expected = Fixtures.expectedTiny();
        Path nan = Fixtures.patched(Fixtures.h5("xception_tiny_top.h5"), tmp, bytes(expected.get("block3_sepconv2_bn/moving_mean").data()[5]), bytes(Float.NaN));
        WeightsFileException e = assertThrows(WeightsFileException.class, () -> WeightsFiles.load(nan, TINY));
        assertTrue(e.getMessage().contains("weight block3_sepconv2_bn/moving_mean holds a non-finite value (NaN) at index 5"), e.getMessage());

        Path inf = Fixtures.patched(Fixtures.h5("xception_tiny_top.h5"), tmp, bytes(expected.get("conv2d_2/kernel").data()[0]), bytes(Float.NEGATIVE_INFINITY));
        e = assertThrows(WeightsFileException.class, () -> WeightsFiles.load(inf, TINY));
        assertTrue(e.getMessage().contains("weight conv2d_2/kernel holds a non-finite value (-Infinity) at index 0"), e.getMessage());
    }

    @Test
    void truncatedH5FailsCleanlyWhereverItIsCut() throws IOException {
        Path file = Fixtures.h5("xception_tiny_top.h5");
        long size = java.nio.file.Files.size(file);
        for (long at : new long[]{1, 7, 8, 40, 100, 1000, 4096, size / 3, size / 2, size - 4096, size - 1}) {
            Path cut = Fixtures.cut(file, tmp, at);
            WeightsFileException e = assertThrows(WeightsFileException.class, () -> WeightsFiles.load(cut, TINY), "cut at " + at);
            assertTrue(e.getMessage().contains("truncated") || e.getMessage().contains("too short"), "cut at " + at + ": " + e.getMessage());
            assertThrows(WeightsFileException.class, () -> WeightsFiles.inferConfig(cut, 71, 71), "cut at " + at);
        }
    }

    @Test
    void corruptH5MetadataFailsCleanly() throws IOException {
        Path file = Fixtures.h5("xception_tiny_top.h5");
        byte[] bytes = java.nio.file.Files.readAllBytes(file);
        // Superblock fields, the root group's symbol table, and object headers further in.
        for (int at : new int[]{9, 13, 24, 40, 64, 96, 200, 400, 800, 1500, 3000}) {
            byte[] damaged = bytes.clone();
            for (int i = at; i < at + 8; i++) damaged[i] = (byte) 0xA5;
            Path p = tmp.resolve("damaged" + at + ".h5");
            java.nio.file.Files.write(p, damaged);
            try {
                WeightsFiles.load(p, TINY);
                // A few header bytes (reserved fields, free-space addresses) are not needed to read the file.
            } catch (WeightsFileException e) {
                assertTrue(e.getMessage().startsWith("damaged" + at + ".h5: "), e.getMessage());
            }
        }
    }

    private static byte[] bytes(float v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(v).array();
    }
}
