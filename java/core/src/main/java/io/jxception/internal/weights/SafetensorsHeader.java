package io.jxception.internal.weights;

import io.jxception.weights.WeightsFileException;
import io.jxception.internal.json.Json;
import io.jxception.tensor.Shape;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON header of a safetensors file, validated as the reference Rust implementation does
 * ({@code safetensors::tensor::Metadata::validate}): a JSON object whose keys are tensor names with
 * {@code {"dtype", "shape", "data_offsets": [begin, end]}} and an optional {@code __metadata__}
 * string map; every shape × dtype size must equal its byte span (overflow-checked), and the spans,
 * sorted, must be contiguous from 0, without overlap, and cover the data after the header exactly.
 */
public final class SafetensorsHeader {
    /** The reference implementation's limit; a larger size field means a corrupt or foreign file. */
    static final long MAX_HEADER_BYTES = 100_000_000L;
    static final String METADATA_KEY = "__metadata__";

    /** One tensor; {@code begin} and {@code end} are relative to the start of the data (after the header). */
    public record Entry(String name, SafetensorsDType dtype, Shape shape, long begin, long end) {
        long bytes() { return end - begin; }
    }

    private final List<Entry> entries;
    private final Map<String, String> metadata;

    private SafetensorsHeader(List<Entry> entries, Map<String, String> metadata) {
        this.entries = List.copyOf(entries);
        this.metadata = Map.copyOf(metadata);
    }

    /** Tensors in data order. */
    List<Entry> entries() { return entries; }

    Map<String, String> metadata() { return metadata; }

    /**
     * Parses and validates a header.
     *
     * @param header    the header bytes (after the 8-byte size)
     * @param dataBytes bytes of the file after the header, which the tensors must cover exactly
     */
    static SafetensorsHeader parse(Path file, byte[] header, long dataBytes) throws WeightsFileException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(header)).toString();
        } catch (CharacterCodingException e) {
            throw new WeightsFileException(file, "safetensors header is not valid UTF-8: the file is corrupt");
        }
        if (!text.startsWith("{")) {
            throw new WeightsFileException(file, "safetensors header must be a JSON object starting with '{', it starts with "
                    + Json.quote(text.substring(0, Math.min(16, text.length()))));
        }
        Object root;
        try {
            root = Json.parse(text);
        } catch (Json.SyntaxException e) {
            throw new WeightsFileException(file, "safetensors header is not valid JSON: " + e.getMessage());
        }
        Map<String, Object> object = Json.asObject(root);
        if (object == null) throw new WeightsFileException(file, "safetensors header is not a JSON object");

        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, Object> e : object.entrySet()) {
            if (e.getKey().equals(METADATA_KEY)) readMetadata(file, e.getValue(), metadata);
            else entries.add(entry(file, e.getKey(), e.getValue()));
        }
        entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long expectedBegin = 0;
        String previous = null;
        for (Entry t : entries) {
            if (t.begin() != expectedBegin) {
                throw new WeightsFileException(file, "safetensors tensors " + (t.begin() < expectedBegin ? "overlap" : "leave a gap")
                        + ": '" + t.name() + "' starts at data byte " + t.begin() + " but "
                        + (previous == null ? "the first tensor must start at 0" : "'" + previous + "' ends at " + expectedBegin)
                        + " (data_offsets must be contiguous and in order): the file is corrupt");
            }
            expectedBegin = t.end();
            previous = t.name();
        }
        if (expectedBegin != dataBytes) {
            throw new WeightsFileException(file, "safetensors tensors cover " + expectedBegin + " data bytes but the file has "
                    + dataBytes + " after the header: " + (dataBytes < expectedBegin ? "the file is truncated" : "the file has trailing bytes or is corrupt"));
        }
        return new SafetensorsHeader(entries, metadata);
    }

    private static void readMetadata(Path file, Object value, Map<String, String> out) throws WeightsFileException {
        Map<String, Object> m = Json.asObject(value);
        if (m == null) throw new WeightsFileException(file, "safetensors __metadata__ must be an object of strings");
        for (Map.Entry<String, Object> e : m.entrySet()) {
            if (!(e.getValue() instanceof String s)) {
                throw new WeightsFileException(file, "safetensors __metadata__ value for '" + e.getKey() + "' is not a string");
            }
            out.put(e.getKey(), s);
        }
    }

    private static Entry entry(Path file, String name, Object value) throws WeightsFileException {
        Map<String, Object> info = Json.asObject(value);
        String what = "safetensors tensor '" + name + "'";
        if (info == null) throw new WeightsFileException(file, what + " must be an object with dtype, shape and data_offsets");
        if (!(info.get("dtype") instanceof String dtypeName)) throw new WeightsFileException(file, what + " has no dtype string");
        SafetensorsDType dtype = SafetensorsDType.parse(dtypeName);
        if (dtype == null) throw new WeightsFileException(file, what + " has unknown dtype " + Json.quote(dtypeName));
        if (!(info.get("shape") instanceof List<?> shapeList)) throw new WeightsFileException(file, what + " has no shape array");
        if (!(info.get("data_offsets") instanceof List<?> offsets) || offsets.size() != 2) {
            throw new WeightsFileException(file, what + " needs data_offsets [begin, end]");
        }
        int[] dims = new int[shapeList.size()];
        long elements = 1;
        for (int i = 0; i < dims.length; i++) {
            long d = nonNegative(file, what + " shape", shapeList.get(i));
            if (d > Integer.MAX_VALUE) throw new WeightsFileException(file, what + " has dimension " + d + ", too large");
            dims[i] = (int) d;
            try {
                elements = Math.multiplyExact(elements, d);
            } catch (ArithmeticException e) {
                throw new WeightsFileException(file, what + " shape " + shapeList + " overflows: the file is corrupt");
            }
        }
        long bytes;
        try {
            bytes = Math.multiplyExact(elements, dtype.bytes);
        } catch (ArithmeticException e) {
            throw new WeightsFileException(file, what + " shape " + shapeList + " × " + dtype + " overflows: the file is corrupt");
        }
        long begin = nonNegative(file, what + " data_offsets", offsets.get(0));
        long end = nonNegative(file, what + " data_offsets", offsets.get(1));
        if (end < begin) throw new WeightsFileException(file, what + " has data_offsets [" + begin + ", " + end + "] that end before they begin");
        if (end - begin != bytes) {
            throw new WeightsFileException(file, what + " is " + dtype + " of shape " + shapeList + " = " + bytes
                    + " bytes but its data_offsets [" + begin + ", " + end + "] span " + (end - begin) + ": the file is corrupt");
        }
        return new Entry(name, dtype, Shape.of(dims), begin, end);
    }

    private static long nonNegative(Path file, String what, Object v) throws WeightsFileException {
        if (v instanceof BigDecimal d) {
            try {
                long x = d.longValueExact();
                if (x >= 0) return x;
            } catch (ArithmeticException e) {
                // not an integer, or beyond 64 bits: reported below
            }
        }
        throw new WeightsFileException(file, what + " holds " + v + ", expected a non-negative integer");
    }
}
