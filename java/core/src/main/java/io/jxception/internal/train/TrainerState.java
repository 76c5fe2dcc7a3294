package io.jxception.internal.train;

import io.jxception.internal.text.Printable;
import io.jxception.train.EpochRecord;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a run stands, besides weights and momentum: enough to continue bit-for-bit. Stored as the
 * checkpoint's string metadata. Doubles are written with {@link Double#toString}, which parses back
 * to the same bits.
 *
 * @param epoch          0-based epoch in progress (== epochs when the run is complete)
 * @param batchInEpoch   batches of {@code epoch} already trained
 * @param step           SGD steps done (skipped fp16-overflow steps included)
 * @param rngEpochStart  the run's {@link Rng} state from which {@code epoch}'s {@link EpochPlan} is drawn
 * @param lossScale      the loss scaler's state
 * @param meter          running sums of the epoch in progress
 * @param history        completed epochs
 * @param run            what must match for a resumed run to repeat the same computation
 */
public record TrainerState(int epoch, int batchInEpoch, long step, long rngEpochStart, LossScaler.State lossScale,
                           EpochMeter.Totals meter, List<EpochRecord> history, RunIdentity run) {
    public static final String FORMAT = "jxception-checkpoint";
    public static final int VERSION = 1;

    public TrainerState {
        history = List.copyOf(history);
    }

    /**
     * The settings a checkpoint is bound to: resuming with other values would train a different
     * sequence (other batches, other network), so {@link #requireSame} refuses it.
     */
    public record RunIdentity(String config, List<String> classes, int trainExamples, int batchSize, long seed, String backend,
                              int processes, boolean syncBatchNorm) {
        public RunIdentity {
            classes = List.copyOf(classes);
        }

        /** A run of one process (no data parallelism). */
        public RunIdentity(String config, List<String> classes, int trainExamples, int batchSize, long seed, String backend) {
            this(config, classes, trainExamples, batchSize, seed, backend, 1, false);
        }

        /** Throws with the first difference; the backend may differ (then results are not bitwise equal, only close). */
        public void requireSame(RunIdentity now) {
            check("network", config, now.config);
            check("classes", classes, now.classes);
            check("training images", trainExamples, now.trainExamples);
            check("batch size", batchSize, now.batchSize);
            check("seed", seed, now.seed);
            // N processes × batch B see other batches (and, without sync BN, other statistics) than M × B
            check("number of processes", processes, now.processes);
            check("synchronised batch norm", syncBatchNorm, now.syncBatchNorm);
        }

        private static void check(String what, Object saved, Object now) {
            if (!saved.equals(now)) {
                throw new IllegalArgumentException("cannot resume: the checkpoint was written with " + what + " " + saved + " but this run has " + now
                        + "; resume with the original settings or start a new output folder");
            }
        }
    }

    public Map<String, String> toMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("version", Integer.toString(VERSION));
        m.put("epoch", Integer.toString(epoch));
        m.put("batch_in_epoch", Integer.toString(batchInEpoch));
        m.put("step", Long.toString(step));
        m.put("rng_state", Long.toHexString(rngEpochStart));
        m.put("loss_scale", Float.toString(lossScale.scale()));
        m.put("loss_scale_good_steps", Integer.toString(lossScale.goodSteps()));
        m.put("loss_scale_skipped_steps", Long.toString(lossScale.skippedSteps()));
        m.put("epoch_loss_sum", Double.toString(meter.lossSum()));
        m.put("epoch_correct", Long.toString(meter.correct()));
        m.put("epoch_seen", Long.toString(meter.seen()));
        m.put("epoch_seconds", Double.toString(meter.seconds()));
        m.put("epoch_wait_seconds", Double.toString(meter.waitSeconds()));
        m.put("epoch_skipped_steps", Long.toString(meter.skippedSteps()));
        m.put("epoch_last_lr", Double.toString(meter.lastLearningRate()));
        m.put("history", EpochRecord.csv(history));
        m.put("config", run.config());
        m.put("classes", String.join("\n", run.classes()));
        m.put("train_examples", Integer.toString(run.trainExamples()));
        m.put("batch_size", Integer.toString(run.batchSize()));
        m.put("seed", Long.toString(run.seed()));
        m.put("backend", run.backend());
        m.put("processes", Integer.toString(run.processes()));
        m.put("sync_batch_norm", Boolean.toString(run.syncBatchNorm()));
        return m;
    }

    /**
     * Parses a checkpoint's metadata. Every field is checked on its own (a number where a number
     * belongs, counts non-negative, values finite, the scale positive); {@link #requireWithin} then
     * checks the fields against each other and against the run that resumes.
     *
     * @throws IllegalArgumentException naming the field and its (printable) value
     */
    public static TrainerState fromMetadata(Map<String, String> m) {
        if (!FORMAT.equals(m.get("format"))) {
            throw new IllegalArgumentException("not a jxception training checkpoint (metadata format is " + Printable.quoted(m.get("format")) + ", expected " + FORMAT + ")");
        }
        int version = (int) integer(m, "version", 0, Integer.MAX_VALUE);
        if (version != VERSION) throw new IllegalArgumentException("checkpoint version " + version + " is not supported (this build reads version " + VERSION + ")");
        long step = integer(m, "step", 0, Long.MAX_VALUE);
        float scale = (float) real(m, "loss_scale");
        if (!(scale > 0) || Float.isInfinite(scale)) throw field("loss_scale", m, "a positive finite number");
        List<EpochRecord> history;
        try {
            history = EpochRecord.parseCsvTable(get(m, "history"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("checkpoint metadata 'history' is not a training log: " + Printable.of(e.getMessage()), e);
        }
        List<String> classes = List.of(get(m, "classes").split("\n", -1));
        return new TrainerState(
                (int) integer(m, "epoch", 0, Integer.MAX_VALUE), (int) integer(m, "batch_in_epoch", 0, Integer.MAX_VALUE), step,
                parseRngState(m),
                new LossScaler.State(scale, (int) integer(m, "loss_scale_good_steps", 0, Integer.MAX_VALUE),
                        integer(m, "loss_scale_skipped_steps", 0, step)),
                new EpochMeter.Totals(nonNegativeReal(m, "epoch_loss_sum"), integer(m, "epoch_correct", 0, Long.MAX_VALUE),
                        integer(m, "epoch_seen", 0, Long.MAX_VALUE), nonNegativeReal(m, "epoch_seconds"),
                        nonNegativeReal(m, "epoch_wait_seconds"), integer(m, "epoch_skipped_steps", 0, Long.MAX_VALUE),
                        real(m, "epoch_last_lr")),
                history,
                new RunIdentity(get(m, "config"), classes, (int) integer(m, "train_examples", 1, Integer.MAX_VALUE),
                        (int) integer(m, "batch_size", 1, Integer.MAX_VALUE), integer(m, "seed", Long.MIN_VALUE, Long.MAX_VALUE), get(m, "backend"),
                        // checkpoints written before data parallelism are of one process
                        m.containsKey("processes") ? (int) integer(m, "processes", 1, Integer.MAX_VALUE) : 1, syncBatchNorm(m)));
    }

    /**
     * Checks that this state is one the run being resumed could have written: {@code epochs} planned
     * epochs of {@code stepsPerEpoch} steps of {@code batchSize} images. The position must be on the
     * plan (epoch ≤ epochs, batch within the epoch, step = epoch·stepsPerEpoch + batch), the epoch's
     * running sums must fit the batches done, and the history must hold one row per finished epoch.
     * A checkpoint that fails here was edited or damaged: training from it would skip data, run
     * epochs that do not exist or use a learning rate from a negative step.
     *
     * @throws IllegalArgumentException naming the field, its value and the bound
     */
    public void requireWithin(int epochs, int stepsPerEpoch, int batchSize) {
        if (epoch > epochs) {
            throw new IllegalArgumentException("checkpoint is at epoch " + epoch + " but this run plans " + epochs
                    + " epochs: resume with --epochs " + epoch + " or more");
        }
        if (batchInEpoch >= stepsPerEpoch || (epoch == epochs && batchInEpoch != 0)) {
            throw new IllegalArgumentException("checkpoint metadata batch_in_epoch = " + batchInEpoch + " is outside the epoch (this run has "
                    + stepsPerEpoch + " batches per epoch): the checkpoint is damaged");
        }
        long expectedStep = (long) epoch * stepsPerEpoch + batchInEpoch;
        if (step != expectedStep) {
            throw new IllegalArgumentException("checkpoint metadata step = " + step + " does not match epoch " + epoch + " and batch_in_epoch "
                    + batchInEpoch + " (" + stepsPerEpoch + " batches per epoch: step " + expectedStep + " expected): the checkpoint is damaged");
        }
        if (meter.seen() != (long) batchInEpoch * batchSize || meter.correct() > meter.seen() || meter.skippedSteps() > batchInEpoch) {
            throw new IllegalArgumentException("checkpoint metadata epoch_seen = " + meter.seen() + ", epoch_correct = " + meter.correct()
                    + ", epoch_skipped_steps = " + meter.skippedSteps() + " do not fit " + batchInEpoch + " batches of " + batchSize
                    + " images: the checkpoint is damaged");
        }
        if (history.size() != epoch) {
            throw new IllegalArgumentException("checkpoint metadata history has " + history.size() + " epochs but the checkpoint is at epoch "
                    + epoch + ": the checkpoint is damaged");
        }
        for (int i = 0; i < history.size(); i++) {
            EpochRecord r = history.get(i);
            if (r.epoch() != i + 1 || r.step() != (long) (i + 1) * stepsPerEpoch) {
                throw new IllegalArgumentException("checkpoint metadata history row " + (i + 1) + " is epoch " + r.epoch() + " at step " + r.step()
                        + ", expected epoch " + (i + 1) + " at step " + (long) (i + 1) * stepsPerEpoch + ": the checkpoint is damaged");
            }
        }
    }

    private static long parseRngState(Map<String, String> m) {
        String v = get(m, "rng_state");
        try {
            if (v.isEmpty() || v.length() > 16 || v.startsWith("+") || v.startsWith("-")) throw new NumberFormatException();
            return Long.parseUnsignedLong(v, 16);
        } catch (NumberFormatException e) {
            throw field("rng_state", m, "up to 16 hexadecimal digits");
        }
    }

    /** An integer field in [min, max]. */
    private static long integer(Map<String, String> m, String key, long min, long max) {
        long v;
        try {
            v = Long.parseLong(get(m, key));
        } catch (NumberFormatException e) {
            throw field(key, m, "an integer");
        }
        if (v < min || v > max) {
            throw field(key, m, min == 0 && max == Long.MAX_VALUE ? "a non-negative integer"
                    : max == Long.MAX_VALUE || max == Integer.MAX_VALUE ? "an integer of at least " + min : "an integer from " + min + " to " + max);
        }
        return v;
    }

    /** A finite number field. */
    private static double real(Map<String, String> m, String key) {
        String v = get(m, key);
        double d;
        try {
            d = Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw field(key, m, "a number");
        }
        if (!Double.isFinite(d)) throw field(key, m, "a finite number");
        return d;
    }

    private static double nonNegativeReal(Map<String, String> m, String key) {
        double d = real(m, key);
        if (d < 0) throw field(key, m, "a non-negative number");
        return d;
    }

    private static IllegalArgumentException field(String key, Map<String, String> m, String expected) {
        return new IllegalArgumentException("checkpoint metadata " + key + " = " + Printable.quoted(m.get(key)) + " is not " + expected
                + ": the checkpoint is damaged");
    }

    /** "sync_batch_norm": true or false; absent in checkpoints written before data parallelism (false). */
    private static boolean syncBatchNorm(Map<String, String> m) {
        String v = m.get("sync_batch_norm");
        if (v == null || v.equals("false")) return false;
        if (v.equals("true")) return true;
        throw field("sync_batch_norm", m, "true or false");
    }

    private static String get(Map<String, String> m, String key) {
        String v = m.get(key);
        if (v == null) throw new IllegalArgumentException("checkpoint metadata lacks '" + key + "': written by another version?");
        return v;
    }
}
