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
import io.jxception.model.ConvKind;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The "split" forward separable convolution for BF16/FP16 (cuda/sepgemm.cu): the depthwise 3x3 is
 * written to a 16-bit scratch matrix A (rows, kPad) and the pointwise conv runs as a dense
 * tensor-core GEMM A x B with the BN/residual/ReLU epilogue, where the fused {@code sepconv_bn}
 * keeps A in shared memory. Same operands and semantics as {@link CudaLaunchPlan#conv}; pure Java,
 * unit-tested without a GPU.
 *
 * <p>Launches: {@code sepgemm_pack_b_<math>} converts the fp32 pointwise weights (cin, cout) into
 * scratch:pwPacked (kPad, nPad) 16-bit, zero padded (kPad = cin rounded up to 32, nPad = cout rounded
 * up to 128; ~1 MiB for 728x728, a few microseconds); then per chunk of at most {@link
 * Choice#chunkBytes()} bytes of A, {@code sepgemm_dw_<math>} fills scratch:a with rows [row0,
 * row0+rows) of A and {@code sepgemm_gemm_<math>} writes those rows of y. Scratch therefore stays
 * bounded (block2 at batch 256 would need 1.4 GB for all of A) and is sized by the backend before a
 * CUDA graph capture (the eager run), like every op's scratch.
 */
public final class SeparableGemmPath {
    private SeparableGemmPath() {}

    /** GEMM block tile (BM, BN, BK in sepgemm.cu). */
    public static final int BM = 128, BN = 128, BK = 32;
    /** Dynamic shared memory of sepgemm_gemm_*: 4 stages of A [128][40] and B [32][136], 16-bit. */
    public static final int GEMM_SHARED_BYTES = 4 * (BM * (BK + 8) + BK * (BN + 8)) * 2;
    /** Default bound of A's scratch per chunk. */
    public static final long DEFAULT_CHUNK_BYTES = 1024L << 20;

    /** Which tensor-core instruction runs the pointwise half of a 16-bit separable conv (option {@code cuda.pointwise}). */
    public enum Pointwise {
        /** mma.sync m16n8k16: sepgemm_gemm_* (split) or sepconv_bn_* (fused); every device from sm_80. */
        MMA,
        /**
         * Hopper's wgmma fed by TMA, on the layers the kernels cover (the others keep MMA): split runs
         * pwgemm_wgmma_* ({@link HopperPointwiseGemm}), fused runs sepconv_wgmma_* ({@link
         * HopperSeparableConv}). Compute capability 9.0 only (the sm_90a cubins run nowhere else).
         */
        WGMMA
    }

    /**
     * Which forward separable conv a backend runs for 16-bit precisions, chosen per backend with the
     * options {@code cuda.sepconv=fused|split} (default split: 1.9-3.6x faster per layer on an H100,
     * benchmarks/NOTES.md cuda-sepgemm-1), {@code cuda.sepconvChunkMiB=<MiB of A per chunk>}
     * (default 1024: one chunk everywhere but block2 at large batches; smaller chunks measured slower)
     * and {@code cuda.pointwise=mma|wgmma} (default mma: the wgmma GEMM has not run on a card yet).
     */
    public record Choice(boolean split, long chunkBytes, Pointwise pointwise) {
        /** The measured winner: split, 1 GiB chunks, mma.sync. */
        public static final Choice DEFAULT = new Choice(true, DEFAULT_CHUNK_BYTES, Pointwise.MMA);
        /** The option naming the pointwise GEMM. */
        public static final String POINTWISE_OPTION = "cuda.pointwise";

        public Choice {
            if (chunkBytes < (long) BM * BK * 2) throw new IllegalArgumentException("sepconv chunk of " + chunkBytes + " bytes is below one tile");
            java.util.Objects.requireNonNull(pointwise, "pointwise");
        }

        /** Split or fused with the mma.sync pointwise GEMM. */
        public Choice(boolean split, long chunkBytes) { this(split, chunkBytes, Pointwise.MMA); }

        /**
         * The choice named by the option values {@code mode} ("fused" or "split", any case) and
         * {@code chunkMiB} (a whole number of MiB ≥ 1); null takes the default of either.
         */
        public static Choice parse(String mode, String chunkMiB) { return parse(mode, chunkMiB, null); }

        /** As {@link #parse(String, String)}, with {@code pointwise} ("mma" or "wgmma", any case; null: mma). */
        public static Choice parse(String mode, String chunkMiB, String pointwise) {
            boolean split = mode == null || switch (mode.trim().toLowerCase(Locale.ROOT)) {
                case "fused" -> false;
                case "split" -> true;
                default -> throw new IllegalArgumentException("cuda.sepconv=" + mode + ": expected fused or split");
            };
            long mib = DEFAULT_CHUNK_BYTES >> 20;
            if (chunkMiB != null) {
                try {
                    mib = Long.parseLong(chunkMiB.trim());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("cuda.sepconvChunkMiB=" + chunkMiB + ": expected a whole number of MiB");
                }
            }
            if (mib < 1 || mib > (1L << 20)) throw new IllegalArgumentException("cuda.sepconvChunkMiB=" + mib + ": expected 1 to 1048576");
            Pointwise pw = pointwise == null ? Pointwise.MMA : switch (pointwise.trim().toLowerCase(Locale.ROOT)) {
                case "mma" -> Pointwise.MMA;
                case "wgmma" -> Pointwise.WGMMA;
                default -> throw new IllegalArgumentException(POINTWISE_OPTION + "=" + pointwise + ": expected mma or wgmma");
            };
            return new Choice(split, mib << 20, pw);
        }

        /**
         * Whether {@code spec} in {@code p} runs on the split path: separable convs in BF16/FP16 when split is
         * chosen, and in TF32 where the Hopper GEMM runs them (split + wgmma, a layer its tf32 kernel covers:
         * TF32 has no mma.sync split GEMM, the fused conv runs the rest).
         */
        public boolean applies(ConvSpec spec, Precision p) {
            if (!split || spec.kind() != ConvKind.SEPARABLE3X3_SAME) return false;
            if (p == Precision.BF16 || p == Precision.FP16) return true;
            return p == Precision.TF32 && pointwise == Pointwise.WGMMA
                    && HopperPointwiseGemm.covers((long) spec.n() * spec.h() * spec.w(), CudaLaunchPlan.roundUp(spec.cin(), BK), spec.cout(), p);
        }

        /** Whether {@code spec} in {@code p} runs the fused Hopper kernel: fused + wgmma, BF16/FP16, a layer it covers. */
        public boolean fusedWgmma(ConvSpec spec, Precision p) {
            return !split && pointwise == Pointwise.WGMMA && (p == Precision.BF16 || p == Precision.FP16) && HopperSeparableConv.covers(spec);
        }
    }

    /** The geometry of one split launch sequence; A's elements are {@code elementBytes} wide (2, or 4 for TF32). */
    public record Tiling(long m, int kPad, int nPad, int rowsPerChunk, int chunks, int elementBytes) {
        /** Bytes of scratch:a (one chunk of A). */
        public long aBytes() { return (long) rowsPerChunk * kPad * elementBytes; }

        /** Bytes of scratch:pwPacked (B, 16-bit). */
        public long bBytes() { return (long) kPad * nPad * 2; }

        /** Rows of chunk {@code i} (the last one may be short). */
        public int rows(int i) { return (int) Math.min(rowsPerChunk, m - (long) i * rowsPerChunk); }
    }

    /** The tiling of a 16-bit split conv. */
    public static Tiling tiling(ConvSpec s, long chunkBytes) { return tiling(s, chunkBytes, 2); }

    public static Tiling tiling(ConvSpec s, long chunkBytes, int elementBytes) {
        if (s.kind() != ConvKind.SEPARABLE3X3_SAME) throw new IllegalArgumentException("the split path is for separable convs, got " + s.kind());
        long m = (long) s.n() * s.h() * s.w();
        int kPad = CudaLaunchPlan.roundUp(s.cin(), BK);
        int nPad = CudaLaunchPlan.roundUp(s.cout(), BN);
        // rows per chunk: a multiple of BM within the byte bound (at least one tile), at most M, and
        // at most 65,535 row tiles (grid.y)
        long byBytes = Math.max(BM, chunkBytes / ((long) elementBytes * kPad) / BM * BM);
        long rows = Math.min(Math.min(byBytes, 65_535L * BM), m);
        int chunks = (int) CudaLaunchPlan.ceilDiv(m, rows);
        return new Tiling(m, kPad, nPad, (int) rows, chunks, elementBytes);
    }

    /** {@link #plan(ConvSpec, Precision, Limits, boolean, Choice)} with the mma.sync pointwise GEMM. */
    public static OpPlan plan(ConvSpec s, Precision p, Limits lim, boolean postRelu, long chunkBytes) {
        return plan(s, p, lim, postRelu, new Choice(true, chunkBytes, Pointwise.MMA));
    }

    /**
     * {@code Backend.conv} of a separable conv on the split path: operands x, w1 (depthwise), w2
     * (pointwise), scale, shift, residual (optional), y; scratch:a and scratch:pwPacked, or
     * scratch:bt where the Hopper GEMM runs ({@code choice.pointwise()} WGMMA and {@link
     * HopperPointwiseGemm#covers} the layer). TF32 runs here only on the Hopper GEMM ({@link Choice#applies}),
     * with an fp32 A from {@code sepgemm_dw_tf32}.
     */
    public static OpPlan plan(ConvSpec s, Precision p, Limits lim, boolean postRelu, Choice choice) {
        long chunkBytes = choice.chunkBytes();
        String math = switch (p) {
            case BF16 -> "bf16";
            case FP16 -> "fp16";
            case TF32 -> "tf32";
            case FP32 -> throw new IllegalArgumentException("the split sepconv path is for BF16/FP16 (TF32 with cuda.pointwise=wgmma), got " + p);
        };
        Tiling t = tiling(s, chunkBytes, CudaLaunchPlan.activationBytes(p));
        boolean hopper = choice.pointwise() == Pointwise.WGMMA && HopperPointwiseGemm.covers(t.m(), t.kPad(), s.cout(), p);
        if (p == Precision.TF32 && !hopper) {
            throw new IllegalArgumentException("TF32 runs the split sepconv path only on the Hopper GEMM (cuda.pointwise=wgmma, a layer it covers): " + s);
        }
        Map<String, Long> scratch = new LinkedHashMap<>();
        List<Launch> l = new ArrayList<>();
        if (hopper) {
            scratch.put("scratch:bt", HopperPointwiseGemm.btBytes(s.cout(), t.kPad(), p));
            l.add(HopperPointwiseGemm.packBt(p, s.cin(), s.cout(), t.kPad(), lim));
        } else {
            scratch.put("scratch:pwPacked", t.bBytes());
            l.add(new Launch("sepgemm_pack_b_" + math, CudaLaunchPlan.gridFor((long) t.kPad() * t.nPad(), lim), 1, 1, 0, List.of(
                    new Ptr("w2", false), new Ptr("scratch:pwPacked", false),
                    new I32("cin", s.cin()), new I32("cout", s.cout()), new I32("kPad", t.kPad()), new I32("nPad", t.nPad()))));
        }
        scratch.put("scratch:a", t.aBytes());
        for (int c = 0; c < t.chunks(); c++) {
            long row0 = (long) c * t.rowsPerChunk();
            int rows = t.rows(c);
            List<Arg> dwArgs = List.of(
                    new Ptr("x", false), new Ptr("w1", false), new Ptr("scratch:a", false),
                    new I32("h", s.h()), new I32("w", s.w()), new I32("cin", s.cin()), new I32("kPad", t.kPad()),
                    new I64("row0", row0), new I32("rows", rows), new I32("preRelu", s.preRelu() ? 1 : 0));
            // cin % 8 == 0 (every Xception sepconv): sepgemm_dw_v8_*, the 3x3 weights in registers, one group of 8 of the
            // kPad columns per thread; else the grid-stride kernel over (row, 8 columns)
            l.add(s.cin() % 8 == 0 ? CudaLaunchPlan.channelGroupLaunch("sepgemm_dw", math, rows, t.kPad(), lim, dwArgs)
                    : new Launch("sepgemm_dw_" + math, CudaLaunchPlan.gridFor((long) rows * (t.kPad() / 8), lim), 1, 1, 0, dwArgs));
            if (hopper) {
                // rowsPerChunk is a multiple of BM (128), so only the last chunk has a partial tile and the
                // kernel's stores past its rows fall beyond M, where the tensor map clips them
                l.add(HopperPointwiseGemm.gemm(p, t.m(), rows, row0, t.kPad(), s.cout(), postRelu, lim));
                continue;
            }
            l.add(new Launch("sepgemm_gemm_" + math, t.nPad() / BN, CudaLaunchPlan.ceilDiv(rows, BM), 1, GEMM_SHARED_BYTES, List.<Arg>of(
                    new Ptr("scratch:a", false), new Ptr("scratch:pwPacked", false),
                    new Ptr("scale", true), new Ptr("shift", true), new Ptr("residual", true), new Ptr("y", false),
                    new I32("rows", rows), new I32("cout", s.cout()), new I32("kPad", t.kPad()), new I32("nPad", t.nPad()),
                    new I64("row0", row0), new I32("postRelu", postRelu ? 1 : 0))));
        }
        return new OpPlan(l, scratch);
    }
}
