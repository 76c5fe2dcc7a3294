package io.jxception.train;

/**
 * The loss (or a weight) became NaN or infinite. The run stops without writing a checkpoint, so the
 * last good one stays as it was; the message names the step and that checkpoint.
 *
 * <p>Immutable once thrown.
 */
public final class TrainingDivergedException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    /** The 1-based step at which the divergence was found. */
    private final long step;

    /**
     * @param message where and how the run diverged, and what to do
     * @param step    the 1-based step at which it was found
     * @param cause   the failed check
     */
    public TrainingDivergedException(String message, long step, Throwable cause) {
        super(message, cause);
        this.step = step;
    }

    /** The step (1-based: the n-th SGD step of the run) whose loss or update was not finite. */
    public long step() { return step; }
}
