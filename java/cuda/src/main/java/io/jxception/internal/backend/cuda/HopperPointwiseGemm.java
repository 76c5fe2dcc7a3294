package io.jxception.internal.backend.cuda;

import io.jxception.backend.Precision;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.I32;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.I64;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.Launch;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.Limits;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.Ptr;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.TensorMap;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.TmaElement;

import java.util.List;

/**
 * Launch planning for the Hopper pointwise GEMM of the split separable conv (cuda/hopper_pwgemm.cu,
 * sm_90a only): {@code pwgemm_pack_bt_<math>} once per op, then per chunk of A {@code
 * pwgemm_wgmma_<math>_n<BN>} in place of sepgemm's mma.sync {@code sepgemm_gemm_<math>} (BF16, FP16), or
 * as the TF32 split path's GEMM (no mma.sync counterpart: TF32 otherwise runs the fused conv). Contract:
 * y[row0 + r, co] = postRelu?(A[r, :] . W2[:, co] * scale[co] + shift[co] + residual[row0 + r, co]).
 *
 * <p>Operands, of element type E (bf16, fp16, or fp32 for TF32), KB = 128 bytes / sizeof(E) (64 or 32 elements):
 * <pre>
 *   scratch:a   (rows, kPad) E  the chunk of A sepgemm_dw_* wrote; read through tensor map tmA, box (min(128, rows), KB)
 *   scratch:bt  (cout, kPad) E  W2 transposed (K-major), zero in columns >= cin; tmB, box (min(BN, cout), KB)
 *   y           (M, cout) E     the whole output; tmY, box (64, KB); the kernel stores at rows row0 + (chunk row)
 *   w2 (cin, cout), scale, shift (cout) fp32; residual (M, cout) E or null
 * </pre>
 * One CTA of 384 threads per SM (one producer and two consumer warpgroups), persistent over the
 * chunk's tiles: grid min(tiles, SMs). The kernel covers layers with kPad >= KB, cout % 8 == 0 (16-bit)
 * or % 4 == 0 (fp32), cout >= KB and M >= 64 ({@link #covers}); SeparableGemmPath keeps sepgemm_gemm (16-bit)
 * or the fused conv (TF32) for the rest.
 *
 * <p>{@link #dgrad} plans the same kernel as the data gradient of the separable conv's backward
 * (dd = dz . W2^T, {@code cuda.pwbwd=wgmma}), on operands dz, scratch:w2h and scratch:dd.
 */
public final class HopperPointwiseGemm {
    private HopperPointwiseGemm() {}

    /** Tile rows, 16-bit K per pipeline stage, threads per block (BM, BK, THREADS in hopper_pwgemm.cu). */
    public static final int BM = 128, BK = 64, THREADS = 384;
    /** Rows of the epilogue's TMA store box; its columns are one 128-byte row, like every box's K (EPI in hopper_pwgemm.cu). */
    public static final int EPI = 64;
    /** Bytes in one row of every box (the 128-byte swizzle span). */
    public static final int BOX_ROW_BYTES = 128;
    /** Dynamic shared memory of pwgemm_wgmma_*_n256 (4 stages) and _n128 (6 stages): Config&lt;BN&gt;::SMEM. */
    public static final int SHARED_BYTES_N256 = 230_464, SHARED_BYTES_N128 = 230_496;
    /**
     * How long one mbarrier wait may last before the kernel traps (the launch then fails with an error
     * instead of hanging the device): 10 s, where a correct pipeline waits microseconds.
     */
    public static final long HANG_NS = 10_000_000_000L;

    /** Dynamic shared memory of the kernel with output tile width {@code bn}. */
    public static int sharedBytes(int bn) {
        return switch (bn) {
            case 256 -> SHARED_BYTES_N256;
            case 128 -> SHARED_BYTES_N128;
            default -> throw new IllegalArgumentException("no pwgemm_wgmma tile of width " + bn);
        };
    }

    /** Elements of {@code p}'s type in one 128-byte box row: the K of a stage, the columns of a store (64 or 32). */
    public static int boxElements(Precision p) { return BOX_ROW_BYTES / TmaElement.of(p).bytes; }

    /** Whether the 16-bit kernel covers a GEMM of M rows, kPad (a multiple of 32) columns of A and cout outputs. */
    public static boolean covers(long m, int kPad, int cout) { return covers(m, kPad, cout, Precision.BF16); }

    /** Whether {@code p}'s kernel covers it: every box inside its matrix and 16-byte rows of y. */
    public static boolean covers(long m, int kPad, int cout, Precision p) {
        if (p == Precision.FP32) return false;
        int kb = boxElements(p);
        return kPad >= kb && (long) cout * TmaElement.of(p).bytes % 16 == 0 && cout >= kb && m >= EPI;
    }

    /**
     * Output tile width: 256 where cout > 128 and the 256-wide tiles of all M rows still give every SM
     * one (fewer, wider tiles read A fewer times), else 128. A first guess; benchmarks/NOTES.md
     * cuda-pwgemm-1 times both widths per layer.
     */
    public static int tileWidth(long m, int cout, Limits lim) {
        long tiles256 = CudaLaunchPlan.ceilDiv(m, BM) * CudaLaunchPlan.ceilDiv(cout, 256);
        return cout > 128 && tiles256 >= lim.smCount() ? 256 : 128;
    }

    /** {@code pwgemm_pack_bt_<math>}: W2 (cin, cout) fp32 into scratch:bt (cout, kPad) of p's element type (TF32: rounded to tf32). */
    public static Launch packBt(Precision p, int cin, int cout, int kPad, Limits lim) {
        return new Launch("pwgemm_pack_bt_" + math(p), CudaLaunchPlan.gridFor((long) cout * kPad, lim), 1, 1, 0, List.of(
                new Ptr("w2", false), new Ptr("scratch:bt", false), new I32("cin", cin), new I32("cout", cout), new I32("kPad", kPad)));
    }

    /** Bytes of scratch:bt. */
    public static long btBytes(int cout, int kPad, Precision p) { return (long) cout * kPad * TmaElement.of(p).bytes; }

    /**
     * {@code pwgemm_wgmma_<math>_n<BN>} over the chunk rows [row0, row0 + rows) of an M-row GEMM; BN from
     * {@link #tileWidth} of the whole GEMM, so every chunk uses the same kernel.
     */
    public static Launch gemm(Precision p, long m, int rows, long row0, int kPad, int cout, boolean postRelu, Limits lim) {
        if (!covers(m, kPad, cout, p)) throw new IllegalArgumentException("pwgemm_wgmma (" + p + ") does not cover M " + m + ", kPad " + kPad + ", cout " + cout);
        if (rows < 1 || row0 < 0 || row0 + rows > m) throw new IllegalArgumentException("chunk rows [" + row0 + ", " + (row0 + rows) + ") outside M " + m);
        return launch(p, "scratch:a", "scratch:bt", "y", m, rows, row0, kPad, cout, postRelu, lim);
    }

    /**
     * The data gradient of the separable conv's pointwise GEMM on this kernel ({@code cuda.pwbwd=wgmma},
     * PointwiseBackwardPath): scratch:dd (M, cin) = dz (M, cout) . W2h^T with no scale, shift, residual
     * or ReLU, so the epilogue stores the fp32 dot products rounded once to 16 bits. The operands are
     * already the kernel's: A = dz (M rows, K = cout contiguous), Bt = scratch:w2h, W2 (cin, cout) in 16
     * bits, which is (nOut = cin rows, K = cout contiguous); y = scratch:dd. One launch over all M rows.
     * BF16/FP16 only; needs {@link #covers}(m, cout, cin): cout >= 64 (one 64-wide K box), cin >= 64 and
     * a multiple of 8, m >= 64, and cout a multiple of 8 (16-byte rows of dz and W2h for TMA).
     */
    public static Launch dgrad(Precision p, int m, int cin, int cout, Limits lim) {
        if (p != Precision.BF16 && p != Precision.FP16) throw new IllegalArgumentException("the wgmma dgrad is BF16/FP16 only, got " + p);
        if (!covers(m, cout, cin, p) || cout % 8 != 0) {
            throw new IllegalArgumentException("pwgemm_wgmma does not cover the dgrad of M " + m + ", cin " + cin + ", cout " + cout
                    + " (needs cin, cout >= 64 and multiples of 8, M >= 64)");
        }
        return launch(p, "dz", "scratch:w2h", "scratch:dd", m, m, 0, cout, cin, false, lim);
    }

    /**
     * The launch of y (m, nOut) rows [row0, row0 + rows) = A (rows, k) . Bt (nOut, k)^T with the operands
     * named {@code a}, {@code bt}, {@code y}; scale, shift, residual and the hang report stay unbound.
     */
    private static Launch launch(Precision p, String a, String bt, String y, long m, int rows, long row0, int k, int nOut, boolean postRelu, Limits lim) {
        int bn = tileWidth(m, nOut, lim);
        int shared = sharedBytes(bn);
        if (shared > lim.maxSharedBytesPerBlock()) {
            throw new IllegalArgumentException("pwgemm_wgmma needs " + shared + " bytes of shared memory per block, the device has " + lim.maxSharedBytesPerBlock());
        }
        long tiles = CudaLaunchPlan.ceilDiv(rows, BM) * (long) CudaLaunchPlan.ceilDiv(nOut, bn);
        int grid = (int) Math.min(tiles, lim.smCount());
        int boxRowsA = Math.min(BM, rows), boxRowsB = Math.min(bn, nOut);
        int kb = boxElements(p);
        int stageBytes = BOX_ROW_BYTES * (boxRowsA + boxRowsB);   // the two TMA boxes of one stage
        TmaElement e = TmaElement.of(p);
        return new Launch("pwgemm_wgmma_" + math(p) + "_n" + bn, grid, 1, 1, THREADS, shared, List.of(
                new TensorMap("tmA", a, e, rows, k, boxRowsA, kb),
                new TensorMap("tmB", bt, e, nOut, k, boxRowsB, kb),
                new TensorMap("tmY", y, e, m, nOut, EPI, kb),
                new Ptr("scale", true), new Ptr("shift", true), new Ptr("residual", true),
                new I32("rows", rows), new I32("cout", nOut), new I32("kTiles", CudaLaunchPlan.ceilDiv(k, kb)),
                new I64("row0", row0), new I32("postRelu", postRelu ? 1 : 0), new I32("stageBytes", stageBytes),
                new Ptr("hang", true), new I64("hangNs", HANG_NS)));
    }

    private static String math(Precision p) {
        return switch (p) {
            case BF16 -> "bf16";
            case FP16 -> "fp16";
            case TF32 -> "tf32";
            case FP32 -> throw new IllegalArgumentException("pwgemm_wgmma has no strict FP32 kernel (BF16, FP16, TF32)");
        };
    }
}
