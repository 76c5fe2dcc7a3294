package io.jxception.exec;

import io.jxception.internal.exec.ForwardSession;
import io.jxception.internal.backend.Buffer;
import io.jxception.internal.backend.OverlappedTransfers;
import io.jxception.internal.backend.cpu.CpuBackend;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;
import io.jxception.tensor.Uint8Tensor;
import io.jxception.image.KerasPreprocessing;
import io.jxception.weights.XceptionWeights;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link ForwardSession#runAll} and launch replay against the plain reference, on a backend whose
 * copies run as early as their fences allow ({@link DeferredQueueBackend}): a missing or early fence
 * corrupts a batch that is still queued, so these tests fail if the pipeline orders anything wrong.
 */
class BatchPipelineTest {
    static XceptionWeights weights;

    @BeforeAll
    static void build() {
        weights = XceptionWeights.random(XceptionGraph.build(XceptionConfig.tiny(71, 10)), new Random().nextLong());
    }

    static Tensor batch(Random rnd, int n) {
        float[] x = new float[n * 71 * 71 * 3];
        for (int i = 0; i < x.length; i++) x[i] = rnd.nextFloat() * 2 - 1;
        return new Tensor(Shape.of(n, 71, 71, 3), x);
    }

    /** Each batch run on its own through a synchronous CPU session: the expected outputs. */
    static List<Tensor> reference(List<Tensor> batches, int maxBatch) {
        List<Tensor> out = new ArrayList<>();
        try (CpuBackend cpu = new CpuBackend(2); ForwardSession s = new ForwardSession(cpu, weights, maxBatch)) {
            for (Tensor b : batches) out.add(s.run(b));
        }
        return out;
    }

    @Test
    void pipelinedOutputsEqualTheReferenceBatchByBatch() {
        Random rnd = new Random();
        List<Tensor> batches = new ArrayList<>();
        for (int n : new int[] {3, 1, 3, 2, 3, 3, 1}) batches.add(batch(rnd, n));
        List<Tensor> expected = reference(batches, 3);
        List<Tensor> got = new ArrayList<>();
        List<Integer> indices = new ArrayList<>();
        try (DeferredQueueBackend dev = new DeferredQueueBackend(); ForwardSession s = new ForwardSession(dev, weights, 3)) {
            int ran = s.runAll(batches.iterator(), (i, y) -> { indices.add(i); got.add(y); });
            assertEquals(batches.size(), ran);
            assertTrue(dev.earlyCopies > 0, "the double never ran a copy ahead of queued compute: the test would not catch a missing fence");
            assertTrue(dev.replays > 0, "no forward was replayed from a recording");
        }
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 6), indices);
        for (int i = 0; i < batches.size(); i++) {
            assertEquals(expected.get(i).shape(), got.get(i).shape());
            assertArrayEquals(expected.get(i).data(), got.get(i).data(), "batch " + i);
        }
    }

    @Test
    void theDoubleCorruptsAQueuedReadWhenTheCopyIsNotFenced() {
        try (DeferredQueueBackend dev = new DeferredQueueBackend()) {
            Buffer a = dev.allocate(4), b = dev.allocate(4);
            dev.upload(new float[] {1, 2, 3, 4}, a);
            dev.upload(new float[] {10, 20, 30, 40}, b);
            dev.addInPlace(b, a, 4);                       // queued: reads a
            OverlappedTransfers.Fence afterAdd = dev.fence();
            dev.uploadAsync(new float[] {100, 100, 100, 100}, 0, a, 0, 4, afterAdd);
            float[] fenced = new float[4];
            dev.download(b, fenced);
            assertArrayEquals(new float[] {11, 22, 33, 44}, fenced);

            dev.addInPlace(b, a, 4);                       // queued: reads a (= 100)
            dev.uploadAsync(new float[] {-1, -1, -1, -1}, 0, a, 0, 4, null);   // no fence: runs first
            float[] unfenced = new float[4];
            dev.download(b, unfenced);
            assertArrayEquals(new float[] {10, 21, 32, 43}, unfenced, "the unfenced copy ran before the queued add");
        }
    }

    @Test
    void recordedForwardsReplayWithTheReferenceResult() {
        Random rnd = new Random();
        List<Tensor> batches = List.of(batch(rnd, 2), batch(rnd, 2), batch(rnd, 2), batch(rnd, 1));
        List<Tensor> expected = reference(batches, 2);
        try (DeferredQueueBackend dev = new DeferredQueueBackend(); ForwardSession s = new ForwardSession(dev, weights, 2)) {
            assertTrue(s.replaysLaunches());
            for (int i = 0; i < batches.size(); i++) assertArrayEquals(expected.get(i).data(), s.run(batches.get(i)).data(), "run " + i);
            assertEquals(1, dev.recordings, "batch 2: eager once, then recorded once");
            assertEquals(2, dev.replays, "batch 2 replayed on its 2nd and 3rd run; batch 1 ran eagerly");
        }
        try (DeferredQueueBackend dev = new DeferredQueueBackend(); ForwardSession s = new ForwardSession(dev, weights, 2, false)) {
            assertFalse(s.replaysLaunches());
            for (int i = 0; i < 3; i++) s.run(batches.get(i));
            assertEquals(0, dev.recordings);
        }
    }

    @Test
    void aBadBatchStopsTheRunAfterEveryEarlierOutput() {
        Random rnd = new Random();
        Tensor bad = batch(rnd, 2);
        bad.data()[rnd.nextInt(bad.size())] = Float.NaN;
        List<Tensor> batches = List.of(batch(rnd, 2), batch(rnd, 1), bad, batch(rnd, 2));
        List<Tensor> expected = reference(batches.subList(0, 2), 2);
        List<Tensor> got = new ArrayList<>();
        try (DeferredQueueBackend dev = new DeferredQueueBackend(); ForwardSession s = new ForwardSession(dev, weights, 2)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.runAll(batches.iterator(), (i, y) -> got.add(y)));
            assertTrue(e.getMessage().startsWith("batch 2: input holds a non-finite value"), e.getMessage());
            assertEquals(2, got.size());
            for (int i = 0; i < 2; i++) assertArrayEquals(expected.get(i).data(), got.get(i).data());
            // the session is still usable
            Tensor again = batches.get(0);
            assertArrayEquals(expected.get(0).data(), s.run(again).data());
        }
    }

    @Test
    void backendsWithoutACopyQueueRunBatchesInTurn() {
        Random rnd = new Random();
        List<Tensor> batches = List.of(batch(rnd, 1), batch(rnd, 3), batch(rnd, 2));
        List<Tensor> expected = reference(batches, 3);
        float[][] got = new float[3][];
        try (CpuBackend cpu = new CpuBackend(2); ForwardSession s = new ForwardSession(cpu, weights, 3)) {
            assertFalse(s.replaysLaunches());
            assertEquals(3, s.runAll(batches.iterator(), (i, y) -> got[i] = y.data()));
        }
        for (int i = 0; i < 3; i++) assertTrue(Arrays.equals(expected.get(i).data(), got[i]), "batch " + i);
    }

    @Test
    void uint8BatchesPipelineAndReplayApartFromFloatOnes() {
        Random rnd = new Random();
        List<Uint8Tensor> pixels = new ArrayList<>();
        List<Tensor> floats = new ArrayList<>();
        for (int n : new int[] {2, 2, 1, 2, 2}) {
            byte[] raw = new byte[n * 71 * 71 * 3];
            rnd.nextBytes(raw);
            float[] x = new float[raw.length];
            for (int i = 0; i < raw.length; i++) x[i] = KerasPreprocessing.tf(raw[i] & 0xff);
            pixels.add(new Uint8Tensor(Shape.of(n, 71, 71, 3), raw));
            floats.add(new Tensor(Shape.of(n, 71, 71, 3), x));
        }
        List<Tensor> expected = reference(floats, 2);
        List<Tensor> got = new ArrayList<>();
        try (DeferredQueueBackend dev = new DeferredQueueBackend(); ForwardSession s = new ForwardSession(dev, weights, 2)) {
            assertEquals(5, s.runAllUint8(pixels.iterator(), (i, y) -> got.add(y)));
            assertTrue(dev.earlyCopies > 0, "no copy ran ahead of queued compute: a missing fence would go unseen");
            assertTrue(dev.replays > 0, "no uint8 forward was replayed");
            // a float batch of the same size after uint8 ones must not replay the uint8 recording
            assertArrayEquals(expected.get(0).data(), s.run(floats.get(0)).data(), "float run after uint8 runs");
            assertArrayEquals(expected.get(1).data(), s.run(floats.get(1)).data(), "float run after uint8 runs");
            assertArrayEquals(expected.get(3).data(), s.run(floats.get(3)).data(), "float run after uint8 runs (replayed)");
            assertArrayEquals(expected.get(4).data(), s.run(pixels.get(4)).data(), "uint8 run after float runs");
        }
        for (int i = 0; i < 5; i++) assertArrayEquals(expected.get(i).data(), got.get(i).data(), "batch " + i);
    }
}
