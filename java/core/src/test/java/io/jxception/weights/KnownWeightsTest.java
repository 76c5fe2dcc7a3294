package io.jxception.weights;

import io.jxception.internal.weights.KnownWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

/** The manifest of keras.applications' Xception files, packed as a resource. */
class KnownWeightsTest {
    @TempDir Path tmp;

    @Test
    void manifestListsKerasFilesWithTheirHashes() {
        List<KnownWeights.Entry> all = KnownWeights.all();
        assertEquals(2, all.size());
        KnownWeights.Entry top = all.get(0);
        assertEquals("xception_weights_tf_dim_ordering_tf_kernels.h5", top.name());
        assertEquals("0a58e3b7378bc2990ea3b43d5981f1f6", top.md5());
        assertEquals(91_884_032L, top.bytes());
        assertTrue(top.includeTop());
        assertTrue(top.url().endsWith("/" + top.name()));
        KnownWeights.Entry notop = all.get(1);
        assertEquals("b0042744bf5b25fce3cb969f33bebb97", notop.md5());
        assertEquals(83_683_744L, notop.bytes());
        assertFalse(notop.includeTop());
    }

    @Test
    void md5IsKerasFileHash() throws IOException {
        Path f = tmp.resolve("abc");
        Files.writeString(f, "abc");
        assertEquals("900150983cd24fb0d6963f7d28e17f72", KnownWeights.md5(f));
    }

    @Test
    void fixturesAreNotKnownFiles() throws IOException {
        assertEquals(Optional.empty(), KnownWeights.identify(Fixtures.h5("xception_tiny_top.h5")));
    }
}
