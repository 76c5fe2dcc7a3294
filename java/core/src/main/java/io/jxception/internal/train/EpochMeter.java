package io.jxception.internal.train;

/** Running sums of one epoch's training steps, for the progress bar, the log and checkpoints. */
public final class EpochMeter {
    /**
     * @param lossSum      sum over steps of the batch's mean loss
     * @param correct      top-1 hits over all images seen
     * @param seconds      wall time of the steps (loader waits included)
     * @param waitSeconds  time spent waiting for the loader
     */
    public record Totals(double lossSum, long correct, long seen, double seconds, double waitSeconds, long skippedSteps,
                  double lastLearningRate) {
        public static final Totals ZERO = new Totals(0, 0, 0, 0, 0, 0, 0);
    }

    private Totals t;
    private long steps;

    public EpochMeter(Totals start, long stepsDone) {
        this.t = start;
        this.steps = stepsDone;
    }

    public void add(double loss, int correct, int images, double seconds, double waitSeconds, boolean skipped, double learningRate) {
        steps++;
        t = new Totals(t.lossSum() + loss, t.correct() + correct, t.seen() + images, t.seconds() + seconds,
                t.waitSeconds() + waitSeconds, t.skippedSteps() + (skipped ? 1 : 0), learningRate);
    }

    public Totals totals() { return t; }

    public double meanLoss() { return steps == 0 ? Double.NaN : t.lossSum() / steps; }

    public double accuracy() { return t.seen() == 0 ? Double.NaN : (double) t.correct() / t.seen(); }

    public double imagesPerSecond() { return t.seconds() == 0 ? 0 : t.seen() / t.seconds(); }
}
