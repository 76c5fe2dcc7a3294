package io.jxception.exec;

import io.jxception.internal.exec.TrainingSession;
import io.jxception.internal.backend.cpu.CpuBackend;
import io.jxception.model.ParamSpec;
import io.jxception.model.Pooling;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Tensor;
import io.jxception.weights.XceptionWeights;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The executor's backward pass through a whole small Xception (every node kind, residual forks,
 * training-mode BN) against central finite differences of the loss, all in float64 on the reference.
 */
class WholeNetworkGradientCheckTest {
    @Test
    void gradientsOfEveryWeightTensorMatchFiniteDifferences() {
        XceptionConfig cfg = new XceptionConfig(71, 71, 5, true, Pooling.NONE, 1.0 / 16, 1);
        XceptionGraph g = XceptionGraph.build(cfg);
        XceptionWeights w = XceptionWeights.random(g, 11);
        Random rnd = new Random(5);
        int batch = 2;
        float[] x = new float[batch * 71 * 71 * 3];
        for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextDouble() * 2 - 1);
        Tensor input = new Tensor(new io.jxception.tensor.Shape(batch, 71, 71, 3), x);
        int[] labels = {1, 3};
        try (CpuBackend cpu = new CpuBackend(); TrainingSession s = new TrainingSession(cpu, w, batch)) {
            s.forwardBackward(input, labels);
            Map<String, Tensor> grads = s.gradients();
            double num2 = 0, diff2 = 0;
            int checked = 0;
            for (ParamSpec p : g.params()) {
                if (!p.trainable()) continue;
                double[] param = cpu.doubles(s.paramBuffer(p.key()));
                // one random coordinate per weight tensor. h is small (1e-7) because a first-layer
                // kernel moves thousands of pre-activations at once and a larger step makes some of
                // them cross the ReLU kink (seen: 1e-3 error at h = 1e-5, 1e-8 at h = 1e-7).
                int i = rnd.nextInt((int) p.elements());
                double orig = param[i];
                double h = 1e-7 * Math.max(1, Math.abs(orig));
                param[i] = orig + h;
                double up = loss(cpu, s, input, labels);
                param[i] = orig - h;
                double down = loss(cpu, s, input, labels);
                param[i] = orig;
                double fd = (up - down) / (2 * h);
                double an = grads.get(p.key()).data()[i];
                num2 += fd * fd;
                diff2 += (fd - an) * (fd - an);
                checked++;
                if (System.getenv("GRADCHECK_DEBUG") != null) System.err.printf("%-45s fd=% .8e an=% .8e%n", p.key(), fd, an);
            }
            double rel = Math.sqrt(diff2 / num2);
            assertTrue(checked > 50, "checked " + checked);
            // analytic gradients pass through float32 on download: ~1e-7 relative; FD truncation ~h² terms
            assertTrue(rel < 1e-6, "relative error of the gradient vector " + rel);
        }
    }

    private static double loss(CpuBackend cpu, TrainingSession s, Tensor input, int[] labels) {
        s.forwardBackward(input, labels);
        double[] l = cpu.doubles(s.lossBuffer());
        double sum = 0;
        for (int k = 0; k < s.batch(); k++) sum += l[k];
        return sum / s.batch();
    }
}
