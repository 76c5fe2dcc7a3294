package io.jxception.internal.backend.cuda;

import io.jxception.internal.backend.BackendProviders;
import io.jxception.internal.backend.KernelBackend;
import io.jxception.backend.BackendUnavailableException;
import io.jxception.backend.Backends;
import io.jxception.backend.Precision;
import io.jxception.backend.Probe;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CudaProbeTest {
    @Test
    void probeNeverThrowsAndExplainsUnavailability() {
        Probe p = new CudaBackendProvider().probe();
        assertEquals("cuda", p.kind());
        if (p.available()) {
            assertFalse(p.devices().isEmpty());
            return;
        }
        assertTrue(p.reason().startsWith("CUDA unavailable: "), p.reason());
        assertTrue(p.devices().isEmpty());
        // a second probe gives the same answer (the failed native load must not turn into NoClassDefFoundError noise)
        assertEquals(p.reason(), new CudaBackendProvider().probe().reason());
    }

    @Test
    void aPlatformWithoutJCudaNativesIsNamedNotProbed() {
        assertEquals(null, CudaBackendProvider.unsupportedPlatform("Linux", "amd64"));
        assertEquals(null, CudaBackendProvider.unsupportedPlatform("Windows 11", "amd64"));
        String arm = CudaBackendProvider.unsupportedPlatform("Linux", "aarch64");
        assertTrue(arm.startsWith("CUDA unavailable: JCuda publishes no native library for Linux aarch64"), arm);
        assertTrue(CudaBackendProvider.unsupportedPlatform("Mac OS X", "aarch64").contains("Mac OS X aarch64"));
    }

    @Test
    void withoutADriverTheReasonNamesLibcudaOrTheMissingKernels() {
        Probe p = new CudaBackendProvider().probe();
        Assumptions.assumeFalse(p.available(), "a CUDA device is present");
        String r = p.reason();
        assertTrue(r.contains("libcuda.so.1") || r.equals(CudaKernelImages.NOT_COMPILED) || r.contains("no CUDA device") || r.contains("driver"), r);
        if (CudaKernelImages.manifest() == null) assertEquals(CudaKernelImages.NOT_COMPILED, r);
    }

    @Test
    void backendsListsCudaAndOpeningItReportsTheReason() {
        assertTrue(BackendProviders.all().stream().anyMatch(pr -> pr.kind().equals("cuda")));
        Probe p = Backends.probeAll().stream().filter(x -> x.kind().equals("cuda")).findFirst().orElseThrow();
        Assumptions.assumeFalse(p.available(), "a CUDA device is present");
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class, () -> KernelBackend.open("cuda:0", Precision.BF16));
        assertTrue(e.getMessage().contains(p.reason()), e.getMessage());
        assertThrows(BackendUnavailableException.class, () -> new CudaBackendProvider().open(0, Precision.FP32));
    }

    @Test
    void localRankPicksTheDeviceModuloTheDeviceCount() {
        assertEquals(0, io.jxception.internal.backend.LocalRank.deviceIndex(Map.of(), 4));
        assertEquals(3, io.jxception.internal.backend.LocalRank.deviceIndex(Map.of("SLURM_LOCALID", "3"), 4));
        assertEquals(1, io.jxception.internal.backend.LocalRank.deviceIndex(Map.of("OMPI_COMM_WORLD_LOCAL_RANK", "5"), 4));
        assertEquals(1, io.jxception.internal.backend.LocalRank.deviceIndex(Map.of("SLURM_LOCALID", "2", "OMPI_COMM_WORLD_LOCAL_RANK", "1"), 8),
                "mpirun first: inside a SLURM allocation its ranks inherit the SLURM_LOCALID of the daemon that started them");
        assertEquals(1, io.jxception.internal.backend.LocalRank.deviceIndex(Map.of("LOCAL_RANK", "1"), 2));
        assertThrows(IllegalArgumentException.class, () -> io.jxception.internal.backend.LocalRank.deviceIndex(Map.of("SLURM_LOCALID", "x"), 2));
        assertThrows(IllegalArgumentException.class, () -> io.jxception.internal.backend.LocalRank.deviceIndex(Map.of(), 0));
    }
}
