package io.jxception.cli;

import io.jxception.internal.weights.SafetensorsWriter;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What a careful user typing wrong values, or a hostile file, gets from the command line: exit 2
 * for every bad option value, with a message naming the option and the value; exit 1 with the path
 * and what is wrong for files and folders; never a control character on the terminal.
 */
class HostileCliTest {
    @TempDir Path dir;

    private static void assertOneErrorLine(Cli.Result r, int exitCode, String... fragments) {
        assertEquals(exitCode, r.exitCode(), r.toString());
        assertTrue(r.err().startsWith("jxception: error: "), r.toString());
        assertEquals(1, r.err().lines().count(), r.toString());
        for (String f : fragments) assertTrue(r.err().contains(f), "missing '" + f + "' in\n" + r);
        assertFalse(r.err().chars().anyMatch(c -> c < 0x20 && c != '\n'), "control character printed:\n" + r);
    }

    @Test
    void everyBadOptionValueExitsTwoNamingTheValue() throws IOException {
        String weights = Fixtures.h5(Fixtures.TINY_TOP).toString();
        Path image = dir.resolve("x.png");
        Path data = dir.resolve("data"), out = dir.resolve("out");
        String[][] cases = {
                {"100000", "classify", "--weights", weights, "--size", "100000", image.toString()},
                {"70", "classify", "--weights", weights, "--size", "70", image.toString()},
                {"--top", "classify", "--weights", weights, "--top", "0", image.toString()},
                {"--batch", "classify", "--weights", weights, "--batch", "0", image.toString()},
                {"cubic", "classify", "--weights", weights, "--interpolation", "cubic", image.toString()},
                {"100000", "bench", "--backend", "cpu", "--size", "100000"},
                {"--batch", "infer", "--weights", weights, "--input", "x.npy", "--output", "y.npy", "--batch", "0"},
                {"fp8", "infer", "--weights", weights, "--input", "x.npy", "--output", "y.npy", "--precision", "fp8"},
                {"tpu", "infer", "--weights", weights, "--input", "x.npy", "--output", "y.npy", "--backend", "tpu"},
                {"100000", "train", data.toString(), "--out", out.toString(), "--size", "100000"},
                {"width multiplier", "train", data.toString(), "--out", out.toString(), "--width", "0"},
                {"width multiplier", "train", data.toString(), "--out", out.toString(), "--width", "9"},
                {"middle blocks", "train", data.toString(), "--out", out.toString(), "--middle-blocks", "9"},
                {"middle blocks", "train", data.toString(), "--out", out.toString(), "--middle-blocks", "-1"},
                {"--freeze-below: no layer named 'block99_conv'", "train", data.toString(), "--out", out.toString(), "--size", "71", "--width", "0.0625", "--freeze-below", "block99_conv"},
                {"--loss-scaling", "train", data.toString(), "--out", out.toString(), "--loss-scaling", "sometimes"},
                {"schedule", "train", data.toString(), "--out", out.toString(), "--schedule", "zigzag"},
                {"learning rate", "train", data.toString(), "--out", out.toString(), "--lr", "-1"},
                {"epochs", "train", data.toString(), "--out", out.toString(), "--epochs", "0"},
                {"crop", "train", data.toString(), "--out", out.toString(), "--crop", "-1"},
                {"prefetch", "train", data.toString(), "--out", out.toString(), "--prefetch", "0"},
                {"loader threads", "train", data.toString(), "--out", out.toString(), "--loader-threads", "0"},
                {"checkpoint interval", "train", data.toString(), "--out", out.toString(), "--checkpoint-every", "-1"},
                {"loss interval", "train", data.toString(), "--out", out.toString(), "--loss-every", "0"},
                {"validation fraction", "train", data.toString(), "--out", out.toString(), "--val-split", "1.5"},
                {"decay factor", "train", data.toString(), "--out", out.toString(), "--lr-decay", "2"},
                {"momentum", "train", data.toString(), "--out", out.toString(), "--momentum", "1"},
                {"batch size", "train", data.toString(), "--out", out.toString(), "--batch", "0"},
        };
        List<String> wrong = new ArrayList<>();
        for (String[] c : cases) {
            String[] args = java.util.Arrays.copyOfRange(c, 1, c.length);
            Cli.Result r = Cli.run(args);
            boolean ok = r.exitCode() == Failure.USAGE && r.err().startsWith("jxception: error: ") && r.err().contains(c[0]) && r.out().isEmpty();
            if (!ok) wrong.add(String.join(" ", args) + "\n" + r);
        }
        assertEquals(List.of(), wrong, "bad option values that did not exit 2 with a message");
        assertFalse(Files.exists(out), "train created its output folder although its options were refused");
    }

    @Test
    void deviceNodeOutputIsRefusedBeforeAnyWork() throws IOException {
        Path input = Fixtures.randomInput(dir.resolve("x.npy"), 1, 71, 71, new Random().nextLong());
        Cli.Result r = Cli.run("infer", "--backend", "cpu", "--weights", Fixtures.h5(Fixtures.TINY_TOP).toString(),
                "--input", input.toString(), "--output", "/dev/null");
        assertOneErrorLine(r, Failure.USAGE, "--output /dev/null: give a .npy, .csv or .jsonl file name");
        // a name that passes the extension check but leads to the device
        Path link = Files.createSymbolicLink(dir.resolve("y.npy"), Path.of("/dev/null"));
        Cli.Result l = Cli.run("infer", "--backend", "cpu", "--weights", Fixtures.h5(Fixtures.TINY_TOP).toString(),
                "--input", input.toString(), "--output", link.toString());
        assertOneErrorLine(l, Failure.RUNTIME, "/dev/null", "a character device", "not a regular file");
        assertFalse(l.err().contains("img/s"));
        assertFalse(Files.isRegularFile(Path.of("/dev/null")));
        assertTrue(Files.isSymbolicLink(link), "the link was kept");
    }

    @Test
    void outputUnderProcFailsBeforeTheRun() throws IOException {
        Path input = Fixtures.randomInput(dir.resolve("x.npy"), 1, 71, 71, new Random().nextLong());
        long t0 = System.nanoTime();
        Cli.Result r = Cli.run("infer", "--backend", "cpu", "--weights", Fixtures.h5(Fixtures.TINY_TOP).toString(),
                "--input", input.toString(), "--output", "/proc/jxception-y.npy");
        assertOneErrorLine(r, Failure.RUNTIME, "cannot write in output folder /proc");
        assertFalse(r.err().contains("img/s"));
    }

    @Test
    void emptyFolderAsImagesSaysSoWithThePath() throws IOException {
        Path folder = Files.createDirectory(dir.resolve("holiday photos"));
        Cli.Result r = Cli.run("classify", "--backend", "cpu", "--weights", Fixtures.h5(Fixtures.TINY_TOP).toString(), "--size", "71", folder.toString());
        // a folder is a set of images (every image under it); an empty one says so with its path
        assertOneErrorLine(r, Failure.RUNTIME, "folder " + folder + " holds no images (bmp, gif, jpeg, jpg, png, tif, tiff)");
        Cli.Result w = Cli.run("classify", "--backend", "cpu", "--weights", dir.toString(), "--size", "71", folder.toString());
        assertEquals(Failure.RUNTIME, w.exitCode(), w.toString());
    }

    @Test
    void trainOutThatIsAFileSaysWhatIsWrong() throws IOException {
        Path file = Files.writeString(dir.resolve("results"), "mine");
        Cli.Result r = Cli.run("train", "weights/fixtures/mnist/val", "--out", file.toString(), "--backend", "cpu", "--size", "71",
                "--width", "0.0625", "--middle-blocks", "1", "--batch", "8", "--epochs", "1");
        assertOneErrorLine(r, Failure.RUNTIME, "output folder " + file + " exists and is not a folder but a file");
        assertEquals("mine", Files.readString(file));
    }

    @Test
    void namesFromAWeightsFileNeverPrintTerminalEscapes() throws IOException {
        Random random = new Random();
        float[] v = new float[6];
        for (int i = 0; i < v.length; i++) v[i] = random.nextFloat() - 0.5f;
        Path w = dir.resolve("evil.safetensors");
        SafetensorsWriter.write(w, Map.of("\u001b]0;pwned\u0007block1_conv1/\u001b[2Jkernel", new Tensor(Shape.of(2, 3), v)),
                Map.of("note", "\u001b[31mred"));
        Path input = Fixtures.randomInput(dir.resolve("x.npy"), 1, 71, 71, random.nextLong());
        Cli.Result r = Cli.run("infer", "--backend", "cpu", "--weights", w.toString(), "--input", input.toString(), "--output", dir.resolve("y.npy").toString());
        assertOneErrorLine(r, Failure.RUNTIME, "evil.safetensors");
        assertFalse(r.err().contains("\u001b"), r.toString());
    }
}
