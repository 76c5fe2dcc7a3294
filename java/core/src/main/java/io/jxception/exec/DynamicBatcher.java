package io.jxception.exec;

import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;
import io.jxception.tensor.Uint8Tensor;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Serves single images from many threads by coalescing them into batches for one or more
 * {@link InferenceSession}s, typically one per device: the service case, where each caller has one
 * image and the device is fast only on batches.
 *
 * <p>{@link #submit(Tensor)} (preprocessed float32) or {@link #submit(Uint8Tensor)} (raw pixels)
 * queues one image and returns a future of its output row, shape {@code outputShape(1)}: (1, classes)
 * or (1, C). Each session is driven by a worker thread of its own; a worker that is free takes up to
 * {@code maxBatch} queued requests of one kind (float or uint8) at once, waiting at most
 * {@code maxDelay} after the oldest request arrived for the batch to fill. So under light load a
 * request waits at most maxDelay plus one forward, and under heavy load batches are full and every
 * session busy. The queue holds at most {@code queueCapacity} requests; beyond that,
 * {@link WhenFull#BLOCK} makes {@code submit} wait for room and {@link WhenFull#REJECT} fails the new
 * request's future at once with {@link RejectedExecutionException}.
 *
 * <p>Shutdown: {@link #close()} stops accepting requests, runs every queued one (without waiting for
 * batches to fill) and returns when the workers are done; {@link #shutdownNow()} fails every request
 * not yet taken by a worker with {@link RejectedExecutionException} and waits only for the batches
 * already running. Either way every future returned by {@code submit} is completed when they return.
 * A batch that fails on its device (the session throws) fails the futures of its requests with that
 * exception; the worker goes on with the next batch.
 *
 * <p>Thread-safe: any number of threads may submit at once. The sessions belong to the batcher from
 * construction until {@link #close()} or {@link #shutdownNow()} returns: nothing else may use them
 * meanwhile (a session is single-threaded); the caller closes them (and their backends) afterwards.
 * Futures complete on worker threads, so dependent actions attached without an executor
 * ({@code thenApply}, ...) run there and delay the next batch: keep them short or use the
 * {@code ...Async} variants.
 */
public final class DynamicBatcher implements AutoCloseable {
    /** What {@code submit} does when {@code queueCapacity} requests are waiting. */
    public enum WhenFull {
        /** Wait for room (back-pressure on the callers). */
        BLOCK,
        /** Fail the new request's future at once with {@link RejectedExecutionException}. */
        REJECT
    }

    /**
     * How requests are coalesced.
     *
     * @param maxBatch      most images per batch (at most every session's {@link InferenceSession#maxBatch()})
     * @param maxDelay      longest a free worker waits, after the oldest queued request arrived, for a batch to fill (zero: never waits)
     * @param queueCapacity most requests waiting at once
     * @param whenFull      what {@code submit} does when the queue is full
     */
    public record Options(int maxBatch, Duration maxDelay, int queueCapacity, WhenFull whenFull) {
        /** @throws IllegalArgumentException for maxBatch or queueCapacity below 1, or a negative delay */
        public Options {
            Objects.requireNonNull(maxDelay, "maxDelay");
            Objects.requireNonNull(whenFull, "whenFull");
            if (maxBatch < 1) throw new IllegalArgumentException("maxBatch must be at least 1, got " + maxBatch);
            if (maxDelay.isNegative()) throw new IllegalArgumentException("maxDelay must not be negative, got " + maxDelay);
            if (queueCapacity < 1) throw new IllegalArgumentException("queueCapacity must be at least 1, got " + queueCapacity);
        }

        /** maxBatch images, a 2 ms delay, room for 16 full batches, callers blocked when full. */
        public static Options of(int maxBatch) { return new Options(maxBatch, Duration.ofMillis(2), 16 * maxBatch, WhenFull.BLOCK); }

        /** These options with {@code maxDelay} = {@code d}. */
        public Options withMaxDelay(Duration d) { return new Options(maxBatch, d, queueCapacity, whenFull); }

        /** These options with a queue of {@code capacity} requests and {@code when} for a full one. */
        public Options withQueue(int capacity, WhenFull when) { return new Options(maxBatch, maxDelay, capacity, when); }
    }

    /**
     * Counts since construction.
     *
     * @param batches          batches run (successfully or not)
     * @param images           images in those batches
     * @param imagesPerSession images per session, in the order the sessions were given
     * @param rejected         requests failed without running: queue full (REJECT), closed, or {@link #shutdownNow()}
     */
    public record Stats(long batches, long images, long[] imagesPerSession, long rejected) {
        /** Copies {@code imagesPerSession}: a Stats never changes. */
        public Stats {
            imagesPerSession = imagesPerSession.clone();
        }

        /** A copy of the images per session. */
        @Override public long[] imagesPerSession() { return imagesPerSession.clone(); }

        /** Mean images per batch (0 before the first batch). */
        public double meanBatch() { return batches == 0 ? 0 : (double) images / batches; }
    }

    /** One queued image: float32 or uint8 (exactly one), its future, when it arrived. */
    private record Request(Tensor floats, Uint8Tensor pixels, CompletableFuture<Tensor> result, long arrivedNanos) {
        boolean sameKind(Request o) { return (floats == null) == (o.floats == null); }
    }

    private enum State { OPEN, DRAINING, STOPPED }

    private final List<InferenceSession> sessions;
    private final Options options;
    private final Shape input;                 // (1, H, W, 3)
    private final long maxDelayNanos;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();   // requests arrived or state changed (workers wait on it)
    private final Condition room = lock.newCondition();      // requests left the queue (blocked submitters wait on it)
    private final ArrayDeque<Request> queue = new ArrayDeque<>();
    private final List<Thread> workers = new ArrayList<>();
    private State state = State.OPEN;
    private long batches, images, rejected;
    private final long[] imagesPerSession;

    /**
     * Starts one worker thread per session.
     *
     * @throws IllegalArgumentException for no sessions, sessions with different input or output
     *                                  shapes, or a maxBatch larger than a session takes
     */
    public DynamicBatcher(List<InferenceSession> sessions, Options options) {
        this.sessions = List.copyOf(sessions);
        this.options = Objects.requireNonNull(options, "options");
        if (this.sessions.isEmpty()) throw new IllegalArgumentException("a batcher needs at least one session");
        InferenceSession first = this.sessions.get(0);
        this.input = first.inputShape(1);
        for (InferenceSession s : this.sessions) {
            if (!s.inputShape(1).equals(input) || !s.outputShape(1).equals(first.outputShape(1))) {
                throw new IllegalArgumentException("sessions take different shapes: " + s.inputShape(1) + " -> " + s.outputShape(1)
                        + " and " + input + " -> " + first.outputShape(1) + ": give the batcher sessions of one network");
            }
            if (s.maxBatch() < options.maxBatch()) {
                throw new IllegalArgumentException("maxBatch " + options.maxBatch() + " is larger than a session's " + s.maxBatch());
            }
        }
        this.maxDelayNanos = options.maxDelay().toNanos();
        this.imagesPerSession = new long[this.sessions.size()];
        for (int i = 0; i < this.sessions.size(); i++) {
            int index = i;
            Thread t = new Thread(() -> work(index), "jxception-batcher-" + i);
            t.setDaemon(true);
            workers.add(t);
        }
        workers.forEach(Thread::start);
    }

    /** The options this batcher runs with. */
    public Options options() { return options; }

    /**
     * Queues one preprocessed image, (H, W, 3) or (1, H, W, 3) NHWC float32 (x / 127.5 − 1), and
     * returns the future of its output, {@code outputShape(1)}. The future fails with
     * {@link RejectedExecutionException} when the batcher is closed or its queue is full in
     * {@link WhenFull#REJECT} mode, with {@link InterruptedException} when the caller is
     * interrupted while waiting for room ({@link WhenFull#BLOCK}; the interrupt status is set
     * again), and with the session's exception when its batch fails.
     *
     * @throws IllegalArgumentException for a wrong shape or a non-finite value (checked here, so a bad
     *                                  request never fails a batch of good ones)
     */
    public CompletableFuture<Tensor> submit(Tensor image) {
        Objects.requireNonNull(image, "image");
        checkShape(image.shape());
        int bad = image.firstNonFinite();
        if (bad >= 0) throw new IllegalArgumentException("image holds a non-finite value (" + image.data()[bad] + ") at flat index " + bad);
        return enqueue(image, null);
    }

    /**
     * Queues one raw 8-bit image, (H, W, 3) or (1, H, W, 3) NHWC, 0..255 before preprocessing (see
     * {@link InferenceSession#run(Uint8Tensor)}); otherwise as {@link #submit(Tensor)}.
     */
    public CompletableFuture<Tensor> submit(Uint8Tensor image) {
        Objects.requireNonNull(image, "image");
        checkShape(image.shape());
        return enqueue(null, image);
    }

    private void checkShape(Shape s) {
        boolean one = s.rank() == 4 && s.dim(0) == 1 && s.dim(1) == input.dim(1) && s.dim(2) == input.dim(2) && s.dim(3) == 3;
        boolean bare = s.rank() == 3 && s.dim(0) == input.dim(1) && s.dim(1) == input.dim(2) && s.dim(2) == 3;
        if (!one && !bare) {
            throw new IllegalArgumentException("image has shape " + s + ", expected (" + input.dim(1) + ", " + input.dim(2) + ", 3) or (1, "
                    + input.dim(1) + ", " + input.dim(2) + ", 3): one image per request");
        }
    }

    private CompletableFuture<Tensor> enqueue(Tensor floats, Uint8Tensor pixels) {
        CompletableFuture<Tensor> result = new CompletableFuture<>();
        lock.lock();
        try {
            while (state == State.OPEN && queue.size() >= options.queueCapacity()) {
                if (options.whenFull() == WhenFull.REJECT) {
                    rejected++;
                    result.completeExceptionally(new RejectedExecutionException("queue full: " + options.queueCapacity() + " requests waiting"));
                    return result;
                }
                try {
                    room.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    rejected++;
                    result.completeExceptionally(e);
                    return result;
                }
            }
            if (state != State.OPEN) {
                rejected++;
                result.completeExceptionally(new RejectedExecutionException("the batcher is closed"));
                return result;
            }
            queue.add(new Request(floats, pixels, result, System.nanoTime()));
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        return result;
    }

    /** Requests waiting for a worker now. */
    public int queued() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }

    /** Counts so far. */
    public Stats stats() {
        lock.lock();
        try {
            return new Stats(batches, images, imagesPerSession, rejected);
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- workers

    private void work(int index) {
        InferenceSession session = sessions.get(index);
        while (true) {
            List<Request> batch;
            try {
                batch = take();
            } catch (InterruptedException e) {
                return;   // only close()/shutdownNow() interrupt, after the queue is settled
            }
            if (batch == null) return;
            run(session, index, batch);
        }
    }

    /**
     * The next batch: up to maxBatch requests of the kind at the head of the queue, after waiting
     * until that many are there or maxDelay has passed since the head arrived (no wait once closing).
     * Null when the batcher is stopping and nothing is left for this worker.
     */
    private List<Request> take() throws InterruptedException {
        lock.lock();
        try {
            while (true) {
                while (queue.isEmpty()) {
                    if (state != State.OPEN) return null;
                    changed.await();
                }
                long deadline = queue.peekFirst().arrivedNanos() + maxDelayNanos;
                while (!queue.isEmpty() && state == State.OPEN && sameKindAtHead() < options.maxBatch()) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) break;
                    changed.awaitNanos(left);
                }
                if (queue.isEmpty()) continue;   // another worker took them while this one waited
                List<Request> batch = new ArrayList<>();
                Request head = queue.peekFirst();
                while (batch.size() < options.maxBatch() && !queue.isEmpty() && queue.peekFirst().sameKind(head)) batch.add(queue.pollFirst());
                room.signalAll();
                return batch;
            }
        } finally {
            lock.unlock();
        }
    }

    /** Requests at the head of the queue of the head's kind, counted up to maxBatch. */
    private int sameKindAtHead() {
        Request head = queue.peekFirst();
        int n = 0;
        for (Iterator<Request> it = queue.iterator(); it.hasNext() && n < options.maxBatch(); n++) {
            if (!it.next().sameKind(head)) break;
        }
        return n;
    }

    /**
     * Stacks the batch, runs it on session {@code index}, counts it, then completes each request's
     * future with its row (or the error): counted first, so a caller that saw its future complete
     * sees its image in {@link #stats()}.
     */
    private void run(InferenceSession session, int index, List<Request> batch) {
        Tensor out = null;
        Throwable failure = null;
        try {
            out = batch.get(0).floats() != null ? session.run(stackFloats(batch)) : session.run(stackPixels(batch));
        } catch (Throwable e) {   // the worker must live on: a dead worker would leave queued futures incomplete
            failure = e;
        }
        lock.lock();
        try {
            batches++;
            images += batch.size();
            imagesPerSession[index] += batch.size();
        } finally {
            lock.unlock();
        }
        if (failure != null) {
            for (Request r : batch) r.result().completeExceptionally(failure);
            return;
        }
        int n = batch.size(), per = out.size() / n;
        int[] rowDims = out.shape().dims();
        rowDims[0] = 1;
        Shape rowShape = new Shape(rowDims);
        for (int i = 0; i < n; i++) {
            batch.get(i).result().complete(new Tensor(rowShape, Arrays.copyOfRange(out.data(), i * per, (i + 1) * per)));
        }
    }

    private static Tensor stackFloats(List<Request> batch) {
        Tensor first = batch.get(0).floats();
        int per = first.size();
        float[] x = new float[batch.size() * per];   // (n, H, W, 3)
        for (int i = 0; i < batch.size(); i++) System.arraycopy(batch.get(i).floats().data(), 0, x, i * per, per);
        Shape s = first.shape();
        return new Tensor(s.rank() == 4 ? Shape.of(batch.size(), s.dim(1), s.dim(2), 3) : Shape.of(batch.size(), s.dim(0), s.dim(1), 3), x);
    }

    private static Uint8Tensor stackPixels(List<Request> batch) {
        Uint8Tensor first = batch.get(0).pixels();
        int per = first.size();
        byte[] x = new byte[batch.size() * per];   // (n, H, W, 3)
        for (int i = 0; i < batch.size(); i++) System.arraycopy(batch.get(i).pixels().data(), 0, x, i * per, per);
        Shape s = first.shape();
        return new Uint8Tensor(s.rank() == 4 ? Shape.of(batch.size(), s.dim(1), s.dim(2), 3) : Shape.of(batch.size(), s.dim(0), s.dim(1), 3), x);
    }

    // ---------------------------------------------------------------- shutdown

    /**
     * Stops accepting requests, runs every queued one (batches no longer wait to fill) and returns
     * when the workers have finished: every future is then complete. Requests submitted meanwhile,
     * and callers blocked for room, get {@link RejectedExecutionException}. Closing twice does
     * nothing. Interrupting the caller while it waits ends the wait early (the interrupt status is
     * set again); the workers still finish the queue.
     */
    @Override
    public void close() {
        lock.lock();
        try {
            if (state == State.OPEN) state = State.DRAINING;
            changed.signalAll();
            room.signalAll();
        } finally {
            lock.unlock();
        }
        join();
    }

    /**
     * Stops accepting requests and fails every queued request (not yet taken by a worker) with
     * {@link RejectedExecutionException}; waits for the batches already running. Returns how many
     * requests it failed.
     */
    public int shutdownNow() {
        List<Request> dropped;
        lock.lock();
        try {
            state = State.STOPPED;
            dropped = new ArrayList<>(queue);
            queue.clear();
            rejected += dropped.size();
            changed.signalAll();
            room.signalAll();
        } finally {
            lock.unlock();
        }
        for (Request r : dropped) r.result().completeExceptionally(new RejectedExecutionException("the batcher was shut down before this request ran"));
        join();
        return dropped.size();
    }

    private void join() {
        for (Thread t : workers) {
            if (t == Thread.currentThread()) continue;   // closed from a future's callback on a worker
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
