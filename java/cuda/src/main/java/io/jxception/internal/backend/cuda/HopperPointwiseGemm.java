package io.jxception.internal.backend.cuda;

import io.jxception.backend.Precision;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.I32;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.I64;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.Launch;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.Limits;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.Ptr;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.TensorMap;

import java.util.List;

/**
 * Launch planning for the Hopper pointwise GEMM of the split separable conv (cuda/hopper_pwgemm.cu,
 * sm_90a only): {@code pwgemm_pack_bt_<math>} once per op, then per chunk of A {@code
 * pwgemm_wgmma_<math>_n<BN>} in place of sepgemm's mma.sync {@code sepgemm_gemm_<math>}. Same
 * contract: y[row0 + r, co] = postRelu?(A[r, :] . W2[:, co] * scale[co] + shift[co] + residual[row0 + r, co]).
 *
 * <p>Operands (16-bit unless said):
 * <pre>
 *   scratch:a   (rows, kPad)  the chunk of A sepgemm_dw_* wrote; read through tensor map tmA, box (min(128, rows), 64)
 *   scratch:bt  (cout, kPad)  W2 transposed (K-major), zero in columns >= cin; tmB, box (min(BN, cout), 64)
 *   y           (M, cout)     the whole output; tmY, box (64, 64); the kernel stores at rows row0 + (chunk row)
 *   w2 (cin, cout), scale, shift (cout) fp32; residual (M, cout) or null
 * </pre>
 * One CTA of 384 threads per SM (one producer and two consumer warpgroups), persistent over the
 * chunk's tiles: grid min(tiles, SMs). The kernel covers layers with kPad >= 64, cout % 8 == 0,
 * cout >= 64 and M >= 64 ({@link #covers}); SeparableGemmPath keeps sepgemm_gemm for the rest.
 */
public final class HopperPointwiseGemm {
    private HopperPointwiseGemm() {}

    /** Tile rows, K per pipeline stage, threads per block (BM, BK, THREADS in hopper_pwgemm.cu). */
    public static final int BM = 128, BK = 64, THREADS = 384;
    /** Rows and columns of the epilogue's TMA store box (EPI in hopper_pwgemm.cu). */
    public static final int EPI = 64;
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

    /** Whether the kernel covers a GEMM of M rows, kPad (a multiple of 32) columns of A and cout outputs. */
    public static boolean covers(long m, int kPad, int cout) {
        return kPad >= BK && cout % 8 == 0 && cout >= EPI && m >= EPI;
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

    /** {@code pwgemm_pack_bt_<math>}: W2 (cin, cout) fp32 into scratch:bt (cout, kPad) 16-bit. */
    public static Launch packBt(Precision p, int cin, int cout, int kPad, Limits lim) {
        return new Launch("pwgemm_pack_bt_" + math(p), CudaLaunchPlan.gridFor((long) cout * kPad, lim), 1, 1, 0, List.of(
                new Ptr("w2", false), new Ptr("scratch:bt", false), new I32("cin", cin), new I32("cout", cout), new I32("kPad", kPad)));
    }

    /** Bytes of scratch:bt. */
    public static long btBytes(int cout, int kPad) { return (long) cout * kPad * 2; }

    /**
     * {@code pwgemm_wgmma_<math>_n<BN>} over the chunk rows [row0, row0 + rows) of an M-row GEMM; BN from
     * {@link #tileWidth} of the whole GEMM, so every chunk uses the same kernel.
     */
    public static Launch gemm(Precision p, long m, int rows, long row0, int kPad, int cout, boolean postRelu, Limits lim) {
        if (!covers(m, kPad, cout)) throw new IllegalArgumentException("pwgemm_wgmma does not cover M " + m + ", kPad " + kPad + ", cout " + cout);
        if (rows < 1 || row0 < 0 || row0 + rows > m) throw new IllegalArgumentException("chunk rows [" + row0 + ", " + (row0 + rows) + ") outside M " + m);
        int bn = tileWidth(m, cout, lim);
        int shared = sharedBytes(bn);
        if (shared > lim.maxSharedBytesPerBlock()) {
            throw new IllegalArgumentException("pwgemm_wgmma needs " + shared + " bytes of shared memory per block, the device has " + lim.maxSharedBytesPerBlock());
        }
        long tiles = CudaLaunchPlan.ceilDiv(rows, BM) * (long) CudaLaunchPlan.ceilDiv(cout, bn);
        int grid = (int) Math.min(tiles, lim.smCount());
        int boxRowsA = Math.min(BM, rows), boxRowsB = Math.min(bn, cout);
        int stageBytes = 2 * BK * (boxRowsA + boxRowsB);   // the two TMA boxes of one stage
        boolean bf16 = p == Precision.BF16;
        return new Launch("pwgemm_wgmma_" + math(p) + "_n" + bn, grid, 1, 1, THREADS, shared, List.of(
                new TensorMap("tmA", "scratch:a", bf16, rows, kPad, boxRowsA, BK),
                new TensorMap("tmB", "scratch:bt", bf16, cout, kPad, boxRowsB, BK),
                new TensorMap("tmY", "y", bf16, m, cout, EPI, EPI),
                new Ptr("scale", true), new Ptr("shift", true), new Ptr("residual", true),
                new I32("rows", rows), new I32("cout", cout), new I32("kTiles", CudaLaunchPlan.ceilDiv(kPad, BK)),
                new I64("row0", row0), new I32("postRelu", postRelu ? 1 : 0), new I32("stageBytes", stageBytes),
                new Ptr("hang", true), new I64("hangNs", HANG_NS)));
    }

    private static String math(Precision p) {
        return switch (p) {
            case BF16 -> "bf16";
            case FP16 -> "fp16";
            case FP32, TF32 -> throw new IllegalArgumentException("pwgemm_wgmma is for BF16/FP16, got " + p);
        };
    }
}
