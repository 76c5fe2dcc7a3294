package io.jxception.train;

import io.jxception.internal.backend.BackendProviders;
import io.jxception.internal.backend.KernelBackend;
import io.jxception.internal.backend.BackendProvider;
import io.jxception.backend.Backends;
import io.jxception.backend.Precision;
import io.jxception.tensor.Tensor;
import io.jxception.weights.XceptionWeights;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Shared settings and checks of the trainer tests. */
final class Runs {
    static final Path MNIST_TRAIN = Path.of("weights/fixtures/mnist/train");
    static final Path MNIST_VAL = Path.of("weights/fixtures/mnist/val");

    private Runs() {}

    /**
     * A small, fast run for mechanics tests: the 200 MNIST validation images as training data,
     * Xception 71×71 at width 1/16 with one middle block, batch 8 (25 steps per epoch).
     */
    static TrainOptions.Builder small(Path out) {
        return TrainOptions.builder(MNIST_VAL, out).inputSize(71).widthMultiplier(1.0 / 16).middleRepeats(1)
                .batchSize(8).epochs(2).learningRate(new LearningRateSchedule.Cosine(0.02, 0, 0)).seed(3)
                .loaderThreads(1).prefetchBatches(2);
    }

    /** Runs the trainer on the CPU reference, progress captured (returned in {@code log}). */
    static Trainer.Result train(TrainOptions options, StringBuilder log) throws IOException {
        return train("cpu", options, log);
    }

    /** Runs the trainer on the named backend (fp32), progress captured (returned in {@code log}). */
    static Trainer.Result train(String backend, TrainOptions options, StringBuilder log) throws IOException {
        StringBuilder text = new StringBuilder();
        TrainingListener messages = new TrainingListener() {
            @Override public void message(String line) { text.append(line).append('\n'); }
            @Override public void epochEnded(EpochRecord record, String summary) { message(summary); }
            @Override public void epochStopped(String why) { message(why); }
        };
        try (KernelBackend b = KernelBackend.open(backend, Precision.FP32)) {
            return new Trainer(b, options).listener(messages).run();
        } finally {
            if (log != null) log.append(text);
        }
    }

    /** Kinds other than cpu that are available here ("opencl", "cuda"); each is opened as kind:0. */
    static List<String> otherAvailableBackends() {
        List<String> out = new ArrayList<>();
        for (BackendProvider p : BackendProviders.all()) {
            if (!p.kind().equals("cpu") && p.probe().available()) out.add(p.kind());
        }
        return out;
    }

    static void assertBitwiseEqual(XceptionWeights want, XceptionWeights got) {
        assertBitwiseEqual(want.asMap(), got.asMap(), "weight");
    }

    static void assertBitwiseEqual(Map<String, Tensor> want, Map<String, Tensor> got, String what) {
        assertEquals(want.keySet(), got.keySet());
        for (Map.Entry<String, Tensor> e : want.entrySet()) {
            float[] a = e.getValue().data(), b = got.get(e.getKey()).data();
            if (!Arrays.equals(a, b)) {
                int i = Arrays.mismatch(a, b);
                fail(what + " " + e.getKey() + " differs at " + i + ": " + a[i] + " vs " + b[i]);
            }
        }
    }

    /** max |a−b| / max(max |a|, tiny) over every tensor. */
    static double maxRelativeDifference(Map<String, Tensor> want, Map<String, Tensor> got) {
        double worst = 0;
        for (Map.Entry<String, Tensor> e : want.entrySet()) {
            float[] a = e.getValue().data(), b = got.get(e.getKey()).data();
            double scale = 1e-30, diff = 0;
            for (int i = 0; i < a.length; i++) {
                scale = Math.max(scale, Math.abs(a[i]));
                diff = Math.max(diff, Math.abs((double) a[i] - b[i]));
            }
            worst = Math.max(worst, diff / scale);
        }
        return worst;
    }
}
