package io.jxception.internal.backend;

import java.util.List;
import java.util.Map;

/**
 * Device choice for one-process-per-device HPC jobs ("cuda:local", "opencl:local"): the process's
 * rank on its node, as the launcher publishes it, modulo the number of devices.
 */
public final class LocalRank {
    /** Environment variables that carry a process's rank on its node, in the order they are consulted. */
    public static final List<String> VARIABLES = List.of("SLURM_LOCALID", "OMPI_COMM_WORLD_LOCAL_RANK", "MV2_COMM_WORLD_LOCAL_RANK", "LOCAL_RANK");

    private LocalRank() {}

    /** Position in a device list of {@code deviceCount}: the first set variable's rank modulo the count, 0 when none is set. */
    public static int deviceIndex(Map<String, String> env, int deviceCount) {
        if (deviceCount < 1) throw new IllegalArgumentException("no devices to choose from");
        for (String v : VARIABLES) {
            String s = env.get(v);
            if (s == null || s.isBlank()) continue;
            try {
                int rank = Integer.parseInt(s.trim());
                if (rank < 0) throw new NumberFormatException();
                return rank % deviceCount;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(v + "=" + s + " is not a local rank (a non-negative integer)");
            }
        }
        return 0;
    }
}
