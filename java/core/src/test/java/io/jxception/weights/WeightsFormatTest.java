package io.jxception.weights;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** Formats by their first bytes, and clear words for files that are neither. */
class WeightsFormatTest {
    @TempDir Path tmp;

    @Test
    void tellsHdf5FromSafetensorsByContentNotName() throws IOException {
        assertEquals(WeightsFormat.KERAS_H5, WeightsFormat.detect(Fixtures.h5("xception_tiny_top.h5")));
        assertEquals(WeightsFormat.SAFETENSORS, WeightsFormat.detect(Fixtures.h5("xception_micro_timm.safetensors")));
        Path renamed = tmp.resolve("weights.bin");
        Files.copy(Fixtures.h5("xception_micro_top.h5"), renamed);
        assertEquals(WeightsFormat.KERAS_H5, WeightsFormat.detect(renamed));
    }

    @Test
    void hdf5AfterAUserBlockIsFound() throws IOException {
        byte[] h5 = Files.readAllBytes(Fixtures.h5("xception_micro_top.h5"));
        byte[] withBlock = new byte[512 + h5.length];
        System.arraycopy(h5, 0, withBlock, 512, h5.length);
        Path p = tmp.resolve("ub.h5");
        Files.write(p, withBlock);
        assertEquals(WeightsFormat.KERAS_H5, WeightsFormat.detect(p));
    }

    @Test
    void otherFilesAreNamedForWhatTheyAre() throws IOException {
        assertMessage(write("page.h5", "<!DOCTYPE html><html>Not Found</html>".getBytes()), "is neither HDF5 (Keras .h5) nor safetensors (first bytes: 3c 21 44 4f 43 54 59 50)");
        assertMessage(write("model.keras", new byte[]{'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0, 0, 0}), "is a zip archive");
        assertMessage(write("empty.h5", new byte[0]), "is empty");
        assertMessage(write("short.h5", new byte[]{1, 2, 3}), "is only 3 bytes, too short");
        assertMessage(tmp, "is a folder");
        assertMessage(tmp.resolve("absent.safetensors"), "no such file");
    }

    private Path write(String name, byte[] bytes) throws IOException {
        return Files.write(tmp.resolve(name), bytes);
    }

    private static void assertMessage(Path file, String part) {
        WeightsFileException e = assertThrows(WeightsFileException.class, () -> WeightsFormat.detect(file));
        assertTrue(e.getMessage().contains(part), e.getMessage());
        assertEquals(file, e.file());
    }
}
