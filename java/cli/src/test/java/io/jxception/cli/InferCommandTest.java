package io.jxception.cli;

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
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class InferCommandTest {
    @TempDir Path dir;

    /** Runs infer on a fixture name (weights/fixtures/h5/...) or a weights file path. */
    private Tensor infer(String weights, Path input, String... extra) throws IOException {
        Path out = dir.resolve("y" + System.nanoTime() + ".npy");
        String w = weights.contains("/") ? weights : Fixtures.h5(weights).toString();
        String[] base = {"infer", "--backend", "cpu", "--weights", w, "--input", input.toString(), "--output", out.toString()};
        String[] args = new String[base.length + extra.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        Cli.Result r = Cli.run(args);
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.out().startsWith("wrote " + out), r.toString());
        return Npy.read(out);
    }

    @Test
    void tinyH5WritesProbabilityRowsThatSumToOne() throws IOException {
        Path x = Fixtures.randomInput(dir.resolve("x.npy"), 3, 71, 71, 1);
        Tensor p = infer(Fixtures.TINY_TOP, x, "--batch", "2");
        assertEquals(Shape.of(3, 10), p.shape());
        for (int n = 0; n < 3; n++) {
            double sum = 0;
            for (int c = 0; c < 10; c++) {
                float v = p.data()[n * 10 + c];
                assertTrue(Float.isFinite(v) && v >= 0 && v <= 1, "p[" + n + "," + c + "] = " + v);
                sum += v;
            }
            assertEquals(1.0, sum, 1e-5, "row " + n);
        }
    }

    @Test
    void batchingDoesNotChangeResults() throws IOException {
        // random weights (unlike the fixture's, which saturate the softmax) give every image its own row
        Path w = dir.resolve("random.safetensors");
        WeightsFiles.save(w, XceptionWeights.random(XceptionGraph.build(XceptionConfig.tiny(71, 10)), 3));
        Path x = Fixtures.randomInput(dir.resolve("x.npy"), 3, 71, 71, 2);
        Tensor one = infer(w.toString(), x, "--batch", "1");
        Tensor all = infer(w.toString(), x, "--batch", "3");
        for (int i = 0; i < one.size(); i++) assertEquals(all.data()[i], one.data()[i], 1e-6, "value " + i);
        boolean rowsDiffer = false;
        for (int c = 0; c < 10; c++) {
            rowsDiffer |= Math.abs(one.data()[c] - one.data()[10 + c]) > 1e-4 && Math.abs(one.data()[10 + c] - one.data()[20 + c]) > 1e-4;
        }
        assertTrue(rowsDiffer, "images gave the same probabilities");
    }

    @Test
    void anyInputSizeFrom71Works() throws IOException {
        Path x = Fixtures.randomInput(dir.resolve("x.npy"), 1, 80, 96, 3);
        assertEquals(Shape.of(1, 10), infer(Fixtures.TINY_TOP, x).shape());
    }

    @Test
    void featuresArePooledTo128AndTheSameFromTheNotopFile() throws IOException {
        Path x = Fixtures.randomInput(dir.resolve("x.npy"), 2, 71, 71, 4);
        Tensor fromTop = infer(Fixtures.TINY_TOP, x, "--features");
        Tensor fromNotop = infer(Fixtures.TINY_NOTOP, x, "--features");
        assertEquals(Shape.of(2, 128), fromTop.shape());
        assertEquals(Shape.of(2, 128), fromNotop.shape());
        assertEquals(-1, fromTop.firstNonFinite());
        for (int i = 0; i < fromTop.size(); i++) {
            assertEquals(fromTop.data()[i], fromNotop.data()[i], 1e-6 * Math.abs(fromTop.data()[i]), "feature " + i);
        }
        // block14_sepconv2_act is a ReLU: averages of non-negative values; two images, two different rows
        for (float v : fromTop.data()) assertTrue(v >= 0, "feature " + v);
        boolean differ = false;
        for (int c = 0; c < 128; c++) differ |= fromTop.data()[c] != fromTop.data()[128 + c];
        assertTrue(differ, "both images gave the same features");
    }

    @Test
    void progressBarShowsOnlyForSeveralBatches() throws IOException {
        Path x = Fixtures.randomInput(dir.resolve("x.npy"), 2, 71, 71, 5);
        Path y = dir.resolve("y.npy");
        String w = Fixtures.h5(Fixtures.TINY_TOP).toString();
        Cli.Result several = Cli.run("infer", "--backend", "cpu", "--weights", w, "--input", x.toString(), "--output", y.toString(), "--batch", "1");
        assertEquals(0, several.exitCode(), several.toString());
        assertTrue(several.err().contains("] 2/2 ") && several.err().contains(" img/s"), several.toString());
        Cli.Result single = Cli.run("infer", "--backend", "cpu", "--weights", w, "--input", x.toString(), "--output", y.toString(), "--batch", "2");
        assertEquals(0, single.exitCode(), single.toString());
        assertEquals("", single.err(), single.toString());
        assertTrue(Files.exists(y));
    }
}
