package io.jxception.cli;

import io.jxception.distributed.Communicator;
import io.jxception.distributed.Communicators;
import io.jxception.internal.backend.KernelBackend;
import io.jxception.internal.text.Printable;
import io.jxception.internal.train.FineTuning;
import io.jxception.model.Pooling;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.train.Augmentation;
import io.jxception.train.LearningRateSchedule;
import io.jxception.train.TrainOptions;
import io.jxception.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.Locale;

/**
 * {@code jxception train}: trains or fine-tunes an Xception classifier on an image folder (one
 * sub-folder per class) with {@link Trainer}. Writes checkpoint, CSV log, curves PNG and final
 * weights into {@code --out}; {@code --resume} continues an interrupted run from its checkpoint.
 *
 * <p>Under mpirun or srun ({@link Communicators#fromEnvironment()} finds more than one process) it is
 * one rank of a data-parallel training: {@code --batch} images per process, rank 0 writes the
 * output folder, every log line carries {@code [rank r/n]}, {@code --backend auto} takes the local
 * rank's device. SIGTERM and SIGUSR1 stop the run after the current step with a checkpoint
 * ({@link StopSignals}). A rank that fails reports its error and ends the job (MPI_Abort), so that
 * no other rank waits for it.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train or fine-tune an Xception classifier on an image folder (DATA/<class>/<image>.png|jpg).",
                "Writes checkpoint.safetensors, train_log.csv, curves.png and weights.safetensors into --out."})
final class TrainCommand extends Subcommand {
    @Parameters(index = "0", paramLabel = "DATA", description = "Training images, one sub-folder per class.")
    Path data;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder (created if missing).")
    Path out;

    @Option(names = "--val", paramLabel = "DIR", description = "Validation images with the same class sub-folders.")
    Path validation;

    @Option(names = "--val-split", defaultValue = "0", paramLabel = "F",
            description = "Without --val: fraction of each class held out for validation (default 0: none).")
    double validationFraction;

    @Mixin BackendOptions backendOptions;

    @Option(names = "--size", defaultValue = "299", paramLabel = "S", description = "Input height and width, at least 71 (default 299).")
    int size;

    @Option(names = "--width", defaultValue = "1", paramLabel = "W",
            description = "Channel multiplier of a network trained from scratch (default 1 = Keras; e.g. 0.0625).")
    double width;

    @Option(names = "--middle-blocks", defaultValue = "8", paramLabel = "N", description = "Middle-flow blocks of a network trained from scratch (default 8).")
    int middleBlocks;

    @Option(names = "--weights", paramLabel = "FILE",
            description = "Start from a Keras .h5 or safetensors file, with or without the top; a new classifier is made for the data's classes.")
    Path weights;

    @Option(names = "--freeze-below", paramLabel = "LAYER",
            description = "Keep every layer stored before this Keras layer fixed (fine-tuning), e.g. block14_sepconv1.")
    String freezeBelow;

    @Option(names = "--batch", defaultValue = "32", paramLabel = "N", description = "Images per step (default 32).")
    int batch;

    @Option(names = "--epochs", defaultValue = "10", paramLabel = "E", description = "Passes over the training images (default 10).")
    int epochs;

    @Option(names = "--max-steps", defaultValue = "0", paramLabel = "N", description = "Stop after N steps in all (default 0: no limit).")
    long maxSteps;

    @Option(names = "--lr", defaultValue = "0.045", paramLabel = "R", description = "Base learning rate (default 0.045, the paper's).")
    double learningRate;

    @Option(names = "--schedule", defaultValue = "step", paramLabel = "S",
            description = "step (lr·decay^(epoch/decay-epochs), default), cosine or constant.")
    String schedule;

    @Option(names = "--lr-decay", defaultValue = "0.94", paramLabel = "F", description = "Step schedule factor (default 0.94).")
    double decay;

    @Option(names = "--lr-decay-epochs", defaultValue = "2", paramLabel = "E", description = "Step schedule interval in epochs (default 2).")
    int decayEpochs;

    @Option(names = "--warmup-steps", defaultValue = "0", paramLabel = "N", description = "Linear learning-rate warm-up (default 0).")
    long warmupSteps;

    @Option(names = "--momentum", defaultValue = "0.9", paramLabel = "M", description = "SGD momentum (default 0.9).")
    double momentum;

    @Option(names = "--weight-decay", defaultValue = "1e-5", paramLabel = "D", description = "L2 weight decay on kernels (default 1e-5).")
    double weightDecay;

    @Option(names = "--crop", defaultValue = "0", paramLabel = "P",
            description = "Random-crop augmentation: shift by up to P pixels (edge-padded; default 0: off).")
    int crop;

    @Option(names = "--flip", description = "Random horizontal flips (not for digits or text).")
    boolean flip;

    @Option(names = "--loss-scaling", defaultValue = "auto", paramLabel = "MODE",
            description = "auto (dynamic for fp16, default), none or dynamic.")
    String lossScaling;

    @Option(names = "--no-plot", description = "Skip the loss/accuracy PNG at the end (the CSV log is still written).")
    boolean noPlot;

    @Option(names = "--loader-threads", paramLabel = "N", description = "Image decoding threads (default: half the cores, 1 to 4).")
    Integer loaderThreads;

    @Option(names = "--prefetch", defaultValue = "4", paramLabel = "N", description = "Batches decoded ahead (default 4).")
    int prefetch;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of initial weights, shuffles and augmentations (default 1).")
    long seed;

    @Option(names = "--checkpoint-every", defaultValue = "500", paramLabel = "N",
            description = "Checkpoint every N steps, besides each epoch's end (default 500; 0: epoch ends only).")
    int checkpointEvery;

    @Option(names = "--loss-every", defaultValue = "10", paramLabel = "N",
            description = "Read the loss and accuracy every N steps (default 10): on CUDA the host then enqueues steps without "
                    + "waiting for each. Results do not depend on N; progress, a diverged loss and a stop are seen up to N steps later. "
                    + "Every step with dynamic loss scaling (fp16), under mpirun/srun, and on cpu/opencl.")
    int lossEvery;

    @Option(names = "--resume", description = "Continue from --out/checkpoint.safetensors when it exists.")
    boolean resume;

    @Option(names = "--sync-bn", description = "Under mpirun/srun: batch-norm statistics over every process's batch "
            + "(N processes x --batch B then equal one process of batch N*B); default: each process's own batch.")
    boolean syncBatchNorm;

    @Option(names = "--bucket-mb", defaultValue = "25", paramLabel = "MB",
            description = "Under mpirun/srun: gradients are summed in buckets of about MB megabytes, each started while the backward pass goes on (default 25).")
    double bucketMegabytes;

    @Option(names = "--exchange", defaultValue = "overlap", paramLabel = "WHEN",
            description = "Under mpirun/srun: overlap (default: each gradient bucket's sum starts during the backward pass) or after "
                    + "(blocking sums after it; faster when MPI's data moves through this machine's own cores).")
    String exchange;

    @Option(names = "--skip-bad-images", description = "Leave out (and list) images that do not decode; without it one bad image stops the run before step 1.")
    boolean skipBadImages;

    @Override
    int execute() throws Exception {
        TrainOptions options;
        try {
            TrainOptions.Builder b = TrainOptions.builder(data, out)
                    .validationData(validation).validationFraction(validationFraction)
                    .inputSize(size).widthMultiplier(width).middleRepeats(middleBlocks)
                    .initialWeights(weights).freezeBelow(freezeBelow)
                    .batchSize(batch).epochs(epochs).maxSteps(maxSteps)
                    .learningRate(LearningRateSchedule.parse(schedule, learningRate, decay, decayEpochs, warmupSteps))
                    .momentum(momentum).weightDecay(weightDecay)
                    .augmentation(new Augmentation(crop, flip))
                    .lossScaling(parseLossScaling(lossScaling))
                    .prefetchBatches(prefetch).seed(seed).checkpointEvery(checkpointEvery).lossEvery(lossEvery).resume(resume).skipBadImages(skipBadImages)
                    .syncBatchNorm(syncBatchNorm).gradientBucketBytes((long) (bucketMegabytes * 1e6))
                    .overlapGradientExchange(parseExchange(exchange));
            if (loaderThreads != null) b.loaderThreads(loaderThreads);
            options = b.build();
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
        if (freezeBelow != null) requireLayer(freezeBelow);
        try (Communicator comm = Communicators.fromEnvironment()) {
            if (comm.rank() == 0 && !noPlot && java.nio.file.Files.isDirectory(out)) {
                io.jxception.internal.tensor.AtomicFiles.checkTarget(out.resolve(TrainingPlot.FILE_NAME)); // the plot is written last: check it first
            }
            return JobFailure.abortingJob(comm, out(), err(), () -> train(options, comm, JobFailure.prefix(comm)));
        }
    }

    private int train(TrainOptions options, Communicator comm, String prefix) throws Exception {
        try (KernelBackend backend = backendOptions.open(comm.size() > 1);
             TrainingProgress progress = new TrainingProgress(err(), System.console() != null, comm.rank(), comm.size())) {
            Trainer trainer = new Trainer(backend, options).listener(progress).communicator(comm);
            Trainer.Result r;
            try (StopSignals signals = new StopSignals(trainer::requestStop, progress::say)) {
                r = trainer.run();
            }
            progress.close();
            if (comm.rank() == 0 && !noPlot && !r.history().isEmpty()) {
                TrainingPlot.write(r.history(), Trainer.describe(r.weights().graph().config()) + " on " + backend.name()
                        + (comm.size() > 1 ? " x " + comm.size() + " processes" : ""), out.resolve(TrainingPlot.FILE_NAME));
            }
            var last = r.history().isEmpty() ? null : r.history().get(r.history().size() - 1);
            out().printf(Locale.ROOT, "%s%s after %d steps; %s%n", prefix, r.complete() ? "finished" : "stopped", r.steps(),
                    last == null ? "no epoch completed" : String.format(Locale.ROOT, "epoch %d: train acc %.3f", last.epoch(), last.trainAccuracy())
                            + (Double.isNaN(last.valAccuracy()) ? "" : String.format(Locale.ROOT, ", val acc %.3f", last.valAccuracy())));
            Trainer.ProcessTimes t = progress.times();
            if (t != null && t.steps() > 0) {
                out().printf(Locale.ROOT, "%son %s, per step (steps 2 to %d): %.1f ms = compute %.1f + gradient exchange %.1f (%.1f exposed) + staging %.1f"
                                + " + data wait %.1f; %.2f MB summed per step in %d buckets%n",
                        prefix, backend.name(), t.steps() + 1, 1e3 * t.stepSeconds() / t.steps(), 1e3 * t.computeSeconds() / t.steps(),
                        1e3 * t.exchangeSeconds() / t.steps(), 1e3 * t.exposedWaitSeconds() / t.steps(), 1e3 * t.stagingSeconds() / t.steps(),
                        1e3 * t.dataWaitSeconds() / t.steps(), t.bytesPerStep() / 1e6, t.buckets());
            }
            if (comm.rank() == 0) out().println(prefix + "outputs in " + out.toAbsolutePath());
            out().flush();
            return 0;
        }
    }

    private static boolean parseExchange(String s) {
        return switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "overlap" -> true;
            case "after" -> false;
            default -> throw new IllegalArgumentException("unknown --exchange '" + s + "': expected overlap or after");
        };
    }

    /**
     * --freeze-below must name a Keras layer of the network: checked on the network these options
     * build (with --weights, on Keras' full network, whose layer names every Xception file uses).
     */
    private void requireLayer(String layer) {
        boolean fromFile = weights != null;
        XceptionGraph graph = XceptionGraph.build(new XceptionConfig(size, size, 2, true, Pooling.NONE,
                fromFile ? 1.0 : width, fromFile ? 8 : middleBlocks));
        try {
            FineTuning.layersBelow(graph, layer);
        } catch (IllegalArgumentException e) {
            throw usage("--freeze-below: " + Printable.escape(e.getMessage()));
        }
    }

    private TrainOptions.LossScaling parseLossScaling(String s) {
        try {
            return TrainOptions.LossScaling.valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown --loss-scaling '" + s + "': expected auto, none or dynamic");
        }
    }
}
