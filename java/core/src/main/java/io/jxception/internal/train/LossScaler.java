package io.jxception.internal.train;

import io.jxception.backend.Precision;

/**
 * Dynamic loss scaling for fp16 training (Micikevicius et al. 2018, the policy of PyTorch's
 * GradScaler): the backward pass runs on scale·loss so that small gradients stay above fp16's
 * subnormal range (6e-8); the gradients are divided by the scale again before the fp32 master
 * weights are updated. When any gradient overflowed (Inf/NaN), the step is skipped and the scale
 * halved; after {@code growthInterval} clean steps in a row it doubles. Scales are powers of two,
 * so scaling and unscaling are exact in binary floating point.
 *
 * <p>bf16 has fp32's exponent range and needs no scaling; fp32 and tf32 neither: {@link #forPrecision}
 * turns scaling on for {@link Precision#FP16} only.
 */
public final class LossScaler {
    /** PyTorch GradScaler's defaults. */
    public static final float INITIAL_SCALE = 65536f;
    public static final int GROWTH_INTERVAL = 2000;
    /** Below this the gradients themselves are non-finite, whatever the scale: the run is diverging. */
    public static final float MIN_SCALE = 0x1p-24f;

    private final boolean dynamic;
    private final int growthInterval;
    private float scale;
    private int goodSteps;
    private long skippedSteps;

    private LossScaler(boolean dynamic, float scale, int growthInterval) {
        if (!(scale > 0) || Float.isInfinite(scale) || scale != Math.scalb(1f, Math.getExponent(scale))) {
            throw new IllegalArgumentException("loss scale must be a finite power of two, got " + scale);
        }
        if (growthInterval < 1) throw new IllegalArgumentException("growth interval must be at least 1 step, got " + growthInterval);
        this.dynamic = dynamic;
        this.scale = scale;
        this.growthInterval = growthInterval;
    }

    /** No scaling (scale 1, gradients not inspected). */
    public static LossScaler none() { return new LossScaler(false, 1f, 1); }

    /** Dynamic scaling from {@code initialScale} (a power of two), doubling after {@code growthInterval} clean steps. */
    public static LossScaler dynamic(float initialScale, int growthInterval) { return new LossScaler(true, initialScale, growthInterval); }

    /** Dynamic scaling for fp16 storage, none otherwise. */
    public static LossScaler forPrecision(Precision precision) {
        return precision == Precision.FP16 ? dynamic(INITIAL_SCALE, GROWTH_INTERVAL) : none();
    }

    /** Whether the trainer must scale the loss and check gradients for overflow. */
    public boolean isDynamic() { return dynamic; }

    public float scale() { return scale; }

    public long skippedSteps() { return skippedSteps; }

    /**
     * Records the outcome of one backward pass and says whether to apply its update: on overflow the
     * update is skipped and the scale halves; otherwise the update is applied and, after
     * {@code growthInterval} clean steps, the scale doubles (capped below fp32's overflow).
     */
    public boolean update(boolean gradientsFinite) {
        if (!dynamic) return gradientsFinite;
        if (!gradientsFinite) {
            skippedSteps++;
            goodSteps = 0;
            if (scale <= MIN_SCALE) {
                throw new ArithmeticException("gradients overflow even at loss scale " + scale + ": training has diverged (lower the learning rate)");
            }
            scale *= 0.5f;
            return false;
        }
        if (++goodSteps >= growthInterval) {
            goodSteps = 0;
            if (scale < 0x1p62f) scale *= 2f;
        }
        return true;
    }

    /** What a checkpoint stores to continue the same scale sequence. */
    public record State(float scale, int goodSteps, long skippedSteps) {}

    public State state() { return new State(scale, goodSteps, skippedSteps); }

    public void restore(State s) {
        if (!dynamic) {
            if (s.scale() != 1f) throw new IllegalArgumentException("checkpoint was trained with loss scale " + s.scale() + " but this run does not scale the loss (another precision?)");
            return;
        }
        LossScaler check = new LossScaler(true, s.scale(), growthInterval);
        scale = check.scale;
        goodSteps = s.goodSteps();
        skippedSteps = s.skippedSteps();
    }
}
