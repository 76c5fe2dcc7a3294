package io.jxception.train;

import java.util.Locale;

/**
 * The learning rate of each SGD step. {@code step} counts from 0 over the whole run; an epoch has
 * {@code stepsPerEpoch} steps. Every schedule may start with a linear warm-up over {@code warmupSteps}
 * (rate·(step+1)/warmupSteps), which keeps the first large updates of a fresh network from diverging.
 *
 * <p>Every schedule is an immutable record; safe to share between threads.
 */
public sealed interface LearningRateSchedule {
    /** The learning rate of step {@code step} (0-based) of a run of {@code totalSteps} with {@code stepsPerEpoch} per epoch. */
    double rate(long step, long stepsPerEpoch, long totalSteps);

    /** The same rate throughout (after warm-up). */
    record Constant(double base, long warmupSteps) implements LearningRateSchedule {
        /** @throws IllegalArgumentException for a non-positive rate or negative warm-up */
        public Constant { check(base, warmupSteps); }

        @Override public double rate(long step, long stepsPerEpoch, long totalSteps) { return warm(base, step, warmupSteps); }
    }

    /**
     * The Xception paper's ImageNet schedule: base·factor^⌊epoch/everyEpochs⌋, with epoch =
     * ⌊step/stepsPerEpoch⌋ (paper: 0.045, 0.94 every 2 epochs).
     */
    record StepDecay(double base, double factor, int everyEpochs, long warmupSteps) implements LearningRateSchedule {
        /** @throws IllegalArgumentException for a rate, factor, interval or warm-up out of range */
        public StepDecay {
            check(base, warmupSteps);
            if (!(factor > 0 && factor <= 1)) throw new IllegalArgumentException("decay factor must be in (0, 1], got " + factor);
            if (everyEpochs < 1) throw new IllegalArgumentException("decay interval must be at least 1 epoch, got " + everyEpochs);
        }

        @Override public double rate(long step, long stepsPerEpoch, long totalSteps) {
            long epoch = step / stepsPerEpoch;
            return warm(base * Math.pow(factor, epoch / everyEpochs), step, warmupSteps);
        }
    }

    /** Cosine decay from base to {@code minimum} over the steps after warm-up (Loshchilov &amp; Hutter, no restarts). */
    record Cosine(double base, double minimum, long warmupSteps) implements LearningRateSchedule {
        /** @throws IllegalArgumentException for a rate, minimum or warm-up out of range */
        public Cosine {
            check(base, warmupSteps);
            if (!(minimum >= 0 && minimum <= base)) throw new IllegalArgumentException("minimum learning rate must be in [0, " + base + "], got " + minimum);
        }

        @Override public double rate(long step, long stepsPerEpoch, long totalSteps) {
            if (step < warmupSteps) return warm(base, step, warmupSteps);
            long span = Math.max(1, totalSteps - warmupSteps);
            double progress = Math.min(1.0, (double) (step - warmupSteps) / span);
            return minimum + 0.5 * (base - minimum) * (1 + Math.cos(Math.PI * progress));
        }
    }

    /** "constant", "step" or "cosine" with the given base rate; the step form takes the paper's decay. */
    static LearningRateSchedule parse(String name, double base, double decayFactor, int decayEveryEpochs, long warmupSteps) {
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "constant" -> new Constant(base, warmupSteps);
            case "step" -> new StepDecay(base, decayFactor, decayEveryEpochs, warmupSteps);
            case "cosine" -> new Cosine(base, 0, warmupSteps);
            default -> throw new IllegalArgumentException("unknown learning-rate schedule '" + name + "': expected constant, step or cosine");
        };
    }

    private static double warm(double rate, long step, long warmupSteps) {
        return step < warmupSteps ? rate * (step + 1) / warmupSteps : rate;
    }

    private static void check(double base, long warmupSteps) {
        if (!(base > 0) || Double.isInfinite(base)) throw new IllegalArgumentException("learning rate must be positive and finite, got " + base);
        if (warmupSteps < 0) throw new IllegalArgumentException("warm-up steps must be at least 0, got " + warmupSteps);
    }
}
