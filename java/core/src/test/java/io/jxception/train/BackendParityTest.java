package io.jxception.train;

import io.jxception.internal.train.KerasInit;
import io.jxception.model.ParamSpec;
import io.jxception.tensor.Tensor;
import io.jxception.weights.XceptionWeights;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * One training step (forward in training mode, backward, SGD with momentum and weight decay, moving
 * statistics) through the whole {@link Trainer} on every available backend gives the CPU
 * reference's weights: fp32 within 1e-5 relative to each tensor's largest value, and the update
 * itself (w1 − w0, i.e. lr·gradient) within 1e-3 of its largest value.
 */
class BackendParityTest {
    static final double WEIGHTS_BOUND = 1e-5, UPDATE_BOUND = 1e-3;

    @Test
    void oneTrainingStepOnEveryBackendMatchesTheCpuReference(@TempDir Path tmp) throws IOException {
        List<String> others = Runs.otherAvailableBackends();
        Assumptions.assumeFalse(others.isEmpty(), "no backend besides cpu is available here");
        TrainOptions.Builder b = Runs.small(tmp.resolve("cpu")).maxSteps(1).checkpointEvery(0).weightDecay(1e-3);
        Trainer.Result want = Runs.train(b.build(), null);
        XceptionWeights initial = KerasInit.fresh(want.weights().graph(), b.build().seed());
        StringBuilder report = new StringBuilder();
        for (String kind : others) {
            Trainer.Result got = Runs.train(kind, b.outputDir(tmp.resolve(kind)).build(), null);
            double weights = Runs.maxRelativeDifference(want.weights().asMap(), got.weights().asMap());
            double update = Runs.maxRelativeDifference(updates(initial, want.weights()), updates(initial, got.weights()));
            report.append(String.format("%s: weights %.2e, update %.2e relative; ", kind, weights, update));
            assertTrue(weights < WEIGHTS_BOUND, kind + " weights after one step differ by " + weights + " relative");
            assertTrue(update < UPDATE_BOUND, kind + " weight updates differ by " + update + " relative");
            assertEquals(want.history().isEmpty(), got.history().isEmpty());
        }
        System.out.println("one-step parity: " + report);
    }

    /** w1 − w0 of every weight that changes in one step (trainable weights and moving statistics). */
    private static Map<String, Tensor> updates(XceptionWeights w0, XceptionWeights w1) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (ParamSpec p : w0.graph().params()) {
            float[] a = w0.get(p.key()).data(), c = w1.get(p.key()).data(), d = new float[a.length];
            for (int i = 0; i < a.length; i++) d[i] = c[i] - a[i];
            out.put(p.key(), new Tensor(p.shape(), d));
        }
        return out;
    }
}
