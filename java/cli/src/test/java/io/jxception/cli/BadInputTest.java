package io.jxception.cli;

import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Npy;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;
import io.jxception.weights.WeightsFiles;
import io.jxception.weights.XceptionWeights;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every bad input gets one error line naming the problem, a non-zero exit, and leaves nothing
 * behind: no output file and no temporary file in the output folder.
 */
class BadInputTest {
    @TempDir Path dir;
    Path input, output;
    String tinyTop;

    @BeforeEach
    void validInputs() throws IOException {
        input = Fixtures.randomInput(dir.resolve("x.npy"), 2, 71, 71, 7);
        output = dir.resolve("y.npy");
        tinyTop = Fixtures.h5(Fixtures.TINY_TOP).toString();
    }

    private Cli.Result infer(String weights, Path in, String... extra) {
        List<String> args = new java.util.ArrayList<>(List.of("infer", "--backend", "cpu", "--weights", weights, "--input", in.toString(), "--output", output.toString()));
        args.addAll(List.of(extra));
        return Cli.run(args.toArray(String[]::new));
    }

    /** Exit code, one "jxception: error:" line containing each fragment, nothing on stdout, no output and no temp file. */
    private void assertFailed(Cli.Result r, int exitCode, String... fragments) throws IOException {
        assertEquals(exitCode, r.exitCode(), r.toString());
        assertTrue(r.err().startsWith("jxception: error: "), r.toString());
        assertEquals(1, r.err().lines().count(), r.toString());
        for (String f : fragments) assertTrue(r.err().contains(f), "missing '" + f + "' in\n" + r);
        assertEquals("", r.out(), r.toString());
        assertFalse(Files.exists(output), "output was written");
        try (Stream<Path> files = Files.list(dir)) {
            List<String> left = files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".")).toList();
            assertEquals(List.of(), left, "temporary files left behind");
        }
    }

    private Path copyOf(String fixture, String name) throws IOException {
        return Files.copy(Fixtures.h5(fixture), dir.resolve(name));
    }

    // ---------------------------------------------------------------- weights

    @Test
    void missingWeightsFile() throws IOException {
        Path w = dir.resolve("nope.h5");
        assertFailed(infer(w.toString(), input), Failure.RUNTIME, "weights file not found: " + w);
    }

    @Test
    void truncatedH5WeightsFile() throws IOException {
        Path w = copyOf(Fixtures.TINY_TOP, "cut.h5");
        byte[] all = Files.readAllBytes(w);
        Files.write(w, Arrays.copyOf(all, all.length / 2));
        assertFailed(infer(w.toString(), input), Failure.RUNTIME, w.toString());
    }

    @Test
    void truncatedSafetensorsWeightsFile() throws IOException {
        Path w = tinySafetensors("cut.safetensors");
        byte[] all = Files.readAllBytes(w);
        Files.write(w, Arrays.copyOf(all, all.length - 100));
        assertFailed(infer(w.toString(), input), Failure.RUNTIME, w.toString());
    }

    @Test
    void corruptH5WeightsFile() throws IOException {
        Path w = copyOf(Fixtures.TINY_TOP, "corrupt.h5");
        byte[] all = Files.readAllBytes(w);
        for (int i = 0; i < 4096; i++) all[i] = (byte) (i * 31 + 7); // superblock and root group gone
        Files.write(w, all);
        assertFailed(infer(w.toString(), input), Failure.RUNTIME, w.toString());
    }

    @Test
    void corruptSafetensorsHeader() throws IOException {
        Path w = tinySafetensors("corrupt.safetensors");
        byte[] all = Files.readAllBytes(w);
        for (int i = 8; i < 40; i++) all[i] = '#';
        Files.write(w, all);
        assertFailed(infer(w.toString(), input), Failure.RUNTIME, w.toString());
    }

    @Test
    void textFileAsWeights() throws IOException {
        Path w = Files.writeString(dir.resolve("weights.h5"), "not weights\n");
        assertFailed(infer(w.toString(), input), Failure.RUNTIME, w.toString());
    }

    @Test
    void weightsOfAnotherArchitecture() throws IOException {
        Path w = Fixtures.h5(Fixtures.RESNET);
        assertFailed(infer(w.toString(), input), Failure.RUNTIME, w.toString());
    }

    @Test
    void nanInWeights() throws IOException {
        Path w = tinySafetensors("nan.safetensors");
        pokeFirstTensor(w, Float.NaN);
        assertFailed(infer(w.toString(), input), Failure.RUNTIME, w.toString(), "non-finite");
    }

    @Test
    void notopWeightsWithoutFeatures() throws IOException {
        Path w = Fixtures.h5(Fixtures.TINY_NOTOP);
        assertFailed(infer(w.toString(), input), Failure.RUNTIME, "has no classifier", "--features");
    }

    // ---------------------------------------------------------------- input

    @Test
    void fourChannelInput() throws IOException {
        Path x = write("x4.npy", Shape.of(2, 71, 71, 4));
        assertFailed(infer(tinyTop, x), Failure.RUNTIME, "has shape (2,71,71,4)", "expected (N, H, W, 3)");
    }

    @Test
    void rankThreeInput() throws IOException {
        Path x = write("x3.npy", Shape.of(71, 71, 3));
        assertFailed(infer(tinyTop, x), Failure.RUNTIME, "has shape (71,71,3)", "expected (N, H, W, 3)");
    }

    @Test
    void imagesSmallerThan71() throws IOException {
        Path x = write("small.npy", Shape.of(1, 70, 90, 3));
        assertFailed(infer(tinyTop, x), Failure.RUNTIME, "70x90", "at least 71");
    }

    @Test
    void emptyBatch() throws IOException {
        Path x = write("empty.npy", Shape.of(0, 71, 71, 3));
        assertFailed(infer(tinyTop, x), Failure.RUNTIME, "holds no images");
    }

    @Test
    void int64Input() throws IOException {
        Path x = dir.resolve("int.npy");
        String header = "{'descr': '<i8', 'fortran_order': False, 'shape': (1, 71, 71, 3), }";
        header += " ".repeat(63 - (10 + header.length()) % 64) + "\n";
        ByteBuffer bb = ByteBuffer.allocate(10 + header.length() + 71 * 71 * 3 * 8).order(ByteOrder.LITTLE_ENDIAN);
        bb.put(new byte[]{(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) header.length()).put(header.getBytes(StandardCharsets.US_ASCII));
        Files.write(x, bb.array());
        assertFailed(infer(tinyTop, x), Failure.RUNTIME, x.toString(), "'<i8'", "float32");
    }

    @Test
    void truncatedInput() throws IOException {
        byte[] all = Files.readAllBytes(input);
        Files.write(input, Arrays.copyOf(all, all.length - 4));
        assertFailed(infer(tinyTop, input), Failure.RUNTIME, input.toString(), "truncated");
    }

    @Test
    void nanInInput() throws IOException {
        Tensor t = Npy.read(input);
        t.data()[((1 * 71 + 2) * 71 + 3) * 3 + 1] = Float.NaN;
        Npy.write(input, t);
        assertFailed(infer(tinyTop, input), Failure.RUNTIME, "NaN at [1, 2, 3, 1]");
    }

    @Test
    void infinityInInput() throws IOException {
        Tensor t = Npy.read(input);
        t.data()[5] = Float.NEGATIVE_INFINITY;
        Npy.write(input, t);
        assertFailed(infer(tinyTop, input), Failure.RUNTIME, "-Infinity at [0, 0, 1, 2]");
    }

    @Test
    void missingInput() throws IOException {
        Path x = dir.resolve("missing.npy");
        assertFailed(infer(tinyTop, x), Failure.RUNTIME, "input file not found: " + x);
    }

    @Test
    void missingOutputFolder() throws IOException {
        Path y = dir.resolve("no/such/folder/y.npy");
        Cli.Result r = Cli.run("infer", "--backend", "cpu", "--weights", tinyTop, "--input", input.toString(), "--output", y.toString());
        assertFailed(r, Failure.RUNTIME, "output folder does not exist");
        assertFalse(Files.exists(y));
    }

    // ---------------------------------------------------------------- command line and backends

    @Test
    void unknownBackendName() throws IOException {
        Cli.Result r = Cli.run("infer", "--backend", "gpu", "--weights", tinyTop, "--input", input.toString(), "--output", output.toString());
        assertFailed(r, Failure.USAGE, "unknown backend 'gpu'");
    }

    @Test
    void zeroBatch() throws IOException {
        assertFailed(infer(tinyTop, input, "--batch", "0"), Failure.USAGE, "--batch must be at least 1");
    }

    @Test
    void missingRequiredOption() throws IOException {
        Cli.Result r = Cli.run("infer", "--weights", tinyTop, "--output", output.toString());
        assertFailed(r, Failure.USAGE, "--input");
    }

    @Test
    void unavailableBackendSaysWhy() throws IOException {
        var missing = io.jxception.backend.Backends.probeAll().stream().filter(p -> !p.available()).findFirst();
        org.junit.jupiter.api.Assumptions.assumeTrue(missing.isPresent(), "every backend kind is available here");
        Cli.Result r = Cli.run("infer", "--backend", missing.get().kind(), "--weights", tinyTop, "--input", input.toString(), "--output", output.toString());
        assertFailed(r, Failure.RUNTIME, io.jxception.backend.Backends.unavailableMessage(missing.get()));
    }

    // ---------------------------------------------------------------- classify

    @Test
    void nonImageFileForClassify() throws IOException {
        Path notImage = Files.writeString(dir.resolve("photo.jpg"), "plain text, not a JPEG\n");
        Cli.Result r = Cli.run("classify", "--backend", "cpu", "--size", "71", "--weights", tinyTop, notImage.toString());
        assertFailed(r, Failure.RUNTIME, notImage.toString(), "not an image");
    }

    @Test
    void missingImageForClassify() throws IOException {
        Path missing = dir.resolve("gone.png");
        Cli.Result r = Cli.run("classify", "--backend", "cpu", "--size", "71", "--weights", tinyTop, missing.toString());
        assertFailed(r, Failure.RUNTIME, missing + ": no such image file");
    }

    // ---------------------------------------------------------------- helpers

    private Path write(String name, Shape shape) throws IOException {
        Path p = dir.resolve(name);
        Npy.write(p, Tensor.zeros(shape));
        return p;
    }

    /** Random tiny weights (width 1/16, 10 classes) saved by WeightsFiles.save as safetensors. */
    private Path tinySafetensors(String name) throws IOException {
        Path p = dir.resolve(name);
        WeightsFiles.save(p, XceptionWeights.random(XceptionGraph.build(XceptionConfig.tiny(71, 10)), 11));
        return p;
    }

    /** Overwrites the first float32 of the first tensor in a safetensors file (8-byte header length, JSON header, data). */
    private static void pokeFirstTensor(Path file, float value) throws IOException {
        byte[] all = Files.readAllBytes(file);
        ByteBuffer bb = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        int headerLength = Math.toIntExact(bb.getLong(0));
        String header = new String(all, 8, headerLength, StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("\"dtype\"\\s*:\\s*\"F32\"[^}]*?\"data_offsets\"\\s*:\\s*\\[\\s*(\\d+)").matcher(header);
        if (!m.find()) {
            m = Pattern.compile("\"data_offsets\"\\s*:\\s*\\[\\s*(\\d+)[^}]*?\"dtype\"\\s*:\\s*\"F32\"").matcher(header);
            assertTrue(m.find(), "no F32 tensor in header " + header);
        }
        bb.putFloat(8 + headerLength + Integer.parseInt(m.group(1)), value);
        Files.write(file, all);
    }
}
