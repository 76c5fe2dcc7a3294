package io.jxception.internal.backend.opencl;

import io.jxception.internal.exec.ForwardSession;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Tensor;
import io.jxception.weights.XceptionWeights;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Opening and closing backends many times leaks no OpenCL object (context, queue, program, kernel,
 * buffer) and no native memory: 50 backends, each with an inference session running 4 forwards of
 * the tiny Xception (200 inferences in all).
 */
class OpenClResourceTest {
    /** Generous: pocl's caches and the JIT settle during the warm-up; a leak of one network's buffers per backend would be ~50 x 10 MB. */
    static final long RSS_GROWTH_LIMIT_KB = 150 * 1024;

    @Test
    void fiftyBackendsAndTwoHundredInferencesReleaseEveryOpenClObject() throws IOException {
        OpenClTestSupport.requirePlatform();
        XceptionGraph graph = XceptionGraph.build(XceptionConfig.tiny(71, 10));
        XceptionWeights weights = XceptionWeights.random(graph, 3);
        Tensor input = OpenClNetworkTest.randomImages(graph, 1, 4);
        long before = ClObjects.live();
        Tensor first = cycle(weights, input, 3); // warm-up: library, JIT, pocl's binary cache
        assertEquals(before, ClObjects.live(), "OpenCL objects left after the warm-up backend closed");
        long rssBefore = residentKb();
        for (int i = 0; i < 50; i++) {
            Tensor out = cycle(weights, input, 4);
            assertEquals(before, ClObjects.live(), "OpenCL objects left after backend " + i + " closed");
            assertEquals(0.0, Twin.relativeError(first.data(), out.data(), "repeat " + i), "same input, same device: same output");
        }
        long growth = residentKb() - rssBefore;
        System.out.printf("50 backends, 200 inferences: resident set grew by %d KiB%n", growth);
        assertTrue(growth < RSS_GROWTH_LIMIT_KB, "resident set grew by " + growth + " KiB over 50 backends");
    }

    /** Opens a backend, runs {@code runs} inferences, leaves one buffer unclosed for close() to free. */
    private static Tensor cycle(XceptionWeights weights, Tensor input, int runs) {
        Tensor out = null;
        try (OpenClBackend cl = OpenClTestSupport.open()) {
            cl.allocate(1000); // never closed by hand: the backend's close() must release it
            try (ForwardSession s = new ForwardSession(cl, weights, 1)) {
                for (int r = 0; r < runs; r++) out = s.run(input);
            }
            assertTrue(ClObjects.live() > 0);
        }
        return out;
    }

    private static long residentKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }
}
