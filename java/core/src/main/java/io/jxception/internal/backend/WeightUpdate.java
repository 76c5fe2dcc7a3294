package io.jxception.internal.backend;

import java.util.List;

/**
 * The optimizer's per-step work over every weight of a model as one call each: SGD with momentum
 * ({@link KernelBackend#sgdUpdate}) and loss scaling's unscale ({@link KernelBackend#unscaleGradient}).
 * {@link KernelBackend#weightUpdate} plans it once per training session, for a fixed list of buffers;
 * the default ({@link PerTensorWeightUpdate}) calls the per-tensor op once per weight, and a backend
 * may instead run all weights in one launch (CUDA: one launch for Xception's 156 trainable tensors and 22.9M
 * values instead of 156 launches each). Either way the results are bitwise those of the per-tensor ops.
 *
 * <p>Calls are enqueued like any other op (they may be asynchronous) and may be recorded
 * ({@link LaunchRecording}). Closing frees what the plan allocated (not the weights' buffers).
 */
public interface WeightUpdate extends AutoCloseable {
    /**
     * One weight: {@code param}, its gradient {@code grad} and its momentum {@code velocity}, each
     * {@code count} fp32 values. A null velocity marks a weight whose gradient is unscaled (and checked)
     * but that is never stepped (frozen or not trainable). {@code decays}: weight decay applies (kernels,
     * not batch norm's γ/β or biases).
     */
    record Weight(Buffer param, Buffer grad, Buffer velocity, long count, boolean decays) {
        public Weight {
            if (param == null || grad == null) throw new IllegalArgumentException("param and grad are required");
            if (count < 1) throw new IllegalArgumentException("count must be positive, got " + count);
            if (param.elements() < count || grad.elements() < count || (velocity != null && velocity.elements() < count)) {
                throw new IllegalArgumentException("a buffer holds fewer than " + count + " values");
            }
        }

        /** Whether {@link #sgd} steps this weight. */
        public boolean stepped() { return velocity != null; }
    }

    /** The weights, in the order they were given. */
    List<Weight> weights();

    /**
     * {@code sgdUpdate(param, grad, velocity, count, lr, momentum, decays ? weightDecay : 0)} on every
     * stepped weight.
     */
    void sgd(float lr, float momentum, float weightDecay);

    /** {@code unscaleGradient(grad, count, factor, overflow)} on every weight's gradient, into one flag (1 fp32). */
    void unscale(float factor, Buffer overflow);

    @Override
    void close();
}
