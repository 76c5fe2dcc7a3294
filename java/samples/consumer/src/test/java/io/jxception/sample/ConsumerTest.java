package io.jxception.sample;

import io.jxception.backend.Backend;
import io.jxception.backend.Backends;
import io.jxception.backend.Precision;
import io.jxception.backend.Probe;
import io.jxception.exec.InferenceSession;
import io.jxception.image.Interpolation;
import io.jxception.image.KerasPreprocessing;
import io.jxception.model.Pooling;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;
import io.jxception.weights.WeightsFiles;
import io.jxception.weights.XceptionWeights;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** An application that depends on jxception-core alone: what it can run, and what its class path holds. */
class ConsumerTest {
    static final Path TINY_TOP = Path.of("weights/fixtures/h5/xception_tiny_top.h5");       // 10 classes, width 1/16
    static final Path DIGIT = Path.of("weights/fixtures/mnist/val/3/0000.png");

    @Test
    void theReadmeExampleRunsOnCpu() throws IOException {
        List<String> top = ClassifyImage.classify(TINY_TOP, DIGIT, "cpu", 71);
        assertEquals(5, top.size());
        double sum = 0;
        for (String line : top) {
            assertTrue(line.matches("[01]\\.\\d{4} class \\d"), line);
            sum += Double.parseDouble(line.split(" ")[0]);
        }
        assertTrue(sum > 0 && sum <= 1.0001, "top-5 probabilities sum to " + sum);
    }

    @Test
    void openClGivesTheCpuReferencesProbabilitiesAndFeatures() throws IOException {
        Probe opencl = Backends.probeAll().stream().filter(p -> p.kind().equals("opencl")).findFirst().orElseThrow();
        if (!opencl.available()) {
            assertNotEquals("true", System.getenv("CI"), "CI=true but OpenCL is unavailable: " + opencl.reason());
            Assumptions.abort("OpenCL unavailable here: " + opencl.reason());
        }
        XceptionConfig config = WeightsFiles.inferConfig(TINY_TOP, 71, 71);
        for (XceptionConfig c : List.of(config, config.withoutTop(Pooling.AVG))) {
            XceptionWeights weights = WeightsFiles.load(TINY_TOP, XceptionGraph.build(c));
            Tensor x = KerasPreprocessing.stack(List.of(
                    KerasPreprocessing.load(DIGIT, 71, 71, Interpolation.NEAREST),
                    KerasPreprocessing.load(Path.of("weights/fixtures/mnist/val/7/0000.png"), 71, 71, Interpolation.BILINEAR)));
            float[] cpu = run("cpu", weights, x), gpu = run("opencl", weights, x);
            assertEquals(c.includeTop() ? 2 * 10 : 2 * 128, cpu.length);
            assertTrue(relativeError(gpu, cpu) < 1e-4, "opencl vs cpu relative error " + relativeError(gpu, cpu));
        }
    }

    @Test
    void theClassPathHoldsTheLibraryAndNoCliChartsPdfCudaOrLoggingBinding() {
        List<String> path = Arrays.asList(System.getProperty("java.class.path").split(File.pathSeparator));
        for (String forbidden : List.of("picocli", "xchart", "pdfbox", "graphics2d", "VectorGraphics2D", "animated-gif",
                "slf4j-nop", "slf4j-simple", "logback", "log4j-slf4j", "slf4j-jdk14", "slf4j-reload4j", "jcuda", "jxception-cli", "jxception-cuda")) {
            List<String> hits = path.stream().filter(p -> p.toLowerCase().contains(forbidden.toLowerCase())).toList();
            assertTrue(hits.isEmpty(), forbidden + " on a jxception-core application's class path: " + hits);
        }
        assertTrue(path.stream().anyMatch(p -> p.contains("java/core/target/classes") || p.contains("jxception-core")), "jxception-core itself: " + path);
        assertTrue(path.stream().anyMatch(p -> p.contains("jhdf")), "jhdf (Keras .h5 weights): " + path);
        assertTrue(path.stream().anyMatch(p -> p.contains("lwjgl-opencl")), "LWJGL OpenCL: " + path);
        // without jxception-cuda on the class path, asking for cuda says which artifact to add
        assertTrue(Backends.probeAll().stream().noneMatch(p -> p.kind().equals("cuda")));
        Exception e = assertThrows(RuntimeException.class, () -> Backends.open("cuda", Precision.FP32));
        assertTrue(e.getMessage().contains("jxception-cuda"), e.getMessage());
    }

    @Test
    void backendOptionsAreCheckedPerBackendNotJvmWide() {
        try (Backend cpu = Backends.open("cpu", Precision.FP32, Map.of("cuda.stem", "old"))) {   // another kind's option: ignored
            assertEquals("cpu", cpu.name());
        }
        assertThrows(IllegalArgumentException.class, () -> Backends.open("cpu", Precision.FP32, Map.of("cpu.threads", "4")));
        assertThrows(IllegalArgumentException.class, () -> Backends.open("cpu", Precision.FP32, Map.of("stem", "old")));
    }

    private static float[] run(String backendName, XceptionWeights weights, Tensor x) {
        try (Backend backend = Backends.open(backendName, Precision.FP32);
             InferenceSession session = new InferenceSession(backend, weights, 2)) {
            Tensor y = session.run(x);
            assertEquals(x.shape().dim(0), y.shape().dim(0));
            return y.data();
        }
    }

    private static double relativeError(float[] a, float[] ref) {
        double num = 0, den = 0;
        for (int i = 0; i < a.length; i++) {
            num += (a[i] - (double) ref[i]) * (a[i] - (double) ref[i]);
            den += (double) ref[i] * ref[i];
        }
        return Math.sqrt(num / den);
    }
}
