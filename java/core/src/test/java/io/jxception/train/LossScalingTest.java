package io.jxception.train;

import io.jxception.internal.backend.KernelBackend;
import io.jxception.internal.train.Batch;
import io.jxception.internal.train.BatchLoader;
import io.jxception.internal.train.Checkpoint;
import io.jxception.internal.train.EpochPlan;
import io.jxception.internal.train.ImageFolder;
import io.jxception.internal.train.KerasInit;
import io.jxception.internal.train.LossScaler;
import io.jxception.backend.Backends;
import io.jxception.backend.Precision;
import io.jxception.internal.exec.TrainingSession;
import io.jxception.model.Pooling;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Tensor;
import io.jxception.weights.XceptionWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The fp16 loss-scaling path, exercised on the CPU reference and every other available backend
 * (OpenCL here): scaling by a power of two and unscaling on the device gives the unscaled gradients
 * and step, and a scale so large that gradients overflow is detected, the step skipped and the
 * scale halved. CUDA's fp16/bf16 cases are in CudaLossScalingTest (gpu).
 */
class LossScalingTest {
    static final XceptionGraph GRAPH = XceptionGraph.build(new XceptionConfig(71, 71, 10, true, Pooling.NONE, 1.0 / 16, 1));

    private static Batch firstBatch() throws IOException {
        ImageFolder val = ImageFolder.scan(Runs.MNIST_VAL);
        EpochPlan plan = EpochPlan.draw(0, 3, val.examples().size(), 8);
        try (BatchLoader loader = new BatchLoader(71, 71, 1, 1)) {
            return loader.load(val.examples(), plan.batch(0), plan.batchSeeds()[0], Augmentation.NONE, 0);
        }
    }

    /** "cpu" and every other backend available here, each opened as kind:0 in fp32. */
    static List<String> backends() {
        List<String> out = new ArrayList<>(List.of("cpu"));
        out.addAll(Runs.otherAvailableBackends());
        return out;
    }

    /**
     * Scaling d loss / d logits by a power of two and unscaling on the device commutes with every
     * rounding of a linear backward pass (no value here comes near fp32's overflow or subnormals):
     * the reference gives bitwise the unscaled gradients and step; a device backend within 1e-6.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void scaledThenUnscaledStepEqualsTheUnscaledStep(String kind) throws IOException {
        Batch b = firstBatch();
        XceptionWeights w = KerasInit.fresh(GRAPH, 1);
        try (KernelBackend backend = KernelBackend.open(kind, Precision.FP32);
             TrainingSession plain = new TrainingSession(backend, w, 8);
             TrainingSession scaled = new TrainingSession(backend, w, 8)) {
            double loss = plain.forwardBackward(b.images(), b.labels());
            double scaledLoss = scaled.forwardBackward(b.images(), b.labels(), 1024f);
            assertEquals(loss, scaledLoss, 0, "the reported loss is unscaled");
            assertTrue(scaled.unscaleGradients(1024f));
            Map<String, Tensor> want = plain.gradients(), got = scaled.gradients();
            plain.sgdStep(0.05f, 0.9f, 1e-4f);
            scaled.sgdStep(0.05f, 0.9f, 1e-4f);
            if (kind.equals("cpu")) {
                Runs.assertBitwiseEqual(want, got, "gradient");
                Runs.assertBitwiseEqual(plain.weights(), scaled.weights());
            } else {
                double grads = Runs.maxRelativeDifference(want, got);
                double weights = Runs.maxRelativeDifference(plain.weights().asMap(), scaled.weights().asMap());
                System.out.printf("%s: loss-scaled vs plain step: gradients %.2e, weights %.2e relative%n", kind, grads, weights);
                assertTrue(grads <= 1e-6, kind + ": scaled/unscaled gradients differ by " + grads + " relative");
                assertTrue(weights <= 1e-6, kind + ": weights after the step differ by " + weights + " relative");
            }
        }
    }

    /**
     * Fp32 overflows only above 3.4e38, so the test makes gradients large: a classifier kernel 1e4
     * times Keras' initial one gives gradients above 2, which the largest power-of-two scale (2^127)
     * pushes past fp32's range — as fp16's 65504 is passed with ordinary gradients and scales.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void overflowingScaleIsDetectedAndTheStepSkipped(String kind) throws IOException {
        Batch b = firstBatch();
        Map<String, Tensor> m = new java.util.LinkedHashMap<>(KerasInit.fresh(GRAPH, 1).asMap());
        Tensor k = m.get("predictions/kernel").copy();
        for (int i = 0; i < k.size(); i++) k.data()[i] *= 1e4f;
        m.put("predictions/kernel", k);
        XceptionWeights w = new XceptionWeights(GRAPH, m);
        LossScaler scaler = LossScaler.dynamic(0x1p127f, 2000);
        try (KernelBackend backend = KernelBackend.open(kind, Precision.FP32); TrainingSession s = new TrainingSession(backend, w, 8)) {
            float used = scaler.scale();
            s.forwardBackward(b.images(), b.labels(), used);
            boolean finite = s.unscaleGradients(used);
            assertFalse(finite, "gradients of 2^127 × loss overflow fp32");
            assertFalse(scaler.update(finite), "the step is skipped");
            assertEquals(0x1p126f, scaler.scale());
            // trainable weights untouched; moving statistics did update in the forward pass, as in PyTorch's GradScaler
            XceptionWeights after = s.weights();
            for (var p : GRAPH.params()) {
                if (p.trainable()) assertArrayEquals(w.get(p.key()).data(), after.get(p.key()).data(), p.key());
            }
            // a later check starts from a cleared flag: the same batch at scale 1 is finite
            s.forwardBackward(b.images(), b.labels(), 1f);
            assertTrue(s.unscaleGradients(1f), "the flag is cleared at the start of every check");
        }
    }

    /** The trainer with dynamic scaling on fp32 (scale 65536, no overflow) trains as without it. */
    @Test
    void trainerWithDynamicScalingMatchesUnscaledTraining(@TempDir Path tmp) throws IOException {
        TrainOptions.Builder b = Runs.small(tmp.resolve("none")).maxSteps(10).checkpointEvery(0);
        Trainer.Result none = Runs.train(b.build(), null);
        Trainer.Result dynamic = Runs.train(b.outputDir(tmp.resolve("dynamic")).lossScaling(TrainOptions.LossScaling.DYNAMIC).build(), null);
        double rel = Runs.maxRelativeDifference(none.weights().asMap(), dynamic.weights().asMap());
        assertTrue(rel < 1e-4, "weights after 10 steps differ by " + rel + " relative");
        Checkpoint c = Checkpoint.read(tmp.resolve("dynamic").resolve(Trainer.CHECKPOINT), none.weights().graph());
        assertEquals(LossScaler.INITIAL_SCALE, c.state().lossScale().scale(), "no overflow, no growth within 2000 steps");
        assertEquals(10, c.state().lossScale().goodSteps());
        assertEquals(0, c.state().lossScale().skippedSteps());
    }
}
