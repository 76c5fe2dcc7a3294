package io.jxception.internal.backend.cuda;

import io.jxception.backend.Precision;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.I32;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.I64;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.Launch;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.Limits;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.Ptr;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.TensorMap;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.TmaElement;
import io.jxception.internal.backend.cuda.PointwiseBackwardPath.Splits;

import java.util.List;

/**
 * Launch planning for the weight gradient of the separable conv's pointwise GEMM on Hopper
 * (cuda/hopper_pwbwd.cu, sm_90a only, {@code cuda.pwbwd=wgmma}): {@code pwbwd_wgrad_wgmma_<t>_n<BN>}
 * in place of the mma.sync {@code pwbwd_wgrad_<t>}, with the same output contract, so
 * {@code pwbwd_reduce} finishes both alike:
 * <pre>
 *   partial[s][c, k] = sum over the rows m of split s of d[m, c] * dz[m, k]     (splits, cin, cout) fp32
 *   scratch:d (M, cin) 16-bit, read through tensor map tmD, box (64 pixels, 64 channels)
 *   dz        (M, cout) 16-bit, tmDz, box (64, 64)
 *   out       dw2 itself with one split, else scratch:partialPw (splits, cin, cout)
 * </pre>
 * Both operands are MN-major for wgmma (pixels are the reduction and the slow dimension of both), which
 * the 16-bit instruction reads through its transpose bits: the TMA boxes land as they are. One CTA of
 * 384 threads per SM (a producer warpgroup and two consumer warpgroups), persistent over (tile, split)
 * work items: grid min(tiles * splits, SMs); tiles of 128 cin x {@link #tileWidth} cout.
 */
public final class HopperWeightGradient {
    private HopperWeightGradient() {}

    /** cin per tile, pixels per stage (and per box), channels per box, threads (BM, BK, BOX_CH, THREADS in hopper_pwbwd.cu). */
    public static final int BM = 128, BK = 64, BOX_CH = 64, THREADS = 384;
    /** Dynamic shared memory of the _n256 (4 stages of 48 KiB) and _n128 (6 stages of 32 KiB) kernels: Config&lt;BN&gt;::SMEM. */
    public static final int SHARED_BYTES_N256 = 197_696, SHARED_BYTES_N128 = 197_728;

    /** Dynamic shared memory of the kernel with tile width {@code bn}. */
    public static int sharedBytes(int bn) {
        return switch (bn) {
            case 256 -> SHARED_BYTES_N256;
            case 128 -> SHARED_BYTES_N128;
            default -> throw new IllegalArgumentException("no pwbwd_wgrad_wgmma tile of width " + bn);
        };
    }

    /** Tile width over cout: 256 where cout > 128 (half the reads of d per output), else 128. */
    public static int tileWidth(int cout) { return cout > 128 ? 256 : 128; }

    /**
     * Whether the kernel takes dW2 of an M-pixel GEMM: 16-bit, cin and cout multiples of 8 (16-byte rows
     * for TMA) and at least 64, M at least 64 (no box larger than its matrix), and the device's shared
     * memory per block holds the stages.
     */
    public static boolean covers(long m, int cin, int cout, Precision p, Limits lim) {
        return (p == Precision.BF16 || p == Precision.FP16) && cin % 8 == 0 && cout % 8 == 0 && cin >= BOX_CH && cout >= BOX_CH && m >= BK
                && lim.maxSharedBytesPerBlock() >= sharedBytes(tileWidth(cout));
    }

    /** Work tiles of one split: ceil(cin / 128) x ceil(cout / BN). */
    public static long tiles(int cin, int cout) {
        return (long) CudaLaunchPlan.ceilDiv(cin, BM) * CudaLaunchPlan.ceilDiv(cout, tileWidth(cout));
    }

    /**
     * The reduction over M in splits: {@link PointwiseBackwardPath#splitSearch}'s rule with one resident
     * CTA per SM and rows per split a multiple of {@link #BK}, so that no 64-pixel box straddles two
     * splits (cuda/dev/pwbwd_wgmma_v1.cu's wgmma_rows_per_split is the host copy it is checked against).
     */
    public static Splits splits(long m, int cin, int cout, int smCount) {
        return PointwiseBackwardPath.splitSearch(m, tiles(cin, cout), cin, cout, smCount, BK);
    }

    /**
     * {@code pwbwd_wgrad_wgmma_<t>_n<BN>} over {@code sp}: dW2 (cin, cout) of d = scratch:d and dz, into
     * {@code out} (dw2 for one split, else scratch:partialPw).
     */
    public static Launch wgrad(Precision p, int m, int cin, int cout, Splits sp, String out, Limits lim) {
        if (!covers(m, cin, cout, p, lim)) {
            throw new IllegalArgumentException("pwbwd_wgrad_wgmma does not take M " + m + ", cin " + cin + ", cout " + cout + " in " + p
                    + " (needs BF16/FP16, cin and cout >= 64 and multiples of 8, M >= 64, " + sharedBytes(tileWidth(cout)) + " bytes of shared memory)");
        }
        if (sp.rowsPerSplit() % BK != 0) throw new IllegalArgumentException("rows per split " + sp.rowsPerSplit() + " is not a multiple of " + BK);
        int bn = tileWidth(cout);
        long items = tiles(cin, cout) * sp.splits();
        TmaElement e = TmaElement.of(p);
        return new Launch("pwbwd_wgrad_wgmma_" + CudaLaunchPlan.storageSuffix(p) + "_n" + bn, (int) Math.min(items, lim.smCount()), 1, 1, THREADS,
                sharedBytes(bn), List.of(
                new TensorMap("tmD", "scratch:d", e, m, cin, BK, BOX_CH),
                new TensorMap("tmDz", "dz", e, m, cout, BK, BOX_CH),
                new Ptr(out, false),
                new I32("M", m), new I32("cin", cin), new I32("cout", cout), new I32("rowsPerSplit", sp.rowsPerSplit()), new I32("splits", sp.splits()),
                new Ptr("hang", true), new I64("hangNs", HopperPointwiseGemm.HANG_NS)));
    }
}
