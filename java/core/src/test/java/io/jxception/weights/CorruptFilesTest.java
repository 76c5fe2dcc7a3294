package io.jxception.weights;

import io.jxception.internal.weights.SafetensorsWriter;
import io.jxception.model.XceptionGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Damaged files, many ways (fixed seeds): each either still loads (damage in values or unused
 * fields) or fails with a {@link WeightsFileException} naming the file; never another exception,
 * an OutOfMemoryError or a hang.
 */
class CorruptFilesTest {
    static final XceptionGraph MICRO = KerasH5LoadTest.MICRO;

    @TempDir Path tmp;

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void damagedH5MetadataNeverEscapesAsAnotherException() throws IOException {
        for (String name : new String[]{"xception_micro_top.h5", "xception_tiny_top.h5"}) {
            byte[] original = Files.readAllBytes(Fixtures.h5(name));
            Random rnd = new Random(name.length());
            int rounds = name.contains("micro") ? 60 : 20, failed = 0;
            for (int round = 0; round < rounds; round++) {
                byte[] damaged = original.clone();
                int at = rnd.nextInt(Math.min(original.length, 40_000));
                for (int i = 0; i < 1 + rnd.nextInt(16) && at + i < damaged.length; i++) damaged[at + i] = (byte) rnd.nextInt(256);
                Path p = tmp.resolve(name);
                Files.write(p, damaged);
                XceptionGraph graph = name.contains("micro") ? MICRO : KerasH5LoadTest.TINY;
                if (failsCleanly(p, graph, "round " + round + " at " + at)) failed++;
            }
            assertTrue(failed > 0, name + ": none of " + rounds + " damaged copies was refused: the damage missed the metadata");
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void damagedSafetensorsHeaderNeverEscapesAsAnotherException() throws IOException {
        Path saved = tmp.resolve("saved.safetensors");
        SafetensorsWriter.write(saved, XceptionWeights.random(MICRO, 1).asMap(), Map.of("format", "keras"));
        byte[] original = Files.readAllBytes(saved);
        long headerEnd = 8 + (original[0] & 0xff | (original[1] & 0xff) << 8 | (original[2] & 0xff) << 16);
        Random rnd = new Random(11);
        int failed = 0;
        for (int round = 0; round < 300; round++) {
            byte[] damaged = original.clone();
            int at = rnd.nextInt((int) headerEnd);
            int n = 1 + rnd.nextInt(4);
            for (int i = 0; i < n && at + i < damaged.length; i++) {
                damaged[at + i] = rnd.nextBoolean() ? (byte) rnd.nextInt(256) : (byte) "{}[],:\"0123456789-e.".charAt(rnd.nextInt(20));
            }
            Path p = tmp.resolve("damaged.safetensors");
            Files.write(p, damaged);
            if (failsCleanly(p, MICRO, "round " + round + " at " + at)) failed++;
        }
        assertTrue(failed > 150, "only " + failed + " of 300 damaged headers were refused");
    }

    /** True if loading fails with a WeightsFileException, false if it loads; any other outcome fails the test. */
    private static boolean failsCleanly(Path p, XceptionGraph graph, String what) {
        boolean failed = false;
        try {
            WeightsFiles.load(p, graph);
        } catch (WeightsFileException e) {
            assertTrue(e.getMessage().startsWith(p.getFileName() + ": "), what + ": " + e.getMessage());
            failed = true;
        } catch (Throwable t) {
            fail(what + ": escaped as " + t, t);
        }
        try {
            WeightsFiles.inferConfig(p, 71, 71);
        } catch (WeightsFileException e) {
            assertTrue(e.getMessage().startsWith(p.getFileName() + ": "), what + ": " + e.getMessage());
        } catch (Throwable t) {
            fail(what + " (inferConfig): escaped as " + t, t);
        }
        return failed;
    }
}
