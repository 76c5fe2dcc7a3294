package io.jxception.tensor;

import io.jxception.internal.tensor.AtomicFiles;
import io.jxception.internal.tensor.Float16;
import io.jxception.internal.tensor.NpyDtype;
import io.jxception.internal.tensor.NpyReader;
import io.jxception.internal.tensor.NpyWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** .npy reading and writing: files numpy wrote, hostile headers (issue 18), files over 2 GiB, rows in any order. */
class NpyTest {
    private static final Path FIXTURES = Path.of("weights", "fixtures", "npy");   // written by weights/fixtures/generate_npy_fixtures.py
    @TempDir Path dir;

    // ---------------------------------------------------------------- what numpy wrote

    @Test
    void uint8FromNumpyReadsAsBytesAndAsFloats() throws IOException {
        Uint8Tensor u = Npy.readUint8(FIXTURES.resolve("u8.npy"));
        Tensor f = Npy.read(FIXTURES.resolve("u8.npy"));
        assertEquals(Shape.of(2, 3, 4, 3), u.shape());
        assertEquals(Shape.of(2, 3, 4, 3), f.shape());
        for (int i = 0; i < u.size(); i++) {
            assertEquals((7 * i + 3) % 256, u.get(i), "value " + i);
            assertEquals((7 * i + 3) % 256, f.data()[i], "value " + i);
        }
    }

    @Test
    void float16FromNumpyWidensExactly() throws IOException {
        Tensor t = Npy.read(FIXTURES.resolve("f16.npy"));
        assertEquals(Shape.of(5, 7), t.shape());
        for (int i = 0; i < 35; i++) {
            double exact = (i - 17) / 8.0 + 1 / 256.0;   // every value is a float16 (11 significant bits)
            assertEquals(exact, t.data()[i], 0.0, "value " + i);
        }
    }

    @Test
    void formatVersions2And3AndFloat64AndScalars() throws IOException {
        for (String name : new String[]{"f32_v2.npy", "f32_v3.npy"}) {
            Tensor t = Npy.read(FIXTURES.resolve(name));
            assertEquals(Shape.of(3, 4), t.shape(), name);
            for (int i = 0; i < 12; i++) assertEquals(i / 3f - 2f, t.data()[i], 0f, name + " value " + i);
        }
        Npy.Array d = Npy.readDoubles(FIXTURES.resolve("f64.npy"));
        assertEquals("<f8", d.descr());
        for (int i = 0; i < 10; i++) assertEquals(i / 7.0 + 0.5, d.values()[i], 0.0, "value " + i);
        Tensor scalar = Npy.read(FIXTURES.resolve("f32_scalar.npy"));
        assertEquals(Shape.of(), scalar.shape());
        assertEquals(2.5f, scalar.data()[0]);
    }

    @Test
    void fortranOrderAndIntegersAreRefusedByName() {
        Path f = FIXTURES.resolve("f32_fortran.npy"), i = FIXTURES.resolve("i64.npy");
        assertMessage(() -> Npy.read(f), f.toString(), "Fortran-order");
        assertMessage(() -> Npy.read(i), i.toString(), "'<i8'", "float32");
    }

    @Test
    void writtenFilesReadBackInNumpysLayout() throws IOException {
        Random rnd = new Random(1);
        float[] v = new float[2 * 3 * 5];
        for (int k = 0; k < v.length; k++) v[k] = (float) rnd.nextGaussian();
        Path p = dir.resolve("w.npy");
        Npy.write(p, new Tensor(Shape.of(2, 3, 5), v));
        byte[] bytes = Files.readAllBytes(p);
        assertEquals(0, (bytes.length - v.length * 4) % 64, "header padded to 64 bytes as numpy pads it");
        assertEquals(new Tensor(Shape.of(2, 3, 5), v).shape(), Npy.read(p).shape());
        assertArrayEquals(v, Npy.read(p).data());
        assertArrayEquals(Files.readAllBytes(p), Npy.encode(Shape.of(2, 3, 5), v), "encode and write give the same bytes");
    }

    // ---------------------------------------------------------------- hostile headers (issue 18)

    @Test
    void duplicatedKeyTakesTheLastValueAsNumpyDoes() throws IOException {
        // numpy's literal_eval keeps the last 'shape': (2, 2); data for 4 floats
        Path p = raw("dup.npy", "{'descr': '<f4', 'shape': (3, 3), 'fortran_order': False, 'shape': (2, 2), }", 16);
        Tensor t = Npy.read(p);
        assertEquals(Shape.of(2, 2), t.shape());
        Path d = raw("dupdescr.npy", "{'descr': '<f8', 'fortran_order': True, 'shape': (2,), 'descr': '|u1', 'fortran_order': False}", 2);
        assertArrayEquals(new byte[]{1, 2}, Npy.readUint8(d).data());
    }

    @Test
    void shapesThatOverflowSayWhatAndWhich() throws IOException {
        Path huge = raw("huge.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2000000000, 2000000000, 2000000000), }", 16);
        assertMessage(() -> Npy.read(huge), huge.toString(), "(2000000000, 2000000000, 2000000000)", "more than 2^63 bytes");
        Path wide = raw("wide.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (3000000000, 1), }", 16);
        assertMessage(() -> Npy.read(wide), wide.toString(), "dimension 3000000000 at axis 0");
        Path beyondLong = raw("long.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", 16);
        assertMessage(() -> Npy.read(beyondLong), beyondLong.toString(), "99999999999999999999", "larger than 2^63");
        Path negative = raw("neg.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -2), }", 16);
        assertMessage(() -> Npy.read(negative), negative.toString(), "negative dimension (-2 at axis 1)");
        Path words = raw("words.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", 16);
        assertMessage(() -> Npy.read(words), words.toString(), "malformed .npy header");
    }

    @Test
    void keysAndSizesAreCheckedBeforeReading() throws IOException {
        Path missing = raw("nokey.npy", "{'descr': '<f4', 'shape': (2,), }", 8);
        assertMessage(() -> Npy.read(missing), missing.toString(), "expected exactly descr, fortran_order and shape");
        Path extra = raw("extra.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 'y'}", 8);
        assertMessage(() -> Npy.read(extra), extra.toString(), "expected exactly descr, fortran_order and shape");
        Path structured = raw("struct.npy", "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", 8);
        assertMessage(() -> Npy.read(structured), structured.toString(), "structured");
        Path shortData = raw("short.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", 15);
        assertMessage(() -> Npy.read(shortData), shortData.toString(), "data has 15 bytes but shape (4,) of float32 needs 16", "truncated");
        Path longData = raw("long.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", 17);
        assertMessage(() -> Npy.read(longData), longData.toString(), "extra bytes");
        Path bigEndian = raw("be.npy", "{'descr': '>f4', 'fortran_order': False, 'shape': (4,), }", 16);
        assertMessage(() -> Npy.read(bigEndian), bigEndian.toString(), "big-endian");
        Path hugeHeader = dir.resolve("hdr.npy");
        ByteBuffer bb = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).put(new byte[]{(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0}).putInt(Integer.MAX_VALUE);
        Files.write(hugeHeader, bb.array());
        assertMessage(() -> Npy.read(hugeHeader), hugeHeader.toString(), "header claims 2147483647 bytes");
        Path escape = raw("esc.npy", "{'descr': '<f4\u001b[31m', 'fortran_order': False, 'shape': (4,), }", 16);
        Exception e = assertThrows(IOException.class, () -> Npy.read(escape));
        assertFalse(e.getMessage().contains("\u001b"), "terminal escape in the message: " + e.getMessage());
        assertTrue(e.getMessage().contains("\\x1b"), e.getMessage());
    }

    @Test
    void devicesFifosAndFoldersAreRefusedBeforeAnyRead() throws Exception {
        long t0 = System.nanoTime();
        assertMessage(() -> Npy.read(Path.of("/dev/zero")), "/dev/zero", "not a regular file");
        assertTrue(System.nanoTime() - t0 < 2_000_000_000L, "refusing /dev/zero took seconds: it was read");
        Path link = Files.createSymbolicLink(dir.resolve("zero.npy"), Path.of("/dev/zero"));
        assertMessage(() -> Npy.read(link), link.toString(), "not a regular file");
        assertMessage(() -> Npy.read(dir), dir.toString(), "is a folder");
        Path fifo = dir.resolve("fifo.npy");
        Process mk = new ProcessBuilder("mkfifo", fifo.toString()).start();
        if (mk.waitFor() == 0) assertMessage(() -> Npy.read(fifo), fifo.toString(), "not a regular file");   // opening it would block forever
        assertMessage(() -> Npy.read(dir.resolve("none.npy")), "no such file", "none.npy");
    }

    // ---------------------------------------------------------------- streaming

    @Test
    void rowsOfAFileOver2GiBReadAcrossWindowBoundaries() throws IOException {
        // a sparse uint8 file of 2.25 GiB: (2304, 1024, 1024, 1), rows of 1 MiB; only each row's first and last byte are written
        long rowBytes = 1 << 20;
        int rows = 2304;
        String dict = "{'descr': '|u1', 'fortran_order': False, 'shape': (2304, 1024, 1024, 1), }";
        int header = 64 * ((10 + dict.length() + 1 + 63) / 64);
        Path p = dir.resolve("big.npy");
        int[] marked = {0, 1, 2, 1023, 1024, 1025, 2046, 2047, 2048, 2049, 2302, 2303};
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(header + rows * rowBytes);
            f.write(prefix(dict, header));
            for (int r : marked) {
                f.seek(header + r * rowBytes);
                f.write(r % 101);                      // first byte of row r
                f.seek(header + (r + 1) * rowBytes - 1);
                f.write(r % 97 + 1);                   // last byte of row r
            }
        }
        // windows of 3 MiB + 1 byte: every 2-row read below starts or ends inside a window, some span two
        for (long window : new long[]{3 * rowBytes + 1, NpyReader.WINDOW_BYTES}) {
            try (NpyReader reader = NpyReader.open(p, window)) {
                assertEquals(rows, reader.rows());
                assertEquals(NpyDtype.U8, reader.dtype());
                byte[] two = new byte[(int) (2 * rowBytes)];
                for (int r : new int[]{0, 1, 1023, 1024, 2046, 2047, 2048, 2302}) {   // 2047-2048 straddles the 2 GiB offset
                    reader.readUint8(r, r + 2, two, 0);
                    assertEquals(r % 101, two[0], "row " + r);
                    assertEquals(r % 97 + 1, two[(int) rowBytes - 1], "row " + r);
                    assertEquals((r + 1) % 101, two[(int) rowBytes], "row " + (r + 1));
                    assertEquals((r + 1) % 97 + 1, two[two.length - 1], "row " + (r + 1));
                    assertEquals(0, two[12345]);
                }
                Tensor lastAsFloats = reader.readFloats(2303, 2304);
                assertEquals(Shape.of(1, 1024, 1024, 1), lastAsFloats.shape());
                assertEquals(2303 % 101, lastAsFloats.data()[0]);
                assertEquals(2303 % 97 + 1, lastAsFloats.data()[lastAsFloats.size() - 1]);
                assertThrows(IllegalArgumentException.class, () -> reader.readUint8(0, rows), "2.25 G values do not fit in one Java array");
            }
        }
        Files.delete(p);
    }

    @Test
    void writerTakesRowsInAnyOrderAndAnUnknownCount() throws IOException {
        Path p = dir.resolve("rows.npy");
        float[] all = new float[7 * 3];
        for (int k = 0; k < all.length; k++) all[k] = k * 0.5f - 3;
        AtomicFiles.write(p, channel -> {
            NpyWriter w = new NpyWriter(channel, NpyDtype.F32, Shape.of(3), -1);
            w.writeRows(4, all, 12, 3);
            w.writeRows(0, all, 0, 2);
            w.writeRows(2, all, 6, 2);
            w.finish(7);
        });
        Tensor t = Npy.read(p);
        assertEquals(Shape.of(7, 3), t.shape());
        assertArrayEquals(all, t.data());
    }

    @Test
    void writerRefusesGapsAndOverlapsAndLeavesNoFile() {
        Path p = dir.resolve("gap.npy");
        float[] v = new float[12];
        IllegalStateException gap = assertThrows(IllegalStateException.class, () -> AtomicFiles.write(p, channel -> {
            NpyWriter w = new NpyWriter(channel, NpyDtype.F32, Shape.of(2), 6);
            w.writeRows(0, v, 0, 2);
            w.writeRows(4, v, 0, 2);
            w.finish();
        }));
        assertTrue(gap.getMessage().contains("rows [2, 4) of 6 were never written"), gap.getMessage());
        IllegalStateException overlap = assertThrows(IllegalStateException.class, () -> AtomicFiles.write(p, channel -> {
            NpyWriter w = new NpyWriter(channel, NpyDtype.F32, Shape.of(2), 6);
            w.writeRows(0, v, 0, 3);
            w.writeRows(2, v, 0, 2);
        }));
        assertTrue(overlap.getMessage().contains("overlap"), overlap.getMessage());
        assertFalse(Files.exists(p));
    }

    @Test
    void float16AndUint8WritersRoundTrip() throws IOException {
        float[] v = {0.1f, -2.5f, 65504f, 1e-7f, 3.14159f};
        Path p = dir.resolve("h.npy");
        AtomicFiles.write(p, channel -> {
            NpyWriter w = new NpyWriter(channel, NpyDtype.F16, Shape.of(5), 1);
            w.writeRows(0, v, 0, 1);
            w.finish();
        });
        Tensor t = Npy.read(p);
        for (int i = 0; i < v.length; i++) assertEquals(Float16.toFloat(Float16.fromFloat(v[i])), t.data()[i], 0f, "value " + i);
        assertEquals(-2.5f, t.data()[1]);
        Uint8Tensor u = new Uint8Tensor(Shape.of(2, 2), new byte[]{0, 127, (byte) 128, (byte) 255});
        Path q = dir.resolve("u.npy");
        Npy.write(q, u);
        assertArrayEquals(u.data(), Npy.readUint8(q).data());
        assertEquals(Shape.of(2, 2), Npy.readUint8(q).shape());
    }

    // ---------------------------------------------------------------- helpers

    /** A version 1.0 file with header dict {@code dict} (padded to 64) and {@code dataBytes} bytes 1, 2, 3, ... */
    private Path raw(String name, String dict, int dataBytes) throws IOException {
        int header = 64 * ((10 + dict.getBytes(StandardCharsets.UTF_8).length + 1 + 63) / 64);
        byte[] pre = prefix(dict, header);
        byte[] all = new byte[header + dataBytes];
        System.arraycopy(pre, 0, all, 0, header);
        for (int i = 0; i < dataBytes; i++) all[header + i] = (byte) (i + 1);
        Path p = dir.resolve(name);
        Files.write(p, all);
        return p;
    }

    private static byte[] prefix(String dict, int header) {
        byte[] text = dict.getBytes(StandardCharsets.UTF_8);
        ByteBuffer bb = ByteBuffer.allocate(header).order(ByteOrder.LITTLE_ENDIAN);
        bb.put(new byte[]{(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) (header - 10)).put(text);
        while (bb.position() < header - 1) bb.put((byte) ' ');
        bb.put((byte) '\n');
        return bb.array();
    }

    private interface Failing {
        void run() throws Exception;
    }

    private static void assertMessage(Failing f, String... fragments) {
        Exception e = assertThrows(IOException.class, f::run);
        for (String s : fragments) assertTrue(e.getMessage().contains(s), "missing '" + s + "' in: " + e.getMessage());
    }
}
