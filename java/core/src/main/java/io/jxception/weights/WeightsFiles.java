package io.jxception.weights;

import io.jxception.internal.weights.ConfigInference;
import io.jxception.internal.weights.ConfigMetadata;
import io.jxception.internal.weights.KerasH5Reader;
import io.jxception.internal.weights.KerasLayerMatcher;
import io.jxception.internal.weights.SafetensorsWeights;
import io.jxception.internal.weights.SafetensorsWriter;
import io.jxception.internal.weights.StoredTensor;
import io.jxception.internal.weights.StoredWeights;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Reading and writing Xception weights files: Keras .h5 (keras.applications' files, or any Keras 2
 * {@code save_weights} of keras.applications.Xception) and safetensors (Keras names, or timm
 * legacy_xception names), told apart by their first bytes. Every problem is a
 * {@link WeightsFileException} whose message names the file and the fix.
 *
 * <pre>
 * XceptionConfig config = WeightsFiles.inferConfig(path, 299, 299);
 * XceptionGraph graph = XceptionGraph.build(config);
 * XceptionWeights weights = WeightsFiles.load(path, graph);
 * </pre>
 *
 * <p>Stateless: every method may be called from any thread.
 */
public final class WeightsFiles {
    private WeightsFiles() {}

    /**
     * Every weight of {@code graph} from the file, shapes and values checked (finite, variances ≥ 0).
     * A file with the classifier loads into a graph without the top (the classifier is left out).
     */
    public static XceptionWeights load(Path file, XceptionGraph graph) throws IOException {
        try (StoredWeights stored = open(file)) {
            Map<String, StoredTensor> matched = KerasLayerMatcher.match(stored, graph);
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (Map.Entry<String, StoredTensor> e : matched.entrySet()) {
                try {
                    tensors.put(e.getKey(), e.getValue().read());
                } catch (WeightsFileException ex) {
                    throw ex;
                } catch (IOException ex) {
                    throw new WeightsFileException(file, "cannot read " + e.getValue().source() + ": " + ex.getMessage(), ex);
                }
            }
            try {
                return new XceptionWeights(graph, tensors);
            } catch (IllegalArgumentException e) {
                throw new WeightsFileException(file, e.getMessage(), e);
            }
        }
    }

    /**
     * The configuration a file's weights fit (top, classes, width multiplier, middle blocks), for the
     * given input size, which weights files do not record. Reads names and shapes only.
     *
     * @throws IllegalArgumentException if the input is smaller than 71×71
     */
    public static XceptionConfig inferConfig(Path file, int inputHeight, int inputWidth) throws IOException {
        try (StoredWeights stored = open(file)) {
            return ConfigInference.infer(stored, inputHeight, inputWidth);
        }
    }

    /**
     * Writes safetensors with Keras keys ("block1_conv1/kernel") in Keras layouts and graph order, the
     * configuration in {@code __metadata__}; atomically (a crash leaves the old file or none).
     */
    public static void save(Path file, XceptionWeights weights) throws IOException {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".h5") || name.endsWith(".hdf5") || name.endsWith(".keras")) {
            throw new WeightsFileException(file, "save writes safetensors, not HDF5 or .keras: name the file *.safetensors");
        }
        SafetensorsWriter.write(file, weights.asMap(), ConfigMetadata.of(weights.graph().config()));
    }

    /** The file's layers with weights in Keras names, values unread; close it after use. */
    static StoredWeights open(Path file) throws IOException {
        return switch (WeightsFormat.detect(file)) {
            case KERAS_H5 -> KerasH5Reader.open(file);
            case SAFETENSORS -> SafetensorsWeights.open(file);
        };
    }
}
