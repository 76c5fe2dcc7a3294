package io.jxception.weights;

import io.jxception.internal.weights.SafetensorsFile;
import io.jxception.internal.weights.SafetensorsHeader;
import io.jxception.internal.weights.SafetensorsReader;
import io.jxception.internal.weights.SafetensorsWriter;
import io.jxception.model.ParamSpec;
import io.jxception.model.Pooling;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** Saving and loading Xception weights as safetensors with Keras keys. */
class SafetensorsWeightsTest {
    static final XceptionGraph TINY = KerasH5LoadTest.TINY;

    @TempDir Path tmp;

    @Test
    void roundTripKeepsEveryTensorBitForBit() throws IOException {
        XceptionWeights w = XceptionWeights.random(TINY, 7);
        Path file = tmp.resolve("w.safetensors");
        WeightsFiles.save(file, w);
        XceptionWeights back = WeightsFiles.load(file, TINY);
        assertEquals(List.of(), Fixtures.mismatches(back.asMap(), w.asMap()));
        assertEquals(WeightsFormat.SAFETENSORS, WeightsFormat.detect(file));
    }

    @Test
    void savedFileHasKerasKeysAlignedDataAndTheConfig() throws IOException {
        XceptionConfig config = XceptionConfig.tiny(96, 10).withoutTop(Pooling.MAX);
        XceptionWeights w = XceptionWeights.random(XceptionGraph.build(config), 3);
        Path file = tmp.resolve("w.safetensors");
        WeightsFiles.save(file, w);
        byte[] bytes = Files.readAllBytes(file);
        long headerSize = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerSize % 8, "data starts 8-byte aligned");
        String header = new String(bytes, 8, (int) headerSize, StandardCharsets.UTF_8);
        assertTrue(header.contains("\"block1_conv1/kernel\":{\"dtype\":\"F32\",\"shape\":[3,3,3,2],\"data_offsets\":[0,216]}"), header);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(w.asMap().keySet().stream().toList(), f.entries().stream().map(SafetensorsHeader.Entry::name).toList(), "graph order");
            assertEquals("keras", f.metadata().get("format"));
            assertEquals("0.0625", f.metadata().get("jxception.width_multiplier"));
            assertEquals("max", f.metadata().get("jxception.pooling"));
        }
        // Shapes give the network, the metadata the pooling that shapes cannot tell.
        assertEquals(config.withInputSize(120, 130), WeightsFiles.inferConfig(file, 120, 130));
    }

    @Test
    void saveReplacesAnOldFileAtomicallyAndLeavesNoTemporaryFiles() throws IOException {
        Path file = tmp.resolve("w.safetensors");
        Files.writeString(file, "old content");
        WeightsFiles.save(file, XceptionWeights.random(TINY, 1));
        XceptionWeights second = XceptionWeights.random(TINY, 2);
        WeightsFiles.save(file, second);
        assertEquals(List.of(), Fixtures.mismatches(WeightsFiles.load(file, TINY).asMap(), second.asMap()));
        try (Stream<Path> files = Files.list(tmp)) {
            assertEquals(List.of(file), files.toList());
        }
    }

    @Test
    void saveRefusesAnHdf5Name() {
        WeightsFileException e = assertThrows(WeightsFileException.class, () -> WeightsFiles.save(tmp.resolve("w.h5"), XceptionWeights.random(TINY, 1)));
        assertTrue(e.getMessage().contains("name the file *.safetensors"), e.getMessage());
    }

    @Test
    void kerasH5ConvertsToSafetensorsWithoutChange() throws IOException {
        XceptionWeights fromH5 = WeightsFiles.load(Fixtures.h5("xception_tiny_top.h5"), TINY);
        Path file = tmp.resolve("tiny.safetensors");
        WeightsFiles.save(file, fromH5);
        assertEquals(List.of(), Fixtures.mismatches(WeightsFiles.load(file, TINY).asMap(), Fixtures.expectedTiny()));
    }

    @Test
    void doublePrecisionFileLoadsAsFloat() throws IOException {
        XceptionWeights w = XceptionWeights.random(TINY, 5);
        StringBuilder header = new StringBuilder("{");
        ByteBuffer data = ByteBuffer.allocate((int) TINY.parameterCount() * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (Map.Entry<String, Tensor> e : w.asMap().entrySet()) {
            long begin = data.position();
            for (float v : e.getValue().data()) data.putDouble(v);
            header.append(header.length() == 1 ? "" : ",").append('"').append(e.getKey()).append("\":{\"dtype\":\"F64\",\"shape\":")
                    .append(java.util.Arrays.toString(e.getValue().shape().dims()).replace(" ", ""))
                    .append(",\"data_offsets\":[").append(begin).append(',').append(data.position()).append("]}");
        }
        Path file = RawSafetensors.write(tmp.resolve("f64.safetensors"), header.append('}').toString(), data.array());
        assertEquals(List.of(), Fixtures.mismatches(WeightsFiles.load(file, TINY).asMap(), w.asMap()));
    }

    @Test
    void generatedNamesInAnyNumberingMatchByNumberNotByPosition() throws IOException {
        // Keras numbering of a third model (conv2d_8 .. conv2d_11), written sorted by name as Python's
        // safetensors does: conv2d_10, conv2d_11, conv2d_8, conv2d_9.
        XceptionWeights w = XceptionWeights.random(TINY, 9);
        Map<String, Tensor> renamed = new java.util.TreeMap<>();
        for (Map.Entry<String, Tensor> e : w.asMap().entrySet()) renamed.put(shift(e.getKey(), 8), e.getValue());
        Path file = tmp.resolve("renamed.safetensors");
        SafetensorsWriter.write(file, renamed, Map.of());
        assertEquals(List.of(), Fixtures.mismatches(WeightsFiles.load(file, TINY).asMap(), w.asMap()));
    }

    private static String shift(String key, int by) {
        String layer = key.substring(0, key.indexOf('/'));
        String weight = key.substring(key.indexOf('/'));
        for (String kind : new String[]{"conv2d", "batch_normalization"}) {
            if (layer.equals(kind)) return kind + "_" + by + weight;
            if (layer.startsWith(kind + "_")) return kind + "_" + (Integer.parseInt(layer.substring(kind.length() + 1)) + by) + weight;
        }
        return key;
    }

    @Test
    void nanAndInfAreRejectedWithTheWeightAndIndex() throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>(XceptionWeights.random(TINY, 4).asMap());
        Tensor gamma = tensors.get("block7_sepconv2_bn/gamma").copy();
        gamma.data()[11] = Float.NaN;
        tensors.put("block7_sepconv2_bn/gamma", gamma);
        Path nan = tmp.resolve("nan.safetensors");
        SafetensorsWriter.write(nan, tensors, Map.of());
        WeightsFileException e = assertThrows(WeightsFileException.class, () -> WeightsFiles.load(nan, TINY));
        assertEquals("nan.safetensors: weight block7_sepconv2_bn/gamma holds a non-finite value (NaN) at index 11", e.getMessage());

        gamma.data()[11] = 1;
        Tensor kernel = tensors.get("predictions/kernel").copy();
        kernel.data()[0] = Float.POSITIVE_INFINITY;
        tensors.put("predictions/kernel", kernel);
        Path inf = tmp.resolve("inf.safetensors");
        SafetensorsWriter.write(inf, tensors, Map.of());
        e = assertThrows(WeightsFileException.class, () -> WeightsFiles.load(inf, TINY));
        assertEquals("inf.safetensors: weight predictions/kernel holds a non-finite value (Infinity) at index 0", e.getMessage());
    }

    @Test
    void negativeVarianceIsRejected() throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>(XceptionWeights.random(TINY, 4).asMap());
        Tensor var = tensors.get("batch_normalization_1/moving_variance").copy();
        var.data()[2] = -0.5f;
        tensors.put("batch_normalization_1/moving_variance", var);
        Path file = tmp.resolve("var.safetensors");
        SafetensorsWriter.write(file, tensors, Map.of());
        WeightsFileException e = assertThrows(WeightsFileException.class, () -> WeightsFiles.load(file, TINY));
        assertTrue(e.getMessage().contains("batch_normalization_1/moving_variance has a negative variance -0.5"), e.getMessage());
    }

    @Test
    void wrongShapeNamesTheWeightAndBothShapes() throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>(XceptionWeights.random(TINY, 4).asMap());
        tensors.put("block5_sepconv1/depthwise_kernel", Tensor.zeros(io.jxception.tensor.Shape.of(3, 3, 1, 46)));
        Path file = tmp.resolve("shape.safetensors");
        SafetensorsWriter.write(file, tensors, Map.of());
        WeightsFileException e = assertThrows(WeightsFileException.class, () -> WeightsFiles.load(file, TINY));
        assertTrue(e.getMessage().contains("weight block5_sepconv1/depthwise_kernel (block5_sepconv1/depthwise_kernel) has shape (3,3,1,46), expected (3,3,46,1)"), e.getMessage());
    }

    @Test
    void extraTensorIsNamed() throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>(XceptionWeights.random(TINY, 4).asMap());
        tensors.put("block15_sepconv1/depthwise_kernel", Tensor.zeros(io.jxception.tensor.Shape.of(3, 3, 4, 1)));
        Path file = tmp.resolve("extra.safetensors");
        SafetensorsWriter.write(file, tensors, Map.of());
        WeightsFileException e = assertThrows(WeightsFileException.class, () -> WeightsFiles.load(file, TINY));
        assertTrue(e.getMessage().contains("not in this Xception: block15_sepconv1"), e.getMessage());
    }

    @Test
    void integerWeightUnderAKerasNameIsRefused() throws IOException {
        String header = "{\"block1_conv1/kernel\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        Path file = RawSafetensors.write(tmp.resolve("int.safetensors"), header, new byte[4]);
        WeightsFileException e = assertThrows(WeightsFileException.class, () -> WeightsFiles.load(file, TINY));
        assertTrue(e.getMessage().contains("tensor 'block1_conv1/kernel' is I32; weights must be F32, F16, BF16 or F64"), e.getMessage());
    }

    @Test
    void tensorsOfAnotherNetworkAreNotXception() throws IOException {
        Map<String, Tensor> other = new LinkedHashMap<>();
        other.put("encoder/layer0/kernel", Tensor.zeros(io.jxception.tensor.Shape.of(2, 2)));
        other.put("encoder/layer1/kernel", Tensor.zeros(io.jxception.tensor.Shape.of(2, 2)));
        Path file = tmp.resolve("other.safetensors");
        SafetensorsWriter.write(file, other, Map.of());
        WeightsFileException e = assertThrows(WeightsFileException.class, () -> WeightsFiles.load(file, TINY));
        assertTrue(e.getMessage().contains("does not look like an Xception weights file: its layers with weights are encoder"), e.getMessage());
        Path bare = tmp.resolve("bare.safetensors");
        SafetensorsWriter.write(bare, Map.of("weight", Tensor.zeros(io.jxception.tensor.Shape.of(1))), Map.of());
        e = assertThrows(WeightsFileException.class, () -> WeightsFiles.load(bare, TINY));
        assertTrue(e.getMessage().contains("tensor 'weight' is neither a Keras name"), e.getMessage());
    }

    @Test
    void truncatedSafetensorsFailsCleanlyWhereverItIsCut() throws IOException {
        Path file = tmp.resolve("w.safetensors");
        WeightsFiles.save(file, XceptionWeights.random(TINY, 6));
        long size = Files.size(file);
        long headerEnd = 8 + ByteBuffer.wrap(Files.readAllBytes(file), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        for (long at : new long[]{3, 8, 9, 20, headerEnd - 1, headerEnd, headerEnd + 5, size / 2, size - 1}) {
            Path cut = Fixtures.cut(file, tmp, at);
            WeightsFileException e = assertThrows(WeightsFileException.class, () -> WeightsFiles.load(cut, TINY), "cut at " + at);
            assertTrue(e.getMessage().contains("truncated") || e.getMessage().contains("too short"), "cut at " + at + ": " + e.getMessage());
        }
    }

    @Test
    void everyWeightOfTheGraphIsSavedOnce() throws IOException {
        XceptionWeights w = XceptionWeights.random(TINY, 8);
        Path file = tmp.resolve("w.safetensors");
        WeightsFiles.save(file, w);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(TINY.params().stream().map(ParamSpec::key).toList(), f.entries().stream().map(SafetensorsHeader.Entry::name).toList());
        }
    }

    @Test
    void anySafetensorsFileReadsWholeWithItsMetadata() throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("velocity/block1_conv1/kernel", new Tensor(io.jxception.tensor.Shape.of(2, 3), new float[]{1, 2, 3, 4, 5, 6}));
        tensors.put("step", new Tensor(io.jxception.tensor.Shape.of(), new float[]{42}));
        Path file = tmp.resolve("checkpoint.safetensors");
        SafetensorsWriter.write(file, tensors, Map.of("epoch", "3"));
        SafetensorsReader.Contents c = SafetensorsReader.read(file);
        assertEquals(List.of(), Fixtures.mismatches(c.tensors(), tensors));
        assertEquals(Map.of("epoch", "3"), c.metadata());
        // timm state dicts carry int64 counters, which are not float weights.
        WeightsFileException e = assertThrows(WeightsFileException.class, () -> SafetensorsReader.read(Fixtures.h5("xception_micro_timm.safetensors")));
        assertTrue(e.getMessage().contains("is I64; weights must be F32, F16, BF16 or F64"), e.getMessage());
    }
}
