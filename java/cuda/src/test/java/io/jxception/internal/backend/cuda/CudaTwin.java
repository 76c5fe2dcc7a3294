package io.jxception.internal.backend.cuda;

import io.jxception.internal.backend.Buffer;
import io.jxception.backend.Precision;
import io.jxception.internal.backend.cpu.CpuBackend;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The same tensors on the CPU reference (float64 inside) and on one CUDA backend. Activation inputs
 * are rounded to the CUDA backend's activation storage before the reference sees them, so both sides
 * compute the same function of the same stored values; CUDA outputs start as NaN (every byte 0xFF,
 * NaN in any storage) so an element a kernel forgets shows up.
 */
final class CudaTwin implements AutoCloseable {
    final CpuBackend cpu = new CpuBackend(Math.max(1, Runtime.getRuntime().availableProcessors()));
    final CudaBackend gpu;
    final long seed = System.nanoTime();
    final Random rnd = new Random(seed);

    /** One tensor on both backends. */
    record Pair(Buffer cpu, Buffer gpu, long elements) {}

    CudaTwin(CudaBackend gpu) {
        this.gpu = gpu;
    }

    /** Relative error bound ||cuda - ref|| / ||ref|| stated per precision. */
    static double tolerance(Precision p) {
        return switch (p) {
            case FP32 -> 1e-5;
            case TF32 -> 5e-3;
            case BF16, FP16 -> 2e-2;
        };
    }

    /** A parameter tensor (weights, statistics, labels): exact fp32 on both sides. */
    Pair param(float[] v) {
        Buffer a = cpu.allocate(v.length), b = gpu.allocate(v.length);
        cpu.upload(v, a);
        gpu.upload(v, b);
        return new Pair(a, b, v.length);
    }

    /** An activation tensor: rounded to the CUDA activation storage for both sides. */
    Pair act(float[] v) {
        float[] r = v.clone();
        switch (gpu.precision()) {
            case BF16 -> { for (int i = 0; i < r.length; i++) r[i] = HalfFloats.fromBf16(HalfFloats.toBf16(r[i])); }
            case FP16 -> { for (int i = 0; i < r.length; i++) r[i] = HalfFloats.fromF16(HalfFloats.toF16(r[i])); }
            default -> { }
        }
        return param(r);
    }

    float[] normal(long n, double scale) {
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) v[i] = (float) (rnd.nextGaussian() * scale);
        return v;
    }

    float[] uniform(long n, double lo, double hi) {
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) v[i] = (float) (lo + (hi - lo) * rnd.nextDouble());
        return v;
    }

    Pair actNormal(long n, double scale) { return act(normal(n, scale)); }

    Pair paramNormal(long n, double scale) { return param(normal(n, scale)); }

    /** An output: NaN on both sides. */
    Pair output(long n) {
        float[] nan = new float[Math.toIntExact(n)];
        Arrays.fill(nan, Float.NaN);
        Buffer a = cpu.allocate(n), b = gpu.allocate(n);
        cpu.upload(nan, a);
        gpu.upload(nan, b);
        gpu.fillNaN(b);
        return new Pair(a, b, n);
    }

    float[] cpuValues(Pair p) {
        float[] out = new float[Math.toIntExact(p.elements())];
        cpu.download(p.cpu(), out);
        return out;
    }

    float[] gpuValues(Pair p) {
        float[] out = new float[Math.toIntExact(p.elements())];
        gpu.download(p.gpu(), out);
        return out;
    }

    /** Asserts ||cuda - ref|| / ||ref|| <= tol over the first {@code count} elements, and no NaN. */
    void assertClose(String what, Pair p, long count, double tol) {
        double[] ref = cpu.doubles(p.cpu());
        float[] got = gpuValues(p);
        double num = 0, den = 0, worst = 0;
        int worstAt = -1;
        for (int i = 0; i < count; i++) {
            if (!Float.isFinite(got[i])) fail(what + ": CUDA value " + got[i] + " at " + i + " (reference " + ref[i] + "), seed " + seed + ", " + gpu.precision());
            double d = got[i] - ref[i];
            num += d * d;
            den += ref[i] * ref[i];
            if (Math.abs(d) > worst) { worst = Math.abs(d); worstAt = i; }
        }
        double rel = Math.sqrt(num / Math.max(den, 1e-300));
        if (!(rel <= tol)) {
            fail(String.format("%s: relative error %.3g > %.1g (%s), worst |diff| %.4g at %d (cuda %.6g, ref %.6g), seed %d", what, rel, tol,
                    gpu.precision(), worst, worstAt, got[worstAt], ref[worstAt], seed));
        }
    }

    void assertClose(String what, Pair p) { assertClose(what, p, p.elements(), tolerance(gpu.precision())); }

    @Override public void close() {
        cpu.close();
    }
}
