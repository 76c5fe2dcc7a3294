package io.jxception.cli.stream;

import io.jxception.image.Interpolation;
import io.jxception.internal.image.ImageFiles;
import io.jxception.internal.image.RgbImage;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Uint8Tensor;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Image files decoded and resized to size × size on a pool of {@code threads} threads, handed out
 * in list order as batches of raw uint8 pixels (N, size, size, 3): the device applies Keras'
 * preprocessing, so the bytes are all that crosses to it. At most {@code 4 · threads} images are
 * decoding or decoded-but-not-batched at a time (the bound on memory), and decoding runs ahead of
 * the device by that much.
 *
 * <p>A file that cannot be read or decoded fails the run with its message (which names the file),
 * or, with {@code skipBad}, is left out of the output and listed in {@link #skipped()}.
 */
public final class ImageBatches implements BatchSource {
    /** An image left out, and why. */
    public record Skipped(String name, String reason) {}

    private final List<ImageList.Entry> images;
    private final int size;
    private final Interpolation interpolation;
    private final int batch;
    private final boolean skipBad;
    private final ExecutorService pool;
    private final int window;
    private final ArrayDeque<Future<byte[]>> inFlight = new ArrayDeque<>();   // decodes of images [taken, submitted)
    private final List<Skipped> skipped = Collections.synchronizedList(new ArrayList<>());
    private int submitted, taken;
    private long index, rows;

    public ImageBatches(List<ImageList.Entry> images, int size, Interpolation interpolation, int batch, int threads, boolean skipBad) {
        if (batch < 1 || threads < 1) throw new IllegalArgumentException("batch and threads must be at least 1");
        this.images = List.copyOf(images);
        this.size = size;
        this.interpolation = interpolation;
        this.batch = batch;
        this.skipBad = skipBad;
        this.window = 4 * threads;
        AtomicInteger count = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "jxception-decode-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    @Override public long total() { return images.size(); }

    @Override public boolean uint8() { return true; }

    /** Images skipped so far ({@code skipBad}), in list order. */
    public List<Skipped> skipped() {
        synchronized (skipped) {
            return List.copyOf(skipped);
        }
    }

    @Override public InputBatch next() throws IOException {
        int perImage = size * size * 3;
        List<String> names = new ArrayList<>(batch);
        List<byte[]> pixels = new ArrayList<>(batch);
        while (names.size() < batch && taken < images.size()) {
            while (submitted < images.size() && inFlight.size() < window) {
                ImageList.Entry e = images.get(submitted++);
                inFlight.add(pool.submit(() -> decode(e)));
            }
            ImageList.Entry e = images.get(taken++);
            Future<byte[]> f = inFlight.poll();
            try {
                pixels.add(f.get());
                names.add(e.name());
            } catch (ExecutionException failed) {
                Throwable cause = failed.getCause();
                String reason = cause.getMessage() == null ? cause.toString() : cause.getMessage();
                if (!reason.contains(e.name())) reason = e.name() + ": " + reason;
                if (!skipBad) throw new IOException(reason + " (--skip-bad-images leaves unreadable images out and lists them)", cause);
                skipped.add(new Skipped(e.name(), reason));
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while decoding " + e.name(), interrupted);
            }
        }
        if (names.isEmpty()) return null;
        byte[] data = new byte[names.size() * perImage];   // (n, size, size, 3) NHWC uint8
        for (int i = 0; i < pixels.size(); i++) System.arraycopy(pixels.get(i), 0, data, i * perImage, perImage);
        InputBatch b = new InputBatch(index++, rows, null, new Uint8Tensor(Shape.of(names.size(), size, size, 3), data), List.copyOf(names));
        rows += names.size();
        return b;
    }

    /** Decodes and resizes one file to (size, size, 3) bytes; RgbImage values are integers 0..255, so nothing is lost. */
    private byte[] decode(ImageList.Entry e) throws IOException {
        RgbImage im = ImageFiles.read(e.path(), size, size, interpolation);
        float[] p = im.pixels();
        byte[] out = new byte[p.length];
        for (int i = 0; i < p.length; i++) {
            float v = p[i];
            if (!(v >= 0 && v <= 255) || v != (int) v) throw new IllegalStateException(e.name() + ": decoded pixel value " + v + " is not an integer 0..255");
            out[i] = (byte) (int) v;
        }
        return out;
    }

    @Override public void close() { pool.shutdownNow(); }
}
