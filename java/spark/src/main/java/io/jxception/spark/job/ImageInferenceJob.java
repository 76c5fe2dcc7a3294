package io.jxception.spark.job;

import io.jxception.backend.Precision;
import io.jxception.image.Interpolation;
import io.jxception.spark.ImageInference;
import io.jxception.spark.WeightsLocation;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;

import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * The ready-made Spark application around {@link ImageInference}: classifies (or embeds) every
 * image file under a folder and reports the throughput. Run it with {@code spark-submit}:
 *
 * <pre>
 * spark-submit --master spark://host:7077 --class io.jxception.spark.job.ImageInferenceJob \
 *     --jars $(echo java/spark/target/lib/*.jar | tr ' ' ,) java/spark/target/jxception-spark-0.1.0-SNAPSHOT.jar \
 *     --weights /shared/xception_weights_tf_dim_ordering_tf_kernels.h5 --images /shared/photos --backend opencl --batch 16
 * </pre>
 *
 * Options: {@code --weights FILE} (required; {@code --ship-weights} sends it to the executors with
 * {@code SparkContext.addFile} instead of reading it from the same path there), {@code --images DIR}
 * (required; every file below it, read with Spark's {@code binaryFile} source), {@code --input
 * content|path} (classify the bytes Spark read, default, or let each task read the file by its
 * path), {@code --size S} (299), {@code --interpolation nearest|bilinear}, {@code --top K} (5),
 * {@code --features}, {@code --batch N} (8), {@code --backend B} (auto), {@code --precision P}
 * (fp32), {@code --partitions N} (Spark's default parallelism), {@code --runs R} (1: the first run
 * includes each executor opening its device and reading the weights; later runs reuse them),
 * {@code --output DIR} (write the results as Parquet; otherwise they are collected to the driver)
 * and {@code --print} (print every image's classes as {@code jxception classify} does, sorted by path).
 *
 * <p>Prints one line per run to standard output: images, errors, seconds and images per second.
 * An application, not library code: it prints, and exits with status 2 on a wrong command line.
 * Thread-safety: {@link #main} runs its jobs one after the other and shares nothing.
 */
public final class ImageInferenceJob {
    private ImageInferenceJob() {}

    /** The parsed command line. */
    private record Options(String weights, boolean shipWeights, String images, String input, int size, Interpolation interpolation, int top,
                           boolean features, int batch, String backend, Precision precision, int partitions, int runs, String output, boolean print) {}

    /** Runs the job; see the class comment for the options. */
    public static void main(String[] args) {
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("ImageInferenceJob: error: " + e.getMessage());
            System.exit(2);
            return;
        }
        SparkSession spark = SparkSession.builder().appName("jxception ImageInferenceJob").getOrCreate();
        try {
            run(spark, o, System.out);
        } finally {
            spark.stop();
        }
    }

    private static void run(SparkSession spark, Options o, PrintStream out) {
        WeightsLocation weights;
        if (o.shipWeights()) {
            spark.sparkContext().addFile(Path.of(o.weights()).toAbsolutePath().toString());
            weights = WeightsLocation.sparkFiles(Path.of(o.weights()).getFileName().toString());
        } else {
            weights = WeightsLocation.path(o.weights());
        }
        ImageInference inference = (o.features() ? ImageInference.features(weights) : ImageInference.classify(weights))
                .withInputSize(o.size()).withInterpolation(o.interpolation()).withTopK(o.top()).withBatchSize(o.batch())
                .withBackend(o.backend()).withPrecision(o.precision());
        int partitions = o.partitions() > 0 ? o.partitions() : spark.sparkContext().defaultParallelism();
        String result = o.features() ? ImageInference.FEATURES : ImageInference.PREDICTIONS;

        for (int run = 1; run <= o.runs(); run++) {
            long start = System.nanoTime();
            Dataset<Row> files = spark.read().format("binaryFile").option("recursiveFileLookup", "true").load(o.images());
            Dataset<Row> images = o.input().equals("path") ? files.select(ImageInference.PATH) : files.select(ImageInference.PATH, ImageInference.CONTENT);
            Dataset<Row> results = inference.withInputColumn(o.input().equals("path") ? ImageInference.PATH : ImageInference.CONTENT)
                    .transform(images.repartition(partitions))
                    .select(ImageInference.PATH, result, ImageInference.ERROR);
            List<Row> rows;
            long count, errors;
            if (o.output() != null) {
                results.write().mode(SaveMode.Overwrite).parquet(o.output());
                Dataset<Row> written = spark.read().parquet(o.output());
                count = written.count();
                errors = written.where(written.col(ImageInference.ERROR).isNotNull()).count();
                rows = List.of();
            } else {
                rows = results.collectAsList();
                count = rows.size();
                errors = rows.stream().filter(r -> r.get(2) != null).count();
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            out.printf(Locale.ROOT, "run %d: %d images, %d errors, %.2f s, %.1f img/s (%s; %d partitions; master %s)%n",
                    run, count, errors, seconds, count / seconds, inference, partitions, spark.sparkContext().master());
            if (o.print() && run == o.runs()) print(rows, o.features(), out);
        }
    }

    /** Every row as {@code jxception classify} prints it (path, then "  p  class"), sorted by path; errors as "  error: ...". */
    private static void print(List<Row> rows, boolean features, PrintStream out) {
        List<Row> sorted = new ArrayList<>(rows);
        sorted.sort(Comparator.comparing((Row r) -> r.getString(0)));
        for (Row r : sorted) {
            String path = r.getString(0);
            out.println(path.startsWith("file:") ? Path.of(URI.create(path)).toString() : path);
            if (r.get(2) != null) {
                out.println("  error: " + r.getString(2));
            } else if (features) {
                out.println("  " + r.getList(1).size() + " features");
            } else {
                for (Row p : r.<Row>getList(1)) {
                    String name = p.isNullAt(1) ? "class " + p.getInt(0) : p.getString(1) + "  " + p.getString(2);
                    out.printf(Locale.ROOT, "  %.4f  %s%n", p.getFloat(3), name);
                }
            }
        }
    }

    private static Options parse(String[] args) {
        String weights = null, images = null, input = "content", backend = "auto", output = null;
        boolean ship = false, features = false, print = false;
        int size = 299, top = 5, batch = 8, partitions = 0, runs = 1;
        Interpolation interpolation = Interpolation.NEAREST;
        Precision precision = Precision.FP32;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--weights" -> weights = value(args, ++i, a);
                case "--ship-weights" -> ship = true;
                case "--images" -> images = value(args, ++i, a);
                case "--input" -> {
                    input = value(args, ++i, a);
                    if (!input.equals("content") && !input.equals("path")) throw new IllegalArgumentException("--input must be content or path, got " + input);
                }
                case "--size" -> size = number(args, ++i, a);
                case "--interpolation" -> interpolation = Interpolation.parse(value(args, ++i, a));
                case "--top" -> top = number(args, ++i, a);
                case "--features" -> features = true;
                case "--batch" -> batch = number(args, ++i, a);
                case "--backend" -> backend = value(args, ++i, a);
                case "--precision" -> precision = Precision.parse(value(args, ++i, a));
                case "--partitions" -> partitions = number(args, ++i, a);
                case "--runs" -> runs = number(args, ++i, a);
                case "--output" -> output = value(args, ++i, a);
                case "--print" -> print = true;
                default -> throw new IllegalArgumentException("unknown option " + a + " (see the javadoc of io.jxception.spark.job.ImageInferenceJob)");
            }
        }
        if (weights == null) throw new IllegalArgumentException("--weights FILE is required");
        if (images == null) throw new IllegalArgumentException("--images DIR is required");
        if (runs < 1) throw new IllegalArgumentException("--runs must be at least 1, got " + runs);
        return new Options(weights, ship, images, input, size, interpolation, top, features, batch, backend, precision, partitions, runs, output, print);
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) throw new IllegalArgumentException(option + " needs a value");
        return args[i];
    }

    private static int number(String[] args, int i, String option) {
        String v = value(args, i, option);
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " needs a whole number, got " + v);
        }
    }
}
