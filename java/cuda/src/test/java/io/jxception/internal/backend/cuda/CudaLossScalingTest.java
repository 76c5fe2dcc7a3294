package io.jxception.internal.backend.cuda;

import io.jxception.backend.Precision;
import io.jxception.internal.backend.cpu.CpuBackend;
import io.jxception.internal.exec.TrainingSession;
import io.jxception.model.Node;
import io.jxception.model.ParamSpec;
import io.jxception.model.Value;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;
import io.jxception.internal.train.LossScaler;
import io.jxception.weights.XceptionWeights;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Mixed-precision training on CUDA with dynamic loss scaling (fp32 master weights and weight
 * gradients, bf16/fp16 activations and activation gradients; the scale enters d loss / d logits in
 * the head kernel and leaves in unscale_gradient_f32, which flags Inf/NaN for one 4-byte read):
 * <ul>
 *   <li>one scaled step at BF16 and FP16 matches the float64 CPU reference within the bounds of
 *       {@link CudaNetworkTest#oneTrainingStepMatchesReference} (whole gradient vector fp16 0.15,
 *       bf16 0.5; kernels per tensor fp16 0.3, bf16 0.8);</li>
 *   <li>fp16 gradients that underflow to exactly zero without scaling survive with it;</li>
 *   <li>an overflowing scale is detected on the device, the step skipped, the weights unchanged.</li>
 * </ul>
 */
@Tag("gpu")
class CudaLossScalingTest {
    static final int BATCH = 4;
    static final int[] LABELS = {3, 1, 4, 1};
    static final XceptionGraph GRAPH = XceptionGraph.build(XceptionConfig.tiny(71, 10));

    @BeforeAll
    static void requireDevice() { CudaTestDevice.assumeAvailable(); }

    static Tensor images() { return CudaNetworkTest.randomImages(Shape.of(BATCH, 71, 71, 3), 8); }

    static double globalTolerance(Precision p) { return p == Precision.BF16 ? 0.5 : 0.15; }

    static double kernelTolerance(Precision p) { return p == Precision.BF16 ? 0.8 : 0.3; }

    /**
     * The trainer's policy (Trainer.run): backward at the scaler's scale, unscale and check on the
     * device, halve and retry while the gradients overflow. Returns the scale that gave finite ones.
     */
    static float backwardWithDynamicScaling(TrainingSession s, Tensor x, LossScaler scaler) {
        for (int tries = 0; tries < 80; tries++) {
            float scale = scaler.scale();
            s.forwardBackward(x, LABELS, scale);
            if (scaler.update(s.unscaleGradients(scale))) return scale;
        }
        fail("gradients overflowed at every scale down to " + scaler.scale());
        return 0;
    }

    /** Whole-vector relative error of {@code got} against {@code ref}, and every kernel's against its bound. */
    static double compareGradients(Precision p, Map<String, Tensor> ref, Map<String, Tensor> got, String what) {
        double num = 0, den = 0;
        StringBuilder worst = new StringBuilder();
        for (Map.Entry<String, Tensor> e : ref.entrySet()) {
            float[] r = e.getValue().data(), a = got.get(e.getKey()).data();
            double err = CudaNetworkTest.relError(a, r);
            if (e.getKey().endsWith("kernel") && !(err <= kernelTolerance(p))) {
                worst.append(String.format(Locale.ROOT, " %s %.3e;", e.getKey(), err));
            }
            for (int i = 0; i < r.length; i++) {
                double d = (double) a[i] - r[i];
                num += d * d;
                den += (double) r[i] * r[i];
            }
        }
        double global = Math.sqrt(num / den);
        System.out.printf(Locale.ROOT, "%s %s: whole gradient vector relative error %.3e%n", p, what, global);
        assertTrue(global <= globalTolerance(p), p + " " + what + ": whole gradient vector has relative error " + global + " > " + globalTolerance(p));
        assertTrue(worst.length() == 0, p + " " + what + ": kernels over " + kernelTolerance(p) + ":" + worst);
        return global;
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Precision.class, names = {"BF16", "FP16"})
    void oneDynamicallyScaledStepMatchesReference(Precision p) {
        XceptionWeights w = XceptionWeights.random(GRAPH, 21);
        Tensor x = images();
        LossScaler scaler = LossScaler.dynamic(LossScaler.INITIAL_SCALE, LossScaler.GROWTH_INTERVAL);
        try (CpuBackend cpu = new CpuBackend(); TrainingSession ref = new TrainingSession(cpu, w, BATCH);
             CudaBackend cuda = CudaNetworkTest.open(p); TrainingSession s = new TrainingSession(cuda, w, BATCH)) {
            double lossRef = ref.forwardBackward(x, LABELS);
            float used = backwardWithDynamicScaling(s, x, scaler);
            System.out.printf(Locale.ROOT, "%s: loss scale %s after %d skipped steps%n", p, used, scaler.skippedSteps());
            compareGradients(p, ref.gradients(), s.gradients(), "loss-scaled step (scale " + used + ")");
            ref.sgdStep(0.01f, 0.9f, 1e-4f);
            s.sgdStep(0.01f, 0.9f, 1e-4f);
            double updateErr = CudaNetworkTest.relError(flatUpdates(w, s.weights()), flatUpdates(w, ref.weights()));
            assertTrue(updateErr <= globalTolerance(p), p + ": weight updates differ by " + updateErr + " relative");
            double loss2Ref = ref.forwardBackward(x, LABELS);
            double loss2 = s.forwardBackward(x, LABELS, used);
            assertTrue(Math.abs(loss2 - loss2Ref) <= 6e-2 * Math.abs(loss2Ref) + 1e-6, p + ": loss after a step " + loss2 + " vs " + loss2Ref
                    + " (before: reference " + lossRef + ")");
        }
    }

    /**
     * The classifier kernel is shrunk until |dX| = |dlogits · kernel| / HW ≤ 2^-26 for every element
     * (a bound from Σ_j |dlogits_j| ≤ 2/n), below half fp16's smallest subnormal 2^-24: stored in fp16
     * every gradient below the head is exactly zero. With the loss scaled (dynamically, from 2^40
     * down), the same step matches the reference within the fp16 bounds.
     */
    @Test
    void fp16GradientsThatUnderflowWithoutScalingSurviveWithIt() {
        XceptionWeights base = XceptionWeights.random(GRAPH, 21);
        Node.Head head = (Node.Head) GRAPH.nodes().get(GRAPH.nodes().size() - 1);
        Value in = GRAPH.values().get(head.input());
        String kernelKey = head.name() + "/kernel";
        Tensor k = base.get(kernelKey);
        int classes = head.classes();
        double maxRowAbsSum = 0;
        for (int c = 0; c < k.size() / classes; c++) {
            double sum = 0;
            for (int j = 0; j < classes; j++) sum += Math.abs(k.data()[c * classes + j]);
            maxRowAbsSum = Math.max(maxRowAbsSum, sum);
        }
        double shrink = 0x1p-26 * in.h() * in.w() / ((2.0 / BATCH) * maxRowAbsSum);
        Map<String, Tensor> m = new LinkedHashMap<>(base.asMap());
        Tensor small = k.copy();
        for (int i = 0; i < small.size(); i++) small.data()[i] = (float) (small.data()[i] * shrink);
        m.put(kernelKey, small);
        XceptionWeights w = new XceptionWeights(GRAPH, m);
        Tensor x = images();
        String deepest = "block1_conv1/kernel";
        try (CpuBackend cpu = new CpuBackend(); TrainingSession ref = new TrainingSession(cpu, w, BATCH);
             CudaBackend cuda = CudaNetworkTest.open(Precision.FP16); TrainingSession s = new TrainingSession(cuda, w, BATCH)) {
            ref.forwardBackward(x, LABELS);
            Map<String, Tensor> want = ref.gradients();
            assertTrue(maxAbs(want.get(deepest)) > 0, "the reference gradient of " + deepest + " is not zero");

            s.forwardBackward(x, LABELS);
            Map<String, Tensor> unscaled = s.gradients();
            for (Map.Entry<String, Tensor> e : unscaled.entrySet()) {
                if (e.getKey().startsWith(head.name() + "/")) continue;
                assertEquals(0.0, maxAbs(e.getValue()), "without loss scaling the fp16 gradient of " + e.getKey() + " underflows to zero");
            }

            LossScaler scaler = LossScaler.dynamic(0x1p40f, LossScaler.GROWTH_INTERVAL);
            float used = backwardWithDynamicScaling(s, x, scaler);
            System.out.printf(Locale.ROOT, "FP16 underflow case: shrink %.3e, loss scale %s%n", shrink, used);
            Map<String, Tensor> scaled = s.gradients();
            assertTrue(maxAbs(scaled.get(deepest)) > 0, "with loss scale " + used + " the gradient of " + deepest + " survives");
            compareGradients(Precision.FP16, want, scaled, "underflow case with loss scale " + used);
        }
    }

    /**
     * At 2^40 the head's fp16 dX overflows 65504 (it is about |dlogits · kernel| · 2^40 / HW): the
     * Inf/NaN reaches the fp32 weight gradients, the device flag reports it, the step is skipped and
     * no trainable weight moves. bf16 has fp32's exponent range: the same scale is finite there.
     */
    @Test
    void overflowIsDetectedOnTheDeviceAndTheStepSkipped() {
        XceptionWeights w = XceptionWeights.random(GRAPH, 21);
        Tensor x = images();
        try (CudaBackend cuda = CudaNetworkTest.open(Precision.FP16); TrainingSession s = new TrainingSession(cuda, w, BATCH)) {
            LossScaler scaler = LossScaler.dynamic(0x1p40f, LossScaler.GROWTH_INTERVAL);
            s.forwardBackward(x, LABELS, scaler.scale());
            boolean finite = s.unscaleGradients(scaler.scale());
            assertFalse(finite, "fp16 gradients of 2^40 × loss overflow");
            assertFalse(scaler.update(finite), "the step is skipped");
            assertEquals(0x1p39f, scaler.scale());
            XceptionWeights after = s.weights();
            for (ParamSpec p : GRAPH.params()) {
                if (p.trainable()) assertArrayEquals(w.get(p.key()).data(), after.get(p.key()).data(), p.key() + " moved in a skipped step");
            }
            s.forwardBackward(x, LABELS, 1f);
            assertTrue(s.unscaleGradients(1f), "the flag is cleared for the next check: scale 1 is finite");
        }
        try (CudaBackend cuda = CudaNetworkTest.open(Precision.BF16); TrainingSession s = new TrainingSession(cuda, w, BATCH)) {
            s.forwardBackward(x, LABELS, 0x1p40f);
            assertTrue(s.unscaleGradients(0x1p40f), "bf16 gradients of 2^40 × loss are finite (fp32's exponent range)");
        }
    }

    static double maxAbs(Tensor t) {
        double m = 0;
        for (float v : t.data()) m = Math.max(m, Math.abs(v));
        return m;
    }

    /** w1 − w0 of every trainable weight, concatenated. */
    static float[] flatUpdates(XceptionWeights w0, XceptionWeights w1) {
        int n = 0;
        for (ParamSpec p : GRAPH.params()) if (p.trainable()) n += p.shape().size();
        float[] out = new float[n];
        int o = 0;
        for (ParamSpec p : GRAPH.params()) {
            if (!p.trainable()) continue;
            float[] a = w0.get(p.key()).data(), b = w1.get(p.key()).data();
            for (int i = 0; i < a.length; i++) out[o++] = b[i] - a[i];
        }
        return out;
    }
}
