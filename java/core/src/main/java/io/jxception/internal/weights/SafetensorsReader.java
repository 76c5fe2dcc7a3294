package io.jxception.internal.weights;

import io.jxception.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads any safetensors file whole, as float32 tensors by name (F32, F16, BF16, F64; integer
 * tensors are refused by name), with its {@code __metadata__}; for checkpoints and test fixtures.
 * Xception weights should go through {@link WeightsFiles#load}, which also maps names and checks shapes.
 */
public final class SafetensorsReader {
    /** Tensors in data order, and the string metadata. */
    public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata) {
        public Contents {
            tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
            metadata = Map.copyOf(metadata);
        }
    }

    private SafetensorsReader() {}

    public static Contents read(Path file) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (SafetensorsHeader.Entry e : f.entries()) tensors.put(e.name(), new Tensor(e.shape(), f.readFloats(e)));
            return new Contents(tensors, f.metadata());
        }
    }
}
