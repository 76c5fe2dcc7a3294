package io.jxception.internal.backend.cuda;

import io.jxception.internal.exec.ForwardSession;
import io.jxception.internal.backend.BatchNormSpec;
import io.jxception.internal.backend.Buffer;
import io.jxception.internal.backend.ConvSpec;
import io.jxception.internal.backend.Epilogue;
import io.jxception.internal.backend.HeadSpec;
import io.jxception.internal.backend.PoolSpec;
import io.jxception.backend.Precision;
import io.jxception.internal.exec.ActivationPlan;
import io.jxception.model.ConvKind;
import io.jxception.model.Node;
import io.jxception.model.Value;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Tensor;
import io.jxception.weights.XceptionWeights;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * End-to-end Xception throughput on one CUDA device (run on the GPU machine by
 * benchmarks/device/check.sh; not a test). For each precision and batch: the device forward
 * (weights and the fp32 input already on the device, the fp32 → activation conversion included) is
 * captured once as a CUDA graph and replayed; each replay is timed with CUDA events after warm-up and
 * the median is reported as images/s. Also: the eager (uncaptured) forward, ForwardSession.run end
 * to end (upload + forward + download), and per-node times with achieved GB/s and TFLOP/s.
 *
 * <pre>java -cp ... io.jxception.internal.backend.cuda.CudaXceptionBenchmark --csv out.csv [--precisions FP32,TF32,BF16]
 *      [--batches 1,32,256] [--reps 20] [--layers BF16:256] [--seconds 150]</pre>
 */
public final class CudaXceptionBenchmark {
    /** Device-resident network: folded weights per node and activation slots for one batch size. */
    static final class DeviceNet implements AutoCloseable {
        final CudaBackend b;
        final XceptionGraph g;
        final ActivationPlan plan;
        final int batch;
        final Buffer[] w1, w2, scale, shift, slots;
        Buffer headKernel, headBias;
        final List<Buffer> owned = new ArrayList<>();

        DeviceNet(CudaBackend b, XceptionWeights w, int batch) {
            this.b = b;
            this.g = w.graph();
            this.plan = ActivationPlan.of(g);
            this.batch = batch;
            int nn = g.nodes().size();
            w1 = new Buffer[nn];
            w2 = new Buffer[nn];
            scale = new Buffer[nn];
            shift = new Buffer[nn];
            for (int i = 0; i < nn; i++) {
                Node n = g.nodes().get(i);
                if (n instanceof Node.Conv c) {
                    boolean sep = c.kind() == ConvKind.SEPARABLE3X3_SAME;
                    w1[i] = up(w.get(c.name(), sep ? "depthwise_kernel" : "kernel").data());
                    if (sep) w2[i] = up(w.get(c.name(), "pointwise_kernel").data());
                    // inference BN folding, as the executor does: scale = g/sqrt(var+eps), shift = b - mean*scale
                    float[] gm = w.get(c.bnLayer(), "gamma").data(), bt = w.get(c.bnLayer(), "beta").data();
                    float[] mu = w.get(c.bnLayer(), "moving_mean").data(), var = w.get(c.bnLayer(), "moving_variance").data();
                    float[] sc = new float[gm.length], sh = new float[gm.length];
                    for (int k = 0; k < gm.length; k++) {
                        double s = gm[k] / Math.sqrt((double) var[k] + BatchNormSpec.KERAS_EPSILON);
                        sc[k] = (float) s;
                        sh[k] = (float) (bt[k] - mu[k] * s);
                    }
                    scale[i] = up(sc);
                    shift[i] = up(sh);
                } else if (n instanceof Node.Head h && h.dense()) {
                    headKernel = up(w.get(h.name(), "kernel").data());
                    headBias = up(w.get(h.name(), "bias").data());
                }
            }
            slots = new Buffer[plan.slots()];
            for (int s = 0; s < slots.length; s++) slots[s] = own(b.allocate(batch * plan.slotElementsPerImage(s)));
        }

        private Buffer own(Buffer x) { owned.add(x); return x; }

        private Buffer up(float[] v) { Buffer x = own(b.allocate(v.length)); b.upload(v, x); return x; }

        Buffer value(int id) { return slots[plan.slotOf(id)]; }

        void uploadInput(float[] images) { b.upload(images, 0, value(0), 0, images.length); }

        /** Enqueues node i of the forward pass. */
        void node(int i) {
            Node node = g.nodes().get(i);
            Value in = g.values().get(node.input());
            if (node instanceof Node.Conv c) {
                ConvSpec s = new ConvSpec(c.kind(), batch, in.h(), in.w(), c.cin(), c.cout(), c.stride(), c.preRelu());
                b.conv(s, value(c.input()), w1[i], w2[i], new Epilogue(scale[i], shift[i], c.residual() >= 0 ? value(c.residual()) : null, c.postRelu()), value(c.output()));
            } else if (node instanceof Node.MaxPoolAdd p) {
                b.maxPoolAdd(new PoolSpec(batch, in.h(), in.w(), in.c()), value(p.input()), value(p.residual()), value(p.output()));
            } else if (node instanceof Node.Head h) {
                b.head(new HeadSpec(batch, in.h(), in.w(), in.c(), h.pooling(), h.dense(), h.classes()), value(h.input()), headKernel, headBias, value(h.output()));
            }
        }

        void forward() { for (int i = 0; i < g.nodes().size(); i++) node(i); }

        float[] output() {
            float[] o = new float[(int) (batch * g.output().elementsPerImage())];
            b.download(value(g.output().id()), 0, o, 0, o.length);
            return o;
        }

        /** Bytes a node must move at least (inputs read once, output written once) and its FLOPs. */
        double[] bytesAndFlops(int i) {
            Node node = g.nodes().get(i);
            Value in = g.values().get(node.input()), out = g.values().get(node.output());
            double eb = CudaLaunchPlan.activationBytes(b.precision());
            double bytes = (in.elementsPerImage() + out.elementsPerImage()) * (double) batch * eb;
            double flops = 0;
            if (node instanceof Node.Conv c) {
                ConvSpec s = new ConvSpec(c.kind(), batch, in.h(), in.w(), c.cin(), c.cout(), c.stride(), c.preRelu());
                flops = 2.0 * s.macs();
                bytes += 4.0 * (s.w1Elements() + s.w2Elements());
                if (c.residual() >= 0) bytes += out.elementsPerImage() * (double) batch * eb;
                if (node.input() == 0 && eb == 2) bytes += in.elementsPerImage() * (double) batch * (4 + 2);  // fp32 input conversion
            } else if (node instanceof Node.MaxPoolAdd) {
                bytes += out.elementsPerImage() * (double) batch * eb;
            }
            return new double[]{bytes, flops};
        }

        @Override public void close() { for (int k = owned.size() - 1; k >= 0; k--) owned.get(k).close(); }
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    public static void main(String[] args) throws IOException {
        List<Precision> precisions = List.of(Precision.FP32, Precision.TF32, Precision.BF16);
        int[] batches = {1, 32, 256};
        int reps = 20;
        String layers = "BF16:256";
        double budgetSeconds = 150;
        Path csv = Path.of("cuda-bench.csv");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--csv" -> csv = Path.of(args[++i]);
                case "--precisions" -> precisions = Arrays.stream(args[++i].split(",")).map(Precision::parse).toList();
                case "--batches" -> batches = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--layers" -> layers = args[++i];
                case "--seconds" -> budgetSeconds = Double.parseDouble(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        long deadline = System.nanoTime() + (long) (budgetSeconds * 1e9);
        XceptionGraph g = XceptionGraph.build(XceptionConfig.imagenet());
        XceptionWeights w = XceptionWeights.random(g, 7);
        List<String> summary = new ArrayList<>();
        try (PrintWriter out = new PrintWriter(Files.newBufferedWriter(csv))) {
            out.println("kind,device,precision,batch,what,median_ms,images_per_s,gbytes_per_s,tflops,detail");
            for (Precision p : precisions) {
                try (CudaBackend b = (CudaBackend) new CudaBackendProvider().open(0, p, CudaTestDevice.optionsFromSystemProperties())) {
                    String dev = b.description().split(" \\(")[0].replace(',', ' ');
                    System.out.println("# " + b.description());
                    for (int batch : batches) {
                        if (System.nanoTime() > deadline) { System.out.println("# time budget spent: skipping " + p + " batch " + batch); continue; }
                        runOne(b, w, p, batch, reps, dev, out, summary, layers.equalsIgnoreCase(p + ":" + batch));
                        out.flush();
                    }
                    if (System.nanoTime() < deadline) endToEnd(b, w, p, Math.min(256, Arrays.stream(batches).max().orElse(32)), dev, out, summary);
                } catch (RuntimeException e) {
                    System.out.println("# " + p + " FAILED: " + e);
                    e.printStackTrace(System.out);
                    summary.add(String.format(Locale.ROOT, "%-5s %-28s FAILED %s", p, "", e.getMessage()));
                }
            }
        }
        System.out.println("jxception CUDA (" + csv + "):");
        summary.forEach(System.out::println);
    }

    private static void runOne(CudaBackend b, XceptionWeights w, Precision p, int batch, int reps, String dev, PrintWriter out,
                               List<String> summary, boolean perLayer) {
        try (DeviceNet net = new DeviceNet(b, w, batch)) {
            Random r = new Random(batch);
            float[] img = new float[(int) (batch * g0(net).elementsPerImage())];
            for (int i = 0; i < img.length; i++) img[i] = (float) (r.nextDouble() * 2 - 1);
            net.uploadInput(img);
            net.forward();                          // sizes scratch, loads kernels
            b.synchronize();
            float[] eager = net.output();
            // eager forward timing
            double[] eagerMs = new double[Math.max(3, reps / 4)];
            for (int i = 0; i < eagerMs.length; i++) {
                try (CudaBackend.Timer t = b.startTimer()) { net.forward(); eagerMs[i] = t.elapsedMillis(); }
            }
            // graph capture and replay
            b.beginCapture();
            net.forward();
            CudaGraph graph = b.endCapture();
            for (int i = 0; i < 3; i++) b.replay(graph);
            double[] ms = new double[reps];
            for (int i = 0; i < reps; i++) {
                try (CudaBackend.Timer t = b.startTimer()) { b.replay(graph); ms[i] = t.elapsedMillis(); }
            }
            float[] replayed = net.output();
            boolean same = Arrays.equals(eager, replayed);
            double med = median(ms), eagerMed = median(eagerMs);
            double gflop = 0;
            for (Node n : net.g.nodes()) if (n instanceof Node.Conv c) {
                Value in = net.g.values().get(c.input());
                gflop += 2.0 * new ConvSpec(c.kind(), batch, in.h(), in.w(), c.cin(), c.cout(), c.stride(), c.preRelu()).macs() / 1e9;
            }
            double ips = batch / (med / 1e3);
            out.printf(Locale.ROOT, "jxception-cuda,%s,%s,%d,forward_graph,%.4f,%.1f,,%.2f,%d launches; replay==eager:%s%n", dev, p, batch, med, ips,
                    gflop / med, graph.launches(), same);
            out.printf(Locale.ROOT, "jxception-cuda,%s,%s,%d,forward_eager,%.4f,%.1f,,%.2f,%n", dev, p, batch, eagerMed, batch / (eagerMed / 1e3), gflop / eagerMed);
            summary.add(String.format(Locale.ROOT, "%-5s batch %4d  graph %9.3f ms %9.0f img/s  eager %9.3f ms  %6.1f TFLOP/s%s", p, batch, med, ips, eagerMed,
                    gflop / med, same ? "" : "  (REPLAY DIFFERS FROM EAGER)"));
            System.out.println(summary.get(summary.size() - 1));
            graph.close();
            if (perLayer) {
                int nn = net.g.nodes().size();
                double[][] t = new double[nn][5];
                for (int rep = 0; rep < 5; rep++) {
                    for (int i = 0; i < nn; i++) {
                        try (CudaBackend.Timer tm = b.startTimer()) { net.node(i); t[i][rep] = tm.elapsedMillis(); }
                    }
                }
                for (int i = 0; i < nn; i++) {
                    double m = median(t[i]);
                    double[] bf = net.bytesAndFlops(i);
                    out.printf(Locale.ROOT, "jxception-cuda-layer,%s,%s,%d,%s,%.4f,,%.1f,%.2f,%n", dev, p, batch, net.g.nodes().get(i).name(), m,
                            bf[0] / m / 1e6, bf[1] / m / 1e9);
                    System.out.printf(Locale.ROOT, "  %-22s %8.3f ms %8.1f GB/s %7.1f TFLOP/s%n", net.g.nodes().get(i).name(), m, bf[0] / m / 1e6, bf[1] / m / 1e9);
                }
            }
        }
    }

    private static Value g0(DeviceNet net) { return net.g.input(); }

    private static void endToEnd(CudaBackend b, XceptionWeights w, Precision p, int batch, String dev, PrintWriter out, List<String> summary) {
        try (ForwardSession s = new ForwardSession(b, w, batch)) {
            Random r = new Random(3);
            float[] img = new float[s.inputShape(batch).size()];
            for (int i = 0; i < img.length; i++) img[i] = (float) (r.nextDouble() * 2 - 1);
            Tensor x = new Tensor(s.inputShape(batch), img);
            s.run(x);
            double[] ms = new double[5];
            for (int i = 0; i < ms.length; i++) {
                long t0 = System.nanoTime();
                s.run(x);
                ms[i] = (System.nanoTime() - t0) / 1e6;
            }
            double med = median(ms);
            out.printf(Locale.ROOT, "jxception-cuda,%s,%s,%d,session_run_e2e,%.4f,%.1f,,,upload+forward+download wall clock%n", dev, p, batch, med, batch / (med / 1e3));
            summary.add(String.format(Locale.ROOT, "%-5s batch %4d  ForwardSession.run end to end %9.3f ms %9.0f img/s", p, batch, med, batch / (med / 1e3)));
            System.out.println(summary.get(summary.size() - 1));

            // the same batches streamed through runAll: the copy of batch i+1 overlaps forward i
            int batches = 8;
            List<Tensor> stream = new java.util.ArrayList<>();
            for (int i = 0; i < batches; i++) stream.add(x);
            s.runAll(stream.subList(0, 2).iterator(), (i, y) -> { });   // records input buffer 1's forward too
            double[] pms = new double[3];
            for (int rep = 0; rep < pms.length; rep++) {
                long t0 = System.nanoTime();
                s.runAll(stream.iterator(), (i, y) -> { });
                pms[rep] = (System.nanoTime() - t0) / 1e6 / batches;
            }
            double pmed = median(pms);
            out.printf(Locale.ROOT, "jxception-cuda,%s,%s,%d,session_runAll_e2e,%.4f,%.1f,,,%d batches pipelined (H2D copy of i+1 beside forward i) wall clock per batch%n",
                    dev, p, batch, pmed, batch / (pmed / 1e3), batches);
            summary.add(String.format(Locale.ROOT, "%-5s batch %4d  ForwardSession.runAll pipelined %9.3f ms %9.0f img/s (%.2fx run)", p, batch, pmed,
                    batch / (pmed / 1e3), med / pmed));
            System.out.println(summary.get(summary.size() - 1));
        }
    }
}
