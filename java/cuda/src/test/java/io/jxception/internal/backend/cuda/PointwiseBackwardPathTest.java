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
import io.jxception.internal.backend.cuda.PointwiseBackwardPath.Choice;
import io.jxception.internal.backend.cuda.PointwiseBackwardPath.Splits;
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
        assertEquals(List.of("dw_forward_bf16", "pwbwd_pack_w2_bf16", "pwbwd_dgrad_bf16", "pwbwd_wgrad_bf16", "pwbwd_reduce",
                "dw_backward_weight_bf16", "reduce_partials", "dw_backward_data_bf16"), kernels(p));
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
        assertEquals(List.of("dw_forward_f16", "pwbwd_pack_w2_f16", "pwbwd_dgrad_f16", "pwbwd_wgrad_f16", "pwbwd_reduce",
                "dw_backward_weight_f16", "reduce_partials"), kernels(p), "M = 1,444: two splits; no dx wanted");
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
        assertFalse(PointwiseBackwardPath.covers(new ConvSpec(CONV1X1_SAME, 2, 37, 37, 64, 128, 2, false), Precision.BF16, H100));
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
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Choice.parse("wgmma"));
        assertTrue(e.getMessage().contains("cuda.pwbwd") && e.getMessage().contains("wgmma") && e.getMessage().contains("ffma or mma"), e.getMessage());

        assertEquals(Choice.FFMA, CudaBackend.Options.DEFAULT.pwbwd());
        assertEquals(Choice.FFMA, CudaBackend.Options.parse(Map.of()).pwbwd());
        CudaBackend.Options o = CudaBackend.Options.parse(Map.of("cuda.pwbwd", "mma", "cuda.sepconv", "fused"));
        assertEquals(Choice.MMA, o.pwbwd());
        assertFalse(o.sepconv().split());
        assertEquals(Choice.MMA, o.withSyncEachLaunch(true).withArena(1 << 20).withSepconv(SeparableGemmPath.Choice.DEFAULT).withStem(StemConvPath.OLD).pwbwd(),
                "every withX keeps the choice");
        assertEquals(Choice.FFMA, o.withPwbwd(Choice.FFMA).pwbwd());
        assertTrue(CudaBackend.Options.KEYS.contains("cuda.pwbwd"));
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> CudaBackend.Options.parse(Map.of("cuda.pwbwd", "tensor")));
        assertTrue(bad.getMessage().contains("cuda.pwbwd"), bad.getMessage());
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
        assertEquals(List.of("pwbwd_pack_w2_bf16", "pwbwd_dgrad_bf16", "pwbwd_wgrad_bf16", "pwbwd_reduce"), List.copyOf(c.keySet()), "entry points found in cuda/pwbwd.cu");
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
}
