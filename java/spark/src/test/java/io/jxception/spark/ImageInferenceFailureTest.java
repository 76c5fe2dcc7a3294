package io.jxception.spark;

import org.apache.spark.SparkException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What fails a task or refuses a transformation, and what the messages say. */
class ImageInferenceFailureTest {
    private static Dataset<Row> twoImages(Path dir) throws IOException {
        return LocalSpark.paths(TestImages.good(dir).subList(0, 2).stream().map(Path::toString).toList(), 1);
    }

    @Test
    void aDeviceThatCannotBeOpenedFailsTheTaskNamingTheBackendAndTheTask(@TempDir Path dir) throws IOException {
        ImageInference onMissingDevice = ImageInferenceTest.tinyClassifier().withBackend("opencl:99").withInputColumn(ImageInference.PATH);

        SparkException e = assertThrows(SparkException.class, () -> onMissingDevice.transform(twoImages(dir)).collectAsList());

        String m = e.getMessage();
        assertTrue(m.contains(DeviceFailureException.class.getName()), m);
        assertTrue(m.contains("cannot open backend 'opencl:99'"), m);
        assertTrue(m.contains("partition 0"), "names the task: " + m);
        assertTrue(m.contains("Spark runs it again"), m);
    }

    @Test
    void aMissingWeightsFileFailsTheTaskNamingTheFile(@TempDir Path dir) throws IOException {
        Path missing = dir.resolve("no-such-weights.h5");
        ImageInference inference = ImageInference.classify(WeightsLocation.path(missing)).withInputSize(71).withBackend("cpu")
                .withInputColumn(ImageInference.PATH);

        SparkException e = assertThrows(SparkException.class, () -> inference.transform(twoImages(dir)).collectAsList());

        assertTrue(e.getMessage().contains("weights file " + missing + " not found"), e.getMessage());
    }

    @Test
    void classifyingWithWeightsWithoutTheClassifierFailsAndPointsToFeatures(@TempDir Path dir) throws IOException {
        ImageInference inference = ImageInference.classify(WeightsLocation.path(ImageInferenceTest.TINY_NOTOP)).withInputSize(71).withBackend("cpu")
                .withInputColumn(ImageInference.PATH);

        SparkException e = assertThrows(SparkException.class, () -> inference.transform(twoImages(dir)).collectAsList());

        assertTrue(e.getMessage().contains("has no classifier"), e.getMessage());
        assertTrue(e.getMessage().contains("ImageInference.features"), e.getMessage());
    }

    @Test
    void theOutputSchemaAddsTheResultAndErrorColumnsAfterTheInputs() {
        StructType in = new StructType().add("path", DataTypes.StringType).add("content", DataTypes.BinaryType);

        StructType classified = ImageInferenceTest.tinyClassifier().outputSchema(in);
        StructType features = ImageInference.features(WeightsLocation.path("w.h5")).withOutputColumn("embedding").outputSchema(in);

        assertEquals(List.of("path", "content", "predictions", "error"), List.of(classified.fieldNames()));
        assertEquals("array<struct<index:int,wnid:string,label:string,probability:float>>", classified.apply("predictions").dataType().simpleString());
        assertEquals(List.of("path", "content", "embedding", "error"), List.of(features.fieldNames()));
        assertEquals("array<float>", features.apply("embedding").dataType().simpleString());
    }

    @Test
    void transformRefusesAMissingOrMistypedInputColumnAndATakenOutputName() {
        ImageInference inference = ImageInferenceTest.tinyClassifier();
        StructType noContent = new StructType().add("path", DataTypes.StringType);
        StructType numbers = new StructType().add("content", DataTypes.IntegerType);
        StructType taken = new StructType().add("content", DataTypes.BinaryType).add("error", DataTypes.StringType);

        assertTrue(assertThrows(IllegalArgumentException.class, () -> inference.outputSchema(noContent)).getMessage()
                .startsWith("no input column 'content' among [path]"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> inference.outputSchema(numbers)).getMessage()
                .contains("has type int: expected string (image paths) or binary"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> inference.outputSchema(taken)).getMessage()
                .startsWith("the input already has a column 'error'"));
    }

    @Test
    void settingsAreCheckedWhenTheyAreMade() {
        ImageInference inference = ImageInferenceTest.tinyClassifier();

        assertEquals("unknown backend 'tpu': expected auto, cpu, opencl[:i], cuda[:i] (i = a device index or local)",
                assertThrows(IllegalArgumentException.class, () -> inference.withBackend("tpu")).getMessage());
        assertEquals("input size must be at least 71 (Xception's minimum), got 64",
                assertThrows(IllegalArgumentException.class, () -> inference.withInputSize(64)).getMessage());
        assertEquals("batch size must be at least 1, got 0", assertThrows(IllegalArgumentException.class, () -> inference.withBatchSize(0)).getMessage());
        assertEquals("top k must be at least 1, got 0", assertThrows(IllegalArgumentException.class, () -> inference.withTopK(0)).getMessage());
        assertEquals("output and error columns are both named 'error'",
                assertThrows(IllegalArgumentException.class, () -> inference.withOutputColumn("error")).getMessage());
    }
}
