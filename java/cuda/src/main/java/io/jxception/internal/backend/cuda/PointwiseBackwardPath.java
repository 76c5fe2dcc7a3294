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
     * Which kernels run the GEMMs of the convolutions' backward in BF16/FP16 training (the separable
     * conv's pointwise GEMMs, and since pwbwd-5 the 1x1 strided and stem convs' implicit GEMMs),
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
         * Whether this choice runs the layer's dgrad on the Hopper GEMM: WGMMA, a separable conv the
         * tensor-core path {@link #applies} to, and {@link HopperPointwiseGemm#covers} the GEMM (M rows,
         * K = cout, cin outputs: cin and cout at least 64).
         */
        public boolean dgradOnWgmma(ConvSpec spec, Precision p, Limits lim) {
            return this == WGMMA && spec.kind() == ConvKind.SEPARABLE3X3_SAME && applies(spec, p, lim)
                    && HopperPointwiseGemm.covers((long) spec.n() * spec.h() * spec.w(), spec.cout(), spec.cin(), p);
        }

        /**
         * Whether this choice runs the layer's wgrad on the Hopper kernel: WGMMA, a separable conv the
         * tensor-core path {@link #applies} to, and {@link HopperWeightGradient#covers} it (cin, cout at
         * least 64, M at least 64).
         */
        public boolean wgradOnWgmma(ConvSpec spec, Precision p, Limits lim) {
            return this == WGMMA && spec.kind() == ConvKind.SEPARABLE3X3_SAME && applies(spec, p, lim)
                    && HopperWeightGradient.covers((long) spec.n() * spec.h() * spec.w(), spec.cin(), spec.cout(), p, lim);
        }
    }

    /**
     * Whether the kernels take this backward: a convolution of any kind in BF16/FP16 (the separable
     * conv's pointwise GEMMs, the 1x1 strided and the 3x3 stem convs' implicit GEMMs, {@link #planConv}),
     * cin and cout multiples of 8 (a 16-byte chunk is 8 channels of one pixel and one tap: the first stem
     * conv, cin 3, stays FFMA), at most {@link #MAX_PIXELS} input pixels, and the device's shared memory
     * per block holds dgrad's stages. Everything else keeps the FFMA kernels.
     */
    public static boolean covers(ConvSpec s, Precision p, Limits lim) {
        return (p == Precision.BF16 || p == Precision.FP16)
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
            throw new IllegalArgumentException("the tensor-core convolution backward needs BF16/FP16 with cin and cout multiples of "
                    + CHANNEL_MULTIPLE + ", at most " + MAX_PIXELS + " pixels and " + DGRAD_SHARED_BYTES + " bytes of shared memory per block; got "
                    + s + " in " + p + " with " + lim.maxSharedBytesPerBlock() + " bytes");
        }
        if (s.kind() != ConvKind.SEPARABLE3X3_SAME) return planConv(s, p, lim, wgradBlocksPerSm, withDx);
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
        l.add(packWeights("w2", "scratch:w2h", weights, p, lim));
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
        if (sp.splits() > 1) l.add(reduceSplits("scratch:partialPw", "dw2", sp.splits(), weights, lim));
        CudaLaunchPlan.depthwiseBackward(s, p, lim, withDx, l, scratch);
        return new OpPlan(l, scratch);
    }

    /**
     * {@code Backend.convBackward} of a 1x1 strided ("pw") or 3x3 valid ("stem") convolution on the same
     * mma.sync mainloops (cuda/pwbwd.cu's PW and STEM modes; the choice WGMMA runs them too: the Hopper
     * kernels take the separable conv only). Operands x, w1, dz, dx (when {@code withDx}), dw1; scratch:w1h
     * (W in 16 bits, its own layout: (cin, cout) or (3, 3, cin, cout)), scratch:partialW (more than one split).
     * <ul>
     * <li>{@code pwbwd_pack_w2_<t>}: w1 to scratch:w1h.</li>
     * <li>{@code pwbwd_wgrad_<mode>_<t>}: dW (P, cout) = A^T . dz over the n oh ow output pixels in
     *     {@link #wgradSplits} ranges, P = cin or 9 cin, A gathered from x (strided pixels, or the 3x3
     *     window's taps; relu'd in registers when preRelu); grid (ceil(P/128) * ceil(cout/128), splits).</li>
     * <li>{@code pwbwd_reduce} into dw1 (more than one split; else the wgrad writes dw1).</li>
     * <li>(with dx, 1x1) {@code pwbwd_zero_unstrided}: dx = 0 at the input pixels no output reads.</li>
     * <li>{@code pwbwd_dgrad_<mode>_<t>} (with dx): 1x1, rows over the n oh ow output pixels (dz as it is),
     *     stored at their strided input pixels; stem, rows over the n h w input pixels with dz gathered
     *     from the 3x3 window (zero where no output reads it), K = 9 cout; masked by x &gt; 0 when preRelu;
     *     grid (ceil(cin/128), ceil(rows/128)).</li>
     * </ul>
     */
    static OpPlan planConv(ConvSpec s, Precision p, Limits lim, int wgradBlocksPerSm, boolean withDx) {
        boolean stem = s.kind() == ConvKind.CONV3X3_VALID;
        String mode = stem ? "stem" : "pw", suf = CudaLaunchPlan.storageSuffix(p);
        int inPixels = (int) ((long) s.n() * s.h() * s.w());
        long outPixels = (long) s.n() * s.outH() * s.outW();
        int pRows = stem ? 9 * s.cin() : s.cin();
        long weights = s.w1Elements();
        Splits sp = wgradSplits(outPixels, pRows, s.cout(), lim.smCount(), wgradBlocksPerSm);
        Map<String, Long> scratch = new LinkedHashMap<>();
        scratch.put("scratch:w1h", weights * 2);
        if (sp.splits() > 1) scratch.put("scratch:partialW", 4L * sp.splits() * weights);
        List<CudaLaunchPlan.Arg> geo = List.of(new I32("n", s.n()), new I32("h", s.h()), new I32("w", s.w()), new I32("cin", s.cin()),
                new I32("cout", s.cout()), new I32("stride", s.stride()));
        List<Launch> l = new ArrayList<>();
        l.add(packWeights("w1", "scratch:w1h", weights, p, lim));
        String wgradOut = sp.splits() > 1 ? "scratch:partialW" : "dw1";
        List<CudaLaunchPlan.Arg> wargs = new ArrayList<>(List.of(new Ptr("x", false), new Ptr("dz", false), new Ptr(wgradOut, false)));
        wargs.addAll(geo);
        wargs.add(new I32("preRelu", s.preRelu() ? 1 : 0));
        wargs.add(new I32("rowsPerSplit", sp.rowsPerSplit()));
        l.add(new Launch("pwbwd_wgrad_" + mode + "_" + suf, CudaLaunchPlan.ceilDiv(pRows, BM) * CudaLaunchPlan.ceilDiv(s.cout(), BN), sp.splits(), 1,
                WGRAD_SHARED_BYTES, wargs));
        if (sp.splits() > 1) l.add(reduceSplits("scratch:partialW", "dw1", sp.splits(), weights, lim));
        if (withDx) {
            if (!stem) {   // the pixels no output reads: zeros (the dgrad below writes the strided ones)
                l.add(new Launch("pwbwd_zero_unstrided", CudaLaunchPlan.gridFor((long) inPixels * s.cin() / 8, lim), 1, 1, 0, List.of(
                        new Ptr("dx", false), new I32("n", s.n()), new I32("h", s.h()), new I32("w", s.w()), new I32("cin", s.cin()),
                        new I32("stride", s.stride()))));
            }
            List<CudaLaunchPlan.Arg> dargs = new ArrayList<>(List.of(new Ptr("dz", false), new Ptr("scratch:w1h", false),
                    s.preRelu() ? new Ptr("x", false) : new Ptr("dgradMask", true), new Ptr("dx", false)));
            dargs.addAll(geo);
            long rows = stem ? inPixels : outPixels;
            l.add(new Launch("pwbwd_dgrad_" + mode + "_" + suf, CudaLaunchPlan.ceilDiv(s.cin(), BN), (int) CudaLaunchPlan.ceilDiv(rows, BM), 1,
                    DGRAD_SHARED_BYTES, dargs));
        }
        return new OpPlan(l, scratch);
    }

    /** {@code pwbwd_pack_w2_<t>}: the fp32 weights {@code w} ({@code count} values) rounded once to 16 bits into {@code wh}, same layout. */
    private static Launch packWeights(String w, String wh, long count, Precision p, Limits lim) {
        return new Launch("pwbwd_pack_w2_" + CudaLaunchPlan.storageSuffix(p), CudaLaunchPlan.gridFor(count, lim), 1, 1, 0, List.of(
                new Ptr(w, false), new Ptr(wh, false), new I64("count", count)));
    }

    /** {@code pwbwd_reduce}: the {@code splits} fp32 partials of a weight gradient ({@code count} values each) added in order into {@code out}. */
    private static Launch reduceSplits(String partial, String out, int splits, long count, Limits lim) {
        return new Launch("pwbwd_reduce", CudaLaunchPlan.gridFor(count / 4, lim), 1, 1, 0, List.of(
                new Ptr(partial, false), new Ptr(out, false), new I32("splits", splits), new I64("count", count)));
    }
}
