package io.jxception.internal.tensor;

import io.jxception.tensor.Shape;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The header of a {@code .npy} file (format versions 1, 2 and 3), parsed strictly and checked
 * against the file's size before anything is read or mapped:
 * <pre>
 *   magic "\x93NUMPY", major, minor, header length (uint16 in v1, uint32 in v2/v3, little-endian),
 *   header text: a Python dict literal {'descr': '&lt;f4', 'fortran_order': False, 'shape': (N, H, W, 3), }
 *   data: product(shape) values of descr, C order, starting at {@link #dataOffset()}
 * </pre>
 * The dict is read as numpy's {@code ast.literal_eval} reads it: string keys, values a string,
 * True/False or a tuple of integers; a repeated key keeps its last value. Exactly the keys descr,
 * fortran_order and shape must be present. Every size is computed without overflow and must equal
 * the bytes the file holds after the header; every message names the file and what is wrong.
 *
 * @param dtype      element type
 * @param shape      numpy's shape, every dimension &lt; 2^31
 * @param dataOffset byte offset of the first value
 * @param dataBytes  product(shape) · dtype bytes (equal to the file's size − dataOffset)
 */
public record NpyHeader(NpyDtype dtype, Shape shape, long dataOffset, long dataBytes) {
    static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** numpy refuses headers over 10,000 bytes by default (max_header_size); we allow 1 MiB. */
    static final int MAX_HEADER_BYTES = 1 << 20;

    /** Values in the whole array. */
    public long elements() { return dataBytes / dtype.bytes; }

    /**
     * Reads and checks the header of the file open as {@code channel}, of {@code fileSize} bytes.
     * {@code what} (the file's name) starts every message.
     */
    public static NpyHeader read(FileChannel channel, long fileSize, String what) throws IOException {
        return read((position, length) -> readFully(channel, position, length, what), fileSize, what);
    }

    /** The header of a file held in memory ({@code bytes} is the whole file). */
    public static NpyHeader read(byte[] bytes, String what) throws IOException {
        return read((position, length) -> ByteBuffer.wrap(bytes, (int) position, length).slice(), bytes.length, what);
    }

    /** Reads {@code length} bytes from {@code position} of the file (both already checked against its size). */
    private interface Source {
        ByteBuffer read(long position, int length) throws IOException;
    }

    private static NpyHeader read(Source source, long fileSize, String what) throws IOException {
        if (fileSize < 10) throw new IOException(what + ": too short to be a .npy file (" + fileSize + " bytes)");
        ByteBuffer prefix = source.read(0, 12 <= fileSize ? 12 : 10).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < MAGIC.length; i++) {
            if (prefix.get(i) != MAGIC[i]) throw new IOException(what + ": not a .npy file (it does not start with \\x93NUMPY)");
        }
        int major = prefix.get(6) & 0xff, minor = prefix.get(7) & 0xff;
        long headerLength;
        int headerStart;
        if (major == 1) {
            headerLength = prefix.getShort(8) & 0xffff;
            headerStart = 10;
        } else if (major == 2 || major == 3) {
            if (fileSize < 12) throw new IOException(what + ": truncated .npy header (" + fileSize + " bytes)");
            headerLength = prefix.getInt(8) & 0xffffffffL;
            headerStart = 12;
        } else {
            throw new IOException(what + ": unsupported .npy format version " + major + "." + minor + " (jxception reads 1.0, 2.0 and 3.0)");
        }
        if (headerLength > MAX_HEADER_BYTES) {
            throw new IOException(what + ": .npy header claims " + headerLength + " bytes, more than the " + MAX_HEADER_BYTES + " jxception reads (corrupt file?)");
        }
        if (headerStart + headerLength > fileSize) {
            throw new IOException(what + ": truncated .npy header: it claims " + headerLength + " bytes but the file has " + (fileSize - headerStart) + " after the prefix");
        }
        ByteBuffer raw = source.read(headerStart, (int) headerLength);
        byte[] bytes = new byte[raw.remaining()];
        raw.get(bytes);
        String text = new String(bytes, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Map<String, Object> dict = new DictParser(text, what).parse();
        if (!dict.keySet().equals(java.util.Set.of("descr", "fortran_order", "shape"))) {
            throw new IOException(what + ": .npy header has keys " + sanitize(dict.keySet().toString()) + ", expected exactly descr, fortran_order and shape: " + excerpt(text));
        }
        if (!(dict.get("descr") instanceof String descr)) {
            throw new IOException(what + ": .npy header's descr is " + describe(dict.get("descr")) + ", expected a dtype string such as '<f4' (structured arrays are not supported)");
        }
        if (!(dict.get("fortran_order") instanceof Boolean fortran)) {
            throw new IOException(what + ": .npy header's fortran_order is " + describe(dict.get("fortran_order")) + ", expected True or False");
        }
        if (!(dict.get("shape") instanceof long[] dims)) {
            throw new IOException(what + ": .npy header's shape is " + describe(dict.get("shape")) + ", expected a tuple of integers");
        }
        NpyDtype dtype = NpyDtype.parse(descr);
        if (dtype == null) {
            String hint = descr.startsWith(">") ? " (big-endian: save with x.astype(x.dtype.newbyteorder('<')))" : "";
            throw new IOException(what + ": dtype '" + sanitize(descr) + "' is not supported" + hint
                    + "; expected float32 ('<f4'), float16 ('<f2'), float64 ('<f8') or uint8 ('|u1')");
        }
        if (fortran) throw new IOException(what + ": Fortran-order arrays are not supported; save with C order (np.ascontiguousarray)");
        String shapeText = shapeText(dims);
        int[] intDims = new int[dims.length];
        long elements = 1;
        boolean overflow = false;
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] < 0) throw new IOException(what + ": shape " + shapeText + " has a negative dimension (" + dims[i] + " at axis " + i + ")");
            if (dims[i] > Integer.MAX_VALUE) {
                throw new IOException(what + ": shape " + shapeText + " has dimension " + dims[i] + " at axis " + i + ", more than jxception's limit of " + Integer.MAX_VALUE);
            }
            intDims[i] = (int) dims[i];
            if (!overflow) {
                long hi = Math.multiplyHigh(elements, dims[i]);
                elements *= dims[i];
                overflow = hi != 0 || elements < 0;
            }
        }
        long dataOffset = headerStart + headerLength;
        long available = fileSize - dataOffset;
        long hasZero = java.util.Arrays.stream(dims).filter(d -> d == 0).count();
        if (hasZero == 0 && (overflow || Math.multiplyHigh(elements, dtype.bytes) != 0 || elements * dtype.bytes < 0)) {
            throw new IOException(what + ": shape " + shapeText + " of " + dtype.numpyName + " describes more than 2^63 bytes (corrupt header?); the file holds "
                    + available + " bytes of data");
        }
        long need = hasZero > 0 ? 0 : elements * dtype.bytes;
        if (available != need) {
            throw new IOException(what + ": data has " + available + " bytes but shape " + shapeText + " of " + dtype.numpyName + " needs " + need
                    + (available < need ? " (truncated file)" : " (extra bytes after the array: corrupt file?)"));
        }
        return new NpyHeader(dtype, new Shape(intDims), dataOffset, need);
    }

    /** Header text for {@code dtype} and {@code shape}, padded with spaces and a newline to {@code totalLength} − prefix bytes. */
    public static String text(NpyDtype dtype, long[] dims, int paddedLength) {
        String dict = dict(dtype, dims);
        if (dict.length() + 1 > paddedLength) throw new IllegalArgumentException("header " + dict + " does not fit in " + paddedLength + " bytes");
        return dict + " ".repeat(paddedLength - dict.length() - 1) + "\n";
    }

    /** The header's dict as numpy writes it, unpadded: {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }. */
    public static String dict(NpyDtype dtype, long[] dims) {
        return "{'descr': '" + dtype.descr + "', 'fortran_order': False, 'shape': " + shapeText(dims) + ", }";
    }

    /** Python's repr of a shape tuple: (), (3,), (2, 3). */
    public static String shapeText(long[] dims) {
        if (dims.length == 1) return "(" + dims[0] + ",)";
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < dims.length; i++) sb.append(i == 0 ? "" : ", ").append(dims[i]);
        return sb.append(')').toString();
    }

    private static ByteBuffer readFully(FileChannel channel, long position, int length, String what) throws IOException {
        ByteBuffer bb = ByteBuffer.allocate(length);
        while (bb.hasRemaining()) {
            int n = channel.read(bb, position + bb.position());
            if (n < 0) throw new IOException(what + ": file ended inside the .npy header");
        }
        return bb.flip();
    }

    private static String describe(Object v) {
        if (v instanceof String s) return "'" + sanitize(s) + "'";
        if (v instanceof long[] d) return shapeText(d);
        return String.valueOf(v);
    }

    /** At most 200 characters of header text, control characters shown as \xNN. */
    static String excerpt(String text) {
        String t = text.strip();
        return sanitize(t.length() > 200 ? t.substring(0, 200) + "..." : t);
    }

    /** {@code s} with control and non-ASCII characters written as \xNN or \\uNNNN, so messages never carry terminal escapes. */
    public static String sanitize(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c < 0x7f) sb.append(c);
            else if (c < 0x100) sb.append(String.format("\\x%02x", (int) c));
            else sb.append(String.format("\\u%04x", (int) c));
        }
        return sb.toString();
    }

    /**
     * The header's dict literal: '{' (key ':' value ',')* [key ':' value] '}' then only whitespace;
     * keys are string literals; values strings, True, False or tuples of integers (Python 2's 123L
     * accepted, as numpy does). A later duplicate of a key replaces the earlier value.
     */
    private static final class DictParser {
        private final String s;
        private final String what;
        private int i;

        DictParser(String s, String what) {
            this.s = s;
            this.what = what;
        }

        Map<String, Object> parse() throws IOException {
            Map<String, Object> out = new LinkedHashMap<>();
            skipSpace();
            expect('{');
            while (true) {
                skipSpace();
                if (peek() == '}') { i++; break; }
                String key = string();
                skipSpace();
                expect(':');
                skipSpace();
                Object value = value();
                out.remove(key);          // Python's dict display: the last value wins (its position too; order is irrelevant here)
                out.put(key, value);
                skipSpace();
                char c = peek();
                if (c == ',') { i++; continue; }
                if (c == '}') { i++; break; }
                throw error("expected ',' or '}'");
            }
            skipSpace();
            if (i != s.length()) throw error("unexpected text after the dict");
            return out;
        }

        private Object value() throws IOException {
            char c = peek();
            if (c == '\'' || c == '"') return string();
            if (c == '(') return tuple();
            if (s.startsWith("True", i)) { i += 4; return Boolean.TRUE; }
            if (s.startsWith("False", i)) { i += 5; return Boolean.FALSE; }
            if (c == '[' || c == '{') throw error("nested lists and dicts (structured dtypes) are not supported");
            throw error("expected a string, True, False or a tuple");
        }

        private long[] tuple() throws IOException {
            expect('(');
            List<Long> dims = new ArrayList<>();
            boolean comma = true;   // a value may follow
            while (true) {
                skipSpace();
                char c = peek();
                if (c == ')') { i++; break; }
                if (!comma) throw error("expected ',' or ')' in the shape");
                dims.add(integer());
                skipSpace();
                comma = false;
                if (peek() == ',') { i++; comma = true; }
            }
            if (dims.size() == 1 && !comma) throw error("(n) is not a tuple; a one-dimensional shape is written (n,)");
            long[] d = new long[dims.size()];
            for (int k = 0; k < d.length; k++) d[k] = dims.get(k);
            return d;
        }

        private long integer() throws IOException {
            int start = i;
            if (peek() == '-' || peek() == '+') i++;
            while (i < s.length() && Character.isDigit(s.charAt(i)) && s.charAt(i) < 0x80) i++;
            String digits = s.substring(start, i);
            if (i < s.length() && (s.charAt(i) == 'L' || s.charAt(i) == 'l')) i++;
            if (digits.isEmpty() || digits.equals("-") || digits.equals("+")) throw error("expected an integer in the shape");
            try {
                return Long.parseLong(digits);
            } catch (NumberFormatException e) {
                throw new IOException(what + ": shape entry " + sanitize(digits) + " is larger than 2^63 (corrupt header?): " + excerpt(s));
            }
        }

        private String string() throws IOException {
            char q = peek();
            if (q != '\'' && q != '"') throw error("expected a quoted key");
            int end = s.indexOf(q, i + 1);
            if (end < 0) throw error("unterminated string");
            String v = s.substring(i + 1, end);
            if (v.indexOf('\\') >= 0) throw error("escapes in strings are not supported");
            i = end + 1;
            return v;
        }

        private void expect(char c) throws IOException {
            if (peek() != c) throw error("expected '" + c + "'");
            i++;
        }

        private char peek() { return i < s.length() ? s.charAt(i) : '\0'; }

        private void skipSpace() {
            while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\t' || s.charAt(i) == '\n' || s.charAt(i) == '\r')) i++;
        }

        private IOException error(String problem) {
            return new IOException(what + ": malformed .npy header (" + problem + " at character " + i + "): " + excerpt(s));
        }
    }
}
