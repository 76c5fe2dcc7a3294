package io.jxception.cli.stream;

import io.jxception.internal.tensor.NpyDtype;
import io.jxception.internal.tensor.NpyReader;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;
import io.jxception.tensor.Uint8Tensor;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The rows [from, to) of a {@code .npy} input of images (N, H, W, 3), {@code batch} rows at a time,
 * read from the memory-mapped file as they are needed: uint8 files as raw pixels, float files
 * (float32, float16, float64) as float32 checked for NaN and Inf (the message names the file and
 * the value's [n, y, x, c]). A run over a share of the rows (one rank of a job) passes its range:
 * output rows are numbered from 0 at {@code from} (the share's own output), names keep the file's
 * row numbers ("x.npy[17]").
 */
public final class NpyBatches implements BatchSource {
    private final NpyReader reader;
    private final long from, to;
    private final int batch;
    private long next;
    private long index;

    public NpyBatches(NpyReader reader, long from, long to, int batch) {
        if (from < 0 || to < from || to > reader.rows()) throw new IllegalArgumentException("rows [" + from + ", " + to + ") of " + reader.rows());
        if (batch < 1) throw new IllegalArgumentException("batch must be at least 1, got " + batch);
        this.reader = reader;
        this.from = from;
        this.to = to;
        this.batch = batch;
        this.next = from;
    }

    @Override public long total() { return to - from; }

    @Override public boolean uint8() { return reader.dtype() == NpyDtype.U8; }

    @Override public InputBatch next() throws IOException {
        if (next >= to) return null;
        long end = Math.min(to, next + batch);
        List<String> names = new ArrayList<>((int) (end - next));
        for (long r = next; r < end; r++) names.add(reader.name() + "[" + r + "]");
        InputBatch b;
        if (uint8()) {
            Uint8Tensor pixels = reader.readUint8(next, end);
            b = new InputBatch(index, next - from, null, pixels, names);
        } else {
            Tensor floats = reader.readFloats(next, end);
            int bad = floats.firstNonFinite();
            if (bad >= 0) throw new IOException("input " + reader.name() + " holds " + floats.data()[bad] + " at " + position(next, bad, floats.shape()) + ": every value must be finite");
            b = new InputBatch(index, next - from, floats, null, names);
        }
        index++;
        next = end;
        return b;
    }

    /** "[n, y, x, c]" of flat index {@code flat} in a batch of shape (b, H, W, C) starting at row {@code firstRow}. */
    private static String position(long firstRow, int flat, Shape s) {
        int c = flat % s.dim(3), x = flat / s.dim(3) % s.dim(2), y = flat / s.dim(3) / s.dim(2) % s.dim(1);
        long n = firstRow + flat / s.dim(3) / s.dim(2) / s.dim(1);
        return "[" + n + ", " + y + ", " + x + ", " + c + "]";
    }

    @Override public void close() throws IOException { reader.close(); }
}
