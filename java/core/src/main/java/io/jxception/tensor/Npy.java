package io.jxception.tensor;

import io.jxception.internal.tensor.AtomicFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NumPy {@code .npy} files (format versions 1–3), C order, little-endian float32 or float64
 * (float64 is narrowed to float32 on read by {@link #read}; {@link #readDoubles} keeps it).
 *
 * <p>Stateless: every method may be called from any thread.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private Npy() {}

    /**
     * A parsed array: shape plus values in float64 (exact for both float32 and float64 files).
     *
     * @param shape  the array's shape
     * @param values the values in C order
     * @param descr  numpy's dtype string, e.g. {@code <f4}
     */
    public record Array(Shape shape, double[] values, String descr) {}

    /**
     * The float32 or float64 array in {@code path} as a float32 tensor.
     *
     * @throws IOException naming the file when it is missing, not a C-order little-endian float .npy, or damaged
     */
    public static Tensor read(Path path) throws IOException {
        Array a = readDoubles(path);
        float[] f = new float[a.values.length];
        for (int i = 0; i < f.length; i++) f[i] = (float) a.values[i];
        return new Tensor(a.shape, f);
    }

    /**
     * The array in {@code path} with its values in float64.
     *
     * @throws IOException naming the file and the problem
     */
    public static Array readDoubles(Path path) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(path);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IOException("no such file: " + path, e);
        }
        return parse(bytes, path.toString());
    }

    /**
     * The array a stream holds; {@code what} names it in error messages.
     *
     * @throws IOException naming {@code what} and the problem
     */
    public static Array readDoubles(InputStream in, String what) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        in.transferTo(out);
        return parse(out.toByteArray(), what);
    }

    static Array parse(byte[] bytes, String what) throws IOException {
        if (bytes.length < 10) throw new IOException(what + ": too short to be a .npy file (" + bytes.length + " bytes)");
        for (int i = 0; i < MAGIC.length; i++) {
            if (bytes[i] != MAGIC[i]) throw new IOException(what + ": not a .npy file (bad magic)");
        }
        int major = bytes[6] & 0xff;
        ByteBuffer bb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long headerLen;
        int headerStart;
        if (major == 1) {
            headerLen = bb.getShort(8) & 0xffff;
            headerStart = 10;
        } else if (major == 2 || major == 3) {
            if (bytes.length < 12) throw new IOException(what + ": truncated .npy header");
            headerLen = bb.getInt(8) & 0xffffffffL;
            headerStart = 12;
        } else {
            throw new IOException(what + ": unsupported .npy version " + major);
        }
        if (headerStart + headerLen > bytes.length) throw new IOException(what + ": truncated .npy header");
        String header = new String(bytes, headerStart, (int) headerLen, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Matcher d = DESCR.matcher(header), f = FORTRAN.matcher(header), s = SHAPE.matcher(header);
        if (!d.find() || !f.find() || !s.find()) throw new IOException(what + ": malformed .npy header: " + header.trim());
        String descr = d.group(1);
        if (f.group(1).equals("True")) throw new IOException(what + ": Fortran-order arrays are not supported; save with C order");
        int width;
        if (descr.equals("<f4") || descr.equals("=f4")) width = 4;
        else if (descr.equals("<f8") || descr.equals("=f8")) width = 8;
        else throw new IOException(what + ": dtype '" + descr + "' is not supported; expected float32 ('<f4') or float64 ('<f8')");
        List<Integer> dims = new ArrayList<>();
        for (String part : s.group(1).split(",")) {
            String t = part.trim();
            if (t.isEmpty()) continue;
            try {
                dims.add(Integer.parseInt(t));
            } catch (NumberFormatException e) {
                throw new IOException(what + ": bad shape entry '" + t + "'");
            }
        }
        Shape shape = new Shape(dims.stream().mapToInt(Integer::intValue).toArray());
        long count = shape.elements();
        long dataStart = headerStart + headerLen;
        long need = count * width;
        if (bytes.length - dataStart != need) {
            throw new IOException(what + ": data has " + (bytes.length - dataStart) + " bytes, shape " + shape + " of " + descr + " needs " + need + " (truncated or corrupt file)");
        }
        double[] values = new double[Math.toIntExact(count)];
        bb.position((int) dataStart);
        if (width == 4) for (int i = 0; i < values.length; i++) values[i] = bb.getFloat();
        else for (int i = 0; i < values.length; i++) values[i] = bb.getDouble();
        return new Array(shape, values, descr);
    }

    /** Writes float32, to a temporary file that is then renamed, so a failure leaves no half-written file. */
    public static void write(Path path, Tensor t) throws IOException {
        writeBytes(path, encode(t.shape(), t.data()));
    }

    /** The bytes of a float32 .npy file holding {@code data} of {@code shape} (format 1.0, C order, little-endian). */
    public static byte[] encode(Shape shape, float[] data) {
        String h = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + joinDims(shape) + "), }";
        int total = 10 + h.length() + 1;
        int pad = (64 - total % 64) % 64;
        String header = h + " ".repeat(pad) + "\n";
        ByteBuffer bb = ByteBuffer.allocate(10 + header.length() + data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        bb.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length());
        bb.put(header.getBytes(StandardCharsets.ISO_8859_1));
        for (float v : data) bb.putFloat(v);
        return bb.array();
    }

    private static String joinDims(Shape shape) {
        if (shape.rank() == 1) return shape.dim(0) + ",";
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < shape.rank(); i++) sb.append(i == 0 ? "" : ", ").append(shape.dim(i));
        return sb.toString();
    }

    /** Atomic write: temp file in the same folder, fsync, rename. */
    public static void writeBytes(Path path, byte[] bytes) throws IOException {
        io.jxception.internal.tensor.AtomicFiles.write(path, bytes);
    }
}
