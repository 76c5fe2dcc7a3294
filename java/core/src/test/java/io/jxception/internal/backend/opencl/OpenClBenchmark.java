package io.jxception.internal.backend.opencl;

import io.jxception.internal.exec.ForwardSession;
import io.jxception.internal.backend.Buffer;
import io.jxception.internal.backend.ConvSpec;
import io.jxception.internal.backend.Epilogue;
import io.jxception.internal.backend.HeadSpec;
import io.jxception.internal.backend.PoolSpec;
import io.jxception.internal.exec.NodeSpecs;
import io.jxception.internal.exec.TrainingSession;
import io.jxception.model.Node;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;
import io.jxception.weights.XceptionWeights;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * OpenCL benchmark: every kernel launch of the Keras Xception forward (299x299) timed alone with its
 * achieved GFLOP/s (FLOPs = 2 x MACs from the shapes) and GB/s (bytes = inputs + weights + outputs,
 * each once), then the whole forward through {@link ForwardSession} in images per second.
 * Warm-up first, then medians of repeated runs. GF/cpu-s divides by the process's CPU time instead of
 * the elapsed time: on a machine shared with other jobs it shows what the kernel does per core-second.
 * Run (from the repository root):
 * <pre>
 * benchmarks/opencl/run.sh OpenClBenchmark --batches 1,8 --csv benchmarks/results/x.csv
 * </pre>
 * Options: --size S (299), --batches 1,8, --reps R (5), --layers-batch B (8; 0 skips the per-kernel
 * table), --train-batch B (0: no training step), --csv FILE, --device I (0).
 */
public final class OpenClBenchmark {
    private OpenClBenchmark() {}

    /** One measured row. */
    record Row(String what, int batch, double millis, double gflops, double gbytes, double imagesPerSecond) {}

    public static void main(String[] args) throws IOException {
        int size = 299, reps = 5, layersBatch = 8, device = 0, trainBatch = 0;
        int[] batches = {1, 8};
        String csv = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--size" -> size = Integer.parseInt(args[++i]);
                case "--batches" -> batches = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--layers-batch" -> layersBatch = Integer.parseInt(args[++i]);
                case "--csv" -> csv = args[++i];
                case "--device" -> device = Integer.parseInt(args[++i]);
                case "--train-batch" -> trainBatch = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        XceptionGraph graph = XceptionGraph.build(XceptionConfig.imagenet().withInputSize(size, size));
        XceptionWeights weights = XceptionWeights.random(graph, 7);
        List<Row> rows = new ArrayList<>();
        try (OpenClBackend cl = (OpenClBackend) new OpenClBackendProvider().open(device, io.jxception.backend.Precision.FP32)) {
            System.out.println("device: " + cl.description());
            if (layersBatch > 0) rows.addAll(perKernel(cl, graph, layersBatch, reps));
            for (int batch : batches) rows.add(wholeForward(cl, weights, batch, reps));
            if (trainBatch > 0) {
                if (cl.launchProfile() != null) cl.launchProfile().report(); // the profile below covers the timed training steps only
                rows.add(trainingStep(cl, weights, trainBatch, Math.max(2, reps / 2)));
                String profile = cl.launchProfile() == null ? "" : cl.launchProfile().report();
                if (!profile.isEmpty()) System.out.println("\nper-kernel totals of the timed steps (-Djxception.opencl.profile=true):\n" + profile);
            }
        }
        if (csv != null) writeCsv(Path.of(csv), rows);
    }

    /** Each node of the graph launched alone on random buffers; the table sorted as the network runs. */
    static List<Row> perKernel(OpenClBackend cl, XceptionGraph graph, int batch, int reps) {
        List<Row> out = new ArrayList<>();
        Random rnd = new Random(1);
        Map<String, double[]> byKind = new LinkedHashMap<>(); // kind -> {millis, flops, bytes}
        System.out.printf(Locale.ROOT, "%n%-22s %-28s %9s %9s %8s %9s%n", "layer (batch " + batch + ")", "shape", "ms", "GFLOP/s", "GB/s", "GF/cpu-s");
        double totalMs = 0, totalCpuMs = 0;
        for (Node node : graph.nodes()) {
            List<Buffer> owned = new ArrayList<>();
            try {
                double flops, bytes;
                String shape, kind;
                Runnable launch;
                if (node instanceof Node.Conv c) {
                    ConvSpec s = NodeSpecs.conv(graph, c, batch);
                    Buffer x = random(cl, s.inputElements(), rnd, owned), w1 = random(cl, s.w1Elements(), rnd, owned);
                    Buffer w2 = s.w2Elements() == 0 ? null : random(cl, s.w2Elements(), rnd, owned);
                    Buffer scale = random(cl, s.cout(), rnd, owned), shift = random(cl, s.cout(), rnd, owned);
                    Buffer res = c.residual() >= 0 ? random(cl, s.outputElements(), rnd, owned) : null;
                    Buffer y = alloc(cl, s.outputElements(), owned);
                    Epilogue e = new Epilogue(scale, shift, res, c.postRelu());
                    launch = () -> cl.conv(s, x, w1, w2, e, y);
                    flops = 2.0 * s.macs();
                    bytes = 4.0 * (s.inputElements() + s.w1Elements() + s.w2Elements() + s.outputElements() * (res == null ? 1 : 2));
                    shape = s.h() + "x" + s.w() + "x" + s.cin() + "->" + s.cout() + (s.stride() > 1 ? " s" + s.stride() : "");
                    kind = switch (s.kind()) {
                        case SEPARABLE3X3_SAME -> "sepconv_bn";
                        case CONV3X3_VALID -> "conv_bn_relu";
                        case CONV1X1_SAME -> "conv1x1s2_bn";
                    };
                } else if (node instanceof Node.MaxPoolAdd p) {
                    PoolSpec s = NodeSpecs.pool(graph, p, batch);
                    Buffer x = random(cl, s.inputElements(), rnd, owned), r = random(cl, s.outputElements(), rnd, owned);
                    Buffer y = alloc(cl, s.outputElements(), owned);
                    launch = () -> cl.maxPoolAdd(s, x, r, y);
                    flops = 9.0 * s.outputElements();
                    bytes = 4.0 * (s.inputElements() + 2 * s.outputElements());
                    shape = s.h() + "x" + s.w() + "x" + s.c();
                    kind = "maxpool_add";
                } else {
                    Node.Head h = (Node.Head) node;
                    HeadSpec s = NodeSpecs.head(graph, h, batch);
                    long xe = (long) batch * s.h() * s.w() * s.channels();
                    Buffer x = random(cl, xe, rnd, owned);
                    Buffer k = s.dense() ? random(cl, (long) s.channels() * s.classes(), rnd, owned) : null;
                    Buffer b = s.dense() ? random(cl, s.classes(), rnd, owned) : null;
                    Buffer y = alloc(cl, s.outputElements(), owned);
                    launch = () -> cl.head(s, x, k, b, y);
                    flops = xe + 2.0 * batch * s.channels() * s.classes();
                    bytes = 4.0 * (xe + (long) s.channels() * s.classes() + s.outputElements());
                    shape = s.h() + "x" + s.w() + "x" + s.channels() + "->" + s.classes();
                    kind = "gap_dense_softmax";
                }
                Timing t = time(cl, launch, reps);
                double ms = t.millis();
                totalMs += ms;
                totalCpuMs += t.cpuMillis();
                System.out.printf(Locale.ROOT, "%-22s %-28s %9.3f %9.1f %8.1f %9.1f%n", node.name(), shape, ms, flops / ms / 1e6, bytes / ms / 1e6,
                        flops / t.cpuMillis() / 1e6);
                out.add(new Row("kernel " + node.name() + " " + shape, batch, ms, flops / ms / 1e6, bytes / ms / 1e6, 0));
                double[] acc = byKind.computeIfAbsent(kind, x -> new double[4]);
                acc[0] += ms;
                acc[1] += flops;
                acc[2] += bytes;
                acc[3] += t.cpuMillis();
            } finally {
                for (Buffer b : owned) b.close();
            }
        }
        System.out.printf(Locale.ROOT, "%n%-22s %9s %6s %9s %8s %9s %7s%n", "kernel (sum of layers)", "ms", "share", "GFLOP/s", "GB/s", "GF/cpu-s", "cpu ms");
        for (Map.Entry<String, double[]> e : byKind.entrySet()) {
            double[] a = e.getValue();
            System.out.printf(Locale.ROOT, "%-22s %9.2f %5.1f%% %9.1f %8.1f %9.1f %7.1f%n", e.getKey(), a[0], 100 * a[0] / totalMs, a[1] / a[0] / 1e6,
                    a[2] / a[0] / 1e6, a[1] / a[3] / 1e6, a[3]);
            out.add(new Row("kind " + e.getKey(), batch, a[0], a[1] / a[0] / 1e6, a[2] / a[0] / 1e6, 0));
        }
        System.out.printf(Locale.ROOT, "%-22s %9.2f   -> %.2f img/s if launched back to back (%.1f cpu ms: %.2f img/s on 2 free cores)%n",
                "all layers", totalMs, batch * 1000 / totalMs, totalCpuMs, batch * 1000 / (totalCpuMs / 2));
        return out;
    }

    /** The whole forward through the executor: upload, all launches, download of the predictions. */
    static Row wholeForward(OpenClBackend cl, XceptionWeights weights, int batch, int reps) {
        try (ForwardSession session = new ForwardSession(cl, weights, batch)) {
            Shape in = session.inputShape(batch);
            float[] data = new float[in.size()];
            Random rnd = new Random(3);
            for (int i = 0; i < data.length; i++) data[i] = rnd.nextFloat() * 2 - 1;
            Tensor input = new Tensor(in, data);
            long t0 = System.nanoTime();
            session.run(input); // builds the programs
            System.out.printf(Locale.ROOT, "%nforward batch %d: first run (kernel builds) %.1f s%n", batch, (System.nanoTime() - t0) / 1e9);
            session.run(input);
            double[] ms = new double[reps];
            for (int r = 0; r < reps; r++) {
                long t = System.nanoTime();
                session.run(input);
                ms[r] = (System.nanoTime() - t) / 1e6;
            }
            Arrays.sort(ms);
            double median = ms[reps / 2];
            double flops = 0;
            for (Node node : weights.graph().nodes()) if (node instanceof Node.Conv c) flops += 2.0 * NodeSpecs.conv(weights.graph(), c, batch).macs();
            double ips = batch * 1000 / median;
            System.out.printf(Locale.ROOT, "forward batch %d: median %.1f ms (min %.1f, max %.1f) = %.2f img/s, %.1f GFLOP/s%n",
                    batch, median, ms[0], ms[reps - 1], ips, flops / median / 1e6);
            return new Row("forward " + weights.graph().config().inputHeight(), batch, median, flops / median / 1e6, 0, ips);
        }
    }

    /** One training step (forward in training mode, backward, SGD) through {@link TrainingSession}. */
    static Row trainingStep(OpenClBackend cl, XceptionWeights weights, int batch, int reps) {
        try (TrainingSession session = new TrainingSession(cl, weights, batch)) {
            XceptionGraph g = weights.graph();
            float[] data = new float[batch * g.input().h() * g.input().w() * 3];
            Random rnd = new Random(5);
            for (int i = 0; i < data.length; i++) data[i] = rnd.nextFloat() * 2 - 1;
            Tensor input = new Tensor(Shape.of(batch, g.input().h(), g.input().w(), 3), data);
            int[] labels = new int[batch];
            for (int i = 0; i < batch; i++) labels[i] = rnd.nextInt(g.config().classes());
            session.forwardBackward(input, labels); // builds the programs
            session.sgdStep(0.01f, 0.9f, 1e-4f);
            cl.synchronize();
            if (cl.launchProfile() != null) cl.launchProfile().report(); // drop the warm-up step (first launches include pocl's compiles)
            double[] ms = new double[reps];
            for (int r = 0; r < reps; r++) {
                long t = System.nanoTime();
                session.forwardBackward(input, labels);
                session.sgdStep(0.01f, 0.9f, 1e-4f);
                cl.synchronize();
                ms[r] = (System.nanoTime() - t) / 1e6;
            }
            Arrays.sort(ms);
            double median = ms[reps / 2];
            System.out.printf(Locale.ROOT, "%ntraining step batch %d: median %.0f ms = %.2f img/s%n", batch, median, batch * 1000 / median);
            return new Row("training step " + g.config().inputHeight(), batch, median, 0, 0, batch * 1000 / median);
        }
    }

    /** Elapsed and CPU (all threads) milliseconds of one launch: the medians of {@code reps}. */
    record Timing(double millis, double cpuMillis) {}

    static Timing time(OpenClBackend cl, Runnable launch, int reps) {
        launch.run(); // build + warm
        cl.synchronize();
        double[] ms = new double[reps], cpu = new double[reps];
        for (int r = 0; r < reps; r++) {
            long c = ProcessCpu.nanos();
            long t = System.nanoTime();
            launch.run();
            cl.synchronize();
            ms[r] = (System.nanoTime() - t) / 1e6;
            cpu[r] = (ProcessCpu.nanos() - c) / 1e6;
        }
        Arrays.sort(ms);
        Arrays.sort(cpu);
        return new Timing(ms[reps / 2], cpu[reps / 2]);
    }

    private static Buffer random(OpenClBackend cl, long n, Random rnd, List<Buffer> owned) {
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) v[i] = (float) rnd.nextGaussian() * 0.1f;
        Buffer b = alloc(cl, n, owned);
        cl.upload(v, b);
        return b;
    }

    private static Buffer alloc(OpenClBackend cl, long n, List<Buffer> owned) {
        Buffer b = cl.allocate(n);
        owned.add(b);
        return b;
    }

    static void writeCsv(Path file, List<Row> rows) throws IOException {
        if (file.getParent() != null) Files.createDirectories(file.getParent());
        boolean exists = Files.exists(file);
        try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(file, exists ? java.nio.file.StandardOpenOption.APPEND : java.nio.file.StandardOpenOption.CREATE))) {
            if (!exists) w.println("implementation,what,batch,millis,gflops,gbytes_per_s,images_per_s,load_1min");
            String load = Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
            for (Row r : rows) {
                w.printf(Locale.ROOT, "jxception-opencl-pocl,%s,%d,%.3f,%.1f,%.1f,%.2f,%s%n", r.what(), r.batch(), r.millis(), r.gflops(), r.gbytes(),
                        r.imagesPerSecond(), load);
            }
        }
        System.out.println("appended " + rows.size() + " rows to " + file);
    }
}
