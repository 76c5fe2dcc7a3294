package io.jxception.internal.tensor;

import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;
import io.jxception.tensor.Uint8Tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * A {@code .npy} file read row by row through memory-mapped windows: no array of the whole file is
 * ever made, so files larger than 2 GiB and than the Java heap are read in pieces of any size. A
 * "row" is one entry of the first axis (one image of an (N, H, W, 3) batch); {@link #readFloats} and
 * {@link #readUint8} read the contiguous rows [from, to) in one call, which is also what a process
 * that owns one share of the rows (a rank of an MPI job) calls.
 *
 * <p>Opening refuses what is not a regular file (a device such as /dev/zero, a fifo, a folder)
 * before reading a byte, and checks every header field and size against the file's length
 * ({@link NpyHeader}) before mapping anything. The file must not shrink while it is open (the
 * mapping would fault).
 *
 * <p>Not thread-safe: one thread reads at a time (the mapped window is shared state).
 */
public final class NpyReader implements AutoCloseable {
    /** Largest mapping at once; a request spanning more is read window by window. */
    public static final long WINDOW_BYTES = 1L << 30;

    private final String what;
    private final long windowBytes;   // at most Integer.MAX_VALUE: one MappedByteBuffer
    private final FileChannel channel;
    private final NpyHeader header;
    private final long rowElements;   // values per row: product of shape[1:]
    private MappedByteBuffer window;  // little-endian view of [windowStart, windowStart + window.capacity())
    private long windowStart;

    private NpyReader(String what, FileChannel channel, NpyHeader header, long windowBytes) {
        this.what = what;
        this.windowBytes = windowBytes;
        this.channel = channel;
        this.header = header;
        Shape s = header.shape();
        long perRow = 1;
        for (int i = 1; i < s.rank(); i++) perRow *= s.dim(i);   // fits: the header bounded the product
        this.rowElements = s.rank() == 0 ? 1 : perRow;
    }

    /**
     * Opens {@code file} and checks its header.
     *
     * @throws IOException naming the file: missing, not a regular file, not readable, or a bad header or size
     */
    public static NpyReader open(Path file) throws IOException { return open(file, WINDOW_BYTES); }

    /** {@link #open(Path)} with mappings of at most {@code windowBytes} (tests use small windows to cross their edges cheaply). */
    public static NpyReader open(Path file, long windowBytes) throws IOException {
        if (windowBytes < 8 || windowBytes > WINDOW_BYTES) throw new IllegalArgumentException("windowBytes must be in [8, " + WINDOW_BYTES + "], got " + windowBytes);
        String what = NpyHeader.sanitize(file.toString());
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(file, BasicFileAttributes.class);   // follows links: a link to /dev/zero is a device
        } catch (NoSuchFileException e) {
            throw new IOException("no such file: " + what, e);
        }
        if (attributes.isDirectory()) throw new IOException(what + " is a folder, not a .npy file");
        if (!attributes.isRegularFile()) {
            throw new IOException(what + " is not a regular file (a device, fifo or socket): .npy input must be a file of known size");
        }
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
        try {
            long size = channel.size();
            NpyHeader header = NpyHeader.read(channel, size, what);
            return new NpyReader(what, channel, header, windowBytes);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** The header: dtype, shape, where the data starts. */
    public NpyHeader header() { return header; }

    public Shape shape() { return header.shape(); }

    public NpyDtype dtype() { return header.dtype(); }

    /** Entries of the first axis (1 for a 0-d array). */
    public long rows() { return header.shape().rank() == 0 ? 1 : header.shape().dim(0); }

    /** Values per row: the product of shape[1:]. */
    public long rowElements() { return rowElements; }

    /** The file's name as messages give it. */
    public String name() { return what; }

    /** The shape of rows [from, to): (to − from, shape[1:]...). */
    public Shape rowsShape(long from, long to) {
        checkRows(from, to);
        int[] d = header.shape().dims();
        if (d.length == 0) return Shape.of();
        d[0] = (int) (to - from);
        return new Shape(d);
    }

    /**
     * Rows [from, to) as float32 (float16 and float64 converted; uint8 as 0..255), shape
     * (to − from, shape[1:]...).
     *
     * @throws IllegalArgumentException when the rows hold more than a Java array's 2^31 − 9 values
     */
    public Tensor readFloats(long from, long to) throws IOException {
        Shape s = rowsShape(from, to);
        float[] out = new float[arrayLength(from, to)];
        readFloats(from, to, out, 0);
        return new Tensor(s, out);
    }

    /** Rows [from, to) as float32 into {@code dst} from {@code dstOffset}. */
    public void readFloats(long from, long to, float[] dst, int dstOffset) throws IOException {
        checkRows(from, to);
        long count = (to - from) * rowElements;
        if (dstOffset < 0 || dstOffset + count > dst.length) throw new IndexOutOfBoundsException(count + " values into an array of " + dst.length + " from " + dstOffset);
        int width = header.dtype().bytes;
        long offset = header.dataOffset() + from * rowElements * width;
        long done = 0;
        while (done < count) {
            // whole values only: a window holds at most windowBytes / width of them
            int n = (int) Math.min(count - done, windowBytes / width);
            ByteBuffer b = map(offset + done * width, (long) n * width);
            int at = dstOffset + (int) done;
            switch (header.dtype()) {
                case F32 -> b.asFloatBuffer().get(dst, at, n);
                case F64 -> { var d = b.asDoubleBuffer(); for (int k = 0; k < n; k++) dst[at + k] = (float) d.get(k); }
                case F16 -> { var h = b.asShortBuffer(); for (int k = 0; k < n; k++) dst[at + k] = Float16.toFloat(h.get(k)); }
                case U8 -> { for (int k = 0; k < n; k++) dst[at + k] = b.get(k) & 0xff; }
            }
            done += n;
        }
    }

    /** Rows [from, to) as float64 (exact for every dtype), for fixtures compared in float64. */
    public double[] readDoubles(long from, long to) throws IOException {
        checkRows(from, to);
        double[] out = new double[arrayLength(from, to)];
        int width = header.dtype().bytes;
        long offset = header.dataOffset() + from * rowElements * width;
        int done = 0;
        while (done < out.length) {
            int n = (int) Math.min(out.length - done, windowBytes / width);
            ByteBuffer b = map(offset + (long) done * width, (long) n * width);
            switch (header.dtype()) {
                case F64 -> b.asDoubleBuffer().get(out, done, n);
                case F32 -> { var f = b.asFloatBuffer(); for (int k = 0; k < n; k++) out[done + k] = f.get(k); }
                case F16 -> { var h = b.asShortBuffer(); for (int k = 0; k < n; k++) out[done + k] = Float16.toFloat(h.get(k)); }
                case U8 -> { for (int k = 0; k < n; k++) out[done + k] = b.get(k) & 0xff; }
            }
            done += n;
        }
        return out;
    }

    /**
     * Rows [from, to) of a uint8 file as bytes, shape (to − from, shape[1:]...).
     *
     * @throws IOException when the file's dtype is not uint8
     */
    public Uint8Tensor readUint8(long from, long to) throws IOException {
        Shape s = rowsShape(from, to);
        byte[] out = new byte[arrayLength(from, to)];
        readUint8(from, to, out, 0);
        return new Uint8Tensor(s, out);
    }

    /** Rows [from, to) of a uint8 file into {@code dst} from {@code dstOffset}. */
    public void readUint8(long from, long to, byte[] dst, int dstOffset) throws IOException {
        if (header.dtype() != NpyDtype.U8) throw new IOException(what + " holds " + header.dtype().numpyName + ", not uint8");
        checkRows(from, to);
        long count = (to - from) * rowElements;
        if (dstOffset < 0 || dstOffset + count > dst.length) throw new IndexOutOfBoundsException(count + " bytes into an array of " + dst.length + " from " + dstOffset);
        long offset = header.dataOffset() + from * rowElements;
        long done = 0;
        while (done < count) {
            int n = (int) Math.min(count - done, windowBytes);
            map(offset + done, n).get(dst, dstOffset + (int) done, n);
            done += n;
        }
    }

    private int arrayLength(long from, long to) {
        long n = (to - from) * rowElements;
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(what + ": rows [" + from + ", " + to + ") hold " + n + " values, more than one Java array holds: read fewer rows at a time");
        }
        return (int) n;
    }

    private void checkRows(long from, long to) {
        if (from < 0 || to < from || to > rows()) throw new IndexOutOfBoundsException("rows [" + from + ", " + to + ") of " + what + ", which has " + rows());
    }

    /**
     * A little-endian view of the file's bytes [offset, offset + length), length ≤ windowBytes:
     * a slice of the current window, or a new window mapped from {@code offset}.
     */
    private ByteBuffer map(long offset, long length) throws IOException {
        if (window == null || offset < windowStart || offset + length > windowStart + window.capacity()) {
            long size = Math.min(Math.max(length, windowBytes), channel.size() - offset);
            if (size < length) throw new IOException(what + " is shorter than its header says (was it truncated while open?)");
            window = channel.map(FileChannel.MapMode.READ_ONLY, offset, size);
            windowStart = offset;
        }
        int at = (int) (offset - windowStart);
        return window.slice(at, (int) length).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Closes the file; the mapping goes when the garbage collector frees it. */
    @Override
    public void close() throws IOException {
        window = null;
        channel.close();
    }
}
