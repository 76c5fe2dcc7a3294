package io.jxception.backend;

import java.util.List;

/**
 * What a backend kind found on this machine.
 *
 * @param reason why it is unavailable (null when available)
 * @param rank   speed order used by "auto": higher is faster (cuda 300, opencl gpu 200, opencl cpu 100, cpu 0)
 */
public record Probe(String kind, boolean available, String reason, List<Device> devices) {
    /** One device of a kind; {@code details} holds type, compute units, memory. */
    public record Device(int index, String name, String details, int rank) {}

    public static Probe unavailable(String kind, String reason) {
        return new Probe(kind, false, reason, List.of());
    }

    public static Probe of(String kind, List<Device> devices) {
        return devices.isEmpty() ? unavailable(kind, "no " + kind + " devices found") : new Probe(kind, true, null, List.copyOf(devices));
    }
}
