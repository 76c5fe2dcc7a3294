package io.jxception.internal.train;

import io.jxception.model.ParamSpec;
import io.jxception.model.XceptionGraph;

import java.util.LinkedHashSet;
import java.util.Set;

/** Which layers a fine-tuning run leaves unchanged. */
public final class FineTuning {
    private FineTuning() {}

    /**
     * Every layer stored before {@code layer} in Keras' topological order (the order of
     * {@link XceptionGraph#params()}), like {@code for l in model.layers[:i]: l.trainable = False}.
     * Their batch norms still run in training mode (batch statistics) and update moving statistics.
     */
    public static Set<String> layersBelow(XceptionGraph graph, String layer) {
        Set<String> below = new LinkedHashSet<>();
        for (ParamSpec p : graph.params()) {
            if (p.layer().equals(layer)) return below;
            below.add(p.layer());
        }
        Set<String> names = new LinkedHashSet<>();
        for (ParamSpec p : graph.params()) names.add(p.layer());
        throw new IllegalArgumentException("no layer named '" + layer + "' to freeze below; layers are " + String.join(", ", names));
    }
}
