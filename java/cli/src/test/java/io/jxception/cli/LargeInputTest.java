package io.jxception.cli;

import io.jxception.exec.InferenceSession;
import io.jxception.backend.Backend;
import io.jxception.backend.Backends;
import io.jxception.model.Pooling;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Npy;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;
import io.jxception.weights.WeightsFiles;
import io.jxception.weights.XceptionWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Issue 16's "infer on a 4 GiB input works with a heap of 1 GiB" and issue 18's "any .npy over 2 GiB
 * fails": a float64 input of 4.0 GiB, (683, 512, 512, 3), run by a separate JVM with -Xmx1g on the
 * cpu backend. The file is sparse (zeros) except for random images at the start, across the 2 GiB
 * offset and at the end; their output rows must equal an in-process run of the same images, every
 * other row the output of a zero image. A micro network (width 1/64, no middle blocks) keeps the
 * cpu reference's share of the time small; the file is deleted afterwards.
 */
class LargeInputTest {
    private static final int N = 683, S = 512;   // 683 · 512·512·3 · 8 bytes = 4.0 GiB
    @TempDir Path dir;

    @Test
    void fourGibInputRunsInAOneGibHeap() throws Exception {
        long free = Files.getFileStore(dir).getUsableSpace();
        org.junit.jupiter.api.Assumptions.assumeTrue(free > (6L << 30), "less than 6 GiB free in " + dir);
        XceptionConfig config = new XceptionConfig(S, S, 4, true, Pooling.NONE, 1.0 / 64, 0);
        XceptionWeights weights = XceptionWeights.random(XceptionGraph.build(config), new Random().nextLong());
        Path w = dir.resolve("micro.safetensors");
        WeightsFiles.save(w, weights);

        long seed = System.nanoTime();
        Random rnd = new Random(seed);
        int perImage = S * S * 3;
        long imageBytes = 8L * perImage;
        int[] real = {0, 1, 341, 342, 682};    // rows 341 and 342 straddle the 2 GiB offset
        String dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (" + N + ", " + S + ", " + S + ", 3), }";
        int header = 64 * ((10 + dict.length() + 1 + 63) / 64);
        Path x = dir.resolve("big.npy");
        List<Tensor> images = new ArrayList<>();
        try (RandomAccessFile f = new RandomAccessFile(x.toFile(), "rw")) {
            f.setLength(header + N * imageBytes);
            ByteBuffer h = ByteBuffer.allocate(header).order(ByteOrder.LITTLE_ENDIAN);
            h.put(new byte[]{(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) (header - 10)).put(dict.getBytes(StandardCharsets.US_ASCII));
            while (h.position() < header - 1) h.put((byte) ' ');
            f.write(h.put((byte) '\n').array());
            for (int r : real) {
                float[] v = new float[perImage];
                ByteBuffer bb = ByteBuffer.allocate((int) imageBytes).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < perImage; i++) {
                    v[i] = (float) (rnd.nextDouble() * 2 - 1);   // exact in float32, so the float32 reference sees the same values
                    bb.putDouble(v[i]);
                }
                f.seek(header + r * imageBytes);
                f.write(bb.array());
                images.add(new Tensor(Shape.of(1, S, S, 3), v));
            }
        }
        assertTrue(Files.size(x) > (4L << 30) - (16L << 20), "input is " + Files.size(x) + " bytes");

        Path y = dir.resolve("y.npy");
        try {
            Process p = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g", "-Djava.awt.headless=true",
                    "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                    "infer", "--backend", "cpu", "--weights", w.toString(), "--input", x.toString(), "--output", y.toString(), "--batch", "16"))
                    .redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, p.waitFor(), log);
            assertTrue(log.contains("wrote " + y + ": (" + N + ",4) probabilities from " + N + " float64 images"), log);
        } finally {
            Files.delete(x);
        }
        Tensor out = Npy.read(y);
        assertEquals(Shape.of(N, 4), out.shape());
        try (Backend cpu = Backends.cpu(); InferenceSession s = new InferenceSession(cpu, weights, 1)) {
            float[] zero = s.run(Tensor.zeros(Shape.of(1, S, S, 3))).data();
            for (int k = 0; k < real.length; k++) {
                float[] expected = s.run(images.get(k)).data();
                assertArrayEquals(expected, row(out, real[k]), "row " + real[k] + " (seed " + seed + ")");
                assertFalse(java.util.Arrays.equals(expected, zero), "a random image gave the zero image's output: the check proves nothing");
            }
            for (int r = 0; r < N; r++) {
                final int row = r;
                if (java.util.Arrays.stream(real).noneMatch(v -> v == row)) assertArrayEquals(zero, row(out, r), "row " + r);
            }
        }
    }

    private static float[] row(Tensor t, int r) {
        int c = t.shape().dim(1);
        return java.util.Arrays.copyOfRange(t.data(), r * c, (r + 1) * c);
    }
}
