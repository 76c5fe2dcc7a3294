package io.jxception.internal.backend.cuda;

import io.jxception.internal.backend.KernelBackend;
import io.jxception.backend.Precision;
import io.jxception.internal.exec.OpProfile;
import io.jxception.internal.exec.TrainingSession;
import io.jxception.model.Pooling;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;
import io.jxception.internal.train.KerasInit;
import io.jxception.internal.train.LossScaler;
import io.jxception.weights.XceptionWeights;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Training throughput on one CUDA device (run on the GPU machine by benchmarks/device/steps/train.sh;
 * not a test). One step is what {@link io.jxception.train.Trainer} does per batch: upload the fp32
 * images and labels, forward in training mode, backward, (fp16: unscale and check every gradient on
 * the device, one 4-byte flag read, as {@link LossScaler#forPrecision} chooses) and SGD with momentum
 * and weight decay on the fp32 master weights; then a synchronize. From the second step on, the forward
 * and backward launches replay as one CUDA graph and the optimizer is one launch each for unscale and
 * SGD (TrainingSession, CudaBackend.weightUpdate), and the next batch is copied from the host while the step
 * computes (TrainingSession.stage between enqueueStep and awaitLoss); {@code --no-replay} runs the step as
 * before 2026-12-05 instead, for the comparison: every launch enqueued from the host, the batch copied before
 * the step. Each step is timed by the
 * synchronized wall clock (the forward/backward already waits for its loss download) after warm-up
 * steps that load the kernels and size the scratch; the median step gives images/s. A run stops
 * timing after {@code --reps} steps or, with at least 3 timed, after {@code --run-seconds}, so slow
 * precisions cannot eat the device step's budget. The data loader is not part of it (the trainer's
 * runs on background threads).
 *
 * <pre>java -cp ... io.jxception.internal.backend.cuda.CudaTrainingBenchmark [--csv train-bench.csv]
 *      [--precisions FP32,TF32,BF16,FP16] [--configs 299:32:1,299:32:0.25] [--warmup 3] [--reps 10] [--run-seconds 4] [--seconds 45]
 *      [--profile 2] [--peaks 4.8,989] [--no-replay] [--loss-every 10]</pre>
 * A config is size:batch:widthMultiplier (all 8 middle blocks, 1000 classes). {@code --profile N} then runs N more
 * steps (after one warm-up) with every op timed alone by CUDA events ({@link OpProfile}) and prints where a step's
 * device time goes, per op and per op shape, each beside its floor (OpCost: every tensor read and written once,
 * the op's own math) at the card's rates: {@code --peaks TB/s,TFLOP/s}, else the datasheet's for the H100 SXM,
 * H200 and A100 in the precision profiled ({@link #datasheetPeaks}).
 */
public final class CudaTrainingBenchmark {
    record Config(int size, int batch, double width) {
        static Config parse(String s) {
            String[] f = s.split(":");
            if (f.length != 3) throw new IllegalArgumentException("config " + s + " is not size:batch:width");
            return new Config(Integer.parseInt(f[0]), Integer.parseInt(f[1]), Double.parseDouble(f[2]));
        }

        XceptionConfig xception() { return new XceptionConfig(size, size, 1000, true, Pooling.NONE, width, 8); }

        @Override public String toString() { return String.format(Locale.ROOT, "%dx%d b%d w%.3g", size, size, batch, width); }
    }

    /**
     * Median step time, the median of its unscale-and-check part, steps the loss scaler skipped, and the
     * device memory the training session holds after its steps (MiB; -1 where the backend cannot say).
     */
    record Result(double medianStepMs, double medianScalingMs, long skipped, double imagesPerSecond, int timedSteps, double sessionMiB,
                  int replayedLaunches, double pipelinedStepMs) {}

    public static void main(String[] args) throws IOException {
        List<Precision> precisions = List.of(Precision.FP32, Precision.TF32, Precision.BF16, Precision.FP16);
        List<Config> configs = List.of(new Config(299, 32, 1), new Config(299, 32, 0.25));
        int warmup = 3, reps = 10, profileSteps = 0, lossEvery = 0;
        double[] peakOption = null;   // TB/s, TFLOP/s
        boolean replay = true;
        double budgetSeconds = 45, runSeconds = 4;
        Path csv = Path.of("train-bench.csv");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--csv" -> csv = Path.of(args[++i]);
                case "--precisions" -> precisions = Arrays.stream(args[++i].split(",")).map(Precision::parse).toList();
                case "--configs" -> configs = Arrays.stream(args[++i].split(",")).map(Config::parse).toList();
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--seconds" -> budgetSeconds = Double.parseDouble(args[++i]);
                case "--run-seconds" -> runSeconds = Double.parseDouble(args[++i]);
                case "--profile" -> profileSteps = Integer.parseInt(args[++i]);
                case "--peaks" -> peakOption = Arrays.stream(args[++i].split(",")).mapToDouble(Double::parseDouble).toArray();
                case "--no-replay" -> replay = false;
                case "--loss-every" -> lossEvery = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        long deadline = System.nanoTime() + (long) (budgetSeconds * 1e9);
        List<String> summary = new ArrayList<>();
        try (PrintWriter out = new PrintWriter(Files.newBufferedWriter(csv))) {
            out.println("kind,device,precision,size,batch,width,median_step_ms,images_per_s,median_scaling_ms,skipped_steps,reps,session_mib,replayed_launches,pipelined_step_ms");
            for (Config c : configs) {
                XceptionWeights w = KerasInit.fresh(XceptionGraph.build(c.xception()), 7);
                for (Precision p : precisions) {
                    if (System.nanoTime() > deadline) {
                        System.out.println("# time budget spent: skipping " + c + " " + p);
                        summary.add(String.format(Locale.ROOT, "%-18s %-5s skipped (time budget)", c, p));
                        continue;
                    }
                    try (CudaBackend b = (CudaBackend) new CudaBackendProvider().open(0, p, CudaTestDevice.optionsFromSystemProperties())) {
                        String dev = b.description().split(" \\(")[0].replace(',', ' ');
                        System.out.println("# " + c + " on " + b.description());
                        Result r = run(b, w, c, warmup, reps, runSeconds, replay, lossEvery);
                        if (profileSteps > 0) {
                            OpProfile.Peaks peaks = peakOption != null && peakOption.length == 2
                                    ? new OpProfile.Peaks(peakOption[0] * 1e12, peakOption[1] * 1e12, "--peaks") : datasheetPeaks(b.description(), p);
                            System.out.println("# profile of " + c + " " + p + " (ops timed one by one)\n" + profile(b, w, c, profileSteps, peaks)
                                    + (peaks == null ? "-- no floors: the card is not in datasheetPeaks; give --peaks TB/s,TFLOP/s\n" : ""));
                        }
                        out.printf(Locale.ROOT, "train,%s,%s,%d,%d,%s,%.3f,%.1f,%.3f,%d,%d,%.0f,%d,%.3f%n", dev, p, c.size(), c.batch(), c.width(),
                                r.medianStepMs(), r.imagesPerSecond(), r.medianScalingMs(), r.skipped(), r.timedSteps(), r.sessionMiB(), r.replayedLaunches(),
                                r.pipelinedStepMs());
                        out.flush();
                        summary.add(String.format(Locale.ROOT, "%-18s %-5s step %8.2f ms %8.1f img/s   unscale+check %6.3f ms, %d skipped, %d timed, session %.0f MiB, %s",
                                c, p, r.medianStepMs(), r.imagesPerSecond(), r.medianScalingMs(), r.skipped(), r.timedSteps(), r.sessionMiB(),
                                r.replayedLaunches() > 0 ? "graph of " + r.replayedLaunches() + " launches" : "eager")
                                + (r.pipelinedStepMs() > 0 ? String.format(Locale.ROOT, "; loss read every %d steps: %.2f ms/step, %.1f img/s",
                                        lossEvery, r.pipelinedStepMs(), c.batch() / (r.pipelinedStepMs() * 1e-3)) : ""));
                    } catch (RuntimeException | OutOfMemoryError e) {
                        System.out.println("# " + c + " " + p + " FAILED: " + e);
                        e.printStackTrace(System.out);
                        summary.add(String.format(Locale.ROOT, "%-18s %-5s FAILED %s", c, p, e.getMessage()));
                    }
                }
            }
        }
        System.out.println("jxception CUDA training, forward+backward+SGD per step, median (" + csv + "):");
        summary.forEach(System.out::println);
    }

    /**
     * With {@code lossEvery} > 1 (replay on, static loss scale), after the per-step loop the same session runs
     * {@code 2·lossEvery} more steps the way the trainer does with {@code --loss-every}: no wait per step, the
     * losses read every lossEvery steps with the newest step left running; their mean step time (the loop's
     * wall clock over the steps, synchronized at its end) is {@code pipelinedStepMs}, else -1.
     */
    static Result run(KernelBackend b, XceptionWeights w, Config c, int warmup, int reps, double runSeconds, boolean replay, int lossEvery) {
        Random r = new Random(c.batch());
        Shape inShape = Shape.of(c.batch(), c.size(), c.size(), 3);
        float[] img = new float[inShape.size()];
        for (int i = 0; i < img.length; i++) img[i] = (float) (r.nextDouble() * 2 - 1);   // Keras 'tf' range, never zeros
        Tensor x = new Tensor(inShape, img);
        int[] labels = new int[c.batch()];
        for (int i = 0; i < labels.length; i++) labels[i] = r.nextInt(1000);
        LossScaler scaler = LossScaler.forPrecision(b.precision());
        double[] stepMs = new double[reps], scalingMs = new double[reps];
        int timed = 0;
        long before = b instanceof CudaBackend cb ? cb.deviceMemoryUsedBytes() : -1;
        double sessionMiB = -1, pipelinedMs = -1;
        int replayed;
        try (TrainingSession s = new TrainingSession(b, w, c.batch(), java.util.Set.of(), replay)) {
            long stopAfter = Long.MAX_VALUE;
            for (int i = -warmup; i < reps; i++) {
                if (i == 0) stopAfter = System.nanoTime() + (long) (runSeconds * 1e9);
                if (i >= 3 && System.nanoTime() > stopAfter) break;
                long t0 = System.nanoTime();
                float scale = scaler.scale();
                if (replay) {
                    if (i == -warmup) s.stage(x, labels);
                    s.enqueueStep(scale);
                    s.stage(x, labels);   // the next step's batch (the same images), copied while this step computes
                    s.awaitLoss();
                } else {
                    s.forwardBackward(x, labels, scale);
                }
                long t1 = System.nanoTime();
                boolean apply = !scaler.isDynamic() || scaler.update(s.unscaleGradients(scale));
                long t2 = System.nanoTime();
                if (apply) s.sgdStep(1e-3f, 0.9f, 1e-5f);
                b.synchronize();
                long t3 = System.nanoTime();
                if (i >= 0) {
                    stepMs[i] = (t3 - t0) * 1e-6;
                    scalingMs[i] = scaler.isDynamic() ? (t2 - t1) * 1e-6 : 0;
                    timed++;
                }
            }
            if (lossEvery > 1 && replay && !scaler.isDynamic()) pipelinedMs = pipelined(s, x, labels, lossEvery);
            // after the steps: weights, gradients, momentum, activations and the grown scratch are all allocated
            if (before >= 0) sessionMiB = (((CudaBackend) b).deviceMemoryUsedBytes() - before) / (double) (1 << 20);
            replayed = s.replayedLaunches();
        }
        double median = median(Arrays.copyOf(stepMs, timed));
        return new Result(median, median(Arrays.copyOf(scalingMs, timed)), scaler.skippedSteps(), c.batch() / (median * 1e-3), timed, sessionMiB, replayed, pipelinedMs);
    }

    /** Mean step time (ms) of 2·k steps enqueued without a wait per step, losses read every k (the Trainer's loop). */
    private static double pipelined(TrainingSession s, Tensor x, int[] labels, int k) {
        java.util.ArrayDeque<io.jxception.internal.exec.StepOutputs> pending = new java.util.ArrayDeque<>();
        int steps = 2 * k;
        s.stage(x, labels);
        long t0 = System.nanoTime();
        try {
            for (int i = 0; i < steps; i++) {
                s.enqueueStep(1f);
                s.stage(x, labels);
                pending.addLast(s.deferStep());
                s.sgdStep(1e-3f, 0.9f, 1e-5f);
                while (pending.size() > k) {   // read k, the newest keeps running
                    try (io.jxception.internal.exec.StepOutputs o = pending.removeFirst()) {
                        o.loss();
                        o.probabilities();
                    }
                }
            }
            while (!pending.isEmpty()) {
                try (io.jxception.internal.exec.StepOutputs o = pending.removeFirst()) {
                    o.loss();
                }
            }
            return (System.nanoTime() - t0) * 1e-6 / steps;
        } finally {
            for (io.jxception.internal.exec.StepOutputs o : pending) o.close();
        }
    }

    /**
     * The datasheet's memory bandwidth and dense peak of the card named at the start of {@code description}
     * in precision {@code p} (BF16/FP16 and TF32 on tensor cores, FP32 on the FMA units), or null for
     * another card. SXM parts: H100 80GB HBM3 3.35 TB/s and 989 / 495 / 67 TFLOP/s; H200 4.8 TB/s and the
     * same peaks; A100 (SXM 80GB) 2.04 TB/s and 312 / 156 / 19.5.
     */
    static OpProfile.Peaks datasheetPeaks(String description, Precision p) {
        String d = description.toUpperCase(Locale.ROOT);
        double tbps, bf16, tf32, fp32;
        if (d.contains("H200")) { tbps = 4.8; bf16 = 989.4; tf32 = 494.7; fp32 = 66.9; }
        else if (d.contains("H100") && d.contains("HBM3")) { tbps = 3.35; bf16 = 989.4; tf32 = 494.7; fp32 = 66.9; }
        else if (d.contains("A100") && d.contains("80GB")) { tbps = 2.04; bf16 = 312; tf32 = 156; fp32 = 19.5; }
        else return null;
        double tflops = switch (p) {
            case BF16, FP16 -> bf16;
            case TF32 -> tf32;
            case FP32 -> fp32;
        };
        return new OpProfile.Peaks(tbps * 1e12, tflops * 1e12, "datasheet, " + description.split(" \\(")[0] + " " + p);
    }

    /** The op profile of {@code steps} training steps (after one warm-up step) on a new session over {@code b}, with floors at {@code peaks} (or none). */
    static String profile(KernelBackend b, XceptionWeights w, Config c, int steps, OpProfile.Peaks peaks) {
        Random r = new Random(c.batch() + 1);
        Shape inShape = Shape.of(c.batch(), c.size(), c.size(), 3);
        float[] img = new float[inShape.size()];
        for (int i = 0; i < img.length; i++) img[i] = (float) (r.nextDouble() * 2 - 1);
        Tensor x = new Tensor(inShape, img);
        int[] labels = new int[c.batch()];
        for (int i = 0; i < labels.length; i++) labels[i] = r.nextInt(1000);
        LossScaler scaler = LossScaler.forPrecision(b.precision());
        OpProfile profile = new OpProfile();
        // not closed: closing the wrapper would close b, which the caller owns
        KernelBackend timed = profile.wrap(b);
        try (TrainingSession s = new TrainingSession(timed, w, c.batch())) {
            for (int i = -1; i < steps; i++) {
                if (i == 0) profile.reset();
                float scale = scaler.scale();
                s.forwardBackward(x, labels, scale);
                if (!scaler.isDynamic() || scaler.update(s.unscaleGradients(scale))) s.sgdStep(1e-3f, 0.9f, 1e-5f);
            }
        }
        return profile.table(steps, 15, peaks);
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    }
}
