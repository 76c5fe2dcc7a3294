package io.jxception.weights;

import java.util.List;

/** A layer with weights, as a file stores it: its name and its weights in the file's order. */
record StoredLayer(String name, List<StoredTensor> weights) {
    public StoredLayer {
        weights = List.copyOf(weights);
    }
}
