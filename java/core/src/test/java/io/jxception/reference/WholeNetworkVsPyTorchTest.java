package io.jxception.reference;

import io.jxception.internal.exec.ForwardSession;
import io.jxception.internal.backend.cpu.CpuBackend;
import io.jxception.internal.exec.TrainingSession;
import io.jxception.model.ParamSpec;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Npy;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;
import io.jxception.weights.XceptionWeights;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole reduced-width Xception ({@code XceptionConfig.tiny(71, 10)}) on the CPU reference against
 * the independent PyTorch implementation of {@code weights/fixtures/generate_net_fixture.py}: inference
 * probabilities, training-mode loss, the gradient of every trainable weight, and the moving statistics
 * after one training forward. Files are {@code weights/fixtures/net/<layer>__<weight>.npy}.
 */
class WholeNetworkVsPyTorchTest {
    private static final double TOLERANCE = 1e-4;
    private static final double MOVING_TOLERANCE = 1e-5;
    private static final int BATCH = 2;

    private final Fixture fixture = new Fixture(Path.of("weights", "fixtures", "net"));
    private final XceptionGraph graph = XceptionGraph.build(XceptionConfig.tiny(71, 10));

    @Test
    void inferenceProbabilitiesMatchPyTorch() {
        try (CpuBackend cpu = new CpuBackend(); ForwardSession session = new ForwardSession(cpu, weights(), BATCH)) {
            Tensor probs = session.run(tensor("input"));
            assertEquals(Shape.of(BATCH, 10), probs.shape());
            Fixture.assertClose("probs_inference", fixture.get("probs_inference"), doubles(probs), TOLERANCE);
        }
    }

    @Test
    void trainingLossGradientsAndMovingStatisticsMatchPyTorch() {
        XceptionWeights before = weights();
        double[] labelValues = fixture.get("labels");
        int[] labels = new int[labelValues.length];
        for (int i = 0; i < labels.length; i++) labels[i] = (int) labelValues[i];
        try (CpuBackend cpu = new CpuBackend(); TrainingSession session = new TrainingSession(cpu, before, BATCH)) {
            double loss = session.forwardBackward(tensor("input"), labels);
            Fixture.assertClose("loss_train", fixture.get("loss_train"), new double[]{loss}, TOLERANCE);
            Fixture.assertClose("probs_train", fixture.get("probs_train"), doubles(session.probabilities()), TOLERANCE);

            Map<String, Tensor> gradients = session.gradients();
            XceptionWeights after = session.weights();
            List<String> failures = new ArrayList<>();
            int trainable = 0, moving = 0;
            for (ParamSpec p : graph.params()) {
                String file = p.layer() + "__" + p.weight();
                if (p.trainable()) {
                    trainable++;
                    Tensor g = gradients.get(p.key());
                    if (g == null) failures.add(p.key() + ": no gradient");
                    else compare(failures, "grad " + p.key(), fixture.get("grad__" + file), doubles(g), TOLERANCE);
                    if (!Arrays.equals(before.get(p.key()).data(), after.get(p.key()).data())) {
                        failures.add(p.key() + ": forwardBackward changed a trainable weight (only sgdStep may)");
                    }
                } else {
                    moving++;
                    compare(failures, p.key() + " after one training forward", fixture.get("after_train__" + file), doubles(after.get(p.key())), MOVING_TOLERANCE);
                }
            }
            assertEquals(trainable, gradients.size(), "gradients() should hold exactly the trainable weights");
            assertTrue(moving > 0 && trainable > 0);
            assertTrue(failures.isEmpty(), failures.size() + " of " + (trainable + moving) + " tensors differ from PyTorch:\n" + String.join("\n", failures));
        }
    }

    /** Records a failure message instead of stopping at the first difference, so one run shows every bad tensor. */
    private static void compare(List<String> failures, String what, double[] expected, double[] actual, double tolerance) {
        try {
            Fixture.assertClose(what, expected, actual, tolerance);
        } catch (AssertionError e) {
            failures.add(e.getMessage());
        }
    }

    private XceptionWeights weights() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (ParamSpec p : graph.params()) m.put(p.key(), tensor(p.layer() + "__" + p.weight()));
        return new XceptionWeights(graph, m);
    }

    private Tensor tensor(String name) {
        try {
            return Npy.read(fixture.dir().resolve(name + ".npy"));
        } catch (IOException e) {
            throw new UncheckedIOException("fixture " + name + ": " + e.getMessage() + " (regenerate with /usr/bin/python3 weights/fixtures/generate_net_fixture.py)", e);
        }
    }

    private static double[] doubles(Tensor t) {
        double[] d = new double[t.size()];
        for (int i = 0; i < d.length; i++) d[i] = t.data()[i];
        return d;
    }
}
