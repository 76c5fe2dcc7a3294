package io.jxception.train;

/**
 * The loss (or a weight) became NaN or infinite. The run stops without writing a checkpoint, so the
 * last good one stays as it was; the message names the step and that checkpoint.
 */
public final class TrainingDivergedException extends RuntimeException {
    private final long step;

    public TrainingDivergedException(String message, long step, Throwable cause) {
        super(message, cause);
        this.step = step;
    }

    /** The step (1-based: the n-th SGD step of the run) whose loss or update was not finite. */
    public long step() { return step; }
}
