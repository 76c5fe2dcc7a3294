package io.jxception.weights;

import io.jxception.internal.weights.SafetensorsDType;
import io.jxception.internal.weights.SafetensorsFile;
import io.jxception.internal.weights.SafetensorsHeader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The safetensors layout checks of the reference implementation, each with a clear message. */
class SafetensorsHeaderTest {
    @TempDir Path tmp;

    private String openFails(String header, byte[] data) throws IOException {
        Path file = RawSafetensors.write(tmp.resolve("bad.safetensors"), header, data);
        WeightsFileException e = assertThrows(WeightsFileException.class, () -> SafetensorsFile.open(file).close());
        assertTrue(e.getMessage().startsWith("bad.safetensors: "), e.getMessage());
        return e.getMessage();
    }

    private static void assertContains(String message, String part) {
        assertTrue(message.contains(part), "expected '" + part + "' in: " + message);
    }

    @Test
    void validFileListsTensorsInDataOrderWithMetadata() throws IOException {
        String header = "{\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},\"__metadata__\":{\"format\":\"pt\"}}  ";
        Path file = RawSafetensors.write(tmp.resolve("ok.safetensors"), header, RawSafetensors.floats(1, 2, 3));
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(List.of("a", "b"), f.entries().stream().map(SafetensorsHeader.Entry::name).toList());
            assertEquals(Map.of("format", "pt"), f.metadata());
            assertArrayEquals(new float[]{2, 3}, f.readFloats(f.entries().get(1)));
            assertArrayEquals(new float[]{1}, f.readFloats(f.entries().get(0)));
        }
    }

    @Test
    void badJsonIsReportedWithItsPosition() throws IOException {
        assertContains(openFails("{\"a\":{\"dtype\":\"F32\",", new byte[0]), "safetensors header is not valid JSON: expected a string key (input ended)");
        assertContains(openFails("{\"a\":1,}", new byte[0]), "not valid JSON: expected a string key at character 7");
        assertContains(openFails("{} x", new byte[0]), "unexpected content after the JSON value");
    }

    @Test
    void headerMustBeAnObject() throws IOException {
        assertContains(openFails("[1,2]   ", new byte[0]), "must be a JSON object starting with '{'");
        assertContains(openFails(" {}     ", new byte[0]), "must be a JSON object starting with '{'");
    }

    @Test
    void headerSizeLargerThanTheFileIsTruncation() throws IOException {
        Path file = RawSafetensors.write(tmp.resolve("bad.safetensors"), 5000, "{}".getBytes(), new byte[0]);
        WeightsFileException e = assertThrows(WeightsFileException.class, () -> SafetensorsFile.open(file));
        assertContains(e.getMessage(), "header size 5000 is larger than the file (10 bytes)");
    }

    @Test
    void hugeHeaderSizeIsRefusedBeforeAllocating() throws IOException {
        for (long declared : new long[]{100_000_001L, Long.MAX_VALUE, -1L}) {
            Path file = RawSafetensors.write(tmp.resolve("bad.safetensors"), declared, "{}".getBytes(), new byte[0]);
            WeightsFileException e = assertThrows(WeightsFileException.class, () -> SafetensorsFile.open(file));
            assertContains(e.getMessage(), "exceeds the limit of 100000000 bytes");
            assertContains(e.getMessage(), Long.toUnsignedString(declared));
        }
    }

    @Test
    void nonUtf8HeaderIsRejected() throws IOException {
        byte[] header = {'{', '"', (byte) 0xff, (byte) 0xfe, '"', ':', '1', '}'};
        Path file = RawSafetensors.write(tmp.resolve("bad.safetensors"), header, new byte[0]);
        WeightsFileException e = assertThrows(WeightsFileException.class, () -> SafetensorsFile.open(file));
        assertContains(e.getMessage(), "header is not valid UTF-8");
    }

    @Test
    void overlappingOffsetsAreRejected() throws IOException {
        String h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
        assertContains(openFails(h, new byte[12]), "tensors overlap: 'b' starts at data byte 4 but 'a' ends at 8");
    }

    @Test
    void gapsBetweenTensorsAreRejected() throws IOException {
        String h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}";
        assertContains(openFails(h, new byte[20]), "tensors leave a gap: 'b' starts at data byte 12 but 'a' ends at 8");
        String late = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
        assertContains(openFails(late, new byte[8]), "'a' starts at data byte 4 but the first tensor must start at 0");
    }

    @Test
    void dataMustBeCoveredExactly() throws IOException {
        String h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}";
        assertContains(openFails(h, new byte[12]), "tensors cover 16 data bytes but the file has 12 after the header: the file is truncated");
        assertContains(openFails(h, new byte[20]), "the file has trailing bytes");
    }

    @Test
    void spanMustEqualShapeTimesDtype() throws IOException {
        String h = "{\"a\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,24]}}";
        assertContains(openFails(h, new byte[24]), "'a' is F16 of shape [2, 3] = 12 bytes but its data_offsets [0, 24] span 24");
    }

    @Test
    void shapeOverflowIsRejected() throws IOException {
        String h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,4]}}";
        assertContains(openFails(h, new byte[4]), "shape [2147483647, 2147483647, 2147483647] overflows");
        String bytes = "{\"a\":{\"dtype\":\"F64\",\"shape\":[2147483647,2147483647,2],\"data_offsets\":[0,4]}}";
        assertContains(openFails(bytes, new byte[4]), "× F64 overflows");
        String dim = "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296],\"data_offsets\":[0,4]}}";
        assertContains(openFails(dim, new byte[4]), "has dimension 4294967296, too large");
    }

    @Test
    void numbersMustBeNonNegativeIntegers() throws IOException {
        assertContains(openFails("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", new byte[4]),
                "shape holds 1.5, expected a non-negative integer");
        assertContains(openFails("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", new byte[4]),
                "data_offsets holds -4, expected a non-negative integer");
        assertContains(openFails("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,99999999999999999999999]}}", new byte[4]),
                "expected a non-negative integer");
        assertContains(openFails("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}", new byte[4]),
                "end before they begin");
    }

    @Test
    void malformedEntriesAreNamed() throws IOException {
        assertContains(openFails("{\"a\":{\"dtype\":\"Q7\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]), "tensor 'a' has unknown dtype \"Q7\"");
        assertContains(openFails("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]), "tensor 'a' has no dtype string");
        assertContains(openFails("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", new byte[4]), "tensor 'a' has no shape array");
        assertContains(openFails("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", new byte[4]), "needs data_offsets [begin, end]");
        assertContains(openFails("{\"a\":[1]}", new byte[0]), "tensor 'a' must be an object");
        assertContains(openFails("{\"__metadata__\":{\"k\":1}}", new byte[0]), "__metadata__ value for 'k' is not a string");
    }

    @Test
    void duplicateTensorNamesAreRejected() throws IOException {
        String h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
        assertContains(openFails(h, new byte[8]), "duplicate key \"a\"");
    }

    @Test
    void deeplyNestedHeaderIsAnErrorNotAStackOverflow() throws IOException {
        String deep = "{\"a\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}";
        assertContains(openFails(deep, new byte[0]), "nested deeper than 64 levels");
    }

    @Test
    void tooShortFileIsTruncation() throws IOException {
        Path file = tmp.resolve("short.safetensors");
        Files.write(file, new byte[]{5, 0, 0});
        WeightsFileException e = assertThrows(WeightsFileException.class, () -> SafetensorsFile.open(file));
        assertContains(e.getMessage(), "is 3 bytes, too short for a safetensors file");
    }

    @Test
    void halfAndBfloatAndDoubleConvertToFloat() throws IOException {
        String header = "{\"h\":{\"dtype\":\"F16\",\"shape\":[6],\"data_offsets\":[0,12]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[12,16]},"
                + "\"d\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[16,32]}}";
        byte[] data = new byte[32];
        System.arraycopy(RawSafetensors.shorts(0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0x8000), 0, data, 0, 12);
        System.arraycopy(RawSafetensors.shorts(0x3f80, 0xc0a0), 0, data, 12, 4);
        System.arraycopy(RawSafetensors.doubles(0.1, -1e300), 0, data, 16, 16);
        Path file = RawSafetensors.write(tmp.resolve("types.safetensors"), header, data);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertArrayEquals(new float[]{1f, -2f, 65504f, 0x1p-24f, Float.POSITIVE_INFINITY, -0f}, f.readFloats(f.entries().get(0)));
            assertArrayEquals(new float[]{1f, -5f}, f.readFloats(f.entries().get(1)));
            assertArrayEquals(new float[]{0.1f, Float.NEGATIVE_INFINITY}, f.readFloats(f.entries().get(2)));
        }
    }

    @Test
    void halfPrecisionCoversEveryExponent() {
        assertEquals(0x1p-14f, SafetensorsDType.halfToFloat((short) 0x0400)); // smallest normal
        assertEquals(0x3ffp-24f, SafetensorsDType.halfToFloat((short) 0x03ff)); // largest subnormal
        assertTrue(Float.isNaN(SafetensorsDType.halfToFloat((short) 0x7e00)));
        assertEquals(Float.NEGATIVE_INFINITY, SafetensorsDType.halfToFloat((short) 0xfc00));
        assertEquals(-1.5f, SafetensorsDType.halfToFloat((short) 0xbe00));
    }

    @Test
    void integerTensorsCannotBeReadAsWeights() throws IOException {
        String header = "{\"n\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]}}";
        Path file = RawSafetensors.write(tmp.resolve("int.safetensors"), header, new byte[8]);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            WeightsFileException e = assertThrows(WeightsFileException.class, () -> f.readFloats(f.entries().get(0)));
            assertContains(e.getMessage(), "tensor 'n' is I64; weights must be F32, F16, BF16 or F64");
        }
    }
}
