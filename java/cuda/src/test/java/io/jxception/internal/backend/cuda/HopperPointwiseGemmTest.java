package io.jxception.internal.backend.cuda;

import io.jxception.backend.Precision;
import io.jxception.internal.backend.ConvSpec;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.Arg;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.Launch;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.Limits;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.OpPlan;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.TensorMap;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.TmaElement;
import io.jxception.internal.backend.cuda.SeparableGemmPath.Choice;
import io.jxception.internal.backend.cuda.SeparableGemmPath.Pointwise;
import io.jxception.model.ConvKind;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Hopper kernels' launch plans (HopperPointwiseGemm, HopperSeparableConv, SeparableGemmPath with cuda.pointwise=wgmma); no GPU needed. */
class HopperPointwiseGemmTest {
    private static final Choice WGMMA = Choice.parse("split", null, "wgmma");

    private static ConvSpec sep(int n, int hw, int cin, int cout) {
        return new ConvSpec(ConvKind.SEPARABLE3X3_SAME, n, hw, hw, cin, cout, 1, true);
    }

    private static Arg arg(Launch l, String name) {
        return l.args().stream().filter(a -> a.name().equals(name)).findFirst().orElseThrow(() -> new AssertionError(l.kernel() + " has no " + name));
    }

    private static long num(Launch l, String name) {
        Arg a = arg(l, name);
        if (a instanceof CudaLaunchPlan.I32 v) return v.value();
        if (a instanceof CudaLaunchPlan.I64 v) return v.value();
        throw new AssertionError(name + " is not a number: " + a);
    }

    @Test
    void everyXceptionSepconvAtBatch256RunsOnWgmmaAndCoversEveryRowOnce() {
        XceptionGraph g = XceptionGraph.build(XceptionConfig.imagenet());
        int layers = 0;
        for (ConvSpec s : CudaLaunchPlanTest.convSpecs(g, 256)) {
            if (s.kind() != ConvKind.SEPARABLE3X3_SAME) continue;
            layers++;
            for (Precision p : new Precision[]{Precision.BF16, Precision.FP16}) {
                OpPlan plan = SeparableGemmPath.plan(s, p, Limits.H100, true, WGMMA);
                String math = p == Precision.BF16 ? "bf16" : "fp16";
                SeparableGemmPath.Tiling t = SeparableGemmPath.tiling(s, WGMMA.chunkBytes());
                assertEquals("pwgemm_pack_bt_" + math, plan.launches().get(0).kernel(), s.toString());
                assertEquals(Map.of("scratch:bt", 2L * s.cout() * t.kPad(), "scratch:a", t.aBytes()), plan.scratchBytes(), "no (kPad, nPad) B: " + s);
                long next = 0;
                for (int i = 1; i < plan.launches().size(); i += 2) {
                    Launch dw = plan.launches().get(i), gemm = plan.launches().get(i + 1);
                    assertEquals("sepgemm_dw_v8_" + math, dw.kernel());
                    assertTrue(gemm.kernel().startsWith("pwgemm_wgmma_" + math + "_n"), gemm.kernel());
                    assertEquals(next, num(dw, "row0"));
                    assertEquals(next, num(gemm, "row0"));
                    int rows = (int) num(gemm, "rows");
                    assertEquals(rows, num(dw, "rows"));
                    boolean last = i + 2 >= plan.launches().size();
                    // the kernel stores whole 128-row tiles: only the last chunk may end inside one (its extra rows lie beyond M)
                    assertTrue(last || rows % HopperPointwiseGemm.BM == 0, s + ": chunk of " + rows + " rows");
                    next += rows;
                }
                assertEquals(t.m(), next, s.toString());
            }
        }
        assertEquals(34, layers, "Xception's separable convs");
    }

    @Test
    void wgmmaLaunchGeometryFollowsTheKernelsContract() {
        // middle flow at batch 256: M = 92,416, 722 row tiles x 3 column tiles of 256
        ConvSpec s = sep(256, 19, 728, 728);
        Launch l = SeparableGemmPath.plan(s, Precision.BF16, Limits.H100, true, WGMMA).launches().get(2);
        assertEquals("pwgemm_wgmma_bf16_n256", l.kernel());
        assertEquals(384, l.blockX(), "one producer + two consumer warpgroups");
        assertEquals(132, l.gridX(), "persistent: one CTA per SM");
        assertEquals(HopperPointwiseGemm.SHARED_BYTES_N256, l.sharedBytes());
        assertEquals(2 * 64 * (128 + 256), num(l, "stageBytes"), "A box 128 x 64 + Bt box 256 x 64, 16-bit");
        assertEquals(12, num(l, "kTiles"), "kPad 736 = 11.5 stages of 64: the last one half zero-filled by TMA");
        assertEquals(1, num(l, "postRelu"));
        assertEquals(HopperPointwiseGemm.HANG_NS, num(l, "hangNs"));
        assertEquals(new TensorMap("tmA", "scratch:a", TmaElement.BFLOAT16, 92_416, 736, 128, 64), arg(l, "tmA"));
        assertEquals(new TensorMap("tmB", "scratch:bt", TmaElement.BFLOAT16, 728, 736, 256, 64), arg(l, "tmB"));
        assertEquals(new TensorMap("tmY", "y", TmaElement.BFLOAT16, 92_416, 728, 64, 64), arg(l, "tmY"));
        assertEquals(new CudaLaunchPlan.Ptr("hang", true), arg(l, "hang"), "no hang report in the library: the trap fails the launch");
        // batch 3: 9 x 3 tiles of 256 would leave most SMs idle -> 128-wide tiles, grid = all 81 tiles
        Launch small = SeparableGemmPath.plan(sep(3, 19, 728, 728), Precision.FP16, Limits.H100, false, WGMMA).launches().get(2);
        assertEquals("pwgemm_wgmma_fp16_n128", small.kernel());
        assertEquals(9 * 6, small.gridX());
        assertEquals(HopperPointwiseGemm.SHARED_BYTES_N128, small.sharedBytes());
        assertEquals(TmaElement.FLOAT16, ((TensorMap) arg(small, "tmA")).element());
        // block2_sepconv1 (cout 128): 128 wide whatever the batch
        assertEquals(128, HopperPointwiseGemm.tileWidth(256L * 147 * 147, 128, Limits.H100));
    }

    @Test
    void tf32RunsTheSplitPathOnlyOnTheHopperGemmWithFp32Operands() {
        ConvSpec s = sep(256, 19, 728, 728);
        assertTrue(WGMMA.applies(s, Precision.TF32));
        assertFalse(Choice.DEFAULT.applies(s, Precision.TF32), "without wgmma TF32 keeps the fused conv");
        assertFalse(WGMMA.applies(s, Precision.FP32), "strict FP32 has no tensor-core path");
        OpPlan plan = SeparableGemmPath.plan(s, Precision.TF32, Limits.H100, true, WGMMA);
        assertEquals(List.of("pwgemm_pack_bt_tf32", "sepgemm_dw_v8_tf32", "pwgemm_wgmma_tf32_n256"), plan.launches().stream().map(Launch::kernel).toList());
        assertEquals(Map.of("scratch:bt", 4L * 728 * 736, "scratch:a", 4L * 92_416 * 736), plan.scratchBytes(), "fp32 A and Bt");
        Launch l = plan.launches().get(2);
        assertEquals(new TensorMap("tmA", "scratch:a", TmaElement.FLOAT32, 92_416, 736, 128, 32), arg(l, "tmA"));
        assertEquals(new TensorMap("tmB", "scratch:bt", TmaElement.FLOAT32, 728, 736, 256, 32), arg(l, "tmB"));
        assertEquals(new TensorMap("tmY", "y", TmaElement.FLOAT32, 92_416, 728, 64, 32), arg(l, "tmY"));
        assertEquals(736 / 32, num(l, "kTiles"), "32 fp32 per stage");
        assertEquals(4 * 32 * (128 + 256), num(l, "stageBytes"), "the same bytes per stage as 16-bit");
        assertEquals(HopperPointwiseGemm.SHARED_BYTES_N256, l.sharedBytes());
        // a 1 GiB chunk holds half the rows of fp32 A: block2_sepconv2 at batch 256 (M = 5,531,904, kPad 128) takes
        // 2 chunks of 4,194,304 16-bit rows, 3 of 2,097,152 fp32 rows
        ConvSpec block2 = sep(256, 147, 128, 128);
        SeparableGemmPath.Tiling t16 = SeparableGemmPath.tiling(block2, WGMMA.chunkBytes()), t32 = SeparableGemmPath.tiling(block2, WGMMA.chunkBytes(), 4);
        assertEquals(2, t16.chunks());
        assertEquals(3, t32.chunks());
        assertEquals(WGMMA.chunkBytes(), t32.aBytes());
        // TF32 layers the kernel does not cover (cout not a multiple of 4) stay on the fused conv
        assertFalse(WGMMA.applies(sep(4, 19, 128, 30), Precision.TF32));
        assertTrue(HopperPointwiseGemm.covers(64, 32, 32, Precision.TF32), "tf32's boxes are 32 wide");
        assertFalse(HopperPointwiseGemm.covers(64, 32, 32, Precision.BF16));
        assertThrows(IllegalArgumentException.class, () -> SeparableGemmPath.plan(sep(4, 19, 128, 30), Precision.TF32, Limits.H100, false, WGMMA));
        assertThrows(IllegalArgumentException.class, () -> SeparableGemmPath.plan(s, Precision.TF32, Limits.H100, false, Choice.DEFAULT));
    }

    @Test
    void layersTheKernelDoesNotCoverKeepTheMmaGemm() {
        // cin 32 (kPad 32 < one 64-wide stage), cout not a multiple of 8, cout < 64, M < 64
        for (ConvSpec s : List.of(sep(4, 19, 32, 128), sep(4, 19, 128, 100), sep(4, 19, 128, 32), sep(1, 7, 128, 128))) {
            OpPlan plan = SeparableGemmPath.plan(s, Precision.BF16, Limits.H100, false, WGMMA);
            assertEquals(List.of("sepgemm_pack_b_bf16", "sepgemm_dw_v8_bf16", "sepgemm_gemm_bf16"), plan.launches().stream().map(Launch::kernel).toList(), s.toString());
            assertTrue(plan.scratchBytes().containsKey("scratch:pwPacked"), s.toString());
        }
        assertTrue(HopperPointwiseGemm.covers(64, 64, 64), "the smallest covered GEMM");
        assertFalse(HopperPointwiseGemm.covers(63, 64, 64));
        // devices without 227 KiB of shared memory cannot take the kernel: a planning error, never a failed launch
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SeparableGemmPath.plan(sep(8, 19, 728, 728), Precision.BF16, Limits.A100, false, WGMMA));
        assertTrue(e.getMessage().contains("shared memory"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> HopperPointwiseGemm.gemm(Precision.BF16, 1000, 100, 950, 64, 64, false, Limits.H100), "chunk beyond M");
    }

    @Test
    void dgradIsTheSameKernelOverDzW2hAndDdAndRefusesWhatItDoesNotCover() {
        // dd (M, cin) = dz (M, cout) . W2h^T: the gemm of the same shape with other operand names and no epilogue terms
        Launch d = HopperPointwiseGemm.dgrad(Precision.BF16, 92_416, 728, 728, Limits.H100);
        Launch g = HopperPointwiseGemm.gemm(Precision.BF16, 92_416, 92_416, 0, 728, 728, false, Limits.H100);
        assertEquals(g.kernel(), d.kernel());
        assertEquals(List.of(g.gridX(), g.blockX(), g.sharedBytes()), List.of(d.gridX(), d.blockX(), d.sharedBytes()));
        assertEquals(new TensorMap("tmA", "dz", TmaElement.BFLOAT16, 92_416, 728, 128, 64), arg(d, "tmA"));
        assertEquals(new TensorMap("tmB", "scratch:w2h", TmaElement.BFLOAT16, 728, 728, 256, 64), arg(d, "tmB"));
        assertEquals(new TensorMap("tmY", "scratch:dd", TmaElement.BFLOAT16, 92_416, 728, 64, 64), arg(d, "tmY"));
        for (int i = 3; i < g.args().size(); i++) assertEquals(g.args().get(i), d.args().get(i), "argument " + i);
        // nOut = cin sets the tile width, K = cout the stages
        Launch wide = HopperPointwiseGemm.dgrad(Precision.FP16, 46_208, 1536, 64, Limits.H100);
        assertEquals("pwgemm_wgmma_fp16_n256", wide.kernel());
        assertEquals(1, num(wide, "kTiles"));
        assertEquals(1536, num(wide, "cout"), "the kernel's output width");
        assertThrows(IllegalArgumentException.class, () -> HopperPointwiseGemm.dgrad(Precision.TF32, 1000, 128, 128, Limits.H100), "16-bit only");
        assertThrows(IllegalArgumentException.class, () -> HopperPointwiseGemm.dgrad(Precision.BF16, 1000, 32, 128, Limits.H100), "cin < 64");
        assertThrows(IllegalArgumentException.class, () -> HopperPointwiseGemm.dgrad(Precision.BF16, 1000, 128, 56, Limits.H100), "cout < 64");
        assertThrows(IllegalArgumentException.class, () -> HopperPointwiseGemm.dgrad(Precision.BF16, 1000, 128, 100, Limits.H100), "cout 100: rows of dz not 16-byte multiples");
        assertThrows(IllegalArgumentException.class, () -> HopperPointwiseGemm.dgrad(Precision.BF16, 63, 128, 128, Limits.H100), "M < 64");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HopperPointwiseGemm.dgrad(Precision.BF16, 1000, 128, 128, Limits.ADA));
        assertTrue(e.getMessage().contains("shared memory"), e.getMessage());
    }

    @Test
    void optionsNameThePointwiseGemm() {
        assertEquals(Pointwise.MMA, Choice.DEFAULT.pointwise(), "mma until wgmma is measured on a card");
        assertEquals(Pointwise.WGMMA, Choice.parse(null, null, " WGMMA ").pointwise());
        assertEquals(Pointwise.MMA, Choice.parse("split", "64", "mma").pointwise());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> Choice.parse(null, null, "hopper"));
        assertTrue(bad.getMessage().contains("cuda.pointwise=hopper"), bad.getMessage());
        // fused + wgmma is the fused Hopper kernel (HopperSeparableConv), split + wgmma the Hopper GEMM
        Choice fused = Choice.parse("fused", null, "wgmma");
        ConvSpec middle = sep(2, 19, 728, 728);
        assertTrue(fused.fusedWgmma(middle, Precision.BF16) && !fused.applies(middle, Precision.BF16));
        assertFalse(WGMMA.fusedWgmma(middle, Precision.BF16));
        assertFalse(fused.fusedWgmma(middle, Precision.TF32), "16-bit only");
        assertFalse(Choice.parse("fused", null, "mma").fusedWgmma(middle, Precision.BF16));
        CudaBackend.Options o = CudaBackend.Options.parse(Map.of("cuda.pointwise", "wgmma", "cuda.sepconvChunkMiB", "256"));
        assertEquals(Pointwise.WGMMA, o.sepconv().pointwise());
        assertEquals(256L << 20, o.sepconv().chunkBytes());
        // without the option the plan is exactly the mma.sync one
        ConvSpec s = sep(256, 19, 728, 728);
        assertEquals(SeparableGemmPath.plan(s, Precision.BF16, Limits.H100, true, SeparableGemmPath.DEFAULT_CHUNK_BYTES),
                SeparableGemmPath.plan(s, Precision.BF16, Limits.H100, true, Choice.DEFAULT));
    }

    @Test
    void tensorMapsRefuseWhatTmaCannotDo() {
        assertThrows(IllegalArgumentException.class, () -> new TensorMap("t", "y", TmaElement.BFLOAT16, 100, 100, 64, 64), "row of 200 bytes: not a multiple of 16");
        assertThrows(IllegalArgumentException.class, () -> new TensorMap("t", "y", TmaElement.BFLOAT16, 100, 128, 64, 128), "box row over the 128-byte swizzle");
        assertThrows(IllegalArgumentException.class, () -> new TensorMap("t", "y", TmaElement.BFLOAT16, 100, 128, 300, 64), "box over 256 rows");
        assertThrows(IllegalArgumentException.class, () -> new TensorMap("t", "y", TmaElement.BFLOAT16, 32, 128, 64, 64), "box larger than the matrix");
        TensorMap m = new TensorMap("tmY", "y", TmaElement.FLOAT16, 92_416, 728, 64, 64);
        TensorMapEncoder.Call c = TensorMapEncoder.call(m, 0x7f00_0000_0100L);
        assertEquals(6, c.dataType(), "CU_TENSOR_MAP_DATA_TYPE_FLOAT16");
        assertArrayEquals(new long[]{728, 92_416}, c.globalDim(), "innermost dimension first");
        assertArrayEquals(new long[]{728 * 2}, c.globalStrides(), "bytes per row");
        assertArrayEquals(new int[]{64, 64}, c.boxDim());
        assertArrayEquals(new int[]{1, 1}, c.elementStrides());
        assertEquals(9, TensorMapEncoder.call(new TensorMap("t", "a", TmaElement.BFLOAT16, 64, 64, 64, 64), 1L << 20).dataType(), "BFLOAT16");
        TensorMapEncoder.Call f32 = TensorMapEncoder.call(new TensorMap("t", "a", TmaElement.FLOAT32, 100, 36, 64, 32), 1L << 20);
        assertEquals(7, f32.dataType(), "FLOAT32");
        assertArrayEquals(new long[]{36 * 4}, f32.globalStrides(), "4-byte elements");
        assertThrows(IllegalArgumentException.class, () -> new TensorMap("t", "y", TmaElement.FLOAT32, 100, 64, 64, 64), "fp32 box row of 256 bytes");
        assertThrows(IllegalArgumentException.class, () -> new TensorMap("t", "y", TmaElement.FLOAT32, 100, 30, 64, 8), "fp32 row of 120 bytes");
        IllegalArgumentException odd = assertThrows(IllegalArgumentException.class, () -> TensorMapEncoder.call(m, 0x7f00_0000_0102L));
        assertTrue(odd.getMessage().contains("16-byte aligned") && odd.getMessage().contains("y"), odd.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TensorMapEncoder.call(m, 0));
    }

    @Test
    void fusedHopperSepconvIsOneLaunchAfterThePackAndCoversEveryXceptionSepconv() {
        ConvSpec s = sep(256, 19, 728, 728);
        OpPlan plan = HopperSeparableConv.plan(s, Precision.BF16, Limits.H100, true);
        assertEquals(List.of("pwgemm_pack_bt_bf16", "sepconv_wgmma_bf16_n256"), plan.launches().stream().map(Launch::kernel).toList());
        assertEquals(Map.of("scratch:bt", 2L * 728 * 736), plan.scratchBytes(), "no A in HBM");
        Launch l = plan.launches().get(1);
        assertEquals(384, l.blockX());
        assertEquals(132, l.gridX());
        assertEquals(HopperSeparableConv.SHARED_BYTES_N256, l.sharedBytes());
        assertEquals(new TensorMap("tmB", "scratch:bt", TmaElement.BFLOAT16, 728, 736, 256, 64), arg(l, "tmB"));
        assertEquals(new TensorMap("tmY", "y", TmaElement.BFLOAT16, 92_416, 728, 64, 64), arg(l, "tmY"));
        assertEquals(92_416, num(l, "rows"));
        assertEquals(2 * 64 * 256, num(l, "bBytes"));
        assertEquals(12, num(l, "kTiles"));
        assertEquals(1, num(l, "preRelu"));
        Launch narrow = HopperSeparableConv.plan(sep(1, 37, 64, 128), Precision.FP16, Limits.H100, false).launches().get(1);
        assertEquals("sepconv_wgmma_fp16_n128", narrow.kernel());
        assertEquals(HopperSeparableConv.SHARED_BYTES_N128, narrow.sharedBytes());
        assertEquals(CudaLaunchPlan.ceilDiv(37 * 37, 128), narrow.gridX(), "11 tiles: one CTA each");
        XceptionGraph g = XceptionGraph.build(XceptionConfig.imagenet());
        for (int n : new int[]{1, 256}) {
            for (ConvSpec c : CudaLaunchPlanTest.convSpecs(g, n)) {
                if (c.kind() == ConvKind.SEPARABLE3X3_SAME) assertTrue(HopperSeparableConv.covers(c), c.toString());
            }
        }
        // cin not a multiple of 8 or <= 32 is not the kernel's: the fused mma.sync kernel runs them
        assertFalse(HopperSeparableConv.covers(sep(4, 19, 60, 128)));
        assertFalse(HopperSeparableConv.covers(sep(4, 19, 32, 128)));
        assertThrows(IllegalArgumentException.class, () -> HopperSeparableConv.plan(sep(4, 19, 60, 128), Precision.BF16, Limits.H100, false));
        assertThrows(IllegalArgumentException.class, () -> HopperSeparableConv.plan(s, Precision.BF16, Limits.ADA, false), "99 KiB of shared memory");
    }

    @Test
    void deviceAddressesIncludeEveryByteOffset() {
        jcuda.driver.CUdeviceptr base = new jcuda.driver.CUdeviceptr();   // native pointer 0: the address is the offset alone
        assertEquals(0, DeviceAddress.of(base));
        assertEquals(256, DeviceAddress.of(base.withByteOffset(256)));
        assertEquals(256 + 4096, DeviceAddress.of(base.withByteOffset(256).withByteOffset(4096)), "a view of a scratch region");
    }

    @Test
    void infoNamesTheHopperKernelsOnComputeCapability90Only() {
        java.util.Properties built = new java.util.Properties();
        built.setProperty("archModules", "hopper_pwgemm:sm_90a,hopper_sepconv:sm_90a");
        assertTrue(CudaBackendProvider.hopperNote(9, 0, built).contains("cuda.pointwise=wgmma"));
        assertEquals("", CudaBackendProvider.hopperNote(8, 0, built));
        assertEquals("", CudaBackendProvider.hopperNote(10, 0, built), "sm_90a code does not run on Blackwell");
        assertTrue(CudaBackendProvider.hopperNote(9, 0, new java.util.Properties()).contains("no sm_90a"));
        assertEquals(Map.of("hopper_pwgemm", "sm_90a", "hopper_sepconv", "sm_90a"), CudaKernelImages.archModules(built));
        java.util.Properties broken = new java.util.Properties();
        broken.setProperty("archModules", "hopper_pwgemm");
        assertThrows(IllegalStateException.class, () -> CudaKernelImages.archModules(broken));
    }

    /** The Java constants against the kernel source, so that neither side changes alone. */
    @Test
    void constantsMatchTheKernelSource() throws IOException {
        String cu = Files.readString(Path.of("cuda", "hopper_pwgemm.cu"));
        assertTrue(cu.startsWith("// jx-arch: sm_90a"), "built for sm_90a only");
        assertEquals(HopperPointwiseGemm.BM, constant(cu, "BM"));
        assertEquals(HopperPointwiseGemm.BOX_ROW_BYTES, constant(cu, "ROW_BYTES"), "K per stage and store columns: one 128-byte row");
        assertEquals(HopperPointwiseGemm.BK, HopperPointwiseGemm.boxElements(io.jxception.backend.Precision.BF16));
        assertEquals(32, HopperPointwiseGemm.boxElements(io.jxception.backend.Precision.TF32));
        assertEquals(HopperPointwiseGemm.THREADS, constant(cu, "THREADS"));
        assertTrue(cu.contains("C_BYTES = " + HopperPointwiseGemm.EPI + " * ROW_BYTES"), "store boxes of EPI rows");
        // Config<BN>::SMEM = 1024 alignment slack + STAGES x (A + Bt stage) + 4 staging buffers of 64 x 64 + 2 barriers per stage
        assertTrue(cu.contains("STAGES = BN == 256 ? 4 : 6;"), "stage counts 4 (BN 256) and 6 (BN 128)");
        assertEquals(1024 + 4 * (128 * 64 * 2 + 256 * 64 * 2) + 4 * 64 * 64 * 2 + 2 * 4 * 8, HopperPointwiseGemm.SHARED_BYTES_N256);
        assertEquals(1024 + 6 * (128 * 64 * 2 + 128 * 64 * 2) + 4 * 64 * 64 * 2 + 2 * 6 * 8, HopperPointwiseGemm.SHARED_BYTES_N128);
        assertTrue(cu.contains("SMEM = 1024 + TILE_BYTES + 2 * STAGES * 8"), "the formula above is the kernel's");
        // the fused kernel: 3 (BN 256) and 4 (BN 128) stages of the same A and Bt tiles, the same staging and barriers
        String fused = Files.readString(Path.of("cuda", "hopper_sepconv.cu"));
        assertTrue(fused.startsWith("// jx-arch: sm_90a"));
        assertTrue(fused.contains("STAGES = BN == 256 ? 3 : 4;") && fused.contains("SMEM = 1024 + STAGES * (A_BYTES + B_BYTES) + 4 * C_BYTES + 2 * STAGES * 8;"));
        assertEquals(1024 + 3 * (128 * 64 * 2 + 256 * 64 * 2) + 4 * 64 * 64 * 2 + 2 * 3 * 8, HopperSeparableConv.SHARED_BYTES_N256);
        assertEquals(1024 + 4 * (128 * 64 * 2 + 128 * 64 * 2) + 4 * 64 * 64 * 2 + 2 * 4 * 8, HopperSeparableConv.SHARED_BYTES_N128);
        assertTrue(fused.contains("sepwgmma::Roles<1>::THREADS"), "the library's entry points are one producer warpgroup: 384 threads");
    }

    /** The value of {@code constexpr int name = N;} in a kernel source. */
    static int constant(String source, String name) {
        Matcher m = Pattern.compile("constexpr int " + name + " = (\\d+);").matcher(source);
        assertTrue(m.find(), "constexpr int " + name + " not found in the kernel source");
        return Integer.parseInt(m.group(1));
    }
}
