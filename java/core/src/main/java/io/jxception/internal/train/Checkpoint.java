package io.jxception.internal.train;

import io.jxception.model.ParamSpec;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Tensor;
import io.jxception.internal.weights.SafetensorsReader;
import io.jxception.internal.weights.SafetensorsWriter;
import io.jxception.weights.XceptionWeights;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A training checkpoint in one safetensors file: every weight under its Keras key
 * ("block1_conv1/kernel", moving statistics included), the SGD momentum of every trainable weight
 * under "velocity/" + key, and the {@link TrainerState} (step, epoch, RNG state, loss scale, log) as
 * {@code __metadata__}. Written to a temporary file, fsynced and renamed over the old checkpoint, so
 * a crash at any moment leaves the previous complete checkpoint.
 */
public record Checkpoint(XceptionWeights weights, Map<String, Tensor> velocities, TrainerState state) {
    static final String VELOCITY = "velocity/";

    public void write(Path file) throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>(weights.asMap());
        for (Map.Entry<String, Tensor> e : velocities.entrySet()) tensors.put(VELOCITY + e.getKey(), e.getValue());
        SafetensorsWriter.write(file, tensors, state.toMetadata());
    }

    /** Reads a checkpoint for {@code graph}; shapes, finiteness and the set of names are checked. */
    public static Checkpoint read(Path file, XceptionGraph graph) throws IOException {
        SafetensorsReader.Contents c = SafetensorsReader.read(file);
        TrainerState state;
        try {
            state = TrainerState.fromMetadata(c.metadata());
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
        Map<String, Tensor> weights = new LinkedHashMap<>(), velocities = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : c.tensors().entrySet()) {
            if (e.getKey().startsWith(VELOCITY)) velocities.put(e.getKey().substring(VELOCITY.length()), e.getValue());
            else weights.put(e.getKey(), e.getValue());
        }
        try {
            XceptionWeights w = new XceptionWeights(graph, weights);
            for (ParamSpec p : graph.params()) {
                Tensor v = velocities.get(p.key());
                if (p.trainable() && v == null) throw new IllegalArgumentException("missing momentum of " + p.key());
                if (v != null && !v.shape().equals(p.shape())) throw new IllegalArgumentException("momentum of " + p.key() + " has shape " + v.shape() + ", expected " + p.shape());
                if (v != null && v.firstNonFinite() >= 0) throw new IllegalArgumentException("momentum of " + p.key() + " is not finite");
            }
            return new Checkpoint(w, velocities, state);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + " does not fit this run's network (" + graph.config() + "): " + e.getMessage(), e);
        }
    }
}
