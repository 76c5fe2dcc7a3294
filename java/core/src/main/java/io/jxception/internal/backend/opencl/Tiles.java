package io.jxception.internal.backend.opencl;

/**
 * How launches are cut into register tiles and work-groups. The numbers come from pocl on AVX-512
 * (opencl/dev, benchmarks/NOTES.md): an 8-row x float16 register tile per work-item runs the GEMM
 * core at ~210 GFLOP/s on 2 Zen 4 cores, against ~55 for 4 x float16 without unrolling and ~4 for one
 * output per work-item.
 */
final class Tiles {
    private Tiles() {}

    /** Rows (pixels) per work-item in the GEMM-shaped kernels. */
    static final int RM = 8;
    /** Most pixels per sepconv_bn work-group (multiple of RM). */
    static final int SEPCONV_MAX_TM = 64;
    /** Rows per slice of the per-channel batch-norm reductions. */
    static final int REDUCE_SLICE = 256;
    /**
     * Pixels per slice of a weight gradient: the slice's rows of A and dz (128 x (cin + cout) floats,
     * 745 KB at 728 + 728) stay in a core's L2 while all of the group's work-items walk them.
     */
    static final int WEIGHT_GRADIENT_SLICE = 128;
    /** Cap on the partial sums of one weight gradient (floats), which sets the slice length. */
    static final long MAX_PARTIAL_FLOATS = 16L << 20;

    /** The widest OpenCL vector (16, 8, 4, 2, 1) not wider than {@code channels}. */
    static int vectorWidth(int channels) {
        int w = 16;
        while (w > channels) w >>= 1;
        return w;
    }

    static int ceilDiv(long a, long b) { return Math.toIntExact((a + b - 1) / b); }

    /**
     * How sepconv_bn cuts a launch: {@code tm} pixels per work-group, depthwise tile chunks of {@code kc}
     * channels, depthwise vectors of {@code vwi}, {@code tnv} output vectors of {@code vw} per group.
     */
    record Sepconv(int tm, int kc, int vwi, int vw, int tnv) {
        int rowGroups() { return tm / RM; }
    }

    /**
     * Work-groups of up to 64 pixels, as many as a multiple of the compute units so the last wave is
     * full; the depthwise tile (tm x kc floats) in local memory sized for the device: on CPUs local
     * memory is ordinary cache-backed memory and 256 KiB keeps all of Xception's 728 channels in one
     * chunk, on GPUs 32 KiB leaves room for several groups per compute unit.
     */
    static Sepconv sepconv(int pixels, int cin, int cout, ClDevice device) {
        int groups = ceilDiv(pixels, SEPCONV_MAX_TM);
        groups = ceilDiv(groups, device.computeUnits()) * device.computeUnits();
        int tm = rowTile(ceilDiv(ceilDiv(pixels, groups), RM) * RM);
        long budget = Math.min(device.localMemBytes() / 2, device.gpu() ? 32 * 1024 : 256 * 1024);
        int kcMax = (int) Math.max(16, budget / ((long) tm * Float.BYTES) / 16 * 16);
        int kc = cin;
        if (cin > kcMax) {
            int chunks = ceilDiv(cin, kcMax);
            kc = ceilDiv(ceilDiv(cin, chunks), 16) * 16;
        }
        int lastChunk = cin - (ceilDiv(cin, kc) - 1) * kc;
        int vw = vectorWidth(cout);
        int tnv = columnVectorsPerGroup(ceilDiv(cout, vw), tm / RM, device.maxWorkGroupSize());
        return new Sepconv(tm, kc, vectorWidth(Math.min(kc, lastChunk)), vw, tnv);
    }

    /**
     * The sepconv tile height for {@code pixels} rows per group: the smallest of 8, 16, 32, 64 at least
     * that large. TM is compiled into the kernel and sets its work-group shape, so quantising it bounds
     * the programs one layer ever needs at four, where the exact value made every new batch size build
     * (and pocl compile) the layer's program again, seconds each, in the middle of serving.
     */
    static int rowTile(int pixels) { return powerOfTwoAtLeast(pixels, RM, SEPCONV_MAX_TM); }

    /**
     * Row tiles per work-group of the row-tiled kernels (launchRowTiled): 8 where there are 8 or more,
     * else the next power of two, so that the group shape takes 4 values whatever the batch size
     * (the kernels return early on rows past the end).
     */
    static int rowTilesPerGroup(int rowTiles) { return powerOfTwoAtLeast(rowTiles, 1, 8); }

    /** The smallest power of two {@code lo · 2^k} (lo a power of two) at least {@code n}, at most {@code hi}. */
    private static int powerOfTwoAtLeast(int n, int lo, int hi) {
        int v = lo;
        while (v < n && v < hi) v <<= 1;
        return v;
    }

    /**
     * Column vectors per work-group for a GEMM-shaped kernel: all of them (each group then reads its
     * A rows once), unless that exceeds the device's work-group size together with {@code rowsPerGroup}.
     */
    static int columnVectorsPerGroup(int columnVectors, int rowsPerGroup, long maxWorkGroupSize) {
        long limit = Math.max(1, maxWorkGroupSize / rowsPerGroup);
        return (int) Math.min(columnVectors, limit);
    }

    /** Pixel slices of a weight-gradient reduction: about WEIGHT_GRADIENT_SLICE pixels each, partials capped. */
    static int sliceLength(long pixels, long outputsPerSlice) {
        long slices = Math.max(1, Math.min(ceilDiv(pixels, WEIGHT_GRADIENT_SLICE), MAX_PARTIAL_FLOATS / Math.max(1, outputsPerSlice)));
        return ceilDiv(pixels, slices);
    }
}
