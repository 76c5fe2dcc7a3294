package io.jxception.weights;

import io.jxception.internal.weights.Layouts;
import io.jxception.internal.weights.SafetensorsWriter;
import io.jxception.model.Pooling;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** timm legacy_xception state dicts in safetensors: names and PyTorch layouts converted to Keras. */
class TimmNamesTest {
    static final XceptionGraph MICRO = KerasH5LoadTest.MICRO;
    static final XceptionGraph TINY = KerasH5LoadTest.TINY;

    @TempDir Path tmp;

    @Test
    void timmFileFromNumpyMatchesTheKerasFileWithTheSameValues() throws IOException {
        // Both written by the generator from one set of values; the timm one transposed by numpy.
        XceptionWeights keras = WeightsFiles.load(Fixtures.h5("xception_micro_top.h5"), MICRO);
        XceptionWeights timm = WeightsFiles.load(Fixtures.h5("xception_micro_timm.safetensors"), MICRO);
        assertEquals(List.of(), Fixtures.mismatches(timm.asMap(), keras.asMap()));
    }

    @Test
    void fullDepthTimmStateDictWithModulePrefixConverts() throws IOException {
        XceptionWeights keras = WeightsFiles.load(Fixtures.h5("xception_tiny_top.h5"), TINY);
        Path file = tmp.resolve("timm.safetensors");
        SafetensorsWriter.write(file, toTimm(keras, "module."), Map.of("format", "pt"));
        assertEquals(List.of(), Fixtures.mismatches(WeightsFiles.load(file, TINY).asMap(), keras.asMap()));
        assertEquals(XceptionConfig.tiny(71, 10), WeightsFiles.inferConfig(file, 71, 71));
    }

    @Test
    void timmWithoutTheClassifierIsAFeatureExtractor() throws IOException {
        XceptionWeights keras = WeightsFiles.load(Fixtures.h5("xception_tiny_top.h5"), TINY);
        Map<String, Tensor> timm = toTimm(keras, "");
        timm.remove("fc.weight");
        timm.remove("fc.bias");
        Path file = tmp.resolve("timm.safetensors");
        SafetensorsWriter.write(file, timm, Map.of());
        XceptionConfig config = WeightsFiles.inferConfig(file, 71, 71);
        assertFalse(config.includeTop());
        XceptionWeights loaded = WeightsFiles.load(file, XceptionGraph.build(config));
        assertArrayEquals(keras.get("block14_sepconv2/pointwise_kernel").data(), loaded.get("block14_sepconv2/pointwise_kernel").data());
        assertEquals(KerasH5LoadTest.TINY_NOTOP.params().size(), loaded.asMap().size());
        assertEquals(Pooling.NONE, config.pooling());
    }

    @Test
    void unknownTimmKeyIsNamed() throws IOException {
        XceptionWeights keras = WeightsFiles.load(Fixtures.h5("xception_micro_top.h5"), MICRO);
        Map<String, Tensor> timm = toTimm(keras, "");
        timm.put("block2.attention.weight", Tensor.zeros(Shape.of(1)));
        Path file = tmp.resolve("timm.safetensors");
        SafetensorsWriter.write(file, timm, Map.of());
        WeightsFileException e = assertThrows(WeightsFileException.class, () -> WeightsFiles.load(file, MICRO));
        assertTrue(e.getMessage().contains("unexpected tensor 'block2.attention.weight' for timm's legacy_xception"), e.getMessage());
    }

    @Test
    void timmKernelOfWrongRankIsNamed() throws IOException {
        XceptionWeights keras = WeightsFiles.load(Fixtures.h5("xception_micro_top.h5"), MICRO);
        Map<String, Tensor> timm = toTimm(keras, "");
        timm.put("conv2.weight", Tensor.zeros(Shape.of(4, 9)));
        Path file = tmp.resolve("timm.safetensors");
        SafetensorsWriter.write(file, timm, Map.of());
        WeightsFileException e = assertThrows(WeightsFileException.class, () -> WeightsFiles.load(file, MICRO));
        assertTrue(e.getMessage().contains("timm tensor 'conv2.weight' has shape (4,9), expected rank 4"), e.getMessage());
    }

    @Test
    void permuteMatchesExplicitIndexing() {
        Shape oihw = Shape.of(5, 3, 2, 4);
        float[] data = new float[oihw.size()];
        for (int i = 0; i < data.length; i++) data[i] = i;
        float[] hwio = Layouts.permute(data, oihw, Layouts.OIHW_TO_HWIO);
        assertEquals(Shape.of(2, 4, 3, 5), Layouts.permute(oihw, Layouts.OIHW_TO_HWIO));
        for (int o = 0; o < 5; o++) for (int i = 0; i < 3; i++) for (int h = 0; h < 2; h++) for (int w = 0; w < 4; w++) {
            assertEquals(data[((o * 3 + i) * 2 + h) * 4 + w], hwio[((h * 4 + w) * 3 + i) * 5 + o]);
        }
    }

    /**
     * Keras weights → timm legacy_xception state dict, written with explicit index loops (not
     * {@link Layouts}) so that the reader's conversion is checked against a second implementation.
     */
    static Map<String, Tensor> toTimm(XceptionWeights w, String prefix) {
        XceptionConfig c = w.graph().config();
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put(prefix + "conv1.weight", oihw(w.get("block1_conv1/kernel")));
        bn(out, prefix + "bn1", w, "block1_conv1_bn");
        out.put(prefix + "conv2.weight", oihw(w.get("block1_conv2/kernel")));
        bn(out, prefix + "bn2", w, "block1_conv2_bn");
        int residual = 0;
        int blocks = 3 + c.middleRepeats() + 1;
        for (int t = 1; t <= blocks; t++) {
            int kb = t == blocks ? 13 : t + 1;
            boolean middle = kb >= 5 && kb < 13;
            int first = t == 1 ? 0 : 1;
            for (int j = 0; j < (middle ? 3 : 2); j++) {
                String keras = "block" + kb + "_sepconv" + (j + 1);
                String rep = prefix + "block" + t + ".rep." + (first + 3 * j);
                out.put(rep + ".conv1.weight", depthwise(w.get(keras + "/depthwise_kernel")));
                out.put(rep + ".pointwise.weight", oihw(w.get(keras + "/pointwise_kernel")));
                bn(out, prefix + "block" + t + ".rep." + (first + 3 * j + 1), w, keras + "_bn");
            }
            if (!middle) {
                String suffix = residual == 0 ? "" : "_" + residual;
                out.put(prefix + "block" + t + ".skip.weight", oihw(w.get("conv2d" + suffix + "/kernel")));
                bn(out, prefix + "block" + t + ".skipbn", w, "batch_normalization" + suffix);
                residual++;
            }
        }
        for (int k = 3; k <= 4; k++) {
            String keras = "block14_sepconv" + (k - 2);
            out.put(prefix + "conv" + k + ".conv1.weight", depthwise(w.get(keras + "/depthwise_kernel")));
            out.put(prefix + "conv" + k + ".pointwise.weight", oihw(w.get(keras + "/pointwise_kernel")));
            bn(out, prefix + "bn" + k, w, keras + "_bn");
        }
        if (c.includeTop()) {
            Tensor k = w.get("predictions/kernel");
            int features = k.shape().dim(0), classes = k.shape().dim(1);
            float[] fc = new float[features * classes];
            for (int f = 0; f < features; f++) for (int o = 0; o < classes; o++) fc[o * features + f] = k.data()[f * classes + o];
            out.put(prefix + "fc.weight", new Tensor(Shape.of(classes, features), fc));
            out.put(prefix + "fc.bias", w.get("predictions/bias"));
        }
        return out;
    }

    private static void bn(Map<String, Tensor> out, String timm, XceptionWeights w, String keras) {
        out.put(timm + ".weight", w.get(keras + "/gamma"));
        out.put(timm + ".bias", w.get(keras + "/beta"));
        out.put(timm + ".running_mean", w.get(keras + "/moving_mean"));
        out.put(timm + ".running_var", w.get(keras + "/moving_variance"));
        out.put(timm + ".num_batches_tracked", new Tensor(Shape.of(), new float[]{1}));
    }

    /** (kh,kw,I,O) → (O,I,kh,kw). */
    private static Tensor oihw(Tensor hwio) {
        int kh = hwio.shape().dim(0), kw = hwio.shape().dim(1), ci = hwio.shape().dim(2), co = hwio.shape().dim(3);
        float[] out = new float[hwio.size()];
        for (int h = 0; h < kh; h++) for (int x = 0; x < kw; x++) for (int i = 0; i < ci; i++) for (int o = 0; o < co; o++) {
            out[((o * ci + i) * kh + h) * kw + x] = hwio.data()[((h * kw + x) * ci + i) * co + o];
        }
        return new Tensor(Shape.of(co, ci, kh, kw), out);
    }

    /** (3,3,C,1) → (C,1,3,3). */
    private static Tensor depthwise(Tensor k) {
        int kh = k.shape().dim(0), kw = k.shape().dim(1), ch = k.shape().dim(2);
        float[] out = new float[k.size()];
        for (int h = 0; h < kh; h++) for (int x = 0; x < kw; x++) for (int c = 0; c < ch; c++) {
            out[(c * kh + h) * kw + x] = k.data()[(h * kw + x) * ch + c];
        }
        return new Tensor(Shape.of(ch, 1, kh, kw), out);
    }
}
