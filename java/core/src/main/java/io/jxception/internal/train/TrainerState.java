package io.jxception.internal.train;

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

    public static TrainerState fromMetadata(Map<String, String> m) {
        if (!FORMAT.equals(m.get("format"))) {
            throw new IllegalArgumentException("not a jxception training checkpoint (metadata format is " + m.get("format") + ", expected " + FORMAT + ")");
        }
        int version = Integer.parseInt(get(m, "version"));
        if (version != VERSION) throw new IllegalArgumentException("checkpoint version " + version + " is not supported (this build reads version " + VERSION + ")");
        return new TrainerState(
                Integer.parseInt(get(m, "epoch")), Integer.parseInt(get(m, "batch_in_epoch")), Long.parseLong(get(m, "step")),
                Long.parseUnsignedLong(get(m, "rng_state"), 16),
                new LossScaler.State(Float.parseFloat(get(m, "loss_scale")), Integer.parseInt(get(m, "loss_scale_good_steps")),
                        Long.parseLong(get(m, "loss_scale_skipped_steps"))),
                new EpochMeter.Totals(Double.parseDouble(get(m, "epoch_loss_sum")), Long.parseLong(get(m, "epoch_correct")),
                        Long.parseLong(get(m, "epoch_seen")), Double.parseDouble(get(m, "epoch_seconds")),
                        Double.parseDouble(get(m, "epoch_wait_seconds")), Long.parseLong(get(m, "epoch_skipped_steps")),
                        Double.parseDouble(get(m, "epoch_last_lr"))),
                EpochRecord.parseCsvTable(get(m, "history")),
                new RunIdentity(get(m, "config"), List.of(get(m, "classes").split("\n")), Integer.parseInt(get(m, "train_examples")),
                        Integer.parseInt(get(m, "batch_size")), Long.parseLong(get(m, "seed")), get(m, "backend"),
                        // checkpoints written before data parallelism are of one process
                        Integer.parseInt(m.getOrDefault("processes", "1")), Boolean.parseBoolean(m.getOrDefault("sync_batch_norm", "false"))));
    }

    private static String get(Map<String, String> m, String key) {
        String v = m.get(key);
        if (v == null) throw new IllegalArgumentException("checkpoint metadata lacks '" + key + "': written by another version?");
        return v;
    }
}
