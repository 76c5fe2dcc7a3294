package io.jxception.backend;

import io.jxception.backend.cpu.CpuBackendProvider;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Finds and opens backends by name: {@code cpu}, {@code opencl[:i]}, {@code cuda[:i]}, or
 * {@code auto} (the fastest available device). Nothing here is global state: each call probes anew.
 */
public final class Backends {
    private Backends() {}

    /** Every backend kind this build knows, in the order "jxception info" lists them. */
    public static List<BackendProvider> providers() {
        List<BackendProvider> list = new ArrayList<>();
        list.add(new CpuBackendProvider());
        list.add(new io.jxception.backend.opencl.OpenClBackendProvider());
        list.add(new io.jxception.backend.cuda.CudaBackendProvider());
        return list;
    }

    public static List<Probe> probeAll() {
        List<Probe> out = new ArrayList<>();
        for (BackendProvider p : providers()) out.add(p.probe());
        return out;
    }

    public static Backend cpu() { return open("cpu", Precision.FP32); }

    /**
     * Opens a backend by command-line name. Throws {@link BackendUnavailableException} with the probe's
     * reason when the kind is unavailable, and {@link IllegalArgumentException} for an unknown name.
     */
    public static Backend open(String spec, Precision precision) {
        String s = spec.trim().toLowerCase(Locale.ROOT);
        if (s.equals("auto")) return openBest(precision);
        String kind = s;
        int index = 0;
        int colon = s.indexOf(':');
        if (colon >= 0) {
            kind = s.substring(0, colon);
            try {
                index = Integer.parseInt(s.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad backend '" + spec + "': the part after ':' must be a device index, e.g. opencl:0");
            }
        }
        for (BackendProvider p : providers()) {
            if (!p.kind().equals(kind)) continue;
            Probe probe = p.probe();
            if (!probe.available()) throw new BackendUnavailableException(kind + " unavailable: " + probe.reason());
            if (index < 0 || index >= probe.devices().size()) {
                throw new IllegalArgumentException("no " + kind + " device " + index + ": " + probe.devices().size() + " found (see 'jxception info')");
            }
            return p.open(index, precision);
        }
        throw new IllegalArgumentException("unknown backend '" + spec + "': expected auto, cpu, opencl[:i] or cuda[:i]");
    }

    /** The available device with the highest rank. */
    public static Backend openBest(Precision precision) {
        BackendProvider bestProvider = null;
        Probe.Device best = null;
        for (BackendProvider p : providers()) {
            Probe probe = p.probe();
            if (!probe.available()) continue;
            for (Probe.Device d : probe.devices()) {
                if (best == null || d.rank() > best.rank()) {
                    best = d;
                    bestProvider = p;
                }
            }
        }
        if (bestProvider == null) throw new BackendUnavailableException("no backend available");
        return bestProvider.open(best.index(), precision);
    }
}
