package io.jxception.internal.backend.opencl;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Optional per-kernel timing of one backend, for finding where a training step or a forward spends
 * its time: a backend opened while the system property {@code jxception.opencl.profile} is true gets
 * one ({@link OpenClBackend#launchProfile}); every launch then waits for the device and adds its
 * elapsed time to its kernel's total, and {@link #report()} prints the totals. Off by default (then a
 * launch costs one null test), since waiting after each launch serialises host and device. Each
 * backend keeps its own totals: backends on other threads do not mix into them.
 */
public final class LaunchProfile {
    private final Map<String, double[]> totals = new TreeMap<>(); // kernel -> {ms, launches}

    LaunchProfile() {}

    /** The property that turns profiling on for backends opened while it is set. */
    static final String PROPERTY = "jxception.opencl.profile";

    /** A profile when {@link #PROPERTY} is true now, else null. */
    static LaunchProfile ifRequested() { return Boolean.getBoolean(PROPERTY) ? new LaunchProfile() : null; }

    synchronized void add(String kernel, double millis) {
        double[] t = totals.computeIfAbsent(kernel, k -> new double[2]);
        t[0] += millis;
        t[1]++;
    }

    /** The totals so far, slowest kernel first, and clears them. */
    public synchronized String report() {
        StringBuilder sb = new StringBuilder();
        double all = totals.values().stream().mapToDouble(t -> t[0]).sum();
        totals.entrySet().stream().sorted((a, b) -> Double.compare(b.getValue()[0], a.getValue()[0])).forEach(e ->
                sb.append(String.format(Locale.ROOT, "%-28s %9.1f ms %5.1f%% %6d launches%n", e.getKey(), e.getValue()[0],
                        100 * e.getValue()[0] / all, (long) e.getValue()[1])));
        totals.clear();
        return sb.toString();
    }
}
