package io.jxception.internal.backend.opencl;

import io.jxception.internal.backend.Buffer;
import io.jxception.internal.backend.cpu.CpuBackend;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The same tensors on the CPU reference backend and on OpenCL, so one op can run on both and be
 * compared. Outputs start as NaN on both sides, so a value an op forgets to write shows up.
 */
final class Twin implements AutoCloseable {
    /** Relative error bound ||cl - ref|| / ||ref|| for fp32 against the float64 reference. */
    static final double FP32_TOLERANCE = 1e-5;

    final CpuBackend cpu = new CpuBackend(2);
    final OpenClBackend cl;
    final long seed;
    final Random rnd;

    /** One tensor on both backends. */
    record Pair(Buffer cpu, Buffer cl, long elements) {}

    Twin(OpenClBackend cl) {
        this.cl = cl;
        this.seed = System.nanoTime();
        this.rnd = new Random(seed);
    }

    Pair of(float[] values) {
        Buffer a = cpu.allocate(values.length), b = cl.allocate(values.length);
        cpu.upload(values, a);
        cl.upload(values, b);
        return new Pair(a, b, values.length);
    }

    /** Normal values times {@code scale} (about half negative, so ReLUs matter). */
    Pair normal(long n, double scale) {
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) v[i] = (float) (rnd.nextGaussian() * scale);
        return of(v);
    }

    Pair uniform(long n, double lo, double hi) {
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) v[i] = (float) (lo + (hi - lo) * rnd.nextDouble());
        return of(v);
    }

    /** An output: NaN everywhere on both backends. */
    Pair output(long n) {
        float[] nan = new float[Math.toIntExact(n)];
        Arrays.fill(nan, Float.NaN);
        Buffer a = cpu.allocate(n), b = cl.allocate(n);
        cpu.upload(nan, a);
        cl.fill(b, n, Float.NaN);
        return new Pair(a, b, n);
    }

    /** Poisons an existing pair again (before a second launch into the same output). */
    void poison(Pair p) {
        float[] nan = new float[Math.toIntExact(p.elements())];
        Arrays.fill(nan, Float.NaN);
        cpu.upload(nan, p.cpu());
        cl.fill(p.cl(), p.elements(), Float.NaN);
    }

    float[] cpuValues(Pair p) {
        float[] out = new float[Math.toIntExact(p.elements())];
        cpu.download(p.cpu(), out);
        return out;
    }

    float[] clValues(Pair p) {
        float[] out = new float[Math.toIntExact(p.elements())];
        cl.download(p.cl(), out);
        return out;
    }

    /** Asserts every OpenCL value is finite and ||cl - ref|| / ||ref|| < {@link #FP32_TOLERANCE}. */
    void assertClose(Pair p, String what) { assertClose(p, what, FP32_TOLERANCE); }

    void assertClose(Pair p, String what, double tolerance) {
        float[] ref = cpuValues(p), got = clValues(p);
        double err = relativeError(ref, got, what + " (seed " + seed + ")");
        assertTrue(err < tolerance, what + ": relative error " + err + " >= " + tolerance + " (seed " + seed + ")");
    }

    static double relativeError(float[] ref, float[] got, String what) {
        double num = 0, den = 0;
        for (int i = 0; i < ref.length; i++) {
            if (!Float.isFinite(got[i])) fail(what + ": OpenCL value " + got[i] + " at " + i + " of " + ref.length + " (reference " + ref[i] + ")");
            if (!Float.isFinite(ref[i])) fail(what + ": reference value " + ref[i] + " at " + i);
            double d = (double) got[i] - ref[i];
            num += d * d;
            den += (double) ref[i] * ref[i];
        }
        if (den == 0) fail(what + ": the reference is all zeros, the comparison would prove nothing");
        return Math.sqrt(num / den);
    }

    @Override
    public void close() {
        cpu.close();
    }
}
