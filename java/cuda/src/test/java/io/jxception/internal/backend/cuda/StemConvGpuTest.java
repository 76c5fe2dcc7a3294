package io.jxception.internal.backend.cuda;

import io.jxception.internal.backend.ConvSpec;
import io.jxception.internal.backend.Epilogue;
import io.jxception.backend.Precision;
import io.jxception.internal.backend.cuda.CudaTwin.Pair;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static io.jxception.model.ConvKind.CONV3X3_VALID;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The stem.cu kernels (backend opened with {@link StemConvPath#NEW}) against the CPU reference, every
 * precision, at Xception's stem sizes and odd ones; NaN-poisoned outputs; bitwise repeatability.
 * Bounds as {@link CudaTwin#tolerance}: fp32 1e-5, tf32 5e-3, bf16/fp16 2e-2.
 */
@Tag("gpu")
class StemConvGpuTest {
    private static final CudaTestDevice.Backends<Precision> backends = new CudaTestDevice.Backends<>();

    @BeforeAll
    static void requireDevice() { CudaTestDevice.assumeAvailable(); }

    @AfterAll
    static void closeAll() {
        backends.close();
    }

    static CudaBackend backend(Precision p) {
        return backends.get(p, k -> new CudaBackend(0, k, CudaBackend.Options.DEFAULT.withSyncEachLaunch(true), StemConvPath.NEW));
    }

    record Epi(boolean scaleShift, boolean residual, boolean relu) {}

    /** Shapes stem_cin3 covers in every precision. */
    static final List<Object[]> CIN3 = List.of(
            new Object[]{new ConvSpec(CONV3X3_VALID, 2, 299, 299, 3, 32, 2, false), new Epi(true, false, true)},   // block1_conv1
            new Object[]{new ConvSpec(CONV3X3_VALID, 3, 31, 29, 3, 32, 2, false), new Epi(true, false, true)},
            new Object[]{new ConvSpec(CONV3X3_VALID, 3, 31, 29, 3, 40, 1, true), new Epi(false, true, false)},
            new Object[]{new ConvSpec(CONV3X3_VALID, 1, 17, 23, 3, 8, 3, false), new Epi(true, true, true)},
            new Object[]{new ConvSpec(CONV3X3_VALID, 2, 9, 9, 3, 256, 2, true), new Epi(true, false, false)});
    /** Shapes stem_mma covers in BF16/FP16/TF32 where shared memory allows (FP32 runs them on the generic kernel). */
    static final List<Object[]> MMA = List.of(
            new Object[]{new ConvSpec(CONV3X3_VALID, 1, 149, 149, 32, 64, 1, false), new Epi(true, false, true)},  // block1_conv2
            // 36,864 rows = 288 tiles: more than the persistent grid (2 x 132 blocks bf16/fp16, 132 tf32), so blocks loop over tiles
            new Object[]{new ConvSpec(CONV3X3_VALID, 16, 50, 50, 32, 16, 1, false), new Epi(true, false, true)},
            new Object[]{new ConvSpec(CONV3X3_VALID, 3, 31, 29, 32, 64, 1, false), new Epi(true, false, true)},
            new Object[]{new ConvSpec(CONV3X3_VALID, 3, 31, 29, 32, 48, 1, false), new Epi(false, true, false)},
            new Object[]{new ConvSpec(CONV3X3_VALID, 2, 20, 13, 16, 64, 2, false), new Epi(true, true, true)},
            new Object[]{new ConvSpec(CONV3X3_VALID, 1, 5, 7, 48, 8, 1, false), new Epi(true, false, true)});

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Precision p : Precision.values()) {
            for (Object[] s : CIN3) out.add(Arguments.of(p, s[0], s[1]));
            for (Object[] s : MMA) out.add(Arguments.of(p, s[0], s[1]));
        }
        return out.stream();
    }

    @Test
    void theCasesExerciseTheStemKernels() {
        for (Precision p : Precision.values()) {
            for (Object[] s : CIN3) assertEquals("stem_cin3_" + CudaLaunchPlan.storageSuffix(p), StemConvPath.stemPlan((ConvSpec) s[0], p, CudaLaunchPlan.Limits.H100, true).launches().get(0).kernel());
            for (Object[] s : MMA) {
                ConvSpec c = (ConvSpec) s[0];
                var plan = StemConvPath.stemPlan(c, p, CudaLaunchPlan.Limits.H100, true);
                if (p == Precision.FP32) assertNull(plan, "fp32 keeps the generic kernel");
                else if (StemConvPath.mmaSharedBytes(c.cin(), p) <= CudaLaunchPlan.Limits.H100.maxSharedBytesPerBlock()) {
                    assertEquals("stem_mma_" + CudaLaunchPlan.mathSuffix(p), plan.launches().get(0).kernel(), c + " " + p);
                } else assertNull(plan, c + " " + p + ": shared memory");
            }
        }
    }

    private static void conv(CudaTwin t, ConvSpec s, Pair x, Pair w1, Pair scale, Pair shift, Pair res, boolean relu, Pair y, boolean cpuToo) {
        if (cpuToo) t.cpu.conv(s, x.cpu(), w1.cpu(), null, new Epilogue(scale == null ? null : scale.cpu(), shift == null ? null : shift.cpu(), res == null ? null : res.cpu(), relu), y.cpu());
        t.gpu.conv(s, x.gpu(), w1.gpu(), null, new Epilogue(scale == null ? null : scale.gpu(), shift == null ? null : shift.gpu(), res == null ? null : res.gpu(), relu), y.gpu());
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("cases")
    void stemMatchesReferenceAndRepeatsBitwise(Precision p, ConvSpec s, Epi e) {
        CudaBackend b = backend(p);
        assertEquals(StemConvPath.NEW, b.stemPath());
        try (CudaTwin t = new CudaTwin(b)) {
            Pair x = t.actNormal(s.inputElements(), 1);
            Pair w1 = t.paramNormal(s.w1Elements(), Math.sqrt(2 / (9.0 * s.cin())));
            Pair scale = e.scaleShift() ? t.param(t.uniform(s.cout(), 0.5, 1.5)) : null;
            Pair shift = e.scaleShift() ? t.paramNormal(s.cout(), 0.1) : null;
            Pair res = e.residual() ? t.actNormal(s.outputElements(), 1) : null;
            Pair y = t.output(s.outputElements());
            conv(t, s, x, w1, scale, shift, res, e.relu(), y, true);
            t.assertClose("stem conv " + s, y);
            Pair again = t.output(s.outputElements());
            conv(t, s, x, w1, scale, shift, res, e.relu(), again, false);
            assertArrayEquals(t.gpuValues(y), t.gpuValues(again), "two runs of " + s + " differ");
        }
    }

    /**
     * FP32 stem_cin3 sums the same products in the same order as the generic FFMA conv_bn_relu_fp32
     * (k = (ky*3+kx)*3+ci from 0, then fmaf(z, scale, shift), residual, ReLU): equal values.
     */
    @Test
    void fp32Cin3EqualsTheGenericKernel() {
        ConvSpec s = new ConvSpec(CONV3X3_VALID, 3, 41, 37, 3, 32, 2, false);
        try (CudaBackend old = new CudaBackend(0, Precision.FP32, CudaBackend.Options.DEFAULT.withSyncEachLaunch(true), StemConvPath.OLD);
             CudaTwin t = new CudaTwin(backend(Precision.FP32))) {
            assertEquals("stem_cin3_f32", StemConvPath.stemPlan(s, Precision.FP32, CudaLaunchPlan.Limits.H100, true).launches().get(0).kernel());
            float[] x = t.normal(s.inputElements(), 1), w = t.normal(s.w1Elements(), 0.3), sc = t.uniform(32, 0.5, 1.5), sh = t.normal(32, 0.1);
            float[][] out = new float[2][];
            CudaBackend[] both = {t.gpu, old};
            for (int i = 0; i < 2; i++) {
                CudaBackend b = both[i];
                var bx = b.allocate(x.length); var bw = b.allocate(w.length); var bs = b.allocate(32); var bh = b.allocate(32);
                var by = b.allocate(s.outputElements());
                b.upload(x, bx); b.upload(w, bw); b.upload(sc, bs); b.upload(sh, bh);
                b.fillNaN(by);
                b.conv(s, bx, bw, null, new Epilogue(bs, bh, null, true), by);
                out[i] = new float[(int) s.outputElements()];
                b.download(by, out[i]);
                for (var buf : List.of(bx, bw, bs, bh, by)) buf.close();
            }
            for (int i = 0; i < out[0].length; i++) {
                if (!(out[0][i] == out[1][i])) throw new AssertionError("stem_cin3_f32 " + out[0][i] + " vs conv_bn_relu_fp32 " + out[1][i] + " at " + i);
            }
        }
    }

    /** block1_conv1 and block1_conv2 at batch 3 through one backend: the whole stem as the network runs it. */
    @ParameterizedTest
    @EnumSource(Precision.class)
    void chainedStemMatchesReference(Precision p) {
        ConvSpec c1 = new ConvSpec(CONV3X3_VALID, 3, 61, 57, 3, 32, 2, false);
        ConvSpec c2 = new ConvSpec(CONV3X3_VALID, 3, c1.outH(), c1.outW(), 32, 64, 1, false);
        assertNotNull(StemConvPath.stemPlan(c1, p, CudaLaunchPlan.Limits.H100, true));
        try (CudaTwin t = new CudaTwin(backend(p))) {
            Pair x = t.actNormal(c1.inputElements(), 1);
            Pair w1 = t.paramNormal(c1.w1Elements(), Math.sqrt(2 / 27.0));
            Pair w2 = t.paramNormal(c2.w1Elements(), Math.sqrt(2 / 288.0));
            Pair s1 = t.param(t.uniform(32, 0.5, 1.5)), h1 = t.paramNormal(32, 0.1);
            Pair s2 = t.param(t.uniform(64, 0.5, 1.5)), h2 = t.paramNormal(64, 0.1);
            Pair y1 = t.output(c1.outputElements()), y2 = t.output(c2.outputElements());
            conv(t, c1, x, w1, s1, h1, null, true, y1, true);
            conv(t, c2, y1, w2, s2, h2, null, true, y2, true);
            t.assertClose("block1_conv1", y1);
            t.assertClose("block1_conv2", y2);
        }
    }
}
