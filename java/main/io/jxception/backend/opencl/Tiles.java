package io.jxception.backend.opencl;

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
    /** Pixels per sepconv_bn work-group (multiple of RM). */
    static final int SEPCONV_TM = 16;
    /** Local memory a sepconv_bn work-group may use for its depthwise tile, at most. */
    static final long SEPCONV_LOCAL_BYTES = 48 * 1024;
    /** Rows per slice of the per-channel reductions (batch norm, weight gradients). */
    static final int REDUCE_SLICE = 256;
    /** Cap on the partial sums of one weight gradient (floats), which sets the slice length. */
    static final long MAX_PARTIAL_FLOATS = 16L << 20;

    /** The widest OpenCL vector (16, 8, 4, 2, 1) not wider than {@code channels}. */
    static int vectorWidth(int channels) {
        int w = 16;
        while (w > channels) w >>= 1;
        return w;
    }

    static int ceilDiv(long a, long b) { return Math.toIntExact((a + b - 1) / b); }

    /** Channel-chunk length of sepconv_bn's depthwise tile: whole CIN when it fits, else equal chunks. */
    static int sepconvChunk(int cin, int tm, long localMemBytes) {
        long budget = Math.min(SEPCONV_LOCAL_BYTES, localMemBytes / 2);
        int kcMax = (int) Math.max(16, budget / ((long) tm * Float.BYTES) / 16 * 16);
        if (cin <= kcMax) return cin;
        int chunks = ceilDiv(cin, kcMax);
        return ceilDiv(ceilDiv(cin, chunks), 16) * 16;
    }

    /** Vector width of the depthwise step: no wider than the shortest chunk. */
    static int sepconvDepthwiseWidth(int cin, int kc) {
        int last = cin - (ceilDiv(cin, kc) - 1) * kc;
        return vectorWidth(Math.min(kc, last));
    }

    /**
     * Column vectors per work-group for a GEMM-shaped kernel: all of them (each group then reads its
     * A rows once), unless that exceeds the device's work-group size together with {@code rowsPerGroup}.
     */
    static int columnVectorsPerGroup(int columnVectors, int rowsPerGroup, long maxWorkGroupSize) {
        long limit = Math.max(1, maxWorkGroupSize / rowsPerGroup);
        return (int) Math.min(columnVectors, limit);
    }

    /** Pixel slices of a weight-gradient reduction: about REDUCE_SLICE pixels each, partials capped. */
    static int sliceLength(long pixels, long outputsPerSlice) {
        long slices = Math.max(1, Math.min(ceilDiv(pixels, REDUCE_SLICE), MAX_PARTIAL_FLOATS / Math.max(1, outputsPerSlice)));
        return ceilDiv(pixels, slices);
    }
}
