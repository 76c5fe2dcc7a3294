package io.jxception.exec;

import io.jxception.backend.Backend;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;
import io.jxception.weights.XceptionWeights;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The service case on one backend, shared by the cpu/OpenCL tests here and the CUDA test of the
 * cuda module: several threads, each with its own {@link InferenceSession}, run mixed batches
 * (sizes 1 to 3, fresh random inputs) in different orders; every output must equal, bit for bit,
 * what one session on one thread computed for the same batch.
 */
public final class ConcurrencyStress {
    private ConcurrencyStress() {}

    /** A small network (71×71, width 1/16, 1 middle block, 10 classes) with random weights. */
    public static XceptionWeights smallNetwork(long seed) {
        XceptionConfig c = new XceptionConfig(71, 71, 10, true, io.jxception.model.Pooling.NONE, 1.0 / 16, 1);
        return XceptionWeights.random(XceptionGraph.build(c), seed);
    }

    /** {@code count} batches of 1 to {@code maxBatch} images with values in [−1, 1). */
    public static List<Tensor> mixedBatches(Random rnd, int count, int maxBatch) {
        List<Tensor> out = new ArrayList<>();
        for (int b = 0; b < count; b++) {
            int n = 1 + rnd.nextInt(maxBatch);
            float[] x = new float[n * 71 * 71 * 3];
            for (int i = 0; i < x.length; i++) x[i] = rnd.nextFloat() * 2 - 1;
            out.add(new Tensor(Shape.of(n, 71, 71, 3), x));
        }
        return out;
    }

    /**
     * Runs {@code threads} sessions on {@code backend} at once, each over every batch {@code rounds}
     * times in its own order, and checks each output bitwise against a single-threaded session's.
     *
     * @return the wall seconds of the concurrent part
     */
    public static double sessionsPerThreadMatchOneThread(Backend backend, XceptionWeights weights, List<Tensor> batches,
                                                         int threads, int rounds, long seed) throws Exception {
        int maxBatch = batches.stream().mapToInt(t -> t.shape().dim(0)).max().orElseThrow();
        List<Tensor> expected = new ArrayList<>();
        try (InferenceSession one = new InferenceSession(backend, weights, maxBatch)) {
            for (Tensor b : batches) expected.add(one.run(b));
        }
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        AtomicInteger checked = new AtomicInteger();
        CyclicBarrier start = new CyclicBarrier(threads);
        List<Thread> workers = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int t = 0; t < threads; t++) {
            int worker = t;
            Thread th = new Thread(() -> {
                try (InferenceSession s = new InferenceSession(backend, weights, maxBatch)) {
                    List<Integer> order = new ArrayList<>();
                    for (int i = 0; i < batches.size(); i++) order.add(i);
                    Random rnd = new Random(seed + worker);
                    start.await(60, TimeUnit.SECONDS);
                    for (int r = 0; r < rounds; r++) {
                        Collections.shuffle(order, rnd);
                        for (int i : order) {
                            Tensor y = s.run(batches.get(i));
                            if (!Arrays.equals(expected.get(i).data(), y.data())) {
                                int at = Arrays.mismatch(expected.get(i).data(), y.data());
                                failures.add("worker " + worker + " round " + r + " batch " + i + " differs at " + at);
                            }
                            checked.incrementAndGet();
                        }
                    }
                } catch (Throwable e) {
                    failures.add("worker " + worker + ": " + e);
                }
            }, "stress-worker-" + t);
            workers.add(th);
            th.start();
        }
        for (Thread th : workers) th.join(TimeUnit.MINUTES.toMillis(5));
        double seconds = (System.nanoTime() - t0) / 1e9;
        for (Thread th : workers) assertFalse(th.isAlive(), th.getName() + " still running after 5 minutes");
        assertEquals(List.of(), new ArrayList<>(failures), "seed " + seed + " on " + backend.name());
        assertEquals(threads * rounds * batches.size(), checked.get());
        return seconds;
    }

    /**
     * Two threads call one session at the same moment, many times: every call either returns the
     * correct output or is refused with an IllegalStateException naming both threads; at least one
     * is refused (else the test did not make them overlap).
     */
    public static void oneSessionTwoThreadsIsRefusedNeverWrong(Backend backend, XceptionWeights weights, List<Tensor> batches,
                                                              int attempts, long seed) throws Exception {
        int maxBatch = batches.stream().mapToInt(t -> t.shape().dim(0)).max().orElseThrow();
        List<Tensor> expected = new ArrayList<>();
        try (InferenceSession one = new InferenceSession(backend, weights, maxBatch)) {
            for (Tensor b : batches) expected.add(one.run(b));
        }
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        AtomicInteger refused = new AtomicInteger(), correct = new AtomicInteger();
        CyclicBarrier together = new CyclicBarrier(2);
        try (InferenceSession shared = new InferenceSession(backend, weights, maxBatch)) {
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                int worker = t;
                Thread th = new Thread(() -> {
                    try {
                        for (int a = 0; a < attempts; a++) {
                            int i = (a + worker) % batches.size();
                            together.await(60, TimeUnit.SECONDS);
                            try {
                                Tensor y = shared.run(batches.get(i));
                                if (Arrays.equals(expected.get(i).data(), y.data())) correct.incrementAndGet();
                                else failures.add("attempt " + a + " on " + Thread.currentThread().getName() + ": wrong output for batch " + i);
                            } catch (IllegalStateException e) {
                                String m = e.getMessage();
                                if (m.contains("'shared-user-0'") && m.contains("'shared-user-1'") && m.contains("one session per thread")) refused.incrementAndGet();
                                else failures.add("unclear refusal: " + m);
                            }
                        }
                    } catch (Throwable e) {
                        failures.add(Thread.currentThread().getName() + ": " + e);
                    }
                }, "shared-user-" + t);
                threads.add(th);
                th.start();
            }
            for (Thread th : threads) th.join(TimeUnit.MINUTES.toMillis(5));
        }
        assertEquals(List.of(), new ArrayList<>(failures), "seed " + seed + " on " + backend.name());
        assertTrue(refused.get() > 0, "the two threads never overlapped in " + attempts + " attempts: nothing was tested");
        assertEquals(2 * attempts, refused.get() + correct.get());
    }
}
