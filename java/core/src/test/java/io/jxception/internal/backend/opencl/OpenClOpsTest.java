package io.jxception.internal.backend.opencl;

import io.jxception.internal.backend.BatchNormSpec;
import io.jxception.internal.backend.ConvSpec;
import io.jxception.internal.backend.Epilogue;
import io.jxception.internal.backend.HeadSpec;
import io.jxception.internal.backend.PoolSpec;
import io.jxception.model.ConvKind;
import io.jxception.model.Pooling;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * Every Backend op on OpenCL against the CPU reference: fresh random inputs, outputs poisoned with
 * NaN, odd spatial sizes (149, 147, 74, 37, 19, 10, 7), batch 1 and 3, channel counts that are not
 * multiples of the 16-wide vectors or the 8-row tiles. fp32 bound: ||cl - ref|| / ||ref|| < 1e-5.
 */
class OpenClOpsTest {
    private static OpenClBackend cl;

    @BeforeAll
    static void open() { cl = OpenClTestSupport.open(); }

    @AfterAll
    static void close() {
        if (cl != null) cl.close();
    }

    /** Epilogue switches: folded BN scale/shift, residual add, ReLU after. */
    record Epi(boolean bn, boolean residual, boolean relu) {
        @Override public String toString() { return (bn ? "bn" : "raw") + (residual ? "+res" : "") + (relu ? "+relu" : ""); }
    }

    static final Epi RAW = new Epi(false, false, false), BN = new Epi(true, false, false), BN_RELU = new Epi(true, false, true),
            BN_RES = new Epi(true, true, false), ALL = new Epi(true, true, true), RES = new Epi(false, true, false);

    static Stream<Arguments> convForwardCases() {
        return Stream.of(
                // separable: n, h, w, cin, cout
                arguments(new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 1, 147, 147, 3, 5, 1, false), RAW),
                arguments(new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 3, 19, 19, 46, 46, 1, true), BN_RES),
                arguments(new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 1, 37, 37, 16, 8, 1, false), BN_RELU),
                arguments(new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 3, 10, 10, 96, 128, 1, false), BN_RELU),
                arguments(new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 1, 7, 7, 800, 24, 1, true), BN),
                // depthwise tiles over the CPU local-memory budget: two channel chunks (768 + 768; 560 + 540)
                arguments(new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 2, 10, 10, 1536, 40, 1, true), BN_RES),
                arguments(new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 1, 16, 16, 1100, 24, 1, false), BN_RELU),
                arguments(new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 3, 74, 74, 8, 13, 1, true), RAW),
                arguments(new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 1, 7, 7, 5, 3, 1, true), ALL),
                arguments(new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 1, 10, 10, 37, 1, 1, true), BN),
                // stem 3x3 valid
                arguments(new ConvSpec(ConvKind.CONV3X3_VALID, 1, 149, 149, 3, 4, 2, false), BN_RELU),
                arguments(new ConvSpec(ConvKind.CONV3X3_VALID, 3, 37, 37, 5, 19, 1, false), BN_RELU),
                arguments(new ConvSpec(ConvKind.CONV3X3_VALID, 1, 19, 19, 2, 32, 2, true), RAW),
                arguments(new ConvSpec(ConvKind.CONV3X3_VALID, 3, 10, 10, 7, 3, 1, false), RES),
                // residual 1x1 stride 2
                arguments(new ConvSpec(ConvKind.CONV1X1_SAME, 1, 147, 147, 4, 8, 2, false), BN),
                arguments(new ConvSpec(ConvKind.CONV1X1_SAME, 3, 37, 37, 46, 64, 2, false), BN),
                arguments(new ConvSpec(ConvKind.CONV1X1_SAME, 3, 19, 19, 19, 37, 2, true), ALL),
                arguments(new ConvSpec(ConvKind.CONV1X1_SAME, 1, 10, 10, 128, 728, 2, false), BN),
                arguments(new ConvSpec(ConvKind.CONV1X1_SAME, 1, 74, 74, 3, 5, 2, false), RAW));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("convForwardCases")
    void convMatchesReference(ConvSpec spec, Epi epi) {
        try (Twin t = new Twin(cl)) {
            Twin.Pair x = t.normal(spec.inputElements(), 1);
            Twin.Pair w1 = t.normal(spec.w1Elements(), 1 / Math.sqrt(spec.kind() == ConvKind.CONV1X1_SAME ? spec.cin() : 9.0 * (spec.kind() == ConvKind.CONV3X3_VALID ? spec.cin() : 1)));
            Twin.Pair w2 = spec.w2Elements() == 0 ? null : t.normal(spec.w2Elements(), 1 / Math.sqrt(spec.cin()));
            Twin.Pair scale = epi.bn() ? t.uniform(spec.cout(), 0.5, 1.5) : null;
            Twin.Pair shift = epi.bn() ? t.normal(spec.cout(), 0.3) : null;
            Twin.Pair res = epi.residual() ? t.normal(spec.outputElements(), 1) : null;
            Twin.Pair y = t.output(spec.outputElements());
            t.cpu.conv(spec, x.cpu(), w1.cpu(), w2 == null ? null : w2.cpu(),
                    new Epilogue(scale == null ? null : scale.cpu(), shift == null ? null : shift.cpu(), res == null ? null : res.cpu(), epi.relu()), y.cpu());
            t.cl.conv(spec, x.cl(), w1.cl(), w2 == null ? null : w2.cl(),
                    new Epilogue(scale == null ? null : scale.cl(), shift == null ? null : shift.cl(), res == null ? null : res.cl(), epi.relu()), y.cl());
            t.assertClose(y, "conv y " + spec + " " + epi);
        }
    }

    static Stream<Arguments> convBackwardCases() {
        return Stream.of(
                arguments(new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 3, 19, 19, 46, 37, 1, true), true),
                arguments(new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 1, 37, 37, 8, 16, 1, false), true),
                arguments(new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 3, 10, 10, 96, 128, 1, true), false),
                arguments(new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 1, 147, 147, 3, 5, 1, false), true),
                arguments(new ConvSpec(ConvKind.CONV3X3_VALID, 3, 37, 37, 3, 8, 2, false), true),
                arguments(new ConvSpec(ConvKind.CONV3X3_VALID, 1, 19, 19, 5, 19, 1, true), true),
                arguments(new ConvSpec(ConvKind.CONV3X3_VALID, 1, 149, 149, 3, 4, 2, false), false),
                arguments(new ConvSpec(ConvKind.CONV1X1_SAME, 3, 37, 37, 19, 46, 2, false), true),
                arguments(new ConvSpec(ConvKind.CONV1X1_SAME, 1, 10, 10, 37, 8, 2, true), true),
                arguments(new ConvSpec(ConvKind.CONV1X1_SAME, 1, 147, 147, 4, 8, 2, false), true),
                arguments(new ConvSpec(ConvKind.CONV1X1_SAME, 3, 7, 7, 64, 128, 2, false), false));
    }

    @ParameterizedTest(name = "{0} dx={1}")
    @MethodSource("convBackwardCases")
    void convBackwardMatchesReference(ConvSpec spec, boolean withDx) {
        try (Twin t = new Twin(cl)) {
            Twin.Pair x = t.normal(spec.inputElements(), 1);
            Twin.Pair w1 = t.normal(spec.w1Elements(), 0.3);
            Twin.Pair w2 = spec.w2Elements() == 0 ? null : t.normal(spec.w2Elements(), 0.3);
            Twin.Pair dz = t.normal(spec.outputElements(), 1);
            Twin.Pair dx = withDx ? t.output(spec.inputElements()) : null;
            Twin.Pair dw1 = t.output(spec.w1Elements());
            Twin.Pair dw2 = w2 == null ? null : t.output(spec.w2Elements());
            t.cpu.convBackward(spec, x.cpu(), w1.cpu(), w2 == null ? null : w2.cpu(), dz.cpu(), dx == null ? null : dx.cpu(), dw1.cpu(), dw2 == null ? null : dw2.cpu());
            t.cl.convBackward(spec, x.cl(), w1.cl(), w2 == null ? null : w2.cl(), dz.cl(), dx == null ? null : dx.cl(), dw1.cl(), dw2 == null ? null : dw2.cl());
            if (dx != null) t.assertClose(dx, "dx " + spec);
            t.assertClose(dw1, "dw1 " + spec);
            if (dw2 != null) t.assertClose(dw2, "dw2 " + spec);
        }
    }

    static Stream<Arguments> poolCases() {
        return Stream.of(arguments(new PoolSpec(1, 147, 147, 8), true), arguments(new PoolSpec(3, 37, 37, 46), true),
                arguments(new PoolSpec(3, 10, 10, 19), false), arguments(new PoolSpec(1, 19, 19, 5), true),
                arguments(new PoolSpec(1, 74, 74, 3), true), arguments(new PoolSpec(3, 7, 7, 128), false));
    }

    @ParameterizedTest(name = "{0} residual={1}")
    @MethodSource("poolCases")
    void maxPoolAddMatchesReference(PoolSpec spec, boolean residual) {
        try (Twin t = new Twin(cl)) {
            Twin.Pair x = t.normal(spec.inputElements(), 1);
            Twin.Pair r = residual ? t.normal(spec.outputElements(), 1) : null;
            Twin.Pair y = t.output(spec.outputElements());
            t.cpu.maxPoolAdd(spec, x.cpu(), r == null ? null : r.cpu(), y.cpu());
            t.cl.maxPoolAdd(spec, x.cl(), r == null ? null : r.cl(), y.cl());
            t.assertClose(y, "maxPoolAdd " + spec);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("poolCases")
    void maxPoolBackwardMatchesReference(PoolSpec spec) {
        try (Twin t = new Twin(cl)) {
            Twin.Pair x = t.normal(spec.inputElements(), 1);
            Twin.Pair dy = t.normal(spec.outputElements(), 1);
            Twin.Pair dx = t.output(spec.inputElements());
            t.cpu.maxPoolBackward(spec, x.cpu(), dy.cpu(), dx.cpu());
            t.cl.maxPoolBackward(spec, x.cl(), dy.cl(), dx.cl());
            t.assertClose(dx, "maxPoolBackward " + spec);
        }
    }

    @Test
    void maxPoolBackwardRoutesTiesToTheFirstMaximumOfEachWindow() {
        // A constant input ties every window: each dy must go to the window's first valid tap only.
        PoolSpec spec = new PoolSpec(1, 7, 7, 3);
        try (Twin t = new Twin(cl)) {
            Twin.Pair x = t.of(new float[(int) spec.inputElements()]);
            Twin.Pair dy = t.normal(spec.outputElements(), 1);
            Twin.Pair dx = t.output(spec.inputElements());
            t.cpu.maxPoolBackward(spec, x.cpu(), dy.cpu(), dx.cpu());
            t.cl.maxPoolBackward(spec, x.cl(), dy.cl(), dx.cl());
            t.assertClose(dx, "maxPoolBackward ties");
        }
    }

    static Stream<HeadSpec> headCases() {
        return Stream.of(new HeadSpec(3, 10, 10, 64, Pooling.AVG, true, 37), new HeadSpec(1, 7, 7, 19, Pooling.AVG, true, 5),
                new HeadSpec(3, 10, 10, 46, Pooling.AVG, false, 0), new HeadSpec(1, 7, 7, 19, Pooling.MAX, false, 0),
                new HeadSpec(2, 3, 3, 2048, Pooling.AVG, true, 1000));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("headCases")
    void headMatchesReference(HeadSpec spec) {
        try (Twin t = new Twin(cl)) {
            Twin.Pair x = t.normal((long) spec.n() * spec.h() * spec.w() * spec.channels(), 1);
            boolean bias = spec.classes() != 5; // one case without bias
            Twin.Pair k = spec.dense() ? t.normal((long) spec.channels() * spec.classes(), 1 / Math.sqrt(spec.channels()) * 4) : null;
            Twin.Pair b = spec.dense() && bias ? t.normal(spec.classes(), 0.5) : null;
            Twin.Pair y = t.output(spec.outputElements());
            t.cpu.head(spec, x.cpu(), k == null ? null : k.cpu(), b == null ? null : b.cpu(), y.cpu());
            t.cl.head(spec, x.cl(), k == null ? null : k.cl(), b == null ? null : b.cl(), y.cl());
            t.assertClose(y, "head " + spec);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("headCases")
    void headTrainMatchesReference(HeadSpec spec) {
        if (!spec.dense()) return;
        try (Twin t = new Twin(cl)) {
            int n = spec.n(), c = spec.channels(), classes = spec.classes();
            long xs = (long) n * spec.h() * spec.w() * c;
            Twin.Pair x = t.normal(xs, 1);
            boolean bias = classes != 5;
            Twin.Pair k = t.normal((long) c * classes, 4 / Math.sqrt(c));
            Twin.Pair b = bias ? t.normal(classes, 0.5) : null;
            float[] labels = new float[n];
            for (int i = 0; i < n; i++) labels[i] = t.rnd.nextInt(classes);
            Twin.Pair lab = t.of(labels);
            float[] unscaledDx = null;
            for (float scale : new float[]{1f, 1024f}) {   // 1024: the loss scale multiplies every gradient, not the loss
                Twin.Pair probs = t.output((long) n * classes), loss = t.output(n), dx = t.output(xs), dk = t.output((long) c * classes);
                Twin.Pair db = bias ? t.output(classes) : null;
                t.cpu.headTrain(spec, x.cpu(), k.cpu(), b == null ? null : b.cpu(), lab.cpu(), probs.cpu(), loss.cpu(), dx.cpu(), dk.cpu(), db == null ? null : db.cpu(), scale);
                t.cl.headTrain(spec, x.cl(), k.cl(), b == null ? null : b.cl(), lab.cl(), probs.cl(), loss.cl(), dx.cl(), dk.cl(), db == null ? null : db.cl(), scale);
                String what = "headTrain (loss scale " + scale + ") ";
                t.assertClose(probs, what + "probs " + spec);
                t.assertClose(loss, what + "loss " + spec);
                t.assertClose(dx, what + "dX " + spec);
                t.assertClose(dk, what + "dKernel " + spec);
                if (db != null) t.assertClose(db, what + "dBias " + spec);
                float[] dxRef = t.cpuValues(dx);
                if (unscaledDx == null) {
                    unscaledDx = dxRef;
                } else {
                    for (int i = 0; i < dxRef.length; i++) assertEquals(unscaledDx[i] * scale, dxRef[i], 0f, "reference dX[" + i + "] scales exactly");
                }
            }
        }
    }

    /**
     * Loss scaling's unscale on OpenCL and the reference: the same scaled values, and the overflow
     * flag set exactly when an Inf or NaN is present, wherever it sits (in a 16-wide vector or the
     * tail), and never cleared by a later clean gradient.
     */
    @Test
    void unscaleGradientScalesAndFlagsInfAndNaNLikeTheReference() {
        try (Twin t = new Twin(cl)) {
            for (int count : new int[]{1, 15, 16, 12345}) {
                for (float poison : new float[]{0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN}) {
                    for (int at : poison == 0f ? new int[]{-1} : new int[]{0, count - 1, count / 2}) {
                        float[] g = new float[count + 3];
                        for (int i = 0; i < g.length; i++) g[i] = (float) (t.rnd.nextGaussian() * 4096);
                        g[count] = Float.NaN;   // past count: must be neither scaled nor checked
                        if (at >= 0) g[at] = poison;
                        Twin.Pair grad = t.of(g), flag = t.of(new float[]{0f});
                        t.cpu.unscaleGradient(grad.cpu(), count, 0x1p-10f, flag.cpu());
                        t.cl.unscaleGradient(grad.cl(), count, 0x1p-10f, flag.cl());
                        String what = "count " + count + ", " + poison + " at " + at;
                        float[] want = t.cpuValues(grad), got = t.clValues(grad);
                        for (int i = 0; i < g.length; i++) {
                            float expect = i < count ? g[i] * 0x1p-10f : g[i];
                            assertEquals(expect, want[i], 0f, "reference " + what + " element " + i);
                            assertEquals(expect, got[i], 0f, "opencl " + what + " element " + i);
                        }
                        float flagged = at >= 0 ? 1f : 0f;
                        assertEquals(flagged, t.cpuValues(flag)[0], "reference flag, " + what);
                        assertEquals(flagged, t.clValues(flag)[0], "opencl flag, " + what);
                        if (at >= 0) {   // a clean gradient after an overflow leaves the flag set
                            Twin.Pair clean = t.normal(count, 1);
                            t.cpu.unscaleGradient(clean.cpu(), count, 0.5f, flag.cpu());
                            t.cl.unscaleGradient(clean.cl(), count, 0.5f, flag.cl());
                            assertEquals(1f, t.cpuValues(flag)[0], "reference flag kept, " + what);
                            assertEquals(1f, t.clValues(flag)[0], "opencl flag kept, " + what);
                        }
                    }
                }
            }
        }
    }

    @Test
    void headTrainRejectsALabelOutsideTheClasses() {
        HeadSpec spec = new HeadSpec(1, 3, 3, 8, Pooling.AVG, true, 4);
        try (Twin t = new Twin(cl)) {
            Twin.Pair x = t.normal(72, 1), k = t.normal(32, 1), lab = t.of(new float[]{4});
            Twin.Pair probs = t.output(4), loss = t.output(1), dx = t.output(72), dk = t.output(32);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> t.cl.headTrain(spec, x.cl(), k.cl(), null, lab.cl(), probs.cl(), loss.cl(), dx.cl(), dk.cl(), null, 1f));
            assertTrue(e.getMessage().contains("label"), e.getMessage());
        }
    }

    static Stream<Arguments> batchNormCases() {
        return Stream.of(
                arguments(new BatchNormSpec(3L * 19 * 19, 46, BatchNormSpec.KERAS_EPSILON, BatchNormSpec.KERAS_MOMENTUM, true, true)),
                arguments(new BatchNormSpec(147L * 147, 5, BatchNormSpec.KERAS_EPSILON, BatchNormSpec.KERAS_MOMENTUM, false, false)),
                arguments(new BatchNormSpec(3L * 10 * 10, 128, BatchNormSpec.KERAS_EPSILON, BatchNormSpec.KERAS_MOMENTUM, true, false)),
                arguments(new BatchNormSpec(7L * 7, 37, 1e-5, 0.9, false, true)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("batchNormCases")
    void batchNormTrainMatchesReference(BatchNormSpec spec) {
        try (Twin t = new Twin(cl)) {
            int c = spec.channels();
            Twin.Pair z = t.normal(spec.elements(), 2);
            // shift each channel away from zero so the mean matters
            float[] zv = t.cpuValues(z);
            for (int i = 0; i < zv.length; i++) zv[i] += 0.5f * (i % c) - 3;
            z = t.of(zv);
            Twin.Pair gamma = t.uniform(c, 0.5, 1.5), beta = t.normal(c, 0.3);
            Twin.Pair res = spec.residual() ? t.normal(spec.elements(), 1) : null;
            Twin.Pair y = t.output(spec.elements()), mean = t.output(c), invStd = t.output(c);
            Twin.Pair mm = t.normal(c, 0.1), mv = t.uniform(c, 0.5, 1.5);
            t.cpu.batchNormTrain(spec, z.cpu(), gamma.cpu(), beta.cpu(), res == null ? null : res.cpu(), y.cpu(), mean.cpu(), invStd.cpu(), mm.cpu(), mv.cpu());
            t.cl.batchNormTrain(spec, z.cl(), gamma.cl(), beta.cl(), res == null ? null : res.cl(), y.cl(), mean.cl(), invStd.cl(), mm.cl(), mv.cl());
            t.assertClose(y, "bn y " + spec);
            t.assertClose(mean, "bn mean " + spec);
            t.assertClose(invStd, "bn invStd " + spec);
            t.assertClose(mm, "bn movingMean " + spec);
            t.assertClose(mv, "bn movingVar " + spec);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("batchNormCases")
    void batchNormTrainBackwardMatchesReference(BatchNormSpec spec) {
        try (Twin t = new Twin(cl)) {
            int c = spec.channels();
            Twin.Pair z = t.normal(spec.elements(), 2), gamma = t.uniform(c, 0.5, 1.5), beta = t.normal(c, 0.3);
            Twin.Pair y = t.output(spec.elements()), mean = t.output(c), invStd = t.output(c);
            Twin.Pair mm = t.normal(c, 0.1), mv = t.uniform(c, 0.5, 1.5);
            Twin.Pair res = spec.residual() ? t.normal(spec.elements(), 1) : null;
            // the forward on the reference provides y, mean, invStd for both sides
            t.cpu.batchNormTrain(spec, z.cpu(), gamma.cpu(), beta.cpu(), res == null ? null : res.cpu(), y.cpu(), mean.cpu(), invStd.cpu(), mm.cpu(), mv.cpu());
            y = t.of(t.cpuValues(y));
            mean = t.of(t.cpuValues(mean));
            invStd = t.of(t.cpuValues(invStd));
            Twin.Pair dy = t.normal(spec.elements(), 1);
            Twin.Pair dz = t.output(spec.elements()), dym = spec.residual() ? t.output(spec.elements()) : null;
            Twin.Pair dg = t.output(c), db = t.output(c);
            t.cpu.batchNormTrainBackward(spec, z.cpu(), y.cpu(), dy.cpu(), gamma.cpu(), mean.cpu(), invStd.cpu(), dz.cpu(), dym == null ? null : dym.cpu(), dg.cpu(), db.cpu());
            t.cl.batchNormTrainBackward(spec, z.cl(), y.cl(), dy.cl(), gamma.cl(), mean.cl(), invStd.cl(), dz.cl(), dym == null ? null : dym.cl(), dg.cl(), db.cl());
            t.assertClose(dz, "bn dz " + spec);
            if (dym != null) t.assertClose(dym, "bn dyMasked " + spec);
            t.assertClose(dg, "bn dGamma " + spec);
            t.assertClose(db, "bn dBeta " + spec);
        }
    }

    @Test
    void addInPlaceAndSgdUpdateHandleCountsThatAreNotMultiplesOf16() {
        try (Twin t = new Twin(cl)) {
            for (int count : new int[]{1, 15, 16, 12345}) {
                Twin.Pair dst = t.normal(count + 3, 1), src = t.normal(count + 3, 1);
                t.cpu.addInPlace(dst.cpu(), src.cpu(), count);
                t.cl.addInPlace(dst.cl(), src.cl(), count);
                t.assertClose(dst, "addInPlace " + count);
                Twin.Pair p = t.normal(count + 5, 1), g = t.normal(count + 5, 1), v = t.normal(count + 5, 0.1);
                t.cpu.sgdUpdate(p.cpu(), g.cpu(), v.cpu(), count, 0.05f, 0.9f, 1e-4f);
                t.cl.sgdUpdate(p.cl(), g.cl(), v.cl(), count, 0.05f, 0.9f, 1e-4f);
                t.assertClose(p, "sgd param " + count);
                t.assertClose(v, "sgd velocity " + count);
            }
        }
    }

    @Test
    void buffersOfAnotherBackendAreRejectedWithTheirRole() {
        try (Twin t = new Twin(cl)) {
            ConvSpec spec = new ConvSpec(ConvKind.CONV1X1_SAME, 1, 7, 7, 4, 4, 2, false);
            Twin.Pair x = t.normal(spec.inputElements(), 1), w = t.normal(spec.w1Elements(), 1), y = t.output(spec.outputElements());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> t.cl.conv(spec, x.cpu(), w.cl(), null, Epilogue.NONE, y.cl()));
            assertTrue(e.getMessage().contains("conv x"), e.getMessage());
            IllegalArgumentException small = assertThrows(IllegalArgumentException.class,
                    () -> t.cl.conv(spec, x.cl(), w.cl(), null, Epilogue.NONE, cl.allocate(3)));
            assertTrue(small.getMessage().contains("needs " + spec.outputElements()), small.getMessage());
        }
    }

    @Test
    void nameAndPrecisionDescribeTheDevice() {
        assertEquals("opencl:0", cl.name());
        assertTrue(cl.description().contains("fp32"), cl.description());
    }
}
