package io.jxception.internal.backend.cuda;

import io.jxception.internal.backend.BatchNormSpec;
import io.jxception.internal.backend.Buffer;
import io.jxception.internal.backend.ConvSpec;
import io.jxception.internal.backend.Epilogue;
import io.jxception.internal.backend.HeadSpec;
import io.jxception.internal.backend.PoolSpec;
import io.jxception.backend.Precision;
import io.jxception.internal.backend.cuda.CudaTwin.Pair;
import io.jxception.model.ConvKind;
import io.jxception.model.Pooling;
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

import static io.jxception.model.ConvKind.CONV1X1_SAME;
import static io.jxception.model.ConvKind.CONV3X3_VALID;
import static io.jxception.model.ConvKind.SEPARABLE3X3_SAME;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every CUDA op, forward and backward, against the CPU reference on random inputs, in every
 * precision, at Xception's sizes and at odd ones (147, 74, 37, 19, 10, 7; channels 46, 728).
 * Bounds on ||cuda - ref|| / ||ref||: fp32 1e-5, tf32 5e-3, bf16/fp16 2e-2 ({@link CudaTwin#tolerance}).
 */
@Tag("gpu")
class CudaOpsTest {
    private static final CudaTestDevice.Backends<Precision> backends = new CudaTestDevice.Backends<>();

    @BeforeAll
    static void requireDevice() { CudaTestDevice.assumeAvailable(); }

    @AfterAll
    static void closeAll() {
        backends.close();
    }

    static CudaBackend backend(Precision p) {
        return backends.get(p, k -> (CudaBackend) new CudaBackendProvider().open(0, k,
                CudaBackend.Options.DEFAULT.withSyncEachLaunch(true)));
    }

    // ------------------------------------------------------------------ forward convolutions

    record Epi(boolean scaleShift, boolean residual, boolean relu) {}

    static Stream<Arguments> convCases() {
        List<Arguments> out = new ArrayList<>();
        List<Object[]> shapes = List.of(
                new Object[]{new ConvSpec(SEPARABLE3X3_SAME, 2, 19, 19, 728, 728, 1, true), new Epi(true, true, false)},
                new Object[]{new ConvSpec(SEPARABLE3X3_SAME, 3, 7, 10, 46, 46, 1, true), new Epi(true, false, true)},
                new Object[]{new ConvSpec(SEPARABLE3X3_SAME, 1, 147, 147, 64, 128, 1, false), new Epi(true, false, false)},
                new Object[]{new ConvSpec(SEPARABLE3X3_SAME, 2, 37, 37, 256, 728, 1, true), new Epi(false, false, false)},
                new Object[]{new ConvSpec(SEPARABLE3X3_SAME, 2, 10, 10, 1536, 2048, 1, false), new Epi(true, false, true)},
                new Object[]{new ConvSpec(CONV3X3_VALID, 2, 299, 299, 3, 32, 2, false), new Epi(true, false, true)},
                new Object[]{new ConvSpec(CONV3X3_VALID, 1, 149, 149, 32, 64, 1, false), new Epi(true, false, true)},
                new Object[]{new ConvSpec(CONV3X3_VALID, 2, 74, 74, 3, 46, 2, true), new Epi(false, false, false)},
                new Object[]{new ConvSpec(CONV1X1_SAME, 2, 147, 147, 64, 128, 2, false), new Epi(true, false, false)},
                new Object[]{new ConvSpec(CONV1X1_SAME, 2, 37, 37, 256, 728, 2, false), new Epi(true, false, false)},
                new Object[]{new ConvSpec(CONV1X1_SAME, 3, 19, 19, 46, 46, 2, true), new Epi(false, true, true)});
        for (Precision p : Precision.values()) for (Object[] s : shapes) out.add(Arguments.of(p, s[0], s[1]));
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("convCases")
    void convMatchesReference(Precision p, ConvSpec s, Epi e) {
        try (CudaTwin t = new CudaTwin(backend(p))) {
            double fanIn = s.kind() == CONV3X3_VALID ? 9.0 * s.cin() : s.cin();
            Pair x = t.actNormal(s.inputElements(), 1);
            Pair w1 = t.paramNormal(s.w1Elements(), s.kind() == SEPARABLE3X3_SAME ? 1 / 3.0 : Math.sqrt(2 / fanIn));
            Pair w2 = s.kind() == SEPARABLE3X3_SAME ? t.paramNormal(s.w2Elements(), Math.sqrt(2.0 / s.cin())) : null;
            Pair scale = e.scaleShift() ? t.param(t.uniform(s.cout(), 0.5, 1.5)) : null;
            Pair shift = e.scaleShift() ? t.paramNormal(s.cout(), 0.1) : null;
            Pair res = e.residual() ? t.actNormal(s.outputElements(), 1) : null;
            Pair y = t.output(s.outputElements());
            t.cpu.conv(s, x.cpu(), w1.cpu(), w2 == null ? null : w2.cpu(),
                    new Epilogue(scale == null ? null : scale.cpu(), shift == null ? null : shift.cpu(), res == null ? null : res.cpu(), e.relu()), y.cpu());
            t.gpu.conv(s, x.gpu(), w1.gpu(), w2 == null ? null : w2.gpu(),
                    new Epilogue(scale == null ? null : scale.gpu(), shift == null ? null : shift.gpu(), res == null ? null : res.gpu(), e.relu()), y.gpu());
            t.assertClose("conv " + s, y);
        }
    }

    // ------------------------------------------------------------------ backward convolutions

    static Stream<Arguments> convBackwardCases() {
        List<Arguments> out = new ArrayList<>();
        List<Object[]> shapes = List.of(
                new Object[]{new ConvSpec(SEPARABLE3X3_SAME, 2, 19, 19, 46, 46, 1, true), true},
                new Object[]{new ConvSpec(SEPARABLE3X3_SAME, 2, 10, 10, 728, 128, 1, false), true},
                new Object[]{new ConvSpec(SEPARABLE3X3_SAME, 1, 37, 37, 128, 256, 1, true), false},
                new Object[]{new ConvSpec(CONV3X3_VALID, 2, 74, 74, 3, 32, 2, false), false},
                new Object[]{new ConvSpec(CONV3X3_VALID, 2, 37, 37, 32, 64, 1, true), true},
                new Object[]{new ConvSpec(CONV1X1_SAME, 2, 37, 37, 64, 128, 2, false), true},
                new Object[]{new ConvSpec(CONV1X1_SAME, 2, 19, 19, 46, 46, 2, true), true});
        for (Precision p : Precision.values()) for (Object[] s : shapes) out.add(Arguments.of(p, s[0], s[1]));
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} dx={2}")
    @MethodSource("convBackwardCases")
    void convBackwardMatchesReference(Precision p, ConvSpec s, boolean withDx) {
        try (CudaTwin t = new CudaTwin(backend(p))) {
            boolean sep = s.kind() == SEPARABLE3X3_SAME;
            Pair x = t.actNormal(s.inputElements(), 1);
            Pair w1 = t.paramNormal(s.w1Elements(), 0.3);
            Pair w2 = sep ? t.paramNormal(s.w2Elements(), 0.3) : null;
            Pair dz = t.actNormal(s.outputElements(), 1);
            Pair dx = withDx ? t.output(s.inputElements()) : null;
            Pair dw1 = t.output(s.w1Elements());
            Pair dw2 = sep ? t.output(s.w2Elements()) : null;
            t.cpu.convBackward(s, x.cpu(), w1.cpu(), sep ? w2.cpu() : null, dz.cpu(), withDx ? dx.cpu() : null, dw1.cpu(), sep ? dw2.cpu() : null);
            t.gpu.convBackward(s, x.gpu(), w1.gpu(), sep ? w2.gpu() : null, dz.gpu(), withDx ? dx.gpu() : null, dw1.gpu(), sep ? dw2.gpu() : null);
            if (withDx) t.assertClose("dx " + s, dx);
            t.assertClose("dw1 " + s, dw1);
            if (sep) t.assertClose("dw2 " + s, dw2);
        }
    }

    // ------------------------------------------------------------------ pooling

    static Stream<Arguments> poolCases() {
        List<Arguments> out = new ArrayList<>();
        PoolSpec[] shapes = {new PoolSpec(2, 147, 147, 128), new PoolSpec(3, 74, 74, 256), new PoolSpec(2, 37, 37, 728),
                new PoolSpec(2, 19, 19, 1024), new PoolSpec(1, 7, 10, 46)};
        for (Precision p : Precision.values()) for (PoolSpec s : shapes) out.add(Arguments.of(p, s));
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("poolCases")
    void maxPoolAddMatchesReferenceWithAndWithoutResidual(Precision p, PoolSpec s) {
        try (CudaTwin t = new CudaTwin(backend(p))) {
            Pair x = t.actNormal(s.inputElements(), 1);
            Pair r = t.actNormal(s.outputElements(), 1);
            Pair y = t.output(s.outputElements());
            t.cpu.maxPoolAdd(s, x.cpu(), r.cpu(), y.cpu());
            t.gpu.maxPoolAdd(s, x.gpu(), r.gpu(), y.gpu());
            t.assertClose("maxPoolAdd " + s, y);
            Pair y2 = t.output(s.outputElements());
            t.cpu.maxPoolAdd(s, x.cpu(), null, y2.cpu());
            t.gpu.maxPoolAdd(s, x.gpu(), null, y2.gpu());
            t.assertClose("maxPool " + s, y2);
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("poolCases")
    void maxPoolBackwardMatchesReference(Precision p, PoolSpec s) {
        try (CudaTwin t = new CudaTwin(backend(p))) {
            Pair x = t.actNormal(s.inputElements(), 1);
            Pair dy = t.actNormal(s.outputElements(), 1);
            Pair dx = t.output(s.inputElements());
            t.cpu.maxPoolBackward(s, x.cpu(), dy.cpu(), dx.cpu());
            t.gpu.maxPoolBackward(s, x.gpu(), dy.gpu(), dx.gpu());
            t.assertClose("maxPoolBackward " + s, dx);
        }
    }

    // ------------------------------------------------------------------ head

    static Stream<Arguments> headCases() {
        List<Arguments> out = new ArrayList<>();
        HeadSpec[] shapes = {new HeadSpec(17, 10, 10, 2048, Pooling.AVG, true, 1000), new HeadSpec(3, 7, 7, 46, Pooling.AVG, true, 10),
                new HeadSpec(2, 10, 10, 2048, Pooling.AVG, false, 0), new HeadSpec(2, 10, 10, 64, Pooling.MAX, false, 0)};
        for (Precision p : Precision.values()) for (HeadSpec s : shapes) out.add(Arguments.of(p, s));
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("headCases")
    void headMatchesReference(Precision p, HeadSpec s) {
        try (CudaTwin t = new CudaTwin(backend(p))) {
            Pair x = t.act(t.uniform((long) s.n() * s.h() * s.w() * s.channels(), 0, 2));
            Pair k = s.dense() ? t.paramNormal((long) s.channels() * s.classes(), 0.05) : null;
            Pair b = s.dense() ? t.paramNormal(s.classes(), 0.1) : null;
            Pair y = t.output(s.outputElements());
            t.cpu.head(s, x.cpu(), k == null ? null : k.cpu(), b == null ? null : b.cpu(), y.cpu());
            t.gpu.head(s, x.gpu(), k == null ? null : k.gpu(), b == null ? null : b.gpu(), y.gpu());
            t.assertClose("head " + s, y);
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Precision.class)
    void headTrainMatchesReference(Precision p) {
        for (HeadSpec s : new HeadSpec[]{new HeadSpec(17, 10, 10, 2048, Pooling.AVG, true, 1000), new HeadSpec(3, 7, 7, 46, Pooling.AVG, true, 10)}) {
          for (float scale : new float[]{1f, 4096f}) {   // loss scaling multiplies every gradient, not the loss
            try (CudaTwin t = new CudaTwin(backend(p))) {
                long xe = (long) s.n() * s.h() * s.w() * s.channels();
                Pair x = t.act(t.uniform(xe, 0, 2));
                Pair k = t.paramNormal((long) s.channels() * s.classes(), 0.05);
                Pair b = t.paramNormal(s.classes(), 0.1);
                float[] lab = new float[s.n()];
                for (int i = 0; i < lab.length; i++) lab[i] = t.rnd.nextInt(s.classes());
                Pair labels = t.param(lab);
                Pair probs = t.output((long) s.n() * s.classes()), loss = t.output(s.n()), dX = t.output(xe);
                Pair dK = t.output((long) s.channels() * s.classes()), dB = t.output(s.classes());
                t.cpu.headTrain(s, x.cpu(), k.cpu(), b.cpu(), labels.cpu(), probs.cpu(), loss.cpu(), dX.cpu(), dK.cpu(), dB.cpu(), scale);
                t.gpu.headTrain(s, x.gpu(), k.gpu(), b.gpu(), labels.gpu(), probs.gpu(), loss.gpu(), dX.gpu(), dK.gpu(), dB.gpu(), scale);
                String what = " " + s + " loss scale " + scale;
                t.assertClose("probs" + what, probs);
                t.assertClose("loss" + what, loss);
                t.assertClose("dX" + what, dX);
                t.assertClose("dKernel" + what, dK);
                t.assertClose("dBias" + what, dB);
            }
          }
        }
    }

    // ------------------------------------------------------------------ batch norm (training)

    static Stream<Arguments> bnCases() {
        List<Arguments> out = new ArrayList<>();
        BatchNormSpec[] shapes = {new BatchNormSpec(2L * 19 * 19, 728, 1e-3, 0.99, true, true), new BatchNormSpec(3L * 7 * 10, 46, 1e-3, 0.99, false, false),
                new BatchNormSpec(2L * 147 * 147, 64, 1e-3, 0.99, true, false), new BatchNormSpec(4L * 10 * 10, 2048, 1e-3, 0.99, true, false),
                // 4 groups of 8 channels (the _v8_ partials' 4 lanes x 64 row lanes); 495 rows = 7 chunks of 64 and one of 47
                new BatchNormSpec(5L * 9 * 11, 32, 1e-3, 0.99, false, true)};
        for (Precision p : Precision.values()) for (BatchNormSpec s : shapes) out.add(Arguments.of(p, s));
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("bnCases")
    void batchNormTrainForwardAndBackwardMatchReference(Precision p, BatchNormSpec s) {
        try (CudaTwin t = new CudaTwin(backend(p))) {
            int c = s.channels();
            // a per-channel offset larger than the spread checks the variance does not cancel
            float[] zv = t.normal(s.elements(), 1);
            for (int i = 0; i < zv.length; i++) zv[i] += 3 + (i % c) * 0.01f;
            Pair z = t.act(zv);
            Pair gamma = t.param(t.uniform(c, 0.5, 1.5)), beta = t.paramNormal(c, 0.1);
            Pair res = s.residual() ? t.actNormal(s.elements(), 1) : null;
            Pair y = t.output(s.elements()), mean = t.output(c), invStd = t.output(c);
            Pair mm = t.paramNormal(c, 0.1), mv = t.param(t.uniform(c, 0.5, 1.5));
            t.cpu.batchNormTrain(s, z.cpu(), gamma.cpu(), beta.cpu(), res == null ? null : res.cpu(), y.cpu(), mean.cpu(), invStd.cpu(), mm.cpu(), mv.cpu());
            t.gpu.batchNormTrain(s, z.gpu(), gamma.gpu(), beta.gpu(), res == null ? null : res.gpu(), y.gpu(), mean.gpu(), invStd.gpu(), mm.gpu(), mv.gpu());
            double tol = CudaTwin.tolerance(p);
            double statTol = Math.max(tol, 1e-5);
            t.assertClose("bn mean " + s, mean, c, statTol);
            t.assertClose("bn invStd " + s, invStd, c, statTol);
            t.assertClose("bn movingMean " + s, mm, c, statTol);
            t.assertClose("bn movingVar " + s, mv, c, statTol);
            t.assertClose("bn y " + s, y);

            // The backward takes the forward's y (for the ReLU mask), mean and invStd. Both sides get the
            // reference's values: an element whose y is within rounding of 0 would otherwise be masked
            // on one side only (seen: one such element gave 6.6e-4 relative error in dz on an H100).
            Pair yIn = t.act(t.cpuValues(y)), meanIn = t.param(t.cpuValues(mean)), invStdIn = t.param(t.cpuValues(invStd));
            Pair dy = t.actNormal(s.elements(), 1);
            Pair dz = t.output(s.elements()), dyMasked = t.output(s.elements()), dGamma = t.output(c), dBeta = t.output(c);
            t.cpu.batchNormTrainBackward(s, z.cpu(), yIn.cpu(), dy.cpu(), gamma.cpu(), meanIn.cpu(), invStdIn.cpu(), dz.cpu(), dyMasked.cpu(), dGamma.cpu(), dBeta.cpu());
            t.gpu.batchNormTrainBackward(s, z.gpu(), yIn.gpu(), dy.gpu(), gamma.gpu(), meanIn.gpu(), invStdIn.gpu(), dz.gpu(), dyMasked.gpu(), dGamma.gpu(), dBeta.gpu());
            t.assertClose("bn dz " + s, dz);
            t.assertClose("bn dyMasked " + s, dyMasked);
            t.assertClose("bn dGamma " + s, dGamma);
            t.assertClose("bn dBeta " + s, dBeta);
        }
    }

    // ------------------------------------------------------------------ element-wise

    @ParameterizedTest(name = "{0}")
    @EnumSource(Precision.class)
    void addInPlaceAndSgdUpdateMatchReference(Precision p) {
        try (CudaTwin t = new CudaTwin(backend(p))) {
            int n = 1_000_003;
            Pair a = t.actNormal(n, 1), b = t.actNormal(n, 1);
            t.cpu.addInPlace(a.cpu(), b.cpu(), n);
            t.gpu.addInPlace(a.gpu(), b.gpu(), n);
            t.assertClose("addInPlace", a);
            Pair w = t.paramNormal(n, 1), g = t.paramNormal(n, 1), v = t.paramNormal(n, 0.1);
            for (int step = 0; step < 3; step++) {
                t.cpu.sgdUpdate(w.cpu(), g.cpu(), v.cpu(), n, 0.1f, 0.9f, 1e-4f);
                t.gpu.sgdUpdate(w.gpu(), g.gpu(), v.gpu(), n, 0.1f, 0.9f, 1e-4f);
            }
            t.assertClose("sgd param", w, n, 1e-5);
            t.assertClose("sgd velocity", v, n, 1e-5);
        }
    }

    /**
     * Loss scaling's unscale (fp32 weight gradients, whatever the activation storage): the same
     * values as the reference bit for bit (a power-of-two factor), and the overflow flag set exactly
     * when an Inf or NaN is present: at the first, a middle or the last element of a count that
     * needs several grid-stride rounds, and for a count of 1. A later clean gradient keeps it set.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Precision.class, names = {"FP32", "FP16"})
    void unscaleGradientScalesAndFlagsInfAndNaN(Precision p) {
        try (CudaTwin t = new CudaTwin(backend(p))) {
            for (int n : new int[]{1, 2_500_011}) {
                float[] base = t.normal(n + 1, 3e4);
                base[n] = Float.NaN;   // one past count: neither scaled nor checked
                for (float poison : new float[]{0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN}) {
                    for (int at : poison == 0f ? new int[]{-1} : n == 1 ? new int[]{0} : new int[]{0, n / 2 + 7, n - 1}) {
                        float[] g = base.clone();
                        if (at >= 0) g[at] = poison;
                        Pair grad = t.param(g), flag = t.param(new float[]{0f});
                        t.cpu.unscaleGradient(grad.cpu(), n, 0x1p-16f, flag.cpu());
                        t.gpu.unscaleGradient(grad.gpu(), n, 0x1p-16f, flag.gpu());
                        String what = p + " count " + n + ", " + poison + " at " + at;
                        float[] want = t.cpuValues(grad), got = t.gpuValues(grad);
                        for (int i = 0; i < g.length; i++) {
                            if (Float.floatToIntBits(want[i]) != Float.floatToIntBits(got[i]) && !(Float.isNaN(want[i]) && Float.isNaN(got[i]))) {
                                throw new AssertionError(what + ": element " + i + " is " + got[i] + ", reference " + want[i]);
                            }
                        }
                        float flagged = at >= 0 ? 1f : 0f;
                        assertEquals(flagged, t.cpuValues(flag)[0], "reference flag, " + what);
                        assertEquals(flagged, t.gpuValues(flag)[0], "CUDA flag, " + what);
                        if (at >= 0) {
                            Pair clean = t.paramNormal(n, 1);
                            t.gpu.unscaleGradient(clean.gpu(), n, 0.5f, flag.gpu());
                            assertEquals(1f, t.gpuValues(flag)[0], "CUDA flag kept after a clean gradient, " + what);
                        }
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------ storage, graphs, memory

    @Test
    void sixteenBitActivationsRoundTripThroughUploadAndKernelOutputs() {
        CudaBackend g = backend(Precision.BF16);
        try (Buffer x = g.allocate(1000); Buffer y = g.allocate(1000)) {
            float[] v = new float[1000];
            for (int i = 0; i < v.length; i++) v[i] = (float) Math.sin(i) * 3;
            g.upload(v, x);
            float[] back = new float[1000];
            g.download(x, back);
            assertArrayEquals(v, back, "a whole upload stores exact fp32");
            PoolSpec s = new PoolSpec(1, 10, 10, 10);
            g.maxPoolAdd(s, x, null, y);
            assertEquals(CudaBuffer.Storage.BF16, ((CudaBuffer) y).storage());
            float[] part = {1.00390625f, 2f};
            g.upload(part, 0, y, 3, 2);
            float[] all = new float[(int) s.outputElements()];
            g.download(y, 0, all, 0, all.length);
            assertEquals(1.0f, all[3], "a partial upload into a bf16 buffer rounds to bf16");
            assertEquals(2f, all[4]);
        }
    }

    @Test
    void capturedGraphReplaysTheSameLaunchesAsEagerExecution() {
        CudaBackend g = (CudaBackend) new CudaBackendProvider().open(0, Precision.BF16);
        try (CudaTwin t = new CudaTwin(g)) {
            ConvSpec s = new ConvSpec(SEPARABLE3X3_SAME, 2, 19, 19, 128, 128, 1, true);
            Pair x = t.actNormal(s.inputElements(), 1), w1 = t.paramNormal(s.w1Elements(), 0.3), w2 = t.paramNormal(s.w2Elements(), 0.1);
            Pair y = t.output(s.outputElements());
            g.conv(s, x.gpu(), w1.gpu(), w2.gpu(), Epilogue.NONE, y.gpu());  // sizes the scratch (x is fp32: converted)
            float[] eager = t.gpuValues(y);
            g.fillNaN(y.gpu());
            g.beginCapture();
            assertThrows(IllegalStateException.class, () -> g.synchronize());
            g.conv(s, x.gpu(), w1.gpu(), w2.gpu(), Epilogue.NONE, y.gpu());
            CudaGraph graph = g.endCapture();
            // the split path (the BF16 default) is pack B + depthwise + GEMM per chunk; fused is one kernel
            SeparableGemmPath.Choice c = SeparableGemmPath.Choice.DEFAULT;
            int convLaunches = c.applies(s, Precision.BF16)
                    ? SeparableGemmPath.plan(s, Precision.BF16, g.limits(), false, c.chunkBytes()).launches().size() : 1;
            assertEquals(1 + convLaunches, graph.launches(), "conversion of the fp32 input + the conv's launches");
            g.replay(graph);
            assertArrayEquals(eager, t.gpuValues(y));
            g.replay(graph);
            assertArrayEquals(eager, t.gpuValues(y));
        } finally {
            g.close();
        }
    }

    @Test
    void arenaBackendCarvesBuffersAndGivesThemBack() {
        CudaBackend g = (CudaBackend) new CudaBackendProvider().open(0, Precision.FP32, CudaBackend.Options.DEFAULT.withArena(64L << 20));
        try {
            long free0 = g.memoryInfo()[0];
            Buffer a = g.allocate(4 << 20);
            Buffer b = g.allocate(4 << 20);
            assertEquals(free0, g.memoryInfo()[0], "arena buffers do not call cuMemAlloc");
            assertThrows(io.jxception.backend.DeviceMemoryException.class, () -> g.allocate(16 << 20));
            a.close();
            b.close();
            g.allocate(16 << 20 - 1024).close();
            assertTrue(g.description().contains("arena"), g.description());
        } finally {
            g.close();
        }
    }
}
