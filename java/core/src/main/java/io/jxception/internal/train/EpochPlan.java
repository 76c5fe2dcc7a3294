package io.jxception.internal.train;

/**
 * The order of one training epoch, drawn from the run's {@link Rng}: a shuffle of the examples and
 * one seed per batch for its augmentations. A plan is a pure function of (rng state, example count,
 * batch size), so a checkpoint that stores the state at the epoch's start can redraw the same plan
 * and continue from any batch. The last incomplete batch is dropped (the batch size is fixed on the
 * device); the shuffle decides which examples sit out each epoch.
 *
 * @param order      example indices in visiting order, (batches·batchSize) of them
 * @param batchSeeds seed of each batch's augmentation draws
 * @param rngStateAfter where the run's generator continues (the next epoch's start state)
 */
public record EpochPlan(int epoch, long rngStateAtStart, int batchSize, int[] order, long[] batchSeeds, long rngStateAfter) {
    public static EpochPlan draw(int epoch, long rngState, int examples, int batchSize) {
        if (examples < batchSize) {
            throw new IllegalArgumentException("the training set has " + examples + " images, fewer than one batch of " + batchSize + ": lower --batch");
        }
        Rng rng = new Rng(rngState);
        int[] all = new int[examples];
        for (int i = 0; i < examples; i++) all[i] = i;
        rng.shuffle(all);
        int batches = examples / batchSize;
        int[] order = java.util.Arrays.copyOf(all, batches * batchSize);
        long[] seeds = new long[batches];
        for (int b = 0; b < batches; b++) seeds[b] = rng.nextLong();
        return new EpochPlan(epoch, rngState, batchSize, order, seeds, rng.state());
    }

    public int batches() { return batchSeeds.length; }

    /** Example indices of batch {@code b}. */
    public int[] batch(int b) { return java.util.Arrays.copyOfRange(order, b * batchSize, (b + 1) * batchSize); }
}
