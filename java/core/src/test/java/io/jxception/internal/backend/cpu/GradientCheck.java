package io.jxception.internal.backend.cpu;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Central finite differences in float64: for a scalar loss L evaluated from arrays the test mutates,
 * ∂L/∂p[i] ≈ (L(p + h·e_i) − L(p − h·e_i)) / 2h, compared by ‖g_fd − g‖ / ‖g‖.
 */
final class GradientCheck {
    private GradientCheck() {}

    /** Finite-difference step; inputs are O(1), so truncation (h²) and rounding (ε/h) both stay near 1e-10. */
    static final double STEP = 1e-6;
    /** Relative error bound for every analytic gradient. */
    static final double TOLERANCE = 1e-6;

    /** Recomputes the loss from the current contents of the arrays under test. */
    @FunctionalInterface
    interface Loss {
        double value();
    }

    /** ∂L/∂param by central differences over all elements; param is restored afterwards. */
    static double[] numeric(double[] param, int count, Loss loss) {
        double[] g = new double[count];
        for (int i = 0; i < count; i++) {
            double saved = param[i];
            param[i] = saved + STEP;
            double plus = loss.value();
            param[i] = saved - STEP;
            double minus = loss.value();
            param[i] = saved;
            g[i] = (plus - minus) / (2 * STEP);
        }
        return g;
    }

    /** Fails unless ‖fd − analytic‖/‖analytic‖ &lt; {@link #TOLERANCE}, the analytic gradient is finite and non-zero. */
    static void assertGradient(String what, double[] fd, double[] analytic) {
        int n = fd.length;
        double diff = 0, norm = 0;
        int worst = -1;
        double worstAbs = -1;
        for (int i = 0; i < n; i++) {
            if (!Double.isFinite(analytic[i])) fail(what + ": analytic gradient element " + i + " is " + analytic[i] + " (unwritten or invalid)");
            double d = fd[i] - analytic[i];
            diff += d * d;
            norm += analytic[i] * analytic[i];
            if (Math.abs(d) > worstAbs) {
                worstAbs = Math.abs(d);
                worst = i;
            }
        }
        assertTrue(norm > 0, what + ": analytic gradient is all zeros, the check would be vacuous");
        double rel = Math.sqrt(diff / norm);
        assertTrue(rel < TOLERANCE, what + ": relative error " + rel + " >= " + TOLERANCE + "; worst element " + worst
                + " finite-difference " + fd[worst] + " vs analytic " + analytic[worst]);
    }

    /** Uniform in [-1, 1), excluding exact zeros. */
    static double[] uniform(Random rnd, int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            do a[i] = 2 * rnd.nextDouble() - 1; while (a[i] == 0);
        }
        return a;
    }

    /** Magnitude uniform in [min, 1), random sign: keeps every value at least min away from a ReLU kink. */
    static double[] awayFromZero(Random rnd, int n, double min) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) a[i] = (rnd.nextBoolean() ? 1 : -1) * (min + (1 - min) * rnd.nextDouble());
        return a;
    }

    /** Distinct values in [-1, 1] at least 1/n apart, shuffled: no ties, and no FD step reorders them. */
    static double[] distinct(Random rnd, int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) a[i] = -1 + 2.0 * i / n + 0.5 / n * rnd.nextDouble();
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            double t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return a;
    }

    static double[] nans(int n) {
        double[] a = new double[n];
        Arrays.fill(a, Double.NaN);
        return a;
    }

    static double dot(double[] a, double[] b, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) s += a[i] * b[i];
        return s;
    }
}
