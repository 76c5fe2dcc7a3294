package io.jxception.internal.backend.cuda;

import io.jxception.internal.backend.Buffer;
import io.jxception.internal.backend.ConvSpec;
import io.jxception.backend.Precision;
import io.jxception.internal.backend.cuda.CudaTwin.Pair;
import io.jxception.internal.backend.cuda.PointwiseBackwardPath.Choice;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
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
 * The convolution backward with its GEMMs on tensor cores (cuda/pwbwd.cu, PointwiseBackwardPath: the
 * separable conv's pointwise GEMMs, the 1x1 strided and stem convs' implicit GEMMs) on backends opened
 * with {@code cuda.pwbwd=mma}: against the float64 CPU
 * reference, against the FFMA path ({@code cuda.pwbwd=ffma}) on the same inputs, and bitwise repeated.
 * On compute capability 9.0 the same for {@code cuda.pwbwd=wgmma} (the dgrad on pwgemm_wgmma, the wgrad on
 * pwbwd_wgrad_wgmma), against the reference and the mma path; elsewhere, that the option is refused at open.
 * Outputs start as NaN; inputs are fresh random values every run (the seed is in every failure).
 *
 * <p>Bounds, relative L2 ||got - ref|| / ||ref||:
 * <ul>
 * <li>Against the CPU reference: {@link CudaTwin#tolerance} (2e-2 for BF16/FP16), the bound every
 *     FFMA backward meets in CudaOpsTest, not loosened: the mma path adds one rounding, W2 to 16 bits
 *     (relative rms ~u/sqrt(3): 2.3e-3 bf16, 2.8e-4 fp16; pwbwd_v1's header), well inside it.</li>
 * <li>Against the FFMA path: dw2 1e-3 (both from the same 16-bit d and dz, products exact in fp32, only
 *     the summation differs: pwbwd_v1's wgrad bound); dw1 1e-2 bf16 / 2.5e-3 fp16 (dd differs by W2's
 *     rounding and dd's own rounding in both paths, ~u = 3.9e-3 bf16 / 4.9e-4 fp16 relative: pwbwd_v1's dgrad
 *     bound); dx twice that (dx is rounded to 16 bits once more in each path).</li>
 * <li>wgmma against mma: dw2 within 1e-3 (the same dw_forward, so the same 16-bit d, and the same dz; exact
 *     products, fp32 sums in another order and over other splits: pwbwd_v1's wgrad bound, which a
 *     64-pixel box lost or counted twice exceeds); dd from the same 16-bit dz and W2h, exact products,
 *     fp32 sums in another order: the fp32 sums
 *     differ by ~K 2^-24 of sum |products|, so a 16-bit rounding of dd flips by one unit only near a
 *     tie, and ||dd - dd'|| / ||dd|| <= u (2^-8 bf16, 2^-11 fp16) even if every element flipped; dw1
 *     (linear in dd, fp32) within u, dx (rounded to 16 bits once more) within 2u.</li>
 * </ul>
 */
@Tag("gpu")
class CudaPointwiseBackwardTest {
    /** Backends by (precision, path). */
    private static final CudaTestDevice.Backends<String> backends = new CudaTestDevice.Backends<>();

    @BeforeAll
    static void requireDevice() { CudaTestDevice.assumeAvailable(); }

    @AfterAll
    static void closeAll() {
        backends.close();
    }

    static CudaBackend backend(Precision p, Choice c) {
        return backends.get(p + "/" + c, k -> {
            CudaBackend b = (CudaBackend) new CudaBackendProvider().open(0, p, CudaBackend.Options.DEFAULT.withSyncEachLaunch(true).withPwbwd(c));
            assertEquals(c == Choice.MMA, b.description().contains("mma pointwise backward"), b.description());
            assertEquals(c == Choice.WGMMA, b.description().contains("pointwise backward wgmma dgrad"), b.description());
            return b;
        });
    }

    /** Whether device 0 runs the sm_90a wgmma kernels (compute capability 9.0: H100, H200). */
    static boolean hopper() { return CudaSeparableGemmTest.hopper(); }

    static ConvSpec sep(int n, int hw, int cin, int cout, boolean preRelu) {
        return new ConvSpec(SEPARABLE3X3_SAME, n, hw, hw, cin, cout, 1, preRelu);
    }

    static Stream<Arguments> cases() {
        List<ConvSpec> shapes = List.of(
                sep(2, 19, 728, 728, true),     // middle flow, M = 722: one split, K tail 24, 5.7 column tiles
                sep(8, 19, 728, 728, true),     // M = 2,888: 5 splits and pwbwd_reduce
                sep(1, 37, 64, 128, false),     // block2_sepconv1's channels: half a tile of cin, 2 splits
                sep(2, 37, 128, 128, true),     // block2_sepconv2's channels
                sep(1, 10, 1536, 2048, false),  // exit flow, M = 100 < one row tile
                sep(4, 19, 40, 72, true),       // odd: cin 40, cout 72 (K tail 8, N tail)
                sep(1, 7, 40, 72, false),       // M = 49
                // the 1x1 strided and 3x3 stem convs (pwbwd-5): block2's residual conv, the second stem conv at a
                // reduced size, a pre-activated strided stem with K = 9 x 24 (a tap boundary inside a 32-deep slice)
                new ConvSpec(CONV1X1_SAME, 2, 37, 37, 64, 128, 2, false),
                new ConvSpec(CONV1X1_SAME, 3, 10, 10, 728, 1024, 2, true),
                new ConvSpec(CONV3X3_VALID, 2, 29, 29, 32, 64, 1, false),
                new ConvSpec(CONV3X3_VALID, 1, 31, 31, 16, 24, 2, true));
        List<Arguments> out = new ArrayList<>();
        for (Precision p : new Precision[]{Precision.BF16, Precision.FP16}) {
            for (ConvSpec s : shapes) for (boolean withDx : new boolean[]{true, false}) out.add(Arguments.of(p, s, withDx));
        }
        return out.stream();
    }

    /** The inputs of one backward, on the CPU reference and the mma backend (activations rounded to its storage); w2 only for the separable conv. */
    record Inputs(Pair x, Pair w1, Pair w2, Pair dz) {
        static Inputs random(CudaTwin t, ConvSpec s) {
            return new Inputs(t.actNormal(s.inputElements(), 1), t.paramNormal(s.w1Elements(), 0.3),
                    s.kind() == SEPARABLE3X3_SAME ? t.paramNormal(s.w2Elements(), 0.3) : null, t.actNormal(s.outputElements(), 1));
        }

        Buffer w2Gpu() { return w2 == null ? null : w2.gpu(); }

        Buffer w2Cpu() { return w2 == null ? null : w2.cpu(); }
    }

    /** The separable conv's second weight gradient, or null for the other kinds. */
    static Pair dw2Output(CudaTwin t, ConvSpec s) { return s.kind() == SEPARABLE3X3_SAME ? t.output(s.w2Elements()) : null; }

    /** dx (or null), dw1, dw2 (or null: not separable) of one backward on {@code t.gpu}, into NaN-poisoned outputs. */
    static float[][] gpuBackward(CudaTwin t, ConvSpec s, Inputs in, boolean withDx) {
        Pair dx = withDx ? t.output(s.inputElements()) : null;
        Pair dw1 = t.output(s.w1Elements()), dw2 = dw2Output(t, s);
        t.gpu.convBackward(s, in.x().gpu(), in.w1().gpu(), in.w2Gpu(), in.dz().gpu(), withDx ? dx.gpu() : null, dw1.gpu(), dw2 == null ? null : dw2.gpu());
        return new float[][]{withDx ? t.gpuValues(dx) : null, t.gpuValues(dw1), dw2 == null ? null : t.gpuValues(dw2)};
    }

    @ParameterizedTest(name = "{0} {1} dx={2}")
    @MethodSource("cases")
    void mmaBackwardMatchesReference(Precision p, ConvSpec s, boolean withDx) {
        try (CudaTwin t = new CudaTwin(backend(p, Choice.MMA))) {
            assertTrue(PointwiseBackwardPath.covers(s, p, t.gpu.limits()), "the case runs on the mma path");
            Inputs in = Inputs.random(t, s);
            Pair dx = withDx ? t.output(s.inputElements()) : null;
            Pair dw1 = t.output(s.w1Elements()), dw2 = dw2Output(t, s);
            t.cpu.convBackward(s, in.x().cpu(), in.w1().cpu(), in.w2Cpu(), in.dz().cpu(), withDx ? dx.cpu() : null, dw1.cpu(), dw2 == null ? null : dw2.cpu());
            t.gpu.convBackward(s, in.x().gpu(), in.w1().gpu(), in.w2Gpu(), in.dz().gpu(), withDx ? dx.gpu() : null, dw1.gpu(), dw2 == null ? null : dw2.gpu());
            if (withDx) t.assertClose("mma dx " + s, dx);
            t.assertClose("mma dw1 " + s, dw1);
            if (dw2 != null) t.assertClose("mma dw2 " + s, dw2);
        }
    }

    @ParameterizedTest(name = "{0} {1} dx={2}")
    @MethodSource("cases")
    void mmaBackwardMatchesTheFfmaPathWithinTheRoundingOfW2AndRepeatsBitwise(Precision p, ConvSpec s, boolean withDx) {
        CudaBackend ffma = backend(p, Choice.FFMA);
        try (CudaTwin t = new CudaTwin(backend(p, Choice.MMA))) {
            Inputs in = Inputs.random(t, s);
            long before = t.gpu.launchCount();
            float[][] mma = gpuBackward(t, s, in, withDx);
            long mmaLaunches = t.gpu.launchCount() - before;
            float[][] again = gpuBackward(t, s, in, withDx);
            for (int i = 0; i < 3; i++) assertArrayEquals(mma[i], again[i], "mma backward run twice, output " + i + " (dx, dw1, dw2), " + s);

            // the same stored values on the FFMA backend
            boolean sep = s.kind() == SEPARABLE3X3_SAME;
            Buffer x = upload(ffma, t.cpuValues(in.x())), w1 = upload(ffma, t.cpuValues(in.w1())), w2 = sep ? upload(ffma, t.cpuValues(in.w2())) : null;
            Buffer dz = upload(ffma, t.cpuValues(in.dz()));
            Buffer dx = withDx ? nan(ffma, s.inputElements()) : null, dw1 = nan(ffma, s.w1Elements()), dw2 = sep ? nan(ffma, s.w2Elements()) : null;
            long ffmaBefore = ffma.launchCount();
            ffma.convBackward(s, x, w1, w2, dz, dx, dw1, dw2);
            long ffmaLaunches = ffma.launchCount() - ffmaBefore;
            float[] fdx = withDx ? download(ffma, dx, s.inputElements()) : null, fdw1 = download(ffma, dw1, s.w1Elements());
            float[] fdw2 = sep ? download(ffma, dw2, s.w2Elements()) : null;
            for (Buffer b : new Buffer[]{x, w1, w2, dz, dx, dw1, dw2}) if (b != null) b.close();

            // the mma backend ran its own plan: its launch count differs from FFMA's as the two plans do
            int blocks = t.gpu.residentBlocksPerSm("pwbwd_wgrad_" + CudaLaunchPlan.storageSuffix(p), PointwiseBackwardPath.WGRAD_SHARED_BYTES);
            int planDiff = PointwiseBackwardPath.plan(s, p, t.gpu.limits(), blocks, withDx).launches().size()
                    - CudaLaunchPlan.convBackward(s, p, ffma.limits(), withDx).launches().size();
            assertEquals(planDiff, mmaLaunches - ffmaLaunches, "launches of the mma backward minus the FFMA one");

            boolean bf = p == Precision.BF16;
            double ddBound = bf ? 1e-2 : 2.5e-3;
            if (sep) {
                if (withDx) assertWithin("dx vs FFMA", mma[0], fdx, 2 * ddBound, t, s);
                assertWithin("dw1 vs FFMA", mma[1], fdw1, ddBound, t, s);
                assertWithin("dw2 vs FFMA", mma[2], fdw2, 1e-3, t, s);
            } else {
                // 1x1 and stem: dW from the same 16-bit x and dz (exact products, fp32 sums: wgrad's bound); dx from the
                // 16-bit W (rounded once here, fp32 in the FFMA kernel: W's rounding) and rounded once in both
                if (withDx) assertWithin("dx vs FFMA", mma[0], fdx, ddBound, t, s);
                assertWithin("dw1 vs FFMA", mma[1], fdw1, 1e-3, t, s);
            }
        }
    }

    /**
     * The cases for cuda.pwbwd=wgmma: every shape of {@link #cases} with dx (dx on or off changes only the
     * depthwise launches), plus 2,700 x 1536 -> 136: 22 x 6 tiles of 256 fill 132 SMs, so the 256-wide
     * kernel runs (every other case is 128-wide), M and K (3 boxes of 64, the last 8 deep) end inside a tile;
     * for the wgrad it is a 256-wide tile whose third dz box holds 8 of 64 channels. The wgrad runs one
     * split (M 100, 722), three (M 2,888: pwbwd_reduce) and a cin of 64 (the second warpgroup's box never
     * loaded). Layers the kernels do not cover (cin 40, M 49) run the mma GEMMs: the fallback is checked too.
     */
    static Stream<Arguments> wgmmaCases() {
        List<Arguments> out = new ArrayList<>();
        cases().filter(a -> (Boolean) a.get()[2] && ((ConvSpec) a.get()[1]).kind() == SEPARABLE3X3_SAME).forEach(out::add);
        for (Precision p : new Precision[]{Precision.BF16, Precision.FP16}) out.add(Arguments.of(p, sep(27, 10, 1536, 136, true), true));
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} dx={2}")
    @MethodSource("wgmmaCases")
    void wgmmaBackwardMatchesReference(Precision p, ConvSpec s, boolean withDx) {
        Assumptions.assumeTrue(hopper(), "cuda.pwbwd=wgmma needs a compute capability 9.0 device");
        try (CudaTwin t = new CudaTwin(backend(p, Choice.WGMMA))) {
            assertTrue(Choice.WGMMA.applies(s, p, t.gpu.limits()), "the case runs on the tensor-core path");
            Inputs in = Inputs.random(t, s);
            Pair dx = withDx ? t.output(s.inputElements()) : null;
            Pair dw1 = t.output(s.w1Elements()), dw2 = t.output(s.w2Elements());
            t.cpu.convBackward(s, in.x().cpu(), in.w1().cpu(), in.w2().cpu(), in.dz().cpu(), withDx ? dx.cpu() : null, dw1.cpu(), dw2.cpu());
            t.gpu.convBackward(s, in.x().gpu(), in.w1().gpu(), in.w2().gpu(), in.dz().gpu(), withDx ? dx.gpu() : null, dw1.gpu(), dw2.gpu());
            if (withDx) t.assertClose("wgmma dx " + s, dx);
            t.assertClose("wgmma dw1 " + s, dw1);
            t.assertClose("wgmma dw2 " + s, dw2);
        }
    }

    @ParameterizedTest(name = "{0} {1} dx={2}")
    @MethodSource("wgmmaCases")
    void wgmmaBackwardMatchesTheMmaPathAndRepeatsBitwise(Precision p, ConvSpec s, boolean withDx) {
        Assumptions.assumeTrue(hopper(), "cuda.pwbwd=wgmma needs a compute capability 9.0 device");
        CudaBackend mmaBackend = backend(p, Choice.MMA);
        try (CudaTwin t = new CudaTwin(backend(p, Choice.WGMMA))) {
            Inputs in = Inputs.random(t, s);
            long before = t.gpu.launchCount();
            float[][] wg = gpuBackward(t, s, in, withDx);
            long wgLaunches = t.gpu.launchCount() - before;
            float[][] again = gpuBackward(t, s, in, withDx);
            for (int i = 0; i < 3; i++) assertArrayEquals(wg[i], again[i], "wgmma backward run twice, output " + i + " (dx, dw1, dw2), " + s);

            // the same stored values on the mma backend
            Buffer x = upload(mmaBackend, t.cpuValues(in.x())), w1 = upload(mmaBackend, t.cpuValues(in.w1())), w2 = upload(mmaBackend, t.cpuValues(in.w2()));
            Buffer dz = upload(mmaBackend, t.cpuValues(in.dz()));
            Buffer dx = withDx ? nan(mmaBackend, s.inputElements()) : null, dw1 = nan(mmaBackend, s.w1Elements()), dw2 = nan(mmaBackend, s.w2Elements());
            long mmaBefore = mmaBackend.launchCount();
            mmaBackend.convBackward(s, x, w1, w2, dz, dx, dw1, dw2);
            long mmaLaunches = mmaBackend.launchCount() - mmaBefore;
            float[] mdx = withDx ? download(mmaBackend, dx, s.inputElements()) : null;
            float[] mdw1 = download(mmaBackend, dw1, s.w1Elements()), mdw2 = download(mmaBackend, dw2, s.w2Elements());
            for (Buffer b : new Buffer[]{x, w1, w2, dz, dx, dw1, dw2}) if (b != null) b.close();

            // the wgmma plan replaces the two GEMM launches; the reduce comes and goes with its own split count
            int blocks = mmaBackend.residentBlocksPerSm("pwbwd_wgrad_" + CudaLaunchPlan.storageSuffix(p), PointwiseBackwardPath.WGRAD_SHARED_BYTES);
            int planDiff = PointwiseBackwardPath.plan(s, p, t.gpu.limits(), blocks, withDx, Choice.WGMMA).launches().size()
                    - PointwiseBackwardPath.plan(s, p, mmaBackend.limits(), blocks, withDx, Choice.MMA).launches().size();
            assertEquals(planDiff, wgLaunches - mmaLaunches, "launches of the wgmma backward minus the mma one");
            assertWithin("dw2 vs mma", wg[2], mdw2, 1e-3, t, s);
            double u = p == Precision.BF16 ? 0x1p-8 : 0x1p-11;
            if (withDx) assertWithin("dx vs mma", wg[0], mdx, 2 * u, t, s);
            assertWithin("dw1 vs mma", wg[1], mdw1, u, t, s);
        }
    }

    @Test
    void wgmmaIsRefusedOffHopper() {
        Assumptions.assumeFalse(hopper(), "this device runs wgmma");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new CudaBackendProvider().open(0, Precision.BF16, CudaBackend.Options.DEFAULT.withPwbwd(Choice.WGMMA)).close());
        assertTrue(e.getMessage().contains("9.0") && e.getMessage().contains("cuda.pwbwd=mma"), e.getMessage());
    }

    static Buffer upload(CudaBackend b, float[] v) {
        Buffer buf = b.allocate(v.length);
        b.upload(v, buf);
        return buf;
    }

    static Buffer nan(CudaBackend b, long n) {
        Buffer buf = b.allocate(n);
        b.fillNaN(buf);
        return buf;
    }

    static float[] download(CudaBackend b, Buffer buf, long n) {
        float[] out = new float[Math.toIntExact(n)];
        b.download(buf, out);
        return out;
    }

    static void assertWithin(String what, float[] got, float[] ref, double bound, CudaTwin t, ConvSpec s) {
        for (int i = 0; i < ref.length; i++) assertTrue(Float.isFinite(ref[i]), what + ": reference value " + ref[i] + " at " + i);
        double e = CudaNetworkTest.relError(got, ref);
        assertTrue(e <= bound, String.format("%s %s %s: relative difference %.3g > %.1g, seed %d", what, t.gpu.precision(), s, e, bound, t.seed));
    }
}
