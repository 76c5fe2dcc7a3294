package io.jxception.internal.backend.cpu;

import io.jxception.internal.backend.BatchNormSpec;
import io.jxception.internal.backend.Buffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static io.jxception.internal.backend.cpu.GradientCheck.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Finite-difference checks of training-mode batch norm (batch statistics differentiated through):
 * L = Σ y·R with y = relu?((z − mean)·invStd·gamma + beta + residual).
 */
class CpuBatchNormGradientTest {
    private final CpuBackend cpu = new CpuBackend(2);

    @AfterEach
    void close() { cpu.close(); }

    @Test
    void plainBatchNorm() { check(2 * 5 * 5, 4, false, false, 21); }

    @Test
    void withResidualAndRelu() { check(2 * 7 * 7, 3, true, true, 22); }

    @Test
    void withReluOnly() { check(2 * 3 * 4, 5, true, false, 23); }

    @Test
    void withResidualOnly() { check(18, 6, false, true, 24); }

    @Test
    void forwardNormalizesWithBiasedVarianceAndUpdatesMovingStats() {
        int rows = 4, c = 1;
        BatchNormSpec spec = new BatchNormSpec(rows, c, 1e-3, 0.99, false, false);
        Buffer z = buffer(new double[]{1, 2, 3, 6}); // mean 3, biased var (4+1+0+9)/4 = 3.5
        Buffer gamma = buffer(new double[]{2}), beta = buffer(new double[]{0.5});
        Buffer mm = buffer(new double[]{1}), mv = buffer(new double[]{2});
        Buffer y = buffer(nans(rows)), mean = buffer(nans(c)), invStd = buffer(nans(c));
        cpu.batchNormTrain(spec, z, gamma, beta, null, y, mean, invStd, mm, mv);
        double is = 1 / Math.sqrt(3.5 + 1e-3);
        assertEquals(3, cpu.doubles(mean)[0], 1e-15);
        assertEquals(is, cpu.doubles(invStd)[0], 1e-15);
        assertEquals((6 - 3) * is * 2 + 0.5, cpu.doubles(y)[3], 1e-14);
        // moving statistics outlive the step: stored as fp32 values, as checkpoints hold them
        assertEquals((float) (1 * 0.99 + 3 * 0.01), cpu.doubles(mm)[0], 0);
        assertEquals((float) (2 * 0.99 + 3.5 * 0.01), cpu.doubles(mv)[0], 0);
    }

    private void check(int rows, int c, boolean relu, boolean residual, long seed) {
        BatchNormSpec spec = new BatchNormSpec(rows, c, BatchNormSpec.KERAS_EPSILON, BatchNormSpec.KERAS_MOMENTUM, relu, residual);
        int count = rows * c;
        // Redraw until no pre-ReLU output lies within 1e-3 of the kink, where finite differences are meaningless.
        for (long s = seed; ; s += 1000) {
            Random rnd = new Random(s);
            double[] z = uniform(rnd, count), gamma = uniform(rnd, c), beta = uniform(rnd, c);
            double[] res = residual ? uniform(rnd, count) : null, r = uniform(rnd, count);
            if (relu && nearKink(spec, z, gamma, beta, res)) continue;
            checkAt(spec, z, gamma, beta, res, r);
            return;
        }
    }

    private boolean nearKink(BatchNormSpec spec, double[] z, double[] gamma, double[] beta, double[] res) {
        BatchNormSpec linear = new BatchNormSpec(spec.rows(), spec.channels(), spec.epsilon(), spec.momentum(), false, spec.residual());
        Buffer y = forward(linear, buffer(z), buffer(gamma), buffer(beta), res == null ? null : buffer(res));
        for (double v : cpu.doubles(y)) if (Math.abs(v) < 1e-3) return true;
        return false;
    }

    private Buffer forward(BatchNormSpec spec, Buffer z, Buffer gamma, Buffer beta, Buffer res) {
        int c = spec.channels();
        Buffer y = cpu.allocate(spec.elements());
        cpu.batchNormTrain(spec, z, gamma, beta, res, y, cpu.allocate(c), cpu.allocate(c), buffer(new double[c]), buffer(ones(c)));
        return y;
    }

    private void checkAt(BatchNormSpec spec, double[] z0, double[] gamma0, double[] beta0, double[] res0, double[] r) {
        int c = spec.channels(), count = (int) spec.elements();
        Buffer z = buffer(z0), gamma = buffer(gamma0), beta = buffer(beta0), res = res0 == null ? null : buffer(res0);
        Buffer y = buffer(nans(count)), mean = buffer(nans(c)), invStd = buffer(nans(c));
        Buffer movingMean = buffer(new double[c]), movingVar = buffer(ones(c));
        Loss loss = () -> {
            cpu.batchNormTrain(spec, z, gamma, beta, res, y, mean, invStd, movingMean, movingVar);
            return dot(cpu.doubles(y), r, count);
        };
        loss.value(); // y, mean, invStd at the unperturbed point
        Buffer dz = buffer(nans(count)), dyMasked = buffer(nans(count)), dGamma = buffer(nans(c)), dBeta = buffer(nans(c));
        cpu.batchNormTrainBackward(spec, z, y, buffer(r), gamma, mean, invStd, dz, dyMasked, dGamma, dBeta);
        String what = "BN rows=" + spec.rows() + " c=" + c + " relu=" + spec.relu() + " residual=" + spec.residual();
        // The backward must not depend on buffers that a later forward changes, so take FD after it.
        double[] dzA = cpu.doubles(dz).clone(), dGammaA = cpu.doubles(dGamma).clone(), dBetaA = cpu.doubles(dBeta).clone();
        assertGradient(what + " dz", numeric(cpu.doubles(z), count, loss), dzA);
        assertGradient(what + " dGamma", numeric(cpu.doubles(gamma), c, loss), dGammaA);
        assertGradient(what + " dBeta", numeric(cpu.doubles(beta), c, loss), dBetaA);
        if (res != null) assertGradient(what + " dResidual (dyMasked)", numeric(cpu.doubles(res), count, loss), cpu.doubles(dyMasked));

        // Without dyMasked the same dz comes out (forward recomputed at the unperturbed point first).
        loss.value();
        Buffer dz2 = buffer(nans(count));
        cpu.batchNormTrainBackward(spec, z, y, buffer(r), gamma, mean, invStd, dz2, null, buffer(nans(c)), buffer(nans(c)));
        assertArrayEquals(dzA, java.util.Arrays.copyOf(cpu.doubles(dz2), count), what + ": dz changes when dyMasked is null");
    }

    private static double[] ones(int n) {
        double[] a = new double[n];
        java.util.Arrays.fill(a, 1);
        return a;
    }

    private Buffer buffer(double[] values) {
        Buffer b = cpu.allocate(values.length);
        System.arraycopy(values, 0, cpu.doubles(b), 0, values.length);
        return b;
    }
}
