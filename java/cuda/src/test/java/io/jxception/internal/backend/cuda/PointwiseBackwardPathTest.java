package io.jxception.internal.backend.cuda;

import io.jxception.internal.backend.ConvSpec;
import io.jxception.backend.Precision;
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
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.jxception.model.ConvKind.CONV1X1_SAME;
import static io.jxception.model.ConvKind.CONV3X3_VALID;
import static io.jxception.model.ConvKind.SEPARABLE3X3_SAME;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The tensor-core pointwise backward's launch plan (no GPU): which layers it takes, the wgrad split
 * rule against cuda/dev/pwbwd_v1.cu's host code, grids, shared memory, scratch and argument lists.
 */
class PointwiseBackwardPathTest {
    static final Limits H100 = Limits.H100;
    /** Resident pwbwd_wgrad blocks per SM on H100/H200/A100: 122 registers x 256 threads, 69,632 bytes of shared memory. */
    static final int OCC = 2;

    static ConvSpec sep(int n, int hw, int cin, int cout, boolean preRelu) {
        return new ConvSpec(SEPARABLE3X3_SAME, n, hw, hw, cin, cout, 1, preRelu);
    }

    static OpPlan plan(ConvSpec s) { return PointwiseBackwardPath.plan(s, Precision.BF16, H100, OCC, true); }

    static Launch launch(OpPlan p, String kernel) {
        return p.launches().stream().filter(l -> l.kernel().equals(kernel)).findFirst().orElseThrow(() -> new AssertionError("no " + kernel + " in " + p));
    }

    static List<String> kernels(OpPlan p) { return p.launches().stream().map(Launch::kernel).toList(); }

    static int i32(Launch l, String name) {
        return l.args().stream().filter(a -> a.name().equals(name)).map(a -> ((I32) a).value()).findFirst().orElseThrow();
    }

    // ------------------------------------------------------------------ split rule

    /**
     * Expected (rowsPerSplit, splits) from cuda/dev/pwbwd_v1.cu's wgrad_rows_per_split, compiled on the
     * host with g++ from the dev program's own text (2026-12-05, pwbwd-2) at 132 SMs (H100, H200) and 108
     * (A100), 2 or 1 resident blocks per SM. pwbwd-1's notes quote the 132 x 2 batch-128 column: middle flow
     * 7 (252 blocks), block13_sepconv2 5, block14 5 / 4, block4 20 / 7, block3 119 / 60, block2 238.
     */
    record SplitCase(int sms, int blocksPerSm, int batch, int hw, int cin, int cout, int rowsPerSplit, int splits) {}

    static final List<SplitCase> DEV_PROGRAM_SPLITS = List.of(
            new SplitCase(132, 2, 128, 147, 64, 128, 11648, 238),
            new SplitCase(132, 2, 128, 147, 128, 128, 11648, 238),
            new SplitCase(132, 2, 128, 74, 128, 256, 5920, 119),
            new SplitCase(132, 2, 128, 74, 256, 256, 11712, 60),
            new SplitCase(132, 2, 128, 37, 256, 728, 8768, 20),
            new SplitCase(132, 2, 128, 37, 728, 728, 25056, 7),
            new SplitCase(132, 2, 128, 19, 728, 728, 6624, 7),
            new SplitCase(132, 2, 128, 19, 728, 1024, 9248, 5),
            new SplitCase(132, 2, 128, 10, 1024, 1536, 2560, 5),
            new SplitCase(132, 2, 128, 10, 1536, 2048, 3200, 4),
            new SplitCase(132, 2, 32, 147, 64, 128, 2912, 238),
            new SplitCase(132, 2, 32, 74, 128, 256, 1504, 117),
            new SplitCase(132, 2, 32, 19, 728, 728, 1664, 7),
            new SplitCase(132, 2, 32, 10, 1024, 1536, 1600, 2),
            new SplitCase(132, 2, 32, 10, 1536, 2048, 3200, 1),
            new SplitCase(132, 2, 1, 147, 64, 128, 544, 40),
            new SplitCase(132, 2, 1, 37, 256, 728, 704, 2),
            new SplitCase(132, 2, 1, 19, 728, 728, 384, 1),
            new SplitCase(132, 1, 128, 147, 64, 128, 23264, 119),
            new SplitCase(132, 1, 128, 10, 1536, 2048, 6400, 2),
            new SplitCase(108, 2, 128, 19, 728, 728, 7712, 6),
            new SplitCase(108, 2, 128, 19, 728, 1024, 5152, 9),
            new SplitCase(108, 2, 128, 10, 1536, 2048, 12800, 1),
            new SplitCase(108, 2, 128, 147, 64, 128, 14208, 195));

    @Test
    void wgradSplitsMatchTheDevProgramsHostRuleOnXceptionShapes() {
        for (SplitCase c : DEV_PROGRAM_SPLITS) {
            long m = (long) c.batch() * c.hw() * c.hw();
            assertEquals(new Splits(c.rowsPerSplit(), c.splits()), PointwiseBackwardPath.wgradSplits(m, c.cin(), c.cout(), c.sms(), c.blocksPerSm()), c.toString());
        }
    }

    @Test
    void middleFlowAtBatch128Fills252Of264SlotsWithSevenSplits() {
        Splits s = PointwiseBackwardPath.wgradSplits(128L * 19 * 19, 728, 728, 132, OCC);
        assertEquals(7, s.splits());
        assertEquals(6624, s.rowsPerSplit());
        assertEquals(0, s.rowsPerSplit() % PointwiseBackwardPath.BK, "whole 32-row K steps");
        Launch wgrad = launch(plan(sep(128, 19, 728, 728, true)), "pwbwd_wgrad_bf16");
        assertEquals(36, wgrad.gridX(), "6 x 6 tiles of 128 x 128");
        assertEquals(7, wgrad.gridY());
        assertEquals(252, wgrad.gridX() * wgrad.gridY());
        assertTrue(252.0 / (2 * 132) >= PointwiseBackwardPath.FILL_TARGET);
        // six splits would fill 216 of 264 slots (82%): below the target
        assertTrue(216.0 / 264 < PointwiseBackwardPath.FILL_TARGET);
    }

    @Test
    void block2AtBatch128HasOneTileAnd238Splits() {
        for (int cin : new int[]{64, 128}) {
            OpPlan p = plan(sep(128, 147, cin, 128, false));
            Launch wgrad = launch(p, "pwbwd_wgrad_bf16");
            assertEquals(1, wgrad.gridX(), "one 128 x 128 tile (cin " + cin + ")");
            assertEquals(238, wgrad.gridY());
            assertEquals(11648, i32(wgrad, "rowsPerSplit"));
            assertEquals(4L * 238 * cin * 128, p.scratchBytes().get("scratch:partialPw"));
            Launch reduce = launch(p, "pwbwd_reduce");
            assertEquals(238, i32(reduce, "splits"));
        }
    }

    @Test
    void splitsNeverGoBelow512RowsNorPartialsAboveTheInputBytes() {
        for (long m : new long[]{1, 31, 511, 513, 1000, 21_609, 46_208, 2_765_952}) {
            for (int[] ch : new int[][]{{40, 72}, {64, 128}, {728, 728}, {1536, 2048}}) {
                Splits s = PointwiseBackwardPath.wgradSplits(m, ch[0], ch[1], 132, OCC);
                assertTrue(s.splits() >= 1 && s.splits() <= PointwiseBackwardPath.MAX_SPLITS, m + " " + s);
                assertTrue(s.splits() == 1 || s.rowsPerSplit() >= PointwiseBackwardPath.MIN_ROWS_PER_SPLIT, m + " " + s);
                assertTrue(s.splits() == 1 || 4L * s.splits() * ch[0] * ch[1] <= 2L * m * (ch[0] + ch[1]), m + " " + s);
                assertTrue((long) s.rowsPerSplit() * s.splits() >= m && (long) s.rowsPerSplit() * (s.splits() - 1) < m, "every row in exactly one split: " + m + " " + s);
            }
        }
    }

    // ------------------------------------------------------------------ plans

    @Test
    void middleFlowPlanRecomputesDThenRunsPackDgradWgradReduceThenTheDepthwiseBackward() {
        OpPlan p = plan(sep(128, 19, 728, 728, true));
        assertEquals(List.of("dw_forward_v8_bf16", "pwbwd_pack_w2_bf16", "pwbwd_dgrad_bf16", "pwbwd_wgrad_bf16", "pwbwd_reduce",
                "dw_backward_weight_v8_bf16", "reduce_partials", "dw_backward_data_v8_bf16"), kernels(p));
        Launch dgrad = launch(p, "pwbwd_dgrad_bf16");
        assertEquals(6, dgrad.gridX(), "ceil(728 / 128) column tiles, fastest");
        assertEquals(361, dgrad.gridY(), "ceil(46,208 / 128) row tiles");
        assertEquals(81_920, dgrad.sharedBytes());
        assertEquals(69_632, launch(p, "pwbwd_wgrad_bf16").sharedBytes());
        for (Launch l : p.launches()) assertEquals(256, l.blockX());
        long m = 128L * 19 * 19;
        Map<String, Long> want = new LinkedHashMap<>();
        want.put("scratch:d", m * 728 * 2);
        want.put("scratch:dd", m * 728 * 2);
        want.put("scratch:w2h", 728L * 728 * 2);
        want.put("scratch:partialPw", 4L * 7 * 728 * 728);
        want.put("scratch:partialDw", CudaLaunchPlan.convBackward(sep(128, 19, 728, 728, true), Precision.BF16, H100, true).scratchBytes().get("scratch:partialDw"));
        assertEquals(want, p.scratchBytes());
        assertEquals(List.copyOf(want.keySet()), List.copyOf(p.scratchBytes().keySet()), "scratch order");
        // grid-stride kernels: as many blocks as the work needs, at most 32 per SM
        assertEquals(CudaLaunchPlan.gridFor(728L * 728, H100), launch(p, "pwbwd_pack_w2_bf16").gridX());
        assertEquals(CudaLaunchPlan.gridFor(728L * 728 / 4, H100), launch(p, "pwbwd_reduce").gridX());
    }

    @Test
    void exitFlowAtBatch128SplitsInFourAndAtBatch32WritesDw2DirectlyWithOneSplit() {
        OpPlan b128 = plan(sep(128, 10, 1536, 2048, false));
        Launch w = launch(b128, "pwbwd_wgrad_bf16");
        assertEquals(12 * 16, w.gridX());
        assertEquals(4, w.gridY());
        assertEquals(4L * 4 * 1536 * 2048, b128.scratchBytes().get("scratch:partialPw"));
        assertEquals(1536L * 2048 * 2, b128.scratchBytes().get("scratch:w2h"));

        OpPlan b32 = plan(sep(32, 10, 1536, 2048, false));
        Launch one = launch(b32, "pwbwd_wgrad_bf16");
        assertEquals(1, one.gridY());
        assertEquals(new Ptr("dw2", false), one.args().get(2), "one split: the fp32 tile goes straight to dW2");
        assertFalse(kernels(b32).contains("pwbwd_reduce"));
        assertNull(b32.scratchBytes().get("scratch:partialPw"), "no partials without splits");
    }

    @Test
    void oddShape40To72IsCoveredWithOnePartialTileInEachDirection() {
        ConvSpec s = sep(4, 19, 40, 72, true);
        assertTrue(PointwiseBackwardPath.covers(s, Precision.FP16, H100));
        OpPlan p = PointwiseBackwardPath.plan(s, Precision.FP16, H100, OCC, false);
        assertEquals(List.of("dw_forward_v8_f16", "pwbwd_pack_w2_f16", "pwbwd_dgrad_f16", "pwbwd_wgrad_f16", "pwbwd_reduce",
                "dw_backward_weight_v8_f16", "reduce_partials"), kernels(p), "M = 1,444: two splits; no dx wanted");
        Launch dgrad = launch(p, "pwbwd_dgrad_f16");
        assertEquals(1, dgrad.gridX());
        assertEquals(12, dgrad.gridY(), "ceil(1,444 / 128)");
        assertEquals(List.of(1444, 40, 72), List.of(i32(dgrad, "M"), i32(dgrad, "cin"), i32(dgrad, "cout")));
        Launch wgrad = launch(p, "pwbwd_wgrad_f16");
        assertEquals(1, wgrad.gridX());
        assertEquals(736, i32(wgrad, "rowsPerSplit"), "at most 1,444 / 512 = 2 splits: 722 rows, rounded up to 32");
        assertEquals(2, wgrad.gridY());
        assertEquals(4L * 2 * 40 * 72, p.scratchBytes().get("scratch:partialPw"));
        assertEquals(40L * 72 * 2, p.scratchBytes().get("scratch:w2h"));
    }

    @Test
    void theDepthwiseLaunchesAreTheFfmaPlansOwn() {
        for (boolean withDx : new boolean[]{true, false}) {
            ConvSpec s = sep(8, 37, 256, 728, true);
            List<Launch> ffma = CudaLaunchPlan.convBackward(s, Precision.BF16, H100, withDx).launches();
            List<Launch> mma = PointwiseBackwardPath.plan(s, Precision.BF16, H100, OCC, withDx).launches();
            assertEquals(ffma.get(0), mma.get(0), "dw_forward");
            int tail = withDx ? 3 : 2;
            assertEquals(ffma.subList(ffma.size() - tail, ffma.size()), mma.subList(mma.size() - tail, mma.size()), "dW1 and dx");
        }
    }

    @Test
    void dgradNeverBindsTheMaskOperandSoTheSeparableDdStaysUnmasked() {
        Launch dgrad = launch(plan(sep(2, 19, 728, 728, true)), "pwbwd_dgrad_bf16");
        assertEquals(new Ptr("dgradMask", true), dgrad.args().get(2), "x of the C signature: optional, and not an operand convBackward binds");
        for (String bound : List.of("x", "w1", "w2", "dz", "dx", "dw1", "dw2")) assertFalse(dgrad.args().get(2).name().equals(bound));
    }

    // ------------------------------------------------------------------ coverage

    @Test
    void onlyBf16AndFp16SeparableConvsWithChannelsInEightsAreCovered() {
        assertTrue(PointwiseBackwardPath.covers(sep(2, 19, 728, 728, true), Precision.BF16, H100));
        assertTrue(PointwiseBackwardPath.covers(sep(2, 19, 728, 728, true), Precision.FP16, H100));
        assertFalse(PointwiseBackwardPath.covers(sep(2, 19, 728, 728, true), Precision.FP32, H100));
        assertFalse(PointwiseBackwardPath.covers(sep(2, 19, 728, 728, true), Precision.TF32, H100));
        assertFalse(PointwiseBackwardPath.covers(sep(2, 19, 46, 728, true), Precision.BF16, H100), "cin 46");
        assertFalse(PointwiseBackwardPath.covers(sep(2, 19, 728, 46, true), Precision.BF16, H100), "cout 46");
        assertFalse(PointwiseBackwardPath.covers(sep(3, 7, 4, 8, false), Precision.BF16, H100), "cin 4 (the reduced-width block2)");
        assertTrue(PointwiseBackwardPath.covers(new ConvSpec(CONV1X1_SAME, 2, 37, 37, 64, 128, 2, false), Precision.BF16, H100), "1x1 strided: pwbwd-5");
        assertTrue(PointwiseBackwardPath.covers(new ConvSpec(CONV3X3_VALID, 2, 149, 149, 32, 64, 1, false), Precision.BF16, H100), "the second stem conv");
        assertFalse(PointwiseBackwardPath.covers(new ConvSpec(CONV3X3_VALID, 2, 299, 299, 3, 32, 2, false), Precision.BF16, H100), "the first stem conv: cin 3");
        assertFalse(PointwiseBackwardPath.covers(new ConvSpec(CONV1X1_SAME, 2, 37, 37, 64, 128, 2, false), Precision.FP32, H100));
        assertFalse(PointwiseBackwardPath.covers(sep(2, 19, 728, 728, true), Precision.BF16, new Limits(128, 64 * 1024)), "64 KiB of shared memory");
        assertTrue(PointwiseBackwardPath.covers(sep(2, 19, 728, 728, true), Precision.BF16, Limits.ADA));
        // dgrad's grid.y: 65,535 row tiles
        assertTrue(PointwiseBackwardPath.covers(sep(388, 147, 64, 128, false), Precision.BF16, H100));
        assertFalse(PointwiseBackwardPath.covers(sep(389, 147, 64, 128, false), Precision.BF16, H100));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PointwiseBackwardPath.plan(sep(2, 19, 46, 46, true), Precision.BF16, H100, OCC, true));
        assertTrue(e.getMessage().contains("multiples of 8"), e.getMessage());
    }

    @Test
    void onlyTheMmaChoiceAppliesAndFfmaIsTheDefault() {
        ConvSpec s = sep(2, 19, 728, 728, true);
        assertEquals(Choice.FFMA, Choice.DEFAULT);
        assertTrue(Choice.MMA.applies(s, Precision.BF16, H100));
        assertFalse(Choice.FFMA.applies(s, Precision.BF16, H100));
        assertFalse(Choice.MMA.applies(s, Precision.TF32, H100));
        assertFalse(Choice.MMA.applies(sep(2, 19, 46, 46, true), Precision.BF16, H100));
    }

    @Test
    void optionCudaPwbwdParsesFfmaAndMmaAndNamesItselfInErrors() {
        assertEquals(Choice.FFMA, Choice.parse(null));
        assertEquals(Choice.MMA, Choice.parse(" MMA "));
        assertEquals(Choice.FFMA, Choice.parse("ffma"));
        assertEquals(Choice.WGMMA, Choice.parse("wgmma"));
        assertEquals(Choice.WGMMA, Choice.parse(" WGMMA"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Choice.parse("hopper"));
        assertTrue(e.getMessage().contains("cuda.pwbwd=hopper") && e.getMessage().contains("ffma, mma or wgmma"), e.getMessage());

        assertEquals(Choice.FFMA, CudaBackend.Options.DEFAULT.pwbwd());
        assertEquals(Choice.FFMA, CudaBackend.Options.parse(Map.of()).pwbwd());
        CudaBackend.Options o = CudaBackend.Options.parse(Map.of("cuda.pwbwd", "mma", "cuda.sepconv", "fused"));
        assertEquals(Choice.MMA, o.pwbwd());
        assertFalse(o.sepconv().split());
        assertEquals(Choice.MMA, o.withSyncEachLaunch(true).withArena(1 << 20).withSepconv(SeparableGemmPath.Choice.DEFAULT).withStem(StemConvPath.OLD).pwbwd(),
                "every withX keeps the choice");
        assertEquals(Choice.FFMA, o.withPwbwd(Choice.FFMA).pwbwd());
        assertTrue(CudaBackend.Options.KEYS.contains("cuda.pwbwd"));
        assertEquals(Choice.WGMMA, CudaBackend.Options.parse(Map.of("cuda.pwbwd", "wgmma")).pwbwd());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> CudaBackend.Options.parse(Map.of("cuda.pwbwd", "tensor")));
        assertTrue(bad.getMessage().contains("cuda.pwbwd"), bad.getMessage());
    }

    // ------------------------------------------------------------------ cuda.pwbwd=wgmma: the dgrad on pwgemm_wgmma

    static OpPlan plan(ConvSpec s, Precision p, Choice c) { return PointwiseBackwardPath.plan(s, p, H100, OCC, true, c); }

    static Arg arg(Launch l, String name) {
        return l.args().stream().filter(a -> a.name().equals(name)).findFirst().orElseThrow(() -> new AssertionError(l.kernel() + " has no " + name));
    }

    /**
     * Every launch of the mma plan but its two GEMMs (dgrad at index 2, wgrad at 3), which the wgmma plan
     * replaces in place, and the reduce, whose split count is the wgrad's; the same scratch but for the
     * partials' size.
     */
    static void assertOnlyTheGemmsDiffer(OpPlan mma, OpPlan wgmma, String what) {
        Map<String, Long> a = new LinkedHashMap<>(mma.scratchBytes()), b = new LinkedHashMap<>(wgmma.scratchBytes());
        a.remove("scratch:partialPw");
        b.remove("scratch:partialPw");
        assertEquals(a, b, what + ": scratch (d, dd and w2h are the same regions)");
        assertTrue(mma.launches().get(2).kernel().startsWith("pwbwd_dgrad_"), what);
        assertTrue(mma.launches().get(3).kernel().startsWith("pwbwd_wgrad_"), what);
        assertTrue(wgmma.launches().get(2).kernel().startsWith("pwgemm_wgmma_"), what + ": " + wgmma.launches().get(2).kernel());
        assertTrue(wgmma.launches().get(3).kernel().startsWith("pwbwd_wgrad_wgmma_"), what + ": " + wgmma.launches().get(3).kernel());
        java.util.function.Predicate<Launch> same = l -> !l.kernel().startsWith("pwbwd_dgrad_") && !l.kernel().startsWith("pwgemm_wgmma_")
                && !l.kernel().startsWith("pwbwd_wgrad_") && !l.kernel().equals("pwbwd_reduce");
        assertEquals(mma.launches().stream().filter(same).toList(), wgmma.launches().stream().filter(same).toList(), what);
    }

    @Test
    void everyXceptionSepconvAtBatch32And128TakesTheWgmmaDgradAndKeepsTheRestOfTheMmaPlan() {
        XceptionGraph g = XceptionGraph.build(XceptionConfig.imagenet());
        for (int n : new int[]{32, 128}) {
            int layers = 0;
            for (ConvSpec s : CudaLaunchPlanTest.convSpecs(g, n)) {
                if (s.kind() != SEPARABLE3X3_SAME) continue;
                layers++;
                for (Precision p : new Precision[]{Precision.BF16, Precision.FP16}) {
                    assertTrue(Choice.WGMMA.dgradOnWgmma(s, p, H100), s + " " + p);
                    OpPlan mma = plan(s, p, Choice.MMA), wgmma = plan(s, p, Choice.WGMMA);
                    assertOnlyTheGemmsDiffer(mma, wgmma, s + " " + p);
                    Launch d = wgmma.launches().get(2);
                    long m = (long) s.n() * s.h() * s.w();
                    int bn = HopperPointwiseGemm.tileWidth(m, s.cin(), H100);
                    assertEquals("pwgemm_wgmma_" + (p == Precision.BF16 ? "bf16" : "fp16") + "_n" + bn, d.kernel(), s.toString());
                    assertEquals(HopperPointwiseGemm.sharedBytes(bn), d.sharedBytes());
                    assertEquals(Math.min(CudaLaunchPlan.ceilDiv(m, 128) * CudaLaunchPlan.ceilDiv(s.cin(), bn), 132), d.gridX(), s.toString());
                    assertEquals(m, ((I32) arg(d, "rows")).value());
                    assertEquals(new I64("row0", 0), arg(d, "row0"));
                    assertEquals(new I32("postRelu", 0), arg(d, "postRelu"), "dd is the bare product: the mask is dw_backward_data's");
                    assertEquals(new I32("kTiles", CudaLaunchPlan.ceilDiv(s.cout(), 64)), arg(d, "kTiles"));
                }
            }
            assertEquals(34, layers);
        }
        // the tile width is tileWidth's over nOut = cin: 128 for cin <= 128, else 256 where those tiles give every SM one
        assertEquals("pwgemm_wgmma_bf16_n128", plan(sep(32, 147, 64, 128, false), Precision.BF16, Choice.WGMMA).launches().get(2).kernel(), "cin 64: 128-wide");
        assertEquals("pwgemm_wgmma_bf16_n256", plan(sep(32, 19, 728, 728, true), Precision.BF16, Choice.WGMMA).launches().get(2).kernel(), "91 x 3 tiles >= 132");
    }

    @Test
    void middleFlowWgmmaDgradAtBatch128ReadsDzAndW2hThroughTensorMapsAndStoresDd() {
        Launch d = plan(sep(128, 19, 728, 728, true), Precision.BF16, Choice.WGMMA).launches().get(2);
        assertEquals("pwgemm_wgmma_bf16_n256", d.kernel(), "361 x 3 tiles of 256: more than one per SM");
        assertEquals(384, d.blockX());
        assertEquals(132, d.gridX(), "persistent: one CTA per SM");
        assertEquals(1, d.gridY());
        assertEquals(HopperPointwiseGemm.SHARED_BYTES_N256, d.sharedBytes());
        assertEquals(List.of("tmA", "tmB", "tmY", "scale", "shift", "residual", "rows", "cout", "kTiles", "row0", "postRelu", "stageBytes", "hang", "hangNs"),
                d.args().stream().map(Arg::name).toList());
        // A = dz (M, K = cout), Bt = W2h (nOut = cin, K = cout): W2's own (cin, cout) layout, y = dd (M, cin)
        assertEquals(new TensorMap("tmA", "dz", TmaElement.BFLOAT16, 46_208, 728, 128, 64), arg(d, "tmA"));
        assertEquals(new TensorMap("tmB", "scratch:w2h", TmaElement.BFLOAT16, 728, 728, 256, 64), arg(d, "tmB"));
        assertEquals(new TensorMap("tmY", "scratch:dd", TmaElement.BFLOAT16, 46_208, 728, 64, 64), arg(d, "tmY"));
        for (String optional : List.of("scale", "shift", "residual", "hang")) assertEquals(new Ptr(optional, true), arg(d, optional), "unbound: null");
        assertEquals(new I32("rows", 46_208), arg(d, "rows"));
        assertEquals(new I32("cout", 728), arg(d, "cout"), "the kernel's output width: cin");
        assertEquals(new I32("kTiles", 12), arg(d, "kTiles"), "K = cout 728 = 11.4 boxes of 64: the last zero-filled by TMA");
        assertEquals(new I32("stageBytes", 128 * (128 + 256)), arg(d, "stageBytes"));
        assertEquals(new I64("hangNs", HopperPointwiseGemm.HANG_NS), arg(d, "hangNs"));

        // FP16, the exit flow's widest (K = 2048 -> 32 boxes; 1536 outputs) and block2_sepconv1 (64 outputs: one 64-row Bt box)
        Launch exit = plan(sep(32, 10, 1536, 2048, false), Precision.FP16, Choice.WGMMA).launches().get(2);
        assertEquals("pwgemm_wgmma_fp16_n256", exit.kernel(), "25 x 6 tiles");
        assertEquals(new TensorMap("tmA", "dz", TmaElement.FLOAT16, 3200, 2048, 128, 64), arg(exit, "tmA"));
        assertEquals(new TensorMap("tmB", "scratch:w2h", TmaElement.FLOAT16, 1536, 2048, 256, 64), arg(exit, "tmB"));
        assertEquals(new TensorMap("tmY", "scratch:dd", TmaElement.FLOAT16, 3200, 1536, 64, 64), arg(exit, "tmY"));
        assertEquals(new I32("kTiles", 32), arg(exit, "kTiles"));
        assertEquals(132, exit.gridX());
        Launch block2 = plan(sep(128, 147, 64, 128, false), Precision.BF16, Choice.WGMMA).launches().get(2);
        assertEquals("pwgemm_wgmma_bf16_n128", block2.kernel());
        assertEquals(HopperPointwiseGemm.SHARED_BYTES_N128, block2.sharedBytes());
        assertEquals(new TensorMap("tmB", "scratch:w2h", TmaElement.BFLOAT16, 64, 128, 64, 64), arg(block2, "tmB"));
        assertEquals(new TensorMap("tmY", "scratch:dd", TmaElement.BFLOAT16, 2_765_952, 64, 64, 64), arg(block2, "tmY"));
        assertEquals(new I32("stageBytes", 128 * (128 + 64)), arg(block2, "stageBytes"));
        assertEquals(new I32("kTiles", 2), arg(block2, "kTiles"));
    }

    @Test
    void layersThePwgemmKernelDoesNotCoverKeepTheWholeMmaPlan() {
        // cin 40 (< 64 outputs), cout 56 (K < one 64-wide box), M = 49 (< one 64-row store box)
        for (ConvSpec s : List.of(sep(4, 19, 40, 72, true), sep(4, 19, 128, 56, true), sep(1, 7, 64, 128, false))) {
            assertTrue(Choice.WGMMA.applies(s, Precision.BF16, H100), s.toString());
            assertFalse(Choice.WGMMA.dgradOnWgmma(s, Precision.BF16, H100), s.toString());
            assertFalse(Choice.WGMMA.wgradOnWgmma(s, Precision.BF16, H100), s.toString());
            assertEquals(plan(s, Precision.BF16, Choice.MMA), plan(s, Precision.BF16, Choice.WGMMA), s.toString());
        }
        assertTrue(Choice.WGMMA.dgradOnWgmma(sep(1, 8, 64, 64, false), Precision.BF16, H100), "the smallest covered: M 64, cin = cout = 64");
        assertTrue(Choice.WGMMA.wgradOnWgmma(sep(1, 8, 64, 64, false), Precision.BF16, H100), "the wgrad's smallest too");
        assertFalse(Choice.MMA.wgradOnWgmma(sep(2, 19, 728, 728, true), Precision.BF16, H100));
        assertFalse(Choice.MMA.dgradOnWgmma(sep(2, 19, 728, 728, true), Precision.BF16, H100));
        assertFalse(Choice.WGMMA.applies(sep(2, 19, 728, 728, true), Precision.TF32, H100), "FP32/TF32 stay FFMA");
        assertFalse(Choice.WGMMA.dgradOnWgmma(sep(2, 19, 728, 728, true), Precision.TF32, H100));
        // a device without 227 KiB of shared memory per block: a planning error, never a failed launch (the backend refuses it at open)
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PointwiseBackwardPath.plan(sep(2, 19, 728, 728, true), Precision.BF16, Limits.A100, OCC, true, Choice.WGMMA));
        assertTrue(e.getMessage().contains("shared memory"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> PointwiseBackwardPath.plan(sep(2, 19, 728, 728, true), Precision.BF16, H100, OCC, true, Choice.FFMA));
    }

    @Test
    void theMmaPlanIsUnchangedByTheWgmmaChoice() {
        // the five-argument plan is the mma one, with the mma.sync dgrad on every layer
        for (ConvSpec s : List.of(sep(128, 19, 728, 728, true), sep(32, 10, 1536, 2048, false), sep(4, 19, 40, 72, true))) {
            OpPlan mma = plan(s);
            assertEquals(mma, PointwiseBackwardPath.plan(s, Precision.BF16, H100, OCC, true, Choice.MMA));
            assertEquals("pwbwd_dgrad_bf16", mma.launches().get(2).kernel());
        }
        assertEquals(List.of("dw_forward_v8_bf16", "pwbwd_pack_w2_bf16", "pwgemm_wgmma_bf16_n256", "pwbwd_wgrad_wgmma_bf16_n256", "pwbwd_reduce",
                "dw_backward_weight_v8_bf16", "reduce_partials", "dw_backward_data_v8_bf16"), kernels(plan(sep(128, 19, 728, 728, true), Precision.BF16, Choice.WGMMA)));
        // FFMA never reaches this plan: the backend runs CudaLaunchPlan.convBackward
        assertFalse(Choice.FFMA.applies(sep(128, 19, 728, 728, true), Precision.BF16, H100));
        assertFalse(Choice.FFMA.dgradOnWgmma(sep(128, 19, 728, 728, true), Precision.BF16, H100));
    }

    @Test
    void theReducedWidthTrainingNetworkReachesTheWgmmaDgradAtBatch8Only() {
        // CudaNetworkTest's training steps (XceptionConfig.tiny(71, 10)): block14's two sepconvs, 3 x 3 pixels
        XceptionGraph g = XceptionGraph.build(XceptionConfig.tiny(71, 10));
        for (int n : new int[]{4, 8}) {
            List<String> wgmma = new ArrayList<>();
            for (ConvSpec s : CudaLaunchPlanTest.convSpecs(g, n)) {
                if (Choice.WGMMA.dgradOnWgmma(s, Precision.BF16, H100)) wgmma.add(s.h() + "x" + s.w() + " " + s.cin() + "->" + s.cout());
                assertEquals(Choice.WGMMA.dgradOnWgmma(s, Precision.BF16, H100), Choice.WGMMA.wgradOnWgmma(s, Precision.BF16, H100), "the wgrad on the same layers " + s);
            }
            assertEquals(n == 8 ? List.of("3x3 64->96", "3x3 96->128") : List.of(), wgmma, "batch " + n);
        }
    }

    @Test
    void wgmmaIsRefusedOffComputeCapability90AtOpen() {
        CudaBackend.Options wg = CudaBackend.Options.parse(Map.of("cuda.pwbwd", "wgmma"));
        assertTrue(CudaBackend.needsHopperKernels(wg));
        assertFalse(CudaBackend.needsHopperKernels(CudaBackend.Options.parse(Map.of("cuda.pwbwd", "mma"))));
        assertEquals(null, CudaBackend.hopperRefusal(wg, 0, "NVIDIA H100 80GB HBM3", 9, 0));
        String a100 = CudaBackend.hopperRefusal(wg, 1, "NVIDIA A100-SXM4-80GB", 8, 0);
        assertEquals("cuda.pwbwd=wgmma needs a compute capability 9.0 device (H100/H200); cuda:1 is NVIDIA A100-SXM4-80GB (8.0): use cuda.pwbwd=mma", a100);
        assertTrue(CudaBackend.hopperRefusal(wg, 0, "B200", 10, 0).contains("(10.0)"), "sm_90a code does not run on Blackwell");
        // cuda.pointwise=wgmma keeps its own message
        String fwd = CudaBackend.hopperRefusal(CudaBackend.Options.parse(Map.of("cuda.pointwise", "wgmma")), 0, "A100", 8, 0);
        assertTrue(fwd.startsWith("cuda.pointwise=wgmma needs") && fwd.endsWith("use cuda.pointwise=mma"), fwd);
        assertEquals(null, CudaBackend.hopperRefusal(CudaBackend.Options.DEFAULT, 0, "A100", 8, 0));
    }

    /**
     * The C parameters of pwgemm_wgmma_<math>_n<BN> (cuda/hopper_pwgemm.cu's JX_PWGEMM_GEMM macro), as
     * (name, kind): tmap, ptr, i32 (int, unsigned) or i64 (long long, unsigned long long).
     */
    static List<CParam> pwgemmSignature() throws IOException {
        return macroSignature("hopper_pwgemm.cu", "pwgemm_wgmma_##SUF##_n##BN");
    }

    /** The C parameters of the kernel {@code entry} (as spelt in the macro that defines it) in cuda/{@code file}, as (name, kind). */
    static List<CParam> macroSignature(String file, String entry) throws IOException {
        String src = Files.readString(Path.of("cuda", file)).replace("\\\n", " ");
        Matcher m = Pattern.compile(Pattern.quote(entry) + "\\(([^)]*)\\)").matcher(src);
        assertTrue(m.find(), entry + "'s entry point in cuda/" + file);
        List<CParam> out = new ArrayList<>();
        for (String p : m.group(1).split(",")) {
            String[] words = p.trim().split("\\s+");
            String name = words[words.length - 1].replace("*", "");
            String kind = p.contains("CUtensorMap") ? "tmap" : p.contains("*") ? "ptr" : p.contains("long long") ? "i64"
                    : p.trim().startsWith("int ") || p.trim().startsWith("unsigned ") ? "i32" : "?";
            out.add(new CParam(name, kind));
        }
        return out;
    }

    @Test
    void wgmmaDgradArgumentsFollowTheCSignatureOfPwgemmWgmma() throws IOException {
        List<CParam> sig = pwgemmSignature();
        assertEquals(14, sig.size(), sig.toString());
        for (Precision p : new Precision[]{Precision.BF16, Precision.FP16}) {
            for (ConvSpec s : List.of(sep(128, 19, 728, 728, true), sep(2, 37, 64, 128, false))) {
                Launch d = plan(s, p, Choice.WGMMA).launches().get(2);
                assertEquals(sig.size(), d.args().size(), d.kernel());
                for (int i = 0; i < sig.size(); i++) {
                    Arg got = d.args().get(i);
                    assertEquals(sig.get(i).name(), got.name(), d.kernel() + " argument " + i);
                    String kind = got instanceof TensorMap ? "tmap" : got instanceof Ptr ? "ptr" : got instanceof I32 ? "i32" : got instanceof I64 ? "i64" : "?";
                    assertEquals(sig.get(i).kind(), kind, d.kernel() + " argument " + i + " " + got);
                }
            }
        }
    }

    // ------------------------------------------------------------------ arguments against cuda/pwbwd.cu

    /** One parameter of a kernel's C signature: its name and whether it is a pointer, an int or a long long. */
    record CParam(String name, String kind) {}

    /** The extern "C" entry points of cuda/pwbwd.cu (the macro's {@code ##SUF} kernels under their bf16 name). */
    static Map<String, List<CParam>> cSignatures() throws IOException {
        String src = Files.readString(Path.of("cuda", "pwbwd.cu")).replace("\\\n", " ");
        Pattern entry = Pattern.compile("extern \"C\" __global__ void __launch_bounds__\\([^)]*\\)\\s*(\\w+?)(##SUF)?\\(([^)]*)\\)");
        Map<String, List<CParam>> out = new LinkedHashMap<>();
        Matcher m = entry.matcher(src);
        while (m.find()) {
            List<CParam> params = new ArrayList<>();
            for (String p : m.group(3).split(",")) {
                String[] words = p.trim().split("\\s+");
                String name = words[words.length - 1];
                String kind = p.contains("*") ? "ptr" : p.contains("long long") ? "i64" : p.trim().startsWith("int ") ? "i32" : "?";
                params.add(new CParam(name, kind));
            }
            out.put(m.group(1) + (m.group(2) != null ? "bf16" : ""), params);
        }
        return out;
    }

    /** The plan's operand for each C pointer parameter, kernel by kernel: what the backend binds where. */
    static final Map<String, Map<String, List<String>>> POINTER_BINDINGS = Map.of(
            "pwbwd_pack_w2_bf16", Map.of("w2", List.of("w2"), "w2h", List.of("scratch:w2h")),
            "pwbwd_dgrad_bf16", Map.of("dz", List.of("dz"), "w2h", List.of("scratch:w2h"), "x", List.of("dgradMask"), "dd", List.of("scratch:dd")),
            "pwbwd_wgrad_bf16", Map.of("d", List.of("scratch:d"), "dz", List.of("dz"), "partial", List.of("scratch:partialPw", "dw2")),
            "pwbwd_reduce", Map.of("partial", List.of("scratch:partialPw"), "out", List.of("dw2")));

    @Test
    void argumentListsFollowTheCSignaturesOfCudaPwbwdCu() throws IOException {
        Map<String, List<CParam>> c = cSignatures();
        assertEquals(List.of("pwbwd_pack_w2_bf16", "pwbwd_dgrad_bf16", "pwbwd_wgrad_bf16", "pwbwd_zero_unstrided", "pwbwd_reduce"), List.copyOf(c.keySet()),
                "entry points found in cuda/pwbwd.cu (the pw/stem ones are in their own macro: stemAndStridedArguments...)");
        assertEquals(List.of(new CParam("dz", "ptr"), new CParam("w2h", "ptr"), new CParam("x", "ptr"), new CParam("dd", "ptr"),
                new CParam("M", "i32"), new CParam("cin", "i32"), new CParam("cout", "i32")), c.get("pwbwd_dgrad_bf16"), "the parser reads the dgrad signature");
        List<OpPlan> plans = List.of(plan(sep(128, 19, 728, 728, true)), plan(sep(32, 10, 1536, 2048, false)));
        int checked = 0;
        for (OpPlan p : plans) {
            for (Launch l : p.launches()) {
                if (!l.kernel().startsWith("pwbwd_")) continue;
                List<CParam> sig = c.get(l.kernel().replace("_f16", "_bf16"));
                assertEquals(sig.size(), l.args().size(), l.kernel() + " argument count");
                for (int i = 0; i < sig.size(); i++) {
                    CParam want = sig.get(i);
                    Arg got = l.args().get(i);
                    switch (want.kind()) {
                        case "ptr" -> {
                            assertTrue(got instanceof Ptr, l.kernel() + " argument " + i + " (" + want.name() + ") must be a pointer, is " + got);
                            List<String> allowed = POINTER_BINDINGS.get(l.kernel()).get(want.name());
                            assertTrue(allowed != null && allowed.contains(got.name()), l.kernel() + " binds " + got.name() + " to " + want.name());
                        }
                        case "i32" -> assertEquals(new I32(want.name(), ((I32) got).value()), got, l.kernel() + " argument " + i);
                        case "i64" -> assertEquals(new I64(want.name(), ((I64) got).value()), got, l.kernel() + " argument " + i);
                        default -> throw new AssertionError("unparsed parameter " + want + " of " + l.kernel());
                    }
                    checked++;
                }
            }
        }
        assertEquals(2 * (3 + 7 + 7) + 4, checked, "pack, dgrad, wgrad in both plans, one reduce");
    }

    // ------------------------------------------------------------------ the 1x1 strided and stem convs (pwbwd-5)

    static ConvSpec pw(int n, int hw, int cin, int cout, boolean preRelu) { return new ConvSpec(CONV1X1_SAME, n, hw, hw, cin, cout, 2, preRelu); }

    static ConvSpec stem(int n, int hw, int cin, int cout, int stride, boolean preRelu) {
        return new ConvSpec(CONV3X3_VALID, n, hw, hw, cin, cout, stride, preRelu);
    }

    @Test
    void everyXceptionConvButTheFirstRunsItsBackwardOnTensorCores() {
        XceptionGraph g = XceptionGraph.build(XceptionConfig.imagenet());
        for (int n : new int[]{32, 128}) {
            List<String> ffma = new ArrayList<>(), pwStem = new ArrayList<>();
            for (ConvSpec s : CudaLaunchPlanTest.convSpecs(g, n)) {
                if (!Choice.MMA.applies(s, Precision.BF16, H100)) ffma.add(s.kind() + " " + s.cin() + "->" + s.cout());
                else if (s.kind() != SEPARABLE3X3_SAME) pwStem.add(s.kind() + " " + s.cin() + "->" + s.cout());
            }
            assertEquals(List.of("CONV3X3_VALID 3->32"), ffma, "batch " + n + ": only the first stem conv (cin 3) stays FFMA");
            assertEquals(List.of("CONV3X3_VALID 32->64", "CONV1X1_SAME 64->128", "CONV1X1_SAME 128->256", "CONV1X1_SAME 256->728",
                    "CONV1X1_SAME 728->1024"), pwStem, "batch " + n);
        }
    }

    @Test
    void theStemAndStridedConvPlansGatherTheirOperandsInTheGemmMainloops() {
        // the second stem conv at batch 128: 149 x 149 x 32 -> 147 x 147 x 64, K (dgrad) = 9 x 64, P (wgrad) = 9 x 32
        ConvSpec s = stem(128, 149, 32, 64, 1, false);
        OpPlan plan = PointwiseBackwardPath.plan(s, Precision.BF16, H100, OCC, true, Choice.MMA);
        assertEquals(List.of("pwbwd_pack_w2_bf16", "pwbwd_wgrad_stem_bf16", "pwbwd_reduce", "pwbwd_dgrad_stem_bf16"), kernels(plan));
        assertEquals(plan, PointwiseBackwardPath.plan(s, Precision.BF16, H100, OCC, true, Choice.WGMMA), "wgmma takes the separable conv only");
        Launch w = launch(plan, "pwbwd_wgrad_stem_bf16");
        long out = 128L * 147 * 147;
        Splits sp = PointwiseBackwardPath.wgradSplits(out, 9 * 32, 64, 132, OCC);
        assertEquals(3, w.gridX(), "ceil(288 / 128) row tiles x 1 column tile");
        assertEquals(sp.splits(), w.gridY());
        assertEquals(PointwiseBackwardPath.WGRAD_SHARED_BYTES, w.sharedBytes());
        assertEquals(List.of(new Ptr("x", false), new Ptr("dz", false), new Ptr("scratch:partialW", false), new I32("n", 128), new I32("h", 149),
                new I32("w", 149), new I32("cin", 32), new I32("cout", 64), new I32("stride", 1), new I32("preRelu", 0),
                new I32("rowsPerSplit", sp.rowsPerSplit())), w.args());
        assertEquals(4L * sp.splits() * 9 * 32 * 64, plan.scratchBytes().get("scratch:partialW"));
        assertEquals(2L * 9 * 32 * 64, plan.scratchBytes().get("scratch:w1h"));
        Launch d = launch(plan, "pwbwd_dgrad_stem_bf16");
        assertEquals(1, d.gridX(), "32 input channels: one column tile");
        assertEquals(CudaLaunchPlan.ceilDiv(128L * 149 * 149, 128), d.gridY(), "rows over the input pixels");
        assertEquals(new Ptr("dgradMask", true), d.args().get(2), "no pre-activation: dx unmasked");
        assertEquals(new Ptr("dx", false), d.args().get(3));
        Launch r = launch(plan, "pwbwd_reduce");
        assertEquals(new I32("splits", sp.splits()), arg(r, "splits"));
        assertEquals(new I64("count", 9L * 32 * 64), arg(r, "count"));

        // a pre-activated 1x1 stride-2 conv without dx: the mask and the relu are on; no dgrad, one split writes dw1
        OpPlan p2 = PointwiseBackwardPath.plan(pw(1, 10, 728, 1024, true), Precision.FP16, H100, OCC, false, Choice.MMA);
        assertEquals(List.of("pwbwd_pack_w2_f16", "pwbwd_wgrad_pw_f16"), kernels(p2), "25 output pixels: one split, dW written directly");
        assertEquals(new Ptr("dw1", false), launch(p2, "pwbwd_wgrad_pw_f16").args().get(2));
        assertEquals(new I32("preRelu", 1), arg(launch(p2, "pwbwd_wgrad_pw_f16"), "preRelu"));
        OpPlan p3 = PointwiseBackwardPath.plan(pw(2, 37, 64, 128, true), Precision.BF16, H100, OCC, true, Choice.MMA);
        assertEquals(new Ptr("x", false), launch(p3, "pwbwd_dgrad_pw_bf16").args().get(2), "pre-activated: dx masked by x > 0");
        // the 1x1 dgrad runs over the 2 x 19 x 19 output pixels only; the zeros at the other 3/4 of dx come first
        assertEquals(List.of("pwbwd_pack_w2_bf16", "pwbwd_wgrad_pw_bf16", "pwbwd_zero_unstrided", "pwbwd_dgrad_pw_bf16"), kernels(p3));
        assertEquals(CudaLaunchPlan.ceilDiv(2L * 19 * 19, 128), launch(p3, "pwbwd_dgrad_pw_bf16").gridY(), "rows over the output pixels");
        assertEquals(List.of(new Ptr("dx", false), new I32("n", 2), new I32("h", 37), new I32("w", 37), new I32("cin", 64), new I32("stride", 2)),
                launch(p3, "pwbwd_zero_unstrided").args());
    }

    @Test
    void stemAndStridedArgumentsFollowTheCSignaturesOfCudaPwbwdCu() throws IOException {
        List<CParam> dg = macroSignature("pwbwd.cu", "pwbwd_dgrad_##KIND##_##SUF"), wg = macroSignature("pwbwd.cu", "pwbwd_wgrad_##KIND##_##SUF");
        assertEquals(List.of(new CParam("dz", "ptr"), new CParam("wh", "ptr"), new CParam("x", "ptr"), new CParam("dx", "ptr"), new CParam("n", "i32"),
                new CParam("h", "i32"), new CParam("w", "i32"), new CParam("cin", "i32"), new CParam("cout", "i32"), new CParam("stride", "i32")), dg);
        assertEquals(11, wg.size(), wg.toString());
        List<CParam> zero = cSignatures().get("pwbwd_zero_unstrided");
        assertEquals(List.of(new CParam("dx", "ptr"), new CParam("n", "i32"), new CParam("h", "i32"), new CParam("w", "i32"), new CParam("cin", "i32"),
                new CParam("stride", "i32")), zero);
        for (ConvSpec s : List.of(stem(4, 30, 32, 64, 1, false), pw(3, 19, 256, 728, true))) {
            OpPlan plan = PointwiseBackwardPath.plan(s, Precision.BF16, H100, OCC, true, Choice.MMA);
            for (Launch l : plan.launches()) {
                List<CParam> sig = l.kernel().startsWith("pwbwd_dgrad_") ? dg : l.kernel().startsWith("pwbwd_wgrad_") ? wg
                        : l.kernel().equals("pwbwd_zero_unstrided") ? zero : null;
                if (sig == null) continue;
                assertEquals(sig.size(), l.args().size(), l.kernel());
                for (int i = 0; i < sig.size(); i++) {
                    Arg a = l.args().get(i);
                    String kind = a instanceof Ptr ? "ptr" : a instanceof I32 ? "i32" : a instanceof I64 ? "i64" : "?";
                    assertEquals(sig.get(i).kind(), kind, l.kernel() + " argument " + i);
                    if (!(a instanceof Ptr)) assertEquals(sig.get(i).name(), a.name(), l.kernel() + " argument " + i);
                }
            }
        }
    }
}
