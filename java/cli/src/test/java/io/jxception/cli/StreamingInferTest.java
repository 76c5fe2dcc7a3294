package io.jxception.cli;

import io.jxception.backend.Probe;
import io.jxception.image.KerasPreprocessing;
import io.jxception.internal.json.Json;
import io.jxception.internal.tensor.AtomicFiles;
import io.jxception.internal.tensor.Float16;
import io.jxception.internal.tensor.NpyDtype;
import io.jxception.internal.tensor.NpyWriter;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Npy;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;
import io.jxception.tensor.Uint8Tensor;
import io.jxception.weights.WeightsFiles;
import io.jxception.weights.XceptionWeights;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code infer} and {@code classify} on the streaming path: uint8 and float16 .npy inputs, folders
 * and lists of images decoded on several threads, .npy/.csv/.jsonl outputs, the bad-image policy,
 * several backends at once, and inputs that must be refused before any work.
 */
class StreamingInferTest {
    @TempDir Path dir;
    Path weights;
    Random rnd;
    long seed;

    @BeforeEach
    void randomWeights() throws IOException {
        seed = System.nanoTime();
        rnd = new Random(seed);
        weights = dir.resolve("w.safetensors");
        WeightsFiles.save(weights, XceptionWeights.random(XceptionGraph.build(XceptionConfig.tiny(71, 10)), rnd.nextLong()));
    }

    private Cli.Result ok(String... args) {
        Cli.Result r = Cli.run(args);
        assertEquals(0, r.exitCode(), r + "\n(seed " + seed + ")");
        return r;
    }

    private Tensor infer(Path input, String... extra) throws IOException { return inferOn("cpu", input, extra); }

    private Tensor inferOn(String backend, Path input, String... extra) throws IOException {
        Path y = dir.resolve("y" + System.nanoTime() + ".npy");
        List<String> args = new ArrayList<>(List.of("infer", "--backend", backend, "--weights", weights.toString(), "--input", input.toString(), "--output", y.toString()));
        args.addAll(List.of(extra));
        ok(args.toArray(String[]::new));
        return Npy.read(y);
    }

    /** Random pixels (n, 71, 71, 3). */
    private Uint8Tensor pixels(int n) {
        byte[] b = new byte[n * 71 * 71 * 3];
        rnd.nextBytes(b);
        return new Uint8Tensor(Shape.of(n, 71, 71, 3), b);
    }

    private static Tensor preprocessed(Uint8Tensor p) {
        float[] x = new float[p.size()];
        for (int i = 0; i < x.length; i++) x[i] = KerasPreprocessing.tf(p.get(i));
        return new Tensor(p.shape(), x);
    }

    // ---------------------------------------------------------------- .npy inputs

    @Test
    void uint8InputGivesTheFloatInputsOutputsBitForBit() throws IOException {
        Uint8Tensor p = pixels(5);
        Path u8 = dir.resolve("u8.npy"), f32 = dir.resolve("f32.npy");
        Npy.write(u8, p);
        Npy.write(f32, preprocessed(p));
        Tensor fromPixels = infer(u8, "--batch", "2"), fromFloats = infer(f32, "--batch", "2");
        assertEquals(Shape.of(5, 10), fromPixels.shape());
        assertArrayEquals(fromFloats.data(), fromPixels.data(), "seed " + seed);
        assertFalse(Arrays.equals(row(fromPixels, 0, 10), row(fromPixels, 1, 10)), "two images gave one row");
    }

    @Test
    void float16InputIsWidenedExactly() throws IOException {
        Tensor x = preprocessed(pixels(3));
        float[] rounded = new float[x.size()];
        for (int i = 0; i < rounded.length; i++) rounded[i] = Float16.toFloat(Float16.fromFloat(x.data()[i]));
        Path f16 = dir.resolve("f16.npy"), f32 = dir.resolve("f32.npy");
        AtomicFiles.write(f16, channel -> {
            NpyWriter w = new NpyWriter(channel, NpyDtype.F16, Shape.of(71, 71, 3), 3);
            w.writeRows(0, x.data(), 0, 3);
            w.finish();
        });
        Npy.write(f32, new Tensor(x.shape(), rounded));
        assertArrayEquals(infer(f32).data(), infer(f16).data());
    }

    @Test
    void devicesAndHostileHeadersAreRefusedBeforeAnyWork() throws IOException {
        Path y = dir.resolve("y.npy");
        long t0 = System.nanoTime();
        Cli.Result zero = Cli.run("infer", "--backend", "cpu", "--weights", weights.toString(), "--input", "/dev/zero", "--output", y.toString());
        assertEquals(Failure.RUNTIME, zero.exitCode(), zero.toString());
        assertTrue(zero.err().contains("/dev/zero is not a regular file"), zero.toString());
        assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "refusing /dev/zero took seconds");

        Path x = dir.resolve("x.npy");
        Npy.write(x, preprocessed(pixels(1)));
        Cli.Result devNull = Cli.run("infer", "--backend", "cpu", "--weights", weights.toString(), "--input", x.toString(), "--output", "/dev/null");
        assertEquals(Failure.USAGE, devNull.exitCode(), devNull.toString());
        assertTrue(devNull.err().contains("--output /dev/null: give a .npy, .csv or .jsonl file name"), devNull.toString());
        Path fifo = dir.resolve("fifo.npy");
        try {
            if (new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0) {
                Cli.Result r = Cli.run("infer", "--backend", "cpu", "--weights", weights.toString(), "--input", x.toString(), "--output", fifo.toString());
                assertEquals(Failure.RUNTIME, r.exitCode(), r.toString());
                assertTrue(r.err().contains(fifo + " is a fifo (named pipe), not a regular file"), r.toString());
                assertTrue(Files.exists(fifo) && !Files.isRegularFile(fifo), "the fifo was replaced");
            }
        } catch (InterruptedException e) {
            throw new IOException(e);
        }

        Path huge = dir.resolve("huge.npy");
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (4000000000, 4000000000, 71, 3), }";
        byte[] h = new byte[128];
        System.arraycopy(new byte[]{(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 118, 0}, 0, h, 0, 10);
        byte[] d = (dict + " ".repeat(117 - dict.length()) + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        System.arraycopy(d, 0, h, 10, 118);
        Files.write(huge, h);
        Cli.Result bad = Cli.run("infer", "--backend", "cpu", "--weights", weights.toString(), "--input", huge.toString(), "--output", y.toString());
        assertEquals(Failure.RUNTIME, bad.exitCode(), bad.toString());
        assertTrue(bad.err().contains(huge.toString()) && bad.err().contains("dimension 4000000000 at axis 0"), bad.toString());
        assertFalse(Files.exists(y));
    }

    @Test
    void optionsThatDoNotFitAreUsageErrors() {
        String w = weights.toString(), x = dir.resolve("x.npy").toString(), y = dir.resolve("y.csv").toString();
        Cli.Result features = Cli.run("infer", "--weights", w, "--input", x, "--output", y, "--features");
        assertEquals(Failure.USAGE, features.exitCode(), features.toString());
        Cli.Result size = Cli.run("infer", "--weights", w, "--input", x, "--output", y, "--size", "99");
        assertEquals(Failure.USAGE, size.exitCode(), size.toString());
        assertTrue(size.err().contains("go with --images"), size.toString());
        Cli.Result both = Cli.run("infer", "--weights", w, "--input", x, "--images", dir.toString(), "--output", y);
        assertEquals(Failure.USAGE, both.exitCode(), both.toString());
        Cli.Result format = Cli.run("infer", "--weights", w, "--input", x, "--output", dir.resolve("y.txt").toString());
        assertEquals(Failure.USAGE, format.exitCode(), format.toString());
        Cli.Result twice = Cli.run("infer", "--backend", "cpu,cpu", "--weights", w, "--input", x, "--output", y);
        assertEquals(Failure.USAGE, twice.exitCode(), twice.toString());
    }

    // ---------------------------------------------------------------- folders and lists of images

    /** Writes each image of {@code p} as a PNG (lossless) under {@code folder}; returns the files in name order. */
    private List<Path> pngs(Uint8Tensor p, Path folder) throws IOException {
        Files.createDirectories(folder);
        List<Path> files = new ArrayList<>();
        int n = p.shape().dim(0);
        for (int k = 0; k < n; k++) {
            BufferedImage im = new BufferedImage(71, 71, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < 71; y++) {
                for (int x = 0; x < 71; x++) {
                    int o = ((k * 71 + y) * 71 + x) * 3;
                    im.setRGB(x, y, p.get(o) << 16 | p.get(o + 1) << 8 | p.get(o + 2));
                }
            }
            Path f = folder.resolve(String.format("img%03d.png", k));
            assertTrue(ImageIO.write(im, "png", f.toFile()));
            files.add(f);
        }
        return files;
    }

    @Test
    void imageFolderEqualsTheSamePixelsAsNpyWithFileNames() throws IOException {
        Uint8Tensor p = pixels(7);
        Path folder = dir.resolve("images");
        List<Path> files = pngs(p, folder.resolve("sub"));   // found at any depth
        Path u8 = dir.resolve("u8.npy");
        Npy.write(u8, p);
        Tensor expected = infer(u8);
        for (String threads : new String[]{"1", "3"}) {
            Path y = dir.resolve("f" + threads + ".npy");
            ok("infer", "--backend", "cpu", "--weights", weights.toString(), "--images", folder.toString(), "--size", "71", "--batch", "3",
                    "--decode-threads", threads, "--output", y.toString());
            assertArrayEquals(expected.data(), Npy.read(y).data(), threads + " decode threads (seed " + seed + ")");
            List<String> names = Files.readAllLines(dir.resolve("f" + threads + ".names.txt"));
            assertEquals(files.stream().map(Path::toString).toList(), names);
        }
    }

    @Test
    void csvAndJsonlListTheTopClassesInInputOrder() throws IOException {
        Uint8Tensor p = pixels(6);
        List<Path> files = pngs(p, dir.resolve("images"));
        Path list = dir.resolve("list.txt");
        List<Path> order = List.of(files.get(4), files.get(0), files.get(5), files.get(2), files.get(1), files.get(3));
        Files.writeString(list, "# a list, relative to its folder\n\n" + String.join("\n", order.stream().map(f -> dir.relativize(f).toString()).toList()) + "\n");
        Path u8 = dir.resolve("u8.npy");
        Npy.write(u8, p);
        Tensor probs = infer(u8);
        Path csv = dir.resolve("top.csv"), jsonl = dir.resolve("top.jsonl");
        ok("infer", "--backend", "cpu", "--weights", weights.toString(), "--images", list.toString(), "--size", "71", "--batch", "4", "--top", "3", "--output", csv.toString());
        ok("classify", "--backend", "cpu", "--weights", weights.toString(), "--size", "71", "--batch", "2", "--top", "3", "--output", jsonl.toString(), list.toString());
        List<String> rows = Files.readAllLines(csv), json = Files.readAllLines(jsonl);
        assertEquals("input,class_1,label_1,probability_1,class_2,label_2,probability_2,class_3,label_3,probability_3", rows.get(0));
        assertEquals(7, rows.size());
        assertEquals(6, json.size());
        for (int i = 0; i < 6; i++) {
            int image = files.indexOf(order.get(i));
            int best = argmax(row(probs, image, 10));
            String[] f = rows.get(i + 1).split(",");
            assertEquals(dir.relativize(order.get(i)).toString(), f[0]);
            assertEquals(String.valueOf(best), f[1], "top class of " + f[0]);
            assertEquals(probs.data()[image * 10 + best], Float.parseFloat(f[3]), 1e-5);
            Map<String, Object> o = Json.parseObject(json.get(i));
            assertEquals(f[0], o.get("input"));
            List<?> top = (List<?>) o.get("top");
            assertEquals(3, top.size());
            assertEquals(best, (int) Json.number(Json.asObject(top.get(0)).get("index")));
        }
    }

    @Test
    void badImagesFailByNameOrAreSkippedAndListed() throws IOException {
        Uint8Tensor p = pixels(4);
        Path folder = dir.resolve("images");
        List<Path> files = pngs(p, folder);
        Path broken = Files.writeString(folder.resolve("img001b.png"), "not a png\n");
        Path y = dir.resolve("y.npy");
        Cli.Result fail = Cli.run("infer", "--backend", "cpu", "--weights", weights.toString(), "--images", folder.toString(), "--size", "71", "--output", y.toString());
        assertEquals(Failure.RUNTIME, fail.exitCode(), fail.toString());
        assertTrue(fail.err().contains(broken.toString()) && fail.err().contains("--skip-bad-images"), fail.toString());
        assertFalse(Files.exists(y), "a failed run left an output");

        Cli.Result skip = ok("infer", "--backend", "cpu", "--weights", weights.toString(), "--images", folder.toString(), "--size", "71", "--batch", "2",
                "--skip-bad-images", "--output", y.toString());
        assertTrue(skip.err().contains("skipped 1 unreadable image:") && skip.err().contains(broken.toString()), skip.toString());
        assertEquals(files.stream().map(Path::toString).toList(), Files.readAllLines(dir.resolve("y.names.txt")));
        Path u8 = dir.resolve("u8.npy");
        Npy.write(u8, p);
        assertArrayEquals(infer(u8).data(), Npy.read(y).data(), "the good images' rows, in order, without the bad one");
    }

    // ---------------------------------------------------------------- several devices

    @Test
    void batchesSpreadOverTwoBackendsAndEachRowComesFromOne() throws IOException {
        Probe opencl = io.jxception.backend.Backends.probeAll().stream().filter(pr -> pr.kind().equals("opencl")).findFirst().orElseThrow();
        if (!opencl.available() && !"true".equalsIgnoreCase(System.getenv("CI"))) Assumptions.abort(opencl.reason());
        Uint8Tensor p = pixels(12);
        Path u8 = dir.resolve("u8.npy");
        Npy.write(u8, p);
        Tensor cpuOnly = infer(u8, "--batch", "1");
        Tensor clOnly = inferOn("opencl:0", u8, "--batch", "1");
        Path y = dir.resolve("both.npy");
        Cli.Result r = ok("infer", "--backend", "cpu,opencl:0", "--weights", weights.toString(), "--input", u8.toString(), "--output", y.toString(), "--batch", "1");
        assertTrue(r.out().contains("on cpu,opencl:0"), r.toString());
        Tensor both = Npy.read(y);
        int fromCpu = 0, fromCl = 0;
        for (int i = 0; i < 12; i++) {
            float[] got = row(both, i, 10);
            boolean c = Arrays.equals(got, row(cpuOnly, i, 10)), o = Arrays.equals(got, row(clOnly, i, 10));
            assertTrue(c || o, "row " + i + " matches neither device's own run");
            if (c) fromCpu++;
            if (o) fromCl++;
        }
        assertTrue(fromCpu > 0 && fromCl > 0, "one device ran everything: cpu " + fromCpu + ", opencl " + fromCl);
    }

    private static float[] row(Tensor t, int r, int c) { return Arrays.copyOfRange(t.data(), r * c, (r + 1) * c); }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
