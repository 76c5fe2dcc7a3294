package io.jxception.internal.train;

import io.jxception.model.ParamSpec;
import io.jxception.model.Pooling;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Tensor;
import io.jxception.weights.WeightsFiles;
import io.jxception.weights.XceptionWeights;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Where a run's weights start: Keras' initializers, or a weights file with a classifier for the data's classes. */
public final class InitialWeights {
    private InitialWeights() {}

    /** The network for a weights file: its width and depth, the run's input size, a top for {@code classes}. */
    public static XceptionConfig config(Path file, int inputSize, int classes) throws IOException {
        XceptionConfig stored = WeightsFiles.inferConfig(file, inputSize, inputSize);
        return new XceptionConfig(inputSize, inputSize, classes, true, Pooling.NONE, stored.widthMultiplier(), stored.middleRepeats());
    }

    /**
     * Keras initial values when {@code file} is null. Otherwise the file's weights; when it has no top,
     * or a top for another number of classes (ImageNet's 1000), the classifier is new: glorot-uniform
     * kernel and zero bias drawn from {@code seed}, as Keras builds a fresh Dense layer.
     */
    public static XceptionWeights load(Path file, XceptionGraph graph, long seed) throws IOException {
        if (file == null) return KerasInit.fresh(graph, seed);
        XceptionConfig c = graph.config();
        XceptionConfig stored = WeightsFiles.inferConfig(file, c.inputHeight(), c.inputWidth());
        if (stored.includeTop() && stored.classes() == c.classes()) return WeightsFiles.load(file, graph);
        XceptionWeights base = WeightsFiles.load(file, XceptionGraph.build(c.withoutTop(Pooling.NONE)));
        Map<String, Tensor> all = new LinkedHashMap<>(base.asMap());
        Rng rng = new Rng(seed);
        for (ParamSpec p : graph.params()) if (!all.containsKey(p.key())) all.put(p.key(), KerasInit.init(p, rng));
        return new XceptionWeights(graph, all);
    }
}
