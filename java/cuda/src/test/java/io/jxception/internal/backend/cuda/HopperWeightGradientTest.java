package io.jxception.internal.backend.cuda;

import io.jxception.backend.Precision;
import io.jxception.internal.backend.ConvSpec;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.Arg;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.I32;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.I64;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.Launch;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.Limits;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.OpPlan;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.Ptr;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.TensorMap;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.TmaElement;
import io.jxception.internal.backend.cuda.PointwiseBackwardPath.Choice;
import io.jxception.internal.backend.cuda.PointwiseBackwardPath.Splits;
import io.jxception.internal.backend.cuda.PointwiseBackwardPathTest.CParam;
import io.jxception.model.ConvKind;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;

import static io.jxception.internal.backend.cuda.PointwiseBackwardPathTest.arg;
import static io.jxception.internal.backend.cuda.PointwiseBackwardPathTest.sep;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The weight gradient on Hopper's wgmma ({@code cuda.pwbwd=wgmma}, cuda/hopper_pwbwd.cu) as the backward
 * plan launches it (no GPU): which layers it takes, its split rule (values worked by hand from the rule
 * cuda/dev/pwbwd_wgmma_v1.cu's host code shares), grids, shared memory, tensor maps and the argument list
 * against the kernel's C signature.
 */
class HopperWeightGradientTest {
    static final Limits H100 = Limits.H100;

    static OpPlan plan(ConvSpec s, Precision p) { return PointwiseBackwardPath.plan(s, p, H100, PointwiseBackwardPathTest.OCC, true, Choice.WGMMA); }

    static Launch wgrad(OpPlan p) {
        return p.launches().stream().filter(l -> l.kernel().startsWith("pwbwd_wgrad_")).findFirst().orElseThrow(() -> new AssertionError("no wgrad in " + p));
    }

    @Test
    void everyXceptionSepconvRunsItsWgradOnWgmmaWithSplitsThatCoverEveryPixelOnce() {
        XceptionGraph g = XceptionGraph.build(XceptionConfig.imagenet());
        for (int n : new int[]{1, 32, 128, 256}) {
            int layers = 0;
            for (ConvSpec s : CudaLaunchPlanTest.convSpecs(g, n)) {
                if (s.kind() != ConvKind.SEPARABLE3X3_SAME) continue;
                layers++;
                for (Precision p : new Precision[]{Precision.BF16, Precision.FP16}) {
                    String what = s + " " + p;
                    assertTrue(Choice.WGMMA.wgradOnWgmma(s, p, H100), what);
                    int m = s.n() * s.h() * s.w();
                    OpPlan plan = plan(s, p);
                    Launch w = wgrad(plan);
                    int bn = HopperWeightGradient.tileWidth(s.cout());
                    assertEquals("pwbwd_wgrad_wgmma_" + (p == Precision.BF16 ? "bf16" : "f16") + "_n" + bn, w.kernel(), what);
                    assertEquals(384, w.blockX());
                    assertEquals(HopperWeightGradient.sharedBytes(bn), w.sharedBytes(), what);
                    Splits sp = HopperWeightGradient.splits(m, s.cin(), s.cout(), 132);
                    assertEquals(new I32("rowsPerSplit", sp.rowsPerSplit()), arg(w, "rowsPerSplit"), what);
                    assertEquals(new I32("splits", sp.splits()), arg(w, "splits"), what);
                    assertEquals(0, sp.rowsPerSplit() % 64, what + ": no 64-pixel box straddles two splits");
                    assertTrue((long) sp.splits() * sp.rowsPerSplit() >= m && (long) (sp.splits() - 1) * sp.rowsPerSplit() < m, what + ": every split non-empty, every pixel in one");
                    assertTrue(sp.splits() == 1 || sp.rowsPerSplit() >= PointwiseBackwardPath.MIN_ROWS_PER_SPLIT, what);
                    assertEquals((int) Math.min(HopperWeightGradient.tiles(s.cin(), s.cout()) * sp.splits(), 132), w.gridX(), what + ": persistent, at most one CTA per SM");
                    assertEquals(1, w.gridY());
                    if (sp.splits() > 1) {
                        assertEquals(new Ptr("scratch:partialPw", false), w.args().get(2), what);
                        assertEquals(4L * sp.splits() * s.cin() * s.cout(), plan.scratchBytes().get("scratch:partialPw"), what);
                        Launch reduce = plan.launches().get(plan.launches().indexOf(w) + 1);
                        assertEquals("pwbwd_reduce", reduce.kernel(), what);
                        assertEquals(new I32("splits", sp.splits()), arg(reduce, "splits"), what);
                    } else {
                        assertEquals(new Ptr("dw2", false), w.args().get(2), what + ": one split writes dW2 itself");
                        assertNull(plan.scratchBytes().get("scratch:partialPw"), what);
                        assertFalse(plan.launches().stream().anyMatch(l -> l.kernel().equals("pwbwd_reduce")), what);
                    }
                }
            }
            assertEquals(34, layers);
        }
    }

    @Test
    void splitCountsFillTheCardAsWorkedOutByHand() {
        // middle flow, batch 128: 6 x 3 tiles; 7 splits = 126 work items of 132 SMs (95%); 46,208 / 7 -> 6,602 -> 6,656 rows
        assertEquals(new Splits(6656, 7), HopperWeightGradient.splits(46_208, 728, 728, 132));
        // batch 32: the same 18 tiles, 11,552 / 7 -> 1,651 -> 1,664
        assertEquals(new Splits(1664, 7), HopperWeightGradient.splits(11_552, 728, 728, 132));
        // block2_sepconv1, batch 128: one 128 x 128 tile; 119 splits fill 90.2%; 2,765,952 / 119 -> 23,244 -> 23,296
        assertEquals(new Splits(23296, 119), HopperWeightGradient.splits(2_765_952, 64, 128, 132));
        // block14_sepconv1, batch 128: 8 x 6 tiles; 5 splits = 240 items of 264 (91%)
        assertEquals(new Splits(2560, 5), HopperWeightGradient.splits(12_800, 1024, 1536, 132));
        // block14_sepconv2, batch 32: 96 tiles and partials capped at the inputs' bytes (3,200 x 3,584 x 2 < 2 x 1536 x 2048 x 4): one split
        assertEquals(new Splits(3200, 1), HopperWeightGradient.splits(3_200, 1536, 2048, 132));
        assertEquals(18, HopperWeightGradient.tiles(728, 728));
        assertEquals(96, HopperWeightGradient.tiles(1536, 2048));
        assertEquals(1, HopperWeightGradient.tiles(64, 128));
    }

    @Test
    void middleFlowAtBatch128ReadsDAndDzThroughTensorMapsAndWritesPartials() {
        Launch w = wgrad(plan(sep(128, 19, 728, 728, true), Precision.BF16));
        assertEquals("pwbwd_wgrad_wgmma_bf16_n256", w.kernel());
        assertEquals(126, w.gridX(), "18 tiles x 7 splits, under one per SM");
        assertEquals(197_696, w.sharedBytes(), "4 stages x (16 KiB of d + 32 KiB of dz) + barriers + 1 KiB alignment");
        assertEquals(1024 + 4 * (2 * 8192 + 4 * 8192) + 2 * 4 * 8, HopperWeightGradient.SHARED_BYTES_N256);
        assertEquals(1024 + 6 * (2 * 8192 + 2 * 8192) + 2 * 6 * 8, HopperWeightGradient.SHARED_BYTES_N128);
        assertEquals(List.of(new TensorMap("tmD", "scratch:d", TmaElement.BFLOAT16, 46_208, 728, 64, 64),
                new TensorMap("tmDz", "dz", TmaElement.BFLOAT16, 46_208, 728, 64, 64),
                new Ptr("scratch:partialPw", false),
                new I32("M", 46_208), new I32("cin", 728), new I32("cout", 728), new I32("rowsPerSplit", 6656), new I32("splits", 7),
                new Ptr("hang", true), new I64("hangNs", HopperPointwiseGemm.HANG_NS)), w.args());
        // block2_sepconv1 in FP16: the 128-wide kernel, one tile, 119 splits
        Launch b2 = wgrad(plan(sep(128, 147, 64, 128, false), Precision.FP16));
        assertEquals("pwbwd_wgrad_wgmma_f16_n128", b2.kernel());
        assertEquals(119, b2.gridX());
        assertEquals(HopperWeightGradient.SHARED_BYTES_N128, b2.sharedBytes());
        assertEquals(new TensorMap("tmD", "scratch:d", TmaElement.FLOAT16, 2_765_952, 64, 64, 64), arg(b2, "tmD"));
        assertEquals(new TensorMap("tmDz", "dz", TmaElement.FLOAT16, 2_765_952, 128, 64, 64), arg(b2, "tmDz"));
    }

    @Test
    void argumentsFollowTheCSignatureOfCudaHopperPwbwdCu() throws IOException {
        List<CParam> sig = PointwiseBackwardPathTest.macroSignature("hopper_pwbwd.cu", "pwbwd_wgrad_wgmma_##SUF##_n##BN");
        assertEquals(List.of(new CParam("tmD", "tmap"), new CParam("tmDz", "tmap"), new CParam("partial", "ptr"), new CParam("M", "i32"),
                new CParam("cin", "i32"), new CParam("cout", "i32"), new CParam("rowsPerSplit", "i32"), new CParam("splits", "i32"),
                new CParam("hang", "ptr"), new CParam("hangNs", "i64")), sig, "the parser reads the kernel's parameters");
        for (Precision p : new Precision[]{Precision.BF16, Precision.FP16}) {
            for (ConvSpec s : List.of(sep(128, 19, 728, 728, true), sep(32, 10, 1536, 2048, false), sep(2, 37, 64, 128, false))) {
                Launch w = wgrad(plan(s, p));
                assertEquals(sig.size(), w.args().size(), w.kernel());
                for (int i = 0; i < sig.size(); i++) {
                    Arg got = w.args().get(i);
                    String kind = got instanceof TensorMap ? "tmap" : got instanceof Ptr ? "ptr" : got instanceof I32 ? "i32" : got instanceof I64 ? "i64" : "?";
                    assertEquals(sig.get(i).kind(), kind, w.kernel() + " argument " + i + " " + got);
                    if (i != 2) assertEquals(sig.get(i).name(), got.name(), w.kernel() + " argument " + i);   // 2: the operand partial is bound to
                }
            }
        }
    }

    /** The Java constants against the kernel source, so that neither side changes alone; the module is built and loaded with the other sm_90a ones. */
    @Test
    void constantsMatchTheKernelSourceAndTheModuleIsLoaded() throws IOException {
        String cu = java.nio.file.Files.readString(java.nio.file.Path.of("cuda", "hopper_pwbwd.cu"));
        assertTrue(cu.startsWith("// jx-arch: sm_90a"), "built for sm_90a only");
        assertEquals(HopperWeightGradient.BM, HopperPointwiseGemmTest.constant(cu, "BM"));
        assertEquals(HopperWeightGradient.BK, HopperPointwiseGemmTest.constant(cu, "BK"));
        assertEquals(HopperWeightGradient.BOX_CH, HopperPointwiseGemmTest.constant(cu, "BOX_CH"));
        assertEquals(HopperWeightGradient.THREADS, HopperPointwiseGemmTest.constant(cu, "THREADS"));
        assertTrue(cu.contains("STAGES = BN == 256 ? 4 : 6;"), "stage counts 4 (BN 256) and 6 (BN 128)");
        assertTrue(cu.contains("SMEM = 1024 + STAGES * (A_BYTES + B_BYTES) + 2 * STAGES * 8;"), "the shared-memory formula the constants follow");
        assertTrue(CudaBackend.HOPPER_MODULES.contains("hopper_pwbwd"), "loaded with cuda.pwbwd=wgmma");
        java.util.Properties built = CudaKernelImages.manifest();
        if (built != null) {
            for (String m : CudaBackend.HOPPER_MODULES) assertEquals("sm_90a", CudaKernelImages.archModules(built).get(m), m + " in the built kernels");
        }
    }

    @Test
    void shapesTheKernelDoesNotTakeKeepTheMmaSyncWgrad() {
        assertFalse(HopperWeightGradient.covers(5_000, 40, 728, Precision.BF16, H100), "cin < one 64-channel box");
        assertFalse(HopperWeightGradient.covers(5_000, 728, 56, Precision.BF16, H100), "cout < one box");
        assertFalse(HopperWeightGradient.covers(63, 728, 728, Precision.BF16, H100), "M < one 64-pixel box");
        assertFalse(HopperWeightGradient.covers(5_000, 732, 728, Precision.BF16, H100), "cin not a multiple of 8: rows not 16-byte aligned");
        assertFalse(HopperWeightGradient.covers(5_000, 728, 728, Precision.TF32, H100), "16-bit only: tf32 has no MN-major wgmma");
        assertFalse(HopperWeightGradient.covers(5_000, 728, 728, Precision.BF16, Limits.A100), "164 KiB of shared memory per block");
        assertTrue(HopperWeightGradient.covers(64, 64, 64, Precision.FP16, H100));
        // not covered: the plan keeps pwbwd_wgrad_<t> with the mma split rule
        Launch w = wgrad(plan(sep(1, 7, 728, 728, true), Precision.BF16));
        assertEquals("pwbwd_wgrad_bf16", w.kernel(), "M = 49");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HopperWeightGradient.wgrad(Precision.BF16, 63, 728, 728, new Splits(64, 1), "dw2", H100));
        assertTrue(e.getMessage().contains("M 63"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> HopperWeightGradient.wgrad(Precision.BF16, 5_000, 728, 728, new Splits(100, 50), "scratch:partialPw", H100));
        assertTrue(e.getMessage().contains("multiple of 64"), e.getMessage());
    }
}
