package io.jxception.internal.backend.opencl;

import io.jxception.internal.backend.Buffer;
import io.jxception.internal.backend.ConvSpec;
import io.jxception.internal.backend.Epilogue;
import io.jxception.backend.Precision;
import io.jxception.internal.backend.cpu.CpuBackend;
import io.jxception.model.ConvKind;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;

/**
 * The kernel-development harness for sepconv_bn (llm.c's dev/ tier): runs each numbered variant in
 * {@code opencl/dev/sepconv_bn_v*.cl} and the library's kernel on Xception's separable-conv shapes,
 * checks each against the CPU reference (relative error), then times it (min and median of reps)
 * with GFLOP/s (2 x MACs, depthwise + pointwise) and GB/s (x, weights, residual and y once each).
 * GF/cpu-s divides the FLOPs by the process CPU time instead: on a machine shared with other jobs it
 * shows what a kernel does per core-second regardless of how many cores it got (x2 = both cores).
 * Run from the repository root:
 * <pre>
 * benchmarks/opencl/run.sh SepconvVariants [--reps 7] [--variants 1,2,3,4] [--shapes 19,19] [--shape n,h,w,cin,cout] [--define NAME=VALUE]
 * </pre>
 */
public final class SepconvVariants {
    private SepconvVariants() {}

    /** Shapes (batch, h, w, cin, cout) of Xception's separable convs at 299x299. */
    static final int[][] SHAPES = {
        {1, 147, 147, 128, 128}, // block2_sepconv2
        {1, 37, 37, 728, 728},   // block4_sepconv2
        {1, 19, 19, 728, 728},   // middle flow, batch 1
        {8, 19, 19, 728, 728},   // middle flow, batch 8
        {1, 10, 10, 1536, 2048}, // block14_sepconv2
    };

    /** Extra -D options for every variant (experiments), and a substring filter on the shape label. */
    private static String extraOptions = "";
    private static String shapeFilter = null;
    private static int[] customShape = null;

    public static void main(String[] args) throws IOException {
        int reps = 7;
        int[] variants = {1, 2, 3, 4};
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--define" -> extraOptions += " -D" + args[++i];
                case "--shapes" -> shapeFilter = args[++i];
                case "--shape" -> customShape = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--variants" -> variants = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        try (OpenClBackend cl = (OpenClBackend) new OpenClBackendProvider().open(0, Precision.FP32);
             CpuBackend cpu = new CpuBackend(2)) {
            System.out.println("device: " + cl.description());
            System.out.printf(Locale.ROOT, "%-26s %-8s %10s %10s %9s %8s %10s %9s%n", "shape (n,h,w,cin->cout)", "variant", "min ms", "median ms", "GFLOP/s", "GB/s", "rel err", "GF/cpu-s");
            int[][] shapes = customShape == null ? SHAPES : new int[][]{customShape};
            for (int[] s : shapes) if (shapeFilter == null || String.format(Locale.ROOT, "%d,%d,%d,%d->%d", s[0], s[1], s[2], s[3], s[4]).contains(shapeFilter)) run(cl, cpu, new ConvSpec(ConvKind.SEPARABLE3X3_SAME, s[0], s[1], s[2], s[3], s[4], 1, true), variants, reps);
        }
    }

    static void run(OpenClBackend cl, CpuBackend cpu, ConvSpec spec, int[] variants, int reps) throws IOException {
        Random rnd = new Random(11);
        float[] x = normal(rnd, spec.inputElements(), 1), dw = normal(rnd, spec.w1Elements(), 0.3), pw = normal(rnd, spec.w2Elements(), 1 / Math.sqrt(spec.cin()));
        float[] scale = normal(rnd, spec.cout(), 0.2), shift = normal(rnd, spec.cout(), 0.2), res = normal(rnd, spec.outputElements(), 1);
        for (int i = 0; i < scale.length; i++) scale[i] += 1;
        float[] ref = reference(cpu, spec, x, dw, pw, scale, shift, res);
        Buffer xb = up(cl, x), dwb = up(cl, dw), pwb = up(cl, pw), sb = up(cl, scale), hb = up(cl, shift), rb = up(cl, res);
        Buffer yb = cl.allocate(spec.outputElements());
        int pixels = spec.n() * spec.h() * spec.w();
        double flops = 2.0 * spec.macs();
        double bytes = 4.0 * (spec.inputElements() + spec.w1Elements() + spec.w2Elements() + 2 * spec.outputElements() + 2L * spec.cout());
        String shape = String.format(Locale.ROOT, "%d,%d,%d,%d->%d", spec.n(), spec.h(), spec.w(), spec.cin(), spec.cout());
        ClContext ctx = cl.context();
        for (int v : variants) {
            String source = Files.readString(Path.of("opencl/dev/sepconv_bn_v" + v + ".cl"));
            String common = new String(SepconvVariants.class.getResourceAsStream(ClPrograms.RESOURCE_DIR + "common.h").readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            BuildOptions o = new BuildOptions().def("H", spec.h()).def("W", spec.w()).def("CIN", spec.cin()).def("COUT", spec.cout())
                    .def("PRE_RELU", true).def("HAS_BN", true).def("HAS_RES", true).def("POST_RELU", false);
            long[] global, local;
            int cvecs = Tiles.ceilDiv(spec.cout(), 16);
            switch (v) {
                case 1 -> {
                    global = new long[]{spec.cout(), pixels};
                    local = null;
                }
                case 2 -> {
                    int tm = 16, tn = 16, kc = Math.min(spec.cin(), 256);
                    o.def("TM", tm).def("TN", tn).def("KC", kc);
                    global = new long[]{(long) Tiles.ceilDiv(spec.cout(), tn) * tn, (long) Tiles.ceilDiv(pixels, tm) * tm};
                    local = new long[]{tn, tm};
                }
                case 3 -> {
                    int tm = 16, kc = spec.cin() <= 768 ? spec.cin() : Tiles.ceilDiv(Tiles.ceilDiv(spec.cin(), Tiles.ceilDiv(spec.cin(), 768)), 16) * 16;
                    int vwi = Tiles.vectorWidth(Math.min(kc, spec.cin() - (Tiles.ceilDiv(spec.cin(), kc) - 1) * kc));
                    o.def("TM", tm).def("KC", kc).def("RM", Tiles.RM).def("VW", 16).def("VWI", vwi);
                    global = new long[]{cvecs, (long) Tiles.ceilDiv(pixels, tm) * (tm / Tiles.RM)};
                    local = new long[]{cvecs, tm / Tiles.RM};
                }
                default -> { // v4 and later share the library's launch geometry
                    Tiles.Sepconv t = Tiles.sepconv(pixels, spec.cin(), spec.cout(), ctx.device);
                    o.def("TM", t.tm()).def("KC", t.kc()).def("RM", Tiles.RM).def("VW", t.vw()).def("VWI", t.vwi());
                    global = new long[]{(long) Tiles.ceilDiv(pixels, t.tm()) * t.rowGroups(), (long) Tiles.ceilDiv(cvecs, t.tnv()) * t.tnv()};
                    local = new long[]{t.rowGroups(), t.tnv()};
                }
            }
            long kernel = ctx.kernelFromSource("dev/sepconv_bn_v" + v + ".cl", () -> common + "\n" + source, "sepconv_bn", o + extraOptions);
            long[] g = global, l = local;
            Runnable launch = () -> ctx.launch(kernel, "sepconv_bn v" + v).arg((ClBuffer) xb).arg((ClBuffer) dwb).arg((ClBuffer) pwb)
                    .arg((ClBuffer) sb).arg((ClBuffer) hb).arg((ClBuffer) rb).arg((ClBuffer) yb).arg(pixels).run(g, l);
            report(cl, shape, "v" + v, launch, yb, ref, v <= 2 ? Math.min(reps, 2) : reps, flops, bytes);
        }
        Runnable lib = () -> cl.conv(spec, xb, dwb, pwb, new Epilogue(sb, hb, rb, false), yb);
        report(cl, shape, "library", lib, yb, ref, reps, flops, bytes);
        for (Buffer b : new Buffer[]{xb, dwb, pwb, sb, hb, rb, yb}) b.close();
    }

    static void report(OpenClBackend cl, String shape, String variant, Runnable launch, Buffer y, float[] ref, int reps, double flops, double bytes) {
        cl.fill(y, ref.length, Float.NaN);
        launch.run();
        float[] got = new float[ref.length];
        cl.download(y, got);
        double err;
        try {
            err = Twin.relativeError(ref, got, variant + " " + shape);
        } catch (AssertionError nonFinite) {
            err = Double.NaN;
        }
        double[] ms = new double[reps], cpuMs = new double[reps];
        for (int r = 0; r < reps; r++) {
            long c = ProcessCpu.nanos();
            long t = System.nanoTime();
            launch.run();
            cl.synchronize();
            ms[r] = (System.nanoTime() - t) / 1e6;
            cpuMs[r] = (ProcessCpu.nanos() - c) / 1e6;
        }
        Arrays.sort(ms);
        Arrays.sort(cpuMs);
        System.out.printf(Locale.ROOT, "%-26s %-8s %10.3f %10.3f %9.1f %8.2f %10.2e %9.1f%s%n", shape, variant, ms[0], ms[reps / 2],
                flops / ms[0] / 1e6, bytes / ms[0] / 1e6, err, flops / cpuMs[0] / 1e6, err < Twin.FP32_TOLERANCE ? "" : "  WRONG (relative error above " + Twin.FP32_TOLERANCE + " or not finite)");
    }

    static float[] reference(CpuBackend cpu, ConvSpec spec, float[] x, float[] dw, float[] pw, float[] scale, float[] shift, float[] res) {
        Buffer xb = up(cpu, x), dwb = up(cpu, dw), pwb = up(cpu, pw), sb = up(cpu, scale), hb = up(cpu, shift), rb = up(cpu, res);
        Buffer yb = cpu.allocate(spec.outputElements());
        cpu.conv(spec, xb, dwb, pwb, new Epilogue(sb, hb, rb, false), yb);
        float[] y = new float[(int) spec.outputElements()];
        cpu.download(yb, y);
        for (Buffer b : new Buffer[]{xb, dwb, pwb, sb, hb, rb, yb}) b.close();
        return y;
    }

    private static Buffer up(io.jxception.internal.backend.KernelBackend b, float[] v) {
        Buffer buf = b.allocate(v.length);
        b.upload(v, buf);
        return buf;
    }

    private static float[] normal(Random rnd, long n, double scale) {
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) v[i] = (float) (rnd.nextGaussian() * scale);
        return v;
    }
}
