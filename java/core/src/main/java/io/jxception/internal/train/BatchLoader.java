package io.jxception.internal.train;

import io.jxception.train.Augmentation;
import io.jxception.internal.image.ImageFiles;
import io.jxception.image.Interpolation;
import io.jxception.image.KerasPreprocessing;
import io.jxception.internal.image.RgbImage;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Reads batches on background threads so the device never waits on the disk: a pool decodes the
 * next {@code prefetch} batches (file → RGB → bilinear resize to the input size → augmentation →
 * x/127.5 − 1, NHWC) while the caller trains on the current one. Batches come back in order, and
 * each batch's content depends only on its example indices and seed, never on thread timing.
 */
public final class BatchLoader implements AutoCloseable {
    private final int height, width;
    private final int prefetch;
    private final ExecutorService pool;

    /**
     * @param threads  decoding threads (at least 1)
     * @param prefetch batches decoded ahead of the one being trained on (at least 1)
     */
    public BatchLoader(int height, int width, int threads, int prefetch) {
        if (threads < 1) throw new IllegalArgumentException("loader threads must be at least 1, got " + threads);
        if (prefetch < 1) throw new IllegalArgumentException("prefetch must be at least 1 batch, got " + prefetch);
        this.height = height;
        this.width = width;
        this.prefetch = prefetch;
        AtomicInteger n = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "jxception-loader-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** Training batches {@code fromBatch ..} of an epoch plan, augmented with each batch's seed. */
    public Stream training(ImageFolder data, EpochPlan plan, int fromBatch, Augmentation augmentation) {
        return training(data, plan, fromBatch, augmentation, 0, plan.batchSize());
    }

    /**
     * One process's slice of every batch of an epoch plan (data-parallel training): positions
     * {@code [first, first + count)} of each batch {@code fromBatch ..}, each image decoded and
     * augmented exactly as it is in the whole batch (its augmentation draws come from the batch seed
     * at its position in the batch), so the slices of all processes together are the whole batches.
     */
    public Stream training(ImageFolder data, EpochPlan plan, int fromBatch, Augmentation augmentation, int first, int count) {
        if (first < 0 || count < 1 || first + count > plan.batchSize()) {
            throw new IllegalArgumentException("slice [" + first + ", " + (first + count) + ") is not within a batch of " + plan.batchSize());
        }
        int batches = plan.batches();
        return new Stream(fromBatch, batches, b -> {
            int[] indices = java.util.Arrays.copyOfRange(plan.batch(b), first, first + count);
            return load(data.examples(), indices, plan.batchSeeds()[b], augmentation, b, first);
        });
    }

    /** The whole set in file order, in batches of at most {@code batchSize}, never augmented. */
    public Stream inOrder(ImageFolder data, int batchSize) {
        int n = data.examples().size();
        int batches = (n + batchSize - 1) / batchSize;
        return new Stream(0, batches, b -> {
            int from = b * batchSize, to = Math.min(n, from + batchSize);
            int[] idx = new int[to - from];
            for (int i = 0; i < idx.length; i++) idx[i] = from + i;
            return load(data.examples(), idx, 0L, Augmentation.NONE, b);
        });
    }

    /** Decodes one batch on the calling thread. */
    public Batch load(List<ImageFolder.Example> examples, int[] indices, long seed, Augmentation augmentation, int index) {
        return load(examples, indices, seed, augmentation, index, 0);
    }

    /**
     * Decodes images that sit at positions {@code firstPosition ..} of a batch with augmentation
     * seed {@code seed}: image i draws its augmentation from the batch's (firstPosition + i)-th seed.
     */
    private Batch load(List<ImageFolder.Example> examples, int[] indices, long seed, Augmentation augmentation, int index, int firstPosition) {
        int perImage = height * width * 3;
        float[] x = new float[Math.multiplyExact(indices.length, perImage)]; // (n, H, W, 3)
        int[] labels = new int[indices.length];
        Rng seeds = new Rng(seed);
        for (int skip = 0; skip < firstPosition; skip++) seeds.nextLong();
        for (int i = 0; i < indices.length; i++) {
            ImageFolder.Example e = examples.get(indices[i]);
            RgbImage image;
            try {
                image = ImageFiles.read(e.file(), height, width, Interpolation.BILINEAR);
            } catch (IOException ex) {
                throw new UncheckedIOException(ex);
            }
            image = Augmenter.apply(augmentation, image, new Rng(seeds.nextLong()));
            float[] p = image.pixels();
            for (int j = 0; j < perImage; j++) x[i * perImage + j] = KerasPreprocessing.tf(p[j]);
            labels[i] = e.label();
        }
        return new Batch(index, new Tensor(Shape.of(indices.length, height, width, 3), x), labels);
    }

    private interface BatchTask {
        Batch load(int batch);
    }

    /**
     * Batches in order with up to {@code prefetch} decoded ahead. {@link #waitNanos()} is how long the
     * consumer was blocked waiting for a batch: near zero when loading keeps up with training.
     * Closing it cancels the batches not yet taken.
     */
    public final class Stream implements Iterator<Batch>, AutoCloseable {
        private final ArrayDeque<Future<Batch>> ahead = new ArrayDeque<>();
        private final BatchTask task;
        private final int end;
        private int nextToSubmit, nextToTake;
        private long waitNanos;

        private Stream(int from, int end, BatchTask task) {
            this.task = task;
            this.end = end;
            this.nextToSubmit = from;
            this.nextToTake = from;
            topUp();
        }

        private void topUp() {
            while (nextToSubmit < end && ahead.size() < prefetch) {
                int b = nextToSubmit++;
                ahead.add(pool.submit(() -> task.load(b)));
            }
        }

        @Override public boolean hasNext() { return nextToTake < end; }

        @Override public Batch next() {
            if (!hasNext()) throw new NoSuchElementException();
            Future<Batch> f = ahead.poll();
            long t0 = System.nanoTime();
            try {
                Batch b = f.get();
                nextToTake++;
                return b;
            } catch (ExecutionException e) {
                if (e.getCause() instanceof UncheckedIOException io) throw new UncheckedIOException(io.getCause().getMessage(), io.getCause());
                if (e.getCause() instanceof RuntimeException re) throw re;
                throw new IllegalStateException("loading batch " + nextToTake + " failed", e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CancellationException("interrupted while waiting for batch " + nextToTake);
            } finally {
                waitNanos += System.nanoTime() - t0;
                topUp();
            }
        }

        public long waitNanos() { return waitNanos; }

        @Override public void close() {
            for (Future<Batch> f : ahead) f.cancel(true);
            ahead.clear();
            nextToSubmit = end;
        }
    }

    @Override
    public void close() { pool.shutdownNow(); }
}
