package io.jxception.throughput;

import io.jxception.backend.Precision;
import io.jxception.cli.Main;
import io.jxception.cli.stream.ImageBatches;
import io.jxception.cli.stream.ImageList;
import io.jxception.cli.stream.InputBatch;
import io.jxception.image.Interpolation;
import io.jxception.image.KerasPreprocessing;
import io.jxception.internal.backend.KernelBackend;
import io.jxception.internal.exec.ForwardSession;
import io.jxception.internal.tensor.AtomicFiles;
import io.jxception.internal.tensor.NpyDtype;
import io.jxception.internal.tensor.NpyWriter;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Shape;
import io.jxception.tensor.Tensor;
import io.jxception.tensor.Uint8Tensor;
import io.jxception.weights.WeightsFiles;
import io.jxception.weights.XceptionWeights;
import picocli.CommandLine;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Files to answers, end to end, beside the device-only forward (issue 16's GPU "done means"):
 * <ol>
 * <li><b>device</b>: the forward alone, input already on the device: {@code --reps} forwards of
 *     {@code --batch} images (replayed graphs on CUDA), synchronized wall clock, median → img/s.</li>
 * <li><b>npy uint8</b> / <b>npy float32</b>: {@code jxception infer --input x.npy} (the real CLI, in
 *     this JVM) over {@code --images} random images, the file already in the page cache (a first
 *     run reads it and warms up): the img/s the CLI reports (its loop: read, copy, forward, write).</li>
 * <li><b>jpeg</b> (with {@code --jpegs M}): M synthetic 500x375 JPEGs; per T of {@code --decode-threads},
 *     decoding alone (decode + resize to S×S, batches handed out, no device) and
 *     {@code jxception infer --images DIR --decode-threads T}: where decoding saturates.</li>
 * </ol>
 * Prints one table; ratios are end-to-end / device.
 * <pre>
 * benchmarks/throughput/run.sh EndToEndBenchmark --backend cuda:0 --precision bf16 --batch 256 --images 12288 --jpegs 1024 --decode-threads 1,2,4,8,16
 * benchmarks/throughput/run.sh EndToEndBenchmark --backend opencl:0 --size 299 --batch 8 --images 64 --jpegs 64 --decode-threads 1,2
 * </pre>
 * Options: --backend B (opencl:0), --precision P (fp32), --size S (299), --width W (1.0), --batch N (8),
 * --images N (64), --reps K (10), --jpegs M (0: skip), --decode-threads 1,2,4, --dir D (temporary), --seed.
 */
public final class EndToEndBenchmark {
    private static final Pattern RATE = Pattern.compile("\\(([0-9.]+) img/s\\)");

    private EndToEndBenchmark() {}

    public static void main(String[] args) throws Exception {
        String backend = "opencl:0";
        Precision precision = Precision.FP32;
        int size = 299, batch = 8, images = 64, reps = 10, jpegs = 0;
        double width = 1.0;
        int[] threads = {1, 2, 4};
        Path dir = null;
        long seed = 1;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--backend" -> backend = args[++i];
                case "--precision" -> precision = Precision.parse(args[++i]);
                case "--size" -> size = Integer.parseInt(args[++i]);
                case "--width" -> width = Double.parseDouble(args[++i]);
                case "--batch" -> batch = Integer.parseInt(args[++i]);
                case "--images" -> images = Integer.parseInt(args[++i]);
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--jpegs" -> jpegs = Integer.parseInt(args[++i]);
                case "--decode-threads" -> threads = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
                case "--dir" -> dir = Path.of(args[++i]);
                case "--seed" -> seed = Long.parseLong(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        boolean temporary = dir == null;
        if (temporary) dir = Files.createTempDirectory("jxception-e2e");
        Files.createDirectories(dir);
        Random rnd = new Random(seed);
        try {
            XceptionConfig config = XceptionConfig.imagenet().withInputSize(size, size);
            config = new XceptionConfig(size, size, 1000, true, config.pooling(), width, 8);
            XceptionWeights weights = XceptionWeights.random(XceptionGraph.build(config), rnd.nextLong());
            Path w = dir.resolve("weights.safetensors");
            WeightsFiles.save(w, weights);
            System.out.printf(Locale.ROOT, "end to end: %s %s, Xception %dx%d width %.3g, batch %d, %d images; %s, %d processors, %s%n",
                    backend, precision.name().toLowerCase(Locale.ROOT), size, size, width, batch, images, java.time.LocalDate.now(),
                    Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"));
            System.out.printf(Locale.ROOT, "%-34s %12s %10s%n", "what", "img/s", "/ device");

            double device = deviceOnly(backend, precision, weights, size, batch, reps, rnd);
            row("device forward (input on device)", device, device);

            Path u8 = dir.resolve("x_u8.npy"), f32 = dir.resolve("x_f32.npy"), y = dir.resolve("y.npy");
            writeInputs(u8, f32, images, size, rnd);
            String[] common = {"--backend", backend, "--precision", precision.name().toLowerCase(Locale.ROOT), "--weights", w.toString(),
                    "--batch", String.valueOf(batch), "--output", y.toString()};
            cli(concat(new String[]{"infer", "--input", u8.toString()}, common));   // page cache, JIT, kernels
            row("infer .npy uint8", cli(concat(new String[]{"infer", "--input", u8.toString()}, common)), device);
            Files.delete(u8);
            cli(concat(new String[]{"infer", "--input", f32.toString()}, common));
            row("infer .npy float32", cli(concat(new String[]{"infer", "--input", f32.toString()}, common)), device);
            Files.delete(f32);

            if (jpegs > 0) {
                Path folder = Files.createDirectories(dir.resolve("jpegs"));
                writeJpegs(folder, jpegs, rnd);
                List<ImageList.Entry> entries = ImageList.expand(List.of(folder));
                decodeOnly(entries, size, batch, threads[0]);   // JIT and file cache
                for (int t : threads) {
                    row("decode only, " + t + " threads", decodeOnly(entries, size, batch, t), device);
                    row("infer --images, " + t + " decode threads", cli(concat(new String[]{"infer", "--images", folder.toString(), "--size", String.valueOf(size),
                            "--decode-threads", String.valueOf(t)}, common)), device);
                }
            }
        } finally {
            if (temporary) deleteTree(dir);
        }
    }

    private static void row(String what, double imagesPerSecond, double device) {
        System.out.printf(Locale.ROOT, "%-34s %12.2f %9.1f%%%n", what, imagesPerSecond, 100 * imagesPerSecond / device);
        System.out.flush();
    }

    /** Median img/s of {@code reps} forwards of one batch already on the device (after 3 warm-ups: eager, record, replay). */
    static double deviceOnly(String backend, Precision precision, XceptionWeights weights, int size, int batch, int reps, Random rnd) {
        try (KernelBackend b = KernelBackend.open(backend, precision); ForwardSession s = new ForwardSession(b, weights, batch)) {
            s.uploadUint8(randomPixels(rnd, batch, size));
            double[] seconds = new double[reps];
            for (int i = -3; i < reps; i++) {
                long t0 = System.nanoTime();
                s.enqueueForward(batch, null);
                b.synchronize();
                if (i >= 0) seconds[i] = (System.nanoTime() - t0) / 1e9;
            }
            Arrays.sort(seconds);
            return batch / seconds[reps / 2];
        }
    }

    /** Runs the CLI in this JVM and returns the img/s it reports. */
    static double cli(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cmd = Main.commandLine();
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        int code = cmd.execute(args);
        if (code != 0) throw new IllegalStateException("jxception " + String.join(" ", args) + " exited " + code + ":\n" + err);
        Matcher m = RATE.matcher(out.toString());
        if (!m.find()) throw new IllegalStateException("no img/s in: " + out);
        return Double.parseDouble(m.group(1));
    }

    /** Decodes every image into batches on {@code threads} threads, nothing else; img/s. */
    static double decodeOnly(List<ImageList.Entry> entries, int size, int batch, int threads) throws IOException {
        long t0 = System.nanoTime();
        long n = 0;
        try (ImageBatches source = new ImageBatches(entries, size, Interpolation.NEAREST, batch, threads, false)) {
            for (InputBatch b = source.next(); b != null; b = source.next()) n += b.size();
        }
        return n / ((System.nanoTime() - t0) / 1e9);
    }

    /**
     * {@code images} random images as a uint8 .npy and, preprocessed, as a float32 .npy, written 256
     * images at a time (files of any size, whatever the heap).
     */
    static void writeInputs(Path u8, Path f32, int images, int size, Random rnd) throws IOException {
        Shape row = Shape.of(size, size, 3);
        AtomicFiles.write(u8, bytes -> AtomicFiles.write(f32, floats -> {
            NpyWriter wu = new NpyWriter(bytes, NpyDtype.U8, row, images), wf = new NpyWriter(floats, NpyDtype.F32, row, images);
            for (int from = 0; from < images; from += 256) {
                int n = Math.min(256, images - from);
                Uint8Tensor p = randomPixels(rnd, n, size);
                wu.writeRows(from, p.data(), 0, n);
                wf.writeRows(from, preprocess(p).data(), 0, n);
            }
            wu.finish();
            wf.finish();
        }));
    }

    static Uint8Tensor randomPixels(Random rnd, int n, int size) {
        byte[] b = new byte[n * size * size * 3];
        rnd.nextBytes(b);
        return new Uint8Tensor(Shape.of(n, size, size, 3), b);
    }

    static Tensor preprocess(Uint8Tensor p) {
        float[] x = new float[p.size()];
        for (int i = 0; i < x.length; i++) x[i] = KerasPreprocessing.tf(p.get(i));
        return new Tensor(p.shape(), x);
    }

    /** 500x375 JPEGs (ImageNet's typical size) of smooth gradients with noise: photo-like entropy, quality 0.9. */
    static void writeJpegs(Path folder, int count, Random rnd) throws IOException {
        var writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        var params = writer.getDefaultWriteParam();
        params.setCompressionMode(javax.imageio.ImageWriteParam.MODE_EXPLICIT);
        params.setCompressionQuality(0.9f);
        for (int k = 0; k < count; k++) {
            BufferedImage im = new BufferedImage(500, 375, BufferedImage.TYPE_INT_RGB);
            int a = rnd.nextInt(256), b = rnd.nextInt(256), c = rnd.nextInt(256);
            for (int y = 0; y < 375; y++) {
                for (int x = 0; x < 500; x++) {
                    int r = (a + x / 2 + rnd.nextInt(16)) & 0xff, g = (b + y / 2 + rnd.nextInt(16)) & 0xff, bl = (c + (x + y) / 4 + rnd.nextInt(16)) & 0xff;
                    im.setRGB(x, y, r << 16 | g << 8 | bl);
                }
            }
            try (var out = ImageIO.createImageOutputStream(folder.resolve(String.format("%06d.jpg", k)).toFile())) {
                writer.setOutput(out);
                writer.write(null, new javax.imageio.IIOImage(im, null, null), params);
            }
        }
        writer.dispose();
    }

    private static String[] concat(String[] a, String[] b) {
        List<String> all = new ArrayList<>(Arrays.asList(a));
        all.addAll(Arrays.asList(b));
        return all.toArray(String[]::new);
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
