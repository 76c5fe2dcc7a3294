package io.jxception.internal.backend.cuda;

import io.jxception.internal.backend.ConvSpec;
import io.jxception.backend.Precision;
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
 * The separable conv's backward with its pointwise (1x1) GEMMs on tensor cores (cuda/pwbwd.cu, issue
 * 13) for BF16/FP16 training, where {@link CudaLaunchPlan#convBackward} runs them as FFMA tiles
 * ({@code dgrad_sep_*}, {@code wgrad_sep_*}). Same operands and results as that plan (x, w1, w2, dz, dx
 * optional, dw1, dw2); the depthwise half (recomputing d = DW(a), then dW1 and dx from dd) is the same
 * launches. Pure Java, unit-tested without a GPU.
 *
 * <p>Launches, for M = n*h*w pixels:
 * <ul>
 * <li>{@code dw_forward_<t>}: scratch:d (M, cin) = DW(a).</li>
 * <li>{@code pwbwd_pack_w2_<t>}: w2 (cin, cout) fp32 to scratch:w2h (cin, cout) 16-bit, once per call.</li>
 * <li>{@code pwbwd_dgrad_<t>}: scratch:dd (M, cin) = dz (M, cout) . W2h^T; grid (ceil(cin/128),
 *     ceil(M/128)), {@link #DGRAD_SHARED_BYTES}. Its mask operand (x of a masked 1x1 dgrad) is
 *     {@code dgradMask}, which this plan's op never binds: the kernel gets null and applies no mask, as
 *     the FFMA dgrad_sep does; preRelu's mask is applied by dw_backward_data.</li>
 * <li>{@code pwbwd_wgrad_<t>}: dW2 = scratch:d^T . dz, the reduction over M in {@link #wgradSplits}
 *     ranges; grid (ceil(cin/128) * ceil(cout/128), splits), {@link #WGRAD_SHARED_BYTES}. With one
 *     split it writes dw2 directly, else fp32 partials into scratch:partialPw (splits, cin, cout) that
 *     {@code pwbwd_reduce} adds in ascending split order into dw2 (bitwise repeatable on one card).</li>
 * <li>{@code dw_backward_weight_<t>}, {@code reduce_partials}, {@code dw_backward_data_<t>} (with dx).</li>
 * </ul>
 * With {@link Choice#WGMMA} the dgrad launch is {@link HopperPointwiseGemm#dgrad}'s {@code
 * pwgemm_wgmma_<math>_n<BN>} and the wgrad launch {@link HopperWeightGradient#wgrad}'s {@code
 * pwbwd_wgrad_wgmma_<t>_n<BN>} (sm_90a, TMA + wgmma; the wgrad with its own split rule,
 * {@link HopperWeightGradient#splits}) on the same operands where those kernels cover the layer; every
 * other launch, and the GEMMs they do not cover, are the {@link Choice#MMA} plan's.
 */
public final class PointwiseBackwardPath {
    private PointwiseBackwardPath() {}

    /** Block tile of both GEMMs (BM, BN, BK in pwbwd.cu): 128 x 128 outputs, 32-deep K slices. */
    public static final int BM = 128, BN = 128, BK = 32;
    /** Pipeline stages (STAGES in pwbwd.cu). */
    public static final int STAGES = 4;
    /** Dynamic shared memory of pwbwd_dgrad_*: 4 stages of A [128][40] (dz) and B [128][40] (W2h), 16-bit. */
    public static final int DGRAD_SHARED_BYTES = STAGES * (BM * (BK + 8) + BN * (BK + 8)) * 2;
    /** Dynamic shared memory of pwbwd_wgrad_*: 4 stages of A [32][136] (d) and B [32][136] (dz), 16-bit. */
    public static final int WGRAD_SHARED_BYTES = STAGES * (BK * (BM + 8) + BK * (BN + 8)) * 2;
    /** Channel counts must be multiples of this: every global load is 8 channels (16 bytes) of one pixel. */
    public static final int CHANNEL_MULTIPLE = 8;
    /** Most pixels per dgrad launch: 65,535 row tiles in grid.y (batch 388 at block2's 147 x 147). */
    public static final long MAX_PIXELS = 65_535L * BM;
    /** wgrad split rule: fewest rows per split, most splits, and the last-wave fill that ends the search. */
    public static final int MIN_ROWS_PER_SPLIT = 512, MAX_SPLITS = 4096;
    public static final double FILL_TARGET = 0.9;

    /**
     * Which kernels run the pointwise GEMMs of the separable conv's backward in BF16/FP16 training,
     * chosen per backend by the option {@code cuda.pwbwd=ffma|mma|wgmma}. The default is {@link #FFMA}
     * (conv_bwd.cu's FFMA tiles) until the tensor-core kernels are measured on a card: pwbwd-1 in
     * benchmarks/NOTES.md predicts 4-9x per GEMM, not yet run. FP32/TF32 always run FFMA.
     * {@link #WGMMA} is {@link #MMA} with the dgrad on the Hopper GEMM and the wgrad on the Hopper
     * weight-gradient kernel (compute capability 9.0 only: the backend refuses other devices at open),
     * decided per layer and GEMM by {@link #dgradOnWgmma} and {@link #wgradOnWgmma}; a GEMM those kernels
     * do not cover keeps its mma.sync kernel.
     */
    public enum Choice {
        FFMA, MMA, WGMMA;

        /** The backend option that picks the path. */
        public static final String OPTION = "cuda.pwbwd";
        /** FFMA until mma is measured. */
        public static final Choice DEFAULT = FFMA;

        /** The choice named by the option value {@code v} ("ffma", "mma" or "wgmma", any case); null takes the default. */
        public static Choice parse(String v) {
            if (v == null) return DEFAULT;
            return switch (v.trim().toLowerCase(Locale.ROOT)) {
                case "ffma" -> FFMA;
                case "mma" -> MMA;
                case "wgmma" -> WGMMA;
                default -> throw new IllegalArgumentException(OPTION + "=" + v + ": expected ffma, mma or wgmma");
            };
        }

        /** Whether the backward of {@code spec} in {@code p} runs on the tensor-core path: MMA or WGMMA chosen and {@link #covers}. */
        public boolean applies(ConvSpec spec, Precision p, Limits lim) {
            return this != FFMA && covers(spec, p, lim);
        }

        /**
         * Whether this choice runs the layer's dgrad on the Hopper GEMM: WGMMA, the tensor-core path
         * {@link #applies}, and {@link HopperPointwiseGemm#covers} the GEMM (M rows, K = cout, cin
         * outputs: cin and cout at least 64).
         */
        public boolean dgradOnWgmma(ConvSpec spec, Precision p, Limits lim) {
            return this == WGMMA && applies(spec, p, lim)
                    && HopperPointwiseGemm.covers((long) spec.n() * spec.h() * spec.w(), spec.cout(), spec.cin(), p);
        }

        /**
         * Whether this choice runs the layer's wgrad on the Hopper kernel: WGMMA, the tensor-core path
         * {@link #applies}, and {@link HopperWeightGradient#covers} it (cin, cout at least 64, M at least 64).
         */
        public boolean wgradOnWgmma(ConvSpec spec, Precision p, Limits lim) {
            return this == WGMMA && applies(spec, p, lim)
                    && HopperWeightGradient.covers((long) spec.n() * spec.h() * spec.w(), spec.cin(), spec.cout(), p, lim);
        }
    }

    /**
     * Whether the kernels take this backward: a separable conv in BF16/FP16, cin and cout multiples of
     * 8, at most {@link #MAX_PIXELS} pixels, and the device's shared memory per block holds dgrad's
     * stages. Everything else keeps the FFMA kernels.
     */
    public static boolean covers(ConvSpec s, Precision p, Limits lim) {
        return s.kind() == ConvKind.SEPARABLE3X3_SAME && (p == Precision.BF16 || p == Precision.FP16)
                && s.cin() % CHANNEL_MULTIPLE == 0 && s.cout() % CHANNEL_MULTIPLE == 0
                && (long) s.n() * s.h() * s.w() <= MAX_PIXELS
                && lim.maxSharedBytesPerBlock() >= Math.max(DGRAD_SHARED_BYTES, WGRAD_SHARED_BYTES);
    }

    /** How wgrad splits its reduction over M: {@code splits} ranges of {@code rowsPerSplit} rows (the last one shorter). */
    public record Splits(int rowsPerSplit, int splits) {}

    /**
     * The split rule of cuda/dev/pwbwd_v1.cu's host code ({@code wgrad_rows_per_split}): the smallest
     * split count whose grid (tiles x splits blocks) fills at least {@link #FILL_TARGET} of its last wave
     * of resident blocks (blocksPerSm x smCount), else the count with the best fill; at most
     * M / {@link #MIN_ROWS_PER_SPLIT} splits, at most {@link #MAX_SPLITS}, and fp32 partials of at most
     * the GEMM's 16-bit input bytes (splits * cin * cout * 4 <= M * (cin + cout) * 2). Rows per split are
     * rounded up to a multiple of {@link #BK}, which can leave fewer splits than chosen.
     *
     * @param m           pixels, M = n * h * w
     * @param blocksPerSm resident pwbwd_wgrad blocks per SM (the driver's occupancy; 2 on H100/H200/A100)
     */
    public static Splits wgradSplits(long m, int cin, int cout, int smCount, int blocksPerSm) {
        long tiles = (long) CudaLaunchPlan.ceilDiv(cin, BM) * CudaLaunchPlan.ceilDiv(cout, BN);
        return splitSearch(m, tiles, cin, cout, (long) Math.max(1, blocksPerSm) * smCount, BK);
    }

    /**
     * The split search behind {@link #wgradSplits} and {@link HopperWeightGradient#splits}: the smallest
     * split count whose {@code tiles} x splits blocks fill at least {@link #FILL_TARGET} of their last
     * wave of {@code slots} resident blocks, else the best fill; at most M / {@link #MIN_ROWS_PER_SPLIT}
     * and {@link #MAX_SPLITS} splits, fp32 partials of at most the 16-bit inputs' bytes; rows per split
     * rounded up to a multiple of {@code rowMultiple} (which can leave fewer splits than chosen).
     */
    static Splits splitSearch(long m, long tiles, int cin, int cout, long slots, int rowMultiple) {
        if (m < 1 || m > Integer.MAX_VALUE) throw new IllegalArgumentException("pointwise wgrad over " + m + " pixels: expected 1 to 2^31-1");
        long byBytes = m * (cin + cout) / (2L * cin * cout);
        int maxSplits = (int) Math.max(1, Math.min(Math.min(m / MIN_ROWS_PER_SPLIT, byBytes), MAX_SPLITS));
        int best = 1;
        double bestFill = 0;
        for (int s = 1; s <= maxSplits; s++) {
            long blocks = tiles * s;
            double fill = (double) blocks / (double) (CudaLaunchPlan.ceilDiv(blocks, slots) * slots);
            if (fill > bestFill + 1e-9) {
                bestFill = fill;
                best = s;
            }
            if (fill >= FILL_TARGET) {
                best = s;
                break;
            }
        }
        int rowsPerSplit = (int) CudaLaunchPlan.roundUp(CudaLaunchPlan.ceilDiv(m, best), rowMultiple);
        return new Splits(rowsPerSplit, (int) CudaLaunchPlan.ceilDiv(m, rowsPerSplit));
    }

    /** {@link #plan(ConvSpec, Precision, Limits, int, boolean, Choice)} with {@link Choice#MMA}. */
    public static OpPlan plan(ConvSpec s, Precision p, Limits lim, int wgradBlocksPerSm, boolean withDx) {
        return plan(s, p, lim, wgradBlocksPerSm, withDx, Choice.MMA);
    }

    /**
     * {@code Backend.convBackward} of a separable conv on this path: operands x, w1, w2, dz, dx (when
     * {@code withDx}), dw1, dw2; scratch:d, scratch:dd, scratch:w2h, scratch:partialPw (more than one
     * split only), scratch:partialDw.
     *
     * @param wgradBlocksPerSm resident pwbwd_wgrad blocks per SM on this device (for {@link #wgradSplits})
     * @param choice           MMA or WGMMA (the dgrad on {@link HopperPointwiseGemm#dgrad} where
     *                         {@link Choice#dgradOnWgmma}, the wgrad on {@link HopperWeightGradient#wgrad} where
     *                         {@link Choice#wgradOnWgmma}; planning fails on a device without the dgrad's shared memory)
     */
    public static OpPlan plan(ConvSpec s, Precision p, Limits lim, int wgradBlocksPerSm, boolean withDx, Choice choice) {
        if (choice == Choice.FFMA) throw new IllegalArgumentException("cuda.pwbwd=ffma runs CudaLaunchPlan.convBackward, not this plan");
        if (!covers(s, p, lim)) {
            throw new IllegalArgumentException("the tensor-core pointwise backward needs a separable conv in BF16/FP16 with cin and cout multiples of "
                    + CHANNEL_MULTIPLE + ", at most " + MAX_PIXELS + " pixels and " + DGRAD_SHARED_BYTES + " bytes of shared memory per block; got "
                    + s + " in " + p + " with " + lim.maxSharedBytesPerBlock() + " bytes");
        }
        String suf = CudaLaunchPlan.storageSuffix(p);
        int m = (int) ((long) s.n() * s.h() * s.w());
        long weights = (long) s.cin() * s.cout();
        boolean wgradWgmma = choice.wgradOnWgmma(s, p, lim);
        Splits sp = wgradWgmma ? HopperWeightGradient.splits(m, s.cin(), s.cout(), lim.smCount())
                : wgradSplits(m, s.cin(), s.cout(), lim.smCount(), wgradBlocksPerSm);
        Map<String, Long> scratch = new LinkedHashMap<>();
        CudaLaunchPlan.separableScratch(s, p, scratch);
        scratch.put("scratch:w2h", weights * 2);
        if (sp.splits() > 1) scratch.put("scratch:partialPw", 4L * sp.splits() * weights);
        List<Launch> l = new ArrayList<>();
        l.add(CudaLaunchPlan.depthwiseForward(s, p, lim));
        l.add(new Launch("pwbwd_pack_w2_" + suf, CudaLaunchPlan.gridFor(weights, lim), 1, 1, 0, List.of(
                new Ptr("w2", false), new Ptr("scratch:w2h", false), new I64("count", weights))));
        // dd = dz . W2h^T, unmasked (dgradMask is never bound; the wgmma GEMM has no mask)
        if (choice.dgradOnWgmma(s, p, lim)) {
            l.add(HopperPointwiseGemm.dgrad(p, m, s.cin(), s.cout(), lim));
        } else {
            l.add(new Launch("pwbwd_dgrad_" + suf, CudaLaunchPlan.ceilDiv(s.cin(), BN), CudaLaunchPlan.ceilDiv(m, BM), 1, DGRAD_SHARED_BYTES, List.of(
                    new Ptr("dz", false), new Ptr("scratch:w2h", false), new Ptr("dgradMask", true), new Ptr("scratch:dd", false),
                    new I32("M", m), new I32("cin", s.cin()), new I32("cout", s.cout()))));
        }
        // dW2 = d^T . dz over M in splits
        String wgradOut = sp.splits() > 1 ? "scratch:partialPw" : "dw2";
        if (wgradWgmma) {
            l.add(HopperWeightGradient.wgrad(p, m, s.cin(), s.cout(), sp, wgradOut, lim));
        } else {
            int tiles = CudaLaunchPlan.ceilDiv(s.cin(), BM) * CudaLaunchPlan.ceilDiv(s.cout(), BN);
            l.add(new Launch("pwbwd_wgrad_" + suf, tiles, sp.splits(), 1, WGRAD_SHARED_BYTES, List.of(
                    new Ptr("scratch:d", false), new Ptr("dz", false), new Ptr(wgradOut, false),
                    new I32("M", m), new I32("cin", s.cin()), new I32("cout", s.cout()), new I32("rowsPerSplit", sp.rowsPerSplit()))));
        }
        if (sp.splits() > 1) {
            l.add(new Launch("pwbwd_reduce", CudaLaunchPlan.gridFor(weights / 4, lim), 1, 1, 0, List.of(
                    new Ptr("scratch:partialPw", false), new Ptr("dw2", false), new I32("splits", sp.splits()), new I64("count", weights))));
        }
        CudaLaunchPlan.depthwiseBackward(s, p, lim, withDx, l, scratch);
        return new OpPlan(l, scratch);
    }
}
