package io.jxception.backend;

import io.jxception.internal.backend.KernelBackend;
import io.jxception.internal.backend.LocalRank;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class LocalRankTest {
    @Test
    void launcherRankPicksTheDeviceModuloTheCount() {
        assertEquals(0, LocalRank.deviceIndex(Map.of(), 4));
        assertEquals(3, LocalRank.deviceIndex(Map.of("SLURM_LOCALID", "3"), 4));
        assertEquals(1, LocalRank.deviceIndex(Map.of("OMPI_COMM_WORLD_LOCAL_RANK", "5"), 4));
        assertEquals(1, LocalRank.deviceIndex(Map.of("SLURM_LOCALID", "2", "OMPI_COMM_WORLD_LOCAL_RANK", "1"), 8),
                "mpirun first: inside a SLURM allocation its ranks inherit the SLURM_LOCALID of the daemon that started them");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LocalRank.deviceIndex(Map.of("LOCAL_RANK", "x"), 2));
        assertTrue(e.getMessage().contains("LOCAL_RANK=x"));
    }

    @Test
    void cpuLocalOpensTheOnlyDevice() {
        try (KernelBackend b = KernelBackend.open("cpu:local", Precision.FP32)) {
            assertEquals("cpu", b.name());
        }
    }
}
