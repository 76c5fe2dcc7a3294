package io.jxception.cli;

import io.jxception.backend.Backend;
import io.jxception.exec.InferenceSession;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.tensor.Tensor;
import io.jxception.weights.XceptionWeights;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * {@code jxception bench}: forward throughput of the full-width ImageNet Xception (1000 classes) at
 * the given input size, with random weights and random input, so it needs no downloads. Warm-up
 * runs are discarded; each timed run is one {@link InferenceSession#run} including the upload of
 * the input and the download of the probabilities; the median, min and max over runs are reported.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure forward throughput in images/s with random weights and input (no downloads needed).")
final class BenchCommand extends Subcommand {
    @Mixin BackendOptions backendOptions;

    @Option(names = "--batch", defaultValue = "1", paramLabel = "N", description = "Images per forward pass (default 1).")
    int batch;

    @Option(names = "--size", defaultValue = "299", paramLabel = "S", description = "Input height and width, at least 71 (default 299).")
    int size;

    @Option(names = "--warmup", paramLabel = "K", description = "Untimed runs first (default 1 on cpu, 5 elsewhere).")
    Integer warmup;

    @Option(names = "--runs", paramLabel = "R", description = "Timed runs (default 3 on cpu, 20 elsewhere).")
    Integer runs;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the random weights and input (default 1).")
    long seed;

    @Override
    int execute() {
        if (batch < 1) throw usage("--batch must be at least 1, got " + batch);
        if (size < XceptionConfig.MIN_INPUT) throw usage("--size must be at least " + XceptionConfig.MIN_INPUT + " (Xception's minimum input), got " + size);
        if (warmup != null && warmup < 0) throw usage("--warmup must be at least 0, got " + warmup);
        if (runs != null && runs < 1) throw usage("--runs must be at least 1, got " + runs);
        XceptionConfig config = XceptionConfig.imagenet().withInputSize(size, size);
        XceptionGraph graph = XceptionGraph.build(config);
        PrintWriter out = out();
        try (Backend backend = backendOptions.open()) {
            boolean cpu = backend.name().startsWith("cpu");
            int warmupRuns = warmup != null ? warmup : cpu ? 1 : 5;
            int timedRuns = runs != null ? runs : cpu ? 3 : 20;
            out.printf("backend  %s: %s%n", backend.name(), backend.description());
            out.printf(Locale.ROOT, "model    Xception %dx%dx3, %d classes, %,d parameters (random weights, seed %d)%n",
                    size, size, config.classes(), graph.parameterCount(), seed);
            out.printf("input    batch %d, uniform random in [-1, 1)%n", batch);
            out.flush();
            XceptionWeights weights = XceptionWeights.random(graph, seed);
            Tensor input = randomInput(batch, size, seed);
            try (InferenceSession session = new InferenceSession(backend, weights, batch)) {
                long warmStart = System.nanoTime();
                for (int i = 0; i < warmupRuns; i++) session.run(input);
                out.printf(Locale.ROOT, "warm-up  %d run%s, %.3f s%n", warmupRuns, warmupRuns == 1 ? "" : "s", (System.nanoTime() - warmStart) / 1e9);
                double[] seconds = new double[timedRuns];
                for (int i = 0; i < timedRuns; i++) {
                    long t0 = System.nanoTime();
                    session.run(input);
                    seconds[i] = (System.nanoTime() - t0) / 1e9;
                }
                out.println("runs     " + timedRuns + " x batch " + batch + ", seconds per run: " + formatAll(seconds));
                Arrays.sort(seconds);
                double median = median(seconds);
                out.printf(Locale.ROOT, "result   %s img/s median (min %s, max %s img/s), %.3f ms per batch%n",
                        rate(batch / median), rate(batch / seconds[seconds.length - 1]), rate(batch / seconds[0]), median * 1e3);
            }
        }
        return 0;
    }

    /** Uniform in [-1, 1): the range of preprocessed images, and never all zeros. */
    static Tensor randomInput(int n, int size, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed ^ 0x5DEECE66DL);
        Tensor t = Tensor.zeros(io.jxception.tensor.Shape.of(n, size, size, 3));
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) d[i] = (float) (rnd.nextDouble() * 2 - 1);
        return t;
    }

    private static double median(double[] sorted) {
        int m = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
    }

    /** At least three significant digits, never an exponent: 0.0812, 8.12, 8123.4. */
    static String rate(double imagesPerSecond) {
        if (imagesPerSecond >= 100) return String.format(Locale.ROOT, "%.1f", imagesPerSecond);
        return new java.math.BigDecimal(imagesPerSecond).round(new java.math.MathContext(3)).toPlainString();
    }

    private static String formatAll(double[] seconds) {
        StringBuilder sb = new StringBuilder();
        for (double s : seconds) sb.append(sb.length() == 0 ? "" : " ").append(String.format(Locale.ROOT, "%.4f", s));
        return sb.toString();
    }
}
