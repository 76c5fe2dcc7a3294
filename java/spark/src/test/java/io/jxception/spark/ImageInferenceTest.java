package io.jxception.spark;

import io.jxception.backend.Backend;
import io.jxception.backend.BackendUnavailableException;
import io.jxception.backend.Backends;
import io.jxception.backend.Precision;
import io.jxception.image.ImageNetLabels;
import io.jxception.image.Interpolation;
import io.jxception.image.TopK;
import io.jxception.model.Pooling;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import io.jxception.weights.WeightsFiles;
import io.jxception.weights.XceptionWeights;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The transformation in Spark local mode (two task threads) against {@code jxception classify}'s
 * computation on the same files ({@link ClassifyReference}): the tiny Keras fixture network (width
 * 1/16, 10 classes) at 71×71 on the Java reference backend, whose results do not depend on which
 * images share a batch, so the probabilities must be equal to the last bit.
 */
class ImageInferenceTest {
    static final Path TINY_TOP = Path.of("weights/fixtures/h5/xception_tiny_top.h5");
    static final Path TINY_NOTOP = Path.of("weights/fixtures/h5/xception_tiny_notop.h5");
    static final Path MNIST_VAL = Path.of("weights/fixtures/mnist/val");
    static final int SIZE = 71;

    static ImageInference tinyClassifier() {
        return ImageInference.classify(WeightsLocation.path(TINY_TOP)).withInputSize(SIZE).withBackend("cpu").withTopK(3);
    }

    @Test
    void mnistValidationFolderGivesClassifysTopClassesForEveryImage() throws IOException {
        List<Row> rows = tinyClassifier().withBatchSize(8).transform(LocalSpark.binaryFiles(MNIST_VAL)).collectAsList();

        List<Path> files;
        try (Stream<Path> walk = Files.walk(MNIST_VAL)) {
            files = walk.filter(Files::isRegularFile).map(Path::toAbsolutePath).sorted().toList();
        }
        assertEquals(200, files.size(), "the MNIST validation fixture has 20 digits of each class");
        assertEquals(files.size(), rows.size());
        Map<Path, float[]> expected = ClassifyReference.outputs(TINY_TOP, files, SIZE, Interpolation.NEAREST, "cpu", false);
        for (Row row : rows) {
            Path file = Path.of(URI.create(row.getAs(ImageInference.PATH)));
            assertPredictionsEqual(expected.get(file), 3, row, file.toString());
        }
    }

    @Test
    void generatedJpegAndPngFilesGiveClassifysResultsFromPathsAndFromBytes(@TempDir Path dir) throws IOException {
        List<Path> files = TestImages.good(dir);
        Map<Path, float[]> expected = ClassifyReference.outputs(TINY_TOP, files, SIZE, Interpolation.BILINEAR, "cpu", false);
        ImageInference inference = tinyClassifier().withInterpolation(Interpolation.BILINEAR).withTopK(5).withBatchSize(3);

        List<String> paths = files.stream().map(Path::toString).toList();
        List<Row> fromPaths = inference.withInputColumn(ImageInference.PATH).transform(LocalSpark.paths(paths, 3)).collectAsList();
        List<Row> fromBytes = inference.transform(LocalSpark.binaryFiles(dir).repartition(2)).collectAsList();

        assertEquals(files.size(), fromPaths.size());
        assertEquals(files.size(), fromBytes.size());
        for (Row row : fromPaths) {
            Path file = Path.of(row.<String>getAs(ImageInference.PATH));
            assertPredictionsEqual(expected.get(file), 5, row, "path " + file);
        }
        for (Row row : fromBytes) {
            Path file = Path.of(URI.create(row.getAs(ImageInference.PATH)));
            assertPredictionsEqual(expected.get(file), 5, row, "bytes of " + file);
        }
    }

    @Test
    void badRowsGetAnErrorAndNoResultWhileTheJobSucceedsAndGoodRowsAreClassified(@TempDir Path dir) throws IOException {
        List<Path> all = TestImages.good(dir);
        List<Path> good = all.subList(0, 3);
        for (Path unused : all.subList(3, all.size())) Files.delete(unused);
        Map<String, String> bad = new HashMap<>(); // file name -> what its error must say
        bad.put(TestImages.truncatedPng(dir).getFileName().toString(), "image file is truncated");
        bad.put(TestImages.truncatedJpeg(dir).getFileName().toString(), "cannot decode JPEG image");
        bad.put(TestImages.garbage(dir).getFileName().toString(), "not an image");
        bad.put(TestImages.text(dir).getFileName().toString(), "not an image");
        Map<Path, float[]> expected = ClassifyReference.outputs(TINY_TOP, good, SIZE, Interpolation.NEAREST, "cpu", false);

        // as bytes (binaryFile lists no empty files): every file of the folder, in one partition so that bad rows sit between good ones in a batch
        List<Row> rows = tinyClassifier().withBatchSize(2).transform(LocalSpark.binaryFiles(dir).coalesce(1)).collectAsList();
        assertEquals(good.size() + bad.size(), rows.size(), rows.toString());
        int errors = 0;
        for (Row row : rows) {
            Path file = Path.of(URI.create(row.getAs(ImageInference.PATH)));
            String name = file.getFileName().toString();
            String error = row.getAs(ImageInference.ERROR);
            if (bad.containsKey(name)) {
                errors++;
                assertNull(row.getAs(ImageInference.PREDICTIONS), name);
                assertNotNull(error, name + " must have an error");
                assertTrue(error.startsWith(row.<String>getAs(ImageInference.PATH) + ": "), "error names the row's path: " + error);
                assertTrue(error.contains(bad.get(name)), name + ": '" + error + "' should say '" + bad.get(name) + "'");
            } else {
                assertPredictionsEqual(expected.get(file), 3, row, name);
            }
        }
        assertEquals(bad.size(), errors);

        // as paths: a missing file, an empty file and a null cell too
        List<String> paths = new ArrayList<>();
        for (Path p : good) paths.add(p.toString());
        paths.add(dir.resolve("missing.jpg").toString());
        paths.add(TestImages.empty(Files.createDirectory(dir.resolve("more"))).toString());
        paths.add(dir.resolve("truncated.png").toString());
        paths.add(null);
        List<Row> pathRows = tinyClassifier().withInputColumn(ImageInference.PATH).transform(LocalSpark.paths(paths, 2)).collectAsList();
        assertEquals(paths.size(), pathRows.size());
        Map<String, String> errorOf = new HashMap<>();
        for (Row row : pathRows) errorOf.put(row.getAs(ImageInference.PATH), row.getAs(ImageInference.ERROR));
        assertEquals(dir.resolve("missing.jpg") + ": no such image file", errorOf.get(dir.resolve("missing.jpg").toString()));
        assertTrue(errorOf.get(dir.resolve("truncated.png").toString()).contains("image file is truncated"), errorOf.toString());
        assertTrue(errorOf.get(null).contains("column 'path' is null"), errorOf.toString());
        String empty = dir.resolve("more/empty.png").toString();
        assertEquals(empty + ": empty file (0 bytes), too small to be an image", errorOf.get(empty));
        for (Path p : good) assertNull(errorOf.get(p.toString()), p + " is a good image");
    }

    @Test
    void oneSessionPerExecutorIsCreatedByTheFirstTaskAndReusedByLaterTasksAndJobs(@TempDir Path dir) throws IOException {
        List<String> paths = TestImages.good(dir).stream().map(Path::toString).toList();
        ImageInference inference = tinyClassifier().withInputColumn(ImageInference.PATH).withBatchSize(2).withInputSize(SIZE + 1); // a model no other test uses
        ExecutorSessions.Stats before = ExecutorSessions.stats();

        for (int job = 0; job < 2; job++) {
            List<Row> rows = inference.transform(LocalSpark.paths(paths, 4)).collectAsList(); // 4 tasks on 2 threads
            assertEquals(paths.size(), rows.stream().filter(r -> r.getAs(ImageInference.ERROR) == null).count());
        }

        ExecutorSessions.Stats after = ExecutorSessions.stats();
        assertEquals(1, after.sessionsCreated() - before.sessionsCreated(), "8 tasks in one JVM share one session");
        assertEquals(1, after.weightsRead() - before.weightsRead(), "the weights file is read once");
        assertTrue(after.backendsOpened() - before.backendsOpened() <= 1, "the cpu device is opened at most once (earlier tests may have opened it)");
    }

    @Test
    void afterTheExecutorsDevicesAreClosedTheNextTaskOpensThemAndReadsTheWeightsAgain(@TempDir Path dir) throws IOException {
        List<String> paths = TestImages.good(dir).subList(0, 2).stream().map(Path::toString).toList();
        ImageInference inference = tinyClassifier().withInputColumn(ImageInference.PATH).withInputSize(SIZE + 2); // a model no other test uses
        inference.transform(LocalSpark.paths(paths, 1)).collectAsList();
        ExecutorSessions.Stats before = ExecutorSessions.stats();

        ExecutorSessions.closeAll(); // what a device failure does to its device, and the shutdown hook to all
        List<Row> rows = inference.transform(LocalSpark.paths(paths, 1)).collectAsList();

        ExecutorSessions.Stats after = ExecutorSessions.stats();
        assertEquals(2, rows.stream().filter(r -> r.getAs(ImageInference.ERROR) == null).count());
        assertEquals(1, after.backendsOpened() - before.backendsOpened(), "the cpu backend is opened anew");
        assertEquals(1, after.sessionsCreated() - before.sessionsCreated());
        assertEquals(1, after.weightsRead() - before.weightsRead());
    }

    @Test
    void imageNetClassesComeWithTheirWordNetIdsAndLabels(@TempDir Path dir) throws IOException {
        // a small random network with 1000 classes, saved as jxception's safetensors
        XceptionConfig config = new XceptionConfig(SIZE, SIZE, ImageNetLabels.CLASSES, true, Pooling.NONE, 1.0 / 64, 1);
        Path weightsFile = dir.resolve("micro-imagenet.safetensors");
        WeightsFiles.save(weightsFile, XceptionWeights.random(XceptionGraph.build(config), 17));
        Path images = Files.createDirectory(dir.resolve("images"));
        List<Path> files = TestImages.good(images).subList(0, 4);
        Map<Path, float[]> expected = ClassifyReference.outputs(weightsFile, files, SIZE, Interpolation.NEAREST, "cpu", false);

        List<Row> rows = ImageInference.classify(WeightsLocation.path(weightsFile)).withInputSize(SIZE).withBackend("cpu")
                .withInputColumn(ImageInference.PATH).transform(LocalSpark.paths(files.stream().map(Path::toString).toList(), 2)).collectAsList();

        ImageNetLabels labels = ImageNetLabels.load();
        assertEquals(files.size(), rows.size());
        for (Row row : rows) {
            Path file = Path.of(row.<String>getAs(ImageInference.PATH));
            assertPredictionsEqual(expected.get(file), 5, row, file.toString());
            for (Row p : row.<Row>getList(row.fieldIndex(ImageInference.PREDICTIONS))) {
                ImageNetLabels.ImageNetClass c = labels.get(p.getInt(0));
                assertEquals(c.wnid(), p.getString(1));
                assertEquals(c.label(), p.getString(2));
            }
        }
    }

    @Test
    void featuresAreThePooledOutputOfTheNetworkWithoutItsTop(@TempDir Path dir) throws IOException {
        List<Path> files = TestImages.good(dir);
        Map<Path, float[]> expected = ClassifyReference.outputs(TINY_NOTOP, files, SIZE, Interpolation.NEAREST, "cpu", true);

        List<Row> rows = ImageInference.features(WeightsLocation.path(TINY_NOTOP)).withInputSize(SIZE).withBackend("cpu").withBatchSize(4)
                .transform(LocalSpark.binaryFiles(dir)).collectAsList();

        assertEquals(files.size(), rows.size());
        for (Row row : rows) {
            Path file = Path.of(URI.create(row.getAs(ImageInference.PATH)));
            assertNull(row.getAs(ImageInference.ERROR), file.toString());
            List<Float> features = row.getList(row.fieldIndex(ImageInference.FEATURES));
            float[] want = expected.get(file);
            assertEquals(2048 / 16, want.length, "2048·width features");
            assertEquals(want.length, features.size());
            for (int c = 0; c < want.length; c++) assertEquals(want[c], features.get(c), 0f, file + " feature " + c);
        }
    }

    @Test
    void weightsShippedWithSparkFilesAreFoundOnTheExecutor(@TempDir Path dir) throws IOException {
        Path copy = Files.copy(TINY_TOP, dir.resolve("shipped-tiny.h5"));
        LocalSpark.session().sparkContext().addFile(copy.toString());
        List<Path> files = TestImages.good(Files.createDirectory(dir.resolve("images"))).subList(0, 2);
        Map<Path, float[]> expected = ClassifyReference.outputs(TINY_TOP, files, SIZE, Interpolation.NEAREST, "cpu", false);

        List<Row> rows = ImageInference.classify(WeightsLocation.sparkFiles("shipped-tiny.h5")).withInputSize(SIZE).withBackend("cpu")
                .withInputColumn(ImageInference.PATH).transform(LocalSpark.paths(files.stream().map(Path::toString).toList(), 2)).collectAsList();

        for (Row row : rows) {
            Path file = Path.of(row.<String>getAs(ImageInference.PATH));
            assertPredictionsEqual(expected.get(file), 5, row, file.toString());
        }
    }

    @Test
    void openclGivesTheSameClassesAsClassifyOnOpencl(@TempDir Path dir) throws IOException {
        try (Backend probe = Backends.open("opencl", Precision.FP32)) {
            assertNotNull(probe.name());
        } catch (BackendUnavailableException e) {
            Assumptions.abort("no OpenCL device here: " + e.getMessage());
        }
        List<Path> files = TestImages.good(dir);
        Map<Path, float[]> expected = ClassifyReference.outputs(TINY_TOP, files, SIZE, Interpolation.NEAREST, "opencl", false);

        List<Row> rows = tinyClassifier().withBackend("opencl").withTopK(10).withBatchSize(3).transform(LocalSpark.binaryFiles(dir)).collectAsList();

        assertEquals(files.size(), rows.size());
        for (Row row : rows) {
            Path file = Path.of(URI.create(row.getAs(ImageInference.PATH)));
            assertNull(row.getAs(ImageInference.ERROR), file.toString());
            float[] want = expected.get(file);
            List<Row> got = row.getList(row.fieldIndex(ImageInference.PREDICTIONS));
            assertEquals(10, got.size(), "all 10 classes");
            // another batch composition may round differently on OpenCL: every class's probability within 1e-5
            for (Row p : got) assertEquals(want[p.getInt(0)], p.getFloat(3), 1e-5f, file + " class " + p.getInt(0));
            assertEquals(TopK.of(want, 1).get(0).index(), got.get(0).getInt(0), file + " top class");
        }
    }

    /** The row's predictions are classify's top k of {@code probabilities}: same classes in the same order, equal probabilities. */
    static void assertPredictionsEqual(float[] probabilities, int k, Row row, String what) {
        assertNotNull(probabilities, "no reference for " + what);
        assertNull(row.getAs(ImageInference.ERROR), what);
        List<Row> got = row.getList(row.fieldIndex(ImageInference.PREDICTIONS));
        List<TopK.Entry> want = ClassifyReference.top(probabilities, k);
        assertEquals(want.size(), got.size(), what);
        for (int i = 0; i < want.size(); i++) {
            assertEquals(want.get(i).index(), got.get(i).getInt(0), what + " rank " + i);
            assertEquals(want.get(i).value(), got.get(i).getFloat(3), 0f, what + " rank " + i);
        }
    }
}
