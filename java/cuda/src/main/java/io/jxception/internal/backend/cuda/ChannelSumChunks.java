package io.jxception.internal.backend.cuda;

import io.jxception.internal.backend.cuda.CudaLaunchPlan.Arg;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.I32;
import io.jxception.internal.backend.cuda.CudaLaunchPlan.Launch;

import java.util.ArrayList;
import java.util.List;

/**
 * How one per-channel reduction over a (rows, c) activation is cut into chunks of {@code rowsPerChunk}
 * rows, each giving fp32 partials (chunks, k, c) that a final kernel adds in order (deterministic):
 * the batch-norm sums of {@code cuda/bn_train.cu} ({@code bn_stats_partial}, {@code bn_backward_partial},
 * {@code bn_sums_partial}; rows = N*H*W) and the depthwise weight gradient of {@code cuda/conv_bwd.cu}
 * ({@code dw_backward_weight}; rows = input pixels, k = 9 taps).
 *
 * <p>When c % 8 == 0 (every Xception layer) the {@code _v8_} kernels run: a thread owns 8 consecutive
 * channels (16-byte loads of 16-bit storage) and keeps several loads in flight; a block is
 * {@code lanes} channel groups x (256 / lanes) row lanes, lanes being c / 8 rounded up to a power of
 * two and capped at 32, so that a narrow layer (c = 32: 4 groups) fills its block with rows instead of
 * idle channel lanes. Otherwise one channel per thread, 32 channel lanes x 8 row lanes.
 *
 * @param vector       whether the 8-channel kernels run
 * @param lanes        channel lanes per block (groups of 8 channels when {@code vector}, else channels)
 * @param rowsPerChunk rows of one chunk, a multiple of 8
 * @param chunks       ceil(rows / rowsPerChunk), at most {@link #MAX_CHUNKS}
 */
record ChannelSumChunks(boolean vector, int lanes, int rowsPerChunk, int chunks) {
    /** Most chunks of one reduction: the final kernels' ordered loop, and the partials' scratch, stay small. */
    static final int MAX_CHUNKS = 512;
    /**
     * Fewest rows per chunk of the 8-channel kernels: 8 row lanes x 4 rows in flight x 2 trips, so that
     * a 728-channel layer at batch 32 (11,552 rows) still makes ~540 blocks. The channel-per-thread
     * kernels keep their 256 ({@link CudaLaunchPlan#bnRowsPerChunk}).
     */
    static final int MIN_VECTOR_ROWS = 64;

    static ChannelSumChunks of(long rows, int c) {
        if (rows < 1 || c < 1 || rows > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("per-channel sums over " + rows + " rows x " + c + " channels (rows must be 1 .. 2^31-1)");
        }
        if (c % 8 != 0) {
            int rpc = CudaLaunchPlan.bnRowsPerChunk(rows);
            return new ChannelSumChunks(false, 32, rpc, (int) CudaLaunchPlan.ceilDiv(rows, rpc));
        }
        int lanes = vectorLanes(c);
        int rpc = (int) CudaLaunchPlan.roundUp(Math.max(MIN_VECTOR_ROWS, CudaLaunchPlan.ceilDiv(rows, MAX_CHUNKS)), 8);
        return new ChannelSumChunks(true, lanes, rpc, (int) CudaLaunchPlan.ceilDiv(rows, rpc));
    }

    /**
     * Channel groups per block of the 8-channel kernels for c channels (c % 8 == 0): c / 8 rounded up to a power
     * of two, at most 32; the block's other dimension is 256 / lanes row lanes. The batch-norm element-wise
     * {@code _v8_} kernels use the same layout.
     */
    static int vectorLanes(int c) {
        if (c < 8 || c % 8 != 0) throw new IllegalArgumentException("8-channel kernels need c % 8 == 0, got " + c);
        return Math.min(32, Integer.highestOneBit(c / 8 * 2 - 1));
    }

    /** Bytes of the partials scratch for {@code sums} sums per channel (2 for batch norm's, 9 taps for the depthwise weights). */
    long scratchBytes(int sums, int c) { return 4L * sums * chunks * c; }

    /**
     * The partial-sum launch of reduction {@code base} ("bn_stats_partial", "dw_backward_weight", ...) over storage {@code suffix}:
     * {@code args} are the kernel's arguments up to its last common one; the 8-channel kernel takes {@code lanes} after them.
     */
    Launch partial(String base, String suffix, int c, List<Arg> args) {
        if (!vector) return new Launch(base + "_" + suffix, CudaLaunchPlan.ceilDiv(c, lanes), chunks, 1, 0, args);
        List<Arg> all = new ArrayList<>(args);
        all.add(new I32("lanes", lanes));
        return new Launch(base + "_v8_" + suffix, CudaLaunchPlan.ceilDiv(c / 8, lanes), chunks, 1, 0, all);
    }
}
