package io.jxception.internal.backend.cpu;

import io.jxception.internal.backend.Buffer;
import io.jxception.internal.backend.HeadSpec;
import io.jxception.model.Pooling;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static io.jxception.internal.backend.cpu.GradientCheck.*;
import static org.junit.jupiter.api.Assertions.*;

/** Finite-difference checks of the training head: mean softmax cross-entropy of dense(avgpool(x)). */
class CpuHeadGradientTest {
    private final CpuBackend cpu = new CpuBackend(2);

    @AfterEach
    void close() { cpu.close(); }

    @Test
    void headTrainGradientsOfMeanLoss() { check(new HeadSpec(3, 3, 2, 5, Pooling.AVG, true, 4), new double[]{2, 0, 3}, 41); }

    @Test
    void headTrainOnOnePixelFeatureMap() { check(new HeadSpec(2, 1, 1, 6, Pooling.AVG, true, 7), new double[]{6, 1}, 42); }

    @Test
    void denseAndSoftmaxCrossEntropyDirectly() {
        Random rnd = new Random(43);
        int n = 3, cin = 4, classes = 5;
        int[] labels = {4, 0, 2};
        double[] x = uniform(rnd, n * cin), kernel = uniform(rnd, cin * classes), bias = uniform(rnd, classes);
        double[] logits = new double[n * classes], probs = new double[n * classes], perExample = new double[n], dLogits = new double[n * classes];
        Loss loss = () -> {
            HeadOps.dense(x, n, cin, kernel, bias, classes, logits);
            return HeadOps.softmaxCrossEntropy(logits, labels, n, classes, probs, perExample, dLogits);
        };
        loss.value();
        double[] dx = nans(n * cin), dKernel = nans(cin * classes), dBias = nans(classes);
        HeadOps.denseBackward(x, n, cin, kernel, classes, dLogits.clone(), dx, dKernel, dBias);
        assertGradient("dense dx", numeric(x, x.length, loss), dx);
        assertGradient("dense dKernel", numeric(kernel, kernel.length, loss), dKernel);
        assertGradient("dense dBias", numeric(bias, bias.length, loss), dBias);
    }

    private void check(HeadSpec spec, double[] labels, long seed) {
        Random rnd = new Random(seed);
        int n = spec.n(), c = spec.channels(), classes = spec.classes(), xCount = n * spec.h() * spec.w() * c;
        Buffer x = buffer(uniform(rnd, xCount)), kernel = buffer(uniform(rnd, c * classes)), bias = buffer(uniform(rnd, classes));
        Buffer label = buffer(labels), probs = buffer(nans(n * classes)), perExample = buffer(nans(n));
        Buffer dX = buffer(nans(xCount)), dKernel = buffer(nans(c * classes)), dBias = buffer(nans(classes));
        Loss meanLoss = () -> {
            cpu.headTrain(spec, x, kernel, bias, label, probs, perExample, dX, dKernel, dBias, 1f);
            double s = 0;
            for (int b = 0; b < n; b++) s += cpu.doubles(perExample)[b];
            return s / n;
        };
        meanLoss.value();
        double[] dXA = cpu.doubles(dX).clone(), dKernelA = cpu.doubles(dKernel).clone(), dBiasA = cpu.doubles(dBias).clone();
        for (int b = 0; b < n; b++) {
            double sum = 0;
            for (int k = 0; k < classes; k++) sum += cpu.doubles(probs)[b * classes + k];
            assertEquals(1, sum, 1e-12, "probabilities of example " + b + " sum to " + sum);
            double pLabel = cpu.doubles(probs)[b * classes + (int) labels[b]];
            assertEquals(-Math.log(pLabel), cpu.doubles(perExample)[b], 1e-12, "loss of example " + b + " is -log p[label]");
        }
        // headTrain's probabilities equal the inference head's.
        Buffer inferProbs = buffer(nans(n * classes));
        cpu.head(spec, x, kernel, bias, inferProbs);
        assertArrayEquals(cpu.doubles(probs), cpu.doubles(inferProbs), 1e-15);

        assertGradient(spec + " dX", numeric(cpu.doubles(x), xCount, meanLoss), dXA);
        assertGradient(spec + " dKernel", numeric(cpu.doubles(kernel), c * classes, meanLoss), dKernelA);
        assertGradient(spec + " dBias", numeric(cpu.doubles(bias), classes, meanLoss), dBiasA);
    }

    private Buffer buffer(double[] values) {
        Buffer b = cpu.allocate(values.length);
        System.arraycopy(values, 0, cpu.doubles(b), 0, values.length);
        return b;
    }
}
