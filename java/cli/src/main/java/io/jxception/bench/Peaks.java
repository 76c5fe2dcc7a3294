package io.jxception.bench;

import io.jxception.internal.json.Json;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one device reached on the suite's two probes ({@link PeakMeter}): the ceilings of its
 * roofline. Measured, never taken from a spec sheet.
 *
 * @param device           the backend's description, the cache key (it names device and precision)
 * @param flopsPerSecond   best FLOP/s of a large separable-conv launch (a GEMM in all but name)
 * @param bytesPerSecond   best bytes/s of addInPlace over buffers far larger than any cache
 * @param computeProbe     what the compute probe ran, for reports
 * @param bandwidthProbe   what the bandwidth probe ran
 * @param measuredAt       ISO-8601 time of the measurement
 */
public record Peaks(String device, double flopsPerSecond, double bytesPerSecond, String computeProbe,
                    String bandwidthProbe, String measuredAt) {
    public Peaks {
        if (!(flopsPerSecond > 0) || !(bytesPerSecond > 0)) {
            throw new IllegalArgumentException("peaks must be positive: " + flopsPerSecond + " FLOP/s, " + bytesPerSecond + " B/s");
        }
    }

    /** FLOPs per byte where the two ceilings meet. */
    public double ridgeIntensity() { return flopsPerSecond / bytesPerSecond; }

    Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("gflops", flopsPerSecond / 1e9);
        m.put("gbps", bytesPerSecond / 1e9);
        m.put("compute_probe", computeProbe);
        m.put("bandwidth_probe", bandwidthProbe);
        m.put("measured_at", measuredAt);
        return m;
    }

    static Peaks fromJson(String device, Map<?, ?> m) {
        return new Peaks(device, number(m, "gflops") * 1e9, number(m, "gbps") * 1e9,
                String.valueOf(m.get("compute_probe")), String.valueOf(m.get("bandwidth_probe")), String.valueOf(m.get("measured_at")));
    }

    private static double number(Map<?, ?> m, String key) {
        if (!(m.get(key) instanceof Number d)) throw new IllegalArgumentException("peaks entry lacks a number '" + key + "'");
        return d.doubleValue();
    }
}
