package io.jxception.internal.backend.cpu;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs {@code body(from, to)} over disjoint ranges of {@code [0, count)} on a thread pool that this
 * object owns (closed with it). The reference ops only hand it loops whose indices write disjoint
 * outputs and reduce serially within one index, so results are bit-identical for any thread count.
 */
public final class Parallel implements AutoCloseable {
    /** Runs everything on the calling thread; holds no threads, so it is safe to share. */
    public static final Parallel SERIAL = new Parallel();

    /** The loop body over the index range [from, to). */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    private final int threads;
    private final ExecutorService pool; // null when serial; threads-1 workers, the caller runs one chunk

    private Parallel() {
        this.threads = 1;
        this.pool = null;
    }

    /** A pool of {@code threads} (caller included); 1 means serial. */
    public static Parallel of(int threads) {
        if (threads < 1) throw new IllegalArgumentException("thread count must be at least 1, got " + threads);
        return threads == 1 ? new Parallel() : new Parallel(threads);
    }

    private Parallel(int threads) {
        this.threads = threads;
        AtomicInteger id = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(threads - 1, r -> {
            Thread t = new Thread(r, "jxception-cpu-" + id.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    public int threads() { return threads; }

    /** Splits [0, count) into at most {@code threads} contiguous chunks and waits for all of them. */
    public void forRange(int count, RangeBody body) {
        if (count <= 0) return;
        int chunks = Math.min(threads, count);
        if (pool == null || chunks == 1) {
            body.run(0, count);
            return;
        }
        List<Future<?>> futures = new ArrayList<>(chunks - 1);
        for (int k = 1; k < chunks; k++) {
            int from = (int) ((long) count * k / chunks), to = (int) ((long) count * (k + 1) / chunks);
            futures.add(pool.submit(() -> body.run(from, to)));
        }
        RuntimeException first = null;
        try {
            body.run(0, (int) ((long) count / chunks));
        } catch (RuntimeException e) {
            first = e;
        }
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (ExecutionException e) {
                if (first == null) first = e.getCause() instanceof RuntimeException re ? re : new RuntimeException(e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (first == null) first = new IllegalStateException("interrupted while waiting for CPU reference work", e);
            }
        }
        if (first != null) throw first;
    }

    @Override
    public void close() {
        if (pool != null) pool.shutdownNow();
    }
}
