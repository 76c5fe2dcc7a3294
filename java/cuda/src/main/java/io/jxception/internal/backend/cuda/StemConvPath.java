package io.jxception.internal.backend.cuda;

import io.jxception.internal.backend.ConvSpec;
import io.jxception.backend.Precision;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.Arg;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.I32;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.Launch;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.Limits;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.OpPlan;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.Ptr;
import io.jxception.model.ConvKind;

import java.util.List;
import java.util.Locale;

/**
 * Which kernels run the 3x3 'valid' stem convolutions ({@link ConvKind#CONV3X3_VALID}): the generic
 * {@code conv_bn_relu} GEMM of conv_fwd.cu ({@link #OLD}) or the specialised kernels of cuda/stem.cu
 * ({@link #NEW}) where the shape allows them, the generic GEMM otherwise:
 * <ul>
 * <li>{@code stem_cin3_<f32|bf16|f16>} (block1_conv1): cin == 3, cout % 8 == 0, cout <= 256, any
 *     stride and preRelu, every precision (fp32 FFMA; for TF32 that is more exact than the GEMM).</li>
 * <li>{@code stem_mma_<bf16|fp16|tf32>} (block1_conv2): BF16/FP16/TF32, cin % 16 == 0, cout % 8 == 0,
 *     cout <= 64, no preRelu, its shared memory within the device's limit (tf32 at cin 32: 186,368 B,
 *     so not on A100 or consumer cards). FP32 keeps the exact FFMA GEMM.</li>
 * </ul>
 * Same operands, argument names and epilogue as {@link CudaLaunchPlan#conv}. Chosen per backend by
 * the backend option {@code cuda.stem=old|new} (read once, when the backend is made), default new (block1_conv1 1.65 -> 1.08 ms,
 * block1_conv2 4.92 -> 1.50 ms at BF16 batch 256 on an H100: benchmarks/NOTES.md cuda-stem-2).
 */
public enum StemConvPath {
    OLD, NEW;

    /** The backend option that picks the path. */
    public static final String OPTION = "cuda.stem";
    /** Output pixels per tile of stem_mma (MMA_BM in stem.cu). */
    public static final int MMA_BM = 128;
    /** Shared-memory row stride of stem_mma's B, in elements (MMA_LDB: 64 columns + 8 padding). */
    public static final int MMA_LDB = 72;
    /** Row padding of stem_mma's A, in elements (MMA_APAD; MMA_APAD_TF32 for the fp32 A of tf32). */
    public static final int MMA_APAD = 8, MMA_APAD_TF32 = 4;
    /** Largest cout of stem_cin3 (weights, scale and shift are 29*cout floats of shared memory). */
    public static final int CIN3_MAX_COUT = 256;

    /** The path named by the option value {@code v} ("old" or "new", any case). */
    static StemConvPath parse(String v) {
        return switch (v.trim().toLowerCase(Locale.ROOT)) {
            case "old" -> OLD;
            case "new" -> NEW;
            default -> throw new IllegalArgumentException(OPTION + " must be old or new, got '" + v + "'");
        };
    }

    /** The plan of {@code Backend.conv} on this path: a stem kernel where one covers the spec, else {@link CudaLaunchPlan#conv}. */
    public OpPlan conv(ConvSpec s, Precision p, Limits lim, boolean postRelu) {
        OpPlan stem = this == NEW ? stemPlan(s, p, lim, postRelu) : null;
        return stem != null ? stem : CudaLaunchPlan.conv(s, p, lim, postRelu);
    }

    /**
     * The fused uint8 stem, {@code stem_cin3_u8_<storage>} (raw pixels preprocessed on load), or null
     * when this path does not take it: the OLD path, or a shape stem_cin3 does not cover. The backend
     * then preprocesses the pixels into scratch ({@code convert_u8_to_<storage>}) and runs {@link #conv}.
     */
    public OpPlan convUint8(ConvSpec s, Precision p, Limits lim, boolean postRelu) {
        if (this != NEW || !cin3Covers(s) || s.preRelu()) return null;
        long m = (long) s.n() * s.outH() * s.outW();
        if (m * Math.max(1, s.cout() / 8) > Integer.MAX_VALUE - 2L * MMA_BM) return null;
        return OpPlan.of(cin3Launch(s, p, lim, postRelu, "stem_cin3_u8_"));
    }

    /** The stem_cin3 or stem_mma launch for this spec, or null when neither covers it. */
    static OpPlan stemPlan(ConvSpec s, Precision p, Limits lim, boolean postRelu) {
        if (s.kind() != ConvKind.CONV3X3_VALID) return null;
        long m = (long) s.n() * s.outH() * s.outW();
        // int row indices in the kernels (with a tile of slack): the generic planner reports oversize launches
        if (m * Math.max(1, s.cout() / 8) > Integer.MAX_VALUE - 2L * MMA_BM) return null;
        if (cin3Covers(s)) return OpPlan.of(cin3Launch(s, p, lim, postRelu, "stem_cin3_"));
        if (mmaCovers(s, p, lim)) return OpPlan.of(mmaLaunch(s, p, lim, postRelu));
        return null;
    }

    static boolean cin3Covers(ConvSpec s) {
        return s.kind() == ConvKind.CONV3X3_VALID && s.cin() == 3 && s.cout() % 8 == 0 && s.cout() <= CIN3_MAX_COUT;
    }

    static boolean mmaCovers(ConvSpec s, Precision p, Limits lim) {
        return s.kind() == ConvKind.CONV3X3_VALID && p != Precision.FP32 && s.cin() % 16 == 0
                && s.cout() % 8 == 0 && s.cout() <= 64 && !s.preRelu() && mmaSharedBytes(s.cin(), p) <= lim.maxSharedBytesPerBlock();
    }

    /** stem_cin3's dynamic shared memory: weights [27][cout], scale and shift [cout], fp32. */
    static int cin3SharedBytes(int cout) { return 29 * cout * 4; }

    /**
     * stem_mma's dynamic shared memory: B [9*cin][72] and A [2][128][3*cin + pad] in the activation
     * type (pad 8 for 16 bits, 4 for tf32's fp32), then 128 int64 row offsets.
     */
    static int mmaSharedBytes(int cin, Precision p) {
        int e = CudaLaunchPlan.activationBytes(p);
        int pad = e == 2 ? MMA_APAD : MMA_APAD_TF32;
        return e * (9 * cin * MMA_LDB + 2 * MMA_BM * (3 * cin + pad)) + 8 * MMA_BM;
    }

    /** Resident stem_mma blocks per SM as shared memory allows (1 KiB reserved per block), at most 2 (its launch bounds). */
    static int mmaBlocksPerSm(int sharedBytes, Limits lim) {
        int perSm = (lim.maxSharedBytesPerBlock() + 1024) / (sharedBytes + 1024);
        return Math.max(1, Math.min(2, perSm));
    }

    /** {@code prefix}: "stem_cin3_" (x in the activation type) or "stem_cin3_u8_" (x raw uint8 pixels). */
    static Launch cin3Launch(ConvSpec s, Precision p, Limits lim, boolean postRelu, String prefix) {
        long items = (long) s.n() * s.outH() * s.outW() * (s.cout() / 8);
        List<Arg> args = List.of(new Ptr("x", false), new Ptr("w1", false), new Ptr("scale", true), new Ptr("shift", true),
                new Ptr("residual", true), new Ptr("y", false), new I32("n", s.n()), new I32("h", s.h()), new I32("w", s.w()),
                new I32("cout", s.cout()), new I32("stride", s.stride()), new I32("preRelu", s.preRelu() ? 1 : 0),
                new I32("postRelu", postRelu ? 1 : 0));
        return new Launch(prefix + CudaLaunchPlan.storageSuffix(p), CudaLaunchPlan.gridFor(items, lim), 1, 1, cin3SharedBytes(s.cout()), args);
    }

    static Launch mmaLaunch(ConvSpec s, Precision p, Limits lim, boolean postRelu) {
        long m = (long) s.n() * s.outH() * s.outW();
        int tiles = (int) CudaLaunchPlan.ceilDiv(m, MMA_BM);
        int smem = mmaSharedBytes(s.cin(), p);
        int grid = Math.min(tiles, mmaBlocksPerSm(smem, lim) * lim.smCount());
        List<Arg> args = List.of(new Ptr("x", false), new Ptr("w1", false), new Ptr("scale", true), new Ptr("shift", true),
                new Ptr("residual", true), new Ptr("y", false), new I32("n", s.n()), new I32("h", s.h()), new I32("w", s.w()),
                new I32("cin", s.cin()), new I32("cout", s.cout()), new I32("stride", s.stride()), new I32("postRelu", postRelu ? 1 : 0));
        return new Launch("stem_mma_" + CudaLaunchPlan.mathSuffix(p), grid, 1, 1, smem, args);
    }
}
