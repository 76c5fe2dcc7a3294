package io.jxception.reference;

import io.jxception.tensor.Npy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * One folder of {@code .npy} files written by a PyTorch generator under {@code weights/fixtures/}
 * (read relative to the project root, where Maven runs the tests), plus the comparison the
 * reference-vs-PyTorch tests use: relative error ‖actual − expected‖ / ‖expected‖.
 */
final class Fixture {
    private final Path dir;

    Fixture(Path dir) {
        if (!Files.isDirectory(dir)) {
            fail("fixture folder " + dir.toAbsolutePath() + " is missing: run the tests from the project root, or regenerate it with "
                    + "/usr/bin/python3 weights/fixtures/generate_op_fixtures.py (or generate_net_fixture.py)");
        }
        this.dir = dir;
    }

    static Fixture op(String name) { return new Fixture(Path.of("weights", "fixtures", "ops", name)); }

    Path dir() { return dir; }

    boolean has(String tensor) { return Files.exists(file(tensor)); }

    Npy.Array array(String tensor) {
        try {
            return Npy.readDoubles(file(tensor));
        } catch (IOException e) {
            throw new UncheckedIOException("fixture " + file(tensor) + ": " + e.getMessage(), e);
        }
    }

    double[] get(String tensor) { return array(tensor).values(); }

    int[] shape(String tensor) { return array(tensor).shape().dims(); }

    private Path file(String tensor) { return dir.resolve(tensor + ".npy"); }

    /** Fails unless the first expected.length values of actual are within relative error {@code tolerance}. */
    static void assertClose(String what, double[] expected, double[] actual, double tolerance) {
        assertTrue(actual.length >= expected.length, what + ": got " + actual.length + " values, expected " + expected.length);
        double diff = 0, norm = 0, worst = -1;
        int worstAt = -1;
        for (int i = 0; i < expected.length; i++) {
            if (!Double.isFinite(actual[i])) fail(what + ": element " + i + " is " + actual[i] + " (unwritten or invalid), expected " + expected[i]);
            double d = actual[i] - expected[i];
            diff += d * d;
            norm += expected[i] * expected[i];
            if (Math.abs(d) > worst) {
                worst = Math.abs(d);
                worstAt = i;
            }
        }
        assertTrue(norm > 0, what + ": expected tensor is all zeros, the comparison would be vacuous");
        double rel = Math.sqrt(diff / norm);
        assertTrue(rel < tolerance, what + ": relative error " + rel + " >= " + tolerance + "; worst element " + worstAt
                + " is " + actual[worstAt] + ", expected " + expected[worstAt]);
    }
}
