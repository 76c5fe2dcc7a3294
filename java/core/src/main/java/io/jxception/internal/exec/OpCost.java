package io.jxception.internal.exec;

import io.jxception.internal.backend.BatchNormSpec;
import io.jxception.internal.backend.ConvSpec;
import io.jxception.internal.backend.Epilogue;
import io.jxception.internal.backend.HeadSpec;
import io.jxception.internal.backend.PoolSpec;
import io.jxception.model.ConvKind;

/**
 * The least memory traffic and arithmetic one backend op needs, whatever kernels run it: every input
 * tensor read once, every output written once, the multiply-adds of its math (as FLOPs, 2 per
 * multiply-add). Divided by a card's bandwidth and peak it is the op's floor, against which
 * {@link OpProfile} sets each op's measured time. Activations (x, y, z, dz, dx ...) take
 * {@code activationBytes} per element, as the backend stores them (2 in BF16/FP16 training, 4
 * otherwise); weights, their gradients and the optimizer's state are fp32.
 *
 * <p>The floor is not reachable by every implementation: a batch norm reads z once for its statistics
 * and once more to normalise where z does not fit in cache; it states what the arithmetic and the
 * tensors themselves demand, so that an op far above it is where a step's time can be won back.
 *
 * @param bytes bytes read plus bytes written
 * @param flops floating-point operations (a multiply-add counts 2)
 */
public record OpCost(double bytes, double flops) {
    /** Weights, weight gradients, optimizer state: fp32. */
    private static final int W = 4;

    /** The cost of {@code method} with {@code args} (a KernelBackend call), or null for calls that move no device data. */
    public static OpCost of(String method, Object[] args, int activationBytes) {
        double a = activationBytes;
        return switch (method) {
            case "conv" -> {
                ConvSpec s = (ConvSpec) args[0];
                Epilogue e = (Epilogue) args[4];
                double res = e != null && e.residual() != null ? s.outputElements() : 0;
                yield new OpCost(a * (s.inputElements() + s.outputElements() + res) + W * (s.w1Elements() + s.w2Elements()), 2.0 * s.macs());
            }
            case "convUint8" -> {
                ConvSpec s = (ConvSpec) args[0];
                yield new OpCost(s.inputElements() + a * s.outputElements() + W * s.w1Elements(), 2.0 * s.macs());
            }
            case "batchNormTrain" -> {   // z in, y out, residual in
                BatchNormSpec s = (BatchNormSpec) args[0];
                yield new OpCost(a * s.elements() * (2 + (args[4] != null ? 1 : 0)), 0);
            }
            case "batchNormApply" -> {   // (spec, z, mean, var, gamma, beta, residual, y, ...)
                BatchNormSpec s = (BatchNormSpec) args[0];
                yield new OpCost(a * s.elements() * (2 + (args[6] != null ? 1 : 0)), 0);
            }
            case "batchNormSums" -> new OpCost(a * ((BatchNormSpec) args[0]).elements(), 0);
            case "batchNormTrainBackward" -> {   // z, y (for the ReLU mask), dy in; dz, dyMasked out
                BatchNormSpec s = (BatchNormSpec) args[0];
                yield new OpCost(a * s.elements() * (2 + (s.relu() ? 1 : 0) + 1 + (args[8] != null ? 1 : 0)), 0);
            }
            case "batchNormBackwardSums" -> {
                BatchNormSpec s = (BatchNormSpec) args[0];
                yield new OpCost(a * s.elements() * (2 + (s.relu() ? 1 : 0)), 0);
            }
            case "batchNormBackwardApply" -> {   // (spec, rows, z, y, dy, gamma, mean, invStd, dGammaSum, dBetaSum, dz, dyMasked, ...)
                BatchNormSpec s = (BatchNormSpec) args[0];
                yield new OpCost(a * s.elements() * (2 + (s.relu() ? 1 : 0) + 1 + (args[11] != null ? 1 : 0)), 0);
            }
            case "convBackward" -> convBackward((ConvSpec) args[0], args[5] != null, a);
            case "maxPoolAdd" -> {
                PoolSpec s = (PoolSpec) args[0];
                yield new OpCost(a * (s.inputElements() + s.outputElements() * (args[2] != null ? 2 : 1)), 9.0 * s.outputElements());
            }
            case "maxPoolBackward" -> {   // x and dy in, dx out
                PoolSpec s = (PoolSpec) args[0];
                yield new OpCost(a * (2.0 * s.inputElements() + s.outputElements()), 9.0 * s.outputElements());
            }
            case "head" -> head((HeadSpec) args[0], a, false);
            case "headTrain" -> head((HeadSpec) args[0], a, true);
            case "addInPlace" -> new OpCost(3 * a * (Long) args[2], (Long) args[2]);
            case "sgdUpdate" -> sgd((Long) args[3]);
            case "unscaleGradient" -> unscale((Long) args[1]);
            default -> null;
        };
    }

    /**
     * The backward of a convolution: x and dz in, dx out (when asked), weights in and their gradients
     * out. FLOPs: the data gradient of the GEMM (for the separable conv always: dW1 needs it) and its
     * weight gradient, each as many multiply-adds as the forward's GEMM; for the separable conv also the
     * depthwise forward recomputed (9 per input element), its weight gradient (9) and, with dx, its data
     * gradient (9).
     */
    static OpCost convBackward(ConvSpec s, boolean withDx, double a) {
        double bytes = a * (s.inputElements() * (withDx ? 2 : 1) + s.outputElements()) + 2.0 * W * (s.w1Elements() + s.w2Elements());
        double macs;
        if (s.kind() == ConvKind.SEPARABLE3X3_SAME) {
            double m = (double) s.n() * s.h() * s.w(), gemm = m * s.cin() * s.cout(), depthwise = 9.0 * m * s.cin();
            macs = 2 * gemm + depthwise * (withDx ? 3 : 2);
        } else {
            macs = (withDx ? 2 : 1) * (double) s.macs();
        }
        return new OpCost(bytes, 2 * macs);
    }

    /** Pooling and the dense layer; in training also softmax cross-entropy's gradient back to x and the dense weights. */
    static OpCost head(HeadSpec s, double a, boolean train) {
        double x = (double) s.n() * s.h() * s.w() * s.channels();
        double dense = s.dense() ? (double) s.n() * s.channels() * s.classes() : 0;
        double weights = s.dense() ? (double) s.channels() * s.classes() + s.classes() : 0;
        if (!train) return new OpCost(a * x + W * weights + 4.0 * s.outputElements(), x + 2 * dense);
        // forward (x, weights in; probs, loss out), backward (dX out, dKernel and dBias out)
        return new OpCost(2 * a * x + 2 * W * weights + 8.0 * s.outputElements(), 2 * x + 6 * dense);
    }

    /** The optimizer over {@code params} fp32 values: SGD with momentum reads param, grad, velocity and writes param, velocity. */
    static OpCost sgd(long params) { return new OpCost(5.0 * W * params, 4.0 * params); }

    /** Loss-scale unscaling of {@code params} gradients: read and written once. */
    static OpCost unscale(long params) { return new OpCost(2.0 * W * params, params); }

    /** The time this cost takes at {@code bytesPerSecond} and {@code flopsPerSecond}: the larger of the two. */
    public double floorSeconds(double bytesPerSecond, double flopsPerSecond) {
        return Math.max(bytes / bytesPerSecond, flops / flopsPerSecond);
    }

    /** Sum. */
    public OpCost plus(OpCost o) { return new OpCost(bytes + o.bytes, flops + o.flops); }
}
