package io.jxception.train;

import io.jxception.internal.train.Batch;
import io.jxception.internal.train.BatchLoader;
import io.jxception.internal.train.Checkpoint;
import io.jxception.internal.train.EpochMeter;
import io.jxception.internal.train.EpochPlan;
import io.jxception.internal.train.FineTuning;
import io.jxception.internal.train.ImageCheck;
import io.jxception.internal.train.ImageFolder;
import io.jxception.internal.train.InitialWeights;
import io.jxception.internal.train.LossScaler;
import io.jxception.internal.train.Replicas;
import io.jxception.internal.train.TrainerState;
import io.jxception.backend.Backend;
import io.jxception.internal.backend.KernelBackend;
import io.jxception.exec.InferenceSession;
import io.jxception.internal.backend.OverlappedTransfers;
import io.jxception.internal.exec.GradientExchange;
import io.jxception.internal.exec.StepOutputs;
import io.jxception.internal.exec.TrainingSession;
import io.jxception.distributed.Communicator;
import io.jxception.distributed.Communicators;
import io.jxception.model.Pooling;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.internal.tensor.AtomicFiles;
import io.jxception.internal.text.Printable;
import io.jxception.tensor.Tensor;
import io.jxception.weights.XceptionWeights;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
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
 * from (weights, moving statistics and momentum are fp32 values on every backend), so writing one
 * does not change the run, and a run resumed from it repeats the uninterrupted run bit for bit on
 * the same backend. Before the first step the output folder is checked writable and every image is
 * decoded once ({@link TrainOptions#skipBadImages}).
 *
 * <p><b>Several processes</b> ({@link #communicator}, e.g. {@link Communicators#fromEnvironment()}
 * under mpirun or srun): data-parallel training of one model. Rank 0's initial (or resumed) weights
 * reach every rank; every rank draws the same epoch order (the seed's) in global batches of
 * N·{@code batchSize} images and trains on its slice (rank r: positions [r·B, (r+1)·B) of each);
 * the gradients of the mean loss over the global batch are summed over the ranks while the backward
 * pass runs; one small allreduce per step makes every rank agree on the loss, the accuracy, a
 * loss-scale overflow and a stop request. With {@link TrainOptions#syncBatchNorm()} the batch norms
 * use the global batch's statistics (N × B equals 1 × N·B within rounding); without, each rank's own
 * (and the moving statistics are averaged). Rank 0 alone writes the output folder; a checkpoint is
 * read by rank 0 and broadcast. Every rank calls {@link #run}; every rank's listener hears the same
 * global numbers. A rank whose {@code run} throws should report the error and call
 * {@link Communicator#abortJob} unless every rank threw (the other ranks may wait in a collective).
 *
 * <p>Thread-safety: one thread runs a trainer; {@link #requestStop} may be called from any thread.
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
    private Communicator communicator = Communicators.singleProcess();
    /** Why a stop was asked for (any thread), or null. */
    private volatile String stopRequest;

    /** The outcome of {@link #run}: {@code complete} is false when {@code maxSteps} stopped it early. */
    public record Result(List<String> classes, List<EpochRecord> history, XceptionWeights weights, long steps, boolean complete) {}

    /** A trainer that runs on {@code backend} (opened by {@link io.jxception.backend.Backends}; closed by the caller). */
    public Trainer(Backend backend, TrainOptions options) {
        this.backend = KernelBackend.of(backend);
        this.o = options;
    }

    /**
     * The processes this trainer trains with (data parallelism); by default it trains alone. The
     * communicator stays the caller's: the trainer neither closes nor aborts it.
     */
    public Trainer communicator(Communicator communicator) {
        this.communicator = java.util.Objects.requireNonNull(communicator, "communicator");
        return this;
    }

    /**
     * Asks the run to stop cleanly: after the step in progress (or the next one, when it is asked
     * between steps: every rank learns of it in a step's agreement, so they stop after the same step), a
     * checkpoint is written and {@link #run} returns with {@code complete} false; {@code --resume}
     * continues from there. For SIGTERM/SIGUSR1 handlers (a job's time limit); safe from any thread.
     *
     * @param reason said in the stop message, e.g. "SIGUSR1"
     */
    public void requestStop(String reason) {
        stopRequest = reason == null || reason.isBlank() ? "stop requested" : reason;
    }

    /**
     * Where one process's step time went in a data-parallel run, summed over its steps after the
     * first (which includes warm-up). Immutable.
     *
     * @param steps              steps counted
     * @param stepSeconds        wall time of those steps, data waits included
     * @param dataWaitSeconds    of which waiting for the loader
     * @param exchangeSeconds    of which in MPI calls: gradient buckets (started, progressed, awaited),
     *                           synchronised batch-norm sums and the per-step agreement
     * @param exposedWaitSeconds of {@code exchangeSeconds}: blocked at the step's end for sums still in flight
     * @param stagingSeconds     of which copying gradients between device and host for MPI
     * @param bytesPerStep       bytes each process sums per step
     * @param buckets            gradient buckets per step
     */
    public record ProcessTimes(long steps, double stepSeconds, double dataWaitSeconds, double exchangeSeconds, double exposedWaitSeconds,
                               double stagingSeconds, long bytesPerStep, int buckets) {
        /** Step time outside data waits, MPI calls and staging: forward, backward and update on the device. */
        public double computeSeconds() { return stepSeconds - dataWaitSeconds - exchangeSeconds - stagingSeconds; }
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
        Replicas replicas = new Replicas(communicator);
        int processes = replicas.size();
        replicas.onRoot("preparing the output folder " + o.outputDir(), () -> {
            prepareOutputFolder();
            return null;
        });
        ImageFolder train = checkedImages(replicas, ImageFolder.scan(o.trainData()), "training");
        ImageFolder validation = null;
        if (o.validationData() != null) {
            validation = checkedImages(replicas, ImageFolder.scan(o.validationData()), "validation");
            train.requireSameClasses(validation);
        } else if (o.validationFraction() > 0) {
            ImageFolder.Split split = train.split(o.validationFraction(), o.seed() ^ SPLIT_SALT);
            train = split.train();
            validation = split.validation();
        }
        List<String> classes = train.classes();
        int batch = o.batchSize();
        int globalBatch = Math.multiplyExact(batch, processes);
        int trainImages = train.examples().size();
        int stepsPerEpoch = trainImages / globalBatch;
        if (stepsPerEpoch == 0) {
            throw new IllegalArgumentException("the training set has " + trainImages + " images, fewer than one batch of " + batch
                    + (processes > 1 ? " per process x " + processes + " processes = " + globalBatch : "") + ": lower the batch size");
        }
        // the schedule spans the planned epochs; maxSteps only stops early (a stopped run resumes on the same schedule)
        long scheduleSteps = (long) o.epochs() * stepsPerEpoch;
        long totalSteps = o.maxSteps() > 0 ? Math.min(scheduleSteps, o.maxSteps()) : scheduleSteps;

        Path checkpointFile = o.outputDir().resolve(CHECKPOINT);
        XceptionGraph graph = XceptionGraph.build(config(classes.size()));
        // the backend's kind and precision, not its device index: ranks of one job run on cuda:0, cuda:1, ...
        String backendIdentity = processes > 1 ? backendKind(backend) + " " + backend.precision().name().toLowerCase(Locale.ROOT) : backend.name();
        TrainerState.RunIdentity identity = new TrainerState.RunIdentity(graph.config().toString(), classes, trainImages, batch, o.seed(), backendIdentity,
                processes, processes > 1 && o.syncBatchNorm());
        replicas.requireSameRun(fingerprint(identity, train, validation));

        Checkpoint resumed = replicas.shareCheckpoint(graph, () -> {
            if (!o.resume() && Files.exists(checkpointFile)) {
                throw new IllegalArgumentException("the output folder " + o.outputDir() + " already holds a training checkpoint: resume it (--resume) or choose another output folder");
            }
            return o.resume() && Files.exists(checkpointFile) ? Checkpoint.read(checkpointFile, graph) : null;
        });
        if (o.resume() && resumed == null) listener.message("no checkpoint in " + o.outputDir() + " yet: starting a new run");
        if (resumed != null) {
            resumed.state().run().requireSame(identity);
            try {
                resumed.state().requireWithin(o.epochs(), stepsPerEpoch, globalBatch); // the meter counts the images of every process
            } catch (IllegalArgumentException e) {
                throw new IOException(checkpointFile + ": " + e.getMessage(), e);
            }
            if (!resumed.state().run().backend().equals(backendIdentity)) {
                listener.message("note: checkpoint was written on backend " + resumed.state().run().backend() + ", continuing on " + backendIdentity
                        + ": results will be close but not bitwise equal to an uninterrupted run");
            }
            listener.message(String.format(Locale.ROOT, "resuming from %s at step %d (epoch %d, batch %d)", checkpointFile, resumed.state().step(),
                    resumed.state().epoch() + 1, resumed.state().batchInEpoch()));
        }
        XceptionWeights initial = resumed != null ? resumed.weights() : replicas.broadcast(InitialWeights.load(o.initialWeights(), graph, o.seed()));
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
            GradientExchange exchange = replicas.isDistributed() ? session.joinReplicas(communicator, o.syncBatchNorm(), o.gradientBucketBytes(),
                    o.overlapGradientExchange()) : null;
            listener.message(String.format(Locale.ROOT, "training %s on %s: %d classes, %d training images (%d steps/epoch)%s, batch %d, %d parameters (%d frozen layers)",
                    describe(graph.config()), backend.description(), classes.size(), trainImages, stepsPerEpoch,
                    validation == null ? "" : ", " + validation.examples().size() + " validation images", batch, graph.parameterCount(), frozen.size()));
            if (exchange != null) {
                listener.message(String.format(Locale.ROOT, "data parallel: %d processes x batch %d = global batch %d, %s batch norm, gradients in %d buckets of up to %s (%s)",
                        processes, batch, globalBatch, o.syncBatchNorm() ? "synchronised" : "per-process", exchange.bucketCount(),
                        o.gradientBucketBytes() >= 1e6 ? String.format(Locale.ROOT, "%.1f MB", o.gradientBucketBytes() / 1e6)
                                : String.format(Locale.ROOT, "%.1f KB", o.gradientBucketBytes() / 1e3),
                        o.overlapGradientExchange() ? "started during the backward pass" : "summed after the backward pass"));
            }
            ProcessTimesMeter timesMeter = new ProcessTimesMeter();
            // reading each step's loss waits for the device; with a copy queue the reads can follow the steps instead
            boolean deferReads = o.lossEvery() > 1 && backend instanceof OverlappedTransfers && !replicas.isDistributed() && !scaler.isDynamic();
            if (deferReads) listener.message(String.format(Locale.ROOT, "losses read every %d steps: the host enqueues steps without waiting for each", o.lossEvery()));
            String stopped = null;
            while (epoch < o.epochs() && step < totalSteps && stopped == null) {
                EpochPlan plan = EpochPlan.draw(epoch, rngState, trainImages, globalBatch);
                EpochMeter meter = new EpochMeter(totals, batchInEpoch);
                listener.epochStarted(epoch, o.epochs(), plan.batches(), batchInEpoch);
                try (BatchLoader.Stream stream = replicas.isDistributed()
                        ? loader.training(train, plan, batchInEpoch, o.augmentation(), replicas.rank() * batch, batch)
                        : loader.training(train, plan, batchInEpoch, o.augmentation());
                     PendingSteps pending = new PendingSteps()) {
                    Batch next = null;   // the batch staged on the device during the previous step, or null
                    while ((next != null || stream.hasNext()) && step < totalSteps) {
                        long t0 = System.nanoTime(), wait0 = stream.waitNanos();
                        Batch b = next != null ? next : stream.next();
                        if (next == null) session.stage(b.images(), b.labels());
                        next = null;
                        double lr = o.learningRate().rate(step, stepsPerEpoch, scheduleSteps);
                        float scale = scaler.scale();
                        String where = String.format(Locale.ROOT, "at step %d (epoch %d, batch %d)", step + 1, epoch + 1, batchInEpoch + 1);
                        if (deferReads) {
                            // no wait for the device: the loss and probabilities follow the step to the host, read every lossEvery steps
                            session.enqueueStep(scale);
                            if (stream.hasNext() && step + 1 < totalSteps && stopRequest == null) {
                                next = stream.next();
                                session.stage(next.images(), next.labels());
                            }
                            PendingStep p = pending.add(session.deferStep(), b, step + 1, batchInEpoch + 1, where, lr);
                            session.sgdStep((float) lr, (float) o.momentum(), (float) o.weightDecay());
                            step++;
                            batchInEpoch++;
                            p.nanos = System.nanoTime() - t0;
                            p.waitNanos = stream.waitNanos() - wait0;
                            if (stopRequest != null) stopped = stopRequest;
                            boolean checkpointDue = checkpointDue(batchInEpoch < plan.batches(), step, totalSteps, stopped);
                            if (checkpointDue || stopped != null || step == totalSteps) {
                                pending.drain(0, meter, checkpointFile);
                            } else if (pending.size() > o.lossEvery()) {
                                pending.drain(1, meter, checkpointFile);   // lossEvery steps read; the newest runs on
                            }
                            if (checkpointDue) {
                                checkpoint(replicas, session, checkpointFile, new TrainerState(epoch, batchInEpoch, step, plan.rngStateAtStart(),
                                        scaler.state(), meter.totals(), history, identity));
                            }
                            if (stopped != null) break;
                            continue;
                        }
                        double loss;
                        try {
                            // 1/N: the gradients summed over the processes are those of the mean loss over the global batch
                            session.enqueueStep(scale / processes);
                            // the next batch of this epoch (waiting for the loader too) is copied while the step computes
                            if (stream.hasNext() && step + 1 < totalSteps && stopRequest == null) {
                                next = stream.next();
                                session.stage(next.images(), next.labels());
                            }
                            loss = session.awaitLoss();
                        } catch (ArithmeticException e) {
                            if (!replicas.isDistributed()) throw diverged(step + 1, where, e.getMessage(), checkpointFile, e);
                            loss = Double.NaN; // every rank learns it from the agreement below and stops at the same step
                        }
                        boolean finite = !scaler.isDynamic() || session.unscaleGradients(scale);
                        int correct = countCorrect(session.probabilities(), b.labels());
                        long agree0 = System.nanoTime();
                        Replicas.StepTotals t = replicas.isDistributed()
                                ? replicas.agree(loss, correct, b.size(), !finite, stopRequest != null)
                                : new Replicas.StepTotals(loss, correct, b.size(), !finite, stopRequest != null);
                        long agreeNanos = System.nanoTime() - agree0;
                        if (!Double.isFinite(t.meanLoss())) {
                            throw diverged(step + 1, where, Double.isFinite(loss) ? "the loss of another process is not finite"
                                    : "the loss is not finite (" + loss + ")", checkpointFile, null);
                        }
                        boolean apply = !scaler.isDynamic() || scaler.update(!t.overflow());
                        if (apply) session.sgdStep((float) lr, (float) o.momentum(), (float) o.weightDecay());
                        step++;
                        batchInEpoch++;
                        long stepNanos = System.nanoTime() - t0, waitNanos = stream.waitNanos() - wait0;
                        meter.add(t.meanLoss(), (int) t.correct(), (int) t.images(), stepNanos * 1e-9, waitNanos * 1e-9, !apply, lr);
                        if (exchange != null) timesMeter.add(stepNanos, waitNanos, agreeNanos, exchange);
                        listener.stepDone(batchInEpoch, meter.meanLoss(), meter.accuracy(), meter.imagesPerSecond());
                        if (t.stop()) stopped = stopRequest != null ? stopRequest : "stop requested on another process";
                        if (checkpointDue(batchInEpoch < plan.batches(), step, totalSteps, stopped)) {
                            checkpoint(replicas, session, checkpointFile, new TrainerState(epoch, batchInEpoch, step, plan.rngStateAtStart(),
                                    scaler.state(), meter.totals(), history, identity));
                        }
                        if (stopped != null) break;
                    }
                    pending.drain(0, meter, checkpointFile);   // the epoch's last steps, before its record
                }
                if (batchInEpoch < plan.batches()) {
                    listener.epochStopped(stopped != null
                            ? String.format(Locale.ROOT, "stopped after step %d (%s), mid-epoch %d: checkpoint written, --resume continues", step, stopped, epoch + 1)
                            : String.format(Locale.ROOT, "stopped after step %d (max steps), mid-epoch %d", step, epoch + 1));
                    break;
                }
                Validation v = validation == null ? Validation.NONE : validate(replicas, session, loader, validation, step, epoch);
                EpochMeter.Totals t = meter.totals();
                EpochRecord record = new EpochRecord(epoch + 1, step, t.lastLearningRate(), meter.meanLoss(), meter.accuracy(),
                        v.loss(), v.accuracy(), meter.imagesPerSecond(), t.seconds(), t.waitSeconds(), t.skippedSteps());
                history.add(record);
                listener.epochEnded(record, summary(record, scaler));
                epoch++;
                batchInEpoch = 0;
                rngState = plan.rngStateAfter();
                totals = EpochMeter.Totals.ZERO;
                byte[] log = EpochRecord.csv(history).getBytes(StandardCharsets.UTF_8);
                replicas.onRoot("writing the log", () -> {
                    AtomicFiles.write(o.outputDir().resolve(LOG), log);
                    return null;
                });
                checkpoint(replicas, session, checkpointFile, new TrainerState(epoch, 0, step, rngState, scaler.state(), totals, history, identity));
                if (stopped != null && epoch < o.epochs()) {
                    listener.message(String.format(Locale.ROOT, "stopped after step %d (%s), at the end of epoch %d: checkpoint written, --resume continues", step, stopped, epoch));
                }
            }
            XceptionWeights last = finiteWeights(session, step, checkpointFile);
            boolean complete = epoch >= o.epochs();
            if (complete) {
                replicas.onRoot("writing the final weights", () -> {
                    io.jxception.weights.WeightsFiles.save(o.outputDir().resolve(WEIGHTS), last);
                    return null;
                });
            }
            if (exchange != null) listener.processTimes(timesMeter.times(exchange));
            return new Result(classes, history, last, step, complete);
        }
    }

    /** The network: from the initial weights file when given (its width and depth), else from the options. */
    private XceptionConfig config(int classes) throws IOException {
        if (o.initialWeights() != null) return InitialWeights.config(o.initialWeights(), o.inputSize(), classes);
        return new XceptionConfig(o.inputSize(), o.inputSize(), classes, true, Pooling.NONE, o.widthMultiplier(), o.middleRepeats());
    }

    /**
     * Writes the state. Every backend keeps weights, moving statistics and momentum as fp32 values
     * (the float64 reference rounds them to fp32 at each update), so the file holds the exact state:
     * this run goes on unchanged by it, and one resumed from the file continues from identical state.
     */
    private void checkpoint(Replicas replicas, TrainingSession session, Path file, TrainerState state) throws IOException {
        XceptionWeights w = finiteWeights(session, state.step(), file);
        Map<String, Tensor> v = session.velocities();
        replicas.onRoot("writing the checkpoint " + file, () -> {
            new Checkpoint(w, v, state).write(file);
            return null;
        });
    }

    /**
     * Before any work: the output folder exists (created if missing) and every file the run writes
     * can be written there ({@link AtomicFiles#checkTarget}); temporary files that a killed run left
     * behind are removed.
     */
    private void prepareOutputFolder() throws IOException {
        Path out = o.outputDir();
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new IOException("output folder " + out + " exists and is not a folder" + (Files.isRegularFile(out) ? " but a file" : "")
                    + ": give the name of a folder (train creates it when missing)");
        }
        Files.createDirectories(out);
        for (String name : List.of(CHECKPOINT, LOG, WEIGHTS)) {
            Path target = out.resolve(name);
            for (Path stale : AtomicFiles.removeStaleTemporaries(target)) {
                listener.message("removed " + Printable.of(stale.toString()) + ", left by an interrupted write");
            }
            AtomicFiles.checkTarget(target);
        }
    }

    /**
     * {@code folder} after decoding each of its images once: a file that does not decode stops the
     * run here (with every bad file named), or with {@link TrainOptions#skipBadImages} is left out
     * and reported.
     */
    private ImageFolder checkedImages(Replicas replicas, ImageFolder folder, String role) throws IOException {
        List<ImageCheck.Bad> bad = replicas.isDistributed() ? checkedShares(replicas, folder)
                : ImageCheck.run(folder.examples(), o.loaderThreads(), listener::imagesChecked);
        if (bad.isEmpty()) return folder;
        if (!o.skipBadImages()) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < Math.min(bad.size(), 5); i++) sb.append(i == 0 ? "" : "; ").append(Printable.of(bad.get(i).reason()));
            if (bad.size() > 5) sb.append("; and ").append(bad.size() - 5).append(" more");
            throw new IOException(bad.size() + " of the " + folder.examples().size() + " " + role + " images in " + folder.root()
                    + " cannot be decoded: " + sb + ". Fix or remove them, or leave them out with --skip-bad-images");
        }
        java.util.Set<ImageFolder.Example> skip = new java.util.HashSet<>();
        for (ImageCheck.Bad b : bad) {
            skip.add(b.example());
            listener.message("skipping " + role + " image " + Printable.of(b.reason()));
        }
        List<ImageFolder.Example> kept = folder.examples().stream().filter(e -> !skip.contains(e)).toList();
        listener.message(String.format(Locale.ROOT, "skipped %d of %d %s images that cannot be decoded", bad.size(), folder.examples().size(), role));
        return folder.withExamples(kept);
    }

    /** With several processes each decodes its share of the images; every process learns every bad file. */
    private List<ImageCheck.Bad> checkedShares(Replicas replicas, ImageFolder folder) {
        List<ImageFolder.Example> all = folder.examples();
        io.jxception.distributed.RankInfo.Share share = new io.jxception.distributed.RankInfo(replicas.rank(), replicas.size(), 0, 0, "communicator").share(all.size());
        List<ImageFolder.Example> mine = all.subList((int) share.first(), (int) share.end());
        List<String> found = new ArrayList<>();
        for (ImageCheck.Bad b : ImageCheck.run(mine, o.loaderThreads(), listener::imagesChecked)) {
            found.add((share.first() + mine.indexOf(b.example())) + "\t" + b.reason());
        }
        List<ImageCheck.Bad> bad = new ArrayList<>();
        for (String line : replicas.everyRanks(found)) {
            int tab = line.indexOf('\t');
            bad.add(new ImageCheck.Bad(all.get(Integer.parseInt(line.substring(0, tab))), line.substring(tab + 1)));
        }
        return bad;
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
    /** A checkpoint after this step: mid-epoch at the last step, at a stop, and every checkpointEvery steps (epoch ends write their own). */
    private boolean checkpointDue(boolean midEpoch, long step, long totalSteps, String stopped) {
        return midEpoch && (step == totalSteps || stopped != null || (o.checkpointEvery() > 0 && step % o.checkpointEvery() == 0));
    }

    /** A step whose loss and probabilities are on their way to the host ({@link TrainingSession#deferStep}). */
    private static final class PendingStep {
        final StepOutputs outputs;
        final int[] labels;
        final int images, batchInEpoch;   // batchInEpoch counts this step (1-based)
        final long step;                  // 1-based
        final String where;
        final double learningRate;
        long nanos, waitNanos;            // host time of the step (enqueueing, staging, waiting for data); the read's wait goes to the last of a drain

        PendingStep(StepOutputs outputs, Batch b, long step, int batchInEpoch, String where, double learningRate) {
            this.outputs = outputs;
            this.labels = b.labels();
            this.images = b.size();
            this.step = step;
            this.batchInEpoch = batchInEpoch;
            this.where = where;
            this.learningRate = learningRate;
        }
    }

    /** Enqueued steps whose results the host has not read yet, oldest first; closing releases the unread ones. */
    private final class PendingSteps implements AutoCloseable {
        private final ArrayDeque<PendingStep> steps = new ArrayDeque<>();

        PendingStep add(StepOutputs outputs, Batch b, long step, int batchInEpoch, String where, double learningRate) {
            PendingStep p = new PendingStep(outputs, b, step, batchInEpoch, where, learningRate);   // only assigns fields
            steps.addLast(p);
            return p;
        }

        int size() { return steps.size(); }

        /**
         * Reads the pending steps in order, oldest first, until {@code keep} are left (the first read waits
         * for the device), into the meter and the listener as the per-step path would have; a non-finite
         * loss stops the run naming its step. Keeping the newest step in flight keeps the device busy
         * while the host reads: its next step is enqueued before the device runs dry.
         */
        void drain(int keep, EpochMeter meter, Path checkpointFile) {
            long read0 = System.nanoTime();
            while (steps.size() > keep) {
                PendingStep p = steps.peekFirst();
                double loss;
                try {
                    loss = p.outputs.loss();
                } catch (ArithmeticException e) {
                    throw diverged(p.step, p.where, e.getMessage(), checkpointFile, e);
                }
                int correct = countCorrect(p.outputs.probabilities(), p.labels);
                steps.removeFirst().outputs.close();
                long nanos = p.nanos + (steps.size() == keep ? System.nanoTime() - read0 : 0);
                meter.add(loss, correct, p.images, nanos * 1e-9, p.waitNanos * 1e-9, false, p.learningRate);
                listener.stepDone(p.batchInEpoch, meter.meanLoss(), meter.accuracy(), meter.imagesPerSecond());
            }
        }

        @Override public void close() {
            while (!steps.isEmpty()) steps.removeFirst().outputs.close();
        }
    }

    private TrainingDivergedException diverged(long step, String where, String what, Path checkpointFile, Exception cause) {
        String last = Files.exists(checkpointFile) ? "the last good checkpoint " + checkpointFile + " is kept" : "no checkpoint was written yet";
        return new TrainingDivergedException(String.format(Locale.ROOT,
                "training diverged %s: %s; %s. Lower the learning rate or add warm-up, then resume or restart.", where, what, last), step, cause);
    }

    private record Validation(double loss, double accuracy) {
        static final Validation NONE = new Validation(Double.NaN, Double.NaN);
    }

    /**
     * Loss and top-1 accuracy on the validation set with batch norm in inference mode (moving
     * statistics). With several processes each takes a contiguous share of the batches and the sums
     * are added.
     */
    private Validation validate(Replicas replicas, TrainingSession session, BatchLoader loader, ImageFolder validation, long step, int epoch) {
        XceptionWeights w = finiteWeights(session, step, o.outputDir().resolve(CHECKPOINT));
        if (replicas.isDistributed()) {
            int n = validation.examples().size(), batches = (n + o.batchSize() - 1) / o.batchSize();
            io.jxception.distributed.RankInfo.Share share = new io.jxception.distributed.RankInfo(replicas.rank(), replicas.size(), 0, 0, "communicator").share(batches);
            int from = (int) Math.min(n, share.first() * o.batchSize()), to = (int) Math.min(n, share.end() * o.batchSize());
            validation = validation.withExamples(validation.examples().subList(from, to));
        }
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
        if (replicas.isDistributed()) {
            double[] sums = {lossSum, correct, seen};
            replicas.sum(sums);
            lossSum = sums[0];
            correct = Math.round(sums[1]);
            seen = Math.round(sums[2]);
        }
        return new Validation(lossSum / seen, (double) correct / seen);
    }

    /** "cuda" of "cuda:1": the kind of a backend, whatever its device. */
    private static String backendKind(KernelBackend b) {
        String name = b.name();
        int colon = name.indexOf(':');
        return colon < 0 ? name : name.substring(0, colon);
    }

    /**
     * What every process of a data-parallel run must have alike, one "what=value" line each: the
     * run's identity, the options that change the computation, and digests of the image lists
     * (paths relative to their folder, labels), so that ranks started with other data are caught.
     */
    private List<String> fingerprint(TrainerState.RunIdentity id, ImageFolder train, ImageFolder validation) {
        List<String> lines = new ArrayList<>();
        lines.add("network=" + id.config());
        lines.add("classes=" + id.classes());
        lines.add("training images=" + id.trainExamples() + " (digest " + digest(train) + ")");
        lines.add("validation images=" + (validation == null ? "none" : validation.examples().size() + " (digest " + digest(validation) + ")"));
        lines.add("batch per process=" + id.batchSize());
        lines.add("processes=" + id.processes());
        lines.add("backend=" + id.backend());
        lines.add("seed=" + id.seed());
        lines.add("epochs=" + o.epochs() + ", max steps " + o.maxSteps());
        lines.add("learning rate=" + o.learningRate() + ", momentum " + o.momentum() + ", weight decay " + o.weightDecay());
        lines.add("augmentation=" + o.augmentation());
        lines.add("loss scaling=" + o.lossScaling());
        lines.add("synchronised batch norm=" + o.syncBatchNorm());
        lines.add("initial weights=" + (o.initialWeights() == null ? "none" : o.initialWeights().getFileName()) + ", frozen below " + o.freezeBelow());
        lines.add("checkpoint every=" + o.checkpointEvery() + " steps, resume " + o.resume());
        return lines;
    }

    private static String digest(ImageFolder f) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (ImageFolder.Example e : f.examples()) {
                sha.update(f.root().relativize(e.file()).toString().getBytes(StandardCharsets.UTF_8));
                sha.update((byte) 0);
                sha.update(Integer.toString(e.label()).getBytes(StandardCharsets.UTF_8));
                sha.update((byte) '\n');
            }
            return java.util.HexFormat.of().formatHex(sha.digest(), 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this Java runtime", e);
        }
    }

    /** Sums of {@link ProcessTimes} over the steps after the first. */
    private static final class ProcessTimesMeter {
        private long steps, stepNanos, waitNanos, exchangeNanos, exposedNanos, stagingNanos, bytes;
        private boolean first = true;

        void add(long step, long dataWait, long agreeNanos, GradientExchange exchange) {
            GradientExchange.Times t = exchange.times();
            bytes = t.bytes;
            if (first) {
                first = false;
                return;
            }
            steps++;
            stepNanos += step;
            waitNanos += dataWait;
            exchangeNanos += t.communicatorNanos + agreeNanos;
            exposedNanos += t.waitNanos;
            stagingNanos += t.stagingNanos;
        }

        ProcessTimes times(GradientExchange exchange) {
            return new ProcessTimes(steps, stepNanos * 1e-9, waitNanos * 1e-9, exchangeNanos * 1e-9, exposedNanos * 1e-9, stagingNanos * 1e-9,
                    bytes, exchange.bucketCount());
        }
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
