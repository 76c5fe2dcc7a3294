package io.jxception.cli.stream;

import io.jxception.internal.tensor.NpyWriter;
import io.jxception.tensor.Tensor;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * Outputs into a {@code .npy} array as they arrive: each batch's rows are written at its
 * {@link InputBatch#firstRow} (any order, from any device thread), and the names of the rows are
 * kept for a names file. {@link #finish} checks that every row arrived.
 */
public final class NpyRows implements DeviceWorkers.Outputs {
    private final NpyWriter writer;
    private final Map<Long, List<String>> names = new ConcurrentSkipListMap<>();   // by first row
    private final Runnable progress;

    /** @param perBatch called after each batch is written (the progress bar) with nothing; may be null */
    public NpyRows(NpyWriter writer, Runnable perBatch) {
        this.writer = writer;
        this.progress = perBatch;
    }

    @Override public void accept(InputBatch batch, Tensor output) throws IOException {
        writer.writeRows(batch.firstRow(), output.data(), 0, batch.size());
        names.put(batch.firstRow(), batch.names());
        if (progress != null) progress.run();
    }

    /** Writes the header of {@code rows} rows after checking each was written once. */
    public void finish(long rows) throws IOException { writer.finish(rows); }

    /** The rows' names in row order. */
    public List<String> names() {
        List<String> out = new ArrayList<>();
        for (List<String> n : names.values()) out.addAll(n);
        return out;
    }
}
