package io.jxception.internal.backend.cuda;

import io.jxception.internal.exec.ForwardSession;
import io.jxception.backend.Precision;
import io.jxception.internal.backend.cpu.CpuBackend;
import io.jxception.internal.exec.TrainingSession;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;
import io.jxception.weights.XceptionWeights;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The whole network on CUDA through the executor (ForwardSession, TrainingSession) against the
 * CPU reference. Bounds on ||cuda - ref|| / ||ref|| of the softmax outputs, whole network: fp32 1e-4,
 * tf32 2e-2, bf16/fp16 5e-2 (rounding of ~36 layers' activations accumulates; per-op bounds are in
 * CudaOpsTest). One training step: loss within fp32 1e-4, tf32 1e-2, bf16/fp16 3e-2; gradients
 * as one vector within fp32 1e-5, tf32/fp16 0.15, bf16 0.5, kernels per tensor within fp32 1e-4,
 * tf32/fp16 0.3, bf16 0.8 (why, and the measured values: see oneTrainingStepMatchesReference).
 */
@Tag("gpu")
class CudaNetworkTest {
    @BeforeAll
    static void requireDevice() { CudaTestDevice.assumeAvailable(); }

    static double networkTolerance(Precision p) {
        return switch (p) {
            case FP32 -> 1e-4;
            case TF32 -> 2e-2;
            case BF16, FP16 -> 5e-2;
        };
    }

    static Tensor randomImages(Shape s, long seed) {
        Random r = new Random(seed);
        float[] v = new float[s.size()];
        for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextDouble() * 2 - 1);  // Keras 'tf' range [-1, 1]
        return new Tensor(s, v);
    }

    static double relError(float[] got, float[] ref) {
        double num = 0, den = 0;
        for (int i = 0; i < ref.length; i++) {
            if (!Float.isFinite(got[i])) return Double.POSITIVE_INFINITY;
            double d = got[i] - ref[i];
            num += d * d;
            den += (double) ref[i] * ref[i];
        }
        return Math.sqrt(num / Math.max(den, 1e-300));
    }

    static CudaBackend open(Precision p) { return (CudaBackend) new CudaBackendProvider().open(0, p); }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Precision.class)
    void reducedWidthForwardMatchesReference(Precision p) {
        XceptionGraph g = XceptionGraph.build(XceptionConfig.tiny(71, 10));
        XceptionWeights w = XceptionWeights.random(g, 11);
        int batch = 3;
        try (CpuBackend cpu = new CpuBackend(); ForwardSession ref = new ForwardSession(cpu, w, batch);
             CudaBackend cuda = open(p); ForwardSession s = new ForwardSession(cuda, w, batch)) {
            Tensor x = randomImages(s.inputShape(batch), 5);
            float[] want = ref.run(x).data();
            float[] got = s.run(x).data();
            double e = relError(got, want);
            assertTrue(e <= networkTolerance(p), p + ": relative error " + e);
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Precision.class, names = {"FP32", "BF16"})
    void fullSizeForwardMatchesReference(Precision p) {
        XceptionGraph g = XceptionGraph.build(XceptionConfig.imagenet());
        XceptionWeights w = XceptionWeights.random(g, 3);
        try (CpuBackend cpu = new CpuBackend(); ForwardSession ref = new ForwardSession(cpu, w, 1);
             CudaBackend cuda = open(p); ForwardSession s = new ForwardSession(cuda, w, 2)) {
            Tensor x = randomImages(s.inputShape(1), 9);
            float[] want = ref.run(x).data();
            float[] got = s.run(x).data();
            double e = relError(got, want);
            assertTrue(e <= networkTolerance(p), p + ": relative error " + e);
            assertEquals(1000, got.length);
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Precision.class)
    void sameInputTwiceGivesBitwiseIdenticalOutput(Precision p) {
        XceptionGraph g = XceptionGraph.build(XceptionConfig.tiny(99, 10));
        XceptionWeights w = XceptionWeights.random(g, 1);
        try (CudaBackend cuda = open(p); ForwardSession s = new ForwardSession(cuda, w, 4)) {
            Tensor x = randomImages(s.inputShape(4), 2);
            float[] a = s.run(x).data();
            float[] b = s.run(x).data();
            assertArrayEquals(a, b);
        }
    }

    @Test
    void thousandInferencesLeaveDeviceMemoryWhereItStarted() {
        XceptionGraph g = XceptionGraph.build(XceptionConfig.tiny(71, 10));
        XceptionWeights w = XceptionWeights.random(g, 1);
        try (CudaBackend cuda = open(Precision.BF16)) {
            long before;
            try (ForwardSession s = new ForwardSession(cuda, w, 2)) {
                Tensor x = randomImages(s.inputShape(2), 2);
                s.run(x);                              // sizes the backend's scratch once
                s.run(x);                              // records the forward as a CUDA graph
                before = cuda.memoryInfo()[0];
                for (int i = 0; i < 1000; i++) s.run(x);
                assertEquals(before, cuda.memoryInfo()[0], "free device memory after 1000 inferences");
            }
        }
    }

    /**
     * Every precision on the default kernels, and BF16/FP16 with the tensor-core pointwise backward
     * (cuda.pwbwd=mma, and =wgmma, which {@link #assumeRunnable} skips off compute capability 9.0).
     */
    static Stream<Arguments> trainingStepCases() {
        List<Arguments> out = new ArrayList<>();
        for (Precision p : Precision.values()) out.add(Arguments.of(p, PointwiseBackwardPath.Choice.FFMA));
        for (PointwiseBackwardPath.Choice c : new PointwiseBackwardPath.Choice[]{PointwiseBackwardPath.Choice.MMA, PointwiseBackwardPath.Choice.WGMMA}) {
            out.add(Arguments.of(Precision.BF16, c));
            out.add(Arguments.of(Precision.FP16, c));
        }
        return out.stream();
    }

    /** cuda.pwbwd=wgmma runs sm_90a kernels: its cases run on compute capability 9.0 only (other devices refuse it at open). */
    static void assumeRunnable(PointwiseBackwardPath.Choice pwbwd) {
        Assumptions.assumeTrue(pwbwd != PointwiseBackwardPath.Choice.WGMMA || CudaSeparableGemmTest.hopper(), "cuda.pwbwd=wgmma needs a compute capability 9.0 device");
    }

    /**
     * Images per training step of the reduced-width network: 4, and 8 with cuda.pwbwd=wgmma, the smallest
     * batch at which block14's separable convs (3 x 3 pixels, 64 -> 96 and 96 -> 128) have the 64 rows
     * pwgemm_wgmma needs (HopperPointwiseGemm.covers): at 4 every layer would keep the mma.sync dgrad.
     */
    static int trainingBatch(PointwiseBackwardPath.Choice pwbwd) { return pwbwd == PointwiseBackwardPath.Choice.WGMMA ? 8 : 4; }

    /**
     * One SGD step of the reduced-width network (channels 4 to 128: block2_sepconv2, block3 and block14's
     * separable convs have cin and cout in eights and take the mma path when chosen, the others keep
     * FFMA) against the CPU reference. The mma path is held to the same bounds: it adds only W2's
     * rounding to 16 bits in dd (pwbwd_v1's header), far below the BN-amplified errors described below.
     * So is wgmma (batch 8, {@link #trainingBatch}): its dd differs from mma's only by fp32 summation
     * order; the bounds below were measured at batch 4.
     */
    @ParameterizedTest(name = "{0} pwbwd={1}")
    @MethodSource("trainingStepCases")
    void oneTrainingStepMatchesReference(Precision p, PointwiseBackwardPath.Choice pwbwd) {
        assumeRunnable(pwbwd);
        XceptionGraph g = XceptionGraph.build(XceptionConfig.tiny(71, 10));
        XceptionWeights w = XceptionWeights.random(g, 21);
        int batch = trainingBatch(pwbwd);
        int[] labels = java.util.Arrays.copyOf(new int[]{3, 1, 4, 1, 5, 9, 2, 6}, batch);
        double lossTol = switch (p) { case FP32 -> 1e-4; case TF32 -> 1e-2; default -> 3e-2; };
        // Reduced precision loses much of the gradients' relative accuracy through training-mode BN:
        // its backward removes the batch mean and the x̂-projection of dy, so rounding errors in dy
        // are amplified layer after layer, and the ReLU masks of rounded activations differ. BN β/γ
        // gradients of layers followed by ReLU → conv → train-mode BN are near zero by structure (a
        // per-channel shift is cancelled by the next BN), so their relative error is unbounded and
        // they are held only through the whole vector. Measured on an H100 (2026-11-26, these seeds):
        // whole vector fp32 1.1e-6, tf32 0.100, bf16 0.359, fp16 0.097; worst kernel fp32 1.8e-6,
        // tf32 0.16, bf16 0.55, fp16 0.17; worst BN β fp32 7.3e-6, tf32 0.75, bf16 4.9, fp16 0.24.
        // FP32 is held per tensor. Per-op bounds (every backward alone) are in CudaOpsTest.
        double kernelTol = switch (p) { case FP32 -> 1e-4; case TF32, FP16 -> 0.3; default -> 0.8; };
        double otherTol = p == Precision.FP32 ? 1e-4 : Double.POSITIVE_INFINITY;
        double globalTol = switch (p) { case FP32 -> 1e-5; case TF32, FP16 -> 0.15; default -> 0.5; };
        try (CpuBackend cpu = new CpuBackend(); TrainingSession ref = new TrainingSession(cpu, w, batch);
             CudaBackend cuda = (CudaBackend) new CudaBackendProvider().open(0, p, CudaBackend.Options.DEFAULT.withPwbwd(pwbwd));
             TrainingSession s = new TrainingSession(cuda, w, batch)) {
            assertEquals(pwbwd == PointwiseBackwardPath.Choice.MMA, cuda.description().contains("mma pointwise backward"), cuda.description());
            assertEquals(pwbwd == PointwiseBackwardPath.Choice.WGMMA, cuda.description().contains("pointwise backward wgmma dgrad"), cuda.description());
            Tensor x = randomImages(Shape.of(batch, 71, 71, 3), 8);
            double lossRef = ref.forwardBackward(x, labels);
            double loss = s.forwardBackward(x, labels);
            assertTrue(Math.abs(loss - lossRef) <= lossTol * Math.abs(lossRef), p + ": loss " + loss + " vs " + lossRef);
            Map<String, Tensor> gr = ref.gradients(), gc = s.gradients();
            double num = 0, den = 0, worst = 0;
            String worstKey = "";
            StringBuilder report = new StringBuilder(p + " pwbwd=" + pwbwd + " training-step gradient errors (relative, per tensor):");
            for (Map.Entry<String, Tensor> e : gr.entrySet()) {
                float[] a = gc.get(e.getKey()).data(), r = e.getValue().data();
                double err = relError(a, r);
                report.append(String.format(java.util.Locale.ROOT, "%n  %-40s %.3e", e.getKey(), err));
                for (int i = 0; i < r.length; i++) {
                    double d = (double) a[i] - r[i];
                    num += d * d;
                    den += (double) r[i] * r[i];
                }
                double tol = e.getKey().endsWith("kernel") ? kernelTol : otherTol;
                if (!(err / tol <= worst)) { worst = err / tol; worstKey = e.getKey() + " (" + err + ", bound " + tol + ")"; }
            }
            double global = Math.sqrt(num / den);
            System.out.println(report);
            System.out.printf(java.util.Locale.ROOT, "%s training-step gradient: whole-vector relative error %.3e, worst tensor against its bound %s%n", p, global, worstKey);
            assertTrue(global <= globalTol, p + ": whole gradient vector has relative error " + global + " > " + globalTol);
            assertTrue(worst <= 1, p + ": gradient of " + worstKey);
            ref.sgdStep(0.01f, 0.9f, 1e-4f);
            s.sgdStep(0.01f, 0.9f, 1e-4f);
            double loss2Ref = ref.forwardBackward(x, labels);
            double loss2 = s.forwardBackward(x, labels);
            assertTrue(Double.isFinite(loss2));
            assertTrue(Math.abs(loss2 - loss2Ref) <= 2 * lossTol * Math.abs(loss2Ref) + 1e-6, p + ": loss after a step " + loss2 + " vs " + loss2Ref);
        }
    }

    /**
     * A training session replays its forward and backward passes as a CUDA graph from the second step
     * of a loss scale on (TrainingSession's recording) and the optimizer is one launch each for SGD and
     * unscale (CudaBackend.weightUpdate): after four steps on fresh batches, losses, weights and momentum
     * equal those of a session that enqueues every launch from the host, bit for bit, in every precision
     * and with either pointwise backward path. FP16 runs with loss scaling (2^10) and its unscale.
     */
    @ParameterizedTest(name = "{0} pwbwd={1}")
    @MethodSource("trainingStepCases")
    void replayedTrainingStepsEqualEagerStepsBitwise(Precision p, PointwiseBackwardPath.Choice pwbwd) {
        assumeRunnable(pwbwd);
        XceptionGraph g = XceptionGraph.build(XceptionConfig.tiny(71, 10));
        XceptionWeights w = XceptionWeights.random(g, 23);
        int batch = trainingBatch(pwbwd), steps = 4;
        float scale = p == Precision.FP16 ? 0x1p10f : 1f;
        try (CudaBackend cuda = (CudaBackend) new CudaBackendProvider().open(0, p, CudaBackend.Options.DEFAULT.withPwbwd(pwbwd));
             TrainingSession eager = new TrainingSession(cuda, w, batch, java.util.Set.of(), false);
             TrainingSession replay = new TrainingSession(cuda, w, batch, java.util.Set.of(), true)) {
            assertTrue(replay.replaysLaunches());
            Random r = new Random();
            for (int step = 0; step < steps; step++) {
                Tensor x = randomImages(Shape.of(batch, 71, 71, 3), r.nextLong());
                int[] labels = r.ints(batch, 0, 10).toArray();
                double le = eager.forwardBackward(x, labels, scale), lr = replay.forwardBackward(x, labels, scale);
                assertEquals(le, lr, p + " step " + (step + 1) + ": loss");
                assertEquals(-1, eager.replayedLaunches());
                if (step == 0) assertEquals(-1, replay.replayedLaunches(), "the first step runs eagerly");
                else assertTrue(replay.replayedLaunches() > 100, "step " + (step + 1) + " replays the graph: " + replay.replayedLaunches());
                if (scale != 1f) {
                    assertTrue(eager.unscaleGradients(scale));
                    assertTrue(replay.unscaleGradients(scale));
                }
                eager.sgdStep(0.02f, 0.9f, 1e-4f);
                replay.sgdStep(0.02f, 0.9f, 1e-4f);
            }
            Map<String, Tensor> we = eager.weights().asMap(), wr = replay.weights().asMap();
            for (String k : we.keySet()) assertArrayEquals(we.get(k).data(), wr.get(k).data(), p + " weight " + k);
            Map<String, Tensor> ve = eager.velocities(), vr = replay.velocities();
            for (String k : ve.keySet()) assertArrayEquals(ve.get(k).data(), vr.get(k).data(), p + " momentum " + k);
            assertTrue(ve.values().stream().anyMatch(t -> t.data()[0] != 0f), "the steps moved the momentum");
        }
    }
}
