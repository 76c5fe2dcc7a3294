package io.jxception.internal.backend.cuda;

import io.jxception.internal.exec.ForwardSession;
import io.jxception.internal.backend.ConvSpec;
import io.jxception.internal.backend.Epilogue;
import io.jxception.backend.Precision;
import io.jxception.internal.backend.cpu.CpuBackend;
import io.jxception.internal.backend.cuda.CudaTwin.Pair;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Tensor;
import io.jxception.weights.XceptionWeights;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
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

import static io.jxception.model.ConvKind.SEPARABLE3X3_SAME;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The split separable conv (SeparableGemmPath, cuda/sepgemm.cu: depthwise into a 16-bit A, then a
 * tensor-core GEMM with the BN/residual/ReLU epilogue) on backends opened with
 * {@code -Djxception.cuda.sepconv=split}: every op against the CPU reference (bound 2e-2 relative,
 * NaN-poisoned outputs) at odd and Xception shapes, with A cut into several chunks; bitwise
 * determinism; and whole networks against the reference and against the fused path. On compute
 * capability 9.0 the same cases with the Hopper kernels (cuda.pointwise=wgmma, split and fused), against
 * the reference and the mma.sync path; elsewhere, that the option is refused.
 */
@Tag("gpu")
class CudaSeparableGemmTest {
    /** Backends by (precision, MiB of A per chunk); with the wgmma pointwise GEMM by the same key. */
    private static final CudaTestDevice.Backends<String> backends = new CudaTestDevice.Backends<>();
    private static final CudaTestDevice.Backends<String> wgmmaBackends = new CudaTestDevice.Backends<>();

    @BeforeAll
    static void requireDevice() { CudaTestDevice.assumeAvailable(); }

    @AfterAll
    static void closeAll() {
        backends.close();
        wgmmaBackends.close();
    }

    /** Opens a backend with the split path forced; see {@link #openWith}. */
    static CudaBackend openSplit(Precision p, long chunkMiB, boolean syncEachLaunch) { return openWith(p, "split", chunkMiB, syncEachLaunch); }

    /** Opens a backend with sepconv path {@code mode} (backend options cuda.sepconv and cuda.sepconvChunkMiB). */
    static CudaBackend openWith(Precision p, String mode, long chunkMiB, boolean syncEachLaunch) {
        CudaBackend b = (CudaBackend) new CudaBackendProvider().open(0, p, CudaBackend.Options.DEFAULT.withSyncEachLaunch(syncEachLaunch)
                .withSepconv(SeparableGemmPath.Choice.parse(mode, Long.toString(chunkMiB))));
        assertEquals(mode.equals("split"), b.description().contains("split sepconv"), b.description());
        return b;
    }

    /** Whether device 0 runs the sm_90a wgmma kernels (compute capability 9.0: H100, H200). */
    static boolean hopper() {
        CudaBackendProvider.DeviceInfo d = CudaBackendProvider.DeviceInfo.query(0);
        return d.ccMajor() == 9 && d.ccMinor() == 0;
    }

    /**
     * A backend with the Hopper kernels (option cuda.pointwise=wgmma): mode "split" runs sepgemm_dw +
     * pwgemm_wgmma, "fused" the fused sepconv_wgmma.
     */
    static CudaBackend openWgmma(Precision p, String mode, long chunkMiB, boolean syncEachLaunch) {
        CudaBackend b = (CudaBackend) new CudaBackendProvider().open(0, p, CudaBackend.Options.DEFAULT.withSyncEachLaunch(syncEachLaunch)
                .withSepconv(SeparableGemmPath.Choice.parse(mode, Long.toString(chunkMiB), "wgmma")));
        assertTrue(b.description().contains(mode.equals("split") ? "wgmma pointwise" : "fused wgmma sepconv"), b.description());
        return b;
    }

    static CudaBackend backend(Precision p, long chunkMiB) {
        return backends.get(p + "/" + chunkMiB, k -> openSplit(p, chunkMiB, true));
    }

    record Case(ConvSpec spec, boolean scaleShift, boolean residual, boolean relu, long chunkMiB) {
        @Override public String toString() {
            return spec.n() + "x" + spec.h() + "x" + spec.w() + " " + spec.cin() + "->" + spec.cout() + (spec.preRelu() ? " preRelu" : "")
                    + (scaleShift ? " bn" : "") + (residual ? " +res" : "") + (relu ? " relu" : "") + " chunk " + chunkMiB + " MiB";
        }
    }

    static ConvSpec sep(int n, int h, int w, int cin, int cout, boolean preRelu) {
        return new ConvSpec(SEPARABLE3X3_SAME, n, h, w, cin, cout, 1, preRelu);
    }

    /** Every case for both Hopper modes in BF16/FP16, and split (the only TF32 Hopper path) in TF32. */
    static Stream<Arguments> wgmmaCases() {
        Stream<Arguments> sixteen = cases().flatMap(a -> Stream.of("split", "fused").map(mode -> Arguments.of(a.get()[0], a.get()[1], mode)));
        return Stream.concat(sixteen, shapes().stream().map(c -> Arguments.of(Precision.TF32, c, "split")));
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Precision p : new Precision[]{Precision.BF16, Precision.FP16}) for (Case c : shapes()) out.add(Arguments.of(p, c));
        return out.stream();
    }

    static List<Case> shapes() {
        return List.of(
                new Case(sep(3, 7, 7, 17, 33, true), true, true, true, 96),          // odd K and N: padding of A and B, scalar loads and stores
                new Case(sep(3, 7, 10, 46, 46, true), true, false, true, 96),
                new Case(sep(2, 19, 19, 46, 46, false), false, false, true, 96),     // no BN: raw z (training forward)
                new Case(sep(3, 19, 19, 728, 728, true), true, true, false, 96),     // middle flow, M = 1083 (a partial row tile)
                new Case(sep(3, 19, 19, 728, 728, true), true, true, true, 1),       // ... in 1 MiB chunks: 712 rows per chunk
                new Case(sep(1, 37, 37, 64, 128, false), true, false, false, 96),    // block2_sepconv1 shape
                new Case(sep(2, 37, 37, 256, 728, true), true, false, false, 1),     // block4_sepconv1, 2 chunks
                new Case(sep(1, 10, 10, 1536, 2048, false), true, false, true, 96)); // exit flow, block14 (post-ReLU)
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void splitSepconvMatchesReference(Precision p, Case c) {
        ConvSpec s = c.spec();
        try (CudaTwin t = new CudaTwin(backend(p, c.chunkMiB()))) {
            Pair x = t.actNormal(s.inputElements(), 1);
            Pair w1 = t.paramNormal(s.w1Elements(), 1 / 3.0);
            Pair w2 = t.paramNormal(s.w2Elements(), Math.sqrt(2.0 / s.cin()));
            Pair scale = c.scaleShift() ? t.param(t.uniform(s.cout(), 0.5, 1.5)) : null;
            Pair shift = c.scaleShift() ? t.paramNormal(s.cout(), 0.1) : null;
            Pair res = c.residual() ? t.actNormal(s.outputElements(), 1) : null;
            Pair y = t.output(s.outputElements());
            t.cpu.conv(s, x.cpu(), w1.cpu(), w2.cpu(),
                    new Epilogue(scale == null ? null : scale.cpu(), shift == null ? null : shift.cpu(), res == null ? null : res.cpu(), c.relu()), y.cpu());
            Epilogue ge = new Epilogue(scale == null ? null : scale.gpu(), shift == null ? null : shift.gpu(), res == null ? null : res.gpu(), c.relu());
            t.gpu.conv(s, x.gpu(), w1.gpu(), w2.gpu(), ge, y.gpu());
            t.assertClose("split sepconv " + c, y);
            // bitwise deterministic: the same inputs into a second NaN-poisoned output
            Pair y2 = t.output(s.outputElements());
            t.gpu.conv(s, x.gpu(), w1.gpu(), w2.gpu(), ge, y2.gpu());
            assertArrayEquals(t.gpuValues(y), t.gpuValues(y2), "split sepconv " + c + " run twice");
        }
    }

    /**
     * The Hopper kernels (cuda.pointwise=wgmma; split: sepgemm_dw + pwgemm_wgmma, fused: sepconv_wgmma;
     * layers they do not cover run the mma.sync kernels in the same backend) against the CPU reference
     * (2e-2; TF32 5e-3) and against the mma.sync path on the same inputs (split for 16-bit, the fused
     * conv for TF32): 16-bit paths round A to 16 bits the same way and accumulate the same products in
     * fp32, so they differ only where the summation order moves the final rounding: bound 2e-3 relative.
     * TF32: wgmma truncates the fp32 A to tf32 where mma.sync rounds it: bound 5e-3. Bitwise repeatable.
     */
    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("wgmmaCases")
    void wgmmaSepconvMatchesReferenceAndTheMmaPath(Precision p, Case c, String mode) {
        Assumptions.assumeTrue(hopper(), "cuda.pointwise=wgmma needs a compute capability 9.0 device");
        ConvSpec s = c.spec();
        CudaBackend mma = backend(p, c.chunkMiB());
        try (CudaTwin t = new CudaTwin(wgmmaBackends.get(p + "/" + mode + "/" + c.chunkMiB(), k -> openWgmma(p, mode, c.chunkMiB(), true)))) {
            float[] xv = t.normal(s.inputElements(), 1), w1v = t.normal(s.w1Elements(), 1 / 3.0), w2v = t.normal(s.w2Elements(), Math.sqrt(2.0 / s.cin()));
            float[] scv = c.scaleShift() ? t.uniform(s.cout(), 0.5, 1.5) : null, shv = c.scaleShift() ? t.normal(s.cout(), 0.1) : null;
            float[] resv = c.residual() ? t.normal(s.outputElements(), 1) : null;
            Pair x = t.act(xv), w1 = t.param(w1v), w2 = t.param(w2v);
            Pair scale = scv == null ? null : t.param(scv), shift = shv == null ? null : t.param(shv), res = resv == null ? null : t.act(resv);
            Pair y = t.output(s.outputElements());
            t.cpu.conv(s, x.cpu(), w1.cpu(), w2.cpu(),
                    new Epilogue(scale == null ? null : scale.cpu(), shift == null ? null : shift.cpu(), res == null ? null : res.cpu(), c.relu()), y.cpu());
            Epilogue ge = new Epilogue(scale == null ? null : scale.gpu(), shift == null ? null : shift.gpu(), res == null ? null : res.gpu(), c.relu());
            t.gpu.conv(s, x.gpu(), w1.gpu(), w2.gpu(), ge, y.gpu());
            t.assertClose(mode + " wgmma sepconv " + c, y);
            float[] got = t.gpuValues(y);
            Pair y2 = t.output(s.outputElements());
            t.gpu.conv(s, x.gpu(), w1.gpu(), w2.gpu(), ge, y2.gpu());
            assertArrayEquals(got, t.gpuValues(y2), mode + " wgmma sepconv " + c + " run twice");
            // the same inputs through the mma.sync GEMM
            try (CudaTwin m = new CudaTwin(mma)) {
                Pair mx = m.act(xv), mw1 = m.param(w1v), mw2 = m.param(w2v);
                Pair ms = scv == null ? null : m.param(scv), mh = shv == null ? null : m.param(shv), mr = resv == null ? null : m.act(resv);
                Pair my = m.output(s.outputElements());
                m.gpu.conv(s, mx.gpu(), mw1.gpu(), mw2.gpu(), new Epilogue(ms == null ? null : ms.gpu(), mh == null ? null : mh.gpu(),
                        mr == null ? null : mr.gpu(), c.relu()), my.gpu());
                double e = CudaNetworkTest.relError(got, m.gpuValues(my));
                double bound = p == Precision.TF32 ? 5e-3 : 2e-3;
                assertTrue(e <= bound, p + " " + mode + " wgmma vs mma.sync " + c + ": relative difference " + e + " (seed " + t.seed + ")");
            }
        }
    }

    @Test
    void wgmmaIsRefusedOffHopper() {
        Assumptions.assumeFalse(hopper(), "this device runs wgmma");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> openWgmma(Precision.BF16, "split", 96, false));
        assertTrue(e.getMessage().contains("9.0") && e.getMessage().contains("cuda.pointwise=mma"), e.getMessage());
    }

    static Stream<Arguments> wgmmaModes() {
        return Stream.concat(Stream.of(Precision.BF16, Precision.FP16).flatMap(p -> Stream.of(Arguments.of(p, "split"), Arguments.of(p, "fused"))),
                Stream.of(Arguments.of(Precision.TF32, "split")));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("wgmmaModes")
    void fullSizeNetworkWithWgmmaMatchesMmaAndReplaysBitwise(Precision p, String mode) {
        Assumptions.assumeTrue(hopper(), "cuda.pointwise=wgmma needs a compute capability 9.0 device");
        XceptionGraph g = XceptionGraph.build(XceptionConfig.imagenet());
        XceptionWeights w = XceptionWeights.random(g, 5);
        int batch = 4;
        try (CudaBackend mmaBackend = openSplit(p, 96, false); ForwardSession mma = new ForwardSession(mmaBackend, w, batch);
             CudaBackend wgmmaBackend = openWgmma(p, mode, 96, false); ForwardSession wgmma = new ForwardSession(wgmmaBackend, w, batch)) {
            Tensor x = CudaNetworkTest.randomImages(wgmma.inputShape(batch), 13);
            float[] want = mma.run(x).data();
            float[] eager = wgmma.run(x).data();      // eager: sizes the scratch
            float[] recorded = wgmma.run(x).data();   // captured as a CUDA graph (the tensor maps are captured by value)
            float[] replayed = wgmma.run(x).data();
            double e = CudaNetworkTest.relError(eager, want);
            assertTrue(e <= CudaNetworkTest.networkTolerance(p), p + " " + mode + ": wgmma vs split mma.sync network relative error " + e);
            assertArrayEquals(eager, recorded, "graph capture changes the output");
            assertArrayEquals(eager, replayed, "graph replay changes the output");
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Precision.class, names = {"BF16", "FP16"})
    void reducedWidthNetworkOnTheSplitPathMatchesReferenceAndReplaysBitwise(Precision p) {
        XceptionGraph g = XceptionGraph.build(XceptionConfig.tiny(71, 10));
        XceptionWeights w = XceptionWeights.random(g, 11);
        int batch = 3;
        try (CpuBackend cpu = new CpuBackend(); ForwardSession ref = new ForwardSession(cpu, w, batch);
             CudaBackend cuda = openSplit(p, 96, false); ForwardSession s = new ForwardSession(cuda, w, batch)) {
            Tensor x = CudaNetworkTest.randomImages(s.inputShape(batch), 5);
            float[] want = ref.run(x).data();
            float[] eager = s.run(x).data();      // eager: sizes the scratch (A chunk, packed B)
            float[] recorded = s.run(x).data();   // captured as a CUDA graph
            float[] replayed = s.run(x).data();   // replayed
            double e = CudaNetworkTest.relError(eager, want);
            assertTrue(e <= CudaNetworkTest.networkTolerance(p), p + ": relative error " + e);
            assertArrayEquals(eager, recorded, "graph capture changes the output");
            assertArrayEquals(eager, replayed, "graph replay changes the output");
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Precision.class, names = {"BF16", "FP16"})
    void fullSizeNetworkSplitMatchesFused(Precision p) {
        XceptionGraph g = XceptionGraph.build(XceptionConfig.imagenet());
        XceptionWeights w = XceptionWeights.random(g, 3);
        int batch = 4;
        try (CudaBackend fusedBackend = openWith(p, "fused", 96, false); ForwardSession fused = new ForwardSession(fusedBackend, w, batch);
             CudaBackend splitBackend = openSplit(p, 96, false); ForwardSession split = new ForwardSession(splitBackend, w, batch)) {
            Tensor x = CudaNetworkTest.randomImages(split.inputShape(batch), 9);
            float[] want = fused.run(x).data();
            float[] got = split.run(x).data();
            double e = CudaNetworkTest.relError(got, want);
            assertTrue(e <= CudaNetworkTest.networkTolerance(p), p + ": split vs fused relative error " + e);
            assertArrayEquals(got, split.run(x).data(), "the split network run twice");
        }
    }
}
