package io.jxception.internal.backend;

import io.jxception.distributed.RankInfo;

import java.util.List;
import java.util.Map;

/**
 * Device choice for one-process-per-device HPC jobs ("cuda:local", "opencl:local"): the process's
 * rank on its node, as the launcher publishes it ({@link RankInfo#localRank}, the one place these
 * variables are read), modulo the number of devices.
 */
public final class LocalRank {
    /** Environment variables that carry a process's rank on its node, in the order they are consulted (nearest launcher first). */
    public static final List<String> VARIABLES = RankInfo.LOCAL_RANK_VARIABLES;

    private LocalRank() {}

    /** Position in a device list of {@code deviceCount}: the first set variable's rank modulo the count, 0 when none is set. */
    public static int deviceIndex(Map<String, String> env, int deviceCount) {
        if (deviceCount < 1) throw new IllegalArgumentException("no devices to choose from");
        return RankInfo.localRank(env) % deviceCount;
    }
}
