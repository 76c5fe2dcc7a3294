package io.jxception.internal.backend.cuda;

import io.jxception.internal.backend.ConvSpec;
import io.jxception.backend.Precision;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.I32;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.Launch;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.Limits;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.OpPlan;
import io.jxception.model.ConvKind;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Host-side: which kernel StemConvPath picks for which spec and precision, and its launch geometry. */
class StemConvPathTest {
    static final Limits H100 = Limits.H100;
    static final ConvSpec CONV1_B256 = new ConvSpec(ConvKind.CONV3X3_VALID, 256, 299, 299, 3, 32, 2, false);
    static final ConvSpec CONV2_B256 = new ConvSpec(ConvKind.CONV3X3_VALID, 256, 149, 149, 32, 64, 1, false);

    /** Plans that launch every stem.cu kernel (CudaLaunchPlanTest checks them against the PTX signatures). */
    static List<OpPlan> stemPlans(Precision p, Limits lim) {
        List<OpPlan> out = new ArrayList<>();
        for (ConvSpec s : List.of(CONV1_B256, CONV2_B256, new ConvSpec(ConvKind.CONV3X3_VALID, 3, 31, 29, 3, 32, 2, true),
                new ConvSpec(ConvKind.CONV3X3_VALID, 3, 31, 29, 32, 64, 1, false))) {
            out.add(StemConvPath.NEW.conv(s, p, lim, true));
            OpPlan u8 = s.preRelu() ? null : StemConvPath.NEW.convUint8(s, p, lim, true);
            if (u8 != null) out.add(u8);
        }
        return out;
    }

    private static String kernel(StemConvPath path, ConvSpec s, Precision p) {
        OpPlan plan = path.conv(s, p, H100, true);
        assertEquals(1, plan.launches().size());
        return plan.launches().get(0).kernel();
    }

    @Test
    void propertyValues() {
        assertEquals(StemConvPath.OLD, StemConvPath.parse("old"));
        assertEquals(StemConvPath.NEW, StemConvPath.parse(" NEW "));
        assertThrows(IllegalArgumentException.class, () -> StemConvPath.parse("fast"));
    }

    @Test
    void xceptionStemsTakeTheNewKernelsPerPrecision() {
        assertEquals("stem_cin3_f32", kernel(StemConvPath.NEW, CONV1_B256, Precision.FP32));
        assertEquals("stem_cin3_f32", kernel(StemConvPath.NEW, CONV1_B256, Precision.TF32));
        assertEquals("stem_cin3_bf16", kernel(StemConvPath.NEW, CONV1_B256, Precision.BF16));
        assertEquals("stem_cin3_f16", kernel(StemConvPath.NEW, CONV1_B256, Precision.FP16));
        assertEquals("stem_mma_bf16", kernel(StemConvPath.NEW, CONV2_B256, Precision.BF16));
        assertEquals("stem_mma_fp16", kernel(StemConvPath.NEW, CONV2_B256, Precision.FP16));
        assertEquals("stem_mma_tf32", kernel(StemConvPath.NEW, CONV2_B256, Precision.TF32));
        // strict FP32 keeps the exact FFMA GEMM; tf32's 186,368 B do not fit an A100
        assertEquals(CudaLaunchPlan.conv(CONV2_B256, Precision.FP32, H100, true), StemConvPath.NEW.conv(CONV2_B256, Precision.FP32, H100, true));
        assertEquals(CudaLaunchPlan.conv(CONV2_B256, Precision.TF32, Limits.A100, true), StemConvPath.NEW.conv(CONV2_B256, Precision.TF32, Limits.A100, true));
        assertEquals("stem_mma_bf16", StemConvPath.NEW.conv(CONV2_B256, Precision.BF16, Limits.A100, true).launches().get(0).kernel());
    }

    @Test
    void oldPathAndOtherConvKindsAreTheGenericPlan() {
        XceptionGraph g = XceptionGraph.build(XceptionConfig.imagenet());
        for (Precision p : Precision.values()) {
            for (ConvSpec s : CudaLaunchPlanTest.convSpecs(g, 256)) {
                assertEquals(CudaLaunchPlan.conv(s, p, H100, true), StemConvPath.OLD.conv(s, p, H100, true), s.toString());
                if (s.kind() != ConvKind.CONV3X3_VALID) assertEquals(CudaLaunchPlan.conv(s, p, H100, false), StemConvPath.NEW.conv(s, p, H100, false), s.toString());
                else {
                    boolean mma = p != Precision.FP32;
                    String want = s.cin() == 3 ? "stem_cin3_" : mma ? "stem_mma_" : "conv_bn_relu_";
                    assertTrue(kernel(StemConvPath.NEW, s, p).startsWith(want), s + " " + p + ": " + kernel(StemConvPath.NEW, s, p));
                }
            }
        }
    }

    @Test
    void unsupportedShapesTakeTheGenericKernel() {
        List<ConvSpec> unsupported = List.of(
                new ConvSpec(ConvKind.CONV3X3_VALID, 2, 74, 74, 3, 46, 2, true),     // cout % 8 != 0
                new ConvSpec(ConvKind.CONV3X3_VALID, 2, 74, 74, 3, 264, 2, false),   // cout > 256
                new ConvSpec(ConvKind.CONV3X3_VALID, 2, 37, 37, 32, 96, 1, false),   // cout > 64
                new ConvSpec(ConvKind.CONV3X3_VALID, 2, 37, 37, 24, 64, 1, false),   // cin % 16 != 0
                new ConvSpec(ConvKind.CONV3X3_VALID, 2, 37, 37, 32, 64, 1, true),    // preRelu
                new ConvSpec(ConvKind.CONV3X3_VALID, 2, 37, 37, 32, 60, 1, false));  // cout % 8 != 0
        for (Precision p : Precision.values()) {
            for (ConvSpec s : unsupported) {
                assertNull(StemConvPath.stemPlan(s, p, H100, true), s + " " + p);
                assertEquals(CudaLaunchPlan.conv(s, p, H100, true), StemConvPath.NEW.conv(s, p, H100, true), s + " " + p);
            }
        }
        // cin 128: stem_mma's shared memory (2*(1152*72 + 2*128*392) + 1024 = 367,616 B) exceeds every device
        assertNull(StemConvPath.stemPlan(new ConvSpec(ConvKind.CONV3X3_VALID, 1, 20, 20, 128, 64, 1, false), Precision.BF16, H100, true));
    }

    @Test
    void cin3LaunchGeometry() {
        Launch l = StemConvPath.NEW.conv(CONV1_B256, Precision.BF16, H100, true).launches().get(0);
        long items = 256L * 149 * 149 * 4;
        assertEquals(CudaLaunchPlan.gridFor(items, H100), l.gridX());
        assertEquals(32 * 132, l.gridX(), "grid-stride: 32 blocks per SM at batch 256");
        assertEquals(29 * 32 * 4, l.sharedBytes());
        assertEquals(new I32("stride", 2), l.args().get(10));
        Launch tiny = StemConvPath.NEW.conv(new ConvSpec(ConvKind.CONV3X3_VALID, 1, 5, 5, 3, 8, 2, false), Precision.FP32, H100, false).launches().get(0);
        assertEquals(1, tiny.gridX());
        assertEquals(new I32("postRelu", 0), tiny.args().get(12));
    }

    @Test
    void mmaLaunchGeometry() {
        assertEquals(95_744, StemConvPath.mmaSharedBytes(32, Precision.BF16));
        assertEquals(186_368, StemConvPath.mmaSharedBytes(32, Precision.TF32));
        Launch tf32 = StemConvPath.NEW.conv(CONV2_B256, Precision.TF32, H100, true).launches().get(0);
        assertEquals(186_368, tf32.sharedBytes());
        assertEquals(132, tf32.gridX(), "one tf32 block per H100 SM");
        Launch l = StemConvPath.NEW.conv(CONV2_B256, Precision.BF16, H100, true).launches().get(0);
        assertEquals(95_744, l.sharedBytes());
        assertEquals(2 * 132, l.gridX(), "persistent: two blocks per H100 SM");
        Launch a100 = StemConvPath.NEW.conv(CONV2_B256, Precision.BF16, Limits.A100, true).launches().get(0);
        assertEquals(108, a100.gridX(), "166,912 + 1 KiB holds one 96,768-byte block (1 KiB reserved)");
        Launch ada = StemConvPath.NEW.conv(CONV2_B256, Precision.FP16, Limits.ADA, true).launches().get(0);
        assertEquals(128, ada.gridX(), "99 KiB: one block per SM");
        // few tiles: one block per tile
        ConvSpec small = new ConvSpec(ConvKind.CONV3X3_VALID, 3, 31, 29, 32, 64, 1, false);
        Launch s = StemConvPath.NEW.conv(small, Precision.BF16, H100, true).launches().get(0);
        assertEquals((int) CudaLaunchPlan.ceilDiv(3L * 29 * 27, 128), s.gridX());
        assertEquals(new I32("cin", 32), s.args().get(9));
        // the gpu test's persistence case: 288 tiles over 264 blocks, so some blocks compute two
        Launch p = StemConvPath.NEW.conv(new ConvSpec(ConvKind.CONV3X3_VALID, 16, 50, 50, 32, 16, 1, false), Precision.BF16, H100, true).launches().get(0);
        assertEquals(264, p.gridX());
        assertTrue(CudaLaunchPlan.ceilDiv(16L * 48 * 48, 128) > p.gridX());
    }

    @Test
    void uint8StemsFuseThePreprocessingWhereStemCin3Covers() {
        for (Precision p : Precision.values()) {
            OpPlan fused = StemConvPath.NEW.convUint8(CONV1_B256, p, H100, true);
            assertEquals(1, fused.launches().size());
            assertEquals("stem_cin3_u8_" + CudaLaunchPlan.storageSuffix(p), fused.launches().get(0).kernel());
            Launch plain = StemConvPath.NEW.conv(CONV1_B256, p, H100, true).launches().get(0);
            Launch u8 = fused.launches().get(0);
            assertEquals(plain.args(), u8.args(), "same operands and geometry as stem_cin3");
            assertEquals(plain.gridX(), u8.gridX());
            assertEquals(plain.sharedBytes(), u8.sharedBytes());
        }
        // the tiny network's stem (cout 2) and the old path: no fused kernel, the backend preprocesses into scratch
        assertNull(StemConvPath.NEW.convUint8(new ConvSpec(ConvKind.CONV3X3_VALID, 1, 71, 71, 3, 2, 2, false), Precision.BF16, H100, true));
        assertNull(StemConvPath.OLD.convUint8(CONV1_B256, Precision.BF16, H100, true));
    }
}
