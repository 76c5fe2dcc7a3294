package io.jxception.internal.backend.opencl;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Optional per-kernel timing, for finding where a training step or a forward spends its time:
 * with {@code -Djxception.opencl.profile=true} every launch waits for the device and adds its
 * elapsed time to its kernel's total; {@link #report()} prints the totals. Off by default (then a
 * launch costs one boolean test), since waiting after each launch serialises host and device.
 */
public final class LaunchProfile {
    private LaunchProfile() {}

    static final boolean ENABLED = Boolean.getBoolean("jxception.opencl.profile");
    private static final Map<String, double[]> TOTALS = new TreeMap<>(); // kernel -> {ms, launches}

    static synchronized void add(String kernel, double millis) {
        double[] t = TOTALS.computeIfAbsent(kernel, k -> new double[2]);
        t[0] += millis;
        t[1]++;
    }

    /** The totals so far, slowest kernel first, and clears them. Empty unless profiling is on. */
    public static synchronized String report() {
        StringBuilder sb = new StringBuilder();
        double all = TOTALS.values().stream().mapToDouble(t -> t[0]).sum();
        TOTALS.entrySet().stream().sorted((a, b) -> Double.compare(b.getValue()[0], a.getValue()[0])).forEach(e ->
                sb.append(String.format(Locale.ROOT, "%-28s %9.1f ms %5.1f%% %6d launches%n", e.getKey(), e.getValue()[0],
                        100 * e.getValue()[0] / all, (long) e.getValue()[1])));
        TOTALS.clear();
        return sb.toString();
    }
}
