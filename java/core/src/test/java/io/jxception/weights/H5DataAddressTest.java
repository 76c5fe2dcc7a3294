package io.jxception.weights;

import io.jhdf.HdfFile;
import io.jhdf.api.Dataset;
import io.jhdf.api.dataset.ContiguousDataset;
import io.jxception.model.XceptionConfig;
import io.jxception.model.XceptionGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * An HDF5 dataset whose data address (or size) points past the end of the file is refused as
 * corrupt when the file is opened, before jhdf reads (and allocates for) it: a crafted 700 KB file
 * must not cost gigabytes of heap nor end in "out of heap".
 */
class H5DataAddressTest {
    static final String NAME = "xception_tiny_top.h5";
    static final String WEIGHT = "block14_sepconv2/block14_sepconv2/pointwise_kernel:0";

    @TempDir Path dir;

    /** The fixture with the contiguous layout message of {@link #WEIGHT} patched: address and size replaced. */
    private Path patched(long newAddress, long newSize) throws IOException {
        Path src = Fixtures.h5(NAME);
        long address, size;
        try (HdfFile hdf = new HdfFile(src)) {
            Dataset ds = hdf.getDatasetByPath(WEIGHT);
            address = ((ContiguousDataset) ds).getDataAddress();
            size = ds.getSizeInBytes();
        }
        byte[] bytes = Files.readAllBytes(src);
        // HDF5 data layout message, contiguous class: address (8 bytes LE) then size (8 bytes LE)
        ByteBuffer want = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(address).putLong(size);
        int at = indexOf(bytes, want.array());
        assertTrue(at > 0, "layout message of " + WEIGHT + " not found");
        ByteBuffer.wrap(bytes, at, 16).order(ByteOrder.LITTLE_ENDIAN).putLong(newAddress).putLong(newSize);
        return Files.write(dir.resolve("patched.h5"), bytes);
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) if (haystack[i + j] != needle[j]) continue outer;
            return i;
        }
        return -1;
    }

    private static void assertCorrupt(Path file, String... fragments) {
        long before = usedHeap();
        WeightsFileException e = assertThrows(WeightsFileException.class, () -> {
            XceptionConfig config = WeightsFiles.inferConfig(file, 71, 71);
            WeightsFiles.load(file, XceptionGraph.build(config));
        });
        assertTrue(e.getMessage().contains("the file is corrupt"), e.getMessage());
        assertTrue(e.getMessage().contains(WEIGHT.substring(0, WEIGHT.indexOf('/'))), e.getMessage());
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "missing '" + f + "' in: " + e.getMessage());
        assertTrue(usedHeap() - before < 256L << 20, "refusing the file took " + ((usedHeap() - before) >> 20) + " MiB of heap");
    }

    private static long usedHeap() {
        Runtime r = Runtime.getRuntime();
        return r.totalMemory() - r.freeMemory();
    }

    @Test
    void dataAddressPastTheEndIsCorrupt() throws IOException {
        long fileBytes = Files.size(Fixtures.h5(NAME));
        long far = fileBytes + 1 + new Random().nextInt(1 << 30) + (5L << 30);
        Path p = patched(far, 49152);
        assertCorrupt(p, "past the end of the file", "at offset " + far);
    }

    @Test
    void dataRunningOverTheEndIsCorrupt() throws IOException {
        long fileBytes = Files.size(Fixtures.h5(NAME));
        Path p = patched(fileBytes - 100, 49152);
        assertCorrupt(p, "past the end of the file");
    }
}
