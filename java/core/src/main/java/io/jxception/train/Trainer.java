package io.jxception.train;

import io.jxception.internal.train.Batch;
import io.jxception.internal.train.BatchLoader;
import io.jxception.internal.train.Checkpoint;
import io.jxception.internal.train.EpochMeter;
import io.jxception.internal.train.EpochPlan;
import io.jxception.internal.train.FineTuning;
import io.jxception.internal.train.ImageFolder;
import io.jxception.internal.train.InitialWeights;
import io.jxception.internal.train.LossScaler;
import io.jxception.internal.train.TrainerState;
import io.jxception.backend.Backend;
import io.jxception.internal.backend.KernelBackend;
import io.jxception.exec.InferenceSession;
import io.jxception.internal.exec.TrainingSession;
import io.jxception.model.Pooling;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.internal.tensor.AtomicFiles;
import io.jxception.tensor.Tensor;
import io.jxception.weights.XceptionWeights;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Trains an Xception classifier on an image folder with one {@link TrainingSession}: seeded
 * shuffles, batches decoded ahead on background threads, SGD with momentum and weight decay under
 * a learning-rate schedule, batch norm in training mode, optional freezing and loss scaling.
 *
 * <p>Everything it writes goes to the output folder: {@value #CHECKPOINT} (weights, momentum, step,
 * epoch, RNG state; every {@code checkpointEvery} steps, at each epoch's end and at the end; written
 * atomically), {@value #LOG} (one row per epoch) and {@value #WEIGHTS} (the final weights alone).
 * Progress goes to a {@link TrainingListener}. A checkpoint is the exact state the run continues
 * from: after writing it the session reloads the saved fp32 values, so a run resumed from it repeats
 * the uninterrupted run bit for bit on the same backend.
 */
public final class Trainer {
    /** The checkpoint the run continues from (weights, momentum, step, epoch, RNG and loss-scaler state). */
    public static final String CHECKPOINT = "checkpoint.safetensors";
    /** The training log: one CSV row per epoch ({@link EpochRecord}). */
    public static final String LOG = "train_log.csv";
    /** The final weights alone, written when every planned epoch ran. */
    public static final String WEIGHTS = "weights.safetensors";
    /** Mixed into the seed for the validation split, so it does not repeat the first epoch's shuffle. */
    private static final long SPLIT_SALT = 0x5EED_5711L;

    private final KernelBackend backend;
    private final TrainOptions o;
    private TrainingListener listener = TrainingListener.NONE;

    /** The outcome of {@link #run}: {@code complete} is false when {@code maxSteps} stopped it early. */
    public record Result(List<String> classes, List<EpochRecord> history, XceptionWeights weights, long steps, boolean complete) {}

    /** A trainer that runs on {@code backend} (opened by {@link io.jxception.backend.Backends}; closed by the caller). */
    public Trainer(Backend backend, TrainOptions options) {
        this.backend = KernelBackend.of(backend);
        this.o = options;
    }

    /** Who hears of the run's progress (nobody by default: the trainer prints nothing). */
    public Trainer listener(TrainingListener listener) {
        this.listener = java.util.Objects.requireNonNull(listener, "listener");
        return this;
    }

    /**
     * Runs the training the options describe, or continues it from its checkpoint ({@link TrainOptions#resume()}).
     *
     * @return the classes, the history, the final weights and the steps done
     * @throws IOException when data, weights or outputs cannot be read or written
     * @throws TrainingDivergedException when a loss or a weight becomes non-finite
     * @throws IllegalArgumentException when the options do not fit the data (too few images, a checkpoint of another run)
     */
    public Result run() throws IOException {
        ImageFolder train = ImageFolder.scan(o.trainData());
        ImageFolder validation = null;
        if (o.validationData() != null) {
            validation = ImageFolder.scan(o.validationData());
            train.requireSameClasses(validation);
        } else if (o.validationFraction() > 0) {
            ImageFolder.Split split = train.split(o.validationFraction(), o.seed() ^ SPLIT_SALT);
            train = split.train();
            validation = split.validation();
        }
        List<String> classes = train.classes();
        int batch = o.batchSize();
        int trainImages = train.examples().size();
        int stepsPerEpoch = trainImages / batch;
        if (stepsPerEpoch == 0) throw new IllegalArgumentException("the training set has " + trainImages + " images, fewer than one batch of " + batch + ": lower the batch size");
        // the schedule spans the planned epochs; maxSteps only stops early (a stopped run resumes on the same schedule)
        long scheduleSteps = (long) o.epochs() * stepsPerEpoch;
        long totalSteps = o.maxSteps() > 0 ? Math.min(scheduleSteps, o.maxSteps()) : scheduleSteps;

        Files.createDirectories(o.outputDir());
        Path checkpointFile = o.outputDir().resolve(CHECKPOINT);
        XceptionGraph graph = XceptionGraph.build(config(classes.size()));
        TrainerState.RunIdentity identity = new TrainerState.RunIdentity(graph.config().toString(), classes, trainImages, batch, o.seed(), backend.name());

        Checkpoint resumed = null;
        if (!o.resume() && Files.exists(checkpointFile)) {
            throw new IllegalArgumentException("the output folder " + o.outputDir() + " already holds a training checkpoint: resume it (--resume) or choose another output folder");
        }
        if (o.resume() && !Files.exists(checkpointFile)) listener.message("no checkpoint in " + o.outputDir() + " yet: starting a new run");
        if (o.resume() && Files.exists(checkpointFile)) {
            resumed = Checkpoint.read(checkpointFile, graph);
            resumed.state().run().requireSame(identity);
            if (!resumed.state().run().backend().equals(backend.name())) {
                listener.message("note: checkpoint was written on backend " + resumed.state().run().backend() + ", continuing on " + backend.name()
                        + ": results will be close but not bitwise equal to an uninterrupted run");
            }
            listener.message(String.format(Locale.ROOT, "resuming from %s at step %d (epoch %d, batch %d)", checkpointFile, resumed.state().step(),
                    resumed.state().epoch() + 1, resumed.state().batchInEpoch()));
        }
        XceptionWeights initial = resumed != null ? resumed.weights() : InitialWeights.load(o.initialWeights(), graph, o.seed());
        Set<String> frozen = o.freezeBelow() == null ? Set.of() : FineTuning.layersBelow(graph, o.freezeBelow());

        LossScaler scaler = switch (o.lossScaling()) {
            case AUTO -> LossScaler.forPrecision(backend.precision());
            case NONE -> LossScaler.none();
            case DYNAMIC -> LossScaler.dynamic(LossScaler.INITIAL_SCALE, LossScaler.GROWTH_INTERVAL);
        };
        int epoch = 0, batchInEpoch = 0;
        long step = 0, rngState = o.seed();
        EpochMeter.Totals totals = EpochMeter.Totals.ZERO;
        List<EpochRecord> history = new ArrayList<>();
        if (resumed != null) {
            TrainerState s = resumed.state();
            epoch = s.epoch();
            batchInEpoch = s.batchInEpoch();
            step = s.step();
            rngState = s.rngEpochStart();
            totals = s.meter();
            history.addAll(s.history());
            scaler.restore(s.lossScale());
        }

        try (TrainingSession session = new TrainingSession(backend, initial, batch, frozen);
             BatchLoader loader = new BatchLoader(graph.input().h(), graph.input().w(), o.loaderThreads(), o.prefetchBatches())) {
            if (resumed != null) session.setVelocities(resumed.velocities());
            listener.message(String.format(Locale.ROOT, "training %s on %s: %d classes, %d training images (%d steps/epoch)%s, batch %d, %d parameters (%d frozen layers)",
                    describe(graph.config()), backend.description(), classes.size(), trainImages, stepsPerEpoch,
                    validation == null ? "" : ", " + validation.examples().size() + " validation images", batch, graph.parameterCount(), frozen.size()));
            while (epoch < o.epochs() && step < totalSteps) {
                EpochPlan plan = EpochPlan.draw(epoch, rngState, trainImages, batch);
                EpochMeter meter = new EpochMeter(totals, batchInEpoch);
                listener.epochStarted(epoch, o.epochs(), plan.batches(), batchInEpoch);
                try (BatchLoader.Stream stream = loader.training(train, plan, batchInEpoch, o.augmentation())) {
                    while (stream.hasNext() && step < totalSteps) {
                        long t0 = System.nanoTime(), wait0 = stream.waitNanos();
                        Batch b = stream.next();
                        double lr = o.learningRate().rate(step, stepsPerEpoch, scheduleSteps);
                        float scale = scaler.scale();
                        double loss;
                        try {
                            loss = session.forwardBackward(b.images(), b.labels(), scale);
                        } catch (ArithmeticException e) {
                            throw diverged(step + 1, String.format(Locale.ROOT, "at step %d (epoch %d, batch %d)", step + 1, epoch + 1, batchInEpoch + 1),
                                    e.getMessage(), checkpointFile, e);
                        }
                        boolean apply = !scaler.isDynamic() || scaler.update(session.unscaleGradients(scale));
                        if (apply) session.sgdStep((float) lr, (float) o.momentum(), (float) o.weightDecay());
                        int correct = countCorrect(session.probabilities(), b.labels());
                        step++;
                        batchInEpoch++;
                        meter.add(loss, correct, b.size(), (System.nanoTime() - t0) * 1e-9, (stream.waitNanos() - wait0) * 1e-9, !apply, lr);
                        listener.stepDone(batchInEpoch, meter.meanLoss(), meter.accuracy(), meter.imagesPerSecond());
                        boolean midEpoch = batchInEpoch < plan.batches();
                        if (midEpoch && (step == totalSteps || (o.checkpointEvery() > 0 && step % o.checkpointEvery() == 0))) {
                            checkpoint(session, checkpointFile, new TrainerState(epoch, batchInEpoch, step, plan.rngStateAtStart(),
                                    scaler.state(), meter.totals(), history, identity));
                        }
                    }
                }
                if (batchInEpoch < plan.batches()) {
                    listener.epochStopped(String.format(Locale.ROOT, "stopped after step %d (max steps), mid-epoch %d", step, epoch + 1));
                    break;
                }
                Validation v = validation == null ? Validation.NONE : validate(session, loader, validation, step, epoch);
                EpochMeter.Totals t = meter.totals();
                EpochRecord record = new EpochRecord(epoch + 1, step, t.lastLearningRate(), meter.meanLoss(), meter.accuracy(),
                        v.loss(), v.accuracy(), meter.imagesPerSecond(), t.seconds(), t.waitSeconds(), t.skippedSteps());
                history.add(record);
                listener.epochEnded(record, summary(record, scaler));
                epoch++;
                batchInEpoch = 0;
                rngState = plan.rngStateAfter();
                totals = EpochMeter.Totals.ZERO;
                AtomicFiles.write(o.outputDir().resolve(LOG), EpochRecord.csv(history).getBytes(StandardCharsets.UTF_8));
                checkpoint(session, checkpointFile, new TrainerState(epoch, 0, step, rngState, scaler.state(), totals, history, identity));
            }
            XceptionWeights last = finiteWeights(session, step, checkpointFile);
            boolean complete = epoch >= o.epochs();
            if (complete) io.jxception.weights.WeightsFiles.save(o.outputDir().resolve(WEIGHTS), last);
            return new Result(classes, history, last, step, complete);
        }
    }

    /** The network: from the initial weights file when given (its width and depth), else from the options. */
    private XceptionConfig config(int classes) throws IOException {
        if (o.initialWeights() != null) return InitialWeights.config(o.initialWeights(), o.inputSize(), classes);
        return new XceptionConfig(o.inputSize(), o.inputSize(), classes, true, Pooling.NONE, o.widthMultiplier(), o.middleRepeats());
    }

    /**
     * Writes the state and reloads the saved fp32 values into the session, so that this run and one
     * resumed from the file continue from identical state.
     */
    private void checkpoint(TrainingSession session, Path file, TrainerState state) throws IOException {
        XceptionWeights w = finiteWeights(session, state.step(), file);
        Map<String, Tensor> v = session.velocities();
        new Checkpoint(w, v, state).write(file);
        session.setWeights(w);
        session.setVelocities(v);
    }

    /**
     * The session's weights after {@code steps} steps, or {@link TrainingDivergedException} when an
     * update since the last check made one non-finite (the loss of its step was still finite).
     */
    private XceptionWeights finiteWeights(TrainingSession session, long steps, Path checkpointFile) {
        try {
            return session.weights();
        } catch (IllegalArgumentException e) {
            throw diverged(steps, "after step " + steps, "an update made a weight non-finite: " + e.getMessage(), checkpointFile, e);
        }
    }

    /** @param step 1-based step number, as in the log's step column */
    private TrainingDivergedException diverged(long step, String where, String what, Path checkpointFile, Exception cause) {
        String last = Files.exists(checkpointFile) ? "the last good checkpoint " + checkpointFile + " is kept" : "no checkpoint was written yet";
        return new TrainingDivergedException(String.format(Locale.ROOT,
                "training diverged %s: %s; %s. Lower the learning rate or add warm-up, then resume or restart.", where, what, last), step, cause);
    }

    private record Validation(double loss, double accuracy) {
        static final Validation NONE = new Validation(Double.NaN, Double.NaN);
    }

    /** Loss and top-1 accuracy on the validation set with batch norm in inference mode (moving statistics). */
    private Validation validate(TrainingSession session, BatchLoader loader, ImageFolder validation, long step, int epoch) {
        XceptionWeights w = finiteWeights(session, step, o.outputDir().resolve(CHECKPOINT));
        double lossSum = 0;
        long correct = 0, seen = 0;
        try (InferenceSession inference = new InferenceSession(backend, w, o.batchSize());
             BatchLoader.Stream stream = loader.inOrder(validation, o.batchSize())) {
            while (stream.hasNext()) {
                Batch b = stream.next();
                Tensor probs = inference.run(b.images());
                int classes = probs.shape().dim(1);
                for (int i = 0; i < b.size(); i++) {
                    lossSum -= Math.log(Math.max(probs.data()[i * classes + b.labels()[i]], 1e-30));
                }
                correct += countCorrect(probs, b.labels());
                seen += b.size();
            }
        }
        return new Validation(lossSum / seen, (double) correct / seen);
    }

    /** Number of rows of probs (n, classes) whose first maximum is at the label. */
    static int countCorrect(Tensor probs, int[] labels) {
        int classes = probs.shape().dim(1), correct = 0;
        float[] p = probs.data();
        for (int i = 0; i < labels.length; i++) {
            int best = 0;
            for (int c = 1; c < classes; c++) if (p[i * classes + c] > p[i * classes + best]) best = c;
            if (best == labels[i]) correct++;
        }
        return correct;
    }

    private static String summary(EpochRecord r, LossScaler scaler) {
        String s = String.format(Locale.ROOT, "epoch %d: loss %.4f acc %.3f", r.epoch(), r.trainLoss(), r.trainAccuracy());
        if (Double.isFinite(r.valLoss())) s += String.format(Locale.ROOT, " | val loss %.4f acc %.3f", r.valLoss(), r.valAccuracy());
        s += String.format(Locale.ROOT, " | lr %.4g | %.1f img/s, %.1f s (%.2f s waiting for data)", r.learningRate(), r.imagesPerSecond(), r.seconds(), r.dataWaitSeconds());
        if (scaler.isDynamic()) s += String.format(Locale.ROOT, " | loss scale %.0f, %d steps skipped", scaler.scale(), r.skippedSteps());
        return s;
    }

    /** "Xception 299x299 width 1, 8 middle blocks": the network in words, as the log's first line and the CLI's plot title give it. */
    public static String describe(XceptionConfig c) {
        return String.format(Locale.ROOT, "Xception %dx%d width %.4g, %d middle blocks", c.inputHeight(), c.inputWidth(), c.widthMultiplier(), c.middleRepeats());
    }
}
