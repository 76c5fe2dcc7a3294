package io.jxception.internal.tensor;

import io.jxception.tensor.Shape;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes a {@code .npy} array (format 1.0, C order, little-endian) into an open channel row by row,
 * at any row index in any order: a batch's output goes to disk as soon as it is known, and a caller
 * that holds only rows [from, to) (a worker of one device, a rank of an MPI job after a gather)
 * writes exactly those. The header has a fixed length, reserved for a 19-digit row count, so the
 * number of rows may be unknown until {@link #finish} (rows skipped on the way). {@link #finish}
 * checks that rows [0, rows) were each written exactly once and writes the final header.
 *
 * <p>Made for {@link AtomicFiles#write(java.nio.file.Path, AtomicFiles.Writer)}: the channel is
 * that of the temporary file, so readers see the complete array or nothing. Thread-safe: workers
 * may write their rows concurrently (positional writes; the bookkeeping is synchronized).
 */
public final class NpyWriter {
    /** Bytes per write call; bigger arrays are written in pieces this size. */
    private static final int CHUNK_BYTES = 4 << 20;

    private final FileChannel channel;
    private final NpyDtype dtype;
    private final long[] rowDims;         // shape[1:]
    private final long rowElements;
    private final long plannedRows;       // -1: known at finish
    private final int headerBytes;        // prefix + padded header text, a multiple of 64
    private final TreeMap<Long, Long> written = new TreeMap<>();   // disjoint, merged row ranges [start, end)
    private boolean finished;

    /**
     * Starts an array of {@code rows} rows (−1: decided by {@link #finish(long)}) of shape
     * {@code rowShape} each, element type {@code dtype}; writes a provisional header at once.
     */
    public NpyWriter(FileChannel channel, NpyDtype dtype, Shape rowShape, long rows) throws IOException {
        if (rows < -1) throw new IllegalArgumentException("rows must be >= 0, or -1 for unknown, got " + rows);
        this.channel = channel;
        this.dtype = dtype;
        this.rowDims = new long[rowShape.rank()];
        long e = 1;
        for (int i = 0; i < rowDims.length; i++) {
            rowDims[i] = rowShape.dim(i);
            e = Math.multiplyExact(e, rowShape.dim(i));
        }
        this.rowElements = e;
        this.plannedRows = rows;
        int total = 10 + NpyHeader.dict(dtype, dims(Long.MAX_VALUE)).length() + 1;   // room for any row count
        this.headerBytes = (total + 63) / 64 * 64;
        writeHeader(Math.max(rows, 0));
    }

    /** Values per row. */
    public long rowElements() { return rowElements; }

    /** Writes rows [fromRow, fromRow + rows) from float32 {@code values[offset ..]} (as this file's float dtype). */
    public void writeRows(long fromRow, float[] values, int offset, int rows) throws IOException {
        if (!dtype.isFloat()) throw new IllegalStateException("this .npy holds " + dtype.numpyName + ": write bytes");
        long count = checkRange(fromRow, rows);
        if (offset < 0 || offset + count > values.length) throw new IndexOutOfBoundsException(count + " values from " + offset + " of " + values.length);
        long position = headerBytes + fromRow * rowElements * dtype.bytes;
        int perChunk = CHUNK_BYTES / dtype.bytes;
        for (long done = 0; done < count; ) {
            int n = (int) Math.min(count - done, perChunk);
            ByteBuffer bb = ByteBuffer.allocate(n * dtype.bytes).order(ByteOrder.LITTLE_ENDIAN);
            int at = offset + (int) done;
            switch (dtype) {
                case F32 -> bb.asFloatBuffer().put(values, at, n);
                case F64 -> { var d = bb.asDoubleBuffer(); for (int k = 0; k < n; k++) d.put(k, values[at + k]); }
                case F16 -> { var h = bb.asShortBuffer(); for (int k = 0; k < n; k++) h.put(k, Float16.fromFloat(values[at + k])); }
                case U8 -> throw new IllegalStateException();
            }
            writeFully(bb, position + done * dtype.bytes);
            done += n;
        }
        record(fromRow, rows);
    }

    /** Writes rows [fromRow, fromRow + rows) of a uint8 array from {@code values[offset ..]}. */
    public void writeRows(long fromRow, byte[] values, int offset, int rows) throws IOException {
        if (dtype != NpyDtype.U8) throw new IllegalStateException("this .npy holds " + dtype.numpyName + ": write floats");
        long count = checkRange(fromRow, rows);
        if (offset < 0 || offset + count > values.length) throw new IndexOutOfBoundsException(count + " values from " + offset + " of " + values.length);
        long position = headerBytes + fromRow * rowElements;
        for (long done = 0; done < count; ) {
            int n = (int) Math.min(count - done, CHUNK_BYTES);
            writeFully(ByteBuffer.wrap(values, offset + (int) done, n), position + done);
            done += n;
        }
        record(fromRow, rows);
    }

    /** {@link #finish(long)} with the row count given at construction. */
    public void finish() throws IOException {
        if (plannedRows < 0) throw new IllegalStateException("the row count was not given at construction: call finish(rows)");
        finish(plannedRows);
    }

    /**
     * Checks that rows [0, rows) were each written once and nothing beyond, then writes the header
     * with the final shape (rows, shape[1:]...).
     *
     * @throws IllegalStateException naming the first missing row range
     */
    public synchronized void finish(long rows) throws IOException {
        if (finished) throw new IllegalStateException("finish called twice");
        if (plannedRows >= 0 && rows != plannedRows) throw new IllegalStateException("the array was started with " + plannedRows + " rows, finish says " + rows);
        long covered = 0;   // rows [0, covered) are written
        for (Map.Entry<Long, Long> r : written.entrySet()) {
            if (r.getKey() > covered) break;
            covered = r.getValue();
        }
        if (covered < rows) {
            Long next = written.higherKey(covered);
            throw new IllegalStateException("rows [" + covered + ", " + (next == null ? rows : Math.min(next, rows)) + ") of " + rows + " were never written");
        }
        if (!written.isEmpty() && written.lastEntry().getValue() > rows) {
            throw new IllegalStateException("rows up to " + written.lastEntry().getValue() + " were written but the array has " + rows);
        }
        channel.truncate(headerBytes + rows * rowElements * dtype.bytes);
        writeHeader(rows);
        finished = true;
    }

    private long checkRange(long fromRow, int rows) {
        if (finished) throw new IllegalStateException("the array is finished");
        if (fromRow < 0 || rows < 0 || (plannedRows >= 0 && fromRow + rows > plannedRows)) {
            throw new IndexOutOfBoundsException("rows [" + fromRow + ", " + (fromRow + rows) + ") outside [0, " + plannedRows + ")");
        }
        return Math.multiplyExact((long) rows, rowElements);
    }

    /** Adds [from, from + rows) to the written ranges; a row written twice is an error. */
    private synchronized void record(long from, int rows) {
        if (rows == 0) return;
        long end = from + rows;
        Map.Entry<Long, Long> before = written.floorEntry(from);
        Map.Entry<Long, Long> after = written.ceilingEntry(from);
        if ((before != null && before.getValue() > from) || (after != null && after.getKey() < end)) {
            throw new IllegalStateException("rows [" + from + ", " + end + ") overlap rows written before");
        }
        long start = from;
        if (before != null && before.getValue() == from) {
            start = before.getKey();
            written.remove(start);
        }
        if (after != null && after.getKey() == end) {
            end = written.remove(after.getKey());
        }
        written.put(start, end);
    }

    private long[] dims(long rows) {
        long[] d = new long[rowDims.length + 1];
        d[0] = rows;
        System.arraycopy(rowDims, 0, d, 1, rowDims.length);
        return d;
    }

    private void writeHeader(long rows) throws IOException {
        String text = NpyHeader.text(dtype, dims(rows), headerBytes - 10);
        ByteBuffer bb = ByteBuffer.allocate(headerBytes).order(ByteOrder.LITTLE_ENDIAN);
        bb.put(NpyHeader.MAGIC).put((byte) 1).put((byte) 0).putShort((short) (headerBytes - 10));
        bb.put(text.getBytes(StandardCharsets.ISO_8859_1));
        writeFully(bb.flip(), 0);
    }

    private void writeFully(ByteBuffer bb, long position) throws IOException {
        long at = position;
        while (bb.hasRemaining()) at += channel.write(bb, at);
    }
}
