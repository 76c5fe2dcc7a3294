package io.jxception.internal.backend.cuda;

import io.jxception.internal.backend.BatchNormSpec;
import io.jxception.internal.backend.ConvSpec;
import io.jxception.internal.backend.HeadSpec;
import io.jxception.internal.backend.PoolSpec;
import io.jxception.backend.Precision;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.Arg;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.ConvTiling;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.I32;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.Launch;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.Limits;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.OpPlan;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.Ptr;
import io.jxception.model.ConvKind;
import io.jxception.model.Node;
import io.jxception.model.Pooling;
import io.jxception.model.Value;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CudaLaunchPlanTest {
    static final Limits H100 = Limits.H100;

    /** Every conv of the network as a ConvSpec at batch n. */
    static List<ConvSpec> convSpecs(XceptionGraph g, int n) {
        List<ConvSpec> out = new ArrayList<>();
        for (Node node : g.nodes()) {
            if (node instanceof Node.Conv c) {
                Value in = g.values().get(c.input());
                out.add(new ConvSpec(c.kind(), n, in.h(), in.w(), c.cin(), c.cout(), c.stride(), c.preRelu()));
            }
        }
        return out;
    }

    /** One plan of every op kind for a spread of shapes: together they use every kernel. */
    static List<OpPlan> representativePlans(Precision p, Limits lim) {
        List<OpPlan> plans = new ArrayList<>();
        XceptionGraph g = XceptionGraph.build(XceptionConfig.imagenet());
        for (int n : new int[]{1, 256}) {
            for (ConvSpec s : convSpecs(g, n)) {
                plans.add(CudaLaunchPlan.conv(s, p, lim, true));
                plans.add(CudaLaunchPlan.convBackward(s, p, lim, true));
            }
        }
        plans.add(CudaLaunchPlan.conv(new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 3, 7, 10, 46, 46, 1, true), p, lim, false));
        // cin % 8 != 0: the channel-per-thread depthwise weight gradient (Xception's run dw_backward_weight_v8_*)
        plans.add(CudaLaunchPlan.convBackward(new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 3, 7, 10, 46, 46, 1, true), p, lim, true));
        if (p == Precision.BF16 || p == Precision.FP16) {
            plans.add(SeparableGemmPath.plan(new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 3, 19, 19, 728, 728, 1, true), p, lim, false, SeparableGemmPath.DEFAULT_CHUNK_BYTES));
            // cin % 8 != 0: the grid-stride depthwise (Xception's run sepgemm_dw_v8_*)
            plans.add(SeparableGemmPath.plan(new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 3, 7, 10, 46, 48, 1, true), p, lim, false, SeparableGemmPath.DEFAULT_CHUNK_BYTES));
            // the tensor-core pointwise backward: several splits (pwbwd_reduce) and one (dW2 written directly)
            plans.add(PointwiseBackwardPath.plan(new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 32, 19, 19, 728, 728, 1, true), p, lim, 2, true));
            plans.add(PointwiseBackwardPath.plan(new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 1, 10, 10, 1536, 2048, 1, false), p, lim, 2, false));
            // its 1x1 strided and stem modes (pwbwd-5)
            plans.add(PointwiseBackwardPath.plan(new ConvSpec(ConvKind.CONV1X1_SAME, 8, 37, 37, 128, 256, 2, false), p, lim, 2, true));
            plans.add(PointwiseBackwardPath.plan(new ConvSpec(ConvKind.CONV3X3_VALID, 8, 149, 149, 32, 64, 1, false), p, lim, 2, true));
            if (lim.maxSharedBytesPerBlock() >= HopperPointwiseGemm.SHARED_BYTES_N128) {
                // the Hopper pointwise GEMM (devices with 227 KiB of shared memory): 256-wide tiles at batch 256, 128 at batch 3
                SeparableGemmPath.Choice wgmma = SeparableGemmPath.Choice.parse("split", null, "wgmma");
                plans.add(SeparableGemmPath.plan(new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 256, 19, 19, 728, 728, 1, true), p, lim, true, wgmma));
                plans.add(SeparableGemmPath.plan(new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 3, 19, 19, 728, 728, 1, true), p, lim, false, wgmma));
                // the fused Hopper separable conv: 256- and 128-wide tiles
                plans.add(HopperSeparableConv.plan(new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 2, 19, 19, 728, 728, 1, true), p, lim, true));
                plans.add(HopperSeparableConv.plan(new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 2, 37, 37, 64, 128, 1, false), p, lim, false));
                // cuda.pwbwd=wgmma: the backward's dgrad on pwgemm_wgmma (dz, scratch:w2h, scratch:dd) and wgrad on pwbwd_wgrad_wgmma, 256- and 128-wide tiles
                plans.add(PointwiseBackwardPath.plan(new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 32, 19, 19, 728, 728, 1, true), p, lim, 2, true,
                        PointwiseBackwardPath.Choice.WGMMA));
                plans.add(PointwiseBackwardPath.plan(new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 1, 37, 37, 64, 128, 1, false), p, lim, 2, false,
                        PointwiseBackwardPath.Choice.WGMMA));
            }
        }
        if (p == Precision.TF32 && lim.maxSharedBytesPerBlock() >= HopperPointwiseGemm.SHARED_BYTES_N128) {
            // TF32's split path runs only on the Hopper GEMM: fp32 depthwise, tf32 wgmma, 256- and 128-wide tiles
            SeparableGemmPath.Choice wgmma = SeparableGemmPath.Choice.parse("split", null, "wgmma");
            plans.add(SeparableGemmPath.plan(new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 256, 19, 19, 728, 728, 1, true), p, lim, true, wgmma));
            plans.add(SeparableGemmPath.plan(new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 3, 19, 19, 728, 728, 1, false), p, lim, false, wgmma));
            plans.add(SeparableGemmPath.plan(new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 3, 19, 19, 46, 64, 1, true), p, lim, false, wgmma));   // sepgemm_dw_tf32
        }
        // small stems: 35x35 outputs (the smallest tile) and 98x98 (the middle tile)
        plans.add(CudaLaunchPlan.conv(new ConvSpec(ConvKind.CONV3X3_VALID, 1, 71, 71, 3, 32, 2, false), p, lim, true));
        plans.add(CudaLaunchPlan.conv(new ConvSpec(ConvKind.CONV3X3_VALID, 1, 100, 100, 32, 64, 1, false), p, lim, true));
        // stems wider than 64 channels (not in Xception, which uses the _n64 kernels): the 128-wide tiles
        plans.add(CudaLaunchPlan.conv(new ConvSpec(ConvKind.CONV3X3_VALID, 256, 149, 149, 32, 128, 1, false), p, lim, true));
        plans.add(CudaLaunchPlan.conv(new ConvSpec(ConvKind.CONV3X3_VALID, 1, 100, 100, 32, 96, 1, false), p, lim, true));
        plans.addAll(StemConvPathTest.stemPlans(p, lim));
        plans.add(CudaLaunchPlan.maxPoolAdd(new PoolSpec(2, 147, 147, 128), p, lim));
        plans.add(CudaLaunchPlan.maxPoolBackward(new PoolSpec(2, 147, 147, 128), p, lim));
        plans.add(CudaLaunchPlan.maxPoolBackward(new PoolSpec(1, 7, 10, 46), p, lim));   // c % 8 != 0: one thread per element
        plans.add(CudaLaunchPlan.head(new HeadSpec(256, 10, 10, 2048, Pooling.AVG, true, 1000), p, lim));
        plans.add(CudaLaunchPlan.head(new HeadSpec(3, 10, 10, 2048, Pooling.MAX, false, 0), p, lim));
        plans.add(CudaLaunchPlan.headTrain(new HeadSpec(32, 10, 10, 2048, Pooling.AVG, true, 1000), p, lim, 1f));
        BatchNormSpec bn = new BatchNormSpec(32L * 147 * 147, 64, 1e-3, 0.99, true, true);
        plans.add(CudaLaunchPlan.batchNormTrain(bn, p, lim));
        plans.add(CudaLaunchPlan.batchNormTrainBackward(bn, p, lim));
        plans.add(CudaLaunchPlan.batchNormSums(bn, false, p, lim));
        plans.add(CudaLaunchPlan.batchNormSums(bn, true, p, lim));
        plans.add(CudaLaunchPlan.batchNormApply(bn, p, lim));
        plans.add(CudaLaunchPlan.batchNormBackwardSums(bn, p, lim));
        plans.add(CudaLaunchPlan.batchNormBackwardApply(bn, 2 * bn.rows(), p, lim));
        // c % 8 != 0: the channel-per-thread partial kernels (bn above runs the _v8_ ones)
        BatchNormSpec odd = new BatchNormSpec(3L * 7 * 10, 46, 1e-3, 0.99, true, false);
        plans.add(CudaLaunchPlan.batchNormTrain(odd, p, lim));
        plans.add(CudaLaunchPlan.batchNormTrainBackward(odd, p, lim));
        plans.add(CudaLaunchPlan.batchNormSums(odd, true, p, lim));
        plans.add(CudaLaunchPlan.addInPlace(1000, CudaLaunchPlan.storageSuffix(p), lim));
        plans.add(CudaLaunchPlan.sgdUpdate(1000, 0.1f, 0.9f, 1e-4f, lim));
        plans.add(CudaLaunchPlan.unscaleGradient(1000, 0x1p-16f, lim));
        MultiTensorPlan multi = MultiTensorPlanTest.plan();   // the whole optimizer step: one launch each
        plans.add(multi.sgd(0.1f, 0.9f, 1e-4f));
        plans.add(multi.unscale(0x1p-16f));
        if (CudaLaunchPlan.activationBytes(p) == 2) {
            String s = CudaLaunchPlan.storageSuffix(p);
            plans.add(new OpPlan(List.of(CudaLaunchPlan.convert("f32", s, 10, lim), CudaLaunchPlan.convert(s, "f32", 10, lim)), Map.of()));
        }
        plans.add(OpPlan.of(CudaLaunchPlan.convert("u8", CudaLaunchPlan.storageSuffix(p), 10, lim)));   // uint8 preprocessing into scratch
        return plans;
    }

    @Test
    void fullSizeSeparableConvsKeepAllOfKInSharedMemoryOnH100() {
        XceptionGraph g = XceptionGraph.build(XceptionConfig.imagenet());
        for (Precision p : Precision.values()) {
            for (ConvSpec s : convSpecs(g, 256)) {
                ConvTiling t = CudaLaunchPlan.convTiling(s, p, H100);
                assertTrue(t.kResident(), p + " " + s + " -> " + t);
                assertTrue(t.sharedBytes() <= H100.maxSharedBytesPerBlock(), p + " " + s + " -> " + t);
                assertTrue(t.mTiles() >= H100.smCount(), "batch 256 fills every SM: " + s + " -> " + t);
            }
        }
    }

    @Test
    void middleFlowBf16UsesTheLargestTileAtBatch256() {
        ConvSpec middle = new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 256, 19, 19, 728, 728, 1, true);
        ConvTiling t = CudaLaunchPlan.convTiling(middle, Precision.BF16, H100);
        assertEquals(128, t.blockM());
        assertEquals(736, t.kChunk());
        assertEquals(6, t.nTiles());
        assertEquals(6, t.tilesPerBlock(), "one block computes every output tile of its rows: the depthwise result is made once");
        assertEquals(ceil(256 * 361, 128), t.mTiles());
        assertEquals(128 * (736 + 8) * 2 + 2 * 32 * 136 * 2, t.sharedBytes());
    }

    @Test
    void batchOneSplitsOutputChannelsOverBlocksToFillTheGpu() {
        ConvSpec middle = new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 1, 19, 19, 728, 728, 1, true);
        ConvTiling t = CudaLaunchPlan.convTiling(middle, Precision.BF16, H100);
        assertEquals(32, t.blockM(), "few pixels: the smallest tile");
        assertEquals(12, t.mTiles());
        assertEquals(1, t.tilesPerBlock());
        OpPlan plan = CudaLaunchPlan.conv(middle, Precision.BF16, H100, false);
        Launch l = plan.launches().get(0);
        assertEquals("sepconv_bn_bf16_m32", l.kernel());
        assertEquals(12 * 6, l.gridX() * l.gridY());
    }

    @Test
    void smallSharedMemoryDevicesChunkKAndRecomputePerTile() {
        ConvSpec exit = new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 64, 10, 10, 1536, 2048, 1, false);
        ConvTiling t = CudaLaunchPlan.convTiling(exit, Precision.FP32, Limits.ADA);
        assertFalse(t.kResident());
        assertEquals(32, t.blockM());
        assertEquals(1, t.tilesPerBlock());
        assertTrue(t.sharedBytes() <= Limits.ADA.maxSharedBytesPerBlock());
        assertEquals(0, t.kChunk() % CudaLaunchPlan.CONV_BK);
    }

    @Test
    void stemUsesNineTimesCinAsK() {
        ConvSpec stem1 = new ConvSpec(ConvKind.CONV3X3_VALID, 256, 299, 299, 3, 32, 2, false);
        ConvTiling t = CudaLaunchPlan.convTiling(stem1, Precision.BF16, H100);
        assertEquals(32, t.kPadded(), "K = 27 padded to 32");
        assertEquals(128, t.blockM());
        assertEquals("conv_bn_relu_tf32_m64_n64", CudaLaunchPlan.conv(stem1, Precision.TF32, H100, true).launches().get(0).kernel());
    }

    @Test
    void stemsWithAtMost64OutputChannelsUseTheNarrowTile() {
        ConvSpec stem2 = new ConvSpec(ConvKind.CONV3X3_VALID, 256, 149, 149, 32, 64, 1, false);
        ConvTiling t = CudaLaunchPlan.convTiling(stem2, Precision.BF16, H100);
        assertEquals(128, t.blockM());
        assertEquals(64, t.blockN());
        assertEquals(1, t.nTiles());
        assertEquals(128 * (288 + 8) * 2 + 2 * 32 * (64 + 8) * 2, t.sharedBytes());
        Launch l = CudaLaunchPlan.conv(stem2, Precision.BF16, H100, true).launches().get(0);
        assertEquals("conv_bn_relu_bf16_m128_n64", l.kernel());
        assertEquals(1, l.gridY());
        assertEquals("conv_bn_relu_fp32_m64", CudaLaunchPlan.conv(stem2, Precision.FP32, H100, true).launches().get(0).kernel(), "FFMA keeps 128");
        ConvSpec wide = new ConvSpec(ConvKind.CONV3X3_VALID, 256, 149, 149, 32, 65, 1, false);
        assertEquals(128, CudaLaunchPlan.convTiling(wide, Precision.BF16, H100).blockN());
        ConvSpec sep = new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 256, 19, 19, 64, 64, 1, false);
        assertEquals(128, CudaLaunchPlan.convTiling(sep, Precision.BF16, H100).blockN(), "only the stem has _n64 kernels");
        ConvSpec tiny = new ConvSpec(ConvKind.CONV3X3_VALID, 1, 71, 71, 3, 32, 2, false);
        ConvTiling tt = CudaLaunchPlan.convTiling(tiny, Precision.BF16, H100);
        assertEquals(32, tt.blockM());
        assertEquals(128, tt.blockN(), "no _n64 kernel for 32-row tiles");
    }

    @Test
    void argumentListsMatchTheCompiledKernelSignatures() throws IOException {
        Map<String, List<String>> ptx = CudaKernelBuild.ptxSignatures();
        Map<String, Integer> bounds = CudaKernelBuild.maxThreads();
        assertEquals(384, bounds.get("pwgemm_wgmma_bf16_n256"), "the wgmma kernels' launch bounds are parsed");
        Set<String> used = new TreeSet<>();
        for (Limits lim : List.of(H100, Limits.A100, Limits.ADA)) {
            for (Precision p : Precision.values()) {
                for (OpPlan plan : representativePlans(p, lim)) {
                    for (Launch l : plan.launches()) {
                        List<String> sig = ptx.get(l.kernel());
                        assertTrue(sig != null, "no kernel " + l.kernel() + " in the PTX");
                        assertEquals(sig.size(), l.args().size(), l.kernel() + " argument count");
                        for (int i = 0; i < sig.size(); i++) assertEquals(sig.get(i), ptxType(l.args().get(i)), l.kernel() + " argument " + i + " " + l.args().get(i));
                        assertTrue(l.sharedBytes() <= lim.maxSharedBytesPerBlock(), l.kernel() + " shared memory " + l.sharedBytes());
                        Integer bound = bounds.get(l.kernel());
                        assertTrue(bound == null || l.blockX() <= bound, l.kernel() + ": block of " + l.blockX() + " over its launch bounds " + bound);
                        for (Arg a : l.args()) {
                            String operand = a instanceof CudaLaunchPlan.Ptr ptr ? ptr.name() : a instanceof CudaLaunchPlan.TensorMap m ? m.operand() : "";
                            if (operand.startsWith("scratch:")) {
                                assertTrue(plan.scratchBytes().containsKey(operand), l.kernel() + " uses unplanned scratch " + operand);
                            }
                        }
                        used.add(l.kernel());
                    }
                }
            }
        }
        Set<String> unused = new TreeSet<>(ptx.keySet());
        unused.removeAll(used);
        assertEquals(Set.of(), unused, "kernels no plan launches");
    }

    private static String ptxType(Arg a) {
        if (a instanceof CudaLaunchPlan.TensorMap) return "b8[128]";   // const __grid_constant__ CUtensorMap, by value
        if (a instanceof CudaLaunchPlan.Ptr || a instanceof CudaLaunchPlan.I64) return "u64";
        if (a instanceof CudaLaunchPlan.I32) return "u32";
        return "f32";
    }

    @Test
    void largeBatchesStayWithinGridLimits() {
        XceptionGraph g = XceptionGraph.build(XceptionConfig.imagenet());
        for (ConvSpec s : convSpecs(g, 1024)) {
            for (Launch l : CudaLaunchPlan.convBackward(s, Precision.BF16, H100, true).launches()) assertTrue(l.gridY() <= 65_535 && l.gridZ() <= 65_535, l.toString());
            CudaLaunchPlan.conv(s, Precision.BF16, H100, false);
        }
        BatchNormSpec bn = new BatchNormSpec(1024L * 149 * 149, 32, 1e-3, 0.99, true, false);
        OpPlan p = CudaLaunchPlan.batchNormTrain(bn, Precision.FP32, H100);
        assertTrue(p.launches().get(0).gridY() <= 512);
    }

    @Test
    void batchNormPartialsTakeEightChannelsPerThreadWhenTheChannelsAllowIt() {
        // middle flow at batch 128: 46,208 rows x 728 channels = 91 groups of 8 -> 32 lanes, 3 blocks across;
        // ceil(46,208 / 512) = 91 rows per chunk, rounded up to 96 -> 482 chunks
        BatchNormSpec middle = new BatchNormSpec(128L * 19 * 19, 728, 1e-3, 0.99, true, true);
        OpPlan fwd = CudaLaunchPlan.batchNormTrain(middle, Precision.BF16, H100);
        Launch partial = fwd.launches().get(0);
        assertEquals("bn_stats_partial_v8_bf16", partial.kernel());
        assertEquals(3, partial.gridX());
        assertEquals(482, partial.gridY());
        assertEquals(new I32("rowsPerChunk", 96), partial.args().get(4));
        assertEquals(new I32("lanes", 32), partial.args().get(5));
        assertEquals(4L * 2 * 482 * 728, fwd.scratchBytes().get("scratch:partial"));
        assertEquals(new I32("chunks", 482), fwd.launches().get(1).args().get(2), "the final kernel adds every chunk");
        // the same cut for the backward's sums, then the apply
        OpPlan bwd = CudaLaunchPlan.batchNormTrainBackward(middle, Precision.BF16, H100);
        assertEquals(List.of("bn_backward_partial_v8_bf16", "bn_backward_final", "bn_backward_apply_v8_bf16"),
                bwd.launches().stream().map(Launch::kernel).toList());
        assertEquals(new I32("lanes", 32), bwd.launches().get(0).args().get(10));
        assertEquals(new I32("statRows", 46_208), bwd.launches().get(2).args().get(11), "statistics over this batch's rows");
        // the element-wise passes: one group of 8 channels per thread for the whole launch, rows strided over
        // 3 x 1,408 blocks (32 per SM on 132 SMs: ceil(4,224 / 3)) of 8 row lanes
        Launch apply = fwd.launches().get(2);
        assertEquals("bn_apply_v8_bf16", apply.kernel());
        assertEquals(List.of(3, 1408), List.of(apply.gridX(), apply.gridY()));
        assertEquals(new I32("lanes", 32), apply.args().get(10));
        Launch backApply = bwd.launches().get(2);
        assertEquals(List.of(3, 1408), List.of(backApply.gridX(), backApply.gridY()));
        assertEquals(new I32("lanes", 32), backApply.args().get(14));
        // few rows: no more row blocks than rows need (361 rows / 8 row lanes = 46)
        assertEquals(46, CudaLaunchPlan.batchNormTrain(new BatchNormSpec(361, 728, 1e-3, 0.99, true, false), Precision.BF16, H100)
                .launches().get(2).gridY());
        assertEquals("bn_apply_f32", CudaLaunchPlan.batchNormApply(new BatchNormSpec(210, 46, 1e-3, 0.99, false, false), Precision.FP32, H100)
                .launches().get(1).kernel(), "c % 8 != 0 keeps the grid-stride kernel");
        assertThrows(IllegalArgumentException.class, () -> ChannelSumChunks.vectorLanes(46));

        // block1_conv1 (32 channels = 4 groups): 4 channel lanes x 64 row lanes, so the block is not 7/8 idle
        ChannelSumChunks narrow = ChannelSumChunks.of(32 * 149 * 149, 32);
        assertTrue(narrow.vector());
        assertEquals(4, narrow.lanes());
        assertEquals(1, CudaLaunchPlan.batchNormTrain(new BatchNormSpec(32L * 149 * 149, 32, 1e-3, 0.99, true, false), Precision.FP32, H100)
                .launches().get(0).gridX());
        // 1,536 channels = 192 groups -> 32 lanes, 6 blocks across; a small batch keeps 64 rows per chunk
        ChannelSumChunks exit = ChannelSumChunks.of(1 * 10 * 10, 1536);
        assertEquals(new ChannelSumChunks(true, 32, 64, 2), exit);
        assertEquals(6, exit.partial("bn_sums_partial", "f16", 1536, List.of()).gridX());
        // 5 groups (c = 40) round up to 8 lanes
        assertEquals(8, ChannelSumChunks.of(1000, 40).lanes());

        // c % 8 != 0: one channel per thread, 32 lanes, at least 256 rows per chunk
        ChannelSumChunks odd = ChannelSumChunks.of(3 * 7 * 10, 46);
        assertEquals(new ChannelSumChunks(false, 32, 256, 1), odd);
        assertEquals("bn_backward_partial_f32", CudaLaunchPlan.batchNormBackwardSums(new BatchNormSpec(210, 46, 1e-3, 0.99, false, false),
                Precision.FP32, H100).launches().get(0).kernel());
        assertEquals(2, odd.partial("bn_stats_partial", "f32", 46, List.of()).gridX());
        assertThrows(IllegalArgumentException.class, () -> ChannelSumChunks.of(0, 8));
    }

    @Test
    void denseHeadPoolsThenSpreadsTheDenseOverImagesAndClasses() {
        HeadSpec h = new HeadSpec(256, 10, 10, 2048, Pooling.AVG, true, 1000);
        OpPlan plan = CudaLaunchPlan.head(h, Precision.BF16, H100);
        assertEquals(List.of("global_pool_bf16", "head_dense", "head_softmax"), plan.launches().stream().map(Launch::kernel).toList());
        assertEquals(4L * 256 * 2048, plan.scratchBytes().get("scratch:pooled"));
        Launch pool = plan.launches().get(0);
        assertEquals(256 * 2048 / 8 / 256, pool.gridX(), "one thread per (image, 8 channels)");
        Launch dense = plan.launches().get(1);
        assertEquals(16, dense.gridX(), "1000 classes / 64");
        assertEquals(8, dense.gridY(), "256 images / 32");
        assertTrue(dense.gridX() * dense.gridY() >= 128, "about one block per SM");
        assertEquals(32, plan.launches().get(2).gridX(), "one warp per image");
        OpPlan train = CudaLaunchPlan.headTrain(h, Precision.BF16, H100, 1f);
        assertEquals(List.of("global_pool_bf16", "head_dense", "head_softmax_xent", "head_train_dweights", "head_train_dx_bf16"),
                train.launches().stream().map(Launch::kernel).toList());
        HeadSpec pooled = new HeadSpec(3, 10, 10, 2048, Pooling.MAX, false, 0);
        assertEquals(Map.of(), CudaLaunchPlan.head(pooled, Precision.FP32, H100).scratchBytes());
    }

    @Test
    void separableBackwardPlansScratchForTheDepthwiseResultAndPartials() {
        ConvSpec s = new ConvSpec(ConvKind.SEPARABLE3X3_SAME, 8, 19, 19, 728, 728, 1, true);
        OpPlan p = CudaLaunchPlan.convBackward(s, Precision.BF16, H100, true);
        assertEquals(8L * 361 * 728 * 2, p.scratchBytes().get("scratch:d"));
        assertEquals(List.of("dw_forward_v8_bf16", "dgrad_sep_bf16", "wgrad_sep_bf16", "reduce_partials", "dw_backward_weight_v8_bf16", "reduce_partials", "dw_backward_data_v8_bf16"),
                p.launches().stream().map(Launch::kernel).toList());
        OpPlan noDx = CudaLaunchPlan.convBackward(s, Precision.BF16, H100, false);
        assertEquals(6, noDx.launches().size());
        // dW1: 2,888 input pixels in chunks of 64 (at least 64; 2,888 / 512 is less) = 46 chunks; 91 groups of 8 channels -> 32 lanes, 3 blocks across
        Launch dw = p.launches().get(4);
        assertEquals(3, dw.gridX());
        assertEquals(46, dw.gridY());
        assertEquals(List.of(new I32("pixelsPerChunk", 64), new I32("lanes", 32)), dw.args().subList(8, 10));
        assertEquals(4L * 46 * 9 * 728, p.scratchBytes().get("scratch:partialDw"));
        assertEquals(new I32("chunks", 46), p.launches().get(5).args().get(2), "reduce_partials adds every chunk");
        // the depthwise forward recompute and dx: 32 lanes of 8 channels x 8 pixel lanes, 3 x 361 blocks (2,888 pixels / 8)
        for (Launch l : List.of(p.launches().get(0), p.launches().get(6))) {
            assertEquals(List.of(3, 361), List.of(l.gridX(), l.gridY()), l.kernel());
            assertEquals(new I32("lanes", 32), l.args().get(l.args().size() - 1), l.kernel());
        }
    }

    @Test
    void maxPoolBackwardFindsEachWindowsArgmaxOnceWhenTheChannelsAllowIt() {
        // block2's pool at batch 128: 128 x 147 x 147 x 128 inputs, 128 x 74 x 74 x 128 outputs (one tap byte each)
        OpPlan plan = CudaLaunchPlan.maxPoolBackward(new PoolSpec(128, 147, 147, 128), Precision.BF16, H100);
        assertEquals(List.of("maxpool_argmax_v8_bf16", "maxpool_backward_v8_bf16"), plan.launches().stream().map(Launch::kernel).toList());
        assertEquals(Map.of("scratch:argmax", 128L * 74 * 74 * 128), plan.scratchBytes());
        assertEquals(new Ptr("scratch:argmax", false), plan.launches().get(0).args().get(1), "pass 1 writes the taps");
        assertEquals(new Ptr("scratch:argmax", false), plan.launches().get(1).args().get(0), "pass 2 reads them, not x");
        // a small pool: the grids follow the 8-channel work items (outputs / 8, inputs / 8)
        OpPlan small = CudaLaunchPlan.maxPoolBackward(new PoolSpec(1, 19, 19, 1024), Precision.FP32, H100);
        assertEquals(CudaLaunchPlan.gridFor(10L * 10 * 1024 / 8, H100), small.launches().get(0).gridX());
        assertEquals(CudaLaunchPlan.gridFor(19L * 19 * 1024 / 8, H100), small.launches().get(1).gridX());
        assertTrue(small.launches().get(0).gridX() < small.launches().get(1).gridX(), "the test can tell the two grids apart");
        // c % 8 != 0: the element-per-thread kernel, no scratch
        OpPlan odd = CudaLaunchPlan.maxPoolBackward(new PoolSpec(1, 7, 10, 46), Precision.FP32, H100);
        assertEquals(List.of("maxpool_backward_f32"), odd.launches().stream().map(Launch::kernel).toList());
        assertEquals(CudaLaunchPlan.gridFor(7L * 10 * 46, H100), odd.launches().get(0).gridX());
        assertEquals(Map.of(), odd.scratchBytes());
    }

    @Test
    void kernelSuffixesFollowStorageAndArithmetic() {
        assertEquals("f32", CudaLaunchPlan.storageSuffix(Precision.TF32));
        assertEquals("tf32", CudaLaunchPlan.mathSuffix(Precision.TF32));
        assertEquals("f16", CudaLaunchPlan.storageSuffix(Precision.FP16));
        assertEquals("fp16", CudaLaunchPlan.mathSuffix(Precision.FP16));
        assertEquals(2, CudaLaunchPlan.activationBytes(Precision.BF16));
        assertEquals(4, CudaLaunchPlan.activationBytes(Precision.TF32));
    }

    private static int ceil(int a, int b) { return (a + b - 1) / b; }
}
