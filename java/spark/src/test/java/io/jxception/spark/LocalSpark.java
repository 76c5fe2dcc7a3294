package io.jxception.spark;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.nio.file.Path;
import java.util.List;

/**
 * One Spark session in local mode with two task threads ({@code local[2]}) for every test class of
 * this module (starting Spark takes seconds), on loopback, without the web UI. Stopped when the
 * test JVM exits.
 */
final class LocalSpark {
    private static SparkSession session;

    private LocalSpark() {}

    static synchronized SparkSession session() {
        if (session == null) {
            session = SparkSession.builder()
                    .appName("jxception-spark tests")
                    .master("local[2]")
                    .config("spark.ui.enabled", "false")
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.sql.shuffle.partitions", "2")
                    .getOrCreate();
            SparkSession s = session;
            Runtime.getRuntime().addShutdownHook(new Thread(s::stop, "stop test spark"));
        }
        return session;
    }

    /** {@code binaryFile} rows (path, modificationTime, length, content) of every file under {@code dir}. */
    static Dataset<Row> binaryFiles(Path dir) {
        return session().read().format("binaryFile").option("recursiveFileLookup", "true").load(dir.toString());
    }

    /** One string column "path" holding {@code paths}, in {@code partitions} partitions. */
    static Dataset<Row> paths(List<String> paths, int partitions) {
        return session().createDataset(paths, Encoders.STRING()).toDF(ImageInference.PATH).repartition(partitions);
    }
}
