package io.jxception.train;

/**
 * What a {@link Trainer} reports while it runs, for a progress display or a log: the library itself
 * prints nothing. Every method has an empty default; {@link #NONE} ignores everything. Methods are
 * called on the thread that runs {@link Trainer#run}, in the order of the run, and should return quickly.
 */
public interface TrainingListener {
    /** Ignores every event. */
    TrainingListener NONE = new TrainingListener() {};

    /** One line about the run as a whole: what is trained on which device, resumption notes, an early stop. */
    default void message(String line) {}

    /**
     * Before the first step every training and validation image is decoded once, so that a bad file
     * stops the run (or is skipped) at once rather than hours in: {@code checked} of {@code total}
     * images are done. Called repeatedly (a few hundred times at most), the last time with checked == total.
     */
    default void imagesChecked(int checked, int total) {}

    /**
     * An epoch begins.
     *
     * @param epoch      0-based epoch index
     * @param epochs     epochs planned in all
     * @param batches    batches (steps) in this epoch
     * @param batchesDone batches of it already done by an earlier, resumed run (0 otherwise)
     */
    default void epochStarted(int epoch, int epochs, int batches, int batchesDone) {}

    /**
     * A training step ended.
     *
     * @param batchesDone     batches of the current epoch done so far (1-based count)
     * @param meanLoss        mean training loss over the epoch so far
     * @param accuracy        training top-1 accuracy over the epoch so far
     * @param imagesPerSecond training throughput over the epoch so far
     */
    default void stepDone(int batchesDone, double meanLoss, double accuracy, double imagesPerSecond) {}

    /**
     * The current epoch ends; {@code record} is its row of the log (it is already in the history) and
     * {@code summary} a one-line description of it. Not called for an epoch cut short by {@code maxSteps}.
     */
    default void epochEnded(EpochRecord record, String summary) {}

    /** The current epoch stopped before its end ({@code maxSteps} reached, or a stop requested); {@code why} says so in words. */
    default void epochStopped(String why) {}

    /**
     * A data-parallel run ends on this process (normally or stopped; not called for a single
     * process): where its step time went, for a final line or a benchmark. Values differ by rank.
     */
    default void processTimes(Trainer.ProcessTimes times) {}
}
