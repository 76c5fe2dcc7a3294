package io.jxception.throughput;

import io.jxception.backend.Backend;
import io.jxception.backend.Backends;
import io.jxception.backend.Precision;
import io.jxception.exec.DynamicBatcher;
import io.jxception.exec.InferenceSession;
import io.jxception.model.Pooling;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Uint8Tensor;
import io.jxception.weights.XceptionWeights;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@link DynamicBatcher} under load: C closed-loop callers (each submits one raw uint8 image, waits
 * for its result, submits the next) for each C of {@code --callers}, against one session per
 * backend of {@code --backend}. Prints throughput (completed requests per second of the timed
 * window), latency percentiles p50/p99 (submit to result, per request) and the mean batch size.
 * Warm-up first: every batch size 1..maxBatch runs once on every session (OpenCL compiles up to four
 * tile variants per layer on first use, CUDA records a graph per size), then {@code --warmup-seconds} of load.
 * <pre>
 * benchmarks/throughput/run.sh BatcherLoadBenchmark --backend opencl:0 --size 299 --width 1 --max-batch 8 --callers 1,8,64 --seconds 20
 * </pre>
 * Options: --backend B[,B...] (cpu), --precision P (fp32), --size S (299), --width W (1.0),
 * --max-batch N (16), --max-delay-ms D (2), --callers 1,8,64, --seconds T (10), --warmup-seconds T (3), --seed.
 */
public final class BatcherLoadBenchmark {
    private BatcherLoadBenchmark() {}

    public static void main(String[] args) throws Exception {
        String backends = "cpu";
        Precision precision = Precision.FP32;
        int size = 299, maxBatch = 16;
        double width = 1.0, seconds = 10, warmupSeconds = 3, maxDelayMs = 2;
        int[] callers = {1, 8, 64};
        long seed = 1;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--backend" -> backends = args[++i];
                case "--precision" -> precision = Precision.parse(args[++i]);
                case "--size" -> size = Integer.parseInt(args[++i]);
                case "--width" -> width = Double.parseDouble(args[++i]);
                case "--max-batch" -> maxBatch = Integer.parseInt(args[++i]);
                case "--max-delay-ms" -> maxDelayMs = Double.parseDouble(args[++i]);
                case "--callers" -> callers = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                case "--warmup-seconds" -> warmupSeconds = Double.parseDouble(args[++i]);
                case "--seed" -> seed = Long.parseLong(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Random rnd = new Random(seed);
        XceptionConfig config = new XceptionConfig(size, size, 1000, true, Pooling.NONE, width, 8);
        XceptionWeights weights = XceptionWeights.random(XceptionGraph.build(config), rnd.nextLong());
        Uint8Tensor[] images = new Uint8Tensor[64];
        for (int i = 0; i < images.length; i++) {
            byte[] b = new byte[size * size * 3];
            rnd.nextBytes(b);
            images[i] = new Uint8Tensor(Shape.of(size, size, 3), b);
        }
        List<Backend> opened = new ArrayList<>();
        List<InferenceSession> sessions = new ArrayList<>();
        try {
            for (String name : backends.split(",")) {
                Backend b = Backends.open(name, precision);
                opened.add(b);
                InferenceSession s = new InferenceSession(b, weights, maxBatch);
                sessions.add(s);
                for (int n = 1; n <= maxBatch; n++) {   // build/record every batch size before the clock runs
                    byte[] x = new byte[n * size * size * 3];
                    rnd.nextBytes(x);
                    s.run(new Uint8Tensor(Shape.of(n, size, size, 3), x));
                }
            }
            System.out.printf(Locale.ROOT, "DynamicBatcher load: %s, %s, Xception %dx%d width %.3g, maxBatch %d, maxDelay %.1f ms; %s; %s%n",
                    backends, precision, size, size, width, maxBatch, maxDelayMs, java.time.LocalDate.now(), System.getProperty("os.arch"));
            for (Backend b : opened) System.out.println("  " + b.name() + ": " + b.description());
            System.out.printf(Locale.ROOT, "%8s %10s %10s %10s %10s %10s %10s%n", "callers", "img/s", "p50 ms", "p99 ms", "max ms", "mean batch", "requests");
            for (int c : callers) {
                DynamicBatcher.Options options = DynamicBatcher.Options.of(maxBatch).withMaxDelay(Duration.ofNanos((long) (maxDelayMs * 1e6)))
                        .withQueue(Math.max(4 * maxBatch, 2 * c), DynamicBatcher.WhenFull.BLOCK);
                try (DynamicBatcher batcher = new DynamicBatcher(sessions, options)) {
                    load(batcher, images, c, warmupSeconds);
                    DynamicBatcher.Stats before = batcher.stats();
                    Result r = load(batcher, images, c, seconds);
                    DynamicBatcher.Stats after = batcher.stats();
                    double meanBatch = (double) (after.images() - before.images()) / Math.max(1, after.batches() - before.batches());
                    System.out.printf(Locale.ROOT, "%8d %10.2f %10.1f %10.1f %10.1f %10.2f %10d%n", c, r.imagesPerSecond, r.percentile(50), r.percentile(99),
                            r.percentile(100), meanBatch, r.latencies.length);
                }
            }
        } finally {
            for (InferenceSession s : sessions) s.close();
            for (Backend b : opened) b.close();
        }
    }

    /** Completed requests in the window, their latencies (ms), sorted. */
    private record Result(double imagesPerSecond, double[] latencies) {
        double percentile(double p) {
            if (latencies.length == 0) return Double.NaN;
            int i = (int) Math.ceil(p / 100 * latencies.length) - 1;
            return latencies[Math.max(0, Math.min(latencies.length - 1, i))];
        }
    }

    /** {@code callers} threads in a closed loop for {@code seconds}; requests that end after the window are not counted. */
    private static Result load(DynamicBatcher batcher, Uint8Tensor[] images, int callers, double seconds) throws InterruptedException {
        AtomicBoolean stop = new AtomicBoolean();
        List<double[]> perThread = new ArrayList<>();
        CountDownLatch done = new CountDownLatch(callers);
        long t0 = System.nanoTime(), end = t0 + (long) (seconds * 1e9);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < callers; t++) {
            int id = t;
            double[][] slot = new double[1][];
            perThread.add(null);
            Thread th = new Thread(() -> {
                double[] lat = new double[1 << 12];
                int n = 0, k = id;
                try {
                    while (!stop.get()) {
                        long s = System.nanoTime();
                        batcher.submit(images[k++ % images.length]).get();
                        long e = System.nanoTime();
                        if (e > end) break;
                        if (n == lat.length) lat = Arrays.copyOf(lat, 2 * n);
                        lat[n++] = (e - s) / 1e6;
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                } finally {
                    slot[0] = Arrays.copyOf(lat, n);
                    synchronized (perThread) {
                        perThread.set(id, slot[0]);
                    }
                    done.countDown();
                }
            }, "caller-" + t);
            threads.add(th);
            th.start();
        }
        Thread.sleep(Math.max(0, (end - System.nanoTime()) / 1_000_000));
        stop.set(true);
        done.await(10, TimeUnit.MINUTES);
        double[] all = perThread.stream().filter(java.util.Objects::nonNull).flatMapToDouble(Arrays::stream).sorted().toArray();
        double window = (end - t0) / 1e9;
        return new Result(all.length / window, all);
    }
}
