package io.jxception.exec;

import io.jxception.internal.exec.StepOutputs;
import io.jxception.internal.exec.TrainingSession;
import io.jxception.internal.train.KerasInit;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;
import io.jxception.weights.XceptionWeights;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A training session on a backend that records launches (CUDA graphs; here the CPU reference behind a
 * deferred queue) replays its forward and backward passes from the third step of a loss scale on,
 * with results bit for bit those of the same session run eagerly: losses, weights, momentum, moving
 * statistics. Every step gets a fresh batch, so a replay that read stale inputs or labels would differ.
 */
class TrainingStepReplayTest {
    private static final int BATCH = 2, SIZE = 71, CLASSES = 5;

    private static Tensor images(Random r) {
        float[] img = new float[BATCH * SIZE * SIZE * 3];
        for (int i = 0; i < img.length; i++) img[i] = (float) (r.nextDouble() * 2 - 1);
        return new Tensor(Shape.of(BATCH, SIZE, SIZE, 3), img);
    }

    /** Fresh images and labels for xs.length steps. */
    private static void drawBatches(Random r, Tensor[] xs, int[][] ys) {
        for (int i = 0; i < xs.length; i++) {
            xs[i] = images(r);
            ys[i] = new int[]{r.nextInt(CLASSES), r.nextInt(CLASSES)};
        }
    }

    /** Runs one training step per loss scale (unscale + SGD where the scale is not 1) and returns the losses. */
    private static double[] train(TrainingSession s, float[] scales, long seed, int[] replayed) {
        Random r = new Random(seed);
        double[] losses = new double[scales.length];
        for (int i = 0; i < scales.length; i++) {
            Tensor x = images(r);
            int[] labels = {r.nextInt(CLASSES), r.nextInt(CLASSES)};
            losses[i] = s.forwardBackward(x, labels, scales[i]);
            replayed[i] = s.replayedLaunches();
            if (scales[i] == 1f || s.unscaleGradients(scales[i])) s.sgdStep(0.05f, 0.9f, 1e-3f);
        }
        return losses;
    }

    private static void assertSameState(TrainingSession a, TrainingSession b) {
        Map<String, Tensor> wa = a.weights().asMap(), wb = b.weights().asMap();
        assertEquals(wa.keySet(), wb.keySet());
        for (String k : wa.keySet()) assertArrayEquals(wa.get(k).data(), wb.get(k).data(), k);
        Map<String, Tensor> va = a.velocities(), vb = b.velocities();
        assertEquals(va.keySet(), vb.keySet());
        for (String k : va.keySet()) assertArrayEquals(va.get(k).data(), vb.get(k).data(), "velocity " + k);
    }

    @Test
    void replayedStepsEqualEagerStepsBitForBit() {
        XceptionGraph g = XceptionGraph.build(XceptionConfig.tiny(SIZE, CLASSES));
        XceptionWeights w = KerasInit.fresh(g, 11);
        long seed = new Random().nextLong();
        float[] scales = {1f, 1f, 1f, 1f};
        int[] replayedA = new int[scales.length], replayedB = new int[scales.length];
        try (DeferredQueueBackend eagerBackend = new DeferredQueueBackend(); DeferredQueueBackend replayBackend = new DeferredQueueBackend();
             TrainingSession eager = new TrainingSession(eagerBackend, w, BATCH, Set.of(), false);
             TrainingSession replay = new TrainingSession(replayBackend, w, BATCH, Set.of(), true)) {
            assertFalse(eager.replaysLaunches());
            assertTrue(replay.replaysLaunches());
            double[] la = train(eager, scales, seed, replayedA), lb = train(replay, scales, seed, replayedB);
            assertArrayEquals(la, lb, "losses");
            assertNotEquals(la[0], la[3], "fresh batches and updated weights give other losses");
            assertSameState(eager, replay);
            assertEquals(0, eagerBackend.recordings);
            assertEquals(1, replayBackend.recordings, "recorded once, on the second step");
            assertEquals(3, replayBackend.replays, "replayed on steps 2, 3 and 4");
            assertArrayEquals(new int[]{-1, -1, -1, -1}, replayedA);
            assertEquals(-1, replayedB[0], "the first step runs eagerly (ops that allocate on first use)");
            assertTrue(replayedB[1] > 100 && replayedB[1] == replayedB[3], "every conv's forward and backward: " + replayedB[1]);
        }
    }

    @Test
    void aNewLossScaleIsRecordedAgainAndAnOldOneReplayed() {
        XceptionGraph g = XceptionGraph.build(XceptionConfig.tiny(SIZE, CLASSES));
        XceptionWeights w = KerasInit.fresh(g, 12);
        long seed = new Random().nextLong();
        // a dynamic scaler's path: 2^10 twice, halved (a skipped step's answer), 2^9 twice, back to 2^10
        float[] scales = {0x1p10f, 0x1p10f, 0x1p9f, 0x1p9f, 0x1p10f};
        int[] replayedA = new int[scales.length], replayedB = new int[scales.length];
        try (DeferredQueueBackend eagerBackend = new DeferredQueueBackend(); DeferredQueueBackend replayBackend = new DeferredQueueBackend();
             TrainingSession eager = new TrainingSession(eagerBackend, w, BATCH, Set.of("block1_conv1"), false);
             TrainingSession replay = new TrainingSession(replayBackend, w, BATCH, Set.of("block1_conv1"), true)) {
            double[] la = train(eager, scales, seed, replayedA), lb = train(replay, scales, seed, replayedB);
            assertArrayEquals(la, lb, "losses");
            assertSameState(eager, replay);
            assertArrayEquals(w.get("block1_conv1/kernel").data(), replay.weights().get("block1_conv1/kernel").data(), "a frozen layer stays");
            assertEquals(2, replayBackend.recordings, "one recording per loss scale, each on its second step");
            assertEquals(3, replayBackend.replays);
            assertEquals(-1, replayedB[0]);
            assertTrue(replayedB[1] > 0, "2^10: recorded and replayed");
            assertEquals(-1, replayedB[2], "2^9: eager the first time");
            assertTrue(replayedB[3] > 0 && replayedB[4] > 0, "2^9 recorded, 2^10 replayed from its recording");
        }
    }

    /**
     * The overlapped loop (stage the next batch after enqueueStep, before awaitLoss): the copy of batch i+1
     * runs while step i is still queued (the deferred queue runs a copy as early as its fence allows, so a
     * fence that waited for nothing, or for the wrong slot, would overwrite step i's input and change the
     * results), and the steps equal the plain forwardBackward loop bit for bit, replayed from their recordings.
     */
    @Test
    void stagingTheNextBatchDuringAStepOverlapsTheCopyAndChangesNothing() {
        XceptionGraph g = XceptionGraph.build(XceptionConfig.tiny(SIZE, CLASSES));
        XceptionWeights w = KerasInit.fresh(g, 13);
        int steps = 5;
        Random r = new Random(new Random().nextLong());
        Tensor[] xs = new Tensor[steps];
        int[][] ys = new int[steps][];
        drawBatches(r, xs, ys);
        try (DeferredQueueBackend plainBackend = new DeferredQueueBackend(); DeferredQueueBackend overlapBackend = new DeferredQueueBackend();
             TrainingSession plain = new TrainingSession(plainBackend, w, BATCH, Set.of(), false);
             TrainingSession overlapped = new TrainingSession(overlapBackend, w, BATCH)) {
            double[] lp = new double[steps], lo = new double[steps];
            for (int i = 0; i < steps; i++) {
                lp[i] = plain.forwardBackward(xs[i], ys[i], 1f);
                plain.sgdStep(0.05f, 0.9f, 1e-3f);
            }
            overlapped.stage(xs[0], ys[0]);
            for (int i = 0; i < steps; i++) {
                overlapped.enqueueStep(1f);
                int early = overlapBackend.earlyCopies;
                if (i + 1 < steps) {
                    overlapped.stage(xs[i + 1], ys[i + 1]);
                    assertTrue(overlapBackend.earlyCopies > early, "step " + (i + 1) + ": the next batch's copy ran before the step's queued ops");
                }
                lo[i] = overlapped.awaitLoss();
                overlapped.sgdStep(0.05f, 0.9f, 1e-3f);
            }
            assertArrayEquals(lp, lo, "losses");
            assertSameState(plain, overlapped);
            assertEquals(2, overlapBackend.recordings, "one recording per input slot");
            assertTrue(overlapped.replayedLaunches() > 0, "the last step replayed");
        }
    }

    /**
     * The loop that reads results every few steps (deferStep instead of awaitLoss, the Trainer's with
     * lossEvery > 1): the host enqueues step after step (staging, SGD) without the device running any of
     * them, then reads every step's loss and probabilities, equal bit for bit to those the per-step loop
     * read; weights and momentum equal too.
     */
    @Test
    void deferredReadsEqualPerStepReadsWithoutWaitingForTheDevice() {
        XceptionGraph g = XceptionGraph.build(XceptionConfig.tiny(SIZE, CLASSES));
        XceptionWeights w = KerasInit.fresh(g, 15);
        int steps = 5;
        Random r = new Random(new Random().nextLong());
        Tensor[] xs = new Tensor[steps];
        int[][] ys = new int[steps][];
        drawBatches(r, xs, ys);
        try (DeferredQueueBackend plainBackend = new DeferredQueueBackend(); DeferredQueueBackend deferBackend = new DeferredQueueBackend();
             TrainingSession plain = new TrainingSession(plainBackend, w, BATCH);
             TrainingSession deferred = new TrainingSession(deferBackend, w, BATCH)) {
            double[] lp = new double[steps];
            float[][] pp = new float[steps][];
            for (int i = 0; i < steps; i++) {
                lp[i] = plain.forwardBackward(xs[i], ys[i], 1f);
                pp[i] = plain.probabilities().data();
                plain.sgdStep(0.05f, 0.9f, 1e-3f);
            }
            StepOutputs[] outs = new StepOutputs[steps];
            try {
                deferred.stage(xs[0], ys[0]);
                for (int i = 0; i < steps; i++) {
                    deferred.enqueueStep(1f);
                    if (i + 1 < steps) deferred.stage(xs[i + 1], ys[i + 1]);
                    outs[i] = deferred.deferStep();
                    deferred.sgdStep(0.05f, 0.9f, 1e-3f);
                }
                assertTrue(deferBackend.queuedOps() > 1000, "five steps enqueued, none waited for: " + deferBackend.queuedOps() + " ops queued");
                for (int i = 0; i < steps; i++) {
                    assertEquals(lp[i], outs[i].loss(), "loss of step " + (i + 1));
                    assertArrayEquals(pp[i], outs[i].probabilities().data(), "probabilities of step " + (i + 1));
                    assertEquals(lp[i], outs[i].loss(), "a second read gives the same loss");
                }
            } finally {
                for (StepOutputs o : outs) if (o != null) o.close();
            }
            assertNotEquals(lp[0], lp[steps - 1]);
            assertSameState(plain, deferred);
            IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, outs[0]::loss);
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
            assertTrue(org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, deferred::deferStep).getMessage().contains("no step enqueued"));
        }
    }

    @Test
    void stepsOutOfOrderAreRefused() {
        XceptionGraph g = XceptionGraph.build(XceptionConfig.tiny(SIZE, CLASSES));
        try (DeferredQueueBackend b = new DeferredQueueBackend(); TrainingSession s = new TrainingSession(b, KerasInit.fresh(g, 14), BATCH)) {
            IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> s.enqueueStep(1f));
            assertTrue(e.getMessage().contains("no batch staged"), e.getMessage());
            assertTrue(org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, s::awaitLoss).getMessage().contains("no step enqueued"));
            Random r = new Random();
            s.stage(images(r), new int[]{0, 1});
            s.enqueueStep(1f);
            s.stage(images(r), new int[]{2, 3});
            e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> s.enqueueStep(1f));
            assertTrue(e.getMessage().contains("awaitLoss"), e.getMessage());
            assertTrue(Double.isFinite(s.awaitLoss()));
            s.enqueueStep(1f);
            assertTrue(Double.isFinite(s.awaitLoss()), "the staged batch is still there after the refusal");
        }
    }
}
