package io.jxception.cli.stream;

import io.jxception.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Outputs kept in memory until the run ends, for rank 0 to gather them from every rank of a job:
 * each batch's rows (batch size × {@code columns} floats, copied) and names, by first row. Batches
 * arrive from the device threads in any order; {@link #rows()} and {@link #names()} give them in row
 * order and check that rows 0.. came without gaps.
 */
public final class HeldRows implements DeviceWorkers.Outputs {
    private final int columns;
    private final TreeMap<Long, float[]> rows = new TreeMap<>();        // first row -> (batch size, columns)
    private final TreeMap<Long, List<String>> names = new TreeMap<>();  // first row -> batch size names

    /** @param columns floats per row: classes, or features */
    public HeldRows(int columns) { this.columns = columns; }

    @Override public synchronized void accept(InputBatch batch, Tensor output) {
        int n = batch.size();
        if (output.size() < n * columns) throw new IllegalArgumentException("batch of " + n + " rows with " + output.size() + " values, expected " + n * columns);
        if (rows.put(batch.firstRow(), Arrays.copyOf(output.data(), n * columns)) != null) {
            throw new IllegalStateException("rows from " + batch.firstRow() + " arrived twice");
        }
        names.put(batch.firstRow(), batch.names());
    }

    /** Every row held, in row order: (rows, columns) row-major. */
    public synchronized float[] rows() {
        long count = 0;
        for (Map.Entry<Long, float[]> e : rows.entrySet()) {
            if (e.getKey() != count) throw new IllegalStateException("rows [" + count + ", " + e.getKey() + ") never arrived");
            count += e.getValue().length / columns;
        }
        float[] all = new float[Math.toIntExact(count * columns)];
        int at = 0;
        for (float[] r : rows.values()) {
            System.arraycopy(r, 0, all, at, r.length);
            at += r.length;
        }
        return all;
    }

    /** The rows' names in row order. */
    public synchronized List<String> names() {
        List<String> all = new ArrayList<>();
        for (List<String> n : names.values()) all.addAll(n);
        return all;
    }
}
