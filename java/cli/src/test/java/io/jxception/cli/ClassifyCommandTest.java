package io.jxception.cli;

import io.jxception.image.ImageNetLabels;
import io.jxception.image.Interpolation;
import io.jxception.image.KerasPreprocessing;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Npy;
import io.jxception.tensor.Tensor;
import io.jxception.weights.WeightsFiles;
import io.jxception.weights.XceptionWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

class ClassifyCommandTest {
    private static final Pattern INDEX_LINE = Pattern.compile("  (0\\.\\d{4}|1\\.0000)  class (\\d+)");
    private static final Pattern IMAGENET_LINE = Pattern.compile("  (0\\.\\d{4}|1\\.0000)  (n\\d{8})  (\\S+)");

    @TempDir Path dir;

    private Path image(String name, String format, int h, int w, int seed) throws IOException {
        BufferedImage im = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) im.setRGB(x, y, ((x * seed) % 256) << 16 | ((y * 3 + seed) % 256) << 8 | ((x ^ y) & 0xff));
        }
        Path p = dir.resolve(name);
        assertTrue(ImageIO.write(im, format, p.toFile()));
        return p;
    }

    /** Checks "name" then k ranked lines per image; returns the parsed lines. */
    private static List<Matcher> block(List<String> lines, int start, Path image, int k, Pattern line) {
        assertEquals(image.toString(), lines.get(start));
        List<Matcher> out = new java.util.ArrayList<>();
        double previous = 2;
        for (int i = 1; i <= k; i++) {
            Matcher m = line.matcher(lines.get(start + i));
            assertTrue(m.matches(), "line '" + lines.get(start + i) + "'");
            double p = Double.parseDouble(m.group(1));
            assertTrue(p <= previous, "probabilities not descending: " + lines);
            previous = p;
            out.add(m);
        }
        return out;
    }

    @Test
    void tinyModelPrintsFiveRankedClassesPerImage() throws IOException {
        Path png = image("a.png", "png", 90, 120, 7), jpg = image("b.jpg", "jpg", 300, 200, 13);
        Cli.Result r = Cli.run("classify", "--backend", "cpu", "--size", "71", "--batch", "1",
                "--weights", Fixtures.h5(Fixtures.TINY_TOP).toString(), png.toString(), jpg.toString());
        assertEquals(0, r.exitCode(), r.toString());
        List<String> lines = r.out().lines().toList();
        assertEquals(12, lines.size(), r.toString());
        for (int b = 0; b < 2; b++) {
            List<Matcher> top = block(lines, 6 * b, b == 0 ? png : jpg, 5, INDEX_LINE);
            Set<String> classes = new HashSet<>();
            double sum = 0;
            for (Matcher m : top) {
                classes.add(m.group(2));
                assertTrue(Integer.parseInt(m.group(2)) < 10);
                sum += Double.parseDouble(m.group(1));
            }
            assertEquals(5, classes.size(), "classes repeat: " + lines);
            assertTrue(sum <= 1.0005, "top-5 probabilities sum to " + sum);
        }
    }

    @Test
    void topClassIsWhatInferGivesForTheSamePreprocessedImage() throws IOException {
        Path png = image("c.png", "png", 100, 140, 3);
        String weights = Fixtures.h5(Fixtures.TINY_TOP).toString();
        Cli.Result r = Cli.run("classify", "--backend", "cpu", "--size", "71", "--top", "1", "--interpolation", "bilinear", "--weights", weights, png.toString());
        assertEquals(0, r.exitCode(), r.toString());
        Matcher m = INDEX_LINE.matcher(r.out().lines().toList().get(1));
        assertTrue(m.matches(), r.toString());

        Path x = dir.resolve("c.npy"), y = dir.resolve("c_probs.npy");
        Npy.write(x, KerasPreprocessing.load(png, 71, 71, Interpolation.BILINEAR));
        assertEquals(0, Cli.run("infer", "--backend", "cpu", "--weights", weights, "--input", x.toString(), "--output", y.toString()).exitCode());
        Tensor p = Npy.read(y);
        int best = 0;
        for (int c = 1; c < 10; c++) if (p.data()[c] > p.data()[best]) best = c;
        assertEquals(String.valueOf(best), m.group(2));
        assertEquals(String.format(Locale.ROOT, "%.4f", p.data()[best]), m.group(1));
    }

    @Test
    void thousandClassesUseImageNetLabels() throws IOException {
        Path w = dir.resolve("tiny1000.safetensors");
        WeightsFiles.save(w, XceptionWeights.random(XceptionGraph.build(XceptionConfig.tiny(71, 1000)), 5));
        Path png = image("d.png", "png", 71, 71, 5);
        Cli.Result r = Cli.run("classify", "--backend", "cpu", "--size", "71", "--weights", w.toString(), png.toString());
        assertEquals(0, r.exitCode(), r.toString());
        ImageNetLabels labels = ImageNetLabels.load();
        List<String> lines = r.out().lines().toList();
        assertEquals(6, lines.size(), r.toString());
        Set<String> wnids = new HashSet<>();
        for (int i = 0; i < 1000; i++) wnids.add(labels.get(i).wnid() + " " + labels.get(i).label());
        for (Matcher m : block(lines, 0, png, 5, IMAGENET_LINE)) assertTrue(wnids.contains(m.group(2) + " " + m.group(3)), m.group());
    }

    @Test
    void rejectsBadTopAndSize() {
        String w = Fixtures.h5(Fixtures.TINY_TOP).toString();
        Cli.Result top = Cli.run("classify", "--top", "0", "--weights", w, "x.png");
        assertEquals(Failure.USAGE, top.exitCode(), top.toString());
        Cli.Result size = Cli.run("classify", "--size", "64", "--weights", w, "x.png");
        assertEquals(Failure.USAGE, size.exitCode(), size.toString());
        Cli.Result interp = Cli.run("classify", "--interpolation", "cubic", "--weights", w, "x.png");
        assertEquals(Failure.USAGE, interp.exitCode(), interp.toString());
        assertTrue(interp.err().contains("nearest or bilinear"), interp.toString());
    }
}
