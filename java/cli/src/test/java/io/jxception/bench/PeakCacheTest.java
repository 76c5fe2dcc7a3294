package io.jxception.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class PeakCacheTest {
    @Test
    void peaksAreKeptPerDeviceDescriptionAcrossLoads(@TempDir Path dir) {
        Path file = dir.resolve("sub/peaks.json");
        PeakCache c = PeakCache.load(file, w -> fail(w));
        assertTrue(c.get("opencl:0 pocl cpu fp32").isEmpty());
        c.put(new Peaks("opencl:0 pocl cpu fp32", 180e9, 12.5e9, "gemm", "copy", "2026-11-02T10:00:00Z"));
        c.put(new Peaks("cpu reference fp32", 3e9, 5e9, "gemm", "copy", "2026-11-02T10:01:00Z"));
        PeakCache again = PeakCache.load(file, w -> fail(w));
        Peaks p = again.get("opencl:0 pocl cpu fp32").orElseThrow();
        assertEquals(180e9, p.flopsPerSecond(), 1e-3);
        assertEquals(12.5e9, p.bytesPerSecond(), 1e-3);
        assertEquals("2026-11-02T10:00:00Z", p.measuredAt());
        assertTrue(again.get("cpu reference fp32").isPresent());
    }

    @Test
    void memorySizesInTheDescriptionDoNotSplitADevice(@TempDir Path dir) {
        // pocl reports free memory as the device's global memory: it changes between runs
        String before = "pthread-skylake-avx512-AMD EPYC (CPU, 2 compute units, 5.0 GiB, OpenCL 3.0 PoCL), fp32";
        String after = "pthread-skylake-avx512-AMD EPYC (CPU, 2 compute units, 6.6 GiB, OpenCL 3.0 PoCL), fp32";
        assertEquals("pthread-skylake-avx512-AMD EPYC (CPU, 2 compute units, OpenCL 3.0 PoCL), fp32", PeakCache.key(before));
        Path file = dir.resolve("peaks.json");
        PeakCache.load(file, w -> fail(w)).put(new Peaks(before, 78e9, 40e9, "gemm", "copy", "t"));
        Peaks p = PeakCache.load(file, w -> fail(w)).get(after).orElseThrow();
        assertEquals(before, p.device(), "the entry keeps the description it was measured with");
        assertTrue(PeakCache.load(file, w -> fail(w)).get("pthread-skylake-avx512-AMD EPYC (CPU, 4 compute units, OpenCL 3.0 PoCL), fp32").isEmpty());
    }

    @Test
    void aCorruptFileIsReportedAndIgnored(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("peaks.json");
        Files.writeString(file, "{\"x\": {\"gflops\": \"many\"}}");
        List<String> warnings = new ArrayList<>();
        PeakCache c = PeakCache.load(file, warnings::add);
        assertEquals(1, warnings.size());
        assertTrue(warnings.get(0).contains("measured again"), warnings.get(0));
        assertTrue(c.get("x").isEmpty());
    }
}
