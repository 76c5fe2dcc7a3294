package io.jxception.train;

import io.jxception.model.XceptionConfig;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Everything a training run needs; validated on construction; immutable. {@link #builder} starts from the
 * Xception paper's ImageNet setup (SGD, momentum 0.9, lr 0.045 decayed ×0.94 every 2 epochs,
 * weight decay 1e-5) at Keras' full size.
 *
 * @param trainData          image folder, one sub-folder per class
 * @param validationData     separate validation folder with the same classes, or null to split
 *                           {@code validationFraction} off {@code trainData} (0: no validation)
 * @param inputSize          square input side (≥ 71); images are resized to it
 * @param widthMultiplier    channel scale of a network built from scratch (1 = Keras)
 * @param middleRepeats      middle-flow blocks of a network built from scratch (8 = Keras)
 * @param initialWeights     Keras .h5 or safetensors to start from (with or without the top; a top
 *                           with another class count is replaced by a fresh classifier), or null for
 *                           Keras' initializers
 * @param freezeBelow        Keras layer name: every layer stored before it keeps its weights
 *                           (fine-tuning); null trains everything
 * @param maxSteps           stop after this many SGD steps in all (tests, smoke runs); 0 = no limit
 * @param checkpointEvery    write a checkpoint every this many steps (0: only at epoch ends and the end)
 * @param resume             continue from {@code outputDir/checkpoint.safetensors} if it exists
 * @param skipBadImages      images that do not decode (every one is decoded before the first step)
 *                           are left out and reported, where otherwise the run stops before it starts
 * @param syncBatchNorm      with several processes ({@link Trainer#communicator}): batch-norm statistics over
 *                           the batches of every process, so that N processes × batch B compute what one
 *                           process of batch N·B computes; without it each process normalises by its own
 *                           batch and the moving statistics are averaged over the processes. No effect alone.
 * @param gradientBucketBytes with several processes: gradients are summed in buckets of about this many
 *                           bytes, each started as soon as the backward pass has finished it (speed only:
 *                           the sums do not depend on it)
 * @param overlapGradientExchange with several processes: start each bucket's sum while the backward pass goes on
 *                           (true, the default), or sum every bucket with a blocking allreduce after it (faster
 *                           where the CPU itself moves MPI's data, e.g. several processes on one machine)
 * @param lossEvery          read the steps' losses and accuracies every this many steps (default 10), so that on a
 *                           backend with a copy queue (CUDA) the host enqueues steps without waiting for each; the
 *                           results do not depend on it, only when progress is reported and how soon a diverged loss
 *                           or a stop request is acted on (at most this many steps later). Read every step
 *                           regardless with dynamic loss scaling (each step's overflow decides the next), with several
 *                           processes (they agree on every step) and on backends whose reads wait for the device anyway
 */
public record TrainOptions(Path trainData, Path validationData, double validationFraction, int inputSize,
                           double widthMultiplier, int middleRepeats, Path initialWeights, String freezeBelow,
                           int batchSize, int epochs, long maxSteps, LearningRateSchedule learningRate,
                           double momentum, double weightDecay, Augmentation augmentation, LossScaling lossScaling,
                           int loaderThreads, int prefetchBatches, long seed, Path outputDir, int checkpointEvery,
                           boolean resume, boolean skipBadImages, boolean syncBatchNorm, long gradientBucketBytes,
                           boolean overlapGradientExchange, int lossEvery) {
    /** PyTorch DDP's default bucket: 25 MiB. */
    public static final long DEFAULT_BUCKET_BYTES = 25L << 20;

    /** Whether the loss is scaled: AUTO is dynamic scaling for fp16 backends and none otherwise. */
    public enum LossScaling {
        /** Dynamic scaling on fp16 backends, none elsewhere. */
        AUTO,
        /** No scaling. */
        NONE,
        /** Dynamic scaling: halved on overflow (the step skipped), doubled after 2000 clean steps. */
        DYNAMIC
    }

    /** @throws IllegalArgumentException for a value out of its range, naming it */
    public TrainOptions {
        Objects.requireNonNull(trainData, "trainData");
        Objects.requireNonNull(outputDir, "outputDir");
        Objects.requireNonNull(learningRate, "learningRate");
        Objects.requireNonNull(augmentation, "augmentation");
        Objects.requireNonNull(lossScaling, "lossScaling");
        if (!(validationFraction >= 0 && validationFraction < 1)) throw new IllegalArgumentException("validation fraction must be in [0, 1), got " + validationFraction);
        if (validationData != null && validationFraction > 0) throw new IllegalArgumentException("give a validation folder or a validation fraction, not both");
        if (inputSize < XceptionConfig.MIN_INPUT || inputSize > XceptionConfig.MAX_INPUT) {
            throw new IllegalArgumentException("input size must be from " + XceptionConfig.MIN_INPUT + " to " + XceptionConfig.MAX_INPUT + ", got " + inputSize);
        }
        if (!(widthMultiplier > 0) || widthMultiplier > 8) throw new IllegalArgumentException("width multiplier must be in (0, 8], got " + widthMultiplier);
        if (middleRepeats < 0 || middleRepeats > 8) throw new IllegalArgumentException("middle blocks must be from 0 to 8 (Keras has 8), got " + middleRepeats);
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        if (epochs < 1) throw new IllegalArgumentException("epochs must be at least 1, got " + epochs);
        if (maxSteps < 0) throw new IllegalArgumentException("max steps must be at least 0 (0 = no limit), got " + maxSteps);
        if (!(momentum >= 0 && momentum < 1)) throw new IllegalArgumentException("momentum must be in [0, 1), got " + momentum);
        if (!(weightDecay >= 0 && weightDecay < 1)) throw new IllegalArgumentException("weight decay must be in [0, 1), got " + weightDecay);
        if (loaderThreads < 1) throw new IllegalArgumentException("loader threads must be at least 1, got " + loaderThreads);
        if (prefetchBatches < 1) throw new IllegalArgumentException("prefetch must be at least 1 batch, got " + prefetchBatches);
        if (checkpointEvery < 0) throw new IllegalArgumentException("checkpoint interval must be at least 0 steps, got " + checkpointEvery);
        if (lossEvery < 1) throw new IllegalArgumentException("loss interval must be at least 1 step, got " + lossEvery);
        if (gradientBucketBytes < Float.BYTES) throw new IllegalArgumentException("gradient bucket must hold at least one float (4 bytes), got " + gradientBucketBytes);
        if (freezeBelow != null && freezeBelow.isBlank()) freezeBelow = null;
    }

    /** The paper's defaults for {@code trainData} (one sub-folder per class) and {@code outputDir}. */
    public static Builder builder(Path trainData, Path outputDir) { return new Builder(trainData, outputDir); }

    /** A builder holding these options. */
    public Builder toBuilder() {
        Builder b = new Builder(trainData, outputDir);
        b.validationData = validationData;
        b.validationFraction = validationFraction;
        b.inputSize = inputSize;
        b.widthMultiplier = widthMultiplier;
        b.middleRepeats = middleRepeats;
        b.initialWeights = initialWeights;
        b.freezeBelow = freezeBelow;
        b.batchSize = batchSize;
        b.epochs = epochs;
        b.maxSteps = maxSteps;
        b.learningRate = learningRate;
        b.momentum = momentum;
        b.weightDecay = weightDecay;
        b.augmentation = augmentation;
        b.lossScaling = lossScaling;
        b.loaderThreads = loaderThreads;
        b.prefetchBatches = prefetchBatches;
        b.seed = seed;
        b.checkpointEvery = checkpointEvery;
        b.resume = resume;
        b.skipBadImages = skipBadImages;
        b.syncBatchNorm = syncBatchNorm;
        b.gradientBucketBytes = gradientBucketBytes;
        b.overlapGradientExchange = overlapGradientExchange;
        b.lossEvery = lossEvery;
        return b;
    }

    /** Mutable defaults for {@link TrainOptions}; {@link #build} validates. Not thread-safe. */
    public static final class Builder {
        private Path trainData, outputDir, validationData, initialWeights;
        private double validationFraction = 0, widthMultiplier = 1, momentum = 0.9, weightDecay = 1e-5;
        private int inputSize = 299, middleRepeats = 8, batchSize = 32, epochs = 10, checkpointEvery = 500, lossEvery = 10;
        private int loaderThreads = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors() / 2));
        private int prefetchBatches = 4;
        private long maxSteps = 0, seed = 1, gradientBucketBytes = DEFAULT_BUCKET_BYTES;
        private String freezeBelow;
        private LearningRateSchedule learningRate = new LearningRateSchedule.StepDecay(0.045, 0.94, 2, 0);
        private Augmentation augmentation = Augmentation.NONE;
        private LossScaling lossScaling = LossScaling.AUTO;
        private boolean resume, skipBadImages, syncBatchNorm, overlapGradientExchange = true;

        private Builder(Path trainData, Path outputDir) {
            this.trainData = trainData;
            this.outputDir = outputDir;
        }

        /** The image folder to train on. */
        public Builder trainData(Path p) { trainData = p; return this; }
        /** Where checkpoint, log and weights go (created if missing). */
        public Builder outputDir(Path p) { outputDir = p; return this; }
        /** A separate validation folder with the same classes. */
        public Builder validationData(Path p) { validationData = p; return this; }
        /** The share of the training images held out for validation (0: none). */
        public Builder validationFraction(double f) { validationFraction = f; return this; }
        /** The square input side (at least 71). */
        public Builder inputSize(int s) { inputSize = s; return this; }
        /** The channel scale of a network built from scratch (1 = Keras). */
        public Builder widthMultiplier(double w) { widthMultiplier = w; return this; }
        /** The middle-flow blocks of a network built from scratch (8 = Keras). */
        public Builder middleRepeats(int r) { middleRepeats = r; return this; }
        /** Keras .h5 or safetensors weights to start from. */
        public Builder initialWeights(Path p) { initialWeights = p; return this; }
        /** The Keras layer below which weights stay fixed (fine-tuning). */
        public Builder freezeBelow(String layer) { freezeBelow = layer; return this; }
        /** Images per SGD step. */
        public Builder batchSize(int b) { batchSize = b; return this; }
        /** Epochs to train. */
        public Builder epochs(int e) { epochs = e; return this; }
        /** Stop after this many steps in all (0: no limit). */
        public Builder maxSteps(long s) { maxSteps = s; return this; }
        /** The learning-rate schedule. */
        public Builder learningRate(LearningRateSchedule s) { learningRate = s; return this; }
        /** SGD momentum, in [0, 1). */
        public Builder momentum(double m) { momentum = m; return this; }
        /** L2 weight decay, in [0, 1). */
        public Builder weightDecay(double d) { weightDecay = d; return this; }
        /** Random changes to training images. */
        public Builder augmentation(Augmentation a) { augmentation = a; return this; }
        /** Loss scaling for mixed precision. */
        public Builder lossScaling(LossScaling s) { lossScaling = s; return this; }
        /** Image decoding threads. */
        public Builder loaderThreads(int t) { loaderThreads = t; return this; }
        /** Batches decoded ahead. */
        public Builder prefetchBatches(int p) { prefetchBatches = p; return this; }
        /** The seed of initial weights, shuffles and augmentations. */
        public Builder seed(long s) { seed = s; return this; }
        /** Checkpoint every this many steps (0: epoch ends only). */
        public Builder checkpointEvery(int steps) { checkpointEvery = steps; return this; }
        /** Continue from the output folder's checkpoint when there is one. */
        public Builder resume(boolean r) { resume = r; return this; }
        /** Leave out (and report) images that do not decode, instead of stopping before the first step. */
        public Builder skipBadImages(boolean s) { skipBadImages = s; return this; }
        /** With several processes: batch-norm statistics over every process's batch. */
        public Builder syncBatchNorm(boolean s) { syncBatchNorm = s; return this; }
        /** With several processes: the size of the gradient buckets summed while the backward pass runs. */
        public Builder gradientBucketBytes(long bytes) { gradientBucketBytes = bytes; return this; }
        /** With several processes: start bucket sums during the backward pass (true) or after it, blocking (false). */
        public Builder overlapGradientExchange(boolean overlap) { overlapGradientExchange = overlap; return this; }

        /** Read the losses every this many steps (at least 1; speed only, see {@link TrainOptions}). */
        public Builder lossEvery(int steps) { lossEvery = steps; return this; }

        /** The options; validated as {@link TrainOptions} is. */
        public TrainOptions build() {
            return new TrainOptions(trainData, validationData, validationFraction, inputSize, widthMultiplier, middleRepeats,
                    initialWeights, freezeBelow, batchSize, epochs, maxSteps, learningRate, momentum, weightDecay, augmentation,
                    lossScaling, loaderThreads, prefetchBatches, seed, outputDir, checkpointEvery, resume, skipBadImages, syncBatchNorm,
                    gradientBucketBytes, overlapGradientExchange, lossEvery);
        }
    }
}
