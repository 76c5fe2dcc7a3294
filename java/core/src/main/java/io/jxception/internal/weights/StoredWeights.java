package io.jxception.internal.weights;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The layers with weights of an open weights file, in Keras names and layouts, values not yet read.
 * Closing releases the file.
 *
 * @param layers         layers with weights, in the order the file gives them
 * @param generatedOrder how to order the generated layers (conv2d_N, batch_normalization_N) to match
 *                       them to XceptionGraph's residual branches
 * @param metadata       free-form string metadata (safetensors {@code __metadata__}; HDF5 root attributes)
 */
public record StoredWeights(Path file, String format, List<StoredLayer> layers, GeneratedOrder generatedOrder,
                            Map<String, String> metadata, Closeable closer) implements Closeable {
    /** Keras numbers generated names in creation order; a file may or may not keep that order. */
    public enum GeneratedOrder {
        /** The file's layer order is Keras' topological order (HDF5 layer_names): take it. */
        FILE_ORDER,
        /** The file's order means nothing (safetensors): sort by the number in the name, conv2d before conv2d_1. */
        NAME_NUMBER
    }

    public StoredWeights {
        layers = List.copyOf(layers);
        metadata = Map.copyOf(metadata);
    }

    @Override public void close() throws IOException {
        closer.close();
    }
}
