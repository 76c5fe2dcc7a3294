package io.jxception.exec;

import io.jxception.image.KerasPreprocessing;
import io.jxception.internal.backend.cpu.CpuBackend;
import io.jxception.model.Pooling;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;
import io.jxception.tensor.Uint8Tensor;
import io.jxception.weights.XceptionWeights;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link DynamicBatcher} on two cpu sessions (each its own backend, as two devices would be): every
 * one of 10,000 concurrent requests gets the output of a single-image run of its own image, none is
 * lost or run twice; shutdown completes or fails every pending future; back-pressure blocks or
 * rejects. A micro network (width 1/64, 71x71, no middle blocks) keeps 10,000 forwards cheap; the
 * cpu reference gives the same bits whatever the batch, so outputs compare exactly.
 */
class DynamicBatcherTest {
    private static final int IMAGES = 97;   // distinct images the requests cycle through (a prime: neighbours in a batch differ)
    static XceptionWeights weights;
    static Uint8Tensor[] pixels;
    static Tensor[] floats;
    static float[][] expected;              // single-image run of each image
    static long seed;

    private final List<AutoCloseable> open = new ArrayList<>();

    @BeforeAll
    static void network() {
        seed = System.nanoTime();
        Random rnd = new Random(seed);
        weights = XceptionWeights.random(XceptionGraph.build(new XceptionConfig(71, 71, 7, true, Pooling.NONE, 1.0 / 64, 0)), rnd.nextLong());
        pixels = new Uint8Tensor[IMAGES];
        floats = new Tensor[IMAGES];
        expected = new float[IMAGES][];
        try (CpuBackend cpu = new CpuBackend(2); InferenceSession s = new InferenceSession(cpu, weights, 1)) {
            for (int i = 0; i < IMAGES; i++) {
                byte[] b = new byte[71 * 71 * 3];
                rnd.nextBytes(b);
                pixels[i] = new Uint8Tensor(Shape.of(71, 71, 3), b);
                float[] x = new float[b.length];
                for (int k = 0; k < b.length; k++) x[k] = KerasPreprocessing.tf(b[k] & 0xff);
                floats[i] = new Tensor(Shape.of(1, 71, 71, 3), x);
                expected[i] = s.run(floats[i]).data();
            }
        }
        int distinct = (int) java.util.Arrays.stream(expected).map(java.util.Arrays::toString).distinct().count();
        assertEquals(IMAGES, distinct, "images with equal outputs: a mix-up could go unseen");
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) open.get(i).close();
    }

    /** {@code n} cpu sessions of maxBatch {@code maxBatch}, each on its own single-threaded backend. */
    private List<InferenceSession> sessions(int n, int maxBatch) {
        List<InferenceSession> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            CpuBackend b = new CpuBackend(1);
            open.add(b);
            InferenceSession s = new InferenceSession(b, weights, maxBatch);
            open.add(s);
            out.add(s);
        }
        return out;
    }

    private static void assertOutput(int image, Tensor got, String what) {
        assertEquals(Shape.of(1, 7), got.shape(), what);
        assertArrayEquals(expected[image], got.data(), what + ": output of another image, or wrong (seed " + seed + ")");
    }

    @Test
    void tenThousandConcurrentRequestsEachGetTheirOwnImagesOutput() throws Exception {
        int requests = 10_000, threads = 16;
        try (DynamicBatcher batcher = new DynamicBatcher(sessions(2, 32), DynamicBatcher.Options.of(32).withMaxDelay(Duration.ofMillis(5)))) {
            ExecutorService callers = Executors.newFixedThreadPool(threads);
            List<CompletableFuture<Tensor>> futures = new ArrayList<>(requests);
            for (int i = 0; i < requests; i++) futures.add(null);
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> submitted = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int first = t;
                submitted.add(callers.submit(() -> {
                    start.await();
                    for (int i = first; i < requests; i += threads) {
                        int image = i % IMAGES;
                        // both kinds of request, interleaved: batches must not mix them
                        futures.set(i, i % 3 == 0 ? batcher.submit(floats[image]) : batcher.submit(pixels[image]));
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : submitted) f.get(5, TimeUnit.MINUTES);
            callers.shutdown();
            for (int i = 0; i < requests; i++) assertOutput(i % IMAGES, futures.get(i).get(5, TimeUnit.MINUTES), "request " + i);
            DynamicBatcher.Stats s = batcher.stats();
            assertEquals(requests, s.images(), "images run != requests: a request was lost or ran twice");
            assertEquals(0, s.rejected());
            assertTrue(s.meanBatch() > 1.5, "requests were not coalesced: " + s.meanBatch() + " images per batch");
            long[] per = s.imagesPerSession();
            assertTrue(per[0] > 0 && per[1] > 0, "one session ran everything: " + java.util.Arrays.toString(per));
        }
    }

    @Test
    void closeRunsEveryQueuedRequestWithoutWaitingForFullBatches() throws Exception {
        // batches would wait a minute to fill; close must not
        DynamicBatcher batcher = new DynamicBatcher(sessions(1, 64), DynamicBatcher.Options.of(64).withMaxDelay(Duration.ofMinutes(1)));
        List<CompletableFuture<Tensor>> futures = new ArrayList<>();
        for (int i = 0; i < 150; i++) futures.add(batcher.submit(pixels[i % IMAGES]));
        long t0 = System.nanoTime();
        batcher.close();
        assertTrue(System.nanoTime() - t0 < 50_000_000_000L, "close waited for the batch delay");
        for (int i = 0; i < futures.size(); i++) {
            assertTrue(futures.get(i).isDone(), "request " + i + " not complete after close()");
            assertOutput(i % IMAGES, futures.get(i).get(), "request " + i);
        }
        CompletableFuture<Tensor> late = batcher.submit(pixels[0]);
        ExecutionException e = assertThrows(ExecutionException.class, late::get);
        assertInstanceOf(RejectedExecutionException.class, e.getCause());
    }

    @Test
    void shutdownNowFailsWhatIsQueuedAndFinishesWhatRuns() throws Exception {
        DynamicBatcher batcher = new DynamicBatcher(sessions(1, 4), DynamicBatcher.Options.of(4).withMaxDelay(Duration.ZERO));
        List<CompletableFuture<Tensor>> futures = new ArrayList<>();
        for (int i = 0; i < 400; i++) futures.add(batcher.submit(floats[i % IMAGES]));
        int dropped = batcher.shutdownNow();
        int ok = 0, failed = 0;
        for (int i = 0; i < futures.size(); i++) {
            CompletableFuture<Tensor> f = futures.get(i);
            assertTrue(f.isDone(), "request " + i + " still pending after shutdownNow()");
            if (f.isCompletedExceptionally()) {
                ExecutionException e = assertThrows(ExecutionException.class, f::get);
                assertInstanceOf(RejectedExecutionException.class, e.getCause());
                failed++;
            } else {
                assertOutput(i % IMAGES, f.get(), "request " + i);
                ok++;
            }
        }
        assertEquals(dropped, failed);
        assertTrue(failed > 0, "nothing was pending: the test proved nothing");
        assertEquals(ok, batcher.stats().images());
    }

    @Test
    void aFullQueueRejectsOrBlocks() throws Exception {
        DynamicBatcher rejecting = new DynamicBatcher(sessions(1, 64),
                DynamicBatcher.Options.of(64).withMaxDelay(Duration.ofMinutes(1)).withQueue(8, DynamicBatcher.WhenFull.REJECT));
        List<CompletableFuture<Tensor>> futures = new ArrayList<>();
        for (int i = 0; i < 20; i++) futures.add(rejecting.submit(pixels[i]));
        for (int i = 8; i < 20; i++) {
            ExecutionException e = assertThrows(ExecutionException.class, futures.get(i)::get, "request " + i);
            assertInstanceOf(RejectedExecutionException.class, e.getCause());
        }
        assertEquals(12, rejecting.stats().rejected());
        rejecting.close();
        for (int i = 0; i < 8; i++) assertOutput(i, futures.get(i).get(), "request " + i);

        DynamicBatcher blocking = new DynamicBatcher(sessions(1, 2),
                DynamicBatcher.Options.of(2).withMaxDelay(Duration.ZERO).withQueue(3, DynamicBatcher.WhenFull.BLOCK));
        List<CompletableFuture<Tensor>> blocked = new ArrayList<>();
        int most = 0;
        for (int i = 0; i < 40; i++) {
            blocked.add(blocking.submit(floats[i % IMAGES]));
            most = Math.max(most, blocking.queued());
        }
        assertTrue(most <= 3, "the queue held " + most + " requests, more than its capacity 3");
        blocking.close();
        for (int i = 0; i < 40; i++) assertOutput(i % IMAGES, blocked.get(i).get(), "request " + i);
        assertEquals(0, blocking.stats().rejected());
    }

    @Test
    void badRequestsAreRefusedAtTheDoor() {
        try (DynamicBatcher batcher = new DynamicBatcher(sessions(1, 2), DynamicBatcher.Options.of(2))) {
            assertThrows(IllegalArgumentException.class, () -> batcher.submit(new Tensor(Shape.of(2, 71, 71, 3), new float[2 * 71 * 71 * 3])));
            assertThrows(IllegalArgumentException.class, () -> batcher.submit(new Uint8Tensor(Shape.of(70, 71, 3), new byte[70 * 71 * 3])));
            float[] nan = floats[0].data().clone();
            nan[17] = Float.NaN;
            assertThrows(IllegalArgumentException.class, () -> batcher.submit(new Tensor(Shape.of(71, 71, 3), nan)));
        }
        assertThrows(IllegalArgumentException.class, () -> new DynamicBatcher(sessions(1, 2), DynamicBatcher.Options.of(4)), "maxBatch above the session's");
    }

    @Test
    void aCpuAndAnOpenClSessionShareTheWork() throws Exception {
        io.jxception.backend.Probe opencl = io.jxception.backend.Backends.probeAll().stream().filter(p -> p.kind().equals("opencl")).findFirst().orElseThrow();
        if (!opencl.available()) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) fail("CI=true but no OpenCL device: " + opencl.reason());
            org.junit.jupiter.api.Assumptions.abort(opencl.reason());
        }
        io.jxception.backend.Backend cl = io.jxception.backend.Backends.open("opencl:0", io.jxception.backend.Precision.FP32);
        open.add(cl);
        // batches of at most 2: OpenCL compiles a layer's tile variant the first time a batch size needs it
        InferenceSession clSession = new InferenceSession(cl, weights, 2);
        open.add(clSession);
        List<InferenceSession> both = new ArrayList<>(sessions(1, 2));
        both.add(clSession);
        List<CompletableFuture<Tensor>> futures = new ArrayList<>();
        try (DynamicBatcher batcher = new DynamicBatcher(both, DynamicBatcher.Options.of(2).withMaxDelay(Duration.ofMillis(1)))) {
            for (int i = 0; i < 300; i++) futures.add(batcher.submit(pixels[i % IMAGES]));
            for (int i = 0; i < futures.size(); i++) {
                float[] got = futures.get(i).get(5, TimeUnit.MINUTES).data(), want = expected[i % IMAGES];
                double num = 0, den = 0;
                for (int c = 0; c < want.length; c++) {
                    num += (got[c] - want[c]) * (double) (got[c] - want[c]);
                    den += want[c] * (double) want[c];
                }
                assertTrue(Math.sqrt(num / den) < 1e-5, "request " + i + ": relative error " + Math.sqrt(num / den) + " (seed " + seed + ")");
            }
            long[] per = batcher.stats().imagesPerSession();
            assertTrue(per[0] > 0 && per[1] > 0, "one device ran everything: " + java.util.Arrays.toString(per));
        }
    }
}
