package io.jxception.cli.stream;

import io.jxception.exec.InferenceSession;
import io.jxception.tensor.Tensor;
import io.jxception.tensor.Uint8Tensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.Function;

/**
 * Runs the batches of a {@link Prefetch} on several sessions at once, one thread per session (one
 * session per device: each device's backend is used by its thread alone). Each thread takes the
 * next batch when its device is ready for one, so a faster device runs more batches; within a
 * device, {@link InferenceSession#runAll} overlaps the copy of its next batch with the forward of
 * this one. Outputs reach {@code outputs} from the device threads, in each device's order but
 * interleaved between devices: the {@link InputBatch} says where each belongs.
 */
public final class DeviceWorkers {
    /** Where an output goes; called from device threads, so implementations are thread-safe. */
    public interface Outputs {
        void accept(InputBatch batch, Tensor output) throws IOException;
    }

    private DeviceWorkers() {}

    /**
     * Runs every batch; returns when all are done. The first failure (reading, a device, an output)
     * stops the other threads and is thrown; outputs already handed over stay handed over.
     */
    public static void run(List<InferenceSession> sessions, List<String> names, Prefetch input, Outputs outputs) throws IOException {
        boolean uint8 = input.source().uint8();
        List<Thread> threads = new ArrayList<>();
        Throwable[] failure = new Throwable[1];
        for (int d = 0; d < sessions.size(); d++) {
            InferenceSession session = sessions.get(d);
            Thread t = new Thread(() -> {
                try {
                    runOne(session, input, uint8, outputs);
                } catch (Throwable e) {
                    synchronized (failure) {
                        if (failure[0] == null) failure[0] = e;
                    }
                    input.cancel();
                }
            }, "jxception-device-" + names.get(d));
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                input.cancel();
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while the devices ran", e);
            }
        }
        Throwable f = failure[0];
        if (f == null) return;
        if (f instanceof UncheckedIOException u) throw u.getCause();
        if (f instanceof IOException io) throw io;
        if (f instanceof RuntimeException r) throw r;
        if (f instanceof Error e) throw e;
        throw new IOException(f.toString(), f);
    }

    private static void runOne(InferenceSession session, Prefetch input, boolean uint8, Outputs outputs) {
        ArrayDeque<InputBatch> taken = new ArrayDeque<>();   // batches handed to runAll whose outputs are still to come
        java.util.function.BiConsumer<Integer, Tensor> deliver = (i, y) -> {
            try {
                outputs.accept(taken.poll(), y);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
        if (uint8) session.runAllUint8(new Batches<>(input, taken, InputBatch::pixels), deliver);
        else session.runAll(new Batches<>(input, taken, InputBatch::floats), deliver);
    }

    /** The shared input as one device's iterator: hasNext waits for the next batch any device has not taken. */
    private static final class Batches<T> implements Iterator<T> {
        private final Prefetch input;
        private final ArrayDeque<InputBatch> taken;
        private final Function<InputBatch, T> images;
        private InputBatch next;
        private boolean ended;

        Batches(Prefetch input, ArrayDeque<InputBatch> taken, Function<InputBatch, T> images) {
            this.input = input;
            this.taken = taken;
            this.images = images;
        }

        @Override public boolean hasNext() {
            if (next == null && !ended) {
                try {
                    next = input.take();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                ended = next == null;
            }
            return next != null;
        }

        @Override public T next() {
            if (!hasNext()) throw new NoSuchElementException();
            InputBatch b = next;
            next = null;
            taken.add(b);
            return images.apply(b);
        }
    }
}
