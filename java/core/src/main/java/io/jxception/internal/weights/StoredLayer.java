package io.jxception.internal.weights;

import java.util.List;

/** A layer with weights, as a file stores it: its name and its weights in the file's order. */
public record StoredLayer(String name, List<StoredTensor> weights) {
    public StoredLayer {
        weights = List.copyOf(weights);
    }
}
