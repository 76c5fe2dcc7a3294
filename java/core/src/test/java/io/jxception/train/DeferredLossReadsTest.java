package io.jxception.train;

import io.jxception.exec.DeferredQueueBackend;
import io.jxception.internal.train.Checkpoint;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link TrainOptions#lossEvery}: on a backend with a copy queue (here the CPU reference behind a
 * queue that runs nothing until the host waits, as a GPU would) the trainer enqueues steps without
 * waiting for each and reads their losses every few steps. Nothing a run computes or reports may
 * depend on it: the same per-step progress, epoch records, checkpoints and weights bit for bit, a
 * diverged loss named at its own step, a stop that resumes to the uninterrupted run's weights.
 */
class DeferredLossReadsTest {
    /** What a run reported: every stepDone (batch, mean loss, accuracy) and every message. */
    private record Run(Trainer.Result result, List<double[]> steps, List<String> messages, int idleWaits) {}

    private static Run train(TrainOptions o) throws IOException {
        return train(o, -1);
    }

    /** Trains on a fresh deferred-queue backend; {@code stopAtStep} > 0 asks for a stop when that step is reported. */
    private static Run train(TrainOptions o, long stopAtStep) throws IOException {
        List<double[]> steps = new ArrayList<>();
        List<String> messages = new ArrayList<>();
        try (DeferredQueueBackend b = new DeferredQueueBackend()) {
            Trainer t = new Trainer(b, o);
            t.listener(new TrainingListener() {
                @Override public void message(String line) { messages.add(line); }
                @Override public void stepDone(int batchesDone, double meanLoss, double accuracy, double imagesPerSecond) {
                    steps.add(new double[]{batchesDone, meanLoss, accuracy});
                    if (steps.size() == stopAtStep) t.requestStop("test stop");
                }
            });
            return new Run(t.run(), steps, messages, b.idleWaits());
        }
    }

    private static void assertSameWeights(Trainer.Result a, Trainer.Result b) {
        Map<String, Tensor> wa = a.weights().asMap(), wb = b.weights().asMap();
        assertEquals(wa.keySet(), wb.keySet());
        for (String k : wa.keySet()) assertArrayEquals(wa.get(k).data(), wb.get(k).data(), k);
    }

    /** Epoch records without the timings (img/s, seconds, data wait), which differ between any two runs. */
    private static List<String> withoutTimings(List<EpochRecord> history) {
        return history.stream().map(r -> r.epoch() + "," + r.step() + "," + r.learningRate() + "," + r.trainLoss() + "," + r.trainAccuracy()
                + "," + r.valLoss() + "," + r.valAccuracy() + "," + r.skippedSteps()).toList();
    }

    @Test
    void readingEveryFewStepsReportsAndComputesWhatReadingEveryStepDoes(@TempDir Path tmp) throws IOException {
        // 2 epochs of 22 steps (180 images after the split), a checkpoint every 7 (not a multiple of 4), stopped at step 40 of 44
        TrainOptions.Builder base = Runs.small(tmp.resolve("every")).validationFraction(0.1).checkpointEvery(7).maxSteps(40);
        Run every = train(base.lossEvery(1).build());
        Run fourth = train(base.outputDir(tmp.resolve("fourth")).lossEvery(4).build());

        assertEquals(40, every.steps().size());
        assertEquals(every.steps().size(), fourth.steps().size(), "one stepDone per step");
        for (int i = 0; i < every.steps().size(); i++) {
            assertArrayEquals(every.steps().get(i), fourth.steps().get(i), "stepDone " + (i + 1) + ": batch, mean loss, accuracy");
        }
        assertEquals(withoutTimings(every.result().history()), withoutTimings(fourth.result().history()));
        assertSameWeights(every.result(), fourth.result());
        assertEquals(40, fourth.result().steps());

        XceptionGraph graph = XceptionGraph.build(new XceptionConfig(71, 71, 10, true, null, 1.0 / 16, 1));
        Checkpoint ce = Checkpoint.read(tmp.resolve("every").resolve(Trainer.CHECKPOINT), graph);
        Checkpoint cf = Checkpoint.read(tmp.resolve("fourth").resolve(Trainer.CHECKPOINT), graph);
        assertEquals(ce.state().step(), cf.state().step());
        assertEquals(ce.state().meter().lossSum(), cf.state().meter().lossSum(), "the checkpoint's running loss");
        assertEquals(ce.state().meter().correct(), cf.state().meter().correct());
        for (String k : ce.weights().asMap().keySet()) assertArrayEquals(ce.weights().get(k).data(), cf.weights().get(k).data(), "checkpoint " + k);

        assertTrue(fourth.messages().contains("losses read every 4 steps: the host enqueues steps without waiting for each"), fourth.messages().toString());
        assertTrue(every.messages().stream().noneMatch(m -> m.startsWith("losses read every")), every.messages().toString());
        // reading each step's loss waits until the device has nothing left to do; reading behind the newest step
        // does so only where the run needs everything done (checkpoints, epoch ends, the end)
        assertTrue(every.idleWaits() >= 40, "per-step reads: the device ran dry " + every.idleWaits() + " times");
        assertTrue(fourth.idleWaits() <= 12, "reads every 4 steps: the device ran dry " + fourth.idleWaits() + " times, per step " + every.idleWaits());
    }

    @Test
    void aDivergedLossIsNamedAtItsOwnStep(@TempDir Path out) {
        // the loss of step 2 is the first non-finite one; with reads every 5 steps it is seen after step 6
        TrainOptions o = Runs.small(out).epochs(1).learningRate(new LearningRateSchedule.Constant(1e20, 0)).checkpointEvery(0).lossEvery(5).build();
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> train(o));
        assertEquals(2, e.step(), e.getMessage());
        assertTrue(e.getMessage().startsWith("training diverged at step 2 (epoch 1, batch 2): the loss is not finite"), e.getMessage());
    }

    @Test
    void aStopResumesToTheUninterruptedRunsWeights(@TempDir Path tmp) throws IOException {
        TrainOptions.Builder base = Runs.small(tmp.resolve("whole")).epochs(1).checkpointEvery(0);
        Run whole = train(base.lossEvery(1).build());

        TrainOptions split = base.outputDir(tmp.resolve("split")).lossEvery(3).build();
        Run first = train(split, 5);   // asked when step 5 is reported: steps 6 and 7 are already enqueued by then
        assertFalse(first.result().complete());
        long stoppedAt = first.result().steps();
        assertTrue(stoppedAt > 5 && stoppedAt < 25, "stopped mid-epoch after step " + stoppedAt);
        assertEquals(stoppedAt, first.steps().size(), "every step that ran was reported");
        Run rest = train(split.toBuilder().resume(true).build());
        assertTrue(rest.result().complete());
        assertEquals(25, rest.result().steps());
        assertSameWeights(whole.result(), rest.result());
        assertEquals(withoutTimings(whole.result().history()), withoutTimings(rest.result().history()));
    }
}
