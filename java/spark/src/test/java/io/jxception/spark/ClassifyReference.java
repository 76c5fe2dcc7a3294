package io.jxception.spark;

import io.jxception.backend.Backend;
import io.jxception.backend.Backends;
import io.jxception.backend.Precision;
import io.jxception.exec.InferenceSession;
import io.jxception.image.Interpolation;
import io.jxception.image.KerasPreprocessing;
import io.jxception.image.TopK;
import io.jxception.model.Pooling;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Tensor;
import io.jxception.weights.WeightsFiles;
import io.jxception.weights.XceptionWeights;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code jxception classify --weights W --size S --interpolation I --backend B --batch 8} computes
 * for each file, through the library's public API as the command does it: the configuration from
 * the weights file, every image decoded and resized by {@link KerasPreprocessing#load}, batches of
 * 8 ({@link KerasPreprocessing#stack}) through one {@link InferenceSession}, then {@link TopK}. With {@code features} the graph ends
 * in average pooling instead (as {@code jxception infer --features}).
 */
final class ClassifyReference {
    private ClassifyReference() {}

    /** Output row per file: probabilities (classes) or pooled features (C), in the order of {@code files}. */
    static Map<Path, float[]> outputs(Path weightsFile, List<Path> files, int size, Interpolation interpolation, String backendName,
                                      boolean features) throws IOException {
        XceptionConfig config = WeightsFiles.inferConfig(weightsFile, size, size);
        if (features) config = config.withoutTop(Pooling.AVG);
        XceptionWeights weights = WeightsFiles.load(weightsFile, XceptionGraph.build(config));
        List<Tensor> inputs = new ArrayList<>();
        for (Path f : files) inputs.add(KerasPreprocessing.load(f, size, size, interpolation));
        Map<Path, float[]> out = new LinkedHashMap<>();
        int batch = 8;
        try (Backend backend = Backends.open(backendName, Precision.FP32);
             InferenceSession session = new InferenceSession(backend, weights, Math.min(batch, files.size()))) {
            for (int start = 0; start < files.size(); start += batch) {
                int n = Math.min(batch, files.size() - start);
                Tensor y = session.run(KerasPreprocessing.stack(inputs.subList(start, start + n))); // (n, classes) or (n, C)
                int width = y.shape().dim(1);
                for (int i = 0; i < n; i++) {
                    float[] row = new float[width];
                    System.arraycopy(y.data(), i * width, row, 0, width);
                    out.put(files.get(start + i), row);
                }
            }
        }
        return out;
    }

    /** classify's printed ranking of one probability row: the top k entries. */
    static List<TopK.Entry> top(float[] probabilities, int k) {
        return TopK.of(probabilities, k);
    }
}
