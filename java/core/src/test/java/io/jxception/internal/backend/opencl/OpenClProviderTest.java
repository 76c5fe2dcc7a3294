package io.jxception.internal.backend.opencl;

import io.jxception.internal.backend.KernelBackend;
import io.jxception.backend.BackendUnavailableException;
import io.jxception.backend.Backends;
import io.jxception.internal.backend.Buffer;
import io.jxception.backend.DeviceMemoryException;
import io.jxception.backend.Precision;
import io.jxception.backend.Probe;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Finding the library and the devices, selecting them by index, and what is refused (with why). */
class OpenClProviderTest {
    @Test
    void theVersionedLibraryIsUsedWhenTheUnversionedOneIsMissing(@TempDir Path dir) throws IOException {
        Path versioned = Files.createFile(dir.resolve("libOpenCL.so.1"));
        assertEquals(versioned.toAbsolutePath().toString(), OpenClLibrary.locate(List.of(dir.toString())));
        Path plain = Files.createFile(dir.resolve("libOpenCL.so"));
        assertEquals(plain.toAbsolutePath().toString(), OpenClLibrary.locate(List.of(dir.toString())));
    }

    @Test
    void noLibraryIsFoundInEmptyDirectories(@TempDir Path dir) {
        assertNull(OpenClLibrary.locate(List.of(dir.toString(), dir.resolve("missing").toString())));
    }

    @Test
    void probeListsEveryDeviceWithTypeComputeUnitsMemoryAndRank() {
        Probe probe = OpenClTestSupport.requirePlatform();
        assertEquals("opencl", probe.kind());
        assertNull(probe.reason());
        for (int i = 0; i < probe.devices().size(); i++) {
            Probe.Device d = probe.devices().get(i);
            assertEquals(i, d.index());
            assertTrue(d.details().matches("(GPU|CPU), \\d+ compute units, [0-9.]+ GiB, .*"), d.details());
            assertEquals(d.details().startsWith("GPU") ? 200 : 100, d.rank());
        }
    }

    @Test
    void backendsOpensOpenClByIndexAndRejectsAMissingIndex() {
        Probe probe = OpenClTestSupport.requirePlatform();
        try (KernelBackend b = KernelBackend.open("opencl:0", Precision.FP32)) {
            assertEquals("opencl:0", b.name());
            assertEquals(Precision.FP32, b.precision());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> KernelBackend.open("opencl:" + probe.devices().size(), Precision.FP32));
        assertTrue(e.getMessage().contains("no opencl device"), e.getMessage());
    }

    @Test
    void reducedPrecisionIsRefusedWithTheReason() {
        OpenClTestSupport.requirePlatform();
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> new OpenClBackendProvider().open(0, Precision.BF16));
        assertTrue(e.getMessage().contains("fp32"), e.getMessage());
    }

    @Test
    void anAllocationLargerThanTheDeviceAllowsNamesTheBytes() {
        try (OpenClBackend cl = OpenClTestSupport.open()) {
            long maxAlloc = cl.context().device.maxAllocBytes();
            long floats = maxAlloc / Float.BYTES + 1;
            DeviceMemoryException e = assertThrows(DeviceMemoryException.class, () -> cl.allocate(floats));
            assertTrue(e.getMessage().contains(Long.toString(floats * Float.BYTES)), e.getMessage());
            assertTrue(e.getMessage().contains("CL_DEVICE_MAX_MEM_ALLOC_SIZE"), e.getMessage());
            assertTrue(e.getMessage().contains("CL_DEVICE_GLOBAL_MEM_SIZE"), e.getMessage());
        }
    }

    @Test
    void aClosedBackendAndItsBuffersRefuseWork() {
        OpenClBackend cl = OpenClTestSupport.open();
        Buffer b = cl.allocate(16);
        cl.close();
        cl.close(); // twice is harmless
        b.close();  // and so is closing a buffer its backend already released
        assertThrows(IllegalStateException.class, () -> cl.allocate(1));
        assertThrows(IllegalStateException.class, () -> cl.upload(new float[16], b));
    }

    @Test
    void aBuildErrorShowsTheBuildLog() {
        try (OpenClBackend cl = OpenClTestSupport.open()) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> cl.context().kernelFromSource("broken.cl", () -> "kernel void k(global float* x) { x[0] = undefined_name; }", "k", ""));
            assertTrue(e.getMessage().contains("Build log"), e.getMessage());
            assertTrue(e.getMessage().contains("undefined_name"), e.getMessage());
        }
    }
}
