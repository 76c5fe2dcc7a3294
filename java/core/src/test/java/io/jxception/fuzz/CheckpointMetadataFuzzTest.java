package io.jxception.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jxception.internal.train.EpochMeter;
import io.jxception.internal.train.LossScaler;
import io.jxception.internal.train.TrainerState;
import io.jxception.train.EpochRecord;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A training checkpoint's metadata, edited field by field with arbitrary values, then checked
 * against a run of 1 to 4 epochs of 1 to 30 steps of 1 to 16 images, as {@code train --resume} does.
 * Either it is refused (IllegalArgumentException, printable message) or what was accepted is a
 * position on that run's plan: no negative step, no batch beyond its epoch, no epoch beyond the plan.
 */
class CheckpointMetadataFuzzTest {
    static final List<String> KEYS = List.of("format", "version", "epoch", "batch_in_epoch", "step", "rng_state", "loss_scale",
            "loss_scale_good_steps", "loss_scale_skipped_steps", "epoch_loss_sum", "epoch_correct", "epoch_seen", "epoch_seconds",
            "epoch_wait_seconds", "epoch_skipped_steps", "epoch_last_lr", "history", "config", "classes", "train_examples",
            "batch_size", "seed", "backend", "unknown_key");

    /** A valid state of a 3-epoch run of 10 steps of 4 images, in epoch 1 after 3 batches. */
    static Map<String, String> valid() {
        List<EpochRecord> history = List.of(new EpochRecord(1, 10, 0.01, 2.1, 0.2, Double.NaN, Double.NaN, 50, 0.8, 0.1, 0));
        TrainerState s = new TrainerState(1, 3, 13, 0x1234_5678_9abcL, new LossScaler.State(1f, 0, 0),
                new EpochMeter.Totals(6.3, 5, 12, 0.25, 0.01, 0, 0.01), history,
                new TrainerState.RunIdentity("XceptionConfig[...]", List.of("cat", "dog"), 40, 4, 7, "cpu"));
        return s.toMetadata();
    }

    @FuzzTest(maxDuration = "5m")
    void refusesOrAcceptsOnlyAPositionOnThePlan(FuzzedDataProvider data) {
        Map<String, String> m = new LinkedHashMap<>(valid());
        int epochs = data.consumeInt(1, 4), stepsPerEpoch = data.consumeInt(1, 30), batch = data.consumeInt(1, 16);
        int edits = data.consumeInt(0, 6);
        List<String> edited = new ArrayList<>();
        for (int i = 0; i < edits; i++) {
            String key = data.pickValue(KEYS);
            edited.add(key);
            if (data.consumeBoolean()) m.remove(key);
            else m.put(key, data.consumeBoolean() ? Long.toString(data.consumeLong()) : data.consumeString(40));
        }
        TrainerState s;
        try {
            s = TrainerState.fromMetadata(m);
            s.requireWithin(epochs, stepsPerEpoch, batch);
        } catch (IllegalArgumentException e) {
            FuzzFiles.requirePrintableMessage(e);
            return;
        }
        String what = "accepted after editing " + edited + ": " + s;
        if (s.epoch() < 0 || s.epoch() > epochs) throw new AssertionError("epoch off the plan, " + what);
        if (s.batchInEpoch() < 0 || s.batchInEpoch() >= stepsPerEpoch) throw new AssertionError("batch off the epoch, " + what);
        if (s.step() != (long) s.epoch() * stepsPerEpoch + s.batchInEpoch()) throw new AssertionError("step off the position, " + what);
        if (!(s.lossScale().scale() > 0) || s.lossScale().skippedSteps() > s.step()) throw new AssertionError("loss scale state, " + what);
        if (s.meter().seen() != (long) s.batchInEpoch() * batch || s.meter().correct() > s.meter().seen()) throw new AssertionError("meter, " + what);
        if (s.history().size() != s.epoch()) throw new AssertionError("history, " + what);
    }
}
