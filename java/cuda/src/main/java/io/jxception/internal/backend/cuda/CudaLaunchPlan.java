package io.jxception.internal.backend.cuda;

import io.jxception.internal.backend.BatchNormSpec;
import io.jxception.internal.backend.ConvSpec;
import io.jxception.internal.backend.HeadSpec;
import io.jxception.internal.backend.PoolSpec;
import io.jxception.backend.Precision;
import io.jxception.model.ConvKind;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Pure-Java launch planning for the kernels in {@code cuda/}: which kernel, grid, block, dynamic
 * shared memory, argument list and backend scratch each Backend op needs. Nothing here touches the
 * driver, so every decision is unit-tested on machines without a GPU; {@link CudaBackend} only binds
 * the named operands to device pointers and enqueues the launches in order.
 *
 * <p>Argument lists mirror the kernel signatures exactly (same order, same C types). Operands are
 * named: the op's buffers ("x", "w1", "y", ...) and scratch regions ("scratch:partial", ...), whose
 * sizes in bytes the plan lists in {@link OpPlan#scratchBytes()}.
 */
public final class CudaLaunchPlan {
    private CudaLaunchPlan() {}

    /** Threads per block of every kernel (JX_THREADS in common.cuh). */
    public static final int THREADS = 256;
    /** Output channels per tile of the convolution GEMM (BN in conv_fwd.cu). */
    public static final int CONV_BN = 128;
    /** The narrow output-channel tile of the stem's MMA kernels ({@code _n64}), for cout <= 64 and BM >= 64. */
    public static final int CONV_BN_NARROW = 64;
    /** Rows of B per pipeline stage (BK in conv_fwd.cu); A's resident K chunk is a multiple of it. */
    public static final int CONV_BK = 32;
    /** Tile of the FFMA backward GEMMs (TILE in conv_bwd.cu). */
    public static final int BWD_TILE = 64;
    /** Images x classes per block of head_dense (DENSE_TI, DENSE_TJ in pool_head.cu). */
    public static final int DENSE_TI = 32, DENSE_TJ = 64;

    /** What the planner needs to know about the device. */
    public record Limits(int smCount, int maxSharedBytesPerBlock) {
        public Limits {
            if (smCount < 1) throw new IllegalArgumentException("smCount must be >= 1, got " + smCount);
            if (maxSharedBytesPerBlock < 48 * 1024) throw new IllegalArgumentException("shared memory per block below 48 KiB: " + maxSharedBytesPerBlock);
        }

        /** H100 SXM: 132 SMs, 227 KiB opt-in shared memory per block. */
        public static final Limits H100 = new Limits(132, 232_448);
        /** A100: 108 SMs, 163 KiB. */
        public static final Limits A100 = new Limits(108, 166_912);
        /** Consumer Ampere/Ada (sm_86/sm_89): 99 KiB. */
        public static final Limits ADA = new Limits(128, 101_376);
    }

    /** One kernel argument: a named device pointer, an int/long/float value, or a TMA tensor map over a named operand. */
    public sealed interface Arg permits Ptr, I32, I64, F32, TensorMap {
        String name();
    }

    /** A device pointer bound by name; {@code optional} ones may be null (the kernel checks). */
    public record Ptr(String name, boolean optional) implements Arg {}

    public record I32(String name, int value) implements Arg {}

    public record I64(String name, long value) implements Arg {}

    public record F32(String name, float value) implements Arg {}

    /** The element types of the tensor maps: CUtensorMapDataType values (cuda.h) and bytes per element. */
    public enum TmaElement {
        FLOAT16(6, 2), FLOAT32(7, 4), BFLOAT16(9, 2);

        public final int cuType, bytes;

        TmaElement(int cuType, int bytes) {
            this.cuType = cuType;
            this.bytes = bytes;
        }

        /** The element a precision stores its activations in. */
        public static TmaElement of(Precision p) {
            return switch (p) {
                case BF16 -> BFLOAT16;
                case FP16 -> FLOAT16;
                case FP32, TF32 -> FLOAT32;
            };
        }
    }

    /**
     * A {@code const __grid_constant__ CUtensorMap} argument (128 bytes, passed by value): a 2-D
     * row-major matrix (rows, cols) of {@code element}s starting at the device pointer bound to
     * {@code operand}, read or written in (boxRows, boxCols) boxes with the 128-byte swizzle, zero fill
     * outside the matrix. The backend encodes it with {@code cuTensorMapEncodeTiled} once the operand
     * has an address ({@link TensorMapEncoder}).
     *
     * <p>The checks are TMA's rules for this use: a row of the box is at most the 128-byte swizzle
     * span and at least 16 bytes, at most 256 rows; a row of the matrix is a multiple of 16 bytes; the
     * box lies within the matrix (a partial box at its end is zero filled, a box larger than the matrix
     * is not what the kernels expect).
     */
    public record TensorMap(String name, String operand, TmaElement element, long rows, long cols, int boxRows, int boxCols) implements Arg {
        public TensorMap {
            java.util.Objects.requireNonNull(element, "element");
            if (rows < 1 || cols < 1) throw new IllegalArgumentException(name + ": empty matrix " + rows + " x " + cols);
            if (cols * element.bytes % 16 != 0) throw new IllegalArgumentException(name + ": a row of " + cols + " " + element + " is not a multiple of 16 bytes");
            if (rows > (1L << 32) || cols > (1L << 32)) throw new IllegalArgumentException(name + ": matrix " + rows + " x " + cols + " over TMA's 2^32 per dimension");
            int rowBytes = boxCols * element.bytes;
            if (rowBytes < 16 || rowBytes > 128 || rowBytes % 16 != 0) {
                throw new IllegalArgumentException(name + ": box row of " + boxCols + " " + element + " (16 to 128 bytes, a multiple of 16, for the 128-byte swizzle)");
            }
            if (boxRows < 1 || boxRows > 256) throw new IllegalArgumentException(name + ": box of " + boxRows + " rows (1 to 256)");
            if (boxRows > rows || boxCols > cols) throw new IllegalArgumentException(name + ": box " + boxRows + " x " + boxCols + " larger than the matrix " + rows + " x " + cols);
        }

        /** Bytes between consecutive rows of the matrix. */
        public long rowBytes() { return cols * element.bytes; }
    }

    /** One kernel launch: 1-D blocks of {@code blockX} threads ({@link #THREADS} unless a kernel says otherwise) over a 3-D grid. */
    public record Launch(String kernel, int gridX, int gridY, int gridZ, int blockX, int sharedBytes, List<Arg> args) {
        public Launch {
            if (gridX < 1 || gridY < 1 || gridZ < 1) throw new IllegalArgumentException(kernel + ": empty grid " + gridX + "x" + gridY + "x" + gridZ);
            if (gridY > 65_535 || gridZ > 65_535) throw new IllegalArgumentException(kernel + ": grid y/z over 65535: " + gridY + ", " + gridZ);
            if (blockX < 32 || blockX > 1024 || blockX % 32 != 0) throw new IllegalArgumentException(kernel + ": block of " + blockX + " threads");
            args = List.copyOf(args);
        }

        /** A launch of {@link #THREADS}-thread blocks (every kernel but the Hopper warp-specialised ones). */
        public Launch(String kernel, int gridX, int gridY, int gridZ, int sharedBytes, List<Arg> args) {
            this(kernel, gridX, gridY, gridZ, THREADS, sharedBytes, args);
        }
    }

    /** The launches of one Backend op, in order, and the scratch regions (bytes) they use. */
    public record OpPlan(List<Launch> launches, Map<String, Long> scratchBytes) {
        public OpPlan {
            launches = List.copyOf(launches);
            scratchBytes = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(scratchBytes));
        }

        static OpPlan of(Launch l) { return new OpPlan(List.of(l), Map.of()); }
    }

    // ------------------------------------------------------------------ naming

    /** Suffix of kernels specialised on activation storage: f32, bf16, f16. */
    public static String storageSuffix(Precision p) {
        return switch (p) {
            case FP32, TF32 -> "f32";
            case BF16 -> "bf16";
            case FP16 -> "f16";
        };
    }

    /** Suffix of the convolution GEMMs, naming their arithmetic: fp32 (FFMA), tf32, bf16, fp16. */
    public static String mathSuffix(Precision p) {
        return switch (p) {
            case FP32 -> "fp32";
            case TF32 -> "tf32";
            case BF16 -> "bf16";
            case FP16 -> "fp16";
        };
    }

    /** Bytes per activation element on the device in this precision. */
    public static int activationBytes(Precision p) { return p == Precision.BF16 || p == Precision.FP16 ? 2 : 4; }

    // ------------------------------------------------------------------ forward convolution

    /** The tile choice of one convolution launch (see conv_fwd.cu); blockN is 128, or 64 for the stem's {@code _n64} kernels. */
    public record ConvTiling(int blockM, int blockN, int kChunk, int tilesPerBlock, int sharedBytes, int mTiles, int nTiles, int kPadded) {
        /** A columns are recomputed per output-channel tile when K does not fit in shared memory. */
        public boolean kResident() { return kChunk >= kPadded; }
    }

    public static ConvTiling convTiling(ConvSpec s, Precision p, Limits lim) {
        int eA = activationBytes(p);
        int aPad = eA == 2 ? 8 : 4;
        int k = s.kind() == ConvKind.CONV3X3_VALID ? 9 * s.cin() : s.cin();
        int kPad = roundUp(k, CONV_BK);
        long m = (long) s.n() * s.outH() * s.outW();
        if (m > Integer.MAX_VALUE) throw new IllegalArgumentException("conv with " + m + " output pixels: split the batch (at most 2^31-1 pixels per launch)");
        int nTiles = ceilDiv(s.cout(), CONV_BN);
        int smemB = 2 * CONV_BK * (CONV_BN + 8) * eA;
        int[] candidates = eA == 2 ? new int[]{128, 64, 32} : new int[]{64, 32};

        // 1. the largest tile whose A fits all of K and which still gives every SM a block
        // 2. else (few pixels) the smallest tile that fits all of K: more blocks, N split below
        // 3. else the smallest tile, A recomputed per K chunk
        int chosen = -1;
        for (int bm : candidates) {
            if (maxKChunk(bm, eA, aPad, smemB, lim) >= kPad && ceilDiv(m, bm) >= lim.smCount()) { chosen = bm; break; }
        }
        if (chosen < 0) {
            for (int i = candidates.length - 1; i >= 0; i--) {
                if (maxKChunk(candidates[i], eA, aPad, smemB, lim) >= kPad) { chosen = candidates[i]; break; }
            }
        }
        if (chosen < 0) chosen = candidates[candidates.length - 1];
        // cout <= 64 (the stem): a 64-wide output tile, so no MMA runs on empty columns (the B stage
        // shrinks, so everything chosen above still fits)
        int bn = CONV_BN;
        if (s.kind() == ConvKind.CONV3X3_VALID && p != Precision.FP32 && s.cout() <= CONV_BN_NARROW && chosen >= 64) {
            bn = CONV_BN_NARROW;
            nTiles = ceilDiv(s.cout(), bn);
            smemB = 2 * CONV_BK * (bn + 8) * eA;
        }
        int kChunk = Math.min(kPad, maxKChunk(chosen, eA, aPad, smemB, lim));
        if (kChunk < CONV_BK) throw new IllegalStateException("device shared memory (" + lim.maxSharedBytesPerBlock() + " B) too small for a " + chosen + "-row conv tile");
        int mTiles = (int) ceilDiv(m, chosen);
        int tilesPerBlock;
        if (kChunk < kPad) {
            tilesPerBlock = 1;  // A is rebuilt per tile anyway: spread the tiles over blocks
        } else {
            int groups = mTiles >= 2 * lim.smCount() ? 1 : Math.min(nTiles, ceilDiv(2 * lim.smCount(), mTiles));
            tilesPerBlock = ceilDiv(nTiles, groups);
        }
        int smem = chosen * (kChunk + aPad) * eA + smemB;
        return new ConvTiling(chosen, bn, kChunk, tilesPerBlock, smem, mTiles, nTiles, kPad);
    }

    private static int maxKChunk(int bm, int eA, int aPad, int smemB, Limits lim) {
        int cols = (lim.maxSharedBytesPerBlock() - smemB) / (bm * eA) - aPad;
        return cols < 0 ? 0 : cols / CONV_BK * CONV_BK;
    }

    /** Kernel family of a conv kind: sepconv_bn, conv_bn_relu (stem) or conv1x1s2_bn. */
    public static String convFamily(ConvKind kind) {
        return switch (kind) {
            case SEPARABLE3X3_SAME -> "sepconv_bn";
            case CONV3X3_VALID -> "conv_bn_relu";
            case CONV1X1_SAME -> "conv1x1s2_bn";
        };
    }

    /**
     * {@code Backend.conv}: operands x, w1, w2 (separable only), scale, shift, residual (optional), y.
     */
    public static OpPlan conv(ConvSpec s, Precision p, Limits lim, boolean postRelu) {
        ConvTiling t = convTiling(s, p, lim);
        String kernel = convFamily(s.kind()) + "_" + mathSuffix(p) + "_m" + t.blockM() + (t.blockN() == CONV_BN ? "" : "_n" + t.blockN());
        List<Arg> args = List.of(
                new Ptr("x", false), new Ptr("w1", false), new Ptr("w2", s.kind() != ConvKind.SEPARABLE3X3_SAME),
                new Ptr("scale", true), new Ptr("shift", true), new Ptr("residual", true), new Ptr("y", false),
                new I32("n", s.n()), new I32("h", s.h()), new I32("w", s.w()), new I32("cin", s.cin()), new I32("cout", s.cout()),
                new I32("stride", s.stride()), new I32("preRelu", s.preRelu() ? 1 : 0), new I32("postRelu", postRelu ? 1 : 0),
                new I32("kChunk", t.kChunk()), new I32("tilesPerBlock", t.tilesPerBlock()));
        int gridY = ceilDiv(t.nTiles(), t.tilesPerBlock());
        return OpPlan.of(new Launch(kernel, t.mTiles(), gridY, 1, t.sharedBytes(), args));
    }

    // ------------------------------------------------------------------ pooling and head

    /** {@code Backend.maxPoolAdd}: operands x, residual (optional), y. */
    public static OpPlan maxPoolAdd(PoolSpec s, Precision p, Limits lim) {
        long threads = (long) s.n() * s.outH() * s.outW() * ceilDiv(s.c(), 8);
        return OpPlan.of(new Launch("maxpool_add_" + storageSuffix(p), gridFor(threads, lim), 1, 1, 0, List.of(
                new Ptr("x", false), new Ptr("residual", true), new Ptr("y", false),
                new I32("n", s.n()), new I32("h", s.h()), new I32("w", s.w()), new I32("c", s.c()))));
    }

    /**
     * {@code Backend.maxPoolBackward}: operands x, dy, dx. One thread per input element; when c % 8 == 0 two passes of 8
     * channels per thread: {@code maxpool_argmax_v8_*} (each window's argmax once, as tap bytes in scratch:argmax, (n, oh,
     * ow, c) uint8), then {@code maxpool_backward_v8_*} (dx per input pixel from the bytes and dy).
     */
    public static OpPlan maxPoolBackward(PoolSpec s, Precision p, Limits lim) {
        List<Arg> geo = List.of(new I32("n", s.n()), new I32("h", s.h()), new I32("w", s.w()), new I32("c", s.c()));
        String suf = storageSuffix(p);
        if (s.c() % 8 != 0) {
            return OpPlan.of(new Launch("maxpool_backward_" + suf, gridFor(s.inputElements(), lim), 1, 1, 0,
                    concat(List.of(new Ptr("x", false), new Ptr("dy", false), new Ptr("dx", false)), geo)));
        }
        long outputs = (long) s.n() * ((s.h() + 1) / 2) * ((s.w() + 1) / 2) * s.c();
        return new OpPlan(List.of(
                new Launch("maxpool_argmax_v8_" + suf, gridFor(outputs / 8, lim), 1, 1, 0,
                        concat(List.of(new Ptr("x", false), new Ptr("scratch:argmax", false)), geo)),
                new Launch("maxpool_backward_v8_" + suf, gridFor(s.inputElements() / 8, lim), 1, 1, 0,
                        concat(List.of(new Ptr("scratch:argmax", false), new Ptr("dy", false), new Ptr("dx", false)), geo))),
                Map.of("scratch:argmax", outputs));
    }

    /** global_pool_*: y (n, c) fp32 = avg or max over h*w of x; one thread per (image, 8 channels). */
    private static Launch globalPool(HeadSpec s, Precision p, Limits lim, String y, boolean max) {
        return new Launch("global_pool_" + storageSuffix(p), gridFor((long) s.n() * ceilDiv(s.channels(), 8), lim), 1, 1, 0, List.of(
                new Ptr("x", false), new Ptr(y, false), new I32("n", s.n()), new I32("hw", s.h() * s.w()), new I32("c", s.channels()),
                new I32("isMax", max ? 1 : 0)));
    }

    /** head_dense: y (n, classes) = pooled . kernel + bias, tiled over images x classes. */
    private static Launch dense(HeadSpec s, String pooled, String y) {
        if (ceilDiv(s.n(), DENSE_TI) > 65_535) throw new IllegalArgumentException("head over " + s.n() + " images: at most " + 65_535 * DENSE_TI + " per launch");
        return new Launch("head_dense", ceilDiv(s.classes(), DENSE_TJ), ceilDiv(s.n(), DENSE_TI), 1, 0, List.of(
                new Ptr(pooled, false), new Ptr("kernel", false), new Ptr("bias", true), new Ptr(y, false),
                new I32("n", s.n()), new I32("c", s.channels()), new I32("classes", s.classes())));
    }

    /** Blocks of the one-warp-per-row softmax kernels. */
    private static int softmaxGrid(HeadSpec s) { return ceilDiv(s.n(), THREADS / 32); }

    /**
     * {@code Backend.head}: operands x, kernel, bias (optional), y (fp32). The dense head pools into
     * scratch:pooled, computes the logits into y and takes the softmax of y in place.
     */
    public static OpPlan head(HeadSpec s, Precision p, Limits lim) {
        if (!s.dense()) {
            if (s.pooling() == io.jxception.model.Pooling.NONE) throw new IllegalArgumentException("head without dense needs AVG or MAX pooling");
            return OpPlan.of(globalPool(s, p, lim, "y", s.pooling() == io.jxception.model.Pooling.MAX));
        }
        Map<String, Long> scratch = Map.of("scratch:pooled", 4L * s.n() * s.channels());
        return new OpPlan(List.of(
                globalPool(s, p, lim, "scratch:pooled", false),
                dense(s, "scratch:pooled", "y"),
                new Launch("head_softmax", softmaxGrid(s), 1, 1, 0, List.of(new Ptr("y", false), new I32("n", s.n()), new I32("classes", s.classes())))),
                scratch);
    }

    /**
     * {@code Backend.headTrain}: operands x, kernel, bias, labels, probs, loss, dX, dKernel, dBias; scratch pooled, dlogits.
     * {@code lossScale} multiplies dlogits (fp32) in head_softmax_xent, so every gradient after it carries the scale.
     */
    public static OpPlan headTrain(HeadSpec s, Precision p, Limits lim, float lossScale) {
        if (!s.dense()) throw new IllegalArgumentException("headTrain needs the dense head");
        String suf = storageSuffix(p);
        int hw = s.h() * s.w();
        Map<String, Long> scratch = new LinkedHashMap<>();
        scratch.put("scratch:pooled", 4L * s.n() * s.channels());
        scratch.put("scratch:dlogits", 4L * s.n() * s.classes());
        List<Launch> l = new ArrayList<>();
        l.add(globalPool(s, p, lim, "scratch:pooled", false));
        l.add(dense(s, "scratch:pooled", "probs"));
        l.add(new Launch("head_softmax_xent", softmaxGrid(s), 1, 1, 0, List.of(
                new Ptr("probs", false), new Ptr("labels", false), new Ptr("loss", false), new Ptr("scratch:dlogits", false),
                new I32("n", s.n()), new I32("classes", s.classes()), new F32("lossScale", lossScale))));
        l.add(new Launch("head_train_dweights", ceilDiv(s.classes(), THREADS), s.channels() + 1, 1, 0, List.of(
                new Ptr("scratch:pooled", false), new Ptr("scratch:dlogits", false), new Ptr("dKernel", false), new Ptr("dBias", true),
                new I32("n", s.n()), new I32("c", s.channels()), new I32("classes", s.classes()))));
        l.add(new Launch("head_train_dx_" + suf, ceilDiv(s.channels(), THREADS), s.n(), 1, 0, List.of(
                new Ptr("kernel", false), new Ptr("scratch:dlogits", false), new Ptr("dX", false),
                new I32("n", s.n()), new I32("hw", hw), new I32("c", s.channels()), new I32("classes", s.classes()))));
        return new OpPlan(l, scratch);
    }

    // ------------------------------------------------------------------ batch norm (training)

    /** Rows per partial-sum chunk: at least 256, and at most 512 chunks. */
    public static int bnRowsPerChunk(long rows) {
        long r = Math.max(256, ceilDiv(rows, 512));
        return (int) roundUp(r, 8);
    }

    /** {@code Backend.batchNormTrain}: operands z, gamma, beta, residual (optional), y, mean, invStd, movingMean, movingVar. */
    public static OpPlan batchNormTrain(BatchNormSpec s, Precision p, Limits lim) {
        int rows = rowsOf(s);
        String suf = storageSuffix(p);
        ChannelSumChunks ch = ChannelSumChunks.of(rows, s.channels());
        Map<String, Long> scratch = Map.of("scratch:partial", ch.scratchBytes(2, s.channels()));
        List<Launch> l = new ArrayList<>();
        l.add(ch.partial("bn_stats_partial", suf, s.channels(), List.of(
                new Ptr("z", false), new Ptr("scratch:partial", false), new I32("rows", rows), new I32("c", s.channels()),
                new I32("rowsPerChunk", ch.rowsPerChunk()))));
        l.add(new Launch("bn_stats_final_" + suf, ceilDiv(s.channels(), THREADS), 1, 1, 0, List.of(
                new Ptr("scratch:partial", false), new Ptr("z", false), new I32("chunks", ch.chunks()), new I32("rows", rows), new I32("c", s.channels()),
                new F32("eps", (float) s.epsilon()), new F32("momentum", (float) s.momentum()),
                new Ptr("mean", false), new Ptr("invStd", false), new Ptr("movingMean", false), new Ptr("movingVar", false))));
        l.add(bnApplyLaunch(s, p, lim));
        return new OpPlan(l, scratch);
    }

    /** {@code Backend.batchNormTrainBackward}: operands z, y, dy, gamma, mean, invStd, dz, dyMasked (optional), dGamma, dBeta. */
    public static OpPlan batchNormTrainBackward(BatchNormSpec s, Precision p, Limits lim) {
        // The split form's two plans with the statistics over this process's rows: the sums land in dGamma, dBeta on the device.
        OpPlan sums = batchNormBackwardSums(s, p, lim);
        List<Launch> l = new ArrayList<>(sums.launches());
        l.addAll(batchNormBackwardApply(s, rowsOf(s), p, lim).launches());
        return new OpPlan(l, sums.scratchBytes());
    }

    // ------------------------------------------------------------------ batch norm split for statistics over several processes

    /**
     * {@code Backend.batchNormSums}: operands z, mean (when {@code squaredDeviations}), sums (c, fp32):
     * Σ z, or Σ (z − mean)², over the spec's rows, in fp32 chunks added in order in double.
     */
    public static OpPlan batchNormSums(BatchNormSpec s, boolean squaredDeviations, Precision p, Limits lim) {
        int rows = rowsOf(s);
        ChannelSumChunks ch = ChannelSumChunks.of(rows, s.channels());
        Map<String, Long> scratch = Map.of("scratch:partial", ch.scratchBytes(1, s.channels()));
        return new OpPlan(List.of(
                ch.partial("bn_sums_partial", storageSuffix(p), s.channels(), List.of(
                        new Ptr("z", false), new Ptr("mean", !squaredDeviations), new Ptr("scratch:partial", false), new I32("rows", rows),
                        new I32("c", s.channels()), new I32("rowsPerChunk", ch.rowsPerChunk()))),
                new Launch("bn_sums_final", ceilDiv(s.channels(), THREADS), 1, 1, 0, List.of(
                        new Ptr("scratch:partial", false), new I32("chunks", ch.chunks()), new I32("c", s.channels()), new Ptr("sums", false)))), scratch);
    }

    /**
     * {@code Backend.batchNormApply} once mean and invStd (c) are on the device: operands mean, variance (c),
     * movingMean, movingVar, z, invStd, gamma, beta, residual (optional), y.
     */
    public static OpPlan batchNormApply(BatchNormSpec s, Precision p, Limits lim) {
        return new OpPlan(List.of(
                new Launch("bn_update_moving", ceilDiv(s.channels(), THREADS), 1, 1, 0, List.of(
                        new Ptr("mean", false), new Ptr("variance", false), new Ptr("movingMean", false), new Ptr("movingVar", false),
                        new I32("c", s.channels()), new F32("momentum", (float) s.momentum()))),
                bnApplyLaunch(s, p, lim)), Map.of());
    }

    /** {@code Backend.batchNormBackwardSums}: operands z, y, dy, mean, invStd; dGamma, dBeta (c, fp32) over the spec's rows. */
    public static OpPlan batchNormBackwardSums(BatchNormSpec s, Precision p, Limits lim) {
        int rows = rowsOf(s);
        ChannelSumChunks ch = ChannelSumChunks.of(rows, s.channels());
        Map<String, Long> scratch = Map.of("scratch:partial", ch.scratchBytes(2, s.channels()));
        return new OpPlan(List.of(
                ch.partial("bn_backward_partial", storageSuffix(p), s.channels(), List.of(
                        new Ptr("z", false), new Ptr("y", false), new Ptr("dy", false), new Ptr("mean", false), new Ptr("invStd", false),
                        new Ptr("scratch:partial", false), new I32("rows", rows), new I32("c", s.channels()),
                        new I32("rowsPerChunk", ch.rowsPerChunk()), new I32("relu", s.relu() ? 1 : 0))),
                new Launch("bn_backward_final", ceilDiv(s.channels(), THREADS), 1, 1, 0, List.of(
                        new Ptr("scratch:partial", false), new I32("chunks", ch.chunks()), new I32("c", s.channels()),
                        new Ptr("dGamma", false), new Ptr("dBeta", false)))), scratch);
    }

    /**
     * {@code Backend.batchNormBackwardApply} once dGamma, dBeta (c) of every process are on the device:
     * operands z, y, dy, gamma, mean, invStd, dGamma, dBeta, dz, dyMasked (optional).
     */
    public static OpPlan batchNormBackwardApply(BatchNormSpec s, long statisticsRows, Precision p, Limits lim) {
        int rows = rowsOf(s);
        if (statisticsRows < rows || statisticsRows > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("batchNormBackwardApply: statistics over " + statisticsRows + " rows, this process has " + rows);
        }
        return OpPlan.of(channelGroupLaunch("bn_backward_apply", storageSuffix(p), rows, s.channels(), lim, List.of(
                new Ptr("z", false), new Ptr("y", false), new Ptr("dy", false), new Ptr("gamma", false), new Ptr("mean", false),
                new Ptr("invStd", false), new Ptr("dGamma", false), new Ptr("dBeta", false), new Ptr("dz", false), new Ptr("dyMasked", true),
                new I32("rows", rows), new I32("statRows", (int) statisticsRows), new I32("c", s.channels()), new I32("relu", s.relu() ? 1 : 0))));
    }

    /** bn_apply: operands z, mean, invStd, gamma, beta, residual (optional), y. */
    private static Launch bnApplyLaunch(BatchNormSpec s, Precision p, Limits lim) {
        return channelGroupLaunch("bn_apply", storageSuffix(p), rowsOf(s), s.channels(), lim, List.of(
                new Ptr("z", false), new Ptr("mean", false), new Ptr("invStd", false), new Ptr("gamma", false), new Ptr("beta", false),
                new Ptr("residual", true), new Ptr("y", false), new I32("rows", rowsOf(s)), new I32("c", s.channels()), new I32("relu", s.relu() ? 1 : 0)));
    }

    /**
     * A pass over rows x c whose kernel comes in two forms ({@code base} = bn_apply, bn_backward_apply, dw_forward,
     * dw_backward_data). With c % 8 == 0 the {@code _v8_} kernel: each thread keeps one group of 8 channels'
     * parameters (batch norm's statistics, the 3x3 depthwise weights) in registers and strides over rows; blocks of
     * {@link ChannelSumChunks#vectorLanes} groups x 256 / lanes row lanes, grid (ceil(c / 8 / lanes), rowBlocks),
     * rowBlocks filling ~32 blocks per SM, and {@code lanes} after {@code args}. Otherwise the grid-stride kernel
     * over (row, 8 channels).
     */
    static Launch channelGroupLaunch(String base, String suf, long rows, int c, Limits lim, List<Arg> args) {
        if (rows < 1 || rows > Integer.MAX_VALUE) throw new IllegalArgumentException(base + ": " + rows + " rows (1 .. 2^31-1 per launch)");
        if (c % 8 != 0) return new Launch(base + "_" + suf, gridFor(rows * ceilDiv(c, 8), lim), 1, 1, 0, args);
        int lanes = ChannelSumChunks.vectorLanes(c);
        int gridX = ceilDiv(c / 8, lanes);
        int rowLanes = THREADS / lanes;
        int rowBlocks = (int) Math.min(Math.min(ceilDiv(rows, rowLanes), 65_535), Math.max(1, ceilDiv(32 * lim.smCount(), gridX)));
        List<Arg> all = new ArrayList<>(args);
        all.add(new I32("lanes", lanes));
        return new Launch(base + "_v8_" + suf, gridX, rowBlocks, 1, 0, all);
    }

    private static int rowsOf(BatchNormSpec s) {
        if (s.rows() < 1 || s.channels() < 1) throw new IllegalArgumentException("batch norm over " + s.rows() + " rows x " + s.channels() + " channels");
        if (s.rows() > Integer.MAX_VALUE) throw new IllegalArgumentException("batch norm over " + s.rows() + " rows: at most 2^31-1 per launch");
        return (int) s.rows();
    }

    // ------------------------------------------------------------------ convolution backward

    /** Splits of a weight-gradient GEMM over its M rows so that about two blocks run per SM. */
    public static int wgradRowsPerSplit(long m, int p, int q, Limits lim) {
        long tiles = (long) ceilDiv(p, BWD_TILE) * ceilDiv(q, BWD_TILE);
        long splits = Math.max(1, Math.min(ceilDiv(2L * lim.smCount(), tiles), ceilDiv(m, 256)));
        splits = Math.min(splits, 65_535);
        return (int) roundUp(ceilDiv(m, splits), 16);
    }

    /**
     * {@code Backend.convBackward}: operands x, w1, w2 (separable), dz, dx (optional: not computed
     * when absent), dw1, dw2 (separable). {@code withDx} says whether dx is wanted.
     */
    public static OpPlan convBackward(ConvSpec s, Precision p, Limits lim, boolean withDx) {
        String suf = storageSuffix(p);
        int eb = activationBytes(p);
        List<Launch> l = new ArrayList<>();
        Map<String, Long> scratch = new LinkedHashMap<>();
        List<Arg> geo = List.of(new I32("n", s.n()), new I32("h", s.h()), new I32("w", s.w()), new I32("cin", s.cin()),
                new I32("cout", s.cout()), new I32("stride", s.stride()), new I32("preRelu", s.preRelu() ? 1 : 0));
        long inPixels = (long) s.n() * s.h() * s.w();
        long outPixels = (long) s.n() * s.outH() * s.outW();
        switch (s.kind()) {
            case SEPARABLE3X3_SAME -> {
                int rps = wgradRowsPerSplit(inPixels, s.cin(), s.cout(), lim);
                int splits = (int) ceilDiv(inPixels, rps);
                separableScratch(s, p, scratch);
                scratch.put("scratch:partialPw", 4L * splits * s.cin() * s.cout());
                l.add(depthwiseForward(s, p, lim));
                // dd = dz . W2^T
                l.add(new Launch("dgrad_sep_" + suf, gridX(inPixels), ceilDiv(s.cin(), BWD_TILE), 1, 0,
                        concat(List.of(new Ptr("dz", false), new Ptr("w2", false), new Ptr("x", true), new Ptr("scratch:dd", false)), geo)));
                // dW2 = d^T . dz
                l.add(new Launch("wgrad_sep_" + suf, ceilDiv(s.cout(), BWD_TILE), ceilDiv(s.cin(), BWD_TILE), splits, 0,
                        concat(List.of(new Ptr("scratch:d", false), new Ptr("dz", false), new Ptr("scratch:partialPw", false)), geo, List.of(new I32("rowsPerSplit", rps)))));
                l.add(reduce("scratch:partialPw", "dw2", splits, (long) s.cin() * s.cout(), lim));
                depthwiseBackward(s, p, lim, withDx, l, scratch);
            }
            case CONV1X1_SAME, CONV3X3_VALID -> {
                boolean stem = s.kind() == ConvKind.CONV3X3_VALID;
                String mode = stem ? "stem" : "pw";
                int pRows = stem ? 9 * s.cin() : s.cin();
                int rps = wgradRowsPerSplit(outPixels, pRows, s.cout(), lim);
                int splits = (int) ceilDiv(outPixels, rps);
                scratch.put("scratch:partialW", 4L * splits * pRows * s.cout());
                l.add(new Launch("wgrad_" + mode + "_" + suf, ceilDiv(s.cout(), BWD_TILE), ceilDiv(pRows, BWD_TILE), splits, 0,
                        concat(List.of(new Ptr("x", false), new Ptr("dz", false), new Ptr("scratch:partialW", false)), geo, List.of(new I32("rowsPerSplit", rps)))));
                l.add(reduce("scratch:partialW", "dw1", splits, (long) pRows * s.cout(), lim));
                if (withDx) {
                    l.add(new Launch("dgrad_" + mode + "_" + suf, gridX(inPixels), ceilDiv(s.cin(), BWD_TILE), 1, 0,
                            concat(List.of(new Ptr("dz", false), new Ptr("w1", false), new Ptr("x", false), new Ptr("dx", false)), geo)));
                }
            }
        }
        return new OpPlan(l, scratch);
    }

    // The depthwise half of the separable backward, shared by the FFMA plan above and PointwiseBackwardPath's:
    // d = DW(a) is recomputed into scratch:d before the pointwise GEMMs, and dd (scratch:dd, written by
    // the pointwise dgrad) feeds dW1 and dx after them.

    /** Puts scratch:d and scratch:dd (the depthwise result and its gradient, (n, h, w, cin) activations) into {@code scratch}. */
    static void separableScratch(ConvSpec s, Precision p, Map<String, Long> scratch) {
        long act = (long) s.n() * s.h() * s.w() * s.cin() * activationBytes(p);
        scratch.put("scratch:d", act);
        scratch.put("scratch:dd", act);
    }

    /** dw_forward: scratch:d (n, h, w, cin) = DW3x3_same(a), a = preRelu ? relu(x) : x (8 channels per thread for the whole launch when cin % 8 == 0). */
    static Launch depthwiseForward(ConvSpec s, Precision p, Limits lim) {
        long inPixels = (long) s.n() * s.h() * s.w();
        return channelGroupLaunch("dw_forward", storageSuffix(p), inPixels, s.cin(), lim, List.of(
                new Ptr("x", false), new Ptr("w1", false), new Ptr("scratch:d", false),
                new I32("n", s.n()), new I32("h", s.h()), new I32("w", s.w()), new I32("c", s.cin()), new I32("preRelu", s.preRelu() ? 1 : 0)));
    }

    /**
     * From scratch:dd: dW1[t, c] = sum_p dd[p, c] * a[p + off(t), c] (partials in scratch:partialDw, added
     * in order into dw1) and, with {@code withDx}, dx = mask * DWtranspose(dd).
     */
    static void depthwiseBackward(ConvSpec s, Precision p, Limits lim, boolean withDx, List<Launch> l, Map<String, Long> scratch) {
        String suf = storageSuffix(p);
        long inPixels = (long) s.n() * s.h() * s.w();
        ChannelSumChunks ch = ChannelSumChunks.of(inPixels, s.cin());
        scratch.put("scratch:partialDw", ch.scratchBytes(9, s.cin()));
        l.add(ch.partial("dw_backward_weight", suf, s.cin(), List.of(
                new Ptr("x", false), new Ptr("scratch:dd", false), new Ptr("scratch:partialDw", false),
                new I32("n", s.n()), new I32("h", s.h()), new I32("w", s.w()), new I32("c", s.cin()), new I32("preRelu", s.preRelu() ? 1 : 0),
                new I32("pixelsPerChunk", ch.rowsPerChunk()))));
        l.add(reduce("scratch:partialDw", "dw1", ch.chunks(), 9L * s.cin(), lim));
        if (withDx) {
            l.add(channelGroupLaunch("dw_backward_data", suf, inPixels, s.cin(), lim, List.of(
                    new Ptr("scratch:dd", false), new Ptr("w1", false), new Ptr("x", false), new Ptr("dx", false),
                    new I32("n", s.n()), new I32("h", s.h()), new I32("w", s.w()), new I32("c", s.cin()), new I32("preRelu", s.preRelu() ? 1 : 0))));
        }
    }

    private static Launch reduce(String partial, String out, int chunks, long count, Limits lim) {
        return new Launch("reduce_partials", gridFor(count, lim), 1, 1, 0, List.of(
                new Ptr(partial, false), new Ptr(out, false), new I32("chunks", chunks), new I64("count", count)));
    }

    // ------------------------------------------------------------------ element-wise

    /** {@code Backend.addInPlace}: operands dst, src (same storage); a thread per 8 elements. */
    public static OpPlan addInPlace(long count, String storage, Limits lim) {
        return OpPlan.of(new Launch("add_in_place_" + storage, gridFor(ceilDiv(count, 8), lim), 1, 1, 0, List.of(
                new Ptr("dst", false), new Ptr("src", false), new I64("count", count))));
    }

    /** {@code Backend.sgdUpdate}: operands param, grad, velocity (fp32). */
    public static OpPlan sgdUpdate(long count, float lr, float momentum, float weightDecay, Limits lim) {
        return OpPlan.of(new Launch("sgd_update_f32", gridFor(count, lim), 1, 1, 0, List.of(
                new Ptr("param", false), new Ptr("grad", false), new Ptr("velocity", false), new I64("count", count),
                new F32("lr", lr), new F32("momentum", momentum), new F32("weightDecay", weightDecay))));
    }

    /** {@code Backend.unscaleGradient}: operands grad (fp32, in place), overflow (1 fp32, set on Inf/NaN). */
    public static OpPlan unscaleGradient(long count, float factor, Limits lim) {
        return OpPlan.of(new Launch("unscale_gradient_f32", gridFor(count, lim), 1, 1, 0, List.of(
                new Ptr("grad", false), new Ptr("overflow", false), new I64("count", count), new F32("factor", factor))));
    }

    /**
     * {@code sgd_update_multi_f32}: {@link #sgdUpdate} over every stepped weight of a {@link MultiTensorPlan},
     * one block per chunk; operands weights and chunks (the plan's device tables).
     */
    public static Launch sgdUpdateMulti(int chunks, float lr, float momentum, float weightDecay) {
        return new Launch("sgd_update_multi_f32", chunks, 1, 1, 0, List.of(
                new Ptr("weights", false), new Ptr("chunks", false), new F32("lr", lr), new F32("momentum", momentum),
                new F32("weightDecay", weightDecay)));
    }

    /**
     * {@code unscale_gradient_multi_f32}: {@link #unscaleGradient} over every weight's gradient of a
     * {@link MultiTensorPlan}, one block per chunk; operands weights, chunks (the plan's device tables), overflow.
     */
    public static Launch unscaleGradientMulti(int chunks, float factor) {
        return new Launch("unscale_gradient_multi_f32", chunks, 1, 1, 0, List.of(
                new Ptr("weights", false), new Ptr("chunks", false), new Ptr("overflow", false), new F32("factor", factor)));
    }

    /** Storage conversion src → dst, e.g. convert_f32_to_bf16: operands src, dst. */
    public static Launch convert(String from, String to, long count, Limits lim) {
        return new Launch("convert_" + from + "_to_" + to, gridFor(count, lim), 1, 1, 0, List.of(
                new Ptr("src", false), new Ptr("dst", false), new I64("count", count)));
    }

    // ------------------------------------------------------------------ helpers

    /** Blocks for a grid-stride loop over {@code threads} work items: enough to fill the device, no more. */
    public static int gridFor(long threads, Limits lim) {
        long blocks = ceilDiv(Math.max(1, threads), THREADS);
        return (int) Math.max(1, Math.min(blocks, 32L * lim.smCount()));
    }

    private static int gridX(long rows) {
        long g = ceilDiv(rows, BWD_TILE);
        if (g > Integer.MAX_VALUE) throw new IllegalArgumentException("too many rows for one launch: " + rows);
        return (int) g;
    }

    @SafeVarargs
    private static List<Arg> concat(List<? extends Arg>... parts) {
        List<Arg> out = new ArrayList<>();
        for (List<? extends Arg> p : parts) out.addAll(p);
        return out;
    }

    static int ceilDiv(int a, int b) { return (a + b - 1) / b; }

    static long ceilDiv(long a, long b) { return (a + b - 1) / b; }

    static int roundUp(int a, int b) { return ceilDiv(a, b) * b; }

    static long roundUp(long a, long b) { return ceilDiv(a, b) * b; }
}
