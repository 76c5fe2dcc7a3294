package io.jxception.spark;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WeightsLocationTest {
    @Test
    void aRelativePathIsMadeAbsoluteOnTheDriver() {
        WeightsLocation w = WeightsLocation.path("weights/fixtures/h5/xception_tiny_top.h5");

        assertEquals(Path.of("weights/fixtures/h5/xception_tiny_top.h5").toAbsolutePath().normalize(), w.resolve());
    }

    @Test
    void aFileUriIsALocalPath(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("w.h5"), "x");

        assertEquals(file, WeightsLocation.path(file.toUri().toString()).resolve());
        assertEquals(WeightsLocation.path(file), WeightsLocation.path(file.toUri().toString()));
    }

    @Test
    void otherFileSystemsAreRefusedWithAdvice() {
        String m = assertThrows(IllegalArgumentException.class, () -> WeightsLocation.path("hdfs://nn/models/x.h5")).getMessage();

        assertTrue(m.contains("not a local file") && m.contains("--files"), m);
    }

    @Test
    void aMissingFileIsReportedWithWhereItWasLookedFor(@TempDir Path dir) {
        Path missing = dir.resolve("missing.h5");

        String m = assertThrows(IllegalStateException.class, () -> WeightsLocation.path(missing).resolve()).getMessage();

        assertTrue(m.startsWith("weights file " + missing + " not found: "), m);
    }

    @Test
    void sparkFilesNamesArePlainFileNames() {
        assertEquals("SparkFiles:x.h5", WeightsLocation.sparkFiles("x.h5").toString());
        assertThrows(IllegalArgumentException.class, () -> WeightsLocation.sparkFiles("models/x.h5"));
    }
}
