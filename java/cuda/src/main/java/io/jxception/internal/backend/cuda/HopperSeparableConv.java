package io.jxception.internal.backend.cuda;

import io.jxception.backend.Precision;
import io.jxception.internal.backend.ConvSpec;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.I32;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.I64;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.Launch;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.Limits;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.OpPlan;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.Ptr;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.TensorMap;
import io.jxception.model.ConvKind;

import java.util.List;
import java.util.Map;

/**
 * Launch planning for the fused separable conv on Hopper (cuda/hopper_sepconv.cu, sm_90a only; backend
 * options {@code cuda.sepconv=fused} with {@code cuda.pointwise=wgmma}): producer warps compute the
 * depthwise 3x3 straight into wgmma's shared-memory A tile, so the depthwise result never reaches HBM;
 * the consumers and the epilogue are the pointwise GEMM's ({@link HopperPointwiseGemm}). Same operands
 * and function as the split path: y = postRelu?(dw(act(x)) . W2 * scale + shift + residual), A rounded
 * to 16 bits once (bit-identical to sepgemm_dw's A).
 *
 * <p>Launches: {@code pwgemm_pack_bt_<math>} (W2 (cin, cout) fp32 into scratch:bt (cout, kPad) 16-bit),
 * then one {@code sepconv_wgmma_<math>_n<BN>} over all M rows: grid min(tiles, SMs), 384 threads (one
 * producer warpgroup, two consumer warpgroups), 181,296 (BN 256) or 164,928 (BN 128) bytes of shared
 * memory. Operands: x (M, cin) NHWC 16-bit, w1 (3, 3, cin) fp32, tmB over scratch:bt, box (min(BN, cout), 64);
 * tmY over y (M, cout), box (64, 64). Layers it does not cover ({@link #covers}) keep the fused mma.sync
 * kernel ({@link CudaLaunchPlan#conv}).
 */
public final class HopperSeparableConv {
    private HopperSeparableConv() {}

    /** Dynamic shared memory of sepconv_wgmma_*_n256 (3 stages) and _n128 (4 stages): sepwgmma::Config&lt;BN&gt;::SMEM. */
    public static final int SHARED_BYTES_N256 = 181_296, SHARED_BYTES_N128 = 164_928;

    public static int sharedBytes(int bn) {
        return switch (bn) {
            case 256 -> SHARED_BYTES_N256;
            case 128 -> SHARED_BYTES_N128;
            default -> throw new IllegalArgumentException("no sepconv_wgmma tile of width " + bn);
        };
    }

    /**
     * Whether the kernel covers {@code s}: a stride-1 separable conv with cin % 8 == 0 (16-byte loads of x)
     * and cin > 32 (one 64-wide K stage of Bt inside the matrix), and the pointwise GEMM's own rule for cout and M.
     */
    public static boolean covers(ConvSpec s) {
        long m = (long) s.n() * s.h() * s.w();
        return s.kind() == ConvKind.SEPARABLE3X3_SAME && s.stride() == 1 && s.cin() % 8 == 0 && m <= Integer.MAX_VALUE
                && HopperPointwiseGemm.covers(m, CudaLaunchPlan.roundUp(s.cin(), SeparableGemmPath.BK), s.cout());
    }

    /**
     * Output tile width: 256 where cout > 128, else 128. The depthwise of a stage is recomputed once per
     * column tile, so wider tiles halve the producer's work per useful FLOP (hopper_sepconv.cu's header);
     * unlike the GEMM alone, that outweighs a partly idle grid at small batches. A first guess, to be timed.
     */
    public static int tileWidth(int cout) { return cout > 128 ? 256 : 128; }

    /** {@code Backend.conv} of {@code s}: operands x, w1, w2, scale, shift, residual (optional), y; scratch:bt. */
    public static OpPlan plan(ConvSpec s, Precision p, Limits lim, boolean postRelu) {
        if (p != Precision.BF16 && p != Precision.FP16) throw new IllegalArgumentException("sepconv_wgmma is for BF16/FP16, got " + p);
        if (!covers(s)) throw new IllegalArgumentException("sepconv_wgmma does not cover " + s);
        int kPad = CudaLaunchPlan.roundUp(s.cin(), SeparableGemmPath.BK);
        int rows = Math.toIntExact((long) s.n() * s.h() * s.w());
        int bn = tileWidth(s.cout());
        int shared = sharedBytes(bn);
        if (shared > lim.maxSharedBytesPerBlock()) {
            throw new IllegalArgumentException("sepconv_wgmma needs " + shared + " bytes of shared memory per block, the device has " + lim.maxSharedBytesPerBlock());
        }
        long tiles = CudaLaunchPlan.ceilDiv(rows, HopperPointwiseGemm.BM) * (long) CudaLaunchPlan.ceilDiv(s.cout(), bn);
        int boxRowsB = Math.min(bn, s.cout());
        CudaLaunchPlan.TmaElement e = CudaLaunchPlan.TmaElement.of(p);
        String math = p == Precision.BF16 ? "bf16" : "fp16";
        Launch conv = new Launch("sepconv_wgmma_" + math + "_n" + bn, (int) Math.min(tiles, lim.smCount()), 1, 1, HopperPointwiseGemm.THREADS, shared, List.of(
                new TensorMap("tmB", "scratch:bt", e, s.cout(), kPad, boxRowsB, HopperPointwiseGemm.BK),
                new TensorMap("tmY", "y", e, rows, s.cout(), HopperPointwiseGemm.EPI, HopperPointwiseGemm.EPI),
                new Ptr("x", false), new Ptr("w1", false), new Ptr("scale", true), new Ptr("shift", true), new Ptr("residual", true),
                new I32("rows", rows), new I32("h", s.h()), new I32("w", s.w()), new I32("cin", s.cin()), new I32("cout", s.cout()),
                new I32("kTiles", CudaLaunchPlan.ceilDiv(kPad, HopperPointwiseGemm.BK)), new I32("preRelu", s.preRelu() ? 1 : 0),
                new I32("postRelu", postRelu ? 1 : 0), new I32("bBytes", 2 * HopperPointwiseGemm.BK * boxRowsB),
                new Ptr("hang", true), new I64("hangNs", HopperPointwiseGemm.HANG_NS)));
        return new OpPlan(List.of(HopperPointwiseGemm.packBt(p, s.cin(), s.cout(), kPad, lim), conv),
                Map.of("scratch:bt", HopperPointwiseGemm.btBytes(s.cout(), kPad, p)));
    }
}
