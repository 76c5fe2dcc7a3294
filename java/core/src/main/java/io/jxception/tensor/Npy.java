package io.jxception.tensor;

import io.jxception.internal.tensor.AtomicFiles;
import io.jxception.internal.tensor.NpyDtype;
import io.jxception.internal.tensor.NpyHeader;
import io.jxception.internal.tensor.NpyReader;
import io.jxception.internal.tensor.NpyWriter;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * NumPy {@code .npy} files (format versions 1–3), C order, little-endian: float32, float16,
 * float64 and uint8. Reading maps the file (nothing is read into an intermediate byte array) and
 * checks the header strictly against the file's size first: a repeated header key takes its last
 * value as numpy does, a bad shape or size is reported with the file and the problem, and anything
 * that is not a regular file (a device, a fifo) is refused before a byte is read. Writing goes to a
 * temporary file that is renamed into place, so a failure leaves no half-written file.
 *
 * <p>These methods read or write whole arrays (at most 2^31 − 9 values); {@code jxception infer}
 * streams larger files batch by batch. Stateless and thread-safe.
 */
public final class Npy {
    private Npy() {}

    /** A parsed array: shape plus values in float64 (exact for every supported dtype), and the header's dtype ('&lt;f4', '|u1', ...). */
    public record Array(Shape shape, double[] values, String descr) {}

    /**
     * The whole array as float32: float16 and float64 converted (float64 rounded), uint8 as 0..255.
     *
     * @throws IOException naming the file: missing, not a regular file, bad header, wrong size, or too many values for one array
     */
    public static Tensor read(Path path) throws IOException {
        try (NpyReader r = NpyReader.open(path)) {
            return r.readFloats(0, r.rows());
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /**
     * The whole array of a uint8 file ('|u1'), e.g. raw images (N, H, W, 3) for
     * {@link io.jxception.exec.InferenceSession#run(Uint8Tensor)}.
     *
     * @throws IOException naming the file, also when its dtype is not uint8
     */
    public static Uint8Tensor readUint8(Path path) throws IOException {
        try (NpyReader r = NpyReader.open(path)) {
            return r.readUint8(0, r.rows());
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /** The whole array in float64, for values compared without rounding (test fixtures). */
    public static Array readDoubles(Path path) throws IOException {
        try (NpyReader r = NpyReader.open(path)) {
            return new Array(r.shape(), r.readDoubles(0, r.rows()), r.dtype().descr);
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /** {@link #readDoubles(Path)} for a whole file's bytes from a stream; {@code what} names it in messages. */
    public static Array readDoubles(InputStream in, String what) throws IOException {
        byte[] bytes = in.readAllBytes();
        NpyHeader h = NpyHeader.read(bytes, what);
        ByteBuffer data = ByteBuffer.wrap(bytes, (int) h.dataOffset(), (int) h.dataBytes()).slice().order(ByteOrder.LITTLE_ENDIAN);
        double[] values = new double[Math.toIntExact(h.elements())];
        for (int i = 0; i < values.length; i++) {
            values[i] = switch (h.dtype()) {
                case F32 -> data.getFloat(4 * i);
                case F64 -> data.getDouble(8 * i);
                case F16 -> io.jxception.internal.tensor.Float16.toFloat(data.getShort(2 * i));
                case U8 -> data.get(i) & 0xff;
            };
        }
        return new Array(h.shape(), values, h.dtype().descr);
    }

    /** Writes float32 with a temporary file that is then renamed, so a failure leaves no half-written file. */
    public static void write(Path path, Tensor t) throws IOException {
        Shape s = t.shape();
        if (s.rank() == 0) {
            writeBytes(path, encode(s, t.data()));
            return;
        }
        AtomicFiles.write(path, channel -> {
            NpyWriter w = new NpyWriter(channel, NpyDtype.F32, rowShape(s), s.dim(0));
            w.writeRows(0, t.data(), 0, s.dim(0));
            w.finish();
        });
    }

    /** Writes uint8 values ('|u1'), atomically as {@link #write(Path, Tensor)}. */
    public static void write(Path path, Uint8Tensor t) throws IOException {
        Shape s = t.shape();
        if (s.rank() == 0) throw new IllegalArgumentException("a 0-d uint8 array is not supported; give it a first axis");
        AtomicFiles.write(path, channel -> {
            NpyWriter w = new NpyWriter(channel, NpyDtype.U8, rowShape(s), s.dim(0));
            w.writeRows(0, t.data(), 0, s.dim(0));
            w.finish();
        });
    }

    private static Shape rowShape(Shape s) {
        int[] d = new int[s.rank() - 1];
        for (int i = 1; i < s.rank(); i++) d[i - 1] = s.dim(i);
        return new Shape(d);
    }

    /** The bytes of a float32 {@code .npy} file of {@code shape} (header padded to 64 bytes, as numpy writes it). */
    public static byte[] encode(Shape shape, float[] data) {
        long[] dims = new long[shape.rank()];
        for (int i = 0; i < dims.length; i++) dims[i] = shape.dim(i);
        int unpadded = 10 + NpyHeader.dict(NpyDtype.F32, dims).length() + 1;
        String header = NpyHeader.text(NpyDtype.F32, dims, (unpadded + 63) / 64 * 64 - 10);
        ByteBuffer bb = ByteBuffer.allocate(10 + header.length() + data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        bb.put(new byte[]{(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) header.length());
        bb.put(header.getBytes(StandardCharsets.ISO_8859_1));
        for (float v : data) bb.putFloat(v);
        return bb.array();
    }

    /** Atomic write: temp file in the same folder, fsync, rename. */
    public static void writeBytes(Path path, byte[] bytes) throws IOException {
        AtomicFiles.write(path, bytes);
    }
}
