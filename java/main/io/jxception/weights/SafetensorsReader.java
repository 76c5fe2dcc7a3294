package io.jxception.weights;

import io.jxception.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Every tensor of a safetensors file (as float32, in the header's order) and its string metadata,
 * whatever the names: for files that are not one network's weights, such as training checkpoints.
 * The file is validated as strictly as by {@link WeightsFiles#load}.
 */
public final class SafetensorsReader {
    private SafetensorsReader() {}

    /** @param metadata the {@code __metadata__} entries (empty when there are none) */
    public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata) {}

    public static Contents read(Path file) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (SafetensorsHeader.Entry e : f.entries()) tensors.put(e.name(), new Tensor(e.shape(), f.readFloats(e)));
            return new Contents(tensors, Map.copyOf(f.metadata()));
        }
    }
}
