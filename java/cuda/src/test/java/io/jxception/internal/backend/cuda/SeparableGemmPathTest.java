package io.jxception.internal.backend.cuda;

import io.jxception.internal.backend.ConvSpec;
import io.jxception.backend.Precision;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.I32;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.I64;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.Launch;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.Limits;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.OpPlan;
import io.jxception.internal.backend.cuda.SeparableGemmPath.Choice;
import io.jxception.internal.backend.cuda.SeparableGemmPath.Tiling;
import io.jxception.model.ConvKind;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.jxception.model.ConvKind.SEPARABLE3X3_SAME;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The split sepconv's launch plan (no GPU): padding, chunking of M, grids, scratch and arguments. */
class SeparableGemmPathTest {
    static final long CHUNK = SeparableGemmPath.DEFAULT_CHUNK_BYTES;

    static ConvSpec sep(int n, int hw, int cin, int cout, boolean preRelu) {
        return new ConvSpec(SEPARABLE3X3_SAME, n, hw, hw, cin, cout, 1, preRelu);
    }

    static int arg(Launch l, String name) {
        return l.args().stream().filter(a -> a.name().equals(name)).map(a -> ((I32) a).value()).findFirst().orElseThrow();
    }

    static long arg64(Launch l, String name) {
        return l.args().stream().filter(a -> a.name().equals(name)).map(a -> ((I64) a).value()).findFirst().orElseThrow();
    }

    @Test
    void middleFlowPadsKTo736AndNTo768AndSplitsMInTwoChunks() {
        Tiling t = SeparableGemmPath.tiling(sep(256, 19, 728, 728, true), 96L << 20);
        assertEquals(256L * 19 * 19, t.m());
        assertEquals(736, t.kPad());
        assertEquals(768, t.nPad());
        assertEquals(0, t.rowsPerChunk() % SeparableGemmPath.BM);
        assertTrue(t.aBytes() <= 96L << 20, "A chunk " + t.aBytes());
        assertEquals(2, t.chunks());
        assertEquals(1, SeparableGemmPath.tiling(sep(256, 19, 728, 728, true), CHUNK).chunks(), "one chunk by default");
        assertEquals(t.m(), (long) t.rows(0) + t.rows(1));
    }

    @Test
    void block2AtBatch256KeepsAScratchBoundedByChunking() {
        Tiling t = SeparableGemmPath.tiling(sep(256, 147, 128, 128, true), CHUNK);
        assertEquals(128, t.kPad());
        assertEquals(128, t.nPad());
        assertTrue(t.aBytes() <= CHUNK);
        assertEquals(CudaLaunchPlan.ceilDiv(256L * 147 * 147, t.rowsPerChunk()), t.chunks());
        assertTrue(t.chunks() > 1, "all of A would be 1.4 GB");
    }

    @Test
    void oddChannelsPadToOneTile() {
        Tiling t = SeparableGemmPath.tiling(sep(3, 7, 17, 33, false), CHUNK);
        assertEquals(32, t.kPad());
        assertEquals(128, t.nPad());
        assertEquals(1, t.chunks());
        assertEquals(3 * 49, t.rowsPerChunk(), "a single chunk is exactly M rows");
        assertEquals(32L * 128 * 2, t.bBytes());
    }

    @Test
    void tinyChunksStillCoverEveryRowOnceInOrder() {
        ConvSpec s = sep(3, 19, 64, 128, true);   // M = 1083
        long chunkBytes = 2L * 64 * 256;          // 256 rows of A
        OpPlan p = SeparableGemmPath.plan(s, Precision.BF16, Limits.H100, true, chunkBytes);
        List<Launch> l = p.launches();
        assertEquals("sepgemm_pack_b_bf16", l.get(0).kernel());
        assertEquals(1 + 2 * 5, l.size(), "pack, then (dw, gemm) for 5 chunks");
        long next = 0;
        for (int c = 0; c < 5; c++) {
            Launch dw = l.get(1 + 2 * c), gemm = l.get(2 + 2 * c);
            assertEquals("sepgemm_dw_v8_bf16", dw.kernel());
            assertEquals("sepgemm_gemm_bf16", gemm.kernel());
            assertEquals(next, arg64(dw, "row0"));
            assertEquals(next, arg64(gemm, "row0"));
            int rows = arg(gemm, "rows");
            assertEquals(rows, arg(dw, "rows"));
            assertEquals(c < 4 ? 256 : 1083 - 4 * 256, rows);
            assertEquals(1, gemm.gridX(), "nPad / 128");
            assertEquals(CudaLaunchPlan.ceilDiv(rows, 128), gemm.gridY());
            assertEquals(1, arg(gemm, "postRelu"));
            assertEquals(1, arg(dw, "preRelu"));
            next += rows;
        }
        assertEquals(1083, next);
        assertEquals(2L * 64 * 256, p.scratchBytes().get("scratch:a"));
        assertEquals(2L * 64 * 128, p.scratchBytes().get("scratch:pwPacked"));
    }

    @Test
    void gemmGridRunsAlongOutputChannelsFirstAndFitsEveryDevice() {
        for (Limits lim : List.of(Limits.H100, Limits.A100, Limits.ADA)) {
            OpPlan p = SeparableGemmPath.plan(sep(256, 10, 1536, 2048, false), Precision.FP16, lim, true, CHUNK);
            Launch gemm = p.launches().get(2);
            assertEquals(2048 / 128, gemm.gridX());
            assertEquals(SeparableGemmPath.GEMM_SHARED_BYTES, gemm.sharedBytes());
            assertTrue(gemm.sharedBytes() <= lim.maxSharedBytesPerBlock());
            assertEquals(75_776, SeparableGemmPath.GEMM_SHARED_BYTES, "4 stages of A [128][40] + B [32][136] bf16");
        }
    }

    @Test
    void hugeChunksRespectTheGridYLimit() {
        Tiling t = SeparableGemmPath.tiling(sep(1024, 147, 64, 128, false), Long.MAX_VALUE / 4);
        assertTrue(CudaLaunchPlan.ceilDiv(t.rowsPerChunk(), 128) <= 65_535);
        assertEquals(CudaLaunchPlan.ceilDiv(t.m(), t.rowsPerChunk()), t.chunks());
    }

    @Test
    void everyXceptionSepconvPlansAtBatch256() {
        XceptionGraph g = XceptionGraph.build(XceptionConfig.imagenet());
        for (ConvSpec s : CudaLaunchPlanTest.convSpecs(g, 256)) {
            if (s.kind() != ConvKind.SEPARABLE3X3_SAME) continue;
            OpPlan p = SeparableGemmPath.plan(s, Precision.BF16, Limits.H100, false, CHUNK);
            assertTrue(p.scratchBytes().get("scratch:a") <= CHUNK, s.toString());
            long rows = 0;
            for (Launch l : p.launches()) if (l.kernel().startsWith("sepgemm_gemm")) rows += arg(l, "rows");
            assertEquals((long) s.n() * s.h() * s.w(), rows, s.toString());
        }
    }

    @Test
    void choiceAppliesOnlyToSixteenBitSeparableConvs() {
        Choice split = new Choice(true, CHUNK), fused = new Choice(false, CHUNK);
        ConvSpec s = sep(2, 19, 728, 728, true);
        assertTrue(split.applies(s, Precision.BF16));
        assertTrue(split.applies(s, Precision.FP16));
        assertFalse(split.applies(s, Precision.FP32));
        assertFalse(split.applies(s, Precision.TF32));
        assertFalse(fused.applies(s, Precision.BF16));
        assertFalse(split.applies(new ConvSpec(ConvKind.CONV1X1_SAME, 2, 19, 19, 64, 64, 2, false), Precision.BF16));
        assertThrows(IllegalArgumentException.class, () -> SeparableGemmPath.plan(s, Precision.TF32, Limits.H100, false, CHUNK));
    }

    @Test
    void backendOptionsSelectThePathAndRejectUnknownValues() {
        assertEquals(Choice.DEFAULT, Choice.parse(null, null), "split, 1 GiB by default");
        assertTrue(Choice.parse("split", null).split());
        assertFalse(Choice.parse(" Fused ", null).split());
        assertEquals(64L << 20, Choice.parse("split", "64").chunkBytes());
        assertThrows(IllegalArgumentException.class, () -> Choice.parse("fast", null));
        assertThrows(IllegalArgumentException.class, () -> Choice.parse("split", "0"));
        assertThrows(IllegalArgumentException.class, () -> Choice.parse("split", "lots"));
        CudaBackend.Options o = CudaBackend.Options.parse(java.util.Map.of("cuda.sepconv", "fused", "cuda.stem", "old", "cuda.sync", "true", "opencl.x", "ignored"));
        assertFalse(o.sepconv().split());
        assertEquals(StemConvPath.OLD, o.stem());
        assertTrue(o.syncEachLaunch());
        assertEquals(CudaBackend.Options.DEFAULT, CudaBackend.Options.parse(java.util.Map.of()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CudaBackend.Options.parse(java.util.Map.of("cuda.stemm", "old")));
        assertTrue(e.getMessage().contains("cuda.stemm"), e.getMessage());
    }
}
