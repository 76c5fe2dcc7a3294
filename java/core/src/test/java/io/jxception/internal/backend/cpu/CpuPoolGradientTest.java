package io.jxception.internal.backend.cpu;

import io.jxception.internal.backend.Buffer;
import io.jxception.internal.backend.PoolSpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static io.jxception.internal.backend.cpu.GradientCheck.*;

/**
 * Finite-difference checks of the pools. Inputs are distinct values at least ~1/n apart, so every
 * window has a unique maximum that a step of 1e-6 cannot change.
 */
class CpuPoolGradientTest {
    private final CpuBackend cpu = new CpuBackend(2);

    @AfterEach
    void close() { cpu.close(); }

    @Test
    void maxPoolSameOddSize() { checkMaxPool(new PoolSpec(2, 7, 7, 3), 31); }

    @Test
    void maxPoolSameEvenSize() { checkMaxPool(new PoolSpec(2, 10, 10, 2), 32); }

    @Test
    void maxPoolSameMixedSize() { checkMaxPool(new PoolSpec(1, 19, 8, 2), 33); }

    @Test
    void globalAveragePool() {
        Random rnd = new Random(34);
        int n = 2, pixels = 3 * 5, c = 4;
        double[] x = uniform(rnd, n * pixels * c), r = uniform(rnd, n * c), y = new double[n * c];
        Loss loss = () -> {
            PoolOps.globalAvgPool(x, n, pixels, c, y);
            return dot(y, r, y.length);
        };
        double[] dx = nans(x.length);
        PoolOps.globalAvgPoolBackward(r, n, pixels, c, dx);
        assertGradient("global average pool dx", numeric(x, x.length, loss), dx);
    }

    @Test
    void globalMaxPool() {
        Random rnd = new Random(35);
        int n = 2, pixels = 4 * 3, c = 5;
        double[] x = distinct(rnd, n * pixels * c), r = uniform(rnd, n * c), y = new double[n * c];
        Loss loss = () -> {
            PoolOps.globalMaxPool(x, n, pixels, c, y);
            return dot(y, r, y.length);
        };
        double[] dx = nans(x.length);
        PoolOps.globalMaxPoolBackward(x, n, pixels, c, r, dx);
        assertGradient("global max pool dx", numeric(x, x.length, loss), dx);
    }

    /** Through {@link CpuBackend#maxPoolAdd} (with a residual) and {@link CpuBackend#maxPoolBackward}. */
    private void checkMaxPool(PoolSpec spec, long seed) {
        Random rnd = new Random(seed);
        int in = (int) spec.inputElements(), out = (int) spec.outputElements();
        Buffer x = buffer(distinct(rnd, in)), residual = buffer(uniform(rnd, out)), y = cpu.allocate(out);
        double[] r = uniform(rnd, out);
        Loss loss = () -> {
            cpu.maxPoolAdd(spec, x, residual, y);
            return dot(cpu.doubles(y), r, out);
        };
        Buffer dx = buffer(nans(in));
        cpu.maxPoolBackward(spec, x, buffer(r), dx);
        assertGradient(spec + " dx", numeric(cpu.doubles(x), in, loss), cpu.doubles(dx));
        assertGradient(spec + " dResidual", numeric(cpu.doubles(residual), out, loss), r);
    }

    private Buffer buffer(double[] values) {
        Buffer b = cpu.allocate(values.length);
        System.arraycopy(values, 0, cpu.doubles(b), 0, values.length);
        return b;
    }
}
