package io.jxception.cli.stream;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Reads a {@link BatchSource} on a thread of its own into a bounded queue of {@code depth}
 * batches, so reading (mapping a file, decoding images) runs ahead of the devices but never more
 * than {@code depth} batches ahead. Any number of device workers {@link #take} from it. An error of
 * the source reaches every taker; {@link #cancel} stops the reader and releases the takers.
 */
public final class Prefetch implements AutoCloseable {
    private static final Object END = new Object();

    private final BatchSource source;
    private final BlockingQueue<Object> queue;
    private final Thread reader;
    private volatile Throwable error;
    private volatile boolean cancelled;

    public Prefetch(BatchSource source, int depth) {
        this.source = source;
        if (depth < 1) throw new IllegalArgumentException("depth must be at least 1, got " + depth);
        this.queue = new ArrayBlockingQueue<>(depth);
        this.reader = new Thread(this::read, "jxception-reader");
        reader.setDaemon(true);
        reader.start();
    }

    public BatchSource source() { return source; }

    private void read() {
        try {
            while (!cancelled) {
                InputBatch b = source.next();
                if (b == null) break;
                queue.put(b);
            }
        } catch (InterruptedException e) {
            // cancelled
        } catch (Throwable t) {
            error = t;
        } finally {
            endQueue();
        }
    }

    /** Puts END after the batches (waiting for room), or alone once cancelled. */
    private void endQueue() {
        while (true) {
            if (cancelled) {
                queue.clear();
                queue.offer(END);
                return;
            }
            try {
                queue.put(END);
                return;
            } catch (InterruptedException e) {
                // cancel() interrupts; loop to the cancelled branch
            }
        }
    }

    /**
     * The next batch in input order, or null at the end (or after {@link #cancel}); waits while the
     * reader works. Rethrows the source's failure.
     */
    public InputBatch take() throws IOException {
        Object o;
        try {
            o = queue.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for input", e);
        }
        if (o == END) {
            queue.offer(END);   // for the other takers
            Throwable t = error;
            if (t == null || cancelled) return null;
            if (t instanceof IOException io) throw new IOException(io.getMessage(), io);
            if (t instanceof UncheckedIOException u) throw new IOException(u.getCause().getMessage(), u.getCause());
            if (t instanceof RuntimeException r) throw r;
            throw new IOException(t.toString(), t);
        }
        return (InputBatch) o;
    }

    /** Stops reading; takers get null from now on. */
    public void cancel() {
        cancelled = true;
        reader.interrupt();
        queue.clear();
        queue.offer(END);
    }

    /** Cancels, waits for the reader thread and closes the source. */
    @Override public void close() throws IOException {
        cancel();
        try {
            reader.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        source.close();
    }
}
