package io.jxception.backend;

import java.util.List;

/**
 * What a backend kind found on this machine ({@link Backends#probeAll}). Immutable.
 *
 * @param kind      "cpu", "opencl" or "cuda"
 * @param available whether the kind can open a backend here
 * @param reason    why it is unavailable (null when available)
 * @param devices   the devices found, in index order (empty when unavailable)
 */
public record Probe(String kind, boolean available, String reason, List<Device> devices) {
    /**
     * One device of a kind.
     *
     * @param index   the index after ':' in the backend name ("cuda:1")
     * @param name    the device's name
     * @param details type, compute units, memory, driver
     * @param rank    speed order used by "auto": higher is faster (cuda 300, opencl gpu 200, opencl cpu 100, cpu 0)
     */
    public record Device(int index, String name, String details, int rank) {}

    /** A kind that cannot run here, and why. */
    public static Probe unavailable(String kind, String reason) {
        return new Probe(kind, false, reason, List.of());
    }

    /** A kind with the devices it found (unavailable when there are none). */
    public static Probe of(String kind, List<Device> devices) {
        return devices.isEmpty() ? unavailable(kind, "no " + kind + " devices found") : new Probe(kind, true, null, List.copyOf(devices));
    }
}
