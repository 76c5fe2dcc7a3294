package io.jxception.internal.backend.opencl;

import io.jxception.internal.exec.ForwardSession;
import io.jxception.internal.backend.cpu.CpuBackend;
import io.jxception.internal.exec.TrainingSession;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Tensor;
import io.jxception.weights.XceptionWeights;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole Xception (width 1/16, all 36 convs and 8 middle blocks) on OpenCL against the CPU
 * reference through the executor: the inference forward at 71x71 and 299x299, and one training step
 * (forward in training mode, backward, SGD) at 71x71. Batch 2, random weights and inputs.
 */
class OpenClNetworkTest {
    /** fp32 through ~40 fused layers against float64. */
    static final double FORWARD_TOLERANCE = 1e-5;
    /**
     * Gradients pass back through 36 batch norms in training mode, each dividing by a batch standard
     * deviation of a batch of 2 small images; measured worst 4.7e-6 (a batch-norm beta) on pocl.
     */
    static final double GRADIENT_TOLERANCE = 2e-5;

    private static OpenClBackend cl;
    private static CpuBackend cpu;

    @BeforeAll
    static void open() {
        cl = OpenClTestSupport.open();
        cpu = new CpuBackend(2);
    }

    @AfterAll
    static void close() {
        if (cl != null) cl.close();
        if (cpu != null) cpu.close();
    }

    static Tensor randomImages(XceptionGraph graph, int n, long seed) {
        Random rnd = new Random(seed);
        int h = graph.input().h(), w = graph.input().w();
        float[] v = new float[n * h * w * 3];
        for (int i = 0; i < v.length; i++) v[i] = rnd.nextFloat() * 2 - 1;
        return new Tensor(io.jxception.tensor.Shape.of(n, h, w, 3), v);
    }

    @ParameterizedTest(name = "{0}x{0}")
    @ValueSource(ints = {71, 299})
    void tinyXceptionForwardMatchesReference(int size) {
        XceptionGraph graph = XceptionGraph.build(XceptionConfig.tiny(size, 10));
        XceptionWeights weights = XceptionWeights.random(graph, 5);
        Tensor input = randomImages(graph, 2, 9);
        Tensor ref, got;
        try (ForwardSession s = new ForwardSession(cpu, weights, 2)) {
            ref = s.run(input);
        }
        try (ForwardSession s = new ForwardSession(cl, weights, 2)) {
            got = s.run(input);
        }
        assertEquals(ref.shape(), got.shape());
        double err = Twin.relativeError(ref.data(), got.data(), "forward " + size);
        assertTrue(err < FORWARD_TOLERANCE, "tiny Xception " + size + "x" + size + " forward: relative error " + err);
    }

    @Test
    void tinyXceptionFeatureExtractorMatchesReference() {
        XceptionGraph graph = XceptionGraph.build(XceptionConfig.tiny(71, 10).withoutTop(io.jxception.model.Pooling.MAX));
        XceptionWeights weights = XceptionWeights.random(graph, 6);
        Tensor input = randomImages(graph, 2, 10);
        Tensor ref, got;
        try (ForwardSession s = new ForwardSession(cpu, weights, 2)) {
            ref = s.run(input);
        }
        try (ForwardSession s = new ForwardSession(cl, weights, 2)) {
            got = s.run(input);
        }
        double err = Twin.relativeError(ref.data(), got.data(), "features");
        assertTrue(err < FORWARD_TOLERANCE, "max-pooled features: relative error " + err);
    }

    @Test
    void oneTrainingStepMatchesReference() {
        XceptionGraph graph = XceptionGraph.build(XceptionConfig.tiny(71, 10));
        XceptionWeights weights = XceptionWeights.random(graph, 12);
        Tensor input = randomImages(graph, 2, 13);
        int[] labels = {3, 7};
        try (TrainingSession ref = new TrainingSession(cpu, weights, 2);
             TrainingSession got = new TrainingSession(cl, weights, 2)) {
            double refLoss = ref.forwardBackward(input, labels);
            double gotLoss = got.forwardBackward(input, labels);
            assertEquals(refLoss, gotLoss, 1e-5 * Math.abs(refLoss), "loss");

            Map<String, Tensor> refGrads = ref.gradients(), gotGrads = got.gradients();
            assertEquals(refGrads.keySet(), gotGrads.keySet());
            double worst = 0;
            String worstKey = null;
            for (String key : refGrads.keySet()) {
                double err = Twin.relativeError(refGrads.get(key).data(), gotGrads.get(key).data(), "gradient " + key);
                if (err > worst) {
                    worst = err;
                    worstKey = key;
                }
            }
            System.out.printf("training step: loss %.6f vs %.6f, worst gradient %s relative error %.2e%n", refLoss, gotLoss, worstKey, worst);
            assertTrue(worst < GRADIENT_TOLERANCE, "gradient " + worstKey + ": relative error " + worst);

            ref.sgdStep(0.05f, 0.9f, 1e-4f);
            got.sgdStep(0.05f, 0.9f, 1e-4f);
            Map<String, Tensor> refW = ref.weights().asMap(), gotW = got.weights().asMap();
            for (String key : refW.keySet()) {
                double err = Twin.relativeError(refW.get(key).data(), gotW.get(key).data(), "updated " + key);
                assertTrue(err < FORWARD_TOLERANCE, "updated weight " + key + ": relative error " + err);
            }
        }
    }
}
