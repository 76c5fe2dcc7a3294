package io.jxception.internal.backend;

import java.util.List;

/** {@link WeightUpdate} as one per-tensor op per weight, in list order: every backend's default. */
public final class PerTensorWeightUpdate implements WeightUpdate {
    private final KernelBackend backend;
    private final List<Weight> weights;

    public PerTensorWeightUpdate(KernelBackend backend, List<Weight> weights) {
        this.backend = backend;
        this.weights = List.copyOf(weights);
    }

    @Override public List<Weight> weights() { return weights; }

    @Override public void sgd(float lr, float momentum, float weightDecay) {
        for (Weight w : weights) {
            if (w.stepped()) backend.sgdUpdate(w.param(), w.grad(), w.velocity(), w.count(), lr, momentum, w.decays() ? weightDecay : 0f);
        }
    }

    @Override public void unscale(float factor, Buffer overflow) {
        for (Weight w : weights) backend.unscaleGradient(w.grad(), w.count(), factor, overflow);
    }

    @Override public void close() {}
}
