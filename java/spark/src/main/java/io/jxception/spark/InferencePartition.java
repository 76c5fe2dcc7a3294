package io.jxception.spark;

import io.jxception.image.ImageNetLabels;
import io.jxception.image.KerasPreprocessing;
import io.jxception.image.TopK;
import io.jxception.tensor.Tensor;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructType;
import scala.jdk.javaapi.CollectionConverters;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * The task side of {@link ImageInference#transform}: one partition's rows in, the same rows with the
 * result and error columns out, in order. Rows are read lazily, {@code batchSize} good images at a
 * time (decoded in the task's thread), so a partition of any size needs memory for one batch only.
 */
final class InferencePartition implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;

    private final ImageInference settings;
    private final int inputIndex;   // position of the image column in the input rows
    private final boolean bytes;    // binary column (encoded images), else string column (paths)
    private final int nameIndex;    // a string "path" column that names rows in messages, or -1

    InferencePartition(ImageInference settings, StructType input) {
        this.settings = settings;
        this.inputIndex = input.fieldIndex(settings.inputColumn);
        this.bytes = input.fields()[inputIndex].dataType() instanceof BinaryType;
        int path = Arrays.asList(input.fieldNames()).indexOf(ImageInference.PATH);
        this.nameIndex = path >= 0 && input.fields()[path].dataType() instanceof StringType ? path : -1;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        TaskContext task = TaskContext.get();
        String backend = DeviceChoice.backendFor(settings.backend, DeviceChoice.taskGpuAddresses(task));
        return new Batches(rows, new ExecutorSessions.DeviceKey(backend, settings.precision),
                new ExecutorSessions.ModelKey(settings.weights, settings.inputSize, settings.features, settings.batchSize), where(task));
    }

    /** "executor 1, stage 3 partition 7 (attempt 0)" for messages. */
    private static String where(TaskContext task) {
        SparkEnv env = SparkEnv.get();
        String executor = env != null ? "executor " + env.executorId() : "this JVM";
        return task == null ? executor : executor + ", stage " + task.stageId() + " partition " + task.partitionId() + " (attempt " + task.attemptNumber() + ")";
    }

    /** The output rows, produced one batch at a time. */
    private final class Batches implements Iterator<Row> {
        private final Iterator<Row> in;
        private final ExecutorSessions.DeviceKey device;
        private final ExecutorSessions.ModelKey model;
        private final String where;
        private final ImageDecoder decoder = new ImageDecoder(settings.inputSize, settings.interpolation);
        private final ArrayDeque<Row> ready = new ArrayDeque<>();
        private long rowNumber; // rows read from this partition so far

        Batches(Iterator<Row> in, ExecutorSessions.DeviceKey device, ExecutorSessions.ModelKey model, String where) {
            this.in = in;
            this.device = device;
            this.model = model;
            this.where = where;
        }

        @Override
        public boolean hasNext() {
            while (ready.isEmpty() && in.hasNext()) nextBatch();
            return !ready.isEmpty();
        }

        @Override
        public Row next() {
            if (!hasNext()) throw new NoSuchElementException();
            return ready.poll();
        }

        /** Reads rows until {@code batchSize} of them decoded (or the partition ends), runs them, queues every row read. */
        private void nextBatch() {
            List<Row> rows = new ArrayList<>();
            List<ImageDecoder.Decoded> decoded = new ArrayList<>();
            int good = 0;
            while (good < settings.batchSize && in.hasNext()) {
                Row row = in.next();
                ImageDecoder.Decoded d = decode(row, rowNumber++);
                rows.add(row);
                decoded.add(d);
                if (d.image() != null) good++;
            }
            Tensor output = good == 0 ? null : ExecutorSessions.run(device, model, stack(decoded), where);
            int j = 0;
            for (int i = 0; i < rows.size(); i++) {
                ImageDecoder.Decoded d = decoded.get(i);
                Object result = d.image() == null ? null : result(output, j++);
                ready.add(withResult(rows.get(i), result, d.error()));
            }
        }

        private ImageDecoder.Decoded decode(Row row, long number) {
            Object cell = row.get(inputIndex);
            String name = nameIndex >= 0 && row.get(nameIndex) != null ? row.getString(nameIndex)
                    : !bytes && cell != null ? (String) cell
                    : "row " + number + " of " + where;
            if (cell == null) return ImageDecoder.Decoded.failed(name + ": no image (column '" + settings.inputColumn + "' is null)");
            return bytes ? decoder.fromBytes((byte[]) cell, name) : decoder.fromPath((String) cell);
        }
    }

    /** The good rows' inputs (1, S, S, 3) each → one batch (n, S, S, 3), in row order. */
    private static Tensor stack(List<ImageDecoder.Decoded> decoded) {
        List<Tensor> good = new ArrayList<>();
        for (ImageDecoder.Decoded d : decoded) {
            if (d.image() != null) good.add(d.image());
        }
        return KerasPreprocessing.stack(good);
    }

    /** Row {@code i} of the output (n, classes) or (n, C): the top-k structs, or the features, as the Scala sequence a Row holds for an array. */
    private Object result(Tensor output, int i) {
        int width = output.shape().dim(1);
        float[] data = output.data();
        if (settings.features) {
            List<Float> values = new ArrayList<>(width);
            for (int c = 0; c < width; c++) values.add(data[i * width + c]);
            return CollectionConverters.asScala(values).toSeq();
        }
        ImageNetLabels labels = width == ImageNetLabels.CLASSES ? Labels.IMAGENET : null;
        List<Row> top = new ArrayList<>(settings.topK);
        for (TopK.Entry e : TopK.of(data, i * width, width, settings.topK)) {
            ImageNetLabels.ImageNetClass c = labels == null ? null : labels.get(e.index());
            top.add(RowFactory.create(e.index(), c == null ? null : c.wnid(), c == null ? null : c.label(), e.value()));
        }
        return CollectionConverters.asScala(top).toSeq();
    }

    private static Row withResult(Row row, Object result, String error) {
        int n = row.length();
        Object[] values = new Object[n + 2];
        for (int i = 0; i < n; i++) values[i] = row.get(i);
        values[n] = result;
        values[n + 1] = error;
        return RowFactory.create(values);
    }

    /** The ImageNet class index, read once per JVM from the library's jar when first needed. */
    private static final class Labels {
        static final ImageNetLabels IMAGENET = load();

        private static ImageNetLabels load() {
            try {
                return ImageNetLabels.load();
            } catch (IOException e) {
                throw new UncheckedIOException("jxception-spark: cannot read the ImageNet labels from jxception-core's jar: " + e.getMessage(), e);
            }
        }
    }
}
