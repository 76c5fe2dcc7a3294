package io.jxception.bench;

import io.jxception.internal.backend.KernelBackend;
import io.jxception.internal.backend.Buffer;
import io.jxception.internal.backend.ConvSpec;
import io.jxception.internal.backend.Epilogue;
import io.jxception.model.ConvKind;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Measures a device's two roofline ceilings with the backend's own kernels:
 * <ul>
 * <li>compute: separable convs 3×3 with Cin = Cout = C over (n, S, S, C) NHWC, the same fused
 *     launch as the network's middle and exit flows, whose pointwise part is an
 *     (n·S² × C) · (C × C) GEMM holding over 98% of the FLOPs. Three shapes, (C, S) = (728, 19)
 *     (the middle flow's), (1024, 16) and (2048, 16), because a kernel's tiling can suit one
 *     and not another; the best FLOP/s of the three is the ceiling. For each shape n doubles
 *     from 1 while a launch takes under {@link #TARGET_LAUNCH_SECONDS}, or while doubling still
 *     raises FLOP/s by 5% (a backend may parallelize over images) and a launch stays under
 *     {@link #MAX_LAUNCH_SECONDS}; n stops at 64.</li>
 *     The timed launches read an input that a first (untimed) launch of the same conv wrote, so
 *     it is already in the precision's activation storage: a host upload is stored as fp32, and a
 *     bf16/fp16 backend would otherwise convert it before every timed launch (on CUDA a 16 M-element
 *     conversion, ~6% of the (64,16,16,1024) launch, was counted as GEMM time).</li>
 * <li>bandwidth: addInPlace (dst += src) over two buffers of 16 M elements (64 MiB), or 64 M when
 *     the first launch is under 5 ms (GPUs, whose L2 holds tens of MiB). Both buffers are filled by
 *     host uploads, which every backend stores as fp32 (CUDA keeps an upload in F32 storage and runs
 *     addInPlace in its destination's storage: add_in_place_f32), so it moves 3 × elements × 4 bytes
 *     (read both, write dst) in every precision. DRAM bandwidth is the device's, not the precision's:
 *     the bf16 ceiling is the fp32 one. (Counting 2 bytes per element at bf16, as before, halved it:
 *     1,333 against 2,646 GB/s on the H100 of 2026-11-26.)</li>
 * </ul>
 * Each probe is warmed up, then repeated; the best repetition is the peak (a ceiling is what the
 * device can do; noise only ever slows a run).
 */
public final class PeakMeter {
    static final double TARGET_LAUNCH_SECONDS = 0.02, MAX_LAUNCH_SECONDS = 1.0;
    private static final int[][] GEMM_SHAPES = {{728, 19}, {1024, 16}, {2048, 16}}; // {C, S}
    private static final int MAX_GEMM_BATCH = 64;
    private static final long SMALL_COPY = 16L << 20, LARGE_COPY = 64L << 20;
    private final KernelBackend backend;
    private final DeviceClock clock;
    private final Progress progress;

    public PeakMeter(KernelBackend backend, DeviceClock clock, Progress progress) {
        this.backend = backend;
        this.clock = clock;
        this.progress = progress;
    }

    /** Units of {@link Progress} that {@link #measure} reports. */
    public static long progressUnits() { return 2; }

    public Peaks measure() {
        progress.advance(0, backend.name() + ": measuring peak FLOP/s");
        String[] computeProbe = new String[1];
        double flops = measureCompute(computeProbe);
        progress.advance(1, backend.name() + ": measuring peak bandwidth");
        String[] bandwidthProbe = new String[1];
        double bytes = measureBandwidth(bandwidthProbe);
        progress.advance(1, backend.name() + ": peaks measured");
        return new Peaks(backend.description(), flops, bytes, computeProbe[0], bandwidthProbe[0],
                Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
    }

    private double measureCompute(String[] probe) {
        double best = 0;
        for (int[] shape : GEMM_SHAPES) {
            String[] what = new String[1];
            double flopsPerSecond = measureSeparable(shape[0], shape[1], what);
            if (flopsPerSecond > best) {
                best = flopsPerSecond;
                probe[0] = what[0] + "; the fastest of C = 728, 1024, 2048";
            }
        }
        return best;
    }

    /** Best FLOP/s of a separable conv C → C over (n, side, side, C), n grown to a launch of 20 ms. */
    private double measureSeparable(int c, int side, String[] probe) {
        Random rnd = new Random(7);
        List<Buffer> weights = new ArrayList<>();
        try {
            Buffer dw = fill(weights, 9L * c, rnd, 1.0 / 3);                 // (3,3,C) depthwise
            Buffer pw = fill(weights, (long) c * c, rnd, 1.0 / Math.sqrt(c)); // (C,C) pointwise
            Buffer scale = fill(weights, c, rnd, 1.0), shift = fill(weights, c, rnd, 0.1); // (C)
            Epilogue epilogue = new Epilogue(scale, shift, null, false);
            int n = 1;
            double best = 0, previous = 0;
            while (true) {
                ConvSpec spec = new ConvSpec(ConvKind.SEPARABLE3X3_SAME, n, side, side, c, c, 1, true);
                long flops = 2 * spec.macs();
                List<Buffer> act = new ArrayList<>();
                try {
                    Buffer x = fill(act, spec.inputElements(), rnd, 1.0); // (n,S,S,C) NHWC, fp32 as uploaded
                    Buffer y = alloc(act, spec.outputElements());          // (n,S,S,C) in activation storage
                    clock.seconds(() -> backend.conv(spec, x, dw, pw, epilogue, y)); // warm-up: compilation, first touch
                    // timed: y (activation storage) -> x, as a launch inside the network reads its predecessor's output
                    Runnable launch = () -> backend.conv(spec, y, dw, pw, epilogue, x);
                    double t = clock.seconds(launch);
                    double rate = flops / t;
                    // grow the batch while launches are short or it still pays (a backend may parallelize over images)
                    boolean grow = n < MAX_GEMM_BATCH && t < MAX_LAUNCH_SECONDS && (t < TARGET_LAUNCH_SECONDS || rate > previous * 1.05);
                    if (rate > best) {
                        best = rate;
                        probe[0] = computeProbe(c, n, side, flops);
                    }
                    if (grow) {
                        previous = rate;
                        n *= 2;
                        continue;
                    }
                    double fastest = best(launch, t, 0.5, 3, 50);
                    if (flops / fastest >= best) {
                        best = flops / fastest;
                        probe[0] = computeProbe(c, n, side, flops);
                    }
                    return best;
                } finally {
                    free(act);
                }
            }
        } finally {
            free(weights);
        }
    }

    private double measureBandwidth(String[] probe) {
        long elements = SMALL_COPY;
        Random rnd = new Random(11);
        while (true) {
            List<Buffer> bufs = new ArrayList<>();
            try {
                Buffer dst = fill(bufs, elements, rnd, 1.0), src = fill(bufs, elements, rnd, 1e-3);
                long count = elements;
                Runnable launch = () -> backend.addInPlace(dst, src, count);
                clock.seconds(launch);
                double t = clock.seconds(launch);
                if (t < 0.005 && elements < LARGE_COPY) {
                    elements = LARGE_COPY;
                    continue;
                }
                double best = best(launch, t, 0.5, 5, 100);
                long bytes = bandwidthProbeBytes(elements);
                probe[0] = String.format(Locale.ROOT, "addInPlace over %d M elements (fp32 as uploaded, %d bytes each, in every precision;"
                        + " read 2, write 1: %.0f MiB per launch)", elements >> 20, UPLOADED_ELEMENT_BYTES, bytes / 1048576.0);
                return bytes / best;
            } finally {
                free(bufs);
            }
        }
    }

    /** Bytes per element of a buffer filled by host uploads: fp32 on every backend (the CPU reference's float64 counted as fp32, like its launches). */
    static final int UPLOADED_ELEMENT_BYTES = 4;

    /** What one bandwidth-probe launch moves: read dst and src, write dst, each {@code elements} fp32 values. */
    static long bandwidthProbeBytes(long elements) { return 3L * UPLOADED_ELEMENT_BYTES * elements; }

    /**
     * The compute probe as the report shows it. FLOPs = 2 × (depthwise 9·C + pointwise C·C) per
     * pixel, the pointwise GEMM (n·S² × C)·(C × C) being over 99% of them; input and output in the
     * backend's activation storage.
     */
    private String computeProbe(int c, int n, int side, long flops) {
        return String.format(Locale.ROOT, "separable conv 3x3 %d->%d over (%d,%d,%d,%d) %s, %.2f GFLOP per launch (pointwise GEMM %dx%dx%d + depthwise)",
                c, c, n, side, side, c, backend.precision().name().toLowerCase(Locale.ROOT), flops / 1e9, (long) n * side * side, c, c);
    }

    /** Repeats {@code launch} for about {@code budgetSeconds} (within [min, max] times) and returns the fastest. */
    private double best(Runnable launch, double first, double budgetSeconds, int min, int max) {
        int repeats = (int) Math.max(min, Math.min(max, Math.round(budgetSeconds / first)));
        double best = first;
        for (int i = 0; i < repeats; i++) best = Math.min(best, clock.seconds(launch));
        return best;
    }

    private Buffer alloc(List<Buffer> owner, long elements) {
        Buffer b = backend.allocate(elements);
        owner.add(b);
        return b;
    }

    /**
     * A buffer of uniform values in [-scale, scale]: one 1 M-element chunk of random values uploaded
     * over and over (the values only need to be ordinary floats; no multi-GiB host array).
     */
    private Buffer fill(List<Buffer> owner, long elements, Random rnd, double scale) {
        Buffer b = alloc(owner, elements);
        float[] chunk = new float[(int) Math.min(elements, 1 << 20)];
        for (int i = 0; i < chunk.length; i++) chunk[i] = (float) ((rnd.nextDouble() * 2 - 1) * scale);
        for (long off = 0; off < elements; off += chunk.length) {
            backend.upload(chunk, 0, b, off, (int) Math.min(chunk.length, elements - off));
        }
        return b;
    }

    private static void free(List<Buffer> bufs) {
        for (int i = bufs.size() - 1; i >= 0; i--) bufs.get(i).close();
    }
}
