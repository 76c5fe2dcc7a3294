package io.jxception.spark;

import io.jxception.backend.Precision;
import io.jxception.image.Interpolation;
import io.jxception.model.XceptionConfig;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Objects;

/**
 * Xception inference as a Spark {@code DataFrame} transformation: every row's image (a path, or the
 * encoded bytes of {@code spark.read.format("binaryFile")}'s {@code content} column) gets its top-k
 * ImageNet classes, or its pooled features, in a new column, beside an error column that is null
 * for a good row. The images are preprocessed exactly as {@code jxception classify} does (decoded,
 * resized to S×S with Pillow's filter, x / 127.5 − 1), so both give the same predictions.
 *
 * <pre>{@code
 * Dataset<Row> images = spark.read().format("binaryFile").load("/data/photos");
 * Dataset<Row> top5 = ImageInference.classify(WeightsLocation.path("/shared/xception_weights_tf_dim_ordering_tf_kernels.h5"))
 *         .withBatchSize(32)
 *         .transform(images);      // + predictions: array<struct<index, wnid, label, probability>>, error: string
 * }</pre>
 *
 * <p><b>How it runs.</b> The transformation is one {@code mapPartitions}: each task decodes its
 * rows in its own thread and groups the good ones into batches of {@link #withBatchSize batch size}
 * images, each of which is one forward pass; rows come out in the order they went in. The network
 * runs on the executor's session for the task's device: one {@code InferenceSession} per executor
 * JVM, device and model, created by the first task that needs it, reused by every later task and
 * job in that JVM, and closed when the JVM exits (a shutdown hook). The weights file is read once
 * per executor JVM. The device is the GPU Spark assigned to the task, if any
 * ({@code spark.executor.resource.gpu.amount} and {@code spark.task.resource.gpu.amount}: backend
 * {@code cuda:<address>}, when the configured backend is {@code auto} or a CUDA name), else the
 * configured {@link #withBackend backend}. Tasks of one executor share its device: one forward pass
 * at a time, while the others decode.
 *
 * <p><b>Failures.</b> A bad row (missing or unreadable file, empty file, content that is not an
 * image, a corrupt or truncated image, a null cell) gets a null result and a message in the error
 * column that names the row's path (or the row) and the problem; the job goes on. A device that
 * cannot be opened or fails (no driver, no such device, out of device memory) throws
 * {@link DeviceFailureException} from the task, and a missing or unusable weights file an
 * {@link IllegalStateException}, both naming the executor and partition: the task fails and Spark
 * retries it.
 *
 * <p><b>Output columns</b> (names configurable) follow the input's columns:
 * <ul>
 * <li>{@link #classify}: {@code predictions}, array of {@code struct<index: int, wnid: string,
 *     label: string, probability: float>}, the top k classes by probability, highest first (ties:
 *     the lower index first); {@code wnid} and {@code label} are the ImageNet WordNet id and label
 *     when the weights have 1000 classes, null otherwise.</li>
 * <li>{@link #features}: {@code features}, array of float, the global-average-pooled last feature
 *     map (2048·width values: Keras' {@code include_top=False, pooling='avg'}).</li>
 * <li>{@code error}: string, null when the row's result is there.</li>
 * </ul>
 *
 * <p>Immutable and thread-safe: every {@code with...} method returns a new instance, and one
 * instance may transform any number of datasets from any thread. Serializable: Spark ships it to the
 * executors inside the task.
 */
public final class ImageInference implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Default name of the column of top-k classes. */
    public static final String PREDICTIONS = "predictions";
    /** Default name of the column of pooled features. */
    public static final String FEATURES = "features";
    /** Default name of the error column. */
    public static final String ERROR = "error";
    /** Default input column: the encoded bytes of {@code binaryFile}. */
    public static final String CONTENT = "content";
    /** The column of {@code binaryFile} that names each row in error messages, where the input has it. */
    public static final String PATH = "path";

    /** The struct of one entry of the predictions column. */
    public static final StructType PREDICTION_TYPE = new StructType(new StructField[]{
            DataTypes.createStructField("index", DataTypes.IntegerType, false),
            DataTypes.createStructField("wnid", DataTypes.StringType, true),
            DataTypes.createStructField("label", DataTypes.StringType, true),
            DataTypes.createStructField("probability", DataTypes.FloatType, false)});

    final WeightsLocation weights;
    final boolean features;
    final String inputColumn;
    final int inputSize;
    final Interpolation interpolation;
    final int topK;
    final int batchSize;
    final String backend;
    final Precision precision;
    final String outputColumn;
    final String errorColumn;

    private ImageInference(WeightsLocation weights, boolean features, String inputColumn, int inputSize, Interpolation interpolation,
                           int topK, int batchSize, String backend, Precision precision, String outputColumn, String errorColumn) {
        this.weights = Objects.requireNonNull(weights, "weights");
        this.features = features;
        this.inputColumn = requireName(inputColumn, "input column");
        if (inputSize < XceptionConfig.MIN_INPUT) {
            throw new IllegalArgumentException("input size must be at least " + XceptionConfig.MIN_INPUT + " (Xception's minimum), got " + inputSize);
        }
        this.inputSize = inputSize;
        this.interpolation = Objects.requireNonNull(interpolation, "interpolation");
        if (topK < 1) throw new IllegalArgumentException("top k must be at least 1, got " + topK);
        this.topK = topK;
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        this.batchSize = batchSize;
        this.backend = DeviceChoice.checkName(Objects.requireNonNull(backend, "backend"));
        this.precision = Objects.requireNonNull(precision, "precision");
        this.outputColumn = requireName(outputColumn, "output column");
        this.errorColumn = requireName(errorColumn, "error column");
        if (outputColumn.equals(errorColumn)) throw new IllegalArgumentException("output and error columns are both named '" + outputColumn + "'");
    }

    private static String requireName(String name, String what) {
        Objects.requireNonNull(name, what);
        if (name.isBlank()) throw new IllegalArgumentException(what + " name is empty");
        return name;
    }

    /**
     * Top-k classes of every image with weights that have the classifier (the Keras file with the top,
     * or any Xception {@code save_weights} with it). Defaults: input column {@value #CONTENT}, 299×299,
     * nearest resize (as Keras' {@code load_img} and {@code jxception classify}), top 5, batches of 8,
     * backend {@code auto}, fp32, output column {@value #PREDICTIONS}, error column {@value #ERROR}.
     */
    public static ImageInference classify(WeightsLocation weights) {
        return new ImageInference(weights, false, CONTENT, 299, Interpolation.NEAREST, 5, 8, "auto", Precision.FP32, PREDICTIONS, ERROR);
    }

    /**
     * Pooled features (2048·width floats per image) with any Xception weights, with or without the
     * classifier (which is then not used). Defaults as {@link #classify}, output column {@value #FEATURES}.
     */
    public static ImageInference features(WeightsLocation weights) {
        return new ImageInference(weights, true, CONTENT, 299, Interpolation.NEAREST, 5, 8, "auto", Precision.FP32, FEATURES, ERROR);
    }

    /**
     * The column holding each image: a string column of paths (local paths or {@code file:} URIs,
     * readable on every executor) or a binary column of encoded images (JPEG, PNG; also GIF, BMP, TIFF).
     */
    public ImageInference withInputColumn(String column) {
        return new ImageInference(weights, features, column, inputSize, interpolation, topK, batchSize, backend, precision, outputColumn, errorColumn);
    }

    /** The network's input height and width S (at least 71; the weights do not fix it; 299 is Keras'). */
    public ImageInference withInputSize(int size) {
        return new ImageInference(weights, features, inputColumn, size, interpolation, topK, batchSize, backend, precision, outputColumn, errorColumn);
    }

    /** The resize filter from the decoded image to S×S (nearest, as Keras' {@code load_img} default, or bilinear). */
    public ImageInference withInterpolation(Interpolation resize) {
        return new ImageInference(weights, features, inputColumn, inputSize, resize, topK, batchSize, backend, precision, outputColumn, errorColumn);
    }

    /** Classes per image (at least 1; fewer come back where the weights have fewer classes). Ignored for features. */
    public ImageInference withTopK(int k) {
        return new ImageInference(weights, features, inputColumn, inputSize, interpolation, k, batchSize, backend, precision, outputColumn, errorColumn);
    }

    /** Images per forward pass (at least 1); the session on each device holds activations for this many. */
    public ImageInference withBatchSize(int images) {
        return new ImageInference(weights, features, inputColumn, inputSize, interpolation, topK, images, backend, precision, outputColumn, errorColumn);
    }

    /**
     * The backend where Spark assigned the task no GPU: {@code auto} (the fastest available: CUDA, an
     * OpenCL GPU, OpenCL on the CPU, then the Java reference), {@code cpu}, {@code opencl[:i]},
     * {@code cuda[:i]}, or {@code cuda:local}/{@code opencl:local} (the launcher's local rank).
     * With a Spark GPU, {@code auto} and the CUDA names become {@code cuda:<address>}.
     *
     * @throws IllegalArgumentException for another name
     */
    public ImageInference withBackend(String name) {
        return new ImageInference(weights, features, inputColumn, inputSize, interpolation, topK, batchSize, name, precision, outputColumn, errorColumn);
    }

    /** Storage precision on the device (fp32 everywhere; tf32, bf16, fp16 on CUDA). */
    public ImageInference withPrecision(Precision p) {
        return new ImageInference(weights, features, inputColumn, inputSize, interpolation, topK, batchSize, backend, p, outputColumn, errorColumn);
    }

    /** Name of the added result column (default {@value #PREDICTIONS} or {@value #FEATURES}). */
    public ImageInference withOutputColumn(String column) {
        return new ImageInference(weights, features, inputColumn, inputSize, interpolation, topK, batchSize, backend, precision, column, errorColumn);
    }

    /** Name of the added error column (default {@value #ERROR}). */
    public ImageInference withErrorColumn(String column) {
        return new ImageInference(weights, features, inputColumn, inputSize, interpolation, topK, batchSize, backend, precision, outputColumn, column);
    }

    /** Whether this transformation adds features (else top-k classes). */
    public boolean producesFeatures() { return features; }

    /**
     * The schema {@link #transform} produces from {@code input}: its columns, then the result column
     * and the error column (both nullable).
     *
     * @throws IllegalArgumentException if the input column is missing or neither string nor binary,
     *                                  or the input already has a column named like an added one
     */
    public StructType outputSchema(StructType input) {
        String[] names = input.fieldNames();
        int at = Arrays.asList(names).indexOf(inputColumn);
        if (at < 0) {
            throw new IllegalArgumentException("no input column '" + inputColumn + "' among " + Arrays.toString(names)
                    + ": name the column of image paths or bytes with withInputColumn");
        }
        DataType type = input.fields()[at].dataType();
        if (!(type instanceof StringType) && !(type instanceof BinaryType)) {
            throw new IllegalArgumentException("input column '" + inputColumn + "' has type " + type.simpleString()
                    + ": expected string (image paths) or binary (encoded images, as binaryFile's content)");
        }
        for (String added : new String[]{outputColumn, errorColumn}) {
            if (Arrays.asList(names).contains(added)) {
                throw new IllegalArgumentException("the input already has a column '" + added + "': choose another name with withOutputColumn / withErrorColumn");
            }
        }
        DataType result = features ? new ArrayType(DataTypes.FloatType, false) : new ArrayType(PREDICTION_TYPE, false);
        return input.add(outputColumn, result, true).add(errorColumn, DataTypes.StringType, true);
    }

    /**
     * The input rows with the result and error columns added ({@link #outputSchema}). Lazy, as every
     * Spark transformation: the work runs when an action (write, collect, count) needs the rows.
     *
     * @throws IllegalArgumentException as {@link #outputSchema}
     */
    public Dataset<Row> transform(Dataset<Row> images) {
        StructType in = images.schema();
        StructType out = outputSchema(in);
        return images.mapPartitions(new InferencePartition(this, in), Encoders.row(out));
    }

    /** The settings in words, for logs: "classify top 5 of content with /w.h5 at 299x299 (nearest), batches of 8 on auto fp32". */
    @Override
    public String toString() {
        return (features ? "features" : "classify top " + topK) + " of " + inputColumn + " with " + weights + " at " + inputSize + "x" + inputSize
                + " (" + interpolation.name().toLowerCase(java.util.Locale.ROOT) + "), batches of " + batchSize + " on " + backend
                + " " + precision.name().toLowerCase(java.util.Locale.ROOT);
    }
}
