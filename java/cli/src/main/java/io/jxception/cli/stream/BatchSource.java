package io.jxception.cli.stream;

import java.io.IOException;

/**
 * Batches of images in input order, read or decoded on demand: {@link #next} returns the next batch
 * or null at the end. All batches of one source are of one kind ({@link #uint8()}). Not thread-safe:
 * {@link Prefetch} calls it from its one reader thread.
 */
public interface BatchSource extends AutoCloseable {
    /** The next batch, or null when every image was handed out. */
    InputBatch next() throws IOException;

    /** Images this source will hand out at most (the progress bar's total). */
    long total();

    /** Whether batches carry raw uint8 pixels (else float32 values). */
    boolean uint8();

    @Override
    void close() throws IOException;
}
